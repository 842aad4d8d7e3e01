//! The reference implementations' published comparison vectors (dpkg, rpm,
//! apk-tools), kept as data files in tests/data.

use std::cmp::Ordering;

use customs_versions::{compare, validate, Scheme};

fn data(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/").to_string() + name;
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split_whitespace().collect::<Vec<_>>()))
        .filter(|(_, f)| f.first().is_some_and(|w| !w.starts_with('#')))
}

/// `A B EXPECTED` files: EXPECTED is -1, 0, 1 or `err`.
fn check_abx(scheme: Scheme, file: &str) -> usize {
    let text = data(file);
    let mut n = 0;
    let mut failures = Vec::new();
    for (line, f) in lines(&text) {
        let [a, b, want] = f.as_slice() else {
            panic!("{file}:{line}: expected `A B EXPECTED`");
        };
        let got = compare(scheme, a, b);
        let ok = match (*want, &got) {
            ("err", Err(_)) => true,
            ("-1", Ok(Ordering::Less))
            | ("0", Ok(Ordering::Equal))
            | ("1", Ok(Ordering::Greater)) => {
                // Antisymmetry on every vector too.
                compare(scheme, b, a).ok() == got.as_ref().ok().map(|o| o.reverse())
            }
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{file}:{line}: {a} vs {b}: want {want}, got {got:?}"
            ));
        }
        n += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    n
}

#[test]
fn dpkg_vectors() {
    assert!(check_abx(Scheme::Dpkg, "dpkg.txt") >= 70);
}

#[test]
fn rpm_vectors() {
    assert!(check_abx(Scheme::Rpm, "rpm.txt") >= 90);
}

#[test]
fn apk_vectors() {
    let text = data("apk.txt");
    let mut n = 0;
    let mut failures = Vec::new();
    for (line, f) in lines(&text) {
        match f.as_slice() {
            ["valid", v] => {
                if let Err(e) = validate(Scheme::Apk, v) {
                    failures.push(format!("apk.txt:{line}: {v} should be valid: {e}"));
                }
            }
            ["invalid", v] => {
                if validate(Scheme::Apk, v).is_ok() {
                    failures.push(format!("apk.txt:{line}: {v} should be invalid"));
                }
            }
            [a, op, b] => {
                let want = match *op {
                    "<" => Ordering::Less,
                    "=" => Ordering::Equal,
                    ">" => Ordering::Greater,
                    _ => panic!("apk.txt:{line}: unknown operator {op}"),
                };
                match (compare(Scheme::Apk, a, b), compare(Scheme::Apk, b, a)) {
                    (Ok(x), Ok(y)) if x == want && y == want.reverse() => {}
                    other => failures.push(format!("apk.txt:{line}: {a} {op} {b}: got {other:?}")),
                }
            }
            _ => panic!("apk.txt:{line}: unreadable line"),
        }
        n += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(n >= 140, "only {n} vectors");
}
