//! Content compiled into a binary: the Lambda binary (`lambda/`) embeds `content/` as it was
//! at build time (its `build.rs` validates it first) and hands the files here.

use std::path::Path;
use std::sync::Arc;

use crate::content::{Catalogue, Problems, SourceFile};

/// Every file of `content/` at build time: (path relative to `content/`, bytes).
pub type EmbeddedFiles = &'static [(&'static str, &'static [u8])];

/// Parses embedded content. A binary built from broken content reports the same `path:line`
/// problems as `postbode check` (the build script refuses such content, so this is a second
/// line of defence).
pub fn catalogue(files: EmbeddedFiles) -> Result<Arc<Catalogue>, Problems> {
    let files: Vec<SourceFile> =
        files.iter().map(|(path, bytes)| SourceFile { path: (*path).to_owned(), bytes: bytes.to_vec() }).collect();
    Catalogue::parse(Path::new("content"), &files).map(Arc::new)
}
