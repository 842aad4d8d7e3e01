//! Which base a built image is on.
//!
//! The best evidence is the OCI annotations `org.opencontainers.image.base.name`
//! and `org.opencontainers.image.base.digest` (BuildKit writes them on the
//! manifest; some builds set the same keys as config labels). Without them
//! an image's layers tell: it is built on a candidate base when its diff IDs
//! start with all of the candidate's ([`shared_prefix`], [`is_built_on`]).

use std::collections::BTreeMap;

/// The annotation (and label) naming the base image.
pub const BASE_NAME: &str = "org.opencontainers.image.base.name";
/// The annotation (and label) with the base image's manifest digest.
pub const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

/// What says which base an image is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseEvidence {
    /// `org.opencontainers.image.base.name` (and `.digest`), from the
    /// manifest's annotations or the config's labels.
    Annotation {
        name: String,
        digest: Option<String>,
    },
    /// The history entry that created the first layer (`ADD file:… in /`),
    /// which names the base's root filesystem but not the base.
    History {
        created_by: String,
    },
    None,
}

fn non_empty(m: &BTreeMap<String, String>, k: &str) -> Option<String> {
    m.get(k)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The base name and digest from a manifest's annotations, or else from the
/// config's labels (the manifest wins, key by key: a digest is taken from
/// the same map as the name).
pub fn base_from_annotations(
    manifest_annotations: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> Option<(String, Option<String>)> {
    for m in [manifest_annotations, labels] {
        if let Some(name) = non_empty(m, BASE_NAME) {
            return Some((name, non_empty(m, BASE_DIGEST)));
        }
    }
    None
}

/// The number of leading diff IDs two images share.
pub fn shared_prefix(image_diff_ids: &[String], candidate_diff_ids: &[String]) -> usize {
    image_diff_ids
        .iter()
        .zip(candidate_diff_ids)
        .take_while(|(a, b)| a == b)
        .count()
}

/// Whether the image is built on `candidate`: it shares all of the
/// candidate's layers (and the candidate has some).
pub fn is_built_on(image_diff_ids: &[String], candidate_diff_ids: &[String]) -> bool {
    !candidate_diff_ids.is_empty()
        && shared_prefix(image_diff_ids, candidate_diff_ids) == candidate_diff_ids.len()
}

/// The best evidence at hand: the annotations, else the first non-empty
/// history entry's `created_by`, else none.
pub fn evidence(
    manifest_annotations: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
    history_created_by: &[String],
) -> BaseEvidence {
    if let Some((name, digest)) = base_from_annotations(manifest_annotations, labels) {
        return BaseEvidence::Annotation { name, digest };
    }
    match history_created_by.iter().find(|c| !c.trim().is_empty()) {
        Some(c) => BaseEvidence::History {
            created_by: c.clone(),
        },
        None => BaseEvidence::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn annotations_then_labels() {
        let d = "sha256:aaaa";
        let m = map(&[
            (BASE_NAME, "docker.io/library/alpine:3.22"),
            (BASE_DIGEST, d),
        ]);
        let l = map(&[(BASE_NAME, "debian:12")]);
        assert_eq!(
            base_from_annotations(&m, &l),
            Some(("docker.io/library/alpine:3.22".into(), Some(d.into())))
        );
        assert_eq!(
            base_from_annotations(&BTreeMap::new(), &l),
            Some(("debian:12".into(), None))
        );
        let blank = map(&[(BASE_NAME, "  ")]);
        assert_eq!(base_from_annotations(&blank, &BTreeMap::new()), None);
        assert_eq!(
            evidence(&BTreeMap::new(), &l, &[]),
            BaseEvidence::Annotation {
                name: "debian:12".into(),
                digest: None
            }
        );
        let h = vec![
            String::new(),
            "/bin/sh -c #(nop) ADD file:abc in / ".to_string(),
        ];
        assert_eq!(
            evidence(&BTreeMap::new(), &BTreeMap::new(), &h),
            BaseEvidence::History {
                created_by: h[1].clone()
            }
        );
        assert_eq!(
            evidence(&BTreeMap::new(), &BTreeMap::new(), &[]),
            BaseEvidence::None
        );
    }

    #[test]
    fn prefixes() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let img = s(&["a", "b", "c"]);
        assert_eq!(shared_prefix(&img, &s(&["a", "b"])), 2);
        assert!(is_built_on(&img, &s(&["a", "b"])));
        assert_eq!(shared_prefix(&img, &s(&["a", "x"])), 1);
        assert!(!is_built_on(&img, &s(&["a", "x"])));
        assert!(!is_built_on(&img, &[]));
        assert!(!is_built_on(&s(&["a"]), &img));
        assert_eq!(shared_prefix(&[], &img), 0);
    }
}
