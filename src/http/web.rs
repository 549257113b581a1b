//! The reader's web: the blog, the posts, the feed, the stylesheet.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};

use super::{AppError, AppState};
use crate::render::web;

fn cached(max_age: u32, content_type: &'static str, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    response
}

pub async fn home(State(app): State<AppState>) -> Response {
    cached(300, "text/html; charset=utf-8", web::home(&app.catalogue, &app.email.base_url, app.now()))
}

pub async fn post(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    // A post dated later is not there yet: the same 404 as an unknown address.
    let Some(post) = app.catalogue.post(&slug).filter(|post| post.is_public(app.now())) else {
        return AppError::not_found().into_response();
    };
    if super::page_views::counts(&method, &headers) {
        let day = app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        // A count that could not be written is a figure a little low, never a page not shown.
        if let Err(e) = app.store.add_page_view(post.slug.as_str(), day).await {
            tracing::warn!(error = %crate::error_chain(&e), "a page view was not counted");
        }
    }
    let reactions = published_reactions(&app, post.slug.as_str()).await;
    cached(
        POST_MAX_AGE,
        "text/html; charset=utf-8",
        web::post_page(&app.catalogue, post, &app.email.base_url, &reactions),
    )
}

/// How long browsers (and any cache in front) keep a post page and the feed: an approved
/// reaction shows within a minute.
pub const POST_MAX_AGE: u32 = 60;

/// The published reactions under a post; none when the store cannot be read (the post is
/// shown all the same, and the failure logged).
pub async fn published_reactions(app: &AppState, slug: &str) -> Vec<crate::reactions::Reaction> {
    crate::app::reactions::published(app.store.as_ref(), slug).await.unwrap_or_else(|e| {
        tracing::warn!(error = %crate::error_chain(&e), "reactions not read; the post is shown without them");
        Vec::new()
    })
}

/// Unknown addresses: the one 404 page (drawn by [`super::error::render_error_pages`], as for
/// every other "not found").
pub async fn not_found() -> AppError {
    AppError::not_found()
}

pub async fn privacy(State(app): State<AppState>) -> Response {
    cached(300, "text/html; charset=utf-8", web::privacy_page(&app.catalogue))
}

pub async fn feed(State(app): State<AppState>) -> Response {
    let now = app.now();
    let slugs: Vec<&str> = app.catalogue.public_posts(now).map(|p| p.slug.as_str()).collect();
    let counts = futures_util::future::join_all(slugs.iter().map(|slug| published_reactions(&app, slug))).await;
    let counts = slugs.iter().zip(counts).map(|(slug, r)| ((*slug).to_owned(), r.len())).collect();
    cached(
        POST_MAX_AGE,
        "application/atom+xml; charset=utf-8",
        web::atom_feed(&app.catalogue, &app.email.base_url, now, &counts),
    )
}

/// A processed image: its name carries the hash of the original, so it never changes and
/// may be cached for ever.
pub async fn image(State(app): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(variant) = app.catalogue.pictures.served(&format!("/images/{file}")) else {
        return AppError::not_found().into_response();
    };
    let mut response = variant.bytes.to_vec().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(variant.format.mime()));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    response
}

pub async fn sitemap(State(app): State<AppState>) -> Response {
    cached(3600, "application/xml; charset=utf-8", web::sitemap(&app.catalogue, &app.email.base_url, app.now()))
}

pub async fn robots(State(app): State<AppState>) -> Response {
    cached(86400, "text/plain; charset=utf-8", web::robots_txt(&app.email.base_url))
}

pub async fn stylesheet() -> Response {
    cached(86400, "text/css; charset=utf-8", web::STYLESHEET)
}

pub async fn favicon() -> Response {
    cached(86400, "image/svg+xml", web::FAVICON)
}
