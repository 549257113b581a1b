//! The fault matrix: every fault the sender can meet, on the embedded store and on DynamoDB
//! Local, through the real SES client (`aws-sdk-sesv2`) talking HTTP to a small SES endpoint
//! that injects the faults (moto cannot drop a connection or stall an answer). For each
//! scenario it prints, per store, the duplicate, missing and unwanted mails over all readers;
//! all must be zero.
//!
//! The endpoint speaks SESv2's REST-JSON for `SendEmail` and `GetAccount`. Every message it
//! accepts produces an SES `Send` event (with the message tags), which the scenario hands to
//! `ses-events` after each run, twice (SNS may deliver an event more than once). Faults a real
//! store cannot produce on cue (a failed write of the result, a read that goes stale before
//! the claim) come from a thin wrapper around the real store.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use postbode::app::sender::{Run, Sender, SenderConfig};
use postbode::content::{Catalogue, SourceFile};
use postbode::mail::ses::SesMailer;
use postbode::reactions::{Reaction, ReactionId};
use postbode::schedule::{DEFAULT_WINDOW_LENGTH, first_visit, site_schedule};
use postbode::store::sqlite::SqliteStore;
use postbode::store::{
    Budget, Claim, Count, Counters, DayStats, DueCursor, DuePage, Intents, Ledger, PageViews, Pause, SendRecord,
    SendResult, SendingState, Sends, Store, StoreError, Subscribers, Suppression,
};
use postbode::subscribers::{Status, SubscribeIntent, Subscriber, SubscriberEmail, SubscriberId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{repo_path, settings};
use crate::store_contract::subscriber;

// ---- the fault-injecting SES endpoint ------------------------------------------------------

/// What the endpoint does with one `SendEmail` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Accept,
    /// 429 TooManyRequestsException.
    Throttle,
    /// 503 from SES.
    ServerError,
    /// Accepts, then never answers (the client times out, or the Lambda is stopped).
    AcceptThenStall,
    /// Accepts, then closes the connection without an answer.
    AcceptThenDrop,
    /// The process dies while the request is on its way: nothing accepted, no answer.
    CrashBeforeAccept,
    /// Accepts, and the process dies before it hears the answer.
    AcceptThenCrash,
    /// The sandbox's refusal, for every recipient alike (an account-level error).
    NotVerified,
}

#[derive(Debug, Clone)]
struct Accepted {
    to: String,
    post: String,
    subscriber: String,
    message_id: String,
}

#[derive(Default)]
struct SesState {
    /// Answers by call number (0-based); other calls are accepted.
    script: HashMap<usize, Answer>,
    /// While set, every call is refused as for an unverified sandbox account.
    account_blocked: bool,
    max_send_rate: f64,
    calls: usize,
    accepted: Vec<Accepted>,
    /// Accepted, with their Send event not yet handed to ses-events.
    events: Vec<Accepted>,
}

#[derive(Clone)]
struct FakeSes {
    url: String,
    state: Arc<Mutex<SesState>>,
    /// Told when a scripted crash happens; the scenario stops the run.
    crash: Arc<tokio::sync::Notify>,
}

impl FakeSes {
    async fn start() -> FakeSes {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(SesState { max_send_rate: 1000.0, ..SesState::default() }));
        let ses = FakeSes { url, state, crash: Arc::new(tokio::sync::Notify::new()) };
        let server = ses.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(server.clone().connection(socket));
            }
        });
        ses
    }

    /// The real SES client, pointed here, as the sender builds it (no SDK retries).
    fn mailer(&self, timeout: Duration) -> Arc<SesMailer> {
        let config = aws_sdk_sesv2::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_sesv2::config::Region::new("eu-west-1"))
            .credentials_provider(aws_sdk_sesv2::config::Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(&self.url)
            .build();
        Arc::new(SesMailer::with_timeout(aws_sdk_sesv2::Client::from_conf(config), None, timeout))
    }

    async fn connection(self, mut socket: TcpStream) {
        let mut buf = Vec::new();
        loop {
            let Some((head, body)) = read_request(&mut socket, &mut buf).await else { return };
            let first = head.lines().next().unwrap_or_default().to_owned();
            let reply = if first.starts_with("GET /v2/email/account") {
                let rate = self.state.lock().unwrap().max_send_rate;
                let body = format!(
                    r#"{{"SendQuota":{{"Max24HourSend":1000000,"MaxSendRate":{rate},"SentLast24Hours":0}},"SendingEnabled":true,"ProductionAccessEnabled":true}}"#
                );
                response(200, "", &body)
            } else if first.starts_with("POST /v2/email/outbound-emails") {
                match self.send_email(&body) {
                    Some(reply) => reply,
                    None => return,
                }
            } else {
                response(404, "NotFoundException", r#"{"message":"no such route"}"#)
            };
            if let Some(stall) = reply.stall {
                tokio::time::sleep(stall).await;
                return;
            }
            if socket.write_all(reply.bytes.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    /// The answer to one SendEmail; `None` closes the connection without one.
    fn send_email(&self, body: &[u8]) -> Option<Reply> {
        let request: serde_json::Value = serde_json::from_slice(body).unwrap();
        let to = request["Destination"]["ToAddresses"][0].as_str().unwrap_or_default().to_owned();
        let tag = |name: &str| {
            request["EmailTags"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| t["Name"] == name)
                .and_then(|t| t["Value"].as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let mut state = self.state.lock().unwrap();
        let call = state.calls;
        state.calls += 1;
        let answer = if state.account_blocked {
            Answer::NotVerified
        } else {
            state.script.get(&call).copied().unwrap_or(Answer::Accept)
        };
        let accepted = Accepted {
            to,
            post: tag("postbode-post"),
            subscriber: tag("postbode-subscriber"),
            message_id: format!("fake-{call}"),
        };
        let accept = |state: &mut SesState| {
            state.accepted.push(accepted.clone());
            state.events.push(accepted.clone());
        };
        let ok = format!(r#"{{"MessageId":"{}"}}"#, accepted.message_id);
        match answer {
            Answer::Accept => {
                accept(&mut state);
                Some(response(200, "", &ok))
            }
            Answer::Throttle => {
                Some(response(429, "TooManyRequestsException", r#"{"message":"Maximum sending rate exceeded."}"#))
            }
            Answer::ServerError => {
                Some(response(503, "ServiceUnavailableException", r#"{"message":"Service unavailable"}"#))
            }
            Answer::NotVerified => Some(response(
                400,
                "MessageRejected",
                r#"{"message":"Email address is not verified. The following identities failed the check in region EU-WEST-1: nieuwsbrief@postbode.example"}"#,
            )),
            Answer::AcceptThenStall => {
                accept(&mut state);
                Some(Reply { bytes: String::new(), stall: Some(Duration::from_secs(60)) })
            }
            Answer::AcceptThenDrop => {
                accept(&mut state);
                None
            }
            Answer::CrashBeforeAccept => {
                self.crash.notify_one();
                Some(Reply { bytes: String::new(), stall: Some(Duration::from_secs(60)) })
            }
            Answer::AcceptThenCrash => {
                accept(&mut state);
                self.crash.notify_one();
                Some(Reply { bytes: String::new(), stall: Some(Duration::from_secs(60)) })
            }
        }
    }

    /// Hands every Send event so far to ses-events, twice.
    async fn deliver_events(&self, store: &dyn Store, now: Timestamp) {
        let events = std::mem::take(&mut self.state.lock().unwrap().events);
        let records: Vec<serde_json::Value> = events
            .iter()
            .map(|e| {
                let message = serde_json::json!({
                    "eventType": "Send",
                    "mail": {
                        "messageId": e.message_id,
                        "destination": [e.to],
                        "tags": {
                            "postbode-mail": [e.post],
                            "postbode-post": [e.post],
                            "postbode-subscriber": [e.subscriber],
                        },
                    },
                    "send": {},
                });
                serde_json::json!({ "Sns": { "Message": message.to_string() } })
            })
            .collect();
        let event: postbode::app::ses_events::SnsEvent =
            serde_json::from_value(serde_json::json!({ "Records": records })).unwrap();
        for _ in 0..2 {
            postbode::app::ses_events::handle(store, &event, &Default::default(), now).await.unwrap();
        }
    }

    fn accepted(&self) -> Vec<Accepted> {
        self.state.lock().unwrap().accepted.clone()
    }
}

struct Reply {
    bytes: String,
    /// Hold the connection this long without answering, then close it.
    stall: Option<Duration>,
}

fn response(status: u16, error_type: &str, body: &str) -> Reply {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Service Unavailable",
    };
    let error = if error_type.is_empty() { String::new() } else { format!("x-amzn-ErrorType: {error_type}\r\n") };
    Reply {
        bytes: format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nx-amzn-RequestId: fake\r\n{error}\r\n{body}",
            body.len()
        ),
        stall: None,
    }
}

/// One HTTP/1.1 request (head, body) from the connection, or `None` when it closed.
async fn read_request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                if socket.read_buf(buf).await.ok()? == 0 {
                    return None;
                }
            }
            let body = buf[end + 4..end + 4 + length].to_vec();
            buf.drain(..end + 4 + length);
            return Some((head, body));
        }
        if socket.read_buf(buf).await.ok()? == 0 {
            return None;
        }
    }
}

// ---- a store with faults a real one cannot produce on cue ----------------------------------

/// The real store, except: recording the result of the n-th send fails; and reading one
/// subscriber unsubscribes them right after the read (so the run holds a stale copy).
struct FaultyStore {
    inner: Arc<dyn Store>,
    fail_finish: Option<usize>,
    finishes: AtomicUsize,
    leaves_after_read: Mutex<Option<SubscriberId>>,
    /// How many `apply_once` calls fail as throttled before they pass.
    throttled_applies: std::sync::atomic::AtomicI64,
}

impl FaultyStore {
    fn new(inner: Arc<dyn Store>) -> FaultyStore {
        FaultyStore {
            inner,
            fail_finish: None,
            finishes: AtomicUsize::new(0),
            leaves_after_read: Mutex::new(None),
            throttled_applies: std::sync::atomic::AtomicI64::new(0),
        }
    }
}

#[async_trait]
impl Subscribers for FaultyStore {
    async fn subscriber(&self, id: &SubscriberId) -> Result<Option<Subscriber>, StoreError> {
        let read = self.inner.subscriber(id).await?;
        let leaves = self.leaves_after_read.lock().unwrap().as_ref() == Some(id);
        if leaves && let Some(stale) = &read {
            self.leaves_after_read.lock().unwrap().take();
            let mut left = stale.clone();
            postbode::subscribers::leave(&mut left, Status::Unsubscribed, Timestamp::now());
            self.inner.update_subscriber(&left).await?;
        }
        Ok(read)
    }

    async fn subscriber_by_email(&self, email: &SubscriberEmail) -> Result<Option<Subscriber>, StoreError> {
        self.inner.subscriber_by_email(email).await
    }

    async fn insert_subscriber(&self, subscriber: &Subscriber, now: Timestamp) -> Result<(), StoreError> {
        self.inner.insert_subscriber(subscriber, now).await
    }

    async fn move_subscriber(
        &self,
        subscriber: &Subscriber,
        old: &SubscriberEmail,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        self.inner.move_subscriber(subscriber, old, now).await
    }

    async fn update_subscriber(&self, subscriber: &Subscriber) -> Result<u64, StoreError> {
        self.inner.update_subscriber(subscriber).await
    }

    async fn due_subscribers(
        &self,
        now: Timestamp,
        after: Option<&DueCursor>,
        limit: usize,
    ) -> Result<DuePage, StoreError> {
        self.inner.due_subscribers(now, after, limit).await
    }

    async fn all_subscribers(&self) -> Result<Vec<Subscriber>, StoreError> {
        self.inner.all_subscribers().await
    }

    async fn erase_subscriber(&self, subscriber: &Subscriber) -> Result<(), StoreError> {
        self.inner.erase_subscriber(subscriber).await
    }
}

#[async_trait]
impl Sends for FaultyStore {
    async fn claim_send(
        &self,
        s: &SubscriberId,
        slug: &str,
        now: Timestamp,
        hold: SignedDuration,
    ) -> Result<Claim, StoreError> {
        self.inner.claim_send(s, slug, now, hold).await
    }

    async fn release_claim(&self, s: &SubscriberId, slug: &str, held_until: Timestamp) -> Result<(), StoreError> {
        self.inner.release_claim(s, slug, held_until).await
    }

    async fn record_send_event(&self, s: &SubscriberId, slug: &str, id: &str, at: Timestamp) -> Result<(), StoreError> {
        self.inner.record_send_event(s, slug, id, at).await
    }

    async fn finish_send(
        &self,
        s: &SubscriberId,
        slug: &str,
        result: &SendResult,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let n = self.finishes.fetch_add(1, Ordering::SeqCst);
        if self.fail_finish == Some(n) {
            return Err(StoreError::unavailable(std::io::Error::other("the write of the result timed out")));
        }
        self.inner.finish_send(s, slug, result, now).await
    }

    async fn sends(&self, s: &SubscriberId) -> Result<Vec<SendRecord>, StoreError> {
        self.inner.sends(s).await
    }
}

#[async_trait]
impl Counters for FaultyStore {
    async fn add_stats(&self, ledger: Ledger, day: jiff::civil::Date, delta: DayStats) -> Result<(), StoreError> {
        self.inner.add_stats(ledger, day, delta).await
    }

    async fn stats(
        &self,
        ledger: Ledger,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<DayStats, StoreError> {
        self.inner.stats(ledger, from, to).await
    }

    async fn add_page_view(&self, slug: &str, day: jiff::civil::Date) -> Result<(), StoreError> {
        self.inner.add_page_view(slug, day).await
    }

    async fn page_views(&self, from: jiff::civil::Date, to: jiff::civil::Date) -> Result<Vec<PageViews>, StoreError> {
        self.inner.page_views(from, to).await
    }

    async fn take_budgets(&self, budgets: &[Budget], now: Timestamp) -> Result<bool, StoreError> {
        self.inner.take_budgets(budgets, now).await
    }

    async fn apply_once(
        &self,
        marker: &Budget,
        updates: &[Subscriber],
        counts: &[Count],
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        if self.throttled_applies.fetch_sub(1, Ordering::SeqCst) > 0 {
            return Err(StoreError::unavailable(std::io::Error::other("ProvisionedThroughputExceeded")));
        }
        self.inner.apply_once(marker, updates, counts, now).await
    }

    async fn sending_state(&self) -> Result<SendingState, StoreError> {
        self.inner.sending_state().await
    }

    async fn set_sending_state(&self, state: &SendingState) -> Result<(), StoreError> {
        self.inner.set_sending_state(state).await
    }

    async fn set_sending_problem(&self, problem: Option<&Pause>) -> Result<(), StoreError> {
        self.inner.set_sending_problem(problem).await
    }
}

#[async_trait]
impl Suppression for FaultyStore {
    async fn set_suppressed(&self, hash: &str, suppressed: bool, now: Timestamp) -> Result<(), StoreError> {
        self.inner.set_suppressed(hash, suppressed, now).await
    }

    async fn is_suppressed(&self, hash: &str) -> Result<bool, StoreError> {
        self.inner.is_suppressed(hash).await
    }
}

#[async_trait]
impl Intents for FaultyStore {
    async fn record_intent(&self, intent: &SubscribeIntent) -> Result<(), StoreError> {
        self.inner.record_intent(intent).await
    }

    async fn pending_intents(&self, limit: usize) -> Result<Vec<SubscribeIntent>, StoreError> {
        self.inner.pending_intents(limit).await
    }

    async fn forget_intent(&self, intent: &SubscribeIntent) -> Result<(), StoreError> {
        self.inner.forget_intent(intent).await
    }
}

#[async_trait]
impl postbode::store::Reactions for FaultyStore {
    async fn insert_reaction(&self, reaction: &Reaction) -> Result<(), StoreError> {
        self.inner.insert_reaction(reaction).await
    }

    async fn reaction(&self, id: &ReactionId) -> Result<Option<Reaction>, StoreError> {
        self.inner.reaction(id).await
    }

    async fn change_reaction(
        &self,
        reaction: &Reaction,
        change: &postbode::store::ReactionChange,
    ) -> Result<Option<Reaction>, StoreError> {
        self.inner.change_reaction(reaction, change).await
    }

    async fn delete_reaction(&self, reaction: &Reaction) -> Result<(), StoreError> {
        self.inner.delete_reaction(reaction).await
    }

    async fn reactions_of_post(&self, slug: &str) -> Result<Vec<Reaction>, StoreError> {
        self.inner.reactions_of_post(slug).await
    }

    async fn waiting_reactions(&self, limit: usize, newest_first: bool) -> Result<Vec<Reaction>, StoreError> {
        self.inner.waiting_reactions(limit, newest_first).await
    }

    async fn all_reactions(&self) -> Result<Vec<Reaction>, StoreError> {
        self.inner.all_reactions().await
    }

    async fn reactions_of_address(&self, email: &SubscriberEmail) -> Result<Vec<Reaction>, StoreError> {
        self.inner.reactions_of_address(email).await
    }
}

// ---- the scenarios ----------------------------------------------------------------------

/// Tuesday 1 December 2026, 08:00 in Amsterdam: the series' window.
const WINDOW: &str = "2026-12-01T07:00:00Z";
/// The readers confirmed the Thursday before.
const CONFIRMED: &str = "2026-11-26T15:00:00Z";
const READERS: usize = 12;

fn at(minutes: i64) -> Timestamp {
    WINDOW.parse::<Timestamp>().unwrap().checked_add(SignedDuration::from_mins(minutes)).unwrap()
}

const WEEK: i64 = 7 * 24 * 60;

fn post(file: &str, slug: &str, order: Option<u32>, extra: &str) -> (String, String) {
    let order = order.map_or(String::new(), |o| format!("order = {o}\n"));
    (
        file.to_owned(),
        format!(
            "+++\ntitle = \"{slug}\"\nslug = \"{slug}\"\n{order}{extra}summary = \"Over {slug}.\"\n+++\n\nTekst van {slug}.\n"
        ),
    )
}

/// The sender fixture's site with the series posts and broadcasts given.
fn catalogue(posts: &[(String, String)]) -> Catalogue {
    let fixture = repo_path("tests/fixtures/sender");
    let read = |name: &str| std::fs::read_to_string(fixture.join(name)).unwrap();
    let mut files = vec![
        SourceFile::text("site.toml", read("site.toml")),
        SourceFile::text("privacy.md", read("privacy.md")),
        SourceFile::text("leiderschap/series.toml", read("leiderschap/series.toml")),
    ];
    files.extend(posts.iter().map(|(path, text)| SourceFile::text(path.as_str(), text.as_str())));
    Catalogue::parse(std::path::Path::new("content"), &files).unwrap()
}

fn one_post() -> Catalogue {
    catalogue(&[post("leiderschap/01.md", "deel-1", Some(1), "")])
}

#[derive(Clone, Copy, Debug)]
enum Backend {
    Embedded,
    DynamoDbLocal,
}

struct World {
    store: Arc<dyn Store>,
    ses: FakeSes,
    readers: Vec<(SubscriberId, String)>,
}

impl World {
    async fn new(backend: Backend) -> World {
        let store: Arc<dyn Store> = match backend {
            Backend::Embedded => Arc::new(SqliteStore::in_memory().unwrap()),
            Backend::DynamoDbLocal => Arc::new(crate::aws::dynamo_store().await.0),
        };
        let schedule = site_schedule(&one_post(), DEFAULT_WINDOW_LENGTH).unwrap();
        let confirmed: Timestamp = CONFIRMED.parse().unwrap();
        let mut readers = Vec::new();
        for i in 0..READERS {
            let mut s = subscriber(&format!("lezer{i}@example.nl"));
            s.status = Status::Confirmed;
            s.confirmed_at = Some(confirmed);
            s.next_due_at = Some(first_visit(&schedule, confirmed));
            store.insert_subscriber(&s, s.created_at).await.unwrap();
            readers.push((s.id.clone(), s.email.to_string()));
        }
        World { store, ses: FakeSes::start().await, readers }
    }

    fn sender(&self, catalogue: &Catalogue, store: Arc<dyn Store>, timeout: Duration) -> Sender {
        let config = SenderConfig { backoff: Duration::from_millis(1), ..SenderConfig::default() };
        let tokens = postbode::tokens::TokenKey::new(vec![42; 32]).unwrap();
        postbode::app::Parts {
            store,
            mailer: self.ses.mailer(timeout),
            catalogue: std::sync::Arc::new(Clone::clone(catalogue)),
            email: Clone::clone(&settings()),
            tokens,
        }
        .sender(config)
        .unwrap()
    }

    /// One run at `now` (the scheduler's moment), then SES's events for what it accepted.
    async fn run(&self, sender: &Sender, now: Timestamp) {
        self.run_with(sender, Run { now, scheduled_at: Some(now), deadline: None }).await;
    }

    async fn run_with(&self, sender: &Sender, run: Run) {
        let _ = sender.run(run).await;
        self.ses.deliver_events(self.store.as_ref(), run.now).await;
    }

    /// A run the Lambda service stops: at a scripted crash, or at `limit` (its deadline).
    async fn run_killed(&self, sender: Arc<Sender>, now: Timestamp, limit: Duration) {
        let task = tokio::spawn(async move { sender.run(Run { now, scheduled_at: Some(now), deadline: None }).await });
        let abort = task.abort_handle();
        tokio::select! {
            _ = self.ses.crash.notified() => abort.abort(),
            _ = tokio::time::sleep(limit) => abort.abort(),
            _ = task => {}
        }
        self.ses.deliver_events(self.store.as_ref(), now).await;
    }

    /// Runs every 15 minutes through the first hour of the window.
    async fn window_hour(&self, sender: &Sender, from: i64) {
        for m in (from..=60).step_by(15) {
            self.run(sender, at(m)).await;
        }
    }

    /// (duplicates, missing, unwanted): over every reader, against what each should have; each
    /// reader's discrepancy is printed by name.
    fn tally(&self, expected: &dyn Fn(usize) -> Vec<&'static str>) -> (usize, usize, usize) {
        let mut got: BTreeMap<(String, String), usize> = BTreeMap::new();
        for a in self.ses.accepted() {
            *got.entry((a.to, a.post)).or_default() += 1;
        }
        let (mut duplicates, mut missing, mut unwanted) = (0, 0, 0);
        // Per reader: every expected post once; anything else is reported by name.
        for (i, (_, email)) in self.readers.iter().enumerate() {
            let wanted = expected(i);
            for slug in &wanted {
                match got.get(&(email.clone(), (*slug).to_owned())).copied().unwrap_or(0) {
                    0 => {
                        println!("    {email}: {slug} missing");
                        missing += 1;
                    }
                    1 => {}
                    n => {
                        println!("    {email}: {slug} sent {n} times");
                        duplicates += n - 1;
                    }
                }
            }
            for ((to, slug), n) in &got {
                if to == email && !wanted.contains(&slug.as_str()) {
                    println!("    {email}: {slug} sent {n} time(s), not wanted");
                    unwanted += n;
                }
            }
        }
        (duplicates, missing, unwanted)
    }
}

#[derive(Clone, Copy, Debug)]
enum Scenario {
    Throttling,
    ServerErrors,
    TimeoutAfterAccepted,
    DroppedAfterAccepted,
    StallPastDeadline,
    StoreErrorWhileRecording,
    CrashBetweenClaimAndSend,
    CrashAfterSend,
    DeadlineMidRun,
    TwoRunsAtOnce,
    AccountErrorThenLifted,
    UnsubscribeDuringRun,
    PostInserted,
    BroadcastAfterWindow,
}

impl Scenario {
    const ALL: [Scenario; 14] = [
        Scenario::Throttling,
        Scenario::ServerErrors,
        Scenario::TimeoutAfterAccepted,
        Scenario::DroppedAfterAccepted,
        Scenario::StallPastDeadline,
        Scenario::StoreErrorWhileRecording,
        Scenario::CrashBetweenClaimAndSend,
        Scenario::CrashAfterSend,
        Scenario::DeadlineMidRun,
        Scenario::TwoRunsAtOnce,
        Scenario::AccountErrorThenLifted,
        Scenario::UnsubscribeDuringRun,
        Scenario::PostInserted,
        Scenario::BroadcastAfterWindow,
    ];

    fn name(self) -> &'static str {
        match self {
            Scenario::Throttling => "throttling (429, three in a row)",
            Scenario::ServerErrors => "5xx (five in a row: one reader given back)",
            Scenario::TimeoutAfterAccepted => "timeout after SES accepted",
            Scenario::DroppedAfterAccepted => "connection dropped after SES accepted",
            Scenario::StallPastDeadline => "answer stalls past the Lambda deadline",
            Scenario::StoreErrorWhileRecording => "store error while recording the result",
            Scenario::CrashBetweenClaimAndSend => "crash between claim and send",
            Scenario::CrashAfterSend => "crash after send",
            Scenario::DeadlineMidRun => "deadline mid-run",
            Scenario::TwoRunsAtOnce => "two runs at once",
            Scenario::AccountErrorThenLifted => "account-level error for one run, then lifted",
            Scenario::UnsubscribeDuringRun => "unsubscribe between read and claim",
            Scenario::PostInserted => "a post inserted into the series",
            Scenario::BroadcastAfterWindow => "a broadcast deployed after its day's window",
        }
    }

    /// Plays the scenario; returns (duplicates, missing, unwanted).
    async fn play(self, backend: Backend) -> (usize, usize, usize) {
        let w = World::new(backend).await;
        let short = Duration::from_millis(400);
        let script = |calls: &[(usize, Answer)]| w.ses.state.lock().unwrap().script.extend(calls.iter().copied());
        let everyone = |_| vec!["deel-1"];
        match self {
            Scenario::Throttling
            | Scenario::ServerErrors
            | Scenario::TimeoutAfterAccepted
            | Scenario::DroppedAfterAccepted => {
                match self {
                    Scenario::Throttling => {
                        script(&[(0, Answer::Throttle), (1, Answer::Throttle), (2, Answer::Throttle)])
                    }
                    Scenario::ServerErrors => script(&(0..5).map(|i| (i, Answer::ServerError)).collect::<Vec<_>>()),
                    Scenario::TimeoutAfterAccepted => script(&[(2, Answer::AcceptThenStall)]),
                    _ => script(&[(2, Answer::AcceptThenDrop)]),
                }
                w.window_hour(&w.sender(&one_post(), w.store.clone(), short), 0).await;
                w.tally(&everyone)
            }
            Scenario::StallPastDeadline | Scenario::CrashBetweenClaimAndSend | Scenario::CrashAfterSend => {
                script(&[(
                    2,
                    match self {
                        Scenario::StallPastDeadline => Answer::AcceptThenStall,
                        Scenario::CrashBetweenClaimAndSend => Answer::CrashBeforeAccept,
                        _ => Answer::AcceptThenCrash,
                    },
                )]);
                // The SDK would wait 10 s; the Lambda is stopped after 2 s (or at the crash).
                let doomed = Arc::new(w.sender(&one_post(), w.store.clone(), Duration::from_secs(10)));
                w.run_killed(doomed, at(0), Duration::from_secs(2)).await;
                w.window_hour(&w.sender(&one_post(), w.store.clone(), short), 15).await;
                w.tally(&everyone)
            }
            Scenario::StoreErrorWhileRecording => {
                let mut faulty = FaultyStore::new(w.store.clone());
                faulty.fail_finish = Some(2);
                w.window_hour(&w.sender(&one_post(), Arc::new(faulty), short), 0).await;
                w.tally(&everyone)
            }
            Scenario::DeadlineMidRun => {
                w.ses.state.lock().unwrap().max_send_rate = 20.0;
                let sender = w.sender(&one_post(), w.store.clone(), short);
                let deadline = Some(Instant::now() + Duration::from_millis(300));
                w.run_with(&sender, Run { now: at(0), scheduled_at: Some(at(0)), deadline }).await;
                w.window_hour(&sender, 15).await;
                w.tally(&everyone)
            }
            Scenario::TwoRunsAtOnce => {
                let (a, b) =
                    (w.sender(&one_post(), w.store.clone(), short), w.sender(&one_post(), w.store.clone(), short));
                let run = Run { now: at(0), scheduled_at: Some(at(0)), deadline: None };
                let _ = tokio::join!(a.run(run), b.run(run));
                w.ses.deliver_events(w.store.as_ref(), at(0)).await;
                w.window_hour(&a, 15).await;
                w.tally(&everyone)
            }
            Scenario::AccountErrorThenLifted => {
                let sender = w.sender(&one_post(), w.store.clone(), short);
                w.ses.state.lock().unwrap().account_blocked = true;
                w.run(&sender, at(0)).await;
                let noted = w.store.sending_state().await.unwrap().problem.is_some();
                w.ses.state.lock().unwrap().account_blocked = false;
                w.window_hour(&sender, 15).await;
                let cleared = w.store.sending_state().await.unwrap().problem.is_none();
                let (d, m, u) = w.tally(&everyone);
                // The stop must show in `sending status`, and go once a run sends again.
                (d, m + usize::from(!noted) + usize::from(!cleared), u)
            }
            Scenario::UnsubscribeDuringRun => {
                let faulty = FaultyStore::new(w.store.clone());
                *faulty.leaves_after_read.lock().unwrap() = Some(w.readers[5].0.clone());
                w.window_hour(&w.sender(&one_post(), Arc::new(faulty), short), 0).await;
                w.tally(&|i| if i == 5 { vec![] } else { vec!["deel-1"] })
            }
            Scenario::PostInserted => {
                let before = catalogue(&[
                    post("leiderschap/01.md", "deel-1", Some(1), ""),
                    post("leiderschap/02.md", "deel-2", Some(2), ""),
                ]);
                w.run(&w.sender(&before, w.store.clone(), short), at(5)).await;
                // The author inserts a new part 2; deel-2 becomes part 3.
                let after = catalogue(&[
                    post("leiderschap/01.md", "deel-1", Some(1), ""),
                    post("leiderschap/02-nieuw.md", "nieuw", Some(2), ""),
                    post("leiderschap/03.md", "deel-2", Some(3), ""),
                ]);
                let sender = w.sender(&after, w.store.clone(), short);
                for week in 1..=4 {
                    w.run(&sender, at(week * WEEK + 5)).await;
                }
                w.tally(&|_| vec!["deel-1", "nieuw", "deel-2"])
            }
            Scenario::BroadcastAfterWindow => {
                let series = || {
                    vec![
                        post("leiderschap/01.md", "deel-1", Some(1), ""),
                        post("leiderschap/02.md", "deel-2", Some(2), ""),
                    ]
                };
                w.run(&w.sender(&catalogue(&series()), w.store.clone(), short), at(5)).await;
                // Deployed that afternoon, dated that same Tuesday.
                let mut with_broadcast = series();
                with_broadcast.push(post("nieuws.md", "nieuws", None, "date = 2026-12-01\n"));
                let sender = w.sender(&catalogue(&with_broadcast), w.store.clone(), short);
                w.run(&sender, at(8 * 60)).await;
                for week in 1..=3 {
                    w.run(&sender, at(week * WEEK + 5)).await;
                }
                w.tally(&|_| vec!["deel-1", "nieuws", "deel-2"])
            }
        }
    }
}

async fn matrix(backend: Backend) {
    let mut table = format!("\n| scenario ({backend:?}) | duplicates | missing | unwanted |\n|---|---|---|---|\n");
    let mut failed = Vec::new();
    for scenario in Scenario::ALL {
        let (duplicates, missing, unwanted) = scenario.play(backend).await;
        table.push_str(&format!("| {} | {duplicates} | {missing} | {unwanted} |\n", scenario.name()));
        if (duplicates, missing, unwanted) != (0, 0, 0) {
            failed.push(scenario.name());
        }
    }
    println!("{table}");
    assert!(failed.is_empty(), "not exactly once: {failed:?}{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_on_the_embedded_store_sends_each_post_exactly_once() {
    matrix(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_on_dynamodb_local_sends_each_post_exactly_once() {
    matrix(Backend::DynamoDbLocal).await;
}

/// A complaint whose first handling failed (a throttled write) is applied by Lambda's retry
/// of the same event: the marker is written with the effect, never before it. Before, the
/// retry found the marker, reported "repeated", and the complainant stayed confirmed.
async fn a_failed_complaint_is_applied_by_the_retry(inner: Arc<dyn Store>) {
    use postbode::app::ses_events::{Breaker, handle};
    let store = FaultyStore::new(inner);
    store.throttled_applies.store(1, Ordering::SeqCst);
    let mut reader = subscriber("klager@example.nl");
    reader.status = Status::Confirmed;
    store.insert_subscriber(&reader, reader.created_at).await.unwrap();
    let json = std::fs::read_to_string(repo_path("tests/fixtures/ses/complaint.json")).unwrap();
    let event: postbode::app::ses_events::SnsEvent =
        serde_json::from_str(&json.replace("{{email}}", "klager@example.nl")).unwrap();
    let now: Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
    assert!(handle(&store, &event, &Breaker::default(), now).await.is_err(), "the first handling fails");
    assert_eq!(store.subscriber(&reader.id).await.unwrap().unwrap().status, Status::Confirmed);
    let retry = handle(&store, &event, &Breaker::default(), now).await.unwrap();
    assert_eq!((retry.complained, retry.repeated), (1, 0), "{retry:?}");
    assert_eq!(store.subscriber(&reader.id).await.unwrap().unwrap().status, Status::Complained);
    let again = handle(&store, &event, &Breaker::default(), now).await.unwrap();
    assert_eq!((again.complained, again.repeated), (0, 1), "applied once");
    let day = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    assert_eq!(store.stats(Ledger::List, day, day).await.unwrap().complained, 1);
}

#[tokio::test]
async fn a_complaint_whose_first_handling_failed_is_applied_by_the_retry() {
    a_failed_complaint_is_applied_by_the_retry(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn a_complaint_whose_first_handling_failed_is_applied_by_the_retry_on_dynamodb() {
    a_failed_complaint_is_applied_by_the_retry(Arc::new(crate::aws::dynamo_store().await.0)).await;
}
