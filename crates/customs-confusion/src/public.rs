//! The name check (`--confusion-check-public`): for each package from a
//! private source, does the public registry of its ecosystem know the name,
//! at which versions, and who publishes it.
//!
//! Answers are cached as JSON under `cache_dir/confusion/`, one file per
//! registry and name, for [`MAX_AGE`]; a warm cache asks nothing. A failed
//! request (network, 5xx) gives no finding and is not cached.

use crate::checks::{CLAIMABLE, HIJACKED, NAME_TAKEN};
use crate::text::Text;
use crate::{ConfusionError, Context, PrivatePkg, PublicCheck};
use customs_model::finding::Misconfiguration;
use customs_versions::{compare, Scheme};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

/// How long a cached answer is used.
pub const MAX_AGE: u64 = 24 * 3600;

/// The ecosystem of a private package, i.e. which public registry to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Eco {
    Npm,
    PyPI,
    Crates,
    RubyGems,
    Hex,
}

impl Eco {
    fn label(self) -> &'static str {
        match self {
            Eco::Npm => "npm",
            Eco::PyPI => "pypi",
            Eco::Crates => "crates",
            Eco::RubyGems => "rubygems",
            Eco::Hex => "hex",
        }
    }

    fn registry_name(self) -> &'static str {
        match self {
            Eco::Npm => "the npm registry",
            Eco::PyPI => "PyPI",
            Eco::Crates => "crates.io",
            Eco::RubyGems => "rubygems.org",
            Eco::Hex => "hex.pm",
        }
    }

    fn scheme(self) -> Scheme {
        match self {
            Eco::Npm => Scheme::Npm,
            Eco::PyPI => Scheme::Pep440,
            Eco::Crates | Eco::Hex => Scheme::Semver,
            Eco::RubyGems => Scheme::RubyGems,
        }
    }

    fn base(self, c: &PublicCheck) -> &str {
        match self {
            Eco::Npm => &c.npm,
            Eco::PyPI => &c.pypi,
            Eco::Crates => &c.crates,
            Eco::RubyGems => &c.rubygems,
            Eco::Hex => &c.hex,
        }
        .trim_end_matches('/')
    }

    /// The URL that describes `name` on the public registry.
    fn url(self, c: &PublicCheck, name: &str) -> String {
        let base = self.base(c);
        match self {
            // Scoped names keep the `@` and encode the `/`.
            Eco::Npm => format!("{base}/{}", name.replacen('/', "%2f", 1)),
            Eco::PyPI => format!("{base}/{}/json", crate::python::normalize_py(name)),
            Eco::Crates => format!("{base}/api/v1/crates/{name}"),
            Eco::RubyGems => format!("{base}/api/v1/versions/{name}.json"),
            Eco::Hex => format!("{base}/api/packages/{name}"),
        }
    }
}

/// What the public registry said about a name (the cached form).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Answer {
    /// Seconds since the epoch when it was asked.
    pub fetched: u64,
    pub registry: String,
    pub name: String,
    pub exists: bool,
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub publishers: Vec<String>,
}

static OFFLINE_NOTE: Once = Once::new();

/// Runs the name check over the private packages; findings keyed by file.
pub(crate) fn check(
    c: &PublicCheck,
    ctx: &Context,
    private: &[PrivatePkg],
) -> Result<Vec<(String, Misconfiguration)>, ConfusionError> {
    if private.is_empty() {
        return Ok(Vec::new());
    }
    if c.offline {
        OFFLINE_NOTE.call_once(|| {
            tracing::warn!(
                "dependency confusion: --offline: the public registries were not asked whether the names of {} private package(s) are claimable",
                private.len()
            );
        });
        return Ok(Vec::new());
    }
    let dir = c.cache_dir.join("confusion");
    std::fs::create_dir_all(&dir).map_err(|e| ConfusionError::Cache {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let mut client: Option<reqwest::blocking::Client> = None;
    let mut answers: BTreeMap<(Eco, String), Option<Answer>> = BTreeMap::new();
    let mut failed_registries = Vec::new();
    let mut out = Vec::new();
    let mut sorted: Vec<&PrivatePkg> = private.iter().collect();
    sorted.sort();
    sorted.dedup_by(|a, b| {
        a.eco == b.eco && a.name == b.name && a.path == b.path && a.line == b.line
    });
    for p in sorted {
        if p.name.is_empty() {
            continue;
        }
        let key = (p.eco, p.name.clone());
        if !answers.contains_key(&key) {
            let a = if failed_registries.contains(&p.eco) {
                None
            } else {
                let a = lookup(c, &dir, &mut client, p.eco, &p.name)?;
                if a.is_none() {
                    failed_registries.push(p.eco);
                }
                a
            };
            answers.insert(key.clone(), a);
        }
        let Some(Some(answer)) = answers.get(&key) else {
            continue;
        };
        if let Some(f) = finding(ctx, p, answer) {
            out.push((p.path.clone(), f));
        }
    }
    Ok(out)
}

fn finding(ctx: &Context, p: &PrivatePkg, a: &Answer) -> Option<Misconfiguration> {
    let file = ctx.file(&p.path)?;
    let text = Text::new(&file.text);
    let reg = p.eco.registry_name();
    if !a.exists {
        return Some(CLAIMABLE.at(
            &text,
            p.line,
            p.line,
            format!("'{}' comes from a private source and does not exist on {reg}: anyone can publish it there", p.name),
        ));
    }
    let scheme = p.eco.scheme();
    let highest = a
        .versions
        .iter()
        .filter(|v| compare(scheme, v, v).is_ok())
        .max_by(|x, y| compare(scheme, x, y).unwrap_or(Ordering::Equal))
        .cloned()
        .unwrap_or_default();
    let by = if a.publishers.is_empty() {
        String::new()
    } else {
        format!(", published by {}", a.publishers.join(", "))
    };
    let higher = !highest.is_empty()
        && (p.version.is_empty()
            || compare(scheme, &highest, &p.version).is_ok_and(|o| o == Ordering::Greater));
    if higher {
        Some(HIJACKED.at(
            &text,
            p.line,
            p.line,
            format!(
                "'{}' {} comes from a private source, and {reg} has '{}' {highest}{by}",
                p.name,
                if p.version.is_empty() {
                    "(no version)"
                } else {
                    &p.version
                },
                p.name
            ),
        ))
    } else {
        Some(NAME_TAKEN.at(
            &text,
            p.line,
            p.line,
            format!(
                "'{}' {} comes from a private source, and {reg} also has '{}' (highest {}){by}",
                p.name,
                p.version,
                p.name,
                if highest.is_empty() {
                    "unknown"
                } else {
                    &highest
                }
            ),
        ))
    }
}

/// 64-bit FNV-1a: a stable file name for a registry and name.
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn cache_path(dir: &Path, eco: Eco, base: &str, name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    dir.join(format!(
        "{}-{safe}-{:016x}.json",
        eco.label(),
        fnv(&format!("{base}\n{name}"))
    ))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The answer for one name: from the cache when fresh, else asked (and
/// cached). `None`: the registry could not be asked (warned once).
fn lookup(
    c: &PublicCheck,
    dir: &Path,
    client: &mut Option<reqwest::blocking::Client>,
    eco: Eco,
    name: &str,
) -> Result<Option<Answer>, ConfusionError> {
    let base = eco.base(c);
    let path = cache_path(dir, eco, base, name);
    if let Ok(bytes) = std::fs::read(&path) {
        if let Ok(a) = serde_json::from_slice::<Answer>(&bytes) {
            let age = now().saturating_sub(a.fetched);
            if age < MAX_AGE && a.registry == base && a.name == name {
                return Ok(Some(a));
            }
        }
    }
    if client.is_none() {
        // reqwest is built with `rustls-no-provider`: install ring as the
        // process default (a no-op when one is installed already).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let built = reqwest::blocking::Client::builder()
            .timeout(c.timeout)
            .connect_timeout(c.timeout)
            // crates.io refuses requests without a User-Agent.
            .user_agent(concat!(
                "customs/",
                env!("CARGO_PKG_VERSION"),
                " (dependency confusion check)"
            ))
            .build()
            .map_err(|e| ConfusionError::Client(e.to_string()))?;
        *client = Some(built);
    }
    let Some(http) = client.as_ref() else {
        return Ok(None);
    };
    let url = eco.url(c, name);
    let resp = match http.get(&url).header("Accept", "application/json").send() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("dependency confusion: cannot ask {base} about '{name}': {e}; name check of this registry skipped");
            return Ok(None);
        }
    };
    let status = resp.status();
    let mut answer = Answer {
        fetched: now(),
        registry: base.to_string(),
        name: name.to_string(),
        ..Default::default()
    };
    if status.as_u16() == 404 || status.as_u16() == 410 {
        answer.exists = false;
    } else if status.is_success() {
        let body: serde_json::Value = match resp
            .bytes()
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("dependency confusion: {url}: unreadable answer: {e}");
                return Ok(None);
            }
        };
        answer.exists = true;
        let (versions, publishers) = parse_answer(eco, &body);
        answer.versions = versions;
        answer.publishers = publishers;
    } else {
        tracing::warn!(
            "dependency confusion: {url}: HTTP {status}; name check of this registry skipped"
        );
        return Ok(None);
    }
    // A cache that cannot be written costs a request next time, no more.
    if let Ok(json) = serde_json::to_vec(&answer) {
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, json).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
    Ok(Some(answer))
}

/// Versions and publishers of a registry's answer.
pub(crate) fn parse_answer(eco: Eco, body: &serde_json::Value) -> (Vec<String>, Vec<String>) {
    let strs = |v: Option<&serde_json::Value>, key: &str| -> Vec<String> {
        v.and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.get(key).and_then(|s| s.as_str()).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = match eco {
        Eco::Npm => (
            body.get("versions")
                .and_then(|v| v.as_object())
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
            {
                let mut who = strs(body.get("maintainers"), "name");
                // Who published each version (`_npmUser`), when the
                // registry keeps it.
                if let Some(vs) = body.get("versions").and_then(|v| v.as_object()) {
                    who.extend(vs.values().filter_map(|v| {
                        v.pointer("/_npmUser/name")
                            .and_then(|n| n.as_str())
                            .map(str::to_string)
                    }));
                }
                who
            },
        ),
        Eco::PyPI => {
            let mut v: Vec<String> = body
                .get("releases")
                .and_then(|v| v.as_object())
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            if let Some(latest) = body.pointer("/info/version").and_then(|v| v.as_str()) {
                v.push(latest.to_string());
            }
            let mut who = Vec::new();
            for k in ["author", "maintainer"] {
                if let Some(a) = body.pointer(&format!("/info/{k}")).and_then(|v| v.as_str()) {
                    if !a.is_empty() {
                        who.push(a.to_string());
                    }
                }
            }
            (v, who)
        }
        Eco::Crates => (
            strs(body.get("versions"), "num"),
            body.get("versions")
                .and_then(|v| v.as_array())
                .and_then(|a| a.first())
                .and_then(|v| v.pointer("/published_by/login"))
                .and_then(|s| s.as_str())
                .map(|s| vec![s.to_string()])
                .unwrap_or_default(),
        ),
        Eco::RubyGems => (
            body.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| {
                            x.get("number").and_then(|s| s.as_str()).map(str::to_string)
                        })
                        .collect()
                })
                .unwrap_or_default(),
            body.as_array()
                .and_then(|a| a.first())
                .and_then(|x| x.get("authors"))
                .and_then(|s| s.as_str())
                .map(|s| vec![s.to_string()])
                .unwrap_or_default(),
        ),
        Eco::Hex => (
            strs(body.get("releases"), "version"),
            body.pointer("/meta/maintainers")
                .and_then(|m| m.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        ),
    };
    out.0.sort();
    out.0.dedup();
    out.1.sort();
    out.1.dedup();
    out
}
