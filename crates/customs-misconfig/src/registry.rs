//! The check registry: every check's ID, title, severity and advice, for all
//! three scanners. `docs/checks.md` is generated from it.

use customs_model::Severity;

/// Which scanner a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scanner {
    Dockerfile,
    ImageConfig,
    Hardening,
}

impl Scanner {
    /// The name used in results' `Type` (`dockerfile`, `image-config`, `hardening`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scanner::Dockerfile => "dockerfile",
            Scanner::ImageConfig => "image-config",
            Scanner::Hardening => "hardening",
        }
    }

    pub(crate) fn provider(self) -> &'static str {
        match self {
            Scanner::Dockerfile => "Dockerfile",
            Scanner::ImageConfig => "ImageConfig",
            Scanner::Hardening => "Filesystem",
        }
    }
}

/// Static description of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInfo {
    /// `DS-0002` for checks that mean what Trivy's check of that ID means;
    /// `CS-…` for customs' own.
    pub id: &'static str,
    pub scanner: Scanner,
    pub severity: Severity,
    pub title: &'static str,
    pub description: &'static str,
    pub resolution: &'static str,
    pub references: &'static [&'static str],
}

impl CheckInfo {
    /// Whether this is one of Trivy's check IDs (`DS-NNNN`).
    pub fn is_trivy(&self) -> bool {
        self.id.starts_with("DS-")
    }

    /// Trivy's `AVDID` (`AVD-DS-0002`); our own IDs are their own AVD ID.
    pub fn avd_id(&self) -> String {
        if self.is_trivy() {
            format!("AVD-{}", self.id)
        } else {
            self.id.to_string()
        }
    }

    /// The Rego-style namespace Trivy reports (`builtin.dockerfile.DS002`);
    /// `customs.<scanner>.<ID>` for ours.
    pub fn namespace(&self) -> String {
        if let Some(n) = self.id.strip_prefix("DS-") {
            let n = n.trim_start_matches('0');
            format!("builtin.dockerfile.DS{n:0>3}")
        } else {
            format!(
                "customs.{}.{}",
                self.scanner.as_str().replace('-', "_"),
                self.id.replace('-', "_")
            )
        }
    }

    /// `PrimaryURL`: the AVD page for Trivy's IDs, else the first reference.
    pub fn primary_url(&self) -> String {
        if let Some(n) = self.id.strip_prefix("DS-") {
            let n = n.trim_start_matches('0');
            format!("https://avd.aquasec.com/misconfig/ds{n:0>3}")
        } else {
            self.references
                .first()
                .map(|s| s.to_string())
                .unwrap_or_default()
        }
    }

    /// References, the primary URL first.
    pub fn references(&self) -> Vec<String> {
        let mut v = Vec::new();
        let p = self.primary_url();
        if !p.is_empty() {
            v.push(p);
        }
        for r in self.references {
            if !v.iter().any(|x| x == r) {
                v.push(r.to_string());
            }
        }
        v
    }
}

/// Every check of every scanner, in ID order within each scanner.
pub fn registry() -> Vec<&'static CheckInfo> {
    let mut v: Vec<&'static CheckInfo> = crate::checks::DOCKERFILE_CHECKS
        .iter()
        .map(|c| c.info)
        .collect();
    v.extend(crate::checks::image_config::INFOS.iter().copied());
    v.extend(crate::checks::hardening::INFOS.iter().copied());
    v.sort_by(|a, b| a.scanner.cmp(&b.scanner).then_with(|| a.id.cmp(b.id)));
    v.dedup_by(|a, b| a.id == b.id && a.scanner == b.scanner);
    v
}

/// Look a check up by ID (any scanner; the Dockerfile one first).
pub fn check(id: &str) -> Option<&'static CheckInfo> {
    registry().into_iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_described() {
        let all = registry();
        let mut seen = std::collections::HashSet::new();
        for c in &all {
            assert!(seen.insert((c.scanner, c.id)), "duplicate {}", c.id);
            assert!(
                !c.title.is_empty() && !c.description.is_empty() && !c.resolution.is_empty(),
                "{}",
                c.id
            );
            assert!(
                c.id.starts_with("DS-") || c.id.starts_with("CS-"),
                "{}",
                c.id
            );
        }
        assert!(all.len() > 50, "{}", all.len());
    }

    #[test]
    fn trivy_names() {
        let c = check("DS-0002").unwrap_or_else(|| panic!("DS-0002 missing"));
        assert_eq!(c.avd_id(), "AVD-DS-0002");
        assert_eq!(c.namespace(), "builtin.dockerfile.DS002");
        assert_eq!(c.primary_url(), "https://avd.aquasec.com/misconfig/ds002");
    }
}
