//! What the user typed after `customs image`: a file, an explicit transport
//! (`docker-archive:app.tar`, `oci:dir:tag`, `docker://nginx:1.27`,
//! `docker-daemon:app:latest`, `podman://app:latest`), or an image reference
//! (`redis:8.4.0-alpine3.22`, `ghcr.io/org/app@sha256:…`) to look up in the
//! local engines and then the registry.
//!
//! Reference parsing and Docker's normalization (`docker.io` and `library/`
//! implied) are oci-spec's `Reference`, a port of distribution's own code.

use oci_spec::distribution::Reference;
use std::fmt;
use std::path::Path;

/// Where an image may come from, in the order the user chose (`--image-src`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageSrc {
    Docker,
    Podman,
    Remote,
}

impl ImageSrc {
    /// The default order, as Trivy's: the local engines first, then the registry.
    pub const DEFAULT: [ImageSrc; 3] = [ImageSrc::Docker, ImageSrc::Podman, ImageSrc::Remote];

    pub fn parse(s: &str) -> Option<ImageSrc> {
        match s.trim().to_ascii_lowercase().as_str() {
            "docker" => Some(ImageSrc::Docker),
            "podman" => Some(ImageSrc::Podman),
            "remote" => Some(ImageSrc::Remote),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ImageSrc::Docker => "docker",
            ImageSrc::Podman => "podman",
            ImageSrc::Remote => "remote",
        }
    }
}

/// A parsed image reference, kept with the text the user typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// As typed (`redis:8.4.0-alpine3.22`): the report's `ArtifactName`.
    pub typed: String,
    /// The name without a transport prefix, as an engine is asked for it
    /// (Podman resolves short names of its own images, `localhost/app`).
    pub name: String,
    /// The registry host as named (`docker.io`, `localhost:5000`).
    pub registry: String,
    /// The repository (`library/redis`).
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parse a reference the way `docker pull` does.
    pub fn parse(s: &str) -> Result<ImageRef, String> {
        let s = s.trim();
        let r: Reference = s
            .parse()
            .map_err(|e| format!("'{s}' is not a valid image reference ({e})"))?;
        // As docker: `UPPER/case` is no repository (its regexp would take
        // `UPPER` for a path component of docker.io).
        if r.repository().chars().any(|c| c.is_ascii_uppercase()) {
            return Err(format!(
                "'{s}' is not a valid image reference (repository names are lowercase)"
            ));
        }
        Ok(ImageRef {
            typed: s.to_string(),
            name: s.to_string(),
            registry: r.registry().to_string(),
            repository: r.repository().to_string(),
            // A digest decides; a tag beside it is only a label.
            tag: r.tag().map(str::to_string),
            digest: r.digest().map(str::to_string),
        })
    }

    /// Docker Hub (which serves its API from another host).
    pub fn is_docker_hub(&self) -> bool {
        self.registry == "docker.io"
    }

    /// What the manifest is fetched by: the digest when given, else the tag.
    pub fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The repository as Docker prints it: `redis` for `docker.io/library/redis`,
    /// `user/app` for Docker Hub users, `host/repo` elsewhere.
    pub fn familiar_name(&self) -> String {
        if self.is_docker_hub() {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_string()
        } else {
            format!("{}/{}", self.registry, self.repository)
        }
    }

    /// `RepoTags` as Trivy writes them for a registry image.
    pub fn repo_tags(&self) -> Vec<String> {
        match &self.tag {
            Some(t) if self.digest.is_none() => vec![format!("{}:{t}", self.familiar_name())],
            _ => Vec::new(),
        }
    }

    /// The fully qualified name an engine is asked for
    /// (`docker.io/library/redis:8.4.0`), which Docker and Podman both accept.
    pub fn qualified(&self) -> String {
        let mut s = format!("{}/{}", self.registry, self.repository);
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.typed)
    }
}

/// What `customs image TARGET` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file or directory (docker-archive, OCI layout), with an optional
    /// `:tag`/`@digest` suffix as `Image::open` takes it.
    File(String),
    /// A reference to look up in these sources, in order.
    Named(ImageRef, Vec<ImageSrc>),
}

/// Parse what the user typed. Explicit transports use skopeo's names;
/// anything else that exists on disk is a file; the rest is a reference,
/// looked up in `sources` (in order).
pub fn parse_target(s: &str, sources: &[ImageSrc]) -> Result<Target, String> {
    const FILES: [&str; 4] = ["docker-archive:", "oci-archive:", "oci:", "dir:"];
    for p in FILES {
        if let Some(rest) = s.strip_prefix(p) {
            if rest.is_empty() {
                return Err(format!("'{s}': the transport {p} needs a path"));
            }
            return Ok(Target::File(rest.to_string()));
        }
    }
    let engines: [(&str, ImageSrc); 5] = [
        ("docker://", ImageSrc::Remote),
        ("registry:", ImageSrc::Remote),
        ("docker-daemon:", ImageSrc::Docker),
        ("docker-daemon://", ImageSrc::Docker),
        ("podman://", ImageSrc::Podman),
    ];
    // The longest prefix wins (`docker-daemon://` over `docker-daemon:`).
    if let Some((p, src)) = engines
        .iter()
        .filter(|(p, _)| s.starts_with(p))
        .max_by_key(|(p, _)| p.len())
    {
        let rest = &s[p.len()..];
        let r = ImageRef::parse(rest)?;
        return Ok(Target::Named(
            ImageRef {
                typed: s.to_string(),
                ..r
            },
            vec![*src],
        ));
    }
    if Path::new(s).exists() || split_existing(s) {
        return Ok(Target::File(s.to_string()));
    }
    if sources.is_empty() {
        return Err("--image-src lists no source".into());
    }
    let looks_like_path = s.starts_with('/')
        || s.starts_with("./")
        || s.starts_with("../")
        || [".tar", ".tar.gz", ".tgz", ".tar.zst"]
            .iter()
            .any(|e| s.ends_with(e));
    if looks_like_path {
        return Err(format!("{s}: no such file or directory"));
    }
    Ok(Target::Named(ImageRef::parse(s)?, sources.to_vec()))
}

/// `path:tag` / `path@digest` of an existing file.
fn split_existing(s: &str) -> bool {
    let cut = |c: char| s.rsplit_once(c).is_some_and(|(p, _)| Path::new(p).exists());
    cut('@') || cut(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_names_are_normalized() {
        let r = ImageRef::parse("redis:8.4.0-alpine3.22").unwrap();
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "library/redis");
        assert_eq!(r.tag.as_deref(), Some("8.4.0-alpine3.22"));
        assert_eq!(r.repo_tags(), vec!["redis:8.4.0-alpine3.22".to_string()]);
        assert_eq!(r.qualified(), "docker.io/library/redis:8.4.0-alpine3.22");
        let u = ImageRef::parse("bitnami/redis").unwrap();
        assert_eq!(u.repository, "bitnami/redis");
        assert_eq!(u.manifest_ref(), "latest");
        assert_eq!(u.familiar_name(), "bitnami/redis");
    }

    #[test]
    fn registries_ports_and_digests() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!("localhost:5000/team/app@{d}")).unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.manifest_ref(), d);
        assert!(r.repo_tags().is_empty());
        assert_eq!(r.familiar_name(), "localhost:5000/team/app");
        assert!(ImageRef::parse("ghcr.io/org/app@sha256:abc").is_err());
        assert!(ImageRef::parse("UPPER/case").is_err());
        assert!(ImageRef::parse("").is_err());
    }

    #[test]
    fn transports_pick_the_source() {
        let all = ImageSrc::DEFAULT;
        assert_eq!(
            parse_target("docker-archive:app.tar", &all).unwrap(),
            Target::File("app.tar".into())
        );
        assert_eq!(
            parse_target("oci:layout:1.0", &all).unwrap(),
            Target::File("layout:1.0".into())
        );
        match parse_target("docker://localhost:5000/app:1", &all).unwrap() {
            Target::Named(r, s) => {
                assert_eq!(s, vec![ImageSrc::Remote]);
                assert_eq!(r.registry, "localhost:5000");
                assert_eq!(r.typed, "docker://localhost:5000/app:1");
            }
            t => panic!("{t:?}"),
        }
        match parse_target("podman://app:latest", &all).unwrap() {
            Target::Named(r, s) => {
                assert_eq!(s, vec![ImageSrc::Podman]);
                assert_eq!(r.repository, "library/app");
            }
            t => panic!("{t:?}"),
        }
        match parse_target("docker-daemon:app:latest", &all).unwrap() {
            Target::Named(_, s) => assert_eq!(s, vec![ImageSrc::Docker]),
            t => panic!("{t:?}"),
        }
        match parse_target("nginx:1.27", &[ImageSrc::Remote]).unwrap() {
            Target::Named(_, s) => assert_eq!(s, vec![ImageSrc::Remote]),
            t => panic!("{t:?}"),
        }
        assert!(parse_target("docker-archive:", &all).is_err());
        for missing in ["./missing.tar", "missing.tar.gz", "/no/such"] {
            let e = parse_target(missing, &all).unwrap_err();
            assert!(e.contains("no such file"), "{e}");
        }
        assert!(parse_target("nginx", &[]).is_err());
    }

    #[test]
    fn sources_parse() {
        assert_eq!(ImageSrc::parse("Remote"), Some(ImageSrc::Remote));
        assert_eq!(ImageSrc::parse("containerd"), None);
    }
}
