//! Errors that reach a reader: a status code and a short Dutch sentence, as a page or as
//! JSON. Bad input is always a 4xx; only our own faults (store or mail down) are 5xx, and
//! those never show internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::pages;

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

    pub fn not_found() -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "Deze pagina bestaat niet.")
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self.format {
            Format::Json => (self.status, Json(serde_json::json!({ "error": self.message }))).into_response(),
            Format::Html => (self.status, pages::message("Dat lukte niet", self.message)).into_response(),
        }
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(error: crate::store::StoreError) -> AppError {
        tracing::error!(error = %crate::error_chain(&error), "store failed");
        AppError::unavailable()
    }
}
