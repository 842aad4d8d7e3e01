//! The check registry: every `CS-DEP` ID with its title, severity, the
//! attack it stands for and the fix. `docs/checks.md` and
//! `docs/dependency-confusion.md` list the same IDs (a test keeps them in
//! step).

use crate::text::Text;
use customs_model::finding::{Misconfiguration, FAIL};
use customs_model::Severity;

/// One check of the scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// What is wrong and what an attacker would do.
    pub description: &'static str,
    pub resolution: &'static str,
    pub references: &'static [&'static str],
}

macro_rules! check {
    ($name:ident, $id:literal, $sev:ident, $title:literal, $desc:literal, $fix:literal, [$($r:literal),*]) => {
        pub(crate) const $name: Check = Check {
            id: $id,
            severity: Severity::$sev,
            title: $title,
            description: $desc,
            resolution: $fix,
            references: &[$($r),*],
        };
    };
}

check!(NPM_SCOPE_REGISTRY, "CS-DEP-001", High,
    "Scoped package resolved from another registry than its scope's",
    "The install config maps this scope to one registry, but the lockfile resolved the package from another one (typically the public registry, or the private one for a scope the config leaves public). Whoever controls that other registry serves the code: an attacker who publishes the scoped name there with a higher version gets it installed the next time the lockfile is regenerated or the config changes.",
    "Regenerate the lockfile with the scope mapped ('@scope:registry=https://npm.example.com/' in .npmrc, 'npmScopes' in .yarnrc.yml) and check that every 'resolved' URL of the scope points at that registry",
    ["https://docs.npmjs.com/cli/v10/using-npm/scope#associating-a-scope-with-a-registry"]);
check!(NPM_UNSCOPED_PRIVATE, "CS-DEP-002", High,
    "Unscoped package resolved from a private registry",
    "An unscoped name lives in the public registry's namespace, where anyone can publish it. The lockfile takes it from a private registry today; the day that registry is not configured (a new CI runner, a developer machine, a fresh 'npm install'), the public package of the same name is installed instead, with its install scripts.",
    "Publish private packages under a scope you own on the public registry too (@yourorg/name) and map that scope to the private registry; or register the unscoped name on the public registry as a placeholder",
    ["https://docs.npmjs.com/threats-and-mitigations#by-typosquatting-or-dependency-confusion"]);
check!(NPM_SCOPE_SPLIT, "CS-DEP-003", Medium,
    "One scope resolved from several registries",
    "The packages of one scope come from more than one registry in this lockfile. A scope is a namespace owned by one party; when it is split, one registry (often the public one) serves names the team believes are private, and an attacker who publishes the next one there wins.",
    "Map the scope to one registry and regenerate the lockfile so that every package of the scope resolves from it",
    ["https://docs.npmjs.com/cli/v10/using-npm/scope"]);
check!(NPM_NO_INTEGRITY, "CS-DEP-004", Medium,
    "Lockfile entry resolved without integrity",
    "The entry names a tarball URL but no integrity hash, so the package manager accepts whatever that URL (or a registry answering for its host) serves. A substituted package of the same name and version installs silently.",
    "Regenerate the lockfile against a registry that serves integrity hashes ('npm install --package-lock-only'); never strip 'integrity' fields",
    ["https://docs.npmjs.com/cli/v10/configuring-npm/package-lock-json#packages"]);
check!(NPM_FALLBACK, "CS-DEP-005", High,
    "Private scope not mapped in the install config: installs fall back to the public registry",
    "The lockfile resolved this scope from a private registry, but no .npmrc or .yarnrc.yml of the project, its users or the image maps the scope (and the default registry is the public one). The mapping lives outside the tree, so any install without it ('npm install' on a new machine, a lockfile update, 'npx') asks the public registry for the scope, where an attacker can publish it.",
    "Commit the scope mapping with the project: '@scope:registry=https://npm.example.com/' in the project's .npmrc, or 'npmScopes: { scope: { npmRegistryServer: ... } }' in .yarnrc.yml",
    ["https://docs.npmjs.com/cli/v10/configuring-npm/npmrc"]);

check!(PIP_EXTRA_INDEX_REQ, "CS-DEP-010", High,
    "--extra-index-url in a requirements file",
    "pip merges every index it is given and installs the highest version it finds on any of them. With a private index added by --extra-index-url, an attacker who publishes a private package's name on PyPI with a higher version gets it installed: the classic dependency confusion.",
    "Use one index that serves both private and proxied public packages (--index-url https://pypi.example.com/simple/), or pin private packages by URL/hash ('--require-hashes'); with uv, declare the index 'explicit = true' and pin the packages to it",
    ["https://pip.pypa.io/en/stable/cli/pip_install/#finding-packages", "https://peps.python.org/pep-0708/"]);
check!(PIP_EXTRA_INDEX_CONF, "CS-DEP-011", High,
    "Extra index in the pip configuration or environment",
    "pip.conf, PIP_EXTRA_INDEX_URL (Dockerfile ENV/ARG, image Env) or 'pip install --extra-index-url' make pip merge a second index with the first and install the highest version found on either. An attacker who publishes a private package's name on PyPI with a higher version gets it installed.",
    "Configure a single index-url that serves private and proxied public packages, and drop extra-index-url/PIP_EXTRA_INDEX_URL; or move to uv with an 'explicit = true' index",
    ["https://pip.pypa.io/en/stable/topics/configuration/", "https://peps.python.org/pep-0708/"]);
check!(UV_NOT_EXPLICIT, "CS-DEP-012", Medium,
    "uv index without explicit = true",
    "A [[tool.uv.index]] that is not explicit is searched for every package, in order, before PyPI. Private packages are not tied to it: the day it is unreachable, renamed or reordered, or a package is missing there, uv takes the name from the next index, where an attacker can publish it.",
    "Set 'explicit = true' on the private index and pin each private package to it in [tool.uv.sources] ('name = { index = \"private\" }')",
    ["https://docs.astral.sh/uv/concepts/indexes/#pinning-a-package-to-an-index"]);
check!(UV_UNSAFE_STRATEGY, "CS-DEP-013", High,
    "uv index strategy merges indexes",
    "'index-strategy = \"unsafe-best-match\"' (or 'unsafe-first-match', UV_INDEX_STRATEGY) makes uv consider every index for every package, like pip: a higher version of a private package's name on PyPI wins.",
    "Keep uv's default 'first-index' strategy and pin private packages to an 'explicit = true' index",
    ["https://docs.astral.sh/uv/reference/settings/#index-strategy"]);
check!(POETRY_NOT_EXPLICIT, "CS-DEP-014", Medium,
    "Poetry source without priority = \"explicit\"",
    "A private [[tool.poetry.source]] that is not explicit serves any package, and the packages meant to come from it are not tied to it: when it misses one, or PyPI is also searched, the public name wins.",
    "Set 'priority = \"explicit\"' on the private source and pin each private dependency to it ('name = { version = \"…\", source = \"private\" }')",
    ["https://python-poetry.org/docs/repositories/#package-source-constraint"]);
check!(POETRY_SUPPLEMENTAL, "CS-DEP-015", High,
    "Private Poetry source searched after PyPI",
    "A private source with 'priority = \"supplemental\"' (or the deprecated 'secondary') is only asked when the primary sources, PyPI among them, do not have the package. A private package's name published on PyPI is therefore installed from PyPI.",
    "Set 'priority = \"explicit\"' on the private source and pin each private dependency to it ('source = \"private\"')",
    ["https://python-poetry.org/docs/repositories/#supplemental-package-sources"]);
check!(PIPENV_NOT_PINNED, "CS-DEP-016", Medium,
    "Pipfile package from a private index not pinned to it",
    "The Pipfile lists several [[source]] indexes and Pipfile.lock takes this package from a private one, but the Pipfile does not pin it ('index = \"name\"'). When the lockfile is regenerated, pipenv can resolve the name from another index, PyPI included.",
    "Pin the package to its index in the Pipfile: 'name = { version = \"*\", index = \"private\" }'",
    ["https://pipenv.pypa.io/en/latest/indexes.html"]);
check!(PIPENV_SEARCH_ALL, "CS-DEP-017", High,
    "Pipenv searches all sources",
    "'install_search_all_sources = true' makes pipenv look for every package on every [[source]], as pip's --extra-index-url does: a higher version of a private name on PyPI wins.",
    "Remove install_search_all_sources and pin private packages to their index ('index = \"private\"')",
    ["https://pipenv.pypa.io/en/latest/indexes.html"]);

check!(MAVEN_NO_MIRROR, "CS-DEP-020", Medium,
    "Maven repositories without a mirror",
    "Maven asks the repositories of the POM, its parents and settings.xml in turn, Central among them, for every artifact. An attacker who publishes an internal groupId:artifactId on Central (or on any of the listed repositories) can have it resolved instead of the internal one, and version ranges and SNAPSHOT metadata are merged across repositories.",
    "Route all resolution through one repository manager: a <mirror> with <mirrorOf>*</mirrorOf> in settings.xml, whose routing rules keep internal groupIds internal",
    ["https://maven.apache.org/guides/mini/guide-mirror-settings.html"]);
check!(GRADLE_NO_CONTENT, "CS-DEP-021", Medium,
    "Gradle repository without content filtering",
    "Gradle asks the declared repositories in order for every module. With a private repository next to public ones and no content filter, an internal group published on a public repository (or a public one on the private) resolves from the wrong place.",
    "Declare what each repository serves: 'exclusiveContent { forRepository { maven { url … } }; filter { includeGroup(\"com.example\") } }' or 'content { includeGroup(\"com.example\") }'",
    ["https://docs.gradle.org/current/userguide/filtering_repository_content.html"]);

check!(GO_PUBLIC_PROXY, "CS-DEP-030", High,
    "Private Go module fetched through a public proxy",
    "The module path matches GOPRIVATE, but GONOPROXY leaves it to GOPROXY, which is a public proxy (or lists one before the private one). The go command asks the public proxy for the private path first: the name leaks, and whoever publishes a module at that path (a look-alike host, a lapsed domain) serves it.",
    "Cover private paths by GONOPROXY (or just set GOPRIVATE and leave GONOPROXY unset), or put the private proxy first in GOPROXY without a public fallback",
    ["https://go.dev/ref/mod#private-modules"]);
check!(GO_PUBLIC_SUMDB, "CS-DEP-031", Medium,
    "Private Go module checked against the public checksum database",
    "The module is fetched privately (GONOPROXY) but not excluded from the checksum database: the go command sends its path to sum.golang.org, leaking it, and fails or trusts the public database's word on a private module.",
    "Set GOPRIVATE (which covers GONOPROXY and GONOSUMDB) or add the paths to GONOSUMDB",
    ["https://go.dev/ref/mod#private-module-privacy"]);

check!(CARGO_BOTH_REGISTRIES, "CS-DEP-040", Medium,
    "Crate name resolved from both crates.io and an alternative registry",
    "Cargo.lock holds the same crate name from crates.io and from an alternative registry. A 'registry = \"…\"' key dropped from one Cargo.toml, or a dependency added without it, silently takes the crates.io crate of that name, which anyone may own.",
    "Rename internal crates with a prefix nobody can claim on crates.io, and reserve the names on crates.io; keep 'registry = \"…\"' on every internal dependency",
    ["https://doc.rust-lang.org/cargo/reference/registries.html"]);
check!(BUNDLER_GLOBAL_SOURCES, "CS-DEP-050", High,
    "Several global gem sources",
    "With more than one global 'source', Bundler may take any gem from any of them (older Bundler versions merge them and pick the highest version). An attacker who publishes a private gem's name on rubygems.org gets it installed.",
    "Keep one global source and scope private gems: 'source \"https://gems.example.com\" do gem \"internal\" end'",
    ["https://bundler.io/v2.5/man/gemfile.5.html#SOURCE-PRIORITY"]);
check!(HEX_MIXED_REPOS, "CS-DEP-060", Medium,
    "Hex package name from both a private and the public repository",
    "mix.lock takes a package from a private organisation repo while another entry asks for the same name from hexpm. A dependency declared without 'organization:'/'repo:' resolves the name on hex.pm, where anyone may publish it.",
    "Declare the private dependency with its organisation everywhere ('{:name, \"~> 1.0\", organization: \"acme\"}') and reserve the name on hex.pm",
    ["https://hex.pm/docs/private"]);

check!(CLAIMABLE, "CS-DEP-090", High,
    "Private package name unclaimed on the public registry",
    "This package comes from a private source and its name does not exist on the public registry of the ecosystem. Anyone can publish it there; the first config change that lets the public registry answer for it installs the attacker's package.",
    "Reserve the name on the public registry (a placeholder owned by your organisation, or the scope/organisation itself), and apply the config fixes of the other CS-DEP checks",
    []);
check!(HIJACKED, "CS-DEP-091", Critical,
    "Private package name published on the public registry with a higher version",
    "This package comes from a private source, and the public registry has a package of the same name with a higher version. Every resolver that merges indexes, or falls back to the public registry, installs that package now. Check who publishes it: this is how dependency confusion attacks are found in the wild.",
    "Treat it as an incident if the publisher is not you: pin the package to its private source, check build machines for the public package, then reserve or reclaim the name",
    []);
check!(NAME_TAKEN, "CS-DEP-092", Low,
    "Private package name also published on the public registry",
    "This package comes from a private source and a package of the same name exists on the public registry (at the same or a lower version). It cannot win a version contest today, but a higher version can be published at any time.",
    "Make sure your organisation owns the public name, or pin the package to its private source",
    []);

/// Every check, in ID order.
pub fn checks() -> &'static [Check] {
    &ALL
}

const ALL: [Check; 23] = [
    NPM_SCOPE_REGISTRY,
    NPM_UNSCOPED_PRIVATE,
    NPM_SCOPE_SPLIT,
    NPM_NO_INTEGRITY,
    NPM_FALLBACK,
    PIP_EXTRA_INDEX_REQ,
    PIP_EXTRA_INDEX_CONF,
    UV_NOT_EXPLICIT,
    UV_UNSAFE_STRATEGY,
    POETRY_NOT_EXPLICIT,
    POETRY_SUPPLEMENTAL,
    PIPENV_NOT_PINNED,
    PIPENV_SEARCH_ALL,
    MAVEN_NO_MIRROR,
    GRADLE_NO_CONTENT,
    GO_PUBLIC_PROXY,
    GO_PUBLIC_SUMDB,
    CARGO_BOTH_REGISTRIES,
    BUNDLER_GLOBAL_SOURCES,
    HEX_MIXED_REPOS,
    CLAIMABLE,
    HIJACKED,
    NAME_TAKEN,
];

impl Check {
    /// A failed finding of this check on lines `start..=end` of `text`
    /// (0: the whole file).
    pub(crate) fn at(
        &self,
        text: &Text,
        start: usize,
        end: usize,
        message: String,
    ) -> Misconfiguration {
        let refs: Vec<String> = self.references.iter().map(|r| r.to_string()).collect();
        Misconfiguration {
            kind: crate::KIND.into(),
            id: self.id.into(),
            title: self.title.into(),
            description: self.description.into(),
            message: crate::text::mask(&message),
            namespace: "builtin.dependency-confusion".into(),
            resolution: self.resolution.into(),
            severity: self.severity,
            primary_url: refs.first().cloned().unwrap_or_default(),
            references: refs,
            status: FAIL.into(),
            cause_metadata: text.cause(start, end),
            ..Default::default()
        }
    }

    /// A finding without lines (the image environment).
    pub(crate) fn whole(&self, message: String) -> Misconfiguration {
        self.at(&Text::new(""), 0, 0, message)
    }
}

/// The `docs/checks.md` section of this scanner, in the style of the other
/// sections there (table, then one entry per check). `docs/checks.md` is
/// generated by `customs-misconfig` (`checks_markdown`), whose test wants
/// the file byte for byte: this section is meant to be appended by that
/// generator, not by hand.
pub fn checks_markdown() -> String {
    use std::fmt::Write;
    let mut s = String::new();
    s.push_str("## Dependency confusion (`--scanners confusion`)\n\n");
    s.push_str("Package manager configs and lockfiles (also inside images) whose dependencies a public registry could hijack; see [dependency-confusion.md](dependency-confusion.md).\n\n");
    s.push_str("| ID | Severity | Title |\n|---|---|---|\n");
    for c in checks() {
        let _ = writeln!(
            s,
            "| [{}](#confusion-{}) | {} | {} |",
            c.id,
            c.id.to_ascii_lowercase(),
            c.severity.as_str(),
            c.title
        );
    }
    for c in checks() {
        let _ = write!(
            s,
            "\n### <a id=\"confusion-{}\"></a>{} — {}\n\n**Severity:** {}\n\n{}\n\n**Resolution:** {}\n",
            c.id.to_ascii_lowercase(),
            c.id,
            c.title,
            c.severity.as_str(),
            c.description,
            c.resolution
        );
        if !c.references.is_empty() {
            s.push_str("\n**References:**\n");
            for r in c.references {
                let _ = writeln!(s, "- <{r}>");
            }
        }
    }
    s
}
