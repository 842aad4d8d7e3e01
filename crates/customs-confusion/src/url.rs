//! Registry URLs: normalization and the well-known public registries.

/// `scheme://host[:port]/path/` lowercased scheme and host, user info
/// dropped, a trailing `/` added; `//host/path` (npm's auth keys) and bare
/// hosts get no scheme. Query and fragment are dropped.
pub(crate) fn normalize(url: &str) -> String {
    let url = url.trim().trim_matches(|c| c == '"' || c == '\'');
    let (scheme, rest) = match url.find("://") {
        Some(i) => (url[..i].to_ascii_lowercase(), &url[i + 3..]),
        None => (String::new(), url.trim_start_matches("//")),
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = authority
        .rsplit('@')
        .next()
        .unwrap_or(authority)
        .to_ascii_lowercase();
    let host = host
        .strip_suffix(":443")
        .filter(|_| scheme == "https")
        .or_else(|| host.strip_suffix(":80").filter(|_| scheme == "http"))
        .unwrap_or(&host)
        .to_string();
    let mut path = path.to_string();
    if !path.ends_with('/') {
        path.push('/');
    }
    if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    }
}

/// The host (and port) of a normalized URL.
pub(crate) fn host(normalized: &str) -> &str {
    let rest = normalized
        .find("://")
        .map(|i| &normalized[i + 3..])
        .unwrap_or(normalized);
    rest.split('/').next().unwrap_or("")
}

fn without_scheme(n: &str) -> &str {
    n.find("://").map(|i| &n[i + 3..]).unwrap_or(n)
}

/// Whether `url` (normalized) lies under the registry `base` (normalized):
/// same host and port, and `base`'s path a prefix of `url`'s. The scheme is
/// ignored: `http` and `https` of one host are the same registry.
pub(crate) fn same_base(url: &str, base: &str) -> bool {
    without_scheme(url).starts_with(without_scheme(base))
}

/// Hosts of the public registries, every ecosystem.
const PUBLIC_HOSTS: [&str; 16] = [
    "registry.npmjs.org",
    "registry.npmjs.com",
    "registry.yarnpkg.com",
    "registry.npmmirror.com",
    "pypi.org",
    "pypi.python.org",
    "files.pythonhosted.org",
    "repo.maven.apache.org",
    "repo1.maven.org",
    "central.sonatype.com",
    "proxy.golang.org",
    "sum.golang.org",
    "crates.io",
    "index.crates.io",
    "rubygems.org",
    "repo.hex.pm",
];

pub(crate) fn is_well_known_public(normalized: &str) -> bool {
    let h = host(normalized);
    let h = h.split(':').next().unwrap_or(h);
    PUBLIC_HOSTS.contains(&h)
        || h == "hex.pm"
        || h == "static.crates.io"
        || h == "github.com" && normalized.contains("github.com/rust-lang/crates.io-index")
}

/// Whether a string looks like an http(s) URL.
pub(crate) fn is_http(s: &str) -> bool {
    let l = s.trim_start();
    l.len() > 7
        && (l[..7].eq_ignore_ascii_case("http://")
            || l.get(..8)
                .is_some_and(|p| p.eq_ignore_ascii_case("https://")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(
            normalize("HTTPS://User:pw@NPM.Corp:443/api/npm"),
            "https://npm.corp/api/npm/"
        );
        assert_eq!(normalize("//npm.corp/api/"), "npm.corp/api/");
        assert_eq!(normalize("http://127.0.0.1:4873"), "http://127.0.0.1:4873/");
        assert!(same_base(
            &normalize("https://npm.corp/api/npm/@a/b/-/b-1.0.0.tgz"),
            &normalize("http://npm.corp/api/npm")
        ));
        assert!(!same_base(
            &normalize("https://npm.corporate/x"),
            &normalize("https://npm.corp/")
        ));
        assert!(is_well_known_public(&normalize(
            "https://registry.yarnpkg.com/a/-/a-1.tgz"
        )));
        assert!(!is_well_known_public(&normalize("https://npm.corp/")));
        assert!(is_http("https://x") && is_http("HTTP://x") && !is_http("git+ssh://x"));
    }
}
