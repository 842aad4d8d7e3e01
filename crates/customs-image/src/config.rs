//! The image configuration (the JSON blob the manifest's `config` names), in the
//! lenient shape both Docker and OCI write. Unknown fields are kept in `raw`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<RuntimeConfig>,
    #[serde(default)]
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// The `config` object (Docker capitalizes its keys; OCI uses the same names).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

impl ImageConfig {
    /// `created_by` of each non-empty layer, in layer order (what built it).
    pub fn layer_commands(&self) -> Vec<String> {
        self.history
            .iter()
            .filter(|h| !h.empty_layer)
            .map(|h| h.created_by.clone().unwrap_or_default())
            .collect()
    }
}

/// The raw config as JSON for a report (`Metadata.ImageConfig`), keeping
/// what can be kept: serde_json refuses documents nested deeper than 128
/// levels, so a crafted config would otherwise vanish from the report
/// whole. Objects whose members cannot be read are read member by member;
/// the members dropped are named in the returned warnings (as JSON paths).
pub fn config_json(raw: &[u8]) -> (Option<serde_json::Value>, Vec<String>) {
    if let Ok(v) = serde_json::from_slice(raw) {
        return (Some(v), Vec::new());
    }
    let mut dropped = Vec::new();
    let Ok(text) = std::str::from_utf8(raw) else {
        return (None, vec!["the config is not UTF-8 text".into()]);
    };
    let v = lenient(text, "$", 0, &mut dropped);
    (v, dropped)
}

/// How many object levels are opened member by member before a whole
/// member is dropped.
const LENIENT_DEPTH: usize = 8;

fn lenient(
    text: &str,
    at: &str,
    depth: usize,
    dropped: &mut Vec<String>,
) -> Option<serde_json::Value> {
    if let Ok(v) = serde_json::from_str(text) {
        return Some(v);
    }
    let members: BTreeMap<String, Box<serde_json::value::RawValue>> =
        match serde_json::from_str(text) {
            Ok(m) if depth < LENIENT_DEPTH => m,
            Ok(_) | Err(_) => {
                let why = serde_json::from_str::<serde_json::Value>(text)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                dropped.push(format!("{at}: {why}"));
                return None;
            }
        };
    let mut out = serde_json::Map::new();
    for (k, raw) in members {
        let path = format!("{at}.{k}");
        if let Some(v) = lenient(raw.get(), &path, depth + 1, dropped) {
            out.insert(k, v);
        }
    }
    Some(serde_json::Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_nested_too_deep_keeps_every_readable_member() {
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let raw = format!(
            r#"{{"os":"linux","config":{{"User":"app","Labels":{{"x":{deep}}}}},"rootfs":{{"diff_ids":[]}}}}"#
        );
        let (v, dropped) = config_json(raw.as_bytes());
        let v = v.unwrap_or_default();
        assert_eq!(v["os"], "linux");
        assert_eq!(v["config"]["User"], "app");
        assert!(v["config"]["Labels"].get("x").is_none());
        assert_eq!(dropped.len(), 1, "{dropped:?}");
        assert!(
            dropped[0].starts_with("$.config.Labels.x: recursion limit"),
            "{dropped:?}"
        );
    }

    #[test]
    fn a_plain_config_is_kept_whole() {
        let (v, dropped) = config_json(br#"{"os":"linux"}"#);
        assert_eq!(v.unwrap_or_default()["os"], "linux");
        assert!(dropped.is_empty());
        let (v, dropped) = config_json(b"\xff\xfe");
        assert!(v.is_none() && dropped.len() == 1);
    }
}
