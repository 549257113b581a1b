//! Reactions under a post (issue 22), on SQLite and on DynamoDB Local: the form, waiting for
//! the author, his notice and its two buttons (scanner-safe, signed, expiring), the page as
//! readers see it, the armour of the front door, export and erase.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use jiff::SignedDuration;
use postbode::reactions::ReactionStatus;
use postbode::store::Store;
use postbode::subscribers::SubscriberEmail;
use postbode::subscribers::caps::Caps;

use crate::test_app::{SentEmail, TestApp};

const POST: &str = "/posts/leiderschap-en-vertrouwen";
const FORM: &str = "/posts/leiderschap-en-vertrouwen/reacties";
const AUTHOR: &str = "rene@voorbeeld.nl";

fn run(now: jiff::Timestamp) -> postbode::app::sender::Run {
    postbode::app::sender::Run { now, scheduled_at: None, deadline: None }
}

fn form(name: &str, email: &str, text: &str, newsletter: bool) -> String {
    let mut fields = vec![("name", name), ("email", email), ("text", text), ("website", "")];
    if newsletter {
        fields.push(("newsletter", "ja"));
    }
    serde_urlencoded::to_string(fields).unwrap()
}

/// The author's notices, oldest first.
fn notices(app: &TestApp) -> Vec<SentEmail> {
    app.emails_tagged("reactions")
}

/// Mails to anyone but the author.
fn mails_to_readers(app: &TestApp) -> Vec<SentEmail> {
    app.emails().into_iter().filter(|e| e.to != AUTHOR).collect()
}

const TEXT: &str = "Hallo René,\r\n\r\nMooi stuk. <script>alert(1)</script> Zie https://kwaad.example/x\r\nGroet!";

/// A reaction waits unseen; the notice's button pages change nothing on GET (a mail
/// scanner), publish on POST; the page then shows it escaped, without the address; delete
/// takes it away for good.
async fn a_reaction_waits_is_approved_by_its_button_and_shows_escaped(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    let answer = app.post_form(FORM, &form("Anna de Vries", "anna@example.nl", TEXT, false)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer.body.contains("leest je reactie en neemt contact met je op; na goedkeuring staat hij onder het artikel")
    );
    let page = app.get(POST).await;
    assert!(page.body.contains("id=\"reageer\""), "the form is under the post");
    let stats = postbode::app::operator::stats(app.store.as_ref(), app.now()).await.unwrap();
    assert_eq!(stats.reactions_waiting, 1, "postbode stats counts it");
    assert!(!page.body.contains("Mooi stuk"), "waiting: not shown");

    let notice = notices(&app);
    assert_eq!(notice.len(), 1, "one notice to the author");
    assert_eq!(notice[0].to, AUTHOR);
    assert!(mails_to_readers(&app).is_empty(), "a reaction never mails the address typed in it");
    let raw = std::fs::read_to_string(app.outbox.path().join(&notice[0].file)).unwrap();
    assert!(raw.contains("Reply-To: anna@example.nl"), "reply answers the reader:\n{raw}");
    assert!(notice[0].text.contains("niet gecontroleerd"), "the address is marked as not checked");
    assert!(notice[0].text.contains("> Mooi stuk."), "the reaction quoted");

    let approve = notice[0].path("/reactie/plaatsen/");
    for _ in 0..3 {
        let scanner = app.get(&approve).await;
        assert_eq!(scanner.status, StatusCode::OK);
        assert!(scanner.body.contains("<button type=\"submit\">Plaatsen</button>"));
        assert_eq!(scanner.headers["x-robots-tag"], "noindex, nofollow");
    }
    let waiting = app.store.all_reactions().await.unwrap();
    assert_eq!(waiting[0].status, ReactionStatus::Waiting, "a GET changes nothing");
    assert!(!app.get(POST).await.body.contains("Mooi stuk"));

    let published = app.post_form(&approve, "").await;
    assert_eq!(published.status, StatusCode::OK);
    assert!(published.body.contains("De reactie staat online"));
    let page = app.get(POST).await;
    assert!(page.headers["cache-control"].to_str().unwrap().contains("max-age=60"), "shown within a minute");
    assert!(page.body.contains("Reacties (1)"));
    assert!(page.body.contains("<strong>Anna de Vries</strong>"));
    assert!(page.body.contains("<p>Hallo René,</p>"), "paragraphs kept");
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "escaped:\n{}", page.body);
    assert!(page.body.contains("Zie https://kwaad.example/x<br>Groet!"), "lines kept, no link made");
    assert!(!page.body.contains("href=\"https://kwaad.example"));
    assert!(!page.body.contains("anna@example.nl"), "the address is never shown");
    let feed = app.get("/feed.xml").await;
    assert!(feed.body.contains("thr:count=\"1\""), "the feed counts it");

    let delete = notice[0].path("/reactie/verwijderen/");
    assert!(app.get(&delete).await.body.contains("Verwijderen"));
    assert!(app.get(POST).await.body.contains("Mooi stuk"), "a GET deletes nothing");
    assert_eq!(app.post_form(&delete, "").await.status, StatusCode::OK);
    assert!(!app.get(POST).await.body.contains("Mooi stuk"));
    assert!(app.store.all_reactions().await.unwrap().is_empty(), "gone for good");
    let again = app.get(&approve).await;
    assert!(again.body.contains("Deze reactie is er niet meer"));
}

/// A forged, misdirected or expired button is refused and changes nothing.
async fn forged_misdirected_and_expired_buttons_are_refused(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    app.post_form(FORM, &form("Anna", "anna@example.nl", "Hoi René", false)).await;
    let notice = &notices(&app)[0];
    let approve = notice.path("/reactie/plaatsen/");
    let token = approve.trim_start_matches("/reactie/plaatsen/");
    let forged = crate::helpers::tampered(token);
    assert_eq!(app.post_form(&format!("/reactie/plaatsen/{forged}"), "").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.post_form(&format!("/reactie/verwijderen/{token}"), "").await.status,
        StatusCode::BAD_REQUEST,
        "an approve button does not delete"
    );
    // A subscriber's unsubscribe token (the same format) approves nothing.
    app.advance(SignedDuration::from_hours(24 * 31));
    assert_eq!(app.post_form(&approve, "").await.status, StatusCode::GONE, "30 days at most");
    let stored = app.store.all_reactions().await.unwrap();
    assert_eq!((stored.len(), stored[0].status), (1, ReactionStatus::Waiting), "nothing changed");
}

/// The front door's armour: a foreign page, the honeypot, the caps per mailbox (the text
/// kept in the form), bad input answered in Dutch with nothing lost.
async fn the_armour_of_the_front_door_holds(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    let foreign = app
        .request_with(
            Method::POST,
            FORM,
            Some("application/x-www-form-urlencoded"),
            &[("sec-fetch-site", "cross-site"), ("origin", "https://kwaad.example")],
            form("Anna", "anna@example.nl", "Hoi", false),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let bot = form("Bot", "bot@example.nl", "Koop nu", true).replace("website=", "website=https%3A%2F%2Fspam.example");
    let answer = app.post_form(FORM, &bot).await;
    assert_eq!(answer.status, StatusCode::OK, "the same answer as anyone's");
    assert!(app.store.all_reactions().await.unwrap().is_empty(), "the honeypot stores nothing");
    assert!(app.emails().is_empty(), "and sends nothing");

    let empty = app.post_form(FORM, &form("Anna", "anna@example.nl", " \u{200b} ", false)).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("Schrijf eerst je reactie."));
    let long = "woord ".repeat(800);
    let too_long = app.post_form(FORM, &form("Anna", "anna@example.nl", &long, false)).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.body.contains("langer dan 4000 tekens"));
    assert!(too_long.body.contains("woord woord"), "the text is kept in the form");
    let bad_address = app.post_form(FORM, &form("Anna", "anna@", "Hoi", false)).await;
    assert_eq!(bad_address.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_address.body.contains("value=\"anna@\""), "the address is kept too");

    // Three an hour per mailbox (+tags folded): the fourth is refused, its text kept.
    for i in 0..3 {
        let ok = app.post_form(FORM, &form("Anna", &format!("anna+{i}@example.nl"), "Nog een", false)).await;
        assert_eq!(ok.status, StatusCode::OK, "{i}");
    }
    app.set_client("198.51.100.9");
    let over = app.post_form(FORM, &form("Anna", "anna@example.nl", "De vierde gedachte", false)).await;
    assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(over.body.contains("De vierde gedachte"), "nothing the reader wrote is lost");
    assert_eq!(app.store.all_reactions().await.unwrap().len(), 3);
    assert_eq!(
        app.post_form("/posts/bestaat-niet/reacties", &form("A", "a@example.nl", "x", false)).await.status,
        StatusCode::NOT_FOUND
    );
}

/// 100 reactions in one hour, each from its own address and network, with the sender's run
/// every quarter: the author gets a few mails, and every reaction is in one of them.
async fn a_flood_of_reactions_becomes_a_few_notices(store: Arc<dyn Store>) {
    let app = TestApp::with_reaction_caps(store, Caps::all(1000));
    let sender = app.app.parts().sender(Default::default()).unwrap();
    for i in 0..100u32 {
        app.set_client(&format!("203.0.{}.{}", i / 200, i % 200 + 1));
        let answer = app.post_form(FORM, &form("Lezer", &format!("lezer{i}@example.nl"), "Interessant", false)).await;
        assert_eq!(answer.status, StatusCode::OK);
        app.advance(SignedDuration::from_secs(36));
        if i % 25 == 24 {
            sender.run(run(app.now())).await.unwrap();
        }
    }
    app.advance(SignedDuration::from_mins(15));
    sender.run(run(app.now())).await.unwrap();
    let notices = notices(&app);
    assert!(notices.len() <= 6, "{} notices for 100 reactions", notices.len());
    let listed: usize = notices.iter().map(|n| n.text.matches("> Interessant").count()).sum();
    assert_eq!(listed, 100, "every reaction is in a notice, once");
    assert!(app.store.waiting_reactions(200, true).await.unwrap().iter().all(|r| r.notified));
}

/// The newsletter box is a consent of its own: ticked, a confirmation mail as from the
/// subscribe form (the reaction form's text in the proof); not ticked, no mail at all.
async fn the_newsletter_box_is_a_separate_consent(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    app.post_form(FORM, &form("Bob", "bob@example.nl", "Zonder nieuwsbrief", false)).await;
    assert!(mails_to_readers(&app).is_empty());
    assert!(app.store.subscriber_by_email(&SubscriberEmail::parse("bob@example.nl").unwrap()).await.unwrap().is_none());
    app.advance(SignedDuration::from_hours(1));
    let answer = app.post_form(FORM, &form("Anna", "anna@example.nl", "Met nieuwsbrief", true)).await;
    assert!(answer.body.contains("bevestigen"), "{}", answer.body);
    let mails = mails_to_readers(&app);
    assert_eq!(mails.len(), 1, "the confirmation mail, nothing else");
    assert!(mails[0].file.ends_with("confirm.eml"));
    let anna =
        app.store.subscriber_by_email(&SubscriberEmail::parse("anna@example.nl").unwrap()).await.unwrap().unwrap();
    let site = &app.app.catalogue.site;
    assert_eq!(anna.consent[0].consent_text_version, site.reaction_consent_version());
    assert_ne!(site.reaction_consent_version(), site.consent_version());
    assert!(anna.consent[0].source_url.as_deref().unwrap().ends_with("#reageer"));
    let page = app.get(POST).await.body;
    assert!(!page.contains("name=\"newsletter\" type=\"checkbox\" value=\"ja\" checked"), "never pre-ticked");
}

/// A person's export has their reactions; erase takes them, published ones too.
async fn export_and_erase_include_reactions(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store.clone());
    app.post_form(FORM, &form("Anna", "anna@example.nl", "Mijn gedachte", false)).await;
    app.post_form(FORM, &form("Bob", "bob@example.nl", "Andere gedachte", false)).await;
    let anna = SubscriberEmail::parse("anna@example.nl").unwrap();
    let theirs = postbode::app::reactions::of_address(store.as_ref(), &anna).await.unwrap();
    postbode::app::reactions::approve(store.as_ref(), &theirs[0], app.now()).await.unwrap();
    let export = postbode::app::operator::export(store.as_ref(), &anna, app.now()).await.unwrap().unwrap();
    assert!(export.subscriber.is_none(), "only a reaction");
    assert_eq!(export.reactions.len(), 1);
    assert_eq!(export.reactions[0].text, "Mijn gedachte");
    let all = postbode::app::operator::export_all(store.as_ref(), app.now()).await.unwrap();
    assert_eq!(all.iter().map(|e| e.reactions.len()).sum::<usize>(), 2, "the whole export has every reaction");
    assert!(
        postbode::app::operator::erase(store.as_ref(), app.app.mailer.as_ref(), &app.tokens, &anna, app.now())
            .await
            .unwrap()
    );
    assert!(!app.get(POST).await.body.contains("Mijn gedachte"));
    let left = store.all_reactions().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].email.as_str(), "bob@example.nl");
    assert!(postbode::app::operator::export(store.as_ref(), &anna, app.now()).await.unwrap().is_none());
}

/// Waiting reactions older than the retention period are erased by the sender's run;
/// published ones stay.
async fn old_waiting_reactions_are_erased(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store.clone());
    app.post_form(FORM, &form("Anna", "anna@example.nl", "Wacht", false)).await;
    app.post_form(FORM, &form("Bob", "bob@example.nl", "Geplaatst", false)).await;
    let bob = SubscriberEmail::parse("bob@example.nl").unwrap();
    let bob = postbode::app::reactions::of_address(store.as_ref(), &bob).await.unwrap();
    postbode::app::reactions::approve(store.as_ref(), &bob[0], app.now()).await.unwrap();
    let months = app.app.catalogue.site.retention_months;
    app.advance(SignedDuration::from_hours(24 * 31 * i64::from(months)));
    let report = app.app.parts().sender(Default::default()).unwrap().run(run(app.now())).await.unwrap();
    assert_eq!(report.reactions_erased, 1);
    let left = store.all_reactions().await.unwrap();
    assert_eq!(left.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(), ["Geplaatst"]);
}

crate::helpers::on_both_stores!(
    a_reaction_waits_is_approved_by_its_button_and_shows_escaped,
    forged_misdirected_and_expired_buttons_are_refused,
    the_armour_of_the_front_door_holds,
    a_flood_of_reactions_becomes_a_few_notices,
    the_newsletter_box_is_a_separate_consent,
    export_and_erase_include_reactions,
    old_waiting_reactions_are_erased,
);

/// A post whose front matter says `reactions = false` has no form, refuses the POST, and its
/// mail does not invite a reaction; the others' mails link to their form.
#[tokio::test]
async fn a_post_can_close_its_reactions() {
    let catalogue = crate::helpers::catalogue_with(&[(
        "posts/nieuws.md",
        "+++\ntitle = \"Nieuws\"\nslug = \"nieuws\"\nsummary = \"Kort.\"\ndate = 2026-11-20\nreactions = false\n+++\n\nKort nieuws.\n",
    )])
    .unwrap();
    let open = crate::helpers::render(&catalogue, "leiderschap-en-vertrouwen");
    assert!(open.text.contains("Reageer op dit artikel"));
    assert!(open.text.contains("/posts/leiderschap-en-vertrouwen#reageer"));
    let closed = crate::helpers::render(&catalogue, "nieuws");
    assert!(!closed.text.contains("Reageer op dit artikel"));
    let app = TestApp::with_catalogue(catalogue);
    let page = app.get("/posts/nieuws").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("id=\"reageer\""));
    let refused = app.post_form("/posts/nieuws/reacties", &form("Anna", "anna@example.nl", "Hoi", false)).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(app.store.all_reactions().await.unwrap().is_empty());
    let bad = crate::helpers::catalogue_with(&[(
        "posts/fout.md",
        "+++\ntitle = \"Fout\"\nslug = \"fout\"\nsummary = \"x\"\ndate = 2026-11-20\nreactions = \"nee\"\n+++\n\nx\n",
    )]);
    let problems = bad.unwrap_err().to_string();
    assert!(problems.contains("posts/fout.md:6: `reactions` must be true or false"), "{problems}");
}

/// A reaction from an address whose domain takes no mail (asked of the DNS server): the
/// author could never answer, so it is refused in Dutch, nothing stored, no cap spent.
#[tokio::test]
async fn a_reaction_from_a_domain_without_mail_in_the_dns_server_is_refused() {
    use postbode::mail::domains::DnsMailDomains;
    let server = std::env::var("POSTBODE_TEST_DNS")
        .expect("POSTBODE_TEST_DNS is not set: run the tests with ./infra/test-all, which starts the DNS server");
    let app = TestApp::with_mail_domains(Arc::new(DnsMailDomains::with_server(server.parse().unwrap()).unwrap()));
    for _ in 0..5 {
        let refused = app.post_form(FORM, &form("Anna", "anna@bestaat-niet.example", "Hoi René", false)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("het deel na de @ bestaat niet"));
        assert!(refused.body.contains("Hoi René"), "the text is kept");
    }
    assert!(app.store.all_reactions().await.unwrap().is_empty());
    let ok = app.post_form(FORM, &form("Anna", "anna@met-mx.example", "Hoi René", false)).await;
    assert_eq!(ok.status, StatusCode::OK, "no cap was spent by the refusals");
}

/// `postbode reactions …` on the local store: list (waiting), show with the address,
/// approve and answer by the id's first digits, delete; an unknown or ambiguous id is said.
#[test]
fn the_author_moderates_from_the_command_line() {
    use crate::helpers::{postbode, stderr, stdout};
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = postbode::startup::local_store(data.path()).unwrap();
    let now = jiff::Timestamp::now();
    let reaction = postbode::reactions::Reaction::new(
        "leiderschap-en-vertrouwen",
        "Anna\u{202e}".into(),
        SubscriberEmail::parse("anna@example.nl").unwrap(),
        "Eerste regel\nTweede regel".into(),
        now,
    );
    runtime.block_on(postbode::store::Reactions::insert_reaction(&store, &reaction)).unwrap();
    drop(store);
    let short = reaction.id.short();
    let listed = stdout(&postbode(&["reactions", "list", "--waiting", "--local", dir]));
    assert!(listed.contains(&short) && listed.contains("waiting") && listed.contains("1 reaction(s)"), "{listed}");
    assert!(listed.contains("Anna\\u{202e}"), "hidden characters shown, never acted on: {listed}");
    let shown = stdout(&postbode(&["reactions", "show", &short, "--local", dir]));
    assert!(shown.contains("anna@example.nl") && shown.contains("Eerste regel\nTweede regel"), "{shown}");
    let approved = postbode(&["reactions", "approve", &short, "--local", dir]);
    assert!(approved.status.success(), "{}", stderr(&approved));
    let answered = postbode(&["reactions", "answer", &short, "Dank je, Anna.", "--local", dir]);
    assert!(stdout(&answered).contains("shown under it"), "{}", stderr(&answered));
    assert_eq!(stdout(&postbode(&["reactions", "list", "--waiting", "--local", dir])).trim(), "0 reaction(s)");
    let unknown = postbode(&["reactions", "approve", "ffffffff", "--local", dir]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("no reaction with id ffffffff"));
    let deleted = postbode(&["reactions", "delete", &reaction.id.to_string(), "--local", dir]);
    assert!(stdout(&deleted).contains("deleted"), "{}", stderr(&deleted));
    assert_eq!(stdout(&postbode(&["reactions", "list", "--local", dir])).trim(), "0 reaction(s)");
}
