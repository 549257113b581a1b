//! Caps on confirmation mail, so the subscribe form cannot be used to mail-bomb a stranger or
//! spend the account's sending reputation: per mailbox (`+tags` and Gmail dots folded, see
//! [`super::SubscriberEmail::mailbox`]) per hour and per day, per client (an IPv4 address or
//! an IPv6 /64) and per client network (an IPv4 /24 or an IPv6 /48: one provider's block, one
//! rented server range) per hour, and for everyone together per hour and per day.
//!
//! The budget in all is sized to a list of a few hundred readers, not to the account: with the
//! defaults, strangers together can cause at most 100 confirmation mails a day (20 an hour),
//! each mailbox at most 3 a day, whatever they do; while the list is paused or the intake
//! breaker is tripped, 10 an hour.
//!
//! Every subscribe request that passes validation takes one from each budget, whatever the
//! address's state: the answer (`429` once a budget is spent) then depends on what was asked,
//! never on whether the address is known. Windows are fixed (clock hours and UTC days), so
//! at a window's edge a mailbox can get its hourly mail twice in a minute; the daily cap still
//! holds. Pure: this names the budgets; the store counts them atomically.

use std::net::IpAddr;

use jiff::Timestamp;

/// The limits, each at least 1. Defaults: 1 and 3 per mailbox per hour and day, 10 per client
/// and 30 per client network per hour, 20 an hour and 100 a day in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub mailbox_per_hour: u32,
    pub mailbox_per_day: u32,
    pub client_per_hour: u32,
    pub network_per_hour: u32,
    pub global_per_hour: u32,
    pub global_per_day: u32,
}

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            mailbox_per_hour: 1,
            mailbox_per_day: 3,
            client_per_hour: 10,
            network_per_hour: 30,
            global_per_hour: 20,
            global_per_day: 100,
        }
    }
}

impl Caps {
    /// The defaults of the reaction form: a reader may write a few in an hour; strangers
    /// together at most 30 an hour and 100 a day (each a stored record and a line in the
    /// author's notice, never a mail to the address typed).
    pub const REACTIONS: Caps = Caps {
        mailbox_per_hour: 3,
        mailbox_per_day: 10,
        client_per_hour: 10,
        network_per_hour: 30,
        global_per_hour: 30,
        global_per_day: 100,
    };

    /// Every limit as high as `n` (tests that are not about the caps).
    pub const fn all(n: u32) -> Caps {
        Caps {
            mailbox_per_hour: n,
            mailbox_per_day: n,
            client_per_hour: n,
            network_per_hour: n,
            global_per_hour: n,
            global_per_day: n,
        }
    }
}

/// One counter: at most `limit` takes under `key`, which can be forgotten at `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub key: String,
    pub limit: u32,
    pub expires_at: Timestamp,
}

impl Budget {
    /// A once-only marker: a budget of one take under `key`.
    pub fn once(key: impl Into<String>, expires_at: Timestamp) -> Budget {
        Budget { key: key.into(), limit: 1, expires_at }
    }
}

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// The network a client address stands for: an IPv4 address itself, an IPv6 address's /64
/// (one household or server gets a whole /64, so single addresses would be free to rotate).
pub fn client_network(ip: Option<&str>) -> String {
    match ip.and_then(|ip| ip.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "unknown".into(),
    }
}

/// The coarser network of a client address: an IPv4 /24, an IPv6 /48 (what one provider
/// hands one customer, or one rented server range).
pub fn client_block(ip: Option<&str>) -> String {
    match ip.and_then(|ip| ip.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
        None => "unknown".into(),
    }
}

/// The budgets one request takes from, in the order they are checked: the mailbox's first
/// (a flood at one mailbox does not eat the client's or everyone's budget), everyone's last.
/// `mailbox`, `client` and `block` are keyed fingerprints: counters hold no address. All are
/// taken together or none ([`crate::store::Counters::take_budgets`]).
pub fn budgets(caps: &Caps, mailbox: &str, (client, block): (&str, &str), now: Timestamp) -> Vec<Budget> {
    scoped_budgets("", caps, mailbox, (client, block), now)
}

/// [`budgets`] of another form (`scope` first in every key, so the two never share a
/// counter): the reaction form's caps are `scoped_budgets("reaction-", …)`.
pub fn scoped_budgets(
    scope: &str,
    caps: &Caps,
    mailbox: &str,
    (client, block): (&str, &str),
    now: Timestamp,
) -> Vec<Budget> {
    let window = |length: i64| {
        let index = now.as_second().div_euclid(length);
        // Kept one window longer than needed: the store's expiry may run late, never early.
        let expires_at = Timestamp::from_second((index + 2) * length).unwrap_or(Timestamp::MAX);
        (index, expires_at)
    };
    let ((hour, hour_ends), (day, day_ends)) = (window(HOUR), window(DAY));
    [
        (format!("mailbox-hour#{mailbox}#{hour}"), caps.mailbox_per_hour, hour_ends),
        (format!("mailbox-day#{mailbox}#{day}"), caps.mailbox_per_day, day_ends),
        (format!("client-hour#{client}#{hour}"), caps.client_per_hour, hour_ends),
        (format!("network-hour#{block}#{hour}"), caps.network_per_hour, hour_ends),
        (format!("global-hour#{hour}"), caps.global_per_hour, hour_ends),
        (format!("global-day#{day}"), caps.global_per_day, day_ends),
    ]
    .into_iter()
    .map(|(key, limit, expires_at)| Budget { key: format!("{scope}{key}"), limit, expires_at })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64_and_ipv4_by_address() {
        assert_eq!(client_network(Some("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(client_network(Some("2001:db8:1:2:bbbb::9")), client_network(Some("2001:db8:1:2:aaaa::1")));
        assert_ne!(client_network(Some("2001:db8:1:3::1")), client_network(Some("2001:db8:1:2::1")));
        assert_eq!(client_network(Some("192.0.2.7")), "192.0.2.7");
        assert_eq!(client_network(None), "unknown");
        assert_eq!(client_network(Some("geen ip")), "unknown");
        assert_eq!(client_block(Some("192.0.2.7")), "192.0.2.0/24");
        assert_eq!(client_block(Some("192.0.2.200")), client_block(Some("192.0.2.7")));
        assert_eq!(client_block(Some("2001:db8:1:2:aaaa::1")), "2001:db8:1::/48");
        assert_eq!(client_block(Some("2001:db8:1:ffff::1")), client_block(Some("2001:db8:1:2::1")));
    }

    #[test]
    fn windows_are_clock_hours_and_utc_days() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let keys = |now| budgets(&Caps::default(), "m", ("c", "b"), now).into_iter().map(|b| b.key).collect::<Vec<_>>();
        assert_eq!(keys(at("2026-12-01T09:00:00Z")), keys(at("2026-12-01T09:59:59Z")));
        let (a, b) = (keys(at("2026-12-01T09:59:59Z")), keys(at("2026-12-01T10:00:00Z")));
        assert_ne!(a[0], b[0], "a new hour");
        assert_eq!(a[1], b[1], "the same day");
        let budget = &budgets(&Caps::default(), "m", ("c", "b"), at("2026-12-01T09:30:00Z"))[0];
        assert_eq!(budget.expires_at, at("2026-12-01T11:00:00Z"));
    }
}
