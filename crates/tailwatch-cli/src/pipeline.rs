//! The streaming pipeline: readers feed batches to worker threads that each build a profile,
//! and the per-worker profiles are merged at the end (exact, so thread count changes nothing).
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use anyhow::{Context, Result, anyhow, bail};
use tailwatch_core::{Reporter, Tokenizer, TokenizerSpec};
use tailwatch_io::{DocReader, DocSeparator, Format, ReadOptions, ReadStats};
use tailwatch_metrics::{Profile, ProfileConfig, SampleSize};

use crate::args::{DocSep, InputArgs, ProfileOptions};

/// Reader options from the command line.
pub fn read_options(args: &InputArgs, field_override: Option<&str>, items: bool) -> Result<ReadOptions> {
    let format = match &args.format {
        Some(name) => Some(Format::parse(name).ok_or_else(|| anyhow!("unknown format `{name}`"))?),
        None => None,
    };
    Ok(ReadOptions {
        format,
        field: field_override.map(str::to_string).or_else(|| args.field.clone()),
        doc_separator: match args.doc_sep {
            DocSep::Line => DocSeparator::Line,
            DocSep::Blank => DocSeparator::Blank,
        },
        skip_invalid: args.skip_invalid,
        lossy: args.lossy,
        array_is_one_doc: items,
        ..ReadOptions::default()
    })
}

/// Parse sizes like `512MiB`, `4GiB`, `1000000`, `2G`.
pub fn parse_bytes(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().with_context(|| format!("invalid size `{text}`"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0_f64.powi(4),
        _ => bail!("invalid size unit in `{text}` (use KiB, MiB, GiB)"),
    };
    Ok((value * scale) as u64)
}

/// The tokenizer and profile configuration from the command line.
pub fn tokenizer_and_config(options: &ProfileOptions) -> Result<(Tokenizer, ProfileConfig)> {
    let tokenizer = match TokenizerSpec::parse_builtin(&options.tokenizer, options.lowercase) {
        Some(spec) => Tokenizer::from_spec(&spec)?,
        None => {
            let path = Path::new(&options.tokenizer);
            if !path.exists() {
                bail!(
                    "unknown tokenizer `{}` (expected `words`, `whitespace`, `python-split`, `items` or a path to a HuggingFace tokenizer.json)",
                    options.tokenizer
                );
            }
            let bytes = fs_err::read(path)?;
            Tokenizer::huggingface(&bytes, &options.tokenizer, options.lowercase)?
        }
    };
    let sample = match options.sample.as_str() {
        "all" => SampleSize::All,
        n => SampleSize::Docs(
            n.parse().with_context(|| format!("--sample must be a number or `all`, found `{n}`"))?,
        ),
    };
    let mut config = ProfileConfig::new(tokenizer.spec().clone());
    config.sample = sample;
    config.seed = options.seed;
    config.items_k = options.k;
    Ok((tokenizer, config))
}

/// One memory budget for the exact n-gram tables of a whole run, shared by its workers.
///
/// The tables stay exact while the exact tables of everything read so far fit in `limit` bytes
/// ([`Profile::exact_ngram_bytes`], a function of the corpus alone); past it every worker
/// switches to sketches. A worker whose own tables outgrow its share moves its profile into
/// the pooled one, and the pooled profile is what the limit is checked on. The pooled profile is
/// the exact profile of a part of the input, so it outgrows the limit only when the whole
/// input's would: whether a run is sketched depends on the input and the limit, never on the
/// number of threads or on which worker read what. Peak memory: the limit, plus each worker's
/// share (half the limit in all), plus what a merge needs.
struct NgramBudget {
    limit: usize,
    /// A worker's own table memory at which it moves its profile into the pooled one.
    share: usize,
    pooled: std::sync::Mutex<Option<Profile>>,
    sketched: std::sync::atomic::AtomicBool,
}

impl NgramBudget {
    fn new(limit: u64, workers: usize) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Self {
            limit,
            share: limit / (2 * workers.max(1)),
            pooled: std::sync::Mutex::new(None),
            sketched: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Check a worker's profile after a batch: sketch it once the run is sketched, or move it
    /// into the pooled profile when it outgrows its share.
    fn check(&self, profile: &mut Profile) -> tailwatch_metrics::Result<()> {
        use std::sync::atomic::Ordering;
        if profile.is_sketched() {
            return Ok(());
        }
        if self.sketched.load(Ordering::Acquire) {
            profile.sketch_ngrams();
            return Ok(());
        }
        if profile.memory_bytes() <= self.share {
            return Ok(());
        }
        let mine = std::mem::replace(profile, Profile::new(profile.config().clone()));
        let mut pooled = self.pooled.lock().expect("no poisoned lock");
        let pooled = pooled.get_or_insert_with(|| Profile::new(mine.config().clone()));
        pooled.merge(mine)?;
        if !pooled.is_sketched() && pooled.exact_ngram_bytes() > self.limit {
            pooled.sketch_ngrams();
            pooled.seal();
            self.sketched.store(true, Ordering::Release);
            profile.sketch_ngrams();
        }
        Ok(())
    }

    /// The run's profile: the pooled one and every worker's, merged, sketched if the exact
    /// tables of the whole input exceed the limit.
    fn finish(self, workers: impl IntoIterator<Item = Profile>, config: &ProfileConfig) -> Result<Profile> {
        let mut workers = workers.into_iter();
        // merge into the largest profile so far: its tables stay where they are
        let mut merged = match self.pooled.into_inner().expect("no poisoned lock") {
            Some(pooled) => pooled,
            None => workers.next().unwrap_or_else(|| Profile::new(config.clone())),
        };
        for profile in workers {
            merged.merge(profile)?;
        }
        merged.seal();
        if !merged.is_sketched() && merged.exact_ngram_bytes() > self.limit {
            merged.sketch_ngrams();
            merged.seal();
        }
        Ok(merged)
    }
}

/// Profile the inputs with one worker on each thread of the global rayon pool, reading on the
/// calling thread. Call it from outside the pool: the workers occupy every pool thread until
/// the input ends.
pub fn profile_inputs(
    inputs: &[PathBuf],
    read: &ReadOptions,
    tokenizer: &Tokenizer,
    config: &ProfileConfig,
    max_memory: u64,
    reporter: &dyn Reporter,
) -> Result<(Profile, ReadStats)> {
    debug_assert!(rayon::current_thread_index().is_none(), "profile_inputs called on a rayon pool thread");
    let threads = rayon::current_num_threads().max(1);
    let budget = NgramBudget::new(max_memory, threads);
    let (sender, receiver) = sync_channel::<tailwatch_io::Batch>(threads * 2);
    let receiver = std::sync::Mutex::new(receiver);
    let mut stats = ReadStats::default();
    let (profiles, read_result) = std::thread::scope(|scope| {
        // one worker on each thread of the pool, which also merges their profiles below: memory
        // freed by the merge is reused by the same threads' allocations
        let workers = scope.spawn(|| {
            rayon::broadcast(|_| -> Result<Profile> {
                let mut profile = Profile::new(config.clone());
                let mut failed = None;
                loop {
                    let batch = receiver.lock().expect("no poisoned lock").recv();
                    let Ok(batch) = batch else { break };
                    if failed.is_some() {
                        continue; // drain, so that the reader never waits on a failed worker
                    }
                    if let Err(e) = batch.texts().try_for_each(|doc| profile.observe(tokenizer, doc)) {
                        failed = Some(e);
                        continue;
                    }
                    if let Err(e) = budget.check(&mut profile) {
                        failed = Some(e);
                    }
                }
                match failed {
                    Some(e) => Err(e.into()),
                    // sealed by the merge below, on all threads
                    None => Ok(profile),
                }
            })
        });
        let read_result = (|| -> Result<()> {
            for input in inputs {
                let mut reader = DocReader::open(input, read)?;
                reporter.start(&short_name(input), reader.total_bytes());
                let mut last = 0;
                while let Some(batch) = reader.next_batch()? {
                    let now = reader.bytes_read();
                    reporter.advance(now - last);
                    last = now;
                    if sender.send(batch).is_err() {
                        break; // a worker failed; its error is reported below
                    }
                }
                reporter.finish();
                stats += reader.stats();
            }
            Ok(())
        })();
        drop(sender);
        let profiles: Vec<Result<Profile>> =
            workers.join().unwrap_or_else(|_| vec![Err(anyhow!("a worker thread panicked"))]);
        (profiles, read_result)
    });
    read_result?;
    let profiles = profiles.into_iter().collect::<Result<Vec<Profile>>>()?;
    Ok((budget.finish(profiles, config)?, stats))
}

fn short_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Whether a path looks like a saved profile.
pub fn is_profile_path(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "twp")
}

/// Load a `.twp` profile.
pub fn load_profile(path: &Path) -> Result<Profile> {
    let bytes = fs_err::read(path)?;
    Ok(Profile::from_bytes(&bytes, path)?)
}

/// Write a `.twp` profile atomically (temp file + rename), so a failure never leaves a torn file.
pub fn save_profile(profile: &Profile, path: &Path) -> Result<()> {
    let bytes = profile.to_bytes()?;
    let tmp = path.with_extension("twp.tmp");
    fs_err::write(&tmp, &bytes)?;
    fs_err::rename(&tmp, path)?;
    Ok(())
}
