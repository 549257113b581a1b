//! IAM in `template.yaml` grants exactly what the code does: every DynamoDB and SES action
//! each function's code performs, recorded by an SDK interceptor against DynamoDB Local and
//! the SES API server while its paths run, equals the DynamoDB and SES actions granted to that
//! function, no more and no less.
//!
//! One mapping is not the operation's name: SESv2 `SendEmail` with raw content is authorised
//! as `ses:SendRawEmail`, not `ses:SendEmail` (anymail/django-anymail#384,
//! aws/aws-actionmailer-ses-ruby#10: AccessDenied naming `ses:SendRawEmail` for v2 raw sends).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_sesv2::operation::send_email::SendEmailInput;
use postbode::app::App;
use postbode::app::ses_events::{Breaker, SnsEvent, handle};
use postbode::mail::Mailer;
use postbode::mail::ses::SesMailer;
use postbode::store::dynamodb::DynamoStore;
use postbode::store::{DayStats, Ledger, Store};
use postbode::subscribers::{Status, SubscriberEmail};
use serde_norway::Value;

use crate::helpers::{repo_path, seed_catalogue, settings};
use crate::test_app::{SentEmail, TestApp};

/// The IAM actions of every call made through one client (DynamoDB or SESv2), and for
/// DynamoDB the partition keys each touches (as `dynamodb:LeadingKeys` sees them).
#[derive(Debug, Clone)]
struct Recorder {
    /// The IAM service prefix: `dynamodb` or `ses`.
    service: &'static str,
    actions: Arc<Mutex<BTreeSet<String>>>,
    /// (action, leading key pattern): `SUB#*` for `SUB#<id>`, the key itself when it has no
    /// `#`; `index/<name>` for a query of an index, `*` for a scan (no leading key).
    keys: Arc<Mutex<BTreeSet<(String, String)>>>,
}

/// The pattern of a partition key, as the template's `dynamodb:LeadingKeys` lists it.
fn key_pattern(pk: &str) -> String {
    match pk.split_once('#') {
        Some((prefix, _)) => format!("{prefix}#*"),
        None => pk.to_owned(),
    }
}

/// The partition key of an item or key.
fn pk_of(item: Option<&std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>) -> String {
    item.and_then(|i| i.get("pk")).and_then(|v| v.as_s().ok()).map_or("?".into(), |pk| key_pattern(pk))
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "iam-recorder"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let _ = cfg;
        // The input's type names the operation: `GetItemInput` is `GetItem`. (The operation
        // metadata is not in the config bag yet at this hook.)
        let described = format!("{:?}", context.input());
        let operation = described
            .split_once(':')
            .and_then(|(_, rest)| rest.split([' ', '{', ']', ')']).next())
            .and_then(|name| name.strip_suffix("Input"))
            .unwrap_or("unknown")
            .to_owned();
        let mut actions = self.actions.lock().unwrap();
        if let Some(send) = context.input().downcast_ref::<SendEmailInput>() {
            let raw = send.content().is_some_and(|content| content.raw().is_some());
            actions.insert(if raw { "ses:SendRawEmail" } else { "ses:SendEmail" }.to_owned());
            return Ok(());
        }
        // A transaction needs the action of each item in it, not an action of its own.
        let mut keys = self.keys.lock().unwrap();
        let input = context.input();
        if let Some(transaction) = input.downcast_ref::<TransactWriteItemsInput>() {
            for item in transaction.transact_items() {
                let kinds = [
                    (item.put().map(|p| pk_of(Some(p.item()))), "PutItem"),
                    (item.update().map(|u| pk_of(Some(u.key()))), "UpdateItem"),
                    (item.delete().map(|d| pk_of(Some(d.key()))), "DeleteItem"),
                    (item.condition_check().map(|c| pk_of(Some(c.key()))), "ConditionCheckItem"),
                ];
                for (pk, action) in kinds.into_iter().filter_map(|(pk, a)| Some((pk?, a))) {
                    actions.insert(format!("dynamodb:{action}"));
                    keys.insert((format!("dynamodb:{action}"), pk));
                }
            }
            return Ok(());
        }
        let action = format!("{}:{operation}", self.service);
        actions.insert(action.clone());
        use aws_sdk_dynamodb::operation as op;
        let pk = if let Some(get) = input.downcast_ref::<op::get_item::GetItemInput>() {
            Some(pk_of(get.key()))
        } else if let Some(put) = input.downcast_ref::<op::put_item::PutItemInput>() {
            Some(pk_of(put.item()))
        } else if let Some(update) = input.downcast_ref::<op::update_item::UpdateItemInput>() {
            Some(pk_of(update.key()))
        } else if let Some(delete) = input.downcast_ref::<op::delete_item::DeleteItemInput>() {
            Some(pk_of(delete.key()))
        } else if let Some(query) = input.downcast_ref::<op::query::QueryInput>() {
            Some(match query.index_name() {
                Some(index) => format!("index/{index}"),
                None => {
                    // `pk = :placeholder AND …`: the value bound to the partition key.
                    let condition = query.key_condition_expression().unwrap_or("");
                    let placeholder = condition.strip_prefix("pk = ").and_then(|r| r.split_whitespace().next());
                    let values = query.expression_attribute_values();
                    let pk = placeholder.and_then(|p| values?.get(p)).and_then(|v| v.as_s().ok());
                    pk.map_or("?".into(), |pk| key_pattern(pk))
                }
            })
        } else if input.downcast_ref::<op::scan::ScanInput>().is_some() {
            Some("*".into())
        } else {
            None
        };
        if let Some(pk) = pk {
            keys.insert((action, pk));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        Ok(())
    }
}

impl Recorder {
    fn new(service: &'static str) -> Recorder {
        Recorder { service, actions: Arc::default(), keys: Arc::default() }
    }

    fn actions(&self) -> BTreeSet<String> {
        self.actions.lock().unwrap().clone()
    }

    fn keys(&self) -> BTreeSet<(String, String)> {
        self.keys.lock().unwrap().clone()
    }
}

/// A store on `table` whose every call is recorded.
async fn recorded_store(table: &str) -> (Arc<dyn Store>, Recorder) {
    let recorder = Recorder::new("dynamodb");
    let config =
        aws_sdk_dynamodb::config::Builder::from(&crate::aws::config().await).interceptor(recorder.clone()).build();
    (Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), table)), recorder)
}

/// A mailer on the SES API server whose every call is recorded.
async fn recorded_mailer() -> (Arc<dyn Mailer>, Recorder) {
    let recorder = Recorder::new("ses");
    crate::aws::verified_sesv2().await;
    let config =
        aws_sdk_sesv2::config::Builder::from(&crate::aws::config().await).interceptor(recorder.clone()).build();
    (Arc::new(SesMailer::new(aws_sdk_sesv2::Client::from_conf(config), None)), recorder)
}

/// The DynamoDB and SES actions `template.yaml` grants a function.
fn granted(function: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
    let template: Value = serde_norway::from_str(&text).unwrap();
    let mut actions = BTreeSet::new();
    for policy in template["Resources"][function]["Properties"]["Policies"].as_sequence().unwrap() {
        for statement in policy["Statement"].as_sequence().unwrap() {
            let listed = match &statement["Action"] {
                Value::Sequence(list) => list.iter().map(|a| a.as_str().unwrap().to_owned()).collect(),
                single => vec![single.as_str().unwrap().to_owned()],
            };
            for action in &listed {
                if action.starts_with("dynamodb:") || action.starts_with("ses:") {
                    actions.insert(action.to_owned());
                }
            }
        }
    }
    actions
}

/// The (DynamoDB action, leading key pattern) pairs `template.yaml` grants a function: every
/// action of a statement with every pattern of its `dynamodb:LeadingKeys` condition; a
/// statement without one grants its actions on `*` (the table) or `index/<name>`.
fn granted_keys(function: &str) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
    let template: Value = serde_norway::from_str(&text).unwrap();
    let strings = |value: &Value| -> Vec<String> {
        match value {
            Value::Sequence(list) => list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            single => single.as_str().map(str::to_owned).into_iter().collect(),
        }
    };
    let mut pairs = BTreeSet::new();
    for policy in template["Resources"][function]["Properties"]["Policies"].as_sequence().unwrap() {
        for statement in policy["Statement"].as_sequence().unwrap() {
            let actions: Vec<String> =
                strings(&statement["Action"]).into_iter().filter(|a| a.starts_with("dynamodb:")).collect();
            let leading = &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            let keys = if leading.is_null() {
                // `!GetAtt Table.Arn` or `!Sub ${Table.Arn}/index/<name>`.
                let resources = match &statement["Resource"] {
                    Value::Sequence(list) => list.clone(),
                    single => vec![single.clone()],
                };
                resources
                    .iter()
                    .map(|r| {
                        let text = serde_norway::to_string(r).unwrap();
                        text.split_once("/index/")
                            .map_or("*".to_owned(), |(_, index)| format!("index/{}", index.trim()))
                    })
                    .collect()
            } else {
                strings(leading)
            };
            for action in &actions {
                pairs.extend(keys.iter().map(|key| (action.clone(), key.clone())));
            }
        }
    }
    pairs
}

fn at(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

/// The app of a function on a recorded store and mailer.
fn app_on(
    store: Arc<dyn Store>,
    mailer: Arc<dyn Mailer>,
    tokens: &postbode::tokens::TokenKey,
    now: jiff::Timestamp,
) -> App {
    let parts = postbode::app::Parts {
        store,
        mailer,
        catalogue: Arc::new(seed_catalogue()),
        email: settings(),
        tokens: tokens.clone(),
    };
    parts.app(postbode::app::Settings { clock: Arc::new(move || now), ..Default::default() })
}

/// What the `confirmations` Lambda does with the stream events of the recorded intents (read
/// here through `reader`, which is not the function's).
async fn work_off_as_the_lambda(worker: &App, reader: &Arc<dyn Store>) {
    let fixture = std::fs::read_to_string(repo_path("tests/fixtures/dynamodb/intent-insert.json")).unwrap();
    for intent in reader.pending_intents(10).await.unwrap() {
        let json = serde_json::to_string(&intent).unwrap().replace('\\', "\\\\").replace('"', "\\\"");
        let event = fixture.replace("{{intent}}", &json).replace("{{sort_key}}", &intent.id);
        let event: postbode::app::confirmations::StreamEvent = serde_json::from_str(&event).unwrap();
        postbode::app::confirmations::handle_stream(worker, &event).await.unwrap();
    }
}

/// The path of the link starting with `path_prefix` in the mail to `to` that has one, as the
/// SES API server received it.
async fn mail_linking(to: &str, path_prefix: &str) -> String {
    let mails: Vec<SentEmail> = crate::aws::ses_raw_messages()
        .await
        .iter()
        .filter(|raw| raw.contains(to))
        .map(|raw| SentEmail::parse("ses", raw.as_bytes()))
        .collect();
    let mail = mails.iter().find(|m| m.text.contains(path_prefix));
    mail.unwrap_or_else(|| panic!("no mail to {to} links {path_prefix}: {} mails to them", mails.len()))
        .path(path_prefix)
}

#[tokio::test]
async fn every_function_is_granted_exactly_the_dynamodb_and_ses_actions_its_code_performs() {
    let (plain, _, table) = crate::aws::dynamo_store().await;
    let reader: Arc<dyn Store> = Arc::new(plain);
    let (api_store, api) = recorded_store(&table).await;
    let (worker_store, worker) = recorded_store(&table).await;
    let (sender_store, sender) = recorded_store(&table).await;
    let (events_store, events) = recorded_store(&table).await;

    // api: subscribe (caps, pause state, intent), confirm (suppression lifted for an erased
    // address), the welcome mail, the whitepaper, unsubscribe. The worker in between is the
    // confirmations function's code, on its own recorders. The SES API server keeps mail of
    // earlier tests too, hence addresses of this run's own.
    let (api_mailer, api_ses) = recorded_mailer().await;
    let (worker_mailer, worker_ses) = recorded_mailer().await;
    let (sender_mailer, sender_ses) = recorded_mailer().await;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let (anna_address, bob_address) = (format!("anna-{run_id}@example.nl"), format!("bob-{run_id}@example.nl"));
    let mut app = TestApp::with_mailer(api_store.clone(), api_mailer);
    app.drain = false;
    let worker_app = app_on(worker_store.clone(), worker_mailer.clone(), &app.tokens, app.now());
    let anna = SubscriberEmail::parse(&anna_address).unwrap();
    reader.set_suppressed(&app.tokens.suppression_hash(anna.as_str()), true, app.now()).await.unwrap();
    app.subscribe(&anna_address).await;
    work_off_as_the_lambda(&worker_app, &reader).await;
    let confirm = mail_linking(&anna_address, "/confirm/").await;
    assert_eq!(app.post_form(&confirm, "").await.status.as_u16(), 200);
    let whitepaper = mail_linking(&anna_address, "/whitepaper/").await;
    assert_eq!(app.get(&whitepaper).await.status.as_u16(), 200);
    // A reader on a post page: the day's view count.
    assert_eq!(app.get("/posts/leiderschap-en-vertrouwen").await.status.as_u16(), 200);
    // A reaction: stored, the author's notice, his buttons (publish, then delete); the post
    // page reads the post's reactions.
    let reaction = serde_urlencoded::to_string([("name", "Anna"), ("email", anna_address.as_str()), ("text", "Mooi.")]);
    let reacted = app.post_form("/posts/leiderschap-en-vertrouwen/reacties", &reaction.unwrap()).await;
    assert_eq!(reacted.status.as_u16(), 200, "{}", reacted.body);
    let approve = mail_linking(&anna_address, "/reactie/plaatsen/").await;
    assert_eq!(app.post_form(&approve, "").await.status.as_u16(), 200);
    assert!(app.get("/posts/leiderschap-en-vertrouwen").await.body.contains("Mooi."));
    let delete = mail_linking(&anna_address, "/reactie/verwijderen/").await;
    assert_eq!(app.post_form(&delete, "").await.status.as_u16(), 200);
    // Her own page: a choice, and her data to take along.
    let preferences = mail_linking(&anna_address, "/voorkeuren/").await;
    assert!(app.post_form(&preferences, "action=mail&mail=both").await.body.contains("Er veranderde niets"));
    assert!(app.post_form(&preferences, "action=pause&weeks=2").await.body.contains("op pauze"));
    assert!(app.post_form(&preferences, "action=resume").await.body.contains("De pauze is voorbij"));
    assert!(app.post_form(&preferences, "action=data").await.body.contains(&anna_address));
    // Again later: the same address is known now (the worker updates instead of inserting).
    app.advance(jiff::SignedDuration::from_hours(2));
    app.subscribe(&bob_address).await;
    let later_worker = app_on(worker_store.clone(), worker_mailer.clone(), &app.tokens, app.now());
    work_off_as_the_lambda(&later_worker, &reader).await;

    // sender: a due subscriber gets the post; someone who left long ago is erased.
    let sent_at = at("2026-12-08T07:05:00Z");
    let mut due = worker_store.subscriber_by_email(&anna).await.unwrap().unwrap();
    due.next_due_at = Some(at("2026-12-08T07:00:00Z"));
    worker_store.update_subscriber(&due).await.unwrap();
    let mut gone =
        worker_store.subscriber_by_email(&SubscriberEmail::parse(&bob_address).unwrap()).await.unwrap().unwrap();
    postbode::subscribers::leave(&mut gone, Status::Unsubscribed, at("2025-01-01T00:00:00Z"));
    worker_store.update_subscriber(&gone).await.unwrap();
    // With the author's weekly summary on (Monday 09:00), and a send_at broadcast, so the
    // runs below take every path: the summary reads the whole list, the sweep its markers.
    let mut catalogue = crate::helpers::catalogue_with(&[(
        "posts/workshop.md",
        "+++\ntitle = \"Workshop\"\nslug = \"workshop\"\nsummary = \"Kom ook.\"\ndate = 2026-12-10\nsend_at = 2026-12-10T14:00:00\n+++\n\nKom ook.\n",
    )])
    .unwrap();
    catalogue.site.summary = Some(postbode::content::Summary {
        to: format!("rene-{run_id}@example.nl"),
        at: postbode::content::SendWindow::parse("monday 09:00").unwrap(),
    });
    let sender_function = postbode::app::Parts {
        store: sender_store.clone(),
        mailer: sender_mailer.clone(),
        catalogue: std::sync::Arc::new(Clone::clone(&catalogue)),
        email: Clone::clone(&settings()),
        tokens: app.tokens.clone(),
    }
    .sender(Default::default())
    .unwrap();
    // A reaction no notice listed yet, waiting since long before the retention period: the
    // run lists it to the author, then erases it.
    let mut old = postbode::reactions::Reaction::new(
        "leiderschap-en-vertrouwen",
        "Oud".into(),
        SubscriberEmail::parse(&format!("oud-{run_id}@example.nl")).unwrap(),
        "Lang geleden.".into(),
        at("2025-01-01T00:00:00Z"),
    );
    old.notified = false;
    reader.insert_reaction(&old).await.unwrap();
    // An account-level problem met by an earlier run: this run, which sends, clears it.
    let problem = postbode::store::Pause { since: at("2026-12-01T07:00:00Z"), reason: "quota".into() };
    reader.set_sending_problem(Some(&problem)).await.unwrap();
    let run = sender_function
        .run(postbode::app::sender::Run { now: sent_at, scheduled_at: None, deadline: None })
        .await
        .unwrap();
    assert_eq!((run.sent, run.erased), (1, 1), "{run:?}");
    assert_eq!((run.reactions_listed, run.reactions_erased), (1, 1), "{run:?}");
    assert!(reader.sending_state().await.unwrap().problem.is_none());
    // After the run, as the Lambda does: a subscribe intent the stream gave up on an hour ago
    // is tried again (a new address: looked up, inserted, mailed, the intent forgotten).
    let waiting = postbode::subscribers::SubscribeIntent {
        id: format!("waiting-{run_id}"),
        email: SubscriberEmail::parse(&format!("carla-{run_id}@example.nl")).unwrap(),
        first_name: None,
        evidence: postbode::subscribers::Evidence::default(),
        at: at("2026-12-08T06:05:00Z"),
    };
    reader.record_intent(&waiting).await.unwrap();
    let retrying = app_on(sender_store.clone(), sender_mailer, &app.tokens, sent_at);
    let retried = postbode::app::confirmations::retry_waiting(&retrying, 100).await.unwrap();
    assert_eq!(retried.handled, 1, "{retried:?}");
    for (now, what) in [("2026-12-10T13:05:00Z", "swept"), ("2026-12-14T08:05:00Z", "summary")] {
        let run = sender_function
            .run(postbode::app::sender::Run { now: at(now), scheduled_at: None, deadline: None })
            .await
            .unwrap();
        assert!(if what == "swept" { run.swept && run.sent == 1 } else { run.summary_sent }, "{what}: {run:?}");
    }

    // ses-events: a bounce that trips the breaker (pause written), a repeat, a complaint.
    let today = sent_at.to_zoned(jiff::tz::TimeZone::UTC).date();
    worker_store.add_stats(Ledger::List, today, DayStats { sent: 200, bounced: 20, complained: 0 }).await.unwrap();
    let fixture = |name: &str| -> SnsEvent {
        let json = std::fs::read_to_string(repo_path(&format!("tests/fixtures/ses/{name}"))).unwrap();
        serde_json::from_str(&json.replace("{{email}}", &anna_address)).unwrap()
    };
    // SES's `Send` event of the post settles its claim.
    let send_event = serde_json::json!({ "eventType": "Send", "mail": { "messageId": "m-1", "tags": {
        "postbode-subscriber": [due.id.to_string()], "postbode-post": ["leiderschap-en-vertrouwen"] } } });
    let send_event: SnsEvent =
        serde_json::from_value(serde_json::json!({ "Records": [{ "Sns": { "Message": send_event.to_string() } }] }))
            .unwrap();
    assert_eq!(
        handle(events_store.as_ref(), &send_event, &Breaker::default(), sent_at).await.unwrap().sends_settled,
        1
    );
    for name in ["bounce-permanent.json", "bounce-permanent.json", "complaint.json"] {
        handle(events_store.as_ref(), &fixture(name), &Breaker::default(), sent_at).await.unwrap();
    }
    assert!(worker_store.sending_state().await.unwrap().paused.is_some());

    // Dora moves to another address on her own page (her old one keeps its mail until the new
    // one is confirmed).
    app.advance(jiff::SignedDuration::from_hours(2));
    let dora_address = format!("dora-{run_id}@example.nl");
    app.set_client("198.51.100.44");
    app.subscribe(&dora_address).await;
    let dora_worker = app_on(worker_store.clone(), worker_mailer.clone(), &app.tokens, app.now());
    work_off_as_the_lambda(&dora_worker, &reader).await;
    assert_eq!(app.post_form(&mail_linking(&dora_address, "/confirm/").await, "").await.status.as_u16(), 200);
    let dora_page = mail_linking(&dora_address, "/voorkeuren/").await;
    let new_address = format!("dora-nieuw-{run_id}@example.nl");
    let form = serde_urlencoded::to_string([("action", "address"), ("email", new_address.as_str())]).unwrap();
    assert!(app.post_form(&dora_page, &form).await.body.contains("Ik stuurde een bevestiging"));
    let moved = app.post_form(&mail_linking(&new_address, "/adres/").await, "").await.body;
    assert!(moved.contains("Gelukt"), "{moved}");
    assert!(reader.subscriber_by_email(&SubscriberEmail::parse(&new_address).unwrap()).await.unwrap().is_some());

    // At last, Anna erases everything from her own page; her bounce's entry on SES's
    // suppression list goes too (the API function's ses:DeleteSuppressedDestination).
    let ses = crate::aws::sesv2().await;
    let bounce = aws_sdk_sesv2::types::SuppressionListReason::Bounce;
    ses.put_suppressed_destination().email_address(&anna_address).reason(bounce).send().await.unwrap();
    let erased = app.post_form(&preferences, "action=erase-confirmed").await;
    let listed = ses.get_suppressed_destination().email_address(&anna_address).send().await;
    assert!(listed.is_err_and(|e| aws_sdk_sesv2::error::ProvideErrorMetadata::code(&e) == Some("NotFoundException")));
    assert!(erased.body.contains("Je gegevens zijn verwijderd"), "{}", erased.body);
    assert!(reader.subscriber_by_email(&anna).await.unwrap().is_none());

    let mut mismatches = Vec::new();
    for (function, recorders) in [
        ("ApiFunction", vec![api, api_ses]),
        ("ConfirmationsFunction", vec![worker, worker_ses]),
        ("SenderFunction", vec![sender, sender_ses]),
        ("SesEventsFunction", vec![events]),
    ] {
        let done: BTreeSet<String> = recorders.iter().flat_map(Recorder::actions).collect();
        let grants = granted(function);
        let missing: Vec<_> = done.difference(&grants).collect();
        let unused: Vec<_> = grants.difference(&done).collect();
        if !missing.is_empty() || !unused.is_empty() {
            mismatches.push(format!("{function}: not granted {missing:?}; granted, never done {unused:?}"));
        }
        // Down to the partition keys: each (action, key prefix) the code used is granted, and
        // each granted one is used.
        let done: BTreeSet<(String, String)> = recorders.iter().flat_map(Recorder::keys).collect();
        let grants = granted_keys(function);
        let missing: Vec<_> = done.difference(&grants).collect();
        let unused: Vec<_> = grants.difference(&done).collect();
        if !missing.is_empty() || !unused.is_empty() {
            mismatches.push(format!("{function}: keys not granted {missing:?}; keys granted, never used {unused:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
