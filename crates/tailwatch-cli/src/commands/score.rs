//! `tailwatch score`: profile inputs and compute their metrics, as a table, JSON or HTML.
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tailwatch::{ScoreOptions, Scorer};
use tailwatch_metrics::report::ScoreReport;
use tailwatch_metrics::{MetricSelection, ReferenceOptions};

use super::Context;
use crate::Outcome;
use crate::args::{InputArgs, ProfileOptions, ReferenceArgs, ScoreArgs};
use crate::options::{group_options, is_items, profile_settings, read_options};
use crate::output::{Report, emit};

/// The scorer of a command's profile, reference and metric options.
pub fn scorer(
    cx: &Context,
    profile: &ProfileOptions,
    reference: &ReferenceArgs,
    input: &InputArgs,
    metrics: MetricSelection,
    compat: Option<tailwatch::Compat>,
) -> Result<Scorer> {
    let settings = profile_settings(profile)?;
    let mut options = ScoreOptions {
        metrics,
        reference: None,
        reference_options: ReferenceOptions {
            tail_mass: reference.tail_mass,
            smoothing: reference.smoothing,
        },
        catalog: None,
        compat,
        confidence: None,
        groups: group_options(profile)?,
    };
    options.validate()?;
    if let Some(path) = &reference.reference {
        let read = read_options(input, reference.reference_field.as_deref(), is_items(profile))?;
        let loaded = cx
            .engine
            .load_reference(path, &read, &settings, &cx.progress())
            .with_context(|| format!("cannot load reference `{}`", path.display()))?;
        options.reference = Some(loaded);
    }
    if let Some(path) = &reference.catalog {
        options.catalog = Some(tailwatch::scoring::read_catalog(path)?);
    } else if is_items(profile) {
        options.catalog = options.reference.as_ref().map(tailwatch_metrics::Reference::vocabulary);
    }
    Ok(Scorer::new(settings, options)?)
}

pub fn run(args: &ScoreArgs, cx: &Context) -> Result<Outcome> {
    let inputs = args.inputs.iter().chain(&args.reference.reference).chain(&args.reference.catalog);
    crate::output::claim_outputs(
        [args.per_doc.as_deref(), args.html.as_deref(), args.per_group.as_deref()],
        inputs.map(PathBuf::as_path),
    )?;
    if let Some(level) = args.ci
        && !(level > 0.0 && level < 1.0)
    {
        anyhow::bail!("--ci must be in (0, 1), found {level}");
    }
    let read = read_options(&args.input, None, is_items(&args.profile))?;
    let metrics =
        if args.metrics.is_empty() { MetricSelection::All } else { MetricSelection::only(&args.metrics)? };
    let mut scorer =
        scorer(cx, &args.profile, &args.reference, &args.input, metrics, args.compat.map(Into::into))?;
    scorer.options.confidence = args.ci;
    if args.homogeneity {
        if args.inputs.len() < 2 {
            anyhow::bail!(
                "--homogeneity compares two inputs or more (one per model) answering the same prompts"
            );
        }
        scorer.options.groups.keep_sample = true;
    }
    if args.per_group.is_some()
        && scorer.settings.config.grouping.is_none()
        && !args.inputs.iter().all(|p| tailwatch::is_profile_path(p))
    {
        anyhow::bail!(
            "--per-group needs groups of answers: --group-field FIELD, or --group-by record with an array --field"
        );
    }
    let groups: Vec<Vec<PathBuf>> = if args.combine {
        vec![args.inputs.clone()]
    } else {
        args.inputs.iter().map(|p| vec![p.clone()]).collect()
    };
    let mut reports = Vec::new();
    for group in &groups {
        let (report, stats) = scorer.score(&cx.engine, group, &read, &cx.progress())?;
        if stats.skipped > 0 {
            eprintln!(
                "warning: skipped {} invalid record(s); first: {}",
                stats.skipped,
                stats.first_skipped.as_deref().unwrap_or("?")
            );
        }
        if let Some(field) = &args.input.prompt_field {
            match stats.prompts_stripped {
                0 => eprintln!(
                    "warning: no document starts with its prompt (`{field}`): all were scored whole"
                ),
                n => eprintln!(
                    "note: {n} of {} documents were scored without their prompt (`{field}`)",
                    stats.docs
                ),
            }
        }
        reports.push(report);
    }
    if let Some(path) = &args.per_doc {
        let rows = write_per_doc(path, &groups, &read, &scorer)?;
        eprintln!("wrote {rows} document rows to {}", path.display());
    }
    if let Some(path) = &args.per_group {
        let rows = write_per_group(path, &reports)?;
        eprintln!("wrote {rows} group rows to {}", path.display());
    }
    if let Some(path) = &args.html {
        let html = tailwatch_html::score::render(&reports);
        crate::output::write_report_file(path, html.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    let homogeneity = if args.homogeneity {
        let samples: Option<Vec<&tailwatch_metrics::grouped::GroupSample>> =
            reports.iter().map(|r| r.groups.as_ref().and_then(|g| g.groups_kept.as_ref())).collect();
        let Some(samples) = samples else {
            anyhow::bail!(
                "--homogeneity needs every input's answers grouped: --group-field FIELD or --group-by record"
            );
        };
        Some(tailwatch_metrics::grouped::homogeneity(&samples, scorer.options.groups.equivalence))
    } else {
        None
    };
    emit(&Scores(reports, homogeneity), args.json)?;
    Ok(Outcome::Ok)
}

/// Write one JSON line per document of each group to `path` (through a temporary file beside
/// it, renamed at the end: a failure leaves no partial file); the number of rows.
fn write_per_doc(
    path: &std::path::Path,
    groups: &[Vec<PathBuf>],
    read: &tailwatch_io::ReadOptions,
    scorer: &Scorer,
) -> Result<usize> {
    let mut out = std::io::BufWriter::new(tailwatch_io::OutputFile::create(path)?);
    let mut rows = 0;
    for group in groups {
        let (mut docs, mut names) = (Vec::new(), Vec::new());
        for input in group {
            if tailwatch::is_profile_path(input) {
                anyhow::bail!(
                    "--per-doc needs the documents themselves, not the profile `{}`",
                    input.display()
                );
            }
            let texts = tailwatch_io::read_all(input, read)?;
            let name = input.display().to_string();
            names.extend((1..=texts.len() as u64).map(|n| (name.clone(), n)));
            docs.extend(texts);
        }
        let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
        for row in tailwatch::per_document::score_documents(&docs, &names, &scorer.settings.tokenizer)? {
            serde_json::to_writer(&mut out, &row)?;
            out.write_all(b"\n")?;
            rows += 1;
        }
    }
    out.into_inner().with_context(|| format!("cannot write `{}`", path.display()))?.finish()?;
    Ok(rows)
}

/// Write one JSON line per sampled group of each report to `path`, worst first within a
/// report (through a temporary file renamed at the end); the number of rows.
fn write_per_group(path: &std::path::Path, reports: &[ScoreReport]) -> Result<usize> {
    #[derive(Serialize)]
    struct Row<'a> {
        input: String,
        #[serde(flatten)]
        row: &'a tailwatch_metrics::grouped::GroupRow,
    }
    if reports.iter().all(|r| r.groups.is_none()) {
        anyhow::bail!(
            "--per-group: no input holds groups of answers (profile them with --group-field or --group-by)"
        );
    }
    let mut out = std::io::BufWriter::new(tailwatch_io::OutputFile::create(path)?);
    let mut rows = 0;
    for report in reports {
        let input = report.inputs.join(",");
        for row in report.groups.iter().flat_map(|g| &g.rows) {
            serde_json::to_writer(&mut out, &Row { input: input.clone(), row })?;
            out.write_all(b"\n")?;
            rows += 1;
        }
    }
    out.into_inner().with_context(|| format!("cannot write `{}`", path.display()))?.finish()?;
    Ok(rows)
}

/// The reports of one run: one report's JSON is that report, several are a list; with the
/// inputs' homogeneity, `{"reports": [...], "homogeneity": {...}}`.
struct Scores(Vec<ScoreReport>, Option<tailwatch_metrics::grouped::Homogeneity>);

impl Serialize for Scores {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct WithHomogeneity<'a> {
            reports: &'a [ScoreReport],
            homogeneity: &'a tailwatch_metrics::grouped::Homogeneity,
        }
        match (self.0.as_slice(), &self.1) {
            (reports, Some(homogeneity)) => WithHomogeneity { reports, homogeneity }.serialize(serializer),
            ([one], None) => one.serialize(serializer),
            (many, None) => many.serialize(serializer),
        }
    }
}

impl Report for Scores {
    fn render(&self, mut out: &mut dyn Write) -> Result<()> {
        crate::table::write_reports(&mut out, &self.0)?;
        if let Some(h) = &self.1 {
            let share = h.homogeneity.map_or_else(|| "-".to_string(), |x| format!("{x:.4}"));
            writeln!(
                out,
                "homogeneity across the {} inputs ({}): {share}, {} of the {} prompts they all answer have an answer every input gives",
                h.inputs, h.equivalence, h.homogeneous_prompts, h.shared_prompts
            )?;
        }
        Ok(())
    }
}
