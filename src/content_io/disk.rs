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

/// [`load_catalogue`] with its images processed (see [`crate::images`]), as pages and mails
/// show them: `postbode dev`, `preview`, `check`. The results are cached (see
/// [`image_cache`]), so only a new image costs time.
#[cfg(feature = "images")]
pub fn load_catalogue_with_pictures(dir: &Path) -> Result<Catalogue, ContentError> {
    let files = read_content_dir(dir)?;
    let mut catalogue = Catalogue::parse(dir, &files).map_err(ContentError::Invalid)?;
    catalogue.pictures =
        crate::images::process_catalogue(&catalogue, &files, &image_cache()).map_err(ContentError::Invalid)?;
    Ok(catalogue)
}

/// Where processed images are kept between runs: the user's cache folder
/// (`$XDG_CACHE_HOME/postbode/images`, else `~/.cache/postbode/images`), else the system's
/// temporary folder. Entries are named by the image's hash, so any content folder may share it.
pub fn image_cache() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("postbode").join("images")
}
