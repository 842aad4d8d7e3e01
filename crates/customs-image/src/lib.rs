//! Image sources and the streaming layer walker of customs.
//!
//! ```no_run
//! use customs_image::{Image, walk::{walk_tar, Event}};
//! let img = Image::open("alpine.tar.gz")?;
//! let all: Vec<usize> = (0..img.layers.len()).collect();
//! // Each layer is hashed while it streams; `verified` runs only for layers
//! // whose bytes match their digests.
//! img.for_each_layer(
//!     &all,
//!     &|i, stream| walk_tar(stream, &img.path, &img.layers[i].diff_id, &mut |ev| {
//!         if let Event::Entry(e, _) = ev { println!("{}", e.path) }
//!         Ok(())
//!     }),
//!     &|i, stats| { println!("layer {i} verified: {} entries", stats.entries); Ok(()) },
//! )?;
//! # Ok::<(), customs_image::ImageError>(())
//! ```

pub mod config;
pub mod digest;
pub mod engine;
pub mod error;
pub mod export;
pub mod reference;
pub mod registry;
mod remote;
pub mod source;
pub mod walk;

pub use config::ImageConfig;
pub use engine::{Engine, EngineKind};
pub use error::ImageError;
pub use reference::{parse_target, ImageRef, ImageSrc, Target};
pub use registry::RemoteOptions;
pub use source::{Format, Image, LayerInfo};
