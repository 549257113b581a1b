//! The author's commands: `check`, `new`, `preview`, `form`.

use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use super::{CommandResult, catalogue, runtime};
use crate::content::{NewPostKind, new_post};
use crate::render::{BaseUrl, EmailSettings};

/// `postbode check`: every problem as `path:line: message`; with `--form-page`, warnings
/// about the subscribe forms on the author's own pages.
pub fn check(content: &Path, form_pages: &[String], url: Option<&str>) -> CommandResult {
    let catalogue = catalogue(content)?;
    println!(
        "{}: no problems (posts: {}, series: {}, broadcasts: {})",
        content.display(),
        catalogue.posts.len(),
        catalogue.series.len(),
        catalogue.posts.iter().filter(|p| p.series().is_none()).count()
    );
    let today = jiff::Zoned::now().with_time_zone(crate::content::site_time_zone()).date();
    for warning in catalogue.warnings(today) {
        println!("{warning}");
    }
    let base = url.map(BaseUrl::parse).transpose()?;
    for page in form_pages {
        let html = if page.starts_with("https://") || page.starts_with("http://") {
            runtime()?.block_on(super::smoke::fetch_page(page))?
        } else {
            std::fs::read_to_string(page).map_err(|e| format!("cannot read {page}: {e}"))?
        };
        let warnings = super::smoke::form_page_warnings(&catalogue.site, base.as_ref(), &html);
        if warnings.is_empty() {
            println!("{page}: the form matches (consent text, fields, privacy link)");
        }
        for warning in warnings {
            // Quotes the fetched page: its control characters are shown, never acted on.
            println!("warning: {page}: {}", crate::subscribers::terminal_safe(&warning));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `postbode new TITLE`: writes the next post of the series (or a broadcast) with its front
/// matter filled in; never overwrites a file.
pub fn new(
    content: &Path,
    title: &str,
    broadcast: bool,
    series: Option<&str>,
    today: jiff::civil::Date,
) -> CommandResult {
    let catalogue = catalogue(content)?;
    let kind = match (broadcast, series) {
        (true, _) => NewPostKind::Broadcast,
        (false, Some(id)) => NewPostKind::Series(id.to_owned()),
        (false, None) => match catalogue.series.as_slice() {
            [only] => NewPostKind::Series(only.id.clone()),
            [] => return Err("there is no series in the content folder; use --broadcast".into()),
            _ => return Err("there is more than one series; say which with --series NAME".into()),
        },
    };
    let post = new_post(&catalogue, title, &kind, today)?;
    let path = content.join(&post.path);
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    }
    // `create_new`: a file that exists is never overwritten, even one `check` does not know.
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!("{} exists already; nothing was written", path.display()),
            _ => format!("cannot write {}: {e}", path.display()),
        })?;
    std::io::Write::write_all(&mut file, post.text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {} (slug `{}`)", path.display(), post.slug);
    println!("next: write the summary and the text, then `postbode preview {}`", post.slug);
    Ok(ExitCode::SUCCESS)
}

/// `postbode form URL`: the subscribe form for the author's own site.
pub fn form(content: &Path, url: &str, page: Option<&str>) -> CommandResult {
    let catalogue = catalogue(content)?;
    let base = BaseUrl::parse(url)?;
    println!("{}", crate::render::web::embeddable_form(&catalogue.site, &base, page));
    Ok(ExitCode::SUCCESS)
}

/// `postbode preview [SLUG] [--letters]`: SLUG.html, SLUG.txt and SLUG.eml exactly as readers
/// get them; with `--letters` also the confirmation, welcome and "already subscribed" mails.
pub fn preview(
    content: &Path,
    slug: Option<&str>,
    out: &Path,
    base_url: &str,
    date: Option<&str>,
    letters: bool,
) -> CommandResult {
    let catalogue = catalogue(content)?;
    let base_url = BaseUrl::parse(base_url)?;
    let date = match date {
        Some(_) => super::time_arg("date", date)?.into(),
        None => SystemTime::now(),
    };
    let host = base_url.host().split(':').next().unwrap_or("postbode.example").to_owned();
    let address = |local: &str| {
        format!("{local}@{host}").parse::<lettre::Address>().map_err(|e| format!("no mail address for {host}: {e}"))
    };
    let settings = EmailSettings {
        from: lettre::message::Mailbox::new(Some(catalogue.site.author.clone()), address("nieuwsbrief")?),
        reply_to: None,
        base_url,
    };
    let slugs = crate::app::preview::write_previews(&catalogue, slug, &settings, out, date)
        .map_err(|e| crate::error_chain(&e))?;
    println!("Wrote {} post(s) to {}/ as SLUG.html, SLUG.txt and SLUG.eml:", slugs.len(), out.display());
    for slug in slugs.iter().take(20) {
        println!("  {}", out.join(format!("{slug}.eml")).display());
    }
    if slugs.len() > 20 {
        println!("  … and {} more", slugs.len() - 20);
    }
    if letters {
        let names = crate::app::preview::write_letter_previews(&catalogue, &settings, out, date)
            .map_err(|e| crate::error_chain(&e))?;
        println!("and the letters:");
        for name in names {
            println!("  {}", out.join(format!("{name}.eml")).display());
        }
    }
    println!("Open the .html in a browser and the .eml in a mail client to see what readers get.");
    Ok(ExitCode::SUCCESS)
}
