//! `/voorkeuren/{token}`: a reader's own page, linked from every mail's footer ("Je
//! voorkeuren"). GET shows the choices (a mail scanner changes nothing); each form POSTs to
//! the same address with its `action`: which mail, a pause of the series (2, 4 or 8 weeks or
//! until a date), the first name; their data as JSON; erasing everything (after a second
//! button). Readers who left see the page too: they can choose to get mail again, take their
//! data, or erase it.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use maud::{Markup, html};
use serde::Deserialize;

use super::error::AppError;
use super::{AppState, pages, request_info};
use crate::app::preferences::{self, Changed, MAX_PAUSE_WEEKS};
use crate::app::retry::Lookup;
use crate::app::subscription::LinkError;
use crate::subscribers::{MailChoice, PreferenceChange, Status, Subscriber};
use crate::tokens::Purpose;

/// The fields of the page's forms (each sends its own).
#[derive(Debug, Default, Deserialize)]
struct Fields {
    #[serde(default)]
    action: String,
    mail: Option<String>,
    weeks: Option<String>,
    until: Option<String>,
    first_name: Option<String>,
    email: Option<String>,
}

async fn resolve(app: &AppState, token: &str) -> Result<Option<Subscriber>, AppError> {
    preferences::resolve(app, token).await.map_err(|e| match e {
        LinkError::Invalid => AppError::bad_link(Purpose::Preferences),
        LinkError::Expired => AppError::expired_link(Purpose::Preferences),
        LinkError::Store(e) => e.into(),
    })
}

/// Someone whose data is gone: the page says so.
fn gone(app: &AppState) -> Response {
    pages::message(
        &app.catalogue.site,
        "Je gegevens zijn verwijderd",
        "Ik heb niets meer van je, behalve een onherkenbare vingerafdruk van je adres, zodat ik je niet per \
         ongeluk opnieuw mail.",
    )
    .into_response()
}

fn dutch_day(at: Timestamp) -> String {
    let date = at.to_zoned(crate::content::site_time_zone()).date();
    format!("{} {}", crate::render::dutch::dutch_date(date), date.year())
}

fn choice_label(choice: MailChoice) -> &'static str {
    match choice {
        MailChoice::Both => "De serie en mijn nieuws",
        MailChoice::SeriesOnly => "Alleen de serie",
        MailChoice::NewsOnly => "Alleen nieuws (geen serie)",
    }
}

fn mail_form(current: Option<MailChoice>, button: &str) -> Markup {
    html! {
        form method="post" {
            input type="hidden" name="action" value="mail";
            fieldset {
                legend { "Welke e-mail wil je?" }
                @for choice in MailChoice::ALL {
                    div.choice {
                        input type="radio" name="mail" id={ "mail-" (choice.as_str()) } value=(choice.as_str())
                            checked[current == Some(choice)] required;
                        label for={ "mail-" (choice.as_str()) } { (choice_label(choice)) }
                    }
                }
            }
            button type="submit" { (button) }
        }
    }
}

/// The page for `subscriber`, with `notice` (what the last POST did) on top.
fn page(app: &AppState, subscriber: &Subscriber, notice: Option<&str>) -> Response {
    let site = &app.catalogue.site;
    let now = app.now();
    let unsubscribe = crate::render::email::unsubscribe_url(
        &app.email.base_url,
        &app.tokens.sign(Purpose::Unsubscribe, &subscriber.id, subscriber.token_version, now),
    );
    let prefs = &subscriber.preferences;
    let body = html! {
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        p.muted { "Voor " (subscriber.email) "." }
        @match subscriber.status {
            Status::Confirmed => {
                section aria-labelledby="keuze" {
                    h2 id="keuze" { "Welke e-mail" }
                    (mail_form(Some(prefs.mail), "Bewaar je keuze"))
                }
                @if prefs.mail.series() {
                    section aria-labelledby="pauze" {
                        h2 id="pauze" { "Even pauze van de serie" }
                        @if let Some(until) = prefs.paused_at(now) {
                            p { "De serie staat op pauze tot " (dutch_day(until)) ". Daarna krijg je het volgende deel dat je nog niet had." }
                            form method="post" {
                                input type="hidden" name="action" value="resume";
                                button type="submit" { "Pauze nu beëindigen" }
                            }
                        } @else {
                            p { "Geen tijd? Zet de serie even stil; je mist geen deel." @if prefs.mail.news() { " Mijn nieuws krijg je gewoon." } }
                            form method="post" {
                                input type="hidden" name="action" value="pause";
                                fieldset {
                                    legend { "Hoe lang?" }
                                    @for weeks in [2, 4, 8] {
                                        div.choice {
                                            input type="radio" name="weeks" id={ "weken-" (weeks) } value=(weeks) checked[weeks == 4];
                                            label for={ "weken-" (weeks) } { (weeks) " weken" }
                                        }
                                    }
                                }
                                label for="tot" { "Of tot een datum (mag leeg blijven)" }
                                input id="tot" name="until" type="date";
                                button type="submit" { "Pauzeer de serie" }
                            }
                        }
                    }
                }
                section aria-labelledby="naam" {
                    h2 id="naam" { "Je voornaam" }
                    form method="post" {
                        input type="hidden" name="action" value="rename";
                        label for="voornaam" { "Zo spreek ik je aan (mag leeg blijven)" }
                        input id="voornaam" name="first_name" type="text" autocomplete="given-name" maxlength="60"
                            value=(subscriber.first_name.as_deref().unwrap_or(""));
                        button type="submit" { "Bewaar je naam" }
                    }
                }
                section aria-labelledby="adres" {
                    h2 id="adres" { "Ander e-mailadres" }
                    @if let Some(change) = &subscriber.address_change {
                        p { "Ik stuurde op " (dutch_day(change.requested_at)) " een bevestiging naar " (change.email) ". Tot je die bevestigt, blijft alles naar dit adres gaan." }
                    }
                    form method="post" {
                        input type="hidden" name="action" value="address";
                        label for="nieuw-adres" { "Je nieuwe e-mailadres" }
                        input id="nieuw-adres" name="email" type="email" required autocomplete="email" inputmode="email";
                        button type="submit" { "Stuur een bevestiging naar het nieuwe adres" }
                    }
                }
                section aria-labelledby="whitepaper" {
                    h2 id="whitepaper" { "De whitepaper" }
                    p { a href=(app.whitepaper_link(subscriber, now)) { "Download „" (site.whitepaper.title) "” opnieuw" } }
                }
            }
            Status::Unsubscribed => {
                p { "Je bent afgemeld: je krijgt geen e-mail meer van mij." }
                section aria-labelledby="keuze" {
                    h2 id="keuze" { "Toch weer e-mail?" }
                    (mail_form(None, "Meld me weer aan"))
                }
            }
            Status::Pending => {
                p { "Je aanmelding is nog niet bevestigd. Bevestig haar met de knop in de e-mail die ik je stuurde." }
            }
            Status::Bounced | Status::Complained => {
                p { "Naar dit adres stuur ik geen e-mail meer." }
            }
        }
        section aria-labelledby="gegevens" {
            h2 id="gegevens" { "Je gegevens" }
            p { "Alles wat ik van je bewaar, in één bestand: je aanmelding met het bewijs van je toestemming, wat ik je stuurde, je reacties." }
            form method="post" {
                input type="hidden" name="action" value="data";
                button type="submit" { "Download je gegevens" }
            }
            form method="post" {
                input type="hidden" name="action" value="erase";
                button.secondary type="submit" { "Verwijder alles" }
            }
        }
        @if subscriber.status == Status::Confirmed {
            section aria-labelledby="afmelden" {
                h2 id="afmelden" { "Afmelden" }
                p { a href=(unsubscribe) { "Meld je af" } ": je krijgt dan geen e-mail meer van mij." }
            }
        }
    };
    pages::layout(site, "Je voorkeuren", body).into_response()
}

#[tracing::instrument(name = "preferences_page", skip_all)]
pub async fn show(State(app): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    match resolve(&app, &token).await? {
        Some(subscriber) => Ok(page(&app, &subscriber, None)),
        None => Ok(gone(&app)),
    }
}

#[tracing::instrument(name = "preferences", skip_all)]
pub async fn act(
    State(app): State<AppState>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, AppError> {
    let (parts, body) = request.into_parts();
    let own_origin = request_info::origin_of(app.email.base_url.as_str());
    if !request_info::from_allowed_origin(&parts.headers, &own_origin, &[]) {
        return Err(AppError::foreign_form());
    }
    let unreadable = AppError::form_unreadable;
    let bytes = axum::body::to_bytes(body, super::MAX_BODY).await.map_err(|_| unreadable())?;
    let fields: Fields = serde_urlencoded::from_bytes(&bytes).map_err(|_| unreadable())?;
    let Some(subscriber) = resolve(&app, &token).await? else { return Ok(gone(&app)) };
    let now = app.now();
    let evidence = super::links::evidence(&app, &parts);
    let invalid = |message: &'static str| Err(AppError::form_problem(message));
    let change = match fields.action.as_str() {
        "mail" => match fields.mail.as_deref().and_then(MailChoice::parse) {
            Some(choice) => PreferenceChange::Mail(choice),
            None => return invalid("Kies welke e-mail je wilt ontvangen."),
        },
        "pause" => {
            let until = fields.until.as_deref().map(str::trim).filter(|u| !u.is_empty());
            let change = match until {
                Some(date) => pause_until_date(&app, date, now),
                None => fields
                    .weeks
                    .as_deref()
                    .and_then(|w| w.trim().parse().ok())
                    .and_then(|weeks| preferences::pause_for_weeks(app.schedule.as_ref(), weeks, now)),
            };
            match change {
                Some(change) => change,
                None => return invalid("Kies 2, 4 of 8 weken, of een datum binnen een jaar."),
            }
        }
        "resume" => PreferenceChange::Resume,
        "rename" => PreferenceChange::Rename(fields.first_name.clone()),
        "data" => return data(&app, &subscriber).await,
        "address" => {
            return ask_address(&app, &subscriber, fields.email.as_deref(), request_info::client_ip(&parts)).await;
        }
        "erase" => return Ok(erase_question(&app)),
        "erase-confirmed" => return erase(&app, &subscriber).await,
        _ => return invalid("Dit formulier kan ik niet lezen."),
    };
    match preferences::change(app.store.as_ref(), Lookup::Known(&subscriber), &change, &evidence, now).await? {
        Changed::Now(stored) => Ok(page(&app, &stored, Some(&notice_of(&change, &stored)))),
        Changed::Nothing(read) => Ok(page(&app, &read, Some("Er veranderde niets: zo stond het al."))),
        Changed::Unknown => Ok(gone(&app)),
    }
}

async fn ask_address(
    app: &AppState,
    subscriber: &Subscriber,
    email: Option<&str>,
    ip: Option<String>,
) -> Result<Response, AppError> {
    use crate::app::preferences::AddressAsked;
    let Ok(new) = crate::subscribers::SubscriberEmail::parse(email.unwrap_or("")) else {
        return Err(AppError::invalid_email());
    };
    match preferences::ask_address_change(app, subscriber, new.clone(), ip.as_deref()).await? {
        AddressAsked::Mailed => {
            let now_stored = app.store.subscriber(&subscriber.id).await?.unwrap_or_else(|| subscriber.clone());
            let notice = format!(
                "Ik stuurde een bevestiging naar {new}. Druk op de knop in die e-mail; tot dan blijft alles naar {} gaan.",
                subscriber.email
            );
            Ok(page(app, &now_stored, Some(&notice)))
        }
        AddressAsked::OverCap => Err(AppError::too_many()),
        AddressAsked::NoMailDomain => Err(AppError::no_mail_domain()),
        AddressAsked::Nothing => Ok(page(app, subscriber, Some("Er veranderde niets: dit is al je adres."))),
    }
}

/// The new address's button: a page with a button (a mail scanner's GET moves nothing).
#[tracing::instrument(name = "address_page", skip_all)]
pub async fn address_page(State(app): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    let linked = resolve_address(&app, &token).await?;
    let Some(change) = linked.subscriber.address_change.as_ref() else { return Err(AppError::address_link_spent()) };
    Ok(pages::confirm_button(
        &app.catalogue.site,
        "Bevestig je nieuwe e-mailadres",
        &format!("Druk op de knop, dan stuur ik mijn e-mail voortaan naar {}.", change.email),
        "Ja, dit is mijn nieuwe adres",
    )
    .into_response())
}

#[tracing::instrument(name = "address", skip_all)]
pub async fn address(
    State(app): State<AppState>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, AppError> {
    use crate::app::preferences::AddressConfirmed;
    let (parts, _) = request.into_parts();
    let linked = resolve_address(&app, &token).await?;
    let evidence = super::links::evidence(&app, &parts);
    match preferences::confirm_address(&app, &linked, &evidence).await? {
        AddressConfirmed::Moved(moved) => {
            // The page's forms post to their own address: the new one's, signed anew.
            let url = preferences::page_url(&app, &moved, app.now());
            Ok(pages::layout(
                &app.catalogue.site,
                "Je nieuwe adres is bevestigd",
                html! {
                    p.notice role="status" { "Gelukt: mijn e-mail gaat voortaan naar " (moved.email) "." }
                    p { "Links uit e-mails aan je oude adres werken niet meer, behalve om je af te melden." }
                    p { a href=(url) { "Naar je voorkeuren" } }
                },
            )
            .into_response())
        }
        AddressConfirmed::Taken => Err(AppError::address_taken()),
        AddressConfirmed::NotPending => Err(AppError::address_link_spent()),
        AddressConfirmed::Gone => Ok(gone(&app)),
    }
}

async fn resolve_address(app: &AppState, token: &str) -> Result<crate::app::subscription::Linked, AppError> {
    let expired = AppError::address_link_spent;
    match preferences::resolve_address_link(app, token).await {
        Ok(Some(linked)) => Ok(linked),
        Ok(None) => Err(AppError::unknown_subscriber()),
        Err(LinkError::Invalid) => Err(AppError::bad_link(Purpose::ConfirmAddress)),
        Err(LinkError::Expired) => Err(expired()),
        Err(LinkError::Store(e)) => Err(e.into()),
    }
}

/// A pause until a date of the form (`yyyy-mm-dd`, the morning of that day in the site's time
/// zone), within [`MAX_PAUSE_WEEKS`].
fn pause_until_date(app: &AppState, date: &str, now: Timestamp) -> Option<PreferenceChange> {
    let date: jiff::civil::Date = date.parse().ok()?;
    let until = date.to_zoned(crate::content::site_time_zone()).ok()?.timestamp();
    let latest = now.checked_add(jiff::SignedDuration::from_hours(24 * 7 * MAX_PAUSE_WEEKS)).ok()?;
    (until > now && until <= latest).then(|| preferences::pause_until(app.schedule.as_ref(), until))
}

fn notice_of(change: &PreferenceChange, now_stored: &Subscriber) -> String {
    match change {
        PreferenceChange::Mail(_)
            if now_stored.consent.last().is_some_and(|c| c.action == crate::subscribers::ConsentAction::Confirm) =>
        {
            format!(
                "Welkom terug! Je krijgt weer e-mail: {}.",
                choice_label(now_stored.preferences.mail).to_lowercase()
            )
        }
        PreferenceChange::Mail(choice) => format!("Bewaard: {}.", choice_label(*choice).to_lowercase()),
        PreferenceChange::Pause { until, .. } => {
            format!("Bewaard: de serie staat op pauze tot {}.", dutch_day(*until))
        }
        PreferenceChange::Resume => {
            "De pauze is voorbij: je krijgt het volgende deel in het eerstvolgende venster.".into()
        }
        PreferenceChange::Rename(_) => "Bewaard: je naam.".into(),
    }
}

/// Everything held about the reader, as `subscribers export` writes it (AVG art. 15 and 20).
async fn data(app: &AppState, subscriber: &Subscriber) -> Result<Response, AppError> {
    let Some(export) = crate::app::operator::export(app.store.as_ref(), &subscriber.email, app.now()).await? else {
        return Ok(gone(app));
    };
    let json = serde_json::to_vec_pretty(&export).map_err(|_| AppError::unavailable())?;
    let mut response = json.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers
        .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"mijn-gegevens.json\""));
    Ok(response)
}

fn erase_question(app: &AppState) -> Response {
    pages::layout(
        &app.catalogue.site,
        "Alles verwijderen?",
        html! {
            p { "Dan verwijder ik je aanmelding, het bewijs van je toestemming, wat ik je stuurde en je reacties (ook geplaatste). Je krijgt geen e-mail meer van mij. Dat kan niet ongedaan worden gemaakt." }
            p.muted { "Ik bewaar alleen een onherkenbare vingerafdruk van je adres, zodat ik je niet per ongeluk opnieuw mail. Meld je je later weer aan en bevestig je dat, dan vervalt die." }
            form method="post" {
                input type="hidden" name="action" value="erase-confirmed";
                button type="submit" { "Ja, verwijder alles" }
            }
        },
    )
    .into_response()
}

async fn erase(app: &AppState, subscriber: &Subscriber) -> Result<Response, AppError> {
    crate::app::operator::erase(app.store.as_ref(), app.mailer.as_ref(), &app.tokens, &subscriber.email, app.now())
        .await?;
    tracing::info!("erased on the reader's own request");
    Ok(gone(app))
}
