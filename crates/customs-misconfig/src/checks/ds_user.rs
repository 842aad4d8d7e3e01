//! Checks on the user and the entrypoint of the final stage.

use customs_model::Severity;

use super::{DockerfileContext, Hit};
use crate::dockerfile::{Dockerfile, Instr};
use crate::registry::{CheckInfo, Scanner};
use crate::{shell, vars};

/// The last instruction `cmd` that applies to the final stage: its own, or
/// inherited through `FROM <earlier stage>`.
fn effective<'a>(df: &'a Dockerfile, cmd: &str) -> Option<&'a Instr> {
    let mut si = df.final_stage()?;
    loop {
        if let Some(i) = df.stage_instrs(si).filter(|i| i.cmd == cmd).last() {
            return Some(i);
        }
        let img = df.stages.get(si)?.image.as_deref()?;
        si = df.stages.iter().take(si).rposition(|s| {
            s.alias
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(img))
        })?;
    }
}

/// The `USER` value with the stage's variables substituted.
fn user_value(df: &Dockerfile, u: &Instr) -> Option<String> {
    let raw = u.value.first()?;
    let vars = df.stage_vars(u.stage.unwrap_or(0));
    vars::expand(raw, &|n| vars.get(n).cloned())
}

pub fn is_root_user(u: &str) -> bool {
    let user = u.split(':').next().unwrap_or(u);
    user == "root" || user == "0"
}

pub static DS0002: CheckInfo = CheckInfo {
    id: "DS-0002",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "Image user should not be 'root'",
    description: "Running containers with 'root' user can lead to a container escape situation. It is a best practice to run containers as non-root users, which can be done by adding a 'USER' statement to the Dockerfile.",
    resolution: "Add 'USER <non root user name>' line to the Dockerfile",
    references: &["https://docs.docker.com/build/building/best-practices/#user"],
};

pub fn root_user(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let Some(u) = effective(df, "user") else {
        let msg = if df.all("user").next().is_some() {
            "The final stage has no USER command; it runs as the base image's user (usually root)"
        } else {
            "Specify at least 1 USER command in Dockerfile with non-root user as argument"
        };
        return Some(vec![Hit::file(msg)]);
    };
    let v = user_value(df, u).unwrap_or_default();
    if is_root_user(&v) {
        return Some(vec![Hit::at(
            u,
            "Last USER command in Dockerfile should not be 'root'",
        )]);
    }
    Some(vec![])
}

pub static CSDS006: CheckInfo = CheckInfo {
    id: "CS-DS-006",
    scanner: Scanner::Dockerfile,
    severity: Severity::Low,
    title: "USER given by name instead of numeric UID:GID",
    description: "A user name is resolved through the image's /etc/passwd at run time, so the platform cannot verify that it is non-root (Kubernetes 'runAsNonRoot' rejects named users) and the UID may change between base image versions. A fixed numeric UID and GID make file ownership and policies predictable.",
    resolution: "Create the user with a fixed UID/GID and refer to it numerically, e.g. 'USER 10001:10001'",
    references: &["https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"],
};

pub fn user_numeric(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let Some(u) = effective(df, "user") else {
        return Some(vec![]);
    };
    let Some(v) = user_value(df, u) else {
        return Some(vec![]);
    };
    if is_root_user(&v) {
        // DS-0002 reports root.
        return Some(vec![]);
    }
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (user, group) = match v.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (v.as_str(), None),
    };
    if !numeric(user) {
        return Some(vec![Hit::at(
            u,
            format!("USER '{v}' is a name; use a numeric UID:GID"),
        )]);
    }
    if !group.is_some_and(numeric) {
        return Some(vec![Hit::at(
            u,
            format!("USER '{v}' has no numeric group; use UID:GID"),
        )]);
    }
    Some(vec![])
}

/// Programs that run as PID 1 to reap zombies and forward signals.
pub const INITS: &[&str] = &[
    "tini",
    "tini-static",
    "dumb-init",
    "s6-svscan",
    "catatonit",
    "docker-init",
    "init",
    "runsvdir",
    "supervisord",
];

/// Whether a command line (exec-form words) starts with an init.
pub fn starts_with_init(words: &[String]) -> bool {
    words
        .iter()
        .find(|w| !w.contains('='))
        .is_some_and(|w| INITS.contains(&shell::basename(w)))
}

pub static CSDS007: CheckInfo = CheckInfo {
    id: "CS-DS-007",
    scanner: Scanner::Dockerfile,
    severity: Severity::Low,
    title: "No init process in ENTRYPOINT",
    description: "The process that runs as PID 1 must reap zombie processes and forward signals; most applications do neither, so containers leak processes and ignore SIGTERM until they are killed. A tiny init (tini, dumb-init, s6) as ENTRYPOINT does both.",
    resolution: "Install tini (or dumb-init) and use ENTRYPOINT [\"/sbin/tini\", \"--\", ...], or run the container with 'docker run --init' / a platform equivalent",
    references: &["https://github.com/krallin/tini", "https://docs.docker.com/reference/cli/docker/container/run/#init"],
};

pub fn init_entrypoint(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let Some(e) = effective(df, "entrypoint") else {
        return Some(vec![Hit::file(
            "The final stage has no ENTRYPOINT running an init (tini, dumb-init, s6); PID 1 will not reap zombies or forward signals",
        )]);
    };
    let words = if e.json {
        e.value.clone()
    } else {
        shell::words(&e.command_text())
    };
    if starts_with_init(&words) {
        return Some(vec![]);
    }
    Some(vec![Hit::at(
        e,
        format!(
            "ENTRYPOINT '{}' does not start an init (tini, dumb-init, s6)",
            words.join(" ")
        ),
    )])
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    #[test]
    fn ds0002() {
        assert_eq!(hits(root_user, "FROM a:1\nRUN x\n"), vec![0]);
        assert_eq!(
            hits(root_user, "FROM a:1\nUSER app\nUSER root:root\n"),
            vec![3]
        );
        assert_eq!(hits(root_user, "FROM a:1\nUSER 0\n"), vec![2]);
        assert!(hits(root_user, "FROM a:1\nUSER 10001:10001\n").is_empty());
        // USER only in a builder stage: the final stage is root.
        assert_eq!(
            hits(root_user, "FROM a:1 AS b\nUSER app\nFROM c:1\n"),
            vec![0]
        );
        // Inherited through an earlier stage.
        assert!(hits(root_user, "FROM a:1 AS b\nUSER app\nFROM b\nRUN x\n").is_empty());
        // Variable.
        assert_eq!(hits(root_user, "FROM a:1\nARG U=root\nUSER $U\n"), vec![3]);
    }

    #[test]
    fn csds006() {
        assert_eq!(hits(user_numeric, "FROM a:1\nUSER app\n"), vec![2]);
        assert_eq!(hits(user_numeric, "FROM a:1\nUSER 1000\n"), vec![2]);
        assert!(hits(user_numeric, "FROM a:1\nUSER 1000:1000\n").is_empty());
        assert!(hits(
            user_numeric,
            "FROM a:1\nARG UID=10001\nUSER ${UID}:${UID}\n"
        )
        .is_empty());
    }

    #[test]
    fn csds007() {
        assert_eq!(hits(init_entrypoint, "FROM a:1\nCMD [\"app\"]\n"), vec![0]);
        assert_eq!(
            hits(init_entrypoint, "FROM a:1\nENTRYPOINT [\"/app\"]\n"),
            vec![2]
        );
        assert!(hits(
            init_entrypoint,
            "FROM a:1\nENTRYPOINT [\"/sbin/tini\", \"--\"]\n"
        )
        .is_empty());
        assert!(hits(init_entrypoint, "FROM a:1\nENTRYPOINT dumb-init /app\n").is_empty());
    }
}
