//! Command-line arguments: Trivy's verbs and flags where they mean the same.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "customs",
    disable_version_flag = true,
    subcommand_required = false,
    arg_required_else_help = true,
    about = "Container image security scanner: vulnerabilities, secrets, misconfigurations, hardening",
    after_help = "Exit codes: 0 success; N from --exit-code when findings remain; N from --exit-on-eol; N from --exit-on-missing-data; 2 usage error; 3 input or scan error."
)]
pub struct Cli {
    /// Print the version and the vulnerability database's metadata (as `trivy -v`).
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Where the layer cache and the vulnerability database live.
    #[arg(long, global = true, env = "CUSTOMS_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Explain what customs does, step by step (debug logs on stderr).
    #[arg(short, long, global = true)]
    pub debug: bool,
    /// No progress bars (they are drawn only on a terminal anyway).
    #[arg(long, global = true)]
    pub no_progress: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan a container image: by name (local engine, then registry) or from a file.
    #[command(alias = "i")]
    Image(Box<ImageArgs>),
    /// Scan a project directory: lockfiles, secrets, Dockerfiles.
    Fs(DirArgs),
    /// Scan an unpacked root filesystem (installed packages, binaries).
    Rootfs(DirArgs),
    /// Check Dockerfiles (a file, or every Dockerfile in a directory).
    Config(ConfigArgs),
    /// Build, update or inspect the vulnerability database.
    Db(DbArgs),
    /// Print the version of customs and of its vulnerability database.
    Version(VersionArgs),
    /// What changed between two reports (customs or Trivy JSON) or two images.
    Diff(Box<crate::diff_cmd::DiffArgs>),
    /// The recorded scans of images over time: list, show, trend, diff, import, prune.
    History(crate::history_cmd::HistoryArgs),
    /// VEX documents: generate one from an ignore file or a report.
    Vex(crate::vex_cmd::VexArgs),
    /// Base images: newer tags on the same track (check), and rewriting the pins (update).
    Base(crate::base_cmd::BaseArgs),
    /// Scans as a service: the JSON API, Harbor's scanner adapter API, metrics.
    Server(Box<crate::server_cmd::ServerArgs>),
}

#[derive(Args, Debug)]
pub struct VersionArgs {
    /// The database file to describe (default: the one in the cache dir).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DbArgs {
    /// The database file (default: CACHE_DIR/db/customs.db).
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Build the database from feed files in a directory (fully offline).
    Build {
        /// Directory holding the feeds (alpine-secdb/, debian-security-tracker/, pypa/, go-vulndb/, rustsec/, rubysec/, osv/, nvd/).
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// Where to write the database (default: CACHE_DIR/db/customs.db).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Stop at the first malformed record instead of skipping it.
        #[arg(long)]
        strict: bool,
    },
    /// Download the upstream feeds (conditional GETs) and rebuild, or fetch a prebuilt file.
    Update {
        #[command(flatten)]
        source: DbSource,
        /// Rebuild even when no feed changed.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        strict: bool,
    },
    /// Show the database's schema version, build time, sources and counts.
    Info,
}

/// How registries are reached: shared by `customs image` and `customs base`.
#[derive(Args, Debug, Clone)]
pub struct RegistryArgs {
    /// The platform to pick from a multi-platform image or base (default: this host's).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Allow plain HTTP and registries whose TLS certificate does not verify.
    #[arg(long)]
    pub insecure: bool,
    /// Registry user name (with --password).
    #[arg(long, env = "CUSTOMS_USERNAME", value_name = "USER")]
    pub username: Option<String>,
    /// Registry password or access token (with --username).
    #[arg(
        long,
        env = "CUSTOMS_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub password: Option<String>,
    /// A bearer token for the registry, sent as is.
    #[arg(
        long,
        env = "CUSTOMS_REGISTRY_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub registry_token: Option<String>,
    /// A mirror tried before Docker Hub for docker.io images (repeatable).
    #[arg(long, value_name = "URL")]
    pub registry_mirror: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImageArgs {
    /// The image: a name (`redis:8.4.0-alpine3.22`, `ghcr.io/org/app@sha256:…`),
    /// a transport (`docker-archive:app.tar`, `oci:DIR[:TAG]`, `docker://NAME`,
    /// `docker-daemon:NAME`, `podman://NAME`), or a file or directory.
    #[arg(
        value_name = "IMAGE",
        required_unless_present = "input",
        conflicts_with = "input"
    )]
    pub image: Option<String>,
    /// Image file: a `docker save` tar (plain, .gz, .zst), an OCI layout
    /// directory or tar, optionally with `:TAG` or `@DIGEST`.
    #[arg(long, short = 'i', value_name = "PATH")]
    pub input: Option<String>,
    /// Where to look for an image given by name, in order (comma list:
    /// docker, podman, remote).
    #[arg(long, value_delimiter = ',', default_value = "docker,podman,remote", value_parser = parse_image_src, value_name = "LIST")]
    pub image_src: Vec<customs_image::ImageSrc>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The Docker engine's socket (`unix:///var/run/docker.sock`; default DOCKER_HOST).
    #[arg(long, value_name = "HOST")]
    pub docker_host: Option<String>,
    /// The Podman engine's socket (default CONTAINER_HOST, then Podman's own paths).
    #[arg(long, value_name = "HOST")]
    pub podman_host: Option<String>,
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Scanners for the image config: misconfig, secret.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub image_config_scanners: Vec<String>,
    /// Client mode: a customs server does the scan (comma list of URLs,
    /// tried in order). A registry name is pulled by the server; a file or
    /// an engine's image is analyzed here and only its inventory is sent.
    #[arg(
        long,
        env = "CUSTOMS_SERVER",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub server: Vec<String>,
    /// The server's token (client mode).
    #[arg(
        long,
        env = "CUSTOMS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// A CA to trust for an https:// server (client mode, PEM).
    #[arg(long, value_name = "FILE")]
    pub server_ca: Option<PathBuf>,
    /// A client certificate for a server that requires one (mutual TLS, PEM; with --server-key).
    #[arg(long, value_name = "FILE", requires = "server_key")]
    pub server_cert: Option<PathBuf>,
    /// The private key of --server-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "server_cert")]
    pub server_key: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DirArgs {
    /// The directory to scan.
    pub path: PathBuf,
    #[command(flatten)]
    pub scan: ScanArgs,
}

#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// A Dockerfile, or a directory searched for Dockerfile, Containerfile, *.dockerfile.
    pub path: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// CycloneDX 1.5 JSON SBOM (every package, and the vulnerabilities found).
    Cyclonedx,
    /// SPDX 2.3 JSON SBOM (every package, with PURLs, licences and relationships).
    SpdxJson,
    /// GitHub-flavoured Markdown (a step summary or PR comment; at most 1 MiB).
    Markdown,
    /// One self-contained HTML file (no network needed to view it).
    Html,
}

impl From<Format> for customs_report::ReportFormat {
    fn from(f: Format) -> Self {
        use customs_report::ReportFormat as R;
        match f {
            Format::Table => R::Table,
            Format::Json => R::Json,
            Format::Sarif => R::Sarif,
            Format::Cyclonedx => R::Cyclonedx,
            Format::SpdxJson => R::SpdxJson,
            Format::Markdown => R::Markdown,
            Format::Html => R::Html,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the report to FILE instead of stdout (written whole, atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct PolicyArgs {
    /// Report only these severities (comma list: UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL).
    #[arg(short, long, value_delimiter = ',', value_name = "LIST")]
    pub severity: Vec<String>,
    /// Exit with this code when any finding remains after filtering.
    #[arg(long, default_value_t = 0, value_name = "CODE")]
    pub exit_code: i32,
    /// Exit with this code when the OS is past its end of life (checked before --exit-code).
    #[arg(long, default_value_t = 0, value_name = "CODE")]
    pub exit_on_eol: i32,
    /// Exit with this code when the database has no advisories for the OS
    /// release or a language ecosystem scanned: unknown is not clean
    /// (checked after --exit-on-eol, before --exit-code).
    #[arg(long, default_value_t = 0, value_name = "CODE")]
    pub exit_on_missing_data: i32,
    /// Drop vulnerabilities that have no fixed version yet.
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// Drop vulnerabilities with these statuses (comma list: unknown, affected, fixed,
    /// under_investigation, will_not_fix, fix_deferred, end_of_life).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub ignore_status: Vec<String>,
    /// Package types whose vulnerabilities are reported (comma list: os, library).
    #[arg(
        long,
        alias = "vuln-type",
        default_value = "os,library",
        value_name = "LIST"
    )]
    pub pkg_types: String,
    /// Ignore file: `.trivyignore` line format, or YAML (`.customsignore.yaml`,
    /// `.trivyignore.yaml`). Repeatable. Default: those of the three found in
    /// the current directory.
    #[arg(long, value_name = "FILE")]
    pub ignorefile: Vec<PathBuf>,
    /// List suppressed findings (with their statement) in the report.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Keep only vulnerabilities in CISA's Known Exploited Vulnerabilities
    /// catalog (with --exit-code: gate on known-exploited only).
    #[arg(long)]
    pub kev: bool,
    /// Keep only vulnerabilities with an EPSS score of at least P (0 to 1).
    #[arg(long, value_name = "P")]
    pub min_epss: Option<f64>,
    /// VEX document to apply (OpenVEX, CycloneDX VEX, CSAF VEX), or `oci` for
    /// the VEX documents attached to the image in its registry; repeatable.
    /// `not_affected` and `fixed` suppress, `affected` and
    /// `under_investigation` annotate.
    #[arg(long, value_name = "FILE|oci")]
    pub vex: Vec<String>,
    /// Order of the vulnerabilities: package, severity, risk (known-exploited,
    /// then EPSS, then CVSS, then severity), epss, cvss, kev.
    #[arg(
        long,
        default_value = "package",
        value_name = "ORDER",
        value_parser = ["package", "severity", "risk", "epss", "cvss", "kev"]
    )]
    pub sort_by: String,
}

#[derive(Args, Debug, Clone)]
pub struct ScanArgs {
    /// Scanners to run (comma list: vuln, secret, misconfig, hardening,
    /// confusion), or `none` for the inventory alone.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "vuln,secret",
        value_name = "LIST"
    )]
    pub scanners: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// List every package in the report, not only the vulnerable ones.
    #[arg(long)]
    pub list_all_pkgs: bool,
    /// Secret rules config (trivy-secret.yaml shape).
    #[arg(long, value_name = "FILE")]
    pub secret_config: Option<PathBuf>,
    /// Also report language packages in files that OS packages installed.
    #[arg(long)]
    pub include_os_owned: bool,
    /// Keep development dependencies (devDependencies, dev groups,
    /// [dev-dependencies]...); dropped by default, as Trivy does.
    #[arg(long)]
    pub include_dev_deps: bool,
    /// precise: only packages certainly in use; comprehensive: also those
    /// that may be (a go.mod toolchain's stdlib), as Trivy's flag.
    #[arg(long, value_enum, default_value_t = DetectionPriority::Precise, value_name = "PRIORITY")]
    pub detection_priority: DetectionPriority,
    /// setuid/setgid files accepted by the hardening scanner (repeatable).
    #[arg(long, value_name = "PATH")]
    pub setuid_allow: Vec<String>,
    /// Image age (days since `created`) past which a rebuild is advised.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub max_image_age: u64,
    /// With the confusion scanner: ask the public registries whether the
    /// names of privately sourced packages exist there (online; answers
    /// cached for a day; `--offline` uses the cached ones only).
    #[arg(long)]
    pub confusion_check_public: bool,
    /// A registry that counts as public in the confusion checks (a mirror
    /// of the public one), and the one the name check asks instead of the
    /// default (repeatable): npm=URL, pypi=URL (the JSON API base),
    /// crates=URL, rubygems=URL, hex=URL.
    #[arg(long, value_name = "ECOSYSTEM=URL", value_parser = parse_registry)]
    pub confusion_registry: Vec<(String, String)>,
    /// Do not use or fill the per-layer cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Layers read at once from a registry (0: as many as cores, 2 to 4).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub parallel: usize,
    /// Bound on each network request of the scan (`90s`, `10m`).
    #[arg(long, default_value = "10m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub db: DbSelect,
    #[command(flatten)]
    pub history: crate::history_cmd::RecordArgs,
}

#[derive(Args, Debug, Clone)]
pub struct DbSelect {
    /// Vulnerability database file to use (default: CACHE_DIR/db/customs.db).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Do not update the database, even when it is due.
    #[arg(long)]
    pub skip_db_update: bool,
    /// Never touch the network (a missing database is then an error).
    #[arg(long, alias = "offline-scan")]
    pub offline: bool,
    #[command(flatten)]
    pub source: DbSource,
}

/// Where `db update`, and a scan that finds no database, get one.
#[derive(Args, Debug, Clone, Default)]
pub struct DbSource {
    /// Fetch a prebuilt database file from this URL instead of the feeds.
    #[arg(long, env = "CUSTOMS_DB_REPOSITORY", value_name = "URL")]
    pub db_repository: Option<String>,
    /// TOML file overriding feed URLs (mirrors); see docs/database.md.
    #[arg(long, env = "CUSTOMS_FEEDS_CONFIG", value_name = "FILE")]
    pub feeds_config: Option<PathBuf>,
}

pub use customs_scan::Scanners;

/// The scanners of a `--scanners` list.
pub fn parse_scanners(list: &[String]) -> Result<Scanners, String> {
    Scanners::parse(list).map_err(|e| format!("--scanners: {e}"))
}

/// `npm=URL` of `--confusion-registry`.
fn parse_registry(s: &str) -> Result<(String, String), String> {
    let names = customs_scan::PublicCheck::ECOSYSTEMS;
    let (eco, url) = s
        .split_once('=')
        .ok_or_else(|| format!("expected ECOSYSTEM=URL ({})", names.join(", ")))?;
    let eco = eco.trim().to_ascii_lowercase();
    if !names.contains(&eco.as_str()) {
        return Err(format!(
            "unknown ecosystem '{eco}' (expected {})",
            names.join(", ")
        ));
    }
    let url = url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("'{url}' is not an http(s) URL"));
    }
    Ok((eco, url.to_string()))
}

/// `90s`, `10m`, `1h30m` (humantime's syntax).
pub(crate) fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(s) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err("must be more than zero".into()),
        Err(e) => Err(format!("{e} (expected e.g. 90s, 10m)")),
    }
}

fn parse_image_src(s: &str) -> Result<customs_image::ImageSrc, String> {
    customs_image::ImageSrc::parse(s)
        .ok_or_else(|| format!("unknown source '{s}' (expected docker, podman or remote)"))
}

/// `--detection-priority` (Trivy's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DetectionPriority {
    Precise,
    Comprehensive,
}

impl From<DetectionPriority> for customs_inventory::DetectionPriority {
    fn from(p: DetectionPriority) -> Self {
        match p {
            DetectionPriority::Precise => customs_inventory::DetectionPriority::Precise,
            DetectionPriority::Comprehensive => customs_inventory::DetectionPriority::Comprehensive,
        }
    }
}
