//! RustSec advisories in their native form (`crates/NAME/RUSTSEC-*.md`): a
//! ```` ```toml ```` fenced front matter, then a Markdown `# Title` and the
//! description.

use customs_model::{Affected, Severity, Status};
use serde::Deserialize;

use super::{one_line, Source};
use crate::record::{
    aliases_of, cvss_from_vector, preferred_ids, severity_from_cvss, AdvisoryRecord, FeedOutput,
    VulnRecord,
};

#[derive(Deserialize)]
struct Front {
    advisory: AdvisoryMeta,
    #[serde(default)]
    versions: Option<Versions>,
}

#[derive(Deserialize)]
struct AdvisoryMeta {
    id: String,
    package: String,
    #[serde(default)]
    date: Option<toml::Value>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    cvss: Option<String>,
    #[serde(default)]
    informational: Option<String>,
    #[serde(default)]
    withdrawn: Option<toml::Value>,
}

#[derive(Deserialize, Default)]
struct Versions {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

/// Split a RustSec Markdown file into its TOML front matter and the body.
pub(crate) fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text.trim_start_matches('\u{feff}').trim_start();
    let rest = rest.strip_prefix("```toml")?;
    let end = rest.find("\n```")?;
    let toml = rest.get(..end)?;
    let body = rest.get(end + 4..)?;
    Some((toml, body))
}

/// Title (first `# ` heading) and description (the rest) of the body.
fn title_and_description(body: &str) -> (Option<String>, Option<String>) {
    let mut title = None;
    let mut desc = String::new();
    for line in body.lines() {
        if title.is_none() {
            if let Some(t) = line.strip_prefix("# ") {
                title = Some(t.trim().to_string());
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
        }
        desc.push_str(line);
        desc.push('\n');
    }
    let desc = desc.trim();
    (title, (!desc.is_empty()).then(|| desc.to_string()))
}

pub fn parse(file: &str, bytes: &[u8]) -> FeedOutput {
    let mut out = FeedOutput {
        records: 1,
        ..Default::default()
    };
    let text = String::from_utf8_lossy(bytes);
    let Some((front, body)) = split_front_matter(&text) else {
        out.skip(file, "", "no ```toml front matter");
        return out;
    };
    let f: Front = match toml::from_str(front) {
        Ok(f) => f,
        Err(e) => {
            out.skip(
                file,
                "",
                format!("bad TOML front matter: {}", one_line(&e.to_string())),
            );
            return out;
        }
    };
    let a = f.advisory;
    if a.withdrawn.is_some() {
        out.withdrawn += 1;
        return out;
    }
    let rid = a.id.trim().to_string();
    let package = a.package.trim().to_string();
    if rid.is_empty() || package.is_empty() {
        out.skip(file, &rid, "empty id or package");
        return out;
    }
    let (md_title, md_desc) = title_and_description(body);
    let cvss: Vec<_> = a
        .cvss
        .iter()
        .filter(|c| !c.trim().is_empty())
        .map(|c| cvss_from_vector(Source::Rustsec.id(), c))
        .collect();
    let severity: Option<Severity> = severity_from_cvss(&cvss);
    let versions = f.versions.unwrap_or_default();
    let affected = Affected {
        patched: versions
            .patched
            .iter()
            .map(|s| s.trim().to_string())
            .collect(),
        unaffected: versions
            .unaffected
            .iter()
            .map(|s| s.trim().to_string())
            .collect(),
        ..Default::default()
    };
    let status = if affected.patched.is_empty() {
        Status::Affected
    } else {
        Status::Fixed
    };
    let mut references: Vec<String> = a.url.into_iter().collect();
    references.extend(a.references);
    references.push(format!("https://rustsec.org/advisories/{rid}.html"));
    let date = a.date.map(|d| match d {
        toml::Value::String(s) => s,
        toml::Value::Datetime(d) => d.to_string(),
        _ => String::new(),
    });
    let ids = preferred_ids(&rid, &a.aliases);
    for id in &ids {
        out.vulns.push(VulnRecord {
            id: id.clone(),
            aliases: aliases_of(id, &rid, &a.aliases),
            title: a.title.clone().or_else(|| md_title.clone()),
            description: a.description.clone().or_else(|| md_desc.clone()),
            severity,
            cvss: cvss.clone(),
            cwe_ids: Vec::new(),
            references: references.clone(),
            published: date.clone(),
            modified: None,
        });
        out.advisories.push(AdvisoryRecord {
            ecosystem: "crates.io".into(),
            package: package.clone(),
            vulnerability_id: id.clone(),
            source_id: rid.clone(),
            status,
            severity,
            affected: affected.clone(),
            informational: a.informational.clone().filter(|s| !s.is_empty()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD: &str = r#"```toml
[advisory]
id = "RUSTSEC-2026-0207"
package = "libcrux-sha3"
date = "2026-04-22"
url = "https://github.com/celabshq/libcrux/pull/1389"
aliases = ["CVE-2026-0001", "GHSA-aaaa-bbbb-cccc"]
cvss = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"

[affected.functions]
"libcrux_sha3::squeeze" = [ "<= 0.0.9" ]

[versions]
patched = [">= 0.0.10 "]
unaffected = ["< 0.0.2"]
```

# Incorrect Output of Incremental SHAKE

The incremental squeeze functions...

## Impact
Some.
"#;

    #[test]
    fn advisory() {
        let out = parse("RUSTSEC-2026-0207.md", MD.as_bytes());
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        let a = &out.advisories[0];
        assert_eq!(a.ecosystem, "crates.io");
        assert_eq!(a.vulnerability_id, "CVE-2026-0001");
        assert_eq!(a.affected.patched, vec![">= 0.0.10"]);
        assert_eq!(a.affected.unaffected, vec!["< 0.0.2"]);
        assert_eq!(a.severity, Some(Severity::High));
        let v = &out.vulns[0];
        assert_eq!(
            v.title.as_deref(),
            Some("Incorrect Output of Incremental SHAKE")
        );
        assert!(v
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("The incremental") && d.contains("## Impact")));
        assert_eq!(v.aliases, vec!["RUSTSEC-2026-0207", "GHSA-aaaa-bbbb-cccc"]);
    }

    #[test]
    fn informational_and_withdrawn() {
        let md = "```toml\n[advisory]\nid = \"RUSTSEC-2022-0057\"\npackage = \"badge\"\ndate = \"2022-08-31\"\ninformational = \"unmaintained\"\n\n[versions]\npatched = []\n```\n# badge is Unmaintained\n";
        let out = parse("x.md", md.as_bytes());
        let a = &out.advisories[0];
        assert_eq!(a.vulnerability_id, "RUSTSEC-2022-0057");
        assert_eq!(a.informational.as_deref(), Some("unmaintained"));
        assert_eq!(a.status, Status::Affected);
        let w = "```toml\n[advisory]\nid = \"RUSTSEC-2020-0001\"\npackage = \"x\"\ndate = \"2020-01-01\"\nwithdrawn = \"2020-02-01\"\n[versions]\npatched = []\n```\n";
        let out = parse("w.md", w.as_bytes());
        assert_eq!(
            (out.records, out.withdrawn, out.advisories.len()),
            (1, 1, 0)
        );
        let out = parse("bad.md", b"no front matter");
        assert_eq!(out.skipped.len(), 1);
    }
}
