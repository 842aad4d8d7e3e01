//! VEX applied to a real report: the database built from the real feeds in
//! ../shared/data/advisories, the metadata (image ID, tags) of the real
//! image ../shared/data/images/alpine-3.10.tar.gz, and its packages. The
//! image as shipped (alpine 3.10.4) is past every fix in this secdb
//! snapshot (detect_real.rs: zero findings), so the packages are its
//! installed database with older versions (tests/fixtures/alpine-3.10-old,
//! as in detect_real.rs), which the real secdb gives real findings:
//! CVE-2019-14697 (musl, musl-utils), CVE-2018-20679 and CVE-2019-5747
//! (busybox, ssl_client), CVE-2019-1547/1549/1563 (libcrypto1.1, libssl1.1).

use std::io::Read;
use std::path::{Path, PathBuf};

use customs_detect::detect_os;
use customs_detect::vex::{apply_vex, load, VexSet};
use customs_model::OsInfo;
use customs_report::{class, Report, ScanResult};
use customs_vulndb::{build, BuildOptions, NoProgress, VulnDb};
use sha2::Digest as _;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn must<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn db() -> VulnDb {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("customs-detect-vex_real");
    must(std::fs::create_dir_all(&root));
    let out = root.join("full.db");
    if !out.exists() {
        must(build(
            &BuildOptions::new(Path::new(DATA).join("advisories"), &out),
            &NoProgress,
        ));
    }
    must(VulnDb::open(&out))
}

/// `sha256:` of the real image's config (its image ID) and its tags.
fn image_metadata() -> (String, Vec<String>) {
    let f = must(std::fs::File::open(
        Path::new(DATA).join("images/alpine-3.10.tar.gz"),
    ));
    let mut outer = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut files = std::collections::BTreeMap::new();
    for entry in must(outer.entries()) {
        let mut e = must(entry);
        let p = must(e.path()).to_string_lossy().into_owned();
        if p.ends_with(".json") {
            let mut v = Vec::new();
            must(e.read_to_end(&mut v));
            files.insert(p, v);
        }
    }
    let manifest: serde_json::Value = must(serde_json::from_slice(&files["manifest.json"]));
    let config_name = manifest[0]["Config"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let config = &files[&config_name];
    let id = format!("sha256:{}", hex::encode(sha2::Sha256::digest(config)));
    let tags = manifest[0]["RepoTags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    (id, tags)
}

fn report() -> Report {
    let (image_id, repo_tags) = image_metadata();
    // The fixtures name this image by its ID.
    assert_eq!(
        image_id,
        "sha256:af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e"
    );
    let os = OsInfo {
        family: "alpine".into(),
        name: "3.10.4".into(),
        eosl: true,
    };
    let installed = must(std::fs::read(
        Path::new(FIXTURES).join("alpine-3.10-old/lib/apk/db/installed"),
    ));
    let mut packages =
        customs_ospkg::parse_apk_installed("lib/apk/db/installed", &installed).packages;
    for p in &mut packages {
        p.identifier.purl = Some(customs_ospkg::purl(&os, p));
    }
    let vulns = must(detect_os(&db(), &os, &packages));
    assert_eq!(vulns.len(), 12);
    let mut result = ScanResult::new("alpine:3.10 (alpine 3.10.4)", class::OS_PKGS, "alpine");
    result.packages = packages;
    result.vulnerabilities = vulns;
    let mut r = Report {
        schema_version: 2,
        artifact_name: "alpine:3.10".into(),
        artifact_type: "container_image".into(),
        results: vec![result],
        ..Default::default()
    };
    r.metadata.os = Some(os);
    r.metadata.image_id = image_id;
    r.metadata.repo_tags = repo_tags;
    r
}

fn vex(name: &str) -> customs_detect::vex::VexDocument {
    must(load(&Path::new(FIXTURES).join("vex").join(name)))
}

/// (package, id) of the findings left, and of the annotated ones with status.
fn left(r: &Report) -> (Vec<String>, Vec<String>) {
    let v = &r.results[0].vulnerabilities;
    let all = v
        .iter()
        .map(|f| format!("{} {}", f.pkg_name, f.vulnerability_id))
        .collect();
    let annotated = v
        .iter()
        .filter_map(|f| {
            f.vex.as_ref().map(|a| {
                format!(
                    "{} {} {} {}",
                    f.pkg_name,
                    f.vulnerability_id,
                    a.status,
                    Path::new(&a.source)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                )
            })
        })
        .collect();
    (all, annotated)
}

#[test]
fn openvex_suppresses_annotates_and_ignores_on_a_real_report() {
    let mut r = report();
    let out = apply_vex(&mut r, &VexSet::new([vex("openvex-0.2.json")]), true);
    // CVE-2019-14697 not_affected for pkg:apk/alpine/musl (no version):
    // musl's finding goes, musl-utils's (another package) stays.
    // CVE-2019-5747 under_investigation for the image (by its ID) with
    // subcomponent busybox: busybox's is annotated, ssl_client's is not.
    // CVE-2019-1549 affected for libssl1.1?arch=x86_64: annotated.
    // CVE-2019-1547 fixed for libcrypto1.1@9.9.9-r0 (another version) and
    // CVE-2019-1563 for a Debian package: nothing of this scan; ignored.
    assert_eq!((out.suppressed, out.annotated, out.unmatched), (1, 2, 2));
    let (all, annotated) = left(&r);
    assert_eq!(all.len(), 11);
    assert!(!all.contains(&"musl CVE-2019-14697".to_string()));
    assert!(all.contains(&"musl-utils CVE-2019-14697".to_string()));
    assert!(all.contains(&"libcrypto1.1 CVE-2019-1547".to_string()));
    assert_eq!(
        annotated,
        [
            "busybox CVE-2019-5747 under_investigation openvex-0.2.json",
            "libssl1.1 CVE-2019-1549 affected openvex-0.2.json",
        ]
    );
    let a = r.results[0]
        .vulnerabilities
        .iter()
        .find(|f| f.pkg_name == "libssl1.1" && f.vulnerability_id == "CVE-2019-1549")
        .and_then(|f| f.vex.clone())
        .unwrap_or_default();
    assert_eq!(a.statement, "Upgrade to openssl 1.1.1d-r0 or later.");
    let m = &r.results[0].modified_findings;
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].status, "not_affected");
    assert_eq!(m[0].kind, "vulnerability");
    assert_eq!(
        m[0].statement,
        "vulnerable_code_not_in_execute_path: The i386 code path is not built for x86_64."
    );
    assert_eq!(m[0].finding["PkgName"], "musl");
    assert_eq!(m[0].finding["InstalledVersion"], "1.1.15-r4");
    // The report still serializes with the annotation under "VEX".
    let json = must(serde_json::to_value(&r));
    let annotated_json = json["Results"][0]["Vulnerabilities"]
        .as_array()
        .map(|v| v.iter().filter(|f| f.get("VEX").is_some()).count())
        .unwrap_or(0);
    assert_eq!(annotated_json, 2);
}

#[test]
fn several_files_merge_and_the_latest_statement_wins() {
    let mut r = report();
    let set = VexSet::new([
        vex("openvex-0.2.json"),
        vex("csaf-vex.json"),
        vex("cyclonedx-1.6.vex.json"),
    ]);
    let out = apply_vex(&mut r, &set, true);
    let (all, annotated) = left(&r);
    // Suppressed: musl CVE-2019-14697 (OpenVEX, then CycloneDX's
    // false_positive of 2024-04-02 for musl and musl-utils both);
    // busybox CVE-2018-20679 (CSAF, image relationship; CycloneDX's
    // resolved of 2024-05-01 is older than the CSAF flag of 2024-06-01);
    // ssl_client CVE-2019-5747 (CSAF fixed); ssl_client CVE-2018-20679 is
    // named by nothing.
    let gone: Vec<&str> = [
        "musl CVE-2019-14697",
        "musl-utils CVE-2019-14697",
        "busybox CVE-2018-20679",
        "ssl_client CVE-2019-5747",
    ]
    .into_iter()
    .filter(|f| !all.contains(&f.to_string()))
    .collect();
    assert_eq!(gone.len(), 4, "{all:?}");
    assert!(all.contains(&"ssl_client CVE-2018-20679".to_string()));
    assert_eq!(out.suppressed, 4);
    // busybox CVE-2019-5747: OpenVEX (2024-03-03), CycloneDX in_triage
    // (2024-05-01) and CSAF under_investigation (2024-06-01): CSAF's.
    assert_eq!(
        annotated,
        [
            "busybox CVE-2019-5747 under_investigation csaf-vex.json",
            "libssl1.1 CVE-2019-1549 affected openvex-0.2.json",
        ]
    );
    assert_eq!(out.annotated, 2);
    let mut sources: Vec<String> = r.results[0]
        .modified_findings
        .iter()
        .map(|m| {
            let f = Path::new(&m.source)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!(
                "{} {} {f}",
                m.finding["PkgName"].as_str().unwrap_or(""),
                m.status
            )
        })
        .collect();
    sources.sort();
    assert_eq!(
        sources,
        [
            "busybox not_affected csaf-vex.json",
            "musl not_affected cyclonedx-1.6.vex.json",
            "musl-utils not_affected cyclonedx-1.6.vex.json",
            "ssl_client fixed csaf-vex.json",
        ]
    );
}
