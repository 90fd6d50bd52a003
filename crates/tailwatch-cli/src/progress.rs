//! Progress bars on stderr (indicatif), hidden when stderr is not a terminal or with `--quiet`.
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tailwatch_core::Reporter;

/// A byte-progress bar implementing the library's [`Reporter`].
pub struct Progress {
    bar: ProgressBar,
    /// `None`: bytes; `Some(unit)`: a count of `unit`s (replicates, generations).
    unit: Option<&'static str>,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        let visible =
            !quiet && std::io::stderr().is_terminal() && std::env::var_os("TAILWATCH_NO_PROGRESS").is_none();
        let bar = ProgressBar::hidden();
        if visible {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        Self { bar, unit: None }
    }

    /// A bar that counts `unit`s instead of bytes.
    pub fn counting(quiet: bool, unit: &'static str) -> Self {
        Self { unit: Some(unit), ..Self::new(quiet) }
    }
}

impl Reporter for Progress {
    fn start(&self, task: &str, total: Option<u64>) {
        self.bar.reset();
        match total {
            Some(total) => {
                self.bar.set_length(total);
                let template = match self.unit {
                    None => {
                        "{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}".to_string()
                    }
                    Some(unit) => format!("{{msg:>12}} [{{bar:30}}] {{pos}}/{{len}} {unit} eta {{eta}}"),
                };
                self.bar.set_style(
                    ProgressStyle::with_template(&template).expect("valid template").progress_chars("=> "),
                );
            }
            None => {
                self.bar.unset_length();
                self.bar.set_style(
                    ProgressStyle::with_template("{msg:>12} {spinner} {bytes} {bytes_per_sec}")
                        .expect("valid template"),
                );
            }
        }
        self.bar.set_message(task.to_string());
    }

    fn advance(&self, amount: u64) {
        self.bar.inc(amount);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
