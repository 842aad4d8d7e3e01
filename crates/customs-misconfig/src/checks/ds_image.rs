//! Checks on `FROM` images and stage aliases.

use customs_model::Severity;

use super::{DockerfileContext, Hit};
use crate::dockerfile::Dockerfile;
use crate::registry::{CheckInfo, Scanner};

const MULTISTAGE: &str = "https://docs.docker.com/build/building/multi-stage/";

/// An image reference split into name, tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    pub name: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Split `registry:5000/ns/img:tag@sha256:…`.
pub fn parse_ref(r: &str) -> ImageRef<'_> {
    let (rest, digest) = match r.split_once('@') {
        Some((a, d)) => (a, Some(d)),
        None => (r, None),
    };
    let slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    match rest.get(slash..).and_then(|last| last.rfind(':')) {
        Some(c) => ImageRef {
            name: rest.get(..slash + c).unwrap_or(rest),
            tag: rest.get(slash + c + 1..),
            digest,
        },
        None => ImageRef {
            name: rest,
            tag: None,
            digest,
        },
    }
}

/// External base images of the stages: `(stage index, resolved image)`,
/// skipping `scratch`, earlier stage aliases and unresolved variables.
fn external_images(df: &Dockerfile) -> impl Iterator<Item = (usize, &str)> {
    df.stages.iter().enumerate().filter_map(|(si, s)| {
        let img = s.image.as_deref()?;
        if img.eq_ignore_ascii_case("scratch") || img.is_empty() || df.is_earlier_alias(img, si) {
            return None;
        }
        Some((si, img))
    })
}

pub static DS0001: CheckInfo = CheckInfo {
    id: "DS-0001",
    scanner: Scanner::Dockerfile,
    severity: Severity::Medium,
    title: "':latest' tag used",
    description: "When using a 'FROM' statement you should use a specific tag to avoid uncontrolled behavior when the image is updated.",
    resolution: "Add a tag to the image in the 'FROM' statement",
    references: &["https://docs.docker.com/reference/dockerfile/#from"],
};

pub fn latest_tag(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for (si, img) in external_images(df) {
        let r = parse_ref(img);
        if r.digest.is_none() && r.tag.is_none_or(|t| t == "latest") {
            if let Some(from) = df.stage_from(si) {
                hits.push(Hit::at(
                    from,
                    format!(
                        "Specify a tag in the 'FROM' statement for image '{}'",
                        r.name
                    ),
                ));
            }
        }
    }
    Some(hits)
}

pub static DS0006: CheckInfo = CheckInfo {
    id: "DS-0006",
    scanner: Scanner::Dockerfile,
    severity: Severity::Critical,
    title: "COPY '--from' referring to the current image",
    description: "COPY '--from' should not mention the current FROM alias, since it is impossible to copy from itself.",
    resolution: "Change the '--from' so that it will not refer to itself",
    references: &[MULTISTAGE],
};

pub fn copy_from_self(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for (si, s) in df.stages.iter().enumerate() {
        let Some(alias) = &s.alias else { continue };
        for i in df.stage_instrs(si).filter(|i| i.cmd == "copy") {
            if let Some(from) = i.flag("from") {
                if from.eq_ignore_ascii_case(alias) {
                    hits.push(Hit::at(
                        i,
                        format!("'COPY --from' should not mention current alias '{from}' since it is impossible to copy from itself"),
                    ));
                }
            }
        }
    }
    Some(hits)
}

pub static DS0012: CheckInfo = CheckInfo {
    id: "DS-0012",
    scanner: Scanner::Dockerfile,
    severity: Severity::Critical,
    title: "Duplicate aliases defined in different FROMs",
    description: "Different FROMs can't have the same alias defined.",
    resolution: "Change aliases to make them different",
    references: &[MULTISTAGE],
};

pub fn duplicate_alias(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for (si, s) in df.stages.iter().enumerate() {
        let Some(alias) = &s.alias else { continue };
        if df.is_earlier_alias(alias, si) {
            if let Some(from) = df.stage_from(si) {
                hits.push(Hit::at(
                    from,
                    format!(
                        "Duplicate aliases '{}' are found in different FROMs",
                        alias.to_lowercase()
                    ),
                ));
            }
        }
    }
    Some(hits)
}

pub static CSDS001: CheckInfo = CheckInfo {
    id: "CS-DS-001",
    scanner: Scanner::Dockerfile,
    severity: Severity::Medium,
    title: "Base image not pinned by digest",
    description: "A tag can be moved to other content at any time; only a digest ('image:tag@sha256:...') names exactly the base image that was reviewed and scanned, and makes rebuilds reproducible.",
    resolution: "Pin the base image by digest: FROM image:tag@sha256:<digest> (and let a bot such as Renovate or Dependabot update it)",
    references: &["https://docs.docker.com/reference/dockerfile/#from"],
};

pub fn digest_pin(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let mut hits = Vec::new();
    for (si, img) in external_images(df) {
        if parse_ref(img).digest.is_none() {
            if let Some(from) = df.stage_from(si) {
                hits.push(Hit::at(
                    from,
                    format!("Base image '{img}' is not pinned by digest"),
                ));
            }
        }
    }
    Some(hits)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    #[test]
    fn refs() {
        let r = parse_ref("localhost:5000/ns/img:1.2@sha256:abc");
        assert_eq!(
            (r.name, r.tag, r.digest),
            ("localhost:5000/ns/img", Some("1.2"), Some("sha256:abc"))
        );
        let r = parse_ref("localhost:5000/img");
        assert_eq!((r.name, r.tag), ("localhost:5000/img", None));
    }

    #[test]
    fn ds0001() {
        assert_eq!(hits(latest_tag, "FROM alpine\n"), vec![1]);
        assert_eq!(hits(latest_tag, "FROM alpine:latest AS a\n"), vec![1]);
        assert!(hits(latest_tag, "FROM alpine:3.19\nFROM scratch\n").is_empty());
        // An earlier stage alias is not an image.
        assert!(hits(latest_tag, "FROM alpine:3.19 AS base\nFROM base\n").is_empty());
        // ARG substitution in FROM.
        assert_eq!(
            hits(latest_tag, "ARG T=latest\nFROM alpine:${T}\n"),
            vec![2]
        );
        assert!(hits(latest_tag, "ARG T=3.19\nFROM alpine:$T\n").is_empty());
        // Unknown variable: cannot tell.
        assert!(hits(latest_tag, "ARG BASE\nFROM $BASE\n").is_empty());
        // A digest pins it.
        assert!(hits(latest_tag, "FROM alpine@sha256:0123\n").is_empty());
    }

    #[test]
    fn ds0006() {
        assert_eq!(
            hits(
                copy_from_self,
                "FROM a:1 AS build\nCOPY --from=build /x /y\n"
            ),
            vec![2]
        );
        assert!(hits(
            copy_from_self,
            "FROM a:1 AS build\nFROM b:1\nCOPY --from=build /x /y\n"
        )
        .is_empty());
    }

    #[test]
    fn ds0012() {
        assert_eq!(
            hits(duplicate_alias, "FROM a:1 AS x\nFROM b:1 AS X\n"),
            vec![2]
        );
        assert!(hits(duplicate_alias, "FROM a:1 AS x\nFROM b:1 AS y\n").is_empty());
    }

    #[test]
    fn csds001() {
        assert_eq!(hits(digest_pin, "FROM alpine:3.19\n"), vec![1]);
        assert!(hits(
            digest_pin,
            "FROM alpine:3.19@sha256:abcd AS b\nFROM b\nFROM scratch\n"
        )
        .is_empty());
    }
}
