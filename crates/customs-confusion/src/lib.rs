//! Dependency confusion: the package manager configs and lockfiles of a tree
//! or image whose dependencies a public registry could hijack.
//!
//! The attack: a package meant to come from a private registry or index is
//! resolved, now or after a config change, from the public one, where anyone
//! can publish that name with a higher version. The checks (`CS-DEP-NNN`,
//! listed by [`checks`] and in `docs/dependency-confusion.md`) read:
//! - npm, yarn, pnpm, bun: `.npmrc`, `.yarnrc(.yml)`, `package-lock.json`,
//!   `npm-shrinkwrap.json`, `yarn.lock`, `pnpm-lock.yaml`, `bun.lock`;
//! - Python: `requirements*.txt`, `pip.conf`/`pip.ini`, `pyproject.toml`
//!   (uv, Poetry), `uv.toml`, `uv.lock`, `poetry.lock`, `Pipfile`,
//!   `Pipfile.lock`;
//! - Maven and Gradle: `pom.xml`, `settings.xml`, `build.gradle(.kts)`,
//!   `settings.gradle(.kts)`;
//! - Go: `go.mod` against `GOPRIVATE`/`GONOPROXY`/`GONOSUMDB`/`GOPROXY` from
//!   `go.env`, `go env -w` files, Dockerfile `ENV`/`ARG` and the image `Env`;
//! - Cargo: `Cargo.lock`, `.cargo/config(.toml)`;
//! - Bundler: `Gemfile`, `Gemfile.lock`; Hex: `mix.lock`;
//! - Dockerfiles and the image environment, for the variables above and
//!   pip/uv index settings.
//!
//! With [`Options::public`] set and not offline, every package that comes
//! from a private source is also looked up on the public registry of its
//! ecosystem (name claims, `CS-DEP-090`…`092`); answers are cached under
//! `cache_dir/confusion/`.
//!
//! Nothing here walks the filesystem: the caller asks [`wanted`] for every
//! path (cheap, no allocation) and hands the wanted files to [`scan`].
//!
//! Why this crate parses lockfiles itself instead of calling `customs-lang`:
//! the checks need, per entry, the fields `customs-lang` does not keep (npm's
//! `resolved` and `integrity`, the `source` of `Cargo.lock`/`uv.lock`/
//! `poetry.lock`, the repo of a `mix.lock` entry, the `remote:` of a
//! `Gemfile.lock` section) *and* the line of that entry, which
//! `customs_model::Package` does not carry. Reading the name and version from
//! the same entry costs nothing more, while a second parse by `customs-lang`
//! and a join of the two by name would double the work for 200 lockfiles.
//!
//! Malformed input never panics and never fails the scan: the file gets a
//! finding-free result and a `tracing::warn!` naming it and the problem.

use customs_model::finding::Misconfiguration;
use std::path::PathBuf;
use std::time::Duration;

mod checks;
mod docker;
mod golang;
mod jvm;
mod misc;
mod npm;
mod public;
mod python;
mod text;
mod url;

pub use checks::{checks, checks_markdown, Check};

/// `Misconfiguration::kind` of every finding of this scanner.
pub const KIND: &str = "dependency-confusion";

/// Largest file the scanner reads; callers skip larger ones (lockfiles of
/// real monorepos stay well below; a bigger "lockfile" is not one to trust).
pub const MAX_FILE: u64 = 32 * 1024 * 1024;

/// What the scanner reads.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The wanted files ([`wanted`]): path relative to the scanned root
    /// (no leading `/`) and contents.
    pub files: Vec<(String, Vec<u8>)>,
    /// Environment of the image config (`Env`); empty for `customs fs`.
    pub env: Vec<(String, String)>,
}

/// How to scan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// The online name check (`--confusion-check-public`); `None` leaves it
    /// out. The registry URLs given here also count as *public* for the
    /// offline checks (so a test, or a company that mirrors the public
    /// registry under another name, is classified right).
    pub public: Option<PublicCheck>,
    /// More registry URLs that count as *public* in the offline checks
    /// (mirrors of the public registries under another name; the CLI's
    /// `--confusion-registry` without the name check).
    pub also_public: Vec<String>,
}

/// The public registries asked by the name check, and its cache.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicCheck {
    /// npm registry base URL (`https://registry.npmjs.org`).
    pub npm: String,
    /// PyPI JSON API base URL; `{pypi}/{name}/json` is asked
    /// (`https://pypi.org/pypi`).
    pub pypi: String,
    /// crates.io base URL; `{crates}/api/v1/crates/{name}` is asked.
    pub crates: String,
    /// RubyGems base URL; `{rubygems}/api/v1/versions/{name}.json` is asked.
    pub rubygems: String,
    /// Hex base URL; `{hex}/api/packages/{name}` is asked.
    pub hex: String,
    /// The cache dir; answers are kept in `cache_dir/confusion/`.
    pub cache_dir: PathBuf,
    /// `--offline`: ask nothing (cached answers are still used), say so once.
    pub offline: bool,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl PublicCheck {
    /// The ecosystems whose registry URL can be set, by these names
    /// (`--confusion-registry npm=URL`).
    pub const ECOSYSTEMS: [&'static str; 5] = ["npm", "pypi", "crates", "rubygems", "hex"];

    /// The registry URL of an ecosystem named as in [`Self::ECOSYSTEMS`].
    pub fn registry_mut(&mut self, ecosystem: &str) -> Option<&mut String> {
        match ecosystem {
            "npm" => Some(&mut self.npm),
            "pypi" => Some(&mut self.pypi),
            "crates" => Some(&mut self.crates),
            "rubygems" => Some(&mut self.rubygems),
            "hex" => Some(&mut self.hex),
            _ => None,
        }
    }
}

impl Default for PublicCheck {
    fn default() -> Self {
        PublicCheck {
            npm: "https://registry.npmjs.org".into(),
            pypi: "https://pypi.org/pypi".into(),
            crates: "https://crates.io".into(),
            rubygems: "https://rubygems.org".into(),
            hex: "https://hex.pm".into(),
            cache_dir: std::env::temp_dir().join("customs-cache"),
            offline: false,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The findings of one file (or, with an empty `path`, of the image
/// environment: `kind` is then `image-config`; the caller names the target).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileResult {
    pub path: String,
    /// `npm`, `yarn`, `pnpm`, `bun`, `pip`, `uv`, `poetry`, `pipenv`,
    /// `maven`, `gradle`, `gomod`, `go-env`, `cargo`, `bundler`, `hex`,
    /// `dockerfile`, `image-config`.
    pub kind: String,
    /// Sorted by start line, then ID, then message.
    pub findings: Vec<Misconfiguration>,
}

/// The scan could not run at all (bad options). A malformed *file* is not an
/// error: it is skipped with a warning.
#[derive(Debug, thiserror::Error)]
pub enum ConfusionError {
    #[error("confusion cache {path}: {message}")]
    Cache { path: String, message: String },
    #[error("HTTP client: {0}")]
    Client(String),
}

/// The ecosystem a path belongs to, when this scanner reads it.
pub(crate) fn file_kind(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let kind = match name {
        ".npmrc" | "npmrc" | "package-lock.json" | "npm-shrinkwrap.json" => "npm",
        ".yarnrc.yml" | ".yarnrc" | "yarn.lock" => "yarn",
        "pnpm-lock.yaml" => "pnpm",
        "bun.lock" => "bun",
        "pip.conf" | "pip.ini" => "pip",
        "pyproject.toml" => "pyproject",
        "uv.toml" | "uv.lock" => "uv",
        "poetry.lock" => "poetry",
        "Pipfile" | "Pipfile.lock" => "pipenv",
        "pom.xml" | "settings.xml" => "maven",
        "build.gradle" | "build.gradle.kts" | "settings.gradle" | "settings.gradle.kts" => "gradle",
        "go.mod" => "gomod",
        "go.env" => "go-env",
        "Cargo.lock" => "cargo",
        "Gemfile" | "gems.rb" | "Gemfile.lock" | "gems.locked" => "bundler",
        "mix.lock" => "hex",
        "Dockerfile" | "Containerfile" => "dockerfile",
        _ => {
            if name.ends_with(".txt") && name.starts_with("requirements")
                || name.ends_with(".in") && name.starts_with("requirements")
            {
                "pip"
            } else if name.ends_with(".Dockerfile")
                || name.starts_with("Dockerfile.")
                || name.ends_with(".dockerfile")
            {
                "dockerfile"
            } else if name == "env" && path.ends_with("go/env") {
                // `go env -w` writes `$XDG_CONFIG_HOME/go/env`.
                "go-env"
            } else if (name == "config" || name == "config.toml") && path.ends_with(".cargo/config")
                || path.ends_with(".cargo/config.toml")
            {
                "cargo-config"
            } else {
                return None;
            }
        }
    };
    Some(kind)
}

/// One path of every kind of file the scanner reads (as [`wanted`] takes
/// them), for the property tests and the fuzz target that feed it bytes.
pub const SAMPLE_PATHS: [&str; 29] = [
    "app/.npmrc",
    "etc/npmrc",
    "app/.yarnrc.yml",
    "app/.yarnrc",
    "app/package-lock.json",
    "app/yarn.lock",
    "app/pnpm-lock.yaml",
    "app/bun.lock",
    "etc/pip.conf",
    "requirements.txt",
    "pyproject.toml",
    "uv.toml",
    "uv.lock",
    "poetry.lock",
    "Pipfile",
    "Pipfile.lock",
    "pom.xml",
    "root/.m2/settings.xml",
    "build.gradle",
    "settings.gradle.kts",
    "go.mod",
    "usr/local/go/go.env",
    "root/.config/go/env",
    "Cargo.lock",
    ".cargo/config.toml",
    "Gemfile",
    "Gemfile.lock",
    "mix.lock",
    "Dockerfile",
];

/// Names [`wanted`] in a layer cache key; bump it when `wanted` changes, so
/// layer results cached with the old choice of files are not reused.
pub const WANTED_ID: &str = "confusion/1";

/// Whether [`scan`] wants to read `path` (relative to the scanned root, no
/// leading `/`). Cheap: no allocation; called for every path of every layer.
/// Vendored copies (`node_modules/`, `site-packages/`, `vendor/`, Go's module
/// cache, cargo's registry sources) are skipped: their lockfiles and configs
/// are not the ones the project installs with.
pub fn wanted(path: &str) -> bool {
    if file_kind(path).is_none() {
        return false;
    }
    // `settings.xml` only in Maven's places, not any XML of that name.
    if path.ends_with("settings.xml")
        && !(path.ends_with(".m2/settings.xml")
            || path.ends_with("conf/settings.xml")
            || path == "settings.xml")
    {
        return false;
    }
    !is_vendored(path)
}

fn is_vendored(path: &str) -> bool {
    const SKIP: [&str; 7] = [
        "node_modules/",
        "site-packages/",
        "dist-packages/",
        "vendor/",
        "pkg/mod/",
        ".cargo/registry/",
        ".cargo/git/",
    ];
    SKIP.iter().any(|dir| {
        path.starts_with(dir)
            || path
                .match_indices(dir)
                .any(|(i, _)| path.as_bytes().get(i.wrapping_sub(1)) == Some(&b'/'))
    })
}

/// Scan the wanted files and the image environment. Deterministic: results
/// sorted by path, findings by line, ID and message.
pub fn scan(input: &Input, opts: &Options) -> Result<Vec<FileResult>, ConfusionError> {
    let ctx = Context::new(input, opts);
    let mut out: Vec<FileResult> = Vec::new();
    let mut private = Vec::new();
    for file in &ctx.files {
        let (findings, mut pkgs) = match file.kind {
            "npm" | "yarn" | "pnpm" | "bun" => npm::scan(&ctx, file),
            "pip" | "pyproject" | "uv" | "poetry" | "pipenv" => python::scan(&ctx, file),
            "maven" | "gradle" => jvm::scan(&ctx, file),
            "gomod" | "go-env" => golang::scan(&ctx, file),
            "cargo" | "cargo-config" | "bundler" | "hex" => misc::scan(&ctx, file),
            "dockerfile" => docker::scan(&ctx, file),
            _ => (Vec::new(), Vec::new()),
        };
        private.append(&mut pkgs);
        out.push(FileResult {
            path: file.path.to_string(),
            kind: result_kind(file),
            findings,
        });
    }
    let env = docker::scan_env(&ctx);
    if !env.is_empty() {
        out.push(FileResult {
            path: String::new(),
            kind: "image-config".into(),
            findings: env,
        });
    }
    if let Some(check) = &opts.public {
        let claims = public::check(check, &ctx, &private)?;
        for (path, finding) in claims {
            match out.iter_mut().find(|r| r.path == path) {
                Some(r) => r.findings.push(finding),
                None => out.push(FileResult {
                    path,
                    kind: String::new(),
                    findings: vec![finding],
                }),
            }
        }
    }
    for r in &mut out {
        r.findings.sort_by(|a, b| {
            (a.cause_metadata.start_line, &a.id, &a.message).cmp(&(
                b.cause_metadata.start_line,
                &b.id,
                &b.message,
            ))
        });
        r.findings.dedup();
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn result_kind(file: &File) -> String {
    match file.kind {
        "pyproject" => {
            if file.text.contains("[tool.poetry") {
                "poetry"
            } else {
                "uv"
            }
        }
        "cargo-config" => "cargo",
        "go-env" => "gomod",
        k => k,
    }
    .to_string()
}

/// One wanted file, decoded.
pub(crate) struct File<'a> {
    pub path: &'a str,
    pub kind: &'static str,
    pub text: std::borrow::Cow<'a, str>,
}

impl File<'_> {
    /// The directory of the file, with a trailing `/` (empty at the root).
    pub fn dir(&self) -> &str {
        match self.path.rfind('/') {
            Some(i) => &self.path[..=i],
            None => "",
        }
    }
}

/// A package that comes from a private source: what the name check asks
/// the public registry about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PrivatePkg {
    pub eco: public::Eco,
    pub name: String,
    pub version: String,
    /// File and 1-based line of the entry.
    pub path: String,
    pub line: usize,
}

/// Everything a check may look at beyond its own file.
pub(crate) struct Context<'a> {
    pub files: Vec<File<'a>>,
    pub env: &'a [(String, String)],
    /// Base URLs that count as public besides the well-known ones.
    pub public_extra: Vec<String>,
}

impl<'a> Context<'a> {
    fn new(input: &'a Input, opts: &Options) -> Self {
        let mut files: Vec<File<'a>> = input
            .files
            .iter()
            .filter_map(|(path, bytes)| {
                let kind = file_kind(path)?;
                Some(File {
                    path: path.as_str(),
                    kind,
                    // Valid UTF-8 is borrowed; `from_utf8` is the faster
                    // check, the lossy copy only for the rare other case.
                    text: match std::str::from_utf8(bytes) {
                        Ok(s) => std::borrow::Cow::Borrowed(s),
                        Err(_) => String::from_utf8_lossy(bytes),
                    },
                })
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(b.path));
        files.dedup_by(|a, b| a.path == b.path);
        let public_extra: Vec<_> = opts
            .public
            .as_ref()
            .map(|p| {
                [&p.npm, &p.pypi, &p.crates, &p.rubygems, &p.hex]
                    .iter()
                    .map(|u| url::normalize(u))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .into_iter()
            .chain(opts.also_public.iter().map(|u| url::normalize(u)))
            .collect();
        Context {
            files,
            env: &input.env,
            public_extra,
        }
    }

    /// Files named `name` in `dir` or one of its ancestors, nearest first.
    pub fn up_the_tree(&self, dir: &str, names: &[&str]) -> Vec<&File<'a>> {
        let mut out = Vec::new();
        let mut d = dir;
        loop {
            for n in names {
                let want = format!("{d}{n}");
                if let Some(f) = self.file(&want) {
                    out.push(f);
                }
            }
            if d.is_empty() {
                break;
            }
            let trimmed = &d[..d.len() - 1];
            d = match trimmed.rfind('/') {
                Some(i) => &trimmed[..=i],
                None => "",
            };
        }
        out
    }

    pub fn file(&self, path: &str) -> Option<&File<'a>> {
        self.files
            .binary_search_by(|f| f.path.cmp(path))
            .ok()
            .and_then(|i| self.files.get(i))
    }

    /// Whether `url` is a public registry of any ecosystem.
    pub fn is_public(&self, url: &str) -> bool {
        let n = url::normalize(url);
        url::is_well_known_public(&n) || self.public_extra.iter().any(|p| url::same_base(&n, p))
    }
}

/// Logs a file the scanner could not read and returns no findings.
pub(crate) fn malformed<T: Default>(path: &str, problem: impl std::fmt::Display) -> T {
    tracing::warn!("dependency confusion: {path}: {problem}; file skipped");
    T::default()
}

#[cfg(test)]
mod tests;
