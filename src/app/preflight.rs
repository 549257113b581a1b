//! `postbode preflight`, the go-live gate: after the content (`content::release_problems`),
//! the DNS the deploy guide asks for and the SES account, one PASS or FAIL line each.
//!
//! What SES needs in DNS, for a sending domain `D` with Easy DKIM and a custom MAIL FROM
//! domain (the template's `EmailIdentity`):
//!
//! | record | name | value |
//! |---|---|---|
//! | DKIM (three) | `TOKEN._domainkey.D` | CNAME `TOKEN.dkim.amazonses.com` |
//! | MAIL FROM MX | `mail.D` | MX `10 feedback-smtp.REGION.amazonses.com` |
//! | MAIL FROM SPF | `mail.D` | TXT `v=spf1 include:amazonses.com ~all` |
//! | DMARC | `_dmarc.D` | TXT `v=DMARC1; p=…` |

use crate::mail::AccountFacts;
use crate::mail::domains::{DnsRecords, RecordKind};
use crate::mail::ses::IdentityFacts;

/// One line of the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    /// What was found: `Ok` passes, `Err` says what is wrong and what to do.
    pub result: Result<String, String>,
}

impl Check {
    pub fn new(name: impl Into<String>, result: Result<String, String>) -> Check {
        Check { name: name.into(), result }
    }

    pub fn passed(&self) -> bool {
        self.result.is_ok()
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (label, text) = match &self.result {
            Ok(text) => ("PASS", text),
            Err(text) => ("FAIL", text),
        };
        // DNS answers and SES's words are quoted: shown with control characters escaped.
        write!(f, "{label}  {:<16} {}", self.name, crate::subscribers::terminal_safe(text))
    }
}

/// The sending domain as the template sets it up.
#[derive(Debug, Clone)]
pub struct DomainSetup {
    pub domain: String,
    /// The custom MAIL FROM domain (the template: `mail.DOMAIN`).
    pub mail_from: String,
    /// The stack's region: the MAIL FROM MX points at its feedback host.
    pub region: String,
    /// Easy DKIM's tokens (from SES's identity, or the stack's outputs `DkimRecord1..3`).
    pub dkim_tokens: Vec<String>,
}

/// The DNS records of [`DomainSetup`], each read from `dns`.
pub async fn dns_checks(dns: &dyn DnsRecords, setup: &DomainSetup) -> Vec<Check> {
    let mut checks = Vec::new();
    if setup.dkim_tokens.is_empty() {
        checks.push(Check::new(
            "dkim",
            Err("no DKIM tokens to check: add --account (reads them from SES) or --dkim-token three times \
                 (the stack's outputs DkimRecord1..3)"
                .into()),
        ));
    }
    for (i, token) in setup.dkim_tokens.iter().enumerate() {
        let name = format!("{token}._domainkey.{}", setup.domain);
        let want = format!("{token}.dkim.amazonses.com");
        let result = match dns.records(&name, RecordKind::Cname).await {
            Ok(found) if found.contains(&want) => Ok(format!("{name} CNAME {want}")),
            Ok(found) if found.is_empty() => Err(format!("{name} has no CNAME: add {name} CNAME {want}")),
            Ok(found) => Err(format!("{name} CNAME {}: it must be {want}", found.join(", "))),
            Err(e) => Err(e),
        };
        checks.push(Check::new(format!("dkim {}", i + 1), result));
    }
    let feedback = format!("feedback-smtp.{}.amazonses.com", setup.region);
    let mx = match dns.records(&setup.mail_from, RecordKind::Mx).await {
        Ok(found) if found.contains(&feedback) => Ok(format!("{} MX 10 {feedback}", setup.mail_from)),
        Ok(found) if found.is_empty() => {
            Err(format!("{} has no MX: add {} MX 10 {feedback}", setup.mail_from, setup.mail_from))
        }
        Ok(found) => Err(format!("{} MX {}: it must be {feedback}", setup.mail_from, found.join(", "))),
        Err(e) => Err(e),
    };
    checks.push(Check::new("mail from mx", mx));
    let spf = match dns.records(&setup.mail_from, RecordKind::Txt).await {
        Ok(found) => match found.iter().find(|t| t.trim_start().to_ascii_lowercase().starts_with("v=spf1")) {
            Some(spf) if spf.contains("include:amazonses.com") => Ok(format!("{} TXT \"{spf}\"", setup.mail_from)),
            Some(spf) => Err(format!("{} TXT \"{spf}\" lacks include:amazonses.com", setup.mail_from)),
            None => Err(format!(
                "{} has no SPF record: add {} TXT \"v=spf1 include:amazonses.com ~all\"",
                setup.mail_from, setup.mail_from
            )),
        },
        Err(e) => Err(e),
    };
    checks.push(Check::new("mail from spf", spf));
    let dmarc_name = format!("_dmarc.{}", setup.domain);
    let dmarc = match dns.records(&dmarc_name, RecordKind::Txt).await {
        Ok(found) => match found.iter().find(|t| t.trim_start().to_ascii_lowercase().starts_with("v=dmarc1")) {
            Some(record) => Ok(format!("{dmarc_name} TXT \"{record}\"")),
            None => Err(format!(
                "{dmarc_name} has no DMARC record (Gmail and Yahoo require one of bulk senders): add {dmarc_name} \
                 TXT \"v=DMARC1; p=none; rua=mailto:dmarc@{}\"",
                setup.domain
            )),
        },
        Err(e) => Err(e),
    };
    checks.push(Check::new("dmarc", dmarc));
    checks
}

/// The sending domain's identity in SES: verified, DKIM signing, the MAIL FROM domain set.
pub fn identity_checks(identity: &IdentityFacts, setup: &DomainSetup) -> Vec<Check> {
    let verified = if identity.verified_for_sending {
        Ok(format!("{} is verified for sending", setup.domain))
    } else {
        Err(format!(
            "{} is not verified for sending yet: add the DKIM records; SES checks them by itself",
            setup.domain
        ))
    };
    let dkim = match identity.dkim_status.as_deref() {
        Some("SUCCESS") => Ok("Easy DKIM signs every mail".to_owned()),
        Some(status) => Err(format!("Easy DKIM is {status}: the three DKIM CNAMEs must be in DNS")),
        None => Err("the identity has no DKIM".to_owned()),
    };
    let mail_from = match identity.mail_from_domain.as_deref() {
        Some(d) if d == setup.mail_from => Ok(format!("MAIL FROM domain {d}")),
        Some(d) => Err(format!("the MAIL FROM domain is {d}, not {}", setup.mail_from)),
        None => Err("no custom MAIL FROM domain: SPF cannot align for DMARC".to_owned()),
    };
    vec![Check::new("ses identity", verified), Check::new("ses dkim", dkim), Check::new("ses mail from", mail_from)]
}

/// The SES account: out of the sandbox, sending, in good standing, and a daily quota that
/// holds a broadcast to the whole list (`readers`, when known).
pub fn account_checks(account: &AccountFacts, readers: Option<u64>) -> Vec<Check> {
    let sandbox = if account.production_access {
        Ok("production access: any address may be mailed".to_owned())
    } else {
        Err("the account is in the SES sandbox: it can mail only addresses you verified; request production \
             access (docs/deploy.md, step 3)"
            .to_owned())
    };
    let sending = if account.sending_enabled {
        Ok("sending is enabled".to_owned())
    } else {
        Err("sending is disabled for the whole account (paused by AWS or by hand): see the SES console".to_owned())
    };
    let standing = match account.enforcement.as_deref() {
        None | Some("HEALTHY") => Ok("in good standing".to_owned()),
        Some(status) => Err(format!("SES enforcement status {status}: see the SES console's reputation page")),
    };
    let day = account.max_24_hour_send;
    let quota = match readers {
        Some(n) if day < n as f64 => Err(format!(
            "{day:.0} mails a day, {} a second, for {n} readers: a broadcast would take days; ask AWS for more \
             (Service Quotas)",
            account.max_send_rate
        )),
        Some(n) => Ok(format!("{day:.0} mails a day, {} a second, for {n} readers", account.max_send_rate)),
        None => Ok(format!("{day:.0} mails a day, {} a second", account.max_send_rate)),
    };
    vec![
        Check::new("ses sandbox", sandbox),
        Check::new("ses sending", sending),
        Check::new("ses standing", standing),
        Check::new("ses quota", quota),
    ]
}

/// The AlertEmail of a `samconfig.toml` (what `sam deploy --guided` saved), if there is one:
/// `parameter_overrides = "… AlertEmail=\"rene@…\" …"` or the list form.
pub fn alert_email_in_samconfig(text: &str) -> Option<String> {
    let at = text.find("AlertEmail=")? + "AlertEmail=".len();
    let value: String = text[at..]
        .trim_start_matches(['\\', '"'])
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\\' | '\''))
        .collect();
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> AccountFacts {
        AccountFacts {
            production_access: true,
            sending_enabled: true,
            enforcement: Some("HEALTHY".into()),
            max_24_hour_send: 50_000.0,
            max_send_rate: 14.0,
            sent_last_24_hours: 0.0,
        }
    }

    fn failed(checks: &[Check]) -> Vec<&str> {
        checks.iter().filter(|c| !c.passed()).map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn a_production_account_with_room_passes() {
        assert!(failed(&account_checks(&facts(), Some(1200))).is_empty());
    }

    #[test]
    fn the_sandbox_a_paused_account_probation_and_a_small_quota_each_fail() {
        let sandbox = AccountFacts { production_access: false, max_24_hour_send: 200.0, ..facts() };
        assert_eq!(failed(&account_checks(&sandbox, Some(1200))), ["ses sandbox", "ses quota"]);
        let paused = AccountFacts { sending_enabled: false, enforcement: Some("SHUTDOWN".into()), ..facts() };
        assert_eq!(failed(&account_checks(&paused, None)), ["ses sending", "ses standing"]);
    }

    #[test]
    fn the_alert_address_is_read_from_what_sam_saved() {
        let saved = r#"parameter_overrides = "SenderName=\"René Rensen\" AlertEmail=\"rene@rensen.nl\" X=\"1\"""#;
        assert_eq!(alert_email_in_samconfig(saved).as_deref(), Some("rene@rensen.nl"));
        let list = "parameter_overrides = [\"AlertEmail=rene@rensen.nl\", \"X=1\"]";
        assert_eq!(alert_email_in_samconfig(list).as_deref(), Some("rene@rensen.nl"));
        assert_eq!(alert_email_in_samconfig("[default]\n"), None);
    }
}
