//! Where the content model ([`crate::content`], which does no I/O) gets its files: the
//! `content/` folder on disk (the author's CLI and local mode), or the copy compiled into the
//! Lambda binary.

pub mod disk;
pub mod embedded;

pub use disk::{ContentError, load_catalogue, read_content_dir};
