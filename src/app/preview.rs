//! `postbode preview`: every post (or one) rendered to `SLUG.html`, `SLUG.txt` and `SLUG.eml`,
//! exactly as a reader would receive it, with placeholder recipient data.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lettre::message::Mailbox;
use rayon::prelude::*;

use crate::content::{Catalogue, Post};
use crate::render::letters::LetterKind;
use crate::render::{EmailSettings, PreparedEmail, Recipient, RenderError, RenderedEmail};

/// The made-up reader of previews. `.example` is reserved (RFC 2606): it can never be mailed.
pub fn placeholder_recipient() -> Recipient {
    Recipient {
        to: Mailbox::new(Some("Anna de Vries".into()), "anna@lezer.example".parse().expect("static address")),
        first_name: Some("Anna".into()),
        unsubscribe_token: "VOORBEELD-AFMELDTOKEN".into(),
        preferences_token: Some("VOORBEELD-VOORKEURENTOKEN".into()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error(
        "there is no post with slug `{0}` (run `postbode check` to list problems, or leave out the slug to preview every post)"
    )]
    UnknownSlug(String),
    #[error("cannot write to the out folder {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// Renders the selected posts in parallel and writes three files per post into `out`.
/// Returns the slugs written, in catalogue order.
pub fn write_previews(
    catalogue: &Catalogue,
    slug: Option<&str>,
    settings: &EmailSettings,
    out: &Path,
    date: SystemTime,
) -> Result<Vec<String>, PreviewError> {
    let posts: Vec<&Post> = match slug {
        Some(s) => vec![catalogue.post(s).ok_or_else(|| PreviewError::UnknownSlug(s.to_owned()))?],
        None => catalogue.posts.iter().collect(),
    };
    std::fs::create_dir_all(out).map_err(|source| PreviewError::Write { path: out.to_path_buf(), source })?;
    let recipient = placeholder_recipient();
    posts
        .par_iter()
        .map(|post| {
            let email = PreparedEmail::new(catalogue, post, settings)?.render(&recipient, date)?;
            write_three(out, post.slug.as_str(), &email)
        })
        .collect()
}

/// `postbode preview --letters`: the confirmation, welcome and "already subscribed" mails as
/// `letter-NAME.html|txt|eml` (example tokens in their links). Returns the names written.
pub fn write_letter_previews(
    catalogue: &Catalogue,
    settings: &EmailSettings,
    out: &Path,
    date: SystemTime,
) -> Result<Vec<String>, PreviewError> {
    std::fs::create_dir_all(out).map_err(|source| PreviewError::Write { path: out.to_path_buf(), source })?;
    let recipient = placeholder_recipient();
    LetterKind::ALL
        .iter()
        .map(|kind| {
            let email = kind.render_example(catalogue, settings, &recipient, date)?;
            write_three(out, &format!("letter-{}", kind.name()), &email)
        })
        .collect()
}

/// NAME.html, NAME.txt and NAME.eml of one mail.
fn write_three(out: &Path, name: &str, email: &RenderedEmail) -> Result<String, PreviewError> {
    for (ext, bytes) in [("html", email.html.as_bytes()), ("txt", email.text.as_bytes()), ("eml", &email.mime)] {
        let path = out.join(format!("{name}.{ext}"));
        std::fs::write(&path, bytes).map_err(|source| PreviewError::Write { path, source })?;
    }
    Ok(name.to_owned())
}
