//! Comparing a candidate against a baseline under collapse rules, with the notes a reader needs.
use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::explaining::Explanation;
use crate::matching::{Documents, Resampling};
use crate::{Engine, Error, Result, Scorer};
use tailwatch_metrics::compare::{Comparison, Rule};
use tailwatch_metrics::report::ScoreReport;

/// One side of a comparison, as the comparison describes it.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// Documents.
    pub n_docs: u64,
    /// Tokens.
    pub n_tokens: u64,
    /// Its tokenizer.
    #[serde(skip)]
    pub tokenizer: String,
}

impl Side {
    /// The side of a score report.
    pub fn of(report: &ScoreReport) -> Self {
        Self { n_docs: report.n_docs, n_tokens: report.n_tokens, tokenizer: report.tokenizer.clone() }
    }
}

/// A comparison and its notes.
#[derive(Debug, Clone)]
pub struct Compared {
    /// The rules' checks and the verdict.
    pub comparison: Comparison,
    /// Notes on what limits the comparison (sizes, tokenizers).
    pub notes: Vec<String>,
}

/// Apply `rules` to the metrics of two sides and note what limits the comparison.
pub fn compare_sides(
    baseline: (&Side, &std::collections::BTreeMap<String, Option<f64>>),
    candidate: (&Side, &std::collections::BTreeMap<String, Option<f64>>),
    rules: &[Rule],
) -> Compared {
    compare_sides_with(baseline, candidate, rules, &BTreeMap::new())
}

/// [`compare_sides`], with `evidence` for the rules that have some (from
/// [`profile_evidence`]): those breach only when significant.
pub fn compare_sides_with(
    baseline: (&Side, &std::collections::BTreeMap<String, Option<f64>>),
    candidate: (&Side, &std::collections::BTreeMap<String, Option<f64>>),
    rules: &[Rule],
    evidence: &BTreeMap<String, tailwatch_metrics::compare::Evidence>,
) -> Compared {
    let comparison =
        tailwatch_metrics::compare::compare_with_evidence(baseline.1, candidate.1, evidence, rules);
    let (b, c) = (baseline.0, candidate.0);
    let mut notes = Vec::new();
    let (x, y) = (b.n_tokens.max(1) as f64, c.n_tokens.max(1) as f64);
    if x / y > 2.0 || y / x > 2.0 {
        notes.push(format!(
            "the sides differ in size ({} vs {} tokens); corpus-level distinct-n falls as corpora grow, so compare at matched sizes",
            b.n_tokens, c.n_tokens
        ));
    }
    notes.extend(tokenizer_note(b, c));
    Compared { comparison, notes }
}

/// A note when the sides were tokenized differently.
fn tokenizer_note(b: &Side, c: &Side) -> Option<String> {
    (!b.tokenizer.is_empty() && !c.tokenizer.is_empty() && b.tokenizer != c.tokenizer)
        .then(|| format!("the sides were tokenized differently (`{}` vs `{}`)", b.tokenizer, c.tokenizer))
}

/// Apply `rules` to two sides computed at matched size, with their evidence (p-values and
/// intervals; see [`crate::matching`]); the sides' full sizes are described by `baseline` and
/// `candidate`.
pub fn compare_matched(
    baseline: &Side,
    candidate: &Side,
    matched: &crate::matching::Matched,
    rules: &[Rule],
) -> Compared {
    let comparison = tailwatch_metrics::compare::compare_with_evidence(
        &matched.baseline,
        &matched.candidate,
        &matched.evidence,
        rules,
    );
    let mut notes = Vec::new();
    if baseline.n_docs != candidate.n_docs {
        notes.push(format!(
            "sizes matched: both sides' checks are computed at {} documents (a seeded subsample of the larger side, {} vs {} documents)",
            matched.docs, baseline.n_docs, candidate.n_docs
        ));
    }
    notes.extend(tokenizer_note(baseline, candidate));
    Compared { comparison, notes }
}

/// The metric ids `rules` read: all a comparison needs computed.
pub fn rule_metrics(rules: &[Rule]) -> tailwatch_metrics::MetricSelection {
    tailwatch_metrics::MetricSelection::Only(rules.iter().map(|r| r.metric.clone()).collect())
}

/// Check that a saved report can stand for a side under `rules` (fail closed): it holds
/// documents, has every rule's metric (null when undefined, as `score` writes it; reference
/// metrics only when it was scored against a reference), and every
/// value is finite and inside its metric's documented range. A report edited by hand, cut, or
/// from another tool would otherwise pass every check it lacks.
pub fn check_report(report: &ScoreReport, path: &Path, rules: &[Rule]) -> Result<()> {
    let bad = |reason: String| Error::BadReport { path: path.to_path_buf(), reason };
    if report.n_docs == 0 {
        return Err(bad("it holds no documents (`n_docs` 0)".into()));
    }
    // (reference metrics are absent from a report scored without a reference, within-group
    // ones from a report of answers not grouped)
    let reference = tailwatch_metrics::reference::REFERENCE_IDS;
    let grouped = report.groups.is_some();
    let optional = |id: &str| {
        reference.contains(&id) || (!grouped && tailwatch_metrics::grouped::GROUP_IDS.contains(&id))
    };
    for rule in rules.iter().filter(|r| !optional(&r.metric)) {
        if !report.metrics.contains_key(&rule.metric) {
            return Err(bad(format!(
                "it has no `{}`, which a rule checks (score it again with that metric)",
                rule.metric
            )));
        }
    }
    for (id, value) in &report.metrics {
        if let Some(v) = *value {
            let (low, high) = crate::intervals::metric_range(id);
            if !v.is_finite() || v < low - 1e-9 || v > high + 1e-9 {
                return Err(bad(format!("`{id}` is {v}, outside its range")));
            }
        }
    }
    Ok(())
}

/// A saved `score --json` report, if `path` is one: a `.json` file of a JSON object with
/// `tailwatch_version`. Any other file is `Ok(None)` (a corpus, whose reader reports its own
/// errors); a file with `tailwatch_version` that is not a whole report is an
/// [`Error::BadReport`] saying what is wrong, not a corpus with a missing field.
pub fn saved_report(path: &Path) -> Result<Option<ScoreReport>> {
    /// Reports are kilobytes; a larger `.json` is a corpus.
    const MAX_REPORT_BYTES: u64 = 64 << 20;
    if path.extension().is_none_or(|e| e != "json") {
        return Ok(None);
    }
    let Ok(bytes) = tailwatch_io::read_file_limited(path, MAX_REPORT_BYTES) else { return Ok(None) };
    report_of_json(&bytes).map_err(|reason| Error::BadReport { path: path.to_path_buf(), reason })
}

/// The `score --json` report that `bytes` hold, as [`saved_report`] reads it from a file:
/// `Ok(None)` when they are not a JSON object with `tailwatch_version`, `Err(reason)` when they
/// are one but not a whole report.
pub fn report_of_json(bytes: &[u8]) -> std::result::Result<Option<ScoreReport>, String> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else { return Ok(None) };
    if value.get("tailwatch_version").is_none() {
        return Ok(None);
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| format!("it has `tailwatch_version`, so it is read as a saved report, but {e}"))
}

/// What one side of a comparison brings for the checks at matched size.
#[derive(Debug)]
pub enum SideDocuments {
    /// Texts (an input, the held-out baseline, a profile's sample kept as text), and a note.
    Texts(Vec<String>, Option<String>),
    /// A profile that keeps no text: its sample as tokens, and notes.
    Sampled(Box<tailwatch_metrics::Profile>, Vec<String>),
    /// Nothing (a saved report), and why.
    None(String),
}

impl SideDocuments {
    /// The documents a profile named `name` brings: its sample, as texts when it kept them,
    /// else as tokens; with notes when the sample is not every document.
    pub fn of_profile(profile: tailwatch_metrics::Profile, name: &str) -> Self {
        let held = profile.sample().held();
        let note = (held < profile.n_docs()).then(|| {
            format!(
                "`{name}` is a profile: its checks use its sample of {held} of {} documents",
                profile.n_docs()
            )
        });
        if !profile.sample().has_text() {
            let why = format!(
                "`{name}` is a profile that keeps no text (made without --keep-text): its sample is compared as tokens, with no compression_ratio and no explanation"
            );
            return SideDocuments::Sampled(Box::new(profile), note.into_iter().chain([why]).collect());
        }
        let texts: Vec<String> = profile.sample().texts().map(str::to_string).collect();
        SideDocuments::Texts(texts, note)
    }

    /// The texts, as the borrowed slices the checks read.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            SideDocuments::Texts(texts, _) => texts.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// The documents for the checks (`texts`: [`SideDocuments::texts`]), or why there are none.
    pub fn documents<'a>(&'a self, texts: &'a [&'a str]) -> std::result::Result<Documents<'a>, String> {
        match self {
            SideDocuments::Texts(..) => Ok(Documents::Texts(texts)),
            SideDocuments::Sampled(profile, _) => Ok(Documents::sampled(profile)),
            SideDocuments::None(why) => Err(why.clone()),
        }
    }

    /// The notes the checks carry.
    pub fn notes(&self) -> &[String] {
        match self {
            SideDocuments::Texts(_, note) => note.as_slice(),
            SideDocuments::Sampled(_, notes) => notes,
            SideDocuments::None(_) => &[],
        }
    }
}

/// A comparison of two sides with their documents: the checks (at matched size, with
/// p-values and intervals, when both sides bring documents and `resampling` permutes), the
/// blocks each check was computed on, and what changed in the documents' own words (when both
/// sides bring texts).
#[derive(Debug)]
pub struct DocumentComparison {
    /// Checks, verdict and notes.
    pub compared: Compared,
    /// Each check's metric on each side's blocks (empty when sizes were not matched).
    pub blocks: BTreeMap<String, [Vec<f64>; 2]>,
    /// What changed (the explanation), when both sides hold texts.
    pub explanation: Option<Explanation>,
}

/// Put the rules on score columns and within-group metrics into `matched`: a column's values
/// are the sides', without evidence; a within-group metric's values are the sides' (over
/// every sampled group, whatever the documents' subsample), their evidence a permutation test
/// over groups ([`crate::matching::group_evidence`]). Notes when the sides' groups differ in
/// answers per group (k), which `distinct_at_k` and `class_entropy` grow with.
fn with_group_evidence(
    matched: &mut crate::matching::Matched,
    rules: &[Rule],
    baseline: &ScoreReport,
    candidate: &ScoreReport,
    resampling: &Resampling,
) -> Vec<String> {
    use tailwatch_metrics::grouped::GROUP_IDS;
    let mut notes = Vec::new();
    // a rule's values: the sides' whole ones, not the blocks'
    let mut whole_values = |id: &str| {
        matched.baseline.insert(id.to_string(), baseline.metrics.get(id).copied().flatten());
        matched.candidate.insert(id.to_string(), candidate.metrics.get(id).copied().flatten());
        matched.blocks.remove(id);
    };
    // score columns: the documents compared carry no scores, so the sides' values stand, on
    // their thresholds alone (the column keeps no per-record values to permute)
    let is_column =
        |id: &str| tailwatch_metrics::catalog::metric_info(id).is_some_and(|m| m.id.contains("<field>"));
    let mut untested = Vec::new();
    for rule in rules.iter().filter(|r| is_column(&r.metric)) {
        whole_values(&rule.metric);
        // a mean or a rate: Welch's test from the columns' moments; the other statistics have
        // no evidence and breach on their thresholds alone, as without matched sizes
        let moments = (baseline.score_moments.get(&rule.metric), candidate.score_moments.get(&rule.metric));
        match moments {
            (Some(b), Some(c)) => {
                let docs = b.count.min(c.count);
                let evidence = crate::matching::moments_evidence(rule, *b, *c, docs, resampling.confidence);
                matched.evidence.insert(rule.metric.clone(), evidence);
            }
            _ => {
                matched.evidence.remove(&rule.metric);
                untested.push(rule.metric.clone());
            }
        }
    }
    if !untested.is_empty() {
        notes.push(format!(
            "{} compared on the sides' whole values, on their thresholds alone, with no p-value or interval (a column keeps no per-record values to resample; means and rates are tested from its moments)",
            untested.join(", ")
        ));
    }
    let (Some(bg), Some(cg)) = (&baseline.groups, &candidate.groups) else { return notes };
    for rule in rules.iter().filter(|r| GROUP_IDS.contains(&r.metric.as_str())) {
        let id = rule.metric.as_str();
        whole_values(id);
        let values = |rows: &[tailwatch_metrics::grouped::GroupRow]| -> Vec<f64> {
            rows.iter().filter_map(|r| r.value(id)).collect()
        };
        let evidence = crate::matching::group_evidence(
            rule,
            &values(&bg.rows),
            &values(&cg.rows),
            matched.docs as u64,
            resampling,
        );
        matched.evidence.insert(id.to_string(), evidence);
    }
    if (bg.mean_answers - cg.mean_answers).abs() > 0.05 * bg.mean_answers.max(cg.mean_answers) {
        notes.push(format!(
            "the sides' groups hold {:.1} vs {:.1} answers on average: distinct_at_k and class_entropy grow with the answers per prompt, so compare them at equal k",
            bg.mean_answers, cg.mean_answers
        ));
    }
    notes
}

/// The evidence two profiles give without their documents (what the watch server compares):
/// a rule on a within-group metric is tested over the sides' sampled groups (the permutation
/// test of `compare` on documents, reassigning prompts), a rule on a score column's mean or
/// rate by the columns' moments (Welch's t). Other rules get none: they are checked on their
/// thresholds alone.
pub fn profile_evidence(
    engine: &Engine,
    rules: &[Rule],
    baseline: &tailwatch_metrics::Profile,
    candidate: &tailwatch_metrics::Profile,
    resampling: &Resampling,
) -> Result<BTreeMap<String, tailwatch_metrics::compare::Evidence>> {
    use tailwatch_metrics::grouped::{GROUP_IDS, GroupOptions, group_metrics};
    let mut evidence = BTreeMap::new();
    let docs = baseline.n_docs().min(candidate.n_docs());
    let (group_rules, column_rules): (Vec<&Rule>, Vec<&Rule>) = rules
        .iter()
        .filter(|r| GROUP_IDS.contains(&r.metric.as_str()) || r.metric.starts_with("score_"))
        .partition(|r| GROUP_IDS.contains(&r.metric.as_str()));
    if let (Some(bg), Some(cg), false) = (baseline.groups(), candidate.groups(), group_rules.is_empty()) {
        let selection = rule_metrics(rules);
        let rows = |profile: &tailwatch_metrics::Profile, groups| -> Result<Vec<_>> {
            let tokenizer = crate::scoring::tokenizer_of(profile)?;
            let scored =
                engine.install(|| group_metrics(groups, &tokenizer, &GroupOptions::default(), &selection))?;
            Ok(scored.1.rows)
        };
        let (b_rows, c_rows) = (rows(baseline, bg)?, rows(candidate, cg)?);
        for rule in group_rules {
            let values = |rows: &[tailwatch_metrics::grouped::GroupRow]| -> Vec<f64> {
                rows.iter().filter_map(|r| r.value(&rule.metric)).collect()
            };
            let found =
                crate::matching::group_evidence(rule, &values(&b_rows), &values(&c_rows), docs, resampling);
            evidence.insert(rule.metric.clone(), found);
        }
    }
    let (b_moments, c_moments) =
        (crate::scoring::score_moments(baseline)?, crate::scoring::score_moments(candidate)?);
    for rule in column_rules {
        if let (Some(b), Some(c)) = (b_moments.get(&rule.metric), c_moments.get(&rule.metric)) {
            let found = crate::matching::moments_evidence(rule, *b, *c, docs, resampling.confidence);
            evidence.insert(rule.metric.clone(), found);
        }
    }
    Ok(evidence)
}

/// The built-in rules without those on within-group metrics when neither side groups its
/// answers (they could only be skipped); `rules` as they are otherwise.
pub fn drop_unused_group_rules(
    rules: Vec<Rule>,
    baseline: &ScoreReport,
    candidate: &ScoreReport,
) -> Vec<Rule> {
    if baseline.groups.is_some() || candidate.groups.is_some() {
        return rules;
    }
    rules
        .into_iter()
        .filter(|r| !tailwatch_metrics::grouped::GROUP_IDS.contains(&r.metric.as_str()))
        .collect()
}

impl Engine {
    /// Compare two sides under `rules`: their reports (full size) and documents. What
    /// `tailwatch compare` and `tailwatch.compare` both run.
    pub fn compare_documents(
        &self,
        scorer: &Scorer,
        rules: &[Rule],
        baseline: (&ScoreReport, &SideDocuments),
        candidate: (&ScoreReport, &SideDocuments),
        resampling: &Resampling,
    ) -> Result<DocumentComparison> {
        let ((base_report, base_docs), (cand_report, cand_docs)) = (baseline, candidate);
        // why: what changed, in the documents' own words (both sides need their texts)
        let explanation = match (base_docs, cand_docs) {
            (SideDocuments::Texts(b, _), SideDocuments::Texts(c, _)) => {
                let b: Vec<&str> = b.iter().map(String::as_str).collect();
                let c: Vec<&str> = c.iter().map(String::as_str).collect();
                Some(crate::explaining::explain(&b, &c, &scorer.settings.tokenizer)?)
            }
            _ => None,
        };
        let mut blocks = BTreeMap::new();
        let (b_texts, c_texts) = (base_docs.texts(), cand_docs.texts());
        let compared = match (base_docs.documents(&b_texts), cand_docs.documents(&c_texts)) {
            (Ok(b), Ok(c)) if resampling.permutations > 0 && !b.is_empty() && !c.is_empty() => {
                let mut matched = self.matched_evidence_of(scorer, &b, &c, rules, resampling)?;
                let group_notes =
                    with_group_evidence(&mut matched, rules, base_report, cand_report, resampling);
                let mut compared =
                    compare_matched(&Side::of(base_report), &Side::of(cand_report), &matched, rules);
                blocks = matched.blocks;
                compared.notes.extend(base_docs.notes().iter().chain(cand_docs.notes()).cloned());
                compared.notes.extend(group_notes);
                compared
            }
            (b, c) => {
                let mut compared = compare_sides(
                    (&Side::of(base_report), &base_report.metrics),
                    (&Side::of(cand_report), &cand_report.metrics),
                    rules,
                );
                for reason in [b.err(), c.err()].into_iter().flatten() {
                    compared.notes.push(format!(
                        "{reason}: sizes are not matched and checks have no p-values or intervals"
                    ));
                }
                compared
            }
        };
        Ok(DocumentComparison { compared, blocks, explanation })
    }
}
