//! What kind of mail a message is, and the two things that follow from it: the SES message
//! tags it carries, and the ledger its bounces and complaints are booked on.
//!
//! The ledger decides whether the newsletter can pause (see `app::ses_events`): only the
//! list's own mail may. So the rule lives here once, as a match on [`MailKind`], and the SES
//! event handler reads it back from the tag with [`Ledger::of_tag`]; no other module spells
//! a tag.

use std::borrow::Cow;

use serde::Serialize;

/// The SES message tag every mail carries: its kind ([`MailKind::tag`]).
pub const MAIL_TAG: &str = "postbode-mail";
/// The SES message tags of a post to a subscriber: who and which post, so SES's `Send` event
/// settles that claim.
pub const SUBSCRIBER_TAG: &str = "postbode-subscriber";
pub const POST_TAG: &str = "postbode-post";

const CONFIRMATION: &str = "confirm";
const ALREADY_SUBSCRIBED: &str = "already";
const WELCOME: &str = "welcome";
const SUMMARY: &str = "summary";

/// Every mail postbode sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind<'a> {
    /// "Bevestig je aanmelding": caused by whoever typed the address.
    Confirmation,
    /// "Je bent al aangemeld": also caused by whoever typed the address.
    AlreadySubscribed,
    /// The welcome mail with the whitepaper, after the owner confirmed.
    Welcome,
    /// A post of the series or a broadcast, to a subscriber (id as in links and tags).
    Post { slug: &'a str, subscriber: &'a str },
    /// `postbode send-test SLUG`: a post as readers get it, to the operator's address.
    TestPost { slug: &'a str },
    /// `postbode send-test --letter NAME`.
    TestLetter { name: &'a str },
    /// The weekly summary to the author.
    Summary,
}

/// Which counters a mail and its events are booked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ledger {
    /// The list's own mail: the only ledger the circuit breaker pauses on.
    List,
    /// Mail a stranger can cause by typing an address into the form: counted apart and bounded
    /// by the caps on confirmation mail, never able to pause the newsletter.
    Confirmation,
    /// Confirm pages shown (`sent` counts them): the denominator of the confirmation rate in
    /// `postbode stats`. Not mail; never part of the breaker.
    ConfirmPage,
}

impl<'a> MailKind<'a> {
    /// The value of the [`MAIL_TAG`] tag (and of the outbox file name's last part).
    pub fn tag(&self) -> Cow<'a, str> {
        match *self {
            MailKind::Confirmation => CONFIRMATION.into(),
            MailKind::AlreadySubscribed => ALREADY_SUBSCRIBED.into(),
            MailKind::Welcome => WELCOME.into(),
            MailKind::Post { slug, .. } | MailKind::TestPost { slug } => slug.into(),
            MailKind::TestLetter { name } => format!("test-{name}").into(),
            MailKind::Summary => SUMMARY.into(),
        }
    }

    /// The ledger this mail's sending and its events count on.
    pub fn ledger(&self) -> Ledger {
        match self {
            MailKind::Confirmation | MailKind::AlreadySubscribed => Ledger::Confirmation,
            MailKind::Welcome
            | MailKind::Post { .. }
            | MailKind::TestPost { .. }
            | MailKind::TestLetter { .. }
            | MailKind::Summary => Ledger::List,
        }
    }

    /// For a post to a subscriber: (subscriber, slug), the tags that settle its claim.
    pub fn post_of_subscriber(&self) -> Option<(&'a str, &'a str)> {
        match *self {
            MailKind::Post { slug, subscriber } => Some((subscriber, slug)),
            _ => None,
        }
    }
}

impl Ledger {
    /// The ledger of a mail, read back from its [`MAIL_TAG`] tag in an SES event: the inverse
    /// of [`MailKind::tag`] as far as the ledger goes. A mail without the tag is the list's.
    pub fn of_tag(tag: Option<&str>) -> Ledger {
        match tag {
            Some(CONFIRMATION | ALREADY_SUBSCRIBED) => Ledger::Confirmation,
            _ => Ledger::List,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [MailKind<'static>; 7] = [
        MailKind::Confirmation,
        MailKind::AlreadySubscribed,
        MailKind::Welcome,
        MailKind::Post { slug: "leiderschap-en-vertrouwen", subscriber: "00ff" },
        MailKind::TestPost { slug: "leiderschap-en-vertrouwen" },
        MailKind::TestLetter { name: "confirmation" },
        MailKind::Summary,
    ];

    #[test]
    fn an_event_lands_on_the_ledger_its_mail_was_counted_on() {
        for kind in ALL {
            assert_eq!(Ledger::of_tag(Some(&kind.tag())), kind.ledger(), "{kind:?}");
        }
        assert_eq!(Ledger::of_tag(None), Ledger::List);
    }

    #[test]
    fn only_mail_a_stranger_can_cause_is_kept_off_the_list_ledger() {
        let apart: Vec<_> = ALL.iter().filter(|k| k.ledger() == Ledger::Confirmation).collect();
        assert_eq!(apart, [&MailKind::Confirmation, &MailKind::AlreadySubscribed]);
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
                "welcome",
                "leiderschap-en-vertrouwen",
                "leiderschap-en-vertrouwen",
                "test-confirmation",
                "summary"
            ]
        );
    }
}
