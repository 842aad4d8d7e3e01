//! Command-line arguments: Trivy's verbs and flags where they mean the same.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "customs",
    version,
    about = "Container image security scanner: vulnerabilities, secrets, misconfigurations, hardening",
    after_help = "Exit codes: 0 success; N from --exit-code when findings remain; N from --exit-on-eol; 2 usage error; 3 input or scan error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
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
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan a container image (docker save archive or OCI layout).
    #[command(alias = "i")]
    Image(ImageArgs),
    /// Scan a project directory: lockfiles, secrets, Dockerfiles.
    Fs(DirArgs),
    /// Scan an unpacked root filesystem (installed packages, binaries).
    Rootfs(DirArgs),
    /// Check Dockerfiles (a file, or every Dockerfile in a directory).
    Config(ConfigArgs),
    /// Print the version.
    Version,
}

#[derive(Args, Debug)]
pub struct ImageArgs {
    /// Image to scan: a `docker save` tar (plain, .gz, .zst), an OCI layout
    /// directory or tar, optionally with `:TAG` or `@DIGEST`.
    #[arg(long, short = 'i', value_name = "PATH")]
    pub input: String,
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Scanners for the image config: misconfig, secret.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub image_config_scanners: Vec<String>,
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
}

#[derive(Args, Debug, Clone)]
pub struct ScanArgs {
    /// Scanners to run (comma list: vuln, secret, misconfig, hardening), or `none`
    /// for the inventory alone.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "secret",
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
    /// setuid/setgid files accepted by the hardening scanner (repeatable).
    #[arg(long, value_name = "PATH")]
    pub setuid_allow: Vec<String>,
    /// Image age (days since `created`) past which a rebuild is advised.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub max_image_age: u64,
    /// Do not use or fill the per-layer cache.
    #[arg(long)]
    pub no_cache: bool,
}

/// The scanners a scan runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scanners {
    pub vuln: bool,
    pub secret: bool,
    pub misconfig: bool,
    pub hardening: bool,
}

impl Scanners {
    pub fn parse(list: &[String]) -> Result<Scanners, String> {
        let mut s = Scanners::default();
        for item in list {
            match item.trim().to_ascii_lowercase().as_str() {
                "none" | "" => {}
                "vuln" => s.vuln = true,
                "secret" => s.secret = true,
                "misconfig" | "config" => s.misconfig = true,
                "hardening" => s.hardening = true,
                other => {
                    return Err(format!(
                        "--scanners: unknown scanner '{other}' (expected vuln, secret, misconfig, hardening or none)"
                    ))
                }
            }
        }
        Ok(s)
    }
}
