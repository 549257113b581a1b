//! `postbode preview`: files written, and clear errors.

use mail_parser::MessageParser;

use crate::helpers::{SEED_SLUG, postbode, repo_path, stderr, stdout};

#[test]
fn writes_html_text_and_eml_for_the_seed_post() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = postbode(&[
        "preview",
        SEED_SLUG,
        "--out",
        out_dir.path().to_str().unwrap(),
        "--date",
        "2026-12-01T08:00:00+01:00",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("{SEED_SLUG}.eml")));
    for ext in ["html", "txt", "eml"] {
        let path = out_dir.path().join(format!("{SEED_SLUG}.{ext}"));
        assert!(std::fs::metadata(&path).unwrap().len() > 1000, "{}", path.display());
    }
    let eml = std::fs::read(out_dir.path().join(format!("{SEED_SLUG}.eml"))).unwrap();
    let message = MessageParser::default().parse(&eml).unwrap();
    assert_eq!(message.subject(), Some("Leiderschap en vertrouwen"));
    assert!(message.body_text(0).unwrap().contains("Bouwen aan vertrouwen"));
    assert!(message.header_raw("List-Unsubscribe").is_some());
    assert!(message.header_raw("List-Unsubscribe-Post").is_some());
}

#[test]
fn same_date_gives_byte_identical_files() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&a, &b] {
        let out = postbode(&["preview", "--out", dir.path().to_str().unwrap(), "--date", "2026-12-01T08:00:00+01:00"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let eml = format!("{SEED_SLUG}.eml");
    assert_eq!(std::fs::read(a.path().join(&eml)).unwrap(), std::fs::read(b.path().join(&eml)).unwrap());
}

#[test]
fn renders_a_folder_with_many_posts() {
    let content = tempfile::tempdir().unwrap();
    for file in ["site.toml", "privacy.md"] {
        std::fs::copy(repo_path(&format!("tests/fixtures/long-post/{file}")), content.path().join(file)).unwrap();
    }
    let posts = content.path().join("posts");
    std::fs::create_dir(&posts).unwrap();
    let body = std::fs::read_to_string(repo_path("content/leiderschap/01-leiderschap-en-vertrouwen.md")).unwrap();
    let body = body.split("+++").nth(2).unwrap();
    for i in 0..500 {
        let text = format!(
            "+++\ntitle = \"Bericht {i}\"\nslug = \"bericht-{i}\"\nsummary = \"Nummer {i}.\"\ndate = 2026-12-01\n+++\n{body}"
        );
        std::fs::write(posts.join(format!("{i}.md")), text).unwrap();
    }
    let out_dir = tempfile::tempdir().unwrap();
    let out = postbode(&[
        "preview",
        "--content",
        content.path().to_str().unwrap(),
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Wrote 500 post(s)"), "{}", stdout(&out));
    assert_eq!(std::fs::read_dir(out_dir.path()).unwrap().count(), 1500);
}

#[test]
fn unknown_slug_is_explained() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = postbode(&["preview", "bestaat-niet", "--out", out_dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("there is no post with slug `bestaat-niet`"), "{}", stderr(&out));
}

#[test]
fn missing_content_folder_is_explained() {
    let out = postbode(&["preview", "--content", "nergens"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("the content folder nergens does not exist"), "{}", stderr(&out));
}

#[test]
fn unwritable_out_folder_is_explained() {
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let out_dir = blocker.path().join("preview");
    let out = postbode(&["preview", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("cannot write to the out folder {}", out_dir.display())), "{err}");
}

#[test]
fn broken_content_stops_the_preview_with_its_problems() {
    let content = tempfile::tempdir().unwrap();
    std::fs::write(content.path().join("site.toml"), "title = \"x\"\n").unwrap();
    let out = postbode(&["preview", "--content", content.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("site.toml:1: the required field `author` is missing"), "{}", stderr(&out));
}

/// `preview --letters` writes the letters next to the posts; `send-test --letter` sends one.
#[test]
fn letters_are_previewed_and_test_sent() {
    let out_dir = tempfile::tempdir().unwrap();
    let dir = out_dir.path().to_str().unwrap();
    let out = postbode(&["preview", "--letters", "--out", dir, "--date", "2026-12-01T08:00:00+01:00"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let subjects = [
        ("confirmation", "Bevestig je aanmelding"),
        ("welcome", "Welkom! Hier is je whitepaper: 22 tips voor jouw leiderschap"),
        ("already-subscribed", "Je bent al aangemeld"),
    ];
    for (name, subject) in subjects {
        for ext in ["html", "txt"] {
            assert!(out_dir.path().join(format!("letter-{name}.{ext}")).exists(), "{name}.{ext}");
        }
        let eml = std::fs::read(out_dir.path().join(format!("letter-{name}.eml"))).unwrap();
        let message = MessageParser::default().parse(&eml).unwrap();
        assert_eq!(message.subject(), Some(subject), "{name}");
        assert!(stdout(&out).contains(&format!("letter-{name}.eml")));
    }
    // The confirmation letter greets nobody by name, as the worker sends it.
    let confirmation = std::fs::read_to_string(out_dir.path().join("letter-confirmation.txt")).unwrap();
    assert!(!confirmation.contains("Anna"), "{confirmation}");
    assert!(out_dir.path().join(format!("{SEED_SLUG}.eml")).exists(), "the posts too");

    // A letter into the local outbox, as the author would try one.
    let data = tempfile::tempdir().unwrap();
    let local = data.path().to_str().unwrap();
    let sent = postbode(&[
        "send-test",
        "--letter",
        "welcome",
        "--to",
        "rene@voorbeeld.nl",
        "--base-url",
        "https://postbode.example",
        "--from",
        "René Rensen <nieuwsbrief@postbode.example>",
        "--local",
        local,
    ]);
    assert!(sent.status.success(), "{}", stderr(&sent));
    assert!(stdout(&sent).starts_with("sent `Welkom! Hier is je whitepaper"), "{}", stdout(&sent));
    let outbox: Vec<_> = std::fs::read_dir(data.path().join("outbox")).unwrap().collect();
    assert_eq!(outbox.len(), 1);
    let unknown = postbode(&["send-test", "--letter", "kerst", "--to", "rene@voorbeeld.nl", "--local", local]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("the letters are confirmation, welcome, already-subscribed"),
        "{}",
        stderr(&unknown)
    );
}
