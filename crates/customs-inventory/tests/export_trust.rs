//! The one-pass export reader (what the Docker and Podman sources feed)
//! trusts names no more than files do: an entry named by a cached diff ID is
//! skipped only on that claim and then held to it; the config must be the
//! image the engine announced. Streams are built here in the engines' order
//! (layers first, `manifest.json` last) and read through a pipe, so nothing
//! can seek back.

use customs_inventory::{analyze_export, InventoryError, Options};
use customs_testkit::{layer, sha256, tar_of};
use std::path::Path;

fn opts(cache: &Path) -> Options {
    Options {
        os: true,
        lang: true,
        cache_dir: Some(cache.to_path_buf()),
        ..Default::default()
    }
}

/// A layer over the 1 MiB kept in memory, so it takes the streaming path.
fn big_layer(tag: &[u8]) -> Vec<u8> {
    let mut filler = vec![b'a'; 2 << 20];
    filler[..tag.len()].copy_from_slice(tag);
    layer(&[
        ("etc/alpine-release", b"3.20.3\n"),
        (
            "etc/os-release",
            b"ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n",
        ),
        ("srv/filler.bin", &filler),
    ])
}

/// A `docker save` stream as Podman writes it: `<diff hex>.tar` layers,
/// `<config hex>.json`, then `manifest.json`.
fn export(layers: &[(String, Vec<u8>)], diff_ids: &[String]) -> (Vec<u8>, String) {
    let cfg = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": diff_ids.iter().map(|_| serde_json::json!({"created_by": "ADD x"})).collect::<Vec<_>>(),
    }))
    .unwrap();
    let id = sha256(&cfg);
    let cfg_name = format!("{}.json", id.trim_start_matches("sha256:"));
    let names: Vec<String> = layers.iter().map(|(n, _)| n.clone()).collect();
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": cfg_name, "RepoTags": ["localhost/app:1"], "Layers": names}]))
    .unwrap();
    let mut entries: Vec<(&str, &[u8])> =
        layers.iter().map(|(n, l)| (n.as_str(), &l[..])).collect();
    entries.push((&cfg_name, &cfg));
    entries.push(("manifest.json", &manifest));
    (tar_of(&entries), id)
}

fn name_of(diff: &str) -> String {
    format!("{}.tar", diff.trim_start_matches("sha256:"))
}

/// Feed `bytes` through a pipe (a stream that cannot seek).
fn piped(bytes: Vec<u8>) -> impl std::io::Read {
    let (r, mut w) = std::io::pipe().unwrap();
    std::thread::spawn(move || {
        use std::io::Write;
        let _ = w.write_all(&bytes);
    });
    r
}

#[test]
fn an_export_is_analyzed_in_one_pass_and_then_read_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let l = big_layer(b"one");
    let d = sha256(&l);
    let (stream, id) = export(&[(name_of(&d), l)], std::slice::from_ref(&d));
    let (img, inv) = analyze_export(
        piped(stream.clone()),
        "app:1",
        Some(&id),
        &opts(cache.path()),
    )
    .unwrap();
    assert_eq!(img.id, id);
    assert_eq!(img.layers[0].diff_id, d);
    assert_eq!(inv.os.as_ref().map(|o| o.name.as_str()), Some("3.20.3"));
    assert_eq!((inv.stats.analyzed, inv.stats.from_cache), (1, 0));
    let (_, warm) = analyze_export(piped(stream), "app:1", Some(&id), &opts(cache.path())).unwrap();
    assert_eq!((warm.stats.analyzed, warm.stats.from_cache), (0, 1));
    assert_eq!(warm.os, inv.os);
}

#[test]
fn an_entry_named_by_a_cached_diff_id_must_hold_those_bytes() {
    let cache = tempfile::tempdir().unwrap();
    let real = big_layer(b"real");
    let d = sha256(&real);
    let (stream, id) = export(&[(name_of(&d), real)], std::slice::from_ref(&d));
    analyze_export(piped(stream), "app:1", Some(&id), &opts(cache.path())).unwrap();
    // Other bytes under the cached layer's name, with a config claiming it.
    let forged = big_layer(b"forged");
    let (stream, id) = export(&[(name_of(&d), forged)], std::slice::from_ref(&d));
    let err = analyze_export(piped(stream), "evil:1", Some(&id), &opts(cache.path()))
        .expect_err("a forged entry must fail");
    let msg = err.to_string();
    assert!(
        msg.starts_with("evil:1: ") && msg.contains("does not match its digest"),
        "{msg}"
    );
}

#[test]
fn the_config_must_be_the_image_the_engine_announced() {
    let cache = tempfile::tempdir().unwrap();
    let l = big_layer(b"x");
    let d = sha256(&l);
    let (stream, _) = export(&[(name_of(&d), l)], &[d]);
    let other = format!("sha256:{}", "0".repeat(64));
    match analyze_export(piped(stream), "app:1", Some(&other), &opts(cache.path())) {
        Err(InventoryError::Image(e)) => {
            let m = e.to_string();
            assert!(m.contains("engine's image ID"), "{m}")
        }
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("a config that is not the announced image was accepted"),
    }
}

#[test]
fn a_truncated_stream_is_an_error() {
    let cache = tempfile::tempdir().unwrap();
    let l = big_layer(b"t");
    let d = sha256(&l);
    let (stream, id) = export(&[(name_of(&d), l)], &[d]);
    let cut = stream[..stream.len() / 2].to_vec();
    let err =
        analyze_export(piped(cut), "app:1", Some(&id), &opts(cache.path())).expect_err("truncated");
    assert!(err.to_string().starts_with("app:1"), "{err}");
}
