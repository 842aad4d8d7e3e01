//! The trend of an image: vulnerability counts by severity over time, as a
//! stacked-area chart (SVG, or PNG rendered from the same drawing), a Markdown table or
//! JSON. Drawn with plotters; text is set in DejaVu Sans, embedded, so a PNG
//! reads the same on a machine without fonts.

use crate::{Error, Point, Result};
use customs_model::Severity;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::OnceLock;

/// Size of a chart, in pixels.
pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 540;

const FONT: &str = "sans-serif";

/// Severities drawn, most severe first (the legend's order).
const SERIES: [(Severity, RGBColor); 5] = [
    (Severity::Critical, RGBColor(0x9b, 0x1c, 0x1c)),
    (Severity::High, RGBColor(0xe0, 0x4e, 0x1b)),
    (Severity::Medium, RGBColor(0xe8, 0xa3, 0x17)),
    (Severity::Low, RGBColor(0x2f, 0x6f, 0xb5)),
    (Severity::Unknown, RGBColor(0x80, 0x80, 0x80)),
];

fn register_font() -> Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Chart("the embedded font does not load".into()))
    }
}

/// `YYYY-MM-DD` (or `MM-DD HH:MM` when the span is under three days).
fn label(ms: i64, short_span: bool) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    let s = humantime::format_rfc3339_seconds(t).to_string();
    if short_span {
        format!(
            "{} {}",
            s.get(5..10).unwrap_or(""),
            s.get(11..16).unwrap_or("")
        )
    } else {
        s.get(..10).unwrap_or("").to_string()
    }
}

/// Width of the legend column right of the plot.
const LEGEND: u32 = 170;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    points: &[Point],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| Error::Chart(e.to_string());
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (plot, legend) = root.split_horizontally(WIDTH - LEGEND);
    let (mut x0, mut x1) = match (points.first(), points.last()) {
        (Some(a), Some(b)) => (a.time_ms, b.time_ms),
        _ => (0, 0),
    };
    if x1 - x0 < 60_000 {
        // One point, or scans a minute apart: a day either side.
        x0 -= 86_400_000;
        x1 += 86_400_000;
    }
    let pad = (x1 - x0) / 40;
    let (x0, x1) = (x0 - pad, x1 + pad);
    let short_span = x1 - x0 < 3 * 86_400_000;
    // Stacked, most severe at the bottom: layer k is the sum of the k+1
    // most severe counts.
    let stack = |p: &Point, k: usize| -> i64 {
        SERIES
            .iter()
            .take(k + 1)
            .map(|(s, _)| p.counts.vulnerabilities.get(*s))
            .sum()
    };
    let top = SERIES.len() - 1;
    let ymax = points.iter().map(|p| stack(p, top)).max().unwrap_or(0);
    let ytop = (ymax + ymax / 10).max(5);
    let caption = if points.is_empty() {
        format!("{title}: no scans recorded")
    } else {
        format!(
            "{title}: vulnerabilities by severity ({} scans)",
            points.len()
        )
    };
    let mut chart = ChartBuilder::on(&plot)
        .caption(caption, (FONT, 22).into_font().style(FontStyle::Bold))
        .margin(18)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, 0i64..ytop)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_labels(7)
        .y_labels(8)
        .x_label_formatter(&|x| label(*x, short_span))
        .y_desc("vulnerabilities (stacked)")
        .x_desc("scan time (UTC)")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(0xf0, 0xf0, 0xf0))
        .bold_line_style(RGBColor(0xd8, 0xd8, 0xd8))
        .draw()
        .map_err(|e| err(&e))?;
    // Painted from the top layer down, each over the one above it.
    for k in (0..SERIES.len()).rev() {
        let color = SERIES[k].1;
        let data: Vec<(i64, i64)> = points.iter().map(|p| (p.time_ms, stack(p, k))).collect();
        chart
            .draw_series(
                AreaSeries::new(data.iter().copied(), 0, color.mix(0.85).filled())
                    .border_style(color.stroke_width(2)),
            )
            .map_err(|e| err(&e))?;
        if data.len() <= 60 {
            chart
                .draw_series(
                    data.iter()
                        .map(|&(x, y)| Circle::new((x, y), 3, color.filled())),
                )
                .map_err(|e| err(&e))?;
        }
    }
    // The legend: each severity with its count in the latest scan.
    let latest = points.last();
    let heading = ("Latest scan", (FONT, 15).into_font().style(FontStyle::Bold));
    legend
        .draw(&Text::new(heading.0, (12, 70), heading.1))
        .map_err(|e| err(&e))?;
    for (i, (sev, color)) in SERIES.iter().enumerate() {
        let y = 100 + i as i32 * 28;
        legend
            .draw(&Rectangle::new([(12, y), (30, y + 18)], color.filled()))
            .map_err(|e| err(&e))?;
        let n = latest
            .map(|p| p.counts.vulnerabilities.get(*sev))
            .unwrap_or(0);
        legend
            .draw(&Text::new(
                format!("{} {n}", sev.as_str()),
                (38, y + 2),
                (FONT, 14),
            ))
            .map_err(|e| err(&e))?;
    }
    if let Some(p) = latest {
        let total = stack(p, top);
        let y = 100 + SERIES.len() as i32 * 28 + 6;
        legend
            .draw(&Text::new(
                format!("total {total}"),
                (12, y),
                (FONT, 14).into_font().style(FontStyle::Bold),
            ))
            .map_err(|e| err(&e))?;
        legend
            .draw(&Text::new(
                label(p.time_ms, false),
                (12, y + 22),
                (FONT, 13),
            ))
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// The trend as an SVG document.
pub fn svg(title: &str, points: &[Point]) -> Result<String> {
    register_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, title, points)?;
    }
    Ok(out)
}

/// The trend as a PNG image.
pub fn png(title: &str, points: &[Point]) -> Result<Vec<u8>> {
    register_font()?;
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let backend = BitMapBackend::<plotters::backend::RGBPixel>::with_buffer_and_format(
            &mut rgb,
            (WIDTH, HEIGHT),
        )
        .map_err(|e| Error::Chart(e.to_string()))?;
        let root = backend.into_drawing_area();
        draw(&root, title, points)?;
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc
            .write_header()
            .map_err(|e| Error::Chart(format!("PNG: {e}")))?;
        w.write_image_data(&rgb)
            .map_err(|e| Error::Chart(format!("PNG: {e}")))?;
    }
    Ok(out)
}

/// The trend as a Markdown table (every scanner's counts).
pub fn markdown(title: &str, points: &[Point]) -> String {
    let md = |s: &str| customs_report::escape_control(s).replace('|', "\\|");
    let mut out = format!("## Trend of `{}`\n\n", md(title));
    if points.is_empty() {
        out.push_str("No scans recorded.\n");
        return out;
    }
    out.push_str("| Scan | Time | Reference | Critical | High | Medium | Low | Unknown | Secrets | Misconfigurations |\n");
    out.push_str("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for p in points {
        let v = &p.counts.vulnerabilities;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            p.id,
            p.time,
            md(&p.artifact_ref),
            v.critical,
            v.high,
            v.medium,
            v.low,
            v.unknown,
            p.counts.secrets.total(),
            p.counts.misconfigurations.total()
        ));
    }
    out
}

/// The trend as JSON: `{"Artifact": …, "Points": [...]}`.
pub fn json(title: &str, points: &[Point]) -> String {
    let v = serde_json::json!({"Artifact": title, "Points": points});
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
