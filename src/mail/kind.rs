//! What kind of mail a message is, and the two things that follow from it: the SES message
//! tags it carries, and the ledger its bounces and complaints are booked on.
//!
//! The ledger decides whether the newsletter can pause (see `app::ses_events`): only mail to
//! established readers may. So the rule lives here once, as a match on [`MailKind`], every
//! mail carries its ledger as a tag ([`LEDGER_TAG`]), and the SES event handler reads it back
//! with [`Ledger::of_tags`]; no other module spells a tag.

use std::borrow::Cow;

use serde::Serialize;

/// The SES message tag every mail carries: its kind ([`MailKind::tag`]).
pub const MAIL_TAG: &str = "postbode-mail";
/// The SES message tags of a post to a subscriber: who and which post, so SES's `Send` event
/// settles that claim.
pub const SUBSCRIBER_TAG: &str = "postbode-subscriber";
pub const POST_TAG: &str = "postbode-post";
/// The SES message tag naming the ledger a mail's events are booked on ([`Ledger::tag`]).
pub const LEDGER_TAG: &str = "postbode-ledger";

const CONFIRMATION: &str = "confirm";
const ADDRESS: &str = "address";
const ALREADY_SUBSCRIBED: &str = "already";
const WELCOME: &str = "welcome";
const SUMMARY: &str = "summary";
const REACTIONS: &str = "reactions";

/// Every mail postbode sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind<'a> {
    /// "Bevestig je aanmelding": caused by whoever typed the address.
    Confirmation,
    /// "Je bent al aangemeld": also caused by whoever typed the address.
    AlreadySubscribed,
    /// "Bevestig je nieuwe e-mailadres": to an address a reader typed on their page.
    AddressConfirmation,
    /// The welcome mail with the whitepaper, after the owner confirmed.
    Welcome,
    /// A post of the series or a broadcast, to a subscriber (id as in links and tags);
    /// `new_reader` when they confirmed less than 30 days ago (see
    /// `subscribers::Subscriber::is_new_reader`).
    Post { slug: &'a str, subscriber: &'a str, new_reader: bool },
    /// `postbode send-test SLUG`: a post as readers get it, to the operator's address.
    TestPost { slug: &'a str },
    /// `postbode send-test --letter NAME`.
    TestLetter { name: &'a str },
    /// The weekly summary to the author.
    Summary,
    /// A mail to the author that sending stopped (`render::letters::alert`), by its name.
    Alert { name: &'a str },
    /// New reactions, to the author (`render::letters::reaction_notice`): caused by readers,
    /// so never on the list's ledger.
    ReactionNotice,
}

/// Which counters a mail and its events are booked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ledger {
    /// Mail to established readers (confirmed 30 days ago or more), and the operator's own
    /// test sends and summaries: the only ledger the list's circuit breaker pauses on.
    List,
    /// The welcome mail and mail to readers confirmed less than 30 days ago. Someone with a
    /// domain of their own can confirm addresses there and bounce what follows, so these
    /// count apart: they throttle confirmation mail (new sign-ups) when they go bad, and
    /// never pause the list.
    NewReaders,
    /// Mail a stranger can cause by typing an address into the form: counted apart and bounded
    /// by the caps on confirmation mail, never able to pause the newsletter.
    Confirmation,
    /// Confirm pages shown (`sent` counts them): the denominator of the confirmation rate in
    /// `postbode stats`. Not mail; never part of the breaker.
    ConfirmPage,
    /// Mail to the author that strangers can cause (reaction notices): counted apart, part of
    /// no breaker, so a flood of reactions can neither dilute nor move the list's rates.
    Author,
}

impl<'a> MailKind<'a> {
    /// The value of the [`MAIL_TAG`] tag (and of the outbox file name's last part).
    pub fn tag(&self) -> Cow<'a, str> {
        match *self {
            MailKind::Confirmation => CONFIRMATION.into(),
            MailKind::AlreadySubscribed => ALREADY_SUBSCRIBED.into(),
            MailKind::AddressConfirmation => ADDRESS.into(),
            MailKind::Welcome => WELCOME.into(),
            MailKind::Post { slug, .. } | MailKind::TestPost { slug } => slug.into(),
            MailKind::TestLetter { name } => format!("test-{name}").into(),
            MailKind::Summary => SUMMARY.into(),
            MailKind::Alert { name } => format!("alert-{name}").into(),
            MailKind::ReactionNotice => REACTIONS.into(),
        }
    }

    /// The ledger this mail's sending and its events count on.
    pub fn ledger(&self) -> Ledger {
        match self {
            MailKind::Confirmation | MailKind::AlreadySubscribed | MailKind::AddressConfirmation => {
                Ledger::Confirmation
            }
            MailKind::Welcome | MailKind::Post { new_reader: true, .. } => Ledger::NewReaders,
            MailKind::ReactionNotice => Ledger::Author,
            MailKind::Post { new_reader: false, .. }
            | MailKind::TestPost { .. }
            | MailKind::TestLetter { .. }
            | MailKind::Summary
            | MailKind::Alert { .. } => Ledger::List,
        }
    }

    /// For a post to a subscriber: (subscriber, slug), the tags that settle its claim.
    pub fn post_of_subscriber(&self) -> Option<(&'a str, &'a str)> {
        match *self {
            MailKind::Post { slug, subscriber, .. } => Some((subscriber, slug)),
            _ => None,
        }
    }
}

impl Ledger {
    /// The value of the [`LEDGER_TAG`] tag.
    pub fn tag(self) -> &'static str {
        match self {
            Ledger::List => "list",
            Ledger::NewReaders => "new-readers",
            Ledger::Confirmation => "confirmation",
            Ledger::ConfirmPage => "confirm-page",
            Ledger::Author => "author",
        }
    }

    /// The ledger of a mail, read back from its tags in an SES event: [`LEDGER_TAG`], or for
    /// a mail of an earlier build only [`MAIL_TAG`]. `None` for mail that is not postbode's
    /// (other mail of the same domain): its events never count and change nothing.
    pub fn of_tags(mail: Option<&str>, ledger: Option<&str>) -> Option<Ledger> {
        if let Some(ledger) = ledger {
            return [Ledger::List, Ledger::NewReaders, Ledger::Confirmation, Ledger::Author]
                .into_iter()
                .find(|l| l.tag() == ledger);
        }
        match mail? {
            CONFIRMATION | ALREADY_SUBSCRIBED | ADDRESS => Some(Ledger::Confirmation),
            WELCOME => Some(Ledger::NewReaders),
            REACTIONS => Some(Ledger::Author),
            _ => Some(Ledger::List),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [MailKind<'static>; 11] = [
        MailKind::Confirmation,
        MailKind::AlreadySubscribed,
        MailKind::AddressConfirmation,
        MailKind::Welcome,
        MailKind::Post { slug: "leiderschap-en-vertrouwen", subscriber: "00ff", new_reader: false },
        MailKind::Post { slug: "leiderschap-en-vertrouwen", subscriber: "00ff", new_reader: true },
        MailKind::TestPost { slug: "leiderschap-en-vertrouwen" },
        MailKind::TestLetter { name: "confirmation" },
        MailKind::Summary,
        MailKind::Alert { name: "paused" },
        MailKind::ReactionNotice,
    ];

    #[test]
    fn an_event_lands_on_the_ledger_its_mail_was_counted_on() {
        for kind in ALL {
            assert_eq!(Ledger::of_tags(Some(&kind.tag()), Some(kind.ledger().tag())), Some(kind.ledger()), "{kind:?}");
        }
        assert_eq!(Ledger::of_tags(None, None), None, "not postbode's mail");
        assert_eq!(Ledger::of_tags(None, Some("something-else")), None);
        // Mail of a build before the ledger tag: by its kind.
        assert_eq!(Ledger::of_tags(Some("welcome"), None), Some(Ledger::NewReaders));
        assert_eq!(Ledger::of_tags(Some("confirm"), None), Some(Ledger::Confirmation));
        assert_eq!(Ledger::of_tags(Some("leiderschap-en-vertrouwen"), None), Some(Ledger::List));
    }

    #[test]
    fn only_mail_to_established_readers_is_on_the_list_ledger() {
        let apart: Vec<_> = ALL.iter().filter(|k| k.ledger() != Ledger::List).map(|k| k.tag()).collect();
        assert_eq!(apart, ["confirm", "already", "address", "welcome", "leiderschap-en-vertrouwen", "reactions"]);
        assert_eq!(ALL[5].ledger(), Ledger::NewReaders, "a post to a reader of less than 30 days");
    }

    #[test]
    fn tags_are_what_earlier_mails_carry() {
        // Events of mails sent by an earlier build keep landing where they did.
        let tags: Vec<_> = ALL.iter().map(|k| k.tag().into_owned()).collect();
        assert_eq!(
            tags,
            [
                "confirm",
                "already",
                "address",
                "welcome",
                "leiderschap-en-vertrouwen",
                "leiderschap-en-vertrouwen",
                "leiderschap-en-vertrouwen",
                "test-confirmation",
                "summary",
                "alert-paused",
                "reactions"
            ]
        );
    }
}
