//! The catalog of metric ids: family, the direction that means collapse, range and definition.
use serde::{Deserialize, Serialize};

/// Which way a metric moves when outputs collapse: the one direction of tailwatch, used by the
/// catalog, the collapse rules of `compare`, the simulator's metrics and the server's alert
/// rules. Each of those surfaces has its own words for it on the wire (kept for compatibility;
/// see [`direction_words`]); in code it is always this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Collapse lowers the value (diversity, coverage).
    Lower,
    /// Collapse raises the value (repetition, divergence).
    Higher,
    /// Descriptive only: neither way is collapse.
    Neither,
}

impl Direction {
    /// An arrow for tables: the direction of collapse (`↓`, `↑` or `·`).
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::Lower => "↓",
            Direction::Higher => "↑",
            Direction::Neither => "·",
        }
    }

    /// +1 when collapse raises the value, −1 when it lowers it, 0 for neither: a change times
    /// this sign is positive when it goes the collapse way.
    pub fn sign(self) -> f64 {
        match self {
            Direction::Lower => -1.0,
            Direction::Higher => 1.0,
            Direction::Neither => 0.0,
        }
    }
}

/// The words each surface uses for a [`Direction`] on the wire, as serde adapters
/// (`#[serde(with = "direction_words::change")]`, or `…::change::option` for an `Option`).
///
/// * `change`: collapse rules (`compare --rules`, its JSON checks): `decrease` / `increase`;
/// * `bound`: the server's alert rules and alerts: `below` / `above`;
/// * `trend`: the simulator's reports: `down` / `up` / `neither`.
///
/// [`Direction::Neither`] has no word in `change` and `bound` (a rule needs a way to breach):
/// reading one fails, and writing one is a bug that writes the catalog word `neither`.
pub mod direction_words {
    macro_rules! words {
        ($name:ident, $what:literal, $lower:literal, $higher:literal, $neither:expr, $expected:expr) => {
            #[doc = concat!("`", $lower, "` / `", $higher, "`: ", $what, ".")]
            pub mod $name {
                use super::super::Direction;
                use serde::{Deserialize, Deserializer, Serializer};

                const NEITHER: Option<&str> = $neither;

                /// The word for a direction.
                pub fn word(direction: Direction) -> &'static str {
                    match direction {
                        Direction::Lower => $lower,
                        Direction::Higher => $higher,
                        Direction::Neither => NEITHER.unwrap_or("neither"),
                    }
                }

                fn parse<E: serde::de::Error>(text: &str) -> Result<Direction, E> {
                    match text {
                        $lower => Ok(Direction::Lower),
                        $higher => Ok(Direction::Higher),
                        t if Some(t) == NEITHER => Ok(Direction::Neither),
                        other => Err(E::unknown_variant(other, $expected)),
                    }
                }

                /// Serialize a direction.
                pub fn serialize<S: Serializer>(
                    direction: &Direction,
                    serializer: S,
                ) -> Result<S::Ok, S::Error> {
                    serializer.serialize_str(word(*direction))
                }

                /// Deserialize a direction.
                pub fn deserialize<'de, D: Deserializer<'de>>(
                    deserializer: D,
                ) -> Result<Direction, D::Error> {
                    let text = String::deserialize(deserializer)?;
                    parse(&text)
                }

                /// The same words for an `Option<Direction>` (absent or `null` is `None`).
                pub mod option {
                    use super::super::super::Direction;
                    use serde::{Deserialize, Deserializer, Serializer};

                    /// Serialize an optional direction.
                    pub fn serialize<S: Serializer>(
                        direction: &Option<Direction>,
                        serializer: S,
                    ) -> Result<S::Ok, S::Error> {
                        match direction {
                            Some(d) => serializer.serialize_some(super::word(*d)),
                            None => serializer.serialize_none(),
                        }
                    }

                    /// Deserialize an optional direction.
                    pub fn deserialize<'de, D: Deserializer<'de>>(
                        deserializer: D,
                    ) -> Result<Option<Direction>, D::Error> {
                        Option::<String>::deserialize(deserializer)?.map(|t| super::parse(&t)).transpose()
                    }
                }
            }
        };
    }

    words!(
        change,
        "the change that breaches a collapse rule",
        "decrease",
        "increase",
        None,
        &["decrease", "increase"]
    );
    words!(
        bound,
        "the side of the threshold that breaches a server rule",
        "below",
        "above",
        None,
        &["below", "above"]
    );
    words!(
        trend,
        "how a simulated metric moves as the model collapses",
        "down",
        "up",
        Some("neither"),
        &["down", "up", "neither"]
    );
}

/// Metric families, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricFamily {
    /// Vocabulary and n-gram diversity.
    Diversity,
    /// Repetition and self-similarity.
    Repetition,
    /// Refusals, disclaimers and templated openings (over-alignment).
    Refusals,
    /// Distance from a reference corpus.
    Reference,
    /// Recommendation lists.
    Recommendation,
    /// Within groups of answers to one prompt.
    Groups,
    /// A per-record score column of the user's (`--score-field`).
    Quality,
    /// Size descriptors.
    Size,
    /// What the simulator measures of each generation's model.
    Simulation,
}

impl MetricFamily {
    /// Human title.
    pub fn title(self) -> &'static str {
        match self {
            MetricFamily::Diversity => "Diversity",
            MetricFamily::Repetition => "Repetition",
            MetricFamily::Refusals => "Refusals and templates",
            MetricFamily::Reference => "Against the reference",
            MetricFamily::Recommendation => "Recommendation lists",
            MetricFamily::Groups => "Within prompts",
            MetricFamily::Quality => "Score columns",
            MetricFamily::Size => "Size",
            MetricFamily::Simulation => "Simulated model",
        }
    }
}

/// Documentation of one metric id.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MetricInfo {
    /// Stable snake_case id, identical in CLI, JSON and HTTP.
    pub id: &'static str,
    /// Family.
    pub family: MetricFamily,
    /// The direction collapse moves it.
    pub collapse: Direction,
    /// Range of values.
    pub range: &'static str,
    /// One-line definition.
    pub definition: &'static str,
}

macro_rules! m {
    ($id:expr, $fam:ident, $dir:ident, $range:expr, $def:expr) => {
        MetricInfo {
            id: $id,
            family: MetricFamily::$fam,
            collapse: Direction::$dir,
            range: $range,
            definition: $def,
        }
    };
}

/// Every metric id tailwatch computes, in display order.
pub const METRICS: &[MetricInfo] = &[
    m!(
        "distinct_1",
        Diversity,
        Lower,
        "[0,1]",
        "unique unigrams / unigrams, pooled over the corpus (Li et al. 2016)"
    ),
    m!("distinct_2", Diversity, Lower, "[0,1]", "unique bigrams / bigrams, n-grams inside documents"),
    m!("distinct_3", Diversity, Lower, "[0,1]", "unique trigrams / trigrams"),
    m!("distinct_4", Diversity, Lower, "[0,1]", "unique 4-grams / 4-grams"),
    m!("ngram_diversity", Diversity, Lower, "[0,4]", "sum of distinct_1..distinct_4 (Shaib et al. 2024)"),
    m!("entropy_1", Diversity, Lower, "[0,log2 V]", "Shannon entropy of the unigram distribution, bits"),
    m!(
        "effective_vocab",
        Diversity,
        Lower,
        "[1,V]",
        "2^entropy_1: the number of equally likely types with the same entropy"
    ),
    m!(
        "zipf_coefficient",
        Diversity,
        Higher,
        "[0,inf)",
        "-slope of log frequency on log rank, top 5000 types (Holtzman et al. 2019)"
    ),
    m!(
        "mtld",
        Diversity,
        Lower,
        "[1,inf)",
        "measure of textual lexical diversity over the sample, threshold 0.72 (McCarthy & Jarvis 2010)"
    ),
    m!(
        "hdd",
        Diversity,
        Lower,
        "[0,1]",
        "HD-D: expected type share of a 42-token draw (McCarthy & Jarvis 2007)"
    ),
    m!(
        "self_bleu_2",
        Repetition,
        Higher,
        "[0,1]",
        "mean BLEU-2 of each sampled doc against all others (nltk, method1)"
    ),
    m!("self_bleu_3", Repetition, Higher, "[0,1]", "mean BLEU-3 of each sampled doc against all others"),
    m!(
        "self_bleu_4",
        Repetition,
        Higher,
        "[0,1]",
        "mean BLEU-4 of each sampled doc against all others (Zhu et al. 2018)"
    ),
    m!("self_bleu_5", Repetition, Higher, "[0,1]", "mean BLEU-5 of each sampled doc against all others"),
    m!(
        "compression_ratio",
        Repetition,
        Higher,
        "(0,inf)",
        "raw bytes / gzip-9 bytes of the sample joined by spaces (below 1 for a few dozen bytes: gzip adds 18)"
    ),
    m!(
        "self_repetition",
        Repetition,
        Higher,
        "[0,inf)",
        "mean over sampled docs of ln(1 + occurrences of its 4-grams in other docs) (Salkar et al.)"
    ),
    m!(
        "rep_2",
        Repetition,
        Higher,
        "[0,1]",
        "1 - sum of per-doc unique bigrams / bigrams (within-document repetition)"
    ),
    m!("rep_3", Repetition, Higher, "[0,1]", "1 - sum of per-doc unique trigrams / trigrams"),
    m!(
        "rep_4",
        Repetition,
        Higher,
        "[0,1]",
        "1 - sum of per-doc unique 4-grams / 4-grams (Welleck et al. 2019)"
    ),
    m!("duplicate_rate", Repetition, Higher, "[0,1]", "share of docs whose exact text occurs more than once"),
    m!("top_output_share", Repetition, Higher, "(0,1]", "share of docs equal to the most frequent doc"),
    m!(
        "refusal_rate",
        Refusals,
        Higher,
        "[0,1]",
        "share of docs opening (first 300 chars) with a refusal of the phrase bank (10 languages; docs/METRICS.md)"
    ),
    m!(
        "disclaimer_rate",
        Refusals,
        Higher,
        "[0,1]",
        "share of docs holding a disclaimer of the phrase bank (\"as an AI language model\", ...)"
    ),
    m!(
        "opening_template_share",
        Refusals,
        Higher,
        "[0,1]",
        "share of sampled docs (5+ tokens) opening with the most common leading 5-gram"
    ),
    m!(
        "kl_to_reference",
        Reference,
        Higher,
        "[0,inf)",
        "KL(candidate || reference) over unigrams, bits; reference mixed with uniform (eps)"
    ),
    m!(
        "js_to_reference",
        Reference,
        Higher,
        "[0,1]",
        "Jensen-Shannon divergence of unigram distributions, bits"
    ),
    m!("vocab_coverage", Reference, Lower, "[0,1]", "share of reference types that occur"),
    m!(
        "tail_coverage",
        Reference,
        Lower,
        "[0,1]",
        "share of the reference's tail types (rarest, holding tail-mass of its tokens) that occur"
    ),
    m!(
        "tail_mass_coverage",
        Reference,
        Lower,
        "[0,1]",
        "reference probability mass of the tail types that occur / tail mass"
    ),
    m!(
        "psi_doc_length",
        Reference,
        Higher,
        "[0,inf)",
        "population stability index of doc length on reference decile bins"
    ),
    m!(
        "wasserstein_doc_length",
        Reference,
        Higher,
        "[0,inf)",
        "Wasserstein-1 distance between doc-length distributions, tokens"
    ),
    m!("coverage_at_k", Recommendation, Lower, "[0,1]", "share of the catalog appearing in any top-k list"),
    m!(
        "exposure_gini",
        Recommendation,
        Higher,
        "[0,1]",
        "Gini coefficient of top-k exposure over catalog items"
    ),
    m!(
        "distinct_at_k",
        Groups,
        Lower,
        "[1,k]",
        "mean equivalence classes among a group's k answers, greedy partition (NoveltyBench)"
    ),
    m!(
        "class_entropy",
        Groups,
        Lower,
        "[0,ln k]",
        "mean entropy of a group's class shares, nats (discrete semantic entropy)"
    ),
    m!(
        "collapsed_group_share",
        Groups,
        Higher,
        "[0,1]",
        "share of groups (2+ answers) whose answers are all one class"
    ),
    m!("group_self_bleu", Groups, Higher, "[0,1]", "mean within-group self-BLEU-4 of the answers"),
    m!("group_distinct_2", Groups, Lower, "[0,1]", "mean within-group unique bigrams / bigrams"),
    m!(
        "group_jaccard",
        Groups,
        Higher,
        "[0,1]",
        "mean pairwise Jaccard of a group's answers' 5-word shingle sets"
    ),
    m!(
        "utility_at_k",
        Groups,
        Lower,
        "(-inf,inf)",
        "NoveltyBench utility: patience-weighted mean score of each class's first answer (patience 0.8)"
    ),
    m!(
        "distinct_among_passing",
        Groups,
        Lower,
        "[0,k]",
        "mean classes among a group's answers whose score passes the threshold (0.5)"
    ),
    m!("mean_doc_tokens", Size, Neither, "[0,inf)", "tokens per document"),
];

/// The ids a score column (`--score-field F`) gives, one per statistic: `<field>` stands for
/// the field's sanitized name ([`crate::score_columns::sanitize_field`]), so
/// `--score-field reward` gives `score_reward_mean`. Their direction is the user's: a rule on
/// one names it.
pub const SCORE_FIELD_METRICS: &[MetricInfo] = &[
    m!(
        "score_<field>_mean",
        Quality,
        Neither,
        "(-inf,inf)",
        "mean of the field's finite values (an exact sum)"
    ),
    m!(
        "score_<field>_p10",
        Quality,
        Neither,
        "(-inf,inf)",
        "10th percentile of the field (lower order statistic, 0.4 % relative error)"
    ),
    m!(
        "score_<field>_p50",
        Quality,
        Neither,
        "(-inf,inf)",
        "median of the field (lower order statistic, 0.4 % relative error)"
    ),
    m!(
        "score_<field>_p90",
        Quality,
        Neither,
        "(-inf,inf)",
        "90th percentile of the field (lower order statistic, 0.4 % relative error)"
    ),
    m!("score_<field>_min", Quality, Neither, "(-inf,inf)", "smallest value of the field"),
    m!("score_<field>_max", Quality, Neither, "(-inf,inf)", "largest value of the field"),
    m!(
        "score_<field>_rate",
        Quality,
        Neither,
        "[0,1]",
        "share of 1s, when every value is 0 or 1 (a pass or flag column)"
    ),
];

/// Look up a metric id: a catalog id, or one a score column gives (`score_<field>_mean`...),
/// described by its template in [`SCORE_FIELD_METRICS`].
pub fn metric_info(id: &str) -> Option<&'static MetricInfo> {
    METRICS.iter().find(|m| m.id == id).or_else(|| score_field_metric(id))
}

/// The template of a score column's id, if `id` is one.
fn score_field_metric(id: &str) -> Option<&'static MetricInfo> {
    let rest = id.strip_prefix("score_")?;
    SCORE_FIELD_METRICS.iter().find(|m| {
        let suffix = m.id.strip_prefix("score_<field>").expect("templates start so");
        rest.strip_suffix(suffix).is_some_and(|field| {
            !field.is_empty()
                && field.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog lists exactly what the metric sets compute.
    #[test]
    fn the_catalog_is_what_the_metric_sets_compute() {
        let mut computed: Vec<&str> = [
            crate::lexical::LEXICAL_IDS,
            crate::lexical::ITEM_IDS,
            crate::reference::REFERENCE_IDS,
            crate::grouped::GROUP_IDS,
        ]
        .concat();
        computed.sort_unstable();
        let mut listed: Vec<&str> = METRICS.iter().map(|m| m.id).collect();
        listed.sort_unstable();
        assert_eq!(computed, listed);
    }
}
