//! The checks. Dockerfile checks are entries of [`DOCKERFILE_CHECKS`]: a
//! [`CheckInfo`] and a plain function over the parsed [`Dockerfile`]; each
//! function has its own tests beside it. Image-config and hardening checks
//! live in their own modules.

pub mod ds_image;
pub mod ds_instr;
pub mod ds_pkg;
pub mod ds_run;
pub mod ds_secrets;
pub mod ds_user;
pub mod hardening;
pub mod image_config;

use crate::dockerfile::{Dockerfile, Instr};
use crate::registry::CheckInfo;
use crate::shell::{self, SimpleCmd};

/// What the caller knows about the Dockerfile's surroundings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerfileContext {
    /// Whether a `.dockerignore` exists beside the Dockerfile (file-system
    /// mode). `None` when unknown: the checks that need it are skipped.
    pub dockerignore: Option<bool>,
    /// The Dockerfile was rebuilt from an image's history (no real lines,
    /// and the checks that need the source are skipped).
    pub from_history: bool,
}

/// One failure of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub message: String,
    /// 1-based line range, `None` for the whole file.
    pub lines: Option<(usize, usize)>,
    /// Values masked (`****`) in the quoted code lines: the credential a
    /// secret check found must not be printed in clear in the report.
    pub mask: Vec<String>,
}

impl Hit {
    pub fn at(i: &Instr, message: impl Into<String>) -> Hit {
        Hit {
            message: message.into(),
            lines: Some((i.start_line, i.end_line)),
            mask: Vec::new(),
        }
    }

    /// Mask `value` in the quoted code lines.
    pub fn masking(mut self, value: &str) -> Hit {
        if !value.is_empty() {
            self.mask.push(value.to_string());
        }
        self
    }

    pub fn file(message: impl Into<String>) -> Hit {
        Hit {
            message: message.into(),
            lines: None,
            mask: Vec::new(),
        }
    }
}

/// A Dockerfile check: `None` = not applicable (not reported), `Some(empty)`
/// = pass.
pub type DfFn = fn(&Dockerfile, &DockerfileContext) -> Option<Vec<Hit>>;

pub struct DfCheck {
    pub info: &'static CheckInfo,
    pub run: DfFn,
    /// Also run on Dockerfiles rebuilt from image history.
    pub on_history: bool,
}

macro_rules! df {
    ($m:ident :: $info:ident, $f:ident, $h:expr) => {
        DfCheck {
            info: &$m::$info,
            run: $m::$f,
            on_history: $h,
        }
    };
}

/// Every Dockerfile check.
pub static DOCKERFILE_CHECKS: &[DfCheck] = &[
    df!(ds_image::DS0001, latest_tag, true),
    df!(ds_user::DS0002, root_user, false),
    df!(ds_instr::DS0004, port_22, false),
    df!(ds_instr::DS0005, add_instead_of_copy, true),
    df!(ds_image::DS0006, copy_from_self, false),
    df!(ds_instr::DS0007, multiple_entrypoint, false),
    df!(ds_instr::DS0008, port_out_of_range, true),
    df!(ds_instr::DS0009, workdir_relative, true),
    df!(ds_run::DS0010, sudo, true),
    df!(ds_instr::DS0011, copy_dest_slash, true),
    df!(ds_image::DS0012, duplicate_alias, false),
    df!(ds_run::DS0013, run_cd, true),
    df!(ds_run::DS0014, wget_and_curl, true),
    df!(ds_pkg::DS0015, yum_clean, true),
    df!(ds_instr::DS0016, multiple_cmd, false),
    df!(ds_pkg::DS0017, update_alone, true),
    df!(ds_pkg::DS0019, dnf_clean, true),
    df!(ds_pkg::DS0020, zypper_clean, true),
    df!(ds_pkg::DS0021, apt_yes, true),
    df!(ds_instr::DS0022, maintainer, true),
    df!(ds_instr::DS0023, multiple_healthcheck, false),
    df!(ds_run::DS0024, dist_upgrade, true),
    df!(ds_pkg::DS0025, apk_no_cache, true),
    df!(ds_instr::DS0026, no_healthcheck, false),
    df!(ds_pkg::DS0027, microdnf_clean, true),
    df!(ds_pkg::DS0029, apt_no_recommends, true),
    df!(ds_instr::DS0030, workdir_sysdir, true),
    df!(ds_secrets::DS0031, leaked_secrets, true),
    df!(ds_run::DS0032, pipefail, true),
    df!(ds_image::CSDS001, digest_pin, false),
    df!(ds_run::CSDS002, curl_pipe_shell, true),
    df!(ds_pkg::CSDS003, apt_lists_left, true),
    df!(ds_pkg::CSDS004, pip_cache, true),
    df!(ds_run::CSDS005, chmod_setuid, true),
    df!(ds_user::CSDS006, user_numeric, false),
    df!(ds_user::CSDS007, init_entrypoint, false),
    df!(ds_pkg::CSDS008, toolchain_in_final, true),
    df!(ds_instr::CSDS009, copy_all_no_dockerignore, false),
    df!(ds_secrets::CSDS010, secret_args, true),
    df!(ds_instr::CSDS011, add_remote_checksum, true),
];

/// Every `RUN` with its simple commands.
pub(crate) fn runs(df: &Dockerfile) -> impl Iterator<Item = (&Instr, Vec<SimpleCmd>)> {
    df.all("run").map(|r| (r, run_commands(r)))
}

/// The simple commands of a `RUN` (exec form: the array is one command).
/// A heredoc is read as a script when BuildKit runs it as one (`RUN <<EOF`,
/// or a shell reading it: `RUN bash <<EOF`); given to another program
/// (`RUN python3 <<EOF`, `cat > f <<EOF`) it is data.
pub(crate) fn run_commands(r: &Instr) -> Vec<SimpleCmd> {
    if r.json {
        let words = r.value.clone();
        // `["/bin/sh", "-c", "script"]` runs a shell script.
        if let [sh, c, script] = words.as_slice() {
            if shell::SHELLS.contains(&shell::basename(sh)) && c == "-c" {
                return shell::commands(script);
            }
        }
        return vec![SimpleCmd {
            words,
            piped: false,
            nested: false,
            in_compound: false,
            follows: None,
        }];
    }
    if r.heredocs.is_empty() {
        return shell::commands(&r.command_text());
    }
    let text = r.command_text();
    let line = text.split('\n').next().unwrap_or_default();
    let mut cmds = shell::commands(line);
    let runs_script = match cmds.as_slice() {
        [] => true,
        [c] => c.program().is_some_and(|(p, args)| {
            shell::SHELLS.contains(&p.as_str())
                && c.script().is_none()
                && args.iter().all(|a| a.starts_with('-'))
        }),
        _ => false,
    };
    if runs_script {
        for h in &r.heredocs {
            cmds.extend(shell::commands(&h.body));
        }
    }
    cmds
}

/// Arguments of `cmd` that are not flags.
pub(crate) fn positional(args: &[String]) -> impl Iterator<Item = &str> {
    args.iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
}

/// Whether `args` contain the short flag letter `letter` (alone or bundled,
/// `-y`, `-qy`) or one of `long` flags.
pub(crate) fn has_flag(args: &[String], letter: Option<char>, long: &[&str]) -> bool {
    args.iter().any(|a| {
        if let Some(l) = a.strip_prefix("--") {
            let name = l.split('=').next().unwrap_or(l);
            long.iter().any(|x| x.trim_start_matches('-') == name)
        } else if let Some(s) = a.strip_prefix('-') {
            letter.is_some_and(|c| {
                !s.is_empty() && s.chars().all(|x| x.is_ascii_alphabetic()) && s.contains(c)
            })
        } else {
            false
        }
    })
}

/// The sub-command of a package-manager invocation (first positional after
/// global flags; flags that take a value are skipped for the common ones).
pub(crate) fn subcommand(args: &[String]) -> Option<(&str, &[String])> {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a.starts_with('-') {
            // Options with a separate value.
            if matches!(
                a.as_str(),
                "-o" | "-c"
                    | "-t"
                    | "--option"
                    | "-X"
                    | "--repository"
                    | "--root"
                    | "-p"
                    | "--installroot"
                    | "--setopt"
                    | "--enablerepo"
                    | "--disablerepo"
            ) {
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        return Some((a.as_str(), args.get(i + 1..).unwrap_or_default()));
    }
    None
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    pub fn parse(t: &str) -> Dockerfile {
        match Dockerfile::parse("Dockerfile", t) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    /// Run check `f` on `text` and return the hit lines (start lines).
    pub fn hits(f: DfFn, text: &str) -> Vec<usize> {
        hits_ctx(f, text, &DockerfileContext::default())
    }

    pub fn hits_ctx(f: DfFn, text: &str, ctx: &DockerfileContext) -> Vec<usize> {
        let d = parse(text);
        f(&d, ctx)
            .unwrap_or_default()
            .into_iter()
            .map(|h| h.lines.map(|l| l.0).unwrap_or(0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_helpers() {
        let a: Vec<String> = ["-qy", "--no-install-recommends", "install", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(has_flag(&a, Some('y'), &[]));
        assert!(has_flag(&a, None, &["--no-install-recommends"]));
        assert!(!has_flag(&a, Some('z'), &["--yes"]));
        assert_eq!(subcommand(&a).map(|s| s.0), Some("install"));
    }

    #[test]
    fn heredoc_scripts_and_data() {
        let d = testutil::parse("FROM a\nRUN <<EOF\napt-get update\napt-get install -y x\nEOF\nRUN bash -e <<EOF\ncurl x\nEOF\nRUN python3 <<EOF\nimport os\nEOF\n");
        let all: Vec<Vec<String>> = runs(&d)
            .map(|(_, c)| c.iter().filter_map(|c| c.program().map(|p| p.0)).collect())
            .collect();
        assert_eq!(
            all,
            vec![
                vec!["apt-get", "apt-get"],
                vec!["bash", "curl"],
                vec!["python3"]
            ]
        );
    }

    #[test]
    fn exec_form_sh_c() {
        let d = testutil::parse("FROM a\nRUN [\"/bin/sh\", \"-c\", \"cd /x && make\"]\n");
        let cmds: Vec<_> = runs(&d).flat_map(|(_, c)| c).collect();
        assert_eq!(cmds.len(), 2);
    }
}
