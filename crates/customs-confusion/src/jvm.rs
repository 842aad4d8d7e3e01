//! Maven (`pom.xml`, `settings.xml`) and Gradle (`build.gradle(.kts)`,
//! `settings.gradle(.kts)`): several repositories without a mirror or a
//! content filter.

use crate::checks::{GRADLE_NO_CONTENT, MAVEN_NO_MIRROR};
use crate::text::Text;
use crate::{malformed, Context, File, PrivatePkg};
use customs_model::finding::Misconfiguration;

type Out = (Vec<Misconfiguration>, Vec<PrivatePkg>);

pub(crate) fn scan(ctx: &Context, file: &File) -> Out {
    if file.kind == "gradle" {
        return (gradle(ctx, file), Vec::new());
    }
    let doc = match roxmltree::Document::parse(&file.text) {
        Ok(d) => d,
        Err(e) => return malformed(file.path, e),
    };
    let text = Text::new(&file.text);
    let is_settings = file.path.ends_with("settings.xml");
    // A mirror of everything in any settings.xml of the input (the user's
    // `~/.m2/settings.xml`, Maven's `conf/settings.xml`) routes all
    // resolution through one repository manager.
    let mirrored = ctx
        .files
        .iter()
        .filter(|f| f.path.ends_with("settings.xml"))
        .any(|f| mirrors_all(&f.text));
    if mirrored {
        return (Vec::new(), Vec::new());
    }
    let mut out = Vec::new();
    for node in doc
        .descendants()
        .filter(|n| n.has_tag_name("repository") || n.has_tag_name("pluginRepository"))
    {
        // Only repositories of `<repositories>` lists, not
        // `<distributionManagement>` (where artifacts are deployed to).
        let parent = node
            .parent_element()
            .map(|p| p.tag_name().name())
            .unwrap_or("");
        if parent != "repositories" && parent != "pluginRepositories" {
            continue;
        }
        let child = |name: &str| {
            node.children()
                .find(|c| c.has_tag_name(name))
                .and_then(|c| c.text())
                .map(str::trim)
                .unwrap_or("")
        };
        let url = child("url");
        let id = child("id");
        if url.is_empty() || ctx.is_public(url) {
            continue;
        }
        let start = text.line_of(node.range().start);
        let end = text.line_of(node.range().end.saturating_sub(1));
        let where_ = if is_settings {
            "settings.xml"
        } else {
            "the POM"
        };
        out.push(MAVEN_NO_MIRROR.at(
            &text,
            start,
            end,
            format!("repository '{id}' ({url}) in {where_} is asked next to Maven Central for every artifact, and no <mirror> with <mirrorOf>*</mirrorOf> routes resolution through one repository manager"),
        ));
    }
    (out, Vec::new())
}

fn mirrors_all(settings: &str) -> bool {
    let Ok(doc) = roxmltree::Document::parse(settings) else {
        return false;
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("mirrorOf"))
        .any(|n| {
            n.text()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .any(|p| p == "*" || p == "external:*")
        })
}

/// A `{ … }` block: offsets of its opening and closing braces.
fn block_after(s: &str, open: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
        } else {
            match c {
                b'"' | b'\'' => quote = Some(c),
                b'/' if b.get(i + 1) == Some(&b'/') => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Word occurrences of `word` followed (after spaces) by `{` or `(`.
fn calls<'a>(s: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    s.match_indices(word).filter_map(move |(i, _)| {
        let before = s[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            return None;
        }
        let after = s[i + word.len()..].trim_start();
        (after.starts_with('{') || after.starts_with('(')).then_some(i)
    })
}

const PUBLIC_CALLS: [&str; 4] = ["mavenCentral", "google", "gradlePluginPortal", "jcenter"];

fn gradle(ctx: &Context, file: &File) -> Vec<Misconfiguration> {
    let s: &str = &file.text;
    let text = Text::new(s);
    let mut out = Vec::new();
    for at in calls(s, "repositories") {
        let Some(open) = s[at..].find('{').map(|o| o + at) else {
            continue;
        };
        let Some(close) = block_after(s, open) else {
            continue;
        };
        let body = &s[open + 1..close];
        let public = PUBLIC_CALLS
            .iter()
            .map(|c| calls(body, c).count())
            .sum::<usize>();
        // Repositories inside `exclusiveContent { forRepository { … } }`
        // are filtered by construction.
        let exclusive: Vec<(usize, usize)> = calls(body, "exclusiveContent")
            .filter_map(|e| {
                let o = body[e..].find('{')? + e;
                Some((o, block_after(body, o)?))
            })
            .collect();
        let mut custom = Vec::new();
        for kw in ["maven", "ivy"] {
            for m in calls(body, kw) {
                let rest = &body[m + kw.len()..];
                let lead = rest.len() - rest.trim_start().len();
                let o = m + kw.len() + lead;
                let end = if body[o..].starts_with('{') {
                    block_after(body, o)
                } else {
                    // `maven("https://…")` or `maven(url = "…") { … }`
                    body[o..].find(')').map(|c| {
                        let after = &body[o + c + 1..];
                        let lead = after.len() - after.trim_start().len();
                        if after.trim_start().starts_with('{') {
                            block_after(body, o + c + 1 + lead).unwrap_or(o + c)
                        } else {
                            o + c
                        }
                    })
                };
                let Some(end) = end else { continue };
                let in_exclusive = exclusive.iter().any(|(a, b)| m > *a && m < *b);
                custom.push((m, end, in_exclusive));
            }
        }
        let total = public + custom.len();
        if total < 2 {
            continue;
        }
        for (m, end, in_exclusive) in custom {
            let block = &body[m..=end.min(body.len().saturating_sub(1))];
            let filtered =
                in_exclusive || block.contains("content") || block.contains("mavenContent");
            let url = gradle_url(block);
            if filtered || url.as_deref().is_some_and(|u| ctx.is_public(u)) {
                continue;
            }
            let start = text.line_of(open + 1 + m);
            let stop = text.line_of(open + 1 + end);
            out.push(GRADLE_NO_CONTENT.at(
                &text,
                start,
                stop,
                format!(
                    "repository {} is asked for every module next to {} other repositories, without a content filter",
                    url.unwrap_or_else(|| "(no url)".into()),
                    total - 1
                ),
            ));
        }
    }
    out
}

fn gradle_url(block: &str) -> Option<String> {
    let q = block.find(['"', '\''])?;
    let quote = block.as_bytes()[q] as char;
    let rest = &block[q + 1..];
    let end = rest.find(quote)?;
    let url = &rest[..end];
    url.contains("://").then(|| url.to_string())
}
