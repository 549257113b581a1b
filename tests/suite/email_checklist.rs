//! The email checklist: one test per rule, run on the seed post (and on the long fixture,
//! which adds an image, lists, a quote and links). A rule that breaks fails its own test.

use mail_parser::{MessageParser, MimeHeaders};
use postbode::content::Catalogue;
use postbode::render::RenderedEmail;
use scraper::{Html, Selector};

use crate::helpers::{LONG_SLUG, SEED_SLUG, long_catalogue, render, seed_catalogue};

const UNSUBSCRIBE_URL: &str = "https://postbode.example/unsubscribe/VOORBEELD-AFMELDTOKEN";

fn emails() -> Vec<(Catalogue, RenderedEmail)> {
    let seed = seed_catalogue();
    let long = long_catalogue();
    let seed_email = render(&seed, SEED_SLUG);
    let long_email = render(&long, LONG_SLUG);
    vec![(seed, seed_email), (long, long_email)]
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

fn for_each_html(check: impl Fn(&Html, &RenderedEmail)) {
    for (_, email) in emails() {
        check(&Html::parse_document(&email.html), &email);
    }
}

#[test]
fn layout_is_a_fluid_card_up_to_600px_with_a_ghost_table_for_outlook() {
    for_each_html(|doc, email| {
        let raw = &email.html;
        let tables = select(doc, "table");
        assert!(tables.len() >= 2);
        for table in &tables {
            assert_eq!(
                table.attr("role"),
                Some("presentation"),
                "{}",
                table.html().chars().take(120).collect::<String>()
            );
        }
        // Fluid without the <style> block too: the width is in the inline style.
        let card = select(doc, "table.card[width='100%']");
        assert_eq!(card.len(), 1);
        assert!(card[0].attr("style").unwrap().contains("max-width: 600px"));
        // Outlook (Word engine) ignores max-width: a fixed table only it sees, and 96 DPI.
        assert!(raw.contains("<!--[if mso]><table role=\"presentation\" width=\"600\""), "no ghost table");
        assert!(raw.contains("<o:PixelsPerInch>96</o:PixelsPerInch>"), "no DPI setting");
    });
}

#[test]
fn css_is_inlined_and_only_media_rules_stay_in_a_style_tag() {
    for_each_html(|doc, _| {
        for el in select(doc, "body, td, p, h1, h2, h3, a, li, blockquote, img") {
            let style = el.attr("style").unwrap_or("");
            assert!(!style.trim().is_empty(), "<{}> has no inline style: {}", el.value().name(), el.html());
        }
        let styles = select(doc, "style");
        assert_eq!(styles.len(), 1);
        let css: String = styles[0].text().collect();
        assert!(css.contains("@media only screen and (max-width: 620px)"));
        // Everything outside @media blocks was inlined and removed: each top-level rule left
        // in the <style> is an @media rule.
        let mut depth = 0;
        let mut preludes = vec![String::new()];
        for ch in css.chars() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        preludes.push(String::new());
                    }
                }
                c if depth == 0 => preludes.last_mut().unwrap().push(c),
                _ => {}
            }
        }
        for prelude in preludes.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            assert!(prelude.starts_with("@media"), "non-@media CSS left in <style>: {prelude:?}");
        }
    });
}

#[test]
fn hidden_preheader_holds_the_summary() {
    for (catalogue, email) in emails() {
        let doc = Html::parse_document(&email.html);
        let first = select(&doc, "body > *")[0];
        assert_eq!(first.value().name(), "div");
        assert!(first.attr("style").unwrap().contains("display: none"));
        let summary = &catalogue.posts.iter().find(|p| email.subject == p.title).unwrap().summary;
        assert!(first.text().collect::<String>().starts_with(summary.as_str()));
    }
}

#[test]
fn document_is_dutch_utf8_responsive_and_titled() {
    for_each_html(|doc, email| {
        assert_eq!(select(doc, "html")[0].attr("lang"), Some("nl"));
        assert_eq!(select(doc, "meta[charset]")[0].attr("charset"), Some("utf-8"));
        assert!(select(doc, "meta[name='viewport']")[0].attr("content").unwrap().contains("width=device-width"));
        let title: String = select(doc, "title")[0].text().collect();
        assert!(!title.trim().is_empty());
        assert_eq!(title, email.subject);
    });
}

#[test]
fn dark_mode_is_declared() {
    for_each_html(|doc, email| {
        assert_eq!(select(doc, "meta[name='color-scheme']")[0].attr("content"), Some("light dark"));
        assert_eq!(select(doc, "meta[name='supported-color-schemes']")[0].attr("content"), Some("light dark"));
        assert!(email.html.contains("@media (prefers-color-scheme: dark)"));
    });
}

#[test]
fn every_image_has_alt_text_and_an_https_source() {
    let mut images = 0;
    for_each_html(|doc, _| {
        for img in select(doc, "img") {
            assert!(!img.attr("alt").unwrap_or("").trim().is_empty(), "{}", img.html());
            assert!(img.attr("src").unwrap().starts_with("https://"));
        }
    });
    for (_, email) in emails() {
        images += select(&Html::parse_document(&email.html), "img").len();
    }
    assert_eq!(images, 3, "the seed post's header image, and the long fixture's header and body image");
}

#[test]
fn links_are_absolute_https_or_mailto() {
    for_each_html(|doc, _| {
        let links = select(doc, "a");
        assert!(!links.is_empty());
        for a in links {
            let href = a.attr("href").unwrap();
            assert!(href.starts_with("https://") || href.starts_with("mailto:"), "{href}");
        }
    });
    let (_, long) = emails().pop().unwrap();
    assert!(
        long.html.contains("href=\"https://postbode.example/posts/feedback-basis\""),
        "relative post links become absolute"
    );
}

#[test]
fn no_script_form_flex_or_grid() {
    for_each_html(|doc, email| {
        for banned in ["script", "form", "iframe", "object", "embed", "input", "button"] {
            assert!(select(doc, banned).is_empty(), "<{banned}> found");
        }
        let css = email.html.replace(' ', "").to_lowercase();
        for banned in ["display:flex", "display:grid", "display:inline-flex", "position:absolute"] {
            assert!(!css.contains(banned), "{banned} found");
        }
    });
}

#[test]
fn footer_shows_identity_and_a_visible_unsubscribe_link() {
    for (catalogue, email) in emails() {
        let doc = Html::parse_document(&email.html);
        let footer = select(&doc, "td.footer")[0];
        let text: String = footer.text().collect();
        assert!(text.contains(&catalogue.site.identity), "{text}");
        let unsubscribe: Vec<_> =
            select(&doc, "td.footer a").into_iter().filter(|a| a.text().collect::<String>() == "Afmelden").collect();
        assert_eq!(unsubscribe.len(), 1);
        assert_eq!(unsubscribe[0].attr("href"), Some(UNSUBSCRIBE_URL));
        let style = unsubscribe[0].attr("style").unwrap();
        assert!(!style.contains("display: none") && style.contains("text-decoration: underline"));
        // The contact address and the privacy statement, next to the identity.
        let contact = format!("mailto:{}", catalogue.site.contact_email);
        let links: Vec<_> = select(&doc, "td.footer a").into_iter().filter_map(|a| a.attr("href")).collect();
        assert!(links.contains(&contact.as_str()), "{links:?}");
        assert!(links.contains(&"https://postbode.example/privacy"), "{links:?}");
        assert!(text.contains(&catalogue.site.contact_email), "{text}");
        assert!(email.text.contains(&format!("Contact: {}", catalogue.site.contact_email)));
        assert!(email.text.contains("Privacyverklaring: https://postbode.example/privacy"));
    }
}

#[test]
fn seed_email_is_under_90_kb() {
    let email = render(&seed_catalogue(), SEED_SLUG);
    assert!(email.html.len() < 90 * 1024, "{} bytes", email.html.len());
    assert!(email.mime.len() < 90 * 1024, "{} bytes", email.mime.len());
}

#[test]
fn text_part_keeps_every_link_and_the_unsubscribe_url() {
    for (_, email) in emails() {
        let doc = Html::parse_document(&email.html);
        for a in select(&doc, "a") {
            let href = a.attr("href").unwrap();
            if href.starts_with("mailto:") {
                assert!(email.text.contains(href.trim_start_matches("mailto:")), "{href}");
            } else if href != "https://postbode.example" {
                assert!(email.text.contains(href), "{href} missing from text part");
            }
        }
        assert!(email.text.contains(&format!("Wil je deze e-mails niet meer? Afmelden: {UNSUBSCRIBE_URL}")));
    }
}

#[test]
fn text_part_is_wrapped_and_built_from_markdown() {
    for (_, email) in emails() {
        for line in email.text.lines() {
            assert!(line.chars().count() <= 72 || line.contains("https://"), "too long: {line:?}");
        }
        assert!(!email.text.contains('<'), "no HTML in the text part");
        assert!(email.text.starts_with(&format!("{}\n{}\n", email.subject, "=".repeat(email.subject.chars().count()))));
    }
    let seed = render(&seed_catalogue(), SEED_SLUG);
    assert!(seed.text.contains("\nBouwen aan vertrouwen\n---------------------\n"), "headings are underlined");
    let long = render(&long_catalogue(), LONG_SLUG);
    assert!(long.text.contains("\n1. Wees concreet: beschrijf gedrag, geen karakter.\n2. "), "numbered lists");
    assert!(long.text.contains("\n> Vertrouwen is de basis"), "quotes");
}

#[test]
fn mime_is_multipart_alternative_text_first_html_last_in_utf8() {
    for (_, email) in emails() {
        let message = MessageParser::default().parse(&email.mime).unwrap();
        let root = message.content_type().unwrap();
        assert_eq!((root.ctype(), root.subtype()), ("multipart", Some("alternative")));
        assert_eq!(message.parts.len(), 3);
        let text = message.parts[1].content_type().unwrap();
        let html = message.parts[2].content_type().unwrap();
        assert_eq!((text.ctype(), text.subtype(), text.attribute("charset")), ("text", Some("plain"), Some("utf-8")));
        assert_eq!((html.ctype(), html.subtype(), html.attribute("charset")), ("text", Some("html"), Some("utf-8")));
        // What a mail client decodes is exactly what was rendered.
        assert_eq!(message.body_text(0).unwrap().replace("\r\n", "\n"), email.text);
        assert_eq!(message.body_html(0).unwrap().replace("\r\n", "\n"), email.html.replace("\r\n", "\n"));
        assert_eq!(message.subject(), Some(email.subject.as_str()));
    }
}

#[test]
fn mime_has_one_click_unsubscribe_and_list_headers() {
    let email = render(&seed_catalogue(), SEED_SLUG);
    let message = MessageParser::default().parse(&email.mime).unwrap();
    let unfold = |name: &str| message.header_raw(name).unwrap().replace("\r\n", "").replace('\n', "").trim().to_owned();
    // https only: no mailbox of the stack receives mail, so no mailto: is offered.
    assert_eq!(unfold("List-Unsubscribe"), format!("<{UNSUBSCRIBE_URL}>"));
    assert_eq!(unfold("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
    assert!(unfold("List-Id").ends_with("<nieuwsbrief.postbode.example>"));
    assert_eq!(message.from().unwrap().first().unwrap().name(), Some("René Rensen"));
    assert!(!String::from_utf8_lossy(&email.mime).contains("anna@lezer.example/"), "no address in any URL");
}

/// List-Id marks list mail (posts, the welcome); the replies to what someone just did (the
/// confirmation request, "already subscribed") carry none, so Gmail does not file them under
/// Promotions. All of them keep the one-click unsubscribe header.
#[test]
fn list_id_only_on_list_mail() {
    use postbode::render::letters::LetterKind;
    let catalogue = seed_catalogue();
    for (kind, list_mail) in [
        (LetterKind::Confirmation, false),
        (LetterKind::Welcome, true),
        (LetterKind::AlreadySubscribed, false),
        (LetterKind::AddressConfirmation, false),
    ] {
        let email = kind
            .render_example(
                &catalogue,
                &crate::helpers::settings(),
                &postbode::app::preview::placeholder_recipient(),
                crate::helpers::fixed_date(),
            )
            .unwrap();
        let message = MessageParser::default().parse(&email.mime).unwrap();
        assert_eq!(message.header_raw("List-Id").is_some(), list_mail, "{}", kind.name());
        assert!(message.header_raw("List-Unsubscribe").is_some(), "{}", kind.name());
    }
}

#[test]
fn mime_is_deterministic_for_a_fixed_date() {
    let catalogue = seed_catalogue();
    assert_eq!(render(&catalogue, SEED_SLUG).mime, render(&catalogue, SEED_SLUG).mime);
}
