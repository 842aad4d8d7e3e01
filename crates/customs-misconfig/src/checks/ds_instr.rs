//! Checks on single instructions: EXPOSE, ADD, COPY, WORKDIR, CMD,
//! ENTRYPOINT, HEALTHCHECK, MAINTAINER.

use customs_model::Severity;

use super::{DockerfileContext, Hit};
use crate::dockerfile::{unquote, Dockerfile, Instr};
use crate::registry::{CheckInfo, Scanner};
use crate::vars;

/// EXPOSE arguments with the stage's variables substituted (unresolved ones
/// are skipped).
fn exposed(df: &Dockerfile) -> Vec<(&Instr, String)> {
    let mut out = Vec::new();
    for e in df.all("expose") {
        let vars = df.stage_vars(e.stage.unwrap_or(0));
        for p in &e.value {
            if let Some(v) = vars::expand(p, &|n| vars.get(n).cloned()) {
                out.push((e, v));
            }
        }
    }
    out
}

/// Port numbers of `8080`, `8080/tcp`, `8000-8010/udp` (`None` if not numeric).
pub fn port_numbers(spec: &str) -> Option<Vec<u64>> {
    let p = spec.split('/').next().unwrap_or(spec);
    p.split('-').map(|x| x.trim().parse::<u64>().ok()).collect()
}

pub static DS0004: CheckInfo = CheckInfo {
    id: "DS-0004",
    scanner: Scanner::Dockerfile,
    severity: Severity::Medium,
    title: "Port 22 exposed",
    description: "Exposing port 22 might allow users to SSH into the container.",
    resolution: "Remove 'EXPOSE 22' statement from the Dockerfile",
    references: &["https://docs.docker.com/reference/dockerfile/#expose"],
};

pub fn port_22(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(
        exposed(df)
            .into_iter()
            .filter(|(_, p)| matches!(p.as_str(), "22" | "22/tcp" | "22/udp"))
            .map(|(e, _)| Hit::at(e, "Port 22 should not be exposed in Dockerfile"))
            .collect(),
    )
}

pub static DS0008: CheckInfo = CheckInfo {
    id: "DS-0008",
    scanner: Scanner::Dockerfile,
    severity: Severity::Critical,
    title: "Exposed port out of range",
    description: "UNIX ports outside the range 0-65535 are exposed.",
    resolution: "Use port number within range",
    references: &["https://docs.docker.com/reference/dockerfile/#expose"],
};

pub fn port_out_of_range(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for (e, p) in exposed(df) {
        for n in port_numbers(&p).unwrap_or_default() {
            if n > 65535 {
                hits.push(Hit::at(
                    e,
                    format!("'EXPOSE' contains port which is out of range [0, 65535]: {n}"),
                ));
            }
        }
    }
    Some(hits)
}

/// `ADD file:<hash> in /` lines of rebuilt image histories.
fn is_hash_form(v: &[String]) -> bool {
    v.first()
        .is_some_and(|s| s.starts_with("file:") || s.starts_with("multi:") || s.starts_with("dir:"))
        && (v.len() == 2 || v.get(1).is_some_and(|s| s == "in"))
}

pub static DS0005: CheckInfo = CheckInfo {
    id: "DS-0005",
    scanner: Scanner::Dockerfile,
    severity: Severity::Low,
    title: "ADD instead of COPY",
    description: "You should use COPY instead of ADD unless you want to extract a tar file. Note that an ADD command will extract a tar file, which adds the risk of Zip-based vulnerabilities. Accordingly, it is advised to use a COPY command, which does not extract tar files.",
    resolution: "Use COPY instead of ADD",
    references: &["https://docs.docker.com/reference/dockerfile/#add"],
};

pub fn add_instead_of_copy(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for a in df.all("add") {
        let args = a.value.join(" ");
        let needed = [".tar", "http://", "https://", "git@"]
            .iter()
            .any(|s| args.contains(s));
        if !needed && !is_hash_form(&a.value) {
            hits.push(Hit::at(
                a,
                format!("Consider using 'COPY {args}' command instead of 'ADD {args}'"),
            ));
        }
    }
    Some(hits)
}

pub static CSDS011: CheckInfo = CheckInfo {
    id: "CS-DS-011",
    scanner: Scanner::Dockerfile,
    severity: Severity::Medium,
    title: "ADD of a remote URL without --checksum",
    description: "ADD fetches a remote URL at build time and trusts whatever the server returns; a compromised or changed download silently ends up in the image.",
    resolution: "Add '--checksum=sha256:<digest>' to the ADD instruction, or download in a RUN step and verify the checksum there",
    references: &["https://docs.docker.com/reference/dockerfile/#add---checksum"],
};

pub fn add_remote_checksum(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for a in df.all("add") {
        if a.flag("checksum").is_some_and(|c| !c.is_empty()) {
            continue;
        }
        let n = a.value.len().saturating_sub(1);
        for src in a.value.iter().take(n) {
            if src.starts_with("http://") || src.starts_with("https://") {
                hits.push(Hit::at(a, format!("ADD of '{src}' has no --checksum")));
            }
        }
    }
    Some(hits)
}

pub static DS0011: CheckInfo = CheckInfo {
    id: "DS-0011",
    scanner: Scanner::Dockerfile,
    severity: Severity::Critical,
    title: "COPY with more than two arguments not ending with slash",
    description:
        "When a COPY command has more than two arguments, the last one should end with a slash.",
    resolution: "Add slash to last COPY argument",
    references: &["https://docs.docker.com/reference/dockerfile/#copy"],
};

pub fn copy_dest_slash(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for c in df.all("copy") {
        if c.value.len() > 2 && !is_hash_form(&c.value) {
            if let Some(dest) = c.value.last() {
                if !dest.ends_with('/') {
                    hits.push(Hit::at(
                        c,
                        format!("Slash is expected at the end of COPY command argument '{dest}'"),
                    ));
                }
            }
        }
    }
    Some(hits)
}

/// Per stage, the instructions `cmd` beyond the first.
fn duplicates_per_stage<'a>(df: &'a Dockerfile, cmd: &'a str) -> Vec<(usize, Vec<&'a Instr>)> {
    (0..df.stages.len())
        .map(|si| {
            (
                si,
                df.stage_instrs(si)
                    .filter(|i| i.cmd == cmd)
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, v)| v.len() > 1)
        .collect()
}

pub static DS0007: CheckInfo = CheckInfo {
    id: "DS-0007",
    scanner: Scanner::Dockerfile,
    severity: Severity::Critical,
    title: "Multiple ENTRYPOINT instructions listed",
    description: "There can only be one ENTRYPOINT instruction in a Dockerfile. Only the last ENTRYPOINT instruction in the Dockerfile will have an effect.",
    resolution: "Remove unnecessary ENTRYPOINT instruction.",
    references: &["https://docs.docker.com/reference/dockerfile/#entrypoint"],
};

pub fn multiple_entrypoint(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(
        duplicates_per_stage(df, "entrypoint")
            .into_iter()
            .filter_map(|(_, v)| {
                let n = v.len();
                v.get(1).map(|i| {
                    Hit::at(
                        i,
                        format!("There are {n} duplicate ENTRYPOINT instructions"),
                    )
                })
            })
            .collect(),
    )
}

pub static DS0016: CheckInfo = CheckInfo {
    id: "DS-0016",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "Multiple CMD instructions listed",
    description: "There can only be one CMD instruction in a Dockerfile. If you list more than one CMD then only the last CMD will take effect.",
    resolution: "Dockerfile should only have one CMD instruction. Remove all the other CMD instructions",
    references: &["https://docs.docker.com/reference/dockerfile/#cmd"],
};

pub fn multiple_cmd(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(
        duplicates_per_stage(df, "cmd")
            .into_iter()
            .filter_map(|(_, v)| {
                let n = v.len();
                v.get(1)
                    .map(|i| Hit::at(i, format!("There are {n} duplicate CMD instructions")))
            })
            .collect(),
    )
}

pub static DS0023: CheckInfo = CheckInfo {
    id: "DS-0023",
    scanner: Scanner::Dockerfile,
    severity: Severity::Medium,
    title: "Multiple HEALTHCHECK defined",
    description:
        "Providing more than one HEALTHCHECK instruction per stage is confusing and error-prone.",
    resolution:
        "One HEALTHCHECK instruction must remain in Dockerfile. Remove all other instructions.",
    references: &["https://docs.docker.com/reference/dockerfile/#healthcheck"],
};

pub fn multiple_healthcheck(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(
        duplicates_per_stage(df, "healthcheck")
            .into_iter()
            .filter_map(|(_, v)| {
                let n = v.len();
                v.get(1).map(|i| {
                    Hit::at(
                        i,
                        format!("There are {n} duplicate HEALTHCHECK instructions in the stage"),
                    )
                })
            })
            .collect(),
    )
}

pub static DS0026: CheckInfo = CheckInfo {
    id: "DS-0026",
    scanner: Scanner::Dockerfile,
    severity: Severity::Low,
    title: "No HEALTHCHECK defined",
    description: "You should add HEALTHCHECK instruction in your docker container images to perform the health check on running containers.",
    resolution: "Add HEALTHCHECK instruction in Dockerfile",
    references: &["https://docs.docker.com/reference/dockerfile/#healthcheck"],
};

pub fn no_healthcheck(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    if df.all("healthcheck").next().is_some() {
        return Some(vec![]);
    }
    Some(vec![Hit::file(
        "Add HEALTHCHECK instruction in your Dockerfile",
    )])
}

pub static DS0022: CheckInfo = CheckInfo {
    id: "DS-0022",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "Deprecated MAINTAINER used",
    description: "MAINTAINER has been deprecated since Docker 1.13.0.",
    resolution: "Use LABEL instead of MAINTAINER",
    references: &["https://docs.docker.com/engine/deprecated/#maintainer-in-dockerfile"],
};

pub fn maintainer(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(
        df.all("maintainer")
            .map(|m| {
                Hit::at(
                    m,
                    format!(
                        "MAINTAINER should not be used: 'MAINTAINER {}'",
                        m.value.join(" ")
                    ),
                )
            })
            .collect(),
    )
}

pub static DS0009: CheckInfo = CheckInfo {
    id: "DS-0009",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "WORKDIR path not absolute",
    description:
        "For clarity and reliability, you should always use absolute paths for your WORKDIR.",
    resolution: "Use absolute paths for your WORKDIR",
    references: &["https://docs.docker.com/build/building/best-practices/#workdir"],
};

pub fn workdir_relative(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for w in df.all("workdir") {
        let arg = w.value.first().map(String::as_str).unwrap_or_default();
        let p = unquote(arg);
        let b = p.as_bytes();
        let windows = b.len() >= 3
            && b.first().is_some_and(u8::is_ascii_alphabetic)
            && b.get(1) == Some(&b':')
            && matches!(b.get(2), Some(b'\\') | Some(b'/'));
        if !(p.starts_with('/') || p.starts_with('$') || windows) {
            hits.push(Hit::at(
                w,
                format!("WORKDIR path '{arg}' should be absolute"),
            ));
        }
    }
    Some(hits)
}

pub static DS0030: CheckInfo = CheckInfo {
    id: "DS-0030",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "WORKDIR should not be mounted on system dirs",
    description: "WORKDIR should not be mounted on system directories to avoid container breakouts",
    resolution: "Avoid using system directories to mount WORKDIR",
    references: &["https://docs.docker.com/build/building/best-practices/#workdir"],
};

pub fn workdir_sysdir(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for w in df.all("workdir") {
        let arg = w.value.first().map(String::as_str).unwrap_or_default();
        let p = unquote(arg);
        let sys = ["/proc", "/boot", "/dev", "/initrd", "/lost+found"]
            .iter()
            .any(|d| p == *d || p.strip_prefix(d).is_some_and(|r| r.starts_with('/')));
        if sys {
            hits.push(Hit::at(
                w,
                format!("WORKDIR path '{arg}' should not mount system directories"),
            ));
        }
    }
    Some(hits)
}

pub static CSDS009: CheckInfo = CheckInfo {
    id: "CS-DS-009",
    scanner: Scanner::Dockerfile,
    severity: Severity::Medium,
    title: "Whole build context copied without a .dockerignore",
    description: "'COPY . .' without a .dockerignore copies everything in the build context into the image: .git, local .env files, credentials, build outputs and editor leftovers.",
    resolution: "Add a .dockerignore beside the Dockerfile (exclude .git, .env, secrets, build outputs), or copy only the files the image needs",
    references: &["https://docs.docker.com/build/concepts/context/#dockerignore-files"],
};

pub fn copy_all_no_dockerignore(df: &Dockerfile, ctx: &DockerfileContext) -> Option<Vec<Hit>> {
    if ctx.from_history {
        return None;
    }
    if ctx.dockerignore? {
        return Some(vec![]);
    }
    let mut hits = Vec::new();
    for c in df
        .instrs
        .iter()
        .filter(|i| i.cmd == "copy" || i.cmd == "add")
    {
        if c.flag("from").is_some() {
            continue;
        }
        let n = c.value.len().saturating_sub(1);
        if c.value
            .iter()
            .take(n)
            .any(|s| matches!(s.as_str(), "." | "./" | "./." | "*" | "./*"))
        {
            hits.push(Hit::at(
                c,
                format!(
                    "'{} {}' copies the whole build context and there is no .dockerignore",
                    c.cmd.to_uppercase(),
                    c.value.join(" ")
                ),
            ));
        }
    }
    Some(hits)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    #[test]
    fn ds0004_ds0008() {
        assert_eq!(hits(port_22, "FROM a:1\nEXPOSE 80 22/tcp\n"), vec![2]);
        assert_eq!(hits(port_22, "FROM a:1\nARG P=22\nEXPOSE $P\n"), vec![3]);
        assert!(hits(port_22, "FROM a:1\nEXPOSE 2222\n").is_empty());
        assert_eq!(
            hits(port_out_of_range, "FROM a:1\nEXPOSE 65536/udp\n"),
            vec![2]
        );
        assert_eq!(
            hits(port_out_of_range, "FROM a:1\nEXPOSE 60000-70000\n"),
            vec![2]
        );
        assert!(hits(port_out_of_range, "FROM a:1\nEXPOSE 65535 ${X}\n").is_empty());
    }

    #[test]
    fn ds0005_csds011() {
        assert_eq!(
            hits(add_instead_of_copy, "FROM a:1\nADD app.py /app/\n"),
            vec![2]
        );
        assert!(hits(
            add_instead_of_copy,
            "FROM a:1\nADD rootfs.tar.gz /\nADD https://x/y /y\n"
        )
        .is_empty());
        assert!(hits(add_instead_of_copy, "FROM a:1\nADD file:abc in /\n").is_empty());
        assert_eq!(
            hits(add_remote_checksum, "FROM a:1\nADD https://x/y.tgz /y\n"),
            vec![2]
        );
        assert!(hits(
            add_remote_checksum,
            "FROM a:1\nADD --checksum=sha256:00 https://x/y /y\n"
        )
        .is_empty());
    }

    #[test]
    fn ds0011() {
        assert_eq!(hits(copy_dest_slash, "FROM a:1\nCOPY a b /dir\n"), vec![2]);
        assert!(hits(copy_dest_slash, "FROM a:1\nCOPY a b /dir/\nCOPY a /file\n").is_empty());
    }

    #[test]
    fn duplicates() {
        assert_eq!(
            hits(
                multiple_entrypoint,
                "FROM a:1\nENTRYPOINT a\nENTRYPOINT b\n"
            ),
            vec![3]
        );
        assert!(hits(
            multiple_entrypoint,
            "FROM a:1\nENTRYPOINT a\nFROM b:1\nENTRYPOINT b\n"
        )
        .is_empty());
        assert_eq!(
            hits(multiple_cmd, "FROM a:1\nCMD a\nCMD b\nCMD c\n"),
            vec![3]
        );
        assert!(hits(multiple_cmd, "FROM a:1\nCMD a\n").is_empty());
        assert_eq!(
            hits(
                multiple_healthcheck,
                "FROM a:1\nHEALTHCHECK CMD a\nHEALTHCHECK NONE\n"
            ),
            vec![3]
        );
    }

    #[test]
    fn ds0026_ds0022() {
        assert_eq!(hits(no_healthcheck, "FROM a:1\n"), vec![0]);
        assert!(hits(
            no_healthcheck,
            "FROM a:1\nHEALTHCHECK --interval=5s CMD wget -q localhost\n"
        )
        .is_empty());
        assert_eq!(
            hits(maintainer, "FROM a:1\nMAINTAINER me <me@x>\n"),
            vec![2]
        );
        assert!(hits(maintainer, "FROM a:1\nLABEL maintainer=me\n").is_empty());
    }

    #[test]
    fn workdirs() {
        assert_eq!(hits(workdir_relative, "FROM a:1\nWORKDIR app\n"), vec![2]);
        assert!(hits(
            workdir_relative,
            "FROM a:1\nWORKDIR /app\nWORKDIR $HOME\nWORKDIR C:\\\\app\nWORKDIR \"/x y\"\n"
        )
        .is_empty());
        assert_eq!(
            hits(
                workdir_sysdir,
                "FROM a:1\nWORKDIR /proc/self\nWORKDIR /dev\n"
            ),
            vec![2, 3]
        );
        assert!(hits(workdir_sysdir, "FROM a:1\nWORKDIR /development\n").is_empty());
    }

    #[test]
    fn csds009() {
        let no = DockerfileContext {
            dockerignore: Some(false),
            ..Default::default()
        };
        let yes = DockerfileContext {
            dockerignore: Some(true),
            ..Default::default()
        };
        let t = "FROM a:1 AS b\nCOPY . .\nFROM c:1\nCOPY --from=b . .\n";
        assert_eq!(hits_ctx(copy_all_no_dockerignore, t, &no), vec![2]);
        assert!(hits_ctx(copy_all_no_dockerignore, t, &yes).is_empty());
        let d = parse(t);
        assert!(copy_all_no_dockerignore(&d, &DockerfileContext::default()).is_none());
    }
}
