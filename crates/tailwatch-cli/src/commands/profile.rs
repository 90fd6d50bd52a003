//! `tailwatch profile` and `tailwatch merge`: build and combine `.twp` profiles.
use anyhow::{Context, Result};

use crate::Outcome;
use crate::args::{GlobalArgs, MergeArgs, ProfileArgs};
use crate::pipeline::{
    load_profile, parse_bytes, profile_inputs, read_options, save_profile, tokenizer_and_config,
};
use crate::progress::Progress;

pub fn run_profile(args: &ProfileArgs, global: &GlobalArgs) -> Result<Outcome> {
    let items = args.profile.tokenizer == "items";
    let read = read_options(&args.input, None, items)?;
    let (tokenizer, config) = tokenizer_and_config(&args.profile)?;
    let max_memory = parse_bytes(&args.profile.max_memory)?;
    let progress = Progress::new(global.quiet);
    let (profile, stats) = profile_inputs(&args.inputs, &read, &tokenizer, &config, max_memory, &progress)?;
    save_profile(&profile, &args.output)
        .with_context(|| format!("cannot write `{}`", args.output.display()))?;
    eprintln!(
        "wrote {}: {} docs, {} tokens{}{}",
        args.output.display(),
        profile.n_docs(),
        profile.n_tokens(),
        if profile.is_sketched() { " (distinct_2..4 sketched)" } else { "" },
        if stats.skipped > 0 {
            format!(", {} invalid records skipped", stats.skipped)
        } else {
            String::new()
        }
    );
    Ok(Outcome::Ok)
}

pub fn run_merge(args: &MergeArgs) -> Result<Outcome> {
    let mut profiles = args.profiles.iter();
    let first = profiles.next().expect("clap requires one profile");
    let mut merged = load_profile(first)?;
    for path in profiles {
        let next = load_profile(path)?;
        merged
            .merge(next)
            .with_context(|| format!("cannot merge `{}` into `{}`", path.display(), first.display()))?;
    }
    save_profile(&merged, &args.output)
        .with_context(|| format!("cannot write `{}`", args.output.display()))?;
    eprintln!("wrote {}: {} docs, {} tokens", args.output.display(), merged.n_docs(), merged.n_tokens());
    Ok(Outcome::Ok)
}
