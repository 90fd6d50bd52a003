//! Option groups of the command line turned into the engine's settings.
use anyhow::{Context, Result, anyhow, bail};
use tailwatch::ProfileSettings;
use tailwatch_io::{DocSeparator, Format, ReadOptions};
use tailwatch_metrics::SampleSize;
use tailwatch_metrics::grouped::{GroupBy, GroupOptions, Grouping};

use crate::args::{DocSep, InputArgs, ProfileOptions};

/// Reader options from the command line.
pub fn read_options(args: &InputArgs, field_override: Option<&str>, items: bool) -> Result<ReadOptions> {
    let format = match &args.format {
        Some(name) => Some(Format::parse(name).ok_or_else(|| anyhow!("unknown format `{name}`"))?),
        None => None,
    };
    Ok(ReadOptions {
        format,
        field: field_override.map(str::to_string).or_else(|| args.field.clone()),
        doc_separator: match args.doc_sep {
            DocSep::Line => DocSeparator::Line,
            DocSep::Blank => DocSeparator::Blank,
        },
        skip_invalid: args.skip_invalid,
        lossy: args.lossy,
        array_is_one_doc: items,
        prompt_field: args.prompt_field.clone(),
        max_record_bytes: max_record_bytes(&args.max_record_bytes)?,
        ..ReadOptions::default()
    })
}

fn max_record_bytes(text: &str) -> Result<usize> {
    let bytes = parse_bytes(text).with_context(|| "--max-record-bytes")?;
    if bytes == 0 {
        bail!("--max-record-bytes must be at least 1 byte, found `{text}`");
    }
    Ok(usize::try_from(bytes).unwrap_or(usize::MAX))
}

/// Parse sizes like `512MiB`, `4GiB`, `1000000`, `2G`.
pub fn parse_bytes(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().with_context(|| format!("invalid size `{text}`"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0_f64.powi(4),
        _ => bail!("invalid size unit in `{text}` (use KiB, MiB, GiB)"),
    };
    Ok((value * scale) as u64)
}

/// The tokenizer, profile settings and memory budget from the command line.
pub fn profile_settings(options: &ProfileOptions) -> Result<ProfileSettings> {
    let tokenizer = tailwatch::tokenizer_by_name(&options.tokenizer, options.lowercase)?;
    let sample = match options.sample.as_str() {
        "all" => SampleSize::All,
        n => SampleSize::Docs(
            n.parse().with_context(|| format!("--sample must be a number or `all`, found `{n}`"))?,
        ),
    };
    let mut settings = ProfileSettings::new(tokenizer);
    settings.config.sample = sample;
    settings.config.seed = options.seed;
    settings.config.items_k = options.k;
    settings.max_memory = parse_bytes(&options.max_memory)?;
    let by = match (&options.group_field, options.group_by.as_deref()) {
        (Some(field), _) => Some(GroupBy::Field(field.clone())),
        (None, Some(_)) => Some(GroupBy::Record),
        (None, None) => None,
    };
    if let Some(by) = by {
        let groups = match options.group_sample.as_str() {
            "all" => SampleSize::All,
            n => SampleSize::Docs(n.parse().ok().filter(|&n| n > 0).with_context(|| {
                format!("--group-sample must be a positive number or `all`, found `{n}`")
            })?),
        };
        settings.config.grouping = Some(Grouping { by, groups, order_field: options.order_field.clone() });
    }
    tailwatch::profiling::check_score_fields(&options.score_field)
        .map_err(|e| anyhow!("--score-field: {e}"))?;
    settings.config.score_fields.clone_from(&options.score_field);
    Ok(settings)
}

/// How groups of answers are scored, from the command line.
pub fn group_options(options: &ProfileOptions) -> Result<GroupOptions> {
    tailwatch::scoring::group_options(&options.equivalence, options.patience, options.pass_threshold)
        .map_err(flag_error)
}

/// An engine error about one of its options, worded with the option's flag.
fn flag_error(error: tailwatch::Error) -> anyhow::Error {
    match error {
        tailwatch::Error::InvalidParameter { name, expected, found } => {
            anyhow!("--{} must be {expected}, found {found}", name.replace('_', "-"))
        }
        other => other.into(),
    }
}

/// Whether `--tokenizer` names the `items` tokenizer (lists of item ids: a JSON array field is
/// one document).
pub fn is_items(options: &ProfileOptions) -> bool {
    options.tokenizer == "items"
}
