//! The links in emails: confirm, unsubscribe, whitepaper. Each carries a signed token, never
//! an address. GET shows a page; only POST changes anything.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;

use super::error::AppError;
use super::{AppState, pages, request_info};
use crate::app::retry::Lookup;
use crate::app::subscription::{self, Confirmed, LinkError, Linked};
use crate::content::WhitepaperSource;
use crate::subscribers::{Evidence, Status, Subscriber};
use crate::tokens::Purpose;

/// Checks a token and loads its subscriber; refuses tampered, misdirected, revoked and (for
/// confirmation) expired links, and links of subscribers who are gone.
async fn resolve(app: &AppState, token: &str, purpose: Purpose) -> Result<Linked, AppError> {
    resolve_if_known(app, token, purpose).await?.ok_or_else(AppError::unknown_subscriber)
}

/// The subscriber a signed link is for, `None` when they are gone (erased).
async fn resolve_if_known(app: &AppState, token: &str, purpose: Purpose) -> Result<Option<Linked>, AppError> {
    subscription::resolve(app, token, purpose).await.map_err(|e| match e {
        LinkError::Invalid => AppError::bad_link(purpose),
        LinkError::Expired => AppError::expired_link(purpose),
        LinkError::Store(e) => e.into(),
    })
}

/// What a request tells about who acts, for the step it adds to the consent proof.
pub(super) fn evidence(app: &AppState, parts: &axum::http::request::Parts) -> Evidence {
    Evidence {
        ip: request_info::client_ip(parts),
        user_agent: request_info::user_agent(&parts.headers),
        source_url: None,
        consent_text_version: app.catalogue.site.consent_version(),
    }
}

#[tracing::instrument(name = "confirm_page", skip_all)]
pub async fn confirm_page(State(app): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    let Linked { subscriber, issued_at } = resolve(&app, &token, Purpose::Confirm).await?;
    if !subscriber.confirmable_by(issued_at) {
        return Err(AppError::expired_link(Purpose::Confirm));
    }
    if subscriber.status == Status::Pending {
        subscription::count_confirm_page(&app).await;
    }
    Ok(pages::confirm(&app.catalogue.site).into_response())
}

#[tracing::instrument(name = "confirm", skip_all)]
pub async fn confirm(
    State(app): State<AppState>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, AppError> {
    let (parts, _) = request.into_parts();
    let evidence = evidence(&app, &parts);
    let link = resolve(&app, &token, Purpose::Confirm).await?;
    match subscription::confirm(&app, &link, &evidence).await? {
        Confirmed::Confirmed(subscriber) => Ok(confirmed_page(&app, &subscriber, app.now())),
        Confirmed::NotPending => Err(AppError::expired_link(Purpose::Confirm)),
        Confirmed::Gone => Err(AppError::unknown_subscriber()),
    }
}

/// After confirming: the author's own page when `after_confirm_url` is set (the welcome mail
/// carries the whitepaper link), else ours with the download link.
fn confirmed_page(app: &AppState, subscriber: &Subscriber, now: Timestamp) -> Response {
    let site = &app.catalogue.site;
    if let Some(url) = &site.after_confirm_url {
        return Redirect::to(url).into_response();
    }
    pages::confirmed(site, &app.whitepaper_link(subscriber, now)).into_response()
}

#[tracing::instrument(name = "unsubscribe_page", skip_all)]
pub async fn unsubscribe_page(State(app): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    // Someone whose data is gone is unsubscribed: say so, never "not found".
    let Some(Linked { subscriber, .. }) = resolve_if_known(&app, &token, Purpose::Unsubscribe).await? else {
        return Ok(pages::unsubscribed(&app.catalogue.site, None).into_response());
    };
    if matches!(subscriber.status, Status::Unsubscribed | Status::Bounced | Status::Complained) {
        return Ok(unsubscribed_page(&app, &subscriber));
    }
    Ok(pages::unsubscribe_question(&app.catalogue.site).into_response())
}

/// Also the RFC 8058 one-click POST: whatever its body, the answer is 200 and a page, at once.
#[tracing::instrument(name = "unsubscribe", skip_all)]
pub async fn unsubscribe(
    State(app): State<AppState>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, AppError> {
    let (parts, _) = request.into_parts();
    let evidence = evidence(&app, &parts);
    // Someone whose data is gone is unsubscribed: 200 and the page (mail providers show a
    // failed one-click unsubscribe otherwise).
    let Some(Linked { subscriber, .. }) = resolve_if_known(&app, &token, Purpose::Unsubscribe).await? else {
        return Ok(pages::unsubscribed(&app.catalogue.site, None).into_response());
    };
    subscription::unsubscribe(app.store.as_ref(), Lookup::Known(&subscriber), &evidence, app.now()).await?;
    Ok(unsubscribed_page(&app, &subscriber))
}

/// "Je bent afgemeld", with the way back to less mail for someone who unsubscribed (not for
/// an address that bounced or complained: it gets nothing again).
fn unsubscribed_page(app: &AppState, subscriber: &Subscriber) -> Response {
    let can_come_back = matches!(subscriber.status, Status::Confirmed | Status::Unsubscribed);
    let url = can_come_back.then(|| crate::app::preferences::page_url(app, subscriber, app.now()));
    pages::unsubscribed(&app.catalogue.site, url.as_deref()).into_response()
}

#[tracing::instrument(name = "whitepaper", skip_all)]
pub async fn whitepaper(State(app): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    let Linked { subscriber, .. } = resolve(&app, &token, Purpose::Whitepaper).await?;
    match subscriber.status {
        Status::Confirmed => {}
        Status::Pending => return Err(AppError::whitepaper_before_confirming()),
        Status::Unsubscribed | Status::Bounced | Status::Complained => return Err(AppError::whitepaper_after_leaving()),
    }
    Ok(match &app.catalogue.site.whitepaper.source {
        WhitepaperSource::File { file_name, content_type, bytes } => (
            [
                (header::CONTENT_TYPE, content_type.to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
                (header::CACHE_CONTROL, "private, no-store".to_owned()),
            ],
            bytes.to_vec(),
        )
            .into_response(),
        WhitepaperSource::Url(url) => Redirect::to(url).into_response(),
    })
}
