//! The whole list as one CSV file (`postbode subscribers export --all --format csv`): to keep
//! a copy, or to take the list elsewhere. `postbode subscribers import` reads it back:
//!
//! ```text
//! email,first_name,status,consented_at,consent_source,left_at
//! anna@example.nl,Anna,confirmed,2026-11-02T10:05:00Z,double opt-in via https://www.voorbeeld.nl/blog,
//! bob@example.nl,,unsubscribed,2026-10-01T10:05:00Z,inschrijflijst workshop,2026-11-18T12:00:00Z
//! ```
//!
//! Everyone on the list has a row, with their status: an import adds only `confirmed` rows,
//! and keeps the addresses of rows that left (unsubscribed, bounced, complained) from ever
//! being added by a later import. Erased people have no row: nothing of them is left to write.
//!
//! A cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a leading
//! `'` (OWASP's advice against CSV injection: names and pages are typed by strangers); the
//! import takes it off again, so the round trip keeps every value.

use jiff::Timestamp;

use super::{ConsentAction, Subscriber};

/// The columns of an export, in order; the import's four are among them.
pub const COLUMNS: [&str; 6] = ["email", "first_name", "status", "consented_at", "consent_source", "left_at"];

/// The first characters that make a spreadsheet treat a cell as a formula.
const FORMULA_STARTS: [char; 4] = ['=', '+', '-', '@'];

/// Whether a leading `'` of `field` is an escape: the rest would run, or is itself escaped.
fn escapes(rest: &str) -> bool {
    rest.starts_with(FORMULA_STARTS) || rest.starts_with('\'')
}

/// `field` as a spreadsheet shows it and never runs it.
pub fn neutralise(field: &str) -> String {
    let escape = field.starts_with(FORMULA_STARTS) || field.strip_prefix('\'').is_some_and(escapes);
    if escape { format!("'{field}") } else { field.to_owned() }
}

/// The value [`neutralise`] was given.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if escapes(rest) => rest,
        _ => cell,
    }
}

/// When a subscriber's consent took effect, and where it was given: the last confirm or
/// import in the proof; for someone who never confirmed, their sign-up.
fn consent_of(subscriber: &Subscriber) -> (Timestamp, String) {
    let given =
        subscriber.consent.iter().rev().find(|r| matches!(r.action, ConsentAction::Confirm | ConsentAction::Import));
    let signed_up = subscriber.consent.iter().rev().find(|r| r.action == ConsentAction::Subscribe);
    match given {
        Some(record) if record.action == ConsentAction::Import => {
            (record.at, record.source_url.clone().unwrap_or_else(|| "import".into()))
        }
        Some(record) => {
            let page = signed_up.and_then(|r| r.source_url.as_deref()).or(record.source_url.as_deref());
            (record.at, page.map_or_else(|| "double opt-in".into(), |page| format!("double opt-in via {page}")))
        }
        None => (
            signed_up.map_or(subscriber.created_at, |r| r.at),
            signed_up
                .and_then(|r| r.source_url.clone())
                .map_or_else(|| "not confirmed".into(), |page| format!("not confirmed; signed up via {page}")),
        ),
    }
}

/// The rows of `subscribers`, in the order given, as CSV with the header [`COLUMNS`].
pub fn to_csv(subscribers: &[Subscriber]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for subscriber in subscribers {
        let (consented_at, source) = consent_of(subscriber);
        writer.write_record([
            neutralise(subscriber.email.as_str()),
            neutralise(subscriber.first_name.as_deref().unwrap_or("")),
            subscriber.status.as_str().to_owned(),
            consented_at.to_string(),
            neutralise(&source),
            subscriber.left_at.map(|t| t.to_string()).unwrap_or_default(),
        ])?;
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn formulas_are_neutralised_and_restored() {
        assert_eq!(neutralise("=HYPERLINK(\"https://x\")"), "'=HYPERLINK(\"https://x\")");
        assert_eq!(neutralise("Anna"), "Anna");
        assert_eq!(neutralise("'Anna"), "'Anna", "a quote before a letter is the value's own");
        assert_eq!(restore("'=1+1"), "=1+1");
        assert_eq!(restore("'Anna"), "'Anna");
        let escaped = neutralise("''=x");
        assert_eq!(restore(&escaped), "''=x");
    }

    proptest! {
        #[test]
        fn every_value_survives_the_round_trip(value in "\\PC{0,12}") {
            let cell = neutralise(&value);
            prop_assert_eq!(restore(&cell), value.as_str());
            prop_assert!(!cell.starts_with(FORMULA_STARTS));
        }
    }
}
