//! The reader's pages around a subscription, in Dutch. No JavaScript: every action is a
//! plain form POST, so mail scanners that follow GET links never change anything.

use maud::{Markup, html};

use crate::content::Site;

/// The frame of these pages: the site's layout, without the site's name (they are
/// rendered where only the message matters, errors included).
pub fn layout(site: &Site, title: &str, body: Markup) -> Markup {
    crate::render::web::layout(site, title, None, false, html! { h1 { (title) } (body) })
}

/// A page with one message.
pub fn message(site: &Site, title: &str, text: &str) -> Markup {
    layout(site, title, html! { p { (text) } })
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

pub fn subscribed(site: &Site) -> Markup {
    layout(
        site,
        "Bijna klaar!",
        html! {
            p { "Nog één stap: ik heb je een e-mail gestuurd. Bevestig daarin je aanmelding met de knop; daarna krijg je de whitepaper." }
            p.muted { "Niets ontvangen? Kijk ook bij je ongewenste e-mail. De bevestigingslink blijft 7 dagen geldig." }
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
            p.muted { "Per ongeluk afgemeld? Met het aanmeldformulier op de website meld je je weer aan." }
        },
    )
}
