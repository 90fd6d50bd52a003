//! Load test: 20 concurrent clients × 200 pushes each against an in-process server, with
//! idempotent re-sends (some racing the original send from another client). Checks by counts that
//! no profile is lost or counted twice and that no request failed with a 5xx.
#![allow(clippy::print_stderr)]
mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;
use tailwatch_metrics::Profile;

const CLIENTS: usize = 20;
const PUSHES: usize = 200;
const MODELS: [&str; 3] = ["load-alpha", "load-beta", "load-gamma"];
const VERSIONS: [&str; 2] = ["v1", "v2"];
const COHORTS: [&str; 3] = ["eu", "us", "apac"];
const WINDOWS: [&str; 2] = ["2026-01-01", "2026-01-02"];

/// One planned push: where it goes, its documents, its idempotency key. Any client can rebuild
/// any other client's push from (client, index), which is what lets them race on the same key.
struct Plan {
    key: String,
    model: &'static str,
    version: &'static str,
    cohort: &'static str,
    window: &'static str,
    docs: Vec<String>,
}

impl Plan {
    fn of(client: usize, i: usize) -> Plan {
        let g = client * PUSHES + i;
        // 1-4 documents of 8-17 words, varying deterministically (every push re-merges four
        // aggregates under the store's lock, at a cost that grows with them: keep them small)
        let docs = diverse_docs(1 + (client * 7 + i * 3) % 4, g as u64 + 1);
        Plan {
            key: format!("load-c{client:02}-p{i:03}"),
            model: MODELS[(client + i) % MODELS.len()],
            version: VERSIONS[(i / 2) % VERSIONS.len()],
            cohort: COHORTS[(client + i / 3) % COHORTS.len()],
            window: WINDOWS[(i / 50) % WINDOWS.len()],
            docs,
        }
    }

    fn query(&self) -> String {
        format!("?cohort={}&window={}", self.cohort, self.window)
    }
}

/// What one request got back.
struct Answer {
    key: String,
    status: u16,
    duplicate: Option<bool>,
    push_id: Option<i64>,
    n_docs: Option<u64>,
    body: String,
    /// The owner's first send of its own push (not a re-send, not the neighbour's).
    first: bool,
}

fn request(agent: &ureq::Agent, request: ureq::http::Request<Vec<u8>>) -> Reply {
    let mut response = agent.run(request).expect("the server did not answer");
    Reply {
        status: response.status().as_u16(),
        body: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

fn get(agent: &ureq::Agent, server: &TestServer, path: &str) -> Reply {
    let uri = format!("{}{path}", server.base);
    request(agent, ureq::http::Request::get(uri).body(Vec::new()).unwrap())
}

/// A `.twp` profile from the server, decoded.
fn profile_of(agent: &ureq::Agent, server: &TestServer, path: &str) -> Profile {
    let uri = format!("{}{path}", server.base);
    let mut response = agent.run(ureq::http::Request::get(uri).body(Vec::new()).unwrap()).expect("no answer");
    assert_eq!(response.status().as_u16(), 200, "{path}");
    let bytes = response.body_mut().with_config().limit(1 << 30).read_to_vec().expect("profile body");
    Profile::from_bytes(&bytes, std::path::Path::new(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn send(agent: &ureq::Agent, server: &TestServer, plan: &Plan) -> Answer {
    let uri = format!(
        "{}/api/v1/models/{}/versions/{}/profiles{}",
        server.base,
        plan.model,
        plan.version,
        plan.query()
    );
    let post = ureq::http::Request::post(uri)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/octet-stream")
        .header("idempotency-key", &plan.key)
        .body(profile_bytes(&plan.docs))
        .unwrap();
    let reply = request(agent, post);
    let json: Option<serde_json::Value> = serde_json::from_str(&reply.body).ok();
    let field = |name: &str| json.as_ref().map(|j| j[name].clone());
    Answer {
        key: plan.key.clone(),
        status: reply.status,
        duplicate: field("duplicate").and_then(|v| v.as_bool()),
        push_id: field("push_id").and_then(|v| v.as_i64()),
        n_docs: field("n_docs").and_then(|v| v.as_u64()),
        body: reply.body,
        first: false,
    }
}

#[test]
fn concurrent_pushes_lose_nothing_and_count_nothing_twice() {
    let started = Instant::now();
    let server = start();
    let plans: Vec<Vec<Plan>> = (0..CLIENTS).map(|c| (0..PUSHES).map(|i| Plan::of(c, i)).collect()).collect();
    let barrier = Barrier::new(CLIENTS);
    // Every client sends its own pushes in order; after every 10th it re-sends that push (must be
    // a duplicate) and sends its neighbour's next push, which races the neighbour's own send.
    // Meanwhile a reader polls the versions and their merged profiles (which merges the pushes
    // into the aggregates while pushes arrive); the counters it sees never go down.
    let pushing = AtomicBool::new(true);
    let mut reads = 0usize;
    let answers: Vec<Answer> = std::thread::scope(|scope| {
        let reader = {
            let (server, pushing, reads) = (&server, &pushing, &mut reads);
            scope.spawn(move || {
                let agent = agent();
                let mut last: HashMap<String, (u64, u64)> = HashMap::new();
                while pushing.load(Ordering::SeqCst) {
                    for model in MODELS {
                        let reply = get(&agent, server, &format!("/api/v1/models/{model}/versions"));
                        *reads += 1;
                        if reply.status == 404 {
                            continue; // nothing pushed to this model yet
                        }
                        assert_eq!(reply.status, 200, "{}", reply.body);
                        for v in reply.json()["versions"].as_array().unwrap() {
                            let name = format!("{model}/{}", v["version"].as_str().unwrap());
                            let now = (v["n_docs"].as_u64().unwrap(), v["pushes"].as_u64().unwrap());
                            let before = last.insert(name.clone(), now).unwrap_or_default();
                            assert!(
                                now.0 >= before.0 && now.1 >= before.1,
                                "{name} went from {before:?} to {now:?}"
                            );
                            let path = format!(
                                "/api/v1/models/{model}/versions/{}/profile",
                                v["version"].as_str().unwrap()
                            );
                            let profile = get(&agent, server, &path);
                            *reads += 1;
                            assert_eq!(profile.status, 200, "{name}: {}", profile.body);
                        }
                    }
                }
            })
        };
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (server, plans, barrier) = (&server, &plans, &barrier);
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(PUSHES + PUSHES / 5);
                    let agent = agent();
                    barrier.wait();
                    for i in 0..PUSHES {
                        let plan = &plans[c][i];
                        out.push(Answer { first: true, ..send(&agent, server, plan) });
                        if i % 10 == 0 {
                            let again = send(&agent, server, plan);
                            assert_eq!(again.status, 200, "re-send of {}: {}", plan.key, again.body);
                            assert_eq!(
                                again.duplicate,
                                Some(true),
                                "re-send of {}: {}",
                                plan.key,
                                again.body
                            );
                            out.push(again);
                            if i + 1 < PUSHES {
                                out.push(send(&agent, server, &plans[(c + 1) % CLIENTS][i + 1]));
                            }
                        }
                    }
                    out
                })
            })
            .collect();
        let answers = handles.into_iter().flat_map(|h| h.join().expect("a client thread failed")).collect();
        pushing.store(false, Ordering::SeqCst);
        reader.join().expect("the reader failed");
        answers
    });
    let pushed_in = started.elapsed();

    // every request: no 5xx, only 201 (stored) or 200 (duplicate)
    let failed: Vec<_> = answers.iter().filter(|a| a.status >= 500).collect();
    assert!(
        failed.is_empty(),
        "{} requests got a 5xx, first: {} {}",
        failed.len(),
        failed[0].status,
        failed[0].body
    );
    for a in &answers {
        assert!(a.status == 201 || a.status == 200, "{}: HTTP {} {}", a.key, a.status, a.body);
        assert_eq!(a.duplicate, Some(a.status == 200), "{}: {}", a.key, a.body);
    }

    // per key: exactly one request stored it; every other one was a duplicate of that push
    let mut by_key: HashMap<&str, Vec<&Answer>> = HashMap::new();
    for a in &answers {
        by_key.entry(a.key.as_str()).or_default().push(a);
    }
    assert_eq!(by_key.len(), CLIENTS * PUSHES, "distinct keys sent");
    for (key, list) in &by_key {
        let stored: Vec<_> = list.iter().filter(|a| a.status == 201).collect();
        assert_eq!(stored.len(), 1, "key {key} was stored {} times", stored.len());
        let id = stored[0].push_id.expect("push_id");
        for a in list {
            assert_eq!(a.push_id, Some(id), "key {key}: a duplicate names another push: {}", a.body);
        }
    }
    let created = answers.iter().filter(|a| a.status == 201).count();
    assert_eq!(created, CLIENTS * PUSHES);
    let duplicates = answers.len() - created;
    // per client: a re-send at every 10th push, and a racing send of the neighbour's next push
    let resends =
        CLIENTS * (0..PUSHES).filter(|i| i % 10 == 0).map(|i| 1 + usize::from(i + 1 < PUSHES)).sum::<usize>();
    // keys the racing neighbour stored before their owner's own first send arrived
    let raced = answers.iter().filter(|a| a.first && a.status == 200).count();
    assert_eq!(duplicates, resends, "every re-send and only re-sends came back as duplicates");

    // what was sent, once per key
    let mut docs_sent = 0u64;
    let mut per_version: BTreeMap<(&str, &str), (u64, u64)> = BTreeMap::new(); // (n_docs, pushes)
    let mut per_cohort: BTreeMap<(&str, &str, &str), (u64, u64)> = BTreeMap::new();
    // (model, version, cohort or "*", window)
    let mut per_window: BTreeMap<(&str, &str, &str, &str), (u64, u64)> = BTreeMap::new();
    for plan in plans.iter().flatten() {
        let n = plan.docs.len() as u64;
        docs_sent += n;
        let v = per_version.entry((plan.model, plan.version)).or_default();
        v.0 += n;
        v.1 += 1;
        let c = per_cohort.entry((plan.model, plan.version, plan.cohort)).or_default();
        c.0 += n;
        c.1 += 1;
        for cohort in [plan.cohort, "*"] {
            let w = per_window.entry((plan.model, plan.version, cohort, plan.window)).or_default();
            w.0 += n;
            w.1 += 1;
        }
    }
    for a in &answers {
        let (c, i) = parse_key(&a.key);
        assert_eq!(a.n_docs, Some(plans[c][i].docs.len() as u64), "{}: {}", a.key, a.body);
    }

    // the server's totals
    let health = server.get("/api/v1/health");
    assert_eq!(health.status, 200, "{}", health.body);
    let totals = &health.json()["totals"];
    assert_eq!(totals["pushes"], (CLIENTS * PUSHES) as u64, "{totals}");
    assert_eq!(totals["docs"], docs_sent, "{totals}");
    assert_eq!(totals["models"], MODELS.len() as u64, "{totals}");

    // each version's counters, and each cohort's
    for model in MODELS {
        let reply = server.get(&format!("/api/v1/models/{model}/versions"));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let versions = reply.json()["versions"].as_array().cloned().unwrap();
        let expected: Vec<_> = per_version.iter().filter(|((m, _), _)| *m == model).collect();
        assert_eq!(versions.len(), expected.len(), "{model}: {}", reply.body);
        for ((_, version), (n_docs, pushes)) in expected {
            let got = versions.iter().find(|v| v["version"] == *version).unwrap_or_else(|| {
                panic!("{model}/{version} missing: {}", reply.body);
            });
            assert_eq!(got["n_docs"], *n_docs, "{model}/{version} n_docs");
            assert_eq!(got["pushes"], *pushes, "{model}/{version} pushes");
            let detail = server.get(&format!("/api/v1/models/{model}/versions/{version}")).json();
            for cohort in COHORTS {
                let (n_docs, pushes) =
                    per_cohort.get(&(model, *version, cohort)).copied().unwrap_or_default();
                let got = detail["cohorts"].as_array().unwrap().iter().find(|c| c["cohort"] == cohort);
                match got {
                    Some(got) => {
                        assert_eq!(got["n_docs"], n_docs, "{model}/{version}/{cohort} n_docs");
                        assert_eq!(got["pushes"], pushes, "{model}/{version}/{cohort} pushes");
                    }
                    None => assert_eq!(pushes, 0, "{model}/{version}/{cohort} missing"),
                }
            }
            // the merged profiles (the aggregates, merged lazily) hold exactly the counted documents
            for cohort in std::iter::once("*").chain(COHORTS) {
                let (n_docs, _) = if cohort == "*" {
                    (*n_docs, *pushes)
                } else {
                    per_cohort.get(&(model, *version, cohort)).copied().unwrap_or_default()
                };
                if n_docs == 0 {
                    continue;
                }
                let path = format!("/api/v1/models/{model}/versions/{version}/profile?cohort={cohort}");
                let merged = profile_of(&agent(), &server, &path);
                assert_eq!(merged.n_docs(), n_docs, "{path}: documents in the merged profile");
                if cohort == "*" {
                    assert_eq!(merged.n_tokens(), got["n_tokens"].as_u64().unwrap(), "{path}: tokens");
                }
            }
            let windows = detail["windows"].as_array().unwrap();
            let expected: Vec<_> =
                per_window.iter().filter(|((m, v, _, _), _)| *m == model && v == version).collect();
            assert_eq!(windows.len(), expected.len(), "{model}/{version} windows: {windows:?}");
            for ((_, _, cohort, window), (n_docs, pushes)) in expected {
                let got = windows
                    .iter()
                    .find(|w| w["cohort"] == *cohort && w["window"] == *window)
                    .unwrap_or_else(|| panic!("{model}/{version}: no window {window} for cohort {cohort}"));
                assert_eq!(got["n_docs"], *n_docs, "{model}/{version}/{cohort}/{window} n_docs");
                assert_eq!(got["pushes"], *pushes, "{model}/{version}/{cohort}/{window} pushes");
            }
        }
    }

    // every key is stored, where it was sent, with its documents (checked by 4 threads)
    let all: Vec<&Plan> = plans.iter().flatten().collect();
    std::thread::scope(|scope| {
        for chunk in all.chunks(all.len().div_ceil(4)) {
            let server = &server;
            scope.spawn(move || {
                let agent = agent();
                for plan in chunk {
                    let reply = get(&agent, server, &format!("/api/v1/pushes/{}", plan.key));
                    assert_eq!(reply.status, 200, "{}: {}", plan.key, reply.body);
                    let j = reply.json();
                    assert_eq!(j["n_docs"], plan.docs.len() as u64, "{}", plan.key);
                    assert_eq!(
                        (
                            j["model"].as_str(),
                            j["version"].as_str(),
                            j["cohort"].as_str(),
                            j["window"].as_str()
                        ),
                        (Some(plan.model), Some(plan.version), Some(plan.cohort), Some(plan.window)),
                        "{}",
                        plan.key
                    );
                }
            });
        }
    });
    let missing = get(&agent(), &server, "/api/v1/pushes/load-never-sent");
    assert_eq!(missing.status, 404, "{}", missing.body);
    eprintln!(
        "load: {} requests ({} stored, {duplicates} duplicates, {raced} keys first stored by the racing \
         neighbour) and {reads} reads in {:.1} s; {docs_sent} docs; whole test {:.1} s",
        answers.len(),
        created,
        pushed_in.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    // a guard, not a benchmark: a push whose cost grows with the history would end up here
    assert!(started.elapsed() < Duration::from_secs(600), "far too slow");
}

fn parse_key(key: &str) -> (usize, usize) {
    let rest = key.strip_prefix("load-c").unwrap();
    let (c, i) = rest.split_once("-p").unwrap();
    (c.parse().unwrap(), i.parse().unwrap())
}
