//! The author's desk (issue 13), through the `postbode` binary as the author and operator run
//! it: `new`, and `subscribers import | export | unsubscribe | resend-confirmation`, each on the local
//! SQLite store and on DynamoDB Local (with the SES API server for mail).

use std::process::Output;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use postbode::store::Store;
use postbode::subscribers::{ConsentAction, Evidence, Status, SubscribeOutcome, Subscriber, SubscriberEmail};
use postbode::tokens::TokenKey;

use crate::helpers::content_copy;

const SECRET: &str = "test secret of thirty-two bytes or more";

fn postbode(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_postbode"));
    command.args(args).env_remove("POSTBODE_TOKEN_SECRET_PARAMETER").current_dir(env!("CARGO_MANIFEST_DIR"));
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn new_writes_the_next_post_which_passes_check_and_never_overwrites() {
    let content = content_copy();
    let dir = content.path().to_str().unwrap();
    let out = postbode(&["new", "Één keer per week: ‘vertrouwen’", "--content", dir], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let path = content.path().join("leiderschap/02-een-keer-per-week-vertrouwen.md");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("title = \"Één keer per week: ‘vertrouwen’\""), "{text}");
    assert!(text.contains("slug = \"een-keer-per-week-vertrouwen\"") && text.contains("order = 2"), "{text}");
    let today = jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap()).date();
    assert!(text.contains(&format!("date = {today}")), "{text}");
    let check = postbode(&["check", "--content", dir], &[]);
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));
    assert!(stdout(&check).contains("posts: 2"), "{}", stdout(&check));

    // The same title again: refused, the file untouched.
    let again = postbode(&["new", "Een keer per week: vertrouwen", "--content", dir], &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already has the slug `een-keer-per-week-vertrouwen`"), "{}", stderr(&again));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    // A broadcast goes outside the series, and passes check too.
    let out = postbode(&["new", "Workshop in maart", "--broadcast", "--content", dir], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let broadcast = std::fs::read_to_string(content.path().join("posts/workshop-in-maart.md")).unwrap();
    assert!(!broadcast.contains("order ="), "{broadcast}");
    assert!(postbode(&["check", "--content", dir], &[]).status.success());
    // A title without letters or digits has no slug.
    let none = postbode(&["new", "?!", "--content", dir], &[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("no letters or digits"), "{}", stderr(&none));
}

/// One store as the binary reaches it: `--local DIR` or `--table NAME`.
struct Desk {
    args: Vec<String>,
    store: Arc<dyn Store>,
    tokens: TokenKey,
    /// The local data folder (its outbox), when local.
    local: Option<tempfile::TempDir>,
}

impl Desk {
    fn local() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let store = postbode::store::sqlite::SqliteStore::open(&dir.path().join("postbode.sqlite")).unwrap();
        let tokens = postbode::config::local_token_key(dir.path()).unwrap();
        Desk {
            args: vec!["--local".into(), dir.path().display().to_string()],
            store: Arc::new(store),
            tokens,
            local: Some(dir),
        }
    }

    async fn dynamodb() -> Desk {
        let (store, _, table) = crate::aws::dynamo_store().await;
        crate::aws::verified_sesv2().await;
        let tokens = TokenKey::new(SECRET.as_bytes().to_vec()).unwrap();
        Desk { args: vec!["--table".into(), table], store: Arc::new(store), tokens, local: None }
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(self.args.iter().map(String::as_str));
        let mut env = env.to_vec();
        env.push(("POSTBODE_TOKEN_SECRET", SECRET));
        postbode(&all, &env)
    }

    async fn get(&self, email: &str) -> Option<Subscriber> {
        self.store.subscriber_by_email(&SubscriberEmail::parse(email).unwrap()).await.unwrap()
    }

    /// A subscriber in `status` who signed up `ago` (their confirmation mail went out then).
    async fn add(&self, email: &str, status: Status, ago: SignedDuration) -> Subscriber {
        let at = Timestamp::now() - ago;
        let evidence = Evidence { consent_text_version: "v1".into(), ..Evidence::default() };
        let parsed = SubscriberEmail::parse(email).unwrap();
        let SubscribeOutcome::SendConfirmation(s) =
            postbode::subscribers::subscribe(None, &parsed, None, &evidence, at, SignedDuration::from_hours(1))
        else {
            unreachable!()
        };
        let mut s = *s;
        s.status = status;
        self.store.insert_subscriber(&s, s.created_at).await.unwrap();
        s
    }

    /// Mails that reached `to`: in the local outbox, or at the SES API server.
    async fn mails_to(&self, to: &str) -> usize {
        match &self.local {
            Some(dir) => std::fs::read_dir(dir.path().join("outbox"))
                .map(|entries| {
                    entries
                        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
                        .filter(|raw| raw.contains(to))
                        .count()
                })
                .unwrap_or(0),
            None => crate::aws::ses_raw_messages().await.iter().filter(|raw| raw.contains(to)).count(),
        }
    }
}

async fn import_scenario(desk: Desk) {
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let email = |name: &str| format!("{name}-{run}@example.nl");
    desk.add(&email("bevestigd"), Status::Confirmed, SignedDuration::from_hours(48)).await;
    let left = desk.add(&email("weg"), Status::Unsubscribed, SignedDuration::from_hours(48)).await;
    desk.add(&email("bounce"), Status::Bounced, SignedDuration::from_hours(48)).await;
    desk.add(&email("wacht"), Status::Pending, SignedDuration::from_hours(48)).await;
    let erased = SubscriberEmail::parse(&email("gewist")).unwrap();
    desk.store.set_suppressed(&desk.tokens.suppression_hash(erased.as_str()), true, Timestamp::now()).await.unwrap();

    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        format!(
            "email,first_name,consented_at,consent_source\n\
             {},Anna,2024-03-01,inschrijflijst workshop maart 2024\n\
             {},,2025-06-12T14:03:00+02:00,visitekaartje\n\
             {},,2024-03-01,oude lijst\n\
             {},,2024-03-01,oude lijst\n\
             {},,2024-03-01,oude lijst\n\
             {},,2024-03-01,oude lijst\n\
             {},,2024-03-01,oude lijst\n",
            email("nieuw"),
            email("kaart"),
            email("bevestigd"),
            email("weg"),
            email("bounce"),
            email("wacht"),
            email("gewist"),
        ),
    )
    .unwrap();
    let path = file.path().to_str().unwrap();

    let dry = desk.run(&["subscribers", "import", path, "--dry-run"], &[]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let report = stdout(&dry);
    assert!(report.contains(&format!("{path}:2: {} added as confirmed", email("nieuw"))), "{report}");
    assert!(report.contains("would add 3 of 7 row(s) (dry run: nothing written)"), "{report}");
    assert!(desk.get(&email("nieuw")).await.is_none(), "a dry run writes nothing");

    let out = desk.run(&["subscribers", "import", path], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    for (line, name, said) in [
        (2, "nieuw", "added as confirmed, with the consent as given"),
        (3, "kaart", "added as confirmed"),
        (4, "bevestigd", "already confirmed; unchanged"),
        (5, "weg", "skipped: unsubscribed earlier, not touched"),
        (6, "bounce", "skipped: bounced earlier"),
        (7, "wacht", "was pending; now confirmed"),
        (8, "gewist", "skipped: on the suppression list (erased, or left per an earlier import); not added"),
    ] {
        assert!(report.contains(&format!("{path}:{line}: {} {said}", email(name))), "{name}: {report}");
    }
    let anna = desk.get(&email("nieuw")).await.unwrap();
    assert_eq!((anna.status, anna.first_name.as_deref()), (Status::Confirmed, Some("Anna")));
    assert!(anna.next_due_at.is_some(), "the sender will start the series for her");
    let proof = &anna.consent[0];
    assert_eq!(proof.action, ConsentAction::Import);
    assert_eq!(proof.at, "2024-02-29T23:00:00Z".parse::<Timestamp>().unwrap(), "a date is that day in Amsterdam");
    assert_eq!(proof.source_url.as_deref(), Some("inschrijflijst workshop maart 2024"));
    assert_eq!(desk.get(&email("wacht")).await.unwrap().status, Status::Confirmed);
    assert_eq!(desk.get(&email("weg")).await.unwrap(), left, "someone who left is not touched");
    assert!(desk.get(&email("gewist")).await.is_none(), "an erased address stays erased");
    assert_eq!(desk.mails_to(&email("nieuw")).await + desk.mails_to(&email("wacht")).await, 0, "nothing is mailed");

    // The same file again changes nothing.
    let before: Vec<Subscriber> = {
        let mut all = desk.store.all_subscribers().await.unwrap();
        all.sort_by_key(|s| s.email.as_str().to_owned());
        all
    };
    let again = desk.run(&["subscribers", "import", path], &[]);
    assert!(stdout(&again).contains("added 0 of 7 row(s)"), "{}", stdout(&again));
    let mut after = desk.store.all_subscribers().await.unwrap();
    after.sort_by_key(|s| s.email.as_str().to_owned());
    assert_eq!(after, before);

    // A file with bad rows is refused whole, every problem at its line.
    std::fs::write(
        file.path(),
        format!(
            "email,first_name,consented_at,consent_source\n{},,2024-03-01,lijst\ngeen-adres,,2024-03-01,lijst\n{},,morgen,lijst\n",
            email("later"),
            email("ook"),
        ),
    )
    .unwrap();
    let bad = desk.run(&["subscribers", "import", path], &[]);
    assert_eq!(bad.status.code(), Some(2));
    let message = stderr(&bad);
    assert!(message.contains(&format!("{path}:3: `geen-adres` is not an email address")), "{message}");
    assert!(message.contains(&format!("{path}:4: consented_at `morgen`")), "{message}");
    assert!(message.contains("nothing was imported"), "{message}");
    assert!(desk.get(&email("later")).await.is_none());
}

/// The whole list out as CSV and into another installation: the confirmed readers arrive
/// as they were (a name that is a spreadsheet formula included), nobody who left or never
/// confirmed is added, and who left stays out of any later import.
async fn export_round_trip_scenario(from: Desk, to: Desk) {
    use postbode::subscribers::{ConsentRecord, leave};
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let email = |name: &str| format!("{name}-{run}@example.nl");
    let ts = |s: &str| s.parse::<Timestamp>().unwrap();
    let record = |action, at: &str, source: &str| ConsentRecord {
        action,
        at: ts(at),
        ip: Some("192.0.2.7".into()),
        user_agent: Some("Firefox".into()),
        source_url: Some(source.into()),
        consent_text_version: "v1".into(),
        detail: None,
    };
    let blog = "https://www.voorbeeld.nl/blog";
    let hour = SignedDuration::from_hours(1);
    let mut anna = from.add(&email("anna"), Status::Confirmed, hour * 50).await;
    anna.first_name = Some("=HYPERLINK(\"https://kwaad.example\")".into());
    anna.consent = vec![
        record(ConsentAction::Subscribe, "2026-11-02T10:00:00Z", blog),
        record(ConsentAction::Confirm, "2026-11-02T10:05:00Z", blog),
    ];
    from.store.update_subscriber(&anna).await.unwrap();
    let mut bob = from.add(&email("bob"), Status::Confirmed, hour * 40).await;
    bob.first_name = Some("Bob, de \"bouwer\"".into());
    bob.consent = vec![record(ConsentAction::Import, "2024-02-29T23:00:00Z", "inschrijflijst workshop maart 2024")];
    from.store.update_subscriber(&bob).await.unwrap();
    for (name, status) in [("carol", Status::Unsubscribed), ("erin", Status::Bounced)] {
        let mut gone = from.add(&email(name), Status::Confirmed, hour * 30).await;
        leave(&mut gone, status, Timestamp::now() - hour);
        from.store.update_subscriber(&gone).await.unwrap();
    }
    from.add(&email("dave"), Status::Pending, hour * 20).await;

    let out = from.run(&["subscribers", "export", "--all", "--format", "csv"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "email,first_name,status,consented_at,consent_source,left_at");
    assert_eq!(lines.len(), 6, "everyone on the list, with their status: {csv}");
    let row_of = |csv: &str, name: &str| -> String {
        csv.lines().find(|l| l.starts_with(&email(name))).unwrap_or_default().to_owned()
    };
    assert_eq!(
        row_of(&csv, "anna"),
        format!(
            "{},\"'=HYPERLINK(\"\"https://kwaad.example\"\")\",confirmed,2026-11-02T10:05:00Z,double opt-in via {blog},",
            email("anna")
        ),
        "a formula is written as text"
    );
    assert!(row_of(&csv, "carol").contains(",unsubscribed,"), "{csv}");
    assert!(row_of(&csv, "dave").contains(",pending,"), "{csv}");

    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &csv).unwrap();
    let path = file.path().to_str().unwrap();
    let imported = to.run(&["subscribers", "import", path], &[]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let report = stdout(&imported);
    for (name, said) in [
        ("anna", "added as confirmed"),
        ("bob", "added as confirmed"),
        ("carol", "skipped: unsubscribed in the file; suppressed, never imported"),
        ("erin", "skipped: bounced in the file; suppressed, never imported"),
        ("dave", "skipped: never confirmed in the file"),
    ] {
        assert!(report.contains(&format!("{} {said}", email(name))), "{name}: {report}");
    }
    let arrived = to.get(&email("anna")).await.unwrap();
    assert_eq!(arrived.first_name, anna.first_name, "the name as it was, not its escape");
    assert_eq!((arrived.status, arrived.consent[0].at), (Status::Confirmed, ts("2026-11-02T10:05:00Z")));
    assert_eq!(to.get(&email("bob")).await.unwrap().first_name, bob.first_name);
    for name in ["carol", "erin", "dave"] {
        assert!(to.get(&email(name)).await.is_none(), "{name} is not added");
    }
    assert!(to.store.is_suppressed(&to.tokens.suppression_hash(&email("carol"))).await.unwrap());
    assert!(!to.store.is_suppressed(&to.tokens.suppression_hash(&email("dave"))).await.unwrap());

    // Out again: the readers' rows are the same rows.
    let again = stdout(&to.run(&["subscribers", "export", "--all", "--format", "csv"], &[]));
    for name in ["anna", "bob"] {
        assert_eq!(row_of(&again, name), row_of(&csv, name), "{name}");
    }
    // An old list that still has Carol as a reader cannot bring her back.
    std::fs::write(
        file.path(),
        format!("email,first_name,consented_at,consent_source\n{},,2024-03-01,oude lijst\n", email("carol")),
    )
    .unwrap();
    let old = stdout(&to.run(&["subscribers", "import", path], &[]));
    assert!(old.contains("skipped: on the suppression list"), "{old}");
    assert!(to.get(&email("carol")).await.is_none());
}

#[tokio::test]
async fn the_whole_list_exports_as_csv_and_imports_back_locally() {
    export_round_trip_scenario(Desk::local(), Desk::local()).await;
}

#[tokio::test]
async fn the_whole_list_exports_as_csv_and_imports_back_on_dynamodb() {
    export_round_trip_scenario(Desk::dynamodb().await, Desk::dynamodb().await).await;
}

#[tokio::test]
async fn import_adds_consented_readers_once_and_never_touches_who_left_locally() {
    import_scenario(Desk::local()).await;
}

#[tokio::test]
async fn import_adds_consented_readers_once_and_never_touches_who_left_on_dynamodb() {
    import_scenario(Desk::dynamodb().await).await;
}

async fn unsubscribe_and_resend_scenario(desk: Desk) {
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let email = |name: &str| format!("{name}-{run}@example.nl");
    let mail_args = [
        "--content",
        "content",
        "--base-url",
        "https://postbode.example",
        "--from",
        "Rene <nieuwsbrief@postbode.example>",
    ];

    // Unsubscribe on request: consent proof kept, with the step in it.
    let confirmed = desk.add(&email("lezer"), Status::Confirmed, SignedDuration::from_hours(48)).await;
    let out = desk.run(&["subscribers", "unsubscribe", &email("lezer")], &[]);
    assert!(
        stdout(&out).contains("unsubscribed") && stdout(&out).contains("consent proof is kept"),
        "{}",
        stderr(&out)
    );
    let after = desk.get(&email("lezer")).await.unwrap();
    assert_eq!(after.status, Status::Unsubscribed);
    assert_eq!(after.consent.len(), confirmed.consent.len() + 1);
    assert_eq!(after.consent.last().unwrap().action, ConsentAction::Unsubscribe);
    assert!(stdout(&desk.run(&["subscribers", "unsubscribe", &email("lezer")], &[])).contains("was not subscribed"));
    assert_eq!(desk.run(&["subscribers", "unsubscribe", &email("onbekend")], &[]).status.code(), Some(1));

    // Resend a confirmation: to a pending reader, once per cooldown, within the caps.
    desk.add(&email("wacht"), Status::Pending, SignedDuration::from_hours(2)).await;
    let resend = |name: &str, env: &[(&str, &str)]| {
        let mut args = vec!["subscribers", "resend-confirmation"];
        let address = email(name);
        args.push(Box::leak(address.into_boxed_str()));
        args.extend(mail_args);
        desk.run(&args, env)
    };
    let sent = resend("wacht", &[]);
    assert!(sent.status.success(), "{}{}", stdout(&sent), stderr(&sent));
    assert!(stdout(&sent).contains("a new confirmation mail is sent"));
    assert_eq!(desk.mails_to(&email("wacht")).await, 1);
    let soon = resend("wacht", &[]);
    assert_eq!(soon.status.code(), Some(1));
    assert!(stdout(&soon).contains("the last confirmation mail is recent"), "{}", stdout(&soon));
    let not_pending = resend("lezer", &[]);
    assert!(stdout(&not_pending).contains("the reader is unsubscribed, not pending"), "{}", stdout(&not_pending));
    // The global cap holds here as on the form: with room for one mail an hour, and one sent
    // already this hour, the next pending reader gets none.
    desk.add(&email("ander"), Status::Pending, SignedDuration::from_hours(2)).await;
    let capped = resend("ander", &[("POSTBODE_CAP_GLOBAL_PER_HOUR", "1")]);
    assert!(
        stdout(&capped).contains("a cap on confirmation mail is reached"),
        "{}{}",
        stdout(&capped),
        stderr(&capped)
    );
    assert_eq!(desk.mails_to(&email("ander")).await, 0);
    assert_eq!(desk.mails_to(&email("wacht")).await, 1);
}

#[tokio::test]
async fn unsubscribe_on_request_and_resend_confirmation_locally() {
    unsubscribe_and_resend_scenario(Desk::local()).await;
}

#[tokio::test]
async fn unsubscribe_on_request_and_resend_confirmation_on_dynamodb() {
    unsubscribe_and_resend_scenario(Desk::dynamodb().await).await;
}

/// A known history, written through the store as the app and the sender would: Anna signed up
/// on the blog page and confirmed; Bob (from the home page, in October) left after post 2;
/// four confirm pages were shown.
async fn stats_scenario(desk: Desk) {
    use postbode::store::{Ledger, SendResult};
    use postbode::subscribers::{ConsentRecord, leave};
    let ts = |s: &str| s.parse::<Timestamp>().unwrap();
    let record = |action, at: &str, page: &str| ConsentRecord {
        action,
        at: ts(at),
        ip: None,
        user_agent: None,
        source_url: Some(page.into()),
        consent_text_version: "v1".into(),
        detail: None,
    };
    let blog = "https://www.voorbeeld.nl/blog";
    let mut anna = desk.add("anna@example.nl", Status::Confirmed, SignedDuration::from_hours(24 * 60)).await;
    anna.consent = vec![
        record(ConsentAction::Subscribe, "2026-11-02T10:00:00Z", blog),
        record(ConsentAction::Confirm, "2026-11-02T10:05:00Z", blog),
    ];
    anna.confirmed_at = Some(ts("2026-11-02T10:05:00Z"));
    desk.store.update_subscriber(&anna).await.unwrap();
    let mut bob = desk.add("bob@example.nl", Status::Confirmed, SignedDuration::from_hours(24 * 60)).await;
    bob.consent = vec![
        record(ConsentAction::Subscribe, "2026-10-01T10:00:00Z", "https://www.voorbeeld.nl/"),
        record(ConsentAction::Confirm, "2026-10-01T10:05:00Z", blog),
    ];
    bob.confirmed_at = Some(ts("2026-10-01T10:05:00Z"));
    bob.version = desk.store.update_subscriber(&bob).await.unwrap();
    for (who, slug, at) in [
        (&anna, "deel-1", "2026-11-03T07:05:00Z"),
        (&anna, "deel-2", "2026-11-10T07:05:00Z"),
        (&bob, "deel-1", "2026-10-06T07:05:00Z"),
        (&bob, "deel-2", "2026-11-17T07:05:00Z"),
    ] {
        desk.store.claim_send(&who.id, slug, ts(at), SignedDuration::from_mins(5)).await.unwrap();
        let sent = SendResult::Sent { message_id: "m".into() };
        desk.store.finish_send(&who.id, slug, &sent, ts(at)).await.unwrap();
    }
    // Bob leaves after post 2 (claims are granted only while someone is confirmed).
    leave(&mut bob, Status::Unsubscribed, ts("2026-11-18T12:00:00Z"));
    desk.store.update_subscriber(&bob).await.unwrap();
    let day: jiff::civil::Date = "2026-11-02".parse().unwrap();
    let shown = postbode::store::DayStats { sent: 4, ..Default::default() };
    desk.store.add_stats(Ledger::ConfirmPage, day, shown).await.unwrap();
    for (slug, day) in
        [("deel-1", "2026-11-05"), ("deel-1", "2026-11-05"), ("deel-1", "2026-11-06"), ("deel-2", "2026-11-11")]
    {
        desk.store.add_page_view(slug, day.parse().unwrap()).await.unwrap();
    }
    desk.store.add_page_view("deel-2", "2026-10-01".parse().unwrap()).await.unwrap();

    let f =
        postbode::app::operator::figures(desk.store.as_ref(), ts("2026-10-31T23:00:00Z"), ts("2026-11-23T23:00:00Z"))
            .await
            .unwrap();
    assert_eq!(f.signups_by_source.get(blog), Some(&1));
    assert_eq!(f.signups_by_source.len(), 1, "Bob signed up in October");
    assert_eq!((f.confirm_pages_shown, f.confirmed), (4, 1));
    assert_eq!((f.per_post["deel-1"].sent, f.per_post["deel-2"].sent), (1, 2));
    assert_eq!(f.per_post["deel-2"].unsubscribed_after, 1);
    let sizes: Vec<u64> = f.list_size.iter().map(|(_, n)| *n).collect();
    assert_eq!(sizes, [1, 2, 2, 1, 1], "Mondays 2, 9, 16 and 23 November, then the end");
    assert_eq!((f.views_of("deel-1"), f.views_of("deel-2")), (3, 1), "views of October are not in the period");
    assert_eq!(f.page_views["deel-1"].get(&"2026-11-05".parse().unwrap()), Some(&2));

    // The command shows the same, in words.
    let out = desk.run(&["stats", "--since", "3650d"], &[]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("subscribers now: 1 confirmed, 1 unsubscribed"), "{text}");
    assert!(text.contains(&format!("       1  {blog}")), "{text}");
    assert!(text.contains("confirm pages shown: 4, confirmed: 2 (50%)"), "{text}");
    assert!(text.contains("deel-1                    3  (2026-11-05: 2, 2026-11-06: 1)"), "{text}");
    assert!(text.contains("deel-2                    2  (2026-10-01: 1, 2026-11-11: 1)"), "{text}");
    // Both ledgers of mail strangers can cause, beside the list's.
    assert!(text.contains("confirmation mails: 0 sent"), "{text}");
    // SES's account (the SES API server has no GetAccount: said, and the rest still shown).
    let account = if desk.local.is_some() { "SES account: none here" } else { "SES account: could not be read" };
    assert!(text.contains(account), "{text}");
    assert!(desk.run(&["stats", "--since", "ooit"], &[]).status.code() == Some(2));
}

#[tokio::test]
async fn stats_figures_of_a_known_history_locally() {
    stats_scenario(Desk::local()).await;
}

#[tokio::test]
async fn stats_figures_of_a_known_history_on_dynamodb() {
    stats_scenario(Desk::dynamodb().await).await;
}

/// The author's weekly summary: sent by the first sender run from Monday 09:00 in Amsterdam,
/// once, to `summary_email`, with the week's figures in Dutch.
async fn weekly_summary_scenario(store: Arc<dyn Store>) {
    let mut catalogue = crate::helpers::seed_catalogue();
    catalogue.site.summary = Some(postbode::content::Summary {
        to: "rene@voorbeeld.nl".into(),
        at: postbode::content::SendWindow::parse("monday 09:00").unwrap(),
    });
    let outbox = tempfile::tempdir().unwrap();
    let sender = postbode::app::Parts {
        store: store.clone(),
        mailer: Arc::new(postbode::mail::outbox::OutboxMailer::new(outbox.path()).unwrap()),
        catalogue: std::sync::Arc::new(Clone::clone(&catalogue)),
        email: Clone::clone(&crate::helpers::settings()),
        tokens: TokenKey::new(SECRET.as_bytes().to_vec()).unwrap(),
    }
    .sender(Default::default())
    .unwrap();
    // One sign-up on the blog page during the week.
    let evidence = Evidence {
        source_url: Some("https://www.voorbeeld.nl/blog".into()),
        consent_text_version: "v1".into(),
        ..Evidence::default()
    };
    let email = SubscriberEmail::parse("anna@example.nl").unwrap();
    let at: Timestamp = "2026-11-25T10:00:00Z".parse().unwrap();
    let SubscribeOutcome::SendConfirmation(anna) =
        postbode::subscribers::subscribe(None, &email, None, &evidence, at, SignedDuration::from_hours(1))
    else {
        unreachable!()
    };
    store.insert_subscriber(&anna, anna.created_at).await.unwrap();

    let confirmations = postbode::store::DayStats { sent: 3, bounced: 1, complained: 0 };
    store.add_stats(postbode::mail::Ledger::Confirmation, "2026-11-25".parse().unwrap(), confirmations).await.unwrap();
    for _ in 0..3 {
        store.add_page_view("leiderschap-en-vertrouwen", "2026-11-26".parse().unwrap()).await.unwrap();
    }
    // Sending is paused by the breaker: the author's summary goes all the same.
    let pause = postbode::store::Pause { since: at, reason: "complaint rate 0.150%".into() };
    store
        .set_sending_state(&postbode::store::SendingState { paused: Some(pause), ..Default::default() })
        .await
        .unwrap();
    let run = |now: &str| postbode::app::sender::Run { now: now.parse().unwrap(), scheduled_at: None, deadline: None };
    let mails = |tag: &str| -> Vec<std::path::PathBuf> {
        let suffix = format!("-{tag}.eml");
        let mut files: Vec<_> = std::fs::read_dir(outbox.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(&suffix))
            .collect();
        files.sort();
        files
    };
    // Monday 30 November 2026, 08:50 in Amsterdam: not yet.
    let first = sender.run(run("2026-11-30T07:50:00Z")).await.unwrap();
    assert!(!first.summary_sent);
    assert_eq!(mails("summary").len(), 0);
    // The first run that finds the pause tells the author, once.
    assert_eq!(first.alerted, ["paused"]);
    let at_nine = sender.run(run("2026-11-30T08:05:00Z")).await.unwrap();
    assert!(at_nine.summary_sent, "{at_nine:?}");
    assert!(at_nine.alerted.is_empty(), "one alert per pause");
    assert!(!sender.run(run("2026-11-30T08:20:00Z")).await.unwrap().summary_sent, "once a week");
    assert!(!sender.run(run("2026-12-01T08:05:00Z")).await.unwrap().summary_sent, "on its weekday only");
    let alerts = mails("alert-paused");
    assert_eq!(alerts.len(), 1, "one alert mail across four runs");
    let alert = std::fs::read(&alerts[0]).unwrap();
    let alert = mail_parser::MessageParser::default().parse(&alert).unwrap();
    assert_eq!(alert.to().and_then(|a| a.first()).and_then(|a| a.address()), Some("rene@voorbeeld.nl"));
    assert_eq!(alert.subject(), Some("Let op: het versturen van je nieuwsbrief is gepauzeerd"));
    let alert_text = alert.body_text(0).unwrap().replace("\r\n", "\n");
    for said in ["25 november 11:00", "complaint rate 0.150%", "postbode sending resume", "postbode stats"] {
        assert!(alert_text.contains(said), "the alert says {said}: {alert_text}");
    }
    let files = mails("summary");
    assert_eq!(files.len(), 1);
    let raw = std::fs::read(&files[0]).unwrap();
    let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(message.to().and_then(|a| a.first()).and_then(|a| a.address()), Some("rene@voorbeeld.nl"));
    assert_eq!(message.subject(), Some("Je nieuwsbrief deze week: 1 aanmelding, 0 lezers"));
    let text = message.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(
        text.starts_with("Hallo René,\n\nZo ging het met je nieuwsbrief van 23 november tot 30 november:"),
        "{text}"
    );
    assert!(text.contains("Aanmeldingen: 1\n      1  https://www.voorbeeld.nl/blog"), "{text}");
    assert!(text.contains("er wordt niets gevolgd"), "{text}");
    // The pause is the first thing the summary says; both ledgers of mail follow.
    assert!(text.contains("Verzending gepauzeerd sinds 25 november 11:00"), "{text}");
    assert!(text.contains("nieuwsbrief aan vaste lezers: 0, 0, 0"), "{text}");
    assert!(text.contains("bevestigingsmails: 3, 1, 0"), "{text}");
    assert!(text.contains("Gelezen op de website (paginaweergaven, zoekmachines niet meegeteld):\n  leiderschap-en-vertrouwen: 3 (26 november 3)"), "{text}");
}

#[tokio::test]
async fn the_weekly_summary_goes_once_on_its_weekday_locally() {
    weekly_summary_scenario(Arc::new(postbode::store::sqlite::SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn the_weekly_summary_goes_once_on_its_weekday_on_dynamodb() {
    let (store, ..) = crate::aws::dynamo_store().await;
    weekly_summary_scenario(Arc::new(store)).await;
}
