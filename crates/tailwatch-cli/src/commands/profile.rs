//! `tailwatch profile` and `tailwatch merge`: build and combine `.twp` profiles.
use anyhow::{Context as _, Result};
use tailwatch::save_profile;

use super::Context;
use crate::Outcome;
use crate::args::{MergeArgs, ProfileArgs};
use crate::options::{is_items, profile_settings, read_options};

pub fn run_profile(args: &ProfileArgs, cx: &Context) -> Result<Outcome> {
    crate::output::claim_outputs([Some(args.output.as_path())], args.inputs.iter().map(|p| p.as_path()))?;
    let read = read_options(&args.input, None, is_items(&args.profile))?;
    let mut settings = profile_settings(&args.profile)?;
    settings.config.keep_text = args.keep_text;
    let (profile, stats) = cx.engine.profile_inputs(&args.inputs, &read, &settings, &cx.progress())?;
    save_profile(&profile, &args.output)
        .with_context(|| format!("cannot write `{}`", args.output.display()))?;
    eprintln!(
        "wrote {}: {} docs, {} tokens, {}{}{}",
        args.output.display(),
        profile.n_docs(),
        profile.n_tokens(),
        text_held(&profile),
        if profile.is_sketched() { " (distinct_2..4 sketched)" } else { "" },
        if stats.skipped > 0 {
            format!(", {} invalid records skipped", stats.skipped)
        } else {
            String::new()
        }
    );
    Ok(Outcome::Ok)
}

pub fn run_merge(args: &MergeArgs, cx: &Context) -> Result<Outcome> {
    crate::output::claim_outputs([Some(args.output.as_path())], args.profiles.iter().map(|p| p.as_path()))?;
    let merged = cx.engine.merge_profiles(&args.profiles)?;
    save_profile(&merged, &args.output)
        .with_context(|| format!("cannot write `{}`", args.output.display()))?;
    eprintln!(
        "wrote {}: {} docs, {} tokens, {}",
        args.output.display(),
        merged.n_docs(),
        merged.n_tokens(),
        text_held(&merged)
    );
    Ok(Outcome::Ok)
}

/// What a written profile says of its text.
fn text_held(profile: &tailwatch_metrics::Profile) -> String {
    let sample = if profile.sample().holds_any_text() { "sample text kept" } else { "no document text" };
    match profile.groups() {
        // the within-group metrics compare answers' words: their text is kept
        Some(groups) => {
            format!("{sample} in the sample; the answers of {} sampled group(s) kept as text", groups.len())
        }
        None => sample.to_string(),
    }
}
