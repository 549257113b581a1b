//! Content compiled into a binary: the Lambda binary (`lambda/`) embeds `content/` as it was
//! at build time (its `build.rs` validates it first, and processes its images) and hands the
//! files here.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::content::pictures::{ImageFacts, ImageFormat, Picture, Pictures, Variant, VariantFormat};
use crate::content::{Catalogue, Problems, SourceFile};

/// The content folder as the build script embedded it.
#[derive(Debug)]
pub struct Embedded {
    /// Every file but the images: (path relative to `content/`, bytes).
    pub files: &'static [(&'static str, &'static [u8])],
    /// The images, processed: the originals stay out of the binary.
    pub images: &'static [EmbeddedImage],
}

/// One image of the content folder: what the original was, and its processed versions.
#[derive(Debug)]
pub struct EmbeddedImage {
    pub source: &'static str,
    pub width: u32,
    pub height: u32,
    pub png: bool,
    /// (width, height, served path, bytes); the share crop's path ends in `-share.jpg`.
    pub variants: &'static [(u32, u32, &'static str, &'static [u8])],
}

pub type EmbeddedFiles = &'static Embedded;

/// Parses embedded content. A binary built from broken content reports the same `path:line`
/// problems as `postbode check` (the build script refuses such content, so this is a second
/// line of defence).
pub fn catalogue(embedded: EmbeddedFiles) -> Result<Arc<Catalogue>, Problems> {
    let files: Vec<SourceFile> = embedded
        .files
        .iter()
        .map(|(path, bytes)| SourceFile { path: (*path).to_owned(), bytes: bytes.to_vec() })
        .collect();
    let known: BTreeMap<String, ImageFacts> = embedded
        .images
        .iter()
        .map(|i| {
            let format = if i.png { ImageFormat::Png } else { ImageFormat::Jpeg };
            (i.source.to_owned(), ImageFacts { width: i.width, height: i.height, format })
        })
        .collect();
    let mut catalogue = Catalogue::parse_with_known_images(Path::new("content"), &files, &known)?;
    catalogue.pictures = pictures(embedded.images);
    Ok(Arc::new(catalogue))
}

fn pictures(images: &'static [EmbeddedImage]) -> Pictures {
    let mut pictures = Pictures::default();
    for image in images {
        let mut picture = Picture::default();
        for &(width, height, path, bytes) in image.variants {
            let format = path.rsplit('.').next().and_then(VariantFormat::from_extension).unwrap_or(VariantFormat::Jpeg);
            let variant = Variant { width, height, format, path: path.to_owned(), bytes: Cow::Borrowed(bytes) };
            if path.ends_with("-share.jpg") {
                picture.share = Some(variant);
            } else {
                picture.variants.push(variant);
            }
        }
        picture.variants.sort_by_key(|v| (v.format, v.width));
        pictures.insert(image.source, picture);
    }
    pictures
}
