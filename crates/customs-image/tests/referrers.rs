//! Documents attached to an image, from a real registry on 127.0.0.1:
//! Debian's docker-registry (distribution 2.8), which has no referrers API,
//! so every lookup here takes the referrers tag-schema fallback for real.
//! The real alpine:3.10 image from ../shared is pushed with skopeo and
//! artifacts are attached to it by the distribution API, as `oras attach`
//! does.

use customs_image::digest::Digest;
use customs_image::registry::auth::AuthFiles;
use customs_image::registry::referrers::{discover_vex, Discovery, VEX_ARTIFACT_TYPES};
use customs_image::registry::Client;
use customs_image::{ImageError, ImageRef, RemoteOptions};
use customs_testkit::artifact::{self, Artifact};
use customs_testkit::registry::Registry;

const REPO: &str = "library/alpine";

fn shared(p: &str) -> String {
    format!("{}/../../../shared/data/{p}", env!("CARGO_MANIFEST_DIR"))
}

fn remote() -> RemoteOptions {
    RemoteOptions {
        insecure: true,
        auth_files: AuthFiles::default(),
        retries: 1,
        backoff: std::time::Duration::from_millis(50),
        ..RemoteOptions::default()
    }
}

fn must<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn alpine(reg: &Registry) -> String {
    reg.push(
        &format!("docker-archive:{}", shared("images/alpine-3.10.tar.gz")),
        &format!("{REPO}:3.10"),
    )
}

fn reference(reg: &Registry, suffix: &str) -> ImageRef {
    must(ImageRef::parse(&format!("{}/{REPO}{suffix}", reg.host())))
}

const OPENVEX: &[u8] = br#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex-1","author":"test","timestamp":"2026-01-01T00:00:00Z","version":1,"statements":[{"vulnerability":{"name":"CVE-2019-14697"},"products":[{"@id":"pkg:apk/alpine/musl"}],"status":"not_affected","justification":"vulnerable_code_not_present"}]}"#;
const CDX: &[u8] = br#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"vulnerabilities":[{"id":"CVE-2019-14697","analysis":{"state":"in_triage"},"affects":[{"ref":"pkg:apk/alpine/musl"}]}]}"#;

#[test]
fn attached_vex_documents_are_found_through_the_tag_fallback() {
    let reg = Registry::plain();
    let subject = alpine(&reg);
    let ov = artifact::attach(&reg, REPO, &subject, &Artifact::openvex(OPENVEX));
    let cdx = artifact::attach(&reg, REPO, &subject, &Artifact::cyclonedx(CDX));
    // An SBOM beside them is not VEX.
    let spdx = artifact::attach(
        &reg,
        REPO,
        &subject,
        &Artifact::of(
            "application/spdx+json",
            b"{\"spdxVersion\":\"SPDX-2.3\"}",
            "sbom.spdx.json",
        ),
    );
    assert_eq!(ov.tag, cdx.tag);

    // The registry has no referrers API: it answers 404 there.
    let client = must(Client::connect(&reference(&reg, ":3.10"), &remote()));
    let sd = Digest::parse(&subject).unwrap_or_else(|| panic!("{subject}"));
    let listed = must(client.referrers(&sd, None));
    assert_eq!(listed.via, Discovery::TagSchema);
    assert_eq!(listed.descriptors.len(), 3);
    assert!(
        reg.access_log().iter().any(
            |l| l.contains(&format!("GET /v2/{REPO}/referrers/{subject}")) && l.contains("\" 404 ")
        ),
        "no 404 for the referrers API in the access log:\n{}",
        reg.access_log().join("\n")
    );

    // By tag: the subject is what the tag resolves to.
    let docs = must(discover_vex(&reference(&reg, ":3.10"), &remote()));
    let mut got: Vec<(String, Vec<u8>, String)> = docs
        .iter()
        .map(|d| {
            (
                d.manifest
                    .artifact_type()
                    .as_ref()
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                d.bytes.clone(),
                d.source.clone(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "application/vnd.cyclonedx+json".to_string(),
                CDX.to_vec(),
                format!("oci:{}/{REPO}@{}", reg.host(), cdx.manifest_digest)
            ),
            (
                "application/vnd.openvex+json".to_string(),
                OPENVEX.to_vec(),
                format!("oci:{}/{REPO}@{}", reg.host(), ov.manifest_digest)
            ),
        ]
    );
    assert!(docs.iter().all(|d| d.subject == sd));
    assert!(docs
        .iter()
        .all(|d| d.layer.digest().to_string() != spdx.layer_digest));
    // The SPDX artifact's manifest was never fetched: the index said its type.
    assert_eq!(
        reg.count_requests(
            "GET",
            &format!("/v2/{REPO}/manifests/{}", spdx.manifest_digest)
        ),
        0
    );

    // By digest: the same documents.
    let by_digest = must(discover_vex(
        &reference(&reg, &format!("@{subject}")),
        &remote(),
    ));
    assert_eq!(by_digest.len(), 2);
}

#[test]
fn an_image_without_referrers_has_none() {
    let reg = Registry::plain();
    alpine(&reg);
    let docs = must(discover_vex(&reference(&reg, ":3.10"), &remote()));
    assert!(docs.is_empty());
}

#[test]
fn stale_and_foreign_entries_of_the_tag_index_are_passed_over() {
    let reg = Registry::plain();
    let subject = alpine(&reg);
    // Another image in the same repository, with a VEX document of its own.
    let other = reg.push(
        &format!("docker-archive:{}", shared("images/alpine-3.20.3.tar.gz")),
        &format!("{REPO}:3.20.3"),
    );
    let foreign = artifact::attach(&reg, REPO, &other, &Artifact::openvex(OPENVEX));
    // A crafted tag index on alpine:3.10 lists it.
    artifact::add_to_referrers_tag(
        &reg,
        REPO,
        &subject,
        serde_json::json!({
            "mediaType": artifact::MANIFEST_TYPE,
            "digest": foreign.manifest_digest,
            "size": foreign.manifest.len(),
            "artifactType": "application/vnd.openvex+json",
        }),
    );
    // And a referrer deleted since it was listed (the tag index is not
    // maintained by the registry: it goes stale).
    let gone = artifact::attach(&reg, REPO, &subject, &Artifact::cyclonedx(CDX));
    artifact::delete_manifest(&reg, REPO, &gone.manifest_digest);
    let client = must(Client::connect(&reference(&reg, ":3.10"), &remote()));
    let sd = Digest::parse(&subject).unwrap_or_else(|| panic!("{subject}"));
    assert_eq!(must(client.referrers(&sd, None)).descriptors.len(), 2);
    let docs = must(discover_vex(&reference(&reg, ":3.10"), &remote()));
    assert!(docs.is_empty(), "{docs:?}");
    // The other image still has its own.
    let docs = must(discover_vex(&reference(&reg, ":3.20.3"), &remote()));
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].bytes, OPENVEX);
}

#[test]
fn a_tampered_document_or_a_lying_descriptor_is_an_error() {
    let reg = Registry::plain();
    let subject = alpine(&reg);
    let a = artifact::attach(&reg, REPO, &subject, &Artifact::openvex(OPENVEX));
    reg.corrupt_blob(&a.layer_digest);
    let e = discover_vex(&reference(&reg, ":3.10"), &remote())
        .err()
        .unwrap_or_else(|| panic!("a corrupted VEX blob was accepted"));
    assert!(matches!(e, ImageError::DigestMismatch { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains(&a.layer_digest), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");

    // A tag index that lies about a referrer's size.
    let reg = Registry::plain();
    let subject = alpine(&reg);
    let layer = artifact::push_blob(&reg, REPO, OPENVEX);
    artifact::push_blob(&reg, REPO, artifact::EMPTY_JSON);
    let (media, body) = artifact::get_manifest(&reg, REPO, &subject)
        .unwrap_or_else(|| panic!("no subject manifest"));
    let m = artifact::artifact_manifest(
        &Artifact::openvex(OPENVEX),
        &layer,
        &subject,
        &media,
        body.len(),
    );
    let md = artifact::put_manifest(
        &reg,
        REPO,
        &customs_testkit::sha256(&m),
        artifact::MANIFEST_TYPE,
        &m,
    );
    artifact::add_to_referrers_tag(
        &reg,
        REPO,
        &subject,
        serde_json::json!({
            "mediaType": artifact::MANIFEST_TYPE,
            "digest": md,
            "size": m.len() + 1,
            "artifactType": "application/vnd.openvex+json",
        }),
    );
    let e = discover_vex(&reference(&reg, ":3.10"), &remote())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("but its descriptor says"), "{e}");
}

#[test]
fn discovery_goes_through_basic_auth() {
    let reg = Registry::basic("alice", "s3cret");
    let subject = alpine(&reg);
    artifact::attach(&reg, REPO, &subject, &Artifact::openvex(OPENVEX));
    let anonymous = discover_vex(&reference(&reg, ":3.10"), &remote())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        anonymous.contains("asks for a user name and password"),
        "{anonymous}"
    );
    let opts = RemoteOptions {
        credential: Some(customs_image::registry::auth::Credential {
            kind: customs_image::registry::auth::CredKind::Basic {
                username: "alice".into(),
                password: "s3cret".into(),
            },
            source: "test".into(),
        }),
        ..remote()
    };
    let docs = must(discover_vex(&reference(&reg, ":3.10"), &opts));
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].bytes, OPENVEX);
    assert_eq!(VEX_ARTIFACT_TYPES.len(), 3);
}
