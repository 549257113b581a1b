//! Reactions: `POST /posts/{slug}/reacties` (the form under a post), and the author's two
//! buttons from his notice, `/reactie/plaatsen/{token}` and `/reactie/verwijderen/{token}`:
//! GET shows the reaction and a button (mail scanners follow GETs: nothing changes), POST acts.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::error::AppError;
use super::{AppState, pages, request_info};
use crate::app::reactions::{self, NewReaction, Reacted};
use crate::app::subscription::LinkError;
use crate::content::Post;
use crate::reactions::{MAX_TEXT, Reaction, ReactionError, ReactionStatus, clean_body, clean_name};
use crate::render::reactions::FormValues;
use crate::subscribers::{Evidence, SubscriberEmail};
use crate::tokens::Purpose;

/// Largest form accepted: [`MAX_TEXT`] characters, each up to 4 bytes and 3 characters of
/// URL encoding, with room for the other fields.
pub const MAX_FORM: usize = MAX_TEXT * 12 + 4096;

/// The fields of the form. Unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
struct Fields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    text: String,
    newsletter: Option<String>,
    /// The honeypot: hidden from people, filled in by bots.
    website: Option<String>,
}

/// The post page again, the form filled in with what the reader typed and `problem` above
/// it: nothing they wrote is lost.
fn form_again(app: &AppState, post: &Post, fields: &Fields, status: StatusCode, problem: &str) -> Response {
    let values = FormValues {
        name: &fields.name,
        email: &fields.email,
        text: &fields.text,
        newsletter: fields.newsletter.is_some(),
        problem: Some(problem),
    };
    let page = crate::render::web::post_page_with(&app.catalogue, post, &app.email.base_url, &[], &values);
    (status, page).into_response()
}

/// The answer to a stored reaction: the same for every address (and for a bot).
fn thanks(app: &AppState, post: &Post, newsletter: bool) -> Response {
    let site = &app.catalogue.site;
    let first_name = site.author.split_whitespace().next().unwrap_or(&site.author);
    pages::layout(
        site,
        "Dank je wel voor je reactie",
        html! {
            p { (first_name) " leest je reactie en neemt contact met je op; na goedkeuring staat hij onder het artikel." }
            @if newsletter {
                p { "Je krijgt ook een e-mail om je aanmelding voor de nieuwsbrief te bevestigen. Pas als je op de knop in die e-mail drukt, sta je op de lijst." }
            }
            p { a href={ "/posts/" (post.slug) } { "Terug naar „" (post.title) "”" } }
        },
    )
    .into_response()
}

#[tracing::instrument(name = "react", skip_all, fields(post = %slug))]
pub async fn react(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, AppError> {
    let Some(post) = app.catalogue.post(&slug).filter(|p| p.is_public(app.now()) && p.reactions) else {
        return Err(AppError::not_found());
    };
    let (parts, body) = request.into_parts();
    let own_origin = request_info::origin_of(app.email.base_url.as_str());
    if !request_info::from_allowed_origin(&parts.headers, &own_origin, &app.catalogue.site.form_origins) {
        tracing::info!("reaction POST from a foreign page refused");
        return Err(AppError::foreign_form());
    }
    let bytes: Bytes = axum::body::to_bytes(body, MAX_FORM).await.map_err(|_| AppError::form_too_large())?;
    let fields: Fields = serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::form_unreadable())?;
    let newsletter = fields.newsletter.is_some();
    if fields.website.as_deref().is_some_and(|w| !w.trim().is_empty()) {
        tracing::info!("honeypot filled in; nothing stored or sent");
        return Ok(thanks(&app, post, newsletter));
    }
    let unprocessable = |problem: &str| Ok(form_again(&app, post, &fields, StatusCode::UNPROCESSABLE_ENTITY, problem));
    let name = match clean_name(&fields.name) {
        Ok(name) => name,
        Err(_) => return unprocessable("Vul je naam in; die staat straks boven je reactie."),
    };
    let Ok(email) = SubscriberEmail::parse(&fields.email) else {
        return unprocessable("Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.");
    };
    let text = match clean_body(&fields.text, MAX_TEXT) {
        Ok(text) => text,
        Err(ReactionError::TooLong) => {
            return unprocessable("Je reactie is langer dan 4000 tekens. Maak hem wat korter en verstuur hem opnieuw.");
        }
        Err(_) => return unprocessable("Schrijf eerst je reactie."),
    };
    let ip = request_info::client_ip(&parts);
    let evidence = newsletter.then(|| Evidence {
        ip: ip.clone(),
        user_agent: request_info::user_agent(&parts.headers),
        source_url: Some(app.email.base_url.join(&format!("/posts/{}#reageer", post.slug))),
        consent_text_version: app.catalogue.site.reaction_consent_version(),
    });
    match reactions::react(&app, post, NewReaction { name, email, text, newsletter: evidence, ip }).await? {
        Reacted::Stored => Ok(thanks(&app, post, newsletter)),
        Reacted::OverCap => Ok(form_again(
            &app,
            post,
            &fields,
            StatusCode::TOO_MANY_REQUESTS,
            "Het is op dit moment erg druk en ik kan je reactie nu niet aannemen. Dat ligt niet aan jou. Je tekst \
             staat hieronder nog; probeer het over een uur nog eens.",
        )),
        Reacted::NoMailDomain => unprocessable(
            "Op dit adres kan geen e-mail aankomen: het deel na de @ bestaat niet of ontvangt geen e-mail. Kijk je \
             adres nog eens na, zodat ik je kan antwoorden.",
        ),
    }
}

/// Checks a moderation link and loads its reaction.
async fn resolve(app: &AppState, token: &str, purpose: Purpose) -> Result<Option<Reaction>, AppError> {
    reactions::resolve_link(app, token, purpose).await.map_err(|e| match e {
        LinkError::Invalid => AppError::bad_moderation_link(),
        LinkError::Expired => AppError::expired_moderation_link(),
        LinkError::Store(e) => e.into(),
    })
}

fn gone(app: &AppState) -> Response {
    pages::message(&app.catalogue.site, "Deze reactie is er niet meer", "Ze is verwijderd; er valt niets meer te doen.")
        .into_response()
}

/// The reaction as the author's button page shows it (he sees the address; nobody else
/// reaches this page without his signed link).
fn reaction_page(app: &AppState, reaction: &Reaction, title: &str, lead: &str, button: &str) -> Response {
    let post = app.catalogue.post(&reaction.slug).map_or(reaction.slug.as_str(), |p| p.title.as_str());
    pages::layout(
        &app.catalogue.site,
        title,
        html! {
            p { (lead) }
            p.muted { "Van " strong { (reaction.name) } " (" (reaction.email) ", niet gecontroleerd), onder „" (post) "”:" }
            blockquote {
                @for paragraph in reaction.paragraphs() {
                    p { @for (i, line) in paragraph.iter().enumerate() { @if i > 0 { br; } (line) } }
                }
            }
            form method="post" { button type="submit" { (button) } }
        },
    )
    .into_response()
}

#[tracing::instrument(name = "approve_page", skip_all)]
pub async fn approve_page(State(app): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    let Some(reaction) = resolve(&app, &token, Purpose::ApproveReaction).await? else { return Ok(gone(&app)) };
    if reaction.status == ReactionStatus::Published {
        return Ok(published_page(&app, &reaction));
    }
    Ok(reaction_page(
        &app,
        &reaction,
        "Reactie plaatsen",
        "Met de knop staat deze reactie binnen een minuut onder het artikel, met de naam erboven (nooit het e-mailadres).",
        "Plaatsen",
    ))
}

#[tracing::instrument(name = "approve", skip_all)]
pub async fn approve(State(app): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    let Some(reaction) = resolve(&app, &token, Purpose::ApproveReaction).await? else { return Ok(gone(&app)) };
    match reactions::approve(app.store.as_ref(), &reaction, app.now()).await? {
        Some(published) => Ok(published_page(&app, &published)),
        None => Ok(gone(&app)),
    }
}

fn published_page(app: &AppState, reaction: &Reaction) -> Response {
    let anchor = crate::render::reactions::anchor(reaction);
    pages::layout(
        &app.catalogue.site,
        "De reactie staat online",
        html! {
            p { "De reactie van " (reaction.name) " staat onder het artikel (binnen een minuut ook bij wie de pagina al open had)." }
            // A query of its own: a copy of the page cached before the approval is not used.
            p { a href={ "/posts/" (reaction.slug) "?geplaatst=" (reaction.id.short()) "#" (anchor) } { "Bekijk de reactie" } }
            p.muted { "Een antwoord eronder zetten: postbode reactions answer " (reaction.id.short()) " \"…\"" }
        },
    )
    .into_response()
}

#[tracing::instrument(name = "delete_page", skip_all)]
pub async fn delete_page(State(app): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    let Some(reaction) = resolve(&app, &token, Purpose::DeleteReaction).await? else { return Ok(gone(&app)) };
    Ok(reaction_page(
        &app,
        &reaction,
        "Reactie verwijderen",
        "Met de knop is deze reactie voorgoed weg, ook als ze al online stond. Dat kan niet ongedaan worden gemaakt.",
        "Verwijderen",
    ))
}

#[tracing::instrument(name = "delete", skip_all)]
pub async fn delete(State(app): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    let Some(reaction) = resolve(&app, &token, Purpose::DeleteReaction).await? else { return Ok(gone(&app)) };
    reactions::delete(app.store.as_ref(), &reaction).await?;
    Ok(pages::message(&app.catalogue.site, "De reactie is verwijderd", "Ze is voorgoed weg.").into_response())
}
