//! `/_outbox`: the local outbox as web pages, newest first, each mail shown as the reader
//! sees it, with its links pointing at the local server. Only `postbode dev` mounts it; the
//! Lambda router never has these routes.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use mail_parser::MessageParser;
use maud::html;

use crate::http::{AppError, AppState};
use crate::render::web::layout;

/// Where the outbox lives, for the handlers.
#[derive(Clone)]
struct OutboxDir(Arc<PathBuf>);

/// The outbox pages, to be merged into the app's router ([`crate::http::router_with`]).
pub fn router(dir: PathBuf) -> Router<AppState> {
    Router::new()
        .route("/_outbox", get(list))
        .route("/_outbox/{name}", get(show))
        .route("/_outbox/{name}/html", get(html_part))
        .layer(Extension(OutboxDir(Arc::new(dir))))
        .layer(axum::middleware::from_fn(loopback_host_only))
}

/// The outbox holds every reader's mail with working links: it answers only to a loopback
/// `Host` (`localhost`, `127.0.0.1`, `[::1]`). A page elsewhere that points its own name at
/// 127.0.0.1 (DNS rebinding) sends its own name as `Host`, and gets nothing.
async fn loopback_host_only(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if is_loopback_host(host) {
        next.run(request).await
    } else {
        tracing::warn!(host, "outbox asked for under a name that is not loopback; refused");
        AppError::outbox_elsewhere().into_response()
    }
}

fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host
            .rsplit_once(':')
            .map_or(host, |(name, port)| if port.chars().all(|c| c.is_ascii_digit()) { name } else { host }),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Only plain file names from the outbox itself: no paths, no traversal.
fn file(dir: &std::path::Path, name: &str) -> Result<Vec<u8>, AppError> {
    let ok = name.ends_with(".eml")
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !ok {
        return Err(AppError::not_found());
    }
    std::fs::read(dir.join(name)).map_err(|_| AppError::not_found())
}

async fn list(State(app): State<AppState>, Extension(OutboxDir(dir)): Extension<OutboxDir>) -> Response {
    let mut names: Vec<String> = std::fs::read_dir(dir.as_ref())
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".eml") && !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort_by(|a, b| b.cmp(a));
    let rows: Vec<(String, String, String, String)> = names
        .into_iter()
        .map(|name| {
            let raw = std::fs::read(dir.join(&name)).unwrap_or_default();
            let message = MessageParser::default().parse(&raw);
            let field =
                |f: &dyn Fn(&mail_parser::Message) -> Option<String>| message.as_ref().and_then(f).unwrap_or_default();
            let to = field(&|m| m.to().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned));
            let subject = field(&|m| m.subject().map(str::to_owned));
            let date = field(&|m| m.date().map(|d| d.to_rfc3339()));
            (name, date, to, subject)
        })
        .collect();
    let page = layout(
        &app.catalogue.site,
        "Outbox",
        None,
        false,
        html! {
            h1 { "Outbox" }
            p.muted { "Alle e-mails die deze lokale postbode verstuurde, nieuwste eerst." }
            @if rows.is_empty() {
                p { "Nog geen e-mails. Meld je aan via het formulier op " a href="/" { "de blog" } "." }
            } @else {
                table.outbox {
                    thead { tr { th { "Datum" } th { "Aan" } th { "Onderwerp" } } }
                    tbody {
                        @for (name, date, to, subject) in &rows {
                            tr { td { (date) } td { (to) } td { a href={ "/_outbox/" (name) } { (subject) } } }
                        }
                    }
                }
            }
        },
    );
    page.into_response()
}

async fn show(
    State(app): State<AppState>,
    Extension(OutboxDir(dir)): Extension<OutboxDir>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let raw = file(&dir, &name)?;
    let message = MessageParser::default().parse(&raw).ok_or_else(AppError::not_found)?;
    let address = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first())
            .map(|a| match a.name() {
                Some(name) => format!("{name} <{}>", a.address().unwrap_or_default()),
                None => a.address().unwrap_or_default().to_owned(),
            })
            .unwrap_or_default()
    };
    let mut headers = vec![
        ("From".to_owned(), address(message.from())),
        ("To".to_owned(), address(message.to())),
        ("Subject".to_owned(), message.subject().unwrap_or_default().to_owned()),
    ];
    for h in ["Date", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"] {
        if let Some(v) = message.header_raw(h) {
            headers.push((h.to_owned(), v.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
    }
    let text = message.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let subject = message.subject().unwrap_or("(geen onderwerp)").to_owned();
    let page = layout(
        &app.catalogue.site,
        &subject,
        None,
        false,
        html! {
            p { a href="/_outbox" { "← Outbox" } }
            h1 { (subject) }
            table.outbox { tbody { @for (k, v) in &headers { tr { th { (k) } td { (v) } } } } }
            h2 { "HTML" }
            iframe.mail src={ "/_outbox/" (name) "/html" } title={ "De e-mail: " (subject) } {}
            h2 { "Tekst" }
            pre { (text) }
        },
    );
    let mut response = page.into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'",
        ),
    );
    Ok(response)
}

/// The HTML part alone, for the frame; links open in the whole window.
async fn html_part(
    Extension(OutboxDir(dir)): Extension<OutboxDir>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let raw = file(&dir, &name)?;
    let message = MessageParser::default().parse(&raw).ok_or_else(AppError::not_found)?;
    let html = message.body_html(0).map(|h| h.into_owned()).ok_or_else(AppError::not_found)?;
    let html = html.replacen("<head>", "<head><base target=\"_top\">", 1);
    let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src https: http:; frame-ancestors 'self'; base-uri 'self'"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_loopback_names_reach_the_outbox() {
        for host in ["127.0.0.1:3000", "localhost:3000", "localhost", "[::1]:3000", "127.0.0.1", "LOCALHOST:8080"] {
            assert!(super::is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "evil.example:3000",
            "127.0.0.1.evil.example",
            "192.168.1.4:3000",
            "[2001:db8::1]:3000",
        ] {
            assert!(!super::is_loopback_host(host), "{host}");
        }
    }
}
