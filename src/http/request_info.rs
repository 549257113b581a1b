//! What a request says about who sent it: the evidence for the consent proof.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

/// Longest page address kept in a consent record (with the user agent's, this bounds a
/// record's size).
const MAX_SOURCE_URL: usize = 512;

/// Longest user agent kept in a consent record.
const MAX_USER_AGENT: usize = 512;

/// The client's address: from API Gateway's request context in Lambda (which API Gateway
/// sets itself, unlike `X-Forwarded-For`), or from the socket locally.
pub fn client_ip(parts: &Parts) -> Option<String> {
    if let Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) =
        parts.extensions.get::<lambda_http::request::RequestContext>()
    {
        return ctx.http.source_ip.clone();
    }
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string())
}

pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    let ua = headers.get(header::USER_AGENT)?.to_str().ok()?.trim();
    (!ua.is_empty()).then(|| ua.chars().take(MAX_USER_AGENT).collect())
}

/// Whether a form POST comes from a page allowed to post it: the stack's own origin or one
/// of `form_origins` (the author's own site). A browser says where a request comes from:
/// `Sec-Fetch-Site` (every current browser) and `Origin` (on every POST; but `null` from a
/// page whose referrer policy is `no-referrer`, as the stack's own pages are). A POST from
/// any other site is refused, so no busy page can spend the caps through its visitors'
/// browsers. A request without either header is not a browser's (curl, a script): the caps
/// hold for it as for anyone.
pub fn from_allowed_origin(headers: &HeaderMap, own_origin: &str, form_origins: &[String]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let allowed = |origin: &str| origin == own_origin || form_origins.iter().any(|o| o == origin);
    match (header("sec-fetch-site"), header("origin")) {
        // The stack's own page (its `Origin` is "null" under no-referrer), or typed in.
        (Some("same-origin" | "none"), _) => true,
        // Another site: only the author's own, by its origin.
        (Some(_), Some(origin)) => allowed(origin),
        (Some(_), None) => false,
        // A browser too old to send Sec-Fetch-Site: "null" cannot be told apart from the
        // stack's own no-referrer page; any named origin must be allowed.
        (None, Some("null")) => true,
        (None, Some(origin)) => allowed(origin),
        (None, None) => true,
    }
}

/// The origin (`scheme://host[:port]`) of an absolute address.
pub fn origin_of(address: &str) -> String {
    url::Url::parse(address).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
}

/// The page the form was on: the `source_url` field, else the `Referer` header, kept only
/// when it is a page of the stack's own origin or of `form_origins`, and then only as origin
/// and path (no query, no fragment), cut to a sane length. Anyone can put any text in the
/// field, and it is shown to the author (the weekly summary, `postbode stats`): a page
/// elsewhere is never quoted, so no stranger's words ("log in at …") reach the author's mail.
pub fn source_url(
    field: Option<&str>,
    headers: &HeaderMap,
    own_origin: &str,
    form_origins: &[String],
) -> Option<String> {
    let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok());
    let raw = crate::subscribers::clean_text(field.filter(|f| !f.trim().is_empty()).or(referer)?.trim());
    let url = url::Url::parse(&raw).ok().filter(|u| matches!(u.scheme(), "https" | "http"))?;
    let origin = url.origin().ascii_serialization();
    let known = origin == own_origin || form_origins.contains(&origin);
    known.then(|| format!("{origin}{}", url.path()).chars().take(MAX_SOURCE_URL).collect())
}
