//! The go-live gate of `postbode preflight`: what `postbode check` lets pass while the author
//! is still writing, but may never reach a reader: the shipped placeholder whitepaper (served
//! to every first reader), the shipped placeholder images, the placeholder business (name,
//! address, KvK number), example addresses where a real mailbox belongs, a privacy statement that still says it is a placeholder. Each problem at `site.toml:line`.

use std::path::Path;

use super::{Catalogue, PRIVACY_FILE, Problem, SITE_FILE, WhitepaperSource};

/// The words the shipped examples are marked with.
const PLACEHOLDER_MARKS: [&str; 2] = ["PLAATSAANDUIDING", "PLACEHOLDER"];

/// A domain that is nobody's mailbox: `voorbeeld.nl` and `example.*` (the shipped examples),
/// and the names RFC 2606 and RFC 6761 reserve (`.example`, `.test`, `.invalid`, `.localhost`).
///
/// ```
/// use postbode::content::is_example_domain;
/// assert!(is_example_domain("voorbeeld.nl") && is_example_domain("mail.example.com"));
/// assert!(is_example_domain("postbode.test"));
/// assert!(!is_example_domain("rensen.nl") && !is_example_domain("voorbeeldig.nl"));
/// ```
pub fn is_example_domain(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let tld = labels.last().copied().unwrap_or_default();
    labels.iter().any(|l| *l == "example" || *l == "voorbeeld")
        || ["test", "invalid", "localhost", "example"].contains(&tld)
}

/// The domain of an address or URL's host, for [`is_example_domain`].
fn domain_of_address(address: &str) -> &str {
    address.rsplit('@').next().unwrap_or(address).trim_end_matches('>').trim()
}

/// Every problem that keeps `catalogue` from going live. `dir` is the content folder (for the
/// paths shown); `site_toml` and `privacy_md` are the texts of those files (for the lines).
pub fn release_problems(dir: &Path, catalogue: &Catalogue, site_toml: &str, privacy_md: &str) -> Vec<Problem> {
    let site_path = dir.join(SITE_FILE);
    let line = |key: &str| line_of_key(site_toml, key);
    let site = &catalogue.site;
    let mut problems = Vec::new();
    match &site.whitepaper.source {
        WhitepaperSource::File { file_name, bytes, .. } => {
            let marked = PLACEHOLDER_MARKS.iter().any(|mark| {
                file_name.to_uppercase().contains(mark) || bytes.windows(mark.len()).any(|w| w == mark.as_bytes())
            });
            if marked {
                problems.push(Problem::new(
                    &site_path,
                    line("whitepaper_file"),
                    format!(
                        "`whitepaper_file` is the shipped placeholder ({file_name}): every new reader would get it; \
                         put the real whitepaper in the content folder and name it here"
                    ),
                ));
            }
        }
        WhitepaperSource::Url(url) => {
            let host = url.trim_start_matches("https://").split(['/', ':', '?', '#']).next().unwrap_or_default();
            if is_example_domain(host) {
                problems.push(Problem::new(
                    &site_path,
                    line("whitepaper_url"),
                    format!("`whitepaper_url` points at an example domain ({host}): readers would get nothing"),
                ));
            }
        }
    }
    let mut addresses = vec![("contact_email", site.contact_email.as_str())];
    if let Some(summary) = &site.summary {
        addresses.push(("summary_email", summary.to.as_str()));
    }
    for (key, address) in addresses {
        if is_example_domain(domain_of_address(address)) {
            problems.push(Problem::new(
                &site_path,
                line(key),
                format!("`{key}` is an example address ({address}): use a mailbox someone reads"),
            ));
        }
    }
    // The business fields (required by `check`) as shipped: marked, or the KvK number of nobody.
    let business = &site.business;
    for (key, value) in [
        ("business_name", business.name.as_str()),
        ("business_address", business.address.as_str()),
        ("kvk_number", business.kvk_number.as_str()),
    ] {
        let marked = PLACEHOLDER_MARKS.iter().any(|mark| value.to_uppercase().contains(mark));
        if marked || (key == "kvk_number" && value.chars().all(|c| c == '0')) {
            problems.push(Problem::new(
                &site_path,
                line(key),
                format!(
                    "`{key}` is the shipped placeholder ({value}): every page footer and the privacy statement \
                     show it; write your business as the Handelsregister has it"
                ),
            ));
        }
    }
    // The shipped placeholder images (the seed post's header, the cover, the share image):
    // marked in their names, each at the line that names it.
    for image in &catalogue.image_refs {
        if PLACEHOLDER_MARKS.iter().any(|mark| image.source.to_uppercase().contains(mark)) {
            problems.push(Problem::new(
                &image.named_in,
                image.line,
                format!(
                    "the image `{}` is the shipped placeholder: readers and share cards would show it; put your \
                     own image in the content folder and name it here",
                    image.source
                ),
            ));
        }
    }
    let marked_line =
        privacy_md.lines().position(|l| PLACEHOLDER_MARKS.iter().any(|mark| l.contains(mark))).map(|i| i + 1);
    if let Some(at) = marked_line {
        problems.push(Problem::new(
            dir.join(PRIVACY_FILE),
            at,
            "the privacy statement is still marked as a placeholder: write the real one before readers sign up",
        ));
    }
    problems.sort();
    problems
}

/// The line where `key = …` is set in a TOML text (1 when it is not there).
fn line_of_key(toml: &str, key: &str) -> usize {
    toml.lines()
        .position(|l| l.trim_start().strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('=')))
        .map_or(1, |i| i + 1)
}

/// The check of an address given outside the content (AlertEmail, say): `Err` with a plain
/// sentence when it is an example address.
pub fn real_address(what: &str, address: &str) -> Result<(), String> {
    if is_example_domain(domain_of_address(address)) {
        Err(format!("{what} is an example address ({address}): use a mailbox someone reads"))
    } else {
        Ok(())
    }
}
