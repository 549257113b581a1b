//! `POST /subscribe`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::{AppError, Format};
use super::{AppState, MAX_BODY, pages, request_info};
use crate::content::Site;
use crate::mail::Outgoing;
use crate::render::Recipient;
use crate::render::email::confirm_url;
use crate::store::{DayStats, Ledger, StoreError};
use crate::subscribers::{self, Evidence, SubscribeOutcome, Subscriber, SubscriberEmail, caps};
use crate::tokens::Purpose;

/// The fields of the form (or JSON object). Unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
struct Fields {
    #[serde(default)]
    email: String,
    first_name: Option<String>,
    source_url: Option<String>,
    /// The honeypot: a field hidden from people. Bots fill it in.
    website: Option<String>,
}

/// A parsed subscribe request, with the evidence for the consent proof.
pub struct SubscribeRequest {
    fields: Fields,
    format: Format,
    ip: Option<String>,
    headers: HeaderMap,
}

impl<S: Send + Sync> FromRequest<S> for SubscribeRequest {
    type Rejection = AppError;

    async fn from_request(req: Request, _: &S) -> Result<Self, AppError> {
        let (parts, body) = req.into_parts();
        let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let format = if mime == "application/json" { Format::Json } else { Format::Html };
        let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
            AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "Dit formulier is te groot.").with_format(format)
        })?;
        let malformed =
            || AppError::new(StatusCode::BAD_REQUEST, "Dit formulier kon niet gelezen worden.").with_format(format);
        let fields: Fields = match mime.as_str() {
            "application/x-www-form-urlencoded" => serde_urlencoded::from_bytes(&bytes).map_err(|_| malformed())?,
            "application/json" => serde_json::from_slice(&bytes).map_err(|_| malformed())?,
            _ => {
                return Err(AppError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Stuur het formulier als gewoon webformulier of als JSON.",
                )
                .with_format(format));
            }
        };
        Ok(SubscribeRequest { fields, format, ip: request_info::client_ip(&parts), headers: parts.headers })
    }
}

/// JSON requests from the author's own pages (`form_origins` in `site.toml`) get the CORS
/// headers they need, preflight included; any other origin gets none, so a browser keeps
/// other sites' scripts from posting addresses through a visitor.
pub fn cors(site: &Site) -> CorsLayer {
    let origins = site.form_origins.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin.to_str().is_ok_and(|o| origins.iter().any(|allowed| allowed == o))
        }))
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(3600))
}

/// The answer to an accepted request: the same for every address. A form POST goes to
/// `after_subscribe_url` when the author set one (never to an address from the request: no
/// open redirect), else gets the "Bijna klaar!" page.
fn accepted(site: &Site, format: Format) -> Response {
    match format {
        Format::Html => match &site.after_subscribe_url {
            Some(url) => Redirect::to(url).into_response(),
            None => pages::subscribed(site).into_response(),
        },
        Format::Json => axum::Json(serde_json::json!({
            "status": "ok",
            "message": "Bijna klaar! Bevestig je aanmelding via de link in de e-mail die we je stuurden.",
        }))
        .into_response(),
    }
}

/// Same answer for new, pending, confirmed and unsubscribed addresses, and for bots: the
/// response never tells whether an address is known.
#[tracing::instrument(name = "subscribe", skip_all)]
pub async fn subscribe(State(app): State<AppState>, req: SubscribeRequest) -> Result<Response, AppError> {
    let format = req.format;
    if req.fields.website.as_deref().is_some_and(|w| !w.trim().is_empty()) {
        tracing::info!("honeypot filled in; nothing stored or sent");
        return Ok(accepted(&app.catalogue.site, format));
    }
    let email = SubscriberEmail::parse(&req.fields.email).map_err(|_| {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.")
            .with_format(format)
    })?;
    take_caps(&app, &email, req.ip.as_deref()).await.map_err(|e| e.with_format(format))?;
    let evidence = Evidence {
        ip: req.ip,
        user_agent: request_info::user_agent(&req.headers),
        source_url: request_info::source_url(req.fields.source_url.as_deref(), &req.headers),
        consent_text_version: app.catalogue.site.consent_version(),
    };
    let first_name = subscribers::clean_first_name(req.fields.first_name.as_deref());

    // Read, decide, write conditionally; a lost race means someone else wrote first: read
    // again and decide again (then the cooldown holds, so one mail goes out).
    for _ in 0..3 {
        let now = app.now();
        let existing =
            app.store.subscriber_by_email(&email).await.map_err(|e| AppError::from(e).with_format(format))?;
        let outcome =
            subscribers::subscribe(existing.as_ref(), &email, first_name.clone(), &evidence, now, app.confirm_cooldown);
        let SubscribeOutcome::SendConfirmation(subscriber) = outcome else {
            tracing::info!("no confirmation mail: confirmed, suppressed or within the cooldown");
            return Ok(accepted(&app.catalogue.site, format));
        };
        let mut subscriber = *subscriber;
        let written = match existing {
            // An erased address stays suppressed: only its owner confirming lifts that.
            None => app.store.insert_subscriber(&subscriber).await.map(|()| 0),
            Some(_) => app.store.update_subscriber(&subscriber).await,
        };
        match written {
            Ok(version) => subscriber.version = version,
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(AppError::from(e).with_format(format)),
        }
        tracing::info!(subscriber = %subscriber.id, "pending; sending confirmation");
        return match send_confirmation(&app, &subscriber, now).await {
            Ok(()) => Ok(accepted(&app.catalogue.site, format)),
            Err(e) => {
                // Lift the cooldown again so the reader can simply try once more.
                subscriber.confirmation_sent_at = None;
                let _ = app.store.update_subscriber(&subscriber).await;
                Err(e.with_format(format))
            }
        };
    }
    Err(AppError::unavailable().with_format(format))
}

/// Takes one from every budget this request counts against, before anything about the address
/// is read: the same work, and the same answer, for every address.
async fn take_caps(app: &AppState, email: &SubscriberEmail, ip: Option<&str>) -> Result<(), AppError> {
    let mailbox = app.tokens.fingerprint("postbode cap mailbox", &email.mailbox());
    let client = app.tokens.fingerprint("postbode cap client", &caps::client_network(ip));
    let mut limits = app.caps;
    // While the list's sending is paused, confirmation mails (the abuse path) are capped
    // tightly too. Read for every request alike: no address's state is involved.
    if app.store.sending_state().await?.paused.is_some() {
        limits.global_per_hour = limits.global_per_hour.min(crate::jobs::ses_events::PAUSED_CONFIRMATIONS_PER_HOUR);
    }
    for budget in caps::budgets(&limits, &mailbox, &client, app.now()) {
        if !app.store.take_budget(&budget.key, budget.limit, budget.expires_at).await? {
            tracing::info!(budget = budget.key.split('#').next().unwrap_or(""), "cap reached; nothing sent");
            return Err(AppError::too_many());
        }
    }
    Ok(())
}

async fn send_confirmation(app: &AppState, subscriber: &Subscriber, now: jiff::Timestamp) -> Result<(), AppError> {
    let token = app.tokens.sign(Purpose::Confirm, &subscriber.id, subscriber.token_version, now);
    // Nothing a stranger typed goes into a mail before the address's owner confirmed: no
    // name in the greeting or in `To:` (the welcome mail is the first to use it).
    let mut recipient = recipient(app, subscriber, now)?;
    recipient.first_name = None;
    recipient.to = lettre::message::Mailbox::new(None, recipient.to.email.clone());
    let email = crate::render::letters::confirmation(
        &app.catalogue,
        &app.email,
        &recipient,
        &confirm_url(&app.email.base_url, &token),
        now.into(),
    )
    .map_err(|e| {
        tracing::error!(error = %crate::error_chain(&e), "confirmation mail could not be rendered");
        AppError::unavailable()
    })?;
    app.mailer.send(Outgoing { to: subscriber.email.as_str(), mime: &email.mime, tag: "confirm" }).await.map_err(
        |e| {
            tracing::error!(subscriber = %subscriber.id, error = %e, "confirmation mail not sent");
            AppError::unavailable()
        },
    )?;
    count_sent(app, Ledger::Confirmation, now).await;
    Ok(())
}

/// Counts a mail that went out, for the breaker's rates. The mail is sent either way; a
/// counter that could not be written is logged, not the reader's problem.
pub async fn count_sent(app: &AppState, ledger: Ledger, now: jiff::Timestamp) {
    let day = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    if let Err(e) = app.store.add_stats(ledger, day, DayStats { sent: 1, ..DayStats::default() }).await {
        tracing::warn!(error = %crate::error_chain(&e), ?ledger, "a sent mail was not counted");
    }
}

/// The recipient parts of any mail to `subscriber`.
pub fn recipient(app: &AppState, subscriber: &Subscriber, now: jiff::Timestamp) -> Result<Recipient, AppError> {
    subscriber.recipient(&app.tokens, now).map_err(|e| {
        tracing::error!(subscriber = %subscriber.id, error = %e, "stored address is not mailable");
        AppError::unavailable()
    })
}
