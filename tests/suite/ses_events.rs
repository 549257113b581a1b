//! SES bounce and complaint notifications (real SNS and SES JSON shapes as fixtures): the
//! subscriber is marked and leaves the queue; the circuit breaker pauses sending.

use std::sync::Arc;

use jiff::Timestamp;
use postbode::jobs::ses_events::{Breaker, SnsEvent, handle};
use postbode::store::sqlite::SqliteStore;
use postbode::store::{DayStats, Store};
use postbode::subscribers::{Status, SubscriberEmail};

use crate::helpers::repo_path;
use crate::store_contract::subscriber;

fn event(name: &str, email: &str) -> SnsEvent {
    let json = std::fs::read_to_string(repo_path(&format!("tests/fixtures/ses/{name}"))).unwrap();
    serde_json::from_str(&json.replace("{{email}}", email)).unwrap()
}

fn now() -> Timestamp {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

async fn confirmed(store: &dyn Store, email: &str) {
    let mut s = subscriber(email);
    s.status = Status::Confirmed;
    s.next_due_at = Some(now());
    store.insert_subscriber(&s).await.unwrap();
}

async fn status(store: &dyn Store, email: &str) -> (Status, bool, u32) {
    let s = store.subscriber_by_email(&SubscriberEmail::parse(email).unwrap()).await.unwrap().unwrap();
    (s.status, s.next_due_at.is_some(), s.transient_bounces)
}

async fn events_on(store: Arc<dyn Store>) {
    let breaker = Breaker::default();
    for email in ["hard@example.nl", "soft@example.nl", "spam@example.nl", "fine@example.nl"] {
        confirmed(store.as_ref(), email).await;
    }
    // Plenty sent today: the rates stay low.
    let today = now().to_zoned(jiff::tz::TimeZone::UTC).date();
    store.add_stats(today, DayStats { sent: 10_000, ..DayStats::default() }).await.unwrap();

    let r = handle(store.as_ref(), &event("bounce-permanent.json", "Hard@Example.nl"), &breaker, now()).await.unwrap();
    assert_eq!((r.bounced, r.unknown, r.paused.as_deref()), (1, 0, None));
    // Still queued: the sender books the erase at the end of the retention period.
    assert_eq!(status(store.as_ref(), "hard@example.nl").await, (Status::Bounced, true, 0));

    let r = handle(store.as_ref(), &event("bounce-transient.json", "soft@example.nl"), &breaker, now()).await.unwrap();
    assert_eq!(r.transient_bounces, 1);
    assert_eq!(status(store.as_ref(), "soft@example.nl").await, (Status::Confirmed, true, 1));

    let r = handle(store.as_ref(), &event("complaint.json", "spam@example.nl"), &breaker, now()).await.unwrap();
    assert_eq!(r.complained, 1);
    assert_eq!(status(store.as_ref(), "spam@example.nl").await, (Status::Complained, true, 0));

    let r = handle(store.as_ref(), &event("delivery.json", "fine@example.nl"), &breaker, now()).await.unwrap();
    assert_eq!(r.ignored, 1);
    assert_eq!(status(store.as_ref(), "fine@example.nl").await, (Status::Confirmed, true, 0));

    let r =
        handle(store.as_ref(), &event("bounce-permanent.json", "nobody@example.nl"), &breaker, now()).await.unwrap();
    assert_eq!(r.unknown, 1);
    assert!(store.sending_state().await.unwrap().paused.is_none());
    let stats = store.stats(today, today).await.unwrap();
    assert_eq!(stats, DayStats { sent: 10_000, bounced: 2, complained: 1 });
}

#[tokio::test]
async fn bounces_and_complaints_suppress_the_subscriber() {
    events_on(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn bounces_and_complaints_suppress_the_subscriber_on_dynamodb() {
    events_on(Arc::new(crate::aws::dynamo_store().await.0)).await;
}

#[tokio::test]
async fn the_circuit_breaker_pauses_sending_until_resumed() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    let breaker = Breaker::default();
    let yesterday = "2026-11-30".parse().unwrap();
    store.add_stats(yesterday, DayStats { sent: 200, bounced: 7, complained: 0 }).await.unwrap();
    // 8 of 200 is 4 %: not past the limit yet.
    confirmed(store.as_ref(), "a@example.nl").await;
    let r = handle(store.as_ref(), &event("bounce-permanent.json", "a@example.nl"), &breaker, now()).await.unwrap();
    assert!(r.paused.is_none());
    // 9 of 200: paused, with the reason.
    confirmed(store.as_ref(), "b@example.nl").await;
    let r = handle(store.as_ref(), &event("bounce-permanent.json", "b@example.nl"), &breaker, now()).await.unwrap();
    assert!(r.paused.as_deref().unwrap().starts_with("bounce rate 4.50%"), "{r:?}");
    let pause = store.sending_state().await.unwrap().paused.unwrap();
    assert_eq!(pause.since, now());

    // The sender reports the pause and sends nothing.
    let outbox = tempfile::tempdir().unwrap();
    confirmed(store.as_ref(), "c@example.nl").await;
    let sender = postbode::jobs::sender::Sender::new(
        store.clone(),
        Arc::new(postbode::mail::outbox::OutboxMailer::new(outbox.path()).unwrap()),
        &crate::helpers::seed_catalogue(),
        &crate::helpers::settings(),
        postbode::tokens::TokenKey::new(vec![1; 32]).unwrap(),
        postbode::schedule::DEFAULT_WINDOW_LENGTH,
        Default::default(),
    )
    .unwrap();
    let run = postbode::jobs::sender::Run { now: now(), scheduled_at: None, deadline: None };
    let report = sender.run(run).await.unwrap();
    assert!(report.paused.as_deref().unwrap().contains("bounce rate"), "{report:?}");
    assert_eq!(report.sent, 0);

    // The operator lifts it; the next run sends.
    assert!(postbode::jobs::ses_events::resume(store.as_ref()).await.unwrap().is_some());
    let report = sender.run(run).await.unwrap();
    assert!(report.paused.is_none());
    assert_eq!(report.sent, 1, "{report:?}");
}

#[tokio::test]
async fn one_complaint_in_a_thousand_trips_the_complaint_limit() {
    let breaker = Breaker::default();
    assert!(breaker.verdict(DayStats { sent: 1000, bounced: 0, complained: 0 }).is_none());
    assert!(breaker.verdict(DayStats { sent: 2000, bounced: 0, complained: 1 }).is_none());
    assert!(
        breaker
            .verdict(DayStats { sent: 1000, bounced: 0, complained: 1 })
            .unwrap()
            .starts_with("complaint rate 0.100%")
    );
    // Too few sends to judge.
    assert!(breaker.verdict(DayStats { sent: 20, bounced: 5, complained: 1 }).is_none());
}

#[tokio::test]
async fn the_operator_sees_and_lifts_the_pause_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    {
        let store = SqliteStore::open(&data.path().join("postbode.sqlite")).unwrap();
        let pause = postbode::store::Pause { since: now(), reason: "bounce rate 6.00% over the last 7 days".into() };
        store.set_sending_state(&postbode::store::SendingState { paused: Some(pause) }).await.unwrap();
    }
    let out = crate::helpers::postbode(&["sending", "status", "--local", dir]);
    assert!(out.status.success());
    assert!(crate::helpers::stdout(&out).contains("paused since 2026-12-01T09:00:00Z: bounce rate 6.00%"));
    let out = crate::helpers::postbode(&["sending", "resume", "--local", dir]);
    assert!(crate::helpers::stdout(&out).starts_with("resumed"), "{}", crate::helpers::stderr(&out));
    let out = crate::helpers::postbode(&["sending", "status", "--local", dir]);
    assert_eq!(crate::helpers::stdout(&out).trim(), "sending is on");
}
