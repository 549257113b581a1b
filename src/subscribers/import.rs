//! Bringing readers who consented elsewhere into the list (`postbode subscribers import`),
//! decided without I/O: parse the CSV, then decide per row what the store gets.
//!
//! ```text
//! email,first_name,consented_at,consent_source
//! anna@example.nl,Anna,2024-03-01,inschrijflijst workshop maart 2024
//! bob@example.nl,,2025-06-12T14:03:00+02:00,visitekaartje
//! ```
//!
//! A `status` column (as `subscribers export --all --format csv` writes, see
//! [`super::export`]) marks who never confirmed or left: only `confirmed` rows (and rows
//! without a status) are added; an address that left is kept from being added by any later
//! import.

use std::collections::HashMap;
use std::fmt;

use jiff::Timestamp;

use super::{ConsentAction, ConsentRecord, Status, Subscriber, SubscriberEmail, SubscriberId, Welcome};

/// The header an import file starts with (columns in any order).
pub const COLUMNS: [&str; 4] = ["email", "first_name", "consented_at", "consent_source"];

/// The consent text version recorded for imported consent: it was given elsewhere, on a text
/// this site did not show.
pub const IMPORTED_CONSENT_VERSION: &str = "imported";

/// One valid row of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    pub email: SubscriberEmail,
    pub first_name: Option<String>,
    pub consented_at: Timestamp,
    /// Where and how the reader consented, as the author recorded it.
    pub consent_source: String,
    /// `Confirmed` unless the file's `status` column says otherwise.
    pub status: Status,
}

/// Parses an import file. Any bad row makes the whole file refused (every problem listed as
/// `line: message`), so an import never stops halfway through a file.
pub fn parse_csv(bytes: &[u8], now: Timestamp) -> Result<Vec<ImportRow>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(bytes);
    let header = reader.headers().map_err(|e| vec![format!("1: cannot read the header row: {e}")])?.clone();
    let mut index = HashMap::new();
    for column in COLUMNS {
        match header.iter().position(|h| h == column) {
            Some(i) => {
                index.insert(column, i);
            }
            None => {
                return Err(vec![format!(
                    "1: the header row must name the columns {}; `{column}` is missing",
                    COLUMNS.join(",")
                )]);
            }
        }
    }
    let status_column = header.iter().position(|h| h == "status");
    let amsterdam = jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC);
    let (mut rows, mut problems) = (Vec::new(), Vec::new());
    let mut seen: HashMap<SubscriberEmail, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(format!("{line}: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let cell = |at: usize| super::export::restore(record.get(at).unwrap_or("")).to_owned();
        let field = |name: &str| cell(index[name]);
        let mut problem = |message: String| problems.push(format!("{line}: {message}"));
        let email = match SubscriberEmail::parse(&field("email")) {
            Ok(email) => Some(email),
            Err(e) => {
                problem(format!("`{}` is not an email address: {e}", super::terminal_safe(&field("email"))));
                None
            }
        };
        let raw_time = field("consented_at");
        let consented_at = match parse_moment(&raw_time, &amsterdam) {
            Some(t) if t > now => {
                problem(format!("consented_at `{raw_time}` lies in the future"));
                None
            }
            Some(t) => Some(t),
            None => {
                problem(format!(
                    "consented_at `{}` is neither a date (2024-03-01) nor an RFC 3339 time (2024-03-01T09:30:00+01:00)",
                    super::terminal_safe(&raw_time)
                ));
                None
            }
        };
        let consent_source = super::clean_text(&field("consent_source"));
        if consent_source.is_empty() {
            problem("consent_source is empty: say where and how this reader consented".into());
        }
        let status = match status_column.map(cell).filter(|raw| !raw.is_empty()) {
            None => Some(Status::Confirmed),
            Some(raw) => {
                let status = Status::parse(&raw);
                if status.is_none() {
                    problem(format!(
                        "status `{}` is none of confirmed, pending, unsubscribed, bounced, complained",
                        super::terminal_safe(&raw)
                    ));
                }
                status
            }
        };
        let (Some(email), Some(consented_at), Some(status)) = (email, consented_at, status) else { continue };
        if consent_source.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(email.clone(), line) {
            problem(format!("{email} is also on line {first}"));
            continue;
        }
        let first_name = super::clean_first_name(Some(&field("first_name")));
        rows.push(ImportRow { line, email, first_name, consented_at, consent_source, status });
    }
    if problems.is_empty() { Ok(rows) } else { Err(problems) }
}

/// A date means the start of that day in Amsterdam.
fn parse_moment(raw: &str, zone: &jiff::tz::TimeZone) -> Option<Timestamp> {
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Some(t);
    }
    let date: jiff::civil::Date = raw.parse().ok()?;
    date.to_zoned(zone.clone()).ok().map(|z| z.timestamp())
}

/// What importing one row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// A new confirmed subscriber, with the imported consent as proof.
    Added,
    /// They had signed up here without confirming; now confirmed with the imported consent.
    ConfirmedPending,
    /// Confirmed already: nothing changes (so running the same file again changes nothing).
    AlreadyConfirmed,
    /// Left before (unsubscribed, bounced, complained): never touched by an import.
    Left(Status),
    /// Erased on request, or kept out by an earlier import: the address stays suppressed;
    /// only its owner can subscribe again.
    Suppressed,
    /// The file says this reader never confirmed: not added.
    NeverConfirmed,
    /// The file says this reader left: not added, and (when the address is new here) kept
    /// from being added by any later import (see [`ImportOutcome::keeps_out`]).
    LeftInFile(Status),
}

impl ImportOutcome {
    pub fn is_added(self) -> bool {
        matches!(self, ImportOutcome::Added | ImportOutcome::ConfirmedPending)
    }

    /// Whether the address goes on the suppression list, as an erased one does: never
    /// imported again, mailed again only if its owner subscribes anew.
    pub fn keeps_out(self) -> bool {
        matches!(self, ImportOutcome::LeftInFile(_))
    }
}

impl fmt::Display for ImportOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportOutcome::Added => f.write_str("added as confirmed, with the consent as given"),
            ImportOutcome::ConfirmedPending => f.write_str("was pending; now confirmed with the consent as given"),
            ImportOutcome::AlreadyConfirmed => f.write_str("already confirmed; unchanged"),
            ImportOutcome::Left(status) => write!(f, "skipped: {} earlier, not touched", status.as_str()),
            ImportOutcome::Suppressed => {
                f.write_str("skipped: on the suppression list (erased, or left per an earlier import); not added")
            }
            ImportOutcome::NeverConfirmed => f.write_str("skipped: never confirmed in the file"),
            ImportOutcome::LeftInFile(status) => {
                write!(f, "skipped: {} in the file; suppressed, never imported", status.as_str())
            }
        }
    }
}

/// Decides one row given what the store holds; returns the subscriber to write, if any.
/// `first_visit` is when the sender first looks at a new subscriber (post 1 of the series).
pub fn import_row(
    existing: Option<&Subscriber>,
    suppressed: bool,
    row: &ImportRow,
    now: Timestamp,
    first_visit: Timestamp,
) -> (ImportOutcome, Option<Subscriber>) {
    let consent = ConsentRecord {
        action: ConsentAction::Import,
        at: row.consented_at,
        ip: None,
        user_agent: None,
        source_url: Some(row.consent_source.clone()),
        consent_text_version: IMPORTED_CONSENT_VERSION.into(),
        detail: None,
    };
    match (row.status, existing) {
        // Whoever the file says left or never confirmed is never added; a record here (they
        // may have signed up here since) is left as it is.
        (Status::Pending, _) => return (ImportOutcome::NeverConfirmed, None),
        (Status::Unsubscribed | Status::Bounced | Status::Complained, None) if !suppressed => {
            return (ImportOutcome::LeftInFile(row.status), None);
        }
        (Status::Unsubscribed | Status::Bounced | Status::Complained, None) => {
            return (ImportOutcome::Suppressed, None);
        }
        (Status::Unsubscribed | Status::Bounced | Status::Complained, Some(here)) => {
            let outcome = match here.status {
                Status::Confirmed => ImportOutcome::AlreadyConfirmed,
                _ => ImportOutcome::Left(row.status),
            };
            return (outcome, None);
        }
        (Status::Confirmed, _) => {}
    }
    match existing {
        None if suppressed => (ImportOutcome::Suppressed, None),
        None => {
            let subscriber = Subscriber {
                id: SubscriberId::random(),
                email: row.email.clone(),
                first_name: row.first_name.clone(),
                status: Status::Confirmed,
                created_at: now,
                updated_at: now,
                token_version: 1,
                consent: vec![consent],
                consent_dropped: 0,
                confirmation_sent_at: None,
                // From now on: broadcasts dated before the import are not sent to them.
                confirmed_at: Some(now),
                welcome: Welcome::NotSent,
                drip: Default::default(),
                preferences: Default::default(),
                address_change: None,
                next_due_at: Some(first_visit),
                left_at: None,
                transient_bounces: 0,
                requests: Vec::new(),
                version: 0,
            };
            (ImportOutcome::Added, Some(subscriber))
        }
        Some(existing) => match existing.status {
            Status::Confirmed => (ImportOutcome::AlreadyConfirmed, None),
            Status::Unsubscribed | Status::Bounced | Status::Complained => (ImportOutcome::Left(existing.status), None),
            Status::Pending => {
                let mut next = existing.clone();
                next.status = Status::Confirmed;
                // The author's list wins over a name typed into the form: that one was never
                // confirmed, and may be anyone's.
                next.first_name = row.first_name.clone();
                next.requests.clear();
                next.updated_at = now;
                next.confirmed_at = Some(now);
                next.next_due_at = Some(first_visit);
                next.add_consent(consent);
                (ImportOutcome::ConfirmedPending, Some(next))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    #[test]
    fn dates_and_times_parse_and_bad_rows_are_all_listed() {
        let csv = "email,first_name,consented_at,consent_source\n\
                   anna@example.nl,Anna,2024-03-01,workshop\n\
                   bob@example.nl,,2025-06-12T14:03:00+02:00,kaartje\n";
        let rows = parse_csv(csv.as_bytes(), now()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].consented_at, "2024-02-29T23:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!((rows[0].line, rows[1].line, rows[1].first_name.as_deref()), (2, 3, None));

        let bad = "consent_source,email,consented_at,first_name\n\
                   x,geen-adres,2024-03-01,\n\
                   x,c@example.nl,gisteren,\n\
                   ,d@example.nl,2024-03-01,\n\
                   x,e@example.nl,2030-01-01,\n\
                   x,f@example.nl,2024-03-01,\n\
                   x,F@example.nl,2024-03-01,\n";
        let problems = parse_csv(bad.as_bytes(), now()).unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(problems[0].starts_with("2: `geen-adres` is not an email address"));
        assert!(problems[1].starts_with("3: consented_at `gisteren`"));
        assert!(problems[2].starts_with("4: consent_source is empty"));
        assert!(problems[3].starts_with("5: consented_at `2030-01-01` lies in the future"));
        assert_eq!(problems[4], "7: f@example.nl is also on line 6");

        let missing = parse_csv(b"email,first_name\nanna@example.nl,Anna\n", now()).unwrap_err();
        assert!(missing[0].contains("`consented_at` is missing"), "{missing:?}");
    }

    #[test]
    fn a_row_adds_confirms_or_leaves_alone() {
        let row = parse_csv(
            b"email,first_name,consented_at,consent_source\nanna@example.nl,Anna,2024-03-01,workshop\n",
            now(),
        )
        .unwrap()
        .remove(0);
        let visit: Timestamp = "2026-12-08T07:00:00Z".parse().unwrap();
        let (outcome, added) = import_row(None, false, &row, now(), visit);
        let added = added.unwrap();
        assert_eq!(outcome, ImportOutcome::Added);
        assert_eq!(
            (added.status, added.next_due_at, added.confirmation_sent_at),
            (Status::Confirmed, Some(visit), None)
        );
        assert_eq!(added.consent[0].action, ConsentAction::Import);
        assert_eq!(added.consent[0].source_url.as_deref(), Some("workshop"));

        assert_eq!(import_row(Some(&added), false, &row, now(), visit), (ImportOutcome::AlreadyConfirmed, None));
        assert_eq!(import_row(None, true, &row, now(), visit), (ImportOutcome::Suppressed, None));
        for status in [Status::Unsubscribed, Status::Bounced, Status::Complained] {
            let left = Subscriber { status, ..added.clone() };
            assert_eq!(import_row(Some(&left), false, &row, now(), visit), (ImportOutcome::Left(status), None));
        }
        let typed_by_someone = Some("Vreemde".to_owned());
        let pending =
            Subscriber { status: Status::Pending, next_due_at: None, first_name: typed_by_someone, ..added.clone() };
        let (outcome, confirmed) = import_row(Some(&pending), false, &row, now(), visit);
        assert_eq!(outcome, ImportOutcome::ConfirmedPending);
        let confirmed = confirmed.unwrap();
        assert_eq!(confirmed.consent.len(), 2);
        assert_eq!(confirmed.first_name.as_deref(), Some("Anna"), "the author's list wins over an unconfirmed name");
    }

    #[test]
    fn a_status_column_keeps_who_left_or_never_confirmed_out() {
        let file = "email,first_name,status,consented_at,consent_source,left_at\n\
                    anna@example.nl,'=1+1,confirmed,2024-03-01,workshop,\n\
                    bob@example.nl,,unsubscribed,2024-03-01,workshop,2025-01-01T00:00:00Z\n\
                    carol@example.nl,,pending,2024-03-01,workshop,\n\
                    dave@example.nl,,,2024-03-01,workshop,\n";
        let rows = parse_csv(file.as_bytes(), now()).unwrap();
        let statuses: Vec<Status> = rows.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [Status::Confirmed, Status::Unsubscribed, Status::Pending, Status::Confirmed]);
        assert_eq!(rows[0].first_name.as_deref(), Some("=1+1"), "the export's escape is taken off");
        let visit = now();
        let (left, none) = import_row(None, false, &rows[1], now(), visit);
        assert_eq!((left, none), (ImportOutcome::LeftInFile(Status::Unsubscribed), None));
        assert!(left.keeps_out());
        assert_eq!(import_row(None, true, &rows[1], now(), visit), (ImportOutcome::Suppressed, None));
        assert_eq!(import_row(None, false, &rows[2], now(), visit), (ImportOutcome::NeverConfirmed, None));
        let (_, here) = import_row(None, false, &rows[0], now(), visit);
        let here = here.unwrap();
        let (outcome, write) = import_row(Some(&here), false, &rows[1], now(), visit);
        assert_eq!((outcome, write), (ImportOutcome::AlreadyConfirmed, None), "subscribed here since: left alone");

        let bad = "email,status,first_name,consented_at,consent_source\nanna@example.nl,weg,,2024-03-01,x\n";
        assert_eq!(
            parse_csv(bad.as_bytes(), now()).unwrap_err(),
            ["2: status `weg` is none of confirmed, pending, unsubscribed, bounced, complained"]
        );
    }
}
