//! A new post's file, as `postbode new` writes it: front matter filled in, a body skeleton.
//!
//! ```text
//! +++
//! title = "Vertrouwen herstellen"
//! slug = "vertrouwen-herstellen"
//! order = 2
//! date = 2026-12-01
//! summary = "…"
//! +++
//! ```

use super::{Catalogue, Placement, Slug};

/// Where the new post goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewPostKind {
    /// The next post of this series (the folder name, e.g. `leiderschap`).
    Series(String),
    /// A post outside the series, sent once to everyone.
    Broadcast,
}

/// A post file to write: its path relative to the content folder, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPost {
    pub path: String,
    pub slug: Slug,
    pub text: String,
}

/// The file for a new post titled `title`, dated `today`. Refuses a title whose slug a post
/// already has.
pub fn new_post(
    catalogue: &Catalogue,
    title: &str,
    kind: &NewPostKind,
    today: jiff::civil::Date,
) -> Result<NewPost, String> {
    let title = title.trim();
    if title.is_empty() {
        return Err("give the post a title, like postbode new \"Vertrouwen herstellen\"".into());
    }
    let slug = Slug::from_title(title)?;
    if let Some(existing) = catalogue.post(slug.as_str()) {
        return Err(format!(
            "{} already has the slug `{slug}`; choose another title (or change the slug in the new file)",
            existing.source.display()
        ));
    }
    let quoted_title = toml_string(title);
    let (path, placement) = match kind {
        NewPostKind::Series(id) => {
            let series = catalogue.series(id).ok_or_else(|| {
                let known: Vec<&str> = catalogue.series.iter().map(|s| s.id.as_str()).collect();
                format!("there is no series `{id}` (there is: {})", known.join(", "))
            })?;
            let order = catalogue
                .series_posts(series)
                .filter_map(|p| match p.placement {
                    Placement::InSeries { order, .. } => Some(order),
                    Placement::Broadcast { .. } => None,
                })
                .max()
                .unwrap_or(0)
                + 1;
            (
                format!("{}/{order:02}-{slug}.md", series.id),
                format!("order = {order}\n# The day it appears on the site and in the feed.\ndate = {today}\n"),
            )
        }
        NewPostKind::Broadcast => (
            format!("posts/{slug}.md"),
            format!(
                "# A broadcast goes to every subscriber once, at the first series window on or after this\n\
                 # day; or, with `send_at = {today}T14:00:00` (Europe/Amsterdam), at that moment.\ndate = {today}\n"
            ),
        ),
    };
    let text = format!(
        "+++\ntitle = {quoted_title}\nslug = \"{slug}\"\n{placement}summary = \"Schrijf hier in één of twee zinnen waar dit stuk over gaat.\"\n+++\n\n\
         Begin hier met een opening die de lezer meteen aanspreekt.\n\n\
         ## Een tussenkop\n\n\
         Werk je punt uit. Een link naar een ander stuk schrijf je als `[titel](/posts/slug-van-dat-stuk)`.\n\n\
         ## Tot slot\n\n\
         Sluit af met één vraag of opdracht voor de lezer.\n"
    );
    Ok(NewPost { path, slug, text })
}

/// `value` as a TOML basic string, quotes and escapes included.
fn toml_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
