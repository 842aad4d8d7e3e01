//! Image sources on arbitrary bytes: the bytes are an image archive (plain,
//! gzip or zstd tar); it is opened (manifest.json / index.json / config,
//! names checked to stay inside, digests parsed and verified) and every
//! layer is walked and verified. The same bytes also go through the
//! config's lenient JSON reader. Errors are expected; a panic is a bug.
#![no_main]

use customs_image::{config::config_json, walk::walk_tar, Image};
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let _ = config_json(data);
    let _ = customs_image::digest::Digest::parse(&String::from_utf8_lossy(data));
    let Ok(mut f) = tempfile::NamedTempFile::new() else {
        return;
    };
    if f.write_all(data).is_err() {
        return;
    }
    let path = f.path().to_string_lossy().into_owned();
    let Ok(img) = Image::open(&path) else {
        return;
    };
    let all: Vec<usize> = (0..img.layers.len()).collect();
    let _ = img.for_each_layer(
        &all,
        &|i, s| walk_tar(s, &img.path, &img.layers[i].diff_id, &mut |_| Ok(())),
        &|_, _| Ok(()),
    );
    for i in 0..img.layers.len() {
        let _ = img.layer_identity(i);
        let _ = img.blob_key(i);
    }
});
