//! End-to-end tests of the `tailwatch` binary: one test binary, a module per area.
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

mod bad_input;
mod browser;
mod catalog;
mod compare;
mod dedup;
mod detect;
mod fixtures;
mod formats;
mod groups;
mod ledger;
mod outputs;
mod profiles;
mod readme;
mod real_data;
mod simulate;
mod snapshots;
mod watch;
mod watch_crash;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Result of running the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }
    pub fn metric(&self, id: &str) -> f64 {
        self.json()["metrics"][id].as_f64().unwrap_or_else(|| panic!("no metric {id}: {}", self.stdout))
    }
}

pub fn tailwatch(args: &[&str]) -> Run {
    tailwatch_stdin(args, None)
}

pub fn tailwatch_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tailwatch"));
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().expect("spawn tailwatch");
    if let Some(bytes) = stdin {
        use std::io::Write;
        // a run that fails early (usage error) may exit before reading its stdin
        if let Err(e) = child.stdin.take().unwrap().write_all(bytes) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing stdin: {e}");
        }
    }
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// `../shared/data`, or a clear failure.
pub fn shared_data(rel: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let path = root.join(rel);
    assert!(
        path.exists(),
        "real-data test needs {} (the project's ../shared/data checkout); it is missing",
        path.display()
    );
    path
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}
