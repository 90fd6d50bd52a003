//! Every metric id a command emits is in the metric catalog: `tailwatch_metrics::catalog::METRICS`
//! for what is measured of text, `tailwatch_sim::model_metrics` for what the simulator reports.
use std::collections::BTreeSet;

use tailwatch_metrics::catalog::{METRICS, MetricFamily, SCORE_FIELD_METRICS, metric_info};
use tailwatch_sim::spec::ModelSpec;

use crate::fixtures;
use crate::tailwatch;

fn keys(value: &serde_json::Value) -> BTreeSet<String> {
    value.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

/// Run in `dir`'s terms (file arguments resolved in it) with `--json`; exit 1 is a verdict.
fn run_json(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let mut full: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    for arg in full.iter_mut() {
        if dir.join(arg.as_str()).exists() {
            *arg = dir.join(arg.as_str()).display().to_string();
        }
    }
    full.extend(["--json".into(), "-q".into()]);
    let run = tailwatch(&full.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run.code == 0 || (run.code == 1 && args[0] == "compare"), "{args:?}: {}", run.stderr);
    run.json()
}

#[test]
fn every_emitted_metric_id_is_in_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    fixtures::write_all(dir.path());
    let d = dir.path();
    // answers grouped by prompt with a reward and a 0/1 pass field
    let scored: String = (0..40)
        .map(|i| {
            let text = format!("answer {} to prompt {} of the day", i % 4, i / 4);
            format!(
                "{}\n",
                serde_json::json!({"prompt": i / 4, "text": text, "reward": i as f64 / 10.0, "pass": i % 2})
            )
        })
        .collect();
    std::fs::write(d.join("scored.jsonl"), scored).unwrap();
    let mut emitted = BTreeSet::new();
    for args in [
        &["score", "healthy.jsonl", "--reference", "human.txt"][..],
        &["score", "healthy.jsonl", "--reference", "freq.tsv", "--max-memory", "1KiB"],
        &["score", "items.txt", "--tokenizer", "items", "--catalog", "catalog.txt"],
        &["score", "collapsed.txt", "--compat", "diversity"],
        &["score", "collapsed.txt", "--compat", "degen"],
        &["score", "collapsed.txt", "--compat", "simctg"],
        &["score", "collapsed.txt", "--compat", "lexical-diversity"],
        &["score", "scored.jsonl", "--group-field", "prompt", "--score-field", "reward,pass"],
    ] {
        let report = run_json(d, args);
        emitted.extend(keys(&report["metrics"]));
        for id in report["approximate"].as_array().unwrap() {
            emitted.insert(id.as_str().unwrap().to_string());
        }
    }
    let comparison =
        run_json(d, &["compare", "healthy.jsonl", "collapsed.jsonl", "--reference", "human.txt"]);
    for check in comparison["checks"].as_array().unwrap() {
        emitted.insert(check["metric"].as_str().unwrap().to_string());
    }
    let unknown: Vec<&String> = emitted.iter().filter(|id| metric_info(id).is_none()).collect();
    assert!(unknown.is_empty(), "ids missing from the catalog: {unknown:?}");
    // every catalog entry of a text metric is emitted by some command above
    let listed: BTreeSet<String> = run_json(d, &["metrics"])
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    let catalog: BTreeSet<String> = METRICS.iter().map(|m| m.id.to_string()).collect();
    let templates: BTreeSet<String> = SCORE_FIELD_METRICS.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(
        listed,
        &catalog | &templates,
        "`tailwatch metrics` lists the catalog and the score-field ids"
    );
    // ids of score columns are the templates' with the field's name
    let (fields, fixed): (BTreeSet<String>, BTreeSet<String>) =
        emitted.into_iter().partition(|id| metric_info(id).is_some_and(|m| m.id.contains("<field>")));
    assert_eq!(fixed, catalog, "each catalog id is emitted");
    let expected: BTreeSet<String> = ["reward", "pass"]
        .iter()
        .flat_map(|f| templates.iter().map(move |t| t.replace("<field>", f)))
        .filter(|id| id != "score_reward_rate")
        .collect();
    assert_eq!(fields, expected, "each score-field id is emitted (rate only for 0/1 fields)");

    // the simulator: each model's report lists its catalog entries, and its series use no others
    for model in
        ["gaussian", "mvgaussian", "gmm", "categorical", "poisson", "zipf", "mean", "regression", "ngram"]
    {
        let mut args = vec!["simulate", model, "--generations", "1"];
        if model == "ngram" {
            args.extend(["--corpus", "human.txt", "--replicates", "1"]);
        } else {
            args.extend(["--replicates", "2"]);
        }
        if model == "gmm" || model == "zipf" {
            args.extend(["--samples", "200"]);
        }
        let report = run_json(d, &args);
        let spec = ModelSpec::defaults(model).unwrap();
        let catalog: Vec<&str> = tailwatch_sim::model_metrics(&spec).iter().map(|m| m.id).collect();
        assert!(tailwatch_sim::model_metrics(&spec).iter().all(|m| m.family == MetricFamily::Simulation));
        let listed: Vec<&str> =
            report["metrics"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
        assert_eq!(listed, catalog, "{model}");
        for strategy in report["strategies"].as_array().unwrap() {
            let series = keys(&strategy["metrics"]);
            assert!(series.iter().all(|id| catalog.contains(&id.as_str())), "{model}: {series:?}");
        }
    }
}
