//! The operator's commands, on the stack's table (`--table`, or POSTBODE_TABLE) or the local
//! store (`--local DIR`): `subscribers …`, `sending …`, `stats`, `smoke`, `send-test`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use super::{CommandResult, Failure, Target, email_arg, runtime};
use crate::app::operator;
use crate::app::operator::send_test::TestMail;
use crate::subscribers::terminal_safe as safe;

#[derive(clap::Subcommand, Debug)]
pub enum SubscribersAction {
    /// One line per subscriber: status, address, name, since.
    List {
        /// Only this status: pending, confirmed, unsubscribed, bounced or complained.
        #[arg(long)]
        status: Option<String>,
    },
    /// A subscriber with their consent proof and send history.
    Show { email: String },
    /// Everything held about a person, as JSON (AVG art. 15); with `--all`, the whole list:
    /// `--format csv` writes the file `subscribers import` reads back (a copy to keep, or the
    /// list to take elsewhere), `--format json` everyone's record and sends.
    Export {
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        email: Option<String>,
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
    },
    /// Removes a person's data; keeps a salted hash so the address is not mailed again unless
    /// it subscribes anew (AVG art. 17).
    Erase { email: String },
    /// Unsubscribes a reader who asked (by reply, say); keeps their consent proof, unlike
    /// `erase`.
    Unsubscribe { email: String },
    /// Pauses the series for a reader who asked (their news keeps coming if they want it):
    /// `--weeks N` (1 to 52) or `--until YYYY-MM-DD`.
    Pause {
        email: String,
        #[arg(long, conflicts_with = "until", required_unless_present = "until")]
        weeks: Option<i64>,
        #[arg(long)]
        until: Option<String>,
    },
    /// Ends a reader's pause now.
    Resume { email: String },
    /// Which mail a reader wants: `both` (the series and news), `series` or `news`.
    Prefer { email: String, choice: String },
    /// Changes a reader's first name (an empty NAME removes it).
    Rename { email: String, name: String },
    /// Stops every link sent to a reader before now (confirm, whitepaper) from working, by
    /// raising their token version; their unsubscribe links keep working. For a leaked link.
    RevokeLinks { email: String },
    /// Sends a pending reader a new confirmation mail (within the caps on confirmation mail).
    ResendConfirmation {
        email: String,
        #[command(flatten)]
        mail: MailArgs,
    },
    /// Adds readers who gave their consent elsewhere, as confirmed, with that consent as proof.
    /// FILE is CSV with the header `email,first_name,consented_at,consent_source`. Never
    /// touches anyone unsubscribed, bounced, complained or erased; sends nothing.
    Import {
        file: PathBuf,
        /// Show what would happen, row by row, without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// The content folder (for the series' schedule: when imported readers get post 1).
        #[arg(long, default_value = "content")]
        content: PathBuf,
    },
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
}

#[derive(clap::Subcommand, Debug)]
pub enum ConfirmationsAction {
    /// Tries again, now, the sign-ups whose confirmation mail SES refused on every try of the
    /// stream (they wait until they expire, a day after the form; each sender run also
    /// retries them). Never mails anyone twice: the stored cooldown holds.
    Retry {
        #[command(flatten)]
        mail: MailArgs,
    },
}

/// `postbode confirmations retry`
pub fn confirmations(action: ConfirmationsAction, target: &Target) -> CommandResult {
    let ConfirmationsAction::Retry { mail } = action;
    runtime()?.block_on(async {
        let store = target.store().await?;
        let app = operator_app(target, store, &mail).await?;
        let done = crate::app::confirmations::retry_waiting(&app, 1000).await.map_err(|e| crate::error_chain(&e))?;
        println!(
            "sign-ups tried again: {} handled, {} still refused (kept until they expire), {} expired and forgotten",
            done.handled, done.kept, done.expired
        );
        Ok(if done.kept > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
    })
}

#[derive(clap::Subcommand, Debug)]
pub enum SendingAction {
    /// Whether sending is paused (and why), whether the last run met an account-level SES
    /// error, and how many failed runs and events wait in the dead-letter queue.
    Status {
        /// The stack's dead-letter queue (its `DeadLetterQueue` output).
        #[arg(long, env = "POSTBODE_DEAD_LETTER_QUEUE")]
        dead_letter_queue: Option<String>,
        /// The confirmations' dead-letter queue (its `ConfirmationsDeadLetterQueue` output).
        #[arg(long, env = "POSTBODE_CONFIRMATIONS_DEAD_LETTER_QUEUE")]
        confirmations_dead_letter_queue: Option<String>,
    },
    /// Lifts a pause after the cause is dealt with.
    Resume,
}

/// How mail from an operator command is made: the stack's settings (or the local mode's).
#[derive(clap::Args, Debug, Clone)]
pub struct MailArgs {
    #[arg(long, default_value = "content")]
    pub content: PathBuf,
    /// The site address links point to (default: POSTBODE_BASE_URL; locally
    /// http://127.0.0.1:3000).
    #[arg(long, env = "POSTBODE_BASE_URL")]
    pub base_url: Option<String>,
    /// The From line (default: POSTBODE_FROM).
    #[arg(long, env = "POSTBODE_FROM")]
    pub from: Option<String>,
    #[arg(long, env = "POSTBODE_CONFIGURATION_SET")]
    pub configuration_set: Option<String>,
}

fn not_found(email: &str) -> CommandResult {
    eprintln!("no subscriber with address {email}");
    Ok(ExitCode::from(1))
}

fn json(value: &impl serde::Serialize) -> Result<String, String> {
    serde_json::to_string_pretty(value).map_err(|e| e.to_string())
}

/// JSON with hidden and control characters written as `\uXXXX` escapes: the same data for
/// any JSON reader, and nothing that acts on a terminal.
fn json_terminal_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if crate::subscribers::is_hidden_or_control(c) && c != '\n' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A change of a reader's preferences on their request, with the command in the proof.
async fn preference(
    store: &dyn crate::store::Store,
    email: &str,
    command: &str,
    change: &crate::subscribers::PreferenceChange,
    now: jiff::Timestamp,
) -> CommandResult {
    use crate::app::preferences::{self, Changed};
    let address = email_arg(email)?;
    let evidence = preferences::by_the_operator(command);
    let lookup = crate::app::retry::Lookup::Email(&address);
    match preferences::change(store, lookup, change, &evidence, now).await.map_err(|e| crate::error_chain(&e))? {
        Changed::Unknown => not_found(email),
        Changed::Nothing(read) => {
            println!(
                "{email} ({}): nothing changed (already so, or not for a reader in this state)",
                read.status.as_str()
            );
            Ok(ExitCode::SUCCESS)
        }
        Changed::Now(stored) => {
            let p = &stored.preferences;
            let paused = p.paused_at(now).map(|t| format!(", series paused until {t}")).unwrap_or_default();
            println!(
                "{email}: {}, gets {}{paused}; name {}",
                stored.status.as_str(),
                p.mail.as_str(),
                safe(stored.first_name.as_deref().unwrap_or("-"))
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `postbode subscribers …`
pub fn subscribers(action: SubscribersAction, target: &Target) -> CommandResult {
    runtime()?.block_on(subscribers_async(action, target))
}

async fn subscribers_async(action: SubscribersAction, target: &Target) -> CommandResult {
    let store = target.store().await?;
    let now = jiff::Timestamp::now();
    match action {
        SubscribersAction::List { status } => {
            let all = operator::list(store.as_ref(), status.as_deref()).await.map_err(|e| crate::error_chain(&e))?;
            for s in &all {
                println!(
                    "{:<12} {:<40} {:<20} since {}",
                    s.status.as_str(),
                    s.email,
                    safe(s.first_name.as_deref().unwrap_or("-")),
                    s.created_at
                );
            }
            println!("{} subscriber(s)", all.len());
        }
        SubscribersAction::Show { email } => {
            let Some(export) =
                operator::export(store.as_ref(), &email_arg(&email)?, now).await.map_err(|e| crate::error_chain(&e))?
            else {
                return not_found(&email);
            };
            for reaction in &export.reactions {
                println!(
                    "reaction {} under {} ({:?}, {}): {}",
                    reaction.id.short(),
                    reaction.slug,
                    reaction.status,
                    reaction.created_at,
                    safe(&reaction.text.chars().take(60).collect::<String>())
                );
            }
            let Some(s) = &export.subscriber else {
                println!("{email}: not on the list (only reactions)");
                return Ok(ExitCode::SUCCESS);
            };
            println!("{} ({}), {}", s.email, safe(s.first_name.as_deref().unwrap_or("no name")), s.status.as_str());
            println!("id {}, since {}, posts received {}", s.id, s.created_at, s.drip.received.len());
            let paused = s.preferences.paused_at(now).map(|t| format!(", series paused until {t}")).unwrap_or_default();
            println!("gets {}{paused}", s.preferences.mail.as_str());
            println!("consent:");
            for c in &s.consent {
                println!(
                    "  {:?} at {} from {} ({}), page {}, consent text {}{}",
                    c.action,
                    c.at,
                    c.ip.as_deref().unwrap_or("?"),
                    safe(c.user_agent.as_deref().unwrap_or("?")),
                    safe(c.source_url.as_deref().unwrap_or("-")),
                    c.consent_text_version,
                    c.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
                );
            }
            println!("sends:");
            for send in &export.sends {
                println!(
                    "  {:<40} {:?} {}",
                    send.slug,
                    send.state,
                    send.finished_at.map(|t| t.to_string()).unwrap_or_default()
                );
            }
        }
        SubscribersAction::Export { email, format, .. } => {
            if format == ExportFormat::Csv {
                // The list (CSV, for import elsewhere): subscribers only.
                let people = match &email {
                    Some(email) => match operator::find(store.as_ref(), &email_arg(email)?)
                        .await
                        .map_err(|e| crate::error_chain(&e))?
                    {
                        Some(subscriber) => vec![subscriber],
                        None => return not_found(email),
                    },
                    None => operator::list(store.as_ref(), None).await.map_err(|e| crate::error_chain(&e))?,
                };
                let csv = crate::subscribers::export::to_csv(&people).map_err(|e| e.to_string())?;
                std::io::Write::write_all(&mut std::io::stdout().lock(), &csv).map_err(|e| e.to_string())?;
                return Ok(ExitCode::SUCCESS);
            }
            let json = match &email {
                Some(email) => match operator::export(store.as_ref(), &email_arg(email)?, now)
                    .await
                    .map_err(|e| crate::error_chain(&e))?
                {
                    Some(one) => json(&one)?,
                    None => return not_found(email),
                },
                None => json(&operator::export_all(store.as_ref(), now).await.map_err(|e| crate::error_chain(&e))?)?,
            };
            println!("{}", json_terminal_safe(&json));
        }
        SubscribersAction::Erase { email } => {
            let tokens = target.tokens().await?;
            // SES's suppression list is the account's, not the configuration set's.
            let mailer = target.mailer(None).await?;
            if !operator::erase(store.as_ref(), mailer.as_ref(), &tokens, &email_arg(&email)?, now)
                .await
                .map_err(|e| crate::error_chain(&e))?
            {
                return not_found(&email);
            }
            println!(
                "erased {email}: record, consent proof, send history and reactions removed, and the address taken off SES's suppression list; its salted hash is on postbode's suppression list"
            );
        }
        SubscribersAction::Unsubscribe { email } => {
            match operator::unsubscribe(store.as_ref(), &email_arg(&email)?, now)
                .await
                .map_err(|e| crate::error_chain(&e))?
            {
                operator::Unsubscribed::Unknown => return not_found(&email),
                operator::Unsubscribed::Already => println!("{email} was not subscribed; nothing changed"),
                operator::Unsubscribed::From(status) => {
                    println!("unsubscribed {email} (was {}); the consent proof is kept", status.as_str())
                }
            }
        }
        SubscribersAction::Pause { email, weeks, until } => {
            let change = match (weeks, until.as_deref()) {
                (Some(weeks), _) => crate::app::preferences::pause_for_weeks(None, weeks, now)
                    .ok_or_else(|| format!("--weeks must be 1 to {}", crate::app::preferences::MAX_PAUSE_WEEKS))?,
                (None, Some(date)) => {
                    let date: jiff::civil::Date =
                        date.parse().map_err(|e| format!("--until `{date}` is not a date like 2027-01-05: {e}"))?;
                    let zone = crate::content::site_time_zone();
                    let until = date.to_zoned(zone).map_err(|e| e.to_string())?.timestamp();
                    crate::app::preferences::pause_until(None, until)
                }
                (None, None) => return Err("say how long: --weeks N or --until YYYY-MM-DD".into()),
            };
            return preference(store.as_ref(), &email, "pause", &change, now).await;
        }
        SubscribersAction::Resume { email } => {
            return preference(store.as_ref(), &email, "resume", &crate::subscribers::PreferenceChange::Resume, now)
                .await;
        }
        SubscribersAction::Prefer { email, choice } => {
            let choice = crate::subscribers::MailChoice::parse(&choice)
                .ok_or_else(|| format!("`{choice}` is not a choice: both, series or news"))?;
            let change = crate::subscribers::PreferenceChange::Mail(choice);
            return preference(store.as_ref(), &email, "prefer", &change, now).await;
        }
        SubscribersAction::Rename { email, name } => {
            let change = crate::subscribers::PreferenceChange::Rename(Some(name));
            return preference(store.as_ref(), &email, "rename", &change, now).await;
        }
        SubscribersAction::RevokeLinks { email } => {
            match operator::revoke_links(store.as_ref(), &email_arg(&email)?, now)
                .await
                .map_err(|e| crate::error_chain(&e))?
            {
                None => return not_found(&email),
                Some(version) => println!(
                    "{email}: links sent before now no longer work (token version {version}); unsubscribe links still do"
                ),
            }
        }
        SubscribersAction::ResendConfirmation { email, mail } => {
            let app = operator_app(target, store, &mail).await?;
            let outcome = crate::app::confirmations::resend(&app, &email_arg(&email)?)
                .await
                .map_err(|e| crate::error_chain(&e))?;
            println!("{email}: {outcome}");
            if !matches!(outcome, crate::app::confirmations::Resent::Sent) {
                return Ok(ExitCode::from(1));
            }
        }
        SubscribersAction::Import { file, dry_run, content } => {
            return import(&store, target, &file, dry_run, &content, now).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn import(
    store: &Arc<dyn crate::store::Store>,
    target: &Target,
    file: &Path,
    dry_run: bool,
    content: &Path,
    now: jiff::Timestamp,
) -> CommandResult {
    let catalogue = super::catalogue(content)?;
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let rows = crate::subscribers::import::parse_csv(&bytes, now).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("{}:{p}", file.display())).collect();
        Failure::Message(format!("{}\nnothing was imported; fix these rows and run it again", lines.join("\n")))
    })?;
    let tokens = target.tokens().await?;
    let report = operator::import(store.as_ref(), &tokens, &rows, &catalogue, now, dry_run)
        .await
        .map_err(|e| crate::error_chain(&e))?;
    for line in &report {
        println!("{}:{}: {} {}", file.display(), line.line, line.email, line.outcome);
    }
    let added = report.iter().filter(|l| l.outcome.is_added()).count();
    let verb = if dry_run { "would add" } else { "added" };
    println!("{verb} {added} of {} row(s){}", report.len(), if dry_run { " (dry run: nothing written)" } else { "" });
    Ok(ExitCode::SUCCESS)
}

/// The app an operator command sends mail with: the local mode's, or one on the stack.
async fn operator_app(
    target: &Target,
    store: Arc<dyn crate::store::Store>,
    mail: &MailArgs,
) -> Result<crate::app::App, Failure> {
    let catalogue = super::catalogue(&mail.content)?;
    if let Some(dir) = &target.local {
        let base_url = mail.base_url.as_deref().unwrap_or("http://127.0.0.1:3000");
        return Ok(crate::startup::local_app(dir, catalogue, base_url)?);
    }
    let base_url = mail.base_url.as_deref().ok_or("say where links point: --base-url (or POSTBODE_BASE_URL)")?;
    let from = mail.from.as_deref().ok_or("say who mails: --from (or POSTBODE_FROM)")?;
    let parts = crate::app::Parts {
        store,
        mailer: Arc::from(target.mailer(mail.configuration_set.clone()).await?),
        catalogue: Arc::new(catalogue),
        email: crate::config::email_settings(base_url, from, None).map_err(|e| e.to_string())?,
        tokens: target.tokens().await?,
    };
    Ok(parts.app(crate::startup::settings_from_env().map_err(|e| e.to_string())?))
}

/// `postbode sending status|resume`
pub fn sending(action: SendingAction, target: &Target) -> CommandResult {
    runtime()?.block_on(async {
        let store = target.store().await?;
        match action {
            SendingAction::Status { dead_letter_queue, confirmations_dead_letter_queue } => {
                let state = store.sending_state().await.map_err(|e| crate::error_chain(&e))?;
                match state.paused {
                    Some(p) => println!("paused since {}: {}\nresume with: postbode sending resume", p.since, p.reason),
                    None => println!("sending is on"),
                }
                if let Some(problem) = state.problem {
                    println!(
                        "the last run was stopped by SES at {}: {}\n(nobody moved on; the next run tries again once this is fixed)",
                        problem.since, problem.reason
                    );
                }
                if let Some(queue) = dead_letter_queue {
                    let waiting = dead_letters(&queue).await?;
                    println!(
                        "dead-letter queue: {waiting} failed sender run(s) or SES event(s) waiting{}",
                        if waiting > 0 { " (read them in the SQS console; the logs say why)" } else { "" }
                    );
                }
                // Sign-ups whose confirmation the stream could not send, still waiting: each
                // sender run tries them again until they expire.
                let cutoff = jiff::Timestamp::now()
                    .saturating_sub(crate::app::confirmations::STREAM_GRACE)
                    .unwrap_or(jiff::Timestamp::now());
                let intents = store.pending_intents(1000).await.map_err(|e| crate::error_chain(&e))?;
                let stuck = intents.iter().filter(|i| i.at <= cutoff).count();
                if stuck > 0 {
                    println!(
                        "sign-ups waiting for their confirmation mail: {stuck} (tried again after every sender run \
                         until a day after the form; now: postbode confirmations retry)"
                    );
                }
                if let Some(queue) = confirmations_dead_letter_queue {
                    let waiting = dead_letters(&queue).await?;
                    println!(
                        "confirmations dead-letter queue: {waiting} failed batch(es) of sign-ups{}",
                        if waiting > 0 { " (their sign-ups are retried as above; the confirmations logs say why)" } else { "" }
                    );
                }
            }
            SendingAction::Resume => {
                match crate::app::ses_events::resume(store.as_ref(), jiff::Timestamp::now())
                    .await
                    .map_err(|e| crate::error_chain(&e))?
                {
                    Some(p) => println!("resumed; the pause since {} ({}) is lifted", p.since, p.reason),
                    None => println!("sending was not paused; nothing changed"),
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The messages waiting in the stack's dead-letter queue.
#[cfg(feature = "dead-letters")]
async fn dead_letters(queue_url: &str) -> Result<u64, String> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let client = aws_sdk_sqs::Client::new(&super::aws().await);
    let out = client
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| format!("the dead-letter queue {queue_url} could not be read: {}", crate::error_chain(&e)))?;
    let count = out.attributes().and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages));
    Ok(count.and_then(|n| n.parse().ok()).unwrap_or(0))
}

#[cfg(not(feature = "dead-letters"))]
async fn dead_letters(_queue_url: &str) -> Result<u64, String> {
    Err("this build of postbode has no SQS support (feature `dead-letters`)".into())
}

/// `postbode stats [--since 30d] [--json]`: the list now (by status, the breaker's rates) and
/// what happened in the period (sign-ups per page, confirmation rate, per post sent,
/// unsubscribes, bounces and complaints, list size per week).
pub fn stats(target: &Target, since: &str, as_json: bool) -> CommandResult {
    let period = crate::subscribers::figures::parse_since(since)?;
    runtime()?.block_on(async {
        let store = target.store().await?;
        let now = jiff::Timestamp::now();
        let stats = operator::stats(store.as_ref(), now).await.map_err(|e| crate::error_chain(&e))?;
        let from = now.saturating_sub(period).unwrap_or(now);
        let figures = operator::figures(store.as_ref(), from, now).await.map_err(|e| crate::error_chain(&e))?;
        // SES's own figures for the whole account (its quota, what it sent in 24 hours):
        // not a reason to fail the rest when they cannot be read.
        let account = target.mailer(None).await?.account().await.map_err(|e| crate::error_chain(&e));
        if as_json {
            let (ses_account, ses_account_error) = match &account {
                Ok(facts) => (facts.clone(), None),
                Err(e) => (None, Some(e.clone())),
            };
            let all = serde_json::json!({
                "now": stats,
                "period": figures,
                "ses_account": ses_account,
                "ses_account_error": ses_account_error,
            });
            println!("{}", json(&all)?);
        } else {
            print!("{}", stats_text(&stats, &figures));
            println!("{}", account_line(&account, stats.subscribers.get("confirmed").copied().unwrap_or(0)));
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn stats_text(stats: &operator::Stats, f: &crate::subscribers::figures::ListFigures) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let by_status: Vec<String> = stats.subscribers.iter().map(|(status, n)| format!("{n} {status}")).collect();
    let _ =
        writeln!(out, "subscribers now: {}", if by_status.is_empty() { "none".into() } else { by_status.join(", ") });
    let _ = writeln!(
        out,
        "last 7 days: {} sent, bounce rate {:.2}%, complaint rate {:.3}%{}",
        stats.last_7_days.sent,
        stats.bounce_rate_percent,
        stats.complaint_rate_percent,
        stats.paused.as_deref().map(|p| format!("; sending PAUSED {p}")).unwrap_or_default()
    );
    // The mail strangers can cause, on ledgers of their own: SES's account bounce rate counts
    // it all, so the author sees it here too.
    for (what, day) in [
        ("confirmation mails", stats.confirmation_mails_last_7_days),
        ("welcome and new readers' mails", stats.new_readers_last_7_days),
    ] {
        let _ = writeln!(out, "  {what}: {} sent, {} bounced, {} complaints", day.sent, day.bounced, day.complained);
    }
    if let Some(reason) = &stats.intake_throttled {
        let _ = writeln!(out, "confirmation mail THROTTLED to a trickle: {reason}");
    }
    let choices = &stats.preferences;
    if choices.paused + choices.series_only + choices.news_only > 0 {
        let _ = writeln!(
            out,
            "readers' choices: {} pausing the series, {} only the series, {} only news",
            choices.paused, choices.series_only, choices.news_only
        );
    }
    if stats.reactions_waiting > 0 {
        let more = if stats.reactions_waiting >= operator::WAITING_COUNTED { " or more" } else { "" };
        let _ = writeln!(
            out,
            "reactions waiting for you: {}{more} (postbode reactions list --waiting)",
            stats.reactions_waiting
        );
    }
    let _ = writeln!(out, "\nfrom {} to {}:", f.since, f.until);
    let _ = writeln!(out, "sign-ups per page:");
    if f.signups_by_source.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for (page, n) in &f.signups_by_source {
        let _ = writeln!(out, "  {n:>6}  {}", safe(page));
    }
    let rate = f.confirmation_rate().map_or("-".into(), |r| format!("{r:.0}%"));
    let _ = writeln!(out, "confirm pages shown: {}, confirmed: {} ({rate})", f.confirm_pages_shown, f.confirmed);
    let _ = writeln!(out, "per post:              sent  unsubscribed after  bounced  complained");
    for (slug, p) in &f.per_post {
        let _ = writeln!(
            out,
            "  {slug:<20} {:>5}  {:>18}  {:>7}  {:>10}",
            p.sent, p.unsubscribed_after, p.bounced, p.complained
        );
    }
    let _ = writeln!(out, "page views per post (readers on the web; bots and HEAD not counted):");
    if f.page_views.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for (slug, days) in &f.page_views {
        let per_day: Vec<String> = days.iter().map(|(day, n)| format!("{day}: {n}")).collect();
        let _ = writeln!(out, "  {slug:<20} {:>6}  ({})", f.views_of(slug), per_day.join(", "));
    }
    let _ = writeln!(out, "confirmed readers per week:");
    for (day, n) in &f.list_size {
        let _ = writeln!(out, "  {day}  {n}");
    }
    out
}

/// The SES account in one line: its quota against the list, what it sent, its standing.
fn account_line(account: &Result<Option<crate::mail::AccountFacts>, String>, readers: u64) -> String {
    match account {
        Ok(None) => "SES account: none here (the local outbox has no quota)".into(),
        Err(e) => format!("SES account: could not be read ({e}); `postbode preflight --account` says more"),
        Ok(Some(a)) => {
            let mut notes = Vec::new();
            if !a.production_access {
                notes.push("IN THE SANDBOX (only verified addresses)".to_owned());
            }
            if !a.sending_enabled {
                notes.push("SENDING DISABLED".to_owned());
            }
            if let Some(status) = a.enforcement.as_deref().filter(|s| *s != "HEALTHY") {
                notes.push(format!("enforcement status {status}"));
            }
            if a.max_24_hour_send < readers as f64 {
                notes.push(format!("the daily quota is below the {readers} confirmed readers"));
            }
            format!(
                "SES account: {:.0} of {:.0} mails sent in the last 24 hours, at most {} a second{}",
                a.sent_last_24_hours,
                a.max_24_hour_send,
                a.max_send_rate,
                if notes.is_empty() { String::new() } else { format!("; {}", notes.join("; ")) }
            )
        }
    }
}

/// `postbode smoke URL`
pub fn smoke(url: &str, content: &Path) -> CommandResult {
    let catalogue = crate::content_io::load_catalogue(content).ok();
    let report = runtime()?.block_on(super::smoke::run(url, catalogue.as_ref()))?;
    for check in &report.checks {
        println!("{check}");
    }
    println!("{}", report.summary());
    Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `postbode send-test SLUG --to ADDRESS`, or `send-test --letter NAME --to ADDRESS`
pub fn send_test(
    slug: Option<&str>,
    letter: Option<&str>,
    to: &str,
    mail: &MailArgs,
    target: &Target,
) -> CommandResult {
    let catalogue = super::catalogue(&mail.content)?;
    let what = match (slug, letter) {
        (Some(slug), _) => {
            TestMail::Post(catalogue.post(slug).ok_or_else(|| format!("there is no post with slug `{slug}`"))?)
        }
        (None, Some(name)) => TestMail::Letter(crate::render::letters::LetterKind::parse(name)?),
        (None, None) => return Err("say what to send: a post's SLUG, or --letter NAME".into()),
    };
    let base_url = mail.base_url.as_deref().ok_or("say where links point: --base-url (or POSTBODE_BASE_URL)")?;
    let from = mail.from.as_deref().ok_or("say who mails: --from (or POSTBODE_FROM)")?;
    let email = crate::config::email_settings(base_url, from, None).map_err(|e| e.to_string())?;
    let address = email_arg(to)?;
    runtime()?.block_on(async {
        let parts = crate::app::Parts {
            store: target.store().await?,
            mailer: Arc::from(target.mailer(mail.configuration_set.clone()).await?),
            catalogue: Arc::new(catalogue.clone()),
            email,
            tokens: target.tokens().await?,
        };
        let sent = operator::send_test::send_test(&parts, what, &address, jiff::Timestamp::now())
            .await
            .map_err(|e| crate::error_chain(&e))?;
        println!("sent `{}` to {to} (message id {})", sent.subject, sent.message_id);
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::AccountFacts;

    #[test]
    fn the_account_line_names_quota_use_and_every_problem() {
        let healthy = AccountFacts {
            production_access: true,
            sending_enabled: true,
            enforcement: Some("HEALTHY".into()),
            max_24_hour_send: 50_000.0,
            max_send_rate: 14.0,
            sent_last_24_hours: 312.0,
        };
        assert_eq!(
            account_line(&Ok(Some(healthy.clone())), 300),
            "SES account: 312 of 50000 mails sent in the last 24 hours, at most 14 a second"
        );
        let sandbox = AccountFacts {
            production_access: false,
            max_24_hour_send: 200.0,
            max_send_rate: 1.0,
            enforcement: Some("PROBATION".into()),
            ..healthy
        };
        assert_eq!(
            account_line(&Ok(Some(sandbox)), 300),
            "SES account: 312 of 200 mails sent in the last 24 hours, at most 1 a second; IN THE SANDBOX (only \
             verified addresses); enforcement status PROBATION; the daily quota is below the 300 confirmed readers"
        );
        assert!(account_line(&Err("denied".into()), 1).contains("could not be read (denied)"));
    }
}
