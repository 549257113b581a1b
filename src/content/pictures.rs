//! Images of the content folder: which files the content names (a post's header image, images
//! in a post's Markdown, the whitepaper's cover, the default share image), what each must be
//! for its use, and the processed versions pages and mails link to.
//!
//! No I/O and no decoding here: the size of a file is read from its header (`imagesize`), and
//! the resizing is `crate::images`' (the CLI and `postbode dev`) or the Lambda build
//! script's; they hand their results back as [`Pictures`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

/// The formats an image in `content/` may have (what every mail client shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImageFormat {
    Jpeg,
    Png,
}

/// What the content folder's copy of an image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFacts {
    pub width: u32,
    pub height: u32,
    pub format: ImageFormat,
}

/// Reads the size and format of an image from its first bytes.
pub fn facts_of(bytes: &[u8]) -> Result<ImageFacts, String> {
    let format = match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Jpeg) => ImageFormat::Jpeg,
        Ok(imagesize::ImageType::Png) => ImageFormat::Png,
        Ok(other) => return Err(format!("is a {other:?} file; use JPEG (photos) or PNG (drawings)")),
        Err(_) => return Err("is not an image this system can read; use JPEG (photos) or PNG (drawings)".into()),
    };
    let size = imagesize::blob_size(bytes)
        .map_err(|_| "is damaged: its size cannot be read; save it again as JPEG or PNG".to_owned())?;
    let (width, height) = (u32::try_from(size.width).unwrap_or(0), u32::try_from(size.height).unwrap_or(0));
    if width == 0 || height == 0 {
        return Err("has no pixels".into());
    }
    Ok(ImageFacts { width, height, format })
}

/// What an image is for, and so how large it must at least be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageUse {
    /// Above a post: full width on the page (1200 px for sharp screens) and its share card.
    Header,
    /// In a post's text: the mail's full width.
    InText,
    /// The whitepaper's cover beside the offer.
    Cover,
    /// The share card of pages without their own image (1200×630, what LinkedIn shows).
    Share,
}

impl ImageUse {
    /// The smallest width and height that look sharp in this use.
    pub fn minimum(self) -> (u32, u32) {
        match self {
            ImageUse::Header | ImageUse::Share => (SHARE_WIDTH, SHARE_HEIGHT),
            ImageUse::InText => (WIDTHS[0], 1),
            ImageUse::Cover => (COVER_WIDTH, 1),
        }
    }

    fn purpose(self) -> &'static str {
        match self {
            ImageUse::Header => "a header image (shown full width and as the share card)",
            ImageUse::InText => "an image in the text (shown at the mail's full width)",
            ImageUse::Cover => "the whitepaper's cover",
            ImageUse::Share => "the default share image (what LinkedIn and WhatsApp show)",
        }
    }

    /// Whether `facts` suit this use; the problem in plain words if not.
    pub fn check(self, facts: &ImageFacts) -> Result<(), String> {
        let (w, h) = self.minimum();
        if facts.width < w || facts.height < h {
            return Err(format!(
                "is {}×{} px, too small for {}: it needs at least {w}×{h} px",
                facts.width,
                facts.height,
                self.purpose()
            ));
        }
        Ok(())
    }
}

/// The widths pages and mails use: 600 (a phone, and a mail's width) and 1200 (sharp screens).
pub const WIDTHS: [u32; 2] = [600, 1200];
/// The share crop: what LinkedIn, WhatsApp and Facebook show.
pub const SHARE_WIDTH: u32 = 1200;
pub const SHARE_HEIGHT: u32 = 630;
/// The cover is shown about 200 px wide; 300 keeps it sharp.
pub const COVER_WIDTH: u32 = 300;

/// Where an image written as `written` in the file `from` (relative to the content folder)
/// is: `Ok(None)` for an https address (used as it is), `Ok(Some(path))` for a file of the
/// content folder, `Err` for anything else.
pub fn resolve(written: &str, from: &str) -> Result<Option<String>, String> {
    let lower = written.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok(None);
    }
    if lower.contains(':') || written.starts_with('/') || written.is_empty() {
        return Err(format!(
            "the image `{written}` must be a file in the content folder (a path from this file, like \
             `beelden/foto.jpg`) or an https:// address"
        ));
    }
    let base = Path::new(from).parent().unwrap_or(Path::new(""));
    let mut parts: Vec<&str> = Vec::new();
    for part in base.to_str().unwrap_or_default().split('/').chain(written.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("the image `{written}` points outside the content folder"));
                }
            }
            p => parts.push(p),
        }
    }
    Ok(Some(parts.join("/")))
}

/// One processed version of an image, as served under [`Variant::path`] (a name with the
/// hash of the original in it: a changed image gets a new address, so it may be cached for
/// ever).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub width: u32,
    pub height: u32,
    pub format: VariantFormat,
    /// The address on the site, like `/images/3f2a…-600.jpg`.
    pub path: String,
    pub bytes: Cow<'static, [u8]>,
}

/// The formats processed images are served in: JPEG or PNG for mail clients (as the original
/// was), WebP for browsers, which take it at about two thirds of the size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VariantFormat {
    Jpeg,
    Png,
    Webp,
}

impl VariantFormat {
    pub fn extension(self) -> &'static str {
        match self {
            VariantFormat::Jpeg => "jpg",
            VariantFormat::Png => "png",
            VariantFormat::Webp => "webp",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            VariantFormat::Jpeg => "image/jpeg",
            VariantFormat::Png => "image/png",
            VariantFormat::Webp => "image/webp",
        }
    }

    pub fn from_extension(ext: &str) -> Option<VariantFormat> {
        [VariantFormat::Jpeg, VariantFormat::Png, VariantFormat::Webp].into_iter().find(|f| f.extension() == ext)
    }
}

/// Every processed version of one image of the content folder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Picture {
    /// By format, then width (the widths of [`WIDTHS`] up to the original's).
    pub variants: Vec<Variant>,
    /// The 1200×630 crop for share cards, when the original is that large.
    pub share: Option<Variant>,
}

impl Picture {
    /// The versions for mail clients (JPEG or PNG), narrow to wide.
    pub fn fallbacks(&self) -> impl Iterator<Item = &Variant> {
        self.variants.iter().filter(|v| v.format != VariantFormat::Webp)
    }

    pub fn webp(&self) -> impl Iterator<Item = &Variant> {
        self.variants.iter().filter(|v| v.format == VariantFormat::Webp)
    }

    /// The widest version for mail clients: what a mail shows (scaled to 600 px) and what
    /// `src` names.
    pub fn largest(&self) -> Option<&Variant> {
        self.fallbacks().max_by_key(|v| v.width)
    }
}

/// The processed images of a catalogue, by their path in the content folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pictures {
    by_source: BTreeMap<String, Picture>,
}

impl Pictures {
    pub fn insert(&mut self, source: impl Into<String>, picture: Picture) {
        self.by_source.insert(source.into(), picture);
    }

    pub fn get(&self, source: &str) -> Option<&Picture> {
        self.by_source.get(source)
    }

    /// The version served at `path` (`/images/…`), if there is one.
    pub fn served(&self, path: &str) -> Option<&Variant> {
        self.by_source.values().flat_map(|p| p.variants.iter().chain(p.share.as_ref())).find(|v| v.path == path)
    }
}

/// An image the content names, where, and for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Its path in the content folder.
    pub source: String,
    pub use_: ImageUse,
    /// The file and line that name it, for problems.
    pub named_in: std::path::PathBuf,
    pub line: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_resolve_from_the_file_that_names_them() {
        assert_eq!(resolve("beelden/a.jpg", "leiderschap/01.md"), Ok(Some("leiderschap/beelden/a.jpg".into())));
        assert_eq!(resolve("../beelden/a.jpg", "leiderschap/01.md"), Ok(Some("beelden/a.jpg".into())));
        assert_eq!(resolve("beelden/a.jpg", "site.toml"), Ok(Some("beelden/a.jpg".into())));
        assert_eq!(resolve("https://x.nl/a.jpg", "a.md"), Ok(None));
        assert!(resolve("../../a.jpg", "leiderschap/01.md").unwrap_err().contains("outside"));
        assert!(resolve("http://x.nl/a.jpg", "a.md").is_err());
        assert!(resolve("/a.jpg", "a.md").is_err());
    }

    #[test]
    fn sizes_are_checked_for_their_use() {
        let facts = |width, height| ImageFacts { width, height, format: ImageFormat::Jpeg };
        assert!(ImageUse::Header.check(&facts(1920, 1080)).is_ok());
        let small = ImageUse::Header.check(&facts(1000, 800)).unwrap_err();
        assert!(small.contains("1000×800") && small.contains("1200×630"), "{small}");
        assert!(ImageUse::InText.check(&facts(600, 10)).is_ok());
        assert!(ImageUse::InText.check(&facts(599, 400)).is_err());
        assert!(ImageUse::Cover.check(&facts(300, 420)).is_ok());
    }

    #[test]
    fn only_jpeg_and_png_are_taken() {
        assert!(facts_of(b"GIF89a\x01\x00\x01\x00").unwrap_err().contains("JPEG"));
        assert!(facts_of(b"no image").unwrap_err().contains("not an image"));
    }
}
