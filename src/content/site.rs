//! Site-wide settings (`site.toml`) and the privacy statement (`privacy.md`).
//!
//! ```toml
//! title = "René Rensen · Leiderschap"
//! author = "René Rensen"
//! identity = "René Rensen, leiderschapscoach"
//! contact_email = "rene@voorbeeld.nl"
//! business_name = "Rensen Leiderschap"                    # as in the Handelsregister
//! business_address = "Kerkstraat 1, 1234 AB Utrecht"
//! kvk_number = "12345678"
//! vat_number = "NL123456789B01"                           # optional: the btw-id
//! consent_text = "Je krijgt van mij de whitepaper en daarna elke week een artikel. Afmelden kan altijd."
//! whitepaper_title = "22 tips voor jouw leiderschap"
//! whitepaper_file = "whitepaper/22-tips.pdf"
//! retention_months = 12                                   # optional
//! after_subscribe_url = "https://www.voorbeeld.nl/bedankt" # optional
//! after_confirm_url = "https://www.voorbeeld.nl/welkom"    # optional
//! form_origins = ["https://www.voorbeeld.nl"]              # optional
//! summary_email = "rene@voorbeeld.nl"   # optional: a weekly summary of the figures
//! summary_at = "monday 09:00"           # optional: when (Europe/Amsterdam), default this
//! whitepaper_cover = "whitepaper/omslag.jpg"  # optional: shown with the offer
//! share_image = "beelden/delen.jpg"           # optional: the share card of pages without an image
//! reaction_consent_text = "Stuur mij ook de artikelen per e-mail."  # optional: the reaction form's newsletter box
//! ```

use std::collections::HashMap;
use std::path::Path;

use super::front_matter::{self, Fields, Located};
use super::markdown_scan::{self, LinkTarget};
use super::problem::Problem;

pub const SITE_FILE: &str = "site.toml";
pub const SERIES_FILE: &str = "series.toml";
pub const PRIVACY_FILE: &str = "privacy.md";

/// How long the consent proof of someone who left is kept when `site.toml` does not say.
pub const DEFAULT_RETENTION_MONTHS: u32 = 12;

/// The reaction form's newsletter box, when `site.toml` has no `reaction_consent_text`.
pub const DEFAULT_REACTION_CONSENT_TEXT: &str = "Stuur mij ook de whitepaper en de artikelen per e-mail. Ik bevestig \
     dat eerst met de knop in een e-mail; afmelden kan altijd.";

/// The lead magnet: sent once to every confirmed subscriber.
#[derive(Debug, Clone)]
pub struct Whitepaper {
    pub title: String,
    pub source: WhitepaperSource,
}

#[derive(Debug, Clone)]
pub enum WhitepaperSource {
    /// A file shipped in `content/`, served only through a signed link.
    File { file_name: String, content_type: &'static str, bytes: std::sync::Arc<[u8]> },
    /// A document hosted elsewhere.
    Url(String),
}

/// Site-wide settings from `site.toml`.
#[derive(Debug, Clone)]
pub struct Site {
    pub title: String,
    pub author: String,
    pub description: Option<String>,
    /// Who sends the mail, shown in every email footer (Dutch law asks for it).
    pub identity: String,
    /// Where readers reach a person: shown in every page and mail footer.
    pub contact_email: String,
    /// The business behind the site, shown in every page footer and the privacy statement.
    pub business: Business,
    /// The sentence shown with the subscribe form.
    pub consent_text: String,
    /// The label of the reaction form's newsletter box: a consent of its own, with its own
    /// hash in the proof ([`DEFAULT_REACTION_CONSENT_TEXT`] unless `site.toml` says).
    pub reaction_consent_text: String,
    pub whitepaper: Whitepaper,
    /// Months after someone unsubscribes, bounces or complains before their record, consent
    /// proof (with IP and user agent) and send history are erased.
    pub retention_months: u32,
    /// Where a form POST to `/subscribe` is sent after it is accepted (`303 See Other`).
    pub after_subscribe_url: Option<String>,
    /// Where a successful confirmation is sent (`303 See Other`).
    pub after_confirm_url: Option<String>,
    /// Web origins (`https://host[:port]`) whose pages may POST JSON to `/subscribe` (CORS).
    pub form_origins: Vec<String>,
    /// The weekly summary mail to the author, if wanted.
    pub summary: Option<Summary>,
    /// The whitepaper's cover beside the offer (a file of the content folder).
    pub whitepaper_cover: Option<SiteImage>,
    /// The share card of the home page and of posts without a header image.
    pub share_image: Option<SiteImage>,
}

/// The business behind the site, as the Handelsregister has it. Dutch law asks a business's
/// website to show its name, a postal address, its KvK number and (where it has one) its
/// btw-id (BW 3:15d, Handelsregisterwet art. 27), and the AVG asks the privacy statement to
/// name the controller (art. 13(1)(a)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Business {
    pub name: String,
    pub address: String,
    /// Eight digits.
    pub kvk_number: String,
    /// The btw-id (`NL` + nine digits + `B` + two digits, or another EU country's).
    pub vat_number: Option<String>,
}

impl Business {
    /// One line, as the page footer and the privacy statement show it: "Rensen Leiderschap ·
    /// Kerkstraat 1, 1234 AB Utrecht · KvK 12345678 · btw-id NL123456789B01".
    pub fn line(&self) -> String {
        let mut line = format!("{} · {} · KvK {}", self.name, self.address, self.kvk_number);
        if let Some(vat) = &self.vat_number {
            line.push_str(&format!(" · btw-id {vat}"));
        }
        line
    }
}

/// An image `site.toml` names: its path in the content folder and the line naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteImage {
    pub file: String,
    pub line: usize,
}

/// Where and when the weekly summary goes (`summary_email`, `summary_at`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub to: String,
    /// A weekday and a time in Europe/Amsterdam.
    pub at: super::SendWindow,
}

impl Site {
    /// The images `site.toml` names, each with its use and line (checked by the catalogue).
    pub fn images(&self) -> Vec<(String, super::pictures::ImageUse, usize)> {
        let cover = self.whitepaper_cover.iter().map(|i| (i.file.clone(), super::pictures::ImageUse::Cover, i.line));
        let share = self.share_image.iter().map(|i| (i.file.clone(), super::pictures::ImageUse::Share, i.line));
        cover.chain(share).collect()
    }

    /// A short hash of the consent text, stored with every consent record as proof of what
    /// the reader saw.
    pub fn consent_version(&self) -> String {
        text_version(&self.consent_text)
    }

    /// [`Site::consent_version`] of the reaction form's newsletter box.
    pub fn reaction_consent_version(&self) -> String {
        text_version(&self.reaction_consent_text)
    }

    pub fn allows_origin(&self, origin: &str) -> bool {
        self.form_origins.iter().any(|o| o == origin)
    }
}

/// A page of the site written by the author as Markdown (the privacy statement).
#[derive(Debug, Clone)]
pub struct Page {
    pub title: String,
    /// The Markdown with its `{{markers}}` filled in.
    pub body: String,
}

/// The markers a page may use; each is replaced by the site's setting, so the statement
/// always says what the code does (the retention period, the contact address).
const PAGE_MARKERS: [&str; 7] =
    ["author", "identity", "contact_email", "business", "kvk_number", "retention", "retention_months"];

fn marker_value(site: &Site, name: &str) -> Option<String> {
    Some(match name {
        "author" => site.author.clone(),
        "identity" => site.identity.clone(),
        "contact_email" => site.contact_email.clone(),
        "business" => site.business.line(),
        "kvk_number" => site.business.kvk_number.clone(),
        // "12 maanden", "1 maand": the period with its noun, so one month reads right.
        "retention" => match site.retention_months {
            1 => "1 maand".to_owned(),
            n => format!("{n} maanden"),
        },
        "retention_months" => site.retention_months.to_string(),
        _ => return None,
    })
}

/// A plausible address: something@domain.tld, no spaces. (The mail library checks it again
/// where it is used; this runs in the build script, which has no mail library.)
fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// An absolute https address, or the reason it is not one.
fn https_url(value: &str) -> Result<url::Url, String> {
    match url::Url::parse(value) {
        Ok(url) if url.scheme() == "https" && url.host_str().is_some() => Ok(url),
        _ => Err(format!("`{value}` must be an absolute https:// address")),
    }
}

pub(super) fn parse_site(
    path: &Path,
    text: &str,
    assets: &HashMap<&str, &[u8]>,
    problems: &mut Vec<Problem>,
) -> Option<Site> {
    let mut f = Fields::parse(path, text, 1, 1);
    let title = f.required_str("title");
    let author = f.required_str("author");
    let description = f.optional_str("description");
    let identity = f.required_str("identity");
    let contact_email = f.required_str("contact_email");
    let business_name = f.required_str("business_name");
    let business_address = f.required_str("business_address");
    let kvk_number = f.required_str("kvk_number");
    let vat_number = f.optional_str("vat_number");
    let consent_text = f.required_str("consent_text");
    let reaction_consent_text = f.optional_str("reaction_consent_text");
    let whitepaper_title = f.required_str("whitepaper_title");
    let file = f.optional_str("whitepaper_file");
    let url = f.optional_str("whitepaper_url");
    let retention = f.optional_positive("retention_months");
    let after_subscribe = f.optional_str("after_subscribe_url");
    let after_confirm = f.optional_str("after_confirm_url");
    let origins = f.optional_str_list("form_origins");
    let summary_email = f.optional_str("summary_email");
    let summary_at = f.optional_str("summary_at");
    let cover = f.optional_str("whitepaper_cover");
    let share = f.optional_str("share_image");
    // Problems of the values, after those of the fields themselves (unknown, wrong type).
    let mut local = Vec::new();
    let summary = summary(path, summary_email, summary_at, &mut local);
    let contact_email = contact_email.map(|c| email_address(path, c, "contact_email", &mut local));
    let kvk_number = kvk_number.map(|k| checked_kvk_number(path, k, &mut local));
    let vat_number = checked_vat_number(path, vat_number, &mut local);
    let after_subscribe_url = redirect(path, after_subscribe, "after_subscribe_url", &mut local);
    let after_confirm_url = redirect(path, after_confirm, "after_confirm_url", &mut local);
    let form_origins = form_origins(path, origins, &mut local);
    let source = whitepaper_source(path, file, url, assets, &mut local);
    let mut site_image = |field: Option<Located<String>>, key: &str| -> Checked<Option<SiteImage>> {
        let Some(field) = field else { return Ok(None) };
        match super::pictures::resolve(&field.value, SITE_FILE) {
            Ok(Some(file)) => Ok(Some(SiteImage { file, line: field.line })),
            Ok(None) => report(
                &mut local,
                Problem::new(path, field.line, format!("`{key}` must be a file in the content folder, not an address")),
            ),
            Err(message) => report(&mut local, Problem::new(path, field.line, format!("`{key}`: {message}"))),
        }
    };
    let whitepaper_cover = site_image(cover, "whitepaper_cover");
    let share_image = site_image(share, "share_image");
    problems.extend(f.finish());
    problems.extend(local);
    Some(Site {
        title: title?.value,
        author: author?.value,
        description: description.map(|d| d.value),
        identity: identity?.value,
        contact_email: contact_email?.ok()?,
        business: Business {
            name: business_name?.value,
            address: business_address?.value,
            kvk_number: kvk_number?.ok()?,
            vat_number: vat_number.ok()?,
        },
        consent_text: consent_text?.value,
        reaction_consent_text: reaction_consent_text
            .map_or_else(|| DEFAULT_REACTION_CONSENT_TEXT.to_owned(), |t| t.value),
        whitepaper: Whitepaper { title: whitepaper_title?.value, source: source.ok()? },
        retention_months: retention.map_or(DEFAULT_RETENTION_MONTHS, |r| r.value),
        after_subscribe_url: after_subscribe_url.ok()?,
        after_confirm_url: after_confirm_url.ok()?,
        form_origins: form_origins.ok()?,
        summary: summary.ok()?,
        whitepaper_cover: whitepaper_cover.ok()?,
        share_image: share_image.ok()?,
    })
}

/// A short hash of a consent text: what the proof stores of it.
fn text_version(text: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A value's problem is in the list already: the site cannot be built, and checking goes on
/// to find the other problems.
struct Reported;

/// A checked value, or [`Reported`].
type Checked<T> = Result<T, Reported>;

fn report<T>(problems: &mut Vec<Problem>, problem: Problem) -> Checked<T> {
    problems.push(problem);
    Err(Reported)
}

/// The weekly summary: `summary_email`, and `summary_at` (a weekday and time, Monday 09:00 when
/// not given). Neither: no summary.
fn summary(
    path: &Path,
    email: Option<Located<String>>,
    at: Option<Located<String>>,
    problems: &mut Vec<Problem>,
) -> Checked<Option<Summary>> {
    let to = match (email, &at) {
        (None, None) => return Ok(None),
        (None, Some(at)) => {
            let problem =
                Problem::new(path, at.line, "`summary_at` needs `summary_email`: the address the summary goes to");
            return report(problems, problem);
        }
        (Some(to), _) => email_address(path, to, "summary_email", problems)?,
    };
    let (raw, line) = at.map_or(("monday 09:00".to_owned(), 1), |a| (a.value, a.line));
    match super::SendWindow::parse(&raw) {
        Ok(window) if window.weekday.is_some() => Ok(Some(Summary { to, at: window })),
        Ok(_) => report(problems, Problem::new(path, line, "`summary_at` is weekly: name a day, like `monday 09:00`")),
        Err(message) => report(problems, Problem::new(path, line, format!("`summary_at`: {message}"))),
    }
}

/// An address field (`contact_email`, `summary_email`).
fn email_address(path: &Path, field: Located<String>, key: &str, problems: &mut Vec<Problem>) -> Checked<String> {
    if looks_like_email(&field.value) {
        return Ok(field.value);
    }
    let message = format!("`{key}` `{}` is not an email address, like rene@voorbeeld.nl", field.value);
    report(problems, Problem::new(path, field.line, message))
}

/// `kvk_number`: the eight digits of the Handelsregister (spaces allowed, as on the
/// extract: "1234 5678").
fn checked_kvk_number(path: &Path, field: Located<String>, problems: &mut Vec<Problem>) -> Checked<String> {
    let digits: String = field.value.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 8 && digits.chars().all(|c| c.is_ascii_digit()) {
        return Ok(digits);
    }
    let message = format!("`kvk_number` `{}` is not a KvK number: eight digits, like 12345678", field.value);
    report(problems, Problem::new(path, field.line, message))
}

/// `vat_number`, if set: a Dutch btw-id (`NL` + nine digits + `B` + two digits), or another
/// EU country's VAT number (its two letters, then 2 to 13 letters and digits).
fn checked_vat_number(
    path: &Path,
    field: Option<Located<String>>,
    problems: &mut Vec<Problem>,
) -> Checked<Option<String>> {
    let Some(field) = field else { return Ok(None) };
    let id: String = field.value.chars().filter(|c| !c.is_whitespace() && *c != '.').collect::<String>().to_uppercase();
    let (country, rest) = id.split_at(id.len().min(2));
    let fits = match country {
        "NL" => {
            rest.len() == 12
                && rest[..9].chars().all(|c| c.is_ascii_digit())
                && &rest[9..10] == "B"
                && rest[10..].chars().all(|c| c.is_ascii_digit())
        }
        _ => {
            country.len() == 2
                && country.chars().all(|c| c.is_ascii_uppercase())
                && (2..=13).contains(&rest.len())
                && rest.chars().all(|c| c.is_ascii_alphanumeric())
        }
    };
    if fits {
        return Ok(Some(id));
    }
    let message = format!("`vat_number` `{}` is not a btw-id, like NL123456789B01", field.value);
    report(problems, Problem::new(path, field.line, message))
}

/// A redirect after the form or the confirm (an https address), if set.
fn redirect(
    path: &Path,
    field: Option<Located<String>>,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Checked<Option<String>> {
    let Some(field) = field else { return Ok(None) };
    match https_url(&field.value) {
        Ok(url) => Ok(Some(url.to_string())),
        Err(message) => report(problems, Problem::new(path, field.line, format!("`{key}`: {message}"))),
    }
}

/// `form_origins`: the author's own sites that may post the form as JSON (origins only).
fn form_origins(
    path: &Path,
    origins: Option<Located<Vec<String>>>,
    problems: &mut Vec<Problem>,
) -> Checked<Vec<String>> {
    let Some(list) = origins else { return Ok(Vec::new()) };
    let mut ok = Vec::new();
    for origin in &list.value {
        match https_url(origin) {
            Ok(url) if url.path() == "/" && url.query().is_none() && url.fragment().is_none() => {
                ok.push(url.origin().ascii_serialization())
            }
            Ok(_) => problems.push(Problem::new(
                path,
                list.line,
                format!("`form_origins`: `{origin}` must be an origin only, like https://www.voorbeeld.nl (no path)"),
            )),
            Err(message) => problems.push(Problem::new(path, list.line, format!("`form_origins`: {message}"))),
        }
    }
    if ok.len() == list.value.len() { Ok(ok) } else { Err(Reported) }
}

/// The whitepaper: a file in the content folder (PDF, EPUB or ZIP), or an https address.
fn whitepaper_source(
    path: &Path,
    file: Option<Located<String>>,
    url: Option<Located<String>>,
    assets: &HashMap<&str, &[u8]>,
    problems: &mut Vec<Problem>,
) -> Checked<WhitepaperSource> {
    match (file, url) {
        (Some(file), None) => {
            let content_type = match file.value.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).as_deref() {
                Some("pdf") => Some("application/pdf"),
                Some("epub") => Some("application/epub+zip"),
                Some("zip") => Some("application/zip"),
                _ => None,
            };
            match (assets.get(file.value.as_str()), content_type) {
                (Some(bytes), Some(content_type)) => Ok(WhitepaperSource::File {
                    file_name: file.value.rsplit('/').next().unwrap_or(&file.value).to_owned(),
                    content_type,
                    bytes: std::sync::Arc::from(*bytes),
                }),
                (None, _) => {
                    let message = format!("the whitepaper file `{}` is not in the content folder", file.value);
                    report(problems, Problem::new(path, file.line, message))
                }
                (_, None) => {
                    report(problems, Problem::new(path, file.line, "the whitepaper must be a PDF, EPUB or ZIP file"))
                }
            }
        }
        (None, Some(url)) if url.value.starts_with("https://") => Ok(WhitepaperSource::Url(url.value)),
        (None, Some(url)) => {
            report(problems, Problem::new(path, url.line, "`whitepaper_url` must be an https:// address"))
        }
        (Some(file), Some(_)) => report(
            problems,
            Problem::new(path, file.line, "set either `whitepaper_file` or `whitepaper_url`, not both"),
        ),
        (None, None) => report(
            problems,
            Problem::new(
                path,
                1,
                "the whitepaper is missing: set `whitepaper_file` (a file in the content folder) or `whitepaper_url`",
            ),
        ),
    }
}

/// Parses `privacy.md`: front matter with a `title`, then Markdown that may use the markers
/// of [`PAGE_MARKERS`] (`{{business}}`, `{{retention}}`, …). `site` is
/// `None` when `site.toml` has problems of its own; the page is still checked.
pub(super) fn parse_page(path: &Path, text: &str, site: Option<&Site>, problems: &mut Vec<Problem>) -> Option<Page> {
    let split = front_matter::split_reporting(path, text, problems)?;
    let mut f = Fields::parse(path, split.toml, split.toml_first_line, 1);
    let title = f.required_str("title");
    problems.extend(f.finish());

    let mut body = String::with_capacity(split.body.len());
    let mut rest = split.body;
    let mut ok = true;
    while let Some(start) = rest.find("{{") {
        body.push_str(&rest[..start]);
        let line = split.body_first_line + split.body[..split.body.len() - rest.len() + start].matches('\n').count();
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            problems.push(Problem::new(path, line, "a `{{` is never closed with `}}`"));
            return None;
        };
        let name = after[..end].trim();
        if !PAGE_MARKERS.contains(&name) {
            problems.push(Problem::new(
                path,
                line,
                format!("unknown marker `{{{{{name}}}}}`; the markers are `{{{{{}}}}}`", PAGE_MARKERS.join("}}`, `{{")),
            ));
            ok = false;
        } else {
            // Without a valid site.toml the page is still checked, with a stand-in value.
            let stand_in = || if name == "contact_email" { "contact@example.org".to_owned() } else { name.to_owned() };
            body.push_str(&site.and_then(|s| marker_value(s, name)).unwrap_or_else(stand_in));
        }
        rest = &after[end + 2..];
    }
    body.push_str(rest);

    // Checked as filled in: the values are single lines, so line numbers stay true.
    let scan = markdown_scan::scan(&body, split.body_first_line);
    let before = problems.len();
    problems.extend(scan.problems.into_iter().map(|(line, m)| Problem::new(path, line, m)));
    for link in &scan.links {
        match markdown_scan::classify_link(&link.dest, Path::new(PRIVACY_FILE)) {
            LinkTarget::External => {}
            LinkTarget::Invalid(message) => problems.push(Problem::new(path, link.line, message)),
            LinkTarget::Post { .. } => problems.push(Problem::new(
                path,
                link.line,
                format!("the link `{}` must be an https:// or mailto: address", link.dest),
            )),
        }
    }
    if !ok || problems.len() > before {
        return None;
    }
    Some(Page { title: title?.value, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_checked_loosely_but_surely() {
        assert!(looks_like_email("rene@voorbeeld.nl"));
        for bad in ["rene", "rene@", "@voorbeeld.nl", "rene@voorbeeld", "re ne@voorbeeld.nl", "a@b@c.nl", "a@.nl"] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
