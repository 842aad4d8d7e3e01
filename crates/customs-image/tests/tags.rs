//! Tag listing against a real registry on 127.0.0.1 (Debian's
//! docker-registry): the real alpine:3.10 image from ../shared pushed with
//! skopeo, its manifest PUT under 120 more tags with the distribution API,
//! and listed 50 per page so the `Link` pagination runs for real. The
//! registry (distribution 2.8) ignores `n`, so the paginated listings go
//! through the testkit's `PagingProxy`, which pages the registry's own list
//! as the OCI spec says (and as Docker Hub and distribution 3 do).

use customs_image::registry::auth::{AuthFiles, Credential};
use customs_image::registry::tags::TagLimits;
use customs_image::registry::Client;
use customs_image::{ImageRef, RemoteOptions};
use customs_testkit::artifact;
use customs_testkit::paging::{LinkStyle, PagingProxy};
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

fn client_at(host: &str, repo: &str, opts: &RemoteOptions) -> Client {
    let r = must(ImageRef::parse(&format!("{host}/{repo}:x")));
    must(Client::connect(&r, opts))
}

fn client(reg: &Registry, repo: &str, opts: &RemoteOptions) -> Client {
    client_at(&reg.host(), repo, opts)
}

/// alpine:3.10 under `3.10` and `t000`…`t119`; the pushed digest.
fn fill(reg: &Registry) -> String {
    let digest = reg.push(
        &format!("docker-archive:{}", shared("images/alpine-3.10.tar.gz")),
        &format!("{REPO}:3.10"),
    );
    let (media, body) = artifact::get_manifest(reg, REPO, "3.10")
        .unwrap_or_else(|| panic!("the pushed manifest is not there"));
    for i in 0..120 {
        artifact::put_manifest(reg, REPO, &format!("t{i:03}"), &media, &body);
    }
    digest
}

fn list_requests(reg: &Registry) -> usize {
    reg.count_requests("GET", &format!("/v2/{REPO}/tags/list"))
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn every_tag_is_listed_across_pages() {
    let reg = Registry::plain();
    let digest = fill(&reg);
    let mut want: Vec<String> = (0..120).map(|i| format!("t{i:03}")).collect();
    want.push("3.10".into());
    let want = sorted(want);
    let page50 = TagLimits {
        page_size: 50,
        ..TagLimits::default()
    };

    // The registry itself: one request, whole list.
    let c = client(&reg, REPO, &remote());
    let before = list_requests(&reg);
    assert_eq!(sorted(must(c.tags_with(page50))), want);
    assert_eq!(list_requests(&reg) - before, 1);

    // Paged as the spec says, relative and absolute Links: 50 + 50 + 21.
    for style in [LinkStyle::Relative, LinkStyle::Absolute] {
        let proxy = PagingProxy::start(&reg, style.clone());
        let before = list_requests(&reg);
        let c = client_at(&proxy.host(), REPO, &remote());
        let tags = must(c.tags_with(page50));
        assert_eq!(tags, want, "{style:?}");
        let served = proxy.tag_requests();
        assert_eq!(served.len(), 3, "{style:?}: {served:?}");
        assert_eq!(served[0], format!("/v2/{REPO}/tags/list?n=50"));
        assert!(served[1].contains("last=t048"), "{served:?}");
        assert!(served[2].contains("last=t098"), "{served:?}");
        // Every page came from the registry (its access log has them).
        assert_eq!(
            list_requests(&reg) - before,
            3,
            "{}",
            reg.access_log().join("\n")
        );
    }

    // One page when it fits.
    let proxy = PagingProxy::start(&reg, LinkStyle::Relative);
    let c = client_at(&proxy.host(), REPO, &remote());
    assert_eq!(must(c.tags()).len(), 121);
    assert_eq!(proxy.tag_requests().len(), 1);

    // The digest a tag points to, verified.
    assert_eq!(must(c.resolve_digest("t042")).to_string(), digest);
    assert_eq!(must(c.resolve_digest("3.10")).to_string(), digest);
}

#[test]
fn listings_are_bounded_and_stay_on_the_registry() {
    let reg = Registry::plain();
    fill(&reg);
    let proxy = PagingProxy::start(&reg, LinkStyle::Relative);
    let c = client_at(&proxy.host(), REPO, &remote());
    let e = c
        .tags_with(TagLimits {
            page_size: 50,
            max_tags: 100,
            ..TagLimits::default()
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("more than 100 tags"), "{e}");
    let e = c
        .tags_with(TagLimits {
            page_size: 50,
            max_pages: 2,
            ..TagLimits::default()
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("more than 2 pages"), "{e}");

    // A Link to another host is refused, and nothing is sent there.
    let other = PagingProxy::start(&reg, LinkStyle::Relative);
    let evil = PagingProxy::start(&reg, LinkStyle::OtherHost(other.host()));
    let c = client_at(&evil.host(), REPO, &remote());
    let e = c
        .tags_with(TagLimits {
            page_size: 50,
            ..TagLimits::default()
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("leads to another host; refused"), "{e}");
    assert_eq!(evil.tag_requests().len(), 1);
    assert!(other.tag_requests().is_empty());
}

#[test]
fn a_missing_repository_and_missing_credentials_are_errors() {
    let reg = Registry::plain();
    fill(&reg);
    let none = client(&reg, "library/nothing-here", &remote());
    let e = none.tags().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        e.contains("tag list of library/nothing-here") && e.contains("NAME_UNKNOWN"),
        "{e}"
    );
    let e = none
        .resolve_digest("1")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("manifest library/nothing-here:1"), "{e}");

    let basic = Registry::basic("ci", "s3cret");
    basic.push(
        &format!("docker-archive:{}", shared("images/alpine-3.10.tar.gz")),
        &format!("{REPO}:3.10"),
    );
    let r = must(ImageRef::parse(&format!("{}/{REPO}:3.10", basic.host())));
    let e = Client::connect(&r, &remote())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("asks for a user name and password"), "{e}");
    let with = RemoteOptions {
        credential: Some(Credential::basic("ci", "s3cret", "--username/--password")),
        ..remote()
    };
    assert_eq!(must(client(&basic, REPO, &with).tags()), vec!["3.10"]);
}
