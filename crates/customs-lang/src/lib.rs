//! Language-package analyzers: pure functions from a file's path and bytes to
//! the [`Package`]s it declares.
//!
//! Three kinds of input are covered:
//! - **lockfiles** of project trees (`Cargo.lock`, `package-lock.json`,
//!   `poetry.lock`, `mix.lock`, ...), used by `customs fs`;
//! - **installed package metadata** in images (`*.dist-info/METADATA`,
//!   `node_modules/**/package.json`, `specifications/*.gemspec`, jars,
//!   `vendor/composer/installed.json`, `*.deps.json`, `conda-meta/*.json`);
//! - **binaries**: Go build info and Rust `cargo auditable` data in ELF, PE
//!   and Mach-O files.
//!
//! ```
//! use customs_lang::{analyzer_for, parse};
//! let path = "app/Cargo.lock";
//! let data = b"version = 4\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n";
//! let analyzer = analyzer_for(path).expect("Cargo.lock is analyzed");
//! let pkgs = parse(&analyzer, path, data).expect("valid lockfile");
//! assert_eq!(pkgs[0].id, "app@0.1.0");
//! ```
//!
//! Nothing here reads the filesystem: the caller walks the image or tree,
//! asks [`analyzer_for`] for every path (cheap, no allocation) and hands the
//! bytes of the matching files to [`parse`] (or [`parse_binary`] for
//! executables whose first bytes pass [`is_binary_candidate`]).

use customs_model::lang_type as lt;
use customs_model::Package;

mod binary;
mod conan;
mod dotnet;
mod golang;
mod java;
mod jsonc;
mod julia;
mod manifest;
mod misc;
mod mixlock;
mod node;
mod php;
mod python;
mod ruby;
mod rust;
mod util;

pub use golang::{go_mod_needs_go_sum, merge_go_sum, merge_go_sum_packages, parse_go_sum, STDLIB};
pub use java::{parse_pom_with_parents, pom_has_parent};
pub use manifest::{apply_manifests, is_manifest, manifest_for};

/// Project manifests: read only to complete the lockfile beside them
/// (direct and dev dependencies), never reported as targets of their own.
pub mod manifest_type {
    /// A project's `package.json` (not under `node_modules`), for yarn.lock.
    pub const PACKAGE_JSON: &str = "manifest:package.json";
    /// `pyproject.toml`, for poetry.lock (Poetry groups).
    pub const PYPROJECT: &str = "manifest:pyproject.toml";
    /// `Cargo.toml`, for Cargo.lock (`[dev-dependencies]`).
    pub const CARGO_TOML: &str = "manifest:Cargo.toml";
}

/// What kind of artifact an analyzer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A lockfile or manifest of a project tree (`customs fs`).
    Lockfile,
    /// Metadata of an installed package in an image (site-packages,
    /// node_modules, gem specifications, jars, ...).
    Installed,
    /// An executable (Go build info, Rust cargo-auditable).
    Binary,
    /// A project manifest (`package.json`, `pyproject.toml`, `Cargo.toml`)
    /// read only to complete the lockfile beside it; see [`apply_manifests`].
    Manifest,
}

/// An analyzer: the Trivy result `Type` it produces and the kind of input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Analyzer {
    /// One of [`customs_model::lang_type`]'s constants.
    pub lang_type: &'static str,
    pub kind: Kind,
}

/// A file could not be analyzed. Display is one line naming the file and the
/// problem; callers turn it into a warning and go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct LangError {
    pub path: String,
    pub message: String,
}

impl LangError {
    pub(crate) fn new(path: &str, message: impl Into<String>) -> Self {
        LangError {
            path: path.to_string(),
            message: message.into(),
        }
    }
}

const fn an(lang_type: &'static str, kind: Kind) -> Option<Analyzer> {
    Some(Analyzer { lang_type, kind })
}

/// One path of every file kind [`analyzer_for`] routes, for the robustness
/// tests and the fuzz target that feed [`parse`] arbitrary bytes.
pub const SAMPLE_PATHS: &[&str] = &[
    "Cargo.lock",
    "go.mod",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "requirements.txt",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "Gemfile.lock",
    "composer.lock",
    "mix.lock",
    "pom.xml",
    "gradle.lockfile",
    "packages.lock.json",
    "pubspec.lock",
    "Podfile.lock",
    "Package.resolved",
    "node_modules/x/package.json",
    "lib/x-1.0.dist-info/METADATA",
    "specifications/x.gemspec",
    "vendor/composer/installed.json",
    "app.deps.json",
    "conda-meta/x.json",
    "go.sum",
    "gems.locked",
    "conan.lock",
    "Manifest.toml",
    "build.sbt.lock",
    "environment.yml",
    "packages.config",
    "Directory.Packages.props",
    "pylock.toml",
    "package.json",
    "pyproject.toml",
    "Cargo.toml",
    "lib/x.jar",
];

/// Which analyzer handles this path, decided on the file name and a few
/// path components. Paths use `/`; a leading `/` or `./` does not matter.
/// Cheap enough to call for every file of an image (no allocation).
///
/// `go.sum` completes the `go.mod` beside it when that is older than Go 1.17
/// (see [`merge_go_sum`]); a lone `go.sum` is reported on its own.
pub fn analyzer_for(path: &str) -> Option<Analyzer> {
    use customs_model::lang_type as et;
    use manifest_type as mt;
    use Kind::*;
    let path = path.trim_end_matches('/');
    let (dir, file) = match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    let parent = dir.rsplit('/').next().unwrap_or("");
    match file {
        "Cargo.lock" => return an(lt::CARGO, Lockfile),
        "go.mod" | "go.sum" => return an(lt::GOMOD, Lockfile),
        "package-lock.json" => return an(lt::NPM, Lockfile),
        "yarn.lock" => return an(lt::YARN, Lockfile),
        "pnpm-lock.yaml" => return an(lt::PNPM, Lockfile),
        "bun.lock" => return an(lt::BUN, Lockfile),
        "requirements.txt" => return an(lt::PIP, Lockfile),
        "poetry.lock" => return an(lt::POETRY, Lockfile),
        "Pipfile.lock" => return an(lt::PIPENV, Lockfile),
        "uv.lock" => return an(lt::UV, Lockfile),
        "Gemfile.lock" | "gems.locked" => return an(lt::BUNDLER, Lockfile),
        "composer.lock" => return an(lt::COMPOSER, Lockfile),
        "mix.lock" => return an(lt::HEX, Lockfile),
        "pom.xml" => return an(lt::POM, Lockfile),
        "gradle.lockfile" => return an(lt::GRADLE, Lockfile),
        "packages.lock.json" | "packages.config" => return an(lt::NUGET, Lockfile),
        "conan.lock" => return an(et::CONAN, Lockfile),
        "Manifest.toml" | "JuliaManifest.toml" => return an(et::JULIA, Lockfile),
        "build.sbt.lock" => return an(et::SBT, Lockfile),
        "environment.yaml" | "environment.yml" => return an(et::CONDA_ENV, Lockfile),
        "pylock.toml" => return an(et::PYLOCK, Lockfile),
        "package.json" if !under_node_modules(dir) => return an(mt::PACKAGE_JSON, Manifest),
        "pyproject.toml" => return an(mt::PYPROJECT, Manifest),
        "Cargo.toml" => return an(mt::CARGO_TOML, Manifest),
        "pubspec.lock" => return an(lt::PUB, Lockfile),
        "Podfile.lock" => return an(lt::COCOAPODS, Lockfile),
        "Package.resolved" => return an(lt::SWIFT, Lockfile),
        "package.json" if is_in_node_modules(dir) => return an(lt::NODE_PKG, Installed),
        "METADATA" if parent.ends_with(".dist-info") => return an(lt::PYTHON_PKG, Installed),
        "PKG-INFO" if parent.ends_with(".egg-info") || parent == "EGG-INFO" => {
            return an(lt::PYTHON_PKG, Installed)
        }
        "installed.json" if parent == "composer" => return an(lt::COMPOSER_VENDOR, Installed),
        _ => {}
    }
    if file.ends_with(".egg-info") && file.len() > ".egg-info".len() {
        // distutils writes a single-file egg-info (Debian's python3-* packages).
        return an(lt::PYTHON_PKG, Installed);
    }
    if file.ends_with(".gemspec") && parent == "specifications" {
        return an(lt::GEMSPEC, Installed);
    }
    if file.ends_with(".json") && parent == "conda-meta" {
        return an(lt::CONDA_PKG, Installed);
    }
    if file.ends_with(".deps.json") && file.len() > ".deps.json".len() {
        return an(lt::DOTNET_CORE, Installed);
    }
    if file.ends_with("gradle.lockfile") {
        return an(lt::GRADLE, Lockfile);
    }
    if has_ext_ci(file, "packages.props") {
        // Directory.Packages.props, Packages.props (Trivy's suffix rule).
        return an(et::PACKAGES_PROPS, Lockfile);
    }
    // PEP 751 named lock files: pylock.<name>.toml.
    if file.starts_with("pylock.") && file.ends_with(".toml") && file.len() > "pylock..toml".len() {
        return an(et::PYLOCK, Lockfile);
    }
    // Julia ≥ 1.11 version-specific manifests: Manifest-v1.11.toml.
    if (file.starts_with("Manifest-v") || file.starts_with("JuliaManifest-v"))
        && file.ends_with(".toml")
    {
        return an(et::JULIA, Lockfile);
    }
    if has_ext_ci(file, ".jar")
        || has_ext_ci(file, ".war")
        || has_ext_ci(file, ".ear")
        || has_ext_ci(file, ".par")
    {
        return an(lt::JAR, Installed);
    }
    None
}

fn has_ext_ci(file: &str, ext: &str) -> bool {
    file.len() > ext.len()
        && file
            .get(file.len() - ext.len()..)
            .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

fn is_in_node_modules(dir: &str) -> bool {
    dir.starts_with("node_modules/") || dir.contains("/node_modules/")
}

fn under_node_modules(dir: &str) -> bool {
    is_in_node_modules(dir)
        || dir == "node_modules"
        || dir.ends_with("/node_modules")
        || dir.split('/').any(|c| c == "node_modules")
}

/// Is this file content a candidate binary (ELF, PE or Mach-O)? Looks only
/// at the first bytes; a `true` is no promise that build info is inside.
pub fn is_binary_candidate(head: &[u8]) -> bool {
    binary::is_candidate(head)
}

/// Parse a lockfile or installed-package file with the analyzer that
/// [`analyzer_for`] chose for `path`. Returns the packages in a stable
/// order (sorted by name, then version, then file path).
pub fn parse(analyzer: &Analyzer, path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    use customs_model::lang_type as et;
    let file = path.rsplit('/').next().unwrap_or(path);
    if analyzer.kind == Kind::Manifest {
        return manifest::parse(analyzer.lang_type, path, data);
    }
    let mut pkgs = match analyzer.lang_type {
        lt::CARGO => rust::parse_cargo_lock(path, data)?,
        lt::GOMOD if file == "go.sum" => golang::parse_go_sum(path, data)?,
        lt::GOMOD => golang::parse_go_mod(path, data)?,
        lt::NPM => node::parse_package_lock(path, data)?,
        lt::YARN => node::parse_yarn_lock(path, data)?,
        lt::PNPM => node::parse_pnpm_lock(path, data)?,
        lt::BUN => node::parse_bun_lock(path, data)?,
        lt::NODE_PKG => node::parse_package_json(path, data)?,
        lt::PIP => python::parse_requirements(path, data)?,
        lt::POETRY => python::parse_poetry_lock(path, data)?,
        lt::PIPENV => python::parse_pipfile_lock(path, data)?,
        lt::UV => python::parse_uv_lock(path, data)?,
        lt::PYTHON_PKG => python::parse_metadata(path, data)?,
        lt::BUNDLER => ruby::parse_gemfile_lock(path, data)?,
        lt::GEMSPEC => ruby::parse_gemspec(path, data)?,
        lt::COMPOSER => php::parse_composer_lock(path, data)?,
        lt::COMPOSER_VENDOR => php::parse_installed_json(path, data)?,
        lt::HEX => mixlock::parse_mix_lock(path, data)?,
        lt::POM => java::parse_pom(path, data)?,
        lt::GRADLE => java::parse_gradle_lockfile(path, data)?,
        lt::JAR => java::parse_jar(path, data)?,
        lt::NUGET if file == "packages.config" => dotnet::parse_packages_config(path, data)?,
        lt::NUGET => dotnet::parse_packages_lock(path, data)?,
        et::PACKAGES_PROPS => dotnet::parse_packages_props(path, data)?,
        et::CONAN => conan::parse_conan_lock(path, data)?,
        et::JULIA => julia::parse_manifest(path, data)?,
        et::SBT => java::parse_sbt_lock(path, data)?,
        et::CONDA_ENV => misc::parse_conda_environment(path, data)?,
        et::PYLOCK => python::parse_pylock(path, data)?,
        lt::DOTNET_CORE => dotnet::parse_deps_json(path, data)?,
        lt::PUB => misc::parse_pubspec_lock(path, data)?,
        lt::COCOAPODS => misc::parse_podfile_lock(path, data)?,
        lt::SWIFT => misc::parse_package_resolved(path, data)?,
        lt::CONDA_PKG => misc::parse_conda_meta(path, data)?,
        lt::GOBINARY | lt::RUST_BINARY => {
            return Ok(parse_binary(path, data)?
                .map(|(_, p)| p)
                .unwrap_or_default())
        }
        other => {
            return Err(LangError::new(
                path,
                format!("no parser for language type {other:?}"),
            ))
        }
    };
    util::sort_packages(&mut pkgs);
    Ok(pkgs)
}

/// Read Go build info or Rust `cargo auditable` data from an executable.
/// `Ok(None)` when the file is not a Go binary and carries no audit data.
/// Returns the Trivy type (`gobinary` or `rustbinary`) and the packages.
pub fn parse_binary(
    path: &str,
    data: &[u8],
) -> Result<Option<(&'static str, Vec<Package>)>, LangError> {
    let out = binary::parse(path, data)?;
    Ok(out.map(|(t, mut pkgs)| {
        util::sort_packages(&mut pkgs);
        (t, pkgs)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_by_path() {
        let cases: &[(&str, Option<&str>)] = &[
            ("Cargo.lock", Some(lt::CARGO)),
            ("/src/app/Cargo.lock", Some(lt::CARGO)),
            (
                "usr/lib/python3/site-packages/foo-1.0.dist-info/METADATA",
                Some(lt::PYTHON_PKG),
            ),
            (
                "usr/lib/python3/dist-packages/foo-1.0.egg-info",
                Some(lt::PYTHON_PKG),
            ),
            ("x/foo.egg-info/PKG-INFO", Some(lt::PYTHON_PKG)),
            ("x/EGG-INFO/PKG-INFO", Some(lt::PYTHON_PKG)),
            ("PKG-INFO", None),
            ("METADATA", None),
            ("app/node_modules/x/package.json", Some(lt::NODE_PKG)),
            ("node_modules/@s/x/package.json", Some(lt::NODE_PKG)),
            ("app/package.json", Some(manifest_type::PACKAGE_JSON)),
            ("a/node_modules/package.json", None),
            ("pyproject.toml", Some(manifest_type::PYPROJECT)),
            ("crates/x/Cargo.toml", Some(manifest_type::CARGO_TOML)),
            ("gems.locked", Some(lt::BUNDLER)),
            ("conan.lock", Some(customs_model::lang_type::CONAN)),
            ("Manifest.toml", Some(customs_model::lang_type::JULIA)),
            ("Manifest-v1.11.toml", Some(customs_model::lang_type::JULIA)),
            ("build.sbt.lock", Some(customs_model::lang_type::SBT)),
            (
                "env/environment.yml",
                Some(customs_model::lang_type::CONDA_ENV),
            ),
            (
                "environment.yaml",
                Some(customs_model::lang_type::CONDA_ENV),
            ),
            ("packages.config", Some(lt::NUGET)),
            (
                "src/Directory.Packages.props",
                Some(customs_model::lang_type::PACKAGES_PROPS),
            ),
            ("pylock.toml", Some(customs_model::lang_type::PYLOCK)),
            ("pylock.dev.toml", Some(customs_model::lang_type::PYLOCK)),
            ("pylock..toml", None),
            (
                "usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.gemspec",
                Some(lt::GEMSPEC),
            ),
            ("src/rake.gemspec", None),
            ("opt/app/lib/a.JAR", Some(lt::JAR)),
            ("a.war", Some(lt::JAR)),
            ("b.ear", Some(lt::JAR)),
            (".jar", None),
            ("vendor/composer/installed.json", Some(lt::COMPOSER_VENDOR)),
            ("installed.json", None),
            ("app/app.deps.json", Some(lt::DOTNET_CORE)),
            ("opt/conda/conda-meta/zlib-1.2-0.json", Some(lt::CONDA_PKG)),
            ("mix.lock", Some(lt::HEX)),
            ("go.mod", Some(lt::GOMOD)),
            ("go.sum", Some(lt::GOMOD)),
            ("buildscript-gradle.lockfile", Some(lt::GRADLE)),
            ("Package.resolved", Some(lt::SWIFT)),
            ("README.md", None),
        ];
        for (p, want) in cases {
            assert_eq!(analyzer_for(p).map(|a| a.lang_type), *want, "{p}");
        }
    }

    #[test]
    fn error_names_file() {
        let a = analyzer_for("Cargo.lock").unwrap_or(Analyzer {
            lang_type: lt::CARGO,
            kind: Kind::Lockfile,
        });
        let e = parse(&a, "proj/Cargo.lock", b"[[package]\nname=").unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("proj/Cargo.lock: "), "{s}");
        assert!(!s.contains('\n'), "{s}");
    }
}
