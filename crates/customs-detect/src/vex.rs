//! VEX (Vulnerability Exploitability eXchange) in and out.
//!
//! - In: [`parse`] / [`load`] read one document of OpenVEX (0.2 and the
//!   0.0.x drafts), CycloneDX VEX (1.4 to 1.6, `vulnerabilities[].analysis`)
//!   or CSAF 2.0 with the VEX profile (`document.category` `csaf_vex`); the
//!   format is told from the content. [`VexSet`] merges several documents
//!   and [`apply_vex`] applies them to a finished report: `not_affected` and
//!   `fixed` suppress a finding (kept under `ModifiedFindings` with
//!   `--show-suppressed`), `affected` and `under_investigation` annotate it
//!   (`VEX` of the finding).
//! - Out: [`generate_openvex`] writes an OpenVEX 0.2 document from ignore
//!   rules and/or the suppressed findings of a report.
//!
//! Rules (matching, conflicts, what is refused): docs/vex.md.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use customs_report::{DetectedVulnerability, ModifiedFinding, Report, VexAnnotation};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::date::Date;
use crate::ignore::{IgnoreRule, IgnoreRules, RuleKind, Subject};

/// VEX documents larger than this are refused.
pub const MAX_VEX_BYTES: u64 = 64 << 20;

/// The OpenVEX context [`generate_openvex`] writes.
pub const OPENVEX_CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

/// A VEX document that cannot be used. Display is one line naming the file
/// (or `oci:` source) and the problem.
#[derive(Debug, thiserror::Error)]
pub enum VexError {
    #[error("cannot read VEX file {file}: {error}")]
    Io { file: String, error: std::io::Error },
    #[error("VEX file {file}: {message}")]
    Invalid { file: String, message: String },
    #[error("cannot generate VEX: {0}")]
    Generate(String),
}

fn invalid(file: &str, message: impl Into<String>) -> VexError {
    VexError::Invalid {
        file: file.to_string(),
        message: message.into(),
    }
}

/// The four VEX statuses (OpenVEX's names; CycloneDX and CSAF map onto them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VexStatus {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl VexStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }

    /// An OpenVEX status label.
    pub fn parse(s: &str) -> Option<VexStatus> {
        match s.trim() {
            "not_affected" => Some(VexStatus::NotAffected),
            "affected" => Some(VexStatus::Affected),
            "fixed" => Some(VexStatus::Fixed),
            "under_investigation" => Some(VexStatus::UnderInvestigation),
            _ => None,
        }
    }

    /// Does a statement of this status remove the finding?
    pub fn suppresses(self) -> bool {
        matches!(self, VexStatus::NotAffected | VexStatus::Fixed)
    }
}

impl std::fmt::Display for VexStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The justification labels of OpenVEX and CSAF (the VEX working group's).
pub const JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// The format a document was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VexFormat {
    OpenVex,
    CycloneDx,
    Csaf,
}

impl VexFormat {
    pub fn name(self) -> &'static str {
        match self {
            VexFormat::OpenVex => "OpenVEX",
            VexFormat::CycloneDx => "CycloneDX",
            VexFormat::Csaf => "CSAF",
        }
    }
}

/// An instant, as nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i128);

impl Timestamp {
    /// Parse an RFC 3339 date-time (`2023-01-08T18:02:03.647787998-06:00`,
    /// `2022-03-03T11:00:00.000Z`); a bare `YYYY-MM-DD` is midnight UTC.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        let b = s.as_bytes();
        let num = |from: usize, len: usize| -> Option<i64> {
            let part = s.get(from..from + len)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let date = Date::new(y as i32, u8::try_from(mo).ok()?, u8::try_from(d).ok()?)?;
        let days = days_from_civil(date);
        if b.len() == 10 {
            return Some(Timestamp(i128::from(days) * 86_400 * 1_000_000_000));
        }
        if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        if h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        let mut i = 19;
        let mut nanos: i128 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return None;
            }
            let frac = &s[start..i.min(start + 9)];
            let scale = 9 - frac.len() as u32;
            nanos = frac.parse::<i128>().ok()? * 10i128.pow(scale);
        }
        let offset_secs: i64 = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
                let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let o = oh * 3600 + om * 60;
                if *sign == b'-' {
                    -o
                } else {
                    o
                }
            }
            _ => return None,
        };
        let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_secs;
        Some(Timestamp(i128::from(secs) * 1_000_000_000 + nanos))
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(d: Date) -> i64 {
    let (m, day) = (i64::from(d.month), i64::from(d.day));
    let y = i64::from(d.year) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One VEX statement: a vulnerability, the products it is about, a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    pub vulnerability: String,
    /// Other ids of the vulnerability (OpenVEX `aliases`, CycloneDX
    /// `references`, CSAF `ids`).
    pub aliases: Vec<String>,
    /// Product identifiers: PURLs (`pkg:oci/…@sha256%3A…` for an image),
    /// image digests or references, as the document names them (bom-refs
    /// and CSAF product ids resolved to their PURLs).
    pub products: Vec<String>,
    /// Components of the products where the vulnerability lives (PURLs).
    pub subcomponents: Vec<String>,
    pub status: VexStatus,
    /// A justification label (`vulnerable_code_not_present`, or CycloneDX's
    /// own `code_not_present`…), empty when none.
    pub justification: String,
    /// Why the product is not affected (free text).
    pub impact_statement: String,
    /// What to do about it (free text; CSAF remediations).
    pub action_statement: String,
    /// When the statement was made: its own timestamp, else its document's.
    pub timestamp: Option<Timestamp>,
    /// The file (or `oci:` source) it came from.
    pub source: String,
}

impl VexStatement {
    /// Justification and impact statement, as one line of text.
    pub fn statement_text(&self) -> String {
        let parts: Vec<&str> = [
            self.justification.as_str(),
            self.impact_statement.as_str(),
            self.action_statement.as_str(),
        ]
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
        parts.join(": ")
    }
}

/// One parsed VEX document.
#[derive(Debug, Clone)]
pub struct VexDocument {
    pub source: String,
    pub format: VexFormat,
    pub timestamp: Option<Timestamp>,
    pub statements: Vec<VexStatement>,
}

/// Read and parse a VEX file (refused above [`MAX_VEX_BYTES`]).
pub fn load(path: &Path) -> Result<VexDocument, VexError> {
    let shown = path.display().to_string();
    let io = |error| VexError::Io {
        file: shown.clone(),
        error,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let too_big = || {
        invalid(
            &shown,
            format!("larger than {} MiB; refused", MAX_VEX_BYTES >> 20),
        )
    };
    if f.metadata().map_err(io)?.len() > MAX_VEX_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    f.take(MAX_VEX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_VEX_BYTES {
        return Err(too_big());
    }
    parse(&bytes, &shown)
}

/// Parse one VEX document; the format is told from its content.
/// `source` names it in statements and errors.
pub fn parse(bytes: &[u8], source: &str) -> Result<VexDocument, VexError> {
    if bytes.len() as u64 > MAX_VEX_BYTES {
        return Err(invalid(
            source,
            format!("larger than {} MiB; refused", MAX_VEX_BYTES >> 20),
        ));
    }
    let probe: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| invalid(source, format!("not JSON ({e})")))?;
    let Some(obj) = probe.as_object() else {
        return Err(invalid(source, "not a VEX document (not a JSON object)"));
    };
    let context = obj.get("@context").and_then(|c| match c {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(a) => a.iter().find_map(|v| v.as_str().map(str::to_string)),
        _ => None,
    });
    if context.is_some_and(|c| c.starts_with("https://openvex.dev/ns")) {
        return openvex::parse(bytes, source);
    }
    if obj.get("bomFormat").and_then(|v| v.as_str()) == Some("CycloneDX") {
        return cyclonedx::parse(bytes, source);
    }
    if let Some(doc) = obj.get("document").and_then(|d| d.as_object()) {
        if doc.contains_key("csaf_version") || doc.contains_key("category") {
            return csaf::parse(bytes, source);
        }
    }
    Err(invalid(
        source,
        "unknown format (expected OpenVEX, CycloneDX VEX or CSAF VEX)",
    ))
}

fn syntax(source: &str, format: VexFormat, e: serde_json::Error) -> VexError {
    invalid(source, format!("malformed {} document: {e}", format.name()))
}

fn timestamp_of(source: &str, field: &str, v: Option<&str>) -> Result<Option<Timestamp>, VexError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Timestamp::parse(s).map(Some).ok_or_else(|| {
            invalid(
                source,
                format!("{field} {s:?} is not an RFC 3339 timestamp"),
            )
        }),
    }
}

fn text(s: Option<String>) -> String {
    s.map(|s| s.trim().to_string()).unwrap_or_default()
}

mod openvex {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        timestamp: Option<String>,
        #[serde(default)]
        last_updated: Option<String>,
        #[serde(default)]
        statements: Option<Vec<Statement>>,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Vuln {
        Id(String),
        Obj {
            #[serde(rename = "@id", default)]
            id: Option<String>,
            #[serde(default)]
            name: Option<String>,
            #[serde(default)]
            aliases: Option<Vec<String>>,
        },
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Component {
        Id(String),
        Obj(ComponentObj),
    }

    #[derive(Deserialize)]
    struct ComponentObj {
        #[serde(rename = "@id", default)]
        id: Option<String>,
        #[serde(default)]
        identifiers: Option<BTreeMap<String, String>>,
        #[serde(default)]
        hashes: Option<BTreeMap<String, String>>,
        #[serde(default)]
        subcomponents: Option<Vec<Component>>,
    }

    #[derive(Deserialize)]
    struct Statement {
        vulnerability: Vuln,
        #[serde(default)]
        timestamp: Option<String>,
        #[serde(default)]
        last_updated: Option<String>,
        #[serde(default)]
        products: Option<Vec<Component>>,
        #[serde(default)]
        subcomponents: Option<Vec<Component>>,
        status: String,
        #[serde(default)]
        justification: Option<String>,
        #[serde(default)]
        impact_statement: Option<String>,
        #[serde(default)]
        action_statement: Option<String>,
    }

    /// Every identifier of a component: `@id`, its `identifiers` (purl,
    /// cpe) and its hashes as `alg:hex` digests.
    fn ids(c: &Component) -> Vec<String> {
        match c {
            Component::Id(s) => vec![s.trim().to_string()],
            Component::Obj(o) => {
                let mut v = Vec::new();
                v.extend(o.id.iter().map(|s| s.trim().to_string()));
                for id in o.identifiers.iter().flat_map(|m| m.values()) {
                    v.push(id.trim().to_string());
                }
                for (alg, hex) in o.hashes.iter().flatten() {
                    let alg = match alg.to_ascii_lowercase().as_str() {
                        "sha-256" | "sha256" => "sha256",
                        "sha-512" | "sha512" => "sha512",
                        _ => continue,
                    };
                    v.push(format!("{alg}:{}", hex.trim().to_ascii_lowercase()));
                }
                v.retain(|s| !s.is_empty());
                v.dedup();
                v
            }
        }
    }

    pub(super) fn parse(bytes: &[u8], source: &str) -> Result<VexDocument, VexError> {
        let doc: Doc =
            serde_json::from_slice(bytes).map_err(|e| syntax(source, VexFormat::OpenVex, e))?;
        let doc_ts = match timestamp_of(source, "last_updated", doc.last_updated.as_deref())? {
            Some(t) => Some(t),
            None => timestamp_of(source, "timestamp", doc.timestamp.as_deref())?,
        };
        let mut statements = Vec::new();
        for (i, st) in doc.statements.unwrap_or_default().into_iter().enumerate() {
            let n = i + 1;
            let status = VexStatus::parse(&st.status).ok_or_else(|| {
                invalid(
                    source,
                    format!("statement {n}: unknown status {:?}", st.status),
                )
            })?;
            let (vulnerability, aliases) = match st.vulnerability {
                Vuln::Id(s) => (s.trim().to_string(), Vec::new()),
                Vuln::Obj { id, name, aliases } => {
                    let name = name.map(|s| s.trim().to_string()).unwrap_or_default();
                    let id = id.map(|s| s.trim().to_string()).unwrap_or_default();
                    let mut aliases: Vec<String> = aliases
                        .unwrap_or_default()
                        .into_iter()
                        .map(|a| a.trim().to_string())
                        .filter(|a| !a.is_empty())
                        .collect();
                    if name.is_empty() {
                        (id, aliases)
                    } else {
                        if !id.is_empty() && id != name {
                            aliases.push(id);
                        }
                        (name, aliases)
                    }
                }
            };
            if vulnerability.is_empty() {
                return Err(invalid(
                    source,
                    format!("statement {n}: the vulnerability has no name"),
                ));
            }
            let ts = match timestamp_of(source, "last_updated", st.last_updated.as_deref())? {
                Some(t) => Some(t),
                None => timestamp_of(source, "timestamp", st.timestamp.as_deref())?,
            }
            .or(doc_ts);
            let shared_subs: Vec<String> =
                st.subcomponents.iter().flatten().flat_map(ids).collect();
            let base = VexStatement {
                vulnerability,
                aliases,
                products: Vec::new(),
                subcomponents: Vec::new(),
                status,
                justification: text(st.justification),
                impact_statement: text(st.impact_statement),
                action_statement: text(st.action_statement),
                timestamp: ts,
                source: source.to_string(),
            };
            let products = st.products.unwrap_or_default();
            if products.is_empty() {
                statements.push(VexStatement {
                    subcomponents: shared_subs,
                    ..base
                });
                continue;
            }
            // In 0.2 each product carries its own subcomponents: one
            // statement per product keeps them apart.
            for p in &products {
                let mut subs = shared_subs.clone();
                if let Component::Obj(o) = p {
                    subs.extend(o.subcomponents.iter().flatten().flat_map(ids));
                }
                statements.push(VexStatement {
                    products: ids(p),
                    subcomponents: subs,
                    ..base.clone()
                });
            }
        }
        Ok(VexDocument {
            source: source.to_string(),
            format: VexFormat::OpenVex,
            timestamp: doc_ts,
            statements,
        })
    }
}

mod cyclonedx {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        metadata: Option<Metadata>,
        #[serde(default)]
        components: Option<Vec<Component>>,
        #[serde(default)]
        vulnerabilities: Option<Vec<Vuln>>,
    }

    #[derive(Deserialize)]
    struct Metadata {
        #[serde(default)]
        timestamp: Option<String>,
        #[serde(default)]
        component: Option<Component>,
    }

    #[derive(Deserialize)]
    struct Component {
        #[serde(rename = "bom-ref", default)]
        bom_ref: Option<String>,
        #[serde(default)]
        purl: Option<String>,
        #[serde(default)]
        components: Option<Vec<Component>>,
    }

    #[derive(Deserialize)]
    struct Vuln {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        references: Option<Vec<Reference>>,
        #[serde(default)]
        analysis: Option<Analysis>,
        #[serde(default)]
        affects: Option<Vec<Affect>>,
        #[serde(default)]
        updated: Option<String>,
        #[serde(default)]
        published: Option<String>,
    }

    #[derive(Deserialize)]
    struct Reference {
        #[serde(default)]
        id: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Analysis {
        #[serde(default)]
        state: Option<String>,
        #[serde(default)]
        justification: Option<String>,
        #[serde(default)]
        response: Option<Vec<String>>,
        #[serde(default)]
        detail: Option<String>,
        #[serde(default)]
        first_issued: Option<String>,
        #[serde(default)]
        last_updated: Option<String>,
    }

    #[derive(Deserialize)]
    struct Affect {
        #[serde(rename = "ref")]
        reference: String,
        #[serde(default)]
        versions: Option<Vec<serde_json::Value>>,
    }

    fn index(c: &Component, refs: &mut HashMap<String, String>) {
        if let (Some(r), Some(p)) = (&c.bom_ref, &c.purl) {
            refs.entry(r.trim().to_string())
                .or_insert_with(|| p.trim().to_string());
        }
        for sub in c.components.iter().flatten() {
            index(sub, refs);
        }
    }

    /// A CycloneDX analysis state as a VEX status.
    fn status(state: &str) -> Option<VexStatus> {
        match state {
            "not_affected" | "false_positive" => Some(VexStatus::NotAffected),
            "resolved" | "resolved_with_pedigree" => Some(VexStatus::Fixed),
            "exploitable" => Some(VexStatus::Affected),
            "in_triage" => Some(VexStatus::UnderInvestigation),
            _ => None,
        }
    }

    pub(super) fn parse(bytes: &[u8], source: &str) -> Result<VexDocument, VexError> {
        let doc: Doc =
            serde_json::from_slice(bytes).map_err(|e| syntax(source, VexFormat::CycloneDx, e))?;
        let mut refs = HashMap::new();
        let mut doc_ts = None;
        if let Some(m) = &doc.metadata {
            doc_ts = timestamp_of(source, "metadata.timestamp", m.timestamp.as_deref())?;
            if let Some(c) = &m.component {
                index(c, &mut refs);
            }
        }
        for c in doc.components.iter().flatten() {
            index(c, &mut refs);
        }
        let resolve = |r: &str| -> String {
            let r = r.trim();
            // A BOM-Link (`urn:cdx:SERIAL/VERSION#bom-ref`) names a
            // component of another BOM by its bom-ref.
            let local = match r.strip_prefix("urn:cdx:").and_then(|l| l.split_once('#')) {
                Some((_, frag)) => percent_decode(frag),
                None => r.to_string(),
            };
            refs.get(&local).cloned().unwrap_or(local)
        };
        let mut statements = Vec::new();
        for (i, v) in doc
            .vulnerabilities
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let n = i + 1;
            let id = text(v.id);
            let Some(analysis) = v.analysis else { continue };
            let Some(state) = analysis.state.as_deref().map(str::trim) else {
                continue;
            };
            let status = status(state).ok_or_else(|| {
                invalid(
                    source,
                    format!("vulnerability {n}: unknown analysis state {state:?}"),
                )
            })?;
            if id.is_empty() {
                return Err(invalid(source, format!("vulnerability {n} has no id")));
            }
            let ts = [
                ("analysis.lastUpdated", analysis.last_updated.as_deref()),
                ("analysis.firstIssued", analysis.first_issued.as_deref()),
                ("updated", v.updated.as_deref()),
                ("published", v.published.as_deref()),
            ]
            .into_iter()
            .map(|(f, s)| timestamp_of(source, f, s))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .next()
            .or(doc_ts);
            let aliases: Vec<String> = v
                .references
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.id.map(|s| s.trim().to_string()))
                .filter(|s| !s.is_empty() && *s != id)
                .collect();
            let mut products = Vec::new();
            for a in v.affects.unwrap_or_default() {
                // Version ranges of `affects[].versions` are not evaluated:
                // such an entry is skipped rather than applied to every
                // version.
                if a.versions.as_ref().is_some_and(|v| !v.is_empty()) {
                    tracing::debug!(
                        "{source}: {id}: affects {} has version ranges; skipped",
                        a.reference
                    );
                    continue;
                }
                products.push(resolve(&a.reference));
            }
            let response = analysis.response.unwrap_or_default().join(", ");
            statements.push(VexStatement {
                vulnerability: id,
                aliases,
                products,
                subcomponents: Vec::new(),
                status,
                justification: text(analysis.justification),
                impact_statement: text(analysis.detail),
                action_statement: response,
                timestamp: ts,
                source: source.to_string(),
            });
        }
        Ok(VexDocument {
            source: source.to_string(),
            format: VexFormat::CycloneDx,
            timestamp: doc_ts,
            statements,
        })
    }
}

mod csaf {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        document: Document,
        #[serde(default)]
        product_tree: Option<ProductTree>,
        #[serde(default)]
        vulnerabilities: Option<Vec<Vuln>>,
    }

    #[derive(Deserialize)]
    struct Document {
        #[serde(default)]
        category: Option<String>,
        #[serde(default)]
        tracking: Option<Tracking>,
    }

    #[derive(Deserialize)]
    struct Tracking {
        #[serde(default)]
        current_release_date: Option<String>,
        #[serde(default)]
        initial_release_date: Option<String>,
    }

    #[derive(Deserialize, Default)]
    struct ProductTree {
        #[serde(default)]
        branches: Option<Vec<Branch>>,
        #[serde(default)]
        full_product_names: Option<Vec<FullProductName>>,
        #[serde(default)]
        relationships: Option<Vec<Relationship>>,
        #[serde(default)]
        product_groups: Option<Vec<Group>>,
    }

    #[derive(Deserialize)]
    struct Branch {
        #[serde(default)]
        branches: Option<Vec<Branch>>,
        #[serde(default)]
        product: Option<FullProductName>,
    }

    #[derive(Deserialize)]
    struct FullProductName {
        product_id: String,
        #[serde(default)]
        product_identification_helper: Option<Helper>,
    }

    #[derive(Deserialize)]
    struct Helper {
        #[serde(default)]
        purl: Option<String>,
        /// CSAF 2.1.
        #[serde(default)]
        purls: Option<Vec<String>>,
    }

    #[derive(Deserialize)]
    struct Relationship {
        #[serde(default)]
        category: Option<String>,
        full_product_name: FullProductName,
        product_reference: String,
        relates_to_product_reference: String,
    }

    #[derive(Deserialize)]
    struct Group {
        group_id: String,
        #[serde(default)]
        product_ids: Option<Vec<String>>,
    }

    #[derive(Deserialize)]
    struct Vuln {
        #[serde(default)]
        cve: Option<String>,
        #[serde(default)]
        ids: Option<Vec<Id>>,
        #[serde(default)]
        product_status: Option<ProductStatus>,
        #[serde(default)]
        flags: Option<Vec<Scoped>>,
        #[serde(default)]
        threats: Option<Vec<Scoped>>,
        #[serde(default)]
        remediations: Option<Vec<Scoped>>,
    }

    #[derive(Deserialize)]
    struct Id {
        #[serde(default)]
        text: Option<String>,
    }

    #[derive(Deserialize, Default)]
    struct ProductStatus {
        #[serde(default)]
        known_not_affected: Option<Vec<String>>,
        #[serde(default)]
        fixed: Option<Vec<String>>,
        #[serde(default)]
        first_fixed: Option<Vec<String>>,
        #[serde(default)]
        known_affected: Option<Vec<String>>,
        #[serde(default)]
        first_affected: Option<Vec<String>>,
        #[serde(default)]
        last_affected: Option<Vec<String>>,
        #[serde(default)]
        under_investigation: Option<Vec<String>>,
    }

    /// A flag, threat or remediation: what it says, and of which products.
    #[derive(Deserialize)]
    struct Scoped {
        #[serde(default)]
        label: Option<String>,
        #[serde(default)]
        category: Option<String>,
        #[serde(default)]
        details: Option<String>,
        #[serde(default)]
        date: Option<String>,
        #[serde(default)]
        product_ids: Option<Vec<String>>,
        #[serde(default)]
        group_ids: Option<Vec<String>>,
    }

    impl Scoped {
        fn covers(&self, pid: &str, groups: &HashMap<String, Vec<String>>) -> bool {
            self.product_ids.iter().flatten().any(|p| p == pid)
                || self
                    .group_ids
                    .iter()
                    .flatten()
                    .filter_map(|g| groups.get(g))
                    .any(|members| members.iter().any(|p| p == pid))
        }
    }

    fn helper_purls(f: &FullProductName) -> Vec<String> {
        let Some(h) = &f.product_identification_helper else {
            return Vec::new();
        };
        let mut v: Vec<String> = h.purl.iter().cloned().collect();
        v.extend(h.purls.iter().flatten().cloned());
        v.iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    fn walk(b: &Branch, purls: &mut HashMap<String, Vec<String>>) {
        if let Some(p) = &b.product {
            purls
                .entry(p.product_id.clone())
                .or_default()
                .extend(helper_purls(p));
        }
        for sub in b.branches.iter().flatten() {
            walk(sub, purls);
        }
    }

    pub(super) fn parse(bytes: &[u8], source: &str) -> Result<VexDocument, VexError> {
        let doc: Doc =
            serde_json::from_slice(bytes).map_err(|e| syntax(source, VexFormat::Csaf, e))?;
        let category = doc.document.category.as_deref().unwrap_or("").trim();
        if category != "csaf_vex" {
            return Err(invalid(
                source,
                format!("a CSAF document of category {category:?}, not the VEX profile (csaf_vex)"),
            ));
        }
        let doc_ts = match &doc.document.tracking {
            Some(t) => match timestamp_of(
                source,
                "tracking.current_release_date",
                t.current_release_date.as_deref(),
            )? {
                Some(ts) => Some(ts),
                None => timestamp_of(
                    source,
                    "tracking.initial_release_date",
                    t.initial_release_date.as_deref(),
                )?,
            },
            None => None,
        };
        let tree = doc.product_tree.unwrap_or_default();
        let mut purls: HashMap<String, Vec<String>> = HashMap::new();
        for b in tree.branches.iter().flatten() {
            walk(b, &mut purls);
        }
        for f in tree.full_product_names.iter().flatten() {
            purls
                .entry(f.product_id.clone())
                .or_default()
                .extend(helper_purls(f));
        }
        // A relationship's product is the component (product_reference)
        // inside the product it relates to.
        let mut relations: HashMap<String, (String, String)> = HashMap::new();
        for r in tree.relationships.iter().flatten() {
            let cat = r.category.as_deref().unwrap_or("");
            if !matches!(
                cat,
                "default_component_of"
                    | "optional_component_of"
                    | "external_component_of"
                    | "installed_on"
                    | "installed_with"
            ) {
                continue;
            }
            let id = r.full_product_name.product_id.clone();
            purls
                .entry(id.clone())
                .or_default()
                .extend(helper_purls(&r.full_product_name));
            relations.insert(
                id,
                (
                    r.product_reference.clone(),
                    r.relates_to_product_reference.clone(),
                ),
            );
        }
        let groups: HashMap<String, Vec<String>> = tree
            .product_groups
            .into_iter()
            .flatten()
            .map(|g| (g.group_id, g.product_ids.unwrap_or_default()))
            .collect();
        let purls_of = |id: &str| purls.get(id).cloned().unwrap_or_default();
        // (products, subcomponents) of a product id.
        let resolve = |pid: &str| -> (Vec<String>, Vec<String>) {
            if let Some((component, parent)) = relations.get(pid) {
                let parents = purls_of(parent);
                let comps = purls_of(component);
                if parents.is_empty() {
                    return (comps, Vec::new());
                }
                return (parents, comps);
            }
            (purls_of(pid), Vec::new())
        };

        let mut statements = Vec::new();
        for (i, v) in doc
            .vulnerabilities
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let mut names: Vec<String> = v.cve.iter().map(|s| s.trim().to_string()).collect();
            names.extend(
                v.ids
                    .iter()
                    .flatten()
                    .filter_map(|id| id.text.as_ref().map(|s| s.trim().to_string())),
            );
            names.retain(|s| !s.is_empty());
            names.dedup();
            let Some((vulnerability, aliases)) = names.split_first() else {
                return Err(invalid(
                    source,
                    format!("vulnerability {} has neither cve nor ids", i + 1),
                ));
            };
            let ps = v.product_status.unwrap_or_default();
            let groups_of_status = [
                (VexStatus::NotAffected, vec![ps.known_not_affected]),
                (VexStatus::Fixed, vec![ps.fixed, ps.first_fixed]),
                (
                    VexStatus::Affected,
                    vec![ps.known_affected, ps.first_affected, ps.last_affected],
                ),
                (VexStatus::UnderInvestigation, vec![ps.under_investigation]),
            ];
            for (status, lists) in groups_of_status {
                let mut seen = BTreeSet::new();
                for pid in lists.into_iter().flatten().flatten() {
                    if !seen.insert(pid.clone()) {
                        continue;
                    }
                    let flag = v.flags.iter().flatten().find(|f| f.covers(&pid, &groups));
                    let threat = v.threats.iter().flatten().find(|t| {
                        t.category.as_deref() == Some("impact") && t.covers(&pid, &groups)
                    });
                    let remediation = v
                        .remediations
                        .iter()
                        .flatten()
                        .find(|r| r.covers(&pid, &groups));
                    let (products, subcomponents) = resolve(&pid);
                    if products.is_empty() {
                        tracing::debug!(
                            "{source}: {vulnerability}: product {pid} has no package URL; its statement cannot match"
                        );
                    }
                    let mut ts = doc_ts;
                    if let Some(f) = flag {
                        if let Some(t) = timestamp_of(source, "flags.date", f.date.as_deref())? {
                            ts = Some(t);
                        }
                    }
                    let (justification, impact_statement) = if status == VexStatus::NotAffected {
                        (
                            flag.and_then(|f| f.label.clone()).unwrap_or_default(),
                            threat.and_then(|t| t.details.clone()).unwrap_or_default(),
                        )
                    } else {
                        (String::new(), String::new())
                    };
                    let action_statement = match (status, remediation) {
                        (VexStatus::Affected | VexStatus::Fixed, Some(r)) => {
                            let cat = r.category.clone().unwrap_or_default();
                            let det = r.details.clone().unwrap_or_default();
                            [cat, det]
                                .into_iter()
                                .filter(|s| !s.trim().is_empty())
                                .collect::<Vec<_>>()
                                .join(": ")
                        }
                        _ => String::new(),
                    };
                    statements.push(VexStatement {
                        vulnerability: vulnerability.clone(),
                        aliases: aliases.to_vec(),
                        products,
                        subcomponents,
                        status,
                        justification: justification.trim().to_string(),
                        impact_statement: impact_statement.trim().to_string(),
                        action_statement,
                        timestamp: ts,
                        source: source.to_string(),
                    });
                }
            }
        }
        Ok(VexDocument {
            source: source.to_string(),
            format: VexFormat::Csaf,
            timestamp: doc_ts,
            statements,
        })
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The comparable parts of a Package URL (the `packageurl` crate parses).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Purl {
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: BTreeMap<String, String>,
    subpath: Option<String>,
}

impl Purl {
    fn parse(s: &str) -> Option<Purl> {
        let p = packageurl::PackageUrl::from_str(s.trim()).ok()?;
        Some(Purl {
            ty: p.ty().to_ascii_lowercase(),
            namespace: p.namespace().map(str::to_string),
            name: p.name().to_string(),
            version: p.version().map(str::to_string),
            qualifiers: p
                .qualifiers()
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            subpath: p.subpath().map(str::to_string),
        })
    }

    /// Does this VEX purl name `pkg`? Type, namespace and name must be
    /// equal; the version only when the VEX purl has one; of the
    /// qualifiers, those the VEX purl states (OpenVEX's rule).
    fn covers(&self, pkg: &Purl) -> bool {
        self.ty == pkg.ty
            && self.namespace == pkg.namespace
            && self.name == pkg.name
            && (self.version.is_none() || self.version == pkg.version)
            && self
                .qualifiers
                .iter()
                .all(|(k, v)| pkg.qualifiers.get(k) == Some(v))
            && (self.subpath.is_none() || self.subpath == pkg.subpath)
    }
}

/// A statement's product, as it is matched.
#[derive(Debug, Clone)]
enum Product {
    /// A package.
    Package(Purl),
    /// An image by content digest (`pkg:oci/…@sha256:…`, `sha256:…`,
    /// `name@sha256:…`).
    ImageDigest(String),
    /// An image by name (`pkg:oci/name` without a digest, `name:tag`).
    ImageName(String),
    /// Nothing this scan can have (a CPE, an unresolved bom-ref).
    Other,
}

impl Product {
    fn parse(s: &str) -> Product {
        let s = s.trim();
        if s.starts_with("pkg:") {
            let Some(p) = Purl::parse(s) else {
                return Product::Other;
            };
            if p.ty == "oci" {
                return match &p.version {
                    Some(v) if is_digest(v) => Product::ImageDigest(v.to_ascii_lowercase()),
                    Some(_) => Product::Other,
                    None => Product::ImageName(p.name.to_ascii_lowercase()),
                };
            }
            return Product::Package(p);
        }
        if is_digest(s) {
            return Product::ImageDigest(s.to_ascii_lowercase());
        }
        if s.starts_with("cpe:") || s.contains(char::is_whitespace) || s.is_empty() {
            return Product::Other;
        }
        if let Some((_, d)) = s.rsplit_once('@') {
            if is_digest(d) {
                return Product::ImageDigest(d.to_ascii_lowercase());
            }
            return Product::Other;
        }
        if s.contains(':') || s.contains('/') {
            return Product::ImageName(s.to_string());
        }
        Product::Other
    }
}

fn is_digest(s: &str) -> bool {
    let Some((alg, hex)) = s.split_once(':') else {
        return false;
    };
    let len = match alg.to_ascii_lowercase().as_str() {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What identifies the scanned image.
struct ImageIds {
    digests: BTreeSet<String>,
    /// Full references (`name:tag`, `name@digest`) and bare repository names.
    names: BTreeSet<String>,
}

impl ImageIds {
    fn of(report: &Report) -> ImageIds {
        let mut digests = BTreeSet::new();
        let mut names = BTreeSet::new();
        let m = &report.metadata;
        if is_digest(&m.image_id) {
            digests.insert(m.image_id.to_ascii_lowercase());
        }
        let mut add_name = |r: &str| {
            let r = r.trim();
            if r.is_empty() {
                return;
            }
            names.insert(r.to_string());
            let repo = match r.split_once('@') {
                Some((n, _)) => n,
                None => match r.rsplit_once(':') {
                    Some((n, tag)) if !tag.contains('/') => n,
                    _ => r,
                },
            };
            names.insert(repo.to_string());
            if let Some(last) = repo.rsplit('/').next() {
                names.insert(last.to_ascii_lowercase());
            }
        };
        for rd in &m.repo_digests {
            if let Some((_, d)) = rd.rsplit_once('@') {
                if is_digest(d) {
                    digests.insert(d.to_ascii_lowercase());
                }
            }
            add_name(rd);
        }
        for t in &m.repo_tags {
            add_name(t);
        }
        if report.artifact_type == "container_image" || report.artifact_type.is_empty() {
            add_name(&report.artifact_name);
        }
        ImageIds { digests, names }
    }

    fn matches(&self, p: &Product) -> bool {
        match p {
            Product::ImageDigest(d) => self.digests.contains(d),
            Product::ImageName(n) => self.names.contains(n),
            _ => false,
        }
    }
}

/// A statement with its products parsed, and where it stands in the set.
#[derive(Debug, Clone)]
struct Prepared {
    statement: VexStatement,
    products: Vec<Product>,
    subcomponents: Vec<Purl>,
}

impl Prepared {
    fn applies(&self, image: &ImageIds, pkg: Option<&Purl>) -> bool {
        self.products.iter().any(|p| match p {
            // A package named as the product; subcomponents of a package
            // cannot be checked against the scan (findings do not say
            // which package contains which), so such a statement is left.
            Product::Package(vp) => {
                self.subcomponents.is_empty()
                    && self.statement.subcomponents.is_empty()
                    && pkg.is_some_and(|k| vp.covers(k))
            }
            Product::ImageDigest(_) | Product::ImageName(_) => {
                image.matches(p)
                    && (self.statement.subcomponents.is_empty()
                        || pkg.is_some_and(|k| self.subcomponents.iter().any(|s| s.covers(k))))
            }
            Product::Other => false,
        })
    }

    /// Does the statement name something this scan has?
    fn in_scan(&self, image: &ImageIds, purls: &[Purl]) -> bool {
        self.products.iter().any(|p| match p {
            Product::Package(vp) => purls.iter().any(|k| vp.covers(k)),
            Product::Other => false,
            _ => image.matches(p),
        })
    }
}

/// Statements of several documents, merged. When several statements match
/// one finding, the one with the latest timestamp wins (a statement without
/// one has its document's; a statement with neither loses to any dated
/// one); on a tie, the one given later (later file, later in its file).
#[derive(Debug, Clone, Default)]
pub struct VexSet {
    statements: Vec<Prepared>,
    /// Lowercase vulnerability id or alias → statement indexes.
    by_id: HashMap<String, Vec<usize>>,
}

impl VexSet {
    /// Merge documents, in the order given (the order of `--vex` flags).
    pub fn new(docs: impl IntoIterator<Item = VexDocument>) -> VexSet {
        let mut set = VexSet::default();
        for d in docs {
            for s in d.statements {
                set.push(s);
            }
        }
        set
    }

    fn push(&mut self, statement: VexStatement) {
        let i = self.statements.len();
        let mut keys: Vec<String> = std::iter::once(&statement.vulnerability)
            .chain(&statement.aliases)
            .map(|s| s.trim().to_ascii_lowercase())
            .collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            self.by_id.entry(k).or_default().push(i);
        }
        let products = statement
            .products
            .iter()
            .map(|p| Product::parse(p))
            .collect();
        let subcomponents = statement
            .subcomponents
            .iter()
            .filter_map(|s| Purl::parse(s))
            .collect();
        self.statements.push(Prepared {
            statement,
            products,
            subcomponents,
        });
    }

    pub fn len(&self) -> usize {
        self.statements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    pub fn statements(&self) -> impl Iterator<Item = &VexStatement> {
        self.statements.iter().map(|p| &p.statement)
    }

    /// The statement that decides `v` (a finding of the scanned `image`).
    fn decide(&self, v: &DetectedVulnerability, image: &ImageIds) -> Option<usize> {
        let pkg = v.pkg_identifier.purl.as_deref().and_then(Purl::parse);
        let mut candidates: Vec<usize> = std::iter::once(&v.vulnerability_id)
            .chain(&v.vendor_ids)
            .filter_map(|id| self.by_id.get(&id.trim().to_ascii_lowercase()))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .filter(|&i| self.statements[i].applies(image, pkg.as_ref()))
            .max_by_key(|&i| (self.statements[i].statement.timestamp, i))
    }
}

/// What [`apply_vex`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VexOutcome {
    /// Findings removed by `not_affected` or `fixed` statements.
    pub suppressed: usize,
    /// Findings annotated by `affected` or `under_investigation` statements.
    pub annotated: usize,
    /// Statements that decided no finding of the report.
    pub unmatched: usize,
}

/// Apply the VEX statements to `report` in place. A suppressed finding
/// moves to its result's `ModifiedFindings` (status `not_affected` or
/// `fixed`) when `show_suppressed`; an annotated one keeps its place with
/// `VEX` set.
pub fn apply_vex(report: &mut Report, vex: &VexSet, show_suppressed: bool) -> VexOutcome {
    let mut out = VexOutcome::default();
    if vex.is_empty() {
        return out;
    }
    let image = ImageIds::of(report);
    let mut used = vec![false; vex.statements.len()];
    let mut scan_purls: Vec<Purl> = Vec::new();
    for result in &mut report.results {
        for p in &result.packages {
            if let Some(k) = p.identifier.purl.as_deref().and_then(Purl::parse) {
                scan_purls.push(k);
            }
        }
        let vulns = std::mem::take(&mut result.vulnerabilities);
        for mut v in vulns {
            if let Some(k) = v.pkg_identifier.purl.as_deref().and_then(Purl::parse) {
                scan_purls.push(k);
            }
            let Some(i) = vex.decide(&v, &image) else {
                result.vulnerabilities.push(v);
                continue;
            };
            used[i] = true;
            let st = &vex.statements[i].statement;
            if st.status.suppresses() {
                out.suppressed += 1;
                if show_suppressed {
                    let value = serde_json::to_value(&v).unwrap_or(serde_json::Value::Null);
                    result.modified_findings.push(ModifiedFinding {
                        kind: "vulnerability".to_string(),
                        status: st.status.as_str().to_string(),
                        statement: st.statement_text(),
                        source: st.source.clone(),
                        finding: value,
                    });
                }
                continue;
            }
            out.annotated += 1;
            let statement = match st.status {
                VexStatus::Affected if !st.action_statement.is_empty() => {
                    st.action_statement.clone()
                }
                _ => [st.impact_statement.as_str(), st.action_statement.as_str()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(": "),
            };
            v.vex = Some(VexAnnotation {
                status: st.status.as_str().to_string(),
                justification: st.justification.clone(),
                statement,
                source: st.source.clone(),
            });
            result.vulnerabilities.push(v);
        }
    }
    for (i, p) in vex.statements.iter().enumerate() {
        if used[i] {
            continue;
        }
        out.unmatched += 1;
        let st = &p.statement;
        if p.in_scan(&image, &scan_purls) {
            tracing::debug!(
                "VEX {}: {} ({}) for {}: no finding of this scan matches",
                st.source,
                st.vulnerability,
                st.status,
                st.products.join(", ")
            );
        } else {
            tracing::debug!(
                "VEX {}: {} ({}) names no product of this scan ({}); ignored",
                st.source,
                st.vulnerability,
                st.status,
                if st.products.is_empty() {
                    "no products".to_string()
                } else {
                    st.products.join(", ")
                }
            );
        }
    }
    out
}

/// Who and when, for [`generate_openvex`].
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// The document's `author` (required by OpenVEX).
    pub author: String,
    /// The author's `role`; omitted when empty.
    pub role: String,
    /// The document's `timestamp`, RFC 3339.
    pub timestamp: String,
    /// Rules expired on this day are left out.
    pub today: Date,
    /// Products for rules that name no package (e.g. the image's
    /// `pkg:oci/…@sha256%3A…`); such rules are otherwise resolved through
    /// the report's findings, or skipped.
    pub products: Vec<String>,
}

/// A generated OpenVEX document.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The JSON document (pretty-printed, with a final newline).
    pub document: String,
    /// Statements written.
    pub statements: usize,
    /// Rules and findings left out, each with the reason (one line each).
    pub skipped: Vec<String>,
}

/// Does this id of a `.trivyignore` line (which may name any kind of
/// finding) look like a vulnerability's? Misconfiguration ids (`AVD-…`,
/// `DS002`, `KSV001`) and secret rule ids (lowercase words) do not.
fn looks_like_vuln_id(id: &str) -> bool {
    let up = id.to_ascii_uppercase();
    let digits_after = |n: usize| id.bytes().skip(n).all(|b| b.is_ascii_digit());
    if up.starts_with("AVD-") || (up.starts_with("DS") && digits_after(2)) {
        return false;
    }
    if up.starts_with("KSV") || up.starts_with("KCV") {
        return false;
    }
    id.contains('-')
        && id.bytes().any(|b| b.is_ascii_digit())
        && id.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct OutKey {
    vulnerability: String,
    status: &'static str,
    justification: String,
    impact: String,
}

/// Write an OpenVEX 0.2 document from ignore rules and/or the suppressed
/// findings of a report.
///
/// - A vulnerability rule (YAML `vulnerabilities:`, or a `.trivyignore` id
///   that looks like a vulnerability's) becomes a `not_affected` statement;
///   its products are its `purls`, else the PURLs of the report's findings
///   it matches (paths included), else `opts.products`; a rule with none of
///   them is skipped. Expired rules are left out; a rule's future expiry
///   is stated in the impact statement (VEX has no expiry).
/// - A suppressed finding (`ModifiedFindings` of kind `vulnerability`)
///   becomes a statement about its package: `fixed` when it was
///   suppressed as fixed, else `not_affected`.
/// - The statement text is the justification when it is one of OpenVEX's
///   labels, else the impact statement (OpenVEX needs one of the two).
/// - `@id` is the SHA-256 of the statements, author and timestamp, so the
///   same input gives the same document.
pub fn generate_openvex(
    ignores: &[IgnoreRules],
    report: Option<&Report>,
    opts: &GenerateOptions,
) -> Result<Generated, VexError> {
    if opts.author.trim().is_empty() {
        return Err(VexError::Generate("an author is required".into()));
    }
    if Timestamp::parse(&opts.timestamp).is_none() {
        return Err(VexError::Generate(format!(
            "timestamp {:?} is not an RFC 3339 timestamp",
            opts.timestamp
        )));
    }
    let mut statements: BTreeMap<OutKey, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut skipped = Vec::new();

    // Findings of the report: live ones (for rule resolution) and
    // suppressed ones.
    let mut live: Vec<(String, DetectedVulnerability)> = Vec::new();
    let mut suppressed: Vec<(String, ModifiedFinding, DetectedVulnerability)> = Vec::new();
    if let Some(r) = report {
        for res in &r.results {
            for v in &res.vulnerabilities {
                live.push((res.target.clone(), v.clone()));
            }
            for m in &res.modified_findings {
                if m.kind != "vulnerability" {
                    continue;
                }
                match serde_json::from_value::<DetectedVulnerability>(m.finding.clone()) {
                    Ok(v) => suppressed.push((res.target.clone(), m.clone(), v)),
                    Err(e) => skipped.push(format!(
                        "a suppressed finding of {}: not a vulnerability ({e})",
                        res.target
                    )),
                }
            }
        }
    }
    let split = |text: &str| -> (String, String) {
        let t = text.trim();
        if JUSTIFICATIONS.contains(&t) {
            (t.to_string(), String::new())
        } else {
            (String::new(), t.to_string())
        }
    };

    for file in ignores {
        for rule in &file.rules {
            let is_vuln = match rule.kind {
                RuleKind::Vulnerability => true,
                RuleKind::Any => looks_like_vuln_id(&rule.id),
                _ => false,
            };
            if !is_vuln {
                continue;
            }
            if rule.is_expired(opts.today) {
                skipped.push(format!("{} ({}): expired; left out", rule.id, rule.origin));
                continue;
            }
            let products = rule_products(rule, &live, &suppressed, opts);
            if products.is_empty() {
                skipped.push(format!(
                    "{} ({}): names no package and matches no finding of the report; left out",
                    rule.id, rule.origin
                ));
                continue;
            }
            let (justification, mut impact) = split(&rule.statement);
            if let Some(exp) = rule.expired_at {
                let note = format!("ignored until {exp} ({})", rule.origin);
                impact = if impact.is_empty() {
                    note
                } else {
                    format!("{impact} ({note})")
                };
            }
            if justification.is_empty() && impact.is_empty() {
                impact = format!("ignored by {}", rule.origin);
            }
            let e = statements
                .entry(OutKey {
                    vulnerability: rule.id.clone(),
                    status: "not_affected",
                    justification,
                    impact,
                })
                .or_default();
            e.0.extend(products);
        }
    }

    for (target, m, v) in &suppressed {
        let Some(purl) = v.pkg_identifier.purl.clone() else {
            skipped.push(format!(
                "{} in {target}: the finding has no package URL",
                v.vulnerability_id
            ));
            continue;
        };
        let status = if m.status == "fixed" {
            "fixed"
        } else {
            "not_affected"
        };
        let (justification, mut impact) = split(&m.statement);
        if status == "not_affected" && justification.is_empty() && impact.is_empty() {
            impact = if m.source.is_empty() {
                "suppressed".to_string()
            } else {
                format!("suppressed by {}", m.source)
            };
        }
        let e = statements
            .entry(OutKey {
                vulnerability: v.vulnerability_id.clone(),
                status,
                justification,
                impact,
            })
            .or_default();
        e.0.insert(purl);
        e.1.extend(v.vendor_ids.iter().cloned());
    }

    let out_statements: Vec<serde_json::Value> = statements
        .iter()
        .map(|(k, (products, aliases))| {
            let mut vuln = serde_json::Map::new();
            vuln.insert("name".into(), k.vulnerability.clone().into());
            let aliases: Vec<&String> = aliases.iter().filter(|a| **a != k.vulnerability).collect();
            if !aliases.is_empty() {
                vuln.insert("aliases".into(), serde_json::json!(aliases));
            }
            let mut s = serde_json::Map::new();
            s.insert("vulnerability".into(), vuln.into());
            s.insert(
                "products".into(),
                products
                    .iter()
                    .map(|p| serde_json::json!({ "@id": p }))
                    .collect::<Vec<_>>()
                    .into(),
            );
            s.insert("status".into(), k.status.into());
            if !k.justification.is_empty() {
                s.insert("justification".into(), k.justification.clone().into());
            }
            if !k.impact.is_empty() {
                s.insert("impact_statement".into(), k.impact.clone().into());
            }
            serde_json::Value::Object(s)
        })
        .collect();

    let mut h = Sha256::new();
    h.update(opts.author.as_bytes());
    h.update([0]);
    h.update(opts.timestamp.as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(&out_statements).unwrap_or_default());
    let id = format!(
        "https://openvex.dev/docs/public/vex-{}",
        hex::encode(h.finalize())
    );

    let mut doc = serde_json::Map::new();
    doc.insert("@context".into(), OPENVEX_CONTEXT.into());
    doc.insert("@id".into(), id.into());
    doc.insert("author".into(), opts.author.trim().into());
    if !opts.role.trim().is_empty() {
        doc.insert("role".into(), opts.role.trim().into());
    }
    doc.insert("timestamp".into(), opts.timestamp.trim().into());
    doc.insert("version".into(), 1.into());
    doc.insert(
        "tooling".into(),
        concat!("customs ", env!("CARGO_PKG_VERSION")).into(),
    );
    let n = out_statements.len();
    doc.insert("statements".into(), out_statements.into());
    let mut document = serde_json::to_string_pretty(&serde_json::Value::Object(doc))
        .map_err(|e| VexError::Generate(e.to_string()))?;
    document.push('\n');
    Ok(Generated {
        document,
        statements: n,
        skipped,
    })
}

/// The products a rule's statement is about.
fn rule_products(
    rule: &IgnoreRule,
    live: &[(String, DetectedVulnerability)],
    suppressed: &[(String, ModifiedFinding, DetectedVulnerability)],
    opts: &GenerateOptions,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let findings = live
        .iter()
        .map(|(t, v)| (t, v))
        .chain(suppressed.iter().map(|(t, _, v)| (t, v)));
    let mut from_report = BTreeSet::new();
    for (target, v) in findings {
        let Some(purl) = v.pkg_identifier.purl.as_deref() else {
            continue;
        };
        let mut ids = vec![v.vulnerability_id.as_str()];
        ids.extend(v.vendor_ids.iter().map(String::as_str));
        let s = Subject {
            kind: RuleKind::Vulnerability,
            ids,
            paths: vec![target.as_str(), v.pkg_path.as_str()],
            purl: Some(purl),
        };
        if rule.matches(&s) {
            from_report.insert(purl.to_string());
        }
    }
    if !rule.purls.is_empty() {
        out.extend(rule.purls.iter().map(|p| p.trim().to_string()));
    } else if !from_report.is_empty() {
        out = from_report;
    } else if rule.paths.is_empty() {
        out.extend(opts.products.iter().cloned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use customs_model::PkgIdentifier;
    use customs_report::{class, ScanResult};

    fn must<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
        r.unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn timestamps() {
        let a = Timestamp::parse("2023-01-08T18:02:03.647787998-06:00");
        let b = Timestamp::parse("2023-01-09T00:02:03.647787998Z");
        assert!(a.is_some());
        assert_eq!(a, b);
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:01Z"),
            Some(Timestamp(1_000_000_000))
        );
        assert_eq!(
            Timestamp::parse("1970-01-02"),
            Some(Timestamp(86_400 * 1_000_000_000))
        );
        assert!(
            Timestamp::parse("2022-03-03T11:00:00.000Z")
                < Timestamp::parse("2022-03-03T11:00:00.001Z")
        );
        for bad in [
            "",
            "2023-02-30T00:00:00Z",
            "2023-01-01T25:00:00Z",
            "2023-01-01T00:00:00",
            "2023-01-01T00:00:00+0100",
            "2023-01-01T00:00:00.Z",
            "yesterday",
            "2023-01-01T00:00:00Zjunk",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn purl_cover_rules() {
        let p = |s| Purl::parse(s).unwrap_or_else(|| panic!("{s}"));
        let pkg = p("pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4");
        assert!(p("pkg:apk/alpine/musl").covers(&pkg));
        assert!(p("pkg:apk/alpine/musl@1.1.22-r3").covers(&pkg));
        assert!(p("pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64").covers(&pkg));
        assert!(!p("pkg:apk/alpine/musl@1.1.22-r3?arch=aarch64").covers(&pkg));
        assert!(!p("pkg:apk/alpine/musl@1.1.22-r4").covers(&pkg));
        assert!(!p("pkg:apk/wolfi/musl").covers(&pkg));
        assert!(!p("pkg:deb/alpine/musl").covers(&pkg));
        // The finding's purl lacks a qualifier the VEX purl states.
        assert!(!p("pkg:apk/alpine/musl?distro=3.10.4&foo=bar").covers(&pkg));
    }

    #[test]
    fn products_parse() {
        let d = "sha256:".to_string() + &"ab".repeat(32);
        assert!(matches!(Product::parse(&d), Product::ImageDigest(x) if x == d));
        assert!(matches!(
            Product::parse(&format!("pkg:oci/alpine@sha256%3A{}?repository_url=index.docker.io/library/alpine", "ab".repeat(32))),
            Product::ImageDigest(x) if x == d
        ));
        assert!(matches!(
            Product::parse(&format!("alpine@{d}")),
            Product::ImageDigest(_)
        ));
        assert!(
            matches!(Product::parse("alpine:3.10"), Product::ImageName(n) if n == "alpine:3.10")
        );
        assert!(matches!(Product::parse("pkg:oci/alpine"), Product::ImageName(n) if n == "alpine"));
        assert!(matches!(
            Product::parse("cpe:2.3:a:x:y:1:*:*:*:*:*:*:*"),
            Product::Other
        ));
        assert!(matches!(Product::parse("product-ABC"), Product::Other));
        assert!(matches!(Product::parse("pkg:npm/x@1"), Product::Package(_)));
    }

    fn report() -> Report {
        let mut r = ScanResult::new("img (alpine 3.10.4)", class::OS_PKGS, "alpine");
        for (id, pkg, purl) in [
            (
                "CVE-1",
                "musl",
                "pkg:apk/alpine/musl@1.1.15-r4?arch=x86_64&distro=3.10.4",
            ),
            (
                "CVE-2",
                "busybox",
                "pkg:apk/alpine/busybox@1.27.2-r4?arch=x86_64&distro=3.10.4",
            ),
            (
                "CVE-3",
                "zlib",
                "pkg:apk/alpine/zlib@1.2.11-r1?arch=x86_64&distro=3.10.4",
            ),
        ] {
            r.vulnerabilities.push(DetectedVulnerability {
                vulnerability_id: id.into(),
                vendor_ids: vec![format!("GHSA-{id}")],
                pkg_name: pkg.into(),
                pkg_identifier: PkgIdentifier {
                    purl: Some(purl.into()),
                    uid: None,
                },
                ..Default::default()
            });
        }
        let mut rep = Report {
            artifact_name: "alpine:3.10".into(),
            artifact_type: "container_image".into(),
            results: vec![r],
            ..Default::default()
        };
        rep.metadata.repo_digests = vec![format!("alpine@sha256:{}", "cd".repeat(32))];
        rep.metadata.image_id = format!("sha256:{}", "ef".repeat(32));
        rep
    }

    fn openvex(statements: &str, ts: &str) -> Vec<u8> {
        format!(
            r#"{{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","author":"a","timestamp":"{ts}","version":1,"statements":[{statements}]}}"#
        )
        .into_bytes()
    }

    #[test]
    fn suppress_annotate_and_ignore() {
        let doc = openvex(
            r#"{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:apk/alpine/musl"}],"status":"not_affected","justification":"vulnerable_code_not_present","impact_statement":"not built"},
               {"vulnerability":{"name":"GHSA-CVE-2"},"products":[{"@id":"pkg:oci/alpine@sha256%3Acdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd","subcomponents":[{"@id":"pkg:apk/alpine/busybox"}]}],"status":"under_investigation"},
               {"vulnerability":{"name":"CVE-3"},"products":[{"@id":"pkg:npm/zlib"}],"status":"not_affected","justification":"component_not_present"}"#,
            "2024-01-01T00:00:00Z",
        );
        let set = VexSet::new([must(parse(&doc, "v.json"))]);
        let mut r = report();
        let out = apply_vex(&mut r, &set, true);
        assert_eq!(
            out,
            VexOutcome {
                suppressed: 1,
                annotated: 1,
                unmatched: 1
            }
        );
        let res = &r.results[0];
        let ids: Vec<_> = res
            .vulnerabilities
            .iter()
            .map(|v| v.vulnerability_id.as_str())
            .collect();
        assert_eq!(ids, ["CVE-2", "CVE-3"]);
        assert_eq!(
            res.vulnerabilities[0]
                .vex
                .as_ref()
                .map(|a| a.status.as_str()),
            Some("under_investigation")
        );
        assert!(res.vulnerabilities[1].vex.is_none());
        let m = &res.modified_findings[0];
        assert_eq!(
            (
                m.kind.as_str(),
                m.status.as_str(),
                m.statement.as_str(),
                m.source.as_str()
            ),
            (
                "vulnerability",
                "not_affected",
                "vulnerable_code_not_present: not built",
                "v.json"
            )
        );
        assert_eq!(m.finding["VulnerabilityID"], "CVE-1");

        // Without show_suppressed nothing is kept.
        let mut r = report();
        let out = apply_vex(&mut r, &set, false);
        assert_eq!(out.suppressed, 1);
        assert!(r.results[0].modified_findings.is_empty());
    }

    #[test]
    fn image_statement_without_subcomponents_covers_every_finding() {
        let doc = openvex(
            &format!(
                r#"{{"vulnerability":"CVE-3","products":["sha256:{}"],"status":"fixed"}}"#,
                "ef".repeat(32)
            ),
            "2024-01-01T00:00:00Z",
        );
        let set = VexSet::new([must(parse(&doc, "v.json"))]);
        let mut r = report();
        let out = apply_vex(&mut r, &set, true);
        assert_eq!(out.suppressed, 1);
        assert_eq!(r.results[0].modified_findings[0].status, "fixed");
        // Another image's digest does not.
        let doc = openvex(
            &format!(
                r#"{{"vulnerability":"CVE-3","products":["sha256:{}"],"status":"fixed"}}"#,
                "00".repeat(32)
            ),
            "2024-01-01T00:00:00Z",
        );
        let mut r = report();
        let out = apply_vex(&mut r, &VexSet::new([must(parse(&doc, "v.json"))]), true);
        assert_eq!((out.suppressed, out.unmatched), (0, 1));
    }

    #[test]
    fn latest_statement_wins_and_ties_go_to_the_later_file() {
        let st = |status: &str, ts: &str| {
            format!(
                r#"{{"vulnerability":"CVE-1","products":["pkg:apk/alpine/musl"],"status":"{status}","timestamp":"{ts}","justification":"component_not_present"}}"#
            )
        };
        let older = openvex(
            &st("not_affected", "2024-01-01T00:00:00Z"),
            "2024-01-01T00:00:00Z",
        );
        let newer = openvex(
            &st("affected", "2024-02-01T00:00:00Z"),
            "2024-02-01T00:00:00Z",
        );
        // Newer wins whatever the order.
        for order in [[&older, &newer], [&newer, &older]] {
            let set = VexSet::new(order.iter().map(|b| must(parse(b, "f"))));
            let mut r = report();
            let out = apply_vex(&mut r, &set, true);
            assert_eq!((out.suppressed, out.annotated, out.unmatched), (0, 1, 1));
        }
        // Same timestamp: the later file wins.
        let a = openvex(
            &st("affected", "2024-01-01T00:00:00Z"),
            "2024-01-01T00:00:00Z",
        );
        let b = openvex(
            &st("not_affected", "2024-01-01T00:00:00Z"),
            "2024-01-01T00:00:00Z",
        );
        let set = VexSet::new([must(parse(&a, "a")), must(parse(&b, "b"))]);
        let mut r = report();
        assert_eq!(apply_vex(&mut r, &set, true).suppressed, 1);
        let set = VexSet::new([must(parse(&b, "b")), must(parse(&a, "a"))]);
        let mut r = report();
        assert_eq!(apply_vex(&mut r, &set, true).annotated, 1);
        // A statement's own timestamp beats its document's.
        let doc_newer_stmt_older = openvex(
            &st("affected", "2023-01-01T00:00:00Z"),
            "2025-01-01T00:00:00Z",
        );
        let plain = openvex(
            r#"{"vulnerability":"CVE-1","products":["pkg:apk/alpine/musl"],"status":"not_affected","justification":"component_not_present"}"#,
            "2024-01-01T00:00:00Z",
        );
        let set = VexSet::new([
            must(parse(&plain, "p")),
            must(parse(&doc_newer_stmt_older, "q")),
        ]);
        let mut r = report();
        assert_eq!(apply_vex(&mut r, &set, true).suppressed, 1);
    }

    #[test]
    fn errors_are_one_line_naming_the_file() {
        for (input, want) in [
            (&b"{"[..], "VEX file f.json: not JSON"),
            (&b"[]"[..], "VEX file f.json: not a VEX document"),
            (&b"{\"hello\":1}"[..], "VEX file f.json: unknown format"),
            (
                &br#"{"document":{"category":"csaf_security_advisory","csaf_version":"2.0"}}"#[..],
                "VEX file f.json: a CSAF document of category \"csaf_security_advisory\", not the VEX profile",
            ),
            (
                &br#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":"CVE-1","status":"maybe"}]}"#[..],
                "VEX file f.json: statement 1: unknown status \"maybe\"",
            ),
            (
                &br#"{"@context":"https://openvex.dev/ns/v0.2.0","timestamp":"soon"}"#[..],
                "VEX file f.json: timestamp \"soon\" is not an RFC 3339",
            ),
            (
                &br#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":{}}"#[..],
                "VEX file f.json: malformed OpenVEX document",
            ),
            (
                &br#"{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"CVE-1","analysis":{"state":"bogus"}}]}"#[..],
                "VEX file f.json: vulnerability 1: unknown analysis state",
            ),
        ] {
            let e = parse(input, "f.json").err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.starts_with(want), "{e:?} does not start with {want:?}");
            assert!(!e.contains('\n'), "{e:?}");
        }
    }

    #[test]
    fn oversized_files_are_refused() {
        let dir = must(tempfile::tempdir());
        let p = dir.path().join("big.json");
        let f = must(std::fs::File::create(&p));
        must(f.set_len(MAX_VEX_BYTES + 1));
        let e = load(&p).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.ends_with("larger than 64 MiB; refused"), "{e}");
        let e = load(&dir.path().join("missing.json"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("cannot read VEX file"), "{e}");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("pkg:npm/a%40b@1"), "pkg:npm/a@b@1");
        assert_eq!(percent_decode("abc%"), "abc%");
        assert_eq!(percent_decode("abc%4"), "abc%4");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn vuln_id_heuristic() {
        for id in [
            "CVE-2019-14697",
            "GHSA-abcd-1234-xyzw",
            "RUSTSEC-2020-0001",
            "GO-2022-0001",
            "DSA-5218-1",
        ] {
            assert!(looks_like_vuln_id(id), "{id}");
        }
        for id in [
            "AVD-DS-0002",
            "DS002",
            "KSV001",
            "aws-access-key-id",
            "github-pat",
        ] {
            assert!(!looks_like_vuln_id(id), "{id}");
        }
    }
}
