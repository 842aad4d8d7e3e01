//! FIRST's EPSS scores (`epss_scores-YYYY-MM-DD.csv.gz`, or the plain CSV):
//! a header comment `#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000`
//! (absent in the oldest files), the column line `cve,epss,percentile`, then
//! one row per CVE. Exploit data only.

use super::kev::{is_cve_id, is_date};
use crate::record::{EpssScore, EpssScores, FeedOutput};

/// Largest decompressed file accepted (a day's file is about 10 MB).
const MAX_FILE: u64 = 512 << 20;

/// `model_version` and `score_date` (as `YYYY-MM-DD`) of a header comment.
fn header(line: &str) -> (String, String) {
    let mut model = String::new();
    let mut date = String::new();
    for part in line.trim_start_matches('#').split(',') {
        let (k, v) = part.split_once(':').unwrap_or((part, ""));
        match k.trim() {
            "model_version" => model = v.trim().to_string(),
            "score_date" => date = v.trim().chars().take(10).collect(),
            _ => {}
        }
    }
    (model, date)
}

/// The date in a file name `epss_scores-YYYY-MM-DD.csv[.gz]`.
fn date_of_name(file: &str) -> String {
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
    name.strip_prefix("epss_scores-")
        .map(|r| r.chars().take(10).collect::<String>())
        .filter(|d| is_date(d))
        .unwrap_or_default()
}

/// Parse one scores file. One record per data row.
pub fn parse(file: &str, bytes: &[u8]) -> FeedOutput {
    let mut out = FeedOutput::default();
    let data = match super::gunzip_bounded(bytes, MAX_FILE) {
        Ok(d) => d,
        Err(e) => {
            out.records += 1;
            out.skip(file, "", e);
            return out;
        }
    };
    let Ok(text) = std::str::from_utf8(&data) else {
        out.records += 1;
        out.skip(file, "", "not UTF-8 text");
        return out;
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (mut model, mut date) = (String::new(), String::new());
    let mut body = text;
    if body.starts_with('#') {
        let (first, rest) = body.split_once('\n').unwrap_or((body, ""));
        (model, date) = header(first);
        body = rest;
    }
    if date.is_empty() {
        date = date_of_name(file);
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(body.as_bytes());
    let cols = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            out.records += 1;
            out.skip(file, "", format!("no column line: {e}"));
            return out;
        }
    };
    let col = |name: &str| cols.iter().position(|c| c.eq_ignore_ascii_case(name));
    let (Some(ci), Some(si), Some(pi)) = (col("cve"), col("epss"), col("percentile")) else {
        out.records += 1;
        out.skip(
            file,
            "",
            format!(
                "not an EPSS scores file: columns are {:?}, expected cve,epss,percentile",
                cols.iter().collect::<Vec<_>>()
            ),
        );
        return out;
    };
    let mut scores = Vec::new();
    for (i, row) in rdr.records().enumerate() {
        out.records += 1;
        let line = format!("line {}", i + 3);
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                out.skip(file, &line, e.to_string());
                continue;
            }
        };
        let cve = row.get(ci).unwrap_or_default();
        if !is_cve_id(cve) {
            out.skip(file, &line, format!("{cve:?} is not a CVE id"));
            continue;
        }
        let num = |i: usize| -> Option<f64> {
            row.get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| (0.0..=1.0).contains(v))
        };
        let (Some(score), Some(percentile)) = (num(si), num(pi)) else {
            out.skip(file, cve, "epss and percentile must be numbers from 0 to 1");
            continue;
        };
        scores.push(EpssScore {
            cve_id: cve.to_string(),
            score,
            percentile,
        });
    }
    out.epss = Some(EpssScores {
        model_version: model,
        score_date: date,
        scores,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    // The exact shape of FIRST's daily file (first rows of a real day).
    const FILE: &str = "#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z\n\
cve,epss,percentile\n\
CVE-1999-0001,0.01297,0.78765\n\
CVE-2021-3156,0.93621,0.99819\n\
CVE-2019-5418,0.94326,0.99942\n";

    #[test]
    fn reads_header_and_rows() {
        let out = parse("epss/epss_scores-2025-08-25.csv", FILE.as_bytes());
        assert_eq!(out.records, 3);
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        let e = out.epss.unwrap();
        assert_eq!(e.model_version, "v2025.03.14");
        assert_eq!(e.score_date, "2025-08-25");
        assert_eq!(e.scores.len(), 3);
        assert_eq!(e.scores[1].cve_id, "CVE-2021-3156");
        assert!((e.scores[1].score - 0.93621).abs() < 1e-9);
    }

    #[test]
    fn gzip_and_no_header_comment() {
        let body = FILE.split_once('\n').unwrap().1;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(body.as_bytes()).unwrap();
        let out = parse("epss_scores-2022-01-31.csv.gz", &gz.finish().unwrap());
        let e = out.epss.unwrap();
        assert_eq!(e.model_version, "");
        assert_eq!(e.score_date, "2022-01-31");
        assert_eq!(e.scores.len(), 3);
    }

    #[test]
    fn bad_rows_are_skipped_alone() {
        let text = format!("{FILE}CVE-2020-1,2.5,0.1\nnope,0.1,0.1\nCVE-2020-0002,0.1\n");
        let out = parse("e.csv", text.as_bytes());
        assert_eq!(out.records, 6);
        assert_eq!(out.epss.unwrap().scores.len(), 3);
        assert_eq!(out.skipped.len(), 3, "{:?}", out.skipped);
    }

    #[test]
    fn not_epss() {
        let out = parse("e.csv", b"a,b,c\n1,2,3\n");
        assert!(out.epss.is_none());
        assert!(out.skipped[0].reason.starts_with("not an EPSS scores file"));
        let out = parse("e.csv.gz", &[0x1f, 0x8b, 8, 0, 1, 2]);
        assert!(out.skipped[0].reason.starts_with("bad gzip data"));
    }
}
