//! Reading the content folder from disk: the filesystem side of [`crate::content`].

use std::io;
use std::path::{Path, PathBuf};

use crate::content::{Catalogue, Problems, SourceFile};

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("the content folder {} does not exist (pass --content DIR to use another one)", .0.display())]
    Missing(PathBuf),
    #[error("could not read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Invalid(Problems),
}

/// Reads every file under `dir` (hidden ones aside), with paths relative to it
/// (`/`-separated, sorted, so problems and output come in a stable order).
pub fn read_content_dir(dir: &Path) -> Result<Vec<SourceFile>, ContentError> {
    if !dir.is_dir() {
        return Err(ContentError::Missing(dir.to_path_buf()));
    }
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let io_err = |source| ContentError::Io { path: folder.clone(), source };
        for entry in std::fs::read_dir(&folder).map_err(io_err)? {
            let path = entry.map_err(io_err)?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).map_err(|source| ContentError::Io { path: path.clone(), source })?;
                let rel = path.strip_prefix(dir).unwrap_or(&path);
                let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                files.push(SourceFile { path: rel, bytes });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Reads and validates the content folder.
pub fn load_catalogue(dir: &Path) -> Result<Catalogue, ContentError> {
    let files = read_content_dir(dir)?;
    Catalogue::parse(dir, &files).map_err(ContentError::Invalid)
}
