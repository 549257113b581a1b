//! Dutch as the readers and the author read it: dates, spans, and counts with the right
//! singular or plural. One place, so "1 lezers" cannot happen in one text and not another.

/// "1 lezer", "2 lezers", "0 lezers".
///
/// ```
/// use postbode::render::dutch::count;
/// assert_eq!(count(1u32, "lezer", "lezers"), "1 lezer");
/// assert_eq!(count(0u32, "reactie", "reacties"), "0 reacties");
/// ```
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A span of time as a reader would say it, rounded down to its largest whole unit:
/// "een uur", "10 minuten", "2 uur", "een dag", "7 dagen".
///
/// ```
/// use jiff::SignedDuration;
/// use postbode::render::dutch::span;
/// assert_eq!(span(SignedDuration::from_hours(1)), "een uur");
/// assert_eq!(span(SignedDuration::from_hours(24 * 7)), "7 dagen");
/// assert_eq!(span(SignedDuration::from_mins(90)), "1 uur");
/// assert_eq!(span(SignedDuration::from_mins(1)), "een minuut");
/// ```
pub fn span(duration: jiff::SignedDuration) -> String {
    let minutes = duration.as_mins().max(0).unsigned_abs();
    let (n, one, many) = match minutes {
        m if m >= 24 * 60 => (m / (24 * 60), "dag", "dagen"),
        m if m >= 60 => (m / 60, "uur", "uur"),
        m => (m, "minuut", "minuten"),
    };
    // "een uur" reads better than "1 uur" for exactly one; a rounded "1 uur" stays a number.
    let exact = matches!(minutes, 1 | 60 | 1440);
    if exact { format!("een {one}") } else { count(n, one, many) }
}

/// "4 december 14:30", in the site's time zone.
pub fn dutch_moment(at: jiff::Timestamp) -> String {
    let local = at.to_zoned(crate::content::site_time_zone());
    format!("{} {:02}:{:02}", dutch_date(local.date()), local.hour(), local.minute())
}

/// "4 december".
pub fn dutch_date(date: jiff::civil::Date) -> String {
    const MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    format!("{} {}", date.day(), MONTHS[usize::from(date.month().unsigned_abs()).saturating_sub(1) % 12])
}
