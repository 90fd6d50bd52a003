//! Profiling inputs: readers feed batches to one worker per pool thread, each building a
//! profile; the profiles merge at the end (exactly, so the thread count changes nothing).
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use tailwatch_core::{Reporter, Tokenizer, TokenizerSpec};
use tailwatch_io::{Batch, DocReader, ReadOptions, ReadStats};
use tailwatch_metrics::grouped::{GroupBy, GroupSample};
use tailwatch_metrics::{ExactNgramEstimate, Profile, ProfileBuilder, ProfileConfig, ProfileParts};

use crate::{Engine, Error, Result};

/// The default memory budget of the exact n-gram tables: 4 GiB.
pub const DEFAULT_MAX_MEMORY: u64 = 4 << 30;

/// How documents become a profile: the tokenizer, the profile's settings (which profiles must
/// share to merge) and the memory budget of the exact n-gram tables.
#[derive(Debug, Clone)]
pub struct ProfileSettings {
    /// The tokenizer.
    pub tokenizer: Tokenizer,
    /// The profile's settings; its tokenizer spec is the tokenizer's.
    pub config: ProfileConfig,
    /// Bytes the exact n-gram tables of the whole input may take before they become sketches.
    pub max_memory: u64,
    /// The parts of the profile to keep (all of them for a profile that is saved or pushed).
    pub parts: ProfileParts,
}

impl ProfileSettings {
    /// Default settings for `tokenizer`: a sample of 1000 documents, seed 0, 4 GiB.
    pub fn new(tokenizer: Tokenizer) -> Self {
        let config = ProfileConfig::new(tokenizer.spec().clone());
        Self { tokenizer, config, max_memory: DEFAULT_MAX_MEMORY, parts: ProfileParts::ALL }
    }
}

impl ProfileSettings {
    /// A builder of a profile of these settings.
    pub fn builder(&self) -> ProfileBuilder<'_> {
        ProfileBuilder::with_parts(&self.tokenizer, self.config.clone(), self.parts)
    }
}

/// Check that each score field can name its metrics (`score_<name>_*`, the name holding its
/// ASCII letters and digits) and that no two name the same ones.
pub fn check_score_fields(fields: &[String]) -> Result<()> {
    let mut names = std::collections::BTreeMap::new();
    for field in fields {
        let name = tailwatch_metrics::score_columns::sanitize_field(field)
            .map_err(|e| Error::Metrics(tailwatch_metrics::Error::ScoreColumn(e)))?;
        if let Some(first) = names.insert(name.clone(), field) {
            return Err(Error::ScoreFieldClash { first: first.clone(), second: field.clone(), name });
        }
    }
    Ok(())
}

/// A tokenizer by name: `words`, `whitespace`, `python-split`, `items`, or a path to a
/// HuggingFace `tokenizer.json`.
pub fn tokenizer_by_name(name: &str, lowercase: bool) -> Result<Tokenizer> {
    if let Some(spec) = TokenizerSpec::parse_builtin(name, lowercase) {
        return Ok(Tokenizer::from_spec(&spec)?);
    }
    let path = Path::new(name);
    if !path.exists() {
        return Err(Error::UnknownTokenizer { name: name.to_string() });
    }
    let bytes = tailwatch_io::read_file_limited(path, MAX_TOKENIZER_BYTES)?;
    Ok(Tokenizer::huggingface(&bytes, name, lowercase)?)
}

/// The largest `tokenizer.json` read: 256 MiB (the largest public ones are about 30 MB; a path of
/// `/dev/zero` grew without bound).
pub const MAX_TOKENIZER_BYTES: u64 = 256 << 20;

/// The largest `.twp` file read: 4 GiB (profiles are mostly fixed-size sketches; the sample of a
/// `--sample all` profile of a large corpus is what grows).
pub const MAX_PROFILE_FILE_BYTES: u64 = 4 << 30;

/// How far the estimated size of the union must exceed the limit before a run switches to
/// sketches early: ten standard errors of the estimate, so that an early switch is one the exact
/// rule (the merged tables exceed the limit) makes too, but for a chance of about 1e-23.
const EARLY_SWITCH_MARGIN: f64 = 10.0 * tailwatch_metrics::distinct_estimate::RELATIVE_STANDARD_ERROR;

/// One memory budget for the exact n-gram tables of a whole run, shared by its workers.
///
/// The rule: a run's profile is sketched when the exact tables of the whole input would take
/// more than `limit` bytes ([`Profile::exact_ngram_bytes`], a function of the corpus alone), so
/// that the result never depends on the number of threads or on which worker read what.
///
/// Applying it without merging the workers' tables: while the workers' tables together (an
/// upper bound of their union) fit the limit, nothing can be over it. Past that, workers keep
/// HyperLogLog registers of their n-grams ([`ExactNgramEstimate`]); the registers of the union
/// of what was read need no merge of the tables, and when its estimated size exceeds the limit
/// by [`EARLY_SWITCH_MARGIN`] every worker switches to sketches at once. Otherwise the
/// workers' profiles merge at the end and the exact size of the merged tables decides. Workers
/// whose tables overlap can hold more than the limit in all; past twice the limit a worker
/// whose own memory outgrows its share moves its profile into a pooled one.
///
/// Peak memory: about the limit (plus the margin) when the workers' n-grams are mostly
/// distinct, as in most corpora; at most twice the limit plus the pooled profile (itself at
/// most the limit) when they overlap; plus what the final merge needs.
struct NgramBudget {
    limit: usize,
    /// A worker's own memory at which it moves its profile into the pooled one, once the
    /// workers hold twice the limit.
    share: usize,
    /// [`Profile::exact_ngram_bytes_bound`] of every worker's profile, plus the exact bytes of
    /// the pooled one.
    held: std::sync::atomic::AtomicUsize,
    estimate: std::sync::Mutex<ExactNgramEstimate>,
    pooled: std::sync::Mutex<Option<Profile>>,
    sketched: std::sync::atomic::AtomicBool,
    /// The bytes of every worker's sample of groups of answers, plus the pooled sample's.
    groups_held: std::sync::atomic::AtomicUsize,
    /// Workers' samples of groups moved out of their profiles once all of them together held
    /// more than the limit (their text cannot be sketched; pooling drops the groups past the
    /// sample size and joins the parts of split groups).
    pooled_groups: std::sync::Mutex<Option<GroupSample>>,
}

/// Refuse a sample of groups of answers holding more than `limit` bytes (their text has no
/// sketch to fall back on): [`Error::GroupsOverBudget`].
fn refuse_groups_past(groups: &GroupSample, limit: usize) -> Result<()> {
    if groups.memory_bytes() <= limit {
        return Ok(());
    }
    Err(Error::GroupsOverBudget {
        bytes: groups.memory_bytes() as u64,
        groups: groups.len() as u64,
        limit: limit as u64,
    })
}

/// Refuse a profile whose sample of groups holds more than `max_memory` bytes (what a run's
/// memory budget allows it; for front ends that build profiles themselves).
pub fn check_group_memory(profile: &Profile, max_memory: u64) -> Result<()> {
    match profile.groups() {
        Some(groups) => refuse_groups_past(groups, usize::try_from(max_memory).unwrap_or(usize::MAX)),
        None => Ok(()),
    }
}

/// Replace `old` bytes by `new` in a count of bytes held; the count now.
fn replace_bytes(count: &std::sync::atomic::AtomicUsize, old: usize, new: usize) -> usize {
    use std::sync::atomic::Ordering;
    if new >= old {
        count.fetch_add(new - old, Ordering::AcqRel) + (new - old)
    } else {
        count.fetch_sub(old - new, Ordering::AcqRel) - (old - new)
    }
}

/// Lock a mutex whose holder may have panicked (the data stays consistent: every update under
/// these locks is a merge that either happened or did not).
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl NgramBudget {
    fn new(limit: u64, workers: usize) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Self {
            limit,
            share: limit / workers.max(1),
            held: std::sync::atomic::AtomicUsize::new(0),
            estimate: std::sync::Mutex::new(ExactNgramEstimate::default()),
            pooled: std::sync::Mutex::new(None),
            sketched: std::sync::atomic::AtomicBool::new(false),
            groups_held: std::sync::atomic::AtomicUsize::new(0),
            pooled_groups: std::sync::Mutex::new(None),
        }
    }

    /// Replace `old` bytes by `new` in the bytes held; the bytes held now.
    fn update_held(&self, old: usize, new: usize) -> usize {
        replace_bytes(&self.held, old, new)
    }

    fn switch_to_sketches(&self) {
        self.sketched.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Check a worker's profile after a batch: sketch it once the run is sketched, decide
    /// whether the run is, or move the profile into the pooled one. `reported` is what this
    /// worker last added to the bytes held.
    fn check(&self, builder: &mut ProfileBuilder<'_>, reported: &mut usize) -> tailwatch_metrics::Result<()> {
        use std::sync::atomic::Ordering;
        if builder.profile().is_sketched() {
            return Ok(());
        }
        if self.sketched.load(Ordering::Acquire) {
            builder.profile_mut().sketch_ngrams();
            return Ok(());
        }
        let bound = builder.profile().exact_ngram_bytes_bound();
        let held = self.update_held(*reported, bound);
        *reported = bound;
        if held <= self.limit {
            return Ok(()); // the union of everything read so far fits
        }
        builder.profile_mut().track_distinct_ngrams();
        let estimated = {
            let mut estimate = lock(&self.estimate);
            estimate.absorb(builder.profile());
            estimate.bytes()
        };
        if estimated > self.limit as f64 * (1.0 + EARLY_SWITCH_MARGIN) {
            self.switch_to_sketches();
            builder.profile_mut().sketch_ngrams();
            return Ok(());
        }
        if held <= self.limit.saturating_mul(2) || builder.profile().memory_bytes() <= self.share {
            return Ok(());
        }
        // overlapping tables: pool them, so that memory stays bounded
        let mine = builder.take();
        self.update_held(std::mem::take(reported), 0);
        let mut pooled = lock(&self.pooled);
        let pooled = pooled.get_or_insert_with(|| Profile::with_parts(mine.config().clone(), mine.parts()));
        let before = pooled.exact_ngram_bytes();
        pooled.merge(mine)?;
        let after = pooled.exact_ngram_bytes();
        self.update_held(before, after);
        if !pooled.is_sketched() && after > self.limit {
            // a part of the input already exceeds the limit, so the whole does
            pooled.sketch_ngrams();
            pooled.seal();
            self.switch_to_sketches();
        }
        Ok(())
    }

    /// Check a worker's sample of groups after a batch (`reported`: what this worker last added
    /// to the bytes held). Once all samples together hold more than the limit, the worker's
    /// moves into the pooled one; a pooled sample past the limit fails the run: the answers'
    /// text has no sketch to fall back on, and sampling fewer groups than asked would make a
    /// profile that merges with no other of its settings.
    fn check_groups(&self, builder: &mut ProfileBuilder<'_>, reported: &mut usize) -> Result<()> {
        let Some(bytes) = builder.profile().groups().map(GroupSample::memory_bytes) else { return Ok(()) };
        let held = replace_bytes(&self.groups_held, std::mem::replace(reported, bytes), bytes);
        if held <= self.limit {
            return Ok(());
        }
        let Some(mine) = builder.profile_mut().take_groups() else { return Ok(()) };
        replace_bytes(&self.groups_held, std::mem::take(reported), 0);
        let mut pooled = lock(&self.pooled_groups);
        let before = pooled.as_ref().map_or(0, GroupSample::memory_bytes);
        match pooled.as_mut() {
            Some(p) => p.merge(mine)?,
            None => *pooled = Some(mine),
        }
        let sample = pooled.as_ref().expect("pooled above");
        replace_bytes(&self.groups_held, before, sample.memory_bytes());
        refuse_groups_past(sample, self.limit)
    }

    /// The run's profile: the pooled one and every worker's, merged, sketched if the exact
    /// tables of the whole input exceed the limit.
    fn finish(self, workers: Vec<Profile>, settings: &ProfileSettings) -> Result<Profile> {
        let mut workers = workers.into_iter();
        // merge into the largest profile so far: its tables stay where they are
        let pooled = self.pooled.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut merged = match pooled {
            Some(pooled) => pooled,
            None => {
                workers.next().unwrap_or_else(|| Profile::with_parts(settings.config.clone(), settings.parts))
            }
        };
        for profile in workers {
            merged.merge(profile)?;
        }
        let pooled_groups =
            self.pooled_groups.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(groups) = pooled_groups {
            merged.merge_groups(groups)?;
        }
        if let Some(groups) = merged.groups() {
            refuse_groups_past(groups, self.limit)?;
        }
        merged.seal();
        if !merged.is_sketched() && merged.exact_ngram_bytes() > self.limit {
            merged.sketch_ngrams();
            merged.seal();
        }
        Ok(merged)
    }
}

/// The part a record's field plays in a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRole {
    /// Answers sharing its value are answers to one prompt.
    Group,
    /// It orders a group's answers (a generation index).
    Order,
    /// A score of each answer (`score_<field>_*`).
    Score,
}

impl FieldRole {
    /// `group`, `order` or `score`.
    pub fn name(self) -> &'static str {
        match self {
            FieldRole::Group => "group",
            FieldRole::Order => "order",
            FieldRole::Score => "score",
        }
    }
}

/// What a profile reads of a record besides its documents: the field its answers are grouped
/// by, the field that orders them and its score fields, each at its place among the record's
/// extra fields ([`ReadOptions::extra_fields`]; a front end holding records in memory gives
/// them in the order of [`RecordFields::names`]).
#[derive(Debug, Clone)]
pub struct RecordFields {
    grouping: Option<GroupBy>,
    /// The extra fields, in order.
    names: Vec<String>,
    /// The group field's place, when answers are grouped by a field.
    group: Option<usize>,
    /// Each score field's name and place.
    scores: Vec<(String, usize)>,
    /// The order field's name and place, when answers are ordered by one.
    order: Option<(String, usize)>,
}

/// One record's answers as a profile reads them: the group they join (with `key`, when the
/// profile groups answers), each score field's value for each answer (`scores[f][i]`; `None`:
/// missing), and their places in the group's order (with an order field).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordAnswers {
    /// The group key.
    pub key: Option<String>,
    /// Each score field's value for each answer.
    pub scores: Vec<Vec<Option<f64>>>,
    /// Each answer's place in its group, when the grouping has an order field.
    pub orders: Option<Vec<u64>>,
}

impl RecordAnswers {
    /// Add the record's answers (`texts`, one per answer) to `builder`.
    pub fn observe<S: AsRef<str>>(
        &self,
        builder: &mut ProfileBuilder<'_>,
        texts: &[S],
    ) -> tailwatch_metrics::Result<()> {
        builder.observe_answers(self.key.as_deref(), texts, &self.scores, self.orders.as_deref())
    }
}

/// A record's field that a profile cannot read: which, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Its part.
    pub role: FieldRole,
    /// The field.
    pub field: String,
    /// What is wrong with it.
    pub why: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.role {
            FieldRole::Group => write!(
                f,
                "no group field `{}` (every record needs one to be grouped; null counts as none)",
                self.field
            ),
            role => write!(f, "{} field `{}`: {}", role.name(), self.field, self.why),
        }
    }
}

impl FieldError {
    /// The engine's error of this field of the record at `location` of `path`.
    pub fn at(self, path: &Path, location: tailwatch_io::Location) -> Error {
        let path = path.to_path_buf();
        match self.role {
            FieldRole::Group => Error::MissingGroupField { path, location, field: self.field },
            role => Error::BadScore { kind: role.name(), path, location, field: self.field, why: self.why },
        }
    }
}

impl RecordFields {
    /// The fields a profile of `config` reads, placed among `extra_fields` (appended when
    /// missing).
    pub fn new(config: &ProfileConfig, extra_fields: &mut Vec<String>) -> Self {
        let mut place = |field: &str| match extra_fields.iter().position(|f| f == field) {
            Some(i) => i,
            None => {
                extra_fields.push(field.to_string());
                extra_fields.len() - 1
            }
        };
        let grouping = config.grouping.as_ref().map(|g| g.by.clone());
        let group = match &grouping {
            Some(GroupBy::Field(field)) => Some(place(field)),
            _ => None,
        };
        let scores = config.score_fields.iter().map(|f| (f.clone(), place(f))).collect();
        let order = config
            .grouping
            .as_ref()
            .and_then(|g| g.order_field.as_deref())
            .map(|f| (f.to_string(), place(f)));
        Self { grouping, names: extra_fields.clone(), group, scores, order }
    }

    /// The fields a profile of `config` reads, in the order [`RecordFields::read`] takes them.
    pub fn of(config: &ProfileConfig) -> Self {
        Self::new(config, &mut Vec::new())
    }

    /// The extra fields, in order: what [`RecordFields::read`] takes.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The part the field `name` plays (the first, for a field given two parts).
    pub fn role(&self, name: &str) -> Option<FieldRole> {
        let place = self.names.iter().position(|n| n == name)?;
        if self.group == Some(place) {
            Some(FieldRole::Group)
        } else if self.scores.iter().any(|(_, i)| *i == place) {
            Some(FieldRole::Score)
        } else if self.order.as_ref().is_some_and(|(_, i)| *i == place) {
            Some(FieldRole::Order)
        } else {
            None
        }
    }

    /// Whether records are plain documents to this profile (no grouping, no score fields).
    pub fn is_empty(&self) -> bool {
        self.grouping.is_none() && self.scores.is_empty()
    }

    /// Read the fields of the record numbered `number` of `source` (`extras`: its extra fields'
    /// texts, as [`tailwatch_io::Record::extras`]), which holds `answers` documents: its group
    /// key, its scores (a number, `true`/`false`, or a JSON array of one per answer) and the
    /// places of its answers (a whole number, for a record of one answer).
    pub fn read(
        &self,
        source: &Path,
        number: u64,
        extras: &[Option<String>],
        answers: usize,
    ) -> std::result::Result<RecordAnswers, FieldError> {
        let value = |i: usize| extras.get(i).and_then(Option::as_deref);
        let key = match &self.grouping {
            None => None,
            Some(GroupBy::Record) => Some(format!("{}:{number}", source.display())),
            Some(GroupBy::Field(field)) => match self.group.and_then(value) {
                Some(key) => Some(key.to_string()),
                None => {
                    return Err(FieldError {
                        role: FieldRole::Group,
                        field: field.clone(),
                        why: String::new(),
                    });
                }
            },
        };
        let mut scores = Vec::with_capacity(self.scores.len());
        for (field, i) in &self.scores {
            scores.push(score_values(value(*i), answers).map_err(|why| FieldError {
                role: FieldRole::Score,
                field: field.clone(),
                why,
            })?);
        }
        let orders = match &self.order {
            None => None,
            Some((field, i)) => {
                let place = match (value(*i).map(str::trim), answers) {
                    (Some(t), 1) => {
                        t.parse::<u64>().map_err(|_| format!("`{t}` is not a whole number 0 or more"))
                    }
                    (None, _) => {
                        Err("missing (every record needs one when answers are ordered by it)".to_string())
                    }
                    (Some(_), n) => {
                        Err(format!("one value for {n} answers (an order field orders one answer a record)"))
                    }
                };
                Some(vec![place.map_err(|why| FieldError {
                    role: FieldRole::Order,
                    field: field.clone(),
                    why,
                })?])
            }
        };
        Ok(RecordAnswers { key, scores, orders })
    }
}

/// How a run's records become groups of answers and scores.
#[derive(Debug, Clone, Copy)]
struct GroupRead<'a> {
    fields: &'a RecordFields,
    /// The format the run forces, if any (else each input's, from its name).
    format: Option<tailwatch_io::Format>,
}

/// `read` with the fields the profile reads (the group field, the score fields, the order
/// field) among its extra fields, and where they are.
fn grouped_read(read: &ReadOptions, settings: &ProfileSettings) -> (ReadOptions, RecordFields) {
    let mut read = read.clone();
    let fields = RecordFields::new(&settings.config, &mut read.extra_fields);
    (read, fields)
}

/// A record's value of a score field (its extra-field text, `None` when missing or null) for
/// each of its `answers`: a number (or `true`/`false`, 1/0) for one answer, or a JSON array of
/// one per answer (`null` for a missing one). Why not, else.
fn score_values(text: Option<&str>, answers: usize) -> std::result::Result<Vec<Option<f64>>, String> {
    fn scalar(text: &str) -> std::result::Result<Option<f64>, String> {
        let t = text.trim();
        let value = match t {
            "true" => 1.0,
            "false" => 0.0,
            _ => t.parse::<f64>().map_err(|_| format!("`{t}` is not a number"))?,
        };
        if !value.is_finite() {
            return Err(format!("`{t}` is not a finite number (drop or fill such scores)"));
        }
        Ok(Some(value))
    }
    fn element(value: &serde_json::Value) -> std::result::Result<Option<f64>, String> {
        match value {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::Bool(b) => Ok(Some(f64::from(u8::from(*b)))),
            serde_json::Value::Number(n) => scalar(&n.to_string()),
            serde_json::Value::String(s) => scalar(s),
            other => Err(format!("{other} is not a number")),
        }
    }
    let Some(text) = text else { return Ok(vec![None; answers]) };
    if text.trim_start().starts_with('[') {
        let values: Vec<serde_json::Value> =
            serde_json::from_str(text).map_err(|e| format!("an array that is not JSON ({e})"))?;
        if values.len() != answers {
            return Err(format!(
                "{} value(s) for {answers} answers (one per answer, in order)",
                values.len()
            ));
        }
        return values.iter().map(element).collect();
    }
    if answers != 1 {
        return Err(format!("one value for {answers} answers (give an array of one per answer)"));
    }
    Ok(vec![scalar(text)?])
}

/// Add a batch of `input` to `builder`: each document, its scores, and each record's answers
/// to its group.
fn observe_batch(
    builder: &mut ProfileBuilder<'_>,
    batch: &Batch,
    input: &Path,
    groups: GroupRead<'_>,
) -> Result<()> {
    if groups.fields.is_empty() {
        return Ok(batch.texts().try_for_each(|doc| builder.observe(doc))?);
    }
    let location = |number: u64| {
        use tailwatch_io::{Format, Location};
        match groups.format.unwrap_or_else(|| Format::from_path(input)) {
            Format::Text | Format::Jsonl => Location::Line(number),
            _ => Location::Record(number),
        }
    };
    for record in &batch.records {
        let answers = groups
            .fields
            .read(input, record.number, &record.extras, record.texts.len())
            .map_err(|e| e.at(input, location(record.number)))?;
        answers.observe(builder, &record.texts)?;
    }
    Ok(())
}

/// One worker: profile the batches it receives until the channel closes. After an error it
/// keeps draining, so that the reader never waits on a failed worker.
fn work(
    receive: impl Fn() -> Option<(usize, Batch)>,
    inputs: &[PathBuf],
    groups: GroupRead<'_>,
    settings: &ProfileSettings,
    budget: &NgramBudget,
) -> Result<Profile> {
    let mut builder = settings.builder();
    let (mut reported, mut reported_groups) = (0, 0);
    let mut failed = None;
    while let Some((input, batch)) = receive() {
        if failed.is_some() {
            continue;
        }
        let observed = observe_batch(&mut builder, &batch, &inputs[input], groups)
            .and_then(|()| budget.check_groups(&mut builder, &mut reported_groups))
            .and_then(|()| Ok(budget.check(&mut builder, &mut reported)?));
        if let Err(e) = observed {
            failed = Some(e);
        }
    }
    match failed {
        Some(e) => Err(e),
        // sealed by the merge
        None => Ok(builder.take()),
    }
}

/// `read` with batches small enough that every worker gets several of a small input (sixteen
/// each: the workers wait for the first batch, and the last is shared out more evenly; at
/// least 64 KiB: the batch size changes nothing but how the work is shared).
fn batches_for(input: &Path, read: &ReadOptions, workers: usize) -> ReadOptions {
    let size = std::fs::metadata(input).map(|m| m.len()).unwrap_or(u64::MAX);
    let share = usize::try_from(size / (16 * workers.max(1) as u64)).unwrap_or(usize::MAX);
    ReadOptions { batch_bytes: read.batch_bytes.min(share.max(64 << 10)), ..read.clone() }
}

/// Read every input in order and hand each batch, with its input's index, to `send` (which
/// returns false once the workers stopped); the read statistics of all inputs.
fn read_inputs(
    inputs: &[PathBuf],
    read: &ReadOptions,
    workers: usize,
    reporter: &dyn Reporter,
    mut send: impl FnMut(usize, Batch) -> bool,
) -> Result<ReadStats> {
    let mut stats = ReadStats::default();
    for (index, input) in inputs.iter().enumerate() {
        let mut reader = DocReader::open(input, &batches_for(input, read, workers))?;
        reporter.start(&short_name(input), reader.total_bytes());
        let mut last = 0;
        while let Some(batch) = reader.next_batch()? {
            let now = reader.bytes_read();
            reporter.advance(now - last);
            last = now;
            if !send(index, batch) {
                break; // a worker failed; its error is reported by the caller
            }
        }
        reporter.finish();
        stats += reader.stats();
    }
    Ok(stats)
}

impl Engine {
    /// Profile `inputs` together: the calling thread reads, one worker on each pool thread
    /// profiles, and the workers' profiles merge on the pool. Called from a thread of this
    /// engine's own pool (where waiting for every pool thread would wait for itself), it reads
    /// and profiles on that thread alone; the profile is the same.
    pub fn profile_inputs(
        &self,
        inputs: &[PathBuf],
        read: &ReadOptions,
        settings: &ProfileSettings,
        reporter: &dyn Reporter,
    ) -> Result<(Profile, ReadStats)> {
        let (read, fields) = grouped_read(read, settings);
        let groups = GroupRead { fields: &fields, format: read.format };
        let read = &read;
        if self.pool().current_thread_index().is_some() {
            let budget = NgramBudget::new(settings.max_memory, 1);
            let mut builder = settings.builder();
            let (mut reported, mut reported_groups) = (0, 0);
            let mut failed = None;
            let stats = read_inputs(inputs, read, 1, reporter, |input, batch| {
                let observed = observe_batch(&mut builder, &batch, &inputs[input], groups)
                    .and_then(|()| budget.check_groups(&mut builder, &mut reported_groups))
                    .and_then(|()| Ok(budget.check(&mut builder, &mut reported)?));
                match observed {
                    Ok(()) => true,
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            return Ok((budget.finish(vec![builder.take()], settings)?, stats));
        }
        let workers = self.threads();
        let budget = NgramBudget::new(settings.max_memory, workers);
        let (sender, receiver) = sync_channel::<(usize, Batch)>(workers * 2);
        let receiver = std::sync::Mutex::new(receiver);
        let receive = || receiver.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv().ok();
        let (profiles, stats) = std::thread::scope(|scope| {
            // one worker on each thread of the pool, which also merges their profiles below:
            // memory freed by the merge is reused by the same threads' allocations
            let running =
                scope.spawn(|| self.pool().broadcast(|_| work(receive, inputs, groups, settings, &budget)));
            let stats = read_inputs(inputs, read, workers, reporter, |input, batch| {
                sender.send((input, batch)).is_ok()
            });
            drop(sender);
            let profiles = running.join().unwrap_or_else(|_| vec![Err(Error::WorkerPanicked)]);
            (profiles, stats)
        });
        let stats = stats?;
        let profiles = profiles.into_iter().collect::<Result<Vec<Profile>>>()?;
        let profile = self.install(|| budget.finish(profiles, settings))?;
        Ok((profile, stats))
    }

    /// Profile documents held in memory, in order, on the calling thread (merges and sealing
    /// run on the pool).
    pub fn profile_texts<'a>(
        &self,
        texts: impl IntoIterator<Item = &'a str>,
        settings: &ProfileSettings,
    ) -> Result<Profile> {
        let budget = NgramBudget::new(settings.max_memory, 1);
        let mut builder = settings.builder();
        let mut reported = 0;
        for (i, text) in texts.into_iter().enumerate() {
            builder.observe(text)?;
            if i % 4096 == 4095 {
                self.install(|| budget.check(&mut builder, &mut reported))?;
            }
        }
        self.install(|| budget.finish(vec![builder.take()], settings))
    }

    /// Profile sampled documents of `source` known by their tokens alone (its sample key and
    /// token hashes each; `source` is a profile that keeps no text), their token texts read from
    /// its vocabulary, in order, on the calling thread.
    pub fn profile_sampled<'a>(
        &self,
        source: &Profile,
        docs: impl IntoIterator<Item = (u64, &'a [u64])>,
        settings: &ProfileSettings,
    ) -> Result<Profile> {
        let budget = NgramBudget::new(settings.max_memory, 1);
        let mut builder = settings.builder();
        let mut reported = 0;
        for (i, (key, tokens)) in docs.into_iter().enumerate() {
            builder.observe_sampled(key, tokens, |hash| source.token_text(hash).map(str::to_string))?;
            if i % 4096 == 4095 {
                self.install(|| budget.check(&mut builder, &mut reported))?;
            }
        }
        self.install(|| budget.finish(vec![builder.take()], settings))
    }

    /// Profiles of `chunks` contiguous slices of `texts` (as even as can be), each on its own
    /// (for thresholds built from the spread of a metric between slices).
    pub fn profile_chunks(
        &self,
        texts: &[&str],
        settings: &ProfileSettings,
        chunks: usize,
    ) -> Result<Vec<Profile>> {
        let size = texts.len().div_ceil(chunks.max(1)).max(1);
        texts.chunks(size).map(|slice| self.profile_texts(slice.iter().copied(), settings)).collect()
    }

    /// Merge saved profiles, in order, into one.
    pub fn merge_profiles(&self, paths: &[PathBuf]) -> Result<Profile> {
        let mut paths = paths.iter();
        let Some(first) = paths.next() else {
            return Err(Error::NoDocuments { inputs: Vec::new() });
        };
        let mut merged = load_profile(first)?;
        for path in paths {
            let next = load_profile(path)?;
            self.install(|| merged.merge(next)).map_err(|source| Error::Merge {
                path: path.clone(),
                into: first.clone(),
                source,
            })?;
        }
        Ok(merged)
    }
}

/// The documents of an input held in memory (an upload) with their record numbers; `name`
/// names it in errors.
pub fn records_of_bytes(name: &str, bytes: Vec<u8>, read: &ReadOptions) -> Result<Vec<(u64, String)>> {
    let mut reader = DocReader::from_bytes(name, bytes, read)?;
    let mut docs = Vec::new();
    while let Some(batch) = reader.next_batch()? {
        for record in batch.records {
            docs.extend(record.texts.into_iter().map(|text| (record.number, text)));
        }
    }
    Ok(docs)
}

fn short_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Whether a path names a saved profile (`.twp`).
pub fn is_profile_path(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "twp")
}

/// Load a `.twp` profile.
pub fn load_profile(path: &Path) -> Result<Profile> {
    let bytes = tailwatch_io::read_file_limited(path, MAX_PROFILE_FILE_BYTES)?;
    Ok(Profile::from_bytes_limited(&bytes, path, decoded_limit(bytes.len()))?)
}

/// How far a profile of `compressed` bytes may decompress: [`MAX_PROFILE_EXPANSION`] times,
/// and at least 64 MiB. Real profiles are mostly hashes and expand 1.5 to 4 times; a 134 KB
/// decompression bomb took the CLI to 6.3 GB.
pub fn decoded_limit(compressed: usize) -> usize {
    compressed.saturating_mul(MAX_PROFILE_EXPANSION).max(64 << 20)
}

/// See [`decoded_limit`].
pub const MAX_PROFILE_EXPANSION: usize = 64;

/// Write a `.twp` profile as a [`tailwatch_io::OutputFile`], so a failure never leaves a torn
/// file.
pub fn save_profile(profile: &Profile, path: &Path) -> Result<()> {
    let bytes = profile.to_bytes()?;
    Ok(tailwatch_io::output::write_file(path, &bytes)?)
}

#[cfg(test)]
mod tests {
    use tailwatch_metrics::SampleSize;
    use tailwatch_metrics::grouped::Grouping;

    use super::*;

    fn scored_config() -> ProfileConfig {
        let mut config = ProfileConfig::new(TokenizerSpec::parse_builtin("words", false).unwrap());
        config.grouping = Some(Grouping {
            by: GroupBy::Field("prompt".into()),
            groups: SampleSize::All,
            order_field: Some("i".into()),
        });
        config.score_fields = vec!["reward".into(), "pass".into()];
        config
    }

    fn some(values: &[Option<&str>]) -> Vec<Option<String>> {
        values.iter().map(|v| v.map(str::to_string)).collect()
    }

    #[test]
    fn record_fields_read_a_record_as_the_readers_give_it() {
        let fields = RecordFields::of(&scored_config());
        assert_eq!(fields.names(), ["prompt", "reward", "pass", "i"]);
        assert_eq!(fields.role("prompt"), Some(FieldRole::Group));
        assert_eq!(fields.role("pass"), Some(FieldRole::Score));
        assert_eq!(fields.role("i"), Some(FieldRole::Order));
        assert_eq!(fields.role("text"), None);
        assert!(!fields.is_empty());
        assert!(RecordFields::of(&ProfileConfig::new(scored_config().tokenizer)).is_empty());
        // placed among fields a reader already reads
        let mut extras = vec!["i".to_string(), "other".to_string()];
        let placed = RecordFields::new(&scored_config(), &mut extras);
        assert_eq!(extras, ["i", "other", "prompt", "reward", "pass"]);
        assert_eq!(placed.names(), extras.as_slice());
        let path = Path::new("in.jsonl");
        let read =
            fields.read(path, 3, &some(&[Some("q1"), Some(" 0.5 "), Some("true"), Some("2")]), 1).unwrap();
        let want = RecordAnswers {
            key: Some("q1".into()),
            scores: vec![vec![Some(0.5)], vec![Some(1.0)]],
            orders: Some(vec![2]),
        };
        assert_eq!(read, want);
        let missing = fields.read(path, 3, &some(&[Some("q1"), None, Some("0"), Some("0")]), 1).unwrap();
        assert_eq!(missing.scores, [vec![None], vec![Some(0.0)]]);
        // what a record cannot give, and how the errors read
        let cases: &[(&[Option<&str>], usize, &str)] = &[
            (&[None, Some("1"), Some("1"), Some("0")], 1, "no group field `prompt` (every record needs one"),
            (
                &[Some("q"), Some("NaN"), Some("1"), Some("0")],
                1,
                "score field `reward`: `NaN` is not a finite number",
            ),
            (
                &[Some("q"), Some("high"), Some("1"), Some("0")],
                1,
                "score field `reward`: `high` is not a number",
            ),
            (
                &[Some("q"), Some("1"), Some("[1]"), Some("0")],
                2,
                "score field `reward`: one value for 2 answers",
            ),
            (
                &[Some("q"), Some("1"), Some("1"), Some("-1")],
                1,
                "order field `i`: `-1` is not a whole number 0 or more",
            ),
            (&[Some("q"), Some("1"), Some("1"), None], 1, "order field `i`: missing"),
        ];
        for (extras, answers, message) in cases {
            let error = fields.read(path, 3, &some(extras), *answers).unwrap_err();
            assert!(error.to_string().starts_with(message), "{error} vs {message}");
            let located = error.at(path, tailwatch_io::Location::Row(2)).to_string();
            assert!(located.starts_with(&format!("in.jsonl: row 2: {message}")), "{located}");
        }
    }

    #[test]
    fn score_fields_must_name_their_own_metrics() {
        assert!(check_score_fields(&["reward".into(), "pass".into()]).is_ok());
        let clash = check_score_fields(&["a.b".into(), "a_b".into()]).unwrap_err().to_string();
        assert_eq!(clash, "score fields `a.b` and `a_b` both name metrics `score_a_b_*`: keep one");
        assert!(check_score_fields(&["...".into()]).unwrap_err().to_string().contains("no ASCII letter"));
    }
}
