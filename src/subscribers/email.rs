//! [`SubscriberEmail`]: an address parsed once, normalised, and safe to mail.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A normalised email address: trimmed, lowercase, ASCII (an internationalised domain is
/// stored in its `xn--` form, so what is stored is what is mailed, with no look-alike
/// surprises), at most 254 characters.
///
/// ```
/// use postbode::subscribers::SubscriberEmail;
/// let email = SubscriberEmail::parse("  Anna.de.Vries@Example.NL ").unwrap();
/// assert_eq!(email.as_str(), "anna.de.vries@example.nl");
/// assert!(SubscriberEmail::parse("anna@localhost").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SubscriberEmail(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the address is empty")]
    Empty,
    #[error("the address is too long")]
    TooLong,
    #[error("the address needs exactly one @ with text on both sides")]
    Shape,
    #[error("the part before the @ has characters an address cannot have")]
    LocalPart,
    #[error("the domain after the @ is not a valid internet domain")]
    Domain,
}

const ATEXT_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";

impl SubscriberEmail {
    pub fn parse(raw: &str) -> Result<SubscriberEmail, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(EmailError::Shape)?;
        if local.is_empty() || domain.is_empty() || local.contains('@') {
            return Err(EmailError::Shape);
        }
        let local = local.to_ascii_lowercase();
        let local_ok = local.len() <= 64
            && local.is_ascii()
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || ATEXT_SPECIALS.contains(c));
        if !local_ok {
            return Err(EmailError::LocalPart);
        }
        let domain = idna::domain_to_ascii(domain).map_err(|_| EmailError::Domain)?;
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = domain.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
        if !domain_ok {
            return Err(EmailError::Domain);
        }
        let email = format!("{local}@{domain}");
        if email.len() > 254 {
            return Err(EmailError::TooLong);
        }
        Ok(SubscriberEmail(email))
    }

    /// The mailbox behind the address, for rate limiting only: `+tags` dropped, and for
    /// Gmail (which ignores dots and answers to googlemail.com too) dots dropped and one
    /// domain. `Anna.de.Vries+nieuws@googlemail.com` and `annadevries@gmail.com` are one
    /// mailbox. The stored address stays as typed.
    ///
    /// ```
    /// use postbode::subscribers::SubscriberEmail;
    /// let key = |a: &str| SubscriberEmail::parse(a).unwrap().mailbox();
    /// assert_eq!(key("Anna.de.Vries+nieuws@googlemail.com"), "annadevries@gmail.com");
    /// assert_eq!(key("anna+1@example.nl"), key("anna@example.nl"));
    /// assert_ne!(key("a.nna@example.nl"), key("anna@example.nl"));
    /// ```
    pub fn mailbox(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let local = local.split('+').next().unwrap_or(local);
        match domain {
            "gmail.com" | "googlemail.com" => format!("{}@gmail.com", local.replace('.', "")),
            _ => format!("{local}@{domain}"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@` (ASCII: an internationalised domain in its `xn--` form).
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

impl fmt::Display for SubscriberEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SubscriberEmail {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        SubscriberEmail::parse(&value)
    }
}

impl From<SubscriberEmail> for String {
    fn from(value: SubscriberEmail) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_what_cannot_be_mailed() {
        for bad in [
            "",
            "  ",
            "anna",
            "@example.nl",
            "anna@",
            "anna@@example.nl",
            "an na@example.nl",
            "anna@example",
            "anna@-example.nl",
            "anna@example..nl",
            ".anna@example.nl",
            "anna.@example.nl",
            "an..na@example.nl",
            "anna@example.1",
            "jöran@example.nl",
            "anna@exa_mple.nl",
            "<anna@example.nl>",
            "anna@example.nl\n,b@c.nl",
        ] {
            assert!(SubscriberEmail::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(SubscriberEmail::parse(&format!("{}@example.nl", "a".repeat(65))), Err(EmailError::LocalPart));
        assert_eq!(SubscriberEmail::parse(&format!("a@{}.nl", "b".repeat(260))), Err(EmailError::TooLong));
    }

    #[test]
    fn normalises_case_whitespace_and_idn() {
        assert_eq!(SubscriberEmail::parse(" ANNA+blog@Example.NL\t").unwrap().as_str(), "anna+blog@example.nl");
        assert_eq!(SubscriberEmail::parse("anna@café.nl").unwrap().as_str(), "anna@xn--caf-dma.nl");
    }

    proptest! {
        #[test]
        fn valid_addresses_parse_and_are_idempotent(
            local in "[a-z0-9]{1,10}([._+-][a-z0-9]{1,10}){0,2}",
            domain in "[a-z0-9]{1,10}(-[a-z0-9]{1,5})?\\.[a-z]{2,6}",
        ) {
            let raw = format!("{local}@{domain}");
            let email = SubscriberEmail::parse(&raw.to_uppercase()).unwrap();
            prop_assert_eq!(email.as_str(), raw.as_str());
            prop_assert_eq!(SubscriberEmail::parse(email.as_str()).unwrap(), email);
        }

        #[test]
        fn never_panics_and_never_keeps_whitespace_or_controls(raw in "\\PC{0,80}") {
            if let Ok(email) = SubscriberEmail::parse(&raw) {
                prop_assert!(email.as_str().chars().all(|c| c.is_ascii_graphic()));
                prop_assert!(email.as_str().len() <= 254);
            }
        }
    }
}
