//! `Profile`: a mergeable profile of documents, the same `.twp` bytes as `tailwatch profile`.
use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple, PyType};
use rayon::prelude::*;
use tailwatch::profiling::{RecordAnswers, RecordFields};
use tailwatch::{Engine, ProfileSettings, ScoreOptions, Scorer};
use tailwatch_core::Tokenizer;
use tailwatch_metrics::grouped::{GroupBy, GroupOptions, GroupRow, Grouping};
use tailwatch_metrics::{MetricSelection, Profile, ProfileBuilder, ProfileConfig, Reference, SampleSize};

use crate::errors::{IntoPy, input_error};
use crate::pool::engine;
use crate::texts::{Documents, documents, stream_column};

/// A sample size: a number of documents, or `"all"`.
#[derive(FromPyObject)]
pub enum SampleArg {
    /// At most this many documents.
    Docs(u64),
    /// `"all"`.
    Word(String),
}

impl SampleArg {
    fn size(&self) -> PyResult<SampleSize> {
        match self {
            SampleArg::Docs(n) => Ok(SampleSize::Docs(*n)),
            SampleArg::Word(w) if w == "all" => Ok(SampleSize::All),
            SampleArg::Word(w) => {
                Err(PyValueError::new_err(format!("sample must be a number or \"all\", found {w:?}")))
            }
        }
    }
}

/// A tokenizer argument: a built-in name (or a path to a `tokenizer.json`), or the bytes of a
/// HuggingFace `tokenizer.json` (what executors can be sent).
#[derive(FromPyObject)]
pub enum TokenizerArg {
    /// A name or a path.
    Name(String),
    /// `tokenizer.json` bytes.
    Json(Vec<u8>),
}

impl TokenizerArg {
    /// The tokenizer.
    pub fn load(&self, lowercase: bool) -> PyResult<Tokenizer> {
        match self {
            TokenizerArg::Name(name) => tailwatch::tokenizer_by_name(name, lowercase).py_err(),
            TokenizerArg::Json(json) => Tokenizer::huggingface(json, "tokenizer.json", lowercase)
                .map_err(|e| crate::errors::to_py(e.into())),
        }
    }
}

/// A profile of documents: counts, n-gram tables, exact-duplicate counts, a length histogram
/// and a bottom-k sample, from which every corpus metric is computed. Profiles of the same
/// settings merge exactly (the profile of both corpora); an empty profile is the identity of
/// the merge. One profile per thread or partition, then merge them.
#[pyclass(module = "tailwatch._tailwatch", name = "Profile")]
pub struct PyProfile {
    pub(crate) profile: Profile,
    /// The tokenizer, when known (a loaded profile of a HuggingFace tokenizer needs its file).
    pub(crate) tokenizer: Option<Tokenizer>,
    pub(crate) max_memory: u64,
}

impl PyProfile {
    /// A profile of these settings, empty.
    pub fn empty(tokenizer: Tokenizer, config: ProfileConfig, max_memory: u64) -> Self {
        Self { profile: Profile::new(config).sealed(), tokenizer: Some(tokenizer), max_memory }
    }

    /// A loaded profile with the tokenizer given for it (loaded with the profile's own
    /// lowercasing), else its built-in one.
    fn loaded(profile: Profile, tokenizer: Option<TokenizerArg>) -> PyResult<Self> {
        let tokenizer = tokenizer.map(|t| t.load(profile.config().tokenizer.lowercase)).transpose()?;
        Ok(Self::of(profile, tokenizer))
    }

    /// A loaded profile (its tokenizer rebuilt when built in, or the one given).
    pub fn of(profile: Profile, tokenizer: Option<Tokenizer>) -> Self {
        let tokenizer = tokenizer.or_else(|| tailwatch::scoring::tokenizer_of(&profile).ok());
        Self { profile, tokenizer, max_memory: tailwatch::profiling::DEFAULT_MAX_MEMORY }
    }

    /// The settings the constructor's arguments describe.
    pub fn new_settings(
        tokenizer: TokenizerArg,
        lowercase: bool,
        sample: SampleArg,
        seed: u64,
        items_k: u32,
        keep_text: bool,
        max_memory: Option<u64>,
    ) -> PyResult<ProfileSettings> {
        let tokenizer = tokenizer.load(lowercase)?;
        let mut settings = ProfileSettings::new(tokenizer);
        settings.config.sample = sample.size()?;
        settings.config.seed = seed;
        settings.config.items_k = items_k;
        settings.config.keep_text = keep_text;
        settings.max_memory = max_memory.unwrap_or(tailwatch::profiling::DEFAULT_MAX_MEMORY);
        Ok(settings)
    }

    /// The settings documents compared with this profile are profiled with.
    pub fn settings_for_scoring(&self) -> PyResult<ProfileSettings> {
        self.settings()
    }

    fn settings(&self) -> PyResult<ProfileSettings> {
        let tokenizer = self.tokenizer.clone().ok_or_else(|| {
            crate::errors::TokenizerError::new_err(format!(
                "this profile was made with the tokenizer `{}`, which needs its tokenizer.json: pass tokenizer=<its bytes> when loading it",
                self.profile.config().tokenizer.name()
            ))
        })?;
        Ok(ProfileSettings {
            tokenizer,
            config: self.profile.config().clone(),
            max_memory: self.max_memory,
            parts: tailwatch_metrics::ProfileParts::ALL,
        })
    }

    /// Add `docs`, profiled on the pool in one part per thread, to this profile.
    fn absorb(&mut self, py: Python<'_>, docs: &Documents, skip_nulls: bool) -> PyResult<()> {
        if let Some(grouping) = self.profile.config().grouping.as_ref() {
            return Err(input_error(format!(
                "this Profile groups answers by {}: a document needs its group, so add answers with update_groups, or update_arrow(table, column) with the fields as columns",
                grouping.by
            )));
        }
        let strs = docs.strs(skip_nulls)?;
        let settings = self.settings()?;
        let engine = engine()?;
        let profile = &mut self.profile;
        py.detach(|| absorb(&engine, profile, &strs, &settings)).py_err()
    }

    /// The fields this profile reads of a record besides its text (none for plain documents).
    fn fields(&self) -> RecordFields {
        RecordFields::of(self.profile.config())
    }

    /// Whether two profiles hold the same content (their canonical bytes are equal).
    fn bytes(&self) -> PyResult<Vec<u8>> {
        self.profile.to_bytes().py_err()
    }
}

/// Documents from which an update is profiled in parallel parts (merged into the whole, which
/// re-sorts it once); smaller updates, and every update on one thread, go on adding to the
/// profile itself (Spark and Ray tasks update batch after batch).
const PARALLEL_UPDATE_DOCS: usize = 1 << 16;

/// Add `docs` to `profile`, in order. Large updates with several pool threads are profiled in
/// one contiguous part per thread and merged in (merges are exact: the result is that of one
/// pass in order); the others are added to the profile itself. Either way the memory budget is
/// the whole profile's: its n-gram tables become sketches once their exact size exceeds it.
/// The profile is left sealed.
pub fn absorb(
    engine: &Engine,
    profile: &mut Profile,
    docs: &[&str],
    settings: &ProfileSettings,
) -> tailwatch::Result<()> {
    if docs.is_empty() {
        return Ok(());
    }
    let threads = engine.threads().max(1);
    // a document of a scored profile has no score: its fields count as missing, one by one
    let fields = profile.config().score_fields.len();
    if threads == 1 || docs.len() < PARALLEL_UPDATE_DOCS || fields > 0 {
        return engine.install(|| {
            observe_resumed(profile, settings, |builder| {
                let missing = vec![vec![None]; fields];
                for (i, doc) in docs.iter().enumerate() {
                    if fields == 0 {
                        builder.observe(doc)?;
                    } else {
                        builder.observe_answers(None, &[doc], &missing, None)?;
                    }
                    if i % 65_536 == 65_535 {
                        apply_budget(builder.profile_mut(), settings.max_memory);
                    }
                }
                Ok(())
            })
        });
    }
    let size = docs.len().div_ceil(threads);
    let profiles: Vec<Profile> = engine.install(|| {
        docs.par_chunks(size)
            .map(|chunk| engine.profile_texts(chunk.iter().copied(), settings))
            .collect::<tailwatch::Result<Vec<_>>>()
    })?;
    engine.install(|| -> tailwatch::Result<()> {
        for part in profiles {
            profile.merge(part)?;
        }
        apply_budget(profile, settings.max_memory);
        profile.seal();
        Ok(())
    })
}

/// Run `observe` on a builder that goes on adding to `profile` (what it added before failing
/// stays added), then apply the memory budget and seal the profile. A sample of groups past
/// the budget is an error (the answers stay added: the profile says what it was given).
fn observe_resumed(
    profile: &mut Profile,
    settings: &ProfileSettings,
    observe: impl FnOnce(&mut ProfileBuilder<'_>) -> tailwatch::Result<()>,
) -> tailwatch::Result<()> {
    let empty = Profile::with_parts(profile.config().clone(), profile.parts());
    let mut builder = ProfileBuilder::resume(&settings.tokenizer, std::mem::replace(profile, empty));
    let observed = observe(&mut builder);
    *profile = builder.take();
    apply_budget(profile, settings.max_memory);
    profile.seal();
    observed.and_then(|()| tailwatch::profiling::check_group_memory(profile, settings.max_memory))
}

/// Add answers with their fields, in order (on the calling thread: the pool runs merges).
fn observe_answers<'a>(
    engine: &Engine,
    profile: &mut Profile,
    settings: &ProfileSettings,
    answers: impl IntoIterator<Item = (&'a str, &'a RecordAnswers)> + Send,
) -> tailwatch::Result<()> {
    engine.install(|| {
        observe_resumed(profile, settings, |builder| {
            for (i, (text, fields)) in answers.into_iter().enumerate() {
                fields.observe(builder, &[text])?;
                if i % 65_536 == 65_535 {
                    apply_budget(builder.profile_mut(), settings.max_memory);
                }
            }
            Ok(())
        })
    })
}

/// Sketch the n-gram tables once their exact size exceeds `max_memory` (checked exactly only
/// when the bound, which needs no sorting, is over it).
fn apply_budget(profile: &mut Profile, max_memory: u64) {
    if profile.is_sketched() || profile.exact_ngram_bytes_bound() as u64 <= max_memory {
        return;
    }
    profile.seal();
    if profile.exact_ngram_bytes() as u64 > max_memory {
        profile.sketch_ngrams();
        profile.seal();
    }
}

/// The keyword arguments of the constructor, as the classmethods forward them.
fn construct<'py>(
    cls: &Bound<'py, PyType>,
    config: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    cls.call((), config)
}

fn borrow_mut<'py>(slf: &Bound<'py, PyProfile>) -> PyResult<PyRefMut<'py, PyProfile>> {
    slf.try_borrow_mut().map_err(|_| in_use())
}

fn borrow<'py>(slf: &Bound<'py, PyProfile>) -> PyResult<PyRef<'py, PyProfile>> {
    slf.try_borrow().map_err(|_| in_use())
}

fn in_use() -> PyErr {
    pyo3::exceptions::PyRuntimeError::new_err(
        "this Profile is being updated by another thread: use one Profile per thread and merge them",
    )
}

/// The metrics asked for (`None`: all).
pub fn selection(metrics: Option<Vec<String>>) -> PyResult<MetricSelection> {
    match metrics {
        None => Ok(MetricSelection::All),
        Some(ids) => MetricSelection::only(ids).py_err(),
    }
}

/// A reference argument: a `Reference` or a `Profile`.
pub fn reference_of(reference: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Reference>> {
    let Some(reference) = reference else { return Ok(None) };
    if let Ok(r) = reference.cast::<crate::reference::PyReference>() {
        return Ok(Some(r.borrow().reference.clone()));
    }
    if let Ok(p) = reference.cast::<PyProfile>() {
        let p = borrow(p)?;
        return Ok(Some(Reference::from_profile(&p.profile, "profile", "profile")));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "reference must be a tailwatch.Reference or a tailwatch.Profile",
    ))
}

#[pymethods]
impl PyProfile {
    /// An empty profile of these settings (the identity of `merge`). `group_field` names the
    /// field answers are grouped by (as `tailwatch profile --group-field`): the profile then
    /// keeps a sample of `group_sample` groups for the within-group metrics (`update_groups`,
    /// or `update_arrow` of a table with that column). `order_field` (with `group_field`) is a
    /// whole-number field ordering each group's answers (`--order-field`); `score_fields` are
    /// numeric fields to keep statistics of (`--score-field`: metrics `score_<field>_*`; the
    /// first also scores grouped answers).
    #[new]
    #[pyo3(signature = (tokenizer = TokenizerArg::Name("words".to_string()), *, lowercase = false, sample = SampleArg::Docs(1000), seed = 0, items_k = 10, keep_text = false, max_memory = None, group_field = None, group_sample = SampleArg::Docs(tailwatch_metrics::grouped::DEFAULT_GROUP_SAMPLE), order_field = None, score_fields = None))]
    #[allow(clippy::too_many_arguments, reason = "the keyword arguments of a Python constructor")]
    fn new(
        tokenizer: TokenizerArg,
        lowercase: bool,
        sample: SampleArg,
        seed: u64,
        items_k: u32,
        keep_text: bool,
        max_memory: Option<u64>,
        group_field: Option<String>,
        group_sample: SampleArg,
        order_field: Option<String>,
        score_fields: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut settings =
            Self::new_settings(tokenizer, lowercase, sample, seed, items_k, keep_text, max_memory)?;
        match (group_field, order_field) {
            (Some(field), order_field) => {
                let groups = group_sample.size()?;
                if groups == tailwatch_metrics::SampleSize::Docs(0) {
                    return Err(input_error("group_sample must be positive or \"all\"".to_string()));
                }
                settings.config.grouping = Some(Grouping { by: GroupBy::Field(field), groups, order_field });
            }
            (None, Some(order)) => {
                return Err(input_error(format!(
                    "order_field `{order}` orders the answers of each group: it needs group_field"
                )));
            }
            (None, None) => {}
        }
        if let Some(fields) = score_fields {
            if fields.is_instance_of::<PyString>() {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "score_fields is a list of field names, not one str: score_fields=[\"reward\"]",
                ));
            }
            let fields: Vec<String> = fields.extract().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err("score_fields must be a list of str (field names)")
            })?;
            tailwatch::profiling::check_score_fields(&fields).py_err()?;
            settings.config.score_fields = fields;
        }
        Ok(Self::empty(settings.tokenizer, settings.config, settings.max_memory))
    }

    /// Add groups of answers to one prompt: a mapping of group key to its answers, or an
    /// iterable of `(key, answers)` pairs. An answer is a `str`, or a `(str, {field: value})`
    /// pair giving its order field and score fields (numbers, bools, None for a missing score),
    /// as a record of one answer gives them to `tailwatch profile`. Each answer is a document;
    /// the groups feed `distinct_at_k` and the other within-group metrics. Answers of one key
    /// in several calls (or profiles, merged) form one group. Every answer is checked before
    /// any is added.
    fn update_groups(slf: &Bound<'_, Self>, groups: &Bound<'_, PyAny>) -> PyResult<()> {
        let (fields, by_record) = {
            let this = borrow(slf)?;
            let Some(grouping) = this.profile.config().grouping.as_ref() else {
                return Err(input_error(
                    "this Profile does not group answers: make it with Profile(group_field=...) or Profile.from_groups".to_string(),
                ));
            };
            (this.fields(), grouping.by == GroupBy::Record)
        };
        let pairs =
            if groups.is_instance_of::<PyDict>() { groups.call_method0("items")? } else { groups.clone() };
        let mut parsed: Vec<(String, RecordAnswers)> = Vec::new();
        for item in pairs.try_iter()? {
            let item = item?;
            let (key, answers): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(
                    "update_groups takes a mapping of key to answers, or (key, answers) pairs",
                )
            })?;
            let key: String = key.str()?.extract()?;
            if answers.is_instance_of::<PyString>() {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "the answers of group `{key}` are one str: give a list of answers"
                )));
            }
            let iter = answers.try_iter().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "the answers of group `{key}` must be a list of answers"
                ))
            })?;
            for (index, answer) in iter.enumerate() {
                let (text, mut answers) = crate::records::group_answer(&key, index, &answer?, &fields)?;
                if by_record {
                    // the answers of a record keep its order (`--group-by record`)
                    answers.orders = Some(vec![index as u64]);
                }
                parsed.push((text, answers));
            }
        }
        let mut this = borrow_mut(slf)?;
        let settings = this.settings()?;
        let engine = engine()?;
        let profile = &mut this.profile;
        slf.py()
            .detach(|| {
                observe_answers(&engine, profile, &settings, parsed.iter().map(|(t, a)| (t.as_str(), a)))
            })
            .py_err()
    }

    /// The profile of groups of answers (see `update_groups`), grouped under `group_field`
    /// (default `"prompt"`), with the constructor's other keyword arguments.
    #[classmethod]
    #[pyo3(signature = (groups, **config))]
    fn from_groups<'py>(
        cls: &Bound<'py, PyType>,
        groups: &Bound<'py, PyAny>,
        config: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let config = match config {
            Some(c) => c.copy()?,
            None => PyDict::new(cls.py()),
        };
        if !config.contains("group_field")? {
            config.set_item("group_field", "prompt")?;
        }
        let profile = construct(cls, Some(&config))?;
        Self::update_groups(profile.cast::<PyProfile>()?, groups)?;
        Ok(profile)
    }

    /// Add documents: an iterable of `str`, a pyarrow `Array` or `ChunkedArray` of strings,
    /// or any object with `__arrow_c_array__` (read without copying). Nulls raise `InputError`
    /// unless `skip_nulls`.
    #[pyo3(signature = (texts, *, skip_nulls = false))]
    fn update(slf: &Bound<'_, Self>, texts: &Bound<'_, PyAny>, skip_nulls: bool) -> PyResult<()> {
        let docs = documents(texts, skip_nulls)?;
        borrow_mut(slf)?.absorb(slf.py(), &docs, skip_nulls)
    }

    /// Add the column `column` of a tabular Arrow object (`__arrow_c_stream__`: a pyarrow Table
    /// or RecordBatchReader, a polars DataFrame, ...), batch by batch. A profile that groups or
    /// scores answers reads its group, order and score fields from the table's columns of those
    /// names, each row one answer (every row checked before any is added).
    #[pyo3(signature = (table, column, *, skip_nulls = false))]
    fn update_arrow(
        slf: &Bound<'_, Self>,
        table: &Bound<'_, PyAny>,
        column: &str,
        skip_nulls: bool,
    ) -> PyResult<()> {
        if !table.hasattr("__arrow_c_stream__")? {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "update_arrow takes a table with __arrow_c_stream__ (pyarrow Table, RecordBatchReader, polars DataFrame)",
            ));
        }
        let fields = borrow(slf)?.fields();
        if fields.is_empty() {
            let docs = stream_column(table, column)?;
            return borrow_mut(slf)?.absorb(slf.py(), &docs, skip_nulls);
        }
        if borrow(slf)?.profile.config().grouping.as_ref().is_some_and(|g| g.by == GroupBy::Record) {
            return Err(input_error(
                "this Profile groups the answers of each record's array field: a table row holds one answer, so add groups with update_groups".to_string(),
            ));
        }
        let table = crate::records::table_answers(table, column, &fields, skip_nulls)?;
        let mut this = borrow_mut(slf)?;
        let settings = this.settings()?;
        let engine = engine()?;
        let profile = &mut this.profile;
        slf.py().detach(|| observe_answers(&engine, profile, &settings, table.answers())).py_err()
    }

    /// The profile of `texts` (see `update`), with the constructor's keyword arguments.
    #[classmethod]
    #[pyo3(signature = (texts, *, skip_nulls = false, **config))]
    fn from_texts<'py>(
        cls: &Bound<'py, PyType>,
        texts: &Bound<'py, PyAny>,
        skip_nulls: bool,
        config: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let profile = construct(cls, config)?;
        Self::update(profile.cast::<PyProfile>()?, texts, skip_nulls)?;
        Ok(profile)
    }

    /// The profile of the column `column` of a table (`__arrow_c_stream__`), or of an Arrow
    /// array when `column` is None.
    #[classmethod]
    #[pyo3(signature = (data, column = None, *, skip_nulls = false, **config))]
    fn from_arrow<'py>(
        cls: &Bound<'py, PyType>,
        data: &Bound<'py, PyAny>,
        column: Option<&str>,
        skip_nulls: bool,
        config: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let profile = construct(cls, config)?;
        let bound = profile.cast::<PyProfile>()?;
        match column {
            Some(column) => Self::update_arrow(bound, data, column, skip_nulls)?,
            None => Self::update(bound, data, skip_nulls)?,
        }
        Ok(profile)
    }

    /// The profile of the column `column` of a HuggingFace `datasets.Dataset` (or
    /// `IterableDataset`), read as Arrow batches of `batch_size` rows (never `.map`, whose cache
    /// would skip the work).
    #[classmethod]
    #[pyo3(signature = (dataset, column, *, batch_size = 10_000, skip_nulls = false, **config))]
    fn from_dataset<'py>(
        cls: &Bound<'py, PyType>,
        dataset: &Bound<'py, PyAny>,
        column: &str,
        batch_size: usize,
        skip_nulls: bool,
        config: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = cls.py();
        let profile = construct(cls, config)?;
        let bound = profile.cast::<PyProfile>()?;
        let arrow = dataset.call_method1("with_format", ("arrow",))?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("batch_size", batch_size)?;
        for table in arrow.call_method("iter", (), Some(&kwargs))?.try_iter()? {
            Self::update_arrow(bound, &table?, column, skip_nulls)?;
        }
        Ok(profile)
    }

    /// A new profile: this one merged with `other` (of the same settings).
    fn merge(slf: &Bound<'_, Self>, other: &Bound<'_, Self>) -> PyResult<Self> {
        let (mine, theirs) = (borrow(slf)?, borrow(other)?);
        let mut merged = mine.profile.clone();
        let other = theirs.profile.clone();
        let engine = engine()?;
        slf.py().detach(|| engine.install(|| merged.merge(other))).py_err()?;
        Ok(Self {
            profile: merged,
            tokenizer: mine.tokenizer.clone().or(theirs.tokenizer.clone()),
            max_memory: mine.max_memory,
        })
    }

    /// Metric id to value (None when undefined), as `tailwatch score --json` reports them:
    /// `metrics` picks ids (default: all), `reference` (a `Reference` or a `Profile`) adds the
    /// reference metrics. `compat` formulas read every document in input order, which a profile
    /// does not keep: use `tailwatch.score(texts, compat=...)`. Groups of answers are scored
    /// with `equivalence` (`unigram`, `unigram:<t>`, `exact` or `jaccard:<t>`, as `--equivalence`),
    /// `patience` (`utility_at_k`) and `pass_threshold` (`distinct_among_passing`).
    #[pyo3(signature = (reference = None, *, metrics = None, compat = None, equivalence = "unigram", patience = tailwatch_metrics::groups::DEFAULT_PATIENCE, pass_threshold = tailwatch_metrics::grouped::DEFAULT_PASS_THRESHOLD))]
    #[allow(clippy::too_many_arguments, reason = "keyword arguments of a Python method")]
    fn metrics<'py>(
        slf: &Bound<'py, Self>,
        reference: Option<&Bound<'py, PyAny>>,
        metrics: Option<Vec<String>>,
        compat: Option<&str>,
        equivalence: &str,
        patience: f64,
        pass_threshold: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let groups = group_options(equivalence, patience, pass_threshold)?;
        let (report, _) = Self::report_json(slf, reference, metrics, compat, groups)?;
        let dict = PyDict::new(slf.py());
        if let serde_json::Value::Object(map) = &report["metrics"] {
            for (id, value) in map {
                dict.set_item(id, value.as_f64())?;
            }
        }
        Ok(dict)
    }

    /// The report `tailwatch score --json` writes for this profile, as a `tailwatch.Report`
    /// (`metrics`, `approximate`, `notes`, `raw`; `to_pandas()`); for a profile that groups
    /// answers, also `groups` (how many, their spread) and `per_group`, the rows `tailwatch
    /// score --per-group` writes, worst first. `equivalence`, `patience` and `pass_threshold`
    /// as for `metrics`.
    #[pyo3(signature = (reference = None, *, metrics = None, equivalence = "unigram", patience = tailwatch_metrics::groups::DEFAULT_PATIENCE, pass_threshold = tailwatch_metrics::grouped::DEFAULT_PASS_THRESHOLD))]
    fn report<'py>(
        slf: &Bound<'py, Self>,
        reference: Option<&Bound<'py, PyAny>>,
        metrics: Option<Vec<String>>,
        equivalence: &str,
        patience: f64,
        pass_threshold: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let groups = group_options(equivalence, patience, pass_threshold)?;
        let (report, rows) = Self::report_json(slf, reference, metrics, None, groups)?;
        let rows = serde_json::to_value(rows).expect("serializable");
        let report_class = py.import("tailwatch._report")?.getattr("Report")?;
        report_class
            .call_method1("from_dict", (crate::json_to_py(py, &report)?, crate::json_to_py(py, &rows)?))
    }

    /// The profile's canonical `.twp` bytes (what `tailwatch profile` writes).
    fn to_bytes<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = borrow(slf)?.bytes()?;
        Ok(PyBytes::new(slf.py(), &bytes))
    }

    /// A profile from `.twp` bytes; `tokenizer` (its `tokenizer.json` bytes) when it was made
    /// with a HuggingFace tokenizer and will be updated or scored.
    #[staticmethod]
    #[pyo3(signature = (data, *, tokenizer = None, max_decoded = None))]
    fn from_bytes(
        data: &[u8],
        tokenizer: Option<TokenizerArg>,
        max_decoded: Option<usize>,
    ) -> PyResult<Self> {
        let limit = max_decoded.unwrap_or_else(|| tailwatch::decoded_limit(data.len()));
        let profile = Profile::from_bytes_limited(data, std::path::Path::new("<bytes>"), limit).py_err()?;
        Self::loaded(profile, tokenizer)
    }

    /// Write the profile to a `.twp` file (replaced whole, never torn).
    fn save(slf: &Bound<'_, Self>, path: PathBuf) -> PyResult<()> {
        let me = borrow(slf)?;
        tailwatch::save_profile(&me.profile, &path).py_err()
    }

    /// A profile from a `.twp` file.
    #[staticmethod]
    #[pyo3(signature = (path, *, tokenizer = None))]
    fn load(path: PathBuf, tokenizer: Option<TokenizerArg>) -> PyResult<Self> {
        let profile = tailwatch::load_profile(&path).py_err()?;
        Self::loaded(profile, tokenizer)
    }

    /// Documents profiled.
    #[getter]
    fn n_docs(&self) -> u64 {
        self.profile.n_docs()
    }

    /// Tokens profiled.
    #[getter]
    fn n_tokens(&self) -> u64 {
        self.profile.n_tokens()
    }

    /// Distinct token types.
    #[getter]
    fn n_types(&self) -> usize {
        self.profile.n_types()
    }

    /// Whether the n-gram tables became sketches (past `max_memory`): distinct-n is then
    /// estimated.
    #[getter]
    fn is_sketched(&self) -> bool {
        self.profile.is_sketched()
    }

    /// Bytes the profile takes in memory (approximately).
    #[getter]
    fn memory_bytes(&self) -> usize {
        self.profile.memory_bytes()
    }

    /// The settings, as a plain dict (what profiles must share to merge).
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.profile.config();
        let value = serde_json::json!({
            "tokenizer": c.tokenizer.name(),
            "lowercase": c.tokenizer.lowercase,
            "sample": match c.sample { SampleSize::Docs(n) => serde_json::json!(n), SampleSize::All => serde_json::json!("all") },
            "seed": c.seed,
            "items_k": c.items_k,
            "keep_text": c.keep_text,
            "max_memory": self.max_memory,
            "group_field": match c.grouping.as_ref().map(|g| &g.by) {
                Some(GroupBy::Field(field)) => serde_json::json!(field),
                _ => serde_json::Value::Null,
            },
            "group_sample": c.grouping.as_ref().map(|g| match g.groups {
                SampleSize::Docs(n) => serde_json::json!(n),
                SampleSize::All => serde_json::json!("all"),
            }),
            "order_field": c.grouping.as_ref().and_then(|g| g.order_field.clone()),
            "score_fields": c.score_fields,
        });
        crate::json_to_py(py, &value)
    }

    fn __len__(&self) -> usize {
        self.profile.n_docs() as usize
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        match other.cast::<PyProfile>() {
            Ok(other) => Ok(self.bytes()? == borrow(other)?.bytes()?),
            Err(_) => Ok(false),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "Profile(docs={}, tokens={}, types={}, tokenizer={:?}{})",
            self.profile.n_docs(),
            self.profile.n_tokens(),
            self.profile.n_types(),
            self.profile.config().tokenizer.name(),
            if self.profile.is_sketched() { ", sketched" } else { "" }
        )
    }

    /// Pickle as the `.twp` bytes (an executor of another tailwatch version raises
    /// `UnsupportedVersionError`, never reads garbage).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let rebuild = py.import("tailwatch._tailwatch")?.getattr("_profile_from_bytes")?;
        let bytes = Self::to_bytes(slf)?;
        let max_memory = borrow(slf)?.max_memory;
        (rebuild, (bytes, max_memory)).into_pyobject(py)
    }
}

impl PyProfile {
    /// The report's JSON, and the rows of its groups (worst first; none without groups).
    fn report_json(
        slf: &Bound<'_, Self>,
        reference: Option<&Bound<'_, PyAny>>,
        metrics: Option<Vec<String>>,
        compat: Option<&str>,
        groups: GroupOptions,
    ) -> PyResult<(serde_json::Value, Vec<GroupRow>)> {
        if compat.is_some() {
            return Err(PyValueError::new_err(
                "compat formulas read every document in input order, which a profile does not keep: use tailwatch.score(texts, compat=...)",
            ));
        }
        let reference = reference_of(reference)?;
        let me = borrow(slf)?;
        let options =
            ScoreOptions { metrics: selection(metrics)?, reference, groups, ..ScoreOptions::default() };
        let scorer = Scorer { settings: me.settings()?, options };
        let engine = engine()?;
        let profile = &me.profile;
        let mut report =
            slf.py().detach(|| scorer.report_of(&engine, profile, vec!["<profile>".to_string()])).py_err()?;
        let rows = report.groups.as_mut().map(|g| std::mem::take(&mut g.rows)).unwrap_or_default();
        Ok((serde_json::to_value(report).expect("serializable"), rows))
    }
}

/// How groups of answers are scored (the engine checks the values).
pub fn group_options(equivalence: &str, patience: f64, pass_threshold: f64) -> PyResult<GroupOptions> {
    tailwatch::scoring::group_options(equivalence, patience, pass_threshold).py_err()
}

/// Rebuild a pickled profile.
#[pyfunction]
pub fn _profile_from_bytes(data: &[u8], max_memory: u64) -> PyResult<PyProfile> {
    let mut profile = PyProfile::from_bytes(data, None, None)?;
    profile.max_memory = max_memory;
    Ok(profile)
}

/// Merge profiles (or `.twp` bytes) into one, in a balanced tree: the same profile whatever
/// the order.
#[pyfunction]
pub fn merge(py: Python<'_>, profiles: &Bound<'_, PyAny>) -> PyResult<PyProfile> {
    let mut all: Vec<Profile> = Vec::new();
    let mut tokenizer = None;
    let mut max_memory = tailwatch::profiling::DEFAULT_MAX_MEMORY;
    for (index, item) in profiles.try_iter()?.enumerate() {
        let item = item?;
        if let Ok(p) = item.cast::<PyProfile>() {
            let p = borrow(p)?;
            if tokenizer.is_none() {
                tokenizer = p.tokenizer.clone();
                max_memory = p.max_memory;
            }
            all.push(p.profile.clone());
        } else if let Ok(bytes) = item.extract::<&[u8]>() {
            let name = format!("<profile {index}>");
            let limit = tailwatch::decoded_limit(bytes.len());
            all.push(Profile::from_bytes_limited(bytes, std::path::Path::new(&name), limit).py_err()?);
        } else {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "element {index} is neither a Profile nor bytes"
            )));
        }
    }
    if all.is_empty() {
        return Err(input_error("merge needs at least one profile"));
    }
    let engine = engine()?;
    let merged = py
        .detach(|| {
            engine.install(|| {
                let mut merged = merge_tree(all)?;
                // the memory budget of the whole, as when one process profiles everything
                apply_budget(&mut merged, max_memory);
                Ok::<_, tailwatch_metrics::Error>(merged)
            })
        })
        .py_err()?;
    let mut out = PyProfile::of(merged, tokenizer);
    out.max_memory = max_memory;
    Ok(out)
}

/// Merge in a balanced tree (pairs, then pairs of pairs) on the pool.
fn merge_tree(mut profiles: Vec<Profile>) -> tailwatch_metrics::Result<Profile> {
    while profiles.len() > 1 {
        let mut pairs = Vec::with_capacity(profiles.len().div_ceil(2));
        let mut iter = profiles.into_iter();
        while let Some(a) = iter.next() {
            pairs.push((a, iter.next()));
        }
        profiles = pairs
            .into_par_iter()
            .map(|(mut a, b)| {
                if let Some(b) = b {
                    a.merge(b)?;
                }
                Ok(a)
            })
            .collect::<tailwatch_metrics::Result<Vec<_>>>()?;
    }
    let mut merged = profiles.pop().expect("at least one profile");
    merged.seal();
    Ok(merged)
}
