//! The service mails around a subscription, in Dutch: the confirmation request and the
//! welcome with the whitepaper. They share the layout of the newsletter (see
//! [`super::email`]) and are rendered per recipient, since their links are personal.

use std::time::SystemTime;

use super::email::{
    BaseUrl, EmailSettings, Letter, PreparedEmail, Recipient, RenderError, RenderedEmail, subscribed_reason,
};
use crate::content::{Cadence, Catalogue};

/// "Bevestig je aanmelding": the double opt-in mail with the confirmation link.
pub fn confirmation(
    catalogue: &Catalogue,
    settings: &EmailSettings,
    recipient: &Recipient,
    confirm_url: &str,
    date: SystemTime,
) -> Result<RenderedEmail, RenderError> {
    let site = &catalogue.site;
    let base = &settings.base_url;
    let body = format!(
        "Bedankt voor je aanmelding bij {site}! Bevestig je e-mailadres met de link hieronder. \
         Daarna ontvang je de whitepaper *{whitepaper}* en de artikelen van {author}.\n\n\
         **[Ja, ik bevestig mijn aanmelding]({confirm_url})**\n\n\
         Werkt de link niet? Kopieer dan dit adres naar je browser:\n<{confirm_url}>\n\n\
         Heb je je niet aangemeld? Dan hoef je niets te doen: zonder bevestiging ontvang je niets meer van ons.",
        site = site.title,
        whitepaper = site.whitepaper.title,
        author = site.author,
    );
    let letter = Letter {
        subject: "Bevestig je aanmelding".into(),
        masthead: site.title.clone(),
        title: "Bevestig je aanmelding".into(),
        preheader: "Nog één klik: bevestig je e-mailadres en ontvang de whitepaper.".into(),
        body_markdown: &body,
        link: &|dest| dest.to_owned(),
        image: None,
        web_url: base.join("/"),
        web_label: format!("Naar {}", base.host()),
        reason: format!("Je ontvangt deze e-mail omdat dit adres is opgegeven op {}.", base.host()),
    };
    PreparedEmail::from_letter("confirm", &letter, catalogue, settings)?.render(recipient, date)
}

/// "Welkom": sent once after confirming, with the signed whitepaper link.
pub fn welcome(
    catalogue: &Catalogue,
    settings: &EmailSettings,
    recipient: &Recipient,
    whitepaper_url: &str,
    date: SystemTime,
) -> Result<RenderedEmail, RenderError> {
    let site = &catalogue.site;
    let base: &BaseUrl = &settings.base_url;
    let series = catalogue
        .series
        .first()
        .map(|s| {
            format!(
                "Vanaf nu ontvang je {} een artikel uit de reeks *{}*, te beginnen bij deel 1.",
                cadence_nl(s.cadence),
                s.title
            )
        })
        .unwrap_or_default();
    // Invite a reply only when replies reach someone (a Reply-To the author reads); the
    // From mailbox receives nothing.
    let questions = match &settings.reply_to {
        Some(_) => "Heb je een vraag of wil je reageren? Beantwoord deze e-mail gerust.".to_owned(),
        None => format!(
            "Heb je een vraag of wil je reageren? Mail me gerust op [{contact}](mailto:{contact}).",
            contact = site.contact_email
        ),
    };
    let body = format!(
        "Fijn dat je erbij bent! Zoals beloofd: hier is de whitepaper.\n\n\
         **[Download „{whitepaper}”]({whitepaper_url})**\n\n\
         {series}\n\n\
         {questions}\n\n\
         Hartelijke groet,  \n{author}",
        whitepaper = site.whitepaper.title,
        author = site.author,
    );
    let letter = Letter {
        subject: format!("Welkom! Hier is je whitepaper: {}", site.whitepaper.title),
        masthead: site.title.clone(),
        title: "Welkom!".into(),
        preheader: format!("Je aanmelding is bevestigd. Download hier „{}”.", site.whitepaper.title),
        body_markdown: &body,
        link: &|dest| dest.to_owned(),
        image: None,
        web_url: base.join("/"),
        web_label: format!("Naar {}", base.host()),
        reason: subscribed_reason(catalogue, base),
    };
    PreparedEmail::from_letter("welcome", &letter, catalogue, settings)?.render(recipient, date)
}

/// "elke week", "om de 2 weken", …
pub fn cadence_nl(cadence: Cadence) -> String {
    match cadence.days() {
        1 => "elke dag".into(),
        7 => "elke week".into(),
        d if d % 7 == 0 => format!("om de {} weken", d / 7),
        d => format!("om de {d} dagen"),
    }
}
