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

/// The page the form was on: the `source_url` field, else the `Referer` header; only
/// http(s) addresses, cut to a sane length.
pub fn source_url(field: Option<&str>, headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok());
    let url = crate::subscribers::clean_text(field.filter(|f| !f.trim().is_empty()).or(referer)?.trim());
    (url.starts_with("https://") || url.starts_with("http://")).then(|| url.chars().take(MAX_SOURCE_URL).collect())
}
