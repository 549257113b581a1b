use jiff::civil::{Weekday, time};

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn tuesday_0800(cadence_days: u16) -> Schedule {
    Schedule {
        cadence: Cadence::EveryDays(cadence_days),
        window: SendWindow { weekday: Some(Weekday::Tuesday), start: time(8, 0, 0, 0) },
        time_zone: TimeZone::get("Europe/Amsterdam").unwrap(),
        window_length: DEFAULT_WINDOW_LENGTH,
        first_post_at_once: false,
    }
}

/// A reader who had `slugs`, the last series post at `last_sent_at`, the last mail at `last_mail_at`.
fn had(slugs: &[&str], last_sent_at: Option<&str>, last_mail_at: Option<&str>) -> DripState {
    DripState {
        received: slugs.iter().map(|s| s.to_string()).collect(),
        last_sent_at: last_sent_at.map(ts),
        last_mail_at: last_mail_at.map(ts),
        ..DripState::default()
    }
}

fn programme(orders: &[u32]) -> Programme {
    Programme { series: orders.iter().map(|o| (*o, format!("deel-{o}"))).collect(), ..Programme::default() }
}

#[test]
fn windows_keep_local_time_across_the_march_change() {
    let s = tuesday_0800(7);
    // Tuesday 24 March 2026, winter time (UTC+1): 08:00 local is 07:00 UTC.
    assert_eq!(s.next_start(ts("2026-03-20T12:00:00Z")), ts("2026-03-24T07:00:00Z"));
    // Clocks go forward on Sunday 29 March; Tuesday 31 March 08:00 is 06:00 UTC.
    assert_eq!(s.next_start(ts("2026-03-24T13:00:00Z")), ts("2026-03-31T06:00:00Z"));
}

#[test]
fn windows_keep_local_time_across_the_october_change() {
    let s = tuesday_0800(7);
    assert_eq!(s.next_start(ts("2026-10-14T12:00:00Z")), ts("2026-10-20T06:00:00Z"));
    // Clocks go back on Sunday 25 October; Tuesday 27 October 08:00 is 07:00 UTC.
    assert_eq!(s.next_start(ts("2026-10-20T12:00:00Z")), ts("2026-10-27T07:00:00Z"));
}

#[test]
fn a_window_at_a_time_that_does_not_exist_on_the_change_day_still_opens() {
    let mut s = tuesday_0800(1);
    s.window = SendWindow { weekday: None, start: time(2, 30, 0, 0) };
    // 02:30 does not exist on 29 March 2026 in Amsterdam; the window opens at 03:30 local.
    assert_eq!(s.next_start(ts("2026-03-28T12:00:00Z")), ts("2026-03-29T01:30:00Z"));
}

#[test]
fn the_open_window_lasts_its_length() {
    let s = tuesday_0800(7);
    assert_eq!(s.open_window(ts("2026-12-01T07:00:00Z")), Some(ts("2026-12-01T07:00:00Z")));
    assert_eq!(s.open_window(ts("2026-12-01T12:59:59Z")), Some(ts("2026-12-01T07:00:00Z")));
    assert_eq!(s.open_window(ts("2026-12-01T13:00:00Z")), None);
    assert_eq!(s.open_window(ts("2026-12-01T06:59:59Z")), None);
    assert_eq!(s.open_window(ts("2026-12-02T07:00:00Z")), None);
}

#[test]
fn a_subscriber_walks_the_series_one_post_per_cadence() {
    let s = tuesday_0800(7);
    let p = programme(&[1, 2, 3]);
    let confirmed = ts("2026-11-26T15:00:00Z"); // a Thursday
    let mut state = DripState::default();
    let mut visit = first_visit(&s, confirmed);
    assert_eq!(visit, ts("2026-12-01T07:00:00Z"), "the first post waits for the next window");
    let mut got = Vec::new();
    for _ in 0..6 {
        let now = visit.checked_add(SignedDuration::from_mins(5)).unwrap();
        let plan = plan(&s, &p, &state, confirmed, now);
        assert!(!plan.outside_window);
        for send in &plan.sends {
            got.push((send.slug.clone(), now.to_string()));
            state.record(send, now);
        }
        assert!(plan.next_visit > now);
        visit = plan.next_visit;
    }
    assert_eq!(
        got,
        [
            ("deel-1".into(), "2026-12-01T07:05:00Z".into()),
            ("deel-2".into(), "2026-12-08T07:05:00Z".into()),
            ("deel-3".into(), "2026-12-15T07:05:00Z".into()),
        ]
    );
    // A post the author adds later reaches the subscriber at the next window.
    let more = programme(&[1, 2, 3, 4]);
    let plan = plan(&s, &more, &state, confirmed, visit.checked_add(SignedDuration::from_mins(5)).unwrap());
    assert_eq!(plan.sends, [PlannedSend { slug: "deel-4".into(), order: Some(4) }]);
}

#[test]
fn a_slower_cadence_skips_windows() {
    let s = tuesday_0800(14);
    let p = programme(&[1, 2]);
    let state = had(&["deel-1"], Some("2026-12-01T07:05:00Z"), None);
    let confirmed = ts("2026-11-26T15:00:00Z");
    assert!(plan(&s, &p, &state, confirmed, ts("2026-12-08T07:05:00Z")).sends.is_empty());
    assert_eq!(plan(&s, &p, &state, confirmed, ts("2026-12-15T07:05:00Z")).sends.len(), 1);
}

#[test]
fn outside_a_window_nothing_goes_unless_the_first_post_goes_at_once() {
    let mut s = tuesday_0800(7);
    let p = programme(&[1, 2]);
    let now = ts("2026-12-03T10:00:00Z");
    let waiting = plan(&s, &p, &DripState::default(), now, now);
    assert!(waiting.outside_window && waiting.sends.is_empty());
    assert_eq!(waiting.next_visit, ts("2026-12-08T07:00:00Z"));
    s.first_post_at_once = true;
    assert_eq!(first_visit(&s, now), now);
    let at_once = plan(&s, &p, &DripState::default(), now, now);
    assert_eq!(at_once.sends, [PlannedSend { slug: "deel-1".into(), order: Some(1) }]);
    // Only the first post ignores the window.
    let later = DripState { received: ["deel-1".to_string()].into(), last_sent_at: Some(now), ..DripState::default() };
    assert!(plan(&s, &p, &later, now, ts("2026-12-12T10:00:00Z")).sends.is_empty());
}

#[test]
fn a_broadcast_goes_once_in_the_next_window_to_those_confirmed_before_it() {
    let s = tuesday_0800(7);
    let mut p = programme(&[1]);
    // Friday 4 December, Amsterdam
    p.broadcasts.push(Broadcast { moment: ts("2026-12-03T23:00:00Z"), slug: "kerst".into(), at_moment: false });
    let early = ts("2026-11-20T10:00:00Z");
    let state = had(&["deel-1"], Some("2026-11-24T07:05:00Z"), Some("2026-11-24T07:05:00Z"));
    let plan_next = plan(&s, &p, &state, early, ts("2026-12-08T07:10:00Z"));
    assert_eq!(plan_next.sends, [PlannedSend { slug: "kerst".into(), order: None }]);
    let mut after = state.clone();
    after.record(&plan_next.sends[0], ts("2026-12-08T07:10:00Z"));
    assert!(plan(&s, &p, &after, early, ts("2026-12-15T07:10:00Z")).sends.is_empty(), "only once");
    // Confirmed after the broadcast's date: new readers start with the series.
    let late_reader = ts("2026-12-05T10:00:00Z");
    assert!(plan(&s, &p, &had(&["deel-1"], None, None), late_reader, ts("2026-12-08T07:10:00Z")).sends.is_empty());
}

fn broadcast(moment: &str, slug: &str, at_moment: bool) -> Broadcast {
    Broadcast { moment: ts(moment), slug: slug.into(), at_moment }
}

#[test]
fn a_send_at_broadcast_goes_at_its_moment_outside_the_window() {
    let s = tuesday_0800(7);
    let mut p = programme(&[1, 2]);
    // Thursday 3 December 2026, 14:00 in Amsterdam (winter time: 13:00 UTC).
    p.broadcasts.push(broadcast("2026-12-03T13:00:00Z", "workshop", true));
    let confirmed = ts("2026-11-20T10:00:00Z");
    let after_window = had(&["deel-1"], Some("2026-12-01T07:05:00Z"), Some("2026-12-01T07:05:00Z"));
    // Visited in Tuesday's window: the pending send_at brings the next visit forward to it.
    assert_eq!(
        plan(&s, &p, &after_window, confirmed, ts("2026-12-01T07:05:00Z")).next_visit,
        ts("2026-12-03T13:00:00Z")
    );
    // Not before its moment.
    assert!(plan(&s, &p, &after_window, confirmed, ts("2026-12-03T12:59:00Z")).sends.is_empty());
    let at = plan(&s, &p, &after_window, confirmed, ts("2026-12-03T13:05:00Z"));
    assert_eq!(at.sends, [PlannedSend { slug: "workshop".into(), order: None }]);
    assert!(!at.outside_window);
    assert_eq!(at.next_visit, ts("2026-12-08T07:00:00Z"), "then the next window, for post 2");
    // Readers who confirmed after its moment do not get it.
    assert!(
        plan(&s, &p, &DripState::default(), ts("2026-12-03T13:30:00Z"), ts("2026-12-03T13:35:00Z")).sends.is_empty()
    );
}

#[test]
fn one_mail_a_day_the_series_post_waits_for_the_next_window_across_the_october_change() {
    let s = tuesday_0800(7);
    let mut p = programme(&[1, 2]);
    // A broadcast dated Friday 23 October 2026 goes in the window of Tuesday 27 October, two
    // days after the clocks went back (08:00 local is 07:00 UTC).
    p.broadcasts.push(broadcast("2026-10-22T22:00:00Z", "nieuws", false));
    let confirmed = ts("2026-10-01T10:00:00Z");
    let state = had(&["deel-1"], Some("2026-10-20T06:05:00Z"), Some("2026-10-20T06:05:00Z"));
    let window = plan(&s, &p, &state, confirmed, ts("2026-10-27T07:05:00Z"));
    assert_eq!(window.sends, [PlannedSend { slug: "nieuws".into(), order: None }], "the broadcast, not also post 2");
    assert_eq!(window.next_visit, ts("2026-11-03T07:00:00Z"));
    let mut after = state.clone();
    after.record(&window.sends[0], ts("2026-10-27T07:05:00Z"));
    // Later the same day (still in the window): nothing more.
    assert!(plan(&s, &p, &after, confirmed, ts("2026-10-27T09:00:00Z")).sends.is_empty());
    // Next window: post 2 (the cadence passed long ago), and the broadcast not again.
    assert_eq!(
        plan(&s, &p, &after, confirmed, ts("2026-11-03T07:05:00Z")).sends,
        [PlannedSend { slug: "deel-2".into(), order: Some(2) }]
    );
}

#[test]
fn a_send_at_broadcast_on_a_day_with_a_series_post_waits_until_the_same_time_tomorrow() {
    let s = tuesday_0800(7);
    let mut p = programme(&[1, 2]);
    // Tuesday 31 March 2026, 12:00 in Amsterdam (summer time since the 29th: 10:00 UTC).
    p.broadcasts.push(broadcast("2026-03-31T10:00:00Z", "workshop", true));
    p.broadcasts.push(broadcast("2026-03-31T10:00:00Z", "agenda", true));
    p.broadcasts.sort(); // as Programme::new keeps them
    let confirmed = ts("2026-03-01T10:00:00Z");
    let morning = had(&["deel-1", "deel-2"], Some("2026-03-31T06:05:00Z"), Some("2026-03-31T06:05:00Z"));
    let noon = plan(&s, &p, &morning, confirmed, ts("2026-03-31T10:05:00Z"));
    assert!(noon.sends.is_empty(), "post 2 went this morning");
    assert_eq!(noon.next_visit, ts("2026-04-01T10:00:00Z"), "12:00 tomorrow, Amsterdam");
    // Tomorrow: both broadcasts of that same moment go together (none is skipped).
    let tomorrow = plan(&s, &p, &morning, confirmed, ts("2026-04-01T10:00:00Z"));
    let slugs: Vec<&str> = tomorrow.sends.iter().map(|s| s.slug.as_str()).collect();
    assert_eq!(slugs, ["agenda", "workshop"]);
}

#[test]
fn a_series_post_dated_in_the_future_waits_for_its_date() {
    let s = tuesday_0800(7);
    let mut p = programme(&[1, 2]);
    p.series_public_from.insert(2, ts("2026-12-09T23:00:00Z")); // Thursday 10 December
    let state = had(&["deel-1"], Some("2026-12-01T07:05:00Z"), None);
    let confirmed = ts("2026-11-20T10:00:00Z");
    assert!(plan(&s, &p, &state, confirmed, ts("2026-12-08T07:05:00Z")).sends.is_empty());
    assert_eq!(plan(&s, &p, &state, confirmed, ts("2026-12-15T07:05:00Z")).sends.len(), 1);
}

/// Progress is the set of posts had: a post inserted before the reader's last one, or posts
/// moved, are neither skipped nor repeated.
#[test]
fn inserted_and_reordered_series_posts_are_never_skipped_or_repeated() {
    let s = tuesday_0800(7);
    let confirmed = ts("2026-11-20T10:00:00Z");
    let window = |week: i64| ts("2026-12-01T07:05:00Z").checked_add(SignedDuration::from_hours(24 * 7 * week)).unwrap();
    let walk = |programme: &Programme, state: &mut DripState, weeks: std::ops::Range<i64>| {
        let mut got = Vec::new();
        for week in weeks {
            for send in plan(&s, programme, state, confirmed, window(week)).sends {
                got.push(send.slug.clone());
                state.record(&send, window(week));
            }
        }
        got
    };
    let mut state = DripState::default();
    let v1 = Programme { series: vec![(1, "a".into()), (2, "b".into()), (3, "c".into())], ..Programme::default() };
    assert_eq!(walk(&v1, &mut state, 0..2), ["a", "b"]);
    // The author inserts "nieuw" as part 2 (b and c move to 3 and 4) and swaps c before b.
    let v2 = Programme {
        series: vec![(1, "a".into()), (2, "nieuw".into()), (3, "c".into()), (4, "b".into())],
        ..Programme::default()
    };
    assert_eq!(walk(&v2, &mut state, 2..8), ["nieuw", "c"], "each missing post once, none again");
}

/// A broadcast dated today but deployed after today's window reaches the readers already
/// visited, at their next window; readers of the older shape are folded without repeats.
#[test]
fn a_broadcast_deployed_after_its_window_still_reaches_everyone() {
    let s = tuesday_0800(7);
    let confirmed = ts("2026-11-20T10:00:00Z");
    let mut p = programme(&[1, 2]);
    let mut state = had(&["deel-1"], Some("2026-12-01T07:05:00Z"), Some("2026-12-01T07:05:00Z"));
    // Deployed on Tuesday 1 December at 15:00, dated that day: the window was visited.
    p.broadcasts.push(broadcast("2026-11-30T23:00:00Z", "nieuws", false));
    let next = plan(&s, &p, &state, confirmed, ts("2026-12-08T07:05:00Z"));
    assert_eq!(next.sends, [PlannedSend { slug: "nieuws".into(), order: None }]);
    state.record(&next.sends[0], ts("2026-12-08T07:05:00Z"));
    assert_eq!(
        plan(&s, &p, &state, confirmed, ts("2026-12-15T07:05:00Z")).sends,
        [PlannedSend { slug: "deel-2".into(), order: Some(2) }]
    );
    // A record of the older shape: position 1 and a horizon past the broadcast.
    let legacy = DripState {
        position: 1,
        broadcasts_through: Some(ts("2026-12-01T07:05:00Z")),
        last_sent_at: Some(ts("2026-12-01T07:05:00Z")),
        ..DripState::default()
    };
    let mut folded = legacy.clone();
    folded.fold_legacy(&p);
    assert_eq!(folded.received, ["deel-1".to_string(), "nieuws".to_string()].into());
    assert_eq!(
        plan(&s, &p, &legacy, confirmed, ts("2026-12-08T07:05:00Z")).sends,
        [PlannedSend { slug: "deel-2".into(), order: Some(2) }]
    );
}

/// Walks a reader through `visits` visits from `first`, as the sender would, and says what
/// went when.
fn walk(
    s: &Schedule,
    p: &Programme,
    wants: Wants,
    confirmed: Timestamp,
    first: Timestamp,
    visits: usize,
) -> Vec<(String, String)> {
    let (mut state, mut visit, mut got) = (had(&["deel-1"], Some("2026-12-01T07:05:00Z"), None), first, Vec::new());
    for _ in 0..visits {
        let now = visit.checked_add(SignedDuration::from_mins(5)).unwrap();
        let plan = plan_for(s, p, &state, confirmed, wants, now);
        for send in &plan.sends {
            got.push((send.slug.clone(), s.date(now).to_string()));
            state.record(send, now);
        }
        assert!(plan.next_visit > now);
        visit = plan.next_visit;
    }
    got
}

#[test]
fn a_four_week_pause_skips_four_windows_and_resumes_at_the_next_post() {
    let s = tuesday_0800(7);
    let mut p = programme(&[1, 2, 3, 4]);
    p.broadcasts.push(broadcast("2026-12-16T23:00:00Z", "kerst", false));
    let confirmed = ts("2026-11-26T15:00:00Z");
    // Paused on Saturday 5 December for 4 weeks: until Saturday 2 January.
    let paused = Wants { paused_until: Some(ts("2027-01-02T10:00:00Z")), ..Wants::EVERYTHING };
    let got = walk(&s, &p, paused, confirmed, ts("2026-12-08T07:00:00Z"), 6);
    assert_eq!(
        got,
        [
            ("kerst".into(), "2026-12-22".into()),
            ("deel-2".into(), "2027-01-05".into()),
            ("deel-3".into(), "2027-01-12".into()),
        ],
        "8, 15, 22 and 29 December skipped for the series; news still came"
    );
    // Only the series, paused: not visited before the pause ends, no news.
    let series_only = Wants { news: false, ..paused };
    let plan = plan_for(&s, &p, &had(&["deel-1"], None, None), confirmed, series_only, ts("2026-12-08T07:05:00Z"));
    assert!(plan.sends.is_empty());
    assert_eq!(plan.next_visit, ts("2027-01-05T07:00:00Z"));
    assert_eq!(walk(&s, &p, series_only, confirmed, plan.next_visit, 2)[0], ("deel-2".into(), "2027-01-05".into()));
}

#[test]
fn news_only_readers_get_broadcasts_and_no_series_post_and_series_only_the_reverse() {
    let s = tuesday_0800(7);
    let mut p = programme(&[1, 2, 3]);
    p.broadcasts.push(broadcast("2026-12-09T23:00:00Z", "nieuws", false));
    let confirmed = ts("2026-11-26T15:00:00Z");
    let news = Wants { series: false, ..Wants::EVERYTHING };
    assert_eq!(walk(&s, &p, news, confirmed, ts("2026-12-08T07:00:00Z"), 4), [("nieuws".into(), "2026-12-15".into())]);
    let series = Wants { news: false, ..Wants::EVERYTHING };
    let got = walk(&s, &p, series, confirmed, ts("2026-12-08T07:00:00Z"), 4);
    assert_eq!(got.iter().map(|(slug, _)| slug.as_str()).collect::<Vec<_>>(), ["deel-2", "deel-3"]);
}
