//! What the SBOM formats (CycloneDX, SPDX) and the HTML report share: unique
//! element references, the key that links a finding to its package, and the
//! OS a package result belongs to.

use crate::model::{Report, ScanResult};
use std::collections::HashSet;

/// Unique references: `base` the first time, then `base` + separator + `N`
/// when the same reference comes again (a package in two files).
pub(crate) struct Refs {
    used: HashSet<String>,
    sep: &'static str,
}

impl Refs {
    /// References made unique with `sep` (CycloneDX `#`, SPDX `-`).
    pub(crate) fn new(sep: &'static str) -> Self {
        Refs {
            used: HashSet::new(),
            sep,
        }
    }

    pub(crate) fn unique(&mut self, base: String) -> String {
        if self.used.insert(base.clone()) {
            return base;
        }
        let mut n = 2;
        loop {
            let r = format!("{base}{}{n}", self.sep);
            if self.used.insert(r.clone()) {
                return r;
            }
            n += 1;
        }
    }
}

/// How a finding names its package: the package ID, else `name@version`
/// (the same key on both sides of a finding → package link).
pub(crate) fn pkg_key(id: &str, name: &str, version: &str) -> String {
    if id.is_empty() {
        format!("{name}@{version}")
    } else {
        id.to_string()
    }
}

/// The OS of an OS-package result as `(family, version)`: the report's
/// detected OS, else the result's type with no version.
pub(crate) fn os_of(report: &Report, r: &ScanResult) -> (String, String) {
    report
        .metadata
        .os
        .as_ref()
        .map(|o| (o.family.clone(), o.name.clone()))
        .unwrap_or_else(|| (r.kind.clone(), String::new()))
}
