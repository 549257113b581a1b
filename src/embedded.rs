//! The content folder as it was when the binary was built (see `build.rs`).

use std::path::Path;
use std::sync::Arc;

use crate::content::{Catalogue, Problems, SourceFile};

include!(concat!(env!("OUT_DIR"), "/embedded_content.rs"));

/// Parses the embedded content. A binary built from broken content reports the same
/// `path:line` problems as `postbode check`.
pub fn catalogue() -> Result<Arc<Catalogue>, Problems> {
    let files: Vec<SourceFile> =
        FILES.iter().map(|(path, bytes)| SourceFile { path: (*path).to_owned(), bytes: bytes.to_vec() }).collect();
    Catalogue::parse(Path::new("content"), &files).map(Arc::new)
}
