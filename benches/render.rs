//! Rendering benchmarks: the whole per-post pipeline (Markdown → styled HTML → template
//! (CSS inlined once per process) → text part → MIME bytes), and the per-recipient part alone.
//!
//! Run with `cargo bench --bench render`.

use std::hint::black_box;
use std::path::Path;
use std::time::SystemTime;

use criterion::{Criterion, criterion_group, criterion_main};
use postbode::app::preview::placeholder_recipient;
use postbode::content::Catalogue;
use postbode::content_io::load_catalogue;
use postbode::render::{BaseUrl, EmailSettings, PreparedEmail};

fn settings() -> EmailSettings {
    EmailSettings {
        base_url: BaseUrl::parse("https://postbode.example").unwrap(),
        from: "René Rensen <nieuwsbrief@postbode.example>".parse().unwrap(),
        reply_to: None,
    }
}

fn catalogue(dir: &str) -> Catalogue {
    load_catalogue(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).unwrap()
}

fn bench_post(c: &mut Criterion, name: &str, catalogue: &Catalogue, slug: &str) {
    let post = catalogue.post(slug).unwrap();
    let settings = settings();
    let recipient = placeholder_recipient();
    let date = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_108_400);
    c.bench_function(&format!("{name}: markdown to MIME bytes (whole pipeline)"), |b| {
        b.iter(|| {
            let prepared = PreparedEmail::new(catalogue, black_box(post), &settings).unwrap();
            black_box(prepared.render(&recipient, date).unwrap().mime)
        })
    });
    let prepared = PreparedEmail::new(catalogue, post, &settings).unwrap();
    c.bench_function(&format!("{name}: per recipient (fill in + MIME)"), |b| {
        b.iter(|| black_box(prepared.render(black_box(&recipient), date).unwrap().mime))
    });
}

fn render(c: &mut Criterion) {
    bench_post(c, "seed post", &catalogue("content"), "leiderschap-en-vertrouwen");
    bench_post(c, "1,000-word post", &catalogue("tests/fixtures/long-post"), "feedback-geven-met-vertrouwen");
}

criterion_group!(benches, render);
criterion_main!(benches);
