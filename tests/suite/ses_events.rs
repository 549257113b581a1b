//! SES bounce and complaint notifications (real SNS and SES JSON shapes as fixtures): the
//! subscriber is marked and leaves the queue; the circuit breaker pauses sending.

use std::sync::Arc;

use jiff::Timestamp;
use postbode::app::ses_events::{Breaker, SnsEvent, handle};
use postbode::store::sqlite::SqliteStore;
use postbode::store::{Counters, DayStats, Ledger, Store};
use postbode::subscribers::{Status, SubscriberEmail};

use crate::helpers::repo_path;
use crate::store_contract::subscriber;

/// A fixture event for `email`, with a feedback id of its own (SES gives each bounce and
/// complaint one; a repeat of one event is [`repeated`]).
fn event(name: &str, email: &str) -> SnsEvent {
    let json = std::fs::read_to_string(repo_path(&format!("tests/fixtures/ses/{name}"))).unwrap();
    let unique = format!("0102019a-{}-", uuid::Uuid::new_v4().simple());
    serde_json::from_str(&json.replace("{{email}}", email).replace("0102019a-", &unique)).unwrap()
}

/// The same event as SES or SNS may deliver it again.
fn repeated(name: &str, email: &str) -> SnsEvent {
    let json = std::fs::read_to_string(repo_path(&format!("tests/fixtures/ses/{name}"))).unwrap();
    serde_json::from_str(&json.replace("{{email}}", email)).unwrap()
}

/// A fixture event about a confirmation mail (tagged as SES publishes the mail's tags).
fn about_confirmation_mail(name: &str, email: &str) -> SnsEvent {
    about(name, email, "confirm", "confirmation")
}

/// A fixture event about a mail of another kind and ledger than the fixture's (a post to an
/// established reader): `mail` and `ledger` are the values of its postbode tags.
pub fn about(name: &str, email: &str, mail: &str, ledger: &str) -> SnsEvent {
    let json = std::fs::read_to_string(repo_path(&format!("tests/fixtures/ses/{name}"))).unwrap();
    let unique = format!("0102019a-{}-", uuid::Uuid::new_v4().simple());
    let fixture_tags = r#"[\"leiderschap-en-vertrouwen\"], \"postbode-ledger\": [\"list\"]"#;
    assert!(json.contains(fixture_tags), "the fixture has postbode's tags");
    let tagged = json
        .replace("{{email}}", email)
        .replace("0102019a-", &unique)
        .replace(fixture_tags, &format!(r#"[\"{mail}\"], \"postbode-ledger\": [\"{ledger}\"]"#));
    serde_json::from_str(&tagged).unwrap()
}

fn now() -> Timestamp {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

async fn confirmed(store: &dyn Store, email: &str) {
    let mut s = subscriber(email);
    s.status = Status::Confirmed;
    s.next_due_at = Some(now());
    store.insert_subscriber(&s, s.created_at).await.unwrap();
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
    store.add_stats(Ledger::List, today, DayStats { sent: 10_000, ..DayStats::default() }).await.unwrap();

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
    let stats = store.stats(Ledger::List, today, today).await.unwrap();
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
    breaker_pauses_until_resumed(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn the_circuit_breaker_pauses_sending_until_resumed_on_dynamodb() {
    breaker_pauses_until_resumed(Arc::new(crate::aws::dynamo_store().await.0)).await;
}

async fn breaker_pauses_until_resumed(store: Arc<dyn Store>) {
    let breaker = Breaker::default();
    let yesterday = "2026-11-30".parse().unwrap();
    store.add_stats(Ledger::List, yesterday, DayStats { sent: 200, bounced: 8, complained: 0 }).await.unwrap();
    // 9 of 200 is 4.5 %, but 9 bounces are too few to pause on (at least 10).
    confirmed(store.as_ref(), "a@example.nl").await;
    let r = handle(store.as_ref(), &event("bounce-permanent.json", "a@example.nl"), &breaker, now()).await.unwrap();
    assert!(r.paused.is_none());
    // 10 of 200: paused, with the reason.
    confirmed(store.as_ref(), "b@example.nl").await;
    let r = handle(store.as_ref(), &event("bounce-permanent.json", "b@example.nl"), &breaker, now()).await.unwrap();
    assert!(r.paused.as_deref().unwrap().starts_with("bounce rate 5.00%"), "{r:?}");
    let pause = store.sending_state().await.unwrap().paused.unwrap();
    assert_eq!(pause.since, now());

    // The sender reports the pause and sends nothing.
    let outbox = tempfile::tempdir().unwrap();
    confirmed(store.as_ref(), "c@example.nl").await;
    let mut catalogue = crate::helpers::seed_catalogue();
    catalogue.site.summary = Some(postbode::content::Summary {
        to: "rene@voorbeeld.nl".into(),
        at: postbode::content::SendWindow::parse("sunday 23:00").unwrap(),
    });
    let sender = postbode::app::Parts {
        store: store.clone(),
        mailer: Arc::new(postbode::mail::outbox::OutboxMailer::new(outbox.path()).unwrap()),
        catalogue: std::sync::Arc::new(catalogue),
        email: Clone::clone(&crate::helpers::settings()),
        tokens: postbode::tokens::TokenKey::new(vec![1; 32]).unwrap(),
    }
    .sender(Default::default())
    .unwrap();
    let run = postbode::app::sender::Run { now: now(), scheduled_at: None, deadline: None };
    let report = sender.run(run).await.unwrap();
    assert!(report.paused.as_deref().unwrap().contains("bounce rate"), "{report:?}");
    assert_eq!(report.sent, 0);
    assert!(report.metrics().contains(&("SendingPaused", 1.0)), "the alarm's metric: {:?}", report.metrics());
    // The author is told once: the next run, still paused, mails nothing more.
    let again = sender.run(run).await.unwrap();
    assert!(again.paused.is_some());
    let alerts: Vec<String> = std::fs::read_dir(outbox.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with("-alert-paused.eml"))
        .collect();
    assert_eq!(alerts.len(), 1, "exactly one alert mail across two runs: {alerts:?}");
    assert_eq!((report.alerted.len(), again.alerted.len()), (1, 0));

    // The operator lifts it; the next run sends.
    assert!(postbode::app::ses_events::resume(store.as_ref(), now()).await.unwrap().is_some());
    let report = sender.run(run).await.unwrap();
    assert!(report.paused.is_none());
    assert_eq!(report.sent, 1, "{report:?}");
    assert!(report.metrics().contains(&("SendingPaused", 0.0)), "the alarm sees the resume too");

    // A fresh window: the next bounce does not pause again on the old numbers.
    confirmed(store.as_ref(), "d@example.nl").await;
    let r = handle(store.as_ref(), &event("bounce-permanent.json", "d@example.nl"), &breaker, now()).await.unwrap();
    assert!(r.paused.is_none(), "{r:?}");
    assert!(store.sending_state().await.unwrap().paused.is_none());
}

/// Enough volume to mean something: five complaints (or ten bounces) at the least, over at
/// least 100 mails; then the rate decides.
#[tokio::test]
async fn the_breaker_needs_enough_events_and_mails_to_pause() {
    let breaker = Breaker::default();
    assert!(breaker.verdict(DayStats { sent: 1000, bounced: 0, complained: 0 }).is_none());
    // One complaint in a thousand is over the rate, but one person decides nothing.
    assert!(breaker.verdict(DayStats { sent: 1000, bounced: 0, complained: 1 }).is_none());
    assert!(breaker.verdict(DayStats { sent: 1000, bounced: 0, complained: 4 }).is_none());
    assert!(
        breaker
            .verdict(DayStats { sent: 1000, bounced: 0, complained: 5 })
            .unwrap()
            .starts_with("complaint rate 0.500%")
    );
    assert!(breaker.verdict(DayStats { sent: 10_000, bounced: 0, complained: 5 }).is_none(), "0.05 %");
    assert!(breaker.verdict(DayStats { sent: 150, bounced: 9, complained: 0 }).is_none(), "9 bounces");
    assert!(breaker.verdict(DayStats { sent: 150, bounced: 10, complained: 0 }).is_some());
    // Too few sends to judge.
    assert!(breaker.verdict(DayStats { sent: 20, bounced: 15, complained: 5 }).is_none());
}

/// SES and SNS may deliver an event twice: the repeat changes nothing.
#[tokio::test]
async fn a_repeated_event_changes_nothing_on_sqlite_and_dynamodb() {
    for store in [
        Arc::new(SqliteStore::in_memory().unwrap()) as Arc<dyn Store>,
        Arc::new(crate::aws::dynamo_store().await.0) as Arc<dyn Store>,
    ] {
        let breaker = Breaker::default();
        confirmed(store.as_ref(), "soft@example.nl").await;
        let soft = repeated("bounce-transient.json", "soft@example.nl");
        assert_eq!(handle(store.as_ref(), &soft, &breaker, now()).await.unwrap().transient_bounces, 1);
        let twice = handle(store.as_ref(), &soft, &breaker, now()).await.unwrap();
        assert_eq!((twice.repeated, twice.transient_bounces), (1, 0));
        assert_eq!(status(store.as_ref(), "soft@example.nl").await.2, 1, "counted once");
        confirmed(store.as_ref(), "hard@example.nl").await;
        for _ in 0..3 {
            handle(store.as_ref(), &repeated("bounce-permanent.json", "hard@example.nl"), &breaker, now())
                .await
                .unwrap();
        }
        let today = now().to_zoned(jiff::tz::TimeZone::UTC).date();
        assert_eq!(store.stats(Ledger::List, today, today).await.unwrap().bounced, 1);
    }
}

/// Outsiders can only cause confirmation mails: their bounces and complaints are booked on
/// the confirmation ledger and never pause the list, however many there are.
#[tokio::test]
async fn bounces_of_confirmation_mails_never_pause_the_list() {
    confirmation_bounces_never_pause(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn bounces_of_confirmation_mails_never_pause_the_list_on_dynamodb() {
    confirmation_bounces_never_pause(Arc::new(crate::aws::dynamo_store().await.0)).await;
}

async fn confirmation_bounces_never_pause(store: Arc<dyn Store>) {
    let breaker = Breaker::default();
    let today = now().to_zoned(jiff::tz::TimeZone::UTC).date();
    // A list of 500 had its weekly mail; an attacker signs up 60 addresses that bounce.
    store.add_stats(Ledger::List, today, DayStats { sent: 500, ..DayStats::default() }).await.unwrap();
    store.add_stats(Ledger::Confirmation, today, DayStats { sent: 60, ..DayStats::default() }).await.unwrap();
    for i in 0..60 {
        let email = format!("nep{i}@example.nl");
        let event = about_confirmation_mail("bounce-permanent.json", &email);
        let r = handle(store.as_ref(), &event, &breaker, now()).await.unwrap();
        assert_eq!(r.of_confirmation_mails, 1);
        assert!(r.paused.is_none());
    }
    for i in 0..10 {
        let email = format!("klager{i}@example.nl");
        handle(store.as_ref(), &about_confirmation_mail("complaint.json", &email), &breaker, now()).await.unwrap();
    }
    assert!(store.sending_state().await.unwrap().paused.is_none());
    assert_eq!(store.stats(Ledger::List, today, today).await.unwrap(), DayStats { sent: 500, ..DayStats::default() });
    let apart = store.stats(Ledger::Confirmation, today, today).await.unwrap();
    assert_eq!(apart, DayStats { sent: 60, bounced: 60, complained: 10 });
}

#[tokio::test]
async fn the_operator_sees_and_lifts_the_pause_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    {
        let store = SqliteStore::open(&data.path().join("postbode.sqlite")).unwrap();
        let pause = postbode::store::Pause { since: now(), reason: "bounce rate 6.00% over the last 7 days".into() };
        let state = postbode::store::SendingState { paused: Some(pause), ..Default::default() };
        store.set_sending_state(&state).await.unwrap();
    }
    let out = crate::helpers::postbode(&["sending", "status", "--local", dir]);
    assert!(out.status.success());
    assert!(crate::helpers::stdout(&out).contains("paused since 2026-12-01T09:00:00Z: bounce rate 6.00%"));
    let out = crate::helpers::postbode(&["sending", "resume", "--local", dir]);
    assert!(crate::helpers::stdout(&out).starts_with("resumed"), "{}", crate::helpers::stderr(&out));
    let out = crate::helpers::postbode(&["sending", "status", "--local", dir]);
    assert_eq!(crate::helpers::stdout(&out).trim(), "sending is on");
}

/// SES's mailbox simulator works in the local mode: a sign-up of `bounce@` bounces its
/// confirmation mail (booked on the confirmation ledger, the record marked bounced); a
/// reader at `complaint+label@` who gets a post complains (on the list's ledger, the reader
/// marked complained); `success@` changes nothing. Through `postbode dev`'s router and worker
/// and `postbode send`'s sender, the same `ses-events` code as in AWS.
#[tokio::test]
async fn the_mailbox_simulator_works_in_the_local_mode() {
    let data = tempfile::tempdir().unwrap();
    let base = "http://127.0.0.1:3000";
    let app = Arc::new(postbode::startup::local_app(data.path(), crate::helpers::seed_catalogue(), base).unwrap());
    let router = postbode::local::local_router(app.clone(), data.path().join("outbox"), true);
    for email in ["bounce@simulator.amazonses.com", "success@simulator.amazonses.com"] {
        let body = format!("email={}", email.replace('@', "%40"));
        let answer = crate::helpers::form_request(router.clone(), "POST", "/subscribe", body, [127, 0, 0, 1]).await;
        assert_eq!(answer.status(), axum::http::StatusCode::OK);
    }
    assert_eq!(postbode::app::confirmations::drain(&app, 10).await.unwrap(), 2);
    assert_eq!(status(app.store.as_ref(), "bounce@simulator.amazonses.com").await.0, Status::Bounced);
    assert_eq!(status(app.store.as_ref(), "success@simulator.amazonses.com").await.0, Status::Pending);
    let today = app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let confirmation = app.store.stats(Ledger::Confirmation, today, today).await.unwrap();
    assert_eq!((confirmation.sent, confirmation.bounced), (2, 1));

    // An established reader at complaint+… gets post 1 from `postbode send`, and complains.
    let mut reader = subscriber("complaint+lezer@simulator.amazonses.com");
    reader.status = Status::Confirmed;
    reader.confirmed_at = Some(app.now().checked_sub(jiff::SignedDuration::from_hours(24 * 60)).unwrap());
    let window = postbode::schedule::first_visit(app.schedule.as_ref().unwrap(), app.now());
    reader.next_due_at = Some(window);
    app.store.insert_subscriber(&reader, app.now()).await.unwrap();
    let report = postbode::local::send_once(data.path(), crate::helpers::seed_catalogue(), base, window).await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(status(app.store.as_ref(), "complaint+lezer@simulator.amazonses.com").await.0, Status::Complained);
    assert_eq!(app.store.stats(Ledger::List, today, today).await.unwrap().complained, 1);
}

/// Only postbode's mail counts: an event of a mail without postbode's tags (the author's own
/// mail from the same domain, another tool's) changes no record and counts on no ledger.
/// Events without a feedback id are still applied once (by message id and recipients). A
/// complaint about a mail a stranger caused ("already subscribed") does not make a confirmed
/// reader leave; the owner of a pending address who complains gets no form mail again.
async fn strangers_and_foreign_mail_move_nothing(store: Arc<dyn Store>) {
    let breaker = Breaker::default();
    let today = now().to_zoned(jiff::tz::TimeZone::UTC).date();
    confirmed(store.as_ref(), "lezer@example.nl").await;
    let json = std::fs::read_to_string(repo_path("tests/fixtures/ses/complaint.json")).unwrap();
    let tags = r#"\"postbode-mail\": [\"leiderschap-en-vertrouwen\"], \"postbode-ledger\": [\"list\"], "#;
    assert!(json.contains(tags));
    let untagged: SnsEvent =
        serde_json::from_str(&json.replace("{{email}}", "lezer@example.nl").replace(tags, "")).unwrap();
    let r = handle(store.as_ref(), &untagged, &breaker, now()).await.unwrap();
    assert_eq!((r.not_ours, r.complained), (1, 0), "{r:?}");
    assert_eq!(status(store.as_ref(), "lezer@example.nl").await.0, Status::Confirmed);
    assert_eq!(store.stats(Ledger::List, today, today).await.unwrap(), DayStats::default());

    // A complaint about the "already subscribed" mail a stranger caused.
    let r = handle(
        store.as_ref(),
        &about("complaint.json", "lezer@example.nl", "already", "confirmation"),
        &breaker,
        now(),
    )
    .await
    .unwrap();
    assert_eq!(r.of_confirmation_mails, 1);
    assert_eq!(status(store.as_ref(), "lezer@example.nl").await.0, Status::Confirmed, "the reader stays");
    let pending = subscriber("nooit-gevraagd@example.nl");
    store.insert_subscriber(&pending, pending.created_at).await.unwrap();
    handle(
        store.as_ref(),
        &about("complaint.json", "nooit-gevraagd@example.nl", "confirm", "confirmation"),
        &breaker,
        now(),
    )
    .await
    .unwrap();
    assert_eq!(status(store.as_ref(), "nooit-gevraagd@example.nl").await.0, Status::Complained);

    // No feedback id: deduplicated by message id and recipients.
    confirmed(store.as_ref(), "zonder-id@example.nl").await;
    let bounce = std::fs::read_to_string(repo_path("tests/fixtures/ses/bounce-transient.json")).unwrap();
    let event: SnsEvent =
        serde_json::from_str(&without_feedback_id(&bounce.replace("{{email}}", "zonder-id@example.nl"))).unwrap();
    assert_eq!(handle(store.as_ref(), &event, &breaker, now()).await.unwrap().transient_bounces, 1);
    assert_eq!(handle(store.as_ref(), &event, &breaker, now()).await.unwrap().repeated, 1);
    assert_eq!(status(store.as_ref(), "zonder-id@example.nl").await.2, 1, "counted once");
}

/// The fixture without its `feedbackId` field.
fn without_feedback_id(json: &str) -> String {
    let start = json.find(r#"\"feedbackId\": \""#).expect("the fixture has a feedback id");
    let end = json[start..].find(r#"\", "#).unwrap() + start + 4;
    format!("{}{}", &json[..start], &json[end..])
}

#[tokio::test]
async fn strangers_and_foreign_mail_move_nothing_on_sqlite() {
    strangers_and_foreign_mail_move_nothing(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn strangers_and_foreign_mail_move_nothing_on_dynamodb() {
    strangers_and_foreign_mail_move_nothing(Arc::new(crate::aws::dynamo_store().await.0)).await;
}
