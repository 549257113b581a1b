//! `postbode preview`: every post (or one) rendered to `SLUG.html`, `SLUG.txt` and `SLUG.eml`,
//! exactly as a reader would receive it, with placeholder recipient data.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lettre::message::Mailbox;
use rayon::prelude::*;

use crate::content::{Catalogue, Post};
use crate::render::{EmailSettings, PreparedEmail, Recipient, RenderError};

/// The made-up reader of previews. `.example` is reserved (RFC 2606): it can never be mailed.
pub fn placeholder_recipient() -> Recipient {
    Recipient {
        to: Mailbox::new(Some("Anna de Vries".into()), "anna@lezer.example".parse().expect("static address")),
        first_name: Some("Anna".into()),
        unsubscribe_token: "VOORBEELD-AFMELDTOKEN".into(),
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
            let slug = post.slug.as_str();
            for (ext, bytes) in [("html", email.html.as_bytes()), ("txt", email.text.as_bytes()), ("eml", &email.mime)]
            {
                let path = out.join(format!("{slug}.{ext}"));
                std::fs::write(&path, bytes).map_err(|source| PreviewError::Write { path, source })?;
            }
            Ok(slug.to_owned())
        })
        .collect()
}
