//! `POST /subscribe`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::{AppError, Format};
use super::{AppState, MAX_BODY, pages, request_info};
use crate::app::App;
use crate::app::subscription::{self, Subscribed};
use crate::content::Site;
use crate::subscribers::{Evidence, SubscriberEmail};

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
        let bytes: Bytes =
            axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| AppError::form_too_large().with_format(format))?;
        let malformed = || AppError::form_unreadable().with_format(format);
        let fields: Fields = match mime.as_str() {
            "application/x-www-form-urlencoded" => serde_urlencoded::from_bytes(&bytes).map_err(|_| malformed())?,
            "application/json" => serde_json::from_slice(&bytes).map_err(|_| malformed())?,
            _ => {
                return Err(AppError::form_media_type().with_format(format));
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
/// open redirect), else gets the "Kijk in je mailbox" page.
fn accepted(app: &App, format: Format) -> Response {
    let site = &app.catalogue.site;
    match format {
        Format::Html => match &site.after_subscribe_url {
            Some(url) => Redirect::to(url).into_response(),
            None => pages::subscribed(site, &app.settings).into_response(),
        },
        Format::Json => axum::Json(serde_json::json!({
            "status": "ok",
            "message": pages::SUBSCRIBED_JSON,
        }))
        .into_response(),
    }
}

/// Same answer for new, pending, confirmed and unsubscribed addresses, and for bots: the
/// response never tells whether an address is known.
#[tracing::instrument(name = "subscribe", skip_all)]
pub async fn subscribe(State(app): State<AppState>, req: SubscribeRequest) -> Result<Response, AppError> {
    let format = req.format;
    let own_origin = request_info::origin_of(app.email.base_url.as_str());
    if !request_info::from_allowed_origin(&req.headers, &own_origin, &app.catalogue.site.form_origins) {
        tracing::info!("form POST from a foreign page refused");
        return Err(AppError::foreign_form().with_format(format));
    }
    if req.fields.website.as_deref().is_some_and(|w| !w.trim().is_empty()) {
        tracing::info!("honeypot filled in; nothing stored or sent");
        return Ok(accepted(&app, format));
    }
    let email = SubscriberEmail::parse(&req.fields.email).map_err(|_| AppError::invalid_email().with_format(format))?;
    let evidence = Evidence {
        ip: req.ip,
        user_agent: request_info::user_agent(&req.headers),
        source_url: request_info::source_url(
            req.fields.source_url.as_deref(),
            &req.headers,
            &own_origin,
            &app.catalogue.site.form_origins,
        ),
        consent_text_version: app.catalogue.site.consent_version(),
    };
    match subscription::subscribe(&app, email, req.fields.first_name, evidence).await {
        Ok(Subscribed::Recorded) => Ok(accepted(&app, format)),
        Ok(Subscribed::OverCap) => Err(AppError::too_many().with_format(format)),
        Ok(Subscribed::NoMailDomain) => Err(AppError::no_mail_domain().with_format(format)),
        Err(e) => Err(AppError::from(e).with_format(format)),
    }
}
