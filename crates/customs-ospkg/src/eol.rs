//! End-of-life data for OS releases, shipped as `data/eol.toml`.

use customs_model::OsInfo;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

const EOL_TOML: &str = include_str!("../data/eol.toml");

/// A calendar date (proleptic Gregorian, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// A valid date, or `None` (`Date::new(2021, 2, 30)` is `None`).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days)
            .contains(&day)
            .then_some(Date { year, month, day })
    }

    /// Parse `YYYY-MM-DD`.
    ///
    /// ```
    /// use customs_ospkg::Date;
    /// assert_eq!(Date::parse("2021-05-01"), Date::new(2021, 5, 1));
    /// assert_eq!(Date::parse("2021-13-01"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Date> {
        let mut it = s.trim().splitn(3, '-');
        let y = it.next()?.parse().ok()?;
        let m = it.next()?.parse().ok()?;
        let d = it.next()?.parse().ok()?;
        Date::new(y, m, d)
    }

    /// The date of a Unix timestamp (seconds), in UTC.
    pub fn from_unix(secs: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Today in UTC, from the system clock.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Date::from_unix(secs)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Whether an OS release still receives security updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eol {
    /// Supported through `until` (inclusive); `None` for rolling releases.
    Supported { until: Option<Date> },
    /// Past its end of life: the last supported day was `since`.
    Ended { since: Date },
    /// The family or release is not in the data.
    Unknown,
}

impl Eol {
    /// True when the release is past its end of life (`OsInfo.eosl`).
    pub fn is_ended(&self) -> bool {
        matches!(self, Eol::Ended { .. })
    }
}

type Table = BTreeMap<String, BTreeMap<String, Date>>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(EOL_TOML).unwrap_or_default())
}

/// The newest release of `family` still supported on `today` (the release
/// key of the table: `3.22` for alpine, `12` for debian, `24.04` for
/// ubuntu), for "upgrade to" advice; `None` when the table has none.
///
/// ```
/// use customs_ospkg::{newest_supported, Date};
/// let r = newest_supported("alpine", Date::new(2021, 6, 1).unwrap()).unwrap();
/// assert!(r.as_str() >= "3.13", "{r}");
/// assert_eq!(newest_supported("no-such-os", Date::new(2021, 6, 1).unwrap()), None);
/// ```
pub fn newest_supported(family: &str, today: Date) -> Option<String> {
    let key = |r: &str| -> Vec<u64> { r.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    table()
        .get(family)?
        .iter()
        .filter(|(_, end)| **end > today)
        .map(|(r, _)| r.clone())
        .max_by_key(|r| key(r))
}

/// Parse the EOL TOML; an error names the family and release with a bad date.
fn parse_table(src: &str) -> Result<Table, String> {
    let raw: BTreeMap<String, BTreeMap<String, String>> =
        toml::from_str(src).map_err(|e| format!("eol.toml: {e}"))?;
    let mut out = Table::new();
    for (family, releases) in raw {
        let mut m = BTreeMap::new();
        for (rel, date) in releases {
            let d = Date::parse(&date)
                .ok_or_else(|| format!("eol.toml: {family} {rel}: bad date {date:?}"))?;
            m.insert(rel, d);
        }
        out.insert(family, m);
    }
    Ok(out)
}

/// Debian codenames, for `debian_version` of testing images ("bookworm/sid").
const DEBIAN_CODENAMES: &[(&str, &str)] = &[
    ("etch", "4"),
    ("lenny", "5"),
    ("squeeze", "6"),
    ("wheezy", "7"),
    ("jessie", "8"),
    ("stretch", "9"),
    ("buster", "10"),
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("forky", "14"),
    ("duke", "15"),
];

/// Leading `n` dot-separated numeric components of a version string.
fn components(v: &str, n: usize) -> Option<String> {
    let parts: Vec<&str> = v
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()?
        .split('.')
        .filter(|p| !p.is_empty())
        .take(n)
        .collect();
    (parts.len() == n).then(|| parts.join("."))
}

/// The key of `os` in the table; `Err(())` for a rolling release.
fn release_key(os: &OsInfo) -> Result<Option<String>, ()> {
    let name = os.name.trim();
    Ok(match os.family.as_str() {
        "wolfi" | "chainguard" | "opensuse-tumbleweed" => return Err(()),
        "alpine" if name == "edge" => return Err(()),
        "alpine" | "ubuntu" | "cbl-mariner" => components(name, 2),
        "debian" => {
            if name == "sid" || name == "unstable" {
                return Err(());
            }
            match name.split_once('/') {
                // "bookworm/sid": testing before release N: use N's dates.
                Some((code, _)) => DEBIAN_CODENAMES
                    .iter()
                    .find(|(c, _)| *c == code)
                    .map(|(_, n)| n.to_string()),
                None => components(name, 1),
            }
        }
        "amazon" => {
            let major = components(name, 1);
            match major.as_deref() {
                // Amazon Linux 1 reports its release as "2018.03".
                Some(y) if y.len() == 4 && y < "2022" => Some("1".to_string()),
                _ => major,
            }
        }
        _ => components(name, 1),
    })
}

/// The end-of-life status of `os` on `today`.
///
/// ```
/// use customs_ospkg::{eol, Date, Eol};
/// use customs_model::OsInfo;
/// let os = OsInfo { family: "alpine".into(), name: "3.10.4".into(), eosl: false };
/// let today = Date::new(2024, 1, 1).unwrap();
/// assert_eq!(eol(&os, today), Eol::Ended { since: Date::new(2021, 5, 1).unwrap() });
/// let wolfi = OsInfo { family: "wolfi".into(), name: "20230201".into(), eosl: false };
/// assert_eq!(eol(&wolfi, today), Eol::Supported { until: None });
/// ```
pub fn eol(os: &OsInfo, today: Date) -> Eol {
    let key = match release_key(os) {
        Err(()) => return Eol::Supported { until: None },
        Ok(Some(k)) => k,
        Ok(None) => return Eol::Unknown,
    };
    let Some(end) = table().get(&os.family).and_then(|m| m.get(&key)) else {
        return Eol::Unknown;
    };
    if today > *end {
        Eol::Ended { since: *end }
    } else {
        Eol::Supported { until: Some(*end) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(family: &str, name: &str) -> OsInfo {
        OsInfo {
            family: family.into(),
            name: name.into(),
            eosl: false,
        }
    }

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap_or(Date {
            year: 0,
            month: 0,
            day: 0,
        })
    }

    #[test]
    fn shipped_data_parses() {
        let t = parse_table(EOL_TOML).unwrap_or_else(|e| panic!("{e}"));
        for fam in [
            "alpine", "debian", "ubuntu", "redhat", "rocky", "alma", "amazon",
        ] {
            assert!(t.contains_key(fam), "{fam}");
        }
        // every Alpine 3.x branch from 3.0 to 3.23
        for minor in 0..=23 {
            assert!(t["alpine"].contains_key(&format!("3.{minor}")), "3.{minor}");
        }
        for major in 7..=13 {
            assert!(t["debian"].contains_key(&major.to_string()));
        }
        assert!(parse_table("[x]\n\"1\" = \"2020-02-30\"\n").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(Date::from_unix(0), d("1970-01-01"));
        assert_eq!(Date::from_unix(951_782_400), d("2000-02-29"));
        assert_eq!(Date::from_unix(1_700_000_000), d("2023-11-14"));
        assert_eq!(Date::from_unix(-86_400), d("1969-12-31"));
        assert_eq!(d("2021-05-01").to_string(), "2021-05-01");
        assert!(Date::today() > d("2024-01-01"));
        assert_eq!(Date::parse("2021-5"), None);
        assert_eq!(Date::new(2023, 2, 29), None);
        assert!(Date::new(2024, 2, 29).is_some());
    }

    #[test]
    fn alpine_debian_ubuntu() {
        let t = d("2024-06-01");
        assert_eq!(
            eol(&os("alpine", "3.10.4"), t),
            Eol::Ended {
                since: d("2021-05-01")
            }
        );
        assert_eq!(
            eol(&os("alpine", "3.19.1"), t),
            Eol::Supported {
                until: Some(d("2025-11-01"))
            }
        );
        // the last day itself is still supported
        assert!(!eol(&os("alpine", "3.10.4"), d("2021-05-01")).is_ended());
        assert!(eol(&os("alpine", "3.10.4"), d("2021-05-02")).is_ended());
        assert_eq!(
            eol(&os("debian", "12.7"), t),
            Eol::Supported {
                until: Some(d("2028-06-30"))
            }
        );
        assert!(eol(&os("debian", "10.13"), d("2024-07-01")).is_ended());
        assert!(!eol(&os("debian", "10.13"), d("2024-06-30")).is_ended());
        assert!(eol(&os("debian", "buster/sid"), d("2024-07-01")).is_ended());
        assert!(!eol(&os("debian", "bookworm/sid"), t).is_ended());
        assert_eq!(eol(&os("debian", "sid"), t), Eol::Supported { until: None });
        assert_eq!(eol(&os("debian", "12"), t), eol(&os("debian", "12.7"), t));
        assert_eq!(
            eol(&os("ubuntu", "22.04"), t),
            Eol::Supported {
                until: Some(d("2032-04-09"))
            }
        );
        assert!(eol(&os("ubuntu", "23.04"), t).is_ended());
    }

    #[test]
    fn others_and_unknown() {
        let t = d("2025-01-01");
        assert_eq!(
            eol(&os("chainguard", "20230214"), t),
            Eol::Supported { until: None }
        );
        assert_eq!(
            eol(&os("alpine", "edge"), t),
            Eol::Supported { until: None }
        );
        assert!(eol(&os("centos", "7.9.2009"), t).is_ended());
        assert!(!eol(&os("rocky", "9.3"), t).is_ended());
        assert!(!eol(&os("amazon", "2 (Karoo)"), t).is_ended());
        assert!(eol(&os("amazon", "2018.03"), t).is_ended());
        assert!(!eol(&os("amazon", "2023.3.20240108"), t).is_ended());
        assert_eq!(eol(&os("alpine", "9.99"), t), Eol::Unknown);
        assert_eq!(eol(&os("plan9", "4"), t), Eol::Unknown);
        assert_eq!(eol(&os("debian", ""), t), Eol::Unknown);
        assert_eq!(eol(&os("debian", "nosuch/sid"), t), Eol::Unknown);
    }
}
