//! Tag listing (OCI distribution "Listing Tags"): `GET /v2/<name>/tags/list?n=N`,
//! following the `Link: <…>; rel="next"` header (RFC 5988) page by page, and
//! a tag resolved to the digest of the manifest it points to now.
//!
//! A `Link` is resolved against the page's URL (relative or absolute) and
//! followed only on the registry's own scheme, host and port: a registry
//! does not send the client (and its `Authorization`) elsewhere. Pages and
//! tags are bounded; every request goes through the client's auth and
//! retries.

use super::{Client, MAX_DOCUMENT};
use crate::digest::Digest;
use crate::error::ImageError;
use std::io::Read;

/// Tags asked for per page.
pub const PAGE_SIZE: usize = 1000;
/// Pages followed at most.
pub const MAX_PAGES: usize = 100;
/// Tags kept at most (a repository with more is refused, not truncated).
pub const MAX_TAGS: usize = 100_000;

/// The limits of one listing (the defaults are the constants above).
#[derive(Debug, Clone, Copy)]
pub struct TagLimits {
    pub page_size: usize,
    pub max_pages: usize,
    pub max_tags: usize,
}

impl Default for TagLimits {
    fn default() -> Self {
        TagLimits {
            page_size: PAGE_SIZE,
            max_pages: MAX_PAGES,
            max_tags: MAX_TAGS,
        }
    }
}

#[derive(serde::Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// The target of the `rel="next"` link of a `Link` header value, if any.
pub fn next_link(header: &str) -> Option<String> {
    // `<url>; rel="next", <url2>; rel="prev"`: URLs hold no `>`.
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_end = after[close + 1..]
            .find('<')
            .map(|i| close + 1 + i)
            .unwrap_or(after.len());
        let params = &after[close + 1..params_end];
        let is_next = params.split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            match p.split_once('=') {
                Some((k, v)) if k.trim().eq_ignore_ascii_case("rel") => v
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next")),
                _ => false,
            }
        });
        if is_next {
            return Some(target.trim().to_string());
        }
        rest = &after[params_end..];
    }
    None
}

/// `path?query` of `link` resolved against `page` when it stays on the
/// scheme, host and port of `base`; else why not.
pub fn same_origin_path(base: &str, page: &str, link: &str) -> Result<String, String> {
    let page = reqwest::Url::parse(page).map_err(|e| format!("page URL '{page}': {e}"))?;
    let base = reqwest::Url::parse(base).map_err(|e| format!("registry URL '{base}': {e}"))?;
    let next = page
        .join(link)
        .map_err(|e| format!("Link '{link}' is not a URL ({e})"))?;
    if next.scheme() != base.scheme()
        || next.host_str() != base.host_str()
        || next.port_or_known_default() != base.port_or_known_default()
    {
        return Err(format!(
            "the next page's Link '{link}' leads to another host; refused"
        ));
    }
    let mut p = next.path().to_string();
    if let Some(q) = next.query() {
        p.push('?');
        p.push_str(q);
    }
    Ok(p)
}

impl Client {
    /// Every tag of the client's repository, in the registry's order.
    pub fn tags(&self) -> Result<Vec<String>, ImageError> {
        self.tags_with(TagLimits::default())
    }

    /// [`Client::tags`] with other page size and bounds.
    pub fn tags_with(&self, limits: TagLimits) -> Result<Vec<String>, ImageError> {
        let what = format!(
            "tag list of {} (GET /v2/{}/tags/list)",
            self.repo, self.repo
        );
        let mut path = format!("/v2/{}/tags/list?n={}", self.repo, limits.page_size.max(1));
        let mut tags: Vec<String> = Vec::new();
        let mut pages = 0usize;
        loop {
            if pages >= limits.max_pages {
                return Err(self.err(format!(
                    "the {what} has more than {} pages; refused",
                    limits.max_pages
                )));
            }
            pages += 1;
            let resp = self.get(&path, &["application/json"], &what)?;
            let link = resp
                .headers()
                .get_all(reqwest::header::LINK)
                .iter()
                .filter_map(|h| h.to_str().ok())
                .find_map(next_link);
            let page_url = resp.url().to_string();
            let body = self.read_tags_page(resp, &what)?;
            let list: TagList = serde_json::from_slice(&body)
                .map_err(|e| self.err(format!("the {what} is not a tag list ({e})")))?;
            let page = list.tags.unwrap_or_default();
            if tags.len() + page.len() > limits.max_tags {
                return Err(self.err(format!(
                    "the {what} has more than {} tags; refused",
                    limits.max_tags
                )));
            }
            tags.extend(page);
            match link {
                None => break,
                Some(l) => {
                    path = same_origin_path(&self.base, &page_url, &l)
                        .map_err(|e| self.err(format!("{what}: {e}")))?;
                }
            }
        }
        tracing::debug!(
            "{}: {} tags in {pages} page(s) from {}",
            self.repo,
            tags.len(),
            self.host
        );
        Ok(tags)
    }

    fn read_tags_page(
        &self,
        resp: reqwest::blocking::Response,
        what: &str,
    ) -> Result<Vec<u8>, ImageError> {
        let mut v = Vec::new();
        resp.take(MAX_DOCUMENT + 1)
            .read_to_end(&mut v)
            .map_err(|e| self.err(format!("{what}: {e}")))?;
        if v.len() as u64 > MAX_DOCUMENT {
            return Err(self.err(format!(
                "a page of the {what} is larger than {} MiB; refused",
                MAX_DOCUMENT >> 20
            )));
        }
        Ok(v)
    }

    /// The digest of the manifest (or index) `tag` points to now, verified
    /// as [`Client::manifest`] verifies it.
    pub fn resolve_digest(&self, tag: &str) -> Result<Digest, ImageError> {
        self.manifest(tag).map(|(_, d)| d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/r/tags/list?n=50&last=t49>; rel="next""#).as_deref(),
            Some("/v2/r/tags/list?n=50&last=t49")
        );
        assert_eq!(
            next_link(r#"<https://a/prev>; rel="prev", <https://a/next?x=1>; rel=next"#).as_deref(),
            Some("https://a/next?x=1")
        );
        assert_eq!(next_link(r#"<https://a/prev>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link("<unterminated; rel=next"), None);
    }

    #[test]
    fn links_stay_on_the_registry() {
        let base = "http://127.0.0.1:5000";
        let page = "http://127.0.0.1:5000/v2/r/tags/list?n=50";
        assert_eq!(
            same_origin_path(base, page, "/v2/r/tags/list?n=50&last=a").as_deref(),
            Ok("/v2/r/tags/list?n=50&last=a")
        );
        assert_eq!(
            same_origin_path(base, page, "http://127.0.0.1:5000/v2/r/tags/list?last=b").as_deref(),
            Ok("/v2/r/tags/list?last=b")
        );
        assert!(same_origin_path(base, page, "http://evil.example/v2/r/tags/list").is_err());
        assert!(same_origin_path(base, page, "http://127.0.0.1:5001/v2/r/tags/list").is_err());
        assert!(same_origin_path(base, page, "https://127.0.0.1:5000/v2/r/tags/list").is_err());
        assert!(same_origin_path(base, page, "//evil.example/x").is_err());
    }
}
