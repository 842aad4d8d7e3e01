//! Misconfiguration and hardening checks for container images.
//!
//! Three scanners, each taking plain data and returning one [`FileResult`]
//! with Trivy's JSON names:
//!
//! - **Dockerfiles**: [`scan_dockerfile`] (one file's bytes) and
//!   [`scan_config_path`] (a file or a directory tree of `Dockerfile`,
//!   `Containerfile`, `*.dockerfile`, `Dockerfile.*`).
//! - **Image config**: [`scan_image_config`] on an [`ImageConfigInput`]
//!   (user, env, ports, healthcheck, age, and the history rebuilt as
//!   Dockerfile instructions).
//! - **Final filesystem hardening**: [`hardening_wanted`] tells the image
//!   walker which file contents to keep; [`scan_hardening`] checks an
//!   [`FsSnapshot`].
//!
//! ```
//! use customs_misconfig::{scan_dockerfile, DockerfileContext};
//!
//! let r = scan_dockerfile("Dockerfile", b"FROM alpine\nRUN apk add curl\n", &DockerfileContext::default())?;
//! assert!(r.failed("DS-0001")); // no tag
//! assert!(r.failed("DS-0025")); // apk add without --no-cache
//! assert!(r.passed("DS-0005"));
//! # Ok::<(), customs_misconfig::ParseError>(())
//! ```
//!
//! Every check is listed in the [`registry()`] (and in docs/checks.md).

pub mod checks;
pub mod dockerfile;
mod error;
pub mod registry;
mod result;
pub mod shell;
mod syntax;
mod vars;

use std::path::{Path, PathBuf};

pub use checks::hardening::{
    hardening_keeps, hardening_wanted, EntryKind, FsEntry, FsSnapshot, HardeningOptions,
    HARDENING_KEEPS_VERSION,
};
pub use checks::image_config::{HistoryEntry, ImageConfigInput, ImageConfigOptions};
pub use checks::DockerfileContext;
pub use error::{ConfigError, ParseError};
pub use registry::{check, registry, CheckInfo, Scanner};
use result::from_info;
pub use result::{
    CauseMetadata, CheckStatus, Code, FileResult, Line, MisconfSummary, Misconfiguration,
};

use checks::{Hit, DOCKERFILE_CHECKS};
use dockerfile::Dockerfile;

/// Scan one Dockerfile. `path` names the target in the result and in errors;
/// `content` is the file's bytes (invalid UTF-8 is replaced, not rejected).
pub fn scan_dockerfile(
    path: &str,
    content: &[u8],
    ctx: &DockerfileContext,
) -> Result<FileResult, ParseError> {
    let text = String::from_utf8_lossy(content);
    let df = Dockerfile::parse(path, &text)?;
    Ok(FileResult::new(
        path,
        Scanner::Dockerfile,
        run_dockerfile_checks(&df, ctx),
    ))
}

fn run_dockerfile_checks(df: &Dockerfile, ctx: &DockerfileContext) -> Vec<Misconfiguration> {
    let mut out = Vec::new();
    for c in DOCKERFILE_CHECKS {
        if ctx.from_history && !c.on_history {
            continue;
        }
        let Some(hits) = (c.run)(df, ctx) else {
            continue;
        };
        if hits.is_empty() {
            out.push(from_info(c.info, CheckStatus::Pass, String::new()));
        }
        for h in hits {
            out.push(failure(c.info, df, h));
        }
    }
    out
}

fn failure(info: &CheckInfo, df: &Dockerfile, h: Hit) -> Misconfiguration {
    let mut m = from_info(info, CheckStatus::Fail, h.message);
    if let Some((start, end)) = h.lines {
        m.cause_metadata.start_line = start;
        m.cause_metadata.end_line = end;
        let n = end.saturating_sub(start) + 1;
        let lines = df
            .lines
            .iter()
            .enumerate()
            .skip(start.saturating_sub(1))
            .take(n)
            .map(|(i, l)| Line {
                number: i + 1,
                content: h.mask.iter().fold(l.clone(), |c, v| {
                    c.replace(v.as_str(), &"*".repeat(v.len()))
                }),
                is_cause: true,
                first_cause: i + 1 == start,
                last_cause: i + 1 == end,
                ..Default::default()
            })
            .collect();
        m.cause_metadata.code = Some(Code { lines });
    }
    m
}

/// Whether a file name is a Dockerfile: `Dockerfile`, `Containerfile`,
/// `*.dockerfile`, `Dockerfile.*`, `Containerfile.*` (case-insensitive).
pub fn is_dockerfile_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "dockerfile"
        || n == "containerfile"
        || n.ends_with(".dockerfile")
        || n.ends_with(".containerfile")
        || n.starts_with("dockerfile.")
        || n.starts_with("containerfile.")
}

/// Scan a Dockerfile or every Dockerfile under a directory (sorted by path;
/// hidden directories, `node_modules`, `vendor` and `target` are skipped).
/// Each file gives its own result: a syntax error is an `Err` for that file
/// and the others are still checked. The `.dockerignore` check uses the
/// presence of a `.dockerignore` (or `<Dockerfile>.dockerignore`) beside
/// each file.
pub fn scan_config_path(path: &Path) -> Vec<Result<FileResult, ParseError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    if path.is_dir() {
        walk(path, &mut files, &mut errors);
    } else {
        files.push(path.to_path_buf());
    }
    files.sort();
    let mut out: Vec<Result<FileResult, ParseError>> = errors.into_iter().map(Err).collect();
    for f in files {
        out.push(scan_file(&f));
    }
    out
}

fn scan_file(f: &Path) -> Result<FileResult, ParseError> {
    let bytes = std::fs::read(f).map_err(|source| ParseError::Io {
        path: f.to_path_buf(),
        source,
    })?;
    let dir = f.parent().unwrap_or(Path::new("."));
    let own_ignore = f
        .file_name()
        .map(|n| dir.join(format!("{}.dockerignore", n.to_string_lossy())));
    let dockerignore =
        dir.join(".dockerignore").is_file() || own_ignore.is_some_and(|p| p.is_file());
    let ctx = DockerfileContext {
        dockerignore: Some(dockerignore),
        from_history: false,
    };
    scan_dockerfile(&f.display().to_string(), &bytes, &ctx)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<ParseError>) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(source) => {
            errors.push(ParseError::Io {
                path: dir.to_path_buf(),
                source,
            });
            return;
        }
    };
    for entry in rd.flatten() {
        let p = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            if !(name.starts_with('.')
                || matches!(name.as_str(), "node_modules" | "vendor" | "target"))
            {
                walk(&p, files, errors);
            }
        } else if ft.is_file() && is_dockerfile_name(&name) {
            files.push(p);
        }
    }
}

/// Scan an image config with default options (age limit 30 days, now =
/// the system clock).
pub fn scan_image_config(cfg: &ImageConfigInput) -> FileResult {
    scan_image_config_with(cfg, &ImageConfigOptions::default())
}

/// Scan an image config: the config checks, plus the Dockerfile checks that
/// make sense on the image history rebuilt as instructions (as Trivy does).
/// The result's target is `image config`.
pub fn scan_image_config_with(cfg: &ImageConfigInput, opts: &ImageConfigOptions) -> FileResult {
    let mut out = Vec::new();
    for (info, f) in checks::image_config::CONFIG_CHECKS {
        let Some(msgs) = f(cfg, opts) else { continue };
        if msgs.is_empty() {
            out.push(from_info(info, CheckStatus::Pass, String::new()));
        }
        out.extend(
            msgs.into_iter()
                .map(|m| from_info(info, CheckStatus::Fail, m)),
        );
    }
    let text = checks::image_config::history_dockerfile(cfg);
    match Dockerfile::parse("image history", &text) {
        Ok(df) => {
            let ctx = DockerfileContext {
                dockerignore: None,
                from_history: true,
            };
            for mut m in run_dockerfile_checks(&df, &ctx) {
                m.kind = Scanner::ImageConfig.as_str().to_string();
                out.push(m);
            }
        }
        Err(e) => tracing::warn!(error = %e, "image history could not be rebuilt as a Dockerfile"),
    }
    FileResult::new("image config", Scanner::ImageConfig, out)
}

/// Check an image's final filesystem.
pub fn scan_hardening(fs: &FsSnapshot, opts: &HardeningOptions) -> FileResult {
    let view = checks::hardening::Fs::new(fs);
    let mut out = Vec::new();
    for (info, f) in checks::hardening::HARDENING_CHECKS {
        let msgs = f(&view, opts);
        if msgs.is_empty() {
            out.push(from_info(info, CheckStatus::Pass, String::new()));
        }
        out.extend(
            msgs.into_iter()
                .map(|m| from_info(info, CheckStatus::Fail, m)),
        );
    }
    FileResult::new("filesystem", Scanner::Hardening, out)
}

/// The check list as Markdown (the content of docs/checks.md).
pub fn checks_markdown() -> String {
    let mut s = String::from(
        "# customs checks\n\n<!-- Generated from the check registry (crates/customs-misconfig); do not edit.\n     Regenerate: UPDATE_CHECKS_DOC=1 cargo test -p customs-misconfig --test checks_doc -->\n\n\
         IDs `DS-NNNN` mean the same as Trivy's check of that ID, so Trivy ignore files keep working;\n\
         `CS-…` checks are customs' own.\n",
    );
    for sc in [
        Scanner::Dockerfile,
        Scanner::ImageConfig,
        Scanner::Hardening,
    ] {
        let title = match sc {
            Scanner::Dockerfile => "Dockerfile (`customs config`)",
            Scanner::ImageConfig => "Image config (`--image-config-scanners misconfig`)",
            Scanner::Hardening => "Final filesystem hardening (`--scanners hardening`)",
        };
        s.push_str(&format!(
            "\n## {title}\n\n| ID | Severity | Title |\n|---|---|---|\n"
        ));
        let list: Vec<&CheckInfo> = registry().into_iter().filter(|c| c.scanner == sc).collect();
        for c in &list {
            s.push_str(&format!(
                "| [{}](#{}) | {} | {} |\n",
                c.id,
                anchor(sc, c.id),
                c.severity,
                c.title.replace('|', "\\|")
            ));
        }
        for c in &list {
            s.push_str(&format!(
                "\n### <a id=\"{}\"></a>{} — {}\n\n**Severity:** {}\n\n{}\n\n**Resolution:** {}\n",
                anchor(sc, c.id),
                c.id,
                c.title,
                c.severity,
                c.description,
                c.resolution
            ));
            let refs = c.references();
            if !refs.is_empty() {
                s.push_str("\n**References:**\n");
                for r in refs {
                    s.push_str(&format!("- <{r}>\n"));
                }
            }
        }
    }
    s
}

fn anchor(sc: Scanner, id: &str) -> String {
    format!("{}-{}", sc.as_str(), id.to_ascii_lowercase())
}

/// A plain-text table of a result's failures (one line per failure:
/// ID, severity, line range, message), followed by the summary line.
pub fn to_table(r: &FileResult) -> String {
    let mut s = format!("{} ({})\n", r.target, r.kind);
    for m in r.failures() {
        let lines = match (m.cause_metadata.start_line, m.cause_metadata.end_line) {
            (0, _) => "-".to_string(),
            (a, b) if a == b => a.to_string(),
            (a, b) => format!("{a}-{b}"),
        };
        s.push_str(&format!(
            "  {:<12} {:<8} {:<6} {}\n",
            m.id,
            m.severity.as_str(),
            lines,
            m.message
        ));
    }
    s.push_str(&format!(
        "  Successes: {}, Failures: {}\n",
        r.misconf_summary.successes, r.misconf_summary.failures
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_has_code_lines() {
        let r = scan_dockerfile(
            "Dockerfile",
            b"FROM alpine:3.19\nRUN apk add \\\n    curl\nUSER 1000:1000\n",
            &DockerfileContext::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let m = r
            .failures()
            .find(|m| m.id == "DS-0025")
            .unwrap_or_else(|| panic!("DS-0025 missing"));
        assert_eq!(
            (m.cause_metadata.start_line, m.cause_metadata.end_line),
            (2, 3)
        );
        let lines = m
            .cause_metadata
            .code
            .as_ref()
            .map(|c| c.lines.as_slice())
            .unwrap_or_default();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].first_cause && lines[1].last_cause);
        assert_eq!(lines[1].content, "    curl");
        assert_eq!(r.misconf_summary.failures as usize, r.failures().count());
        assert!(!r.failed("CS-DS-009"), "dockerignore check needs fs mode");
        assert!(!r.passed("CS-DS-009"));
    }

    #[test]
    fn credential_values_are_masked_in_code_lines() {
        let r = scan_dockerfile(
            "Dockerfile",
            b"FROM alpine:3.19\nENV NPM_TOKEN=npm_Zq8rT2vLx9KmP4wN7bC1dF6hJ3sG5yA0eU2i\nENV GITHUB_TOKEN=ghp_R7mK2pX9qL4vT8nW3zB6cJ1hF5dS0gA2yE4u\nUSER 1000:1000\n",
            &DockerfileContext::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let text = serde_json::to_string(&r).unwrap_or_default();
        assert!(r.failed("CS-DS-010") && r.failed("DS-0031"), "{text}");
        assert!(!text.contains("npm_Zq8rT2"), "{text}");
        assert!(!text.contains("ghp_R7mK2"), "{text}");
        assert!(text.contains("ENV NPM_TOKEN=****"), "{text}");
    }

    #[test]
    fn names() {
        for n in [
            "Dockerfile",
            "Containerfile",
            "api.dockerfile",
            "Dockerfile.prod",
            "dockerfile",
        ] {
            assert!(is_dockerfile_name(n), "{n}");
        }
        for n in ["Dockerfile-notes.md", "docker-compose.yml", "Makefile"] {
            assert!(!is_dockerfile_name(n), "{n}");
        }
    }

    #[test]
    fn serializes_with_trivy_names() {
        let r = scan_dockerfile(
            "Dockerfile",
            b"FROM alpine:3.19\nUSER 1:1\n",
            &DockerfileContext::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let v = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(v["Target"], "Dockerfile");
        assert_eq!(v["Class"], "config");
        assert_eq!(v["Type"], "dockerfile");
        assert!(v["MisconfSummary"]["Successes"].as_u64().unwrap_or(0) > 0);
        let m = &v["Misconfigurations"][0];
        for k in [
            "Type",
            "ID",
            "AVDID",
            "Title",
            "Description",
            "Message",
            "Namespace",
            "Query",
            "Resolution",
            "Severity",
            "PrimaryURL",
            "References",
            "Status",
            "CauseMetadata",
        ] {
            assert!(m.get(k).is_some(), "{k} missing in {m}");
        }
    }
}
