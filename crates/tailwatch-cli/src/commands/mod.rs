//! One module per subcommand; `run` dispatches.
mod compare;
mod compat;
mod metrics;
mod profile;
mod score;

use anyhow::Result;

use crate::Outcome;
use crate::args::{Cli, Command};

pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Score(args) => score::run(&args, &cli.global),
        Command::Compare(args) => compare::run(&args, &cli.global),
        Command::Profile(args) => profile::run_profile(&args, &cli.global),
        Command::Merge(args) => profile::run_merge(&args),
        Command::Metrics(args) => metrics::run(&args),
    }
}
