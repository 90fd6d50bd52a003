//! Command-line arguments (clap), shared option groups first.
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// tailwatch: detect, simulate and prevent model collapse.
#[derive(Debug, Parser)]
#[command(name = "tailwatch", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Worker threads (default: all cores; at most 1024)
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Hide progress bars
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score inputs for collapse: diversity, repetition and distance from a reference
    Score(ScoreArgs),
    /// Compare a candidate against a baseline with collapse rules; exit 1 on a breach
    Compare(CompareArgs),
    /// Build a mergeable profile (.twp) of inputs
    Profile(ProfileArgs),
    /// Merge profiles (.twp) into one
    Merge(MergeArgs),
    /// List every metric id with its definition and collapse direction
    Metrics(MetricsArgs),
    /// Simulate recursive training: how fast tails vanish, which data policy prevents it
    Simulate(Box<SimulateArgs>),
    /// Run the built-in demo (simulations on data tailwatch generates itself) and write a report
    Demo(DemoArgs),
    /// Remove exact and near-duplicate records (MinHash + LSH, verified by exact Jaccard)
    Dedup(Box<DedupArgs>),
    /// The provenance ledger: ingest records with their origin, stats, lineage, export, review
    Ledger(LedgerArgs),
    /// Build a training mix from the ledger that honors synthetic-share caps
    Mix(Box<MixArgs>),
    /// Machine-text detection: train a detector, score records, evaluate, test watermarks
    Detect(DetectArgs),
    /// Run the watch server: HTTP API, history, alert rules, webhooks and a dashboard
    Serve(ServeArgs),
    /// Profile outputs locally and push the profile to a watch server
    Push(Box<PushArgs>),
}

/// `tailwatch serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Database file (SQLite; created with its schema on first start)
    #[arg(long, default_value = "tailwatch.db")]
    pub db: PathBuf,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: String,
    /// Let anyone who can reach the server read every profile, metric and alert (API and
    /// dashboard) without the token; by default reads need it too
    #[arg(long)]
    pub public_reads: bool,
    /// Largest request body (e.g. 64MiB)
    #[arg(long, default_value = "64MiB")]
    pub max_body: String,
    /// Forget the stored token and create a new one (printed once)
    #[arg(long)]
    pub reset_token: bool,
}

/// `tailwatch push`. Its `--version` was the model version (now `--model-version`); while that
/// spelling still works, only `-V` prints the program's version here.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct PushArgs {
    /// Print version
    #[arg(short = 'V', action = clap::ArgAction::Version)]
    pub print_version: (),
    /// Inputs profiled together (or one .twp profile, pushed as is)
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub profile: ProfileOptions,
    /// Server URL (default: $TAILWATCH_SERVER, else http://127.0.0.1:8787)
    #[arg(long)]
    pub server: Option<String>,
    /// Model name
    #[arg(long)]
    pub model: String,
    /// Model version
    #[arg(long, alias = "version")]
    pub model_version: String,
    /// User cohort
    #[arg(long, default_value = "default")]
    pub cohort: String,
    /// Time window label [default: today's UTC date]
    #[arg(long)]
    pub window: Option<String>,
    /// Idempotency key [default: BLAKE3 of model, version, cohort, window and the profile]
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Exit 1 when the push opens an alert (a CI gate)
    #[arg(long)]
    pub fail_on_alert: bool,
    /// Keep the sampled documents' text in the pushed profile (default: token ids only, so the
    /// server never holds the text; compression_ratio needs it)
    #[arg(long)]
    pub keep_text: bool,
    /// Seconds to wait for the server's answer (connecting: at most 10)
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Print the server's answer as JSON
    #[arg(long)]
    pub json: bool,
}

/// How inputs are read.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Input format (default: from the file extension; `-` is text)
    #[arg(long, value_parser = ["text", "jsonl", "json", "csv", "parquet"])]
    pub format: Option<String>,
    /// JSON field (dotted path, e.g. `response.text`), CSV or Parquet column [default: text]
    #[arg(long, visible_alias = "column")]
    pub field: Option<String>,
    /// Plain text: `line` = one document per line, `blank` = paragraphs separated by blank lines
    #[arg(long, value_enum, default_value_t = DocSep::Line)]
    pub doc_sep: DocSep,
    /// Skip malformed records (broken JSON, missing or mistyped field, bad UTF-8) and report the count
    #[arg(long)]
    pub skip_invalid: bool,
    /// Replace invalid UTF-8 with U+FFFD instead of failing
    #[arg(long)]
    pub lossy: bool,
    /// Leave the prompt out of what is scored: this field (JSON dotted path, CSV or Parquet
    /// column) holds each record's prompt, and a document that starts with it is read without it
    #[arg(long, value_name = "FIELD")]
    pub prompt_field: Option<String>,
    /// The largest record (line, paragraph, CSV row, Parquet value) in bytes, e.g. 256MiB; a
    /// larger one is an error naming its line. A JSON document (not JSONL) may hold 16 times this
    #[arg(long, value_name = "SIZE", default_value = "64MiB")]
    pub max_record_bytes: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DocSep {
    Line,
    Blank,
}

/// How documents are tokenized and profiled.
#[derive(Debug, Args, Clone)]
pub struct ProfileOptions {
    /// `words` (Unicode words), `whitespace`, `python-split` (Python's str.split()), `items`
    /// (lists of item ids), or a path to a HuggingFace tokenizer.json
    #[arg(long, default_value = "words")]
    pub tokenizer: String,
    /// Lowercase text before tokenizing
    #[arg(long)]
    pub lowercase: bool,
    /// Documents in the bottom-k sample used by self-BLEU, MTLD, compression and self-repetition
    /// (a number, or `all`)
    #[arg(long, default_value = "1000")]
    pub sample: String,
    /// Seed of the sample's content hash and of the groups of --ci
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Memory budget for the exact n-gram tables of the whole input (e.g. 512MiB, 4GiB), whatever
    /// the thread count; beyond it distinct_2..4 switch to HyperLogLog sketches and are listed
    /// under `approximate`. The sample of groups of answers (--group-field) is held to the same
    /// budget, apart: past it the run fails (keep fewer groups with --group-sample)
    #[arg(long, default_value = "4GiB")]
    pub max_memory: String,
    /// items tokenizer: how many leading items of each list count as exposed (coverage_at_k)
    #[arg(long, default_value_t = 10)]
    pub k: u32,
    /// Group answers by prompt: records sharing this field's value (JSON dotted path, CSV or
    /// Parquet column), in any input, are answers to one prompt (distinct_at_k and the other
    /// within-group metrics)
    #[arg(long, value_name = "FIELD", conflicts_with = "group_by")]
    pub group_field: Option<String>,
    /// `record`: the elements of each record's array field (--field) are answers to one prompt
    #[arg(long, value_name = "UNIT", value_parser = ["record"])]
    pub group_by: Option<String>,
    /// With --group-field: a whole-number field (a generation index) that orders each group's
    /// answers, so that the greedy partition sees them in generation order as NoveltyBench
    /// does (default: ordered by a hash of their text, the same however they are split)
    #[arg(long, value_name = "FIELD", requires = "group_field")]
    pub order_field: Option<String>,
    /// Groups kept for the within-group metrics: a bottom-k sample of whole groups by a seeded
    /// hash of their key (a number, or `all`)
    #[arg(long, value_name = "N", default_value = "10000")]
    pub group_sample: String,
    /// When two answers of a group are the same answer: `unigram` (NoveltyBench: ROUGE-1 F
    /// above 0.458), `unigram:<t>`, `exact` (normalized text) or `jaccard:<t>` (dedup shingles)
    #[arg(long, value_name = "RULE", default_value = "unigram")]
    pub equivalence: String,
    /// Per-record numeric fields to keep statistics of (reward, judge score, verifier pass,
    /// hallucination flag...): metrics `score_<field>_mean`, `_p10`, `_p50`, `_p90`, `_min`,
    /// `_max`, `_rate` (0/1 fields). The first also scores grouped answers: utility_at_k and
    /// distinct_among_passing. Comma-separated or repeated; with an array --field, each holds an
    /// array of one value per answer
    #[arg(long, value_name = "FIELD", value_delimiter = ',')]
    pub score_field: Vec<String>,
    /// The score an answer needs to pass (distinct_among_passing)
    #[arg(long, value_name = "SCORE", default_value_t = tailwatch_metrics::grouped::DEFAULT_PASS_THRESHOLD)]
    pub pass_threshold: f64,
    /// utility_at_k's patience: the i-th answer of a group weighs patience^i (NoveltyBench: 0.8)
    #[arg(long, value_name = "P", default_value_t = tailwatch_metrics::groups::DEFAULT_PATIENCE)]
    pub patience: f64,
}

/// Reference options.
#[derive(Debug, Args, Clone)]
pub struct ReferenceArgs {
    /// Reference: an input, a .twp profile, or a word-frequency TSV (`word<TAB>count-or-frequency`)
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Field of the reference input (default: same as --field)
    #[arg(long)]
    pub reference_field: Option<String>,
    /// The tail: the rarest reference types holding at most this share of its tokens
    #[arg(long, default_value_t = tailwatch_metrics::reference::DEFAULT_TAIL_MASS)]
    pub tail_mass: f64,
    /// KL smoothing: weight of the uniform distribution mixed into the reference
    #[arg(long, default_value_t = tailwatch_metrics::reference::DEFAULT_SMOOTHING)]
    pub smoothing: f64,
    /// items tokenizer: a file with one catalog item id per line (default: the reference's items,
    /// else every item seen)
    #[arg(long)]
    pub catalog: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Compat {
    /// cshaib/diversity: double-gzip compression ratio, split(' ') n-gram diversity crossing
    /// documents, self-repetition over all docs, 3-decimal rounding
    Diversity,
    /// nltk: self-BLEU of every document against all others (no sampling)
    Nltk,
    /// ari-holtzman/degen: hapax "distinct", self-BLEU of 1000 docs drawn by Python's random.seed(0)
    Degen,
    /// Texygen: self-BLEU over the first 500 documents
    Texygen,
    /// SimCTG: rep-n with its off-by-one, in percent rounded to 2 decimals
    Simctg,
    /// lexical_diversity: MTLD with min segment 10 over all tokens in input order
    LexicalDiversity,
}

impl From<Compat> for tailwatch::Compat {
    fn from(compat: Compat) -> Self {
        match compat {
            Compat::Diversity => tailwatch::Compat::Diversity,
            Compat::Nltk => tailwatch::Compat::Nltk,
            Compat::Degen => tailwatch::Compat::Degen,
            Compat::Texygen => tailwatch::Compat::Texygen,
            Compat::Simctg => tailwatch::Compat::Simctg,
            Compat::LexicalDiversity => tailwatch::Compat::LexicalDiversity,
        }
    }
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Inputs (`-` for stdin); each is scored separately unless --combine
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub profile: ProfileOptions,
    #[command(flatten)]
    pub reference: ReferenceArgs,
    /// Score all inputs together as one corpus
    #[arg(long)]
    pub combine: bool,
    /// Compute only these metric ids, comma-separated (`tailwatch metrics` lists them);
    /// default: every metric
    #[arg(long, value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Reproduce an anchor tool's formulas (holds all documents in memory)
    #[arg(long, value_enum)]
    pub compat: Option<Compat>,
    /// Give each metric a confidence interval at this level (e.g. 0.95): a delete-a-group
    /// jackknife over 20 groups of documents dealt with --seed (of whole records when a record
    /// holds several documents, an array field; docs/METRICS.md). Holds the documents in memory
    /// and costs about 21 scorings
    #[arg(long, value_name = "LEVEL")]
    pub ci: Option<f64>,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Also write one JSON line per document to this file: its tokens, distinct_1, distinct_2,
    /// self_bleu_4 against the other documents scored with it, and its copies (holds the
    /// documents in memory)
    #[arg(long, value_name = "FILE")]
    pub per_doc: Option<PathBuf>,
    /// Also write one JSON line per sampled group of answers (with --group-field or --group-by),
    /// worst first: its key, answers, distinct_at_k, class_entropy, collapsed, self_bleu,
    /// distinct_2, jaccard and each answer's class
    #[arg(long, value_name = "FILE")]
    pub per_group: Option<PathBuf>,
    /// With two inputs or more answering the same prompts (several models, grouped answers):
    /// the share of the prompts they all answer where one class of their pooled answers holds an
    /// answer of each (--json then prints `{"reports": [...], "homogeneity": {...}}`)
    #[arg(long, conflicts_with = "combine")]
    pub homogeneity: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Baseline: an input, a .twp profile, or a saved `score --json` report
    #[arg(required_unless_present = "print_rules")]
    pub baseline: Option<PathBuf>,
    /// Candidate: an input, a .twp profile, or a saved `score --json` report
    #[arg(required_unless_present = "print_rules")]
    pub candidate: Option<PathBuf>,
    /// Rules file (TOML); default: the built-in rules (`tailwatch compare --print-rules`)
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Print the built-in rules and exit
    #[arg(long)]
    pub print_rules: bool,
    /// Field of the baseline input (overrides --field)
    #[arg(long)]
    pub baseline_field: Option<String>,
    /// Field of the candidate input (overrides --field)
    #[arg(long)]
    pub candidate_field: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub profile: ProfileOptions,
    #[command(flatten)]
    pub reference: ReferenceArgs,
    /// Random reassignments of the two sides' blocks of documents for each check's p-value
    /// and interval (0: no p-values; checks then breach on their thresholds alone). The
    /// smallest p-value is 1 / (permutations + 1)
    #[arg(long, default_value_t = 1000)]
    pub permutations: usize,
    /// Confidence of the intervals of the changes
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report: the verdict, each check with its interval and
    /// p-values, each side's block values, and why
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Inputs (`-` for stdin), profiled together
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub profile: ProfileOptions,
    /// Output profile
    #[arg(short, long)]
    pub output: PathBuf,
    /// Keep the sampled documents' text in the profile (default: token ids only; compression_ratio
    /// needs the text)
    #[arg(long)]
    pub keep_text: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Profiles to merge
    #[arg(required = true)]
    pub profiles: Vec<PathBuf>,
    /// Output profile
    #[arg(short, long)]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// `tailwatch simulate`. Model-specific options are rejected for models that do not use them.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct SimulateArgs {
    /// Model: gaussian, mvgaussian, gmm, categorical, poisson, zipf, mean, regression, ngram
    pub model: String,
    /// Data policies, comma-separated or repeated: replace, accumulate, accumulate-subsample,
    /// fresh:<share of real data>, weighted:<weight on real data>
    #[arg(long, default_value = "replace")]
    pub strategy: Vec<String>,
    /// Generations after generation 0 [default: 100; ngram 10]
    #[arg(long)]
    pub generations: Option<usize>,
    /// Samples per generation (documents for ngram) [default: the model's reference setting]
    #[arg(long)]
    pub samples: Option<usize>,
    /// Independent replicates per strategy [default: 2000; mvgaussian, regression 1000; zipf 200;
    /// gmm 4; ngram 1]
    #[arg(long)]
    pub replicates: Option<usize>,
    /// Base seed (replicate r uses its own stream derived from it)
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// gaussian, mvgaussian: variance estimator, `mle` (divide by M) or `unbiased` (M − 1)
    #[arg(long)]
    pub estimator: Option<String>,
    /// mvgaussian, gmm, regression: dimension
    #[arg(long)]
    pub dim: Option<usize>,
    /// gmm: mixture components
    #[arg(long)]
    pub components: Option<usize>,
    /// categorical, zipf: number of categories (symbols)
    #[arg(long)]
    pub categories: Option<usize>,
    /// zipf: exponent β of p_i ∝ i^(−β)
    #[arg(long)]
    pub exponent: Option<f64>,
    /// poisson: initial rate λ0
    #[arg(long)]
    pub lambda: Option<f64>,
    /// gaussian: true mean
    #[arg(long)]
    pub mean: Option<f64>,
    /// gaussian, mean: true standard deviation
    #[arg(long)]
    pub std: Option<f64>,
    /// regression: noise variance σ²
    #[arg(long)]
    pub noise_variance: Option<f64>,
    /// gmm: EM tolerance on the mean log-likelihood
    #[arg(long)]
    pub tolerance: Option<f64>,
    /// gmm: EM iteration cap
    #[arg(long)]
    pub max_iterations: Option<usize>,
    #[command(flatten)]
    pub ngram: NgramArgs,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report (one chart per metric)
    #[arg(long)]
    pub html: Option<PathBuf>,
}

/// Options of the `ngram` model.
#[derive(Debug, Args, Clone)]
pub struct NgramArgs {
    /// ngram: the human corpus (any input format; default for `demo`: generated text)
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// ngram: order n of the Kneser-Ney model
    #[arg(long)]
    pub order: Option<usize>,
    /// ngram: share of the corpus held out for perplexity
    #[arg(long)]
    pub heldout: Option<f64>,
    /// ngram: longest generated document, in tokens
    #[arg(long)]
    pub max_doc_tokens: Option<usize>,
    /// ngram: drop exact duplicate documents from each generation's training data
    #[arg(long)]
    pub dedup: bool,
    /// ngram: always keep the human documents holding tail types in the training data; MASS,
    /// if given, is the tail's share of the corpus's tokens (as `--tail-mass`; as in `mix`)
    #[arg(long, value_name = "MASS", num_args = 0..=1, default_missing_value = "")]
    pub tail_preserve: Option<String>,
    /// ngram: the tail is the rarest reference types holding at most this share of its tokens
    #[arg(long)]
    pub tail_mass: Option<f64>,
    /// ngram: lowercase the corpus before tokenizing
    #[arg(long)]
    pub lowercase: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the HTML report and JSON results
    #[arg(short, long, alias = "out", default_value = "tailwatch-demo")]
    pub output: PathBuf,
    /// Run the text simulation on this corpus instead of generated text
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Print the summary as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SignatureArg {
    /// One-permutation hashing with optimal densification (fast; the default)
    Oph,
    /// Fast Similarity Sketching (lower variance, about half as fast)
    Fss,
    /// k independent hash permutations
    Classic,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DedupCompat {
    /// datasketch 2.x's MinHash bit for bit (default scheme affine32): sha1_hash32 shingles,
    /// numpy-seeded permutations
    Datasketch,
    /// datasketch's MinHash(scheme="legacy") bit for bit (the 1.x scheme)
    DatasketchLegacy,
}

/// `tailwatch dedup`.
#[derive(Debug, Args)]
pub struct DedupArgs {
    /// Inputs (`-` for stdin), deduplicated together
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Jaccard similarity of word shingles at or above which records are near duplicates
    #[arg(long, default_value_t = 0.8)]
    pub threshold: f64,
    /// Only exact duplicates (same normalized text)
    #[arg(long)]
    pub exact_only: bool,
    /// Find near duplicates with an exact all-pairs Jaccard join instead of LSH (small corpora)
    #[arg(long)]
    pub exact_pairs: bool,
    /// Words per shingle
    #[arg(long, default_value_t = 5)]
    pub shingle: usize,
    /// Signature slots (hash functions or bins)
    #[arg(long, default_value_t = 128)]
    pub num_perm: usize,
    /// Signature scheme
    #[arg(long, value_enum, default_value_t = SignatureArg::Oph)]
    pub mode: SignatureArg,
    /// Reproduce an anchor's signatures exactly (implies classic permutations)
    #[arg(long, value_enum)]
    pub compat: Option<DedupCompat>,
    /// Seed of the hash functions (datasketch's default is 1)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Target probability that a pair exactly at the threshold becomes a candidate; bands ×
    /// rows are chosen from it
    #[arg(long, default_value_t = 0.99)]
    pub recall: f64,
    /// LSH bands (with --rows; overrides --recall)
    #[arg(long, requires = "rows")]
    pub bands: Option<usize>,
    /// LSH rows per band (with --bands)
    #[arg(long, requires = "bands")]
    pub rows: Option<usize>,
    /// Accept candidates by their estimated Jaccard instead of the exact one (less memory)
    #[arg(long)]
    pub no_verify: bool,
    /// Which record of a cluster to keep: first, longest, or prefer:FIELD=VALUE (e.g.
    /// prefer:origin=human)
    #[arg(long, default_value = "first")]
    pub keep: String,
    /// Warn about clusters with more members than this
    #[arg(long, default_value_t = 1000)]
    pub max_cluster_size: usize,
    /// Skip Unicode NFKC normalization
    #[arg(long)]
    pub no_nfkc: bool,
    /// Keep letter case
    #[arg(long)]
    pub keep_case: bool,
    /// Keep punctuation and symbols
    #[arg(long)]
    pub keep_punctuation: bool,
    /// Write the kept records here, in the input's format (a folder when there are several
    /// inputs); `.gz`/`.zst` compress
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write the clusters here (JSONL: cluster id, members, similarities)
    #[arg(long)]
    pub clusters: Option<PathBuf>,
    /// Write every verified near-duplicate pair here (JSONL: a, b, jaccard)
    #[arg(long)]
    pub pairs: Option<PathBuf>,
    /// Print the summary as one JSON document
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub command: LedgerCommand,
}

/// The ledger file, shared by every ledger command.
#[derive(Debug, Args, Clone)]
pub struct DbArg {
    /// The ledger (an SQLite file)
    #[arg(long, env = "TAILWATCH_DB", default_value = "ledger.db")]
    pub db: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Create a ledger (or check an existing one)
    Init {
        #[command(flatten)]
        db: DbArg,
    },
    /// Add records with their provenance; re-ingesting the same text adds nothing
    Ingest(Box<IngestArgs>),
    /// Record and token counts and shares by origin, generator, generation and source
    Stats {
        #[command(flatten)]
        db: DbArg,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Ancestors and descendants of a record (by key, or content id or a prefix of ≥ 8 hex digits)
    Lineage {
        /// The record
        id: String,
        #[command(flatten)]
        db: DbArg,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Every record as JSONL with its provenance, plus a Croissant-style JSON-LD manifest
    Export {
        #[command(flatten)]
        db: DbArg,
        /// Output JSONL
        #[arg(short, long)]
        output: PathBuf,
        /// Manifest (default: OUTPUT with `.croissant.json`)
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Dataset name in the manifest
        #[arg(long, default_value = "tailwatch-export")]
        name: String,
    },
    /// Human review of synthetic records: sample, record verdicts, report acceptance
    Review(ReviewArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Inputs (any format `score` reads)
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub db: DbArg,
    #[command(flatten)]
    pub input: InputArgs,
    /// Origin of every record (unless --field-map gives it per record)
    #[arg(long)]
    pub origin: Option<String>,
    /// Model that generated the records
    #[arg(long)]
    pub generator: Option<String>,
    /// Generation (recursion depth) of the records: a non-negative integer
    #[arg(long)]
    pub generation: Option<String>,
    /// Source or dataset name
    #[arg(long)]
    pub source: Option<String>,
    /// License
    #[arg(long)]
    pub license: Option<String>,
    /// Field holding the parent reference(s): a key or content id, or an array of them
    #[arg(long)]
    pub parent_field: Option<String>,
    /// Field holding the record's own unique key (parents may refer to it)
    #[arg(long)]
    pub key_field: Option<String>,
    /// Per-record provenance fields, e.g. `origin=meta.origin,generator=model,generation=gen`
    /// (names: origin, generator, generation, source, license)
    #[arg(long)]
    pub field_map: Option<String>,
    /// Score records of unknown origin with this detector model (from `detect train`)
    #[arg(long)]
    pub detect: Option<PathBuf>,
    /// Records per transaction
    #[arg(long, default_value_t = 10_000)]
    pub batch_size: usize,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(subcommand)]
    pub command: ReviewCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Draw a reproducible sample of records for people to judge (JSONL with a `verdict` to fill)
    Sample {
        #[command(flatten)]
        db: DbArg,
        /// How many records
        #[arg(long, alias = "n", default_value_t = 50)]
        size: usize,
        /// Seed (the same seed gives the same sample)
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Origins to sample (comma-separated)
        #[arg(long, default_value = "synthetic,unknown")]
        origin: String,
        /// Only this generator
        #[arg(long)]
        generator: Option<String>,
        /// Output JSONL
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Record verdicts from JSONL lines `{"id": ..., "verdict": "accept"|"reject", "reviewer": ..., "note": ...}`
    Record {
        /// The verdicts file
        verdicts: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// Acceptance rate per generator, with a 95 % interval
    Report {
        #[command(flatten)]
        db: DbArg,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// `tailwatch mix`.
#[derive(Debug, Args)]
pub struct MixArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Output JSONL of the mix
    #[arg(short, long)]
    pub output: PathBuf,
    /// Manifest (default: OUTPUT with `.manifest.json`)
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Target size (records or tokens, per --unit); default: all human data plus as much
    /// synthetic data as the cap allows
    #[arg(long)]
    pub size: Option<u64>,
    /// What sizes and caps count
    #[arg(long, value_parser = ["records", "tokens"], default_value = "records")]
    pub unit: String,
    /// Largest share of synthetic (and unknown-origin) data
    #[arg(long, default_value_t = 0.3)]
    pub max_synthetic: f64,
    /// Least human data: a count (records or tokens) or a share like 0.5 or 50%
    #[arg(long)]
    pub min_human: Option<String>,
    /// Keep every human record of the ledger's earlier mixes
    #[arg(long)]
    pub accumulate: bool,
    /// Remove exact and near duplicates (Jaccard ≥ 0.8 of word 5-grams), keeping human records
    #[arg(long)]
    pub dedup: bool,
    /// Keep first the human records holding rare word types (the rarest types holding this
    /// share of human tokens)
    #[arg(long, num_args = 0..=1, default_missing_value = "0.1")]
    pub tail_preserve: Option<f64>,
    /// Only synthetic records of these generators (repeat)
    #[arg(long)]
    pub generator: Vec<String>,
    /// Only records up to this generation
    #[arg(long)]
    pub max_generation: Option<i64>,
    /// Only records of these sources (repeat)
    #[arg(long)]
    pub source: Vec<String>,
    /// Seed of every random choice
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Name of the mix in the ledger
    #[arg(long, default_value = "mix")]
    pub name: String,
    /// Print the manifest as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    #[command(subcommand)]
    pub command: DetectCommand,
}

/// Labelled texts: human and machine inputs, or one labelled input.
#[derive(Debug, Args, Clone)]
pub struct LabelledArgs {
    /// Inputs of human-written text
    #[arg(long)]
    pub human: Vec<PathBuf>,
    /// Inputs of machine-generated text
    #[arg(long)]
    pub machine: Vec<PathBuf>,
    /// Inputs whose records carry a label (see --label-field and --human-label)
    #[arg(long)]
    pub labelled: Vec<PathBuf>,
    /// Label field of --labelled inputs
    #[arg(long, default_value = "label")]
    pub label_field: String,
    /// Label value meaning human text (every other value is machine text)
    #[arg(long, default_value = "human")]
    pub human_label: String,
    /// Field of --human inputs (default: --field)
    #[arg(long)]
    pub human_field: Option<String>,
    /// Field of --machine inputs (default: --field)
    #[arg(long)]
    pub machine_field: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Debug, Subcommand)]
pub enum DetectCommand {
    /// Train a detector (logistic regression on stylometric features) on labelled text
    Train {
        #[command(flatten)]
        data: LabelledArgs,
        /// Human reference text for the language-model features (any input; adds lm_* features)
        #[arg(long)]
        reference: Vec<PathBuf>,
        /// Classifier: `logistic` (default) or `stumps` (gradient-boosted stumps)
        #[arg(long, value_parser = ["logistic", "stumps"], default_value = "logistic")]
        kind: String,
        /// Output model (JSON)
        #[arg(short, long)]
        output: PathBuf,
        /// Print the training summary as JSON
        #[arg(long)]
        json: bool,
    },
    /// Add a machine-probability field to every record (JSONL in, JSONL out)
    Score {
        /// Input
        input: PathBuf,
        /// The detector (from `detect train`)
        #[arg(long, alias = "model")]
        detector: PathBuf,
        /// Output JSONL (default: stdout)
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Name of the added field
        #[arg(long, default_value = "machine_probability")]
        score_field: String,
        #[command(flatten)]
        input_args: InputArgs,
    },
    /// AUROC and TPR at 1 % and 5 % FPR of a model on labelled text
    Eval {
        #[command(flatten)]
        data: LabelledArgs,
        /// The detector (from `detect train`)
        #[arg(long, alias = "model")]
        detector: PathBuf,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Kirchenbauer green-list z-test per document (tokens from a HuggingFace tokenizer.json)
    Watermark {
        /// Input
        input: PathBuf,
        /// tokenizer.json of the generator
        #[arg(long)]
        tokenizer: PathBuf,
        /// Watermark key
        #[arg(long, default_value_t = 15_485_863)]
        key: u64,
        /// Green-list share γ
        #[arg(long, default_value_t = 0.25)]
        gamma: f64,
        /// z above which a document is flagged
        #[arg(long, default_value_t = 4.0)]
        z_threshold: f64,
        #[command(flatten)]
        input_args: InputArgs,
        /// Print JSON lines
        #[arg(long)]
        json: bool,
    },
}
