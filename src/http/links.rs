//! The links in emails: confirm, unsubscribe, whitepaper. Each carries a signed token, never
//! an address. GET shows a page; only POST changes anything.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;

use super::error::AppError;
use super::subscribe::recipient;
use super::{AppState, pages, request_info};
use crate::content::WhitepaperSource;
use crate::mail::Outgoing;
use crate::store::StoreError;
use crate::subscribers::{self, ConfirmOutcome, Evidence, Status, Subscriber};
use crate::tokens::{Purpose, TokenError};

/// Checks a token and loads its subscriber; refuses tampered, misdirected, revoked and (for
/// confirmation) expired links.
async fn resolve(app: &AppState, token: &str, purpose: Purpose) -> Result<Subscriber, AppError> {
    resolve_if_known(app, token, purpose).await?.ok_or_else(AppError::unknown_subscriber)
}

/// The subscriber a signed link is for, `None` when they are gone (erased). An unsubscribe
/// link keeps working whatever was sent since: leaving must never fail on an old mail.
async fn resolve_if_known(app: &AppState, token: &str, purpose: Purpose) -> Result<Option<Subscriber>, AppError> {
    let claims = app.tokens.verify(token, purpose).map_err(|e| {
        tracing::info!(error = %e, ?purpose, "link refused");
        match e {
            TokenError::Malformed | TokenError::BadSignature | TokenError::WrongPurpose => AppError::bad_link(purpose),
        }
    })?;
    if purpose == Purpose::Confirm
        && claims.issued_at.saturating_add(app.confirm_ttl).unwrap_or(claims.issued_at) < app.now()
    {
        return Err(AppError::expired_link(purpose));
    }
    let Some(subscriber) = app.store.subscriber(&claims.subscriber).await? else {
        return Ok(None);
    };
    if subscriber.token_version != claims.version && purpose != Purpose::Unsubscribe {
        return Err(AppError::expired_link(purpose));
    }
    Ok(Some(subscriber))
}

fn evidence(app: &AppState, parts: &axum::http::request::Parts) -> Evidence {
    Evidence {
        ip: request_info::client_ip(parts),
        user_agent: request_info::user_agent(&parts.headers),
        source_url: None,
        consent_text_version: app.catalogue.site.consent_version(),
    }
}

#[tracing::instrument(name = "confirm_page", skip_all)]
pub async fn confirm_page(State(app): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    let subscriber = resolve(&app, &token, Purpose::Confirm).await?;
    if matches!(subscriber.status, Status::Unsubscribed | Status::Bounced | Status::Complained) {
        return Err(AppError::expired_link(Purpose::Confirm));
    }
    if subscriber.status == Status::Pending {
        // For the confirmation rate in `postbode stats`: a count per day, nothing about who.
        let day = app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let shown = crate::store::DayStats { sent: 1, ..Default::default() };
        if let Err(e) = app.store.add_stats(crate::store::Ledger::ConfirmPage, day, shown).await {
            tracing::warn!(error = %crate::error_chain(&e), "a confirm page shown was not counted");
        }
    }
    Ok(pages::confirm_button(
        &app.catalogue.site,
        "Bevestig je aanmelding",
        &format!(
            "Bevestig hieronder dat je de whitepaper „{}” en mijn artikelen per e-mail wilt ontvangen.",
            app.catalogue.site.whitepaper.title
        ),
        "Ja, bevestig mijn aanmelding",
    )
    .into_response())
}

#[tracing::instrument(name = "confirm", skip_all)]
pub async fn confirm(
    State(app): State<AppState>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, AppError> {
    let (parts, _) = request.into_parts();
    let evidence = evidence(&app, &parts);
    let mut subscriber = resolve(&app, &token, Purpose::Confirm).await?;
    // Confirming is new consent from the address's owner: it lifts an earlier erase's
    // suppression (a POST to /subscribe alone never does; anyone can type an address).
    if subscriber.status == Status::Pending {
        let hash = app.tokens.suppression_hash(subscriber.email.as_str());
        if app.store.is_suppressed(&hash).await? {
            app.store.set_suppressed(&hash, false, app.now()).await?;
            tracing::info!(subscriber = %subscriber.id, "confirmed anew: suppression lifted");
        }
    }
    for _ in 0..3 {
        let now = app.now();
        let first_visit = app.schedule.as_ref().map_or(now, |s| crate::schedule::first_visit(s, now));
        let (mut next, send_welcome) = match subscribers::confirm(&subscriber, &evidence, now, first_visit) {
            ConfirmOutcome::ConfirmedSendWelcome(next) => (next, true),
            ConfirmOutcome::Confirmed(next) => (next, false),
            ConfirmOutcome::AlreadyConfirmed => return Ok(confirmed_page(&app, &subscriber, now)),
            ConfirmOutcome::NotPending => return Err(AppError::expired_link(Purpose::Confirm)),
        };
        match app.store.update_subscriber(&next).await {
            Ok(version) => next.version = version,
            Err(StoreError::Conflict) => {
                subscriber = app.store.subscriber(&subscriber.id).await?.ok_or_else(AppError::unknown_subscriber)?;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(subscriber = %next.id, "confirmed");
        if send_welcome {
            send_welcome_mail(&app, next.clone(), now).await;
        }
        return Ok(confirmed_page(&app, &next, now));
    }
    Err(AppError::unavailable())
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

/// Sends the welcome mail this request has claimed, then records it. A failure leaves the
/// claim to expire, so a later press of the button tries again; the reader already has the
/// download link on the page.
async fn send_welcome_mail(app: &AppState, mut subscriber: Subscriber, now: Timestamp) {
    let Ok(recipient) = recipient(app, &subscriber, now) else { return };
    let rendered = crate::render::letters::welcome(
        &app.catalogue,
        &app.email,
        &recipient,
        &app.whitepaper_link(&subscriber, now),
        now.into(),
    );
    let email = match rendered {
        Ok(email) => email,
        Err(e) => return tracing::error!(error = %crate::error_chain(&e), "welcome mail could not be rendered"),
    };
    let message_id = match app
        .mailer
        .send(Outgoing { to: subscriber.email.as_str(), mime: &email.mime, tag: "welcome", subscriber: None })
        .await
    {
        Ok(id) => id,
        Err(e) => return tracing::error!(subscriber = %subscriber.id, error = %e, "welcome mail not sent"),
    };
    crate::jobs::confirmations::count_sent(app, crate::store::Ledger::List, now).await;
    for _ in 0..3 {
        let done = subscribers::welcome_sent(&subscriber, message_id.clone(), app.now());
        match app.store.update_subscriber(&done).await {
            Ok(_) => return tracing::info!(subscriber = %subscriber.id, "welcome mail sent"),
            Err(StoreError::Conflict) => match app.store.subscriber(&subscriber.id).await {
                Ok(Some(fresh)) => subscriber = fresh,
                _ => break,
            },
            Err(_) => break,
        }
    }
    tracing::warn!(subscriber = %subscriber.id, "welcome mail sent but not recorded");
}

#[tracing::instrument(name = "unsubscribe_page", skip_all)]
pub async fn unsubscribe_page(State(app): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    // Someone whose data is gone is unsubscribed: say so, never "not found".
    let Some(subscriber) = resolve_if_known(&app, &token, Purpose::Unsubscribe).await? else {
        return Ok(pages::unsubscribed(&app.catalogue.site).into_response());
    };
    if matches!(subscriber.status, Status::Unsubscribed | Status::Bounced | Status::Complained) {
        return Ok(pages::unsubscribed(&app.catalogue.site).into_response());
    }
    Ok(pages::confirm_button(
        &app.catalogue.site,
        "Afmelden",
        "Wil je geen e-mails meer van mij? Klik op de knop, dan meld ik je meteen af.",
        "Afmelden",
    )
    .into_response())
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
    let Some(mut subscriber) = resolve_if_known(&app, &token, Purpose::Unsubscribe).await? else {
        return Ok(pages::unsubscribed(&app.catalogue.site).into_response());
    };
    for _ in 0..3 {
        let Some(next) = subscribers::unsubscribe(&subscriber, &evidence, app.now()) else {
            return Ok(pages::unsubscribed(&app.catalogue.site).into_response());
        };
        match app.store.update_subscriber(&next).await {
            Ok(_) => {
                tracing::info!(subscriber = %next.id, "unsubscribed");
                return Ok(pages::unsubscribed(&app.catalogue.site).into_response());
            }
            Err(StoreError::Conflict) => match app.store.subscriber(&subscriber.id).await? {
                Some(now) => subscriber = now,
                None => return Ok(pages::unsubscribed(&app.catalogue.site).into_response()),
            },
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::unavailable())
}

#[tracing::instrument(name = "whitepaper", skip_all)]
pub async fn whitepaper(State(app): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    let subscriber = resolve(&app, &token, Purpose::Whitepaper).await?;
    if subscriber.status != Status::Confirmed {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "De whitepaper krijg je nadat je je aanmelding hebt bevestigd. Meld je aan met het formulier op de website, dan stuur ik je een bevestigingsmail.",
        ));
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
