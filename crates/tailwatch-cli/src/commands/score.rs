//! `tailwatch score`: profile inputs and compute every metric, as a table, JSON or HTML.
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tailwatch_core::{Tokenizer, TokenizerKind};
use tailwatch_io::ReadOptions;
use tailwatch_metrics::compression::zlib_version;
use tailwatch_metrics::report::{SampleInfo, ScoreReport};
use tailwatch_metrics::{Profile, ProfileConfig, Reference, ReferenceOptions, item_metrics, lexical_metrics};

use crate::Outcome;
use crate::args::{Compat, GlobalArgs, InputArgs, ProfileOptions, ReferenceArgs, ScoreArgs};
use crate::pipeline::{
    is_profile_path, load_profile, parse_bytes, profile_inputs, read_options, tokenizer_and_config,
};
use crate::progress::Progress;

/// Everything needed to turn inputs into a [`ScoreReport`].
pub struct Scorer {
    pub tokenizer: Tokenizer,
    pub config: ProfileConfig,
    pub max_memory: u64,
    pub reference: Option<Reference>,
    pub reference_options: ReferenceOptions,
    pub catalog: Option<Vec<String>>,
    pub compat: Option<Compat>,
    pub quiet: bool,
}

impl Scorer {
    pub fn new(
        profile: &ProfileOptions,
        reference: &ReferenceArgs,
        input: &InputArgs,
        compat: Option<Compat>,
        quiet: bool,
    ) -> Result<Self> {
        let (tokenizer, config) = tokenizer_and_config(profile)?;
        let max_memory = parse_bytes(&profile.max_memory)?;
        if !(0.0..=1.0).contains(&reference.tail_mass) {
            bail!("--tail-mass must be in [0, 1], found {}", reference.tail_mass);
        }
        if !(reference.smoothing > 0.0 && reference.smoothing < 1.0) {
            bail!("--smoothing must be in (0, 1), found {}", reference.smoothing);
        }
        let mut scorer = Self {
            tokenizer,
            config,
            max_memory,
            reference: None,
            reference_options: ReferenceOptions {
                tail_mass: reference.tail_mass,
                smoothing: reference.smoothing,
            },
            catalog: None,
            compat,
            quiet,
        };
        if let Some(path) = &reference.reference {
            let field = reference.reference_field.as_deref();
            scorer.reference = Some(
                scorer
                    .load_reference(path, input, field)
                    .with_context(|| format!("cannot load reference `{}`", path.display()))?,
            );
        }
        if let Some(path) = &reference.catalog {
            let reader = tailwatch_io::open_text(path)?;
            let mut items = Vec::new();
            for line in std::io::BufRead::lines(reader) {
                let line = line.with_context(|| format!("cannot read `{}`", path.display()))?;
                if !line.trim().is_empty() {
                    items.push(line.trim().to_string());
                }
            }
            scorer.catalog = Some(items);
        } else if scorer.is_items() {
            scorer.catalog = scorer.reference.as_ref().map(Reference::vocabulary);
        }
        Ok(scorer)
    }

    fn is_items(&self) -> bool {
        self.config.tokenizer.kind == TokenizerKind::Items
    }

    fn load_reference(&self, path: &Path, input: &InputArgs, field: Option<&str>) -> Result<Reference> {
        let name = path.display().to_string();
        if is_profile_path(path) {
            let profile = load_profile(path)?;
            self.check_tokenizer(&profile, path)?;
            return Ok(Reference::from_profile(&profile, &name, "profile"));
        }
        let lower = name.to_ascii_lowercase();
        if [".tsv", ".tsv.gz", ".tsv.zst"].iter().any(|e| lower.ends_with(e)) {
            let reader = tailwatch_io::open_text(path)?;
            return Ok(Reference::from_frequency_table(reader, path, self.config.tokenizer.lowercase)?);
        }
        let read = read_options(input, field, self.is_items())?;
        let progress = Progress::new(self.quiet);
        let (profile, _) = profile_inputs(
            &[path.to_path_buf()],
            &read,
            &self.tokenizer,
            &self.config,
            self.max_memory,
            &progress,
        )?;
        Ok(Reference::from_profile(&profile, &name, "corpus"))
    }

    fn check_tokenizer(&self, profile: &Profile, path: &Path) -> Result<()> {
        let theirs = &profile.config().tokenizer;
        if !theirs.same_tokens_as(&self.config.tokenizer) {
            bail!(
                "`{}` was profiled with tokenizer `{}`, but this run uses `{}` (pass --tokenizer to match)",
                path.display(),
                theirs.name(),
                self.config.tokenizer.name()
            );
        }
        Ok(())
    }

    /// Profile `inputs` together (or load a single `.twp`) and compute every metric.
    pub fn score(&self, inputs: &[PathBuf], read: &ReadOptions) -> Result<ScoreReport> {
        let (profile, skipped) = if inputs.len() == 1 && is_profile_path(&inputs[0]) {
            let profile = load_profile(&inputs[0])?;
            self.check_tokenizer(&profile, &inputs[0])?;
            (profile, 0)
        } else {
            if let Some(p) = inputs.iter().find(|p| is_profile_path(p)) {
                bail!("`{}` is a profile; score profiles one at a time or merge them first", p.display());
            }
            let progress = Progress::new(self.quiet);
            let (profile, stats) =
                profile_inputs(inputs, read, &self.tokenizer, &self.config, self.max_memory, &progress)?;
            if stats.skipped > 0 {
                eprintln!(
                    "warning: skipped {} invalid record(s); first: {}",
                    stats.skipped,
                    stats.first_skipped.as_deref().unwrap_or("?")
                );
            }
            (profile, stats.skipped)
        };
        if profile.n_docs() == 0 {
            bail!(
                "no documents in {} (empty input, or every record was skipped)",
                inputs.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
            );
        }
        let mut values = lexical_metrics(&profile, &self.tokenizer)?;
        if self.is_items() {
            values.extend(item_metrics(&profile, self.catalog.as_deref()));
        }
        let mut reference_info = None;
        if let Some(reference) = &self.reference {
            let (ref_values, info) = reference.metrics(&profile, self.reference_options);
            values.extend(ref_values);
            reference_info = Some(serde_json::to_value(info)?);
        }
        if let Some(compat) = self.compat {
            let docs = read_all_docs(inputs, read)?;
            values.extend(super::compat::compute(compat, &docs, &self.tokenizer)?);
        }
        let sample = profile.sample();
        Ok(ScoreReport {
            tailwatch_version: tailwatch_core::VERSION.to_string(),
            inputs: inputs.iter().map(|p| p.display().to_string()).collect(),
            n_docs: profile.n_docs(),
            n_tokens: profile.n_tokens(),
            metrics: values.values,
            approximate: values.approximate,
            reference: reference_info,
            tokenizer: self.config.tokenizer.name(),
            sample: SampleInfo {
                size: sample.size().to_string(),
                docs: sample.held(),
                seed: self.config.seed,
            },
            compat: self.compat.map(|c| format!("{c:?}").to_lowercase()),
            skipped_records: skipped,
            zlib_version: zlib_version(),
            notes: values.notes,
        })
    }
}

fn read_all_docs(inputs: &[PathBuf], read: &ReadOptions) -> Result<Vec<String>> {
    let mut docs = Vec::new();
    for input in inputs {
        if is_profile_path(input) {
            bail!("--compat needs the documents themselves, not the profile `{}`", input.display());
        }
        docs.extend(tailwatch_io::read_all(input, read)?);
    }
    Ok(docs)
}

pub fn run(args: &ScoreArgs, global: &GlobalArgs) -> Result<Outcome> {
    let items = args.profile.tokenizer == "items";
    let read = read_options(&args.input, None, items)?;
    let scorer = Scorer::new(&args.profile, &args.reference, &args.input, args.compat, global.quiet)?;
    let groups: Vec<Vec<PathBuf>> = if args.combine {
        vec![args.inputs.clone()]
    } else {
        args.inputs.iter().map(|p| vec![p.clone()]).collect()
    };
    let mut reports = Vec::new();
    for group in &groups {
        reports.push(scorer.score(group, &read)?);
    }
    if let Some(path) = &args.html {
        let html = crate::html::render(&reports);
        fs_err::write(path, html).with_context(|| format!("cannot write `{}`", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        if reports.len() == 1 {
            serde_json::to_writer_pretty(&mut out, &reports[0])?;
        } else {
            serde_json::to_writer_pretty(&mut out, &reports)?;
        }
        writeln!(out)?;
    } else {
        crate::table::write_reports(&mut out, &reports)?;
    }
    Ok(Outcome::Ok)
}
