//! The RPM database in its SQLite form (`rpmdb.sqlite`, RPM ≥ 4.16: Fedora
//! 33+, RHEL/UBI 9, Rocky/Alma 9, Amazon Linux 2023, openSUSE, Azure Linux).
//!
//! The SQLite file is opened in memory with rusqlite (`deserialize`, no
//! temporary file). Each row of its `Packages` table holds one RPM header
//! blob. The header format is parsed by hand: it is small and well specified
//! (<https://rpm-software-management.github.io/rpm/manual/format_v4.html>)
//! and no maintained crate reads a bare header blob without pulling in the
//! whole rpm package reader. Every offset and count is bounds-checked.
//!
//! Header blob layout (all integers big-endian):
//!
//! ```text
//! u32 il                      number of index entries
//! u32 dl                      length of the data store
//! il × { i32 tag, u32 type, i32 offset, u32 count }
//! dl bytes of data store
//! ```

use crate::{OsPkgError, Parsed};
use customs_model::Package;
use rusqlite::{Connection, OpenFlags};
use tracing::warn;

const TAG_NAME: i32 = 1000;
const TAG_VERSION: i32 = 1001;
const TAG_RELEASE: i32 = 1002;
const TAG_EPOCH: i32 = 1003;
const TAG_VENDOR: i32 = 1011;
const TAG_LICENSE: i32 = 1014;
const TAG_ARCH: i32 = 1022;
const TAG_SOURCERPM: i32 = 1044;
const TAG_DIRINDEXES: i32 = 1116;
const TAG_BASENAMES: i32 = 1117;
const TAG_DIRNAMES: i32 = 1118;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own limits (lib/header.c): at most 0xffff index entries and a
/// 256 MiB data store.
const MAX_INDEX: usize = 0xffff;
const MAX_DATA: usize = 256 << 20;

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

struct Entry {
    tag: i32,
    ty: u32,
    offset: usize,
    count: usize,
}

struct Header<'a> {
    entries: Vec<Entry>,
    store: &'a [u8],
}

fn err(msg: impl Into<String>) -> OsPkgError {
    OsPkgError::RpmHeader(msg.into())
}

impl<'a> Header<'a> {
    fn parse(blob: &'a [u8]) -> Result<Self, OsPkgError> {
        let il = be_u32(blob, 0).ok_or_else(|| err("blob shorter than 8 bytes"))? as usize;
        let dl = be_u32(blob, 4).ok_or_else(|| err("blob shorter than 8 bytes"))? as usize;
        if il == 0 || il > MAX_INDEX {
            return Err(err(format!("bad index count {il}")));
        }
        if dl > MAX_DATA {
            return Err(err(format!("data store too large ({dl} bytes)")));
        }
        let index_end = 8 + il * 16;
        let store_end = index_end + dl;
        if blob.len() < store_end {
            return Err(err(format!(
                "truncated: {} bytes, header needs {store_end}",
                blob.len()
            )));
        }
        let store = blob
            .get(index_end..store_end)
            .ok_or_else(|| err("truncated data store"))?;
        let mut entries = Vec::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * 16;
            let tag = be_u32(blob, at).ok_or_else(|| err("truncated index"))? as i32;
            let ty = be_u32(blob, at + 4).ok_or_else(|| err("truncated index"))?;
            let offset = be_u32(blob, at + 8).ok_or_else(|| err("truncated index"))? as i32;
            let count = be_u32(blob, at + 12).ok_or_else(|| err("truncated index"))? as usize;
            if offset < 0 || offset as usize > dl {
                return Err(err(format!(
                    "tag {tag}: offset {offset} outside the data store"
                )));
            }
            entries.push(Entry {
                tag,
                ty,
                offset: offset as usize,
                count,
            });
        }
        Ok(Header { entries, store })
    }

    fn entry(&self, tag: i32) -> Option<&Entry> {
        self.entries.iter().find(|e| e.tag == tag)
    }

    /// `count` NUL-terminated strings starting at the entry's offset.
    fn strings(&self, tag: i32) -> Result<Vec<String>, OsPkgError> {
        let Some(e) = self.entry(tag) else {
            return Ok(Vec::new());
        };
        if !matches!(e.ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return Err(err(format!("tag {tag}: type {} is not a string", e.ty)));
        }
        // A STRING has count 1; I18N tables keep the first (C locale) string.
        let n = if e.ty == TYPE_STRING_ARRAY {
            e.count
        } else {
            1
        };
        if n > self.store.len() {
            return Err(err(format!(
                "tag {tag}: count {n} larger than the data store"
            )));
        }
        let mut out = Vec::with_capacity(n);
        let mut pos = e.offset;
        for _ in 0..n {
            let rest = self
                .store
                .get(pos..)
                .ok_or_else(|| err(format!("tag {tag}: string outside the data store")))?;
            let len = rest
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(|| err(format!("tag {tag}: unterminated string")))?;
            out.push(String::from_utf8_lossy(&rest[..len]).into_owned());
            pos += len + 1;
        }
        Ok(out)
    }

    fn string(&self, tag: i32) -> Result<String, OsPkgError> {
        Ok(self.strings(tag)?.into_iter().next().unwrap_or_default())
    }

    fn int32s(&self, tag: i32) -> Result<Vec<u32>, OsPkgError> {
        let Some(e) = self.entry(tag) else {
            return Ok(Vec::new());
        };
        if e.ty != TYPE_INT32 {
            return Err(err(format!("tag {tag}: type {} is not INT32", e.ty)));
        }
        let bytes = e
            .count
            .checked_mul(4)
            .ok_or_else(|| err(format!("tag {tag}: count overflow")))?;
        let end = e
            .offset
            .checked_add(bytes)
            .filter(|end| *end <= self.store.len())
            .ok_or_else(|| {
                err(format!(
                    "tag {tag}: {} integers overrun the data store",
                    e.count
                ))
            })?;
        Ok((e.offset..end)
            .step_by(4)
            .filter_map(|at| be_u32(self.store, at))
            .collect())
    }
}

/// Split `name-version-release.src.rpm` into its three parts.
fn split_source_rpm(s: &str) -> Option<(String, String, String)> {
    let base = s
        .strip_suffix(".src.rpm")
        .or_else(|| s.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.into(), version.into(), release.into()))
}

/// Parse one RPM header blob (as stored in rpmdb.sqlite) into a package.
///
/// Reads NAME, VERSION, RELEASE, EPOCH, ARCH, SOURCERPM (→ source name,
/// version and release; the source epoch is the binary's), LICENSE (one
/// entry, kept as written), VENDOR (→ maintainer, as Trivy does) and
/// BASENAMES + DIRNAMES + DIRINDEXES (→ installed files). The ID is
/// `name@version-release.arch`, as Trivy writes it.
pub fn parse_rpm_header(blob: &[u8]) -> Result<Package, OsPkgError> {
    let h = Header::parse(blob)?;
    let name = h.string(TAG_NAME)?;
    let version = h.string(TAG_VERSION)?;
    if name.is_empty() || version.is_empty() {
        return Err(err("no NAME or VERSION"));
    }
    let release = h.string(TAG_RELEASE)?;
    let epoch = h.int32s(TAG_EPOCH)?.first().copied().unwrap_or(0);
    let arch = h.string(TAG_ARCH)?;
    let mut pkg = Package {
        id: format!("{name}@{version}-{release}.{arch}"),
        name,
        version,
        release,
        epoch,
        arch,
        maintainer: h.string(TAG_VENDOR)?,
        ..Default::default()
    };
    let license = h.string(TAG_LICENSE)?;
    if !license.is_empty() && license != "(none)" {
        pkg.licenses = vec![license];
    }
    if let Some((n, v, r)) = split_source_rpm(&h.string(TAG_SOURCERPM)?) {
        pkg.src_name = n;
        pkg.src_version = v;
        pkg.src_release = r;
        pkg.src_epoch = epoch;
    }
    let basenames = h.strings(TAG_BASENAMES)?;
    if !basenames.is_empty() {
        let dirnames = h.strings(TAG_DIRNAMES)?;
        let indexes = h.int32s(TAG_DIRINDEXES)?;
        if indexes.len() != basenames.len() {
            return Err(err(format!(
                "{}: {} basenames but {} dir indexes",
                pkg.name,
                basenames.len(),
                indexes.len()
            )));
        }
        for (base, idx) in basenames.iter().zip(indexes) {
            let dir = dirnames
                .get(idx as usize)
                .ok_or_else(|| err(format!("{}: dir index {idx} out of range", pkg.name)))?;
            let full = format!("{dir}{base}");
            pkg.installed_files
                .push(full.trim_start_matches('/').to_string());
        }
    }
    Ok(pkg)
}

/// Parse an `rpmdb.sqlite` file given as bytes (opened in memory).
///
/// Every row of the `Packages` table (`hnum`, `blob`) is parsed with
/// [`parse_rpm_header`]; a row whose header is malformed becomes a warning
/// (`path: Packages row HNUM: ...`) and the others are returned. The
/// `gpg-pubkey` pseudo-packages are skipped, as Trivy does. A file that is
/// not SQLite, or has no `Packages` table, is an error.
pub fn parse_rpmdb_sqlite(path: &str, data: &[u8]) -> Result<Parsed, OsPkgError> {
    read_rpmdb_sqlite(path, data, data.len() as u64)
}

/// [`parse_rpmdb_sqlite`] from a reader of `size` bytes (a tar entry): the
/// bytes go straight into SQLite's memory, with no second copy. The caller
/// bounds `size`, since SQLite needs the whole database at once.
pub fn read_rpmdb_sqlite<R: std::io::Read>(
    path: &str,
    r: R,
    size: u64,
) -> Result<Parsed, OsPkgError> {
    let sql = |source| OsPkgError::Sqlite {
        path: path.to_string(),
        source,
    };
    if size == 0 {
        return Ok(Parsed::default());
    }
    let size = usize::try_from(size).map_err(|_| OsPkgError::NotRpmDb {
        path: path.to_string(),
    })?;
    let mut conn = Connection::open_in_memory_with_flags(
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql)?;
    conn.deserialize_read_exact(rusqlite::MAIN_DB, r, size, true)
        .map_err(sql)?;
    let has_table: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='Packages'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(sql)?
        > 0;
    if !has_table {
        return Err(OsPkgError::NotRpmDb {
            path: path.to_string(),
        });
    }
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .map_err(sql)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))
        })
        .map_err(sql)?;
    let mut parsed = Parsed::default();
    for row in rows {
        let (hnum, blob) = row.map_err(sql)?;
        let blob = blob.unwrap_or_default();
        match parse_rpm_header(&blob) {
            Ok(p) if p.name == "gpg-pubkey" => {}
            Ok(p) => parsed.packages.push(p),
            Err(e) => {
                let msg = format!("{path}: Packages row {hnum}: {e}; skipped");
                warn!("{msg}");
                parsed.warnings.push(msg);
            }
        }
    }
    Ok(parsed)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tiny RPM header builder: entries are (tag, type, payload bytes,
    /// count); INT32 payloads are aligned to 4 bytes as rpm does.
    #[derive(Default)]
    pub(crate) struct HeaderBuilder {
        entries: Vec<(i32, u32, usize, u32)>,
        store: Vec<u8>,
    }

    impl HeaderBuilder {
        pub(crate) fn string(mut self, tag: i32, s: &str) -> Self {
            let off = self.store.len();
            self.store.extend_from_slice(s.as_bytes());
            self.store.push(0);
            self.entries.push((tag, TYPE_STRING, off, 1));
            self
        }
        pub(crate) fn strings(mut self, tag: i32, v: &[&str]) -> Self {
            let off = self.store.len();
            for s in v {
                self.store.extend_from_slice(s.as_bytes());
                self.store.push(0);
            }
            self.entries
                .push((tag, TYPE_STRING_ARRAY, off, v.len() as u32));
            self
        }
        pub(crate) fn int32s(mut self, tag: i32, v: &[u32]) -> Self {
            while self.store.len() % 4 != 0 {
                self.store.push(0);
            }
            let off = self.store.len();
            for x in v {
                self.store.extend_from_slice(&x.to_be_bytes());
            }
            self.entries.push((tag, TYPE_INT32, off, v.len() as u32));
            self
        }
        pub(crate) fn build(self) -> Vec<u8> {
            let mut b = Vec::new();
            b.extend_from_slice(&(self.entries.len() as u32).to_be_bytes());
            b.extend_from_slice(&(self.store.len() as u32).to_be_bytes());
            for (tag, ty, off, count) in &self.entries {
                b.extend_from_slice(&tag.to_be_bytes());
                b.extend_from_slice(&ty.to_be_bytes());
                b.extend_from_slice(&(*off as u32).to_be_bytes());
                b.extend_from_slice(&count.to_be_bytes());
            }
            b.extend_from_slice(&self.store);
            b
        }
    }

    pub(crate) fn openssl_header() -> Vec<u8> {
        HeaderBuilder::default()
            .string(TAG_NAME, "openssl-libs")
            .string(TAG_VERSION, "3.0.7")
            .string(TAG_RELEASE, "27.el9")
            .int32s(TAG_EPOCH, &[1])
            .string(TAG_ARCH, "x86_64")
            .string(TAG_LICENSE, "ASL 2.0")
            .string(TAG_VENDOR, "Rocky Enterprise Software Foundation")
            .string(TAG_SOURCERPM, "openssl-3.0.7-27.el9.src.rpm")
            .strings(
                TAG_BASENAMES,
                &["libcrypto.so.3", "libssl.so.3", "LICENSE.txt"],
            )
            .strings(
                TAG_DIRNAMES,
                &["/usr/lib64/", "/usr/share/licenses/openssl-libs/"],
            )
            .int32s(TAG_DIRINDEXES, &[0, 0, 1])
            .build()
    }

    #[test]
    fn header() {
        let p = parse_rpm_header(&openssl_header()).unwrap_or_default();
        assert_eq!(p.id, "openssl-libs@3.0.7-27.el9.x86_64");
        assert_eq!(p.name, "openssl-libs");
        assert_eq!(p.version, "3.0.7");
        assert_eq!(p.release, "27.el9");
        assert_eq!(p.epoch, 1);
        assert_eq!(p.arch, "x86_64");
        assert_eq!(p.licenses, ["ASL 2.0"]);
        assert_eq!(p.maintainer, "Rocky Enterprise Software Foundation");
        assert_eq!(
            (
                p.src_name.as_str(),
                p.src_version.as_str(),
                p.src_release.as_str(),
                p.src_epoch
            ),
            ("openssl", "3.0.7", "27.el9", 1)
        );
        assert_eq!(
            p.installed_files,
            [
                "usr/lib64/libcrypto.so.3",
                "usr/lib64/libssl.so.3",
                "usr/share/licenses/openssl-libs/LICENSE.txt"
            ]
        );
    }

    #[test]
    fn malformed_headers() {
        let good = openssl_header();
        // Every truncation is an error, never a panic.
        for n in 0..good.len() {
            assert!(parse_rpm_header(&good[..n]).is_err(), "len {n}");
        }
        // An offset outside the data store.
        let mut bad = good.clone();
        bad[8 + 8..8 + 12].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
        assert!(parse_rpm_header(&bad).is_err());
        // A huge STRING_ARRAY count.
        let hb = HeaderBuilder::default()
            .string(TAG_NAME, "a")
            .string(TAG_VERSION, "1")
            .strings(TAG_BASENAMES, &["x"]);
        let mut b = hb.build();
        let at = 8 + 2 * 16 + 12;
        b[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_rpm_header(&b).is_err());
        // Dir index out of range.
        let b = HeaderBuilder::default()
            .string(TAG_NAME, "a")
            .string(TAG_VERSION, "1")
            .strings(TAG_BASENAMES, &["x"])
            .strings(TAG_DIRNAMES, &["/"])
            .int32s(TAG_DIRINDEXES, &[5])
            .build();
        let e = parse_rpm_header(&b).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("rpm header: a: dir index 5 out of range")
        );
        // Wrong type for NAME.
        let b = HeaderBuilder::default().int32s(TAG_NAME, &[1]).build();
        assert!(parse_rpm_header(&b).is_err());
    }

    fn rpmdb(blobs: &[(i64, Vec<u8>)]) -> Vec<u8> {
        let mut conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for (h, b) in blobs {
            conn.execute(
                "INSERT INTO Packages (hnum, blob) VALUES (?1, ?2)",
                rusqlite::params![h, b],
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        conn.serialize(rusqlite::MAIN_DB)
            .unwrap_or_else(|e| panic!("{e}"))
            .to_vec()
    }

    #[test]
    fn sqlite_db() {
        let pubkey = HeaderBuilder::default()
            .string(TAG_NAME, "gpg-pubkey")
            .string(TAG_VERSION, "8483c65d")
            .string(TAG_RELEASE, "5ccc5b19")
            .build();
        let bash = HeaderBuilder::default()
            .string(TAG_NAME, "bash")
            .string(TAG_VERSION, "5.1.8")
            .string(TAG_RELEASE, "9.el9")
            .string(TAG_ARCH, "x86_64")
            .string(TAG_SOURCERPM, "bash-5.1.8-9.el9.src.rpm")
            .build();
        let db = rpmdb(&[
            (1, openssl_header()),
            (2, pubkey),
            (3, vec![0, 0, 0, 1]),
            (4, bash),
        ]);
        let parsed =
            parse_rpmdb_sqlite("var/lib/rpm/rpmdb.sqlite", &db).unwrap_or_else(|e| panic!("{e}"));
        let ids: Vec<&str> = parsed.packages.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "openssl-libs@3.0.7-27.el9.x86_64",
                "bash@5.1.8-9.el9.x86_64"
            ]
        );
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0].starts_with("var/lib/rpm/rpmdb.sqlite: Packages row 3: rpm header:")
        );
    }

    #[test]
    fn not_sqlite() {
        let e = parse_rpmdb_sqlite("x/rpmdb.sqlite", b"this is not sqlite at all, no sir")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("x/rpmdb.sqlite: cannot read the RPM SQLite database"),
            "{e}"
        );
        assert!(parse_rpmdb_sqlite("x", b"").is_ok_and(|p| p.packages.is_empty()));
        let mut conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch("CREATE TABLE Other (x);")
            .unwrap_or_else(|e| panic!("{e}"));
        let other = conn
            .serialize(rusqlite::MAIN_DB)
            .unwrap_or_else(|e| panic!("{e}"))
            .to_vec();
        let e = parse_rpmdb_sqlite("y", &other).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("y: not an RPM database (no Packages table)")
        );
    }

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            split_source_rpm("glibc-2.34-60.el9.src.rpm"),
            Some(("glibc".into(), "2.34".into(), "60.el9".into()))
        );
        assert_eq!(
            split_source_rpm("python3-pip-21.3.1-1.el9.nosrc.rpm"),
            Some(("python3-pip".into(), "21.3.1".into(), "1.el9".into()))
        );
        assert_eq!(split_source_rpm("(none)"), None);
        assert_eq!(split_source_rpm("x.src.rpm"), None);
    }
}
