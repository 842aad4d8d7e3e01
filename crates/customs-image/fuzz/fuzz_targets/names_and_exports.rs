//! What registries and engines send, on arbitrary bytes: a `WWW-Authenticate`
//! challenge, an image reference and a transport, a platform, and an
//! engine's `docker save` export stream read in one pass (layers analyzed as
//! they pass, kept only when the manifest at the end names them and their
//! digests match). Errors are expected; a panic or a hang is a bug.
#![no_main]

use customs_image::registry::auth::parse_challenge;
use customs_image::registry::Platform;
use customs_image::{parse_target, walk::walk_tar, Image, ImageRef, ImageSrc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_challenge(&text);
    let _ = ImageRef::parse(&text);
    let _ = parse_target(&text, &ImageSrc::DEFAULT);
    let _ = Platform::parse(&text);
    let _ = Image::open_export(data, "fuzz", None, None, &|_, s| {
        walk_tar(s, std::path::Path::new("fuzz"), "", &mut |_| Ok(())).map(Some)
    });
});
