//! CISA's Known Exploited Vulnerabilities catalog
//! (`known_exploited_vulnerabilities.json`, the schema CISA publishes beside
//! it). Exploit data only: no advisory, no package; each entry names a CVE
//! that is being exploited in the wild.

use serde::Deserialize;

use crate::record::{FeedOutput, KevCatalog, KevRecord};

/// The catalog: entries kept raw and read one by one, so one bad entry is
/// skipped alone.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Catalog<'a> {
    #[serde(default)]
    catalog_version: String,
    #[serde(default)]
    date_released: String,
    #[serde(default)]
    count: Option<u64>,
    #[serde(borrow)]
    vulnerabilities: Vec<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(default)]
    vendor_project: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    vulnerability_name: String,
    date_added: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    known_ransomware_campaign_use: String,
    #[serde(default)]
    required_action: String,
}

/// `CVE-YYYY-NNNN…`.
pub(crate) fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let mut parts = rest.splitn(2, '-');
    let year = parts.next().unwrap_or_default();
    let num = parts.next().unwrap_or_default();
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.len() >= 4
        && num.len() <= 12
        && num.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY-MM-DD`.
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Parse the catalog. One record per listed entry.
pub fn parse(file: &str, bytes: &[u8]) -> FeedOutput {
    let mut out = FeedOutput::default();
    let cat: Catalog = match serde_json::from_slice(bytes) {
        Ok(c) => c,
        Err(e) => {
            out.records += 1;
            out.skip(file, "", format!("not a CISA KEV catalog: {e}"));
            return out;
        }
    };
    out.records = cat.vulnerabilities.len();
    for (i, raw) in cat.vulnerabilities.iter().enumerate() {
        let e: Entry = match serde_json::from_str(raw.get()) {
            Ok(e) => e,
            Err(err) => {
                out.skip(file, &format!("entry {}", i + 1), err.to_string());
                continue;
            }
        };
        let cve = e.cve_id.trim().to_string();
        if !is_cve_id(&cve) {
            out.skip(file, &cve, "cveID is not a CVE id");
            continue;
        }
        if !is_date(e.date_added.trim()) {
            out.skip(
                file,
                &cve,
                format!("dateAdded {:?} is not YYYY-MM-DD", e.date_added),
            );
            continue;
        }
        let due = e.due_date.trim();
        let ransomware = match e.known_ransomware_campaign_use.trim() {
            "Known" => "Known",
            _ => "Unknown",
        };
        out.kev.push(KevRecord {
            cve_id: cve,
            vendor_project: e.vendor_project,
            product: e.product,
            name: e.vulnerability_name,
            date_added: e.date_added.trim().to_string(),
            due_date: if is_date(due) {
                due.to_string()
            } else {
                String::new()
            },
            ransomware: ransomware.to_string(),
            required_action: e.required_action,
        });
    }
    // The header counts the entries: fewer listed means a cut or edited file.
    if let Some(n) = cat.count {
        if n != cat.vulnerabilities.len() as u64 {
            out.skip(
                file,
                "",
                format!(
                    "the catalog says count {n} but lists {} entries",
                    cat.vulnerabilities.len()
                ),
            );
        }
    }
    out.kev_catalog = Some(KevCatalog {
        version: cat.catalog_version,
        released: cat.date_released,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOG: &str = r#"{
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": "2025.08.25",
        "dateReleased": "2025-08-25T17:04:19.9796Z",
        "count": 3,
        "vulnerabilities": [
            {"cveID": "CVE-2021-3156", "vendorProject": "Sudo", "product": "Sudo",
             "vulnerabilityName": "Sudo Heap-Based Buffer Overflow Vulnerability",
             "dateAdded": "2022-04-06", "shortDescription": "…",
             "requiredAction": "Apply updates per vendor instructions.",
             "dueDate": "2022-04-27", "knownRansomwareCampaignUse": "Unknown",
             "notes": "", "cwes": ["CWE-193"]},
            {"cveID": "CVE-2019-5418", "vendorProject": "Rails", "product": "Ruby on Rails",
             "vulnerabilityName": "Ruby on Rails Path Traversal Vulnerability",
             "dateAdded": "2021-11-03", "dueDate": "2022-05-03",
             "knownRansomwareCampaignUse": "Known", "requiredAction": "Apply updates."},
            {"cveID": "not-a-cve", "dateAdded": "2021-11-03"}
        ]
    }"#;

    #[test]
    fn reads_entries_and_skips_bad_ones() {
        let out = parse("kev.json", CATALOG.as_bytes());
        assert_eq!(out.records, 3);
        assert_eq!(out.kev.len(), 2);
        assert_eq!(out.kev[0].cve_id, "CVE-2021-3156");
        assert_eq!(out.kev[0].due_date, "2022-04-27");
        assert_eq!(out.kev[1].ransomware, "Known");
        assert_eq!(out.skipped.len(), 1);
        assert!(out.skipped[0].reason.contains("not a CVE id"));
        let cat = out.kev_catalog.unwrap();
        assert_eq!(cat.version, "2025.08.25");
    }

    #[test]
    fn count_mismatch_is_reported() {
        let text = CATALOG.replace("\"count\": 3", "\"count\": 5");
        let out = parse("kev.json", text.as_bytes());
        assert!(out
            .skipped
            .iter()
            .any(|s| s.reason.contains("count 5 but lists 3")));
    }

    #[test]
    fn not_a_catalog() {
        let out = parse("kev.json", b"{\"$schema\": \"x\"}");
        assert_eq!(out.records, 1);
        assert!(out.skipped[0].reason.starts_with("not a CISA KEV catalog"));
        let out = parse("kev.json", &CATALOG.as_bytes()[..200]);
        assert_eq!(out.kev.len(), 0);
        assert_eq!(out.skipped.len(), 1);
    }

    #[test]
    fn ids_and_dates() {
        assert!(is_cve_id("CVE-2021-44228"));
        assert!(!is_cve_id("CVE-21-44228"));
        assert!(!is_cve_id("GHSA-xxxx"));
        assert!(is_date("2022-04-27"));
        assert!(!is_date("2022-4-27"));
    }
}
