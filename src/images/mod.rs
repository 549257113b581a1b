//! Where the content's images are resized: each image of the content folder becomes the
//! widths pages and mails use ([`WIDTHS`], never wider than the original), as JPEG or PNG
//! (what mail clients show; PNG stays PNG for drawings and transparency) and as WebP (for
//! browsers, about two thirds of the size), plus a 1200×630 crop for share cards.
//!
//! Done once per image and kept: the results are cached under the image's hash (and this
//! recipe's), so a new post without a new image processes nothing again. Used by the CLI and
//! `postbode dev` (feature `images`), and by the Lambda build script (`lambda/build.rs`), which
//! embeds the results; the Lambda binary never decodes an image.

use std::borrow::Cow;
use std::io::Cursor;
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageEncoder};
use sha2::Digest;

use crate::content::pictures::{Picture, SHARE_HEIGHT, SHARE_WIDTH, Variant, VariantFormat, WIDTHS};

/// What a cached result was made with: a change here makes every image be processed again.
pub const RECIPE: &str = "postbode-images-1: widths 600,1200 lanczos3; jpeg q82; webp q78; share 1200x630";

const JPEG_QUALITY: u8 = 82;
const WEBP_QUALITY: f32 = 78.0;

/// The name every version of an image shares: the hash of its bytes and of [`RECIPE`].
pub fn image_hash(bytes: &[u8]) -> String {
    let mut hasher = sha2::Sha256::new();
    hasher.update(RECIPE.as_bytes());
    hasher.update(bytes);
    hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Every version of the image `bytes` (JPEG or PNG).
pub fn process(bytes: &[u8]) -> Result<Picture, String> {
    let hash = image_hash(bytes);
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot read it: {e}"))?;
    let png = reader.format() == Some(image::ImageFormat::Png);
    let mut decoder = reader.into_decoder().map_err(|e| format!("cannot decode it: {e}"))?;
    // A phone's photo is stored sideways with an EXIF note to turn it: turned here, as
    // browsers and mail clients would not all do it.
    let orientation = decoder.orientation().map_err(|e| format!("cannot read its orientation: {e}"))?;
    let mut original = DynamicImage::from_decoder(decoder).map_err(|e| format!("cannot decode it: {e}"))?;
    original.apply_orientation(orientation);
    let alpha = png && original.color().has_alpha();

    let mut widths: Vec<u32> = WIDTHS.iter().copied().filter(|w| *w <= original.width()).collect();
    if widths.is_empty() {
        widths.push(original.width());
    }
    let mut variants = Vec::new();
    for width in widths {
        let height = ((u64::from(original.height()) * u64::from(width) + u64::from(original.width()) / 2)
            / u64::from(original.width()))
        .max(1) as u32;
        let resized = original.resize_exact(width, height, FilterType::Lanczos3);
        let fallback = if png { VariantFormat::Png } else { VariantFormat::Jpeg };
        variants.push(variant(&hash, &width.to_string(), &resized, fallback, alpha)?);
        variants.push(variant(&hash, &width.to_string(), &resized, VariantFormat::Webp, alpha)?);
    }
    variants.sort_by_key(|v| (v.format, v.width));
    let share = (original.width() >= SHARE_WIDTH && original.height() >= SHARE_HEIGHT)
        .then(|| {
            let crop = original.resize_to_fill(SHARE_WIDTH, SHARE_HEIGHT, FilterType::Lanczos3);
            variant(&hash, "share", &crop, VariantFormat::Jpeg, false)
        })
        .transpose()?;
    Ok(Picture { variants, share })
}

fn variant(
    hash: &str,
    name: &str,
    image: &DynamicImage,
    format: VariantFormat,
    alpha: bool,
) -> Result<Variant, String> {
    let mut bytes = Vec::new();
    let (width, height) = (image.width(), image.height());
    match format {
        VariantFormat::Jpeg => {
            let rgb = image.to_rgb8();
            JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)
                .write_image(rgb.as_raw(), width, height, image::ExtendedColorType::Rgb8)
                .map_err(|e| format!("cannot write JPEG: {e}"))?;
        }
        VariantFormat::Png => {
            let rgba = image.to_rgba8();
            image::codecs::png::PngEncoder::new_with_quality(
                &mut bytes,
                image::codecs::png::CompressionType::Best,
                image::codecs::png::FilterType::Adaptive,
            )
            .write_image(rgba.as_raw(), width, height, image::ExtendedColorType::Rgba8)
            .map_err(|e| format!("cannot write PNG: {e}"))?;
        }
        VariantFormat::Webp => {
            let encoded = if alpha {
                let rgba = image.to_rgba8();
                webp::Encoder::from_rgba(rgba.as_raw(), width, height).encode(WEBP_QUALITY).to_vec()
            } else {
                let rgb = image.to_rgb8();
                webp::Encoder::from_rgb(rgb.as_raw(), width, height).encode(WEBP_QUALITY).to_vec()
            };
            bytes = encoded;
        }
    }
    Ok(Variant {
        width,
        height,
        format,
        path: format!("/images/{hash}-{name}.{}", format.extension()),
        bytes: Cow::Owned(bytes),
    })
}

/// [`process`], kept under `cache` (a folder of its own): the versions of an image already
/// processed with this recipe are read back instead of made again. A cache that cannot be
/// read or written is only slower.
pub fn process_cached(bytes: &[u8], cache: &Path) -> Result<Picture, String> {
    let dir = cache.join(image_hash(bytes));
    if let Some(picture) = read_cached(&dir) {
        return Ok(picture);
    }
    // An entry without its marker is from an interrupted older write: made again.
    if dir.exists() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let picture = process(bytes)?;
    let _ = write_cached(&dir, &picture);
    Ok(picture)
}

/// A cached image: one file per version, named `WIDTHxHEIGHT-NAME.EXT`, and a `done` marker
/// written last (a half-written folder is made again).
fn read_cached(dir: &Path) -> Option<Picture> {
    if !dir.join("done").is_file() {
        return None;
    }
    let hash = dir.file_name()?.to_str()?.to_owned();
    let mut picture = Picture::default();
    for entry in std::fs::read_dir(dir).ok()? {
        let entry = entry.ok()?;
        let file = entry.file_name().to_str()?.to_owned();
        if file == "done" {
            continue;
        }
        let (size, rest) = file.split_once('-')?;
        let (name, ext) = rest.rsplit_once('.')?;
        let (width, height) = size.split_once('x')?;
        let variant = Variant {
            width: width.parse().ok()?,
            height: height.parse().ok()?,
            format: VariantFormat::from_extension(ext)?,
            path: format!("/images/{hash}-{name}.{ext}"),
            bytes: Cow::Owned(std::fs::read(entry.path()).ok()?),
        };
        if name == "share" {
            picture.share = Some(variant);
        } else {
            picture.variants.push(variant);
        }
    }
    picture.variants.sort_by_key(|v| (v.format, v.width));
    (!picture.variants.is_empty()).then_some(picture)
}

/// Writes the entry beside the cache under a name of its own, then renames it into place: a
/// reader never sees an entry half written, and of two processes making the same image at
/// once (parallel tests, two builds) the first rename wins and the other's copy goes.
fn write_cached(dir: &Path, picture: &Picture) -> std::io::Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let building = parent.join(format!(".building-{}-{stamp}", std::process::id()));
    let written = (|| {
        std::fs::create_dir(&building)?;
        for v in picture.variants.iter().chain(picture.share.as_ref()) {
            let name = v.path.rsplit('-').next().unwrap_or_default();
            std::fs::write(building.join(format!("{}x{}-{name}", v.width, v.height)), &v.bytes)?;
        }
        std::fs::write(building.join("done"), RECIPE)?;
        std::fs::rename(&building, dir)
    })();
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    written
}

/// Processes every image `catalogue` names (each file once, the files in parallel), taking
/// their bytes from `files` (the content folder's) and keeping the results under `cache`. An
/// image that cannot be decoded is a problem at the line that names it.
pub fn process_catalogue(
    catalogue: &crate::content::Catalogue,
    files: &[crate::content::SourceFile],
    cache: &Path,
) -> Result<crate::content::pictures::Pictures, crate::content::Problems> {
    use crate::content::Problem;
    let mut sources: Vec<&crate::content::pictures::ImageRef> = Vec::new();
    for r in &catalogue.image_refs {
        if !sources.iter().any(|s| s.source == r.source) {
            sources.push(r);
        }
    }
    let results: Vec<Result<Picture, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = sources
            .iter()
            .map(|r| {
                let bytes = files.iter().find(|f| f.path == r.source).map(|f| f.bytes.as_slice());
                scope.spawn(move || match bytes {
                    Some(bytes) => process_cached(bytes, cache),
                    None => Err("is not in the content folder".to_owned()),
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("could not be processed".into()))).collect()
    });
    let mut pictures = crate::content::pictures::Pictures::default();
    let mut problems = Vec::new();
    for (r, result) in sources.iter().zip(results) {
        match result {
            Ok(picture) => pictures.insert(r.source.clone(), picture),
            Err(message) => {
                problems.push(Problem::new(&r.named_in, r.line, format!("the image `{}` {message}", r.source)))
            }
        }
    }
    if problems.is_empty() { Ok(pictures) } else { Err(crate::content::Problems::new(problems)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut bytes = Vec::new();
        JpegEncoder::new_with_quality(&mut bytes, 90)
            .write_image(image.as_raw(), width, height, image::ExtendedColorType::Rgb8)
            .unwrap();
        bytes
    }

    fn decoded(variant: &Variant) -> (u32, u32, image::ImageFormat) {
        if imagesize::image_type(&variant.bytes).unwrap() == imagesize::ImageType::Webp {
            // The `image` build here reads JPEG and PNG only: WebP's size from its header.
            let size = imagesize::blob_size(&variant.bytes).unwrap();
            return (size.width as u32, size.height as u32, image::ImageFormat::WebP);
        }
        let format = image::guess_format(&variant.bytes).unwrap();
        let image = image::load_from_memory(&variant.bytes).unwrap();
        (image.width(), image.height(), format)
    }

    #[test]
    fn a_photo_becomes_each_width_in_jpeg_and_webp_and_a_share_crop() {
        let picture = process(&photo(1600, 900)).unwrap();
        let made: Vec<(u32, u32, image::ImageFormat)> = picture.variants.iter().map(decoded).collect();
        use image::ImageFormat::{Jpeg, WebP};
        assert_eq!(made, [(600, 338, Jpeg), (1200, 675, Jpeg), (600, 338, WebP), (1200, 675, WebP)]);
        let share = picture.share.as_ref().unwrap();
        assert_eq!(decoded(share), (1200, 630, Jpeg));
        let hash = image_hash(&photo(1600, 900));
        assert_eq!(picture.variants[0].path, format!("/images/{hash}-600.jpg"));
        assert_eq!(share.path, format!("/images/{hash}-share.jpg"));
        let (jpeg, webp) = (&picture.variants[1], &picture.variants[3]);
        assert!(webp.bytes.len() < jpeg.bytes.len(), "WebP {} ≥ JPEG {}", webp.bytes.len(), jpeg.bytes.len());
    }

    #[test]
    fn a_drawing_stays_png_and_a_small_image_is_never_enlarged() {
        let drawing = image::RgbaImage::from_fn(400, 300, |x, _| image::Rgba([0, 0, 0, (x % 256) as u8]));
        let mut bytes = Vec::new();
        image::codecs::png::PngEncoder::new(&mut bytes)
            .write_image(drawing.as_raw(), 400, 300, image::ExtendedColorType::Rgba8)
            .unwrap();
        let picture = process(&bytes).unwrap();
        let made: Vec<(u32, u32, image::ImageFormat)> = picture.variants.iter().map(decoded).collect();
        assert_eq!(made, [(400, 300, image::ImageFormat::Png), (400, 300, image::ImageFormat::WebP)]);
        assert!(picture.share.is_none(), "too small for a share card");
        assert!(image::load_from_memory(&picture.variants[0].bytes).unwrap().color().has_alpha());
    }

    #[test]
    fn the_cache_gives_back_what_was_made_and_is_keyed_by_the_image() {
        let cache = tempfile::tempdir().unwrap();
        let bytes = photo(1300, 700);
        let first = process_cached(&bytes, cache.path()).unwrap();
        assert_eq!(process_cached(&bytes, cache.path()).unwrap(), first);
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 1);
        // An entry without its `done` marker (an older, interrupted write) is made again.
        let entry = cache.path().join(image_hash(&bytes));
        std::fs::remove_file(entry.join("done")).unwrap();
        assert!(read_cached(&entry).is_none());
        assert_eq!(process_cached(&bytes, cache.path()).unwrap(), first);
        assert_eq!(read_cached(&entry).unwrap(), first, "and kept again");
        // Many processes making the same image at once: every one gets the whole image.
        let racing = tempfile::tempdir().unwrap();
        std::thread::scope(|scope| {
            let makers: Vec<_> =
                (0..4).map(|_| scope.spawn(|| process_cached(&bytes, racing.path()).unwrap())).collect();
            for maker in makers {
                assert_eq!(maker.join().unwrap(), first);
            }
        });
        assert_eq!(read_cached(&racing.path().join(image_hash(&bytes))).unwrap(), first);
        assert_eq!(std::fs::read_dir(racing.path()).unwrap().count(), 1, "no building folder left behind");
        process_cached(&photo(1300, 701), cache.path()).unwrap();
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 2);
    }

    #[test]
    fn what_is_not_an_image_is_refused_in_words() {
        assert!(process(b"%PDF-1.4").unwrap_err().starts_with("cannot"));
    }
}
