//! Checks on what `RUN` commands do (besides package managers).

use customs_model::Severity;

use super::{run_commands, runs, DockerfileContext, Hit};
use crate::dockerfile::Dockerfile;
use crate::registry::{CheckInfo, Scanner};
use crate::shell::{basename, SimpleCmd};

const RUN_REF: &str = "https://docs.docker.com/reference/dockerfile/#run";

pub static DS0010: CheckInfo = CheckInfo {
    id: "DS-0010",
    scanner: Scanner::Dockerfile,
    severity: Severity::Critical,
    title: "RUN using 'sudo'",
    description:
        "Avoid using 'RUN' with 'sudo' commands, as it can lead to unpredictable behavior.",
    resolution: "Don't use sudo",
    references: &[RUN_REF],
};

pub fn sudo(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(
        runs(df)
            .filter(|(_, cmds)| cmds.iter().any(|c| c.first().map(basename) == Some("sudo")))
            .map(|(r, _)| Hit::at(r, "Using 'sudo' in Dockerfile should be avoided"))
            .collect(),
    )
}

pub static DS0013: CheckInfo = CheckInfo {
    id: "DS-0013",
    scanner: Scanner::Dockerfile,
    severity: Severity::Medium,
    title: "'RUN cd ...' to change directory",
    description: "Use WORKDIR instead of proliferating instructions like 'RUN cd … && do-something', which are hard to read, troubleshoot, and maintain.",
    resolution: "Use WORKDIR to change directory",
    references: &["https://docs.docker.com/build/building/best-practices/#workdir"],
};

/// Trivy's meaning: a `cd` that starts the RUN or is chained with `&&`
/// (`RUN cd /src && make`), where a WORKDIR would do. A `cd` inside a
/// subshell, a loop or a branch, or in a script given to another shell, is
/// local to that part and not what the check is about.
fn is_workdir_cd(c: &SimpleCmd) -> bool {
    c.first() == Some("cd") && !c.nested && !c.in_compound && matches!(c.follows, None | Some("&&"))
}

pub fn run_cd(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(
        runs(df)
            .filter(|(_, cmds)| cmds.iter().any(is_workdir_cd))
            .map(|(r, _)| {
                Hit::at(
                    r,
                    format!(
                        "RUN should not be used to change directory: '{}'. Use 'WORKDIR' statement instead.",
                        r.command_text()
                    ),
                )
            })
            .collect(),
    )
}

fn uses(cmds: &[SimpleCmd], tool: &str) -> bool {
    cmds.iter()
        .any(|c| c.program().is_some_and(|(p, _)| p == tool))
}

pub static DS0014: CheckInfo = CheckInfo {
    id: "DS-0014",
    scanner: Scanner::Dockerfile,
    severity: Severity::Low,
    title: "RUN using 'wget' and 'curl'",
    description: "Avoid using both 'wget' and 'curl' since these tools have the same effect.",
    resolution: "Pick one util, either 'wget' or 'curl'",
    references: &["https://docs.docker.com/build/building/best-practices/#run"],
};

pub fn wget_and_curl(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let all: Vec<_> = runs(df).collect();
    let curl = all.iter().any(|(_, c)| uses(c, "curl"));
    let first_wget = all.iter().find(|(_, c)| uses(c, "wget"));
    Some(match (curl, first_wget) {
        (true, Some((r, _))) => vec![Hit::at(r, "Shouldn't use both curl and wget")],
        _ => vec![],
    })
}

pub static DS0024: CheckInfo = CheckInfo {
    id: "DS-0024",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "'apt-get dist-upgrade' used",
    description: "'apt-get dist-upgrade' upgrades a major version so it doesn't make more sense in Dockerfile.",
    resolution: "Just use different image",
    references: &[RUN_REF],
};

pub fn dist_upgrade(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(
        runs(df)
            .filter(|(_, cmds)| {
                cmds.iter().any(|c| {
                    c.program().is_some_and(|(p, args)| {
                        matches!(p.as_str(), "apt-get" | "apt")
                            && super::subcommand(args)
                                .is_some_and(|(s, _)| s == "dist-upgrade" || s == "full-upgrade")
                    })
                })
            })
            .map(|(r, _)| Hit::at(r, "'apt-get dist-upgrade' should not be used in Dockerfile"))
            .collect(),
    )
}

const PIPEFAIL_SHELLS: &[&str] = &["bash", "zsh", "ash", "ksh", "mksh"];
const NON_POSIX: &[&str] = &["pwsh", "powershell", "cmd"];

fn sets_pipefail(words: &[String]) -> bool {
    words.windows(2).any(|w| {
        matches!(w, [a, b] if b == "pipefail" && a.starts_with('-') && !a.starts_with("--") && a.contains('o'))
    })
}

pub static DS0032: CheckInfo = CheckInfo {
    id: "DS-0032",
    scanner: Scanner::Dockerfile,
    severity: Severity::Low,
    title: "RUN with pipe without pipefail",
    description: "RUN instruction with a pipe should use 'set -o pipefail' to ensure that errors in any part of the pipe are caught. If you are using a shell that does not support pipefail, consider switching to /bin/bash or /bin/ash.",
    resolution: "Add 'set -o pipefail' before the pipe in the RUN instruction, or switch to a shell that supports pipefail via the SHELL instruction",
    references: &["https://docs.docker.com/build/building/best-practices/#using-pipes"],
};

pub fn pipefail(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for si in 0..df.stages.len() {
        let mut shell_ok = false;
        for i in df.stage_instrs(si) {
            match i.cmd.as_str() {
                "shell" => {
                    let first = i
                        .value
                        .first()
                        .map(|s| basename(s).to_ascii_lowercase())
                        .unwrap_or_default();
                    shell_ok = NON_POSIX.iter().any(|n| first.starts_with(n))
                        || (PIPEFAIL_SHELLS.contains(&first.as_str()) && sets_pipefail(&i.value));
                }
                "run" if !shell_ok => {
                    // A script handed to another shell (`sh -c "a | b"`)
                    // has that shell's options, not this one's.
                    let cmds = run_commands(i);
                    let piped = cmds.iter().any(|c| c.piped && !c.nested);
                    let set = cmds
                        .iter()
                        .any(|c| !c.nested && c.first() == Some("set") && sets_pipefail(&c.words));
                    if piped && !set {
                        hits.push(Hit::at(
                            i,
                            "RUN instruction with a pipe should use 'set -o pipefail'",
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    Some(hits)
}

const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"];

pub static CSDS002: CheckInfo = CheckInfo {
    id: "CS-DS-002",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "Remote script piped into a shell",
    description: "'curl … | sh' runs whatever the server (or anyone in the path) returns, unverified, as root at build time; the build is neither reproducible nor auditable.",
    resolution: "Download the script or binary to a file, verify its checksum or signature, then run it; prefer a distribution package",
    references: &["https://docs.docker.com/build/building/best-practices/#run"],
};

pub fn curl_pipe_shell(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for (r, cmds) in runs(df) {
        let mut downloading = false;
        let mut found = None;
        for c in &cmds {
            let prog = c.program().map(|(p, _)| p).unwrap_or_default();
            if !c.piped {
                downloading = false;
            }
            if c.piped && downloading && SHELLS.contains(&prog.as_str()) {
                found = Some(prog.clone());
                break;
            }
            if prog == "curl" || prog == "wget" {
                downloading = true;
            }
        }
        // `sh -c "$(curl …)"`, `bash <(wget -O- …)`
        let text = r.command_text();
        if found.is_none() {
            for pat in ["$(curl", "$(wget", "<(curl", "<(wget", "`curl", "`wget"] {
                if let Some(pos) = text.find(pat) {
                    let before = text.get(..pos).unwrap_or_default();
                    let last_cmd = before
                        .rsplit(['&', ';', '|', '\n'])
                        .next()
                        .unwrap_or(before);
                    if let Some(sh) = crate::shell::words(last_cmd).first() {
                        if SHELLS.contains(&basename(sh)) {
                            found = Some(basename(sh).to_string());
                            break;
                        }
                    }
                }
            }
        }
        if let Some(sh) = found {
            hits.push(Hit::at(
                r,
                format!("A downloaded script is piped into '{sh}' without verification"),
            ));
        }
    }
    Some(hits)
}

/// Whether a chmod mode sets the setuid or setgid bit.
pub fn mode_sets_id_bits(mode: &str) -> bool {
    if !mode.is_empty() && mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        let digits = mode.trim_start_matches('0');
        // 4 significant digits: the first is suid(4)/sgid(2)/sticky(1).
        return digits.len() == 4
            && digits
                .bytes()
                .next()
                .is_some_and(|d| (d - b'0') & 0b110 != 0);
    }
    mode.split(',').any(|clause| {
        let who_end = clause.find(['+', '=']).unwrap_or(clause.len());
        let (who, perms) = clause.split_at(who_end);
        who.chars().all(|c| "ugoa".contains(c))
            && perms.starts_with(['+', '='])
            && perms.contains('s')
    })
}

pub static CSDS005: CheckInfo = CheckInfo {
    id: "CS-DS-005",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "setuid/setgid bit set at build time",
    description: "A setuid or setgid executable runs with its owner's or group's rights whatever user starts it; in a container it is a ready-made privilege escalation path.",
    resolution: "Do not set the setuid/setgid bits; give the binary the capability it needs, or run the process as the right user",
    references: &["https://man7.org/linux/man-pages/man1/chmod.1.html"],
};

pub fn chmod_setuid(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for (r, cmds) in runs(df) {
        for c in &cmds {
            let Some((p, args)) = c.program() else {
                continue;
            };
            if p == "chmod" {
                if let Some(m) = args
                    .iter()
                    .find(|a| !a.starts_with('-') || mode_sets_id_bits(a))
                {
                    if mode_sets_id_bits(m) {
                        hits.push(Hit::at(
                            r,
                            format!("'chmod {}' sets the setuid/setgid bit", args.join(" ")),
                        ));
                        break;
                    }
                }
            }
        }
    }
    for c in df
        .instrs
        .iter()
        .filter(|i| i.cmd == "copy" || i.cmd == "add")
    {
        if let Some(m) = c.flag("chmod") {
            if mode_sets_id_bits(m) {
                hits.push(Hit::at(
                    c,
                    format!("'--chmod={m}' sets the setuid/setgid bit"),
                ));
            }
        }
    }
    Some(hits)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    #[test]
    fn ds0010() {
        assert_eq!(
            hits(sudo, "FROM a:1\nRUN sudo apt-get install -y x\n"),
            vec![2]
        );
        assert_eq!(
            hits(sudo, "FROM a:1\nRUN make && sudo make install\n"),
            vec![2]
        );
        assert!(hits(sudo, "FROM a:1\nRUN apt-get install -y sudo\n").is_empty());
    }

    #[test]
    fn ds0013() {
        assert_eq!(hits(run_cd, "FROM a:1\nRUN cd /src && make\n"), vec![2]);
        assert!(hits(run_cd, "FROM a:1\nRUN make -C /src\n").is_empty());
        assert_eq!(
            hits(run_cd, "FROM a:1\nRUN apt-get update && cd /x && make\n"),
            vec![2]
        );
        // Local to a subshell, a branch, or after `;` in a longer script
        // (the official images' build-and-clean-up RUNs).
        for run in [
            "set -eux; ( cd /x && make ); rm -rf /x",
            "set -eux; if [ -d /x ]; then cd /x; fi",
            "set -eux; cd /usr/src/python; make; cd /",
            "su app -c 'cd /x && make'",
        ] {
            assert!(
                hits(run_cd, &format!("FROM a:1\nRUN {run}\n")).is_empty(),
                "{run}"
            );
        }
    }

    #[test]
    fn ds0014() {
        assert_eq!(
            hits(wget_and_curl, "FROM a:1\nRUN curl -O x\nRUN wget y\n"),
            vec![3]
        );
        assert!(hits(
            wget_and_curl,
            "FROM a:1\nRUN apt-get install -y curl wget && curl -O x\n"
        )
        .is_empty());
        // Inside `su -c "…"` and `sh -c '…'`.
        assert_eq!(
            hits(
                wget_and_curl,
                "FROM a:1\nRUN su app -c \"curl -fsSLO x\"\nRUN sh -c 'wget -q y'\n"
            ),
            vec![3]
        );
    }

    #[test]
    fn ds0024() {
        assert_eq!(
            hits(
                dist_upgrade,
                "FROM a:1\nRUN apt-get update && apt-get -y dist-upgrade\n"
            ),
            vec![2]
        );
        assert!(hits(dist_upgrade, "FROM a:1\nRUN apt-get -y upgrade\n").is_empty());
    }

    #[test]
    fn ds0032() {
        assert_eq!(hits(pipefail, "FROM a:1\nRUN curl x | tar xz\n"), vec![2]);
        assert!(hits(
            pipefail,
            "FROM a:1\nRUN set -eux -o pipefail; curl x | tar xz\n"
        )
        .is_empty());
        assert!(hits(
            pipefail,
            "FROM a:1\nRUN set -euo pipefail && curl x | tar xz\n"
        )
        .is_empty());
        assert!(hits(
            pipefail,
            "FROM a:1\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl x | tar xz\n"
        )
        .is_empty());
        assert!(hits(pipefail, "FROM a:1\nRUN a || b\n").is_empty());
        // `case` patterns, quotes and comments have no pipes.
        assert!(hits(
            pipefail,
            "FROM a:1\nRUN set -eux; \\\n\tcase \"$(uname -m)\" in \\\n\t\tx86_64|aarch64) a=1 ;; \\\n\t\t*) exit 1 ;; \\\n\tesac; \\\n\tgrep -E 'a|b' f # x | y\n"
        )
        .is_empty());
        // A pipe in a command substitution is a pipe of this shell.
        assert_eq!(
            hits(
                pipefail,
                "FROM a:1\nRUN v=\"$(dpkg --print-architecture | cut -d- -f1)\"\n"
            ),
            vec![2]
        );
    }

    #[test]
    fn csds002() {
        assert_eq!(
            hits(
                curl_pipe_shell,
                "FROM a:1\nRUN curl -fsSL https://x/install.sh | sh -s -- -y\n"
            ),
            vec![2]
        );
        assert_eq!(
            hits(
                curl_pipe_shell,
                "FROM a:1\nRUN wget -qO- https://x | sudo bash\n"
            ),
            vec![2]
        );
        assert_eq!(
            hits(
                curl_pipe_shell,
                "FROM a:1\nRUN sh -c \"$(curl -fsSL https://x)\"\n"
            ),
            vec![2]
        );
        assert_eq!(
            hits(curl_pipe_shell, "FROM a:1\nRUN bash <(curl -s https://x)\n"),
            vec![2]
        );
        assert!(hits(
            curl_pipe_shell,
            "FROM a:1\nRUN curl -fsSLo /tmp/i.sh https://x && sha256sum -c s && sh /tmp/i.sh\n"
        )
        .is_empty());
        assert!(hits(
            curl_pipe_shell,
            "FROM a:1\nRUN curl -fsSL https://x | tar xz && echo | sh\n"
        )
        .is_empty());
    }

    #[test]
    fn csds005() {
        for m in [
            "u+s", "+s", "g+s", "ug+rws", "4755", "2755", "06755", "u=rwxs",
        ] {
            assert!(mode_sets_id_bits(m), "{m}");
        }
        for m in ["755", "0755", "1777", "u+x", "go-w", "a+r"] {
            assert!(!mode_sets_id_bits(m), "{m}");
        }
        assert_eq!(
            hits(chmod_setuid, "FROM a:1\nRUN chmod u+s /usr/bin/x\n"),
            vec![2]
        );
        assert_eq!(
            hits(chmod_setuid, "FROM a:1\nCOPY --chmod=4755 a /a\n"),
            vec![2]
        );
        assert!(hits(
            chmod_setuid,
            "FROM a:1\nRUN chmod -R 0755 /app && chmod g-s /x\n"
        )
        .is_empty());
    }
}
