//! End-to-end: file names carrying terminal control sequences (ESC, BEL)
//! reach the table, the warnings and the error line escaped, never raw; the
//! JSON report escapes them as JSON does.

mod common;
use common::*;
use customs_testkit::{layer, DockerImage};
use std::path::Path;

/// A file name that retitles the terminal window (OSC 0 ... BEL) and turns
/// the text red (CSI 31 m).
const EVIL: &str = "\u{1b}[31mred\u{1b}]0;pwned\u{7}.env";
/// How the human outputs show it.
const SHOWN: &str = "\\x1b[31mred\\x1b]0;pwned\\x07.env";

// A token in the documented format; random, belongs to no account.
const AWS_ID: &str = "AKIAZ7QK3LMN4PX2RT6W";

/// A `docker save` archive of one layer (stored at `l0/layer.tar`, its true
/// diff ID in the config), the manifest naming it `layer_name`.
fn image(dir: &Path, layer: &[u8], layer_name: &str) -> String {
    let w = DockerImage::new(&[layer.to_vec()])
        .config("created", "2026-11-20T10:00:00Z".into())
        .config(
            "config",
            serde_json::json!({"User": "1000:1000", "Cmd": ["/app/run"]}),
        )
        .history(&["COPY . /app"])
        .manifest_layers(&[layer_name])
        .tags(&["hostile:1"])
        .write_tar(&dir.join("hostile.tar"));
    w.path.display().to_string()
}

fn hostile_image(dir: &Path) -> String {
    let secret = format!("AWS_ACCESS_KEY_ID={AWS_ID}\n");
    let l = layer(&[
        (&format!("app/{EVIL}"), secret.as_bytes()),
        // `..` makes the walker warn, quoting the raw name.
        (&format!("../{EVIL}"), b"x"),
    ]);
    image(dir, &l, "l0/layer.tar")
}

/// `customs image --input IMG --scanners secret EXTRA…` with a cache of its
/// own; the run must exit with `code`.
fn secret_scan(img: &str, extra: &[&str], code: i32) -> std::process::Output {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    customs(cache.path())
        .args(["image", "--input", img, "--scanners", "secret"])
        .args(extra)
        .assert()
        .code(code)
        .get_output()
        .clone()
}

fn assert_no_controls(what: &str, out: &[u8]) {
    for b in [0x1b, 0x07] {
        assert!(
            !out.contains(&b),
            "{what} holds byte {b:#04x}: {}",
            String::from_utf8_lossy(out)
        );
    }
}

#[test]
fn table_and_warnings_escape_control_characters_in_file_names() {
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let img = hostile_image(d.path());
    let out = secret_scan(&img, &["--exit-code", "1"], 1);
    assert_no_controls("stdout", &out.stdout);
    assert_no_controls("stderr", &out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains(&format!("app/{SHOWN}")), "{stdout}");
    assert!(stdout.contains("AWS"), "no secret finding: {stdout}");
    assert!(!stdout.contains(AWS_ID), "secret leaked: {stdout}");
    assert!(
        stderr.contains(&format!("'../{SHOWN}' climbs out of its directory")),
        "{stderr}"
    );
    // One record, one line: no newline but the one ending each record.
    assert!(stderr.lines().all(|l| !l.trim().is_empty()), "{stderr}");
}

#[test]
fn json_report_escapes_control_characters_as_json_does() {
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let img = hostile_image(d.path());
    let out = secret_scan(&img, &["-f", "json"], 0);
    assert_no_controls("stdout", &out.stdout);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("app/\\u001b[31mred\\u001b]0;pwned\\u0007.env"),
        "{text}"
    );
    // And it reads back as the real name.
    let r = json_of(&out.stdout);
    let targets: Vec<String> = r["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["Target"].as_str().map(String::from))
        .collect();
    assert!(targets.contains(&format!("/app/{EVIL}")), "{targets:?}");
}

#[test]
fn the_error_line_escapes_control_characters() {
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let l = layer(&[("etc/hostname", b"box\n")]);
    // The manifest names a layer the archive does not hold.
    let img = image(d.path(), &l, &format!("{EVIL}/layer.tar"));
    let out = secret_scan(&img, &[], 3);
    assert_no_controls("stderr", &out.stderr);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("customs: error: "), "{stderr}");
    assert!(stderr.contains(SHOWN.trim_end_matches(".env")), "{stderr}");
}

/// An old-GNU sparse member (typeflag 'S') whose map has one chunk and no
/// closing chunk at the real size, written by hand (the tar crate cannot
/// write one): chunk at 386, `isextended` at 482, `realsize` at 483.
fn unclosed_sparse_member(path: &str, data: &[u8], real: u64) -> Vec<u8> {
    fn octal(v: &mut [u8], n: u64) {
        let s = format!("{n:0w$o}\0", w = v.len() - 1);
        v.copy_from_slice(s.as_bytes());
    }
    let mut h = [0u8; 512];
    h[..path.len()].copy_from_slice(path.as_bytes());
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], data.len() as u64);
    octal(&mut h[136..148], 0);
    h[156] = b'S';
    h[257..265].copy_from_slice(b"ustar  \0");
    octal(&mut h[386..398], 0);
    octal(&mut h[398..410], data.len() as u64);
    octal(&mut h[483..495], real);
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut v = h.to_vec();
    v.extend_from_slice(data);
    v.resize(v.len().div_ceil(512) * 512, 0);
    v
}

#[test]
fn an_unclosed_old_gnu_sparse_entry_does_not_stop_the_scan() {
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let secret = format!("AWS_ACCESS_KEY_ID={AWS_ID}\n");
    // The sparse entry first, then a file the scan must still see.
    let mut l = unclosed_sparse_member("var/lib/big.img", &[b'A'; 512], 1 << 20);
    let rest = layer(&[("app/after.env", secret.as_bytes())]);
    l.extend_from_slice(&rest);
    let img = image(d.path(), &l, "l0/layer.tar");
    let out = secret_scan(&img, &["-f", "json"], 0);
    let r = json_of(&out.stdout);
    let targets: Vec<&str> = r["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["Target"].as_str())
        .collect();
    assert_eq!(targets, ["/app/after.env"], "{r}");
}

/// A file with a credential on every line: the report lists the scanner's
/// limit and counts the rest, in JSON (`SecretsDropped`) and in the table.
#[test]
fn secret_findings_past_the_limit_are_counted_in_the_report() {
    const LINES: usize = 1_500;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut text = String::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..LINES {
        let mut key = String::from("AKIA");
        for _ in 0..16 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            key.push(char::from(alphabet[(x % 32) as usize]));
        }
        text.push_str(&format!("aws_access_key_id = {key}\n"));
    }
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let img = image(
        d.path(),
        &layer(&[("app/creds.env", text.as_bytes())]),
        "l0/layer.tar",
    );
    let run = |format: &str| secret_scan(&img, &["-f", format], 0);
    let out = run("json");
    let r = json_of(&out.stdout);
    let res = r["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|x| x["Target"] == "/app/creds.env")
        .cloned()
        .unwrap_or_default();
    let shown = res["Secrets"].as_array().map_or(0, Vec::len);
    assert_eq!(shown, 100, "the per-rule limit");
    assert_eq!(res["SecretsDropped"], (LINES - 100) as u64);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/app/creds.env: 100 secret findings shown, 1,400 more dropped"),
        "{err}"
    );
    let table = String::from_utf8_lossy(&run("table").stdout).into_owned();
    assert!(
        table.contains("… and 1400 more secret findings not shown (limit per file)"),
        "{table}"
    );
}
