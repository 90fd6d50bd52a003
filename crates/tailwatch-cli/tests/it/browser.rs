//! The dashboard in a real browser: runs `tests/browser/dashboard.test.mjs` (playwright-core and
//! headless Chromium) against this build's `tailwatch serve`.
//!
//! Needs node ≥ 20, Chromium (`/usr/bin/chromium` or `$CHROMIUM_PATH`) and `npm ci` in
//! tests/browser (`.ci/run` installs all three). Without them the test is skipped, except under
//! `CI`, where it fails.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The whole script normally takes well under a minute; this only guards against a hang.
const LIMIT: Duration = Duration::from_secs(300);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What is missing to run the browser test, as instructions.
fn missing_prerequisites(root: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    let node = Command::new("node").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !node.is_ok_and(|s| s.success()) {
        missing.push("node (≥ 20) on PATH: apt-get install nodejs npm".to_string());
    }
    let chromium =
        std::env::var_os("CHROMIUM_PATH").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !chromium.is_file() {
        missing.push(format!(
            "Chromium at {}: apt-get install -y --no-install-recommends chromium (or set CHROMIUM_PATH)",
            chromium.display()
        ));
    }
    if !root.join("tests/browser/node_modules/playwright-core/package.json").is_file() {
        missing.push("playwright-core: run `npm ci --no-audit --no-fund` in tests/browser".to_string());
    }
    missing
}

#[test]
fn dashboard_in_headless_chromium() {
    let root = repo_root();
    let missing = missing_prerequisites(&root);
    if !missing.is_empty() {
        let list = missing.iter().map(|m| format!("\n  - {m}")).collect::<String>();
        if std::env::var_os("CI").is_some() {
            panic!("the browser test needs (CI is set, so it does not skip):{list}");
        }
        eprintln!(
            "SKIP browser::dashboard_in_headless_chromium: missing{list}\n(set CI=1 to make this a failure)"
        );
        return;
    }
    let out_dir = tempfile::tempdir().unwrap();
    let (stdout_path, stderr_path) = (out_dir.path().join("stdout"), out_dir.path().join("stderr"));
    let artifacts = match std::env::var_os("TAILWATCH_BROWSER_ARTIFACTS") {
        Some(dir) => PathBuf::from(dir),
        None => {
            // target/tmp/browser: screenshots of the last run only
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
            let _ = std::fs::remove_dir_all(&dir);
            dir
        }
    };
    let started = Instant::now();
    let mut child = Command::new("node")
        .arg("tests/browser/dashboard.test.mjs")
        .arg(env!("CARGO_BIN_EXE_tailwatch"))
        .current_dir(&root)
        .env("TAILWATCH_BROWSER_ARTIFACTS", &artifacts)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("spawn node");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > LIMIT {
            // SIGTERM first: the script's handler stops the server it started.
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            std::thread::sleep(Duration::from_secs(5));
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let elapsed = started.elapsed().as_secs_f64();
    match status {
        Some(s) if s.success() => println!("{stdout}{stderr}browser test passed in {elapsed:.1} s"),
        Some(s) => panic!(
            "tests/browser/dashboard.test.mjs failed ({s}) after {elapsed:.1} s; screenshots in {}\n\
             --- stdout\n{stdout}--- stderr\n{stderr}",
            artifacts.display()
        ),
        None => panic!(
            "tests/browser/dashboard.test.mjs ran past {} s and was killed\n\
             --- stdout\n{stdout}--- stderr\n{stderr}",
            LIMIT.as_secs()
        ),
    }
}
