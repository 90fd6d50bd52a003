//! `tailwatch serve` killed with SIGKILL while pushes are in flight: after a restart on the same
//! database every acknowledged push is there, counted once, and the database is intact.
#![cfg(unix)] // SIGKILL / SIGTERM
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use tailwatch_core::{Tokenizer, TokenizerSpec};
use tailwatch_metrics::{Profile, ProfileBuilder, ProfileConfig};

const TOKEN: &str = "crash-test-token-42";
const CLIENTS: usize = 4;
/// Acknowledged pushes to wait for before the kill.
const ACKED_BEFORE_KILL: usize = 300;
const MODELS: [&str; 2] = ["crash-a", "crash-b"];
const VERSIONS: [&str; 2] = ["v1", "v2"];
const COHORTS: [&str; 2] = ["eu", "us"];

/// A running `tailwatch serve`, its base URL, and its stderr (drained by a thread).
struct Server {
    child: Child,
    base: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(db: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tailwatch"))
            .args(["serve", "--db", db.to_str().unwrap(), "--addr", "127.0.0.1:0"])
            .env("TAILWATCH_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tailwatch serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("tailwatch serve: http://") {
                    let addr = rest.split('/').next().unwrap_or_default().to_string();
                    let _ = tx.send(addr);
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("tailwatch serve did not print its address; stderr:\n{}", stderr.lock().unwrap());
            }
        };
        Server { child, base: format!("http://{addr}"), stderr }
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM (graceful), then wait; SIGKILL if it does not stop within 20 s.
    fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "serve exited with {status} after SIGTERM; stderr:\n{}",
                    self.log()
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("serve did not stop within 20 s of SIGTERM; stderr:\n{}", self.log());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // a failed assertion must not leave a server running
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// (status, body), or the transport error.
fn call(agent: &ureq::Agent, request: ureq::http::Request<Vec<u8>>) -> Result<(u16, String), ureq::Error> {
    let mut response = agent.run(request)?;
    let status = response.status().as_u16();
    Ok((status, response.body_mut().read_to_string().unwrap_or_default()))
}

fn get_json(agent: &ureq::Agent, url: &str) -> (u16, serde_json::Value) {
    let (status, body) = call(
        agent,
        ureq::http::Request::get(url)
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Vec::new())
            .unwrap(),
    )
    .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}")))
}

/// One push: where it goes, its documents and key.
#[derive(Clone)]
struct Push {
    key: String,
    model: &'static str,
    version: &'static str,
    cohort: &'static str,
    bytes: Vec<u8>,
    n_docs: u64,
}

fn push_of(client: usize, n: usize) -> Push {
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];
    let n_docs = 1 + (client + n) % 3;
    let spec = TokenizerSpec::words();
    let tokenizer = Tokenizer::from_spec(&spec).unwrap();
    let mut profile = ProfileBuilder::new(&tokenizer, ProfileConfig::new(spec));
    for d in 0..n_docs {
        let len = 3 + (n + d) % 5;
        let doc: Vec<&str> =
            (0..len).map(|w| words[(client * 31 + n * 7 + d * 3 + w * w) % words.len()]).collect();
        profile.observe(&format!("{} {client} {n}", doc.join(" "))).unwrap();
    }
    Push {
        key: format!("crash-c{client}-n{n}"),
        model: MODELS[(client + n) % MODELS.len()],
        version: VERSIONS[(n / 3) % VERSIONS.len()],
        cohort: COHORTS[(client + n / 2) % COHORTS.len()],
        bytes: profile.finish().to_bytes().unwrap(),
        n_docs: n_docs as u64,
    }
}

fn send(agent: &ureq::Agent, base: &str, push: &Push) -> Result<(u16, String), ureq::Error> {
    let url = format!(
        "{base}/api/v1/models/{}/versions/{}/profiles?cohort={}&window=2026-02-01",
        push.model, push.version, push.cohort
    );
    let request = ureq::http::Request::post(url)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/octet-stream")
        .header("idempotency-key", &push.key)
        .body(push.bytes.clone())
        .unwrap();
    call(agent, request)
}

/// What [`check_database`] found.
struct DbState {
    /// Rows of `pushes`.
    rows: i64,
    /// Sum of their documents.
    docs: i64,
    /// Aggregates (versions and windows rows) whose merged profile has been written back.
    written_back: i64,
    /// Idempotency keys of the stored pushes.
    keys: HashSet<String>,
}

/// Open the database read-only and check it: `PRAGMA integrity_check`, and every counter of every
/// aggregate (version and window, per cohort and all cohorts) against the rows of `pushes`.
fn check_database(db: &Path) -> DbState {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let one = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let rows = one("SELECT count(*) FROM pushes");
    let push_docs = one("SELECT coalesce(sum(n_docs), 0) FROM pushes");
    assert_eq!(one("SELECT coalesce(sum(n_docs), 0) FROM versions WHERE cohort = '*'"), push_docs);
    assert_eq!(one("SELECT coalesce(sum(pushes), 0) FROM versions WHERE cohort = '*'"), rows);
    assert_eq!(one("SELECT count(*) FROM pushes WHERE idempotency_key IS NULL"), 0);
    // per version (all cohorts and each cohort), per window: counters = rows of `pushes`
    let mismatches = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
    };
    let versions = mismatches(
        "SELECT v.model || '/' || v.version || '/' || v.cohort || ': ' || v.pushes || ' pushes, ' || v.n_docs || ' docs; table: '
                || count(p.id) || ', ' || coalesce(sum(p.n_docs), 0)
         FROM versions v LEFT JOIN pushes p
           ON p.model = v.model AND p.version = v.version AND (v.cohort = '*' OR p.cohort = v.cohort)
         GROUP BY v.model, v.version, v.cohort
         HAVING v.pushes != count(p.id) OR v.n_docs != coalesce(sum(p.n_docs), 0)",
    );
    assert!(versions.is_empty(), "version counters disagree with the pushes table: {versions:#?}");
    let windows = mismatches(
        "SELECT w.model || '/' || w.version || '/' || w.cohort || '/' || w.window || ': ' || w.pushes || ' pushes, '
                || w.n_docs || ' docs; table: ' || count(p.id) || ', ' || coalesce(sum(p.n_docs), 0)
         FROM windows w LEFT JOIN pushes p
           ON p.model = w.model AND p.version = w.version AND p.window = w.window AND (w.cohort = '*' OR p.cohort = w.cohort)
         GROUP BY w.model, w.version, w.cohort, w.window
         HAVING w.pushes != count(p.id) OR w.n_docs != coalesce(sum(p.n_docs), 0)",
    );
    assert!(windows.is_empty(), "window counters disagree with the pushes table: {windows:#?}");
    let orphans = one(
        "SELECT count(*) FROM (SELECT DISTINCT model, version, cohort FROM pushes) p
         WHERE NOT EXISTS (SELECT 1 FROM versions v WHERE v.model = p.model AND v.version = p.version AND v.cohort = p.cohort)",
    );
    assert_eq!(orphans, 0, "pushes whose version/cohort aggregate is missing");
    // informative only (-1 when the schema has no `merged_through`)
    let written_back = conn
        .query_row(
            "SELECT (SELECT count(*) FROM versions WHERE merged_through > 0)
                  + (SELECT count(*) FROM windows WHERE merged_through > 0)",
            [],
            |r| r.get(0),
        )
        .unwrap_or(-1);
    let mut stmt = conn.prepare("SELECT idempotency_key FROM pushes").unwrap();
    let keys: HashSet<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    DbState { rows, docs: push_docs, written_back, keys }
}

/// What the clients saw.
#[derive(Default)]
struct Seen {
    /// Keys answered 2xx, with their docs.
    acked: HashMap<String, u64>,
    /// Every key sent (acknowledged or not).
    attempted: HashSet<String>,
    /// Requests that got no answer (cut by the kill).
    cut: usize,
    /// Unexpected answers (non-2xx).
    refused: Vec<String>,
}

#[test]
fn a_killed_server_keeps_every_acknowledged_push_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("watch.db");
    let server = Server::start(&db);
    let base = server.base.clone();

    let seen = Arc::new(Mutex::new(Seen::default()));
    let killed = Arc::new(AtomicBool::new(false));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (seen, killed, in_flight, base) =
                (seen.clone(), killed.clone(), in_flight.clone(), base.clone());
            std::thread::spawn(move || {
                let agent = agent();
                for n in 0.. {
                    if killed.load(Ordering::SeqCst) {
                        break;
                    }
                    let push = push_of(c, n);
                    seen.lock().unwrap().attempted.insert(push.key.clone());
                    in_flight.fetch_add(1, Ordering::SeqCst);
                    let result = send(&agent, &base, &push);
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    let mut seen = seen.lock().unwrap();
                    match result {
                        Ok((status, _)) if (200..300).contains(&status) => {
                            seen.acked.insert(push.key, push.n_docs);
                        }
                        Ok((status, body)) => {
                            seen.refused.push(format!("{}: HTTP {status} {body}", push.key))
                        }
                        Err(e) => {
                            seen.cut += 1;
                            if !killed.load(Ordering::SeqCst) {
                                seen.refused.push(format!("{}: no answer before the kill: {e}", push.key));
                            }
                            break;
                        }
                    }
                }
            })
        })
        .collect();

    // a reader asks for the versions and their merged profiles meanwhile: the server merges the
    // pushes into its aggregates when they are read and writes them back now and then, so the
    // kill can also land between (or during) those write-backs
    let reader = {
        let (killed, base, seen) = (killed.clone(), base.clone(), seen.clone());
        std::thread::spawn(move || {
            let agent = agent();
            let mut reads = 0usize;
            'poll: while !killed.load(Ordering::SeqCst) {
                for model in MODELS {
                    let url = format!("{base}/api/v1/models/{model}/versions");
                    let request = ureq::http::Request::get(&url)
                        .header("authorization", format!("Bearer {TOKEN}"))
                        .body(Vec::new())
                        .unwrap();
                    let (status, body) = match call(&agent, request) {
                        Ok(answer) => answer,
                        Err(_) if killed.load(Ordering::SeqCst) => break 'poll,
                        Err(e) => panic!("GET {url}: {e}"),
                    };
                    reads += 1;
                    if status == 404 {
                        continue; // nothing pushed to this model yet
                    }
                    if status != 200 {
                        seen.lock().unwrap().refused.push(format!("GET {url}: HTTP {status} {body}"));
                        continue;
                    }
                    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
                    for v in j["versions"].as_array().unwrap() {
                        for cohort in std::iter::once("*").chain(COHORTS) {
                            let url = format!(
                                "{base}/api/v1/models/{model}/versions/{}/profile?cohort={}",
                                v["version"].as_str().unwrap(),
                                cohort.replace('*', "%2A")
                            );
                            let request = ureq::http::Request::get(&url)
                                .header("authorization", format!("Bearer {TOKEN}"))
                                .body(Vec::new())
                                .unwrap();
                            match agent.run(request) {
                                Ok(r) if r.status().as_u16() == 200 || r.status().as_u16() == 404 => {
                                    reads += 1
                                }
                                Ok(r) => seen
                                    .lock()
                                    .unwrap()
                                    .refused
                                    .push(format!("GET {url}: HTTP {}", r.status())),
                                Err(_) if killed.load(Ordering::SeqCst) => break 'poll,
                                Err(e) => panic!("GET {url}: {e}"),
                            }
                        }
                    }
                }
            }
            reads
        })
    };

    // wait for enough acknowledged pushes, then SIGKILL while a push is in flight
    let start = Instant::now();
    let mut server = server;
    loop {
        let acked = seen.lock().unwrap().acked.len();
        if acked >= ACKED_BEFORE_KILL && in_flight.load(Ordering::SeqCst) > 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "only {acked} pushes acknowledged in 240 s; stderr:\n{}",
            server.log()
        );
        assert!(server.child.try_wait().unwrap().is_none(), "serve exited early; stderr:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(1));
    }
    killed.store(true, Ordering::SeqCst);
    server.child.kill().unwrap(); // SIGKILL
    let status = server.child.wait().unwrap();
    assert!(!status.success(), "serve was killed, yet exited with {status}");
    for client in clients {
        client.join().expect("a client thread panicked");
    }
    let reads = reader.join().expect("the reader panicked");
    // the database as the kill left it (before a server opens it again) is already consistent
    let at_kill = check_database(&db);
    assert!(at_kill.rows as usize >= ACKED_BEFORE_KILL);
    drop(server);
    let seen = Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap();
    assert!(seen.refused.is_empty(), "unexpected answers before the kill: {:#?}", seen.refused);
    assert!(seen.acked.len() >= ACKED_BEFORE_KILL);

    // restart on the same database
    let server = Server::start(&db);
    let agent = agent();
    let (status, health) = get_json(&agent, &format!("{}/api/v1/health", server.base));
    assert_eq!(status, 200, "{health}");
    let totals = health["totals"].clone();

    // every acknowledged push is there, with its documents
    for (key, n_docs) in &seen.acked {
        let (status, record) = get_json(&agent, &format!("{}/api/v1/pushes/{key}", server.base));
        assert_eq!(status, 200, "acknowledged push {key} is missing after the restart: {record}");
        assert_eq!(record["n_docs"], *n_docs, "{key}: {record}");
    }
    // the restarted server takes pushes, and knows the old keys
    let again = push_of(0, 0);
    let (status, body) = send(&agent, &server.base, &again).unwrap();
    assert_eq!(status, 200, "re-sending an acknowledged key after the restart: {body}");
    assert!(body.contains("\"duplicate\":true"), "{body}");
    let fresh = Push { key: "crash-after-restart".into(), ..push_of(99, 0) };
    let (status, body) = send(&agent, &server.base, &fresh).unwrap();
    assert_eq!(status, 201, "a push after the restart: {body}");
    let (_, after) = get_json(&agent, &format!("{}/api/v1/health", server.base));
    assert_eq!(after["totals"]["pushes"], totals["pushes"].as_u64().unwrap() + 1, "{after}");
    assert_eq!(after["totals"]["docs"], totals["docs"].as_u64().unwrap() + fresh.n_docs, "{after}");
    // the API's per-version counters, while it runs
    let mut api_versions = BTreeMap::new();
    for model in MODELS {
        let (status, j) = get_json(&agent, &format!("{}/api/v1/models/{model}/versions", server.base));
        assert_eq!(status, 200, "{j}");
        for v in j["versions"].as_array().unwrap() {
            let name = v["version"].as_str().unwrap().to_string();
            api_versions.insert(
                (model.to_string(), name),
                (v["n_docs"].as_i64().unwrap(), v["pushes"].as_i64().unwrap()),
            );
        }
    }
    // the merged profiles (aggregates merged lazily, partly written back before the kill) hold
    // exactly the counted documents, per version and per cohort
    for ((model, version), (n_docs, _)) in &api_versions {
        let (_, detail) =
            get_json(&agent, &format!("{}/api/v1/models/{model}/versions/{version}", server.base));
        let mut expected = vec![("*".to_string(), *n_docs)];
        for c in detail["cohorts"].as_array().unwrap() {
            expected.push((c["cohort"].as_str().unwrap().to_string(), c["n_docs"].as_i64().unwrap()));
        }
        for (cohort, n_docs) in expected {
            let url = format!(
                "{}/api/v1/models/{model}/versions/{version}/profile?cohort={}",
                server.base,
                cohort.replace('*', "%2A")
            );
            let mut response = agent
                .run(
                    ureq::http::Request::get(&url)
                        .header("authorization", format!("Bearer {TOKEN}"))
                        .body(Vec::new())
                        .unwrap(),
                )
                .unwrap();
            assert_eq!(response.status().as_u16(), 200, "{url}");
            let bytes = response.body_mut().with_config().limit(1 << 30).read_to_vec().unwrap();
            let profile = Profile::from_bytes(&bytes, Path::new(&url)).unwrap();
            assert_eq!(profile.n_docs() as i64, n_docs, "{url}: documents in the merged profile");
        }
    }
    server.stop();

    // the database, read directly: intact, and every counter agrees with the pushes table
    let state = check_database(&db);
    let (rows, push_docs) = (state.rows, state.docs);
    assert_eq!(rows as u64, after["totals"]["pushes"].as_u64().unwrap());
    assert_eq!(
        push_docs as u64,
        after["totals"]["docs"].as_u64().unwrap(),
        "sum of pushes.n_docs vs totals.docs"
    );
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    // the API said the same as the table
    for ((model, version), (n_docs, pushes)) in &api_versions {
        let (rows, docs): (i64, i64) = conn
            .query_row(
                "SELECT count(*), coalesce(sum(n_docs), 0) FROM pushes WHERE model = ?1 AND version = ?2",
                [model, version],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((*pushes, *n_docs), (rows, docs), "{model}/{version}: API vs pushes table");
    }
    // every stored key was sent by a client; every acknowledged key is stored
    let stored = state.keys;
    for key in &stored {
        assert!(seen.attempted.contains(key) || key == "crash-after-restart", "a push nobody sent: {key}");
    }
    for key in seen.acked.keys() {
        assert!(stored.contains(key), "acknowledged {key} is not in the table");
    }
    let unacked_stored = stored.len() - seen.acked.len() - 1;
    assert!(
        unacked_stored <= seen.cut,
        "{unacked_stored} stored pushes were never answered, only {} were cut",
        seen.cut
    );
    eprintln!(
        "watch_crash: {} acknowledged before the kill, {} cut by it ({unacked_stored} of them stored anyway), {reads} \
         reads, {} aggregates written back at the kill; {rows} pushes, {push_docs} docs after the restart",
        seen.acked.len(),
        seen.cut,
        at_kill.written_back
    );
}
