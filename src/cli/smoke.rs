//! `postbode smoke URL`: proves that an address is served by this postbode stack, right after
//! `sam deploy`. Each check prints one line; any failure makes the command fail.
//!
//! ```text
//! $ postbode smoke https://nieuwsbrief.voorbeeld.nl
//! ok    https              served over https, with a valid certificate for this name
//! ok    health             postbode answers, and builds every link in mail on https://nieuwsbrief.voorbeeld.nl
//! ok    home page          the blog, in Dutch, with the privacy statement linked
//! ok    post page          /posts/leiderschap-en-vertrouwen shows „Leiderschap en vertrouwen”
//! ok    feed               /feed.xml is an Atom feed
//! ok    privacy            /privacy is the privacy statement
//! ok    security headers   nosniff, no-referrer, a script-free CSP, HSTS
//! ok    unsubscribe        a one-click POST with an invalid token gets postbode's own answer
//! 8 of 8 checks passed: https://nieuwsbrief.voorbeeld.nl is this postbode stack.
//! ```
//!
//! The health check is the one that matters most: the stack reports the base URL its mails
//! link to, and it must be the address that was reached. A mismatch means readers would click
//! links that end somewhere else.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::content::{Catalogue, Post};
use crate::render::BaseUrl;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed(String),
    Failed(String),
    /// Does not apply to this address (HTTPS on a loopback address of the local mode).
    NotApplicable(String),
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub outcome: Outcome,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (label, text) = match &self.outcome {
            Outcome::Passed(t) => ("ok", t),
            Outcome::Failed(t) => ("FAIL", t),
            Outcome::NotApplicable(t) => ("n/a", t),
        };
        // The text quotes what a remote server said: shown with its control characters
        // escaped, so no answer can move the cursor, recolour or rewrite a line ("ok").
        write!(f, "{label:<5} {:<18} {}", self.name, crate::subscribers::terminal_safe(text))
    }
}

/// The checks' results, and whether the address is this stack.
pub struct Report {
    pub base: String,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(|c| matches!(c.outcome, Outcome::Failed(_)))
    }

    pub fn summary(&self) -> String {
        let failed = self.checks.iter().filter(|c| matches!(c.outcome, Outcome::Failed(_))).count();
        let ran = self.checks.iter().filter(|c| !matches!(c.outcome, Outcome::NotApplicable(_))).count();
        if failed == 0 {
            format!("{ran} of {ran} checks passed: {} is this postbode stack.", self.base)
        } else {
            format!("{failed} of {ran} checks failed: {} is not (yet) a working postbode stack.", self.base)
        }
    }
}

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

struct Http {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    base: BaseUrl,
}

impl Http {
    fn new(base: BaseUrl) -> Result<Http, String> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| format!("no trusted root certificates on this machine: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Http { client: Client::builder(TokioExecutor::new()).build(https), base })
    }

    /// One request; redirects are not followed (an address that redirects elsewhere is not
    /// this stack).
    async fn send(&self, method: Method, path: &str, form: Option<&str>) -> Result<Reply, String> {
        let url = self.base.join(path);
        let mut request = Request::builder().method(method).uri(&url).header(header::USER_AGENT, "postbode-smoke");
        if form.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let request = request
            .body(Full::new(Bytes::from(form.unwrap_or("").to_owned())))
            .map_err(|e| format!("{url} is not a valid address: {e}"))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| crate::error_chain(&e))?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
            Ok::<_, String>(Reply {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| format!("{url} did not answer within {} s", TIMEOUT.as_secs()))?
            .map_err(|e| format!("{url}: {e}"))
    }

    async fn get(&self, path: &str) -> Result<Reply, String> {
        self.send(Method::GET, path, None).await
    }
}

fn check(name: &'static str, result: Result<String, String>) -> Check {
    Check { name, outcome: result.map_or_else(Outcome::Failed, Outcome::Passed) }
}

fn expect_ok(reply: &Reply, path: &str) -> Result<(), String> {
    match reply.status {
        200 => Ok(()),
        300..=399 => Err(format!("{path} redirects to {}: not served here", reply.header(header::LOCATION))),
        status => Err(format!("{path} answers {status}, not 200")),
    }
}

/// Runs every check against `base` (the stack's public address). `catalogue` is the local
/// content: its first post must be on the deployed site, proving this content is deployed.
pub async fn run(base: &str, catalogue: Option<&Catalogue>) -> Result<Report, String> {
    let base_url = BaseUrl::parse(base)?;
    let https = base_url.as_str().starts_with("https://");
    let http = Http::new(base_url.clone())?;
    let health = http.get("/health").await;
    let home = http.get("/").await;
    // A post dated later is not on the site yet: check one that is public now.
    let post = catalogue.and_then(|c| c.public_posts(jiff::Timestamp::now()).next());
    let post_reply = match post {
        Some(post) => Some((post, http.get(&format!("/posts/{}", post.slug)).await)),
        None => None,
    };
    // What Gmail's and Yahoo's one-click button does, with a token that cannot be valid.
    let unsubscribe = http.send(Method::POST, "/unsubscribe/smoke-ongeldig", Some("List-Unsubscribe=One-Click")).await;
    let checks = vec![
        Check { name: "https", outcome: https_outcome(&health, https) },
        check("health", health.and_then(|reply| health_says_this_stack(&reply, &base_url))),
        check("home page", home.as_ref().map_err(Clone::clone).and_then(home_page)),
        check("post page", post_page(post_reply.as_ref())),
        check("share card", share_card(post_reply.as_ref(), &base_url)),
        check("feed", http.get("/feed.xml").await.and_then(|reply| feed(&reply))),
        check("sitemap", http.get("/sitemap.xml").await.and_then(|reply| sitemap(&reply, post, &base_url))),
        check("privacy", http.get("/privacy").await.and_then(|reply| privacy(&reply, catalogue))),
        check("security headers", home.as_ref().map_err(Clone::clone).and_then(|reply| security_headers(reply, https))),
        check("unsubscribe", unsubscribe.and_then(|reply| unsubscribe_refusal(&reply))),
    ];
    Ok(Report { base: base_url.as_str().to_owned(), checks })
}

/// Any answer over https means the name resolves, TLS works and the certificate is valid for
/// this name (rustls checks it against the system's roots).
fn https_outcome(health: &Result<Reply, String>, https: bool) -> Outcome {
    match (health, https) {
        (Ok(_), true) => Outcome::Passed("served over https, with a valid certificate for this name".into()),
        (Err(e), true) => Outcome::Failed(e.clone()),
        (_, false) => Outcome::NotApplicable("a loopback address of the local mode is plain http".into()),
    }
}

/// `/health` is postbode's, and names this address as the one every link in mail is built on.
fn health_says_this_stack(reply: &Reply, base_url: &BaseUrl) -> Result<String, String> {
    expect_ok(reply, "/health")?;
    let json: serde_json::Value = serde_json::from_str(&reply.body)
        .map_err(|_| "/health does not answer JSON: this is not postbode".to_owned())?;
    if json["service"] != "postbode" || json["status"] != "ok" {
        return Err(format!("/health answers {json}, not postbode's health"));
    }
    match json["base_url"].as_str() {
        Some(url) if url == base_url.as_str() => {
            Ok(format!("postbode answers, and builds every link in mail on {url}"))
        }
        Some(url) => Err(format!(
            "this stack builds the links in its mails on {url}, not on {}: readers would land elsewhere",
            base_url.as_str()
        )),
        None => Err("/health does not say which address mails link to".into()),
    }
}

fn home_page(reply: &Reply) -> Result<String, String> {
    expect_ok(reply, "/")?;
    if !reply.body.contains("<html lang=\"nl\"") {
        Err("/ is not a Dutch postbode page".into())
    } else if !reply.body.contains("href=\"/privacy\"") {
        Err("/ does not link the privacy statement".into())
    } else {
        Ok("the blog, in Dutch, with the privacy statement linked".into())
    }
}

/// The local content's first public post is on the site: this content is deployed.
fn post_page(post: Option<&(&Post, Result<Reply, String>)>) -> Result<String, String> {
    let Some((post, reply)) = post else { return Err("no local content to compare with (pass --content DIR)".into()) };
    let path = format!("/posts/{}", post.slug);
    let reply = reply.as_ref().map_err(Clone::clone)?;
    expect_ok(reply, &path)?;
    let title = maud::html! { (post.title) }.into_string();
    if reply.body.contains(&title) {
        Ok(format!("{path} shows „{}”", post.title))
    } else {
        Err(format!("{path} does not show „{}”: is the latest content deployed?", post.title))
    }
}

/// The post page's share card names the post and its one address on this stack: what
/// LinkedIn and WhatsApp show when the author shares it.
fn share_card(post: Option<&(&Post, Result<Reply, String>)>, base: &BaseUrl) -> Result<String, String> {
    let Some((post, Ok(reply))) = post else { return Err("no post page to read the card of (see post page)".into()) };
    let url = crate::render::email::post_url(base, post.slug.as_str());
    let wanted = [
        format!("<meta property=\"og:url\" content=\"{url}\">"),
        format!("<link rel=\"canonical\" href=\"{url}\">"),
        maud::html! { meta property="og:title" content=(post.title); }.into_string(),
    ];
    match wanted.iter().find(|tag| !reply.body.contains(tag.as_str())) {
        None => Ok(format!("og:title, og:url and the canonical link name {url}")),
        Some(missing) => Err(format!("the post page lacks {missing}: a share would show no card, or another address")),
    }
}

/// The sitemap is one, and lists the local content's post on this address.
fn sitemap(reply: &Reply, post: Option<&Post>, base: &BaseUrl) -> Result<String, String> {
    expect_ok(reply, "/sitemap.xml")?;
    if !reply.body.contains("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">") {
        return Err("/sitemap.xml is not a sitemap".into());
    }
    match post {
        Some(post) => {
            let loc = format!("<loc>{}</loc>", crate::render::email::post_url(base, post.slug.as_str()));
            if reply.body.contains(&loc) {
                Ok(format!("/sitemap.xml lists {loc}"))
            } else {
                Err(format!("/sitemap.xml does not list {loc}"))
            }
        }
        None => Ok("/sitemap.xml is a sitemap".into()),
    }
}

fn feed(reply: &Reply) -> Result<String, String> {
    expect_ok(reply, "/feed.xml")?;
    if reply.header(header::CONTENT_TYPE).starts_with("application/atom+xml") && reply.body.contains("<feed") {
        Ok("/feed.xml is an Atom feed".into())
    } else {
        Err("/feed.xml is not an Atom feed".into())
    }
}

fn privacy(reply: &Reply, catalogue: Option<&Catalogue>) -> Result<String, String> {
    expect_ok(reply, "/privacy")?;
    match catalogue {
        Some(c) if !reply.body.contains(&maud::html! { (c.privacy.title) }.into_string()) => {
            Err(format!("/privacy does not show „{}”", c.privacy.title))
        }
        _ => Ok("/privacy is the privacy statement".into()),
    }
}

fn security_headers(reply: &Reply, https: bool) -> Result<String, String> {
    let mut missing = Vec::new();
    if reply.header(header::X_CONTENT_TYPE_OPTIONS) != "nosniff" {
        missing.push("X-Content-Type-Options: nosniff");
    }
    if reply.header(header::REFERRER_POLICY) != "no-referrer" {
        missing.push("Referrer-Policy: no-referrer (links carry tokens)");
    }
    if !reply.header(header::CONTENT_SECURITY_POLICY).contains("default-src 'none'") {
        missing.push("a Content-Security-Policy with default-src 'none'");
    }
    if https && !reply.header(header::STRICT_TRANSPORT_SECURITY).contains("max-age=") {
        missing.push("Strict-Transport-Security");
    }
    if missing.is_empty() {
        Ok(format!("nosniff, no-referrer, a script-free CSP{}", if https { ", HSTS" } else { "" }))
    } else {
        Err(format!("missing {}", missing.join(", ")))
    }
}

/// postbode refuses an invalid one-click unsubscribe with its own Dutch answer; another site
/// answers something else.
fn unsubscribe_refusal(reply: &Reply) -> Result<String, String> {
    let refusal = crate::http::AppError::bad_link(crate::tokens::Purpose::Unsubscribe);
    if reply.status == refusal.status.as_u16() && reply.body.contains(refusal.message) {
        Ok("a one-click POST with an invalid token gets postbode's own answer".into())
    } else {
        Err(format!(
            "a one-click POST to /unsubscribe/… answers {} without postbode's refusal: unsubscribe links would not work here",
            reply.status
        ))
    }
}

/// What is wrong with the subscribe form on one of the author's own pages (`postbode check
/// --form-page`): the consent text must be the `consent_text` of `site.toml` word for word,
/// since its hash is the consent proof of every subscription from that form; the form must
/// post an `email` to `/subscribe`; the page must link a privacy statement. `base` is the
/// stack's address, when known: then the form must post to it.
pub fn form_page_warnings(site: &crate::content::Site, base: Option<&BaseUrl>, html: &str) -> Vec<String> {
    use html5gum::{Token, Tokenizer};
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text_of = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    /// A `<form>` that posts to …/subscribe, as found.
    struct Form {
        action: String,
        method: String,
        has_email: bool,
    }
    let mut forms: Vec<Form> = Vec::new();
    let mut in_subscribe_form = false;
    let mut page_text = String::new();
    let mut privacy_link = false;
    let mut in_link = false;
    for token in Tokenizer::new(html).flatten() {
        match token {
            Token::StartTag(tag) => {
                let attr = |name: &str| tag.attributes.get(name.as_bytes()).map(|v| text_of(v)).unwrap_or_default();
                match tag.name.as_slice() {
                    b"form" => {
                        let action = attr("action");
                        in_subscribe_form = action.trim_end_matches('/').ends_with("/subscribe");
                        if in_subscribe_form {
                            forms.push(Form { action, method: attr("method"), has_email: false });
                        }
                    }
                    b"input" if in_subscribe_form && attr("name") == "email" => {
                        if let Some(form) = forms.last_mut() {
                            form.has_email = true;
                        }
                    }
                    b"a" => {
                        in_link = true;
                        privacy_link |= attr("href").trim_end_matches('/').ends_with("/privacy");
                    }
                    _ => {}
                }
            }
            Token::EndTag(tag) if tag.name.as_slice() == b"form" => in_subscribe_form = false,
            Token::EndTag(tag) if tag.name.as_slice() == b"a" => in_link = false,
            Token::String(text) => {
                let text = text_of(&text);
                privacy_link |= in_link && text.to_lowercase().contains("privacy");
                page_text.push_str(&text);
                page_text.push(' ');
            }
            _ => {}
        }
    }
    if forms.is_empty() {
        return vec!["the page has no form that posts to …/subscribe".into()];
    }
    let mut warnings = Vec::new();
    if !words(&page_text).contains(&words(&site.consent_text)) {
        warnings.push(format!(
            "the consent text on the page differs from `consent_text` in site.toml; readers must see exactly: {}",
            site.consent_text
        ));
    }
    for form in &forms {
        let action = &form.action;
        if !form.has_email {
            warnings.push(format!("the form posting to {action} has no field named `email`"));
        }
        if !form.method.eq_ignore_ascii_case("post") {
            warnings.push(format!("the form posting to {action} needs method=\"post\""));
        }
        if let Some(base) = base
            && action.trim_end_matches('/') != base.join("/subscribe")
        {
            warnings.push(format!("the form posts to {action}, not to this stack's {}", base.join("/subscribe")));
        }
    }
    if !privacy_link {
        warnings.push(
            "the page does not link a privacy statement (the AVG asks for one where addresses are collected)".into(),
        );
    }
    warnings
}

/// The HTML of one page (for `postbode check --form-page https://…`).
pub async fn fetch_page(url: &str) -> Result<String, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not a web address: {e}"))?;
    let origin = BaseUrl::parse(&parsed.origin().ascii_serialization())?;
    let reply = Http::new(origin)?.get(&parsed[url::Position::BeforePath..]).await?;
    expect_ok(&reply, url)?;
    Ok(reply.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_answer_cannot_fake_a_pass_on_the_terminal() {
        // A server answering with escape sequences that would erase the line and print "ok".
        let hostile = "\u{1b}[2K\r\u{1b}[32mok    everything\u{7}";
        let shown = check("health", Err(hostile.to_owned())).to_string();
        assert!(shown.starts_with("FAIL"), "{shown}");
        assert!(!shown.contains('\u{1b}') && !shown.contains('\r') && !shown.contains('\u{7}'), "{shown:?}");
        assert!(shown.contains("\\u{1b}[2K\\u{d}"), "{shown}");
    }
}
