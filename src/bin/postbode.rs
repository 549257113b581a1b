//! `postbode`: the author's and operator's command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{Parser, Subcommand};
use postbode::files::{ContentError, load_catalogue};
use postbode::render::{BaseUrl, EmailSettings};

#[derive(Parser)]
#[command(name = "postbode", version, about = "Newsletter and content delivery for the leiderschap blog")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check every post and settings file; lists each problem as path:line: message.
    Check {
        /// The content folder.
        #[arg(long, default_value = "content")]
        content: PathBuf,
        /// A page of your own website with the subscribe form (a file, or an https address):
        /// warns when its consent text differs from `consent_text`, or the form is incomplete.
        #[arg(long = "form-page")]
        form_pages: Vec<String>,
        /// The stack's address (PublicUrl): the forms must post to it.
        #[arg(long)]
        url: Option<String>,
    },
    /// Print the subscribe form for your own website, posting to the stack's address URL
    /// (the PublicUrl output of `sam deploy`), with the consent text and privacy link.
    Form {
        url: String,
        /// The page the form will be on (recorded as the source of each subscription).
        #[arg(long)]
        page: Option<String>,
        #[arg(long, default_value = "content")]
        content: PathBuf,
    },
    /// Render posts exactly as readers get them: SLUG.html, SLUG.txt and SLUG.eml.
    Preview {
        /// Only this post (default: every post).
        slug: Option<String>,
        #[arg(long, default_value = "content")]
        content: PathBuf,
        #[arg(long, default_value = "target/preview")]
        out: PathBuf,
        /// The site address the links in the email point to.
        #[arg(long, default_value = "https://postbode.example")]
        base_url: String,
        /// The email's date, RFC 3339 (default: now). A fixed date gives byte-identical files.
        #[arg(long)]
        date: Option<String>,
    },
    /// Run the whole system locally on 127.0.0.1: the HTTP API on an embedded store, with
    /// every email written to DATA/outbox/ as an .eml file. No AWS account needed.
    Dev {
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Where subscribers, the outbox and the local token secret live.
        #[arg(long, default_value = ".postbode")]
        data: PathBuf,
        #[arg(long, default_value = "content")]
        content: PathBuf,
        /// The address links in emails point to (default: http://127.0.0.1:PORT).
        #[arg(long)]
        base_url: Option<String>,
        /// Seconds between sender runs.
        #[arg(long, default_value_t = 60)]
        send_every: u64,
        /// Let simulated time run this many times faster (10080: a week per minute), to watch
        /// the series arrive week after week.
        #[arg(long, default_value_t = 1.0)]
        clock: f64,
        /// Serve without the per-route limits (for load tests: in AWS, API Gateway keeps them).
        #[arg(long)]
        no_route_limits: bool,
    },
    /// Run one pass of the sender against the local store, into the outbox, and print its
    /// report. Runs with an advancing --now behave like the scheduled Lambda at those moments.
    Send {
        /// The moment to act for, RFC 3339 (default: now).
        #[arg(long)]
        now: Option<String>,
        #[arg(long, default_value = ".postbode")]
        data: PathBuf,
        #[arg(long, default_value = "content")]
        content: PathBuf,
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        base_url: String,
    },
    /// The circuit breaker: `sending status` shows whether sending is paused (and why);
    /// `sending resume` lifts a pause after the cause is dealt with.
    Sending {
        #[command(subcommand)]
        action: SendingAction,
        #[command(flatten)]
        target: Target,
    },
    /// Subscribers: list, show, export, erase.
    Subscribers {
        #[command(subcommand)]
        action: SubscribersAction,
        #[command(flatten)]
        target: Target,
    },
    /// Subscribers by status, sends per post, bounce and complaint rates.
    Stats {
        #[command(flatten)]
        target: Target,
    },
    /// After `sam deploy`: prove that URL (the stack's PublicUrl output) is this postbode stack:
    /// health and the address mails link to, pages, feed, privacy, headers, one-click
    /// unsubscribe. Exits non-zero when any check fails.
    Smoke {
        url: String,
        /// The local content; its first post must be on the deployed site.
        #[arg(long, default_value = "content")]
        content: PathBuf,
    },
    /// Render a post for a test recipient and send it (through SES, or into the local outbox
    /// with --local), to see it in a real inbox.
    SendTest {
        slug: String,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "content")]
        content: PathBuf,
        /// The site address (default: POSTBODE_BASE_URL).
        #[arg(long, env = "POSTBODE_BASE_URL")]
        base_url: String,
        /// The From line (default: POSTBODE_FROM).
        #[arg(long, env = "POSTBODE_FROM")]
        from: String,
        #[arg(long, env = "POSTBODE_CONFIGURATION_SET")]
        configuration_set: Option<String>,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Subcommand)]
enum SendingAction {
    Status,
    Resume,
}

#[derive(Subcommand)]
enum SubscribersAction {
    /// One line per subscriber: status, address, name, since.
    List {
        /// Only this status: pending, confirmed, unsubscribed, bounced or complained.
        #[arg(long)]
        status: Option<String>,
    },
    /// A subscriber with their consent proof and send history.
    Show { email: String },
    /// Everything held about a person, as JSON (AVG art. 15).
    Export { email: String },
    /// Removes a person's data; keeps a salted hash so the address is not mailed again unless
    /// it subscribes anew (AVG art. 17).
    Erase { email: String },
}

/// Which store an operator command works on.
#[derive(clap::Args)]
struct Target {
    /// The local store in this data folder.
    #[arg(long, global = true, conflicts_with = "table")]
    local: Option<PathBuf>,
    /// The stack's DynamoDB table (credentials and region from the usual AWS settings).
    #[arg(long, global = true, env = "POSTBODE_TABLE")]
    table: Option<String>,
}

impl Target {
    /// The secret behind the suppression hashes: the local one, or the stack's (from SSM or
    /// POSTBODE_TOKEN_SECRET).
    async fn tokens(&self) -> Result<postbode::tokens::TokenKey, String> {
        match &self.local {
            Some(dir) => postbode::config::local_token_key(dir).map_err(|e| e.to_string()),
            None => {
                let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                postbode::config::token_key(&aws).await.map_err(|e| e.to_string())
            }
        }
    }

    async fn store(&self) -> Result<std::sync::Arc<dyn postbode::store::Store>, String> {
        match (&self.local, &self.table) {
            (Some(dir), _) => Ok(std::sync::Arc::new(
                postbode::store::sqlite::SqliteStore::open(&dir.join("postbode.sqlite")).map_err(|e| chain(&e))?,
            )),
            (None, Some(table)) => {
                let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                Ok(std::sync::Arc::new(postbode::store::dynamodb::DynamoStore::new(
                    aws_sdk_dynamodb::Client::new(&aws),
                    table,
                )))
            }
            (None, None) => Err("say which store: --local DATA_DIR, or --table NAME (or POSTBODE_TABLE)".into()),
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        // Content problems: every one as path:line: message, exit 1.
        Err(Failure::Problems(problems)) => {
            eprintln!("{problems}");
            ExitCode::from(1)
        }
        Err(Failure::Message(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Why a command failed: the author's content, or anything else.
enum Failure {
    Problems(postbode::content::Problems),
    Message(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Message(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::Message(message.to_owned())
    }
}

/// The content folder, validated.
fn catalogue(content: &std::path::Path) -> Result<postbode::content::Catalogue, Failure> {
    load_catalogue(content).map_err(|e| match e {
        ContentError::Invalid(problems) => Failure::Problems(problems),
        other => Failure::Message(chain(&other)),
    })
}

fn email_arg(raw: &str) -> Result<postbode::subscribers::SubscriberEmail, String> {
    postbode::subscribers::SubscriberEmail::parse(raw).map_err(|e| format!("`{raw}` is not an email address: {e}"))
}

/// Stored text as the operator's terminal may show it (see `subscribers::terminal_safe`).
fn safe(text: &str) -> String {
    postbode::subscribers::terminal_safe(text)
}

/// JSON with hidden and control characters written as `\uXXXX` escapes: the same data for
/// any JSON reader, and nothing that acts on a terminal.
fn json_terminal_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if postbode::subscribers::is_hidden_or_control(c) && c != '\n' {
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

fn json(value: &impl serde::Serialize) -> Result<String, String> {
    serde_json::to_string_pretty(value).map_err(|e| e.to_string())
}

async fn subscribers(action: SubscribersAction, target: &Target) -> Result<ExitCode, String> {
    use postbode::operator;
    let store = target.store().await?;
    let now = jiff::Timestamp::now();
    let not_found = |email: &str| {
        eprintln!("no subscriber with address {email}");
        Ok(ExitCode::from(1))
    };
    match action {
        SubscribersAction::List { status } => {
            let mut all = store.all_subscribers().await.map_err(|e| chain(&e))?;
            if let Some(status) = &status {
                all.retain(|s| s.status.as_str() == status);
            }
            all.sort_by_key(|s| s.created_at);
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
                operator::export(store.as_ref(), &email_arg(&email)?, now).await.map_err(|e| chain(&e))?
            else {
                return not_found(&email);
            };
            let s = &export.subscriber;
            println!("{} ({}), {}", s.email, safe(s.first_name.as_deref().unwrap_or("no name")), s.status.as_str());
            println!("id {}, since {}, series position {}", s.id, s.created_at, s.drip.position);
            println!("consent:");
            for c in &s.consent {
                println!(
                    "  {:?} at {} from {} ({}), page {}, consent text {}",
                    c.action,
                    c.at,
                    c.ip.as_deref().unwrap_or("?"),
                    safe(c.user_agent.as_deref().unwrap_or("?")),
                    safe(c.source_url.as_deref().unwrap_or("-")),
                    c.consent_text_version
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
        SubscribersAction::Export { email } => {
            let Some(export) =
                operator::export(store.as_ref(), &email_arg(&email)?, now).await.map_err(|e| chain(&e))?
            else {
                return not_found(&email);
            };
            println!("{}", json_terminal_safe(&json(&export)?));
        }
        SubscribersAction::Erase { email } => {
            let tokens = target.tokens().await?;
            if !operator::erase(store.as_ref(), &tokens, &email_arg(&email)?, now).await.map_err(|e| chain(&e))? {
                return not_found(&email);
            }
            println!(
                "erased {email}: record, consent proof and send history removed; the address is on the suppression list"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Subscribers { action, target } => Ok(runtime()?.block_on(subscribers(action, &target))?),
        Command::Stats { target } => runtime()?.block_on(async {
            let store = target.store().await?;
            let stats =
                postbode::operator::stats(store.as_ref(), jiff::Timestamp::now()).await.map_err(|e| chain(&e))?;
            println!("{}", json(&stats)?);
            Ok(ExitCode::SUCCESS)
        }),
        Command::SendTest { slug, to, content, base_url, from, configuration_set, target } => {
            let catalogue = load_catalogue(&content).map_err(|e| chain(&e))?;
            let post = catalogue.post(&slug).ok_or_else(|| format!("there is no post with slug `{slug}`"))?;
            let settings = postbode::config::email_settings(&base_url, &from, None).map_err(|e| e.to_string())?;
            let address: lettre::Address = to.parse().map_err(|e| format!("`{to}` is not an email address: {e}"))?;
            Ok(runtime()?.block_on(async {
                let store = target.store().await?;
                let tokens = target.tokens().await?;
                if postbode::operator::is_suppressed(store.as_ref(), &tokens, &email_arg(&to)?)
                    .await
                    .map_err(|e| chain(&e))?
                {
                    return Err(format!("{to} was erased and is on the suppression list; it is not mailed"));
                }
                let now = jiff::Timestamp::now();
                let recipient = postbode::render::Recipient {
                    to: lettre::message::Mailbox::new(None, address),
                    first_name: None,
                    unsubscribe_token: tokens.sign(
                        postbode::tokens::Purpose::Unsubscribe,
                        &postbode::subscribers::SubscriberId::random(),
                        1,
                        now,
                    ),
                };
                let email = postbode::render::PreparedEmail::new(&catalogue, post, &settings)
                    .and_then(|p| p.render(&recipient, now.into()))
                    .map_err(|e| chain(&e))?;
                let mailer: Box<dyn postbode::mail::Mailer> = match &target.local {
                    Some(dir) => Box::new(
                        postbode::mail::outbox::OutboxMailer::new(dir.join("outbox")).map_err(|e| e.to_string())?,
                    ),
                    None => {
                        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                        Box::new(postbode::mail::ses::SesMailer::new(
                            aws_sdk_sesv2::Client::new(&aws),
                            configuration_set,
                        ))
                    }
                };
                let id = mailer
                    .send(postbode::mail::Outgoing { to: &to, mime: &email.mime, tag: &slug })
                    .await
                    .map_err(|e| e.to_string())?;
                // A test send is list mail: it counts in the breaker's denominator.
                let day = now.to_zoned(jiff::tz::TimeZone::UTC).date();
                let one = postbode::store::DayStats { sent: 1, ..Default::default() };
                store.add_stats(postbode::store::Ledger::List, day, one).await.map_err(|e| chain(&e))?;
                println!("sent `{}` to {to} (message id {id})", email.subject);
                Ok::<_, String>(ExitCode::SUCCESS)
            })?)
        }
        Command::Sending { action, target } => {
            let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
            runtime.block_on(async {
                let store = target.store().await?;
                match action {
                    SendingAction::Status => match store.sending_state().await.map_err(|e| chain(&e))?.paused {
                        Some(p) => {
                            println!("paused since {}: {}\nresume with: postbode sending resume", p.since, p.reason)
                        }
                        None => println!("sending is on"),
                    },
                    SendingAction::Resume => {
                        match postbode::jobs::ses_events::resume(store.as_ref(), jiff::Timestamp::now())
                            .await
                            .map_err(|e| chain(&e))?
                        {
                            Some(p) => println!("resumed; the pause since {} ({}) is lifted", p.since, p.reason),
                            None => println!("sending was not paused; nothing changed"),
                        }
                    }
                }
                Ok::<_, String>(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Send { now, data, content, base_url } => {
            let catalogue = catalogue(&content)?;
            let now = match now {
                Some(t) => {
                    t.parse::<jiff::Timestamp>().map_err(|e| format!("--now `{t}` is not an RFC 3339 time: {e}"))?
                }
                None => jiff::Timestamp::now(),
            };
            let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
            let report = runtime.block_on(postbode::local::send_once(&data, catalogue, &base_url, now))?;
            println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Dev { port, data, content, base_url, send_every, clock, no_route_limits } => {
            let catalogue = catalogue(&content)?;
            let base_url = base_url.unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
            let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
            if !(clock.is_finite() && clock > 0.0) {
                return Err(format!("--clock {clock} must be a positive number").into());
            }
            let send_every = std::time::Duration::from_secs(send_every.max(1));
            let options = postbode::local::DevOptions {
                port,
                data,
                catalogue,
                base_url,
                send_every,
                clock_speed: clock,
                route_limits: !no_route_limits,
            };
            runtime.block_on(postbode::local::serve(options))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Smoke { url, content } => {
            let catalogue = load_catalogue(&content).ok();
            let report = runtime()?.block_on(postbode::smoke::run(&url, catalogue.as_ref()))?;
            for check in &report.checks {
                println!("{check}");
            }
            println!("{}", report.summary());
            Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Check { content, form_pages, url } => {
            let catalogue = catalogue(&content)?;
            println!(
                "{}: no problems (posts: {}, series: {}, broadcasts: {})",
                content.display(),
                catalogue.posts.len(),
                catalogue.series.len(),
                catalogue.posts.iter().filter(|p| p.series().is_none()).count()
            );
            let base = url.as_deref().map(BaseUrl::parse).transpose()?;
            for page in &form_pages {
                let html = if page.starts_with("https://") || page.starts_with("http://") {
                    runtime()?.block_on(postbode::smoke::fetch_page(page))?
                } else {
                    std::fs::read_to_string(page).map_err(|e| format!("cannot read {page}: {e}"))?
                };
                let warnings = postbode::smoke::form_page_warnings(&catalogue.site, base.as_ref(), &html);
                if warnings.is_empty() {
                    println!("{page}: the form matches (consent text, fields, privacy link)");
                }
                for warning in warnings {
                    println!("warning: {page}: {warning}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Form { url, page, content } => {
            let catalogue = catalogue(&content)?;
            let base = BaseUrl::parse(&url)?;
            println!("{}", postbode::render::web::embeddable_form(&catalogue.site, &base, page.as_deref()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Preview { slug, content, out, base_url, date } => {
            let catalogue = catalogue(&content)?;
            let base_url = BaseUrl::parse(&base_url)?;
            let date = match date {
                Some(d) => d
                    .parse::<jiff::Timestamp>()
                    .map_err(|e| format!("--date `{d}` is not an RFC 3339 time like 2026-12-01T08:00:00+01:00: {e}"))?
                    .into(),
                None => SystemTime::now(),
            };
            let host = base_url.host().split(':').next().unwrap_or("postbode.example").to_owned();
            let address = |local: &str| {
                format!("{local}@{host}")
                    .parse::<lettre::Address>()
                    .map_err(|e| format!("no mail address for {host}: {e}"))
            };
            let settings = EmailSettings {
                from: lettre::message::Mailbox::new(Some(catalogue.site.author.clone()), address("nieuwsbrief")?),
                reply_to: None,
                base_url,
            };
            let slugs = postbode::preview::write_previews(&catalogue, slug.as_deref(), &settings, &out, date)
                .map_err(|e| chain(&e))?;
            println!("Wrote {} post(s) to {}/ as SLUG.html, SLUG.txt and SLUG.eml:", slugs.len(), out.display());
            for slug in slugs.iter().take(20) {
                println!("  {}", out.join(format!("{slug}.eml")).display());
            }
            if slugs.len() > 20 {
                println!("  … and {} more", slugs.len() - 20);
            }
            println!("Open the .html in a browser and the .eml in a mail client to see what readers get.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn chain(error: &dyn std::error::Error) -> String {
    postbode::error_chain(error)
}
