//! Input: one byte choosing the scheme, then two strings separated by the
//! first NUL byte. Checks that nothing panics and that `compare` is
//! reflexive and antisymmetric on what it accepts; also drives `satisfies`
//! and `is_affected` with the same strings.
#![no_main]

use std::cmp::Ordering;

use customs_model::{Affected, AffectedRange, RangeEvent, RangeKind};
use customs_versions::{compare, is_affected, satisfies, Scheme};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let scheme = Scheme::ALL[usize::from(pick) % Scheme::ALL.len()];
    let text = String::from_utf8_lossy(rest);
    let (a, b) = text.split_once('\0').unwrap_or((&text, ""));

    let ab = compare(scheme, a, b);
    let ba = compare(scheme, b, a);
    assert_eq!(ab.is_ok(), ba.is_ok(), "{scheme} {a:?} {b:?}");
    if let (Ok(x), Ok(y)) = (&ab, &ba) {
        assert_eq!(*x, y.reverse(), "{scheme} {a:?} {b:?}");
    }
    if let Ok(o) = compare(scheme, a, a) {
        assert_eq!(o, Ordering::Equal, "{scheme} {a:?}");
    }

    let _ = satisfies(scheme, a, b);
    let affected = Affected {
        ranges: vec![AffectedRange {
            kind: RangeKind::Ecosystem,
            events: vec![
                RangeEvent::Introduced("0".into()),
                RangeEvent::Fixed(b.to_string()),
            ],
        }],
        patched: vec![b.to_string()],
        ..Default::default()
    };
    let _ = is_affected(scheme, a, &affected);
});
