//! A series' schedule as the author writes it: cadence (`weekly`) and send window
//! (`tuesday 08:00` in `Europe/Amsterdam`). Deciding who is due lives in `schedule`.

use std::fmt;

use jiff::civil::{Time, Weekday};

/// How far apart consecutive posts of a series reach one subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// Every `n` days (`daily` is 1, `weekly` is 7).
    EveryDays(u16),
}

impl Cadence {
    /// Accepts `daily`, `weekly`, `every N days`, `every N weeks`.
    ///
    /// ```
    /// use postbode::content::Cadence;
    /// assert_eq!(Cadence::parse("weekly"), Ok(Cadence::EveryDays(7)));
    /// assert_eq!(Cadence::parse("every 2 weeks"), Ok(Cadence::EveryDays(14)));
    /// assert!(Cadence::parse("sometimes").is_err());
    /// ```
    pub fn parse(raw: &str) -> Result<Cadence, String> {
        let words: Vec<String> = raw.split_whitespace().map(str::to_lowercase).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let days = match words.as_slice() {
            ["daily"] => Some(1),
            ["weekly"] => Some(7),
            ["every", n, unit] => n.parse::<u16>().ok().and_then(|n| match *unit {
                "day" | "days" => Some(n),
                "week" | "weeks" => n.checked_mul(7),
                _ => None,
            }),
            _ => None,
        };
        match days {
            Some(d) if (1..=366).contains(&d) => Ok(Cadence::EveryDays(d)),
            _ => Err(format!("`{raw}` is not a cadence; write `daily`, `weekly`, `every 3 days` or `every 2 weeks`")),
        }
    }

    pub fn days(self) -> u16 {
        match self {
            Cadence::EveryDays(d) => d,
        }
    }

    /// As readers are told it: "elke dag", "elke week", "om de 2 weken", "om de 3 dagen".
    ///
    /// ```
    /// use postbode::content::Cadence;
    /// assert_eq!(Cadence::EveryDays(7).dutch(), "elke week");
    /// assert_eq!(Cadence::EveryDays(14).dutch(), "om de 2 weken");
    /// ```
    pub fn dutch(self) -> String {
        match self.days() {
            1 => "elke dag".into(),
            7 => "elke week".into(),
            d if d % 7 == 0 => format!("om de {} weken", d / 7),
            d => format!("om de {d} dagen"),
        }
    }
}

/// The cadences a Dutch text promises ("elke week", "wekelijks", "om de twee weken", …), each
/// with the words that promise it and its days; a month counts as 30 days. The consent text is
/// what readers agree to, so `postbode check` holds it against the series' cadences.
///
/// ```
/// use postbode::content::promised_cadences;
/// assert_eq!(promised_cadences("Je krijgt elke week een artikel."), [("elke week".to_owned(), 7)]);
/// assert_eq!(promised_cadences("Om de twee weken een deel."), [("om de twee weken".to_owned(), 14)]);
/// assert!(promised_cadences("Af en toe een artikel.").is_empty());
/// ```
pub fn promised_cadences(text: &str) -> Vec<(String, u16)> {
    let words: Vec<String> =
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    let number = |w: &str| match w {
        "twee" => Some(2),
        "drie" => Some(3),
        "vier" => Some(4),
        "vijf" => Some(5),
        "zes" => Some(6),
        w => w.parse::<u16>().ok(),
    };
    let unit = |w: &str| match w {
        "dag" | "dagen" => Some(1),
        "week" | "weken" => Some(7),
        "maand" | "maanden" => Some(30),
        _ => None,
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w: Vec<&str> = words[i..].iter().take(4).map(String::as_str).collect();
        let (days, len) = match w.as_slice() {
            ["om", "de", n, u, ..] => match (number(n), unit(u)) {
                (Some(n), Some(u)) => (Some(n * u), 4),
                _ => (None, 1),
            },
            ["elke" | "iedere", n, u, ..] if number(n).is_some() && unit(u).is_some() => {
                (number(n).zip(unit(u)).map(|(n, u)| n * u), 3)
            }
            ["elke" | "iedere", u, ..] if unit(u).is_some() => (unit(u), 2),
            ["dagelijks", ..] => (Some(1), 1),
            ["wekelijks", ..] => (Some(7), 1),
            ["tweewekelijks", ..] => (Some(14), 1),
            ["maandelijks", ..] => (Some(30), 1),
            _ => (None, 1),
        };
        if let Some(days) = days {
            found.push((words[i..i + len].join(" "), days));
        }
        i += len;
    }
    found
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.days() {
            1 => f.write_str("daily"),
            7 => f.write_str("weekly"),
            d if d % 7 == 0 => write!(f, "every {} weeks", d / 7),
            d => write!(f, "every {d} days"),
        }
    }
}

/// When in the week (or day) mails of a series may go out, in the series' time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendWindow {
    /// `None` means any day (`daily 08:00`).
    pub weekday: Option<Weekday>,
    pub start: Time,
}

impl SendWindow {
    /// Accepts `tuesday 08:00` (English or Dutch day names) or `daily 08:00`.
    ///
    /// ```
    /// use postbode::content::SendWindow;
    /// use jiff::civil::{time, Weekday};
    /// let window = SendWindow::parse("dinsdag 08:00").unwrap();
    /// assert_eq!(window.weekday, Some(Weekday::Tuesday));
    /// assert_eq!(window.start, time(8, 0, 0, 0));
    /// ```
    pub fn parse(raw: &str) -> Result<SendWindow, String> {
        let explain =
            || format!("`{raw}` is not a send window; write a day and a time, like `tuesday 08:00` or `daily 07:30`");
        let mut words = raw.split_whitespace();
        let (Some(day), Some(clock), None) = (words.next(), words.next(), words.next()) else {
            return Err(explain());
        };
        let weekday = match day.to_lowercase().as_str() {
            "daily" | "dagelijks" => None,
            "monday" | "maandag" => Some(Weekday::Monday),
            "tuesday" | "dinsdag" => Some(Weekday::Tuesday),
            "wednesday" | "woensdag" => Some(Weekday::Wednesday),
            "thursday" | "donderdag" => Some(Weekday::Thursday),
            "friday" | "vrijdag" => Some(Weekday::Friday),
            "saturday" | "zaterdag" => Some(Weekday::Saturday),
            "sunday" | "zondag" => Some(Weekday::Sunday),
            _ => return Err(explain()),
        };
        let (h, m) = clock.split_once(':').ok_or_else(explain)?;
        let (Ok(h), Ok(m)) = (h.parse::<i8>(), m.parse::<i8>()) else {
            return Err(explain());
        };
        let start = Time::new(h, m, 0, 0).map_err(|_| explain())?;
        Ok(SendWindow { weekday, start })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cadence_round_trips_through_display() {
        for raw in ["daily", "weekly", "every 3 days", "every 2 weeks"] {
            assert_eq!(Cadence::parse(raw).unwrap().to_string(), raw);
        }
        for bad in ["", "every", "every 0 days", "every x weeks", "monthly", "every 2 fortnights"] {
            assert!(Cadence::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn send_window_rejects_impossible_times() {
        assert!(SendWindow::parse("tuesday 24:00").is_err());
        assert!(SendWindow::parse("tuesday 8").is_err());
        assert!(SendWindow::parse("someday 08:00").is_err());
        assert!(SendWindow::parse("tuesday 08:00 extra").is_err());
        assert_eq!(SendWindow::parse("daily 07:30").unwrap().weekday, None);
    }
}
