//! The sender over simulated weeks and under faults: every subscriber gets every post exactly
//! once, in order, inside the window, across a daylight-saving change; 0 duplicates and
//! 0 skipped for throttling, 5xx, a crash between claim and send, a deadline mid-run, two
//! runs at once and a replayed late schedule.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use mail_parser::MessageParser;
use postbode::app::sender::{Report, Run, Sender, SenderConfig};
use postbode::content::Catalogue;
use postbode::content_io::load_catalogue;
use postbode::mail::outbox::OutboxMailer;
use postbode::mail::{MailError, Mailer, Outgoing};
use postbode::schedule::{DEFAULT_WINDOW_LENGTH, first_visit, site_schedule};
use postbode::store::Store;
use postbode::store::sqlite::SqliteStore;
use postbode::subscribers::{Status, SubscriberEmail};
use postbode::tokens::TokenKey;

use crate::helpers::{repo_path, settings};
use crate::store_contract::subscriber;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn catalogue() -> Catalogue {
    load_catalogue(&repo_path("tests/fixtures/sender")).unwrap()
}

fn tokens() -> TokenKey {
    TokenKey::new(vec![42; 32]).unwrap()
}

fn sender(store: Arc<dyn Store>, mailer: Arc<dyn Mailer>, config: SenderConfig) -> Sender {
    postbode::app::Parts {
        store,
        mailer,
        catalogue: std::sync::Arc::new(Clone::clone(&catalogue())),
        email: Clone::clone(&settings()),
        tokens: tokens(),
    }
    .sender(config)
    .unwrap()
}

/// Adds `n` confirmed subscribers, confirmed at `at`, booked as confirming would book them.
async fn add_confirmed(store: &dyn Store, n: usize, at: Timestamp) -> Vec<String> {
    let schedule = site_schedule(&catalogue(), DEFAULT_WINDOW_LENGTH).unwrap();
    let mut emails = Vec::new();
    // Addresses of this call's own: the SES API server keeps the mail of earlier runs.
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    for i in 0..n {
        let email = format!("lezer{i}-{run}@example.nl");
        let mut s = subscriber(&email);
        s.status = Status::Confirmed;
        s.confirmed_at = Some(at);
        s.next_due_at = Some(first_visit(&schedule, at));
        store.insert_subscriber(&s, s.created_at).await.unwrap();
        emails.push(email);
    }
    emails
}

fn run_at(now: Timestamp) -> Run {
    Run { now, scheduled_at: Some(now), deadline: None }
}

/// (recipient, subject, date) of every raw message.
fn parse_sent(raw: &[Vec<u8>]) -> Vec<(String, String, Timestamp)> {
    raw.iter()
        .map(|bytes| {
            let m = MessageParser::default().parse(bytes).unwrap();
            let to = m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap().to_owned();
            let date = Timestamp::from_second(m.date().unwrap().to_timestamp()).unwrap();
            (to, m.subject().unwrap().to_owned(), date)
        })
        .collect()
}

fn outbox_raw(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().filter(|p| p.extension().is_some_and(|e| e == "eml")).map(|p| std::fs::read(p).unwrap()).collect()
}

/// Asserts each address got exactly `subjects`, once each, in that order.
fn assert_exactly_once(sent: &[(String, String, Timestamp)], emails: &[String], subjects: &[&str]) {
    let mut by_address: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (to, subject, _) in sent {
        by_address.entry(to).or_default().push(subject);
    }
    assert_eq!(by_address.len(), emails.len(), "every subscriber got mail");
    for email in emails {
        assert_eq!(by_address.get(email.as_str()).map(Vec::as_slice), Some(subjects), "{email}");
    }
}

/// Runs the sender every 15 minutes from `from` to `to`, as EventBridge Scheduler would.
async fn every_quarter_hour(sender: &Sender, from: Timestamp, to: Timestamp) -> Vec<Report> {
    let mut reports = Vec::new();
    let mut now = from;
    while now <= to {
        let report = sender.run(run_at(now)).await.unwrap();
        if report.visited > 0 {
            reports.push(report);
        }
        now = now.checked_add(SignedDuration::from_mins(15)).unwrap();
    }
    reports
}

const WALK_FROM: &str = "2026-03-12T15:00:00Z";
const WALK_TO: &str = "2026-04-08T12:00:00Z";

/// Confirmed on Thursday 12 March; windows on Tuesdays 08:00 Amsterdam: 17 and 24 March in
/// winter time (07:00 UTC), 31 March and 7 April in summer time (06:00 UTC). The broadcast of
/// Thursday 26 March goes in the window of 31 March; at most one mail a day, so Deel 3 waits
/// for the window of 7 April.
fn check_walk(sent: &[(String, String, Timestamp)], emails: &[String]) {
    assert_exactly_once(sent, emails, &["Deel 1", "Deel 2", "Nieuws", "Deel 3"]);
    for (_, subject, date) in sent {
        let (earliest, latest) = match subject.as_str() {
            "Deel 1" => ("2026-03-17T07:00:00Z", "2026-03-17T13:00:00Z"),
            "Deel 2" => ("2026-03-24T07:00:00Z", "2026-03-24T13:00:00Z"),
            "Nieuws" => ("2026-03-31T06:00:00Z", "2026-03-31T12:00:00Z"),
            _ => ("2026-04-07T06:00:00Z", "2026-04-07T12:00:00Z"),
        };
        assert!(*date >= ts(earliest) && *date < ts(latest), "{subject} at {date}, window {earliest}..{latest}");
    }
}

#[tokio::test]
async fn a_list_walks_the_series_over_weeks_across_the_march_change_locally() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    let outbox = tempfile::tempdir().unwrap();
    let emails = add_confirmed(store.as_ref(), 25, ts(WALK_FROM)).await;
    let sender = sender(store, Arc::new(OutboxMailer::new(outbox.path()).unwrap()), SenderConfig::default());
    let reports = every_quarter_hour(&sender, ts(WALK_FROM), ts(WALK_TO)).await;
    check_walk(&parse_sent(&outbox_raw(outbox.path())), &emails);
    assert!(reports.iter().all(|r| r.failed.is_empty() && r.remaining == 0));
}

#[tokio::test]
async fn a_list_walks_the_series_on_dynamodb_and_ses() {
    let (store, ..) = crate::aws::dynamo_store().await;
    let store: Arc<dyn Store> = Arc::new(store);
    let ses = crate::aws::verified_sesv2().await;
    // Addresses unique to this test, as moto keeps the mail of every test.
    let emails: Vec<String> = add_confirmed(store.as_ref(), 10, ts(WALK_FROM)).await;
    let sender =
        sender(store.clone(), Arc::new(postbode::mail::ses::SesMailer::new(ses, None)), SenderConfig::default());
    every_quarter_hour(&sender, ts(WALK_FROM), ts(WALK_TO)).await;
    // Only mail sent to this test's subscribers: their addresses are in this store.
    let mut raw = Vec::new();
    for message in crate::aws::ses_raw_messages().await {
        let bytes = message.into_bytes();
        let parsed = parse_sent(std::slice::from_ref(&bytes));
        let to = SubscriberEmail::parse(&parsed[0].0).unwrap();
        if let Some(s) = store.subscriber_by_email(&to).await.unwrap()
            && parsed[0].2 >= ts(WALK_FROM)
            && s.confirmed_at == Some(ts(WALK_FROM))
        {
            raw.push(bytes);
        }
    }
    check_walk(&parse_sent(&raw), &emails);
}

// ---- faults ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Fault {
    Throttle,
    ServerError,
    /// The process dies after the claim, before the message leaves.
    Crash,
    /// SES accepts the message, and its answer is lost on the way back.
    Lost,
    Pass,
}

/// The real outbox, with faults injected in front of it: what no stand-in can produce on cue.
struct FaultyMailer {
    inner: OutboxMailer,
    faults: Mutex<VecDeque<Fault>>,
    rate: Option<f64>,
}

#[async_trait]
impl Mailer for FaultyMailer {
    async fn send(&self, message: Outgoing<'_>) -> Result<String, MailError> {
        let fault = self.faults.lock().unwrap().pop_front().unwrap_or(Fault::Pass);
        match fault {
            Fault::Throttle => Err(MailError::Throttled("Maximum sending rate exceeded".into())),
            Fault::ServerError => Err(MailError::Transient("503 Service Unavailable".into())),
            Fault::Crash => panic!("the sender process dies between claim and send"),
            Fault::Lost => {
                self.inner.send(message).await?;
                Err(MailError::Unknown("connection reset before SES answered".into()))
            }
            Fault::Pass if message.to.starts_with("bestaat-niet") => {
                Err(MailError::Permanent("address rejected".into()))
            }
            Fault::Pass => self.inner.send(message).await,
        }
    }

    async fn max_send_rate(&self) -> Result<Option<f64>, MailError> {
        Ok(self.rate)
    }
}

struct Harness {
    store: Arc<dyn Store>,
    outbox: tempfile::TempDir,
    emails: Vec<String>,
}

/// 30 subscribers due in the window of Tuesday 17 March 2026.
async fn harness(store: Arc<dyn Store>) -> Harness {
    let outbox = tempfile::tempdir().unwrap();
    let emails = add_confirmed(store.as_ref(), 30, ts(WALK_FROM)).await;
    Harness { store, outbox, emails }
}

const WINDOW: &str = "2026-03-17T07:00:00Z";

impl Harness {
    fn mailer(&self, faults: Vec<Fault>, rate: Option<f64>) -> Arc<FaultyMailer> {
        Arc::new(FaultyMailer {
            inner: OutboxMailer::new(self.outbox.path()).unwrap(),
            faults: Mutex::new(faults.into()),
            rate,
        })
    }

    fn fast() -> SenderConfig {
        SenderConfig { backoff: Duration::from_millis(1), ..SenderConfig::default() }
    }

    fn sent(&self) -> Vec<(String, String, Timestamp)> {
        parse_sent(&outbox_raw(self.outbox.path()))
    }

    fn assert_everyone_once(&self) {
        assert_exactly_once(&self.sent(), &self.emails, &["Deel 1"]);
    }
}

fn minutes(m: i64) -> Timestamp {
    ts(WINDOW).checked_add(SignedDuration::from_mins(m)).unwrap()
}

#[tokio::test]
async fn throttling_means_wait_and_retry() {
    let h = harness(Arc::new(SqliteStore::in_memory().unwrap())).await;
    let mailer = h.mailer(vec![Fault::Throttle, Fault::Throttle, Fault::Throttle, Fault::Pass, Fault::Throttle], None);
    let report = sender(h.store.clone(), mailer, Harness::fast()).run(run_at(minutes(0))).await.unwrap();
    assert_eq!((report.sent, report.throttled_retries, report.remaining), (30, 4, 0));
    h.assert_everyone_once();
}

#[tokio::test]
async fn server_errors_are_retried_and_what_is_left_goes_next_run() {
    let h = harness(Arc::new(SqliteStore::in_memory().unwrap())).await;
    // One subscriber meets five 5xx in a row (one visit at a time, so the five are theirs):
    // given up for this run, not lost.
    let mailer = h.mailer(vec![Fault::ServerError; 5], None);
    let one_at_a_time = SenderConfig { concurrency: 1, ..Harness::fast() };
    let report = sender(h.store.clone(), mailer, one_at_a_time).run(run_at(minutes(0))).await.unwrap();
    assert_eq!((report.sent, report.remaining, report.throttled_retries), (29, 1, 5));
    // SES refused it each time, so nothing went: the claim was given back and the next run
    // sends at once.
    let next = sender(h.store.clone(), h.mailer(vec![], None), Harness::fast());
    assert_eq!(next.run(run_at(minutes(5))).await.unwrap().sent, 1);
    h.assert_everyone_once();
}

#[tokio::test]
async fn a_crash_between_claim_and_send_loses_nobody_and_sends_nothing_twice() {
    let h = harness(Arc::new(SqliteStore::in_memory().unwrap())).await;
    // The first run dies right after its first claim.
    let doomed = Arc::new(sender(h.store.clone(), h.mailer(vec![Fault::Crash], None), Harness::fast()));
    let crashed = tokio::spawn(async move { doomed.run(run_at(minutes(0))).await }).await;
    assert!(crashed.is_err(), "the run died");
    let sender = sender(h.store.clone(), h.mailer(vec![], None), Harness::fast());
    let first = sender.run(run_at(minutes(1))).await.unwrap();
    // The subscribers whose claims the dead run held (one per visit it had begun: up to
    // `concurrency`) wait for the hold; everyone else gets the post now.
    assert!(first.remaining >= 1 && first.sent + first.remaining == 30, "{first:?}");
    // No result and no SES event: within the hold nobody sends (it may be on its way); after
    // it, the mail goes.
    assert_eq!(sender.run(run_at(minutes(15))).await.unwrap().sent, 0);
    assert_eq!(sender.run(run_at(minutes(31))).await.unwrap().sent, first.remaining);
    h.assert_everyone_once();
}

#[tokio::test]
async fn a_deadline_mid_run_stops_taking_work_and_the_next_run_continues() {
    let h = harness(Arc::new(SqliteStore::in_memory().unwrap())).await;
    // Paced at 100 mails/s, with 150 ms before the deadline margin: about 15 mails fit.
    let config = SenderConfig { deadline_margin: Duration::from_millis(50), ..Harness::fast() };
    let first = sender(h.store.clone(), h.mailer(vec![], Some(100.0)), config.clone())
        .run(Run {
            now: minutes(0),
            scheduled_at: Some(minutes(0)),
            deadline: Some(Instant::now() + Duration::from_millis(200)),
        })
        .await
        .unwrap();
    assert!(first.stopped_at_deadline, "{first:?}");
    assert!(first.sent > 0 && first.sent < 30, "{first:?}");
    assert_eq!(first.sent + first.remaining, 30);
    let second = sender(h.store.clone(), h.mailer(vec![], None), config).run(run_at(minutes(15))).await.unwrap();
    assert_eq!(second.sent, first.remaining);
    h.assert_everyone_once();
}

#[tokio::test]
async fn two_runs_at_once_send_everything_once_on_sqlite_and_dynamodb() {
    for store in [
        Arc::new(SqliteStore::in_memory().unwrap()) as Arc<dyn Store>,
        Arc::new(crate::aws::dynamo_store().await.0) as Arc<dyn Store>,
    ] {
        let h = harness(store).await;
        let a = sender(h.store.clone(), h.mailer(vec![], None), Harness::fast());
        let b = sender(h.store.clone(), h.mailer(vec![], None), Harness::fast());
        let (ra, rb) = tokio::join!(a.run(run_at(minutes(0))), b.run(run_at(minutes(0))));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        // Whatever one run held when the other came by goes at the next run.
        let rest = a.run(run_at(minutes(15))).await.unwrap();
        assert_eq!(ra.sent + rb.sent + rest.sent, 30, "{ra:?} {rb:?} {rest:?}");
        h.assert_everyone_once();
    }
}

#[tokio::test]
async fn a_replayed_late_schedule_sends_nothing_and_says_so() {
    let h = harness(Arc::new(SqliteStore::in_memory().unwrap())).await;
    let sender = sender(h.store.clone(), h.mailer(vec![], None), Harness::fast());
    // The run meant for Tuesday 10 March, replayed a week later.
    let late = sender
        .run(Run { now: minutes(0), scheduled_at: Some(ts("2026-03-10T07:00:00Z")), deadline: None })
        .await
        .unwrap();
    assert_eq!(late.sent, 0);
    assert!(late.late.as_deref().unwrap().contains("nothing sent"), "{late:?}");
    assert!(h.sent().is_empty());
    assert_eq!(sender.run(run_at(minutes(15))).await.unwrap().sent, 30);
    h.assert_everyone_once();
}

#[tokio::test]
async fn a_rejected_address_is_recorded_and_the_rest_goes_on() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    let h = harness(store.clone()).await;
    let mut s = subscriber("bestaat-niet@example.nl");
    s.status = Status::Confirmed;
    s.confirmed_at = Some(ts(WALK_FROM));
    s.next_due_at = Some(ts(WINDOW));
    store.insert_subscriber(&s, s.created_at).await.unwrap();
    let report = sender(store.clone(), h.mailer(vec![], None), Harness::fast()).run(run_at(minutes(0))).await.unwrap();
    assert_eq!(report.sent, 30);
    assert_eq!(report.failed.len(), 1);
    assert_eq!((report.failed[0].slug.as_str(), report.failed[0].reason.as_str()), ("deel-1", "address rejected"));
    let history = store.sends(&s.id).await.unwrap();
    assert_eq!(history[0].reason.as_deref(), Some("address rejected"));
    // Not retried at the next window's visit; the series moves on.
    let next =
        sender(store.clone(), h.mailer(vec![], None), Harness::fast()).run(run_at(minutes(60 * 24 * 7))).await.unwrap();
    assert!(next.failed.iter().all(|f| f.slug != "deel-1"));
    let sent = h.sent();
    assert!(sent.iter().all(|(to, ..)| !to.starts_with("bestaat-niet")));
    for email in &h.emails {
        assert_eq!(sent.iter().filter(|(to, s, _)| to == email && s == "Deel 1").count(), 1, "{email}");
    }
}

#[tokio::test]
async fn unsubscribed_people_get_nothing_and_wait_only_for_their_erase() {
    let h = harness(Arc::new(SqliteStore::in_memory().unwrap())).await;
    let first = SubscriberEmail::parse(&h.emails[0]).unwrap();
    let mut s = h.store.subscriber_by_email(&first).await.unwrap().unwrap();
    s.status = Status::Unsubscribed;
    h.store.update_subscriber(&s).await.unwrap();
    let report =
        sender(h.store.clone(), h.mailer(vec![], None), Harness::fast()).run(run_at(minutes(0))).await.unwrap();
    assert_eq!(report.sent, 29);
    assert_eq!(report.skipped.get("not confirmed (unsubscribed)"), Some(&1));
    // Queued again only for the erase at the end of the retention period (12 months).
    let erase_at = h.store.subscriber_by_email(&first).await.unwrap().unwrap().next_due_at.unwrap();
    assert!(erase_at > minutes(0).checked_add(SignedDuration::from_hours(24 * 360)).unwrap(), "{erase_at}");
}

/// `postbode send --now …`, run again and again with the clock moving on, on a local data
/// folder: the series arrives week by week, once per post.
#[tokio::test]
async fn postbode_send_walks_the_series_with_an_advancing_now() {
    let data = tempfile::tempdir().unwrap();
    let emails = {
        let store = SqliteStore::open(&data.path().join("postbode.sqlite")).unwrap();
        add_confirmed(&store, 3, ts(WALK_FROM)).await
    };
    let dir = data.path().to_str().unwrap();
    let content = repo_path("tests/fixtures/sender");
    let mut now = ts(WALK_FROM);
    while now <= ts(WALK_TO) {
        let out = crate::helpers::postbode(&[
            "send",
            "--now",
            &now.to_string(),
            "--data",
            dir,
            "--content",
            content.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", crate::helpers::stderr(&out));
        now = now.checked_add(SignedDuration::from_hours(6)).unwrap();
    }
    let sent = parse_sent(&outbox_raw(&data.path().join("outbox")));
    check_walk(&sent, &emails);
    // The report is printed as JSON.
    let out = crate::helpers::postbode(&[
        "send",
        "--now",
        "2026-04-14T07:00:00Z",
        "--data",
        dir,
        "--content",
        content.to_str().unwrap(),
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["visited"], 3);
    assert_eq!(report["sent"], 0);
}

/// One unreadable record (written by hand into the store, as a bug or a bad import might)
/// is reported and skipped; everyone else gets the post, and bounce handling goes on too.
async fn one_bad_record(store: Arc<dyn Store>, corrupt: impl AsyncFnOnce(&str)) {
    let outbox = tempfile::tempdir().unwrap();
    let emails = add_confirmed(store.as_ref(), 3, ts(WALK_FROM)).await;
    corrupt(&emails[1]).await;
    let sender = sender(store.clone(), Arc::new(OutboxMailer::new(outbox.path()).unwrap()), SenderConfig::default());
    let report = sender.run(run_at(ts("2026-03-17T07:05:00Z"))).await.unwrap();
    assert_eq!(report.sent, 2, "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert!(report.failed[0].reason.contains("could not be read"), "{report:?}");
    let sent: Vec<String> = parse_sent(&outbox_raw(outbox.path())).into_iter().map(|(to, ..)| to).collect();
    assert!(sent.contains(&emails[0]) && sent.contains(&emails[2]) && !sent.contains(&emails[1]));

    let bounce = |email: &str| -> postbode::app::ses_events::SnsEvent {
        let json = std::fs::read_to_string(repo_path("tests/fixtures/ses/bounce-permanent.json")).unwrap();
        let unique = format!("0102019a-{}-", uuid::Uuid::new_v4().simple());
        serde_json::from_str(&json.replace("{{email}}", email).replace("0102019a-", &unique)).unwrap()
    };
    let breaker = postbode::app::ses_events::Breaker::default();
    let now = ts("2026-03-17T08:00:00Z");
    let bad = postbode::app::ses_events::handle(store.as_ref(), &bounce(&emails[1]), &breaker, now).await.unwrap();
    assert_eq!(bad.failed, 1);
    let good = postbode::app::ses_events::handle(store.as_ref(), &bounce(&emails[2]), &breaker, now).await.unwrap();
    assert_eq!(good.bounced, 1);
    let marked = store.subscriber_by_email(&SubscriberEmail::parse(&emails[2]).unwrap()).await.unwrap().unwrap();
    assert_eq!(marked.status, Status::Bounced);
}

#[tokio::test]
async fn one_bad_record_does_not_stop_the_others() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("postbode.sqlite");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&file).unwrap());
    one_bad_record(store, async |email: &str| {
        let db = rusqlite::Connection::open(&file).unwrap();
        db.execute("UPDATE subscribers SET data = '{\"kapot\": true' WHERE email = ?1", [email]).unwrap();
    })
    .await;
}

#[tokio::test]
async fn one_bad_record_does_not_stop_the_others_on_dynamodb() {
    let (store, client, table) = crate::aws::dynamo_store().await;
    let store: Arc<dyn Store> = Arc::new(store);
    let reader = store.clone();
    one_bad_record(store, async move |email: &str| {
        let id = reader.subscriber_by_email(&SubscriberEmail::parse(email).unwrap()).await.unwrap().unwrap().id;
        client
            .update_item()
            .table_name(&table)
            .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("SUB#{id}")))
            .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("SUB".into()))
            .update_expression("SET #s = :bad")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":bad", aws_sdk_dynamodb::types::AttributeValue::N("42".into()))
            .send()
            .await
            .unwrap();
    })
    .await;
}

/// Counts the write requests a DynamoDB client makes (each TransactWriteItems once).
#[derive(Debug, Clone, Default)]
struct WriteCounter(Arc<std::sync::atomic::AtomicUsize>);

impl aws_sdk_dynamodb::config::Intercept for WriteCounter {
    fn name(&self) -> &'static str {
        "write-counter"
    }

    fn read_before_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        use aws_sdk_dynamodb::operation::{
            batch_write_item::BatchWriteItemInput, delete_item::DeleteItemInput, put_item::PutItemInput,
            transact_write_items::TransactWriteItemsInput, update_item::UpdateItemInput,
        };
        let input = context.input();
        let write = input.downcast_ref::<PutItemInput>().is_some()
            || input.downcast_ref::<UpdateItemInput>().is_some()
            || input.downcast_ref::<DeleteItemInput>().is_some()
            || input.downcast_ref::<TransactWriteItemsInput>().is_some()
            || input.downcast_ref::<BatchWriteItemInput>().is_some();
        if write {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }
}

/// At most 3 store writes per mail on average (the claim, its result, the subscriber's next
/// visit), plus a few per run: counted on the DynamoDB client of a run over 40 readers.
#[tokio::test]
async fn a_run_writes_at_most_three_times_per_mail_on_dynamodb() {
    let (_, _, table) = crate::aws::dynamo_store().await;
    let counter = WriteCounter::default();
    let config =
        aws_sdk_dynamodb::config::Builder::from(&crate::aws::config().await).interceptor(counter.clone()).build();
    let store: Arc<dyn Store> =
        Arc::new(postbode::store::dynamodb::DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), &table));
    let h = Harness { store: store.clone(), outbox: tempfile::tempdir().unwrap(), emails: Vec::new() };
    let emails = add_confirmed(store.as_ref(), 40, ts(WALK_FROM)).await;
    let before = counter.0.load(std::sync::atomic::Ordering::SeqCst);
    let report = sender(store, h.mailer(vec![], None), Harness::fast()).run(run_at(minutes(0))).await.unwrap();
    let writes = counter.0.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert_eq!(report.sent as usize, emails.len());
    // Per run: the day's sent counter.
    assert!(writes <= 3 * emails.len() + 1, "{writes} writes for {} mails", emails.len());
}

// ---- the confirmations worker's failures, as the deployed stream retries them ---------------

fn confirmations_app(store: Arc<dyn Store>, faults: Vec<Fault>) -> (crate::test_app::TestApp, tempfile::TempDir) {
    let outbox = tempfile::tempdir().unwrap();
    let mailer = FaultyMailer {
        inner: OutboxMailer::new(outbox.path()).unwrap(),
        faults: Mutex::new(faults.into()),
        rate: None,
    };
    let mut app = crate::test_app::TestApp::with_mailer(store, Arc::new(mailer));
    app.drain = false;
    (app, outbox)
}

fn confirmations_in(outbox: &tempfile::TempDir) -> usize {
    std::fs::read_dir(outbox.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with("-confirm.eml"))
        .count()
}

/// One stream batch and its five retries (the template's MaximumRetryAttempts), each a pass
/// of the worker over what is recorded.
async fn stream_with_retries(app: &crate::test_app::TestApp) {
    for _ in 0..6 {
        app.work_off_intents().await;
    }
}

/// A lost SES answer keeps the cooldown (SES most likely accepted the mail): the stream's
/// retries mail nobody twice. A confirmation SES throttled on every try waits for the retry
/// pass after a sender run, which mails it once, until the intent expires.
async fn failed_confirmations_are_retried_once_and_never_doubled(store: Arc<dyn Store>) {
    let (app, outbox) = confirmations_app(store.clone(), vec![Fault::Lost]);
    app.subscribe("verloren@example.nl").await;
    stream_with_retries(&app).await;
    assert_eq!(confirmations_in(&outbox), 1, "a lost answer is not a reason to mail again");
    assert!(store.pending_intents(10).await.unwrap().is_empty(), "handled and forgotten");

    let (app, outbox) = confirmations_app(store.clone(), vec![Fault::Throttle; 6]);
    app.subscribe("geremd@example.nl").await;
    stream_with_retries(&app).await;
    assert_eq!(confirmations_in(&outbox), 0);
    assert_eq!(store.pending_intents(10).await.unwrap().len(), 1, "kept, as the batch went to the dead letters");
    // Not yet the stream's to give up: a retry pass leaves a young intent alone.
    let young = postbode::app::confirmations::retry_waiting(&app.app, 100).await.unwrap();
    assert_eq!((young.handled, young.kept), (0, 0));
    app.advance(SignedDuration::from_mins(15));
    let retried = postbode::app::confirmations::retry_waiting(&app.app, 100).await.unwrap();
    assert_eq!(retried.handled, 1, "{retried:?}");
    assert_eq!(confirmations_in(&outbox), 1);
    let again = postbode::app::confirmations::retry_waiting(&app.app, 100).await.unwrap();
    assert_eq!((again.handled, confirmations_in(&outbox)), (0, 1), "once");
    let reader = store.subscriber_by_email(&SubscriberEmail::parse("geremd@example.nl").unwrap()).await.unwrap();
    assert_eq!(reader.unwrap().status, Status::Pending);

    // Refused until the intent's day is over: then it is forgotten without a mail.
    let (app, outbox) = confirmations_app(store.clone(), vec![Fault::Throttle; 20]);
    app.subscribe("te-laat@example.nl").await;
    stream_with_retries(&app).await;
    app.advance(SignedDuration::from_mins(30));
    assert_eq!(postbode::app::confirmations::retry_waiting(&app.app, 100).await.unwrap().kept, 1);
    app.advance(SignedDuration::from_hours(24));
    let expired = postbode::app::confirmations::retry_waiting(&app.app, 100).await.unwrap();
    assert_eq!((expired.expired, confirmations_in(&outbox)), (1, 0));
    assert!(store.pending_intents(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn failed_confirmations_are_retried_once_and_never_doubled_locally() {
    failed_confirmations_are_retried_once_and_never_doubled(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn failed_confirmations_are_retried_once_and_never_doubled_on_dynamodb() {
    let (store, ..) = crate::aws::dynamo_store().await;
    failed_confirmations_are_retried_once_and_never_doubled(Arc::new(store)).await;
}
