//! Errors that reach a reader: a status code and a short Dutch sentence, as a page or as
//! JSON. Bad input is always a 4xx; only our own faults (store or mail down) are 5xx, and
//! those never show internals.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, pages};
use crate::tokens::Purpose;

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

    /// A link that is not one of ours (cut short, changed, or for something else), with
    /// advice that fits what it was for: an unsubscribe link always has a way out.
    pub fn bad_link(purpose: Purpose) -> AppError {
        AppError::new(
            StatusCode::BAD_REQUEST,
            match purpose {
                Purpose::Unsubscribe => {
                    "Deze afmeldlink werkt niet; misschien is hij niet helemaal meegekomen. Kopieer de hele link \
                     uit de e-mail. Lukt het dan nog niet? Mail naar het contactadres onderaan deze pagina, dan \
                     meld ik je af."
                }
                _ => {
                    "Deze link werkt niet; misschien is hij niet helemaal meegekomen. Kopieer de hele link uit \
                     de e-mail, of vul het aanmeldformulier op de website opnieuw in."
                }
            },
        )
    }

    /// A link of ours that no longer works: how to get one that does.
    pub fn expired_link(purpose: Purpose) -> AppError {
        AppError::new(
            StatusCode::GONE,
            match purpose {
                Purpose::Whitepaper => {
                    "Deze link naar de whitepaper werkt niet meer. Gebruik de link uit je nieuwste e-mail, of \
                     mail naar het contactadres onderaan deze pagina."
                }
                _ => {
                    "Deze bevestigingslink is verlopen of vervangen door een nieuwere. Vul het aanmeldformulier \
                     op de website opnieuw in, dan stuur ik je een nieuwe bevestigingsmail."
                }
            },
        )
    }

    /// A valid link whose subscriber is gone (erased on request, or after the retention
    /// period). Not for unsubscribe links: those answer that the reader is unsubscribed.
    pub fn unknown_subscriber() -> AppError {
        AppError::new(
            StatusCode::GONE,
            "Bij deze link hoort geen aanmelding meer; misschien zijn je gegevens inmiddels verwijderd. \
             Wil je mijn artikelen weer ontvangen? Vul dan het aanmeldformulier op de website opnieuw in.",
        )
    }

    pub fn unavailable() -> AppError {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Er ging aan mijn kant iets mis. Probeer het over een paar minuten opnieuw.",
        )
    }

    /// A cap on confirmation mail is reached. Also what someone sees who sends the form twice
    /// in a row, so it says where the first mail is. Never depends on the address's state.
    pub fn too_many() -> AppError {
        AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Het is op dit moment erg druk en ik kan je aanmelding nu niet aannemen. Dat ligt niet aan jou \
             of aan je e-mailadres. Probeer het over een uur nog eens. Heb je je net al aangemeld? Kijk dan \
             in je inbox (en bij je ongewenste e-mail) of de bevestigingsmail er al is.",
        )
    }

    /// A form POST from a page that is not the site's own (nor one of its `form_origins`).
    pub fn foreign_form() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "Dit formulier kan alleen worden verstuurd vanaf de website zelf. Ga naar de website en meld je \
             daar aan met het formulier onder een artikel.",
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
    // One page for everything that is not there, whichever route said so.
    let page = if parts.status == StatusCode::NOT_FOUND {
        crate::render::web::not_found(&app.catalogue.site)
    } else {
        pages::message(&app.catalogue.site, "Dat lukte niet", message)
    };
    Response::from_parts(parts, page.into_string().into())
}

impl From<crate::store::StoreError> for AppError {
    fn from(error: crate::store::StoreError) -> AppError {
        tracing::error!(error = %crate::error_chain(&error), "store failed");
        AppError::unavailable()
    }
}
