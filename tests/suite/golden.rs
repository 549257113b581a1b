//! Golden files: the full `.eml` of the seed post and the long fixture at a fixed date. Any
//! change to the rendered bytes shows up here; after checking the change is intended, refresh
//! with `UPDATE_GOLDEN=1 cargo test golden`.

use crate::helpers::{LONG_SLUG, SEED_SLUG, long_catalogue, render, repo_path, seed_catalogue};

fn assert_golden(name: &str, actual: &[u8]) {
    let path = repo_path(&format!("tests/golden/{name}"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1 to create it", path.display()));
    if expected != actual {
        let (e, a) = (String::from_utf8_lossy(&expected), String::from_utf8_lossy(actual));
        let line =
            e.lines().zip(a.lines()).position(|(x, y)| x != y).unwrap_or(e.lines().count().min(a.lines().count()));
        panic!(
            "{} differs from the rendered email at line {}:\n  golden:   {:?}\n  rendered: {:?}\n(if intended: UPDATE_GOLDEN=1 cargo test golden)",
            path.display(),
            line + 1,
            e.lines().nth(line),
            a.lines().nth(line)
        );
    }
}

#[test]
fn seed_post_eml() {
    assert_golden(&format!("{SEED_SLUG}.eml"), &render(&seed_catalogue(), SEED_SLUG).mime);
}

#[test]
fn long_post_eml() {
    assert_golden(&format!("{LONG_SLUG}.eml"), &render(&long_catalogue(), LONG_SLUG).mime);
}
