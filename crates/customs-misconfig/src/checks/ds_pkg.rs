//! Checks on package-manager use in `RUN`: caches, lists, prompts,
//! recommends, and toolchains left in the final stage.

use customs_model::Severity;

use super::{has_flag, positional, run_commands, runs, subcommand, DockerfileContext, Hit};
use crate::dockerfile::{Dockerfile, Instr};
use crate::registry::{CheckInfo, Scanner};
use crate::shell::SimpleCmd;

const BP: &str = "https://docs.docker.com/build/building/best-practices/#run";

/// One package-manager call in a RUN: program, sub-command, its arguments.
#[derive(Debug)]
struct PmCall<'a> {
    prog: String,
    sub: &'a str,
    args: &'a [String],
    all_args: &'a [String],
}

fn pm_calls(cmds: &[SimpleCmd]) -> Vec<PmCall<'_>> {
    cmds.iter()
        .filter_map(|c| {
            let (prog, all_args) = c.program()?;
            let (sub, args) = subcommand(all_args)?;
            Some(PmCall {
                prog,
                sub,
                args,
                all_args,
            })
        })
        .collect()
}

/// RUNs where `prog` installs (`install` ∈ `installs`) and no
/// `prog clean <what>` follows the last install.
fn missing_clean(
    df: &Dockerfile,
    prog: &str,
    installs: &[&str],
    clean: &[&str],
    clean_arg: Option<&str>,
    what: &str,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (r, cmds) in runs(df) {
        let calls = pm_calls(&cmds);
        let last_install = calls
            .iter()
            .rposition(|c| c.prog == prog && installs.contains(&c.sub));
        let Some(li) = last_install else { continue };
        let cleaned = calls.iter().skip(li + 1).any(|c| {
            c.prog == prog
                && clean.contains(&c.sub)
                && clean_arg.is_none_or(|a| c.args.iter().any(|x| x == a))
        });
        if !cleaned {
            hits.push(Hit::at(
                r,
                format!("'{what}' is missed: {}", r.command_text()),
            ));
        }
    }
    hits
}

pub static DS0015: CheckInfo = CheckInfo {
    id: "DS-0015",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "'yum clean all' missing",
    description: "You should use 'yum clean all' after using a 'yum install' command to clean package cached data and reduce image size.",
    resolution: "Add 'yum clean all' to Dockerfile",
    references: &[BP],
};

pub fn yum_clean(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(missing_clean(
        df,
        "yum",
        &["install", "groupinstall", "localinstall"],
        &["clean"],
        Some("all"),
        "yum clean all",
    ))
}

pub static DS0019: CheckInfo = CheckInfo {
    id: "DS-0019",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "'dnf clean all' missing",
    description: "Cached package data should be cleaned after installation to reduce image size.",
    resolution: "Add 'dnf clean all' to Dockerfile",
    references: &[BP],
};

pub fn dnf_clean(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(missing_clean(
        df,
        "dnf",
        &[
            "install",
            "in",
            "reinstall",
            "rei",
            "install-n",
            "install-na",
            "install-nevra",
        ],
        &["clean"],
        Some("all"),
        "dnf clean all",
    ))
}

pub static DS0027: CheckInfo = CheckInfo {
    id: "DS-0027",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "'microdnf clean all' missing",
    description: "Cached package data should be cleaned after installation to reduce image size.",
    resolution: "Add 'microdnf clean all' to Dockerfile",
    references: &[BP],
};

pub fn microdnf_clean(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(missing_clean(
        df,
        "microdnf",
        &["install", "reinstall"],
        &["clean"],
        Some("all"),
        "microdnf clean all",
    ))
}

pub static DS0020: CheckInfo = CheckInfo {
    id: "DS-0020",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "'zypper clean' missing",
    description: "The layer and image size should be reduced by deleting unneeded caches after running zypper.",
    resolution: "Add 'zypper clean' to Dockerfile",
    references: &[BP],
};

pub fn zypper_clean(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(missing_clean(
        df,
        "zypper",
        &[
            "in",
            "install",
            "remove",
            "rm",
            "source-install",
            "si",
            "patch",
        ],
        &["clean", "cc"],
        None,
        "zypper clean",
    ))
}

pub static DS0017: CheckInfo = CheckInfo {
    id: "DS-0017",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "'RUN <package-manager> update' instruction alone",
    description: "The instruction 'RUN <package-manager> update' should always be followed by '<package-manager> install' in the same RUN statement.",
    resolution: "Combine '<package-manager> update' and '<package-manager> install' instructions to single one",
    references: &["https://docs.docker.com/build/building/best-practices/#apt-get"],
};

pub fn update_alone(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    const FAMILIES: &[&[&str]] = &[
        &["apt-get", "apt"],
        &["yum"],
        &["apk"],
        &["dnf"],
        &["zypper"],
    ];
    const INSTALLS: &[&str] = &[
        "upgrade",
        "install",
        "source-install",
        "reinstall",
        "groupinstall",
        "localinstall",
        "add",
    ];
    let mut hits = Vec::new();
    for (r, cmds) in runs(df) {
        let calls = pm_calls(&cmds);
        let alone = FAMILIES.iter().any(|fam| {
            let first_update = calls
                .iter()
                .position(|c| fam.contains(&c.prog.as_str()) && matches!(c.sub, "update" | "up"));
            first_update.is_some_and(|u| {
                !calls
                    .iter()
                    .skip(u + 1)
                    .any(|c| fam.contains(&c.prog.as_str()) && INSTALLS.contains(&c.sub))
            })
        });
        if alone {
            hits.push(Hit::at(
                r,
                "The instruction 'RUN <package-manager> update' should always be followed by '<package-manager> install' in the same RUN statement.",
            ));
        }
    }
    Some(hits)
}

fn apt_get_installs(df: &Dockerfile) -> Vec<(&Instr, String, Vec<String>)> {
    let mut out = Vec::new();
    for (r, cmds) in runs(df) {
        for c in pm_calls(&cmds) {
            if c.prog == "apt-get" && c.sub == "install" {
                out.push((r, r.command_text(), c.all_args.to_vec()));
            }
        }
    }
    out
}

pub static DS0021: CheckInfo = CheckInfo {
    id: "DS-0021",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "'apt-get' missing '-y' to avoid manual input",
    description: "'apt-get' calls should use the flag '-y' to avoid manual user input.",
    resolution: "Add '-y' flag to 'apt-get'",
    references: &[BP],
};

pub fn apt_yes(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(
        apt_get_installs(df)
            .into_iter()
            .filter(|(_, _, args)| !has_flag(args, Some('y'), &["--yes", "--assume-yes"]))
            .map(|(r, text, _)| Hit::at(r, format!("'-y' flag is missed: '{text}'")))
            .collect(),
    )
}

pub static DS0029: CheckInfo = CheckInfo {
    id: "DS-0029",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "'apt-get' missing '--no-install-recommends'",
    description: "'apt-get' install should use '--no-install-recommends' to minimize image size.",
    resolution: "Add '--no-install-recommends' flag to 'apt-get'",
    references: &[BP],
};

pub fn apt_no_recommends(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    Some(
        apt_get_installs(df)
            .into_iter()
            .filter(|(_, _, args)| {
                !has_flag(args, None, &["--no-install-recommends"])
                    && !args.iter().any(|a| {
                        a.contains("Install-Recommends=false") || a.contains("Install-Recommends=0")
                    })
            })
            .map(|(r, text, _)| {
                Hit::at(
                    r,
                    format!("'--no-install-recommends' flag is missed: '{text}'"),
                )
            })
            .collect(),
    )
}

/// Whether the RUN has a cache mount whose target starts with `prefix`.
fn cache_mount(r: &Instr, prefix: &str) -> bool {
    r.mounts().any(|m| {
        m.contains("type=cache")
            && m.split(',').any(|kv| {
                kv.split_once('=').is_some_and(|(k, v)| {
                    matches!(k, "target" | "dst" | "destination") && v.starts_with(prefix)
                })
            })
    })
}

pub static DS0025: CheckInfo = CheckInfo {
    id: "DS-0025",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "'apk add' is missing '--no-cache'",
    description: "You should use 'apk add' with '--no-cache' to clean package cached data and reduce image size.",
    resolution: "Add '--no-cache' to 'apk add' in Dockerfile",
    references: &["https://github.com/gliderlabs/docker-alpine/blob/master/docs/usage.md#disabling-cache"],
};

pub fn apk_no_cache(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for (r, cmds) in runs(df) {
        if cache_mount(r, "/var/cache/apk") || cache_mount(r, "/etc/apk/cache") {
            continue;
        }
        let missing = pm_calls(&cmds).iter().any(|c| {
            c.prog == "apk" && c.sub == "add" && !has_flag(c.all_args, None, &["--no-cache"])
        });
        if missing {
            hits.push(Hit::at(
                r,
                format!("'--no-cache' is missed: {}", r.command_text()),
            ));
        }
    }
    Some(hits)
}

pub static CSDS003: CheckInfo = CheckInfo {
    id: "CS-DS-003",
    scanner: Scanner::Dockerfile,
    severity: Severity::Medium,
    title: "apt lists left after 'apt-get update'/'upgrade'",
    description: "'apt-get update' downloads the package lists into /var/lib/apt/lists; unless they are removed in the same RUN they stay in that layer for good (tens of MB), and stale lists invite later installs of outdated packages.",
    resolution: "End the RUN that runs 'apt-get update && apt-get upgrade/install' with 'rm -rf /var/lib/apt/lists/*' (or use a cache mount for /var/lib/apt)",
    references: &["https://docs.docker.com/build/building/best-practices/#apt-get"],
};

pub fn apt_lists_left(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for (r, cmds) in runs(df) {
        if cache_mount(r, "/var/lib/apt") {
            continue;
        }
        let calls = pm_calls(&cmds);
        let Some(first) = calls.iter().position(|c| {
            matches!(c.prog.as_str(), "apt-get" | "apt")
                && matches!(
                    c.sub,
                    "update" | "upgrade" | "dist-upgrade" | "full-upgrade"
                )
        }) else {
            continue;
        };
        let removed = cmds.iter().any(|c| {
            c.program().is_some_and(|(p, args)| {
                p == "rm" && positional(args).any(|a| a.starts_with("/var/lib/apt/lists"))
            })
        });
        if !removed {
            let sub = calls.get(first).map(|c| c.sub).unwrap_or("update");
            hits.push(Hit::at(
                r,
                format!("'apt-get {sub}' without 'rm -rf /var/lib/apt/lists/*' in the same RUN"),
            ));
        }
    }
    Some(hits)
}

pub static CSDS004: CheckInfo = CheckInfo {
    id: "CS-DS-004",
    scanner: Scanner::Dockerfile,
    severity: Severity::Low,
    title: "'pip install' without '--no-cache-dir'",
    description: "pip keeps downloaded wheels in ~/.cache/pip; in an image layer that cache is dead weight (often tens of MB).",
    resolution: "Use 'pip install --no-cache-dir', set 'ENV PIP_NO_CACHE_DIR=1', or use a cache mount for /root/.cache/pip",
    references: &["https://pip.pypa.io/en/stable/topics/caching/"],
};

pub fn pip_cache(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for (r, cmds) in runs(df) {
        if cache_mount(r, "/root/.cache")
            || r.mounts()
                .any(|m| m.contains("type=cache") && m.contains(".cache/pip"))
        {
            continue;
        }
        let env_off = r.stage.is_some_and(|si| {
            df.stage_vars(si).get("PIP_NO_CACHE_DIR").is_some_and(|v| {
                !matches!(v.to_ascii_lowercase().as_str(), "" | "0" | "false" | "no")
            })
        });
        if env_off {
            continue;
        }
        let missing = cmds.iter().any(|c| {
            c.program_or_module().is_some_and(|(p, args)| {
                (p == "pip"
                    || (p.starts_with("pip")
                        && p.chars().skip(3).all(|c| c.is_ascii_digit() || c == '.')))
                    && subcommand(args).is_some_and(|(s, _)| s == "install")
                    && !has_flag(args, None, &["--no-cache-dir"])
            })
        });
        if missing {
            hits.push(Hit::at(
                r,
                format!(
                    "'pip install' without '--no-cache-dir': {}",
                    r.command_text()
                ),
            ));
        }
    }
    Some(hits)
}

/// Packages that are compilers or build toolchains.
fn is_toolchain_pkg(name: &str) -> bool {
    let n = name.split(['=', ':']).next().unwrap_or(name);
    const EXACT: &[&str] = &[
        "build-essential",
        "build-base",
        "gcc",
        "g++",
        "gcc-c++",
        "clang",
        "llvm",
        "make",
        "cmake",
        "ninja-build",
        "golang",
        "golang-go",
        "go",
        "rustc",
        "rust",
        "cargo",
        "musl-dev",
        "libc6-dev",
        "glibc-devel",
        "autoconf",
        "automake",
        "libtool",
        "default-jdk",
        "maven",
        "gradle",
        "elixir",
        "erlang-dev",
        "nodejs-dev",
    ];
    EXACT.contains(&n)
        || (n.starts_with("gcc-")
            && n.get(4..)
                .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit())))
        || (n.starts_with("g++-")
            && n.get(4..)
                .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit())))
        || (n.starts_with("golang-") && n.ends_with("-go"))
        || (n.starts_with("openjdk") && n.ends_with("-jdk"))
        || (n.starts_with("java-") && n.ends_with("-devel"))
}

/// Base images that are build toolchains.
fn is_toolchain_image(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or(name);
    matches!(
        last,
        "golang" | "rust" | "gcc" | "buildpack-deps" | "maven" | "gradle" | "elixir" | "swift"
    ) || name.ends_with("dotnet/sdk")
}

pub static CSDS008: CheckInfo = CheckInfo {
    id: "CS-DS-008",
    scanner: Scanner::Dockerfile,
    severity: Severity::Medium,
    title: "Compilers or build toolchains in the final stage",
    description: "Compilers, make and SDKs in the image that ships give an attacker tools to build exploits in place, carry many more vulnerabilities, and make the image large. A multi-stage build compiles in a builder stage and copies only the artifacts into a slim runtime stage.",
    resolution: "Build in a separate stage ('FROM … AS build') and COPY --from=build only the artifacts into a runtime base image without toolchains; or remove the build packages in the same RUN that installed them",
    references: &["https://docs.docker.com/build/building/multi-stage/"],
};

pub fn toolchain_in_final(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let fs = df.final_stage()?;
    let mut hits = Vec::new();
    if let (Some(img), Some(from)) = (
        df.stages.get(fs).and_then(|s| s.image.as_deref()),
        df.stage_from(fs),
    ) {
        let name = super::ds_image::parse_ref(img).name;
        if !df.is_earlier_alias(img, fs) && is_toolchain_image(name) {
            hits.push(Hit::at(
                from,
                format!("The final stage is based on the toolchain image '{img}'"),
            ));
        }
    }
    // (package, RUN) installed in the final stage and not removed afterwards.
    let mut installed: Vec<(String, &Instr)> = Vec::new();
    let mut virtuals: Vec<(String, Vec<String>)> = Vec::new();
    for r in df.stage_instrs(fs).filter(|i| i.cmd == "run") {
        let cmds = run_commands(r);
        for c in pm_calls(&cmds) {
            let pkgs: Vec<String> = positional(c.args).map(str::to_string).collect();
            match (c.prog.as_str(), c.sub) {
                ("apk", "add") => {
                    let virt = c.args.windows(2).find_map(|w| match w {
                        [f, v] if f == "--virtual" || f == "-t" => Some(v.clone()),
                        _ => None,
                    });
                    let pkgs: Vec<String> = pkgs
                        .into_iter()
                        .filter(|p| Some(p) != virt.as_ref())
                        .collect();
                    if let Some(v) = virt {
                        virtuals.push((v, pkgs.clone()));
                    }
                    installed.extend(pkgs.into_iter().map(|p| (p, r)));
                }
                ("apt-get" | "apt" | "yum" | "dnf" | "microdnf" | "zypper", "install" | "in")
                | ("yum" | "dnf", "groupinstall") => {
                    installed.extend(pkgs.into_iter().map(|p| (p, r)));
                }
                ("apk", "del")
                | ("apt-get" | "apt", "purge" | "remove")
                | ("yum" | "dnf" | "microdnf", "remove" | "erase")
                | ("zypper", "rm" | "remove") => {
                    for p in &pkgs {
                        let gone: Vec<String> = virtuals
                            .iter()
                            .filter(|(v, _)| v == p)
                            .flat_map(|(_, ps)| ps.clone())
                            .chain(std::iter::once(p.clone()))
                            .collect();
                        installed.retain(|(i, _)| !gone.contains(i));
                    }
                }
                _ => {}
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (p, r) in installed {
        if is_toolchain_pkg(&p) && seen.insert(p.clone()) {
            hits.push(Hit::at(
                r,
                format!("Toolchain package '{p}' is installed in the final stage"),
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
    fn cleans() {
        assert_eq!(hits(yum_clean, "FROM a:1\nRUN yum install -y x\n"), vec![2]);
        assert!(hits(
            yum_clean,
            "FROM a:1\nRUN yum install -y x && yum clean all\n"
        )
        .is_empty());
        assert_eq!(
            hits(
                yum_clean,
                "FROM a:1\nRUN yum clean all && yum install -y x\n"
            ),
            vec![2]
        );
        assert_eq!(hits(dnf_clean, "FROM a:1\nRUN dnf -y install x\n"), vec![2]);
        assert!(hits(
            dnf_clean,
            "FROM a:1\nRUN dnf -y install x && dnf clean all\n"
        )
        .is_empty());
        assert_eq!(
            hits(microdnf_clean, "FROM a:1\nRUN microdnf install x\n"),
            vec![2]
        );
        assert!(hits(dnf_clean, "FROM a:1\nRUN microdnf install x\n").is_empty());
        assert!(hits(
            microdnf_clean,
            "FROM a:1\nRUN microdnf install x && microdnf clean all\n"
        )
        .is_empty());
        assert_eq!(
            hits(zypper_clean, "FROM a:1\nRUN zypper -n in x\n"),
            vec![2]
        );
        assert!(hits(
            zypper_clean,
            "FROM a:1\nRUN zypper -n in x && zypper cc -a\n"
        )
        .is_empty());
    }

    #[test]
    fn ds0017() {
        assert_eq!(
            hits(
                update_alone,
                "FROM a:1\nRUN apt-get update\nRUN apt-get install -y x\n"
            ),
            vec![2]
        );
        assert!(hits(
            update_alone,
            "FROM a:1\nRUN apt-get update && apt-get install -y x\n"
        )
        .is_empty());
        assert!(hits(update_alone, "FROM a:1\nRUN apk update && apk upgrade\n").is_empty());
        assert_eq!(hits(update_alone, "FROM a:1\nRUN yum update -y\n"), vec![2]);
        // The install inside a compound command of the same RUN.
        for run in [
            "apt-get update; for p in a b; do apt-get install -y --no-install-recommends \"$p\"; done",
            "apt-get update && if [ -n \"$X\" ]; then apt-get install -y x; fi",
            "set -eux; \\\n\tapt-get update; \\\n\tcase \"$a\" in \\\n\t\tamd64) apt-get install -y x ;; \\\n\tesac",
            "su -c 'apt-get update && apt-get install -y x'",
        ] {
            assert!(
                hits(update_alone, &format!("FROM a:1\nRUN {run}\n")).is_empty(),
                "{run}"
            );
        }
        assert_eq!(
            hits(
                update_alone,
                "FROM a:1\nRUN if true; then apt-get update; fi\n"
            ),
            vec![2]
        );
    }

    #[test]
    fn apt_flags() {
        assert_eq!(hits(apt_yes, "FROM a:1\nRUN apt-get install x\n"), vec![2]);
        assert!(hits(
            apt_yes,
            "FROM a:1\nRUN apt-get -qy install x && apt-get install x --yes\n"
        )
        .is_empty());
        assert_eq!(
            hits(apt_no_recommends, "FROM a:1\nRUN apt-get install -y x\n"),
            vec![2]
        );
        assert!(hits(
            apt_no_recommends,
            "FROM a:1\nRUN apt-get install -y --no-install-recommends x\n"
        )
        .is_empty());
    }

    #[test]
    fn ds0025() {
        assert_eq!(hits(apk_no_cache, "FROM a:1\nRUN apk add curl\n"), vec![2]);
        assert!(hits(apk_no_cache, "FROM a:1\nRUN apk add --no-cache curl\n").is_empty());
        assert!(hits(
            apk_no_cache,
            "FROM a:1\nRUN --mount=type=cache,target=/var/cache/apk apk add curl\n"
        )
        .is_empty());
    }

    #[test]
    fn csds003() {
        assert_eq!(
            hits(
                apt_lists_left,
                "FROM a:1\nRUN apt-get update && apt-get upgrade -y\n"
            ),
            vec![2]
        );
        assert!(hits(
            apt_lists_left,
            "FROM a:1\nRUN apt-get update && apt-get upgrade -y && rm -rf /var/lib/apt/lists/*\n"
        )
        .is_empty());
        assert!(hits(apt_lists_left, "FROM a:1\nRUN apt-get install -y x\n").is_empty());
    }

    #[test]
    fn csds004() {
        assert_eq!(
            hits(pip_cache, "FROM a:1\nRUN pip install -r r.txt\n"),
            vec![2]
        );
        assert_eq!(
            hits(pip_cache, "FROM a:1\nRUN python3 -m pip install x\n"),
            vec![2]
        );
        assert!(hits(pip_cache, "FROM a:1\nRUN pip3 install --no-cache-dir x\n").is_empty());
        assert!(hits(
            pip_cache,
            "FROM a:1\nENV PIP_NO_CACHE_DIR=1\nRUN pip install x\n"
        )
        .is_empty());
        assert!(hits(pip_cache, "FROM a:1\nRUN pipx --version\n").is_empty());
    }

    #[test]
    fn csds008() {
        assert_eq!(
            hits(toolchain_in_final, "FROM golang:1.22\nRUN go build\n"),
            vec![1]
        );
        assert!(hits(
            toolchain_in_final,
            "FROM golang:1.22 AS b\nFROM alpine:3.19\nCOPY --from=b /a /a\n"
        )
        .is_empty());
        assert_eq!(
            hits(toolchain_in_final, "FROM debian:12\nRUN apt-get install -y --no-install-recommends build-essential curl\n"),
            vec![2]
        );
        assert!(hits(
            toolchain_in_final,
            "FROM alpine:3.19\nRUN apk add --no-cache --virtual .build-deps gcc musl-dev && make && apk del .build-deps\n"
        )
        .is_empty());
        assert!(hits(
            toolchain_in_final,
            "FROM debian:12\nRUN apt-get install -y gcc && make && apt-get purge -y gcc\n"
        )
        .is_empty());
    }
}
