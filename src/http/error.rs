//! Errors that reach a reader: a status code and a short Dutch sentence, as a page or as
//! JSON. Bad input is always a 4xx; only our own faults (store or mail down) are 5xx, and
//! those never show internals.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, pages};

/// How the client wants its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
}

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    /// Dutch, for the reader.
    pub message: &'static str,
    pub format: Format,
}

impl AppError {
    pub fn new(status: StatusCode, message: &'static str) -> AppError {
        AppError { status, message, format: Format::Html }
    }

    pub fn with_format(mut self, format: Format) -> AppError {
        self.format = format;
        self
    }

    pub fn bad_link() -> AppError {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "Deze link is ongeldig. Kopieer de hele link uit de e-mail, of meld je opnieuw aan.",
        )
    }

    pub fn expired_link() -> AppError {
        AppError::new(
            StatusCode::GONE,
            "Deze link is verlopen of niet meer geldig. Meld je opnieuw aan via de website.",
        )
    }

    pub fn unknown_subscriber() -> AppError {
        AppError::new(
            StatusCode::NOT_FOUND,
            "We kunnen bij deze link geen aanmelding vinden. Misschien is je gegevens al verwijderd.",
        )
    }

    pub fn unavailable() -> AppError {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Er ging bij ons iets mis. Probeer het over een paar minuten opnieuw.",
        )
    }

    /// A cap on confirmation mail is reached. Also what someone sees who sends the form twice
    /// in a row, so it says where the first mail is. Never depends on the address's state.
    pub fn too_many() -> AppError {
        AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Er kwamen net te veel aanmeldingen binnen voor dit adres of vanaf deze verbinding. \
             Heb je je al aangemeld? Kijk dan in je inbox (en bij ongewenste e-mail) voor de bevestigingsmail. \
             Anders: probeer het later nog eens.",
        )
    }

    pub fn not_found() -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "Deze pagina bestaat niet.")
    }
}

/// Marks an HTML error answer whose page is still to be drawn: [`render_error_pages`] draws
/// it in the site's frame (with the contact address and the privacy link), which the error
/// itself cannot know.
#[derive(Debug, Clone, Copy)]
pub struct ErrorPage(pub &'static str);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self.format {
            Format::Json => (self.status, Json(serde_json::json!({ "error": self.message }))).into_response(),
            Format::Html => {
                // Plain text until the middleware draws the page (it always runs in the router).
                let mut response = (self.status, self.message).into_response();
                response.extensions_mut().insert(ErrorPage(self.message));
                response
            }
        }
    }
}

/// Draws the pages of HTML error answers, for every route of the router it wraps.
pub async fn render_error_pages(State(app): State<AppState>, response: Response) -> Response {
    let Some(ErrorPage(message)) = response.extensions().get::<ErrorPage>().copied() else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    parts.extensions.remove::<ErrorPage>();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    let page = pages::message(&app.catalogue.site, "Dat lukte niet", message);
    Response::from_parts(parts, page.into_string().into())
}

impl From<crate::store::StoreError> for AppError {
    fn from(error: crate::store::StoreError) -> AppError {
        tracing::error!(error = %crate::error_chain(&error), "store failed");
        AppError::unavailable()
    }
}
