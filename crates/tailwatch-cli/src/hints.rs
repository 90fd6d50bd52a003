//! `hint:` lines: what an error means in this command line's terms (its flags). Library errors
//! never name flags; the CLI adds them here.
use tailwatch::Error;

/// The hint for an error anywhere in `error`'s chain, if there is one.
pub fn hint(error: &anyhow::Error) -> Option<String> {
    let engine = error.chain().find_map(|e| e.downcast_ref::<Error>())?;
    Some(match engine {
        Error::TokenizerMismatch { profiled, .. } => format!("pass --tokenizer {profiled} to match"),
        Error::InvalidParameter { name: "the tail mass", .. } => "set --tail-mass in [0, 1]".into(),
        Error::InvalidParameter { name: "the KL smoothing", .. } => "set --smoothing in (0, 1)".into(),
        Error::InvalidParameter { name: "the green-list share", .. } => "set --gamma in (0, 1)".into(),
        Error::CompatNeedsDocuments { .. } => {
            "--compat reads every document: score the inputs, not a profile".into()
        }
        Error::OutputNotAFolder { .. } => "with several inputs, -o names a folder".into(),
        Error::OutputIsInput { .. } => "choose another -o".into(),
        Error::NoLabelledTexts => "give --human and --machine inputs, or --labelled inputs".into(),
        Error::NoOrigin => "pass --origin (human, synthetic or unknown), or --field-map origin=FIELD".into(),
        Error::NoCorpus => "pass --corpus FILE (or run `tailwatch demo`, which generates one)".into(),
        Error::Metrics(tailwatch_metrics::Error::UnknownMetric { .. }) => {
            "`tailwatch metrics` lists the ids --metrics takes".into()
        }
        _ => return None,
    })
}
