//! Errors of the Dockerfile parser and the config walker.

use std::path::PathBuf;

/// A Dockerfile that could not be read or parsed. `Display` is one line
/// naming the file (and the line and column of a syntax error).
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{path}:{line}:{column}: Dockerfile syntax error: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ParseError {
    /// The file the error is about.
    pub fn path(&self) -> String {
        match self {
            ParseError::Syntax { path, .. } => path.clone(),
            ParseError::Io { path, .. } => path.display().to_string(),
        }
    }

    /// The 1-based line of a syntax error.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::Syntax { line, .. } => Some(*line),
            ParseError::Io { .. } => None,
        }
    }
}

/// An image config JSON that could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("image config: invalid JSON: {0}")]
pub struct ConfigError(#[from] pub serde_json::Error);
