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
