//! `postbode preflight`, the go-live gate: the shipped placeholders fail line by line, good
//! content passes, and every DNS record SES needs is read from a real DNS server (dnsmasq,
//! `infra/dns-test-zone.conf`), one missing record at a time.

use std::process::Output;

use crate::helpers::{content_copy, repo_path, stdout};

fn preflight(args: &[&str], cwd: &std::path::Path) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_postbode"))
        .arg("preflight")
        .args(args)
        .current_dir(cwd)
        .env_remove("POSTBODE_TABLE")
        .output()
        .expect("postbode runs")
}

/// The 1-based line of the first line of `path` that contains `needle`.
fn line_of(path: &std::path::Path, needle: &str) -> usize {
    std::fs::read_to_string(path).unwrap().lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// Content fit to go live: a real whitepaper, a real contact address, a real business.
fn good_content() -> tempfile::TempDir {
    let dir = content_copy();
    let site = dir.path().join("site.toml");
    let text = std::fs::read_to_string(&site).unwrap();
    let placeholder = text.lines().find(|l| l.starts_with("whitepaper_file")).unwrap().to_owned();
    let text = text
        .replace(&placeholder, "whitepaper_file = \"whitepaper/22-tips.pdf\"")
        .replace("rene@voorbeeld.nl", "rene@rensen.nl")
        .replace("PLAATSAANDUIDING Rensen Leiderschap", "Rensen Leiderschap")
        .replace("PLAATSAANDUIDING Voorbeeldstraat 1, 1234 AB Voorbeeldstad", "Oudegracht 1, 3511 AA Utrecht")
        .replace("kvk_number = \"00000000\"", "kvk_number = \"87654321\"");
    std::fs::write(&site, text).unwrap();
    std::fs::write(dir.path().join("whitepaper/22-tips.pdf"), b"%PDF-1.4\n% the real whitepaper\n%%EOF\n").unwrap();
    // The author's own photo and cover in place of the shipped placeholders.
    for (placeholder, own) in [
        ("beelden/PLAATSAANDUIDING-leiderschap-en-vertrouwen.jpg", "beelden/vertrouwen.jpg"),
        ("whitepaper/PLAATSAANDUIDING-omslag.jpg", "whitepaper/omslag.jpg"),
    ] {
        std::fs::rename(dir.path().join(placeholder), dir.path().join(own)).unwrap();
        let name = |path: &str| path.rsplit('/').next().unwrap().to_owned();
        for file in ["site.toml", "leiderschap/01-leiderschap-en-vertrouwen.md"] {
            let path = dir.path().join(file);
            let text = std::fs::read_to_string(&path).unwrap().replace(&name(placeholder), &name(own));
            std::fs::write(&path, text).unwrap();
        }
    }
    dir
}

#[test]
fn the_shipped_content_fails_naming_each_line() {
    let cwd = tempfile::tempdir().unwrap();
    let content = repo_path("content");
    let out = preflight(&["--content", content.to_str().unwrap()], cwd.path());
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let site = content.join("site.toml");
    for (key, said) in [
        ("whitepaper_file", "shipped placeholder"),
        ("contact_email", "example address"),
        ("business_name", "shipped placeholder"),
        ("business_address", "shipped placeholder"),
        ("kvk_number", "shipped placeholder"),
    ] {
        let at =
            format!("FAIL  content          {}:{}: `{key}` is", site.display(), line_of(&site, &format!("{key} =")));
        assert!(text.contains(&at) && text.contains(said), "{at}\n{text}");
    }
    // The placeholder images, each where it is named.
    let post = content.join("leiderschap/01-leiderschap-en-vertrouwen.md");
    for (file, needle, image) in [
        (&post, "image =", "beelden/PLAATSAANDUIDING-leiderschap-en-vertrouwen.jpg"),
        (&site, "whitepaper_cover =", "whitepaper/PLAATSAANDUIDING-omslag.jpg"),
        (&site, "share_image =", "beelden/PLAATSAANDUIDING-leiderschap-en-vertrouwen.jpg"),
    ] {
        let at = format!(
            "FAIL  content          {}:{}: the image `{image}` is the shipped placeholder",
            file.display(),
            line_of(file, needle)
        );
        assert!(text.contains(&at), "{at}\n{text}");
    }
    assert!(text.contains("FAIL  alert email      no AlertEmail"), "{text}");
    assert!(text.ends_with("checks failed: not ready to go live.\n"), "{text}");
}

#[test]
fn good_content_and_a_real_alert_address_pass() {
    let content = good_content();
    let cwd = tempfile::tempdir().unwrap();
    let dir = content.path().to_str().unwrap();
    let out = preflight(&["--content", dir, "--alert-email", "rene@rensen.nl"], cwd.path());
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(stdout(&out).lines().filter(|l| l.starts_with("PASS")).count(), 2, "{}", stdout(&out));

    // What `sam deploy --guided` saved counts as the AlertEmail; an example address fails.
    let saved = "version = 0.1\n[default.deploy.parameters]\nparameter_overrides = \"SenderName=\\\"René\\\" AlertEmail=\\\"alarm@example.com\\\"\"\n";
    std::fs::write(cwd.path().join("samconfig.toml"), saved).unwrap();
    let out = preflight(&["--content", dir], cwd.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("FAIL  alert email      AlertEmail is an example address (alarm@example.com)"));

    // A summary address on an example domain, and a privacy statement still marked.
    let site = content.path().join("site.toml");
    let text = std::fs::read_to_string(&site).unwrap() + "summary_email = \"rene@voorbeeld.nl\"\n";
    std::fs::write(&site, text).unwrap();
    let privacy = content.path().join("privacy.md");
    std::fs::write(&privacy, std::fs::read_to_string(&privacy).unwrap() + "\nPLAATSAANDUIDING: nog schrijven.\n")
        .unwrap();
    let out = preflight(&["--content", dir, "--alert-email", "rene@rensen.nl"], cwd.path());
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains(&format!("{}:{}: `summary_email`", site.display(), line_of(&site, "summary_email"))),
        "{text}"
    );
    assert!(text.contains(&format!("{}:{}: the privacy statement", privacy.display(), line_of(&privacy, "PLAATS"))));
}

fn dns_server() -> String {
    std::env::var("POSTBODE_TEST_DNS")
        .expect("POSTBODE_TEST_DNS is not set: run the tests with ./infra/test-all, which starts the DNS server")
}

/// The DNS part of the gate against dnsmasq: goed.example has every record; each
/// zonder-X.example lacks exactly X, and exactly that line fails.
#[test]
fn every_record_ses_needs_is_read_from_the_dns_server() {
    let content = good_content();
    let cwd = tempfile::tempdir().unwrap();
    let server = dns_server();
    let run = |domain: &str| {
        let mut args = vec!["--content", content.path().to_str().unwrap(), "--alert-email", "rene@rensen.nl"];
        args.extend(["--domain", domain, "--dns-server", &server, "--region", "eu-west-1"]);
        args.extend(["--dkim-token", "tok1", "--dkim-token", "tok2", "--dkim-token", "tok3"]);
        let out = preflight(&args, cwd.path());
        let failed: Vec<String> = stdout(&out)
            .lines()
            .filter_map(|l| l.strip_prefix("FAIL  "))
            .map(|l| l.split("  ").next().unwrap().trim().to_owned())
            .collect();
        (out, failed)
    };
    let (out, failed) = run("goed.example");
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(failed.is_empty());
    let text = stdout(&out);
    for line in [
        "PASS  dkim 1           tok1._domainkey.goed.example CNAME tok1.dkim.amazonses.com",
        "PASS  mail from mx     mail.goed.example MX 10 feedback-smtp.eu-west-1.amazonses.com",
        "PASS  mail from spf    mail.goed.example TXT \"v=spf1 include:amazonses.com ~all\"",
        "PASS  dmarc            _dmarc.goed.example TXT \"v=DMARC1; p=none;",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    for (domain, missing) in [
        ("zonder-dkim.example", vec!["dkim 1", "dkim 2", "dkim 3"]),
        ("zonder-mx.example", vec!["mail from mx"]),
        ("zonder-spf.example", vec!["mail from spf"]),
        ("zonder-dmarc.example", vec!["dmarc"]),
        ("bestaat-niet.example", vec!["dkim 1", "dkim 2", "dkim 3", "mail from mx", "mail from spf", "dmarc"]),
    ] {
        let (out, failed) = run(domain);
        assert_eq!(out.status.code(), Some(1), "{domain}");
        assert_eq!(failed, missing, "{domain}: {}", stdout(&out));
    }
    // The failing line says what to add.
    let (out, _) = run("zonder-mx.example");
    assert!(stdout(&out).contains("add mail.zonder-mx.example MX 10 feedback-smtp.eu-west-1.amazonses.com"));
}
