//! NVD CVE JSON 2.0 feeds (`nvdcve-2.0-YYYY.json[.gz]`, the same shape as
//! the CVE API 2.0 responses). Enrichment only: titles, descriptions, CVSS,
//! CWE, references and dates; NVD gives no advisories.

use customs_model::Severity;
use serde::Deserialize;

use super::{one_line, Source};
use crate::record::{Cvss, FeedOutput, VulnRecord};

/// Items are kept raw (borrowed from the input) and read one by one, so a
/// bad item is skipped alone and a large feed is not held twice in memory.
#[derive(Deserialize)]
struct Feed<'a> {
    #[serde(borrow)]
    vulnerabilities: Vec<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct Item {
    cve: Cve,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cve {
    id: String,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    vuln_status: Option<String>,
    #[serde(default)]
    descriptions: Vec<LangString>,
    #[serde(default)]
    metrics: Metrics,
    #[serde(default)]
    weaknesses: Vec<Weakness>,
    #[serde(default)]
    references: Vec<Reference>,
}

#[derive(Deserialize)]
struct LangString {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize, Default)]
struct Metrics {
    #[serde(default, rename = "cvssMetricV40")]
    v40: Vec<Metric>,
    #[serde(default, rename = "cvssMetricV31")]
    v31: Vec<Metric>,
    #[serde(default, rename = "cvssMetricV30")]
    v30: Vec<Metric>,
    #[serde(default, rename = "cvssMetricV2")]
    v2: Vec<Metric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    cvss_data: CvssData,
    /// v2 keeps its qualitative severity beside `cvssData`.
    #[serde(default)]
    base_severity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CvssData {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    vector_string: Option<String>,
    #[serde(default)]
    base_score: Option<f64>,
    #[serde(default)]
    base_severity: Option<String>,
}

#[derive(Deserialize)]
struct Weakness {
    #[serde(default)]
    description: Vec<LangString>,
}

#[derive(Deserialize)]
struct Reference {
    url: String,
}

/// Largest decompressed NVD feed accepted (the biggest yearly feed is a
/// few hundred MB).
const MAX_FEED: u64 = 2 << 30;

/// Parse one feed; `.gz` files are decompressed. One record per CVE item.
pub fn parse(file: &str, bytes: &[u8]) -> FeedOutput {
    let mut out = FeedOutput::default();
    let data = match super::gunzip_bounded(bytes, MAX_FEED) {
        Ok(d) => d,
        Err(e) => {
            out.records += 1;
            out.skip(file, "", e);
            return out;
        }
    };
    let feed: Feed = match serde_json::from_slice(&data) {
        Ok(f) => f,
        Err(e) => {
            out.records += 1;
            out.skip(file, "", format!("not an NVD CVE 2.0 feed: {e}"));
            return out;
        }
    };
    let src = Source::Nvd.id();
    for (i, v) in feed.vulnerabilities.into_iter().enumerate() {
        out.records += 1;
        let item: Item = match serde_json::from_str(v.get()) {
            Ok(x) => x,
            Err(e) => {
                out.skip(
                    file,
                    &format!("vulnerabilities[{i}]"),
                    one_line(&e.to_string()),
                );
                continue;
            }
        };
        let c = item.cve;
        if c.vuln_status.as_deref() == Some("Rejected") {
            out.withdrawn += 1;
            continue;
        }
        let description = c
            .descriptions
            .iter()
            .find(|d| d.lang == "en")
            .or_else(|| c.descriptions.first())
            .map(|d| d.value.clone());
        let mut cvss = Vec::new();
        let mut severity: Option<Severity> = None;
        // Newest CVSS version first; the Primary (NVD's own) metric wins.
        for (group, is_v2) in [
            (&c.metrics.v40, false),
            (&c.metrics.v31, false),
            (&c.metrics.v30, false),
            (&c.metrics.v2, true),
        ] {
            let mut metrics: Vec<&Metric> = group.iter().collect();
            metrics.sort_by_key(|m| m.kind.as_deref() != Some("Primary"));
            for m in metrics {
                let d = &m.cvss_data;
                cvss.push(Cvss {
                    source: src.to_string(),
                    version: d.version.clone().unwrap_or_default(),
                    vector: d.vector_string.clone().unwrap_or_default(),
                    score: d.base_score,
                });
                if severity.is_none() {
                    let qual = if is_v2 {
                        m.base_severity.as_deref()
                    } else {
                        d.base_severity.as_deref()
                    };
                    severity = qual.and_then(Severity::parse).or_else(|| {
                        d.base_score.map(|s| {
                            if is_v2 && s >= 9.0 {
                                Severity::High
                            } else {
                                Severity::from_cvss_score(s)
                            }
                        })
                    });
                }
            }
        }
        let mut cwe_ids: Vec<String> = Vec::new();
        for w in &c.weaknesses {
            for d in &w.description {
                if d.value.starts_with("CWE-") && !cwe_ids.contains(&d.value) {
                    cwe_ids.push(d.value.clone());
                }
            }
        }
        out.vulns.push(VulnRecord {
            id: c.id,
            aliases: Vec::new(),
            title: None,
            description,
            severity,
            cvss,
            cwe_ids,
            references: c.references.into_iter().map(|r| r.url).collect(),
            published: c.published,
            modified: c.last_modified,
        });
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A two-CVE feed in the exact NVD 2.0 format (one rejected).
    pub(crate) const FEED: &str = include_str!("../../tests/fixtures/nvdcve-2.0-2019.json");

    #[test]
    fn feed() {
        let out = parse("nvdcve-2.0-2019.json", FEED.as_bytes());
        assert_eq!((out.records, out.withdrawn), (2, 1));
        let v = &out.vulns[0];
        assert_eq!(v.id, "CVE-2019-14697");
        assert_eq!(v.severity, Some(Severity::Critical));
        assert_eq!(v.cwe_ids, vec!["CWE-787"]);
        assert_eq!(v.cvss.len(), 2);
        assert_eq!(v.cvss[1].vector, "AV:N/AC:L/Au:N/C:P/I:P/A:P");
        assert!(v
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("musl")));
    }

    #[test]
    fn gzip() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(FEED.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        let out = parse("nvdcve-2.0-2019.json.gz", &bytes);
        assert_eq!(out.vulns.len(), 1);
        let out = parse("x.json.gz", &[0x1f, 0x8b, 1, 2, 3]);
        assert_eq!(out.skipped.len(), 1);
    }
}
