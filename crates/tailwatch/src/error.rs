//! Errors of the engine: each crate's errors, and what goes wrong between them, as data.
use std::path::PathBuf;

/// Result alias of the engine.
pub type Result<T> = std::result::Result<T, Error>;

/// What can go wrong in an engine operation. Messages name files, records and fields, never a
/// front end's flags: a front end adds its own hints (the CLI's `hint:` lines).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading an input failed.
    #[error(transparent)]
    Input(#[from] tailwatch_io::Error),
    /// Tokenizing, profiling, loading or comparing profiles failed.
    #[error(transparent)]
    Metrics(#[from] tailwatch_metrics::Error),
    /// A tokenizer could not be built.
    #[error(transparent)]
    Tokenizer(#[from] tailwatch_core::Error),
    /// A simulation is invalid or failed.
    #[error(transparent)]
    Simulation(#[from] tailwatch_sim::Error),
    /// Dedup options that cannot run.
    #[error(transparent)]
    Dedup(#[from] tailwatch_sketch::Error),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] tailwatch_ledger::Error),
    /// The detector failed.
    #[error(transparent)]
    Detector(#[from] tailwatch_detect::DetectError),
    /// A saved report that cannot stand for a side of a comparison.
    #[error("`{path}` is not a report compare can trust: {reason}")]
    BadReport {
        /// The report.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("cannot access `{path}`: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A run's sample of groups of answers (their text) grew past the memory budget.
    #[error(
        "the sample of groups of answers holds {bytes} bytes in {groups} groups, past the memory budget of {limit} bytes: keep fewer groups, or allow more memory"
    )]
    GroupsOverBudget {
        /// Bytes the sample held (the worker's, or the whole run's).
        bytes: u64,
        /// Groups it held.
        groups: u64,
        /// The budget (the run's, or a worker's share of it).
        limit: u64,
    },
    /// Something computed over documents one by one, asked of answers in groups.
    #[error("{what} are not computed for answers in groups (yet): score them ungrouped")]
    NotForGroups {
        /// What was asked.
        what: &'static str,
    },
    /// A record's score or order field that is not a number for each of its answers.
    #[error("{}: {location}: {kind} field `{field}`: {why}", .path.display())]
    BadScore {
        /// `score` or `order`.
        kind: &'static str,
        /// The input.
        path: PathBuf,
        /// The record.
        location: tailwatch_io::Location,
        /// The score field.
        field: String,
        /// What is wrong with it.
        why: String,
    },
    /// Two score fields whose metrics would have the same ids.
    #[error("score fields `{first}` and `{second}` both name metrics `score_{name}_*`: keep one")]
    ScoreFieldClash {
        /// The first field.
        first: String,
        /// The second.
        second: String,
        /// The name both give their metrics.
        name: String,
    },
    /// A record without the field its answers are grouped by.
    #[error("{}: {location}: no group field `{field}` (every record needs one to be grouped; null counts as none)", .path.display())]
    MissingGroupField {
        /// The input.
        path: PathBuf,
        /// The record.
        location: tailwatch_io::Location,
        /// The group field.
        field: String,
    },
    /// The inputs hold no document.
    #[error("no documents in {} (empty input, or every record was skipped)", list(.inputs))]
    NoDocuments {
        /// The inputs.
        inputs: Vec<PathBuf>,
    },
    /// A saved profile among several inputs to profile together.
    #[error("`{}` is a profile; score profiles one at a time or merge them first", .path.display())]
    ProfileAmongInputs {
        /// The profile.
        path: PathBuf,
    },
    /// A saved profile made with another tokenizer than the run's.
    #[error("`{}` was profiled with tokenizer `{profiled}`, but this run uses `{run}`", .path.display())]
    TokenizerMismatch {
        /// The profile.
        path: PathBuf,
        /// Its tokenizer.
        profiled: String,
        /// The run's tokenizer.
        run: String,
    },
    /// A tokenizer name that is neither built in nor a file.
    #[error(
        "unknown tokenizer `{name}` (expected `words`, `whitespace`, `python-split`, `items` or a path to a HuggingFace tokenizer.json)"
    )]
    UnknownTokenizer {
        /// The name given.
        name: String,
    },
    /// Something reads every document (an anchor's formulas, intervals), but a saved profile
    /// was given.
    #[error("{what} need the documents themselves, not the profile `{}`", .path.display())]
    NeedsDocuments {
        /// What needs them: `an anchor's formulas`, `confidence intervals`.
        what: &'static str,
        /// The profile.
        path: PathBuf,
    },
    /// A parameter outside its range.
    #[error("{name} must be {expected}, found {found}")]
    InvalidParameter {
        /// The parameter, as the engine's option field is named.
        name: &'static str,
        /// Its valid range, in words.
        expected: &'static str,
        /// The value given.
        found: String,
    },
    /// A model option given for a model it does not apply to.
    #[error("{option} does not apply to the {model} model (it applies to: {applies_to})")]
    NotApplicable {
        /// The option, as [`crate::simulating::ModelOptions`] names it.
        option: &'static str,
        /// The model.
        model: String,
        /// The models it applies to, comma-separated.
        applies_to: String,
    },
    /// Two options that name one value give two values.
    #[error("{first} {first_value} and {second} {second_value} name two tails; give one")]
    TwoValues {
        /// The first option.
        first: &'static str,
        /// Its value.
        first_value: f64,
        /// The second option.
        second: &'static str,
        /// Its value.
        second_value: f64,
    },
    /// An input changed while it was read (its records are read twice).
    #[error("{}", changed(.path, *.record))]
    ChangedWhileRead {
        /// The input.
        path: PathBuf,
        /// The record that is not what it was, when one is known.
        record: Option<u64>,
    },
    /// Several inputs write their kept records to a path that is not a folder.
    #[error("`{}` must be a folder when there are several inputs", .path.display())]
    OutputNotAFolder {
        /// The output.
        path: PathBuf,
    },
    /// A record already has the field its score would be written to.
    #[error("{}: line {line}: the record already has a field `{field}`, which the score would replace", .path.display())]
    ScoreFieldTaken {
        /// The input.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// The field.
        field: String,
    },
    /// Two inputs with one file name would write their kept records to one output.
    #[error("`{}` and `{}` would both be written to `{}`: dedup them into separate folders, or rename one", .first.display(), .second.display(), .output.display())]
    OutputNameClash {
        /// The output both would have.
        output: PathBuf,
        /// The first input.
        first: PathBuf,
        /// The second input.
        second: PathBuf,
    },
    /// A labelled record without its label.
    #[error("{}: record {record}: missing label field `{field}`", .path.display())]
    MissingLabel {
        /// The input.
        path: PathBuf,
        /// The record.
        record: u64,
        /// The label field.
        field: String,
    },
    /// Labelled texts of one class only.
    #[error("both classes are needed: {machine} machine and {human} human texts")]
    OneClass {
        /// Machine texts.
        machine: usize,
        /// Human texts.
        human: usize,
    },
    /// No labelled texts were given.
    #[error("no labelled texts: give human and machine inputs, or labelled inputs")]
    NoLabelledTexts,
    /// A JSONL record that is not a JSON object (a field cannot be added to it).
    #[error("{}: line {line}: a record must be a JSON object", .path.display())]
    NotAnObject {
        /// The input.
        path: PathBuf,
        /// Its line.
        line: usize,
    },
    /// A file that is not a HuggingFace tokenizer.
    #[error("`{}` is not a HuggingFace tokenizer.json: {message}", .path.display())]
    NotATokenizer {
        /// The file.
        path: PathBuf,
        /// What the tokenizers crate said.
        message: String,
    },
    /// A document the tokenizer could not encode.
    #[error("{}: tokenizing document {doc}: {message}", .path.display())]
    Encode {
        /// The input.
        path: PathBuf,
        /// The document, counting from 1.
        doc: usize,
        /// What the tokenizers crate said.
        message: String,
    },
    /// An ingest gives no origin, for the input or per record.
    #[error(
        "the records' origin is missing: give one for the input (human, synthetic or unknown) or a field holding it"
    )]
    NoOrigin,
    /// The `ngram` model needs a corpus.
    #[error("the ngram model needs a human corpus")]
    NoCorpus,
    /// The corpus of a simulation could not be read.
    #[error("cannot read the corpus `{}`", .path.display())]
    Corpus {
        /// The corpus.
        path: PathBuf,
        /// Why.
        source: tailwatch_io::Error,
    },
    /// Two saved profiles cannot be merged.
    #[error("cannot merge `{}` into `{}`", .path.display(), .into.display())]
    Merge {
        /// The profile merged in.
        path: PathBuf,
        /// The profile merged into.
        into: PathBuf,
        /// Why.
        source: tailwatch_metrics::Error,
    },
    /// The thread pool could not be built.
    #[error("cannot start {threads} worker threads: {message}")]
    ThreadPool {
        /// Threads asked for.
        threads: usize,
        /// Why.
        message: String,
    },
    /// A worker thread panicked (a bug).
    #[error("a worker thread panicked")]
    WorkerPanicked,
}

fn changed(path: &std::path::Path, record: Option<u64>) -> String {
    match record {
        Some(r) => format!(
            "`{}` changed while it was deduplicated: record {r} is not what it was when first read",
            path.display()
        ),
        None => format!("`{}` changed while it was opened: it can no longer be read twice", path.display()),
    }
}

fn list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
}

impl Error {
    /// A file error.
    pub(crate) fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::File { path: path.into(), source }
    }

    /// An [`Error::InvalidParameter`].
    pub(crate) fn invalid(name: &'static str, expected: &'static str, found: impl ToString) -> Self {
        Error::InvalidParameter { name, expected, found: found.to_string() }
    }
}
