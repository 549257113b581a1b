//! What the sender benchmarks share: a list of confirmed subscribers due now, the site's
//! catalogue and mail settings.

use std::sync::Arc;

use jiff::Timestamp;
use postbode::content::Catalogue;
use postbode::render::{BaseUrl, EmailSettings};
use postbode::store::Store;
use postbode::subscribers::{Status, Subscriber, SubscriberEmail, SubscriberId, Welcome};

/// Tuesday 1 December 2026, 08:05 in Amsterdam: inside the series' window.
pub fn window_now() -> Timestamp {
    "2026-12-01T07:05:00Z".parse().unwrap()
}

/// Adds `n` subscribers, confirmed before `now` and due at `now`.
pub async fn add_due_subscribers(store: &Arc<dyn Store>, n: usize, now: Timestamp) {
    for i in 0..n {
        let s = Subscriber {
            id: SubscriberId::random(),
            email: SubscriberEmail::parse(&format!("lezer{i}@example.nl")).unwrap(),
            first_name: Some("Lezer".into()),
            status: Status::Confirmed,
            created_at: now,
            updated_at: now,
            token_version: 1,
            consent: Vec::new(),
            consent_dropped: 0,
            confirmation_sent_at: None,
            confirmed_at: Some("2026-11-20T10:00:00Z".parse().unwrap()),
            welcome: Welcome::NotSent,
            drip: Default::default(),
            preferences: Default::default(),
            address_change: None,
            next_due_at: Some(now),
            left_at: None,
            transient_bounces: 0,
            requests: Vec::new(),
            version: 0,
        };
        store.insert_subscriber(&s, s.created_at).await.unwrap();
    }
}

/// The repository's content (the seed post is the one that goes).
pub fn catalogue() -> Catalogue {
    postbode::content_io::load_catalogue(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content")).unwrap()
}

pub fn settings() -> EmailSettings {
    EmailSettings {
        base_url: BaseUrl::parse("https://postbode.example").unwrap(),
        from: "René Rensen <nieuwsbrief@postbode.example>".parse().unwrap(),
        reply_to: None,
    }
}

pub fn tokens() -> postbode::tokens::TokenKey {
    postbode::tokens::TokenKey::new(vec![7; 32]).unwrap()
}
