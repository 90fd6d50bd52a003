//! Scoring: a profile (of inputs, or saved) into the metrics a report shows, against a reference
//! when one is given, in an anchor's formulas when asked.
use std::path::{Path, PathBuf};

use tailwatch_core::{Reporter, Tokenizer, TokenizerKind};
use tailwatch_io::{ReadOptions, ReadStats};
use tailwatch_metrics::compression::zlib_version;
use tailwatch_metrics::reference::REFERENCE_IDS;
use tailwatch_metrics::report::{MetricIntervals, SampleInfo, ScoreReport};
use tailwatch_metrics::{
    ItemListMetrics, LexicalMetrics, MetricSelection, MetricSet, MetricValues, Profile, ProfileParts,
    Reference, ReferenceInfo, ReferenceOptions,
};

use tailwatch_metrics::grouped::{GROUP_IDS, GroupOptions, GroupSummary, group_metrics};
use tailwatch_metrics::groups::Equivalence;

use crate::compat::{Compat, compute as compat_metrics};
use crate::profiling::{ProfileSettings, is_profile_path, load_profile};
use crate::{Engine, Error, Result};

/// What scoring computes besides the profile.
#[derive(Debug, Clone, Default)]
pub struct ScoreOptions {
    /// Which metrics.
    pub metrics: MetricSelection,
    /// The frozen reference, if any.
    pub reference: Option<Reference>,
    /// How reference metrics are computed.
    pub reference_options: ReferenceOptions,
    /// `items` tokenizer: the catalog of item ids (default: every item seen).
    pub catalog: Option<Vec<String>>,
    /// An anchor's formulas, computed over all documents in input order.
    pub compat: Option<Compat>,
    /// Confidence of the metrics' intervals ([`crate::intervals`]), when asked for; the
    /// documents are then held in memory.
    pub confidence: Option<f64>,
    /// How groups of answers are scored (profiles that group them).
    pub groups: GroupOptions,
}

impl ScoreOptions {
    /// Check the reference options.
    pub fn validate(&self) -> Result<()> {
        let o = &self.reference_options;
        if !(0.0..=1.0).contains(&o.tail_mass) {
            return Err(Error::invalid("tail_mass", "in [0, 1]", o.tail_mass));
        }
        if !(o.smoothing > 0.0 && o.smoothing < 1.0) {
            return Err(Error::invalid("smoothing", "in (0, 1)", o.smoothing));
        }
        if let Some(c) = self.confidence
            && !(c > 0.0 && c < 1.0)
        {
            return Err(Error::invalid("confidence", "in (0, 1)", c));
        }
        let g = &self.groups;
        if !(g.patience > 0.0 && g.patience <= 1.0) {
            return Err(Error::invalid("patience", "in (0, 1]", g.patience));
        }
        if !g.pass_threshold.is_finite() {
            return Err(Error::invalid("pass_threshold", "a finite number", g.pass_threshold));
        }
        Ok(())
    }
}

/// How groups of answers are scored: the equivalence rule by name (`unigram`, NoveltyBench's;
/// `unigram:<t>`, `exact`, `jaccard:<t>` with t in [0, 1]), `utility_at_k`'s patience (in
/// (0, 1]) and the score an answer needs to pass (finite); checked.
pub fn group_options(equivalence: &str, patience: f64, pass_threshold: f64) -> Result<GroupOptions> {
    let rule = Equivalence::parse(equivalence).ok_or_else(|| {
        Error::invalid(
            "equivalence",
            "`unigram`, `unigram:<t>`, `exact` or `jaccard:<t>` with t in [0, 1]",
            format!("`{equivalence}`"),
        )
    })?;
    let options = GroupOptions { equivalence: rule, patience, pass_threshold, keep_sample: false };
    ScoreOptions { groups: options, ..ScoreOptions::default() }.validate()?;
    Ok(options)
}

/// How a profile is scored: how documents are profiled and what is computed of the profile.
#[derive(Debug, Clone)]
pub struct Scorer {
    /// Tokenizer, profile settings and memory budget.
    pub settings: ProfileSettings,
    /// Metrics, reference, catalog, anchor formulas.
    pub options: ScoreOptions,
}

impl Scorer {
    /// A scorer; the options are checked. Its profiles of inputs are held in memory, never
    /// written, so their samples keep the documents' text (`compression_ratio` reads it).
    pub fn new(mut settings: ProfileSettings, options: ScoreOptions) -> Result<Self> {
        options.validate()?;
        settings.config.keep_text = true;
        Ok(Self { settings, options })
    }

    /// Whether documents are lists of item ids.
    pub fn is_items(&self) -> bool {
        self.settings.tokenizer.spec().kind == TokenizerKind::Items
    }

    /// A saved profile, checked to be tokenized like this run.
    pub fn load_profile(&self, path: &Path) -> Result<Profile> {
        let profile = load_profile(path)?;
        check_tokenizer(&profile, &self.settings, path)?;
        Ok(profile)
    }

    /// Profile `inputs` together (or load a single `.twp`) and compute the asked-for metrics.
    /// `read` is how each input (not a `.twp`) is read; the statistics say what was skipped.
    pub fn score(
        &self,
        engine: &Engine,
        inputs: &[PathBuf],
        read: &ReadOptions,
        reporter: &dyn Reporter,
    ) -> Result<(ScoreReport, ReadStats)> {
        let mut intervals = None;
        if self.settings.config.grouping.is_some()
            && (self.options.confidence.is_some() || self.options.compat.is_some())
        {
            let what = if self.options.confidence.is_some() {
                "confidence intervals"
            } else {
                "an anchor's formulas"
            };
            return Err(Error::NotForGroups { what });
        }
        let (profile, stats) = if let Some(confidence) = self.options.confidence {
            // the jackknife profiles groups of documents: they are read into memory
            let (docs, stats, record_sizes) = read_records(inputs, read, "confidence intervals")?;
            let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
            let seed = self.settings.config.seed;
            // records of several documents (an array field: k samples of one prompt) are dealt
            // whole
            let grouped = record_sizes.iter().any(|&n| n > 1);
            let found = engine.metric_intervals_of_records(self, &docs, &record_sizes, confidence, seed)?;
            intervals = Some(MetricIntervals {
                confidence,
                method: "jackknife".to_string(),
                groups: found.groups,
                dealt: if grouped { "records" } else { "documents" }.to_string(),
                seed,
                values: found.intervals,
            });
            (found.profile, stats)
        } else if inputs.len() == 1 && is_profile_path(&inputs[0]) {
            (self.load_profile(&inputs[0])?, ReadStats::default())
        } else {
            if let Some(p) = inputs.iter().find(|p| is_profile_path(p)) {
                return Err(Error::ProfileAmongInputs { path: p.clone() });
            }
            // only the parts the asked-for metrics read
            let parts = ProfileParts::needed_by(&self.options.metrics);
            let settings = ProfileSettings { parts, ..self.settings.clone() };
            engine.profile_inputs(inputs, read, &settings, reporter)?
        };
        if profile.n_docs() == 0 {
            return Err(Error::NoDocuments { inputs: inputs.to_vec() });
        }
        let anchored = match self.options.compat {
            Some(compat) => {
                let (docs, _) = read_all_docs(inputs, read, "an anchor's formulas")?;
                let mut anchored = compat_metrics(compat, &docs, &self.settings.tokenizer)?;
                self.options.metrics.retain(&mut anchored);
                Some(anchored)
            }
            None => None,
        };
        let names = inputs.iter().map(|p| p.display().to_string()).collect();
        let mut report = self.report(engine, &profile, names, anchored, stats.skipped)?;
        report.intervals = intervals;
        Ok((report, stats))
    }

    /// Score documents held in memory (`name` names them in the report), with the anchor's
    /// formulas (`compat`) over them in order, and the metrics' intervals (`confidence`: a
    /// jackknife over groups of documents), when asked.
    pub fn score_texts(&self, engine: &Engine, name: &str, texts: &[&str]) -> Result<ScoreReport> {
        if texts.is_empty() {
            return Err(Error::NoDocuments { inputs: vec![PathBuf::from(name)] });
        }
        let (profile, intervals) = match self.options.confidence {
            Some(confidence) => {
                let seed = self.settings.config.seed;
                let sizes = vec![1; texts.len()];
                let found = engine.metric_intervals_of_records(self, texts, &sizes, confidence, seed)?;
                let intervals = MetricIntervals {
                    confidence,
                    method: "jackknife".to_string(),
                    groups: found.groups,
                    dealt: "documents".to_string(),
                    seed,
                    values: found.intervals,
                };
                (found.profile, Some(intervals))
            }
            None => (self.profile_texts(engine, texts.iter().copied())?, None),
        };
        if profile.n_docs() == 0 {
            return Err(Error::NoDocuments { inputs: vec![PathBuf::from(name)] });
        }
        let anchored = match self.options.compat {
            Some(compat) => {
                let docs: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
                let mut anchored =
                    engine.install(|| compat_metrics(compat, &docs, &self.settings.tokenizer))?;
                self.options.metrics.retain(&mut anchored);
                Some(anchored)
            }
            None => None,
        };
        let mut report = self.report(engine, &profile, vec![name.to_string()], anchored, 0)?;
        report.intervals = intervals;
        Ok(report)
    }

    /// The report of a profile already made (a saved one, or one a caller built), under
    /// `inputs`' names.
    pub fn report_of(&self, engine: &Engine, profile: &Profile, inputs: Vec<String>) -> Result<ScoreReport> {
        self.report(engine, profile, inputs, None, 0)
    }

    /// The profile of sampled documents of `source` known by their tokens alone (see
    /// [`Engine::profile_sampled`]), with only the parts the asked-for metrics read.
    pub fn profile_sampled<'a>(
        &self,
        engine: &Engine,
        source: &Profile,
        docs: impl IntoIterator<Item = (u64, &'a [u64])>,
    ) -> Result<Profile> {
        let parts = ProfileParts::needed_by(&self.options.metrics);
        engine.profile_sampled(source, docs, &ProfileSettings { parts, ..self.settings.clone() })
    }

    /// The profile of documents held in memory, with only the parts the asked-for metrics read.
    pub fn profile_texts<'a>(
        &self,
        engine: &Engine,
        texts: impl IntoIterator<Item = &'a str>,
    ) -> Result<Profile> {
        let parts = ProfileParts::needed_by(&self.options.metrics);
        engine.profile_texts(texts, &ProfileSettings { parts, ..self.settings.clone() })
    }

    /// The report of a profile: its metrics, plus the anchors' when computed.
    fn report(
        &self,
        engine: &Engine,
        profile: &Profile,
        inputs: Vec<String>,
        anchored: Option<MetricValues>,
        skipped_records: u64,
    ) -> Result<ScoreReport> {
        let (mut values, reference_info, groups) = self.metrics_and_groups(engine, profile)?;
        if let Some(anchored) = anchored {
            values.extend(anchored);
        }
        let sample = profile.sample();
        Ok(ScoreReport {
            tailwatch_version: tailwatch_core::VERSION.to_string(),
            inputs,
            n_docs: profile.n_docs(),
            n_tokens: profile.n_tokens(),
            metrics: values.values,
            approximate: values.approximate,
            reference: reference_info.map(|info| serde_json::to_value(info).expect("serializable")),
            tokenizer: self.settings.config.tokenizer.name(),
            sample: SampleInfo {
                size: sample.size().to_string(),
                docs: sample.held(),
                seed: self.settings.config.seed,
                text_kept: sample.has_text(),
            },
            compat: self.options.compat.map(|c| c.name().to_string()),
            skipped_records,
            zlib_version: zlib_version(),
            notes: values.notes,
            intervals: None,
            groups,
            score_moments: score_moments(profile)?,
        })
    }

    /// The asked-for metrics of a profile, and the reference's description when there is one.
    pub fn metrics(
        &self,
        engine: &Engine,
        profile: &Profile,
    ) -> Result<(MetricValues, Option<ReferenceInfo>)> {
        self.metrics_and_groups(engine, profile).map(|(values, info, _)| (values, info))
    }

    /// [`Scorer::metrics`], with the summary of the profile's groups when it groups answers.
    pub fn metrics_and_groups(
        &self,
        engine: &Engine,
        profile: &Profile,
    ) -> Result<(MetricValues, Option<ReferenceInfo>, Option<GroupSummary>)> {
        engine.install(|| {
            let selection = &self.options.metrics;
            let lexical = LexicalMetrics { tokenizer: &self.settings.tokenizer };
            let items = ItemListMetrics { catalog: self.options.catalog.as_deref() };
            let mut sets: Vec<&dyn MetricSet<Profile>> = vec![&lexical];
            if self.is_items() {
                sets.push(&items);
            }
            let mut values = MetricValues::default();
            for set in sets.into_iter().filter(|set| set.wanted(selection)) {
                values.extend(set.compute(profile, selection)?);
            }
            // the reference's metrics come with its description
            let mut info = None;
            if let Some(reference) = &self.options.reference
                && selection.wants_any(REFERENCE_IDS)
            {
                let (mut against, described) = reference.metrics(profile, self.options.reference_options);
                selection.retain(&mut against);
                values.extend(against);
                info = Some(described);
            }
            for (field, column) in profile.score_columns() {
                for (id, value) in column.metrics(field).map_err(tailwatch_metrics::Error::from)? {
                    if selection.wants(&id) {
                        values.set(&id, Some(value));
                    }
                }
                let (missing, bad) = (column.missing(), column.non_finite());
                if missing + bad > 0 {
                    values.notes.push(format!(
                        "score field `{field}`: {missing} of {} documents have no value and {bad} no finite one; its statistics are of the other {}",
                        profile.n_docs(),
                        column.count()
                    ));
                }
            }
            let mut summary = None;
            if let Some(groups) = profile.groups()
                && selection.wants_any(GROUP_IDS)
            {
                let (found, described) =
                    group_metrics(groups, &self.settings.tokenizer, &self.options.groups, selection)?;
                values.extend(found);
                summary = Some(described);
            }
            Ok((values, info, summary))
        })
    }
}

/// Each score column's moments under its `score_<field>_mean` and `score_<field>_rate` ids.
pub(crate) fn score_moments(
    profile: &Profile,
) -> Result<std::collections::BTreeMap<String, tailwatch_metrics::score_columns::ColumnMoments>> {
    let mut out = std::collections::BTreeMap::new();
    for (field, column) in profile.score_columns() {
        let Some(moments) = column.moments() else { continue };
        let ids =
            tailwatch_metrics::score_columns::metric_ids(field).map_err(tailwatch_metrics::Error::from)?;
        for id in ids.into_iter().filter(|id| id.ends_with("_mean") || id.ends_with("_rate")) {
            out.insert(id, moments);
        }
    }
    Ok(out)
}

/// Refuse a profile made with another tokenizer than `settings`'.
fn check_tokenizer(profile: &Profile, settings: &ProfileSettings, path: &Path) -> Result<()> {
    let theirs = &profile.config().tokenizer;
    if !theirs.same_tokens_as(&settings.config.tokenizer) {
        return Err(Error::TokenizerMismatch {
            path: path.to_path_buf(),
            profiled: theirs.name(),
            run: settings.config.tokenizer.name(),
        });
    }
    Ok(())
}

/// Every document of `inputs`, for `what` (named in the error when an input is a profile), and
/// what reading skipped.
fn read_all_docs(
    inputs: &[PathBuf],
    read: &ReadOptions,
    what: &'static str,
) -> Result<(Vec<String>, ReadStats)> {
    read_records(inputs, read, what).map(|(docs, stats, _)| (docs, stats))
}

/// [`read_all_docs`], with how many documents each record holds.
fn read_records(
    inputs: &[PathBuf],
    read: &ReadOptions,
    what: &'static str,
) -> Result<(Vec<String>, ReadStats, Vec<usize>)> {
    let mut docs = Vec::new();
    let mut sizes = Vec::new();
    let mut stats = ReadStats::default();
    for input in inputs {
        if is_profile_path(input) {
            return Err(Error::NeedsDocuments { what, path: input.clone() });
        }
        let mut reader = tailwatch_io::DocReader::open(input, read)?;
        while let Some(batch) = reader.next_batch()? {
            for record in batch.records {
                sizes.push(record.texts.len());
                docs.extend(record.texts);
            }
        }
        stats += reader.stats();
    }
    Ok((docs, stats, sizes))
}

/// Where a reference comes from, by its file name: a saved profile (`.twp`), a word-frequency
/// table (`.tsv`, `.tsv.gz`, `.tsv.zst`), or any input to profile.
fn is_frequency_table(path: &Path) -> bool {
    let lower = path.display().to_string().to_ascii_lowercase();
    [".tsv", ".tsv.gz", ".tsv.zst"].iter().any(|e| lower.ends_with(e))
}

impl Engine {
    /// Load a reference: a saved profile (checked to be tokenized like `settings`), a
    /// word-frequency table (`word<TAB>count-or-frequency`), or an input profiled with
    /// `settings` and read with `read`.
    pub fn load_reference(
        &self,
        path: &Path,
        read: &ReadOptions,
        settings: &ProfileSettings,
        reporter: &dyn Reporter,
    ) -> Result<Reference> {
        let name = path.display().to_string();
        if is_profile_path(path) {
            let profile = load_profile(path)?;
            check_tokenizer(&profile, settings, path)?;
            return Ok(Reference::from_profile(&profile, &name, "profile"));
        }
        if is_frequency_table(path) {
            let reader = tailwatch_io::open_text(path)?;
            return Ok(Reference::from_frequency_table(reader, path, settings.config.tokenizer.lowercase)?);
        }
        let (profile, _) = self.profile_inputs(&[path.to_path_buf()], read, settings, reporter)?;
        Ok(Reference::from_profile(&profile, &name, "corpus"))
    }
}

/// The item ids of a catalog file: one per line, blank lines skipped.
pub fn read_catalog(path: &Path) -> Result<Vec<String>> {
    let reader = tailwatch_io::open_text(path)?;
    let mut items = Vec::new();
    for line in std::io::BufRead::lines(reader) {
        let line = line.map_err(|e| Error::file(path, e))?;
        if !line.trim().is_empty() {
            items.push(line.trim().to_string());
        }
    }
    Ok(items)
}

/// The tokenizer a profile was made with, rebuilt (built-in tokenizers only: a HuggingFace
/// tokenizer needs its file).
pub fn tokenizer_of(profile: &Profile) -> Result<Tokenizer> {
    Ok(Tokenizer::from_spec(&profile.config().tokenizer)?)
}

/// A profile's groups of answers scored under `options` (every within-group metric, pairwise
/// ones included): their mean metrics, and the summary with every group's row, worst first.
/// `None` for a profile that does not group answers.
pub fn profile_groups(
    engine: &Engine,
    profile: &Profile,
    options: &GroupOptions,
) -> Result<Option<(MetricValues, GroupSummary)>> {
    let Some(groups) = profile.groups() else { return Ok(None) };
    let tokenizer = tokenizer_of(profile)?;
    let scored = engine.install(|| group_metrics(groups, &tokenizer, options, &MetricSelection::All))?;
    Ok(Some(scored))
}

/// The lexical metrics of a profile (and the recommendation metrics for item lists) that
/// `selection` asks for, plus, with a baseline profile, the metrics against it as the
/// reference: what the watch server shows for a version. Empty for an empty profile.
pub fn profile_metrics(
    engine: &Engine,
    profile: &Profile,
    baseline: Option<&Profile>,
    selection: &MetricSelection,
) -> Result<std::collections::BTreeMap<String, Option<f64>>> {
    if profile.n_docs() == 0 {
        return Ok(Default::default());
    }
    let reference =
        baseline.filter(|b| b.n_docs() > 0).map(|b| Reference::from_profile(b, "baseline", "profile"));
    let scorer = Scorer {
        settings: ProfileSettings {
            config: profile.config().clone(),
            ..ProfileSettings::new(tokenizer_of(profile)?)
        },
        options: ScoreOptions { metrics: selection.clone(), reference, ..ScoreOptions::default() },
    };
    Ok(scorer.metrics(engine, profile)?.0.values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_options_are_checked_and_named_as_the_engine_names_them() {
        let options = group_options("jaccard:0.6", 0.5, 1.0).unwrap();
        assert_eq!(
            (options.equivalence, options.patience, options.pass_threshold),
            (Equivalence::Jaccard(0.6), 0.5, 1.0)
        );
        assert_eq!(group_options("unigram", 0.8, 0.5).unwrap(), GroupOptions::default());
        for (rule, patience, pass, message) in [
            (
                "levenshtein",
                0.8,
                0.5,
                "equivalence must be `unigram`, `unigram:<t>`, `exact` or `jaccard:<t>` with t in [0, 1], found `levenshtein`",
            ),
            ("unigram:1.5", 0.8, 0.5, "found `unigram:1.5`"),
            ("exact", 0.0, 0.5, "patience must be in (0, 1], found 0"),
            ("exact", 0.8, f64::NAN, "pass_threshold must be a finite number, found NaN"),
        ] {
            let error = group_options(rule, patience, pass).unwrap_err().to_string();
            assert!(error.ends_with(message) || error == message, "{error}");
        }
    }
}
