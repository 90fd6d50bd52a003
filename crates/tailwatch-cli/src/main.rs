//! The `tailwatch` command: measure, compare and profile corpora for model collapse.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod allocator;
mod args;
mod commands;
mod deprecated;
mod hints;
mod options;
mod output;
mod progress;
mod table;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: allocator::SplitAllocator = allocator::SplitAllocator;

/// What a command concluded, mapped to the exit code of the CLI contract.
pub enum Outcome {
    /// Exit 0.
    Ok,
    /// Exit 1: a check failed (collapse rule breached).
    CheckFailed,
}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let given: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    for note in deprecated::notes(&given) {
        eprintln!("{note}");
    }
    match commands::run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(1),
        Err(error) => {
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            let mut shown = error.to_string();
            eprintln!("error: {shown}");
            for cause in error.chain().skip(1) {
                let text = cause.to_string();
                if !shown.contains(&text) {
                    eprintln!("  Caused by: {text}");
                }
                shown = text;
            }
            if let Some(hint) = hints::hint(&error) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || e.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}
