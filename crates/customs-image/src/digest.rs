//! Content digests (`sha256:…`, `sha512:…`) as OCI names them, and a reader
//! that hashes what passes through it, so a layer is verified while it is
//! streamed (no second read). The hashing itself is the `sha2` crate's; the
//! reader adapter is the few lines no crate offers for `Read`.

use sha2::{Digest as _, Sha256, Sha512};
use std::io::Read;

/// A parsed, well-formed digest: a known algorithm and its lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub algorithm: Algorithm,
    pub hex: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
}

impl Digest {
    /// Parse `alg:hex`; `None` for an unknown algorithm or a malformed hex
    /// part (so a digest can never smuggle a path component or a wildcard).
    pub fn parse(s: &str) -> Option<Digest> {
        let (alg, hex) = s.split_once(':')?;
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => return None,
        };
        let ok = hex.len() == algorithm.hex_len()
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Digest {
            algorithm,
            hex: hex.to_string(),
        })
    }

    /// The digest of `data` in the same algorithm.
    pub fn of(algorithm: Algorithm, data: &[u8]) -> Digest {
        let mut h = Hasher::new(algorithm);
        h.update(data);
        h.finish()
    }

    /// `blobs/<alg>/<hex>`, the blob's path in an OCI layout.
    pub fn blob_path(&self) -> String {
        format!("blobs/{}/{}", self.algorithm.name(), self.hex)
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

/// An incremental hash in one of the supported algorithms.
pub enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }
    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self {
            Hasher::Sha256(h) => (Algorithm::Sha256, hex::encode(h.finalize())),
            Hasher::Sha512(h) => (Algorithm::Sha512, hex::encode(h.finalize())),
        };
        Digest { algorithm, hex }
    }
}

/// A reader that hashes every byte it hands out and counts them.
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
    len: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R, algorithm: Algorithm) -> Self {
        HashingReader {
            inner,
            hasher: Hasher::new(algorithm),
            len: 0,
        }
    }

    /// Read the rest of the stream (up to `limit` more bytes) so the digest
    /// covers all of it. Returns how many bytes were drained, or an error
    /// when more than `limit` remain.
    pub fn drain(&mut self, limit: u64) -> std::io::Result<u64> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut n = 0u64;
        loop {
            match self.read(&mut buf) {
                Ok(0) => return Ok(n),
                Ok(k) => {
                    n += k as u64;
                    if n > limit {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("more than {limit} bytes after the end of the tar archive"),
                        ));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Bytes read so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn finish(self) -> Digest {
        self.hasher.finish()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(chunk) = buf.get(..n) {
            self.hasher.update(chunk);
        }
        self.len += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_well_formed_digests() {
        let h = "a".repeat(64);
        assert!(Digest::parse(&format!("sha256:{h}")).is_some());
        assert!(Digest::parse(&format!("sha512:{}", "0".repeat(128))).is_some());
        for bad in [
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}", "a".repeat(63)),
            format!("md5:{h}"),
            format!("sha256:../../{}", "a".repeat(58)),
            h.clone(),
            String::new(),
        ] {
            assert!(Digest::parse(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn hashing_reader_matches_the_one_shot_digest() {
        let data = b"hello layer".repeat(10_000);
        let mut r = HashingReader::new(&data[..], Algorithm::Sha256);
        let mut head = [0u8; 100];
        let _ = r.read(&mut head);
        assert_eq!(r.drain(u64::MAX).ok(), Some(data.len() as u64 - 100));
        assert_eq!(r.len(), data.len() as u64);
        assert_eq!(r.finish(), Digest::of(Algorithm::Sha256, &data));
    }

    #[test]
    fn drain_refuses_more_than_its_limit() {
        let data = vec![0u8; 10_000];
        let mut r = HashingReader::new(&data[..], Algorithm::Sha256);
        assert!(r.drain(1000).is_err());
    }
}
