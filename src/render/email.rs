//! Emails: a post rendered once into a [`PreparedEmail`], then filled in per recipient and
//! wrapped in MIME with lettre.
//!
//! The MIME bytes are what SES sends and what the local outbox stores. For the seed post they
//! look like this (abridged):
//!
//! ```text
//! From: =?utf-8?b?UmVuw6kgUmVuc2Vu?= <nieuwsbrief@postbode.example>
//! To: Anna <anna@example.nl>
//! Subject: Leiderschap en vertrouwen
//! List-Unsubscribe: <https://postbode.example/unsubscribe/TOKEN>
//! List-Unsubscribe-Post: List-Unsubscribe=One-Click
//! List-Id: =?utf-8?b?UmVuw6k=?= Rensen =?utf-8?b?wrc=?= Leiderschap <nieuwsbrief.postbode.example>
//! MIME-Version: 1.0
//! Content-Type: multipart/alternative; boundary="=_5f0c…"
//!
//! --=_5f0c…
//! Content-Type: text/plain; charset=utf-8
//!
//! Leiderschap en vertrouwen
//! =========================
//! …
//! --=_5f0c…
//! Content-Type: text/html; charset=utf-8
//!
//! <!DOCTYPE html><html lang="nl">…
//! ```
//!
//! Cost model: Markdown parsing, HTML and text rendering happen once per post in
//! [`PreparedEmail::new`]; the template is CSS-inlined once per process. Per recipient,
//! [`PreparedEmail::render`] only fills in the greeting, the unsubscribe link and the headers.

use std::sync::OnceLock;
use std::time::SystemTime;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use pulldown_cmark_escape::{escape_href, escape_html};
use sha2::{Digest, Sha256};

use super::markdown_html::{ElementStyles, push_html};
use super::markdown_text::{TEXT_WIDTH, push_text, wrap_options};
use super::template::{Slot, Template};
use crate::content::{Catalogue, ImageSrc, Placement, Post};

/// The public base address of the site, like `https://www.voorbeeld.nl`: absolute https, or
/// http on a loopback address for the local mode. Kept without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub fn parse(raw: &str) -> Result<BaseUrl, String> {
        let url = url::Url::parse(raw.trim()).map_err(|e| format!("`{raw}` is not a web address: {e}"))?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        let ok = match url.scheme() {
            "https" => url.host_str().is_some(),
            "http" => loopback,
            _ => false,
        };
        if !ok || url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "`{raw}` must be an https:// address (http:// only on 127.0.0.1 or localhost), without ?query or #fragment"
            ));
        }
        Ok(BaseUrl(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// `path` must start with `/`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    pub fn host(&self) -> &str {
        let rest = self.0.split_once("://").map_or(self.0.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The address of a post on the web.
pub fn post_url(base: &BaseUrl, slug: &str) -> String {
    base.join(&format!("/posts/{slug}"))
}

/// A reader's preference page (served by the HTTP API).
pub fn preferences_url(base: &BaseUrl, token: &str) -> String {
    base.join(&format!("/voorkeuren/{token}"))
}

/// The one-click unsubscribe address for a token (served by the HTTP API).
pub fn unsubscribe_url(base: &BaseUrl, token: &str) -> String {
    base.join(&format!("/unsubscribe/{token}"))
}

/// A post's body as mailed: without a closing section about the whitepaper (a heading with its
/// title, and nothing but text after it). On the web that section sits next to the form; every
/// reader of the mail already has the whitepaper, so there it would offer what they have.
pub fn body_for_mail<'a>(body: &'a str, whitepaper_title: &str) -> &'a str {
    let heading_title = |line: &str| {
        let rest = line.trim_start_matches('#');
        let hashes = line.len() - rest.len();
        ((1..=6).contains(&hashes) && rest.starts_with([' ', '\t']))
            .then(|| rest.trim().trim_end_matches('#').trim().to_owned())
    };
    let mut cut = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        match heading_title(line.trim_end()) {
            Some(title) if title.eq_ignore_ascii_case(whitepaper_title) => cut = Some(offset),
            Some(_) => cut = None,
            None => {}
        }
        offset += line.len();
    }
    cut.map_or(body, |at| &body[..at])
}

/// The closing line of a post mail and the welcome: how to answer. Invites a reply only when
/// replies reach someone (a Reply-To the author reads); the From mailbox receives nothing.
pub fn reply_invitation(catalogue: &Catalogue, settings: &EmailSettings) -> String {
    reply_line(catalogue, settings, "Heb je een vraag of wil je reageren?")
}

/// `question`, then how to write to the author: by replying (when replies reach him) or at
/// the contact address.
fn reply_line(catalogue: &Catalogue, settings: &EmailSettings, question: &str) -> String {
    match &settings.reply_to {
        Some(_) => format!("{question} Beantwoord deze e-mail gerust."),
        None => format!(
            "{question} Mail me gerust op [{contact}](mailto:{contact}).",
            contact = catalogue.site.contact_email
        ),
    }
}

/// How every mail to a reader ends, posts and letters alike: "Hartelijke groet," and the
/// author's name (a Markdown hard break between them).
pub fn signature(catalogue: &Catalogue) -> String {
    format!("Hartelijke groet,  \n{}", catalogue.site.author)
}

/// The footer line of every newsletter mail.
pub fn subscribed_reason(catalogue: &Catalogue, base: &BaseUrl) -> String {
    format!(
        "Je ontvangt deze e-mail omdat je je hebt aangemeld voor de nieuwsbrief van {} op {}.",
        catalogue.site.author,
        base.host()
    )
}

/// The privacy statement on the web.
pub fn privacy_url(base: &BaseUrl) -> String {
    base.join("/privacy")
}

/// The confirmation address for a token.
pub fn confirm_url(base: &BaseUrl, token: &str) -> String {
    base.join(&format!("/confirm/{token}"))
}

/// The whitepaper download address for a token.
pub fn whitepaper_url(base: &BaseUrl, token: &str) -> String {
    base.join(&format!("/whitepaper/{token}"))
}

/// Fixed per deployment: where the site lives and who sends.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub base_url: BaseUrl,
    pub from: Mailbox,
    /// A mailbox the author reads. Only with one do mails invite the reader to reply.
    pub reply_to: Option<Mailbox>,
}

/// The few things that differ per recipient. Never holds more than the mail needs.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub to: Mailbox,
    pub first_name: Option<String>,
    /// Signed unsubscribe token: the link carries it, never the address.
    pub unsubscribe_token: String,
    /// Signed token of their preference page ("Je voorkeuren" in the footer); `None` for
    /// someone who has none yet (the confirmation mail goes to an address not confirmed).
    pub preferences_token: Option<String>,
}

/// One email as sent: both parts and the MIME message that carries them.
#[derive(Debug, Clone)]
pub struct RenderedEmail {
    pub subject: String,
    pub html: String,
    pub text: String,
    pub mime: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the email template could not be CSS-inlined: {0}")]
    Template(String),
    #[error("`{address}` is not an address mail can go to")]
    Address {
        address: String,
        #[source]
        source: lettre::address::AddressError,
    },
    #[error("the email for {to} could not be assembled")]
    Mime {
        to: String,
        #[source]
        source: lettre::error::Error,
    },
}

/// The email template with its stylesheet inlined, built on first use and shared by every post.
///
/// How `email.html` holds up across clients (its CSS has no comments: they would ship in
/// every mail):
/// - Everything that sizes the layout is inlined, so clients that drop the `<style>` block
///   (the Gmail app for non-Google accounts) still get a card that is fluid up to 600 px;
///   Outlook's Word engine, which ignores `max-width`, gets a fixed 600 px ghost table in
///   conditional comments, and the 96 DPI setting so it does not scale the layout on
///   high-DPI screens.
/// - Only `@media` rules stay in `<style>`: roomier padding above 620 px, and dark colours for
///   clients that honour `prefers-color-scheme` (Apple Mail, iOS, Outlook.com, some Android
///   apps). Gmail and Outlook for Windows invert colours themselves and ignore them.
/// - The preheader has no colour of its own: one equal to the background is what
///   SpamAssassin's `HTML_FONT_LOW_CONTRAST` looks for; it is hidden by `display: none`.
///
/// `tests/e2e/mails.mjs` renders every mail type in Chromium at 320, 375 and 600 px, light and
/// dark, with and without `<style>`, and checks width and contrast; `infra/spam-score` scores
/// them with SpamAssassin.
fn template() -> Result<&'static Template, RenderError> {
    static TEMPLATE: OnceLock<Result<Template, String>> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let inliner = css_inline::CSSInliner::options().keep_at_rules(true).load_remote_stylesheets(false).build();
            inliner.inline(include_str!("email.html")).map(|html| Template::parse(&html)).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| RenderError::Template(e.clone()))
}

/// Everything an email says, before it is laid out: a post, or a service mail such as the
/// confirmation request.
pub struct Letter<'a> {
    pub subject: String,
    /// The small line above the title (series and part, or the site's name).
    pub masthead: String,
    pub title: String,
    /// The inbox preview line.
    pub preheader: String,
    pub body_markdown: &'a str,
    /// The one thing the letter asks the reader to do, as a button after the body.
    pub action: Option<Action>,
    /// Text after the button (after the body when there is none).
    pub closing_markdown: &'a str,
    /// Whether the mail is list mail (posts, the welcome): it then carries `List-Id`.
    pub list_mail: bool,
    /// Turns a link as written into the absolute address to use.
    pub link: &'a dyn Fn(&str) -> String,
    pub image: Option<LetterImage>,
    /// The link under the body: the post on the web, or the site.
    pub web_url: String,
    pub web_label: String,
    /// Why the reader gets this mail (shown in the footer).
    pub reason: String,
}

/// An image above a letter's text, with the address mail clients load it from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterImage {
    pub url: String,
    pub alt: String,
}

/// Where a mail loads an image from: a file of the content folder as its widest processed
/// JPEG or PNG (shown 600 px wide) on the public address, or its own https address. `None`
/// for a file whose processed versions are not there (nothing to link to).
pub fn mail_image_url(catalogue: &Catalogue, src: &ImageSrc, base: &BaseUrl) -> Option<String> {
    match src {
        ImageSrc::Web(url) => Some(url.clone()),
        ImageSrc::File(file) => catalogue.pictures.get(file)?.largest().map(|v| base.join(&v.path)),
    }
}

/// A button: the main link of a letter.
#[derive(Debug, Clone)]
pub struct Action {
    pub label: String,
    pub url: String,
    /// Also print the address under the button, for readers whose client hides buttons or
    /// links (the confirmation link is the one that must always work).
    pub show_address: bool,
}

impl Action {
    /// A "bulletproof" button: a table cell with a background colour (which Outlook's Word
    /// engine draws) around a padded link (which every other client makes the tap target).
    fn push_html(&self, out: &mut String) {
        out.push_str(concat!(
            "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"margin:8px 0 24px;\">",
            "<tr><td class=\"button\" bgcolor=\"#0b6e69\" style=\"border-radius:6px;background-color:#0b6e69;\">",
            "<a class=\"button-link\" href=\""
        ));
        let _ = escape_href(&mut *out, &self.url);
        out.push_str(concat!(
            "\" style=\"display:inline-block;padding:14px 24px;font-family:Helvetica,Arial,sans-serif;",
            "font-size:17px;font-weight:bold;line-height:1.3;color:#ffffff;text-decoration:none;border-radius:6px;\">"
        ));
        let _ = escape_html(&mut *out, &self.label);
        out.push_str("</a></td></tr></table>\n");
        if self.show_address {
            out.push_str("<p style=\"");
            out.push_str(ElementStyles::EMAIL.small);
            out.push_str("\">Werkt de knop niet? Kopieer dan dit adres naar je browser:<br><a href=\"");
            let _ = escape_href(&mut *out, &self.url);
            // A long address must wrap anywhere, or it widens the mail past a phone's screen.
            out.push_str("\" style=\"color:#0b6e69;text-decoration:underline;word-break:break-all;\">");
            let _ = escape_html(&mut *out, &self.url);
            out.push_str("</a></p>\n");
        }
    }

    fn push_text(&self, out: &mut String) {
        out.push_str(&format!("{}:\n{}\n\n", self.label, self.url));
    }
}

/// A letter rendered for email, waiting only for the recipient's parts.
#[derive(Debug, Clone)]
pub struct PreparedEmail {
    tag: String,
    subject: String,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    list_id: Option<String>,
    base_url: BaseUrl,
    html: Template,
    text_head: String,
    text_body: String,
}

impl PreparedEmail {
    /// A post as the series or broadcast mail.
    pub fn new(catalogue: &Catalogue, post: &Post, settings: &EmailSettings) -> Result<PreparedEmail, RenderError> {
        let base = &settings.base_url;
        let link = |dest: &str| match post.internal_link(dest) {
            Some((slug, fragment)) => {
                let url = post_url(base, slug.as_str());
                match fragment {
                    Some(f) => format!("{url}#{f}"),
                    None => url,
                }
            }
            // An image of the content folder: its processed version on the public address.
            None => post
                .image_file(dest)
                .and_then(|file| mail_image_url(catalogue, &ImageSrc::File(file.to_owned()), base))
                .unwrap_or_else(|| dest.to_owned()),
        };
        let masthead = match &post.placement {
            Placement::InSeries { series, order, .. } => {
                let title = catalogue.series(series).map_or(series.as_str(), |s| s.title.as_str());
                format!("{title} · deel {order} · {}", post.reading_time())
            }
            Placement::Broadcast { .. } => format!("{} · {}", catalogue.site.title, post.reading_time()),
        };
        let closing = match post.reactions {
            // The web page takes reactions that others can read: the mail says where.
            true => format!(
                "[Reageer op dit artikel]({}#reageer): je reactie komt eerst bij mij en staat na mijn \
                 goedkeuring onder het artikel. {}",
                post_url(base, post.slug.as_str()),
                reply_line(catalogue, settings, "Een vraag alleen voor mij?")
            ),
            false => reply_invitation(catalogue, settings),
        };
        let closing = format!("{closing}\n\n{}", signature(catalogue));
        let letter = Letter {
            subject: post.title.clone(),
            masthead,
            title: post.title.clone(),
            preheader: post.summary.clone(),
            body_markdown: body_for_mail(&post.body, &catalogue.site.whitepaper.title),
            action: None,
            closing_markdown: &closing,
            list_mail: true,
            link: &link,
            image: post.image.as_ref().and_then(|image| {
                let url = mail_image_url(catalogue, &image.src, base)?;
                Some(LetterImage { url, alt: image.alt.clone() })
            }),
            web_url: post_url(base, post.slug.as_str()),
            web_label: "Lees dit artikel online".into(),
            reason: subscribed_reason(catalogue, base),
        };
        PreparedEmail::from_letter(post.slug.as_str(), &letter, catalogue, settings)
    }

    /// Any letter; `tag` names the mail in logs and file names.
    pub fn from_letter(
        tag: &str,
        letter: &Letter<'_>,
        catalogue: &Catalogue,
        settings: &EmailSettings,
    ) -> Result<PreparedEmail, RenderError> {
        let site = &catalogue.site;
        let mut content = String::with_capacity(letter.body_markdown.len() * 2);
        push_html(&mut content, letter.body_markdown, &ElementStyles::EMAIL, letter.link);
        if let Some(action) = &letter.action {
            action.push_html(&mut content);
        }
        push_html(&mut content, letter.closing_markdown, &ElementStyles::EMAIL, letter.link);
        let image = letter.image.as_ref().map_or(String::new(), |img| {
            let mut out = String::from("<img src=\"");
            let _ = escape_href(&mut out, &img.url);
            out.push_str("\" alt=\"");
            let _ = escape_html(&mut out, &img.alt);
            out.push_str("\" width=\"");
            out.push_str(ElementStyles::EMAIL.img_width);
            out.push_str("\" style=\"");
            out.push_str(ElementStyles::EMAIL.img);
            out.push_str("\">\n");
            out
        });

        let html = template()?.fill(|slot| {
            Some(match slot {
                Slot::Title => html_text(&letter.title),
                Slot::Preheader => preheader(&letter.preheader),
                Slot::Masthead => html_text(&letter.masthead),
                Slot::Image => image.clone(),
                Slot::Content => std::mem::take(&mut content),
                Slot::WebUrl => html_attr_url(&letter.web_url),
                Slot::WebLabel => html_text(&letter.web_label),
                Slot::Identity => html_text(&site.identity),
                Slot::ContactEmail => html_text(&site.contact_email),
                Slot::ContactHref => html_attr_url(&format!("mailto:{}", site.contact_email)),
                Slot::PrivacyUrl => html_attr_url(&privacy_url(&settings.base_url)),
                Slot::Reason => html_text(&letter.reason),
                Slot::Greeting | Slot::UnsubscribeUrl | Slot::UnsubscribeLead | Slot::PreferencesLink => return None,
            })
        });

        let mut text_head = format!("{}\n{}\n\n", letter.title, "=".repeat(letter.title.chars().count()));
        if let Some(img) = &letter.image {
            text_head.push_str(&format!("[Afbeelding: {}] ({})\n\n", img.alt, img.url));
        }
        let mut text_body = String::with_capacity(letter.body_markdown.len() + 512);
        for part in [Some(letter.body_markdown), None, Some(letter.closing_markdown)] {
            // Blocks are separated by a blank line, as push_text does within one.
            if !text_body.is_empty() && !text_body.ends_with("\n\n") {
                text_body.push('\n');
            }
            match part {
                Some(markdown) => push_text(&mut text_body, markdown, letter.link),
                None => {
                    if let Some(action) = &letter.action {
                        action.push_text(&mut text_body);
                    }
                }
            }
        }
        text_body.push_str(&format!(
            "\n{}: {}\n\n-- \n{}\nContact: {}\nPrivacyverklaring: {}\n",
            letter.web_label,
            letter.web_url,
            site.identity,
            site.contact_email,
            privacy_url(&settings.base_url)
        ));
        text_body.push_str(&textwrap::fill(&letter.reason, wrap_options(TEXT_WIDTH)));
        text_body.push('\n');

        let domain = settings.from.email.domain();
        Ok(PreparedEmail {
            tag: tag.to_owned(),
            subject: letter.subject.clone(),
            from: settings.from.clone(),
            reply_to: settings.reply_to.clone(),
            list_id: letter.list_mail.then(|| format!("{} <nieuwsbrief.{domain}>", phrase(&site.title))),
            base_url: settings.base_url.clone(),
            html,
            text_head,
            text_body,
        })
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The email for one recipient, as MIME bytes with the same date and inputs always
    /// byte-identical.
    pub fn render(&self, recipient: &Recipient, date: SystemTime) -> Result<RenderedEmail, RenderError> {
        let unsubscribe = unsubscribe_url(&self.base_url, &recipient.unsubscribe_token);
        let preferences = recipient.preferences_token.as_ref().map(|token| preferences_url(&self.base_url, token));
        let first_name = recipient.first_name.as_deref().map(str::trim).filter(|n| !n.is_empty());

        let html = self.html.finish(|slot| match slot {
            Slot::Greeting => first_name.map_or(String::new(), |name| {
                format!("<p style=\"{}\">Hoi {},</p>\n", ElementStyles::EMAIL.p, html_text(name))
            }),
            Slot::UnsubscribeUrl => html_attr_url(&unsubscribe),
            Slot::UnsubscribeLead => html_text(unsubscribe_lead(recipient)),
            Slot::PreferencesLink => preferences
                .as_ref()
                // Filled in after the CSS was inlined: the style of `.footer a` (email.html), as
                // the footer's other links got it.
                .map_or(String::new(), |url| {
                    format!(
                        " · <a href=\"{}\" style=\"color: #5e5e5e;text-decoration: underline;\">Je voorkeuren</a>",
                        html_attr_url(url)
                    )
                }),
            _ => String::new(),
        });

        let mut text = String::with_capacity(self.text_head.len() + self.text_body.len() + 160);
        text.push_str(&self.text_head);
        if let Some(name) = first_name {
            text.push_str(&format!("Hoi {name},\n\n"));
        }
        text.push_str(&self.text_body);
        if let Some(url) = &preferences {
            text.push_str(&format!("Minder e-mail, een pauze of je gegevens: {url}\n"));
        }
        text.push_str(&format!("{} Afmelden: {unsubscribe}\n", unsubscribe_lead(recipient)));

        let mime = self.mime(recipient, &unsubscribe, &text, &html, date)?;
        Ok(RenderedEmail { subject: self.subject.clone(), html, text, mime })
    }

    fn mime(
        &self,
        recipient: &Recipient,
        unsubscribe: &str,
        text: &str,
        html: &str,
        date: SystemTime,
    ) -> Result<Vec<u8>, RenderError> {
        let domain = self.from.email.domain();
        let stamp = date.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let message_id = format!(
            "<{}@{domain}>",
            hex(&Sha256::digest(format!(
                "{}\n{}\n{stamp}\n{}",
                self.tag, recipient.to.email, recipient.unsubscribe_token
            )))[..32]
                .to_owned()
        );
        // "=_" never occurs in quoted-printable or base64 bodies, so the boundary is safe
        // whatever the post says; hashing the parts keeps it deterministic.
        let boundary = format!("=_{}", &hex(&Sha256::digest(format!("{text}\n{html}")))[..32]);
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(recipient.to.clone())
            .subject(self.subject.clone())
            .date(date)
            .message_id(Some(message_id))
            // https only: RFC 8058 one-click is what Gmail and Yahoo require, and no mailbox
            // of this stack receives mail, so a mailto: would name an address nobody reads.
            .raw_header(header("List-Unsubscribe", format!("<{unsubscribe}>")))
            .raw_header(header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()));
        if let Some(list_id) = &self.list_id {
            builder = builder.raw_header(header("List-Id", list_id.clone()));
        }
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let body = MultiPart::alternative()
            .boundary(boundary)
            .singlepart(SinglePart::plain(text.to_owned()))
            .singlepart(SinglePart::html(html.to_owned()));
        builder
            .multipart(body)
            .map(|message| message.formatted())
            .map_err(|source| RenderError::Mime { to: recipient.to.email.to_string(), source })
    }
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// `text` made safe as an RFC 5322 display phrase: the specials that would need quoting are
/// dropped, so lettre can encode the rest word by word.
fn phrase(text: &str) -> String {
    let kept: String = text.chars().filter(|c| !"\"(),:;<>@[\\]".contains(*c)).collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn html_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let _ = escape_html(&mut out, text);
    out
}

fn html_attr_url(url: &str) -> String {
    let mut href = String::with_capacity(url.len());
    let _ = escape_href(&mut href, url);
    href
}

/// The hidden preview line: the summary, then invisible padding so the client does not pull
/// body text into the inbox preview.
fn preheader(summary: &str) -> String {
    let mut out = html_text(summary);
    out.push_str(&"&#847;&zwnj;&nbsp;".repeat(60));
    out
}

/// The words before the footer's *Afmelden*, true for whoever gets the mail: a reader on the
/// list (who has a preference page) gets "mail" they can stop; someone who is not on it yet
/// (the confirmation request) is told that the link withdraws the request.
pub fn unsubscribe_lead(recipient: &Recipient) -> &'static str {
    if recipient.preferences_token.is_some() {
        "Wil je deze e-mails niet meer?"
    } else {
        "Niet aangemeld, of bedacht je je?"
    }
}

#[cfg(test)]
mod tests {
    use super::body_for_mail;

    #[test]
    fn the_closing_whitepaper_section_stays_on_the_web() {
        let body = "Tekst.\n\n## 22 tips voor jouw leiderschap\n\nOntvang de whitepaper.\n";
        assert_eq!(body_for_mail(body, "22 tips voor jouw leiderschap"), "Tekst.\n\n");
        // Only a closing section: with another section after it, the post is left whole.
        let middle = "Tekst.\n\n## 22 tips voor jouw leiderschap\n\nA.\n\n## Tot slot\n\nB.\n";
        assert_eq!(body_for_mail(middle, "22 tips voor jouw leiderschap"), middle);
        assert_eq!(body_for_mail("## Iets anders\n\nA.\n", "22 tips voor jouw leiderschap"), "## Iets anders\n\nA.\n");
        assert_eq!(body_for_mail("### 22 Tips voor jouw leiderschap ###\nA.", "22 tips voor jouw leiderschap"), "");
    }
}
