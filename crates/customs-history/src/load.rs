//! Reading a report: customs JSON and Trivy JSON (`SchemaVersion` 2) share
//! their field names, so one model reads both. What else a Trivy report
//! carries (`Trivy.Version`, `ReportID`, `ArtifactID`, …) is read only for
//! the scanner's name and version.

use crate::{Error, Result};
use customs_report::Report;
use std::path::Path;

/// A report and who wrote it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub report: Report,
    /// `trivy 0.76.0`, `customs` (customs reports carry no version), …
    pub scanner: String,
}

/// Read and parse a report file.
pub fn read_report(path: &Path) -> Result<Loaded> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::Input {
        path: shown.clone(),
        problem: e.to_string(),
    })?;
    parse_report(&bytes, &shown)
}

/// Parse a report; `name` names it in errors.
pub fn parse_report(bytes: &[u8], name: &str) -> Result<Loaded> {
    let bad = |problem: String| Error::Input {
        path: name.to_string(),
        problem,
    };
    let not_report = "not a customs or Trivy JSON report";
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| bad(format!("{not_report} (invalid JSON: {e})")))?;
    let Some(obj) = value.as_object() else {
        return Err(bad(format!("{not_report} (the JSON is not an object)")));
    };
    if obj.contains_key("bomFormat") {
        return Err(bad(format!("{not_report} (a CycloneDX document)")));
    }
    if obj.contains_key("runs") {
        return Err(bad(format!("{not_report} (a SARIF log)")));
    }
    match obj.get("SchemaVersion").and_then(|v| v.as_u64()) {
        Some(2) => {}
        Some(n) => {
            return Err(bad(format!(
                "{not_report} (SchemaVersion {n}; only 2 is read)"
            )))
        }
        None => return Err(bad(format!("{not_report} (no SchemaVersion)"))),
    }
    let trivy = obj
        .get("Trivy")
        .and_then(|t| t.get("Version"))
        .and_then(|v| v.as_str())
        .map(|v| format!("trivy {v}"));
    let mut value = value;
    // Trivy leaves `Metadata` out of some reports (an SBOM scan); the model
    // wants one.
    if let Some(o) = value.as_object_mut() {
        o.entry("Metadata")
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
    }
    let report: Report =
        serde_json::from_value(value).map_err(|e| bad(format!("{not_report} ({e})")))?;
    Ok(Loaded {
        report,
        scanner: trivy.unwrap_or_else(|| "customs".to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse_report(text.as_bytes(), "x.json") {
            Ok(_) => panic!("parsed: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn what_is_not_a_report_is_named_in_one_line() {
        assert_eq!(
            err("{\"bomFormat\":\"CycloneDX\"}"),
            "x.json: not a customs or Trivy JSON report (a CycloneDX document)"
        );
        assert_eq!(
            err("[1,2]"),
            "x.json: not a customs or Trivy JSON report (the JSON is not an object)"
        );
        assert_eq!(
            err("{\"SchemaVersion\":1}"),
            "x.json: not a customs or Trivy JSON report (SchemaVersion 1; only 2 is read)"
        );
        assert!(
            err("hello").starts_with("x.json: not a customs or Trivy JSON report (invalid JSON")
        );
        let e = err("{\"SchemaVersion\":2}");
        assert!(e.contains("ArtifactName"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn a_trivy_report_names_its_version() {
        let l = parse_report(
            br#"{"SchemaVersion":2,"Trivy":{"Version":"0.76.0"},"ArtifactName":"a","ArtifactType":"container_image"}"#,
            "t.json",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(l.scanner, "trivy 0.76.0");
        assert_eq!(l.report.artifact_name, "a");
    }
}
