//! Every key of the one table, in one place (the table of item types is in the module's docs).
//! No other file spells a `pk` or `sk` value.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::mail::Ledger;
use crate::reactions::ReactionId;
use crate::subscribers::{SubscribeIntent, SubscriberEmail, SubscriberId};

/// An item, or a key, as the SDK takes it.
pub(super) type Item = HashMap<String, AttributeValue>;

/// Name of the sparse index the sender reads.
pub const DUE_INDEX: &str = "due";
/// Constant partition of the due index (one list, well under DynamoDB's per-partition limits).
pub(super) const DUE_PARTITION: &str = "DUE";
/// The partition of recorded subscribe intents (the stream filter of the confirmations
/// function matches it).
pub const INTENT_PARTITION: &str = "INTENT";
/// The partition of the day counters.
pub(super) const STATS_PARTITION: &str = "STATS";

const SUBSCRIBER_PREFIX: &str = "SUB#";

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

pub(super) fn subscriber_key(id: &SubscriberId) -> Item {
    key(subscriber_pk(id), "SUB")
}

/// The partition of a subscriber: their record and their sends.
pub(super) fn subscriber_pk(id: &SubscriberId) -> String {
    format!("{SUBSCRIBER_PREFIX}{id}")
}

/// The subscriber id of an item of a subscriber's partition, if it is one.
pub(super) fn subscriber_of(item: &Item) -> Option<SubscriberId> {
    item.get("pk")?.as_s().ok()?.strip_prefix(SUBSCRIBER_PREFIX)?.parse().ok()
}

pub(super) fn email_key(email: &SubscriberEmail) -> Item {
    key(format!("EMAIL#{email}"), "EMAIL")
}

pub(super) fn send_key(subscriber: &SubscriberId, slug: &str) -> Item {
    key(subscriber_pk(subscriber), send_sk(slug))
}

/// The sort key of a send; `send_sk("")` is the prefix of them all.
pub(super) fn send_sk(slug: &str) -> String {
    format!("SEND#{slug}")
}

pub(super) fn sending_key() -> Item {
    key("SENDING", "STATE")
}

/// The sort key of a ledger's counters of `day`.
pub(super) fn stats_sk(ledger: Ledger, day: jiff::civil::Date) -> String {
    format!("DAY#{}", crate::store::day_key(ledger, day))
}

pub(super) fn stats_key(ledger: Ledger, day: jiff::civil::Date) -> Item {
    key(STATS_PARTITION, stats_sk(ledger, day))
}

/// The sort key of the page views of `day`: one item a day, one attribute per post.
pub(super) fn views_sk(day: jiff::civil::Date) -> String {
    format!("VIEWS#{day}")
}

pub(super) fn views_key(day: jiff::civil::Date) -> Item {
    key(STATS_PARTITION, views_sk(day))
}

/// The attribute of a post in a day's page views (a prefix keeps it apart from `pk`/`sk`).
pub(super) const VIEWS_ATTRIBUTE_PREFIX: &str = "post:";

/// The partition of the sparse index `due` that holds the waiting reactions (the sender's
/// subscribers are under [`DUE_PARTITION`]; neither query sees the other's).
pub(super) const WAITING_REACTIONS_PARTITION: &str = "REACTIONS-WAITING";

pub(super) const REACTION_PREFIX: &str = "REACTION#";
pub(super) const POST_PREFIX: &str = "POST#";

/// A reaction, under its post's key: one query reads a post's reactions.
pub(super) fn reaction_key(slug: &str, id: &ReactionId) -> Item {
    key(format!("{POST_PREFIX}{slug}"), format!("{REACTION_PREFIX}{id}"))
}

/// The post partition of `slug`, and the sort-key prefix of its reactions.
pub(super) fn post_reactions(slug: &str) -> (String, &'static str) {
    (format!("{POST_PREFIX}{slug}"), REACTION_PREFIX)
}

/// A reaction of an address, under the address's key (beside its subscriber lookup): a
/// person's reactions are found with one query for their export and erase.
pub(super) fn address_reaction_key(email: &SubscriberEmail, id: &ReactionId) -> Item {
    key(format!("EMAIL#{email}"), format!("{REACTION_PREFIX}{id}"))
}

/// The address partition of `email` (and the sort-key prefix of its reactions).
pub(super) fn address_reactions(email: &SubscriberEmail) -> (String, &'static str) {
    (format!("EMAIL#{email}"), REACTION_PREFIX)
}

/// Where a reaction's post is found from its id alone (links and the CLI carry only the id).
pub(super) fn reaction_lookup_key(id: &ReactionId) -> Item {
    key(format!("{REACTION_PREFIX}{id}"), "REACTION")
}

pub(super) fn budget_key(budget: &str) -> Item {
    key(format!("BUDGET#{budget}"), "BUDGET")
}

pub(super) fn suppression_key(hash: &str) -> Item {
    key(format!("SUPPRESS#{hash}"), "SUPPRESS")
}

pub(super) fn intent_key(intent: &SubscribeIntent) -> Item {
    key(INTENT_PARTITION, intent_sort_key(intent))
}

/// Sorts intents by time: milliseconds, zero-padded, then the id.
fn intent_sort_key(intent: &SubscribeIntent) -> String {
    format!("{:016}#{}", intent.at.as_millisecond().max(0), intent.id)
}
