//! Answers grouped by prompt inside a profile: a mergeable bottom-k sample of whole groups, and
//! the within-group metrics computed from it ([`group_metrics`]).
//!
//! A group is every answer whose record shares a group key (`--group-field`), or the answers of
//! one record's array field (`--group-by record`). The profile keeps the groups whose keys hash
//! lowest (a bottom-k sample of whole groups, seeded by the profile's seed: a group is in or
//! out whole, however its answers were split among files, threads or shards), each with up to
//! [`MAX_GROUP_ANSWERS`] answers as text. Merging unions the groups (answers of one key
//! concatenate) and re-truncates, so shards merged in any order give the bytes of one pass.
//!
//! Within a group the answers are taken in a canonical order, so that the greedy partition
//! does not depend on how they were split: their order in the record for `--group-by record`
//! (NoveltyBench's generation order), else the seeded hash of their text (then the text).
//!
//! Metrics ([`group_metrics`]), over the sampled groups holding at least two answers (a group of
//! one answer can show no collapse; such groups are counted, not scored):
//! * `distinct_at_k`: mean number of equivalence classes per group ([`crate::groups`]);
//!   range [1, k]; collapse: down. Depends on k (answers per group): compare at equal k.
//! * `class_entropy`: mean −Σ p ln p over each group's class shares, [0, ln k]; down.
//! * `collapsed_group_share`: share of groups whose answers all fall into one class, [0, 1]; up.
//! * `group_self_bleu`: mean within-group self-BLEU-4 (each answer against the group's
//!   others, the corpus self-BLEU's formula), [0, 1]; up.
//! * `group_distinct_2`: mean within-group distinct-2 (unique bigrams / bigrams of the group's
//!   answers with the profile's tokenizer), [0, 1]; down.
//! * `group_jaccard`: mean pairwise Jaccard similarity of the answers' dedup shingle sets,
//!   [0, 1]; up.
//! * `utility_at_k` (with a score field, every answer of the group scored): NoveltyBench's
//!   patience-weighted mean of the scores of each class's first answer
//!   ([`crate::groups::utility_at_k`], patience 0.8), in the scores' range; down.
//! * `distinct_among_passing` (with a score field): classes among the answers whose score is
//!   at least the pass threshold (0.5 by default: a 0/1 verifier passes at 1), partitioned on
//!   their own, [0, k]; down.
//!
//! Cost: O(groups × k² × answer length) for the pairwise metrics, on the current rayon pool.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tailwatch_core::Tokenizer;

use crate::groups::{Equivalence, class_entropy, distinct_at_k, partition};
use crate::lexical::{MetricSelection, MetricValues};
use crate::sample::SampleSize;
use crate::selfbleu::self_bleu_per_doc;
use crate::{Error, Result};

/// Answers a group keeps (the rest are counted): pairwise metrics cost k² per group.
pub const MAX_GROUP_ANSWERS: usize = 1024;

/// Groups a profile samples by default.
pub const DEFAULT_GROUP_SAMPLE: u64 = 10_000;

/// The ids [`group_metrics`] computes.
pub const GROUP_IDS: &[&str] = &[
    "distinct_at_k",
    "class_entropy",
    "collapsed_group_share",
    "group_self_bleu",
    "group_distinct_2",
    "group_jaccard",
    "utility_at_k",
    "distinct_among_passing",
];

/// What makes a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupBy {
    /// Records sharing this field's value (a JSON dotted path, a CSV or Parquet column).
    Field(String),
    /// Each record: the elements of its array field are one group.
    Record,
}

impl std::fmt::Display for GroupBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupBy::Field(field) => write!(f, "field `{field}`"),
            GroupBy::Record => f.write_str("record"),
        }
    }
}

/// How a profile groups its answers; profiles merge only when these agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grouping {
    /// What makes a group.
    pub by: GroupBy,
    /// Groups sampled (bottom-k by the hash of their key).
    pub groups: SampleSize,
    /// A numeric field that orders a group's answers (a generation index), when grouped by a
    /// field; else they are ordered by content.
    pub order_field: Option<String>,
}

impl Grouping {
    /// Group by `by`, sampling [`DEFAULT_GROUP_SAMPLE`] groups.
    pub fn new(by: GroupBy) -> Self {
        Self { by, groups: SampleSize::Docs(DEFAULT_GROUP_SAMPLE), order_field: None }
    }

    /// Whether answers keep a given order (the record's, or the order field's), else they are
    /// ordered by content.
    fn given_order(&self) -> bool {
        self.by == GroupBy::Record || self.order_field.is_some()
    }
}

/// One answer of a group: its place in the canonical order, its text, and its score (the
/// profile's first score field), when it has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Position in the record (`--group-by record`), else the seeded hash of the text.
    pub order: u64,
    /// The answer.
    pub text: String,
    /// Its score (finite), if the profile has a score field and the record gave one.
    pub score: Option<f64>,
}

impl Answer {
    fn key(&self) -> (u64, &str, Option<u64>) {
        (self.order, &self.text, self.score.map(f64::to_bits))
    }
}

impl Eq for Answer {}

impl PartialOrd for Answer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Answer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// The answers of one group key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The group's key as read (the field's value, or `file:record`).
    pub key: String,
    /// Answers seen, kept or not.
    pub answers_seen: u64,
    /// The first [`MAX_GROUP_ANSWERS`] answers in canonical order (sorted once sealed).
    pub answers: Vec<Answer>,
}

impl Group {
    fn settle(&mut self) {
        self.answers.sort_unstable();
        self.answers.truncate(MAX_GROUP_ANSWERS);
    }
}

/// The sampled groups of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSample {
    grouping: Grouping,
    seed: u64,
    groups: BTreeMap<u64, Group>,
    /// [`group_bytes`] of every group, kept up to date (a memory budget reads it per batch).
    bytes: usize,
}

/// What a group holds in memory, about: its key, its answers' text, and their fixed parts.
fn group_bytes(group: &Group) -> usize {
    group.key.len() + 64 + group.answers.iter().map(|a| a.text.len() + 40).sum::<usize>()
}

fn key_hash(key: &str, seed: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(key.as_bytes(), seed ^ 0x6772_6f75_7073)
}

impl GroupSample {
    /// An empty sample of `grouping`'s groups, hashed with `seed`.
    pub fn new(grouping: Grouping, seed: u64) -> Self {
        Self { grouping, seed, groups: BTreeMap::new(), bytes: 0 }
    }

    /// How the answers are grouped.
    pub fn grouping(&self) -> &Grouping {
        &self.grouping
    }

    /// The sampled groups, in key-hash order.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// Groups held.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether no group is held.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The group `key`, when the sample holds it.
    pub fn get(&self, key: &str) -> Option<&Group> {
        self.groups.get(&key_hash(key, self.seed)).filter(|g| g.key == key)
    }

    /// Whether the sample would hold the group `key` had an answer had that key: it holds
    /// fewer groups than its size, or the key's hash is among those it keeps. A key it would
    /// hold but does not was not answered; one it would not hold may have been dropped.
    pub fn would_hold(&self, key: &str) -> bool {
        self.groups.len() < self.limit()
            || self.groups.last_key_value().is_some_and(|(max, _)| key_hash(key, self.seed) <= *max)
    }

    fn limit(&self) -> usize {
        match self.grouping.groups {
            SampleSize::Docs(k) => usize::try_from(k).unwrap_or(usize::MAX),
            SampleSize::All => usize::MAX,
        }
    }

    /// Offer answers of the group `key` (in their record's order), each with its score.
    pub fn offer<'a>(&mut self, key: &str, answers: impl IntoIterator<Item = (&'a str, Option<f64>)>) {
        self.offer_ordered(key, answers.into_iter().map(|(text, score)| (text, score, None)));
    }

    /// [`GroupSample::offer`], each answer with its place in the group's order when the
    /// grouping has an order field (`None`: its place in the record).
    pub fn offer_ordered<'a>(
        &mut self,
        key: &str,
        answers: impl IntoIterator<Item = (&'a str, Option<f64>, Option<u64>)>,
    ) {
        let limit = self.limit();
        if limit == 0 {
            return;
        }
        let hash = key_hash(key, self.seed);
        if !self.groups.contains_key(&hash)
            && self.groups.len() >= limit
            && self.groups.last_key_value().is_some_and(|(max, _)| hash > *max)
        {
            return;
        }
        let given = self.grouping.given_order();
        let seed = self.seed;
        let bytes = &mut self.bytes;
        let group = self.groups.entry(hash).or_insert_with(|| {
            *bytes += key.len() + 64;
            Group { key: key.to_string(), answers_seen: 0, answers: Vec::new() }
        });
        for (i, (text, score, place)) in answers.into_iter().enumerate() {
            let order = match (given, place) {
                (true, Some(place)) => place,
                (true, None) => i as u64,
                (false, _) => xxhash_rust::xxh3::xxh3_64_with_seed(text.as_bytes(), seed),
            };
            group.answers_seen = group.answers_seen.saturating_add(1);
            *bytes += text.len() + 40;
            group.answers.push(Answer {
                order,
                text: text.to_string(),
                score: score.filter(|s| s.is_finite()),
            });
        }
        if group.answers.len() >= 2 * MAX_GROUP_ANSWERS {
            let before = group_bytes(group);
            group.settle();
            *bytes -= before - group_bytes(group);
        }
        while self.groups.len() > limit {
            if let Some((_, dropped)) = self.groups.pop_last() {
                self.bytes -= group_bytes(&dropped);
            }
        }
    }

    fn recount(&mut self) {
        self.bytes = self.groups.values().map(group_bytes).sum();
    }

    /// Sort every group's answers canonically and drop those past the cap.
    pub fn seal(&mut self) {
        for group in self.groups.values_mut() {
            group.settle();
        }
        self.recount();
    }

    /// Merge another sample of the same grouping: the sample of both.
    pub fn merge(&mut self, other: GroupSample) -> Result<()> {
        if self.grouping != other.grouping || self.seed != other.seed {
            return Err(Error::Incompatible {
                what: format!(
                    "grouped by {} ({} groups) vs by {} ({} groups)",
                    self.grouping.by, self.grouping.groups, other.grouping.by, other.grouping.groups
                ),
            });
        }
        for (hash, theirs) in other.groups {
            match self.groups.get_mut(&hash) {
                Some(mine) => {
                    let before = group_bytes(mine);
                    // one key, or (crafted) two keys of one hash: the smaller key names it
                    if theirs.key < mine.key {
                        mine.key = theirs.key;
                    }
                    mine.answers_seen =
                        mine.answers_seen.checked_add(theirs.answers_seen).ok_or_else(|| {
                            Error::Incompatible {
                                what: "their group counts together overflow 64 bits".into(),
                            }
                        })?;
                    mine.answers.extend(theirs.answers);
                    mine.settle();
                    self.bytes = self.bytes - before + group_bytes(mine);
                }
                None => {
                    self.bytes += group_bytes(&theirs);
                    self.groups.insert(hash, theirs);
                }
            }
        }
        let limit = self.limit();
        while self.groups.len() > limit {
            if let Some((_, dropped)) = self.groups.pop_last() {
                self.bytes -= group_bytes(&dropped);
            }
        }
        Ok(())
    }

    /// The sample's parts, for the `.twp` body.
    pub(crate) fn to_wire(&self) -> GroupSampleWire {
        GroupSampleWire {
            grouping: self.grouping.clone(),
            groups: self.groups.iter().map(|(h, g)| (*h, g.clone())).collect(),
        }
    }

    /// Rebuild a sample from a `.twp` body, checking what a built sample has: each hash is its
    /// key's, answers are sorted, capped, no more than seen, and in the canonical order.
    pub(crate) fn from_wire(wire: GroupSampleWire, seed: u64) -> std::result::Result<Self, String> {
        let mut sample = Self::new(wire.grouping, seed);
        let given = sample.grouping.given_order();
        for (hash, group) in wire.groups {
            if key_hash(&group.key, seed) != hash {
                return Err(format!("group `{}` is filed under another key's hash", group.key));
            }
            if group.answers.is_empty()
                || group.answers.len() > MAX_GROUP_ANSWERS
                || group.answers.len() as u64 > group.answers_seen
                || !group.answers.is_sorted()
            {
                return Err(format!("group `{}` holds answers no profile keeps", group.key));
            }
            if group.answers.iter().any(|a| a.score.is_some_and(|s| !s.is_finite())) {
                return Err(format!("group `{}` holds a score that is not a number", group.key));
            }
            if !given
                && group
                    .answers
                    .iter()
                    .any(|a| xxhash_rust::xxh3::xxh3_64_with_seed(a.text.as_bytes(), seed) != a.order)
            {
                return Err(format!("group `{}` holds an answer out of its order", group.key));
            }
            if sample.groups.insert(hash, group).is_some() {
                return Err("a group listed twice".into());
            }
        }
        if sample.groups.len() > sample.limit() {
            return Err(format!(
                "{} groups, more than the sample's {}",
                sample.groups.len(),
                sample.grouping.groups
            ));
        }
        sample.recount();
        Ok(sample)
    }

    /// Answers held (for memory estimates).
    pub fn memory_bytes(&self) -> usize {
        self.bytes
    }
}

/// A [`GroupSample`] in a `.twp` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GroupSampleWire {
    grouping: Grouping,
    groups: Vec<(u64, Group)>,
}

/// How groups are scored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupOptions {
    /// When two answers are the same answer.
    pub equivalence: Equivalence,
    /// `utility_at_k`'s patience: the weight of the i-th answer is patienceⁱ.
    pub patience: f64,
    /// The score an answer needs to count among the passing ones.
    pub pass_threshold: f64,
    /// Keep a copy of the sampled groups in the summary (for [`homogeneity`]).
    pub keep_sample: bool,
}

/// The default score an answer needs to pass: 0.5 (a 0/1 verifier passes at 1).
pub const DEFAULT_PASS_THRESHOLD: f64 = 0.5;

impl Default for GroupOptions {
    fn default() -> Self {
        Self {
            equivalence: Equivalence::Unigram(crate::groups::UNIGRAM_THRESHOLD),
            patience: crate::groups::DEFAULT_PATIENCE,
            pass_threshold: DEFAULT_PASS_THRESHOLD,
            keep_sample: false,
        }
    }
}

/// The metrics of one group (a row of `--per-group`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    /// The group's key.
    pub group: String,
    /// Answers seen.
    pub answers: u64,
    /// Answers scored (at most [`MAX_GROUP_ANSWERS`]).
    pub scored: u64,
    /// Equivalence classes.
    pub distinct_at_k: u64,
    /// Entropy of the class shares (nats).
    pub class_entropy: f64,
    /// Whether every answer is in one class (two answers or more).
    pub collapsed: bool,
    /// Within-group self-BLEU-4 (`None` below two answers).
    pub self_bleu: Option<f64>,
    /// Within-group distinct-2 (`None` without a bigram).
    pub distinct_2: Option<f64>,
    /// Mean pairwise Jaccard of the shingle sets (`None` below two answers).
    pub jaccard: Option<f64>,
    /// NoveltyBench's utility (`None` unless every scored answer has a score).
    pub utility: Option<f64>,
    /// Classes among the passing answers (`None` unless every scored answer has a score).
    pub passing_classes: Option<u64>,
    /// The class of each scored answer, in canonical order.
    pub classes: Vec<u32>,
}

impl GroupRow {
    /// The row's value of a within-group metric id (of [`GROUP_IDS`]; `collapsed_group_share`
    /// is 1 for a collapsed group, 0 otherwise), `None` for a group of one answer or an
    /// undefined value: what the metric averages over groups.
    pub fn value(&self, id: &str) -> Option<f64> {
        if self.scored < 2 {
            return None;
        }
        match id {
            "distinct_at_k" => Some(self.distinct_at_k as f64),
            "class_entropy" => Some(self.class_entropy),
            "collapsed_group_share" => Some(if self.collapsed { 1.0 } else { 0.0 }),
            "group_self_bleu" => self.self_bleu,
            "group_distinct_2" => self.distinct_2,
            "group_jaccard" => self.jaccard,
            "utility_at_k" => self.utility,
            "distinct_among_passing" => self.passing_classes.map(|c| c as f64),
            _ => None,
        }
    }
}

/// Quantiles of a within-group metric over the scored groups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// 10th percentile (nearest rank).
    pub p10: f64,
    /// Median (nearest rank).
    pub p50: f64,
    /// 90th percentile (nearest rank).
    pub p90: f64,
}

impl Spread {
    fn of(values: &mut [f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable_by(f64::total_cmp);
        let rank = |q: f64| values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
        Some(Spread {
            mean: crate::numeric::fsum(values.iter().copied()) / values.len() as f64,
            p10: rank(0.1),
            p50: rank(0.5),
            p90: rank(0.9),
        })
    }
}

/// What a report says of a profile's groups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// How answers were grouped (`field `x``, `record`).
    pub by: String,
    /// The equivalence rule.
    pub equivalence: String,
    /// Groups sampled (configured: a number or `all`).
    pub sample: String,
    /// Groups held.
    pub groups: u64,
    /// Groups of one answer (counted, not scored).
    pub single_answer_groups: u64,
    /// Groups that held more answers than were scored.
    pub capped_groups: u64,
    /// Mean answers per scored group (k): `distinct_at_k` depends on it.
    pub mean_answers: f64,
    /// Mean and quantiles of each within-group metric over the scored groups.
    pub spread: BTreeMap<String, Spread>,
    /// Every group's row, worst first (lowest `distinct_at_k`, then highest self-BLEU); not in
    /// the JSON report (`--per-group` writes them).
    #[serde(skip)]
    pub rows: Vec<GroupRow>,
    /// The sampled groups themselves, when the scorer was asked to keep them (for
    /// [`homogeneity`] across inputs); not in the JSON report.
    #[serde(skip)]
    pub groups_kept: Option<GroupSample>,
}

/// How alike several inputs' answers to the same prompts are (the "Artificial Hivemind" of
/// Jiang et al. 2025: different models giving the same answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Homogeneity {
    /// Inputs compared.
    pub inputs: usize,
    /// Prompts every input's sample holds.
    pub shared_prompts: u64,
    /// Of those, prompts where one class of the pooled answers holds an answer of every input.
    pub homogeneous_prompts: u64,
    /// `homogeneous_prompts / shared_prompts` (`None` without a shared prompt): 1 when every
    /// input can give the same answer to every prompt; up is collapse across models.
    pub homogeneity: Option<f64>,
    /// The equivalence rule.
    pub equivalence: String,
}

/// [`Homogeneity`] of the inputs' group samples under `rule`: for each prompt in every sample,
/// the answers of all inputs (input by input, each in its canonical order) are partitioned
/// together, and the prompt is homogeneous when some class holds an answer of each input.
/// O(prompts · (Σ k)²).
pub fn homogeneity(samples: &[&GroupSample], rule: Equivalence) -> Homogeneity {
    let (mut shared, mut homogeneous) = (0u64, 0u64);
    if let Some((first, rest)) = samples.split_first() {
        for (hash, group) in &first.groups {
            let others: Option<Vec<&Group>> = rest.iter().map(|s| s.groups.get(hash)).collect();
            let Some(others) = others else { continue };
            shared += 1;
            let mut texts: Vec<&str> = Vec::new();
            let mut owner: Vec<usize> = Vec::new();
            for (input, g) in std::iter::once(group).chain(others).enumerate() {
                for answer in &g.answers {
                    texts.push(&answer.text);
                    owner.push(input);
                }
            }
            let classes = partition(&texts, rule);
            let mut seen: BTreeMap<u32, std::collections::BTreeSet<usize>> = BTreeMap::new();
            for (class, input) in classes.iter().zip(&owner) {
                seen.entry(*class).or_default().insert(*input);
            }
            if seen.values().any(|inputs| inputs.len() == samples.len()) {
                homogeneous += 1;
            }
        }
    }
    Homogeneity {
        inputs: samples.len(),
        shared_prompts: shared,
        homogeneous_prompts: homogeneous,
        homogeneity: (shared > 0).then(|| homogeneous as f64 / shared as f64),
        equivalence: equivalence_name(rule),
    }
}

/// Name of an equivalence rule as `parse` reads it.
pub fn equivalence_name(rule: Equivalence) -> String {
    match rule {
        Equivalence::Exact => "exact".into(),
        Equivalence::Unigram(t) if t == crate::groups::UNIGRAM_THRESHOLD => "unigram".into(),
        Equivalence::Unigram(t) => format!("unigram:{t}"),
        Equivalence::Jaccard(t) => format!("jaccard:{t}"),
    }
}

/// Which of a row's pairwise metrics are asked for (each costs k² per group).
#[derive(Debug, Clone, Copy)]
struct Wanted {
    self_bleu: bool,
    distinct_2: bool,
    jaccard: bool,
}

fn score_group(
    group: &Group,
    tokenizer: &Tokenizer,
    options: &GroupOptions,
    wanted: Wanted,
) -> Result<GroupRow> {
    let texts: Vec<&str> = group.answers.iter().map(|a| a.text.as_str()).collect();
    let classes = partition(&texts, options.equivalence);
    let k = distinct_at_k(&classes);
    let scored = texts.len();
    let mut tokens: Vec<Vec<u64>> = Vec::with_capacity(scored);
    if wanted.self_bleu || wanted.distinct_2 {
        for text in &texts {
            let mut hashes = Vec::new();
            tokenizer.tokenize(text, |t| hashes.push(tailwatch_core::stable_hash(t)))?;
            tokens.push(hashes);
        }
    }
    let self_bleu = if wanted.self_bleu {
        self_bleu_per_doc(&tokens, 4).and_then(|per| crate::selfbleu::mean(&per)).filter(|_| scored >= 2)
    } else {
        None
    };
    let distinct_2 = if wanted.distinct_2 {
        let mut bigrams: Vec<(u64, u64)> =
            tokens.iter().flat_map(|t| t.windows(2).map(|w| (w[0], w[1]))).collect();
        let total = bigrams.len();
        bigrams.sort_unstable();
        bigrams.dedup();
        (total > 0).then(|| bigrams.len() as f64 / total as f64)
    } else {
        None
    };
    let scores: Option<Vec<f64>> = group.answers.iter().map(|a| a.score).collect();
    let utility = scores.as_ref().and_then(|s| crate::groups::utility_at_k(&classes, s, options.patience));
    let passing_classes = scores.as_ref().map(|s| {
        let passing: Vec<&str> = texts
            .iter()
            .zip(s)
            .filter(|(_, score)| **score >= options.pass_threshold)
            .map(|(t, _)| *t)
            .collect();
        distinct_at_k(&partition(&passing, options.equivalence)) as u64
    });
    Ok(GroupRow {
        group: group.key.clone(),
        answers: group.answers_seen,
        scored: scored as u64,
        distinct_at_k: k as u64,
        class_entropy: class_entropy(&classes) + 0.0, // -0 for one class
        collapsed: scored >= 2 && k == 1,
        self_bleu,
        distinct_2,
        jaccard: if wanted.jaccard { crate::groups::mean_pairwise_jaccard(&texts) } else { None },
        utility,
        passing_classes,
        classes,
    })
}

/// Every within-group metric of one group, pairwise ones included (a `--per-group` row when
/// all metrics are asked for). O(k²) in its answers.
pub fn group_row(group: &Group, tokenizer: &Tokenizer, options: &GroupOptions) -> Result<GroupRow> {
    score_group(group, tokenizer, options, Wanted { self_bleu: true, distinct_2: true, jaccard: true })
}

/// The within-group metrics of a profile's groups (none for a profile without groups), and the
/// summary with every group's row.
pub fn group_metrics(
    samples: &GroupSample,
    tokenizer: &Tokenizer,
    options: &GroupOptions,
    selection: &MetricSelection,
) -> Result<(MetricValues, GroupSummary)> {
    use rayon::prelude::*;
    let mut out = MetricValues::default();
    let groups: Vec<&Group> = samples.groups().collect();
    // the pairwise metrics only when asked for (a `--per-group` row then lacks the others)
    let wanted = Wanted {
        self_bleu: selection.wants("group_self_bleu"),
        distinct_2: selection.wants("group_distinct_2"),
        jaccard: selection.wants("group_jaccard"),
    };
    let mut rows: Vec<GroupRow> =
        groups.par_iter().map(|g| score_group(g, tokenizer, options, wanted)).collect::<Result<Vec<_>>>()?;
    let scored: Vec<&GroupRow> = rows.iter().filter(|r| r.scored >= 2).collect();
    let mut spread = BTreeMap::new();
    for id in GROUP_IDS {
        // each metric is the mean of its rows' values (`GroupRow::value`: groups of two answers
        // or more); the share of collapsed groups has no spread
        let mut values: Vec<f64> = rows.iter().filter_map(|r| r.value(id)).collect();
        let s = Spread::of(&mut values);
        out.set(id, s.as_ref().map(|s| s.mean));
        if let Some(s) = s.filter(|_| *id != "collapsed_group_share") {
            spread.insert(id.to_string(), s);
        }
    }
    if scored.is_empty() {
        out.notes.push("no group holds two answers: the within-group metrics are undefined".into());
    }
    let mean_answers = if scored.is_empty() {
        0.0
    } else {
        scored.iter().map(|r| r.scored as f64).sum::<f64>() / scored.len() as f64
    };
    let summary = GroupSummary {
        by: samples.grouping().by.to_string(),
        equivalence: equivalence_name(options.equivalence),
        sample: samples.grouping().groups.to_string(),
        groups: rows.len() as u64,
        single_answer_groups: rows.iter().filter(|r| r.scored < 2).count() as u64,
        capped_groups: rows.iter().filter(|r| r.answers > r.scored).count() as u64,
        mean_answers,
        spread,
        rows: {
            // worst first: fewest classes, then most self-similar, then by key; groups of one
            // answer (which show nothing) last
            rows.sort_by(|a, b| {
                (a.scored < 2)
                    .cmp(&(b.scored < 2))
                    .then(a.distinct_at_k.cmp(&b.distinct_at_k))
                    .then(b.self_bleu.unwrap_or(0.0).total_cmp(&a.self_bleu.unwrap_or(0.0)))
                    .then_with(|| a.group.cmp(&b.group))
            });
            rows
        },
        groups_kept: options.keep_sample.then(|| samples.clone()),
    };
    selection.retain(&mut out);
    Ok((out, summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(by: GroupBy, k: SampleSize, answers: &[(u8, u8)]) -> GroupSample {
        let mut s = GroupSample::new(Grouping { by, groups: k, order_field: None }, 7);
        for (key, answer) in answers {
            s.offer(&format!("g{key}"), [(format!("answer {answer}").as_str(), None)]);
        }
        s.seal();
        s
    }

    proptest! {
        /// Any split of the answers, merged in either order, gives the one-pass sample.
        #[test]
        fn merges_equal_one_pass(answers in proptest::collection::vec((0u8..12, 0u8..6), 0..80), split in 0usize..80, k in 1u64..8) {
            let split = split.min(answers.len());
            for by in [GroupBy::Field("p".into()), GroupBy::Record] {
                let size = SampleSize::Docs(k);
                let whole = sample(by.clone(), size, &answers);
                let (a, b) = (sample(by.clone(), size, &answers[..split]), sample(by.clone(), size, &answers[split..]));
                let mut ab = a.clone();
                ab.merge(b.clone()).unwrap();
                let mut ba = b;
                ba.merge(a).unwrap();
                prop_assert_eq!(&ab, &ba);
                if by != GroupBy::Record {
                    // record order is positional: one record per offer here, so only the
                    // content-ordered grouping must equal one pass exactly
                    prop_assert_eq!(&ab, &whole);
                }
                prop_assert!(ab.len() as u64 <= k);
                let wire = ab.to_wire();
                prop_assert_eq!(GroupSample::from_wire(wire, 7).unwrap(), ab);
            }
        }
    }

    #[test]
    fn a_group_keeps_at_most_the_cap_and_counts_the_rest() {
        let mut s = GroupSample::new(Grouping::new(GroupBy::Field("p".into())), 0);
        let answers: Vec<String> = (0..3000).map(|i| format!("answer {i}")).collect();
        s.offer("one", answers.iter().map(|a| (a.as_str(), None)));
        let counted = |s: &GroupSample| s.groups().map(group_bytes).sum::<usize>();
        assert_eq!(s.memory_bytes(), counted(&s), "kept up to date when a group settles");
        let mut small = GroupSample::new(
            Grouping { by: GroupBy::Field("p".into()), groups: SampleSize::Docs(2), order_field: None },
            0,
        );
        for key in 0..20 {
            small.offer(&format!("key {key}"), [("an answer", None), ("another answer", None)]);
            assert_eq!(small.memory_bytes(), counted(&small), "and when a group is dropped");
        }
        s.seal();
        let g = s.groups().next().unwrap();
        assert_eq!((g.answers.len(), g.answers_seen), (MAX_GROUP_ANSWERS, 3000));
        assert!(g.answers.is_sorted());
    }

    #[test]
    fn crafted_groups_are_refused() {
        let s = sample(GroupBy::Field("p".into()), SampleSize::Docs(10), &[(1, 1), (1, 2), (2, 3)]);
        let refuse = |edit: &dyn Fn(&mut GroupSampleWire)| {
            let mut wire = s.to_wire();
            edit(&mut wire);
            GroupSample::from_wire(wire, 7).unwrap_err()
        };
        assert!(refuse(&|w| w.groups[0].1.key = "other".into()).contains("another key's hash"));
        assert!(refuse(&|w| w.groups[0].1.answers_seen = 0).contains("no profile keeps"));
        assert!(refuse(&|w| w.groups[0].1.answers.reverse()).contains("no profile keeps"));
        assert!(refuse(&|w| w.groups[0].1.answers[0].order ^= 1).contains("out of its order"));
        assert!(refuse(&|w| w.groups[0].1.answers.clear()).contains("no profile keeps"));
        assert!(refuse(&|w| w.groups.push(w.groups[0].clone())).contains("twice"));
        let mut other = GroupSample::new(Grouping::new(GroupBy::Record), 7);
        assert!(other.merge(s.clone()).is_err());
    }

    #[test]
    fn homogeneity_counts_prompts_every_input_can_answer_alike() {
        let sample = |answers: &[(&str, [&'static str; 2])]| {
            let mut s = GroupSample::new(Grouping::new(GroupBy::Field("p".into())), 0);
            for (key, texts) in answers {
                s.offer(key, texts.map(|t| (t, None)));
            }
            s.seal();
            s
        };
        let a = sample(&[("q1", ["paris", "lyon"]), ("q2", ["red", "blue"]), ("q3", ["x", "y"])]);
        let b = sample(&[("q1", ["paris", "nice"]), ("q2", ["green", "pink"])]);
        let h = homogeneity(&[&a, &b], Equivalence::Exact);
        assert_eq!((h.shared_prompts, h.homogeneous_prompts, h.homogeneity), (2, 1, Some(0.5)));
        let one = homogeneity(&[&a], Equivalence::Exact);
        assert_eq!(one.homogeneity, Some(1.0));
        assert_eq!(homogeneity(&[], Equivalence::Exact).homogeneity, None);
    }

    #[test]
    fn rows_rank_the_most_collapsed_groups_first() {
        let tokenizer =
            Tokenizer::from_spec(&tailwatch_core::TokenizerSpec::parse_builtin("words", false).unwrap())
                .unwrap();
        let mut s = GroupSample::new(Grouping::new(GroupBy::Field("p".into())), 0);
        let none = |texts: [&'static str; 3]| texts.map(|t| (t, None));
        s.offer("varied", none(["one two three", "four five six", "seven eight nine"]));
        s.offer("same", none(["one two three", "one two three", "one two three"]));
        s.offer("alone", [("just one", None)]);
        s.seal();
        let (values, summary) =
            group_metrics(&s, &tokenizer, &GroupOptions::default(), &MetricSelection::All).unwrap();
        assert_eq!(values.get("distinct_at_k"), Some(2.0));
        assert_eq!(values.get("collapsed_group_share"), Some(0.5));
        assert_eq!(values.get("group_jaccard"), Some(0.5));
        assert_eq!(summary.rows[0].group, "same");
        assert_eq!(summary.rows[1].group, "varied");
        assert_eq!(summary.rows.last().unwrap().group, "alone");
        assert_eq!((summary.groups, summary.single_answer_groups), (3, 1));
        assert_eq!(summary.spread["distinct_at_k"].p90, 3.0);
    }

    /// A sample finds its groups by key and tells a dropped key from an unanswered one; a
    /// group's row equals its row among all of them.
    #[test]
    fn groups_are_found_by_key() {
        let mut s = GroupSample::new(
            Grouping { by: GroupBy::Field("p".into()), groups: SampleSize::Docs(3), order_field: None },
            0,
        );
        for key in 0..10 {
            s.offer(&format!("q{key}"), [("same answer", None), ("same answer", None)]);
        }
        s.seal();
        let held: Vec<String> = s.groups().map(|g| g.key.clone()).collect();
        assert_eq!(held.len(), 3);
        for key in (0..10).map(|k| format!("q{k}")) {
            assert_eq!(s.get(&key).is_some(), held.contains(&key), "{key}");
            assert_eq!(s.would_hold(&key), held.contains(&key), "{key}");
        }
        assert!(s.get("never asked").is_none());
        let mut roomy = GroupSample::new(Grouping::new(GroupBy::Field("p".into())), 0);
        roomy.offer("q0", [("a", None)]);
        assert!(roomy.would_hold("never asked") && roomy.get("never asked").is_none());
        let tokenizer =
            Tokenizer::from_spec(&tailwatch_core::TokenizerSpec::parse_builtin("words", false).unwrap())
                .unwrap();
        let options = GroupOptions::default();
        let (_, summary) = group_metrics(&s, &tokenizer, &options, &MetricSelection::All).unwrap();
        let row = group_row(s.get(&held[0]).unwrap(), &tokenizer, &options).unwrap();
        assert!(row.collapsed);
        assert_eq!(summary.rows.iter().find(|r| r.group == held[0]), Some(&row));
    }
}
