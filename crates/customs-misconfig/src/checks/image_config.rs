//! Checks on an image's config (user, healthcheck, ports, env, age) and on
//! its history rebuilt as Dockerfile instructions.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use customs_model::Severity;
use serde::{Deserialize, Serialize};

use super::ds_image::parse_ref;
use super::ds_secrets::{is_secret_name, is_secret_value};
use super::ds_user::is_root_user;
use crate::error::ConfigError;
use crate::registry::{CheckInfo, Scanner};

/// One entry of the image history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// `created_by`, e.g. `/bin/sh -c #(nop)  CMD ["sh"]` or
    /// `RUN /bin/sh -c apk add x # buildkit`.
    pub created_by: String,
    /// The entry made no filesystem layer (`empty_layer`).
    pub empty_layer: bool,
}

/// What the image-config checks need, as plain data. The image walker fills
/// it from the config JSON (or use [`ImageConfigInput::from_oci_config_json`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfigInput {
    /// `config.User` (empty = root).
    pub user: String,
    /// `config.Env`, `NAME=value` each.
    pub env: Vec<String>,
    /// `config.ExposedPorts` keys (`22/tcp`).
    pub exposed_ports: Vec<String>,
    /// `config.Healthcheck.Test` (`["CMD", ...]`, `["CMD-SHELL", "..."]`,
    /// `["NONE"]`), `None` when the config has no healthcheck.
    pub healthcheck: Option<Vec<String>>,
    pub labels: BTreeMap<String, String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `created` (RFC 3339).
    pub created: Option<String>,
    pub history: Vec<HistoryEntry>,
    /// The base image reference, when known (else the
    /// `org.opencontainers.image.base.name` label is used).
    pub base_image: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OciConfigFile {
    created: Option<String>,
    config: Option<OciConfig>,
    history: Option<Vec<OciHistory>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct OciConfig {
    user: Option<String>,
    env: Option<Vec<String>>,
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    healthcheck: Option<OciHealthcheck>,
    labels: Option<BTreeMap<String, String>>,
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct OciHealthcheck {
    test: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OciHistory {
    created_by: Option<String>,
    empty_layer: Option<bool>,
}

impl ImageConfigInput {
    /// Read an OCI or Docker image config JSON (`application/vnd.oci.image.
    /// config.v1+json`, or the config file of `docker save`).
    pub fn from_oci_config_json(bytes: &[u8]) -> Result<ImageConfigInput, ConfigError> {
        let f: OciConfigFile = serde_json::from_slice(bytes)?;
        let c = f.config.unwrap_or_default();
        let labels = c.labels.unwrap_or_default();
        Ok(ImageConfigInput {
            user: c.user.unwrap_or_default(),
            env: c.env.unwrap_or_default(),
            exposed_ports: c.exposed_ports.unwrap_or_default().into_keys().collect(),
            healthcheck: c.healthcheck.and_then(|h| h.test),
            base_image: labels.get("org.opencontainers.image.base.name").cloned(),
            labels,
            entrypoint: c.entrypoint.unwrap_or_default(),
            cmd: c.cmd.unwrap_or_default(),
            created: f.created,
            history: f
                .history
                .unwrap_or_default()
                .into_iter()
                .map(|h| HistoryEntry {
                    created_by: h.created_by.unwrap_or_default(),
                    empty_layer: h.empty_layer.unwrap_or(false),
                })
                .collect(),
        })
    }
}

/// Options of the image-config scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfigOptions {
    /// Images created more than this many days before `now` fail CS-IMG-002.
    pub max_age_days: u64,
    /// The current time (passed in so results are reproducible).
    pub now: SystemTime,
}

impl Default for ImageConfigOptions {
    fn default() -> Self {
        ImageConfigOptions {
            max_age_days: 30,
            now: SystemTime::now(),
        }
    }
}

/// A failure of an image-config check (message only: no lines).
pub(crate) type CfgFn = fn(&ImageConfigInput, &ImageConfigOptions) -> Option<Vec<String>>;

pub static DS0001: CheckInfo = CheckInfo {
    id: "DS-0001",
    scanner: Scanner::ImageConfig,
    severity: Severity::Medium,
    title: "':latest' tag used",
    description: "The image was built on a base image referenced by the 'latest' tag (or no tag), so what it contains depends on when it was built.",
    resolution: "Build FROM a specific tag (better: a digest) of the base image",
    references: &["https://docs.docker.com/reference/dockerfile/#from"],
};

fn base_latest(c: &ImageConfigInput, _: &ImageConfigOptions) -> Option<Vec<String>> {
    let base = c.base_image.as_deref().filter(|b| !b.is_empty())?;
    let r = parse_ref(base);
    Some(
        if r.digest.is_none() && r.tag.is_none_or(|t| t == "latest") {
            vec![format!(
                "Base image '{base}' is referenced by the 'latest' tag"
            )]
        } else {
            vec![]
        },
    )
}

pub static DS0002: CheckInfo = CheckInfo {
    id: "DS-0002",
    scanner: Scanner::ImageConfig,
    severity: Severity::High,
    title: "Image user should not be 'root'",
    description: "The image config runs its process as root (User is empty, 'root' or 0). Running containers with 'root' user can lead to a container escape situation.",
    resolution: "Set a non-root user in the image (USER 10001:10001 in the Dockerfile)",
    references: &["https://docs.docker.com/build/building/best-practices/#user"],
};

fn root_user(c: &ImageConfigInput, _: &ImageConfigOptions) -> Option<Vec<String>> {
    let u = c.user.trim();
    Some(if u.is_empty() {
        vec!["The image config sets no user, so the container runs as root".to_string()]
    } else if is_root_user(u) {
        vec![format!("The image config user is '{u}'")]
    } else {
        vec![]
    })
}

pub static DS0004: CheckInfo = CheckInfo {
    id: "DS-0004",
    scanner: Scanner::ImageConfig,
    severity: Severity::Medium,
    title: "Port 22 exposed",
    description: "Exposing port 22 might allow users to SSH into the container.",
    resolution: "Do not expose port 22; remove the SSH server from the image",
    references: &["https://docs.docker.com/reference/dockerfile/#expose"],
};

fn port_22(c: &ImageConfigInput, _: &ImageConfigOptions) -> Option<Vec<String>> {
    Some(
        c.exposed_ports
            .iter()
            .filter(|p| matches!(p.as_str(), "22" | "22/tcp" | "22/udp"))
            .map(|p| format!("Port {p} is exposed"))
            .collect(),
    )
}

pub static DS0026: CheckInfo = CheckInfo {
    id: "DS-0026",
    scanner: Scanner::ImageConfig,
    severity: Severity::Low,
    title: "No HEALTHCHECK defined",
    description: "The image config defines no healthcheck, so the runtime cannot tell a hung container from a healthy one.",
    resolution: "Add a HEALTHCHECK instruction (or define probes in the orchestrator)",
    references: &["https://docs.docker.com/reference/dockerfile/#healthcheck"],
};

fn no_healthcheck(c: &ImageConfigInput, _: &ImageConfigOptions) -> Option<Vec<String>> {
    let ok = c
        .healthcheck
        .as_ref()
        .is_some_and(|t| t.first().is_some_and(|f| f != "NONE"));
    Some(if ok {
        vec![]
    } else {
        vec!["The image config has no healthcheck".to_string()]
    })
}

pub static CSIMG001: CheckInfo = CheckInfo {
    id: "CS-IMG-001",
    scanner: Scanner::ImageConfig,
    severity: Severity::Critical,
    title: "Secret in the image environment",
    description: "Environment variables are stored in the image config in clear text; anyone who can pull the image can read them. Names such as *_PASSWORD, *_SECRET, *_TOKEN or *_KEY with a value, and values that look like tokens, are treated as secrets.",
    resolution: "Remove the variable from the image (ENV) and inject it at run time from a secret store",
    references: &["https://docs.docker.com/build/building/secrets/"],
};

fn env_secrets(c: &ImageConfigInput, _: &ImageConfigOptions) -> Option<Vec<String>> {
    Some(
        c.env
            .iter()
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                ((is_secret_name(k) && !v.is_empty()) || is_secret_value(v))
                    .then(|| format!("Env '{k}' holds a secret value"))
            })
            .collect(),
    )
}

pub static CSIMG002: CheckInfo = CheckInfo {
    id: "CS-IMG-002",
    scanner: Scanner::ImageConfig,
    severity: Severity::Medium,
    title: "Image not rebuilt recently",
    description: "The image was created longer ago than the allowed age. Old images miss the security updates of their base image and packages even when their own code did not change.",
    resolution: "Rebuild the image regularly (e.g. a scheduled CI job) on the current base image, and redeploy",
    references: &["https://docs.docker.com/build/building/best-practices/#rebuild-your-images-often"],
};

/// Seconds since the epoch of an RFC 3339 time.
fn parse_time(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

fn image_age(c: &ImageConfigInput, o: &ImageConfigOptions) -> Option<Vec<String>> {
    let created = c.created.as_deref()?;
    let Some(ts) = parse_time(created) else {
        tracing::warn!(
            created,
            "image config: unparsable 'created' time; age not checked"
        );
        return None;
    };
    let now = o
        .now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs() as i64;
    let days = (now - ts).div_euclid(86_400);
    Some(if days > o.max_age_days as i64 {
        vec![format!(
            "The image was created {days} days ago ({created}), more than {} days: rebuild it",
            o.max_age_days
        )]
    } else {
        vec![]
    })
}

/// Every image-config check.
pub(crate) static CONFIG_CHECKS: &[(&CheckInfo, CfgFn)] = &[
    (&DS0001, base_latest),
    (&DS0002, root_user),
    (&DS0004, port_22),
    (&DS0026, no_healthcheck),
    (&CSIMG001, env_secrets),
    (&CSIMG002, image_age),
];

pub static INFOS: &[&CheckInfo] = &[&DS0001, &DS0002, &DS0004, &DS0026, &CSIMG001, &CSIMG002];

/// Index of the base image's last history entry (its `CMD`), as Trivy
/// guesses it: the last empty-layer `CMD` before the last non-empty layer.
pub fn guess_base_index(h: &[HistoryEntry]) -> Option<usize> {
    let mut found_non_empty = false;
    for (i, e) in h.iter().enumerate().rev() {
        if !found_non_empty {
            if e.empty_layer {
                continue;
            }
            found_non_empty = true;
        }
        if !e.empty_layer {
            continue;
        }
        if e.created_by.starts_with("/bin/sh -c #(nop)  CMD") || e.created_by.starts_with("CMD") {
            return Some(i);
        }
    }
    None
}

const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// One history `created_by` as a Dockerfile instruction, or `None`.
pub fn history_instruction(created_by: &str) -> Option<String> {
    let mut s = created_by.trim().to_string();
    // `|2 A=1 B=2 /bin/sh -c cmd` (legacy builder with build args)
    if s.starts_with('|') {
        if let Some(p) = s.find("/bin/sh -c") {
            s = s.get(p..).unwrap_or_default().to_string();
        }
    }
    let line = if let Some(rest) = s.strip_prefix("/bin/sh -c #(nop)") {
        rest.trim().to_string()
    } else if let Some(rest) = s.strip_prefix("/bin/sh -c") {
        format!("RUN {}", rest.trim())
    } else if let Some(rest) = s.strip_suffix("# buildkit") {
        let rest = rest.trim();
        match rest.strip_prefix("RUN /bin/sh -c") {
            Some(r) => format!("RUN {}", r.trim()),
            None => rest.to_string(),
        }
    } else {
        s
    };
    // One instruction per line: join continuations, newlines become `;`.
    let line = line.replace("\\\n", " ").replace('\n', "; ");
    let kw = line.split_whitespace().next()?.to_ascii_uppercase();
    if !KEYWORDS.contains(&kw.as_str()) {
        return None;
    }
    // BuildKit writes `EXPOSE map[8080/tcp:{}]`.
    if kw == "EXPOSE" && line.contains("map[") {
        let ports: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == '[' || c == ']')
            .filter_map(|w| w.strip_suffix(":{}"))
            .collect();
        return (!ports.is_empty()).then(|| format!("EXPOSE {}", ports.join(" ")));
    }
    Some(line)
}

/// The image history after the base image, rebuilt as a Dockerfile (`FROM
/// scratch` then one instruction per line), plus the config user if no
/// `USER` is in the history.
pub fn history_dockerfile(c: &ImageConfigInput) -> String {
    let start = guess_base_index(&c.history).map(|i| i + 1).unwrap_or(0);
    let mut out = String::from("FROM scratch\n");
    let mut user_found = false;
    for h in c.history.iter().skip(start) {
        let Some(line) = history_instruction(&h.created_by) else {
            continue;
        };
        // Drop what the parser cannot read (odd history) instead of losing all.
        if crate::dockerfile::Dockerfile::parse("history", &format!("FROM scratch\n{line}\n"))
            .is_err()
        {
            tracing::warn!(created_by = %h.created_by, "image history entry skipped: not a Dockerfile instruction");
            continue;
        }
        user_found |= line.to_ascii_uppercase().starts_with("USER ");
        out.push_str(&line);
        out.push('\n');
    }
    if !user_found && !c.user.trim().is_empty() {
        out.push_str(&format!("USER {}\n", c.user.trim()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(v: &[(&str, bool)]) -> Vec<HistoryEntry> {
        v.iter()
            .map(|(c, e)| HistoryEntry {
                created_by: c.to_string(),
                empty_layer: *e,
            })
            .collect()
    }

    #[test]
    fn history_rebuild() {
        let c = ImageConfigInput {
            user: "app".into(),
            history: hist(&[
                ("/bin/sh -c #(nop) ADD file:abc in / ", false),
                ("/bin/sh -c #(nop)  CMD [\"bash\"]", true),
                ("|1 V=1 /bin/sh -c apt-get update", false),
                ("COPY . /app # buildkit", false),
                ("RUN /bin/sh -c pip install x # buildkit", false),
                ("EXPOSE map[8080/tcp:{} 22/tcp:{}]", true),
                ("HEALTHCHECK &{[\"CMD\" \"x\"] \"5s\"}", true),
                ("CMD [\"app\"]", true),
            ]),
            ..Default::default()
        };
        assert_eq!(guess_base_index(&c.history), Some(1));
        assert_eq!(
            history_dockerfile(&c),
            "FROM scratch\nRUN apt-get update\nCOPY . /app\nRUN pip install x\nEXPOSE 8080/tcp 22/tcp\nCMD [\"app\"]\nUSER app\n"
        );
    }

    #[test]
    fn config_checks() {
        let o = ImageConfigOptions {
            max_age_days: 30,
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        };
        let mut c = ImageConfigInput::default();
        assert_eq!(root_user(&c, &o).map(|v| v.len()), Some(1));
        c.user = "0:0".into();
        assert_eq!(root_user(&c, &o).map(|v| v.len()), Some(1));
        c.user = "10001:10001".into();
        assert_eq!(root_user(&c, &o), Some(vec![]));
        assert_eq!(no_healthcheck(&c, &o).map(|v| v.len()), Some(1));
        c.healthcheck = Some(vec!["NONE".into()]);
        assert_eq!(no_healthcheck(&c, &o).map(|v| v.len()), Some(1));
        c.healthcheck = Some(vec!["CMD-SHELL".into(), "true".into()]);
        assert_eq!(no_healthcheck(&c, &o), Some(vec![]));
        c.exposed_ports = vec!["22/tcp".into(), "8080/tcp".into()];
        assert_eq!(port_22(&c, &o).map(|v| v.len()), Some(1));
        c.env = vec![
            "PATH=/bin".into(),
            "DB_PASSWORD=x".into(),
            "API_TOKEN=".into(),
            "GPG_KEY=ABC".into(),
        ];
        assert_eq!(env_secrets(&c, &o).map(|v| v.len()), Some(1));
        assert_eq!(base_latest(&c, &o), None);
        c.base_image = Some("debian".into());
        assert_eq!(base_latest(&c, &o).map(|v| v.len()), Some(1));
        c.base_image = Some("debian:12-slim".into());
        assert_eq!(base_latest(&c, &o), Some(vec![]));
        // 1_700_000_000 = 2023-11-14
        c.created = Some("2023-11-01T00:00:00Z".into());
        assert_eq!(image_age(&c, &o), Some(vec![]));
        c.created = Some("2023-09-01T00:00:00.123456789Z".into());
        assert_eq!(image_age(&c, &o).map(|v| v.len()), Some(1));
        c.created = Some("not a time".into());
        assert_eq!(image_age(&c, &o), None);
    }

    #[test]
    fn oci_json() {
        let j = br#"{"created":"2020-01-23T16:53:06.686519038Z","config":{"User":"","Env":["PATH=/bin"],"ExposedPorts":{"22/tcp":{}},"Labels":null,"Cmd":["/bin/sh"]},"history":[{"created_by":"/bin/sh -c #(nop)  CMD [\"/bin/sh\"]","empty_layer":true}]}"#;
        let c = ImageConfigInput::from_oci_config_json(j).unwrap_or_default();
        assert_eq!(c.exposed_ports, vec!["22/tcp"]);
        assert_eq!(c.cmd, vec!["/bin/sh"]);
        assert!(c.history.first().is_some_and(|h| h.empty_layer));
        assert!(ImageConfigInput::from_oci_config_json(b"{not json").is_err());
    }
}
