//! No oracle: `POST /subscribe` answers the same for new, pending, confirmed, unsubscribed,
//! bounced and erased addresses; the confirmation mail goes out after the answer, from the
//! worker (the `confirmations` Lambda, woken by the table's stream; tested here with the
//! stream event's real shape). The timing is measured by `benches/subscribe_timing.rs`, in
//! a process of its own.

use std::sync::Arc;

use axum::http::StatusCode;
use postbode::app::confirmations::{StreamEvent, handle_stream};
use postbode::store::Store;
use postbode::store::sqlite::SqliteStore;
use postbode::subscribers::caps::Caps;
use postbode::subscribers::{Status, SubscriberEmail};

use crate::helpers::repo_path;
use crate::test_app::TestApp;

const OPEN: Caps = Caps::all(10_000);

pub(crate) async fn set_status(app: &TestApp, email: &str, status: Status) {
    let mut s = app.stored(email).await.unwrap();
    s.status = status;
    app.store.update_subscriber(&s).await.unwrap();
}

/// An app with one address in every state.
async fn app_with_every_state(store: Arc<dyn Store>) -> TestApp {
    let app = TestApp::with_caps(store, OPEN);
    for email in
        ["pending@example.nl", "confirmed@example.nl", "left@example.nl", "bounced@example.nl", "erased@example.nl"]
    {
        app.subscribe(email).await;
    }
    for confirm in app.emails_tagged("confirm").iter().filter(|e| e.to != "pending@example.nl") {
        app.post_form(&confirm.path("/confirm/"), "").await;
    }
    set_status(&app, "left@example.nl", Status::Unsubscribed).await;
    set_status(&app, "bounced@example.nl", Status::Bounced).await;
    let erased = SubscriberEmail::parse("erased@example.nl").unwrap();
    postbode::app::operator::erase(app.store.as_ref(), app.app.mailer.as_ref(), &app.tokens, &erased, app.now())
        .await
        .unwrap();
    app
}

#[tokio::test]
async fn the_answer_is_the_same_for_every_state() {
    let mut app = app_with_every_state(Arc::new(SqliteStore::in_memory().unwrap())).await;
    app.drain = false;
    // Past the cooldowns of their set-up (an hour; 30 days for the "already subscribed" mail).
    app.advance(jiff::SignedDuration::from_hours(24 * 31));
    let states = [
        "new@example.nl",
        "pending@example.nl",
        "confirmed@example.nl",
        "left@example.nl",
        "bounced@example.nl",
        "erased@example.nl",
    ];
    let mut answers = Vec::new();
    for email in states {
        let form = app.subscribe(email).await;
        let json = app.post_json("/subscribe", &format!(r#"{{"email":"{email}"}}"#)).await;
        answers.push((form.status, form.body, json.status, json.body));
    }
    for (state, answer) in states.iter().zip(&answers) {
        assert_eq!(answer, &answers[0], "{state}");
    }
    assert_eq!(answers[0].0, StatusCode::OK);
    // No mail yet: the request only recorded intents.
    let mails = app.emails().len();
    assert_eq!(app.store.pending_intents(100).await.unwrap().len(), 12);
    // The worker: a confirmation mail each for the new, pending, unsubscribed and erased
    // address; the confirmed one gets the short "already subscribed" mail; the bounced none.
    app.work_off_intents().await;
    let new_mails: Vec<String> = app.emails()[mails..].iter().map(|e| e.to.clone()).collect();
    let mut sorted = new_mails.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["confirmed@example.nl", "erased@example.nl", "left@example.nl", "new@example.nl", "pending@example.nl"],
        "{new_mails:?}"
    );
    assert!(app.store.pending_intents(100).await.unwrap().is_empty());
}

/// The `confirmations` Lambda's path: a stream event with the intent as DynamoDB Local stored
/// it sends one confirmation mail; the same event again (Lambda retries) sends nothing more.
#[tokio::test]
async fn a_stream_event_sends_the_confirmation_once_on_dynamodb() {
    let mut app = TestApp::with_caps(Arc::new(crate::aws::dynamo_store().await.0), OPEN);
    app.drain = false;
    assert_eq!(app.subscribe("stroom@example.nl").await.status, StatusCode::OK);
    assert!(app.emails().is_empty());
    let intents = app.store.pending_intents(10).await.unwrap();
    assert_eq!(intents.len(), 1);
    let stored = serde_json::to_string(&intents[0]).unwrap();
    let fixture = std::fs::read_to_string(repo_path("tests/fixtures/dynamodb/intent-insert.json")).unwrap();
    let event = fixture
        .replace("{{intent}}", &stored.replace('\\', "\\\\").replace('"', "\\\""))
        .replace("{{sort_key}}", &intents[0].id);
    let event: StreamEvent = serde_json::from_str(&event).unwrap();
    let report = handle_stream(&app.app, &event).await.unwrap();
    assert_eq!((report.sent, report.skipped), (1, 0));
    assert_eq!(app.emails_tagged("confirm").len(), 1);
    assert!(app.store.pending_intents(10).await.unwrap().is_empty(), "forgotten once handled");
    let again = handle_stream(&app.app, &event).await.unwrap();
    assert_eq!((again.sent, again.nothing_to_send), (0, 1));
    assert_eq!(app.emails_tagged("confirm").len(), 1);
}
