//! The `customs` command.

mod args;
mod db;
mod scan;

use args::{Cli, Command};
use clap::Parser;
use std::process::ExitCode;

/// Exit code of an input or scan error (a usage error is clap's 2).
pub const EXIT_ERROR: u8 = 3;

fn init_logging(quiet: bool, debug: bool) {
    let level = if debug {
        "debug"
    } else if quiet {
        "error"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUSTOMS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(debug)
        .without_time()
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.quiet, cli.global.debug);
    let result = match &cli.command {
        Command::Version(v) => {
            println!("Version: {}", env!("CARGO_PKG_VERSION"));
            let path =
                v.db.clone()
                    .unwrap_or_else(|| db::default_db_path(&cli.global));
            if let Ok(d) = customs_vulndb::VulnDb::open(&path) {
                let _ = db::print_info(&path, &d);
            }
            Ok(0)
        }
        Command::Db(a) => db::run(&cli.global, a),
        Command::Image(a) => scan::image(&cli.global, a),
        Command::Fs(a) => scan::dir(&cli.global, a, scan::DirMode::Fs),
        Command::Rootfs(a) => scan::dir(&cli.global, a, scan::DirMode::Rootfs),
        Command::Config(a) => scan::config(&cli.global, a),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            // One line: what failed and where.
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(": ");
                    msg.push_str(&c);
                }
            }
            eprintln!("customs: error: {msg}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
