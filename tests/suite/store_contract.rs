//! One contract, two stores: the embedded SQLite store and the DynamoDB store (against
//! DynamoDB Local) must behave the same.

use std::sync::Arc;

use jiff::Timestamp;
use postbode::store::sqlite::SqliteStore;
use postbode::store::{Budget, Store, StoreError, Subscribers};
use postbode::subscribers::{ConsentAction, ConsentRecord, Status, Subscriber, SubscriberEmail, SubscriberId, Welcome};

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

pub fn subscriber(email: &str) -> Subscriber {
    Subscriber {
        id: SubscriberId::random(),
        email: SubscriberEmail::parse(email).unwrap(),
        first_name: Some("Anna".into()),
        status: Status::Pending,
        created_at: at(0),
        updated_at: at(0),
        token_version: 1,
        consent: vec![ConsentRecord {
            action: ConsentAction::Subscribe,
            at: at(0),
            ip: Some("192.0.2.1".into()),
            user_agent: Some("Firefox".into()),
            source_url: Some("https://postbode.example/".into()),
            consent_text_version: "abcdef0123456789".into(),
            detail: None,
        }],
        consent_dropped: 0,
        confirmation_sent_at: Some(at(0)),
        confirmed_at: None,
        welcome: Welcome::NotSent,
        drip: Default::default(),
        preferences: Default::default(),
        address_change: None,
        next_due_at: None,
        left_at: None,
        transient_bounces: 0,
        requests: Vec::new(),
        version: 0,
    }
}

pub async fn insert_and_read_back(store: Arc<dyn Store>) {
    let s = subscriber("anna@example.nl");
    store.insert_subscriber(&s, s.created_at).await.unwrap();
    assert_eq!(store.subscriber(&s.id).await.unwrap().as_ref(), Some(&s));
    assert_eq!(store.subscriber_by_email(&s.email).await.unwrap().as_ref(), Some(&s));
    assert_eq!(store.subscriber(&SubscriberId::random()).await.unwrap(), None);
    assert_eq!(store.subscriber_by_email(&SubscriberEmail::parse("x@example.nl").unwrap()).await.unwrap(), None);
}

pub async fn one_subscriber_per_address(store: Arc<dyn Store>) {
    let first = subscriber("anna@example.nl");
    store.insert_subscriber(&first, first.created_at).await.unwrap();
    let second = subscriber("anna@example.nl");
    assert!(matches!(store.insert_subscriber(&second, second.created_at).await, Err(StoreError::Conflict)));
    assert_eq!(store.subscriber_by_email(&first.email).await.unwrap().unwrap().id, first.id);
    assert_eq!(store.subscriber(&second.id).await.unwrap(), None, "no half-written record");
}

/// An unconfirmed record expires ([`postbode::subscribers::PENDING_TTL`] after its last
/// confirmation mail): the same address can be inserted again 31 days later, not a day before.
/// Time comes from the caller only, so this holds whatever day the suite runs on.
pub async fn an_expired_pending_address_is_free_again(store: Arc<dyn Store>) {
    let first = subscriber("terug@example.nl");
    store.insert_subscriber(&first, at(0)).await.unwrap();
    let day = 24 * 3600;
    let early = subscriber("terug@example.nl");
    assert!(matches!(store.insert_subscriber(&early, at(29 * day)).await, Err(StoreError::Conflict)));
    let mut again = subscriber("terug@example.nl");
    again.created_at = at(31 * day);
    store.insert_subscriber(&again, at(31 * day)).await.unwrap();
    assert_eq!(store.subscriber_by_email(&again.email).await.unwrap().map(|s| s.id), Some(again.id));
    // A confirmed record never expires.
    let mut kept = subscriber("blijft@example.nl");
    kept.status = Status::Confirmed;
    store.insert_subscriber(&kept, at(0)).await.unwrap();
    let late = subscriber("blijft@example.nl");
    assert!(matches!(store.insert_subscriber(&late, at(400 * day)).await, Err(StoreError::Conflict)));
}

pub async fn racing_inserts_leave_one(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_subscriber(&subscriber("race@example.nl"), at(0)).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won, 1);
}

pub async fn updates_are_conditional_on_the_version(store: Arc<dyn Store>) {
    let mut s = subscriber("anna@example.nl");
    store.insert_subscriber(&s, s.created_at).await.unwrap();
    let stale = s.clone();
    s.status = Status::Confirmed;
    s.welcome = Welcome::Sent { at: at(5), message_id: "m-1".into() };
    s.next_due_at = Some(at(3600));
    s.version = store.update_subscriber(&s).await.unwrap();
    assert_eq!(s.version, 1);
    assert_eq!(store.subscriber(&s.id).await.unwrap().as_ref(), Some(&s));
    assert!(matches!(store.update_subscriber(&stale).await, Err(StoreError::Conflict)));
    assert_eq!(store.subscriber(&s.id).await.unwrap().unwrap().status, Status::Confirmed);
    // Racing updates from one read: one wins.
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let (store, mut s) = (store.clone(), s.clone());
            tokio::spawn(async move {
                s.first_name = Some(format!("naam {i}"));
                store.update_subscriber(&s).await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        if task.await.unwrap().is_ok() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    assert_eq!(store.subscriber(&s.id).await.unwrap().unwrap().version, 2);
}

pub async fn due_subscribers_come_page_by_page_in_due_order(store: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut s = subscriber(&format!("due{i}@example.nl"));
        s.status = Status::Confirmed;
        // Due at 10, 20, … 70 seconds; one not due at all, one due later than now.
        s.next_due_at = Some(at(10 * (7 - i)));
        store.insert_subscriber(&s, s.created_at).await.unwrap();
        ids.push((10 * (7 - i), s.id));
    }
    let never = subscriber("never@example.nl");
    store.insert_subscriber(&never, never.created_at).await.unwrap();
    let mut later = subscriber("later@example.nl");
    later.next_due_at = Some(at(1000));
    store.insert_subscriber(&later, later.created_at).await.unwrap();

    ids.sort();
    let expected: Vec<SubscriberId> = ids.into_iter().map(|(_, id)| id).collect();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.due_subscribers(at(100), cursor.as_ref(), 3).await.unwrap();
        assert!(page.subscribers.len() <= 3);
        seen.extend(page.subscribers);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    assert_eq!(store.due_subscribers(at(5), None, 10).await.unwrap().subscribers.len(), 0);
}

pub async fn a_send_is_claimed_once(store: Arc<dyn Store>) {
    use jiff::SignedDuration;
    use postbode::store::{Claim, SendResult, SendState};
    let mut s = subscriber("claim@example.nl");
    store.insert_subscriber(&s, s.created_at).await.unwrap();
    let lease = SignedDuration::from_mins(10);
    // Only a confirmed subscriber's send can be claimed.
    assert_eq!(store.claim_send(&s.id, "deel-1", at(0), lease).await.unwrap(), Claim::NotConfirmed);
    s.status = postbode::subscribers::Status::Confirmed;
    s.version = store.update_subscriber(&s).await.unwrap();
    // Racing claims: one wins.
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (store, id) = (store.clone(), s.id.clone());
            tokio::spawn(async move { store.claim_send(&id, "deel-1", at(0), lease).await.unwrap() })
        })
        .collect();
    let mut claims = Vec::new();
    for task in tasks {
        claims.push(task.await.unwrap());
    }
    assert_eq!(claims.iter().filter(|c| **c == Claim::Claimed).count(), 1);
    assert!(claims.iter().all(|c| *c != Claim::Done));
    // Within the lease another run keeps off; after it, the claim is taken over.
    assert_eq!(store.claim_send(&s.id, "deel-1", at(599), lease).await.unwrap(), Claim::HeldElsewhere);
    assert_eq!(store.claim_send(&s.id, "deel-1", at(601), lease).await.unwrap(), Claim::Claimed);
    store.finish_send(&s.id, "deel-1", &SendResult::Sent { message_id: "m-1".into() }, at(602)).await.unwrap();
    // Sent: done for good, even long after.
    assert_eq!(store.claim_send(&s.id, "deel-1", at(100_000), lease).await.unwrap(), Claim::Done);
    // A permanent failure is final too.
    assert_eq!(store.claim_send(&s.id, "deel-2", at(0), lease).await.unwrap(), Claim::Claimed);
    store.finish_send(&s.id, "deel-2", &SendResult::Failed { reason: "rejected".into() }, at(1)).await.unwrap();
    assert_eq!(store.claim_send(&s.id, "deel-2", at(100_000), lease).await.unwrap(), Claim::Done);
    // A claim given back (its send did not happen) can be taken again at once; only by its
    // own holder (the hold is its token).
    assert_eq!(store.claim_send(&s.id, "deel-3", at(0), lease).await.unwrap(), Claim::Claimed);
    store.release_claim(&s.id, "deel-3", at(1).checked_add(lease).unwrap()).await.unwrap();
    assert_eq!(store.claim_send(&s.id, "deel-3", at(5), lease).await.unwrap(), Claim::HeldElsewhere, "not its holder");
    store.release_claim(&s.id, "deel-3", at(0).checked_add(lease).unwrap()).await.unwrap();
    assert_eq!(store.claim_send(&s.id, "deel-3", at(5), lease).await.unwrap(), Claim::Claimed);
    // SES's Send event settles a claim whose answer was lost; a second one changes nothing,
    // and an event without a claim records nothing.
    store.record_send_event(&s.id, "deel-3", "m-3", at(6)).await.unwrap();
    store.record_send_event(&s.id, "deel-3", "m-3-again", at(7)).await.unwrap();
    store.record_send_event(&s.id, "deel-9", "m-9", at(7)).await.unwrap();
    assert_eq!(store.claim_send(&s.id, "deel-3", at(100_000), lease).await.unwrap(), Claim::Done);
    // Someone who left gets no claim, also for a send that was free.
    s.status = postbode::subscribers::Status::Unsubscribed;
    store.update_subscriber(&s).await.unwrap();
    assert_eq!(store.claim_send(&s.id, "deel-4", at(10), lease).await.unwrap(), Claim::NotConfirmed);
    assert_eq!(store.claim_send(&s.id, "deel-1", at(100_000), lease).await.unwrap(), Claim::Done);
    let mut history = store.sends(&s.id).await.unwrap();
    history.sort_by(|a, b| a.slug.cmp(&b.slug));
    assert_eq!(history.len(), 3);
    assert_eq!((history[2].state, history[2].message_id.as_deref()), (SendState::Sent, Some("m-3")));
    assert_eq!((history[0].state, history[0].message_id.as_deref()), (SendState::Sent, Some("m-1")));
    assert_eq!((history[1].state, history[1].reason.as_deref()), (SendState::Failed, Some("rejected")));
    assert_eq!(history[0].finished_at, Some(at(602)));
}

/// Budgets (the caps on confirmation mail): at most `limit` takes per key, also when racing;
/// keys are independent.
pub async fn budgets_hold_their_limit_also_when_racing(store: Arc<dyn Store>) {
    let expires = at(7200);
    let budget = |key: &str, limit| Budget { key: key.into(), limit, expires_at: expires };
    let now = at(0);
    assert!(store.take_budget(budget("k1", 2), now).await.unwrap());
    assert!(store.take_budget(budget("k1", 2), now).await.unwrap());
    assert!(!store.take_budget(budget("k1", 2), now).await.unwrap());
    assert!(!store.take_budget(budget("k1", 2), now).await.unwrap(), "a refused take does not count up past the limit");
    assert!(store.take_budget(budget("k2", 1), now).await.unwrap(), "another key has its own budget");
    assert!(!store.take_budget(budget("k3", 0), now).await.unwrap(), "a zero budget gives nothing");
    let racers: Vec<_> = (0..12)
        .map(|_| {
            let store = store.clone();
            let shared = [budget("race", 5), budget(&format!("own-{}", uuid::Uuid::new_v4()), 1)];
            tokio::spawn(async move { store.take_budgets(&shared, now).await.unwrap() })
        })
        .collect();
    let mut granted = 0;
    for racer in racers {
        granted += u32::from(racer.await.unwrap());
    }
    assert_eq!(granted, 5, "racing takes of several budgets at once hold the shared one's limit");
}

/// Several budgets are taken all or nothing: one without room leaves the others untouched
/// (a client over its own cap spends nobody's mailbox budget). A long-lived marker never
/// takes an hour's counters with it.
pub async fn budgets_are_taken_all_or_nothing(store: Arc<dyn Store>) {
    let now = at(0);
    let budget = |key: &str, limit| Budget { key: key.into(), limit, expires_at: at(7200) };
    assert!(store.take_budget(budget("client", 1), now).await.unwrap());
    // The client is over its cap: the victim's mailbox budget is not spent.
    for _ in 0..5 {
        assert!(!store.take_budgets(&[budget("victim", 1), budget("client", 1)], now).await.unwrap());
    }
    assert!(store.take_budget(budget("victim", 1), now).await.unwrap(), "the victim's budget is whole");
    // A marker kept for 30 days, taken later in the hour, leaves the hour's counters.
    let marker = Budget::once("marker", at(30 * 86_400));
    assert!(store.take_budget(marker, at(60)).await.unwrap());
    assert!(!store.take_budget(budget("client", 1), at(120)).await.unwrap(), "the hour's counter is kept");
    // Past its expiry by the caller's clock, a counter may be gone (SQLite: at once).
    assert!(!store.take_budget(Budget::once("marker", at(30 * 86_400)), at(86_400)).await.unwrap());
}

/// An effect applied at most once: marker, records and counters in one transaction. A repeat
/// writes nothing; a conflicting record writes nothing (not even the marker), so a retry
/// applies it.
pub async fn an_effect_is_applied_once_with_its_marker(store: Arc<dyn Store>) {
    use postbode::store::{Count, DayStats, Ledger};
    let s = subscriber("klacht@example.nl");
    store.insert_subscriber(&s, s.created_at).await.unwrap();
    let day = jiff::civil::date(2027, 1, 5);
    let count = Count { ledger: Ledger::List, day, delta: DayStats { complained: 1, ..DayStats::default() } };
    let marker = Budget::once("ses-event#f1", at(30 * 86_400));
    let mut complained = s.clone();
    complained.status = Status::Complained;
    // Read before another writer changed the record: nothing is written, the marker neither.
    let mut other = s.clone();
    other.first_name = Some("Ander".into());
    store.update_subscriber(&other).await.unwrap();
    let lost = store.apply_once(&marker, std::slice::from_ref(&complained), &[count], at(10)).await;
    assert!(matches!(lost, Err(StoreError::Conflict)), "{lost:?}");
    assert_eq!(store.stats(Ledger::List, day, day).await.unwrap(), DayStats::default());
    // The retry reads again and applies.
    let mut fresh = store.subscriber(&s.id).await.unwrap().unwrap();
    fresh.status = Status::Complained;
    assert!(store.apply_once(&marker, std::slice::from_ref(&fresh), &[count], at(11)).await.unwrap());
    let stored = store.subscriber(&s.id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.version), (Status::Complained, fresh.version + 1));
    // The same event again: nothing.
    assert!(!store.apply_once(&marker, &[], &[count], at(12)).await.unwrap());
    assert_eq!(store.stats(Ledger::List, day, day).await.unwrap().complained, 1);
}

/// Day counters per ledger: concurrent adds all count, ranges sum, ledgers and days apart.
pub async fn day_stats_add_up_per_ledger_and_day(store: Arc<dyn Store>) {
    use postbode::store::{DayStats, Ledger};
    let day = |d: i8| jiff::civil::date(2027, 1, d);
    let sent = DayStats { sent: 1, ..DayStats::default() };
    let adders: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.add_stats(Ledger::List, day(2), sent).await.unwrap() })
        })
        .collect();
    for adder in adders {
        adder.await.unwrap();
    }
    store.add_stats(Ledger::List, day(3), DayStats { sent: 2, bounced: 1, complained: 1 }).await.unwrap();
    store.add_stats(Ledger::Confirmation, day(2), DayStats { sent: 5, bounced: 4, complained: 0 }).await.unwrap();
    store.add_stats(Ledger::ConfirmPage, day(2), sent).await.unwrap();
    assert_eq!(store.stats(Ledger::List, day(2), day(2)).await.unwrap(), DayStats { sent: 8, ..DayStats::default() });
    assert_eq!(
        store.stats(Ledger::List, day(1), day(3)).await.unwrap(),
        DayStats { sent: 10, bounced: 1, complained: 1 }
    );
    assert_eq!(store.stats(Ledger::List, day(4), day(9)).await.unwrap(), DayStats::default());
    assert_eq!(
        store.stats(Ledger::Confirmation, day(1), day(3)).await.unwrap(),
        DayStats { sent: 5, bounced: 4, complained: 0 }
    );
    assert_eq!(store.stats(Ledger::ConfirmPage, day(2), day(2)).await.unwrap(), sent);
}

/// Page views: concurrent views all count, per post and day, read back by day then post.
pub async fn page_views_count_per_post_and_day(store: Arc<dyn Store>) {
    use postbode::store::PageViews;
    let day = |d: i8| jiff::civil::date(2027, 1, d);
    let viewers: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.add_page_view("leiderschap-en-vertrouwen", day(2)).await.unwrap() })
        })
        .collect();
    for viewer in viewers {
        viewer.await.unwrap();
    }
    store.add_page_view("deel-2", day(2)).await.unwrap();
    store.add_page_view("deel-2", day(3)).await.unwrap();
    store.add_page_view("deel-2", day(9)).await.unwrap();
    let views = |d: i8, slug: &str, views: u64| PageViews { day: day(d), slug: slug.into(), views };
    assert_eq!(
        store.page_views(day(1), day(3)).await.unwrap(),
        [views(2, "deel-2", 1), views(2, "leiderschap-en-vertrouwen", 6), views(3, "deel-2", 1)]
    );
    assert_eq!(store.page_views(day(4), day(8)).await.unwrap(), []);
    // The ledgers' counters of the same days are not views, nor the other way round.
    assert_eq!(store.stats(postbode::store::Ledger::List, day(1), day(9)).await.unwrap().sent, 0);
}

/// The pause (with the breaker's window) and the account-level problem are written apart:
/// neither write undoes the other.
pub async fn sending_state_and_problem_are_kept_apart(store: Arc<dyn Store>) {
    use postbode::store::{DayStats, FreshWindow, Pause, SendingState};
    assert_eq!(store.sending_state().await.unwrap(), SendingState::default());
    let pause = Pause { since: at(10), reason: "bounce rate 5.00%".into() };
    let problem = Pause { since: at(20), reason: "sandbox".into() };
    store.set_sending_state(&SendingState { paused: Some(pause.clone()), ..SendingState::default() }).await.unwrap();
    store.set_sending_problem(Some(&problem)).await.unwrap();
    let state = store.sending_state().await.unwrap();
    assert_eq!((state.paused.as_ref(), state.problem.as_ref()), (Some(&pause), Some(&problem)));
    let window = FreshWindow { since: at(30), baseline: DayStats { sent: 3, bounced: 1, complained: 0 } };
    store
        .set_sending_state(&SendingState { fresh_window: Some(window.clone()), ..SendingState::default() })
        .await
        .unwrap();
    let state = store.sending_state().await.unwrap();
    assert_eq!((state.paused, state.fresh_window, state.problem.as_ref()), (None, Some(window), Some(&problem)));
    store.set_sending_problem(None).await.unwrap();
    assert_eq!(store.sending_state().await.unwrap().problem, None);
}

/// Everyone is listed; erasing takes the record, its address and its send history, and frees
/// the address.
pub async fn erasing_takes_record_address_and_history(store: Arc<dyn Store>) {
    use jiff::SignedDuration;
    use postbode::store::SendResult;
    let mut kept = subscriber("blijft@example.nl");
    kept.status = Status::Confirmed;
    let mut gone = subscriber("weg@example.nl");
    gone.status = Status::Confirmed;
    for s in [&kept, &gone] {
        store.insert_subscriber(s, at(0)).await.unwrap();
        store.claim_send(&s.id, "deel-1", at(1), SignedDuration::from_mins(10)).await.unwrap();
        store.finish_send(&s.id, "deel-1", &SendResult::Sent { message_id: "m".into() }, at(2)).await.unwrap();
    }
    let mut all: Vec<_> = store.all_subscribers().await.unwrap().into_iter().map(|s| s.id).collect();
    all.sort();
    let mut expected = vec![kept.id.clone(), gone.id.clone()];
    expected.sort();
    assert_eq!(all, expected);
    store.erase_subscriber(&gone).await.unwrap();
    assert_eq!(store.subscriber(&gone.id).await.unwrap(), None);
    assert_eq!(store.subscriber_by_email(&gone.email).await.unwrap(), None);
    assert!(store.sends(&gone.id).await.unwrap().is_empty(), "no send history left");
    assert_eq!(store.sends(&kept.id).await.unwrap().len(), 1, "others keep theirs");
    assert_eq!(store.all_subscribers().await.unwrap().len(), 1);
    store.insert_subscriber(&subscriber("weg@example.nl"), at(3)).await.unwrap();
}

/// The suppression list: salted hashes, set and lifted.
pub async fn suppression_is_set_and_lifted(store: Arc<dyn Store>) {
    assert!(!store.is_suppressed("hash-a").await.unwrap());
    store.set_suppressed("hash-a", true, at(0)).await.unwrap();
    store.set_suppressed("hash-a", true, at(1)).await.unwrap();
    assert!(store.is_suppressed("hash-a").await.unwrap());
    assert!(!store.is_suppressed("hash-b").await.unwrap());
    store.set_suppressed("hash-a", false, at(2)).await.unwrap();
    assert!(!store.is_suppressed("hash-a").await.unwrap());
}

/// Subscribe intents wait, oldest first, until forgotten.
pub async fn intents_wait_oldest_first_until_forgotten(store: Arc<dyn Store>) {
    use postbode::subscribers::{Evidence, SubscribeIntent};
    let intent = |id: &str, secs: i64| SubscribeIntent {
        id: id.into(),
        email: SubscriberEmail::parse(&format!("{id}@example.nl")).unwrap(),
        first_name: None,
        evidence: Evidence::default(),
        at: at(secs),
    };
    for (id, secs) in [("derde", 30), ("eerste", 10), ("tweede", 20)] {
        store.record_intent(&intent(id, secs)).await.unwrap();
    }
    let ids = |intents: Vec<SubscribeIntent>| intents.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids(store.pending_intents(2).await.unwrap()), ["eerste", "tweede"]);
    let first = store.pending_intents(1).await.unwrap().remove(0);
    assert_eq!(first, intent("eerste", 10), "read back as recorded");
    store.forget_intent(&first).await.unwrap();
    assert_eq!(ids(store.pending_intents(10).await.unwrap()), ["tweede", "derde"]);
}

fn reaction(slug: &str, email: &str, secs: i64) -> postbode::reactions::Reaction {
    postbode::reactions::Reaction::new(
        slug,
        "Anna".into(),
        SubscriberEmail::parse(email).unwrap(),
        format!("Reactie op {slug}.\n\nTweede alinea."),
        at(secs),
    )
}

/// Reactions: those of a post together, oldest first; the waiting ones from their index in
/// both orders (an approved one leaves it); each change in one write; deleted for good.
pub async fn reactions_of_a_post_and_waiting_ones(store: Arc<dyn Store>) {
    use postbode::reactions::ReactionStatus;
    use postbode::store::ReactionChange;
    let (a, b, c) = (
        reaction("post-a", "anna@example.nl", 30),
        reaction("post-a", "bob@example.nl", 10),
        reaction("post-b", "anna@example.nl", 20),
    );
    for r in [&a, &b, &c] {
        store.insert_reaction(r).await.unwrap();
    }
    assert!(matches!(store.insert_reaction(&a).await, Err(StoreError::Conflict)), "an id is taken once");
    assert_eq!(store.reaction(&a.id).await.unwrap().as_ref(), Some(&a), "read back as stored");
    let ids = |rs: Vec<postbode::reactions::Reaction>| rs.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(store.reactions_of_post("post-a").await.unwrap()), [b.id.clone(), a.id.clone()], "oldest first");
    assert_eq!(ids(store.waiting_reactions(10, false).await.unwrap()), [b.id.clone(), c.id.clone(), a.id.clone()]);
    assert_eq!(ids(store.waiting_reactions(2, true).await.unwrap()), [a.id.clone(), c.id.clone()], "newest first");

    let approved = store.change_reaction(&b, &ReactionChange::Approve { at: at(100) }).await.unwrap().unwrap();
    assert_eq!((approved.status, approved.published_at), (ReactionStatus::Published, Some(at(100))));
    let again = store.change_reaction(&b, &ReactionChange::Approve { at: at(200) }).await.unwrap().unwrap();
    assert_eq!(again.published_at, Some(at(100)), "published once");
    // A notice marks the (stale) copy it read: the approval stays.
    let marked = store.change_reaction(&b, &ReactionChange::Notified).await.unwrap().unwrap();
    assert!(marked.notified);
    assert_eq!(marked.status, ReactionStatus::Published);
    let answer = postbode::reactions::Answer { text: "Dank je!".into(), at: at(300) };
    let answered = store.change_reaction(&b, &ReactionChange::Answer(answer.clone())).await.unwrap().unwrap();
    assert_eq!((answered.answer.as_ref(), answered.status), (Some(&answer), ReactionStatus::Published));
    assert_eq!(
        ids(store.waiting_reactions(10, false).await.unwrap()),
        [c.id.clone(), a.id.clone()],
        "approved: not waiting"
    );
    assert_eq!(store.all_reactions().await.unwrap().len(), 3);
    let anna = SubscriberEmail::parse("anna@example.nl").unwrap();
    assert_eq!(ids(store.reactions_of_address(&anna).await.unwrap()), [c.id.clone(), a.id.clone()], "a person's");

    store.delete_reaction(&b).await.unwrap();
    store.delete_reaction(&b).await.unwrap();
    assert_eq!(store.reaction(&b.id).await.unwrap(), None, "gone for good");
    assert_eq!(store.change_reaction(&b, &ReactionChange::Notified).await.unwrap(), None, "a change finds nothing");
    assert_eq!(ids(store.reactions_of_post("post-a").await.unwrap()), vec![a.id.clone()]);
    assert_eq!(ids(store.all_reactions().await.unwrap()), [c.id.clone(), a.id.clone()]);
    store.delete_reaction(&c).await.unwrap();
    assert_eq!(ids(store.reactions_of_address(&anna).await.unwrap()), vec![a.id.clone()]);
    let bob = SubscriberEmail::parse("bob@example.nl").unwrap();
    assert!(store.reactions_of_address(&bob).await.unwrap().is_empty());
}

/// An address moves in one write: never onto a taken one (an expired pending record's is
/// free), never from a stale read; the old address is let go.
pub async fn a_subscriber_moves_to_a_free_address(store: Arc<dyn Store>) {
    let mut anna = subscriber("anna@example.nl");
    anna.status = Status::Confirmed;
    let mut bob = subscriber("bob@example.nl");
    bob.status = Status::Confirmed;
    let expired = subscriber("oud@example.nl");
    for s in [&anna, &bob, &expired] {
        store.insert_subscriber(s, at(0)).await.unwrap();
    }
    let later = at(31 * 24 * 3600);
    let old = anna.email.clone();
    let mut onto_bob = anna.clone();
    onto_bob.email = bob.email.clone();
    assert!(matches!(store.move_subscriber(&onto_bob, &old, later).await, Err(StoreError::Conflict)), "taken");
    assert_eq!(store.subscriber_by_email(&old).await.unwrap().unwrap().id, anna.id, "nothing moved");
    let mut moved = anna.clone();
    moved.email = expired.email.clone();
    assert_eq!(store.move_subscriber(&moved, &old, later).await.unwrap(), 1);
    assert!(store.subscriber_by_email(&old).await.unwrap().is_none(), "the old address is let go");
    let found = store.subscriber_by_email(&expired.email).await.unwrap().unwrap();
    assert_eq!((found.id, found.version), (anna.id.clone(), 1));
    let mut stale = moved.clone();
    stale.email = SubscriberEmail::parse("nog-eens@example.nl").unwrap();
    assert!(matches!(store.move_subscriber(&stale, &expired.email, later).await, Err(StoreError::Conflict)));
    store.insert_subscriber(&subscriber("anna@example.nl"), later).await.unwrap();
}

/// Every case above, for one store. Listed once; each becomes a test per store.
macro_rules! contract {
    ($name:ident, $store:expr) => {
        contract!(@cases $name, $store,
            insert_and_read_back,
            one_subscriber_per_address,
            an_expired_pending_address_is_free_again,
            racing_inserts_leave_one,
            updates_are_conditional_on_the_version,
            due_subscribers_come_page_by_page_in_due_order,
            a_send_is_claimed_once,
            day_stats_add_up_per_ledger_and_day,
            page_views_count_per_post_and_day,
            sending_state_and_problem_are_kept_apart,
            erasing_takes_record_address_and_history,
            suppression_is_set_and_lifted,
            intents_wait_oldest_first_until_forgotten,
            budgets_hold_their_limit_also_when_racing,
            budgets_are_taken_all_or_nothing,
            an_effect_is_applied_once_with_its_marker,
            reactions_of_a_post_and_waiting_ones,
            a_subscriber_moves_to_a_free_address,
        );
    };
    (@cases $name:ident, $store:expr, $($case:ident),+ $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $case() {
                    super::$case($store).await
                }
            )+
        }
    };
}

contract!(sqlite, Arc::new(SqliteStore::in_memory().unwrap()) as Arc<dyn Store>);
contract!(dynamodb, Arc::new(crate::aws::dynamo_store().await.0) as Arc<dyn Store>);

#[tokio::test]
async fn sqlite_keeps_everything_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("postbode.sqlite");
    let s = subscriber("anna@example.nl");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.insert_subscriber(&s, s.created_at).await.unwrap();
    }
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.subscriber_by_email(&s.email).await.unwrap(), Some(s));
}

/// DynamoDB specifics the contract cannot see: pending items expire by TTL (and confirming
/// keeps them), and only due subscribers are in the sparse index.
#[tokio::test]
async fn dynamodb_ttl_and_sparse_index() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (store, client, table) = crate::aws::dynamo_store().await;
    let mut s = subscriber("ttl@example.nl");
    store.insert_subscriber(&s, s.created_at).await.unwrap();
    let item = |pk: String| {
        let (client, table) = (client.clone(), table.clone());
        async move {
            client
                .get_item()
                .table_name(table)
                .key("pk", AttributeValue::S(pk.clone()))
                .key("sk", AttributeValue::S(if pk.starts_with("SUB#") { "SUB".into() } else { "EMAIL".into() }))
                .send()
                .await
                .unwrap()
                .item
                .unwrap()
        }
    };
    let pending = item(format!("SUB#{}", s.id)).await;
    assert!(pending.contains_key("expires_at"));
    assert!(item("EMAIL#ttl@example.nl".into()).await.contains_key("expires_at"));
    assert!(!pending.contains_key("due_pk"), "nothing due: not in the index");

    s.status = Status::Confirmed;
    s.next_due_at = Some(at(100));
    store.update_subscriber(&s).await.unwrap();
    let confirmed = item(format!("SUB#{}", s.id)).await;
    assert!(!confirmed.contains_key("expires_at"));
    assert!(!item("EMAIL#ttl@example.nl".into()).await.contains_key("expires_at"));
    let due = client
        .query()
        .table_name(&table)
        .index_name(postbode::store::dynamodb::DUE_INDEX)
        .key_condition_expression("due_pk = :p AND due_at <= :t")
        .expression_attribute_values(":p", AttributeValue::S("DUE".into()))
        .expression_attribute_values(":t", AttributeValue::N(at(200).as_second().to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(due.count, 1);
}

/// The contract names every method of the `Store` port (a new method without a case fails
/// here).
#[test]
fn the_contract_covers_every_store_method() {
    let port = std::fs::read_to_string(crate::helpers::repo_path("src/store/mod.rs")).unwrap();
    // The capability traits, from the first to the umbrella `Store`.
    let trait_body = &port[port.find("pub trait Subscribers").unwrap()..port.find("pub trait Store").unwrap()];
    let contract = std::fs::read_to_string(crate::helpers::repo_path("tests/suite/store_contract.rs")).unwrap();
    let cases = &contract[..contract.find("macro_rules! contract").unwrap()];
    let methods: Vec<&str> =
        trait_body.match_indices("async fn ").map(|(at, _)| trait_body[at + 9..].split('(').next().unwrap()).collect();
    assert!(methods.len() >= 20, "{methods:?}");
    let uncovered: Vec<_> = methods.iter().filter(|m| !cases.contains(&format!(".{m}("))).collect();
    assert!(uncovered.is_empty(), "Store methods no contract case calls: {uncovered:?}");
}
