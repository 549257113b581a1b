//! The service mails around a subscription, in Dutch: the confirmation request and the
//! welcome with the whitepaper. They share the layout of the newsletter (see
//! [`super::email`]) and are rendered per recipient, since their links are personal.

use std::time::SystemTime;

use super::dutch::{count, dutch_date, dutch_moment};
use super::email::{
    Action, BaseUrl, EmailSettings, Letter, PreparedEmail, Recipient, RenderError, RenderedEmail, reply_invitation,
    signature, subscribed_reason,
};
use crate::content::Catalogue;

/// The preheader of the confirmation mail; the page behind its button starts with the same
/// words ("Nog één klik"), so the page reads as the step the mail announced.
pub const CONFIRMATION_PREHEADER: &str = "Nog één klik: bevestig je aanmelding, dan stuur ik je de whitepaper.";

/// The confirmation mail's button, and the button of the page behind it: one text for both.
pub const CONFIRM_BUTTON: &str = "Ja, ik bevestig mijn aanmelding";

/// "Bevestig je aanmelding": the double opt-in mail with the confirmation button.
pub fn confirmation(
    catalogue: &Catalogue,
    settings: &EmailSettings,
    recipient: &Recipient,
    confirm_url: &str,
    date: SystemTime,
) -> Result<RenderedEmail, RenderError> {
    let body = format!(
        "Bedankt voor je aanmelding! Bevestig met de knop hieronder dat dit jouw e-mailadres is. \
         Daarna stuur ik je de whitepaper „{whitepaper}” en mijn artikelen.",
        whitepaper = catalogue.site.whitepaper.title,
    );
    let texts = ConfirmTexts {
        tag: "confirm",
        subject: "Bevestig je aanmelding",
        preheader: CONFIRMATION_PREHEADER,
        body: &body,
        button: CONFIRM_BUTTON,
        closing: "Heb je je niet aangemeld? Dan hoef je niets te doen: zonder bevestiging krijg je geen \
                  e-mails van mij.",
    };
    texts.render(catalogue, settings, recipient, confirm_url, date)
}

/// "Bevestig je nieuwe e-mailadres": a reader asked on their preference page to move to this
/// address. Nothing moves until its owner presses the button.
pub fn address_confirmation(
    catalogue: &Catalogue,
    settings: &EmailSettings,
    recipient: &Recipient,
    confirm_url: &str,
    date: SystemTime,
) -> Result<RenderedEmail, RenderError> {
    let body = "Je vroeg me je e-mail voortaan naar dit adres te sturen. Bevestig met de knop hieronder dat \
                dit jouw e-mailadres is; daarna gaan mijn artikelen hierheen en niet meer naar je oude adres. \
                De knop werkt 7 dagen.";
    let texts = ConfirmTexts {
        tag: "address",
        subject: "Bevestig je nieuwe e-mailadres",
        preheader: "Nog één stap: bevestig dat je mijn e-mail voortaan op dit adres wilt ontvangen.",
        body,
        button: "Ja, dit is mijn nieuwe adres",
        closing: "Heb je dit niet zelf gevraagd? Dan hoef je niets te doen: zonder bevestiging verandert er niets \
                  en krijg je geen e-mail meer van mij.",
    };
    texts.render(catalogue, settings, recipient, confirm_url, date)
}

/// The words of a mail whose one button confirms an address.
struct ConfirmTexts<'a> {
    tag: &'a str,
    subject: &'a str,
    preheader: &'a str,
    body: &'a str,
    button: &'a str,
    closing: &'a str,
}

impl ConfirmTexts<'_> {
    fn render(
        self,
        catalogue: &Catalogue,
        settings: &EmailSettings,
        recipient: &Recipient,
        confirm_url: &str,
        date: SystemTime,
    ) -> Result<RenderedEmail, RenderError> {
        let base = &settings.base_url;
        let letter = Letter {
            subject: self.subject.into(),
            masthead: catalogue.site.title.clone(),
            title: self.subject.into(),
            preheader: self.preheader.into(),
            body_markdown: self.body,
            action: Some(Action { label: self.button.into(), url: confirm_url.into(), show_address: true }),
            closing_markdown: self.closing,
            // Not list mail: the reader is not on the list (at this address) yet, and `List-Id`
            // is one of the bulk signals Gmail weighs towards the Promotions tab, where a
            // confirmation request goes unseen. (List-Unsubscribe stays: whoever owns the
            // address can stop it from the mail client.)
            list_mail: false,
            link: &|dest| dest.to_owned(),
            image: None,
            web_url: base.join("/"),
            web_label: format!("Naar {}", base.host()),
            reason: format!("Je ontvangt deze e-mail omdat dit adres is opgegeven op {}.", base.host()),
        };
        PreparedEmail::from_letter(self.tag, &letter, catalogue, settings)?.render(recipient, date)
    }
}

/// The label of the whitepaper button in the welcome and already-subscribed mails.
const WHITEPAPER_BUTTON: &str = "Open de whitepaper";

/// "Welkom": sent once after confirming, with the signed whitepaper link.
pub fn welcome(
    catalogue: &Catalogue,
    settings: &EmailSettings,
    recipient: &Recipient,
    whitepaper_url: &str,
    date: SystemTime,
) -> Result<RenderedEmail, RenderError> {
    let site = &catalogue.site;
    let series = catalogue
        .series
        .first()
        .map(|s| series_promise(catalogue, s, jiff::Timestamp::try_from(date).unwrap_or_default()))
        .unwrap_or_default();
    let body = format!(
        "Fijn dat je erbij bent! Zoals beloofd krijg je van mij de whitepaper „{whitepaper}”.",
        whitepaper = site.whitepaper.title,
    );
    let closing = format!("{series}{}", reply_invitation(catalogue, settings));
    let texts = SubscriberLetter {
        tag: "welcome",
        subject: format!("Welkom! Hier is je whitepaper: {}", site.whitepaper.title),
        title: "Welkom!",
        preheader: format!("Je aanmelding is bevestigd. Hier is „{}”.", site.whitepaper.title),
        body: &body,
        whitepaper_url,
        closing: &closing,
        list_mail: true,
    };
    texts.render(catalogue, settings, recipient, date)
}

/// The welcome mail's promise about the series: its cadence and the parts that are out now,
/// never more ("elke week" for a series of one part would be a promise not kept).
fn series_promise(catalogue: &Catalogue, series: &crate::content::Series, now: jiff::Timestamp) -> String {
    let parts = catalogue.series_posts(series).filter(|p| p.is_public(now)).count() as u64;
    let cadence = series.cadence.dutch();
    match parts {
        0 => format!(
            "Zodra het eerste deel van mijn serie *{title}* verschijnt, stuur ik het je; daarna {cadence} een \
             volgend deel.\n\n",
            title = series.title
        ),
        1 => format!(
            "Binnenkort stuur ik je het eerste deel van mijn serie *{title}*. Verschijnen er meer delen, dan krijg \
             je die ook, {cadence} één.\n\n",
            title = series.title
        ),
        n => format!(
            "Vanaf nu stuur ik je de {n} delen van mijn serie *{title}*, {cadence} één, te beginnen met deel 1. \
             Verschijnt er een nieuw deel, dan krijg je dat ook.\n\n",
            title = series.title
        ),
    }
}

/// The texts of a letter to a confirmed subscriber; the frame (masthead, the whitepaper
/// button after the body, the author's greeting, link to the site, why they get it) is the
/// same for all of them.
struct SubscriberLetter<'a> {
    tag: &'a str,
    subject: String,
    title: &'a str,
    preheader: String,
    body: &'a str,
    /// Their signed whitepaper link, behind the button.
    whitepaper_url: &'a str,
    /// Between the button and the greeting.
    closing: &'a str,
    list_mail: bool,
}

impl SubscriberLetter<'_> {
    fn render(
        self,
        catalogue: &Catalogue,
        settings: &EmailSettings,
        recipient: &Recipient,
        date: SystemTime,
    ) -> Result<RenderedEmail, RenderError> {
        let base: &BaseUrl = &settings.base_url;
        let closing = format!("{}\n\n{}", self.closing, signature(catalogue));
        let letter = Letter {
            subject: self.subject,
            masthead: catalogue.site.title.clone(),
            title: self.title.into(),
            preheader: self.preheader,
            body_markdown: self.body,
            action: Some(Action {
                label: WHITEPAPER_BUTTON.into(),
                url: self.whitepaper_url.into(),
                show_address: false,
            }),
            closing_markdown: &closing,
            list_mail: self.list_mail,
            link: &|dest| dest.to_owned(),
            image: None,
            web_url: base.join("/"),
            web_label: format!("Naar {}", base.host()),
            reason: subscribed_reason(catalogue, base),
        };
        PreparedEmail::from_letter(self.tag, &letter, catalogue, settings)?.render(recipient, date)
    }
}

/// What [`already_subscribed`]'s Message-ID is derived from (as `welcome` for the welcome
/// mail and the slug for a post). Which ledger a mail counts on is `mail::MailKind`'s business.
const ALREADY_SUBSCRIBED_SEED: &str = "already";

/// "Je bent al aangemeld": a confirmed reader's address was entered in the form again
/// (perhaps by them, looking for the whitepaper they lost). Short, with the whitepaper link.
pub fn already_subscribed(
    catalogue: &Catalogue,
    settings: &EmailSettings,
    recipient: &Recipient,
    whitepaper_url: &str,
    date: SystemTime,
) -> Result<RenderedEmail, RenderError> {
    let site = &catalogue.site;
    let body = format!(
        "Dit e-mailadres is opnieuw opgegeven op {host}, maar je bent al aangemeld: je hoeft niets te doen. \
         Zocht je de whitepaper? Hier is hij nog een keer.",
        host = settings.base_url.host(),
    );
    let texts = SubscriberLetter {
        tag: ALREADY_SUBSCRIBED_SEED,
        subject: "Je bent al aangemeld".into(),
        title: "Je bent al aangemeld",
        preheader: format!("Je hoeft niets te doen. Hier is „{}” nog een keer.", site.whitepaper.title),
        body: &body,
        whitepaper_url,
        closing: "Heb je het formulier niet zelf ingevuld? Dan kun je deze e-mail gewoon negeren.",
        // A reply to what someone just did, like the confirmation: not list mail.
        list_mail: false,
    };
    texts.render(catalogue, settings, recipient, date)
}

/// The letters (mails other than posts) a reader can get, for previews and test sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterKind {
    Confirmation,
    Welcome,
    AlreadySubscribed,
    AddressConfirmation,
}

impl LetterKind {
    pub const ALL: [LetterKind; 4] =
        [LetterKind::Confirmation, LetterKind::Welcome, LetterKind::AlreadySubscribed, LetterKind::AddressConfirmation];

    /// The name on the command line and in preview file names.
    pub fn name(self) -> &'static str {
        match self {
            LetterKind::Confirmation => "confirmation",
            LetterKind::Welcome => "welcome",
            LetterKind::AlreadySubscribed => "already-subscribed",
            LetterKind::AddressConfirmation => "address-confirmation",
        }
    }

    pub fn parse(name: &str) -> Result<LetterKind, String> {
        LetterKind::ALL.into_iter().find(|k| k.name() == name).ok_or_else(|| {
            let names: Vec<&str> = LetterKind::ALL.iter().map(|k| k.name()).collect();
            format!("there is no letter `{name}`; the letters are {}", names.join(", "))
        })
    }

    /// The letter as a reader gets it, with example tokens in its links (they lead to the
    /// site's "this link does not work" page, never to anyone's subscription).
    pub fn render_example(
        self,
        catalogue: &Catalogue,
        settings: &EmailSettings,
        recipient: &Recipient,
        date: SystemTime,
    ) -> Result<RenderedEmail, RenderError> {
        let base = &settings.base_url;
        let whitepaper = super::email::whitepaper_url(base, "VOORBEELD-WHITEPAPERTOKEN");
        match self {
            LetterKind::Confirmation => {
                // As the worker sends it: no name before the owner confirmed.
                let anonymous = Recipient {
                    to: lettre::message::Mailbox::new(None, recipient.to.email.clone()),
                    first_name: None,
                    unsubscribe_token: recipient.unsubscribe_token.clone(),
                    preferences_token: None,
                };
                let confirm = super::email::confirm_url(base, "VOORBEELD-BEVESTIGTOKEN");
                confirmation(catalogue, settings, &anonymous, &confirm, date)
            }
            LetterKind::Welcome => welcome(catalogue, settings, recipient, &whitepaper, date),
            LetterKind::AlreadySubscribed => already_subscribed(catalogue, settings, recipient, &whitepaper, date),
            LetterKind::AddressConfirmation => {
                // As it goes to a new address: no page of the reader's in it.
                let new_address = Recipient { preferences_token: None, ..recipient.clone() };
                let url = base.join("/adres/VOORBEELD-ADRESTOKEN");
                address_confirmation(catalogue, settings, &new_address, &url, date)
            }
        }
    }
}

/// The weekly summary for the author, in plain Dutch: the figures of [`crate::subscribers::figures`]. Plain
/// text, to the author only; not list mail (no unsubscribe, no tracking).
///
/// ```text
/// Subject: Je nieuwsbrief deze week: 5 aanmeldingen, 124 lezers
///
/// Hallo René,
///
/// Zo ging het met je nieuwsbrief van 23 november tot 30 november:
///
/// Aanmeldingen: 5
///      3  https://www.voorbeeld.nl/blog
/// …
/// ```
pub fn weekly_summary(
    site: &crate::content::Site,
    from: &lettre::message::Mailbox,
    to: &str,
    figures: &crate::subscribers::figures::ListFigures,
    paused_since: Option<jiff::Timestamp>,
    date: SystemTime,
) -> Result<Vec<u8>, RenderError> {
    let text = weekly_summary_text(&site.author, figures, paused_since);
    let readers = figures.list_size.last().map_or(0, |(_, n)| *n);
    let signups: u64 = figures.signups_by_source.values().sum();
    let subject = format!(
        "Je nieuwsbrief deze week: {}, {}",
        count(signups, "aanmelding", "aanmeldingen"),
        count(readers, "lezer", "lezers"),
    );
    author_letter(from, to, &subject, "summary", text, date)
}

/// Why the newsletter is not going out, as the author is told it (see [`alert`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// The circuit breaker paused the list: lifted by `postbode sending resume`.
    Paused,
    /// SES refuses the account's mail (sandbox, quota, a paused account, access): lifted in
    /// AWS; the next run that can send clears it.
    AccountStopped,
    /// Confirmation mail is throttled by the intake breaker: lifts itself as its window moves.
    IntakeThrottled,
}

impl AlertKind {
    /// The name in the report, the once-only marker and the outbox.
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::Paused => "paused",
            AlertKind::AccountStopped => "account-stopped",
            AlertKind::IntakeThrottled => "intake-throttled",
        }
    }
}

/// The mail to the author (`summary_email`) when sending stops: what happened, since when,
/// the reason as recorded, and the command that lifts it. Sent once per cause by the sender.
pub fn alert(
    site: &crate::content::Site,
    from: &lettre::message::Mailbox,
    to: &str,
    kind: AlertKind,
    since: jiff::Timestamp,
    reason: &str,
    date: SystemTime,
) -> Result<Vec<u8>, RenderError> {
    let text = alert_text(&site.author, kind, since, reason);
    let subject = match kind {
        AlertKind::Paused => "Let op: het versturen van je nieuwsbrief is gepauzeerd",
        AlertKind::AccountStopped => "Let op: Amazon SES verstuurt je nieuwsbrief niet",
        AlertKind::IntakeThrottled => "Let op: bevestigingsmails worden afgeremd",
    };
    author_letter(from, to, subject, kind.name(), text, date)
}

/// The alert's text (see [`alert`]).
pub fn alert_text(author: &str, kind: AlertKind, since: jiff::Timestamp, reason: &str) -> String {
    let first_name = author.split_whitespace().next().unwrap_or(author);
    let when = dutch_moment(since);
    let (what, then) = match kind {
        AlertKind::Paused => (
            format!(
                "postbode heeft het versturen van je nieuwsbrief op {when} gepauzeerd: er kwamen te veel \
                 onbestelbare e-mails of klachten terug. Zolang de pauze duurt, krijgt niemand een artikel; \
                 aanmeldingen gaan door, maar langzamer."
            ),
            "Kijk wat er gebeurde:\n  postbode stats\n  postbode sending status\n\nIs de oorzaak weg \
             (bijvoorbeeld een lijst met oude adressen die niet meer bestaan)? Zet het versturen dan weer aan \
             met:\n  postbode sending resume\n"
                .to_owned(),
        ),
        AlertKind::AccountStopped => (
            format!(
                "Amazon SES weigert sinds {when} de e-mail van je AWS-account, dus postbode kan niets \
                 versturen. Niemand slaat een artikel over: de lezers wachten tot het weer kan."
            ),
            "Kijk in de SES-console (Account dashboard) wat AWS meldt: het account kan nog in de sandbox \
             staan, zijn quotum hebben bereikt of gepauzeerd zijn. De stand en de controles:\n  postbode \
             sending status\n  postbode preflight --domain <je domein>\n\nZodra SES weer verstuurt, gaat \
             postbode bij de volgende run vanzelf verder.\n"
                .to_owned(),
        ),
        AlertKind::IntakeThrottled => (
            format!(
                "Sinds {when} komen er veel bevestigingsmails onbestelbaar terug of worden ze als spam \
                 gemeld. Om de naam van je domein bij Amazon SES te beschermen gaan er nu hoogstens een paar \
                 bevestigingsmails per uur uit. Je nieuwsbrief zelf gaat gewoon door."
            ),
            "Dit komt meestal door iemand die veel verzonnen adressen invult. Het herstelt zich vanzelf als \
             het aandeel van de afgelopen twee dagen daalt. Bekijk de cijfers met:\n  postbode stats\n"
                .to_owned(),
        ),
    };
    format!(
        "Hallo {first_name},\n\n{what}\n\nReden, zoals postbode die vastlegde:\n  {reason}\n\n{then}\nJe krijgt \
         dit bericht één keer voor deze oorzaak. Ook CloudWatch waarschuwt je als je AlertEmail hebt ingesteld.\n"
    )
}

/// A plain-text mail to the author: no layout, no links to follow, a message id of its own.
fn author_letter(
    from: &lettre::message::Mailbox,
    to: &str,
    subject: &str,
    id_prefix: &str,
    text: String,
    date: SystemTime,
) -> Result<Vec<u8>, RenderError> {
    let mime_error = |source| RenderError::Mime { to: to.to_owned(), source };
    let to_box: lettre::message::Mailbox =
        to.parse().map_err(|source| RenderError::Address { address: to.to_owned(), source })?;
    let domain = from.email.domain().to_owned();
    let stamp = jiff::Timestamp::try_from(date).map_or(0, |t| t.as_second());
    lettre::Message::builder()
        .from(from.clone())
        .to(to_box)
        .subject(subject)
        .date(date)
        .message_id(Some(format!("<{id_prefix}-{stamp}@{domain}>")))
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(text)
        .map(|m| m.formatted())
        .map_err(mime_error)
}

/// The summary's text (see [`weekly_summary`]).
pub fn weekly_summary_text(
    author: &str,
    f: &crate::subscribers::figures::ListFigures,
    paused_since: Option<jiff::Timestamp>,
) -> String {
    use std::fmt::Write;
    let zone = crate::content::site_time_zone();
    let day = |t: jiff::Timestamp| dutch_date(t.to_zoned(zone.clone()).date());
    let first_name = author.split_whitespace().next().unwrap_or(author);
    let mut out =
        format!("Hallo {first_name},\n\nZo ging het met je nieuwsbrief van {} tot {}:\n\n", day(f.since), day(f.until));
    if let Some(since) = paused_since {
        let _ = writeln!(
            out,
            "Verzending gepauzeerd sinds {}: niemand krijgt een artikel tot je `postbode sending resume` \
             geeft (eerst: postbode stats).\n",
            dutch_moment(since)
        );
    }
    let signups: u64 = f.signups_by_source.values().sum();
    let _ = writeln!(out, "Aanmeldingen: {signups}");
    for (page, n) in &f.signups_by_source {
        let _ = writeln!(out, "  {n:>5}  {page}");
    }
    let rate = f.confirmation_rate().map_or(String::new(), |r| format!(" ({r:.0}%)"));
    let _ =
        writeln!(out, "Bevestigingspagina's bekeken: {}, bevestigd: {}{rate}\n", f.confirm_pages_shown, f.confirmed);
    if f.per_post.is_empty() {
        let _ = writeln!(out, "Er zijn deze week geen artikelen verstuurd.\n");
    } else {
        let _ = writeln!(out, "Per artikel:");
        for (slug, p) in &f.per_post {
            let _ = writeln!(
                out,
                "  {slug}: {} verstuurd, {} daarna, {} onbestelbaar, {}",
                p.sent,
                count(p.unsubscribed_after, "afmelding", "afmeldingen"),
                p.bounced,
                count(p.complained, "klacht", "klachten"),
            );
        }
        out.push('\n');
    }
    if !f.page_views.is_empty() {
        let _ = writeln!(out, "Gelezen op de website (paginaweergaven, zoekmachines niet meegeteld):");
        for (slug, days) in &f.page_views {
            let per_day: Vec<String> = days.iter().map(|(date, n)| format!("{} {n}", dutch_date(*date))).collect();
            let _ = writeln!(out, "  {slug}: {} ({})", f.views_of(slug), per_day.join(", "));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "E-mail (verstuurd, onbestelbaar, klachten):");
    for (ledger, m) in [
        ("nieuwsbrief aan vaste lezers", f.list_mail),
        ("welkom en nieuwe lezers", f.new_readers_mail),
        ("bevestigingsmails", f.confirmation_mail),
    ] {
        let _ = writeln!(out, "  {ledger}: {}, {}, {}", m.sent, m.bounced, m.complained);
    }
    out.push('\n');
    let c = f.choices;
    if c.paused + c.series_only + c.news_only > 0 {
        let _ = writeln!(
            out,
            "Keuzes van lezers: {} met de serie op pauze, {} alleen de serie, {} alleen nieuws\n",
            c.paused, c.series_only, c.news_only
        );
    }
    let _ = writeln!(out, "Lezers:");
    let last = f.list_size.len().saturating_sub(1);
    for (i, (date, n)) in f.list_size.iter().enumerate() {
        let when = if i == last { "nu".to_owned() } else { format!("maandag {}", dutch_date(*date)) };
        let _ = writeln!(out, "  {when}: {n}");
    }
    out.push_str(
        "\nDeze cijfers komen uit wat postbode toch al bewaart: er wordt niets gevolgd, geen pixels en geen \
         omgeleide links.\nMeer zien: postbode stats --since 30d\n",
    );
    out
}

/// One reaction in a notice to the author, with the addresses of its two buttons.
pub struct NoticeItem<'a> {
    pub reaction: &'a crate::reactions::Reaction,
    pub post_title: &'a str,
    pub approve_url: String,
    pub delete_url: String,
}

/// New reactions, to the author (`contact_email`): each with its text, the address typed
/// with it (marked as not checked) and the two buttons, *Plaatsen* and *Verwijderen*, that
/// open a page with a button (scanner-safe). One reaction: "Beantwoorden" answers the reader
/// (`Reply-To`); several (a busy hour, in one digest): no `Reply-To`, each block names its
/// address, so one reply never reaches several readers.
pub fn reaction_notice(
    site: &crate::content::Site,
    from: &lettre::message::Mailbox,
    items: &[NoticeItem<'_>],
    more_waiting: bool,
    date: SystemTime,
) -> Result<Vec<u8>, RenderError> {
    use lettre::message::MultiPart;
    let to = site.contact_email.as_str();
    let mime_error = |source| RenderError::Mime { to: to.to_owned(), source };
    let to_box: lettre::message::Mailbox =
        to.parse().map_err(|source| RenderError::Address { address: to.to_owned(), source })?;
    let (text, html) = reaction_notice_parts(&site.author, items, more_waiting);
    let subject = match items {
        [one] => format!("Nieuwe reactie van {} op „{}”", one.reaction.name, one.post_title),
        many => format!("{} op je blog", count(many.len() as u64, "nieuwe reactie", "nieuwe reacties")),
    };
    let stamp = jiff::Timestamp::try_from(date).map_or(0, |t| t.as_second());
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .to(to_box)
        .subject(subject)
        .date(date)
        .message_id(Some(format!("<reactions-{stamp}@{}>", from.email.domain())));
    if let [one] = items
        && let Ok(reader) = one.reaction.email.as_str().parse::<lettre::Address>()
    {
        builder = builder.reply_to(lettre::message::Mailbox::new(None, reader));
    }
    builder.multipart(MultiPart::alternative_plain_html(text, html)).map(|m| m.formatted()).map_err(mime_error)
}

/// The text and HTML parts of [`reaction_notice`].
pub fn reaction_notice_parts(author: &str, items: &[NoticeItem<'_>], more_waiting: bool) -> (String, String) {
    use std::fmt::Write;
    let first_name = author.split_whitespace().next().unwrap_or(author);
    let intro = match items {
        [one] => format!("{} reageerde op „{}”.", one.reaction.name, one.post_title),
        many => format!("Er zijn {} op je blog.", count(many.len() as u64, "nieuwe reactie", "nieuwe reacties")),
    };
    let mut text = format!("Hallo {first_name},\n\n{intro}\n");
    for item in items {
        let r = item.reaction;
        let _ = write!(
            text,
            "\n----------------------------------------\n{} op {}, onder „{}”:\n\n{}\n\nE-mailadres (niet \
             gecontroleerd: iedereen kan elk adres invullen): {}\n\nPlaatsen onder het artikel:\n{}\n\nVerwijderen:\n{}\n\n\
             Of met de opdracht: postbode reactions approve {} (of delete)\n",
            r.name,
            dutch_moment(r.created_at),
            item.post_title,
            r.text.lines().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n"),
            r.email,
            item.approve_url,
            item.delete_url,
            r.id.short(),
        );
    }
    let reply = if items.len() == 1 {
        "Beantwoord je deze e-mail, dan gaat je antwoord naar het opgegeven adres."
    } else {
        "Antwoorden doe je per reactie, naar het adres dat erbij staat."
    };
    let more = if more_waiting { " Er wachten er nog meer: postbode reactions list --waiting." } else { "" };
    let _ = write!(
        text,
        "\n----------------------------------------\n{reply} Beide knoppen openen eerst een pagina met een \
         knop; ze werken 30 dagen. Niets staat online voordat jij het plaatst.{more}\n"
    );
    let button = |href: &str, label: &str, colour: &str| {
        maud::html! {
            a href=(href) style={ "display:inline-block;padding:10px 18px;margin:0 8px 8px 0;border-radius:6px;color:#ffffff;text-decoration:none;font-weight:bold;background:" (colour) } { (label) }
        }
    };
    let html = maud::html! {
        (maud::DOCTYPE)
        html lang="nl" {
            head { meta charset="utf-8"; title { (intro) } }
            body style="font-family:Georgia,serif;font-size:16px;line-height:1.5;color:#1a1a1a;max-width:600px;margin:0 auto;padding:16px" {
                p { "Hallo " (first_name) "," }
                p { (intro) }
                @for item in items {
                    hr;
                    p { strong { (item.reaction.name) } " op " (dutch_moment(item.reaction.created_at)) ", onder „" (item.post_title) "”:" }
                    blockquote style="margin:0 0 12px 0;padding-left:12px;border-left:3px solid #0b6e69" {
                        @for paragraph in item.reaction.paragraphs() {
                            p { @for (i, line) in paragraph.iter().enumerate() { @if i > 0 { br; } (line) } }
                        }
                    }
                    p { "E-mailadres (niet gecontroleerd: iedereen kan elk adres invullen): " (item.reaction.email) }
                    p {
                        (button(&item.approve_url, "Plaatsen", "#0b6e69"))
                        (button(&item.delete_url, "Verwijderen", "#8a1c1c"))
                    }
                }
                hr;
                p { (reply) " Beide knoppen openen eerst een pagina met een knop; ze werken 30 dagen. Niets staat online voordat jij het plaatst." (more) }
            }
        }
    };
    (text, html.into_string())
}
