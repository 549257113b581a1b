//! Where the content model ([`crate::content`], which does no I/O) gets its files: the
//! `content/` folder on disk (the author's CLI and local mode), or the copy compiled into the
//! Lambda binary.

pub mod disk;
pub mod embedded;

#[cfg(feature = "images")]
pub use disk::load_catalogue_with_pictures;
pub use disk::{ContentError, image_cache, load_catalogue, read_content_dir};
