//! The engine runs on the pool it is given: from inside another rayon pool, from inside its own
//! pool, and in a child process after `fork`, it finishes with the same result.
// fork, waitpid, kill and _exit are libc calls (this file is on `.ci/unsafe-allowed`)
#![allow(unsafe_code)]
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use tailwatch::{Engine, ProfileSettings, ScoreOptions, Scorer, tokenizer_by_name};
use tailwatch_io::ReadOptions;

/// Generated documents (enough for several read batches of 64 KiB).
fn write_corpus(dir: &Path) -> PathBuf {
    let words =
        ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"];
    let mut x = 7u64;
    let mut text = String::new();
    for i in 0..20_000 {
        for j in 0..(4 + i % 9) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if j > 0 {
                text.push(' ');
            }
            text.push_str(words[(x >> 33) as usize % words.len()]);
        }
        text.push('\n');
    }
    let path = dir.join("corpus.txt");
    std::fs::write(&path, text).unwrap();
    path
}

/// The score of `corpus` on `engine` as JSON text.
fn score(engine: &Engine, corpus: &Path) -> String {
    let settings = ProfileSettings::new(tokenizer_by_name("words", false).unwrap());
    let scorer = Scorer::new(settings, ScoreOptions::default()).unwrap();
    let read = ReadOptions { batch_bytes: 1 << 16, ..ReadOptions::default() };
    let (report, _) =
        scorer.score(engine, &[corpus.to_path_buf()], &read, &tailwatch_core::NoReporter).unwrap();
    serde_json::to_string(&report.metrics).unwrap()
}

/// Run `f` on its own thread; fail if it takes longer than a minute (it hung).
fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || send.send(f()));
    receive.recv_timeout(Duration::from_secs(60)).expect("the engine hung")
}

#[test]
fn runs_from_inside_another_pool_and_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path());
    let expected = score(&Engine::new(Some(2)).unwrap(), &corpus);
    let c = corpus.clone();
    let inside_other = within_a_minute(move || {
        let other = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        other.install(|| score(&Engine::new(Some(3)).unwrap(), &c))
    });
    assert_eq!(inside_other, expected);
    let c = corpus.clone();
    let inside_own = within_a_minute(move || {
        let engine = Engine::new(Some(2)).unwrap();
        engine.install(|| score(&engine, &c))
    });
    assert_eq!(inside_own, expected);
    let c = corpus.clone();
    let one_thread = within_a_minute(move || score(&Engine::new(Some(1)).unwrap(), &c));
    assert_eq!(one_thread, expected);
}

/// A child forked from a process whose engine has live worker threads makes its own engine and
/// finishes; the parent waits at most a minute.
#[cfg(unix)]
#[test]
fn runs_in_a_child_after_fork() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path());
    let parent = Engine::new(Some(2)).unwrap();
    let expected = score(&parent, &corpus);
    let out = dir.path().join("child.json");
    // SAFETY: the child only profiles and scores with a fresh engine, writes a file and exits
    // with `_exit`; the parent's worker threads are idle (parked) while it forks.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let result = std::panic::catch_unwind(|| {
            let engine = Engine::new(Some(2)).unwrap();
            std::fs::write(&out, score(&engine, &corpus)).unwrap();
        });
        // SAFETY: ends the child without running the parent's atexit handlers or destructors.
        unsafe { libc::_exit(i32::from(result.is_err())) };
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child without blocking.
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            break;
        }
        if std::time::Instant::now() > deadline {
            // SAFETY: kills our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the engine hung in the forked child");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the child failed: status {status}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    drop(parent);
}
