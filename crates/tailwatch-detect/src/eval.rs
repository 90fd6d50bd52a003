//! Train-then-test evaluation of the detector, and a deterministic hash split.
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::model::{DetectorModel, TrainOptions};
use crate::roc::{auroc, tpr_at_fpr};
use crate::{DetectError, Result};

/// Whether `key` falls in the training side of a `train_share` / `1 - train_share` split:
/// `xxh3_64(key as UTF-8) / 2^64 < train_share` (xxh3 with seed 0). Deterministic and independent
/// of order; hashing the *human* text of a pair keeps both members of a pair on the same side.
pub fn hash_split(key: &str, train_share: f64) -> bool {
    (xxh3_64(key.as_bytes()) as f64) / 18_446_744_073_709_551_616.0 < train_share
}

/// Metrics of one train/test evaluation (label `true` = machine, the positive class).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Machine texts in the training set.
    pub train_machine: usize,
    /// Human texts in the training set.
    pub train_human: usize,
    /// Machine texts in the test set.
    pub test_machine: usize,
    /// Human texts in the test set.
    pub test_human: usize,
    /// AUROC on the training set.
    pub train_auroc: f64,
    /// AUROC on the test set (logits as scores; ties count ½).
    pub auroc: f64,
    /// Test TPR at empirical test FPR ≤ 1 % ([`tpr_at_fpr`]'s rule, threshold on the test humans).
    pub tpr_at_1pct: f64,
    /// Test TPR at empirical test FPR ≤ 5 %.
    pub tpr_at_5pct: f64,
}

/// Train a [`DetectorModel`] on `train` and measure it on `test` (`(text, is_machine)` pairs).
///
/// The TPR thresholds are chosen on the test set's human scores (an oracle threshold, the usual
/// convention for TPR at fixed FPR in detector papers), so they measure separability, not calibration.
/// Errors when either set lacks a class.
pub fn evaluate<S: AsRef<str> + Sync>(
    train: &[(S, bool)],
    test: &[(S, bool)],
    options: &TrainOptions,
) -> Result<EvalReport> {
    let model = DetectorModel::train(train, options)?;
    evaluate_model(&model, test)
}

/// Measure an already trained model on `test`.
pub fn evaluate_model<S: AsRef<str> + Sync>(model: &DetectorModel, test: &[(S, bool)]) -> Result<EvalReport> {
    let texts: Vec<&str> = test.iter().map(|(text, _)| text.as_ref()).collect();
    let labels: Vec<bool> = test.iter().map(|(_, label)| *label).collect();
    let test_machine = labels.iter().filter(|&&l| l).count();
    if test_machine == 0 || test_machine == labels.len() {
        return Err(DetectError::MissingClass {
            what: "test set",
            positives: test_machine,
            negatives: labels.len() - test_machine,
        });
    }
    let scores = model.logits(&texts)?;
    let summary = model.summary();
    Ok(EvalReport {
        train_machine: summary.machine,
        train_human: summary.human,
        test_machine,
        test_human: labels.len() - test_machine,
        train_auroc: summary.train_auroc,
        auroc: auroc(&scores, &labels)?,
        tpr_at_1pct: tpr_at_fpr(&scores, &labels, 0.01)?,
        tpr_at_5pct: tpr_at_fpr(&scores, &labels, 0.05)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_split_is_deterministic_and_roughly_proportional() {
        let keys: Vec<String> = (0..10_000).map(|i| format!("document {i}")).collect();
        let train = keys.iter().filter(|k| hash_split(k, 0.7)).count();
        assert!((6_700..7_300).contains(&train), "{train}");
        assert!(keys.iter().all(|k| hash_split(k, 0.7) == hash_split(k, 0.7)));
        assert!(keys.iter().all(|k| !hash_split(k, 0.0) && hash_split(k, 1.0)));
    }

    #[test]
    fn evaluate_reports_counts_and_metrics() {
        let make = |offset: u32| -> Vec<(String, bool)> {
            (0..30_u32)
                .flat_map(|i| {
                    let human: String = (0..30).map(|j| format!("W{} ", (i + offset) * 31 + j * 7)).collect();
                    let machine = "it is what it is and it is good. ".repeat(4 + (i % 3) as usize);
                    [(human, false), (machine, true)]
                })
                .collect()
        };
        let report = evaluate(&make(0), &make(1000), &TrainOptions::default()).unwrap();
        assert_eq!((report.train_machine, report.train_human), (30, 30));
        assert_eq!((report.test_machine, report.test_human), (30, 30));
        assert!(report.auroc > 0.99, "{report:?}");
        assert!(report.tpr_at_5pct > 0.9, "{report:?}");
        let only_machine: Vec<(String, bool)> = make(0).into_iter().filter(|(_, l)| *l).collect();
        assert!(evaluate(&make(0), &only_machine, &TrainOptions::default()).is_err());
    }
}
