//! Requirement syntaxes shared by several schemes: comparator lists
//! (`>= 1.0, < 2.0 || = 3.0`) and Maven/NuGet intervals (`[1.0,2.0)`,
//! `(,1.0],[1.2,)`), evaluated with the scheme's own [`crate::compare`].

use std::cmp::Ordering;

use crate::{compare, Scheme, VersionError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

fn split_op(s: &str) -> (Op, &str) {
    const OPS: [(&str, Op); 7] = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("!=", Op::Ne),
        ("==", Op::Eq),
        ("=", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
    ];
    let s = s.trim();
    OPS.iter()
        .find_map(|(p, op)| s.strip_prefix(p).map(|r| (*op, r.trim())))
        .unwrap_or((Op::Eq, s))
}

fn holds(op: Op, o: Ordering) -> bool {
    match op {
        Op::Eq => o == Ordering::Equal,
        Op::Ne => o != Ordering::Equal,
        Op::Lt => o == Ordering::Less,
        Op::Le => o != Ordering::Greater,
        Op::Gt => o == Ordering::Greater,
        Op::Ge => o != Ordering::Less,
    }
}

/// `>= 1.0, < 2.0 || 3.0`: `,` is "and", `||` is "or", `*` is any version.
pub(crate) fn satisfies_list(
    scheme: Scheme,
    version: &str,
    requirement: &str,
) -> Result<bool, VersionError> {
    // The version must be valid even when the requirement is `*`.
    compare(scheme, version, version)?;
    if requirement.trim().is_empty() {
        return Err(VersionError::requirement(
            scheme,
            requirement,
            "empty requirement",
        ));
    }
    let mut any = false;
    for alt in requirement.split("||") {
        if alt.trim().is_empty() {
            return Err(VersionError::requirement(
                scheme,
                requirement,
                "empty alternative around '||'",
            ));
        }
        let mut all = true;
        for part in alt.split(',') {
            let (op, v) = split_op(part);
            if v.is_empty() {
                return Err(VersionError::requirement(
                    scheme,
                    requirement,
                    "a comparator without a version",
                ));
            }
            if v == "*" && op == Op::Eq {
                continue;
            }
            let o = compare(scheme, version, v)
                .map_err(|e| VersionError::requirement(scheme, requirement, e))?;
            all &= holds(op, o);
        }
        any |= all;
    }
    Ok(any)
}

/// True when the requirement is written as Maven/NuGet intervals.
pub(crate) fn is_interval(requirement: &str) -> bool {
    requirement.trim_start().starts_with(['[', '('])
}

/// `[1.0,2.0)`, `(,1.0]`, `[1.2]`, `(,1.0],[1.2,)`: a union of intervals.
pub(crate) fn satisfies_interval(
    scheme: Scheme,
    version: &str,
    requirement: &str,
) -> Result<bool, VersionError> {
    compare(scheme, version, version)?;
    let bad = |why: &str| VersionError::requirement(scheme, requirement, why);
    let cmp = |v: &str| {
        compare(scheme, version, v).map_err(|e| VersionError::requirement(scheme, requirement, e))
    };
    let mut rest = requirement.trim();
    let mut any = false;
    while !rest.is_empty() {
        let lower_inclusive = match rest.as_bytes().first() {
            Some(b'[') => true,
            Some(b'(') => false,
            _ => return Err(bad("expected '[' or '(' to open an interval")),
        };
        let close = rest
            .find([']', ')'])
            .ok_or_else(|| bad("an interval is not closed"))?;
        let inner = rest.get(1..close).unwrap_or("");
        let upper_inclusive = rest.as_bytes().get(close) == Some(&b']');
        rest = rest.get(close + 1..).unwrap_or("").trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
            if rest.is_empty() {
                return Err(bad("a trailing ',' after the last interval"));
            }
        }
        let inside = match inner.split_once(',') {
            None => {
                let v = inner.trim();
                if !(lower_inclusive && upper_inclusive) || v.is_empty() {
                    return Err(bad("a single version must be written [v]"));
                }
                cmp(v)? == Ordering::Equal
            }
            Some((lo, hi)) => {
                let (lo, hi) = (lo.trim(), hi.trim());
                if hi.contains(',') {
                    return Err(bad("an interval has at most two bounds"));
                }
                let lo_ok = if lo.is_empty() {
                    true
                } else {
                    let o = cmp(lo)?;
                    o == Ordering::Greater || (lower_inclusive && o == Ordering::Equal)
                };
                let hi_ok = if hi.is_empty() {
                    true
                } else {
                    let o = cmp(hi)?;
                    o == Ordering::Less || (upper_inclusive && o == Ordering::Equal)
                };
                lo_ok && hi_ok
            }
        };
        any |= inside;
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(s: Scheme, v: &str, r: &str) -> bool {
        satisfies_list(s, v, r).unwrap_or_else(|e| panic!("{e}"))
    }

    fn iv(v: &str, r: &str) -> bool {
        satisfies_interval(Scheme::Maven, v, r).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn lists() {
        assert!(list(Scheme::Dpkg, "1.2-1", ">= 1.0, < 2.0"));
        assert!(!list(Scheme::Dpkg, "2.0-1", ">= 1.0, < 2.0"));
        assert!(list(Scheme::Apk, "1.2.3-r1", "=1.2.3-r1"));
        assert!(list(Scheme::Apk, "1.2.3-r1", "1.2.3-r1"));
        assert!(list(Scheme::Apk, "1.2.3-r1", "==1.2.3-r1"));
        assert!(list(Scheme::Go, "v1.2.3", "< 1.0 || >= 1.2"));
        assert!(list(Scheme::Go, "v1.2.3", "!= 1.2.4"));
        assert!(list(Scheme::Generic, "5", "*"));
        assert!(satisfies_list(Scheme::Generic, "5", "").is_err());
        assert!(satisfies_list(Scheme::Generic, "5", ">= 1 ||").is_err());
        assert!(satisfies_list(Scheme::Generic, "5", ">=").is_err());
        assert!(satisfies_list(Scheme::Apk, "5", ">= 1-x").is_err());
        assert!(satisfies_list(Scheme::Apk, "5-x", "*").is_err());
    }

    #[test]
    fn intervals() {
        assert!(iv("1.0", "[1.0,2.0)"));
        assert!(iv("1.9.9", "[1.0,2.0)"));
        assert!(!iv("2.0", "[1.0,2.0)"));
        assert!(!iv("1.0", "(1.0,2.0)"));
        assert!(iv("2.0", "(1.0,2.0]"));
        assert!(iv("0.1", "(,1.0]"));
        assert!(iv("1.0", "[1.0]"));
        assert!(!iv("1.1", "[1.0]"));
        assert!(iv("3.0", "(,1.0],[1.2,)"));
        assert!(!iv("1.1", "(,1.0],[1.2,)"));
        assert!(iv("1.0-SNAPSHOT", "(,1.0)"));
        for bad in ["[1.0", "1.0]", "[1.0,2.0),", "(1.0)", "[]", "[1,2,3]"] {
            assert!(
                satisfies_interval(Scheme::Maven, "1.0", bad).is_err(),
                "{bad:?}"
            );
        }
    }
}
