//! Progress reporting for long library work; the CLI implements it with progress bars.

/// Receives progress of long-running work. Implementations must be cheap and thread-safe.
pub trait Reporter: Sync {
    /// A unit of work starts; `total` is its size in bytes when known.
    fn start(&self, _task: &str, _total: Option<u64>) {}
    /// `amount` more bytes are done.
    fn advance(&self, _amount: u64) {}
    /// The current unit of work is finished.
    fn finish(&self) {}
}

/// A reporter that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReporter;

impl Reporter for NoReporter {}
