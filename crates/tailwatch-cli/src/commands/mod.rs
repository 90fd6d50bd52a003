//! One module per subcommand; `run` dispatches.
mod catalog;
mod compare;
mod compat;
mod dedup;
mod demo;
pub mod detect;
mod ledger;
mod profile;
mod score;
mod simulate;
mod watch;

use anyhow::Result;

use crate::Outcome;
use crate::args::{Cli, Command};

pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Score(args) => score::run(&args, &cli.global),
        Command::Compare(args) => compare::run(&args, &cli.global),
        Command::Profile(args) => profile::run_profile(&args, &cli.global),
        Command::Merge(args) => profile::run_merge(&args),
        Command::Metrics(args) => catalog::run(&args),
        Command::Simulate(args) => simulate::run(&args, &cli.global),
        Command::Demo(args) => demo::run(&args, &cli.global),
        Command::Dedup(args) => dedup::run(&args, &cli.global),
        Command::Ledger(args) => ledger::run(&args, &cli.global),
        Command::Mix(args) => ledger::run_mix(&args),
        Command::Detect(args) => detect::run(&args, &cli.global),
        Command::Serve(args) => watch::run_serve(&args, &cli.global),
        Command::Push(args) => watch::run_push(&args, &cli.global),
    }
}
