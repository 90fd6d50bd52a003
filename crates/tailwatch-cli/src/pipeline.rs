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
    let budget_per_worker = (max_memory / threads as u64) as usize;
    let (sender, receiver) = sync_channel::<Vec<String>>(threads * 2);
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
                    if let Err(e) = batch.iter().try_for_each(|doc| profile.observe(tokenizer, doc)) {
                        failed = Some(e);
                        continue;
                    }
                    if !profile.is_sketched() && profile.memory_bytes() > budget_per_worker {
                        profile.sketch_ngrams();
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
                    if sender.send(batch.docs).is_err() {
                        break; // a worker failed; its error is reported below
                    }
                }
                reporter.finish();
                let s = reader.stats();
                stats.records += s.records;
                stats.docs += s.docs;
                stats.skipped += s.skipped;
                if stats.first_skipped.is_none() {
                    stats.first_skipped.clone_from(&s.first_skipped);
                }
            }
            Ok(())
        })();
        drop(sender);
        let profiles: Vec<Result<Profile>> =
            workers.join().unwrap_or_else(|_| vec![Err(anyhow!("a worker thread panicked"))]);
        (profiles, read_result)
    });
    read_result?;
    let mut profiles = profiles.into_iter();
    // merge into the first worker's profile: the largest tables stay where they are
    let mut merged = match profiles.next() {
        Some(first) => first?,
        None => Profile::new(config.clone()),
    };
    for profile in profiles {
        merged.merge(profile?)?;
    }
    merged.seal();
    if !merged.is_sketched() && merged.memory_bytes() > max_memory as usize {
        merged.sketch_ngrams();
    }
    Ok((merged, stats))
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
