//! [`Engine`]: the thread pool every operation runs on.
use std::sync::Arc;

use crate::{Error, Result};

/// The entry point of the library: a thread pool of its own, on which every operation runs.
///
/// The engine never touches rayon's global pool, so it can live inside another program's pool
/// (Spark, Ray, a Python process), next to other engines, and in a child process after `fork`
/// (make a new engine there: threads do not survive a fork). Everything an operation computes in
/// parallel runs on this pool; results do not depend on its size.
#[derive(Clone)]
pub struct Engine {
    pool: Arc<rayon::ThreadPool>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("threads", &self.threads()).finish()
    }
}

/// The most worker threads an engine takes: more than any machine's cores gains nothing, and a
/// mistyped `--threads 5000` spent minutes starting threads.
pub const MAX_THREADS: usize = 1024;

impl Engine {
    /// An engine with `threads` worker threads (`None`: one per core; at most [`MAX_THREADS`]).
    pub fn new(threads: Option<usize>) -> Result<Self> {
        if let Some(n) = threads
            && n > MAX_THREADS
        {
            return Err(Error::invalid("threads", "at most 1024", n));
        }
        let mut builder = rayon::ThreadPoolBuilder::new().thread_name(|i| format!("tailwatch-{i}"));
        if let Some(n) = threads {
            builder = builder.num_threads(n.max(1));
        }
        let pool = builder
            .build()
            .map_err(|e| Error::ThreadPool { threads: threads.unwrap_or(0), message: e.to_string() })?;
        Ok(Self { pool: Arc::new(pool) })
    }

    /// An engine on a pool the caller owns.
    pub fn with_pool(pool: Arc<rayon::ThreadPool>) -> Self {
        Self { pool }
    }

    /// Worker threads of the pool.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// The pool.
    pub fn pool(&self) -> &rayon::ThreadPool {
        &self.pool
    }

    /// Run `f` on the pool: rayon calls inside it (`join`, parallel iterators) use this pool.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_past_the_maximum_are_refused() {
        assert!(Engine::new(Some(MAX_THREADS + 1)).is_err());
        assert_eq!(Engine::new(Some(2)).unwrap().threads(), 2);
    }
}
