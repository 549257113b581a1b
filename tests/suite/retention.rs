//! Retention, as the privacy statement promises: `retention_months` after someone
//! unsubscribes, bounces or complains, the sender erases their record, consent proof (with IP
//! and user agent) and send history, keeping only the salted hash on the suppression list.
//! Scheduled through the sparse due index: no scan. On SQLite and on DynamoDB Local.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use postbode::app::operator::is_suppressed;
use postbode::app::sender::{Report, Run, SenderConfig};
use postbode::app::ses_events::{Breaker, SnsEvent, handle};
use postbode::mail::outbox::OutboxMailer;
use postbode::store::sqlite::SqliteStore;
use postbode::subscribers::{Status, Subscriber, SubscriberEmail};

use crate::helpers::{repo_path, seed_catalogue, settings};
use crate::test_app::TestApp;

async fn stored(app: &TestApp, email: &str) -> Option<Subscriber> {
    app.store.subscriber_by_email(&SubscriberEmail::parse(email).unwrap()).await.unwrap()
}

async fn sender_run(app: &TestApp, now: Timestamp) -> Report {
    let outbox = tempfile::tempdir().unwrap();
    let sender = postbode::app::Parts {
        store: app.store.clone(),
        mailer: Arc::new(OutboxMailer::new(outbox.path()).unwrap()),
        catalogue: std::sync::Arc::new(Clone::clone(&seed_catalogue())),
        email: Clone::clone(&settings()),
        tokens: app.tokens.clone(),
    }
    .sender(SenderConfig::default())
    .unwrap();
    sender.run(Run { now, scheduled_at: None, deadline: None }).await.unwrap()
}

/// `at` plus whole UTC calendar months.
fn months_after(at: Timestamp, months: i64) -> Timestamp {
    at.to_zoned(jiff::tz::TimeZone::UTC).checked_add(jiff::Span::new().months(months)).unwrap().timestamp()
}

async fn confirmed(app: &TestApp, email: &str) {
    app.subscribe(email).await;
    let confirm = app.emails().into_iter().rfind(|e| e.to == email).unwrap().path("/confirm/");
    app.post_form(&confirm, "").await;
    assert_eq!(stored(app, email).await.unwrap().status, Status::Confirmed);
}

fn bounce(email: &str) -> SnsEvent {
    let json = std::fs::read_to_string(repo_path("tests/fixtures/ses/bounce-permanent.json")).unwrap();
    serde_json::from_str(&json.replace("{{email}}", email)).unwrap()
}

async fn retention_flow(app: TestApp) {
    let months = seed_catalogue().site.retention_months;
    assert_eq!(months, 12, "content/site.toml's setting, stated in content/privacy.md");
    confirmed(&app, "anna@example.nl").await;
    confirmed(&app, "bob@example.nl").await;
    confirmed(&app, "blijft@example.nl").await;
    let left = app.now();

    // Anna unsubscribes with one click; Bob's address bounces.
    let unsubscribe = app.emails_tagged("welcome")[0].path("/unsubscribe/");
    assert_eq!(app.post_form(&unsubscribe, "List-Unsubscribe=One-Click").await.status.as_u16(), 200);
    handle(app.store.as_ref(), &bounce("bob@example.nl"), &Breaker::default(), left).await.unwrap();
    for email in ["anna@example.nl", "bob@example.nl"] {
        let s = stored(&app, email).await.unwrap();
        assert_eq!(s.left_at, Some(left), "{email}");
        assert!(s.consent.iter().any(|c| c.ip.is_some() && c.user_agent.is_some()), "{email}: proof kept for now");
    }

    // The next run books the erase for the end of the period; nothing is erased yet.
    let report = sender_run(&app, left.checked_add(SignedDuration::from_hours(1)).unwrap()).await;
    assert_eq!(report.erased, 0);
    let erase_at = months_after(left, i64::from(months));
    for email in ["anna@example.nl", "bob@example.nl"] {
        assert_eq!(stored(&app, email).await.unwrap().next_due_at, Some(erase_at), "{email}");
    }

    // A day before the end: still kept (and not even looked at).
    let report = sender_run(&app, erase_at.checked_sub(SignedDuration::from_hours(24)).unwrap()).await;
    assert_eq!(report.erased, 0);
    assert!(stored(&app, "anna@example.nl").await.is_some());

    // At the end: record, consent proof and send history are gone; the address stays
    // suppressed (hashed); the confirmed reader is untouched. Also while sending is paused:
    // a pause stops mail, never the privacy statement's retention.
    let pause = postbode::store::Pause { since: left, reason: "test".into() };
    let paused = postbode::store::SendingState { paused: Some(pause), ..Default::default() };
    app.store.set_sending_state(&paused).await.unwrap();
    let report = sender_run(&app, erase_at.checked_add(SignedDuration::from_mins(1)).unwrap()).await;
    assert!(report.paused.is_some());
    assert_eq!((report.erased, report.sent), (2, 0), "{report:?}");
    for email in ["anna@example.nl", "bob@example.nl"] {
        assert!(stored(&app, email).await.is_none(), "{email} erased");
        let address = SubscriberEmail::parse(email).unwrap();
        assert!(is_suppressed(app.store.as_ref(), &app.tokens, &address).await.unwrap(), "{email} suppressed");
    }
    assert_eq!(stored(&app, "blijft@example.nl").await.unwrap().status, Status::Confirmed);
}

#[tokio::test]
async fn records_of_people_who_left_are_erased_after_the_retention_period() {
    retention_flow(TestApp::with_store(Arc::new(SqliteStore::in_memory().unwrap()))).await;
}

#[tokio::test]
async fn records_of_people_who_left_are_erased_after_the_retention_period_on_dynamodb() {
    let (store, _, _) = crate::aws::dynamo_store().await;
    retention_flow(TestApp::with_store(Arc::new(store))).await;
}

#[tokio::test]
async fn coming_back_cancels_the_erase() {
    let app = TestApp::spawn().await;
    confirmed(&app, "anna@example.nl").await;
    let unsubscribe = app.emails_tagged("welcome")[0].path("/unsubscribe/");
    app.post_form(&unsubscribe, "List-Unsubscribe=One-Click").await;
    let left = stored(&app, "anna@example.nl").await.unwrap();
    app.advance(SignedDuration::from_hours(2));
    // A request from the form (anyone's) cancels nothing: the erase stays scheduled.
    app.subscribe("anna@example.nl").await;
    let s = stored(&app, "anna@example.nl").await.unwrap();
    assert_eq!((s.status, s.left_at, s.next_due_at), (Status::Unsubscribed, left.left_at, left.next_due_at));
    // The owner's confirm of that request does.
    let confirm = app.emails_tagged("confirm").last().unwrap().path("/confirm/");
    app.post_form(&confirm, "").await;
    let s = stored(&app, "anna@example.nl").await.unwrap();
    assert_eq!((s.status, s.left_at), (Status::Confirmed, None));
}
