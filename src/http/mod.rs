//! The HTTP API: one axum [`Router`] for API Gateway (through `lambda_http`) and for the local
//! server alike.
//!
//! | route | what it does |
//! |---|---|
//! | `POST /subscribe` | form or JSON: store a pending subscriber, send one confirmation mail |
//! | `GET /confirm/{token}` | a page with a button (mail scanners follow GETs: nothing changes) |
//! | `POST /confirm/{token}` | confirm; the welcome mail with the whitepaper goes out once |
//! | `GET /unsubscribe/{token}` | a page with a button |
//! | `POST /unsubscribe/{token}` | unsubscribe at once (also RFC 8058 one-click), 200, no redirect |
//! | `GET /whitepaper/{token}` | the whitepaper, for confirmed subscribers |
//! | `GET`/`POST /voorkeuren/{token}` | a reader's own page: which mail, a pause, the name, another address, the whitepaper again, their data, erase |
//! | `GET`/`POST /adres/{token}` | the button in the mail to a new address: a page with a button; the POST moves the reader there |
//! | `GET /posts/{slug}` | a post's page with its published reactions; a reader's `GET` adds one to the post's views of the day ([`page_views`]) |
//! | `POST /posts/{slug}/reacties` | the reaction form: stored as waiting, the author told ([`crate::app::reactions`]) |
//! | `GET`/`POST /reactie/plaatsen/{token}`, `/reactie/verwijderen/{token}` | the author's buttons: a page with a button; the POST publishes or deletes |
//! | `GET /privacy` | the privacy statement (`content/privacy.md`) |
//! | `GET /images/{file}` | a processed image of the content (hashed names, cached for a year) |
//! | `GET /sitemap.xml`, `GET /robots.txt` | for search engines: the public posts; the token routes kept out |
//! | `GET /health` | liveness, and the base URL every link in mail is built on (`postbode smoke` checks it) |

mod error;
mod links;
mod page_views;
pub mod pages;
mod preferences;
mod reactions;
mod request_info;
pub mod route_limits;
mod subscribe;
mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
pub use error::{AppError, Format, render_error_pages};

use crate::app::App;

/// Largest request body accepted (a subscribe form is a few hundred bytes).
pub const MAX_BODY: usize = 16 * 1024;

pub type AppState = Arc<App>;

/// The one router of postbode.
pub fn router(app: AppState) -> Router {
    router_with(app, Router::new(), None)
}

/// The router with `extra` routes (the local mode's outbox pages) and, locally, the per-route
/// limits that API Gateway enforces in AWS, all in the same frame: error pages drawn in the
/// site's layout, and the headers every answer carries.
pub fn router_with(app: AppState, extra: Router<AppState>, limiter: Option<route_limits::LocalLimiter>) -> Router {
    let mut routes = routes(app.clone()).merge(extra);
    if let Some(limiter) = limiter {
        routes = routes.layer(axum::middleware::from_fn(move |request, next| limiter.clone().layer(request, next)));
    }
    routes
        .layer(axum::middleware::map_response_with_state(app.clone(), render_error_pages))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(noindex_token_routes))
        .with_state(app)
}

fn routes(app: AppState) -> Router<AppState> {
    Router::new()
        // OPTIONS is routed so that the CORS layer sees preflights (it answers them itself).
        .route(
            "/subscribe",
            post(subscribe::subscribe)
                .options(|| async { axum::http::StatusCode::NO_CONTENT })
                .layer(subscribe::cors(&app.catalogue.site)),
        )
        .route("/confirm/{token}", get(links::confirm_page).post(links::confirm))
        .route("/unsubscribe/{token}", get(links::unsubscribe_page).post(links::unsubscribe))
        .route("/whitepaper/{token}", get(links::whitepaper))
        .route("/voorkeuren/{token}", get(preferences::show).post(preferences::act))
        .route("/adres/{token}", get(preferences::address_page).post(preferences::address))
        .route("/health", get(health))
        .route("/", get(web::home))
        .route(crate::render::web::PRIVACY_PATH, get(web::privacy))
        .route("/posts/{slug}", get(web::post))
        .route("/posts/{slug}/reacties", post(reactions::react).layer(DefaultBodyLimit::max(reactions::MAX_FORM)))
        .route("/reactie/plaatsen/{token}", get(reactions::approve_page).post(reactions::approve))
        .route("/reactie/verwijderen/{token}", get(reactions::delete_page).post(reactions::delete))
        .route("/feed.xml", get(web::feed))
        .route("/images/{file}", get(web::image))
        .route("/sitemap.xml", get(web::sitemap))
        .route("/robots.txt", get(web::robots))
        .route(crate::render::web::STYLESHEET_PATH, get(web::stylesheet))
        .route(crate::render::web::FAVICON_PATH, get(web::favicon))
        .fallback(web::not_found)
        .method_not_allowed_fallback(|| async { AppError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// Liveness, and which address this deployment builds its links on: `postbode smoke URL`
/// compares it with the URL it reached, so a stack whose mails point elsewhere is caught.
async fn health(axum::extract::State(app): axum::extract::State<AppState>) -> axum::response::Response {
    axum::Json(serde_json::json!({
        "status": "ok",
        "service": "postbode",
        "base_url": app.email.base_url.as_str(),
    }))
    .into_response()
}

/// Every answer on an address with a token (confirm, unsubscribe, whitepaper), its error
/// pages included, asks search engines not to index it: `robots.txt` keeps polite crawlers
/// away, this covers a link that was found elsewhere.
async fn noindex_token_routes(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let token_route = crate::render::web::TOKEN_ROUTES.iter().any(|route| request.uri().path().starts_with(route));
    let mut response = next.run(request).await;
    if token_route {
        response.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex, nofollow"));
    }
    response
}

/// Headers on every answer. `no-referrer` matters most: links carry tokens, which must not
/// leak to other sites through the `Referer` header.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // Browsers honour it only over https (API Gateway and the custom domain serve nothing else).
    h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    // No script at all; styles only from our stylesheet. A handler may set its own policy
    // (the local outbox shows emails, which carry inline styles). `connect-src 'self'` gives
    // nothing to a page without script; it lets auditors that fetch from the page's context
    // (Lighthouse reading robots.txt) work.
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'none'; style-src 'self'; img-src 'self' https:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}
