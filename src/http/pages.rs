//! The reader's pages around a subscription, in Dutch. No JavaScript: every action is a
//! plain form POST, so mail scanners that follow GET links never change anything.
//!
//! Each text here is true in every case the page is shown: the page after the form is the
//! same for every address (new, waiting, subscribed, within the cooldown, suppressed), so it
//! says what happens in each case without telling which one this is.

use maud::{Markup, html};

use super::error::{FORM_PATH, Next};
use crate::content::Site;
use crate::render::dutch::span;
use crate::render::letters::CONFIRM_BUTTON;

/// The frame of these pages: the site's layout, without the site's name (they are
/// rendered where only the message matters, errors included).
pub fn layout(site: &Site, title: &str, body: Markup) -> Markup {
    crate::render::web::layout(site, title, None, false, html! { h1 { (title) } (body) })
}

/// A page with one message.
pub fn message(site: &Site, title: &str, text: &str) -> Markup {
    layout(site, title, html! { p { (text) } })
}

/// An error page: its own title, the text, and the way on where there is one.
pub fn error(site: &Site, title: &str, text: &str, next: Next) -> Markup {
    layout(
        site,
        title,
        html! {
            p { (text) }
            @match next {
                Next::Form => p { a href=(FORM_PATH) { "Naar het aanmeldformulier" } },
                Next::PrivacyAndForm => p {
                    a href=(crate::render::web::PRIVACY_PATH) { "Mijn privacyverklaring" } " · " a href=(FORM_PATH) { "Naar het aanmeldformulier" }
                },
                Next::Nothing => {},
            }
        },
    )
}

/// A page whose only action is one button that POSTs to the same address.
pub fn confirm_button(site: &Site, title: &str, text: &str, button: &str) -> Markup {
    layout(
        site,
        title,
        html! {
            p { (text) }
            form method="post" {
                button type="submit" { (button) }
            }
        },
    )
}

/// Behind the confirmation mail's button: it continues the mail's words ("Nog één klik") and
/// has the mail's button text.
pub fn confirm(site: &Site) -> Markup {
    confirm_button(
        site,
        "Nog één klik",
        &format!(
            "Klik op de knop, dan is je aanmelding rond en stuur ik je de whitepaper „{}”.",
            site.whitepaper.title
        ),
        CONFIRM_BUTTON,
    )
}

/// Behind an unsubscribe link (the one-click POST needs no page).
pub fn unsubscribe_question(site: &Site) -> Markup {
    confirm_button(
        site,
        "Afmelden",
        "Wil je geen e-mails meer van mij? Klik op de knop, dan meld ik je meteen af.",
        "Afmelden",
    )
}

/// The JSON answer to an accepted form: the page's words in short.
pub const SUBSCRIBED_JSON: &str = "Dank je wel. Kijk in je mailbox: als je aanmelding nog bevestigd moet worden, \
     staat daar mijn e-mail met de knop om dat te doen.";

/// After the form, for every address alike (the no-oracle rule): each sentence is true for a
/// new address and for one that is waiting, subscribed, within the cooldown or suppressed.
/// The spans are the settings in force (`POSTBODE_CONFIRM_COOLDOWN_MINUTES` may change one).
pub fn subscribed(site: &Site, settings: &crate::app::Settings) -> Markup {
    let cooldown = span(settings.confirm_cooldown);
    let valid = span(settings.confirm_ttl);
    let reminder = span(crate::subscribers::REMINDER_COOLDOWN);
    layout(
        site,
        "Kijk in je mailbox",
        html! {
            p { "Dank je wel. Als je aanmelding nog bevestigd moet worden, stuur ik je een e-mail met een knop om dat te doen. Pas na die klik sta je op mijn lijst en krijg je de whitepaper." }
            p { "Ben je al aangemeld, dan stuur ik je een korte e-mail met de whitepaper, hooguit één keer per " (reminder) ". Stuurde je het formulier minder dan " (cooldown) " geleden al, dan stuur ik geen nieuwe e-mail: de eerste is onderweg." }
            p.muted {
                "Niets ontvangen? Kijk ook bij je ongewenste e-mail. De knop in de e-mail werkt " (valid) ". Kwam een eerdere e-mail van mij niet aan op dit adres, dan stuur ik er geen meer heen. Komt er echt niets, mail me dan op "
                a href={ "mailto:" (site.contact_email) } { (site.contact_email) }
                "."
            }
        },
    )
}

pub fn confirmed(site: &Site, whitepaper_url: &str) -> Markup {
    layout(
        site,
        "Gelukt, je bent aangemeld!",
        html! {
            p { "Dank je wel voor je bevestiging. Hier is de whitepaper; hij is ook onderweg naar je inbox." }
            p { a href=(whitepaper_url) { "Open „" (site.whitepaper.title) "”" } }
            p.muted { "Afmelden kan altijd: onderaan elke e-mail staat een afmeldlink." }
        },
    )
}

/// After unsubscribing; `preferences` is the reader's page, for someone who may rather have
/// less mail than none.
pub fn unsubscribed(site: &Site, preferences: Option<&str>) -> Markup {
    layout(
        site,
        "Je bent afgemeld",
        html! {
            p { "Je krijgt geen e-mails meer van mij. Jammer dat je gaat, en bedankt voor het lezen." }
            @if let Some(url) = preferences {
                p { "Toch niet? " a href=(url) { "Kies liever minder e-mail" } ": alleen mijn nieuws, of een pauze van de serie." }
            }
            p.muted { "Per ongeluk afgemeld? " a href=(FORM_PATH) { "Meld je opnieuw aan" } "; je bevestigt dat weer met één klik in een e-mail." }
        },
    )
}
