//! `tailwatch serve` and `tailwatch push` end to end: pushes, idempotency, the CI gate, and the
//! server's version comparison agreeing with `tailwatch compare`.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::{Run, shared_data, tailwatch};

pub const TOKEN: &str = "cli-test-token";

/// A `tailwatch serve` child on a free loopback port; killed on drop.
pub struct Served {
    pub child: Child,
    pub url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `tailwatch serve` on `db` and wait for its address line.
pub fn serve(db: &std::path::Path, extra: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tailwatch"))
        .args(["serve", "--db", db.to_str().unwrap(), "--addr", "127.0.0.1:0"])
        .args(extra)
        .env("TAILWATCH_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tailwatch serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let url = first
        .strip_prefix("tailwatch serve: ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line from serve: {first}"))
        .trim_end_matches('/')
        .to_string();
    // keep draining stderr so the server never blocks on a full pipe
    std::thread::spawn(move || for _ in lines {});
    Served { child, url }
}

/// Run the binary with the token in the environment (or not).
fn run_with_token(args: &[&str], token: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tailwatch"));
    cmd.args(args).env_remove("TAILWATCH_TOKEN").env_remove("TAILWATCH_SERVER");
    if let Some(t) = token {
        cmd.env("TAILWATCH_TOKEN", t);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn http(method: &str, url: &str, body: &str) -> serde_json::Value {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(body.as_bytes().to_vec())
        .unwrap();
    let mut response = agent.run(request).unwrap();
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

#[test]
fn push_is_idempotent_gates_ci_and_compare_matches_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&dir.path().join("watch.db"), &[]);
    let coco = std::fs::read_to_string(shared_data("texygen/ref_test_coco.txt")).unwrap();
    let lines: Vec<&str> = coco.lines().collect();
    let human = dir.path().join("human.txt");
    std::fs::write(&human, lines[..2000].join("\n")).unwrap();
    // the candidate at the baseline's size: rules read the baseline at the version's size, and a
    // version 5x the baseline's is not judged (a test below)
    let generated = std::fs::read_to_string(shared_data("texygen/gen_textgan.txt")).unwrap();
    let textgan = dir.path().join("textgan.txt");
    std::fs::write(&textgan, generated.lines().take(2000).collect::<Vec<_>>().join("\n")).unwrap();
    let push = |file: &str, version: &str, extra: &[&str]| {
        let mut args = vec![
            "push",
            file,
            "--server",
            &server.url,
            "--model",
            "captioner",
            "--model-version",
            version,
            "-q",
        ];
        args.extend_from_slice(extra);
        run_with_token(&args, Some(TOKEN))
    };
    let h = human.to_str().unwrap();
    let first = push(h, "v1", &["--window", "2026-11-01"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(first.stdout.starts_with("pushed 2000 docs to captioner/v1"), "{}", first.stdout);
    let again = push(h, "v1", &["--window", "2026-11-01"]);
    assert!(again.stdout.starts_with("already pushed:"), "{}", again.stdout);
    assert!(again.stdout.contains("holds 2000 docs from 1 pushes"), "{}", again.stdout);
    // a baseline and a rule, then the collapsed generator trips the CI gate
    http("PUT", &format!("{}/api/v1/models/captioner/baseline", server.url), r#"{"version": "v1"}"#);
    http(
        "POST",
        &format!("{}/api/v1/rules", server.url),
        r#"{"model": "*", "metric": "distinct_2", "kind": "relative", "threshold": 0.2}"#,
    );
    let gated = push(textgan.to_str().unwrap(), "v2", &["--fail-on-alert"]);
    assert_eq!(gated.code, 1, "{}\n{}", gated.stdout, gated.stderr);
    assert!(gated.stdout.contains("ALERT #1: distinct_2"), "{}", gated.stdout);
    // the gate holds: re-running the failed push fails again (nothing is added) ...
    let rerun = push(textgan.to_str().unwrap(), "v2", &["--fail-on-alert"]);
    assert_eq!(rerun.code, 1, "{}\n{}", rerun.stdout, rerun.stderr);
    assert!(rerun.stdout.starts_with("already pushed:"), "{}", rerun.stdout);
    assert!(rerun.stdout.contains("BREACHING rule #1: distinct_2"), "{}", rerun.stdout);
    assert!(rerun.stdout.contains("alert #1 already open"), "{}", rerun.stdout);
    // ... a newer version that breaches the same rule fails although the alert is already open ...
    let newer = push(textgan.to_str().unwrap(), "v3", &["--fail-on-alert", "--json"]);
    assert_eq!(newer.code, 1, "{}\n{}", newer.stdout, newer.stderr);
    let newer = newer.json();
    assert_eq!(newer["alerts_opened"].as_array().unwrap().len(), 0, "no second alert for the same rule");
    assert_eq!(newer["breaching"][0]["alert_id"], 1);
    assert_eq!(newer["breaching"][0]["metric"], "distinct_2");
    // ... a healthy version passes ...
    let healthy = push(h, "v4", &["--fail-on-alert"]);
    assert_eq!(healthy.code, 0, "{}\n{}", healthy.stdout, healthy.stderr);
    assert!(!healthy.stdout.contains("BREACHING"), "{}", healthy.stdout);
    // ... and a version 5x the baseline's size is not judged by the relative rule: the push
    // says so instead of comparing distinct_2 at two sizes
    let whole = shared_data("texygen/gen_textgan.txt");
    let larger = push(whole.to_str().unwrap(), "v5", &["--fail-on-alert"]);
    assert_eq!(larger.code, 0, "{}\n{}", larger.stdout, larger.stderr);
    assert!(
        larger.stdout.contains("not evaluated: rule #1 (distinct_2): the version holds 9980 documents"),
        "{}",
        larger.stdout
    );
    // the server's comparison is `tailwatch compare` on the same profiles without matched sizes
    // or p-values (`--permutations 0`): the server does not match sizes yet
    let server_view =
        http("GET", &format!("{}/api/v1/models/captioner/compare?baseline=v1&candidate=v2", server.url), "");
    let a = dir.path().join("a.twp");
    let b = dir.path().join("b.twp");
    assert_eq!(tailwatch(&["profile", h, "-o", a.to_str().unwrap(), "-q"]).code, 0);
    assert_eq!(tailwatch(&["profile", textgan.to_str().unwrap(), "-o", b.to_str().unwrap(), "-q"]).code, 0);
    let cli =
        tailwatch(&["compare", a.to_str().unwrap(), b.to_str().unwrap(), "--json", "--permutations", "0"]);
    assert_eq!(cli.code, 1);
    let cli = cli.json();
    assert_eq!(server_view["verdict"], cli["verdict"]);
    let checks = |v: &serde_json::Value| -> Vec<(String, Option<f64>, Option<f64>, bool)> {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["metric"].as_str().unwrap().to_string(),
                    c["baseline"].as_f64(),
                    c["candidate"].as_f64(),
                    c["breached"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(checks(&server_view), checks(&cli));
}

#[test]
fn push_and_serve_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let input = crate::write(dir.path(), "a.txt", b"one document\nanother document\n");
    let no_token = run_with_token(
        &["push", &input, "--server", "http://127.0.0.1:9", "--model", "m", "--model-version", "v"],
        None,
    );
    assert_eq!(no_token.code, 2);
    assert!(no_token.stderr.contains("TAILWATCH_TOKEN"), "{}", no_token.stderr);
    let unreachable = run_with_token(
        &["push", &input, "--server", "http://127.0.0.1:9", "--model", "m", "--model-version", "v"],
        Some("x"),
    );
    assert_eq!(unreachable.code, 2);
    assert!(unreachable.stderr.contains("cannot reach the server"), "{}", unreachable.stderr);
    let server = serve(&dir.path().join("w.db"), &[]);
    let wrong = run_with_token(
        &["push", &input, "--server", &server.url, "--model", "m", "--model-version", "v", "-q"],
        Some("nope"),
    );
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("HTTP 401"), "{}", wrong.stderr);
    let bad_name = run_with_token(
        &["push", &input, "--server", &server.url, "--model", "*", "--model-version", "v", "-q"],
        Some(TOKEN),
    );
    assert_eq!(bad_name.code, 2);
    assert!(bad_name.stderr.contains("field `model`"), "{}", bad_name.stderr);
    let empty = crate::write(dir.path(), "empty.txt", b"");
    let nothing = run_with_token(
        &["push", &empty, "--server", &server.url, "--model", "m", "--model-version", "v", "-q"],
        Some(TOKEN),
    );
    assert_eq!(nothing.code, 2);
    assert!(nothing.stderr.contains("no documents"), "{}", nothing.stderr);
    // a server that never answers, and one whose answer is not the server's: push fails
    // (exit 2), after --timeout for the silent one, never exit 0
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let (conn, _) = silent.accept().unwrap();
        std::thread::sleep(std::time::Duration::from_secs(5));
        drop(conn);
    });
    let hung = run_with_token(
        &[
            "push",
            &input,
            "--server",
            &silent_url,
            "--model",
            "m",
            "--model-version",
            "v",
            "--timeout",
            "1",
            "-q",
        ],
        Some(TOKEN),
    );
    assert_eq!(hung.code, 2, "{}", hung.stderr);
    assert!(hung.stderr.contains("cannot reach the server"), "{}", hung.stderr);
    held.join().unwrap();
    let liar = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let liar_url = format!("http://{}", liar.local_addr().unwrap());
    let answered = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut conn, _) = liar.accept().unwrap();
        let mut request = [0u8; 65536];
        let _ = conn.read(&mut request);
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello");
    });
    let malformed = run_with_token(
        &["push", &input, "--server", &liar_url, "--model", "m", "--model-version", "v", "-q"],
        Some(TOKEN),
    );
    assert_eq!(malformed.code, 2, "{}", malformed.stderr);
    assert!(malformed.stderr.contains("not the expected JSON"), "{}", malformed.stderr);
    answered.join().unwrap();
    // --keep-text: the pushed profile keeps its sample's text (compression_ratio reads it); a
    // .twp is pushed as it is, so asking it of one is an error, not a silent no-op
    for (version, extra) in [("plain", None), ("text", Some("--keep-text"))] {
        let mut args =
            vec!["push", &input, "--server", &server.url, "--model", "m", "--model-version", version, "-q"];
        args.extend(extra);
        let pushed = run_with_token(&args, Some(TOKEN));
        assert_eq!(pushed.code, 0, "{}", pushed.stderr);
    }
    let versions = http("GET", &format!("{}/api/v1/models/m/versions", server.url), "");
    let ratio = |version: &str| {
        let row = versions["versions"].as_array().unwrap().iter().find(|v| v["version"] == version).unwrap();
        row["metrics"]["compression_ratio"].clone()
    };
    assert!(ratio("plain").is_null() && ratio("text").is_number(), "{versions}");
    let profile = dir.path().join("a.twp");
    assert_eq!(tailwatch(&["profile", &input, "-o", profile.to_str().unwrap(), "-q"]).code, 0);
    let refused = run_with_token(
        &[
            "push",
            profile.to_str().unwrap(),
            "--keep-text",
            "--server",
            &server.url,
            "--model",
            "m",
            "--version",
            "v",
            "-q",
        ],
        Some(TOKEN),
    );
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("pushed as it is"), "{}", refused.stderr);
    // serve refuses a file that is not its database, and leaves it alone
    let foreign = crate::write(dir.path(), "notes.db", b"not a database");
    let refused = run_with_token(&["serve", "--db", &foreign, "--addr", "127.0.0.1:0"], Some(TOKEN));
    assert_eq!(refused.code, 2);
    assert_eq!(std::fs::read(&foreign).unwrap(), b"not a database");
    let ledger = dir.path().join("ledger.db");
    assert_eq!(tailwatch(&["ledger", "init", "--db", ledger.to_str().unwrap()]).code, 0);
    let before = std::fs::read(&ledger).unwrap();
    let refused =
        run_with_token(&["serve", "--db", ledger.to_str().unwrap(), "--addr", "127.0.0.1:0"], Some(TOKEN));
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("not a tailwatch server database"), "{}", refused.stderr);
    assert_eq!(std::fs::read(&ledger).unwrap(), before);
    let bad_addr = run_with_token(
        &["serve", "--db", dir.path().join("x.db").to_str().unwrap(), "--addr", "nowhere"],
        Some(TOKEN),
    );
    assert_eq!(bad_addr.code, 2);
    assert!(bad_addr.stderr.contains("--addr must be HOST:PORT"), "{}", bad_addr.stderr);
}
