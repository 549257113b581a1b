//! The sender: one pass over the subscribers whose visit is due.
//!
//! For each due subscriber (from the store's due index, a page at a time, so memory stays
//! flat however long the list), [`crate::schedule::plan`] says what to send. Each email is
//! claimed right before it is sent, with a conditional write on (subscriber, post) that also
//! checks the subscriber is still confirmed. What happens next depends on what SES said:
//!
//! - **accepted**: the message id is recorded; done.
//! - **refused for this recipient** (a rejected address): recorded as failed with the reason;
//!   the reader moves on.
//! - **refused before accepting** (throttling, 5xx, after the retries): the claim is given
//!   back; the next run sends.
//! - **no answer** (timeout, dropped connection; or the run died after the send, or recording
//!   the result failed): the claim stays. SES publishes a `Send` event for every accepted
//!   message, tagged with subscriber and post; `ses-events` records it on the claim, which
//!   settles it as sent. A claim with neither a result nor an event after its hold
//!   ([`SenderConfig::lease`], counted from the claim) is sent again by a later run: its send
//!   most likely never happened.
//! - **refused for the account** (access, configuration set, sandbox, paused, quota): the
//!   claim is given back and the whole run stops with that one reason (logged, in the report
//!   and in `postbode sending status`); nobody moves on.
//!
//! Only when every send of a visit is settled does the subscriber move on to the next visit.
//! A fault on one subscriber's record is reported and the run goes on with the others.
//! Sends are paced to the mail system's rate (SES `MaxSendRate`, or a lower configured cap).
//! Near the Lambda deadline the run stops taking work; the next run continues.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

// Tokio's clock, so a benchmark with a paused clock simulates time (pacing, latency, the
// deadline) instead of waiting for it.
use tokio::time::Instant;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::mail::{Ledger, MailError, MailKind, Mailer, Outgoing};
use crate::render::letters::AlertKind;
use crate::render::{PreparedEmail, RenderError, RenderedEmail};
use crate::schedule::{Plan, Programme, Schedule};
use crate::store::{Budget, Claim, DueCursor, SendResult, Store, StoreError};
use crate::subscribers::{Retention, Status, Subscriber, SubscriberId, retention};
use crate::tokens::TokenKey;

#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Subscribers read per page of the due index.
    pub page_size: usize,
    /// How long a claim holds, from the moment it is taken. Within it no other run sends that
    /// mail; after it, a claim with neither a result nor SES's `Send` event is sent again.
    /// Longer than a run (Lambda stops one after 15 minutes) and than SES takes to publish
    /// an event (seconds, normally).
    pub lease: SignedDuration,
    /// A run that starts this much after its scheduled moment sends nothing.
    pub max_lateness: SignedDuration,
    /// An upper bound on sends per second, below the mail system's own.
    pub rate_cap: Option<f64>,
    /// Stop taking work when less than this is left before the deadline.
    pub deadline_margin: Duration,
    /// Attempts per email on throttling or a transient failure.
    pub attempts: u32,
    /// First backoff; doubles per attempt.
    pub backoff: Duration,
    /// Subscribers visited at the same time. Sends are paced to the rate whatever this is;
    /// it only has to cover the latency (about 40 ms per SES call plus a few store calls per
    /// visit: 16 visits keep 100 mails/s going with room to spare).
    pub concurrency: usize,
}

impl Default for SenderConfig {
    fn default() -> Self {
        SenderConfig {
            page_size: 100,
            lease: SignedDuration::from_mins(30),
            max_lateness: SignedDuration::from_mins(30),
            rate_cap: None,
            deadline_margin: Duration::from_secs(20),
            attempts: 5,
            backoff: Duration::from_millis(200),
            concurrency: 16,
        }
    }
}

/// One run's moment and limits.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// The moment the run acts for (decisions use it throughout the run).
    pub now: Timestamp,
    /// When the schedule meant the run to start, if a scheduler started it.
    pub scheduled_at: Option<Timestamp>,
    /// When the run must be done (the Lambda deadline).
    pub deadline: Option<std::time::Instant>,
}

/// What a run did, logged as JSON and printed by `postbode send`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Report {
    pub now: String,
    /// Set when the run was too late to send anything.
    pub late: Option<String>,
    /// Set when the circuit breaker has paused sending (lift with `postbode sending resume`).
    pub paused: Option<String>,
    pub visited: u32,
    pub sent: u32,
    /// Of `sent`, to readers confirmed less than 30 days ago (booked on the new readers'
    /// ledger, see [`crate::mail::Ledger::NewReaders`]).
    pub sent_to_new_readers: u32,
    pub sent_by_post: BTreeMap<String, u32>,
    /// Subscribers looked at but not sent to, by reason.
    pub skipped: BTreeMap<String, u32>,
    pub failed: Vec<Failure>,
    pub throttled_retries: u32,
    /// Subscribers still due when the run ended (deadline, transient failures, claims held).
    pub remaining: u32,
    /// True when the run stopped early at the deadline.
    pub stopped_at_deadline: bool,
    /// Set when an account-level error stopped the run: nobody moved on; every claim it
    /// touched was given back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Sends whose outcome is unknown (no answer from SES): settled by SES's `Send` event, or
    /// sent again after the claim's hold.
    #[serde(skip_serializing_if = "is_zero")]
    pub unsettled: u32,
    /// Records erased because their retention period after leaving ran out.
    pub erased: u32,
    /// Records past their retention period that stay until the next run, because SES would
    /// not take the address off its suppression list (see [`crate::mail::Mailer::forget_suppressed`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub not_erased: u32,
    /// Reactions listed in a notice to the author by this run.
    #[serde(skip_serializing_if = "is_zero_usize")]
    pub reactions_listed: usize,
    /// Waiting reactions erased because the retention period ran out.
    #[serde(skip_serializing_if = "is_zero")]
    pub reactions_erased: u32,
    /// This run visited everyone on the due index: a broadcast's `send_at` was reached.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub swept: bool,
    /// This run sent the author's weekly summary.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub summary_sent: bool,
    /// Set while confirmation mail is throttled by the intake breaker (see
    /// `app::ses_events::intake_verdict`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intake_throttled: Option<String>,
    /// The alerts this run mailed to the author (`render::letters::AlertKind::name`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alerted: Vec<String>,
}

impl Report {
    /// The figures a run publishes as CloudWatch metrics (`telemetry::emit_metrics`), which
    /// the template's alarms watch: 1 for a state that holds, 0 when it does not, so an alarm
    /// also sees a run where all is well. `SenderRunSucceeded` is written only for a run that
    /// returned a report; its absence for 2 hours is an alarm of its own.
    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        vec![
            ("SenderRunSucceeded", 1.0),
            ("SendingPaused", flag(self.paused.is_some())),
            ("SendingStopped", flag(self.stopped.is_some())),
            ("IntakeThrottled", flag(self.intake_throttled.is_some())),
            ("Sent", f64::from(self.sent)),
        ]
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    pub subscriber: String,
    pub slug: String,
    pub reason: String,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_usize(n: &usize) -> bool {
    *n == 0
}

impl Report {
    fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_owned()).or_default() += 1;
    }

    /// Adds one visit's report to the run's.
    fn absorb(&mut self, part: Report) {
        self.visited += part.visited;
        self.sent += part.sent;
        for (slug, n) in part.sent_by_post {
            *self.sent_by_post.entry(slug).or_default() += n;
        }
        for (reason, n) in part.skipped {
            *self.skipped.entry(reason).or_default() += n;
        }
        self.failed.extend(part.failed);
        self.throttled_retries += part.throttled_retries;
        self.remaining += part.remaining;
        self.stopped_at_deadline |= part.stopped_at_deadline;
        self.erased += part.erased;
        self.not_erased += part.not_erased;
        self.unsettled += part.unsettled;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("the store failed")]
    Store(#[from] StoreError),
    #[error("a post could not be rendered")]
    Render(#[from] RenderError),
    /// SES refuses this account's mail (see [`MailError::Account`]): the run stops.
    #[error("sending stopped: {0}")]
    Account(String),
}

pub struct Sender {
    /// What the reactions' notice needs (the author's address, links, the mailer).
    parts: super::Parts,
    store: Arc<dyn Store>,
    mailer: Arc<dyn Mailer>,
    tokens: TokenKey,
    schedule: Option<Schedule>,
    programme: Programme,
    /// Every post rendered once; per recipient only the personal parts are filled in.
    prepared: HashMap<String, PreparedEmail>,
    config: SenderConfig,
    /// Months a record of someone who left is kept (`site.toml`, stated in the privacy page).
    retention_months: u32,
    /// The weekly summary to the author (`summary_email`), if the site asks for one.
    summary: Option<WeeklySummary>,
}

/// What the weekly summary needs: when and to whom, the site it speaks for, and who sends it.
struct WeeklySummary {
    when: crate::content::Summary,
    site: crate::content::Site,
    from: lettre::message::Mailbox,
}

enum Outcome {
    Sent(String),
    /// Refused for this recipient: recorded, never retried.
    Permanent(String),
    /// Refused before SES accepted it, after the retries: the claim is given back.
    NotSent,
    /// No answer: SES may have accepted it. The claim stays for the `Send` event.
    Unknown,
    /// Refused for the whole account.
    Account(String),
}

/// How one post of a visit ended, for the visit.
enum SendStep {
    /// Sent, failed for good, or sent before: this post is done for this reader.
    Settled,
    /// Not settled yet (held elsewhere, given back, unanswered, unrecorded): the reader does
    /// not move on; a later run looks again.
    Unsettled,
    /// The visit ends here (the deadline is near, or the reader left during the run).
    StopVisit,
}

/// The run's clock: decisions use the run's moment, claims the moment they are taken (a run
/// can last minutes, and a claim's hold counts from when it was taken).
#[derive(Debug, Clone, Copy)]
struct Clock {
    now: Timestamp,
    started: Instant,
    deadline: Option<Instant>,
}

impl Clock {
    /// Less than `margin` left before the deadline: take no more work.
    fn near_deadline(&self, margin: Duration) -> bool {
        self.deadline.is_some_and(|d| d.saturating_duration_since(Instant::now()) < margin)
    }

    fn at(&self) -> Timestamp {
        let elapsed = SignedDuration::try_from(self.started.elapsed()).unwrap_or(SignedDuration::ZERO);
        self.now.saturating_add(elapsed).unwrap_or(self.now)
    }
}

impl Sender {
    /// The sender on `parts`, with series windows `window_length` long. Built through
    /// [`super::Parts::sender`].
    pub(super) fn new(
        parts: &super::Parts,
        window_length: SignedDuration,
        config: SenderConfig,
    ) -> Result<Sender, SenderError> {
        let (catalogue, email) = (parts.catalogue.as_ref(), &parts.email);
        let prepared = catalogue
            .posts
            .iter()
            .map(|post| Ok((post.slug.to_string(), PreparedEmail::new(catalogue, post, email)?)))
            .collect::<Result<HashMap<_, _>, RenderError>>()?;
        let series = catalogue.series.first();
        Ok(Sender {
            parts: parts.clone(),
            store: parts.store.clone(),
            mailer: parts.mailer.clone(),
            tokens: parts.tokens.clone(),
            schedule: series.map(|s| Schedule::for_series(s, window_length)),
            programme: series.map_or(Programme::default(), |s| Programme::new(catalogue, s)),
            prepared,
            config,
            retention_months: catalogue.site.retention_months,
            summary: catalogue.site.summary.clone().map(|when| WeeklySummary {
                when,
                site: catalogue.site.clone(),
                from: email.from.clone(),
            }),
        })
    }

    /// The weekly summary, sent by the first run from its weekday and time (Europe/Amsterdam).
    /// At most once a week: a marker in the store is taken before sending, so a failed send
    /// is logged and not retried (the next one comes a week later).
    async fn weekly_summary(
        &self,
        now: Timestamp,
        paused_since: Option<Timestamp>,
        report: &mut Report,
    ) -> Result<(), StoreError> {
        let Some(WeeklySummary { when: summary, site, from }) = &self.summary else { return Ok(()) };
        let local = now.to_zoned(crate::content::site_time_zone());
        if summary.at.weekday.is_some_and(|d| d != local.weekday()) || local.time() < summary.at.start {
            return Ok(());
        }
        let marker = format!("SUMMARY#{}", local.date());
        let expires = now.saturating_add(SignedDuration::from_hours(8 * 24)).unwrap_or(now);
        if !self.store.take_budget(Budget::once(marker, expires), now).await? {
            return Ok(());
        }
        let since = now.saturating_sub(SignedDuration::from_hours(7 * 24)).unwrap_or(now);
        let figures = crate::app::operator::figures(self.store.as_ref(), since, now).await?;
        let mime = crate::render::letters::weekly_summary(site, from, &summary.to, &figures, paused_since, now.into());
        match self.mail_author(mime, MailKind::Summary).await {
            Ok(()) => report.summary_sent = true,
            Err(e) => tracing::error!(error = %e, "the weekly summary was not sent"),
        }
        Ok(())
    }

    /// Tells the author (`summary_email`) once per cause that sending stopped: once per pause
    /// and per account-level problem (by the moment it began), the intake throttle once a day.
    /// A marker in the store is taken before sending, so two runs never both mail it; a failed
    /// send is logged (the CloudWatch alarm on the same metric still fires). Never fails the run.
    async fn alert(&self, kind: AlertKind, since: Timestamp, reason: &str, now: Timestamp, report: &mut Report) {
        let Some(WeeklySummary { site, from, when }) = &self.summary else {
            tracing::warn!(alert = kind.name(), "no summary_email in site.toml: only the CloudWatch alarm tells");
            return;
        };
        let episode = match kind {
            AlertKind::IntakeThrottled => now.to_zoned(jiff::tz::TimeZone::UTC).date().to_string(),
            AlertKind::Paused | AlertKind::AccountStopped => since.as_second().to_string(),
        };
        let marker = format!("ALERT#{}#{episode}", kind.name());
        let expires = now.saturating_add(SignedDuration::from_hours(90 * 24)).unwrap_or(now);
        match self.store.take_budget(Budget::once(marker, expires), now).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::error!(alert = kind.name(), error = %crate::error_chain(&e), "alert not sent");
                return;
            }
        }
        let mime = crate::render::letters::alert(site, from, &when.to, kind, since, reason, now.into());
        match self.mail_author(mime, MailKind::Alert { name: kind.name() }).await {
            Ok(()) => report.alerted.push(kind.name().to_owned()),
            Err(e) => tracing::error!(alert = kind.name(), error = %e, "the alert mail was not sent"),
        }
    }

    async fn mail_author(&self, mime: Result<Vec<u8>, RenderError>, kind: MailKind<'_>) -> Result<(), String> {
        let Some(summary) = &self.summary else { return Ok(()) };
        let mime = mime.map_err(|e| crate::error_chain(&e))?;
        self.mailer
            .send(Outgoing { to: &summary.when.to, mime: &mime, kind })
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// One pass over everyone due at `run.now`.
    pub async fn run(&self, run: Run) -> Result<Report, SenderError> {
        let mut report = Report { now: run.now.to_string(), ..Report::default() };
        if let Some(scheduled) = run.scheduled_at {
            let late = run.now.duration_since(scheduled);
            if late > self.config.max_lateness {
                report.late = Some(format!(
                    "started {}s after its scheduled moment {scheduled} (limit {}s): nothing sent; the next on-time run does this window's work",
                    late.as_secs(),
                    self.config.max_lateness.as_secs()
                ));
                tracing::warn!(report = ?report.late, "late run");
                return Ok(report);
            }
        }
        let state = self.store.sending_state().await?;
        // The author's summary goes while the list is paused too: that is when it matters. A
        // failure is logged; it never stops the list's mail.
        let paused_since = state.paused.as_ref().map(|p| p.since);
        if let Err(e) = self.weekly_summary(run.now, paused_since, &mut report).await {
            tracing::error!(error = %crate::error_chain(&e), "the weekly summary failed");
        }
        self.reactions(run.now, &mut report).await;
        match crate::app::ses_events::intake_verdict(self.store.as_ref(), run.now).await {
            Ok(Some(reason)) => {
                self.alert(AlertKind::IntakeThrottled, run.now, &reason, run.now, &mut report).await;
                report.intake_throttled = Some(reason);
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %crate::error_chain(&e), "the intake breaker could not be read"),
        }
        if let Some(pause) = state.paused {
            report.paused = Some(format!("sending paused since {}: {}", pause.since, pause.reason));
            tracing::warn!(paused = ?report.paused, "nothing sent");
            self.alert(AlertKind::Paused, pause.since, &pause.reason, run.now, &mut report).await;
            self.retention_while_paused(run, &mut report).await?;
            return Ok(report);
        }
        let Some(schedule) = &self.schedule else {
            return Ok(report);
        };
        let until = self.sweep_until(run.now).await?;
        if until > run.now {
            report.swept = true;
        }
        let result = self.work(schedule, run, until, &mut report).await;
        if let Some(reason) = report.stopped.clone() {
            // A problem that goes on keeps the moment it began: one alert for all its runs.
            let since = state.problem.as_ref().map_or(run.now, |p| p.since);
            let problem = crate::store::Pause { since, reason };
            self.store.set_sending_problem(Some(&problem)).await?;
            self.alert(AlertKind::AccountStopped, since, &problem.reason, run.now, &mut report).await;
        } else if report.sent > 0 && state.problem.is_some() {
            self.store.set_sending_problem(None).await?;
        }
        // Count what went out on its ledger, for the bounce and complaint rates, even if the
        // run failed.
        let day = run.now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let new_readers = report.sent_to_new_readers;
        for (ledger, sent) in [(Ledger::List, report.sent - new_readers), (Ledger::NewReaders, new_readers)] {
            if sent > 0 {
                let delta = crate::store::DayStats { sent: u64::from(sent), ..Default::default() };
                self.store.add_stats(ledger, day, delta).await?;
            }
        }
        result.map(|()| report)
    }

    /// Who this run visits: everyone due by now, or, the first run after a broadcast's
    /// `send_at` moment, everyone on the due index (readers booked for their next window
    /// before the broadcast was deployed would otherwise get it only then). Each moment sweeps
    /// once (a marker in the store); a sweep cut short by the deadline leaves the rest to
    /// their own next visit, where the broadcast goes too.
    async fn sweep_until(&self, now: Timestamp) -> Result<Timestamp, StoreError> {
        let mut sweep = false;
        let week_ago = now.saturating_sub(SignedDuration::from_hours(7 * 24)).unwrap_or(now);
        for broadcast in self.programme.moments_in(week_ago, now) {
            let marker = format!("SWEEP#{}#{}", broadcast.slug, broadcast.moment.as_second());
            let expires = broadcast.moment.saturating_add(SignedDuration::from_hours(30 * 24)).unwrap_or(now);
            if self.store.take_budget(Budget::once(marker, expires), now).await? {
                tracing::info!(broadcast = %broadcast.slug, "send_at reached: visiting everyone");
                sweep = true;
            }
        }
        Ok(if sweep { Timestamp::MAX } else { now })
    }

    async fn work(
        &self,
        schedule: &Schedule,
        run: Run,
        until: Timestamp,
        report: &mut Report,
    ) -> Result<(), SenderError> {
        use futures_util::StreamExt;
        use std::sync::atomic::Ordering::SeqCst;
        let pacer = Pacer::new(self.rate().await);
        let clock = Clock { now: run.now, started: Instant::now(), deadline: run.deadline.map(Instant::from_std) };
        // Set by an account-level error, a store outage or the deadline: no new visit begins.
        let stop = std::sync::atomic::AtomicBool::new(false);
        let mut fatal = None;
        // Up to `concurrency` visits at a time, each on its own report; the pacer spaces the
        // sends of all of them. The next page of the due index is read as soon as the last
        // subscriber of this one is under way, so the pipeline never drains between pages.
        let concurrency = self.config.concurrency.max(1);
        let mut in_flight = futures_util::stream::FuturesUnordered::new();
        let mut queue: std::collections::VecDeque<SubscriberId> = std::collections::VecDeque::new();
        let mut cursor: Option<DueCursor> = None;
        let mut more_pages = true;
        loop {
            while in_flight.len() < concurrency && !stop.load(SeqCst) {
                if queue.is_empty() && more_pages {
                    match self.store.due_subscribers(until, cursor.as_ref(), self.config.page_size).await {
                        Ok(page) => {
                            queue.extend(page.subscribers);
                            more_pages = page.next.is_some();
                            cursor = page.next;
                        }
                        Err(e) => {
                            stop.store(true, SeqCst);
                            fatal.get_or_insert(SenderError::Store(e));
                            break;
                        }
                    }
                }
                let Some(id) = queue.pop_front() else { break };
                in_flight.push(self.visit_one(schedule, id, clock, &pacer, &stop));
            }
            let Some((id, part, result)) = in_flight.next().await else { break };
            if part.stopped_at_deadline {
                stop.store(true, SeqCst);
            }
            report.absorb(part);
            match result {
                Ok(()) => {}
                Err(SenderError::Account(reason)) => {
                    if report.stopped.is_none() {
                        tracing::error!(%reason, "SES refuses this account's mail: the run stops; nobody moves on");
                        report.stopped = Some(reason);
                    }
                    stop.store(true, SeqCst);
                }
                // One unreadable or oversized record is reported and skipped; the run goes on
                // for everyone else. A store outage still stops the run.
                Err(SenderError::Store(e)) if e.is_per_record() => {
                    tracing::error!(subscriber = %id, error = %crate::error_chain(&e), "record skipped");
                    report.failed.push(Failure {
                        subscriber: id.to_string(),
                        slug: String::new(),
                        reason: crate::error_chain(&e),
                    });
                }
                Err(e) => {
                    stop.store(true, SeqCst);
                    fatal.get_or_insert(e);
                }
            }
        }
        if let Some(e) = fatal {
            return Err(e);
        }
        // Who was not visited: the rest of this page, and (at the deadline) the pages after.
        report.remaining += queue.len() as u32;
        if report.stopped_at_deadline && more_pages {
            report.remaining += self.count_due(until, cursor).await?;
        }
        Ok(())
    }

    /// Reactions no notice listed yet go to the author (if this quarter has room), and waiting
    /// ones past the retention period are erased; paused or not. Failures are logged: they
    /// never hold up the list's mail.
    async fn reactions(&self, now: Timestamp, report: &mut Report) {
        match super::reactions::notify_author(&self.parts, now, false).await {
            Ok(listed) => report.reactions_listed = listed,
            Err(e) => tracing::warn!(error = %crate::error_chain(&e), "no reaction notice this run"),
        }
        match super::reactions::expire_waiting(self.store.as_ref(), self.retention_months, now, 100).await {
            Ok(erased) => report.reactions_erased = erased,
            Err(e) => tracing::warn!(error = %crate::error_chain(&e), "waiting reactions not expired this run"),
        }
    }

    /// While sending is paused nobody gets mail, but the privacy statement's retention still
    /// holds: the due records of people who left are erased (or booked) on time. Confirmed
    /// readers stay due for the first run after the resume.
    async fn retention_while_paused(&self, run: Run, report: &mut Report) -> Result<(), SenderError> {
        let clock = Clock { now: run.now, started: Instant::now(), deadline: run.deadline.map(Instant::from_std) };
        let mut cursor = None;
        loop {
            let page = self.store.due_subscribers(run.now, cursor.as_ref(), self.config.page_size).await?;
            for id in page.subscribers {
                if clock.near_deadline(self.config.deadline_margin) {
                    return Ok(());
                }
                match self.store.subscriber(&id).await? {
                    Some(subscriber) if subscriber.status != Status::Confirmed => {
                        report.visited += 1;
                        self.visit_one_who_left(subscriber, run.now, report).await?;
                    }
                    _ => {}
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// One subscriber's visit with a report of its own; not begun when the run is stopping
    /// or the deadline is near (then it counts as remaining).
    async fn visit_one(
        &self,
        schedule: &Schedule,
        id: SubscriberId,
        clock: Clock,
        pacer: &Pacer,
        stop: &std::sync::atomic::AtomicBool,
    ) -> (SubscriberId, Report, Result<(), SenderError>) {
        let mut report = Report::default();
        let near = clock.near_deadline(self.config.deadline_margin);
        if near || stop.load(std::sync::atomic::Ordering::SeqCst) {
            report.stopped_at_deadline = near;
            report.remaining = 1;
            return (id, report, Ok(()));
        }
        report.visited = 1;
        let result = self.visit(schedule, &id, clock, pacer, &mut report).await;
        (id, report, result)
    }

    async fn count_due(&self, now: Timestamp, mut cursor: Option<DueCursor>) -> Result<u32, StoreError> {
        let mut count = 0;
        while let Some(c) = cursor {
            let page = self.store.due_subscribers(now, Some(&c), self.config.page_size).await?;
            count += page.subscribers.len() as u32;
            cursor = page.next;
        }
        Ok(count)
    }

    async fn rate(&self) -> Option<f64> {
        let account = match self.mailer.max_send_rate().await {
            Ok(rate) => rate,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the sending rate; using the configured cap");
                None
            }
        };
        match (account, self.config.rate_cap) {
            (Some(a), Some(c)) => Some(a.min(c)),
            (a, c) => a.or(c),
        }
    }

    async fn visit(
        &self,
        schedule: &Schedule,
        id: &SubscriberId,
        clock: Clock,
        pacer: &Pacer,
        report: &mut Report,
    ) -> Result<(), SenderError> {
        let now = clock.now;
        let Some(mut subscriber) = self.store.subscriber(id).await? else {
            report.skip("subscriber gone");
            return Ok(());
        };
        if subscriber.status != Status::Confirmed {
            return self.visit_one_who_left(subscriber, now, report).await;
        }
        let confirmed_at = subscriber.confirmed_at.unwrap_or(subscriber.created_at);
        let wants = subscriber.preferences.wants();
        let plan: Plan =
            crate::schedule::plan_for(schedule, &self.programme, &subscriber.drip, confirmed_at, wants, now);
        if plan.outside_window {
            subscriber.next_due_at = Some(plan.next_visit);
            report.skip("nothing due outside a send window; booked for the next visit");
            return self.save(&subscriber).await;
        }
        let mut settled = true;
        for send in &plan.sends {
            match self.send_one(&subscriber, &send.slug, clock, pacer, report).await? {
                SendStep::Settled => {}
                SendStep::Unsettled => settled = false,
                SendStep::StopVisit => return Ok(()),
            }
        }
        if !settled {
            report.remaining += 1;
            return Ok(());
        }
        subscriber.drip.fold_legacy(&self.programme);
        for send in &plan.sends {
            subscriber.drip.record(send, now);
        }
        subscriber.next_due_at = Some(plan.next_visit);
        if plan.sends.is_empty() {
            report.skip("nothing new to send");
        }
        self.save(&subscriber).await
    }

    /// Unsubscribed, bounced or complained people get nothing; they stay in the queue only
    /// until their record is to be erased (the privacy statement's retention).
    async fn visit_one_who_left(
        &self,
        mut subscriber: Subscriber,
        now: Timestamp,
        report: &mut Report,
    ) -> Result<(), SenderError> {
        report.skip(&format!("not confirmed ({})", subscriber.status.as_str()));
        match retention(&subscriber, self.retention_months, now) {
            Retention::Keep => subscriber.next_due_at = None,
            Retention::EraseAt(at) => subscriber.next_due_at = Some(at),
            Retention::EraseNow => {
                use crate::app::operator::{EraseError, erase_subscriber};
                return match erase_subscriber(self.store.as_ref(), self.mailer.as_ref(), &self.tokens, &subscriber, now)
                    .await
                {
                    Ok(()) => {
                        tracing::info!(subscriber = %subscriber.id, "retention period over: erased");
                        report.erased += 1;
                        Ok(())
                    }
                    // Left as it is, still due: the next run tries again. Sending goes on.
                    Err(EraseError::SuppressionList(e)) => {
                        tracing::error!(subscriber = %subscriber.id, error = %e, "retention period over, but SES's suppression list kept the address: not erased yet");
                        report.not_erased += 1;
                        Ok(())
                    }
                    Err(EraseError::Store(e)) => Err(e.into()),
                };
            }
        }
        self.save(&subscriber).await
    }

    /// One post of a visit: rendered, paced, claimed, delivered, its outcome recorded.
    async fn send_one(
        &self,
        subscriber: &Subscriber,
        slug: &str,
        clock: Clock,
        pacer: &Pacer,
        report: &mut Report,
    ) -> Result<SendStep, SenderError> {
        let id = &subscriber.id;
        let failure = |reason: String| Failure { subscriber: id.to_string(), slug: slug.to_owned(), reason };
        // Rendered before the claim, so the claim is taken only for a send about to happen.
        let email = match self.render(subscriber, slug, clock.now) {
            Ok(email) => email,
            Err(reason) => {
                report.failed.push(failure(reason));
                return Ok(SendStep::Unsettled);
            }
        };
        pacer.wait().await;
        // The pacer may have held this visit a while: no claim this close to the deadline.
        if clock.near_deadline(self.config.deadline_margin) {
            report.stopped_at_deadline = true;
            report.remaining += 1;
            return Ok(SendStep::StopVisit);
        }
        let claimed_at = clock.at();
        let held_until = crate::store::SendRecord::claimed(slug, claimed_at, self.config.lease).lease_until;
        match self.store.claim_send(id, slug, claimed_at, self.config.lease).await? {
            Claim::Done => {
                report.skip("already sent");
                return Ok(SendStep::Settled);
            }
            Claim::HeldElsewhere => {
                report.skip("claimed by another run, or waiting for SES's event");
                return Ok(SendStep::Unsettled);
            }
            Claim::NotConfirmed => {
                // They left after this run read them: nothing goes, and their record is
                // theirs (the next visit sees their new status).
                report.skip("left during the run");
                return Ok(SendStep::StopVisit);
            }
            Claim::Claimed => {}
        }
        let new_reader = subscriber.is_new_reader(claimed_at);
        Ok(match self.deliver(subscriber, (slug, new_reader), &email.mime, pacer, report).await {
            Outcome::Sent(message_id) => {
                report.sent += 1;
                report.sent_to_new_readers += u32::from(new_reader);
                *report.sent_by_post.entry(slug.to_owned()).or_default() += 1;
                let sent = SendResult::Sent { message_id };
                match self.store.finish_send(id, slug, &sent, clock.at()).await {
                    Ok(()) => SendStep::Settled,
                    Err(e) => {
                        // The mail went; SES's Send event settles the claim.
                        tracing::warn!(subscriber = %id, slug, error = %crate::error_chain(&e),
                            "sent, but the result was not recorded; SES's event will settle it");
                        report.unsettled += 1;
                        SendStep::Unsettled
                    }
                }
            }
            Outcome::Permanent(reason) => {
                let failed = SendResult::Failed { reason: reason.clone() };
                self.store.finish_send(id, slug, &failed, clock.at()).await?;
                report.failed.push(failure(reason));
                SendStep::Settled
            }
            Outcome::NotSent => {
                self.store.release_claim(id, slug, held_until).await?;
                SendStep::Unsettled
            }
            Outcome::Unknown => {
                report.unsettled += 1;
                SendStep::Unsettled
            }
            Outcome::Account(reason) => {
                self.store.release_claim(id, slug, held_until).await?;
                return Err(SenderError::Account(reason));
            }
        })
    }

    /// Writes the visit's result; a lost race (the subscriber unsubscribed meanwhile) leaves
    /// the record to the other writer: the next run looks again.
    async fn save(&self, subscriber: &Subscriber) -> Result<(), SenderError> {
        match self.store.update_subscriber(subscriber).await {
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The post as this subscriber gets it.
    fn render(&self, subscriber: &Subscriber, slug: &str, now: Timestamp) -> Result<RenderedEmail, String> {
        let prepared = self.prepared.get(slug).ok_or_else(|| format!("post {slug} is not in this build"))?;
        let recipient = super::recipient(&self.tokens, subscriber, now).map_err(|e| e.to_string())?;
        prepared.render(&recipient, now.into()).map_err(|e| crate::error_chain(&e))
    }

    async fn deliver(
        &self,
        subscriber: &Subscriber,
        (slug, new_reader): (&str, bool),
        mime: &[u8],
        pacer: &Pacer,
        report: &mut Report,
    ) -> Outcome {
        let id = subscriber.id.to_string();
        let kind = MailKind::Post { slug, subscriber: &id, new_reader };
        let message = Outgoing { to: subscriber.email.as_str(), mime, kind };
        let mut backoff = self.config.backoff;
        for attempt in 1..=self.config.attempts {
            if attempt > 1 {
                pacer.wait().await;
            }
            match self.mailer.send(message).await {
                Ok(message_id) => return Outcome::Sent(message_id),
                Err(MailError::Permanent(reason)) => return Outcome::Permanent(reason),
                Err(MailError::Account(reason)) => return Outcome::Account(reason),
                Err(e @ MailError::Unknown(_)) => {
                    tracing::warn!(subscriber = %subscriber.id, slug, error = %e, "no answer from SES; the claim waits for its event");
                    return Outcome::Unknown;
                }
                Err(e @ (MailError::Throttled(_) | MailError::Transient(_))) => {
                    report.throttled_retries += 1;
                    tracing::warn!(subscriber = %subscriber.id, slug, attempt, error = %e, "send failed for now; backing off");
                    if attempt < self.config.attempts {
                        tokio::time::sleep(backoff).await;
                        backoff = backoff.saturating_mul(2);
                    }
                }
            }
        }
        Outcome::NotSent
    }
}

/// Spaces sends evenly at the allowed rate, across all the visits of a run: each caller
/// reserves the next free slot, then sleeps until it.
struct Pacer {
    interval: Option<Duration>,
    next: std::sync::Mutex<Instant>,
}

impl Pacer {
    fn new(rate: Option<f64>) -> Pacer {
        let interval = rate.filter(|r| r.is_finite() && *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r));
        Pacer { interval, next: std::sync::Mutex::new(Instant::now()) }
    }

    async fn wait(&self) {
        let Some(interval) = self.interval else { return };
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let slot = (*next).max(Instant::now());
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}
