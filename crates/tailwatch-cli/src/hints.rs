//! `hint:` lines: what an error means in this command line's terms (its flags). Library errors
//! name their options' fields, never flags; the CLI adds the flags here.
use tailwatch::Error;
use tailwatch_ledger::mix::UnmetCap;
use tailwatch_sketch::DedupWarning;

/// The hint for an error anywhere in `error`'s chain, if there is one.
pub fn hint(error: &anyhow::Error) -> Option<String> {
    error.chain().find_map(|e| {
        if let Some(e) = e.downcast_ref::<Error>() {
            engine_hint(e)
        } else if let Some(e) = e.downcast_ref::<tailwatch_io::Error>() {
            input_hint(e)
        } else if let Some(e) = e.downcast_ref::<tailwatch_ledger::Error>() {
            ledger_hint(e)
        } else if let Some(e) = e.downcast_ref::<tailwatch_sim::Error>() {
            simulation_hint(e)
        } else if let Some(e) = e.downcast_ref::<tailwatch_sketch::Error>() {
            dedup_hint(e)
        } else if let Some(e) = e.downcast_ref::<tailwatch_metrics::Error>() {
            metrics_hint(e)
        } else {
            None
        }
    })
}

fn engine_hint(error: &Error) -> Option<String> {
    Some(match error {
        Error::TokenizerMismatch { profiled, .. } => format!("pass --tokenizer {profiled} to match"),
        Error::InvalidParameter { name, .. } => set_with(match *name {
            "tail_mass" => "--tail-mass",
            "smoothing" => "--smoothing",
            "gamma" => "--gamma",
            _ => return None,
        }),
        Error::NeedsDocuments { what, .. } => {
            let flag = if what.starts_with("confidence") { "--ci" } else { "--compat" };
            format!("{flag} reads every document: score the inputs, not a profile")
        }
        Error::OutputNotAFolder { .. } => "with several inputs, -o names a folder".into(),
        Error::GroupsOverBudget { .. } => {
            "keep fewer groups with --group-sample N (default 10000), or raise --max-memory".into()
        }
        Error::NoLabelledTexts => "give --human and --machine inputs, or --labelled inputs".into(),
        Error::NoOrigin => "pass --origin (human, synthetic or unknown), or --field-map origin=FIELD".into(),
        Error::NoCorpus => "pass --corpus FILE (or run `tailwatch demo`, which generates one)".into(),
        Error::Input(e) => return input_hint(e),
        Error::Metrics(e) => return metrics_hint(e),
        Error::Simulation(e) => return simulation_hint(e),
        Error::Ledger(e) => return ledger_hint(e),
        Error::Dedup(e) => return dedup_hint(e),
        _ => return None,
    })
}

fn input_hint(error: &tailwatch_io::Error) -> Option<String> {
    match error {
        tailwatch_io::Error::RecordTooLarge { .. } => {
            Some("if the input is right, raise --max-record-bytes (default 64MiB)".into())
        }
        tailwatch_io::Error::Json { message, .. } if message.contains("lone UTF-16 surrogate") => {
            Some("pass --lossy to read it as U+FFFD".into())
        }
        _ => None,
    }
}

fn metrics_hint(error: &tailwatch_metrics::Error) -> Option<String> {
    match error {
        tailwatch_metrics::Error::UnknownMetric { .. } => {
            Some("`tailwatch metrics` lists the ids --metrics takes".into())
        }
        _ => None,
    }
}

/// The hint for a ledger or mix error.
pub fn ledger_hint(error: &tailwatch_ledger::Error) -> Option<String> {
    use tailwatch_ledger::Error as E;
    Some(match error {
        E::Missing { path } => format!("create it with `tailwatch ledger init --db {}`", path.display()),
        E::InvalidParameter { name, .. } => set_with(match *name {
            "max_synthetic" => "--max-synthetic",
            "min_human" => "--min-human",
            "tail_preserve" => "--tail-preserve",
            _ => return None,
        }),
        E::CapsUnmet(UnmetCap::RequiredOverSize { .. }) => "raise --size, or drop --tail-preserve".into(),
        E::CapsUnmet(UnmetCap::Size { .. }) => "lower --size, or raise --max-synthetic".into(),
        E::CapsUnmet(UnmetCap::MinHuman { .. } | UnmetCap::MinHumanShare { .. }) => {
            "lower --min-human, or ingest more human records".into()
        }
        E::Dedup(e) => return dedup_hint(e),
        _ => return None,
    })
}

fn simulation_hint(error: &tailwatch_sim::Error) -> Option<String> {
    let tailwatch_sim::Error::InvalidParameter { name, .. } = error else { return None };
    Some(match *name {
        "symbols" => set_with("--categories"),
        "sigma" => set_with("--std"),
        "strategies" => set_with("--strategy"),
        "lambda × samples" => "lower --lambda or --samples".into(),
        "generations × replicates" => "lower --generations or --replicates".into(),
        "the model" => return None,
        field => set_with(&format!("--{}", field.replace('_', "-"))),
    })
}

fn dedup_hint(error: &tailwatch_sketch::Error) -> Option<String> {
    Some(match error {
        tailwatch_sketch::Error::InvalidOption { name, .. } => match *name {
            "shingle_size" => set_with("--shingle"),
            "bands × rows" => "set --bands × --rows at most --num-perm".into(),
            field => set_with(&format!("--{}", field.replace('_', "-"))),
        },
        tailwatch_sketch::Error::Conflict { .. } => "pass one of --exact-only and --exact-pairs".into(),
        _ => return None,
    })
}

/// The hint after a dedup warning.
pub fn dedup_warning_hint(warning: &DedupWarning) -> Option<String> {
    match warning {
        DedupWarning::LargeCluster { .. } => {
            Some("raise --threshold or --shingle, or the limit with --max-cluster-size".into())
        }
        _ => None,
    }
}

fn set_with(flag: &str) -> String {
    format!("set it with {flag}")
}
