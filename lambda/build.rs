//! Embeds the `content/` folder in the binaries, so `sam build && sam deploy` publishes a new
//! post with nothing else to upload, and validates it with the same code as `postbode
//! check`: a broken post fails the build with its `path:line: message`.
//!
//! Only this small crate depends on `content/`: a new post reruns this script, recompiles the
//! one-line `main` and relinks; no other crate is compiled again (`infra/publish-loop`).

use std::fmt::Write;
use std::path::{Path, PathBuf};

#[allow(dead_code, unused_imports)]
#[path = "../src/content/mod.rs"]
mod content;

// The images are resized here, once per image (cached in OUT_DIR under the image's hash), and
// only the results go into the binary.
#[allow(dead_code)]
#[path = "../src/images/mod.rs"]
mod images;

fn main() {
    // The repository root: this package is `lambda/` in it.
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"))
        .parent()
        .expect("lambda/ is inside the repository")
        .to_path_buf();
    let root = manifest.join("content");
    println!("cargo::rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();

    let sources: Vec<content::SourceFile> = files
        .iter()
        .map(|(rel, abs)| content::SourceFile { path: rel.clone(), bytes: std::fs::read(abs).unwrap_or_default() })
        .collect();
    let shown = root.strip_prefix(&manifest).unwrap_or(&root);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let catalogue = match content::Catalogue::parse(shown, &sources) {
        Ok(catalogue) => catalogue,
        Err(problems) => {
            for problem in problems.iter() {
                println!("cargo::error={problem}");
            }
            return;
        }
    };
    let pictures = match images::process_catalogue(&catalogue, &sources, &out_dir.join("image-cache")) {
        Ok(pictures) => pictures,
        Err(problems) => {
            for problem in problems.iter() {
                println!("cargo::error={problem}");
            }
            return;
        }
    };

    // Images go in processed; their originals (often megabytes) stay out.
    let is_image = |rel: &str| {
        sources.iter().find(|s| s.path == rel).is_some_and(|s| content::pictures::facts_of(&s.bytes).is_ok())
    };
    let mut out = String::from(
        "/// The content folder at build time (see `postbode::content_io::embedded`).\n\
         pub static CONTENT: postbode::content_io::embedded::Embedded = postbode::content_io::embedded::Embedded {\n    files: &[\n",
    );
    for (rel, abs) in files.iter().filter(|(rel, _)| !is_image(rel)) {
        writeln!(out, "        ({rel:?}, include_bytes!({abs:?})),").expect("writing to a String");
    }
    out.push_str("    ],\n    images: &[\n");
    let served = out_dir.join("pictures");
    std::fs::create_dir_all(&served).expect("OUT_DIR is writable");
    let mut seen = std::collections::BTreeSet::new();
    for image in catalogue.image_refs.iter().filter(|r| seen.insert(r.source.clone())) {
        let (Some(picture), Some(facts)) = (
            pictures.get(&image.source),
            sources.iter().find(|s| s.path == image.source).and_then(|s| content::pictures::facts_of(&s.bytes).ok()),
        ) else {
            continue;
        };
        let png = facts.format == content::pictures::ImageFormat::Png;
        writeln!(
            out,
            "        postbode::content_io::embedded::EmbeddedImage {{ source: {:?}, width: {}, height: {}, png: {png}, variants: &[",
            image.source, facts.width, facts.height
        )
        .expect("writing to a String");
        for variant in picture.variants.iter().chain(picture.share.as_ref()) {
            let file = served.join(variant.path.trim_start_matches("/images/"));
            // Written only when new: an unchanged image keeps its file as it was.
            if std::fs::read(&file).ok().as_deref() != Some(&variant.bytes[..]) {
                std::fs::write(&file, &variant.bytes).expect("OUT_DIR is writable");
            }
            writeln!(
                out,
                "            ({}, {}, {:?}, include_bytes!({:?})),",
                variant.width,
                variant.height,
                variant.path,
                file.display().to_string()
            )
            .expect("writing to a String");
        }
        out.push_str("        ] },\n");
    }
    out.push_str("    ],\n};\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("embedded_content.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let rel = path.strip_prefix(root).expect("inside root");
            let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            files.push((rel, path.display().to_string()));
        }
    }
}
