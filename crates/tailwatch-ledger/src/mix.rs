//! The mix builder: a training set from the ledger that honors synthetic-share caps, keeps human
//! data (accumulate, never replace), deduplicates and preserves rare cases, deterministically.
use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::params;
use serde::Serialize;
use tailwatch_core::{Tokenizer, TokenizerSpec};
use tailwatch_sketch::dedup::{DedupOptions, Deduper, KeepPolicy};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::store::{Ledger, Origin, RecordRow};
use crate::{Error, Result};

/// What caps and sizes count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Records.
    Records,
    /// Word tokens.
    Tokens,
}

/// The least human data in a mix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MinHuman {
    /// At least this many (records or tokens, per the unit).
    Count(u64),
    /// At least this share of the mix.
    Share(f64),
}

/// Which ledger records may enter a mix.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Selection {
    /// Only these generators (synthetic and unknown records); empty = all.
    pub generators: Vec<String>,
    /// Only records of at most this generation (records without one are kept).
    pub max_generation: Option<i64>,
    /// Only these sources; empty = all.
    pub sources: Vec<String>,
}

/// How to build a mix.
#[derive(Debug, Clone, Serialize)]
pub struct MixOptions {
    /// Name recorded in the ledger and the manifest.
    pub name: String,
    /// Target size in `unit`; `None` = every usable human record plus as much synthetic data as
    /// the cap allows.
    pub size: Option<u64>,
    /// Unit of sizes and caps.
    pub unit: Unit,
    /// Largest share of synthetic (and unknown-origin) data, in [0, 1].
    pub max_synthetic: f64,
    /// Least human data.
    pub min_human: Option<MinHuman>,
    /// Keep every human record of the ledger's earlier mixes.
    pub accumulate: bool,
    /// Remove exact and near duplicates (keeping human records) before sampling.
    pub dedup: Option<DedupOptions>,
    /// Keep first the human records that hold a tail type of the human records: the rarest
    /// word types holding this share of their tokens.
    pub tail_preserve: Option<f64>,
    /// Which records are eligible.
    pub selection: Selection,
    /// Seed of every random choice.
    pub seed: u64,
}

/// One cap and whether the mix meets it.
#[derive(Debug, Clone, Serialize)]
pub struct CapCheck {
    /// `max_synthetic`, `min_human` or `size`.
    pub cap: String,
    /// The limit.
    pub limit: f64,
    /// The mix's value.
    pub actual: f64,
    /// Met?
    pub met: bool,
}

/// The cap a mix cannot meet, with its numbers.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum UnmetCap {
    /// The human records that must stay (accumulated or tail-preserving) exceed the size.
    RequiredOverSize {
        /// The size asked for.
        size: u64,
        /// Its unit.
        unit: Unit,
    },
    /// Not enough eligible data for the size.
    Size {
        /// The size asked for.
        size: f64,
        /// At most this much fits.
        fit: f64,
        /// Human records (or tokens) in the mix.
        human: u64,
        /// Synthetic records (or tokens) the synthetic cap admitted.
        synthetic: u64,
        /// The synthetic cap.
        max_synthetic: f64,
        /// The unit of sizes.
        unit: Unit,
    },
    /// Fewer eligible human records than the minimum.
    MinHuman {
        /// The minimum.
        needed: f64,
        /// What the eligible human records give.
        eligible: f64,
        /// Its unit.
        unit: Unit,
    },
    /// A human share below the minimum.
    MinHumanShare {
        /// The minimum share.
        needed: f64,
        /// The mix's share.
        actual: f64,
    },
    /// Another cap over its limit.
    Other {
        /// The cap.
        cap: String,
        /// Its limit.
        limit: f64,
        /// The mix's value.
        actual: f64,
    },
}

impl std::fmt::Display for UnmetCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnmetCap::RequiredOverSize { size, unit } => write!(
                f,
                "the human records that must stay (accumulated or tail-preserving) already exceed the size {size} {}",
                unit_name(*unit)
            ),
            UnmetCap::Size { size, fit, human, synthetic, max_synthetic, unit } => write!(
                f,
                "cannot reach the size {size} {}: at most {fit} fit ({human} human + {synthetic} synthetic eligible under a synthetic cap of {max_synthetic})",
                unit_name(*unit)
            ),
            UnmetCap::MinHuman { needed, eligible, unit } => write!(
                f,
                "needs at least {needed} human {}, the ledger's eligible human records give {eligible}",
                unit_name(*unit)
            ),
            UnmetCap::MinHumanShare { needed, actual } => {
                write!(f, "needs a human share of at least {needed}, the mix would have {actual:.4}")
            }
            UnmetCap::Other { cap, limit, actual } => {
                write!(f, "{cap} would be {actual:.4}, over its limit {limit}")
            }
        }
    }
}

/// Counts of a group in the manifest.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Share {
    /// Records.
    pub records: u64,
    /// Tokens.
    pub tokens: u64,
    /// Share of the mix in the unit.
    pub share: f64,
}

/// The manifest written next to a mix.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// tailwatch version.
    pub tailwatch_version: String,
    /// Mix id in the ledger.
    pub mix: i64,
    /// Options used.
    pub options: MixOptions,
    /// Records in the mix.
    pub records: u64,
    /// Tokens in the mix.
    pub tokens: u64,
    /// By origin.
    pub by_origin: BTreeMap<String, Share>,
    /// By generation (`none` for records without one).
    pub by_generation: BTreeMap<String, Share>,
    /// By generator (`none` for human records).
    pub by_generator: BTreeMap<String, Share>,
    /// Every cap with its actual value.
    pub caps: Vec<CapCheck>,
    /// Eligible records before dedup.
    pub eligible: u64,
    /// Removed as duplicates.
    pub removed_duplicates: u64,
    /// Human records kept because they hold tail types.
    pub tail_preserved: u64,
    /// Human records kept from earlier mixes.
    pub accumulated: u64,
    /// BLAKE3 of the member ids in mix order (to check the written file).
    pub members_blake3: String,
}

fn is_synthetic(origin: Origin) -> bool {
    origin != Origin::Human
}

/// Counts of a member list, by key.
fn shares(members: &[RecordRow], unit: Unit, key: impl Fn(&RecordRow) -> String) -> BTreeMap<String, Share> {
    let total: f64 = members.iter().map(|r| weight(r, unit) as f64).sum();
    let mut out: BTreeMap<String, Share> = BTreeMap::new();
    for r in members {
        let e = out.entry(key(r)).or_insert(Share { records: 0, tokens: 0, share: 0.0 });
        e.records += 1;
        e.tokens += r.tokens as u64;
    }
    for s in out.values_mut() {
        let w = match unit {
            Unit::Records => s.records,
            Unit::Tokens => s.tokens,
        };
        s.share = if total > 0.0 { w as f64 / total } else { 0.0 };
    }
    out
}

fn weight(r: &RecordRow, unit: Unit) -> u64 {
    match unit {
        Unit::Records => 1,
        Unit::Tokens => r.tokens.max(0) as u64,
    }
}

/// The caps of `options` evaluated on `members`.
pub fn check_caps(members: &[RecordRow], options: &MixOptions) -> Vec<CapCheck> {
    let unit = options.unit;
    let total: u64 = members.iter().map(|r| weight(r, unit)).sum();
    let synthetic: u64 = members.iter().filter(|r| is_synthetic(r.origin)).map(|r| weight(r, unit)).sum();
    let human = total - synthetic;
    let share = if total > 0 { synthetic as f64 / total as f64 } else { 0.0 };
    let mut caps = vec![CapCheck {
        cap: "max_synthetic".into(),
        limit: options.max_synthetic,
        actual: share,
        met: synthetic as f64 <= options.max_synthetic * total as f64 + 1e-9,
    }];
    match options.min_human {
        Some(MinHuman::Count(n)) => caps.push(CapCheck {
            cap: "min_human".into(),
            limit: n as f64,
            actual: human as f64,
            met: human >= n,
        }),
        Some(MinHuman::Share(s)) => caps.push(CapCheck {
            cap: "min_human_share".into(),
            limit: s,
            actual: if total > 0 { human as f64 / total as f64 } else { 0.0 },
            met: human as f64 >= s * total as f64 - 1e-9 && total > 0,
        }),
        None => {}
    }
    if let Some(size) = options.size {
        caps.push(CapCheck {
            cap: "size".into(),
            limit: size as f64,
            actual: total as f64,
            met: total == size,
        });
    }
    caps
}

/// Human records holding one of the human records' tail types.
fn tail_records(humans: &[&RecordRow], tail_mass: f64) -> Result<HashSet<String>> {
    let tokenizer =
        Tokenizer::from_spec(&TokenizerSpec::builtin(tailwatch_core::TokenizerKind::Words, true))?;
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut tokens_of: Vec<Vec<String>> = Vec::with_capacity(humans.len());
    for r in humans {
        let tokens = tokenizer.tokens(&r.text)?;
        for t in &tokens {
            *counts.entry(t.clone()).or_default() += 1;
        }
        tokens_of.push(tokens);
    }
    let total: u64 = counts.values().sum();
    let mut by_count: Vec<(u64, &String)> = counts.iter().map(|(t, c)| (*c, t)).collect();
    by_count.sort();
    let budget = tail_mass * total as f64;
    let mut tail: HashSet<&str> = HashSet::new();
    let mut used = 0u64;
    let mut i = 0;
    while i < by_count.len() {
        let level = by_count[i].0;
        let mut j = i;
        let mut mass = 0;
        while j < by_count.len() && by_count[j].0 == level {
            mass += level;
            j += 1;
        }
        if (used + mass) as f64 > budget {
            break;
        }
        used += mass;
        tail.extend(by_count[i..j].iter().map(|(_, t)| t.as_str()));
        i = j;
    }
    Ok(humans
        .iter()
        .zip(&tokens_of)
        .filter(|(_, toks)| toks.iter().any(|t| tail.contains(t.as_str())))
        .map(|(r, _)| r.id.clone())
        .collect())
}

/// Build a mix; on success it is recorded in the ledger. When the caps cannot all be met the
/// result is [`Error::CapsUnmet`] naming the failing cap and nothing is recorded: a cap is never
/// silently violated.
pub fn build_mix(ledger: &mut Ledger, options: &MixOptions) -> Result<(Vec<RecordRow>, Manifest)> {
    let invalid =
        |name, expected, found: f64| Error::InvalidParameter { name, expected, found: found.to_string() };
    if !(0.0..=1.0).contains(&options.max_synthetic) {
        return Err(invalid("max_synthetic", "a share in [0, 1]", options.max_synthetic));
    }
    if let Some(MinHuman::Share(s)) = options.min_human
        && !(0.0..=1.0).contains(&s)
    {
        return Err(invalid("min_human", "a share in [0, 1]", s));
    }
    if let Some(mass) = options.tail_preserve
        && !(mass > 0.0 && mass <= 1.0)
    {
        return Err(invalid("tail_preserve", "a share in (0, 1]", mass));
    }
    let unit = options.unit;
    let sel = &options.selection;
    let mut eligible: Vec<RecordRow> = ledger
        .records(None)?
        .into_iter()
        .filter(|r| {
            sel.generators.is_empty()
                || r.origin == Origin::Human
                || r.generator.as_ref().is_some_and(|g| sel.generators.contains(g))
        })
        .filter(|r| sel.max_generation.is_none_or(|m| r.generation.is_none_or(|g| g <= m)))
        .filter(|r| sel.sources.is_empty() || r.source.as_ref().is_some_and(|s| sel.sources.contains(s)))
        .collect();
    let n_eligible = eligible.len() as u64;
    // dedup, preferring human records
    let mut removed = 0u64;
    if let Some(dedup) = &options.dedup {
        let texts: Vec<String> = eligible.iter().map(|r| r.text.clone()).collect();
        let extras: Vec<Option<String>> =
            eligible.iter().map(|r| Some(r.origin.as_str().to_string())).collect();
        let mut d = Deduper::new(DedupOptions { keep: KeepPolicy::Prefer("human".into()), ..dedup.clone() })?;
        d.add(&texts, Some(&extras));
        let keep = d.finish().keep;
        let before = eligible.len();
        eligible = eligible.into_iter().zip(keep).filter(|(_, k)| *k).map(|(r, _)| r).collect();
        removed = (before - eligible.len()) as u64;
    }
    // required human records: accumulated from earlier mixes, and tail holders
    let mut required: HashSet<String> = HashSet::new();
    let mut accumulated = 0u64;
    if options.accumulate {
        let mut stmt = ledger.conn().prepare(
            "SELECT DISTINCT m.record FROM mix_members m JOIN records r ON r.id = m.record WHERE r.origin = 'human'",
        )?;
        let earlier: HashSet<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        for r in &eligible {
            if earlier.contains(&r.id) && required.insert(r.id.clone()) {
                accumulated += 1;
            }
        }
    }
    let mut tail_preserved = 0u64;
    if let Some(mass) = options.tail_preserve {
        let humans: Vec<&RecordRow> = eligible.iter().filter(|r| r.origin == Origin::Human).collect();
        for id in tail_records(&humans, mass)? {
            if required.insert(id) {
                tail_preserved += 1;
            }
        }
    }
    // deterministic order: required human first, then the rest of each pool by seeded hash
    let order = |r: &RecordRow| (xxh3_64_with_seed(r.id.as_bytes(), options.seed), r.id.clone());
    let mut humans: Vec<RecordRow> = eligible.iter().filter(|r| r.origin == Origin::Human).cloned().collect();
    humans.sort_by_key(|r| (!required.contains(&r.id), order(r)));
    let mut synthetic: Vec<RecordRow> = eligible.iter().filter(|r| is_synthetic(r.origin)).cloned().collect();
    synthetic.sort_by_key(order);
    let cap = options.max_synthetic;
    let target = options.size;
    let mut members: Vec<RecordRow> = Vec::new();
    let (mut h, mut s) = (0u64, 0u64);
    for r in humans {
        let w = weight(&r, unit);
        let must = required.contains(&r.id);
        if let Some(t) = target
            && h + w > t
        {
            if must {
                return Err(Error::CapsUnmet(UnmetCap::RequiredOverSize { size: t, unit }));
            }
            continue;
        }
        h += w;
        members.push(r);
    }
    // synthetic: as much as the cap and the size allow
    for r in synthetic {
        let w = weight(&r, unit);
        let total = h + s + w;
        if (s + w) as f64 > cap * total as f64 + 1e-9 {
            continue;
        }
        if let Some(t) = target
            && total > t
        {
            continue;
        }
        if let Some(MinHuman::Share(share)) = options.min_human
            && (h as f64) < share * total as f64 - 1e-9
        {
            continue;
        }
        s += w;
        members.push(r);
    }
    // the mix is human-first: a shortfall against --size means there is not enough eligible data
    let caps = check_caps(&members, options);
    if let Some(failed) = caps.iter().find(|c| !c.met) {
        let unmet = match failed.cap.as_str() {
            "size" => UnmetCap::Size {
                size: failed.limit,
                fit: failed.actual,
                human: h,
                synthetic: s,
                max_synthetic: cap,
                unit,
            },
            "min_human" => UnmetCap::MinHuman { needed: failed.limit, eligible: failed.actual, unit },
            "min_human_share" => UnmetCap::MinHumanShare { needed: failed.limit, actual: failed.actual },
            _ => UnmetCap::Other { cap: failed.cap.clone(), limit: failed.limit, actual: failed.actual },
        };
        return Err(Error::CapsUnmet(unmet));
    }
    // mix order: seeded shuffle of everything
    members.sort_by_key(|r| {
        (xxh3_64_with_seed(r.id.as_bytes(), options.seed ^ 0x6d69_785f_6f72_6465), r.id.clone())
    });
    let mut hasher = blake3::Hasher::new();
    for r in &members {
        hasher.update(r.id.as_bytes());
        hasher.update(b"\n");
    }
    let mut manifest = Manifest {
        tailwatch_version: tailwatch_core::VERSION.to_string(),
        mix: 0,
        options: options.clone(),
        records: members.len() as u64,
        tokens: members.iter().map(|r| r.tokens as u64).sum(),
        by_origin: shares(&members, unit, |r| r.origin.as_str().to_string()),
        by_generation: shares(&members, unit, |r| {
            r.generation.map_or_else(|| "none".to_string(), |g| g.to_string())
        }),
        by_generator: shares(&members, unit, |r| r.generator.clone().unwrap_or_else(|| "none".into())),
        caps,
        eligible: n_eligible,
        removed_duplicates: removed,
        tail_preserved,
        accumulated,
        members_blake3: hasher.finalize().to_hex().to_string(),
    };
    let conn = ledger.connection();
    let tx = conn.transaction()?;
    let created =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    tx.execute(
        "INSERT INTO mixes (name, created_at, manifest) VALUES (?1, ?2, '')",
        params![options.name, created],
    )?;
    manifest.mix = tx.last_insert_rowid();
    {
        let mut insert = tx.prepare("INSERT INTO mix_members (mix, record) VALUES (?1, ?2)")?;
        for r in &members {
            insert.execute(params![manifest.mix, r.id])?;
        }
    }
    let text = serde_json::to_string(&manifest)
        .map_err(|source| Error::Json { context: "manifest".into(), source })?;
    tx.execute("UPDATE mixes SET manifest = ?1 WHERE id = ?2", params![text, manifest.mix])?;
    tx.commit()?;
    Ok((members, manifest))
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Records => "records",
        Unit::Tokens => "tokens",
    }
}
