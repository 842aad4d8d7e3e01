//! One progress bar per layer download (bytes and rate), on a TTY only.

use customs_image::registry::TransferObserver;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

pub struct LayerBars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl LayerBars {
    /// Bars when stderr is a terminal and nobody asked for quiet.
    pub fn for_terminal(quiet: bool, no_progress: bool) -> Option<Arc<LayerBars>> {
        if quiet || no_progress || !std::io::stderr().is_terminal() {
            return None;
        }
        Some(Arc::new(LayerBars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }))
    }
}

fn short(digest: &str) -> String {
    let hex = digest.split_once(':').map(|(_, h)| h).unwrap_or(digest);
    hex.chars().take(12).collect()
}

impl TransferObserver for LayerBars {
    fn started(&self, digest: &str, size: u64) {
        let bar = self.multi.add(ProgressBar::new(size));
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(short(digest));
        if let Ok(mut b) = self.bars.lock() {
            b.insert(digest.to_string(), bar);
        }
    }

    fn progressed(&self, digest: &str, bytes: u64) {
        if let Ok(b) = self.bars.lock() {
            if let Some(bar) = b.get(digest) {
                bar.inc(bytes);
            }
        }
    }

    fn finished(&self, digest: &str) {
        if let Ok(mut b) = self.bars.lock() {
            if let Some(bar) = b.remove(digest) {
                bar.finish_and_clear();
            }
        }
    }
}
