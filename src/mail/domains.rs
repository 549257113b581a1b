//! Whether a domain can receive mail at all: an MX record (not RFC 7505's null MX), else an
//! A or AAAA record (RFC 5321's implicit MX). A confirmation mail to a domain that has
//! neither can only bounce, and SES counts every bounce against the whole account's
//! reputation: such an address is refused on the form (the answer depends on the domain
//! alone, so it tells nothing about who is subscribed).
//!
//! - [`DnsMailDomains`]: asks DNS (hickory's resolver, the system's name servers or the one
//!   given). DNS that does not answer never refuses anyone: only a definite "no such
//!   domain" or "no records" does.
//!
//! The same resolver reads the records `postbode preflight` checks before going live (DKIM
//! CNAMEs, the MAIL FROM domain's MX and SPF, DMARC): the [`DnsRecords`] port.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

/// What DNS says about a domain's mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reachable {
    /// It has an MX record, or an address record that serves as one.
    Yes,
    /// It does not exist, has neither, or says it takes no mail (null MX).
    No,
    /// DNS did not answer clearly (timeout, server failure): treated as reachable.
    Unknown,
}

/// The port: can mail reach this domain?
#[async_trait]
pub trait MailDomains: Send + Sync + 'static {
    async fn reachable(&self, domain: &str) -> Reachable;
}

/// DNS through hickory's resolver, with short timeouts (it is asked on the request path).
pub struct DnsMailDomains {
    resolver: TokioResolver,
}

impl DnsMailDomains {
    /// With the system's name servers (`/etc/resolv.conf`: in Lambda, the VPC's resolver).
    pub fn system() -> Result<DnsMailDomains, String> {
        let builder = TokioResolver::builder_tokio().map_err(|e| format!("no DNS configuration: {e}"))?;
        Self::build(builder)
    }

    /// With one name server (a test's DNS server, say).
    pub fn with_server(server: SocketAddr) -> Result<DnsMailDomains, String> {
        let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
        for connection in &mut name_server.connections {
            connection.port = server.port();
        }
        let config = ResolverConfig::from_name_servers(vec![name_server]);
        Self::build(TokioResolver::builder_with_config(config, TokioRuntimeProvider::default()))
    }

    fn build(mut builder: hickory_resolver::ResolverBuilder<TokioRuntimeProvider>) -> Result<DnsMailDomains, String> {
        let options: &mut ResolverOpts = builder.options_mut();
        options.timeout = Duration::from_secs(2);
        options.attempts = 1;
        // A domain is always asked as given, never with a search suffix of this machine.
        options.ndots = 0;
        let resolver = builder.build().map_err(|e| format!("no DNS resolver: {e}"))?;
        Ok(DnsMailDomains { resolver })
    }
}

#[async_trait]
impl MailDomains for DnsMailDomains {
    async fn reachable(&self, domain: &str) -> Reachable {
        let fqdn = format!("{}.", domain.trim_end_matches('.'));
        let verdict = match self.resolver.mx_lookup(fqdn.as_str()).await {
            Ok(lookup) => {
                let exchanges: Vec<bool> = lookup
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::MX(mx) => Some(!mx.exchange.is_root()),
                        _ => None,
                    })
                    .collect();
                match (exchanges.iter().any(|usable| *usable), exchanges.is_empty()) {
                    (true, _) => Reachable::Yes,
                    // Only null MX records: "this domain takes no mail".
                    (false, false) => Reachable::No,
                    (false, true) => self.address_records(&fqdn).await,
                }
            }
            Err(e) if e.is_nx_domain() => Reachable::No,
            Err(e) if e.is_no_records_found() => self.address_records(&fqdn).await,
            Err(e) => {
                tracing::warn!(error = %e, "DNS gave no clear answer about a mail domain; accepted");
                Reachable::Unknown
            }
        };
        tracing::debug!(?verdict, "mail domain checked");
        verdict
    }
}

impl DnsMailDomains {
    /// No MX: an A or AAAA record serves as one (RFC 5321 section 5.1).
    async fn address_records(&self, fqdn: &str) -> Reachable {
        match self.resolver.lookup_ip(fqdn).await {
            Ok(ips) if ips.iter().next().is_some() => Reachable::Yes,
            Ok(_) => Reachable::No,
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => Reachable::No,
            Err(e) => {
                tracing::warn!(error = %e, "DNS gave no clear answer about a mail domain; accepted");
                Reachable::Unknown
            }
        }
    }
}

/// The kinds of record the go-live check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Cname,
    Mx,
    Txt,
}

/// The port: the records of one kind at a name, as text: a CNAME's target and an MX's host
/// without the final dot, a TXT record's strings joined. Empty when there are none (or the
/// name does not exist); an error only when DNS gave no clear answer.
#[async_trait]
pub trait DnsRecords: Send + Sync {
    async fn records(&self, name: &str, kind: RecordKind) -> Result<Vec<String>, String>;
}

#[async_trait]
impl DnsRecords for DnsMailDomains {
    async fn records(&self, name: &str, kind: RecordKind) -> Result<Vec<String>, String> {
        use hickory_resolver::proto::rr::RecordType;
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let record_type = match kind {
            RecordKind::Cname => RecordType::CNAME,
            RecordKind::Mx => RecordType::MX,
            RecordKind::Txt => RecordType::TXT,
        };
        let host = |name: &hickory_resolver::proto::rr::Name| name.to_ascii().trim_end_matches('.').to_lowercase();
        match self.resolver.lookup(fqdn.as_str(), record_type).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match (&record.data, kind) {
                    (RData::CNAME(target), RecordKind::Cname) => Some(host(&target.0)),
                    (RData::MX(mx), RecordKind::Mx) => Some(host(&mx.exchange)),
                    (RData::TXT(txt), RecordKind::Txt) => Some(
                        txt.txt_data.iter().map(|part| String::from_utf8_lossy(part).into_owned()).collect::<String>(),
                    ),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(format!("DNS gave no clear answer for {name}: {e}")),
        }
    }
}
