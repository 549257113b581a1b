//! What going live needs, through the router: the privacy statement and the contact address
//! on every page and in every mail, no unsubscribe address that nobody reads, redirects and
//! CORS for the form on the author's own site, and a `/health` that names the address links
//! are built on.

use axum::http::{Method, StatusCode};
use postbode::render::letters;
use postbode::render::{EmailSettings, PreparedEmail};
use scraper::{Html, Selector};

use crate::helpers::{fixed_date, long_catalogue, repo_path, seed_catalogue, settings};
use crate::test_app::{BASE, TestApp};

const CONTACT: &str = "rene@voorbeeld.nl";

fn links(body: &str) -> Vec<String> {
    let doc = Html::parse_document(body);
    doc.select(&Selector::parse("a[href]").unwrap()).filter_map(|a| a.value().attr("href")).map(str::to_owned).collect()
}

/// Every page shows the contact address and links the privacy statement in its footer.
fn assert_footer(body: &str, what: &str) {
    let doc = Html::parse_document(body);
    let footer: Vec<_> = doc.select(&Selector::parse("footer").unwrap()).collect();
    assert_eq!(footer.len(), 1, "{what}: one footer");
    let footer_links: Vec<&str> =
        footer[0].select(&Selector::parse("a[href]").unwrap()).filter_map(|a| a.value().attr("href")).collect();
    assert!(footer_links.contains(&"/privacy"), "{what}: privacy link in {footer_links:?}");
    assert!(footer_links.contains(&format!("mailto:{CONTACT}").as_str()), "{what}: contact in {footer_links:?}");
    let text: String = footer[0].text().collect();
    assert!(text.contains("René Rensen, leiderschapscoach") && text.contains(CONTACT), "{what}: {text}");
}

#[tokio::test]
async fn the_privacy_statement_is_served_with_the_sites_own_figures() {
    let app = TestApp::spawn().await;
    let page = app.get("/privacy").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    assert!(page.body.contains("<h1>Privacyverklaring</h1>"));
    // The markers are filled in from site.toml: what the page says is what the code does.
    let flowing = page.body.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flowing.contains("12 maanden later verwijder ik je gegevens"), "{}", page.body);
    assert!(page.body.contains(&format!("href=\"mailto:{CONTACT}\"")));
    assert!(!page.body.contains("{{"), "no marker left");
    for stored in ["e-mailadres", "voornaam", "IP-adres", "browser", "Amazon Web Services", "Ierland", "verwijderen"] {
        assert!(page.body.contains(stored), "the statement names {stored}");
    }
    assert_footer(&page.body, "/privacy");
}

#[tokio::test]
async fn every_page_shows_contact_and_privacy_and_the_form_links_the_statement() {
    let app = TestApp::spawn().await;
    let subscribed = app.subscribe("eva@example.nl").await;
    let confirm = app.emails_tagged("confirm")[0].path("/confirm/");
    let pages = [
        ("home", app.get("/").await),
        ("post", app.get("/posts/leiderschap-en-vertrouwen").await),
        ("404", app.get("/bestaat-niet").await),
        ("unknown post", app.get("/posts/bestaat-niet").await),
        ("subscribed", subscribed),
        ("confirm page", app.get(&confirm).await),
        ("bad link", app.get("/confirm/kapot").await),
        ("bad method", app.request(Method::DELETE, "/subscribe", None, "").await),
        ("bad form", app.post_form("/subscribe", "email=geen-adres").await),
    ];
    for (what, page) in &pages {
        assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"), "{what}");
        assert_footer(&page.body, what);
    }
    // The form itself points to the statement, next to the consent text.
    for (what, page) in &pages[..2] {
        let doc = Html::parse_document(&page.body);
        let form_links: Vec<_> = doc
            .select(&Selector::parse("section.subscribe a[href='/privacy']").unwrap())
            .map(|a| a.text().collect::<String>())
            .collect();
        assert_eq!(form_links, ["privacyverklaring"], "{what}");
    }
    // Error pages keep their status under the frame.
    assert_eq!(pages[2].1.status, StatusCode::NOT_FOUND);
    assert_eq!(pages[6].1.status, StatusCode::BAD_REQUEST);
    assert_eq!(pages[7].1.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(pages[8].1.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// No mail names an unsubscribe mailbox (no mailbox of the stack receives mail), and every
/// mail shows the contact address and links the privacy statement: confirmation, welcome,
/// series posts and broadcasts.
#[tokio::test]
async fn every_mail_has_https_unsubscribe_only_and_shows_contact_and_privacy() {
    let app = TestApp::spawn().await;
    app.subscribe("eva@example.nl").await;
    app.post_form(&app.emails_tagged("confirm")[0].path("/confirm/"), "").await;
    let mut mails: Vec<(String, Vec<u8>)> = app
        .emails()
        .into_iter()
        .map(|e| (e.subject.clone(), std::fs::read(app.outbox.path().join(&e.file)).unwrap()))
        .collect();
    assert_eq!(mails.len(), 2, "confirmation and welcome");
    let broadcasts = postbode::content_io::load_catalogue(&repo_path("tests/fixtures/sender")).unwrap();
    for catalogue in [seed_catalogue(), long_catalogue(), broadcasts] {
        for post in &catalogue.posts {
            let email = PreparedEmail::new(&catalogue, post, &settings())
                .unwrap()
                .render(&postbode::app::preview::placeholder_recipient(), fixed_date())
                .unwrap();
            mails.push((post.title.clone(), email.mime));
        }
    }
    assert!(mails.len() >= 6, "{}", mails.len());
    for (subject, raw) in mails {
        let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let header = message.header_raw("List-Unsubscribe").unwrap().replace(['\r', '\n'], "");
        assert!(header.trim().starts_with(&format!("<{BASE}/unsubscribe/")), "{subject}: {header}");
        assert!(!header.contains("mailto:"), "{subject}: {header}");
        assert!(!String::from_utf8_lossy(&raw).contains("afmelden@"), "{subject}: no unread mailbox anywhere");
        let html = message.body_html(0).unwrap();
        let text = message.body_text(0).unwrap();
        let html_links = links(&html);
        assert!(html_links.contains(&format!("{BASE}/privacy")), "{subject}: {html_links:?}");
        assert!(html_links.contains(&format!("mailto:{CONTACT}")), "{subject}: {html_links:?}");
        assert!(text.contains(&format!("Contact: {CONTACT}")), "{subject}");
        assert!(text.contains(&format!("Privacyverklaring: {BASE}/privacy")), "{subject}");
    }
}

/// The welcome mail asks for a reply only when a Reply-To the author reads is configured;
/// otherwise it points to the contact address.
#[test]
fn the_welcome_mail_invites_a_reply_only_with_a_reply_to() {
    let catalogue = seed_catalogue();
    let recipient = postbode::app::preview::placeholder_recipient();
    let with_reply_to = settings();
    assert!(with_reply_to.reply_to.is_some());
    let without = EmailSettings { reply_to: None, ..settings() };
    let welcome = |s: &EmailSettings| letters::welcome(&catalogue, s, &recipient, "https://x.example/w", fixed_date());
    let replying = welcome(&with_reply_to).unwrap();
    assert!(replying.text.contains("Beantwoord deze e-mail gerust"));
    assert!(String::from_utf8_lossy(&replying.mime).contains("Reply-To: rene@postbode.example"));
    let not_replying = welcome(&without).unwrap();
    assert!(!not_replying.text.contains("Beantwoord"), "{}", not_replying.text);
    assert!(!String::from_utf8_lossy(&not_replying.mime).contains("Reply-To:"));
    let flowing = not_replying.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flowing.contains(&format!("Mail me gerust op {CONTACT}")), "{}", not_replying.text);
    assert!(not_replying.html.contains(&format!("href=\"mailto:{CONTACT}\"")));
}

#[tokio::test]
async fn a_form_post_is_sent_to_the_authors_page_when_configured() {
    let thanks = "https://www.voorbeeld.nl/bijna-klaar";
    let app = TestApp::with_site(|site| site.after_subscribe_url = Some(thanks.into()));
    let form = "email=eva%40example.nl&first_name=Eva";
    let answer = app.post_form("/subscribe", form).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers["location"], thanks);
    assert_eq!(app.emails_tagged("confirm").len(), 1, "the subscription itself went through");
    // Known address (an hour later: below the caps), honeypot: the same answer.
    app.advance(jiff::SignedDuration::from_hours(1));
    for form in [form, "email=bot%40example.nl&website=spam"] {
        let again = app.post_form("/subscribe", form).await;
        assert_eq!((again.status, again.headers["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, thanks));
    }
    // Nothing in the request chooses the target: no open redirect.
    let sneaky = "email=x%40example.nl&source_url=https%3A%2F%2Fevil.example%2F&redirect=https%3A%2F%2Fevil.example%2F&next=https%3A%2F%2Fevil.example%2F";
    let answer = app.post_form("/subscribe", sneaky).await;
    assert_eq!(answer.headers["location"], thanks);
    let answer = app
        .request_with(
            Method::POST,
            "/subscribe",
            Some("application/x-www-form-urlencoded"),
            &[("referer", "https://evil.example/")],
            "email=y%40example.nl",
        )
        .await;
    assert_eq!(answer.headers["location"], thanks);
    // JSON clients get JSON, not a redirect; bad input is still a Dutch 422 page.
    let json = app.post_json("/subscribe", r#"{"email":"json@example.nl"}"#).await;
    assert_eq!(json.status, StatusCode::OK);
    assert!(json.headers.get("location").is_none());
    let bad = app.post_form("/subscribe", "email=geen-adres").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.headers.get("location").is_none());
}

#[tokio::test]
async fn a_confirmation_is_sent_to_the_authors_page_when_configured() {
    let welcome_page = "https://www.voorbeeld.nl/welkom";
    let app = TestApp::with_site(|site| site.after_confirm_url = Some(welcome_page.into()));
    app.subscribe("eva@example.nl").await;
    let confirm = app.emails_tagged("confirm")[0].path("/confirm/");
    // GET still shows the button (mail scanners): no redirect before the POST.
    assert_eq!(app.get(&confirm).await.status, StatusCode::OK);
    for _ in 0..2 {
        let done = app.post_form(&confirm, "").await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        assert_eq!(done.headers["location"], welcome_page);
    }
    assert_eq!(app.emails_tagged("welcome").len(), 1, "the whitepaper link goes out by mail");
    // A refused link is not redirected.
    assert_eq!(app.post_form("/confirm/kapot", "").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn without_redirect_settings_our_own_pages_answer() {
    let app = TestApp::spawn().await;
    let answer = app.subscribe("eva@example.nl").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.headers.get("location").is_none() && answer.body.contains("Kijk in je mailbox"));
    let done = app.post_form(&app.emails_tagged("confirm")[0].path("/confirm/"), "").await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.headers.get("location").is_none() && done.body.contains("Gelukt"));
}

const ORIGIN: &str = "https://www.voorbeeld.nl";

async fn preflight(app: &TestApp, origin: &str) -> crate::test_app::TestResponse {
    let headers = [
        ("origin", origin),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
    ];
    app.request_with(Method::OPTIONS, "/subscribe", None, &headers, "").await
}

async fn json_from(app: &TestApp, origin: &str, email: &str) -> crate::test_app::TestResponse {
    let body = format!(r#"{{"email":"{email}"}}"#);
    app.request_with(Method::POST, "/subscribe", Some("application/json"), &[("origin", origin)], body).await
}

#[tokio::test]
async fn the_authors_site_may_post_json_across_origins_and_no_one_else() {
    let app = TestApp::with_site(|site| site.form_origins = vec![ORIGIN.into()]);
    let allowed = preflight(&app, ORIGIN).await;
    assert!(allowed.status.is_success(), "{:?}", allowed.status);
    assert_eq!(allowed.headers["access-control-allow-origin"], ORIGIN);
    assert!(allowed.headers["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(allowed.headers["access-control-allow-headers"].to_str().unwrap().contains("content-type"));
    let posted = json_from(&app, ORIGIN, "eva@example.nl").await;
    assert_eq!(posted.status, StatusCode::OK);
    assert_eq!(posted.headers["access-control-allow-origin"], ORIGIN);

    for other in ["https://evil.example", "http://www.voorbeeld.nl", "https://www.voorbeeld.nl.evil.example"] {
        let refused = preflight(&app, other).await;
        assert!(refused.headers.get("access-control-allow-origin").is_none(), "{other}");
        let posted = json_from(&app, other, "x@example.nl").await;
        assert!(posted.headers.get("access-control-allow-origin").is_none(), "{other}");
    }
    // Only /subscribe: the links in mails are never callable across origins.
    let other_route = app.request_with(Method::GET, "/health", None, &[("origin", ORIGIN)], "").await;
    assert!(other_route.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_form_origins_no_cors_headers_at_all() {
    let app = TestApp::spawn().await;
    let response = preflight(&app, ORIGIN).await;
    assert!(response.headers.get("access-control-allow-origin").is_none());
    let posted = json_from(&app, ORIGIN, "eva@example.nl").await;
    assert!(posted.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn health_names_the_address_every_link_is_built_on() {
    let app = TestApp::spawn().await;
    let health = app.get("/health").await;
    assert_eq!(health.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&health.body).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["service"], "postbode");
    assert_eq!(json["base_url"], BASE);
    assert_eq!(health.headers["strict-transport-security"], "max-age=31536000");
}

/// `postbode form URL` prints the form for the author's site with the stack's real address;
/// `postbode check --form-page` accepts it and warns about a changed consent text, a form
/// that posts elsewhere and a missing privacy link.
#[test]
fn the_form_snippet_uses_the_stacks_address_and_check_spots_a_changed_consent_text() {
    let stack = "https://nieuwsbrief.voorbeeld.nl";
    let out = crate::helpers::postbode(&["form", stack, "--page", "https://www.voorbeeld.nl/leiderschap"]);
    assert!(out.status.success(), "{}", crate::helpers::stderr(&out));
    let snippet = crate::helpers::stdout(&out);
    let site = seed_catalogue().site;
    assert!(snippet.contains(&format!("action=\"{stack}/subscribe\"")), "{snippet}");
    assert!(snippet.contains(&format!("href=\"{stack}/privacy\"")), "{snippet}");
    assert!(snippet.contains(&site.consent_text));
    assert!(snippet.contains("name=\"source_url\" value=\"https://www.voorbeeld.nl/leiderschap\""));

    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str, html: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("<html><body><h1>Mijn pagina</h1>{html}</body></html>")).unwrap();
        let out = crate::helpers::postbode(&["check", "--form-page", path.to_str().unwrap(), "--url", stack]);
        assert!(out.status.success(), "{}", crate::helpers::stderr(&out));
        crate::helpers::stdout(&out)
    };
    assert!(check("goed.html", snippet.clone()).contains("goed.html: the form matches"));
    let changed = check("tekst.html", snippet.replace(&site.consent_text, "Ja, mail me maar."));
    assert!(changed.contains("warning:") && changed.contains("the consent text on the page differs"), "{changed}");
    let elsewhere = check("elders.html", snippet.replace(stack, "https://execute-api.example"));
    assert!(elsewhere.contains(&format!("not to this stack's {stack}/subscribe")), "{elsewhere}");
    let start = snippet.find("<p>Wat ik").unwrap();
    let end = start + snippet[start..].find("</p>").unwrap() + 4;
    let unlinked = check("privacy.html", format!("{}{}", &snippet[..start], &snippet[end..]));
    assert!(unlinked.contains("does not link a privacy statement"), "{unlinked}");
    let none = check("leeg.html", String::new());
    assert!(none.contains("no form that posts to …/subscribe"), "{none}");
}

/// The snippet's fields, submitted as a browser would, subscribe through the router.
#[tokio::test]
async fn the_form_snippet_subscribes() {
    let base = postbode::render::BaseUrl::parse(BASE).unwrap();
    let snippet = postbode::render::web::embeddable_form(&seed_catalogue().site, &base, None);
    let doc = Html::parse_fragment(&snippet);
    let mut fields: Vec<(String, String)> = doc
        .select(&Selector::parse("input").unwrap())
        .map(|i| (i.value().attr("name").unwrap().to_owned(), i.value().attr("value").unwrap_or("").to_owned()))
        .collect();
    for (name, value) in &mut fields {
        match name.as_str() {
            "email" => *value = "eva@example.nl".into(),
            "first_name" => *value = "Eva".into(),
            _ => {}
        }
    }
    let app = TestApp::spawn().await;
    let answer = app.post_form("/subscribe", &serde_urlencoded::to_string(&fields).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(app.emails_tagged("confirm").len(), 1, "the honeypot stayed empty, the mail went out");
}
