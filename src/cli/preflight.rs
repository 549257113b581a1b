//! `postbode preflight`: the go-live gate, before the first `sam deploy` and again before the
//! form goes on the website. One PASS or FAIL line per check; non-zero when any fails.
//!
//! ```text
//! $ postbode preflight --domain rensen.nl --account
//! FAIL  content          content/site.toml:21: `whitepaper_file` is the shipped placeholder (…)
//! PASS  alert email      rene@rensen.nl
//! PASS  dkim 1           abc._domainkey.rensen.nl CNAME abc.dkim.amazonses.com
//! …
//! 1 of 14 checks failed: not ready to go live.
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{CommandResult, Target, runtime};
use crate::app::preflight::{
    Check, DomainSetup, account_checks, alert_email_in_samconfig, dns_checks, identity_checks,
};
use crate::content::{PRIVACY_FILE, SITE_FILE};
use crate::mail::Mailer;

/// What `preflight` is asked to look at.
#[derive(Debug, Clone, clap::Args)]
pub struct PreflightArgs {
    #[arg(long, default_value = "content")]
    pub content: PathBuf,
    /// Where the alarms go (the template's AlertEmail); default: what `sam deploy --guided`
    /// saved in samconfig.toml.
    #[arg(long)]
    pub alert_email: Option<String>,
    /// The sending domain (SenderDomain): check its DKIM, MAIL FROM and DMARC records in DNS.
    #[arg(long)]
    pub domain: Option<String>,
    /// The custom MAIL FROM domain (default: mail.DOMAIN, as the template sets it up).
    #[arg(long)]
    pub mail_from: Option<String>,
    /// The stack's region, whose SES feedback host the MAIL FROM MX names.
    #[arg(long, env = "AWS_REGION", default_value = "eu-west-1")]
    pub region: String,
    /// An Easy DKIM token (the first part of a DkimRecord output), three times; --account
    /// reads them from SES instead.
    #[arg(long = "dkim-token")]
    pub dkim_tokens: Vec<String>,
    /// With the AWS credentials of this shell: SES's account (sandbox, sending, standing,
    /// quota) and the domain's identity (verified, DKIM, MAIL FROM).
    #[arg(long)]
    pub account: bool,
    /// The DNS server to ask (default: this machine's).
    #[arg(long, hide = true)]
    pub dns_server: Option<SocketAddr>,
    #[command(flatten)]
    pub target: Target,
}

/// `postbode preflight`.
pub fn preflight(args: &PreflightArgs) -> CommandResult {
    let mut checks = content_checks(&args.content);
    let alert = args
        .alert_email
        .clone()
        .or_else(|| std::fs::read_to_string("samconfig.toml").ok().and_then(|text| alert_email_in_samconfig(&text)));
    checks.push(Check::new(
        "alert email",
        match alert {
            Some(address) => crate::content::real_address("AlertEmail", &address).map(|()| address),
            None => {
                Err("no AlertEmail: give --alert-email, or deploy once with `sam deploy --guided` (it asks)".into())
            }
        },
    ));
    if let Some(domain) = &args.domain {
        checks.extend(runtime()?.block_on(domain_checks(args, domain))?);
    } else if args.account {
        checks.extend(runtime()?.block_on(account_part(args, None))?);
    }
    for check in &checks {
        println!("{check}");
    }
    let failed = checks.iter().filter(|c| !c.passed()).count();
    if failed == 0 {
        println!("{0} of {0} checks passed: ready to go live.", checks.len());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{failed} of {} checks failed: not ready to go live.", checks.len());
        Ok(ExitCode::from(1))
    }
}

/// The content as `check` sees it, then what may not go live; each problem its own line.
fn content_checks(dir: &Path) -> Vec<Check> {
    let catalogue = match crate::content_io::load_catalogue(dir) {
        Ok(catalogue) => catalogue,
        Err(crate::content_io::ContentError::Invalid(problems)) => {
            return problems.iter().map(|p| Check::new("content", Err(p.to_string()))).collect();
        }
        Err(e) => return vec![Check::new("content", Err(crate::error_chain(&e)))],
    };
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let problems = crate::content::release_problems(dir, &catalogue, &read(SITE_FILE), &read(PRIVACY_FILE));
    if problems.is_empty() {
        let text = format!("{}: no placeholders, real addresses, a privacy statement", dir.display());
        return vec![Check::new("content", Ok(text))];
    }
    problems.iter().map(|p| Check::new("content", Err(p.to_string()))).collect()
}

async fn domain_checks(args: &PreflightArgs, domain: &str) -> Result<Vec<Check>, String> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let mut setup = DomainSetup {
        mail_from: args.mail_from.clone().unwrap_or_else(|| format!("mail.{domain}")),
        domain,
        region: args.region.clone(),
        dkim_tokens: args.dkim_tokens.clone(),
    };
    let mut checks = Vec::new();
    if args.account {
        checks.extend(account_part(args, Some(&mut setup)).await?);
    }
    let dns = match args.dns_server {
        Some(server) => crate::mail::domains::DnsMailDomains::with_server(server)?,
        None => crate::mail::domains::DnsMailDomains::system()?,
    };
    checks.extend(dns_checks(&dns, &setup).await);
    Ok(checks)
}

/// SES's account, and (with a domain) its identity, whose DKIM tokens the DNS checks use.
async fn account_part(args: &PreflightArgs, setup: Option<&mut DomainSetup>) -> Result<Vec<Check>, String> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let ses = crate::startup::ses_mailer(&aws, None);
    let readers = match args.target.store().await {
        Ok(store) => Some(
            store
                .all_subscribers()
                .await
                .map_err(|e| crate::error_chain(&e))?
                .iter()
                .filter(|s| matches!(s.status, crate::subscribers::Status::Confirmed))
                .count() as u64,
        ),
        Err(_) => None,
    };
    let mut checks = match ses.account().await {
        Ok(Some(account)) => account_checks(&account, readers),
        Ok(None) => Vec::new(),
        Err(e) => vec![Check::new("ses account", Err(format!("GetAccount failed: {e}")))],
    };
    if let Some(setup) = setup {
        match ses.identity(&setup.domain).await {
            Ok(identity) => {
                if setup.dkim_tokens.is_empty() {
                    setup.dkim_tokens = identity.dkim_tokens.clone();
                }
                checks.extend(identity_checks(&identity, setup));
            }
            Err(e) => checks.push(Check::new(
                "ses identity",
                Err(format!("GetEmailIdentity {} failed (is the stack deployed?): {e}", setup.domain)),
            )),
        }
    }
    Ok(checks)
}
