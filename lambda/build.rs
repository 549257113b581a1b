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
    if let Err(problems) = content::Catalogue::parse(shown, &sources) {
        for problem in problems.iter() {
            println!("cargo::error={problem}");
        }
        return;
    }

    let mut out = String::from(
        "/// Every file of `content/` at build time: (relative path, bytes).\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (rel, abs) in &files {
        writeln!(out, "    ({rel:?}, include_bytes!({abs:?})),").expect("writing to a String");
    }
    out.push_str("];\n");
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
