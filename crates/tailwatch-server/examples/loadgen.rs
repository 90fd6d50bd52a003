//! Load generator for a running `tailwatch serve`, for bench/serve_load.sh:
//! `loadgen URL CLIENTS PUSHES_PER_CLIENT DOCS_PER_PUSH` (token from TAILWATCH_TOKEN).
//!
//! Each client thread holds one keep-alive connection and sends its pushes one after another
//! (`POST /api/v1/models/{m}/versions/{v}/profiles`, a `.twp` body, a unique idempotency key),
//! spread over 4 models × 2 versions × 3 cohorts, one window. The profiles are built before the
//! clock starts (words tokenizer, the CLI's defaults): DOCS_PER_PUSH documents of 12-40 words
//! drawn from a 5,000-word vocabulary with a Zipf-like skew, from a fixed seed, so every run
//! sends the same bytes. A push's latency runs from sending the request to reading the whole
//! answer. Prints p50/p90/p99/max latency, throughput (pushes/s), the median latency of the
//! first and last tenth of the pushes (aggregates grow as pushes arrive), checks via
//! `/api/v1/health` that the server's totals grew by exactly the pushes and documents sent, and
//! times reading every model's versions (with their metrics) twice after the load. The last line
//! is the same as one JSON object. Exit status 1 when a push or a read failed or the totals
//! disagree.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use tailwatch_core::{Tokenizer, TokenizerSpec};
use tailwatch_metrics::{ProfileBuilder, ProfileConfig};
use tailwatch_server::client::{Client, ClientError};
use tailwatch_server::db::Totals;
use tailwatch_server::types::PushKey;

const MODELS: usize = 4;
const VERSIONS: usize = 2;
const COHORTS: [&str; 3] = ["eu", "us", "apac"];
const VOCAB: usize = 5000;
const WINDOW: &str = "2026-03-01";

/// splitmix64: a small deterministic generator, so runs send identical profiles.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Pseudo-words: "ka", "lomi", ... (deterministic, pronounceable, distinct).
fn vocabulary() -> Vec<String> {
    let (consonants, vowels) = (b"bdfgklmnprstvz", b"aeiou");
    let mut words = Vec::with_capacity(VOCAB);
    let mut i = 0usize;
    while words.len() < VOCAB {
        let mut w = String::new();
        let mut x = i;
        loop {
            w.push(consonants[x % consonants.len()] as char);
            x /= consonants.len();
            w.push(vowels[x % vowels.len()] as char);
            x /= vowels.len();
            if x == 0 {
                break;
            }
        }
        words.push(w);
        i += 1;
    }
    words
}

struct Push {
    target: PushKey,
    key: String,
    body: Vec<u8>,
    n_docs: u64,
}

fn build_push(run: &str, client: usize, i: usize, docs: usize, vocab: &[String]) -> Push {
    let mut rng = Rng(((client as u64) << 32) ^ i as u64 ^ 0x7461_696C);
    let spec = TokenizerSpec::words();
    let tokenizer = Tokenizer::from_spec(&spec).expect("words tokenizer");
    let mut profile = ProfileBuilder::new(&tokenizer, ProfileConfig::new(spec));
    let mut text = String::new();
    for _ in 0..docs {
        text.clear();
        let len = 12 + rng.below(29);
        for w in 0..len {
            // skewed towards frequent words: rank = VOCAB^u - 1 (log-uniform, Zipf-like)
            let rank = ((VOCAB as f64).powf(rng.unit()) as usize).saturating_sub(1).min(VOCAB - 1);
            if w > 0 {
                text.push(' ');
            }
            text.push_str(&vocab[rank]);
        }
        profile.observe(&text).expect("observe");
    }
    let g = client * 7919 + i;
    let target = PushKey {
        model: format!("loadgen-m{}", g % MODELS),
        version: format!("v{}", (g / MODELS) % VERSIONS),
        cohort: COHORTS[(g / (MODELS * VERSIONS)) % COHORTS.len()].to_string(),
        window: WINDOW.to_string(),
    };
    Push {
        target,
        key: format!("loadgen-{run}-c{client}-p{i}"),
        body: profile.finish().to_bytes().expect("encode profile"),
        n_docs: docs as u64,
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into()
}

fn client(base: &str, token: Option<&str>) -> Client {
    Client::new(base, token.map(str::to_string), Duration::from_secs(600))
}

fn totals(base: &str) -> Result<Totals, String> {
    client(base, None).health().map(|h| h.totals).map_err(|e| format!("GET /api/v1/health: {e}"))
}

/// The q-quantile (nearest rank) of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// What one client saw: (completion offset in s, latency in s, status), docs accepted.
type ClientLog = (Vec<(f64, f64, u16)>, u64, Vec<String>);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: loadgen URL CLIENTS PUSHES_PER_CLIENT DOCS_PER_PUSH   (token in TAILWATCH_TOKEN)");
        return ExitCode::from(2);
    }
    let base = args[1].trim_end_matches('/').to_string();
    let parse = |s: &str, what: &str| -> usize {
        s.parse()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| panic!("{what} must be a positive number, found `{s}`"))
    };
    let (clients, pushes, docs) =
        (parse(&args[2], "CLIENTS"), parse(&args[3], "PUSHES_PER_CLIENT"), parse(&args[4], "DOCS_PER_PUSH"));
    let Some(token) = std::env::var("TAILWATCH_TOKEN").ok().filter(|t| !t.trim().is_empty()) else {
        eprintln!("loadgen: set TAILWATCH_TOKEN to the server's token");
        return ExitCode::from(2);
    };
    let run = format!(
        "{:x}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    );
    let vocab = vocabulary();
    let before = match totals(&base) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return ExitCode::from(2);
        }
    };

    // every client builds its profiles, then all start together
    let prepared = Instant::now();
    let barrier = Barrier::new(clients + 1);
    let mut start = Instant::now();
    let mut body_bytes = 0usize;
    let logs: Vec<ClientLog> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let (base, run, vocab, barrier, token) = (&base, &run, &vocab, &barrier, &token);
                scope.spawn(move || {
                    let plan: Vec<Push> = (0..pushes).map(|i| build_push(run, c, i, docs, vocab)).collect();
                    let bytes: usize = plan.iter().map(|p| p.body.len()).sum();
                    let client = client(base, Some(token));
                    barrier.wait();
                    let t0 = Instant::now();
                    let mut log = Vec::with_capacity(pushes);
                    let mut accepted_docs = 0;
                    let mut errors = Vec::new();
                    for push in &plan {
                        let sent = Instant::now();
                        let result = client.push_profile(&push.target, &push.body, &push.key);
                        let done = Instant::now();
                        let status = match result {
                            Ok(outcome) if !outcome.duplicate => {
                                accepted_docs += push.n_docs;
                                201
                            }
                            failed => {
                                if errors.len() < 5 {
                                    let why = failed
                                        .as_ref()
                                        .map_or_else(ToString::to_string, |_| "a duplicate".into());
                                    errors.push(format!("{}: {why}", push.key));
                                }
                                match failed {
                                    Ok(_) => 200,
                                    Err(
                                        ClientError::Refused { status, .. }
                                        | ClientError::Unexpected { status, .. },
                                    ) => status,
                                    Err(_) => 0,
                                }
                            }
                        };
                        log.push((
                            done.duration_since(t0).as_secs_f64(),
                            (done - sent).as_secs_f64(),
                            status,
                        ));
                    }
                    (log, accepted_docs, errors, bytes)
                })
            })
            .collect();
        barrier.wait();
        start = Instant::now();
        handles
            .into_iter()
            .map(|h| {
                let (log, accepted, errors, bytes) = h.join().expect("a client thread panicked");
                body_bytes += bytes;
                (log, accepted, errors)
            })
            .collect()
    });
    let wall = start.elapsed().as_secs_f64();
    let build_s = (start - prepared).as_secs_f64();

    let mut all: Vec<(f64, f64, u16)> = logs.iter().flat_map(|l| l.0.iter().copied()).collect();
    let ok = all.iter().filter(|r| r.2 == 201).count();
    let failed = all.len() - ok;
    let docs_sent: u64 = logs.iter().map(|l| l.1).sum();
    for e in logs.iter().flat_map(|l| l.2.iter()).take(5) {
        eprintln!("loadgen: failed push: {e}");
    }
    let mut latencies: Vec<f64> = all.iter().map(|r| r.1 * 1e3).collect();
    latencies.sort_by(f64::total_cmp);
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let tenth = (all.len() / 10).max(1);
    let median_of = |rows: &[(f64, f64, u16)]| {
        let mut v: Vec<f64> = rows.iter().map(|r| r.1 * 1e3).collect();
        v.sort_by(f64::total_cmp);
        quantile(&v, 0.5)
    };
    let (first, last) = (median_of(&all[..tenth]), median_of(&all[all.len() - tenth..]));

    let after = match totals(&base) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return ExitCode::from(1);
        }
    };
    let (pushes_delta, docs_delta) =
        (after.pushes as i64 - before.pushes as i64, after.docs as i64 - before.docs as i64);
    let counts_ok = pushes_delta == ok as i64 && docs_delta == docs_sent as i64 && failed == 0;
    // reads after the load: the versions of every model with their metrics, twice (the first
    // read may have to bring the aggregates up to date and score them; the second is cached)
    let read_pass = || -> Result<f64, String> {
        let agent = agent();
        let t = Instant::now();
        for m in 0..MODELS {
            let url = format!("{base}/api/v1/models/loadgen-m{m}/versions");
            let mut response = agent.get(&url).call().map_err(|e| format!("GET {url}: {e}"))?;
            let status = response.status().as_u16();
            let _ = response.body_mut().with_config().limit(1 << 30).read_to_vec();
            if status != 200 {
                return Err(format!("GET {url}: HTTP {status}"));
            }
        }
        Ok(t.elapsed().as_secs_f64() * 1e3)
    };
    let (first_read, second_read) = match (read_pass(), read_pass()) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("loadgen: {e}");
            return ExitCode::from(1);
        }
    };

    let total = clients * pushes;
    println!(
        "{clients} clients x {pushes} pushes = {total} pushes of {docs} docs ({:.1} KiB per push on average; built in {build_s:.1} s)",
        body_bytes as f64 / total as f64 / 1024.0
    );
    println!(
        "latency ms: p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}   (median of the first tenth {first:.1}, last tenth {last:.1})",
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.9),
        quantile(&latencies, 0.99),
        quantile(&latencies, 1.0)
    );
    println!(
        "throughput: {:.1} pushes/s, {:.0} docs/s over {wall:.2} s; {ok} stored, {failed} failed",
        total as f64 / wall,
        docs_sent as f64 / wall
    );
    println!(
        "server totals grew by {pushes_delta} pushes and {docs_delta} docs (sent {ok} and {docs_sent}): {}",
        if counts_ok { "consistent" } else { "MISMATCH" }
    );
    println!(
        "reading the {MODELS} models' versions after the load: {first_read:.1} ms, again {second_read:.1} ms"
    );
    let summary = serde_json::json!({
        "clients": clients, "pushes_per_client": pushes, "docs_per_push": docs, "pushes": total,
        "stored": ok, "failed": failed, "docs_sent": docs_sent, "body_bytes": body_bytes,
        "wall_s": wall, "throughput_pushes_s": total as f64 / wall,
        "p50_ms": quantile(&latencies, 0.5), "p90_ms": quantile(&latencies, 0.9),
        "p99_ms": quantile(&latencies, 0.99), "max_ms": quantile(&latencies, 1.0),
        "first_tenth_p50_ms": first, "last_tenth_p50_ms": last,
        "totals_pushes_delta": pushes_delta, "totals_docs_delta": docs_delta, "consistent": counts_ok,
        "first_read_ms": first_read, "second_read_ms": second_read,
    });
    println!("{summary}");
    if counts_ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
