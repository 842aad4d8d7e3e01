//! The `customs` command.

mod args;
mod base_cmd;
mod db;
mod diff_cmd;
mod history_cmd;
mod progress;
mod scan;
mod server_cmd;
mod vex_cmd;

use args::{Cli, Command};
use clap::Parser;
use customs_report::escape_control;
use std::io::Write;
use std::process::ExitCode;

/// Exit code of an input or scan error (a usage error is clap's 2).
pub const EXIT_ERROR: u8 = 3;

/// A writer that escapes terminal control characters (and bidi overrides)
/// in what it is given, keeping only the newline that ends a record: log
/// records carry image-derived text (file paths, package names, layer
/// commands), which must not reach the terminal as control sequences or
/// forge extra lines.
struct Escaping<W>(W);

impl<W: Write> Write for Escaping<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // The fmt layer hands over one whole record per call; a partial
        // write would split an escape, so take the record whole.
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = match text.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (&*text, ""),
        };
        let line = format!("{}{end}", escape_control(body));
        self.0.write_all(line.as_bytes())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn escaping_stderr() -> Escaping<std::io::Stderr> {
    Escaping(std::io::stderr())
}

fn init_logging(quiet: bool, debug: bool, server: bool) {
    // customs' own records; the libraries' (reqwest, rustls, hyper) only
    // with --debug, and then only their warnings: what matters of theirs
    // reaches the user in customs' error line.
    let level = if debug {
        "warn,customs=debug"
    } else if quiet {
        "off,customs=error"
    } else if server {
        // A service logs what it does (a scan's failure, a new database).
        "off,customs=info"
    } else {
        "off,customs=warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUSTOMS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(escaping_stderr)
        // Plain records: the escaping sink would show colour codes as text.
        .with_ansi(false)
        .with_target(debug);
    // A server's records carry their time; a command's need none.
    let _ = if server {
        fmt.try_init()
    } else {
        fmt.without_time().try_init()
    };
}

/// One malloc arena per core (unless the user set `MALLOC_ARENA_MAX`),
/// not glibc's default of eight per core. Each thread that allocates gets
/// an arena and keeps it: with the default, the layer threads (walkers,
/// hashers, downloads) peaked 14–19 MB higher on the bookworm and app
/// images (`image --scanners vuln,secret`: 59 → 45 MB, 78 → 60 MB with one
/// arena). One arena for the whole process was as fast for image scans,
/// whose allocations are few and large, but `fs` reads a tree's files on
/// every core and allocates per file: there the threads queued on the one
/// lock (app rootfs, `fs --scanners secret`: 0.13 s with one arena, 0.08 s
/// with two on two cores, at the same peak RSS; image scans of the app
/// image +2 MB).
///
/// Blocks of 256 KiB and more are mapped on their own and given back when
/// freed (unless the user set `MALLOC_MMAP_THRESHOLD_`). glibc starts there
/// at 128 KiB but raises the threshold to the largest block freed so far,
/// so after the first file buffer (up to 1 MiB) every later one, and each
/// regex's growing DFA cache, came from the arenas and stayed in them:
/// medians of `--scanners secret`, threshold free → fixed: `image --input
/// app.tar` 31.8 → 28.2 MB at the same time; `fs` of the library corpus
/// 30.0 → 28.7 MB, 5% slower (each mapping's pages are zeroed anew); `fs`
/// of the app image's filesystem, whose files are small, 19.3 → 20.4 MB.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let arenas = libc::c_int::try_from(cores).unwrap_or(1).clamp(1, 64);
            // SAFETY: mallopt only sets an allocator parameter; it is called
            // before any other thread exists.
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, arenas);
            }
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            // SAFETY: as above.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
            }
        }
    }
}

fn main() -> ExitCode {
    tune_malloc();
    let cli = Cli::parse();
    let server = matches!(cli.command, Some(args::Command::Server(_)));
    init_logging(cli.global.quiet, cli.global.debug, server);
    let version = |db: Option<&std::path::Path>| {
        let _ = scan::write_output(
            None,
            format!("Version: {}\n", env!("CARGO_PKG_VERSION")).as_bytes(),
        );
        let path = db
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| db::default_db_path(&cli.global));
        if let Ok(d) = customs_vulndb::VulnDb::open(&path) {
            let _ = db::print_info(&path, &d);
        }
        Ok(0)
    };
    let result = match &cli.command {
        // `customs -v`, the `trivy -v` habit (a subcommand after it is ignored, as Trivy does).
        _ if cli.version => version(None),
        Some(Command::Version(v)) => version(v.db.as_deref()),
        Some(Command::Db(a)) => db::run(&cli.global, a),
        Some(Command::Image(a)) => scan::image(&cli.global, a),
        Some(Command::Fs(a)) => scan::dir(&cli.global, a, scan::DirMode::Fs),
        Some(Command::Rootfs(a)) => scan::dir(&cli.global, a, scan::DirMode::Rootfs),
        Some(Command::Config(a)) => scan::config(&cli.global, a),
        Some(Command::Diff(a)) => diff_cmd::run(&cli.global, a),
        Some(Command::History(a)) => history_cmd::run(&cli.global, a),
        Some(Command::Vex(a)) => vex_cmd::run(a),
        Some(Command::Base(a)) => base_cmd::run(&cli.global, a),
        Some(Command::Server(a)) => server_cmd::run(&cli.global, a),
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            Ok(2)
        }
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
            eprintln!("customs: error: {}", escape_control(&msg));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(record: &str) -> String {
        let mut w = Escaping(Vec::new());
        let _ = w.write_all(record.as_bytes());
        String::from_utf8_lossy(&w.0).into_owned()
    }

    #[test]
    fn log_records_keep_only_their_final_newline() {
        assert_eq!(
            through(" WARN img.tar: layer L: entry '\u{1b}]0;x\u{7}\nforged' ...\n"),
            " WARN img.tar: layer L: entry '\\x1b]0;x\\x07\\x0aforged' ...\n"
        );
        assert_eq!(through("plain\n"), "plain\n");
        assert_eq!(through("no newline"), "no newline");
    }
}
