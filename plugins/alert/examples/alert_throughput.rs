//! Native throughput of the alert step with the default rules, on events
//! shaped like the reference workload after normalize, redact and
//! fingerprint (service, level, fingerprint, template, two attributes, event
//! time 50 events/s).
//!
//! ```sh
//! cargo run --release -p sluice-plugin-alert --example alert_throughput [events] [config.toml|-] [all-errors]
//! ```
//!
//! Events go through the same batch adapter the host calls (batches of 1024);
//! building the batches is not timed, processing and dropping them is. The
//! same events also go through a second instance's `observe` by reference,
//! which times the rules alone (no adapter, no dropping of events).
//! `all-errors` makes every event an error (the worst case for the default
//! rules, which look closely only at errors).

use std::time::{Duration, Instant};

use sluice_plugin_alert::AlertPlugin;
use sluice_plugin_sdk::testing::Harness;
use sluice_plugin_sdk::{Event, InitContext, Level, Output, Plugin};

const BATCH: usize = 1024;
const SERVICES: [&str; 8] = [
    "auth-service",
    "payment-api",
    "checkout",
    "search",
    "inventory",
    "gateway",
    "mailer",
    "billing-worker",
];
const TEMPLATES: [&str; 14] = [
    "User login failed for user <*> from <*>",
    "User <*> logged in from <*>",
    "GET /api/v1/orders/<*> completed in <*>ms status=<*>",
    "POST /api/v1/payments/<*> failed: card <*> declined by issuer",
    "Connection to <*> timed out after <*>s (attempt <*>/5)",
    "Cache miss for key session:<*> ttl=<*>",
    "Sent password reset mail to <*> (message id <*>)",
    "Worker <*> processed batch <*> with <*> items in <*>s",
    "Rejected request with Authorization: <*> from <*>",
    "SMS verification code sent to <*>",
    "Disk usage on <*> at <*>% (<*>GB free)",
    "NullPointerException in com.example.checkout.CartService.total(<*>)",
    "Retrying upstream inventory call, backoff <*>ms",
    "Shipment <*> status changed from PACKED to SHIPPED",
];
/// 2025-02-01T12:34:56Z.
const START_NS: i64 = 1_738_413_296_000_000_000;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn level(rng: &mut Rng) -> Level {
    // The reference mix: 70 % info, 10 % debug, 12 % warn, 7 % error, 1 % fatal.
    match rng.below(100) {
        0..70 => Level::Info,
        70..80 => Level::Debug,
        80..92 => Level::Warn,
        92..99 => Level::Error,
        _ => Level::Fatal,
    }
}

fn event(i: u64, rng: &mut Rng, all_errors: bool) -> Event {
    let service = SERVICES[rng.below(SERVICES.len() as u64) as usize];
    let t = rng.below(TEMPLATES.len() as u64) as usize;
    let template = TEMPLATES[t];
    let time = START_NS + (i as i64 / 50) * 1_000_000_000;
    let mut e = Event::new(template.replace("<*>", "4711"))
        .with_service(service)
        .with_level(if all_errors { Level::Error } else { level(rng) })
        .with_attr("metadata.user_ip", "[IPV4]")
        .with_attr(
            "metadata.trace_id",
            format!("{:08x}-{:04x}", rng.next() as u32, i & 0xffff),
        );
    e.id = format!(
        "0195{:012x}-7000-8000-{:012x}",
        i,
        rng.next() & 0xffff_ffff_ffff
    );
    e.tenant = "acme".to_owned();
    e.project = Some("123".to_owned());
    e.received_ns = time + 20_000_000;
    e.timestamp_ns = Some(time);
    e.fingerprint = Some(xxhash_like(service, t));
    e.template = Some(template.to_owned());
    e
}

/// A stable fingerprint per (service, template).
fn xxhash_like(service: &str, template: usize) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in service.bytes().chain([template as u8]) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

fn main() {
    let mut args = std::env::args().skip(1);
    let total: u64 = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000_000);
    let config = match args.next().as_deref() {
        Some("-") | None => String::new(),
        Some(path) => std::fs::read_to_string(path).expect("read config"),
    };
    let all_errors = args.next().as_deref() == Some("all-errors");
    let mut harness = Harness::<AlertPlugin>::new(&config).expect("config");
    let mut alone = plugin(&config);
    let mut out = Output::default();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut busy = Duration::ZERO;
    let mut rules_only = Duration::ZERO;
    let mut alerts = 0usize;
    let mut i = 0u64;
    while i < total {
        let n = BATCH.min((total - i) as usize);
        let batch: Vec<Event> = (0..n as u64)
            .map(|k| event(i + k, &mut rng, all_errors))
            .collect();
        i += n as u64;
        let started = Instant::now();
        for event in &batch {
            alone.observe(event, &mut out);
        }
        rules_only += started.elapsed();
        let started = Instant::now();
        let result = harness.process(batch);
        busy += started.elapsed();
        alerts += result.alerts.len();
        if i.is_multiple_of(BATCH as u64 * 256) {
            alerts += harness
                .tick(START_NS + (i as i64 / 50) * 1_000_000_000)
                .len();
        }
    }
    let ns = |d: Duration| d.as_nanos() as f64 / total as f64;
    println!(
        "{total} events ({}), {:.1} h of event time, {alerts} alerts",
        if all_errors {
            "all errors"
        } else {
            "reference level mix"
        },
        total as f64 / 50.0 / 3_600.0,
    );
    println!(
        "process (batch adapter, dropping events): {:.0} events/s, {:.1} ns/event",
        total as f64 / busy.as_secs_f64(),
        ns(busy),
    );
    println!(
        "rules alone (observe by reference):       {:.0} events/s, {:.1} ns/event",
        total as f64 / rules_only.as_secs_f64(),
        ns(rules_only),
    );
}

/// A second instance, driven directly.
fn plugin(config_toml: &str) -> AlertPlugin {
    let table: toml::Table = toml::from_str(config_toml).expect("TOML config");
    let config =
        serde_json::from_value(serde_json::to_value(table).expect("JSON")).expect("config");
    let context = InitContext {
        tenant: "acme".to_owned(),
        pipeline: "bench".to_owned(),
        step: "alert".to_owned(),
    };
    AlertPlugin::new(config, &context).expect("config accepted")
}
