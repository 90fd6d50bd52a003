//! Human review of synthetic batches: reproducible samples, recorded verdicts, acceptance rates.
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::store::{Ledger, Origin, RecordRow};
use crate::{Error, Result};

/// A drawn sample.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Sample number in the ledger.
    pub sample: i64,
    /// Seed used.
    pub seed: u64,
    /// The records, in sample order.
    pub records: Vec<RecordRow>,
}

/// Acceptance of one generator's reviewed records.
#[derive(Debug, Clone, Serialize)]
pub struct Acceptance {
    /// Generator (`null`: none recorded).
    pub generator: Option<String>,
    /// Reviewed records (latest verdict per record and reviewer).
    pub reviewed: u64,
    /// Accepted.
    pub accepted: u64,
    /// accepted / reviewed.
    pub rate: f64,
    /// Wilson 95 % interval of the rate.
    pub interval: (f64, f64),
}

/// Wilson score interval at z = 1.96.
pub fn wilson(accepted: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_963_984_540_054;
    let n = n as f64;
    let p = accepted as f64 / n;
    let denominator = 1.0 + z * z / n;
    let center = (p + z * z / (2.0 * n)) / denominator;
    let half = z * ((p * (1.0 - p) + z * z / (4.0 * n)) / n).sqrt() / denominator;
    let low = if accepted == 0 { 0.0 } else { (center - half).max(0.0) };
    let high = if accepted as f64 == n { 1.0 } else { (center + half).min(1.0) };
    (low, high)
}

impl Ledger {
    /// Draw `n` records of the given origins (and generator, if given) for review: the `n` with
    /// the smallest xxh3(id, seed), so the same seed gives the same sample and a larger `n`
    /// extends it. The sample is recorded in the ledger.
    pub fn review_sample(
        &mut self,
        n: usize,
        seed: u64,
        origins: &[Origin],
        generator: Option<&str>,
    ) -> Result<Sample> {
        let mut rows: Vec<RecordRow> = self
            .records(Some(origins))?
            .into_iter()
            .filter(|r| generator.is_none_or(|g| r.generator.as_deref() == Some(g)))
            .collect();
        rows.sort_by_key(|r| (xxh3_64_with_seed(r.id.as_bytes(), seed), r.id.clone()));
        rows.truncate(n);
        let conn = self.connection();
        let tx = conn.transaction()?;
        let sample: i64 =
            tx.query_row("SELECT coalesce(max(sample), 0) + 1 FROM review_samples", [], |r| r.get(0))?;
        {
            let mut insert =
                tx.prepare("INSERT INTO review_samples (sample, record, seed) VALUES (?1, ?2, ?3)")?;
            for r in &rows {
                insert.execute(params![sample, r.id, seed as i64])?;
            }
        }
        tx.commit()?;
        Ok(Sample { sample, seed, records: rows })
    }

    /// Record verdicts: (record reference, accept?, reviewer, note). A reviewer's later verdict
    /// on the same record replaces the earlier one. All or nothing.
    pub fn review_record(
        &mut self,
        verdicts: &[(String, bool, String, Option<String>, String)],
    ) -> Result<u64> {
        let mut resolved = Vec::with_capacity(verdicts.len());
        for (reference, accept, reviewer, note, location) in verdicts {
            let id = self
                .resolve(reference)
                .map_err(|e| Error::InvalidRecord { location: location.clone(), message: e.to_string() })?;
            resolved.push((id, *accept, reviewer.clone(), note.clone()));
        }
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let tx = self.connection().transaction()?;
        {
            let mut upsert = tx.prepare(
                "INSERT INTO reviews (record, reviewer, verdict, note, at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (record, reviewer) DO UPDATE SET verdict = excluded.verdict, note = excluded.note, at = excluded.at",
            )?;
            for (id, accept, reviewer, note) in &resolved {
                upsert.execute(params![id, reviewer, if *accept { "accept" } else { "reject" }, note, at])?;
            }
        }
        tx.commit()?;
        Ok(resolved.len() as u64)
    }

    /// Acceptance rate per generator over all recorded verdicts.
    pub fn review_report(&self) -> Result<Vec<Acceptance>> {
        let mut stmt = self.conn().prepare(
            "SELECT r.generator, count(*), sum(v.verdict = 'accept') FROM reviews v JOIN records r ON r.id = v.record
             GROUP BY r.generator ORDER BY r.generator",
        )?;
        let rows = stmt.query_map([], |r| {
            let n: i64 = r.get(1)?;
            let a: i64 = r.get(2)?;
            Ok(Acceptance {
                generator: r.get(0)?,
                reviewed: n as u64,
                accepted: a as u64,
                rate: if n > 0 { a as f64 / n as f64 } else { 0.0 },
                interval: wilson(a as u64, n as u64),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether a sample number exists (for messages).
    pub fn has_sample(&self, sample: i64) -> Result<bool> {
        Ok(self
            .conn()
            .query_row("SELECT 1 FROM review_samples WHERE sample = ?1 LIMIT 1", [sample], |_| Ok(()))
            .optional()?
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval() {
        let (lo, hi) = wilson(8, 10);
        assert!((lo - 0.4902).abs() < 1e-3 && (hi - 0.9433).abs() < 1e-3, "{lo} {hi}");
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }
}
