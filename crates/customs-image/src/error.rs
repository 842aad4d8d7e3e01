use std::path::PathBuf;

/// Everything that can go wrong while opening an image or walking a layer.
/// Each message is one line that names the file (and layer) and the problem.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{}: no such file or directory", .0.display())]
    NotFound(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a container image: {reason}", path.display())]
    NotAnImage { path: PathBuf, reason: String },
    #[error("{}: {what}: {reason}", path.display())]
    Malformed {
        path: PathBuf,
        what: String,
        reason: String,
    },
    #[error("{}: the manifest names {what}, which is missing from the archive", path.display())]
    MissingBlob { path: PathBuf, what: String },
    #[error("{}: {what}: content does not match its digest (expected {expected}, got {actual}); the image is corrupt or was tampered with", path.display())]
    DigestMismatch {
        path: PathBuf,
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{}: layer {layer}: {reason}", path.display())]
    Layer {
        path: PathBuf,
        layer: String,
        reason: String,
    },
    #[error("{}: no image matches reference '{reference}' (available: {available})", path.display())]
    NoSuchReference {
        path: PathBuf,
        reference: String,
        available: String,
    },
    /// A registry refused or failed a request, or served something unusable.
    #[error("{reference}: {message}")]
    Registry { reference: String, message: String },
    /// A local engine (Docker, Podman) failed or refused a request.
    #[error("{reference}: {engine} engine at {}: {message}", socket.display())]
    Engine {
        engine: String,
        socket: PathBuf,
        reference: String,
        message: String,
    },
    /// An error raised by the caller's visitor while walking a layer.
    #[error("{0}")]
    Visitor(String),
}

impl ImageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            return ImageError::NotFound(path);
        }
        ImageError::Io { path, source }
    }

    pub(crate) fn malformed(path: impl Into<PathBuf>, what: &str, reason: impl ToString) -> Self {
        ImageError::Malformed {
            path: path.into(),
            what: what.to_string(),
            reason: reason.to_string(),
        }
    }
}
