//! Numbers without tracking: aggregates of what the store holds anyway (consent records, sends,
//! statuses, a daily count of confirm pages shown). No pixels, no click redirects. Decided
//! without I/O; `operator::figures` gathers the records, `postbode stats` and the weekly
//! summary mail show the result.

use std::collections::BTreeMap;

use jiff::civil::{Date, Weekday};
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use super::{ConsentAction, Status, Subscriber};

/// What confirmed readers chose on their preference page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Choices {
    /// With the series paused now.
    pub paused: u64,
    pub series_only: u64,
    pub news_only: u64,
}

impl Choices {
    /// Counts `subscriber`'s choices at `now`, if they are confirmed.
    pub fn count(&mut self, subscriber: &Subscriber, now: Timestamp) {
        if subscriber.status != Status::Confirmed {
            return;
        }
        let p = &subscriber.preferences;
        self.paused += u64::from(p.paused_at(now).is_some());
        self.series_only += u64::from(p.mail == super::MailChoice::SeriesOnly);
        self.news_only += u64::from(p.mail == super::MailChoice::NewsOnly);
    }
}

/// What happened in a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ListFigures {
    pub since: Timestamp,
    pub until: Timestamp,
    /// Sign-ups (subscribe requests that reached the store) per page the form was on;
    /// imported readers as `import: <source>`.
    pub signups_by_source: BTreeMap<String, u64>,
    /// Confirm pages shown (link scanners of mail providers count too), and confirmations.
    pub confirm_pages_shown: u64,
    pub confirmed: u64,
    /// Per post: mails sent in the period, and who left after it (their last mail before
    /// leaving was this post).
    pub per_post: BTreeMap<String, PostFigures>,
    /// Confirmed readers at the start of each week (Monday 00:00, Amsterdam) and now.
    pub list_size: Vec<(Date, u64)>,
    /// Mail of the period on each ledger the breakers count (filled in from the store's
    /// counters by `operator::figures`): the list, welcome and new readers, confirmations.
    pub list_mail: MailCounts,
    pub new_readers_mail: MailCounts,
    pub confirmation_mail: MailCounts,
    /// Readers' views of each post's web page, per day (UTC) of the period (filled in from
    /// the store's counters by `operator::figures`; bots and `HEAD` are not counted).
    pub page_views: BTreeMap<String, BTreeMap<Date, u64>>,
    /// What confirmed readers chose on their page, at the period's end.
    pub choices: Choices,
}

/// Mails sent on one ledger, and the bounces and complaints they drew.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MailCounts {
    pub sent: u64,
    pub bounced: u64,
    pub complained: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PostFigures {
    pub sent: u64,
    pub unsubscribed_after: u64,
    pub bounced: u64,
    pub complained: u64,
}

impl ListFigures {
    /// A post's page views over the whole period.
    pub fn views_of(&self, slug: &str) -> u64 {
        self.page_views.get(slug).map_or(0, |days| days.values().sum())
    }

    /// Confirmations per confirm page shown, in percent (`None` when no page was shown).
    pub fn confirmation_rate(&self) -> Option<f64> {
        (self.confirm_pages_shown > 0).then(|| self.confirmed as f64 * 100.0 / self.confirm_pages_shown as f64)
    }
}

/// One subscriber as stored, with the posts they were sent: (slug, when).
pub struct History<'a> {
    pub subscriber: &'a Subscriber,
    pub sent: Vec<(String, Timestamp)>,
}

/// The figures of `[since, until)` from every subscriber's history.
pub fn compute(histories: &[History<'_>], confirm_pages_shown: u64, since: Timestamp, until: Timestamp) -> ListFigures {
    let in_period = |t: Timestamp| since <= t && t < until;
    let mut figures = ListFigures { since, until, confirm_pages_shown, ..ListFigures::default() };
    for history in histories {
        let s = history.subscriber;
        figures.choices.count(s, until);
        for record in &s.consent {
            if !in_period(record.at) {
                continue;
            }
            let source = record.source_url.clone().unwrap_or_else(|| "(unknown page)".into());
            match record.action {
                ConsentAction::Subscribe => *figures.signups_by_source.entry(source).or_default() += 1,
                ConsentAction::Import => {
                    *figures.signups_by_source.entry(format!("import: {source}")).or_default() += 1
                }
                ConsentAction::Confirm => figures.confirmed += 1,
                ConsentAction::Unsubscribe | ConsentAction::Preference => {}
            }
        }
        for (slug, at) in &history.sent {
            if in_period(*at) {
                figures.per_post.entry(slug.clone()).or_default().sent += 1;
            }
        }
        if let Some(left) = s.left_at.filter(|t| in_period(*t)) {
            let last = history.sent.iter().filter(|(_, at)| *at <= left).max_by_key(|(_, at)| *at);
            let post =
                figures.per_post.entry(last.map_or("(no mail yet)".into(), |(slug, _)| slug.clone())).or_default();
            match s.status {
                Status::Unsubscribed => post.unsubscribed_after += 1,
                Status::Bounced => post.bounced += 1,
                Status::Complained => post.complained += 1,
                Status::Pending | Status::Confirmed => {}
            }
        }
    }
    let zone = crate::content::site_time_zone();
    let mut day = since.to_zoned(zone.clone()).date();
    while day.weekday() != Weekday::Monday {
        day = day.tomorrow().unwrap_or(day);
    }
    let size_at = |t: Timestamp| {
        histories
            .iter()
            .filter(|h| h.subscriber.confirmed_at.is_some_and(|c| c <= t) && h.subscriber.left_at.is_none_or(|l| l > t))
            .count() as u64
    };
    while let Ok(start) = day.to_zoned(zone.clone()).map(|z| z.timestamp()) {
        if start >= until {
            break;
        }
        figures.list_size.push((day, size_at(start)));
        day = match day.checked_add(7.days()) {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    figures.list_size.push((until.to_zoned(zone).date(), size_at(until)));
    figures
}

/// `30d`, `12w`, `6m` (months of 30 days): how far back `--since` reaches.
pub fn parse_since(raw: &str) -> Result<jiff::SignedDuration, String> {
    let raw = raw.trim();
    let (number, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: i64 = number.parse().map_err(|_| format!("`{raw}` is not a period like 30d, 12w or 6m"))?;
    let per_unit = match unit {
        "d" => 1,
        "w" => 7,
        "m" => 30,
        _ => return Err(format!("`{raw}` is not a period like 30d, 12w or 6m")),
    };
    // At most a century: further back than anything stored.
    match n.checked_mul(per_unit) {
        Some(days) if days <= 36_500 => Ok(jiff::SignedDuration::from_hours(days * 24)),
        _ => Err(format!("`{raw}` reaches back more than a hundred years")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscribers::{ConsentRecord, SubscriberEmail, SubscriberId, Welcome};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn record(action: ConsentAction, at: &str, source: &str) -> ConsentRecord {
        ConsentRecord {
            action,
            at: ts(at),
            ip: None,
            user_agent: None,
            source_url: Some(source.into()),
            consent_text_version: "v1".into(),
            detail: None,
        }
    }

    fn reader(status: Status, consent: Vec<ConsentRecord>, confirmed: Option<&str>, left: Option<&str>) -> Subscriber {
        Subscriber {
            id: SubscriberId::random(),
            email: SubscriberEmail::parse("a@example.nl").unwrap(),
            first_name: None,
            status,
            created_at: ts("2026-10-01T00:00:00Z"),
            updated_at: ts("2026-10-01T00:00:00Z"),
            token_version: 1,
            consent,
            consent_dropped: 0,
            confirmation_sent_at: None,
            confirmed_at: confirmed.map(ts),
            welcome: Welcome::NotSent,
            drip: Default::default(),
            preferences: Default::default(),
            address_change: None,
            next_due_at: None,
            left_at: left.map(ts),
            transient_bounces: 0,
            requests: Vec::new(),
            version: 0,
        }
    }

    #[test]
    fn figures_of_a_known_history() {
        let page = "https://www.voorbeeld.nl/blog";
        let anna = reader(
            Status::Confirmed,
            vec![
                record(ConsentAction::Subscribe, "2026-11-02T10:00:00Z", page),
                record(ConsentAction::Confirm, "2026-11-02T10:05:00Z", page),
            ],
            Some("2026-11-02T10:05:00Z"),
            None,
        );
        let bob = reader(
            Status::Unsubscribed,
            vec![
                record(ConsentAction::Subscribe, "2026-10-01T10:00:00Z", "https://www.voorbeeld.nl/"),
                record(ConsentAction::Confirm, "2026-10-01T10:05:00Z", page),
            ],
            Some("2026-10-01T10:05:00Z"),
            Some("2026-11-18T12:00:00Z"),
        );
        let cees = reader(
            Status::Bounced,
            vec![record(ConsentAction::Import, "2024-03-01T00:00:00Z", "workshop")],
            Some("2026-11-10T09:00:00Z"),
            Some("2026-11-17T08:00:00Z"),
        );
        let dirk =
            reader(Status::Pending, vec![record(ConsentAction::Subscribe, "2026-11-20T10:00:00Z", page)], None, None);
        let histories = [
            History {
                subscriber: &anna,
                sent: vec![
                    ("deel-1".into(), ts("2026-11-03T07:05:00Z")),
                    ("deel-2".into(), ts("2026-11-10T07:05:00Z")),
                ],
            },
            History {
                subscriber: &bob,
                sent: vec![
                    ("deel-1".into(), ts("2026-10-06T07:05:00Z")),
                    ("deel-2".into(), ts("2026-11-17T07:05:00Z")),
                ],
            },
            History { subscriber: &cees, sent: vec![("deel-1".into(), ts("2026-11-17T07:05:00Z"))] },
            History { subscriber: &dirk, sent: vec![] },
        ];
        let f = compute(&histories, 4, ts("2026-10-31T23:00:00Z"), ts("2026-11-30T23:00:00Z"));
        assert_eq!(f.signups_by_source, BTreeMap::from([(page.to_owned(), 2)]));
        assert_eq!((f.confirm_pages_shown, f.confirmed), (4, 1));
        assert_eq!(f.confirmation_rate(), Some(25.0));
        assert_eq!(f.per_post["deel-1"], PostFigures { sent: 2, unsubscribed_after: 0, bounced: 1, complained: 0 });
        assert_eq!(f.per_post["deel-2"], PostFigures { sent: 2, unsubscribed_after: 1, bounced: 0, complained: 0 });
        // Mondays 2, 9, 16, 23 and 30 November, then the end of the period.
        let sizes: Vec<(String, u64)> = f.list_size.iter().map(|(d, n)| (d.to_string(), *n)).collect();
        assert_eq!(
            sizes,
            [
                ("2026-11-02".into(), 1),
                ("2026-11-09".into(), 2),
                ("2026-11-16".into(), 3),
                ("2026-11-23".into(), 1),
                ("2026-11-30".into(), 1),
                ("2026-12-01".into(), 1),
            ]
        );
    }

    #[test]
    fn periods_parse() {
        assert_eq!(parse_since("30d").unwrap(), jiff::SignedDuration::from_hours(720));
        assert_eq!(parse_since("2w").unwrap(), jiff::SignedDuration::from_hours(336));
        assert!(parse_since("dertig").is_err());
        assert!(parse_since("30y").is_err());
        assert!(parse_since("99999999999999999m").is_err());
    }
}
