//! One module per subcommand; `run` dispatches.
mod catalog;
mod compare;
mod dedup;
mod demo;
pub mod detect;
mod ledger;
mod profile;
mod score;
mod simulate;
mod watch;

use anyhow::Result;
use tailwatch::Engine;

use crate::Outcome;
use crate::args::{Cli, Command, GlobalArgs};

/// What every command runs with: the engine (its thread pool sized by `--threads`) and whether
/// progress bars are hidden.
pub struct Context {
    pub engine: Engine,
    pub quiet: bool,
    pub threads: Option<usize>,
}

impl Context {
    fn new(global: &GlobalArgs) -> Result<Self> {
        let threads = global.threads.map(usize::from);
        Ok(Self { engine: Engine::new(threads)?, quiet: global.quiet, threads })
    }

    /// A byte-progress bar (hidden with `--quiet` or off a terminal).
    pub fn progress(&self) -> crate::progress::Progress {
        crate::progress::Progress::new(self.quiet)
    }

    /// A progress bar counting `unit`s.
    pub fn counting(&self, unit: &'static str) -> crate::progress::Progress {
        crate::progress::Progress::counting(self.quiet, unit)
    }
}

pub fn run(cli: Cli) -> Result<Outcome> {
    let cx = Context::new(&cli.global)?;
    match cli.command {
        Command::Score(args) => score::run(&args, &cx),
        Command::Compare(args) => compare::run(&args, &cx),
        Command::Profile(args) => profile::run_profile(&args, &cx),
        Command::Merge(args) => profile::run_merge(&args, &cx),
        Command::Metrics(args) => catalog::run(&args),
        Command::Simulate(args) => simulate::run(&args, &cx),
        Command::Demo(args) => demo::run(&args, &cx),
        Command::Dedup(args) => dedup::run(&args, &cx),
        Command::Ledger(args) => ledger::run(&args, &cx),
        Command::Mix(args) => ledger::run_mix(&args, &cx),
        Command::Detect(args) => detect::run(&args, &cx),
        Command::Serve(args) => watch::run_serve(&args, &cx),
        Command::Push(args) => watch::run_push(&args, &cx),
    }
}
