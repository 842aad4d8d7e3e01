//! Base images of Dockerfiles.
//!
//! - [`track`]: what a tag looks like ([`shape`]) and the best newer tag on
//!   the same track ([`newer_tag`]), with the rules in docs/base-tracks.md.
//! - [`dockerfile`]: the base images of a Dockerfile ([`bases`]), with the
//!   byte ranges ([`Site`]) a rewrite changes, in the `FROM` line or in the
//!   default of the `ARG` the tag came from; [`retag`] turns a new tag into
//!   [`Edit`]s, [`apply`] changes only those bytes, [`unified_diff`] shows
//!   the change and [`write_atomic`] writes it.
//! - [`detect`]: which base a built image is on (annotations, shared layers).

pub mod detect;
pub mod dockerfile;
pub mod track;

pub use detect::{base_from_annotations, evidence, is_built_on, shared_prefix, BaseEvidence};
pub use dockerfile::{
    apply, bases, redigest, retag, unified_diff, write_atomic, Base, Edit, Error, Site, TagPart,
};
pub use track::{is_prerelease, newer_tag, shape, DateFormat, TagShape, Track};
