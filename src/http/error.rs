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

/// What an error page offers as the way on, under its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Nothing more than the text.
    Nothing,
    /// A link to the subscribe form (on the home page).
    Form,
    /// Links to the privacy statement (which the text names) and to the form.
    PrivacyAndForm,
}

/// Where the subscribe form is: the home page shows it, under the posts.
pub const FORM_PATH: &str = "/#aanmelden";

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    /// Dutch, for the reader: the page's title (each kind of error its own).
    pub title: &'static str,
    /// Dutch, for the reader.
    pub message: &'static str,
    pub next: Next,
    pub format: Format,
}

/// Every error a reader can meet, its title and its words, in one place (README, "Every text
/// a reader sees"). None of them depends on whether an address is known.
impl AppError {
    fn new(status: StatusCode, title: &'static str, message: &'static str) -> AppError {
        AppError { status, title, message, next: Next::Nothing, format: Format::Html }
    }

    pub fn with_format(mut self, format: Format) -> AppError {
        self.format = format;
        self
    }

    fn then(mut self, next: Next) -> AppError {
        self.next = next;
        self
    }

    /// A link that is not one of ours (cut short, changed, or for something else), with
    /// advice that fits what it was for: an unsubscribe link always has a way out.
    pub fn bad_link(purpose: Purpose) -> AppError {
        match purpose {
            Purpose::Unsubscribe => AppError::new(
                StatusCode::BAD_REQUEST,
                "Deze afmeldlink werkt niet",
                "Misschien is de link niet helemaal meegekomen. Kopieer de hele link uit de e-mail. Lukt het dan \
                 nog niet? Mail naar het contactadres onderaan deze pagina, dan meld ik je af.",
            ),
            Purpose::Preferences => AppError::new(
                StatusCode::BAD_REQUEST,
                "Deze link werkt niet",
                "Misschien is de link niet helemaal meegekomen. Kopieer de hele link onderaan mijn e-mail, of \
                 mail naar het contactadres onderaan deze pagina.",
            ),
            _ => AppError::new(
                StatusCode::BAD_REQUEST,
                "Deze link werkt niet",
                "Misschien is de link niet helemaal meegekomen. Kopieer de hele link uit de e-mail, of meld je \
                 opnieuw aan met het formulier.",
            )
            .then(Next::Form),
        }
    }

    /// A link of ours that no longer works: how to get one that does.
    pub fn expired_link(purpose: Purpose) -> AppError {
        match purpose {
            Purpose::Whitepaper => AppError::new(
                StatusCode::GONE,
                "Deze link werkt niet meer",
                "Er is een nieuwere link naar de whitepaper. Gebruik die uit je nieuwste e-mail van mij, of mail \
                 naar het contactadres onderaan deze pagina.",
            ),
            Purpose::Preferences => AppError::new(
                StatusCode::GONE,
                "Deze link werkt niet meer",
                "Er is een nieuwere. Gebruik de link onderaan mijn nieuwste e-mail.",
            ),
            _ => AppError::new(
                StatusCode::GONE,
                "Deze link is verlopen",
                "Een bevestigingslink werkt 7 dagen, en alleen de nieuwste. Vul het aanmeldformulier opnieuw in, \
                 dan stuur ik je een nieuwe bevestigingsmail.",
            )
            .then(Next::Form),
        }
    }

    /// A valid link whose subscriber is gone (erased on request, or after the retention
    /// period). Not for unsubscribe links: those answer that the reader is unsubscribed.
    pub fn unknown_subscriber() -> AppError {
        AppError::new(
            StatusCode::GONE,
            "Deze aanmelding bestaat niet meer",
            "Bij deze link horen geen gegevens meer: ze zijn verwijderd, op verzoek of na de bewaartermijn uit \
             mijn privacyverklaring. Wil je mijn artikelen weer ontvangen? Meld je dan opnieuw aan.",
        )
        .then(Next::PrivacyAndForm)
    }

    /// A whitepaper link of someone who has not confirmed (yet).
    pub fn whitepaper_before_confirming() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "Eerst je bevestiging",
            "De whitepaper stuur ik je zodra je je aanmelding hebt bevestigd met de knop in mijn e-mail. Kun je \
             die e-mail niet meer vinden? Vul het formulier opnieuw in, dan stuur ik een nieuwe.",
        )
        .then(Next::Form)
    }

    /// A whitepaper link of someone who unsubscribed (or whose address bounced or complained).
    pub fn whitepaper_after_leaving() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "Deze link werkt niet meer",
            "Je bent afgemeld, en daarmee werken de links in mijn e-mails niet meer, ook die naar de whitepaper. \
             Wil je hem toch? Meld je opnieuw aan; afmelden kan daarna weer met één klik.",
        )
        .then(Next::Form)
    }

    pub fn unavailable() -> AppError {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Er ging iets mis",
            "Er ging aan mijn kant iets mis; er is niets veranderd. Probeer het over een paar minuten opnieuw.",
        )
    }

    /// A cap on confirmation mail is reached. Also what someone sees who sends the form twice
    /// in a row (the mailbox's hourly cap), so it starts there. Never depends on the address's
    /// state: the same words for everyone over any cap.
    pub fn too_many() -> AppError {
        AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Even geduld",
            "Verstuurde je het formulier net al? Dan is mijn e-mail onderweg en hoef je niets meer te doen: kijk \
             in je inbox, en ook bij je ongewenste e-mail. Anders is het nu erg druk; probeer het dan over een \
             uur opnieuw.",
        )
    }

    /// Too many requests on one route at once (API Gateway's limit, mirrored locally).
    pub fn route_busy() -> AppError {
        AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Even geduld",
            "Het is even te druk. Probeer het over een paar seconden opnieuw.",
        )
    }

    /// A form POST from a page that is not the site's own (nor one of its `form_origins`).
    pub fn foreign_form() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "Dit formulier hoort bij een andere website",
            "Dit formulier kan alleen worden verstuurd vanaf mijn eigen website. Meld je daar aan, met het \
             formulier op de voorpagina of onder een artikel.",
        )
        .then(Next::Form)
    }

    pub fn not_found() -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "Pagina niet gevonden", "Deze pagina bestaat niet.")
    }

    pub fn method_not_allowed() -> AppError {
        AppError::new(StatusCode::METHOD_NOT_ALLOWED, "Dat kan hier niet", "Dit kan op deze pagina niet.")
    }

    pub fn form_too_large() -> AppError {
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Dit formulier is te groot",
            "Er kwam meer mee dan dit formulier kan hebben. Ga terug en probeer het opnieuw.",
        )
    }

    pub fn form_unreadable() -> AppError {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "Dit formulier kan ik niet lezen",
            "Er ging iets mis met wat je verstuurde. Ga terug en probeer het opnieuw.",
        )
    }

    pub fn form_media_type() -> AppError {
        AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Dit formulier kan ik niet lezen",
            "Stuur het formulier als gewoon webformulier of als JSON.",
        )
    }

    /// What was typed in the email field is no address.
    pub fn invalid_email() -> AppError {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Kijk je e-mailadres nog eens na",
            "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.",
        )
    }

    /// The address's domain has neither MX nor address records: mail there cannot arrive.
    pub fn no_mail_domain() -> AppError {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Kijk je e-mailadres nog eens na",
            "Op dit adres kan geen e-mail aankomen: het deel na de @ bestaat niet of ontvangt geen e-mail. \
             Misschien zit er een tikfout in.",
        )
    }

    /// A field of a form on the reader's page is missing or wrong: `message` says which.
    pub fn form_problem(message: &'static str) -> AppError {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "Kijk het formulier nog eens na", message)
    }

    /// The new address of an address change belongs to someone on the list already.
    pub fn address_taken() -> AppError {
        AppError::new(
            StatusCode::CONFLICT,
            "Dit adres is al in gebruik",
            "Met dit adres staat al iemand op mijn lijst, dus ik kan je aanmelding er niet naartoe verhuizen. \
             Wil je je oude adres niet meer gebruiken? Meld het af met de link onderaan een e-mail aan dat adres.",
        )
    }

    /// The confirmation link of an address change that was used, replaced or is too old.
    pub fn address_link_spent() -> AppError {
        AppError::new(
            StatusCode::GONE,
            "Deze link werkt niet meer",
            "Een bevestigingslink voor een nieuw adres werkt 7 dagen, één keer, en alleen de nieuwste. Vraag op \
             je voorkeurenpagina opnieuw om een ander adres.",
        )
    }

    /// The author's moderation link, cut short or changed.
    pub fn bad_moderation_link() -> AppError {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "Deze link werkt niet",
            "Misschien is hij niet helemaal meegekomen. Kopieer de hele link uit de e-mail, of gebruik postbode \
             reactions.",
        )
    }

    /// The author's moderation link, older than 30 days.
    pub fn expired_moderation_link() -> AppError {
        AppError::new(
            StatusCode::GONE,
            "Deze link is verlopen",
            "Deze link is ouder dan 30 dagen en werkt niet meer. Gebruik postbode reactions list --waiting.",
        )
    }

    /// `/_outbox` asked for from elsewhere than this computer (`postbode dev`).
    pub fn outbox_elsewhere() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "Alleen op deze computer",
            "De outbox is alleen te zien op deze computer, via http://127.0.0.1.",
        )
    }
}

/// Marks an HTML error answer whose page is still to be drawn: [`render_error_pages`] draws
/// it in the site's frame (with the contact address and the privacy link), which the error
/// itself cannot know.
#[derive(Debug, Clone, Copy)]
pub struct ErrorPage {
    title: &'static str,
    message: &'static str,
    next: Next,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self.format {
            Format::Json => (self.status, Json(serde_json::json!({ "error": self.message }))).into_response(),
            Format::Html => {
                // Plain text until the middleware draws the page (it always runs in the router).
                let mut response = (self.status, self.message).into_response();
                response.extensions_mut().insert(ErrorPage {
                    title: self.title,
                    message: self.message,
                    next: self.next,
                });
                response
            }
        }
    }
}

/// Draws the pages of HTML error answers, for every route of the router it wraps.
pub async fn render_error_pages(State(app): State<AppState>, response: Response) -> Response {
    let Some(error) = response.extensions().get::<ErrorPage>().copied() else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    parts.extensions.remove::<ErrorPage>();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // One page for everything that is not there, whichever route said so.
    let page = if parts.status == StatusCode::NOT_FOUND {
        crate::render::web::not_found(&app.catalogue.site)
    } else {
        pages::error(&app.catalogue.site, error.title, error.message, error.next)
    };
    Response::from_parts(parts, page.into_string().into())
}

impl From<crate::app::operator::EraseError> for AppError {
    fn from(error: crate::app::operator::EraseError) -> AppError {
        tracing::error!(error = %crate::error_chain(&error), "erase failed");
        AppError::unavailable()
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(error: crate::store::StoreError) -> AppError {
        tracing::error!(error = %crate::error_chain(&error), "store failed");
        AppError::unavailable()
    }
}
