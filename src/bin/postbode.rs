//! `postbode`: the author's and operator's command line. This file parses the arguments and
//! hands each command to the function of the same name in `postbode::cli` (`author`,
//! `operator`, `local`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use postbode::cli::operator::{ConfirmationsAction, MailArgs, SendingAction, SubscribersAction};
use postbode::cli::{Target, author, local, operator};

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
    /// The go-live gate: the content without placeholders or example addresses, AlertEmail,
    /// and with --domain the DNS SES needs (DKIM, MAIL FROM MX and SPF, DMARC), with
    /// --account the SES account (sandbox, sending, quota). One PASS/FAIL line each; exits
    /// non-zero on any failure.
    Preflight(postbode::cli::preflight::PreflightArgs),
    /// Start a post: writes the series' next post (or, with --broadcast, a post for everyone)
    /// with its title, slug, order and today's date filled in. Never overwrites a file.
    New {
        title: String,
        /// A post outside the series, sent once to every subscriber.
        #[arg(long, conflicts_with = "series")]
        broadcast: bool,
        /// The series (its folder name), when there is more than one.
        #[arg(long)]
        series: Option<String>,
        #[arg(long, default_value = "content")]
        content: PathBuf,
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
        /// Also the letters: confirmation, welcome and "already subscribed" (letter-NAME.*).
        #[arg(long)]
        letters: bool,
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
    /// Sign-ups whose confirmation mail SES refused on every try: `confirmations retry`.
    Confirmations {
        #[command(subcommand)]
        action: ConfirmationsAction,
        #[command(flatten)]
        target: Target,
    },
    /// Reactions under posts: list [--waiting], show, approve, delete, answer.
    Reactions {
        #[command(subcommand)]
        action: postbode::cli::reactions::ReactionsAction,
        #[command(flatten)]
        target: Target,
    },
    /// Subscribers: list, show, export, erase, unsubscribe, resend-confirmation, import.
    Subscribers {
        #[command(subcommand)]
        action: SubscribersAction,
        #[command(flatten)]
        target: Target,
    },
    /// The list now (by status, bounce and complaint rates) and what happened in a period:
    /// sign-ups per page, confirmation rate, per post sent, unsubscribes, bounces and
    /// complaints, list size per week. From what is stored anyway: no tracking.
    Stats {
        /// How far back: 30d, 12w, 6m.
        #[arg(long, default_value = "30d")]
        since: String,
        /// As JSON.
        #[arg(long)]
        json: bool,
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
    /// Render a post (or, with --letter, a letter) for a test recipient and send it (through
    /// SES, or into the local outbox with --local), to see it in a real inbox.
    SendTest {
        #[arg(required_unless_present = "letter", conflicts_with = "letter")]
        slug: Option<String>,
        /// A letter instead of a post: confirmation, welcome or already-subscribed (with
        /// example links).
        #[arg(long)]
        letter: Option<String>,
        #[arg(long)]
        to: String,
        #[command(flatten)]
        mail: MailArgs,
        #[command(flatten)]
        target: Target,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Check { content, form_pages, url } => author::check(&content, &form_pages, url.as_deref()),
        Command::Preflight(args) => postbode::cli::preflight::preflight(&args),
        Command::New { title, broadcast, series, content } => {
            let today = jiff::Zoned::now().with_time_zone(postbode::content::site_time_zone());
            author::new(&content, &title, broadcast, series.as_deref(), today.date())
        }
        Command::Form { url, page, content } => author::form(&content, &url, page.as_deref()),
        Command::Preview { slug, content, out, base_url, date, letters } => {
            author::preview(&content, slug.as_deref(), &out, &base_url, date.as_deref(), letters)
        }
        Command::Dev { port, data, content, base_url, send_every, clock, no_route_limits } => {
            local::dev(local::Dev { port, data, content, base_url, send_every, clock, no_route_limits })
        }
        Command::Send { now, data, content, base_url } => local::send(&data, &content, &base_url, now.as_deref()),
        Command::Sending { action, target } => operator::sending(action, &target),
        Command::Subscribers { action, target } => operator::subscribers(action, &target),
        Command::Reactions { action, target } => postbode::cli::reactions::reactions(action, &target),
        Command::Confirmations { action, target } => operator::confirmations(action, &target),
        Command::Stats { since, json, target } => operator::stats(&target, &since, json),
        Command::Smoke { url, content } => operator::smoke(&url, &content),
        Command::SendTest { slug, letter, to, mail, target } => {
            operator::send_test(slug.as_deref(), letter.as_deref(), &to, &mail, &target)
        }
    };
    result.unwrap_or_else(|failure| failure.report())
}
