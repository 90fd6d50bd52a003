//! The package's engine: one thread pool per process, rebuilt in a child after `fork`.
//!
//! Threads do not survive `fork`, and a rayon pool whose threads are gone hangs the first call
//! that waits for them (rayon-rs/rayon#708): HF `datasets` with `num_proc`, DataLoader workers
//! and multiprocessing all fork. The engine is therefore keyed by the process id; a child finds
//! its parent's engine, leaks it (dropping it would join threads that do not exist) and builds
//! its own.
use std::sync::Mutex;

use pyo3::prelude::*;
use tailwatch::Engine;

use crate::errors::IntoPy;

/// The engine of this process and its thread count as asked for (`None`: the default).
struct ProcessEngine {
    pid: u32,
    asked: Option<usize>,
    engine: Engine,
}

static ENGINE: Mutex<Option<ProcessEngine>> = Mutex::new(None);

/// Threads when none were asked for: `TAILWATCH_NUM_THREADS`, then `RAYON_NUM_THREADS`, then
/// `OMP_NUM_THREADS` (Ray sets it to a task's `num_cpus`), then one per core.
fn default_threads() -> Option<usize> {
    ["TAILWATCH_NUM_THREADS", "RAYON_NUM_THREADS", "OMP_NUM_THREADS"]
        .iter()
        .find_map(|name| std::env::var(name).ok()?.trim().parse::<usize>().ok().filter(|&n| n > 0))
}

/// The engine of this process, made on first use (and anew in a forked child).
pub fn engine() -> PyResult<Engine> {
    let mut slot = ENGINE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let pid = std::process::id();
    if let Some(current) = slot.as_ref()
        && current.pid == pid
    {
        return Ok(current.engine.clone());
    }
    let asked = match slot.take() {
        Some(inherited) => {
            let asked = inherited.asked;
            // the parent's threads do not exist here: never join them
            std::mem::forget(inherited);
            asked
        }
        None => None,
    };
    let engine = Engine::new(asked.or_else(default_threads)).py_err()?;
    *slot = Some(ProcessEngine { pid, asked, engine: engine.clone() });
    Ok(engine)
}

/// Use `threads` worker threads from now on (`None`: the default again).
pub fn set_threads(threads: Option<usize>) -> PyResult<()> {
    {
        // the same count again (each Spark or Ray task sets it): keep the pool
        let slot = ENGINE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(current) = slot.as_ref()
            && current.pid == std::process::id()
            && current.asked == threads
            && threads.is_some()
        {
            return Ok(());
        }
    }
    let engine = Engine::new(threads.or_else(default_threads)).py_err()?;
    let mut slot = ENGINE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(old) = slot.take()
        && old.pid != std::process::id()
    {
        std::mem::forget(old);
    }
    *slot = Some(ProcessEngine { pid: std::process::id(), asked: threads, engine });
    Ok(())
}
