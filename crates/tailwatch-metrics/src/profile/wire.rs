//! The `.twp` file of a text [`Profile`]: header, then a zstd-compressed postcard body.
//!
//! Header (12 bytes): `TWPROF`, the kind tag ([`ProfileKind`], one byte: 0 text, 1 item
//! lists), `0x01`, and the body's format version (u32, little-endian). Files of formats 1 and 2
//! written before the kind tag existed hold 0 there, whatever they profile.
//!
//! Format 3 keeps each sampled document as its text when the profile keeps text, else as its
//! tokens (indices into the body's sorted token list); formats 1 and 2 kept the text alone.
//! Text is tokenized again on reading (built-in tokenizers), so equal profiles give equal bytes.
//! Format 4 appends extensions to the format-3 body (postcard, one after the other): the
//! sampled groups of answers ([`crate::grouped`]). A profile without any is written as format
//! 3, which builds before extensions read.
//!
//! A format-3 header is followed by the xxh3-64 (little-endian) of the compressed body, checked
//! before anything is decoded, and a decoded body must be consistent (its counts add up) to be
//! read: a flipped bit or a crafted count is refused, never scored or stored.
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tailwatch_core::DocHash;

use super::{Profile, ProfileConfig, ProfileParts, TokenStat};
use crate::accumulator::ProfileKind;
use crate::ngram_table::{MAX_ORDER, NgramTable, NgramWire};
use crate::sample::{BottomK, SampleSize, SampledDoc};
use crate::{Error, Result};

/// Magic bytes that open every `.twp` file (with the kind tag of a text profile at byte 6).
pub const PROFILE_MAGIC: &[u8; 8] = b"TWPROF\x00\x01";
/// The newest `.twp` format version this build writes. Version 2 stores the 2- and 3-gram
/// tables as keys only; version 3 the sample as tokens, with text only when kept; version 4
/// adds extensions (groups of answers), and is written only by profiles that have one. This
/// build also reads versions 1 (dropping the 2- and 3-gram statistics) and 2.
pub const PROFILE_FORMAT_VERSION: u32 = 4;

/// The format of profiles without extensions.
const FORMAT_WITHOUT_EXTENSIONS: u32 = 3;

/// What format 4 appends to a format-3 body, in this order, each at most once.
#[derive(Serialize, Deserialize)]
enum Extension {
    /// The sampled groups of answers.
    Groups(crate::grouped::GroupSampleWire),
    /// The score columns, by field, in the configuration's order.
    Scores(Vec<(String, crate::score_columns::ScoreColumn)>),
    /// Refusals and disclaimers: the phrase bank's version, answers, refusals, disclaimers.
    Phrases(String, u64, u64, u64),
}
/// The oldest `.twp` format version this build reads.
pub const PROFILE_FORMAT_OLDEST: u32 = 1;

/// The phrase bank's version as profiles record it.
fn bank_version() -> String {
    crate::phrases::PhraseBank::standard()
        .version()
        .unwrap_or(crate::phrases::PHRASE_BANK_VERSION)
        .to_string()
}

/// The header of a profile of `kind`.
fn header(kind: ProfileKind, version: u32) -> [u8; 12] {
    let mut header = [0u8; 12];
    header[..8].copy_from_slice(PROFILE_MAGIC);
    header[6] = kind.tag();
    header[8..].copy_from_slice(&version.to_le_bytes());
    header
}

impl Profile {
    /// Serialize to `.twp` bytes: the header (magic, kind tag, format version), then the
    /// zstd-compressed postcard body. The body is canonical (sorted), so equal profiles give
    /// equal bytes. Needs a sealed, full profile.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        if self.parts != ProfileParts::ALL {
            return Err(Error::PartialProfile);
        }
        let mut stats: Vec<(&str, TokenStat)> = self.token_stats().collect();
        stats.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let tokens: Vec<(String, u64, u64, u64)> =
            stats.iter().map(|(t, s)| (t.to_string(), s.count, s.docs, s.exposure)).collect();
        let ids: foldhash::HashMap<u64, u32> =
            stats.iter().enumerate().map(|(i, (_, s))| (s.hash, i as u32)).collect();
        let mut doc_counts: Vec<(u128, u64)> = self.doc_counts.iter().map(|(h, c)| (h.0, *c)).collect();
        doc_counts.sort_unstable();
        let wire = ProfileWire {
            tailwatch_version: tailwatch_core::VERSION.to_string(),
            config: self.config.clone(),
            n_docs: self.n_docs,
            n_tokens: self.n_tokens,
            n_bytes: self.n_bytes,
            tokens,
            ngrams: self.ngrams.iter().map(NgramTable::to_wire).collect(),
            totals: self.totals,
            unique_in_docs: self.unique_in_docs,
            doc_counts,
            doc_lengths: self.doc_lengths.iter().map(|(l, c)| (*l, *c)).collect(),
            sample: SampleWire::of(&self.sample, &ids),
        };
        let mut body = postcard::to_stdvec(&wire).map_err(Error::Encode)?;
        let mut extensions = Vec::new();
        if let Some(groups) = &self.groups {
            extensions.push(Extension::Groups(groups.to_wire()));
        }
        if !self.scores.is_empty() {
            let columns = self.score_columns().map(|(f, c)| (f.to_string(), c.clone())).collect();
            extensions.push(Extension::Scores(columns));
        }
        if let Some(p) = &self.phrases {
            extensions.push(Extension::Phrases(bank_version(), p.answers, p.refusals, p.disclaimers));
        }
        let version = if extensions.is_empty() {
            FORMAT_WITHOUT_EXTENSIONS
        } else {
            body.extend(postcard::to_stdvec(&extensions).map_err(Error::Encode)?);
            PROFILE_FORMAT_VERSION
        };
        let mut encoder =
            zstd::Encoder::new(Vec::with_capacity(body.len() / 3 + 16), 3).map_err(Error::Compress)?;
        encoder.write_all(&body).map_err(Error::Compress)?;
        let compressed = encoder.finish().map_err(Error::Compress)?;
        let mut out = Vec::with_capacity(compressed.len() + 20);
        out.extend_from_slice(&header(self.kind(), version));
        out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&compressed).to_le_bytes());
        out.extend_from_slice(&compressed);
        Ok(out)
    }

    /// Parse `.twp` bytes; `path` is only used in error messages.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        Self::from_bytes_limited(bytes, path, usize::MAX)
    }

    /// [`Profile::from_bytes`], refusing bodies that decompress to more than `max_decoded` bytes
    /// (for untrusted input such as a server's request bodies).
    pub fn from_bytes_limited(bytes: &[u8], path: &Path, max_decoded: usize) -> Result<Self> {
        let not_profile = |reason: String| Error::NotAProfile { path: path.to_path_buf(), reason };
        if bytes.len() < 12 || bytes[..6] != PROFILE_MAGIC[..6] {
            return Err(not_profile("missing the `TWPROF` magic header".into()));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if !(PROFILE_FORMAT_OLDEST..=PROFILE_FORMAT_VERSION).contains(&version)
            || bytes[7] != PROFILE_MAGIC[7]
        {
            return Err(Error::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: PROFILE_FORMAT_VERSION,
            });
        }
        let kind = ProfileKind::from_tag(bytes[6])
            .ok_or_else(|| Error::UnknownKind { path: path.to_path_buf(), tag: bytes[6] })?;
        let compressed = if version >= 3 {
            if bytes.len() < 20 {
                return Err(not_profile("truncated: no checksum after the header".into()));
            }
            let stored = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
            if xxhash_rust::xxh3::xxh3_64(&bytes[20..]) != stored {
                return Err(not_profile(
                    "its checksum does not match: the file is corrupt or truncated".into(),
                ));
            }
            &bytes[20..]
        } else {
            &bytes[12..]
        };
        let mut body = Vec::new();
        {
            use std::io::Read;
            let decoder =
                zstd::Decoder::new(compressed).map_err(|e| not_profile(format!("corrupt body: {e}")))?;
            decoder
                .take((max_decoded as u64).saturating_add(1))
                .read_to_end(&mut body)
                .map_err(|e| not_profile(format!("corrupt body: {e}")))?;
        }
        if body.len() > max_decoded {
            return Err(not_profile(format!("the body decompresses to more than {max_decoded} bytes")));
        }
        let corrupt = |e: postcard::Error| not_profile(format!("corrupt body: {e}"));
        let mut extensions = Vec::new();
        let wire: ProfileWire = if version >= 4 {
            let (wire, rest) = postcard::take_from_bytes(&body).map_err(corrupt)?;
            let (found, rest): (Vec<Extension>, &[u8]) = postcard::take_from_bytes(rest).map_err(corrupt)?;
            if !rest.is_empty() || found.is_empty() {
                return Err(not_profile("corrupt body: its extensions do not end the body".into()));
            }
            extensions = found;
            wire
        } else if version >= 3 {
            postcard::from_bytes(&body).map_err(corrupt)?
        } else {
            postcard::from_bytes::<LegacyWire>(&body).map_err(corrupt)?.into()
        };
        let mut profile = Profile::new(wire.config);
        // files written before the kind tag hold 0 (text) for every profile
        if kind != profile.kind() && kind != ProfileKind::Text {
            return Err(not_profile(format!(
                "its header says it profiles {}, but its tokenizer is `{}`",
                kind.name(),
                profile.config.tokenizer.name()
            )));
        }
        profile.n_docs = wire.n_docs;
        profile.n_tokens = wire.n_tokens;
        profile.n_bytes = wire.n_bytes;
        for (token, count, docs, exposure) in wire.tokens {
            // refused before it is added: a second listing's counts would add to the first's
            // (and overflow, from a crafted file)
            if profile.vocab.get(&token).is_some() {
                return Err(not_profile("a token listed twice".into()));
            }
            profile.vocab.add(&token, TokenStat { hash: 0, count, docs, exposure });
        }
        if wire.ngrams.len() != MAX_ORDER - 1 {
            return Err(not_profile(format!(
                "expected {} n-gram tables, found {}",
                MAX_ORDER - 1,
                wire.ngrams.len()
            )));
        }
        for (order, (slot, table)) in (2..).zip(profile.ngrams.iter_mut().zip(wire.ngrams)) {
            let table =
                NgramTable::from_wire(table).map_err(|e| not_profile(format!("corrupt sketch: {e}")))?;
            // version 1 kept statistics for every order
            *slot = if order < MAX_ORDER { table.into_keys_only() } else { table };
        }
        profile.totals = wire.totals;
        profile.unique_in_docs = wire.unique_in_docs;
        profile.doc_counts = wire.doc_counts.into_iter().map(|(h, c)| (DocHash(h), c)).collect();
        profile.doc_lengths = wire.doc_lengths.into_iter().collect();
        if wire.sample.size != profile.config.sample {
            return Err(not_profile("sample size does not match the header".into()));
        }
        let hashes: Vec<u64> = profile.vocab.iter().map(|(_, s)| s.hash).collect();
        profile.sample =
            wire.sample.into_sample(&hashes).map_err(|e| not_profile(format!("corrupt sample: {e}")))?;
        let mut seen_groups = false;
        let mut seen_scores = false;
        // a profile of format 3 or older did not count refusals
        profile.phrases = None;
        let mut seen_phrases = false;
        for extension in extensions {
            match extension {
                Extension::Phrases(version, answers, refusals, disclaimers) if !seen_phrases => {
                    seen_phrases = true;
                    // counts of another bank are not this build's: unknown
                    profile.phrases = (version == bank_version()).then_some(crate::phrases::PhraseCounts {
                        answers,
                        refusals,
                        disclaimers,
                    });
                }
                Extension::Phrases(..) => {
                    return Err(not_profile("corrupt body: its phrase counts twice".into()));
                }
                Extension::Groups(_) | Extension::Scores(_) if seen_phrases => {
                    return Err(not_profile("corrupt body: its extensions out of order".into()));
                }
                Extension::Scores(columns) if !seen_scores => {
                    seen_scores = true;
                    let mut names = std::collections::BTreeSet::new();
                    for (field, column) in &columns {
                        let name = crate::score_columns::sanitize_field(field)
                            .map_err(|e| not_profile(format!("corrupt score columns: {e}")))?;
                        if !names.insert(name) {
                            return Err(not_profile(format!("corrupt score columns: `{field}` twice")));
                        }
                        column
                            .check_consistent()
                            .map_err(|e| not_profile(format!("corrupt score column `{field}`: {e}")))?;
                    }
                    if columns.is_empty() {
                        return Err(not_profile("corrupt body: an empty list of score columns".into()));
                    }
                    let (fields, columns): (Vec<String>, Vec<_>) = columns.into_iter().unzip();
                    profile.config.score_fields = fields;
                    profile.scores = columns;
                }
                Extension::Scores(_) => {
                    return Err(not_profile("corrupt body: its score columns twice".into()));
                }
                Extension::Groups(_) if seen_scores => {
                    return Err(not_profile("corrupt body: its extensions out of order".into()));
                }
                Extension::Groups(wire) if !seen_groups => {
                    seen_groups = true;
                    let groups = crate::grouped::GroupSample::from_wire(wire, profile.config.seed)
                        .map_err(|e| not_profile(format!("corrupt groups: {e}")))?;
                    profile.config.grouping = Some(groups.grouping().clone());
                    profile.groups = Some(groups);
                }
                Extension::Groups(_) => return Err(not_profile("corrupt body: its groups twice".into())),
            }
        }
        // a sample kept as text (and files of formats 1 and 2) is tokenized again
        profile.hash_sample_tokens()?;
        profile.seal();
        profile.check_consistent().map_err(|e| not_profile(format!("inconsistent: {e}")))?;
        Ok(profile)
    }
}

#[derive(Serialize, Deserialize)]
struct ProfileWire {
    tailwatch_version: String,
    config: ProfileConfig,
    n_docs: u64,
    n_tokens: u64,
    n_bytes: u64,
    tokens: Vec<(String, u64, u64, u64)>,
    ngrams: Vec<NgramWire>,
    totals: [u64; MAX_ORDER],
    unique_in_docs: [u64; MAX_ORDER],
    doc_counts: Vec<(u128, u64)>,
    doc_lengths: Vec<(u64, u64)>,
    sample: SampleWire,
}

/// The sample of a format-3 body.
#[derive(Serialize, Deserialize)]
struct SampleWire {
    size: SampleSize,
    /// Token hashes the sample uses that the token list lacks (none in a profile built whole;
    /// kept so that any sample round-trips).
    extra_tokens: Vec<u64>,
    /// The documents, in key order.
    docs: Vec<SampleDocWire>,
}

/// One sampled document of a format-3 body.
#[derive(Serialize, Deserialize)]
struct SampleDocWire {
    key: u64,
    copies: u64,
    /// Indices into the body's token list, then into `extra_tokens`.
    tokens: Option<Vec<u32>>,
    text: Option<String>,
}

impl SampleWire {
    /// `ids`: the index of each token hash in the body's token list.
    fn of(sample: &BottomK, ids: &foldhash::HashMap<u64, u32>) -> Self {
        let mut extra: foldhash::HashMap<u64, u32> = foldhash::HashMap::default();
        let mut extra_tokens = Vec::new();
        let mut id = |hash: u64| match ids.get(&hash) {
            Some(&i) => i,
            None => *extra.entry(hash).or_insert_with(|| {
                extra_tokens.push(hash);
                (ids.len() + extra_tokens.len() - 1) as u32
            }),
        };
        let docs = sample
            .docs()
            .map(|(key, doc)| {
                // the text, when kept, says everything the tokens would
                let tokens = match &doc.text {
                    Some(_) => None,
                    None => doc.tokens.as_ref().map(|t| t.iter().map(|&h| id(h)).collect()),
                };
                SampleDocWire { key, copies: doc.copies, tokens, text: doc.text.clone() }
            })
            .collect();
        Self { size: sample.size(), extra_tokens, docs }
    }

    /// The sample; `hashes`: the token hash of each entry of the body's token list.
    fn into_sample(self, hashes: &[u64]) -> std::result::Result<BottomK, String> {
        let extra = self.extra_tokens;
        let hash = |i: u32| {
            let i = i as usize;
            hashes.get(i).or_else(|| extra.get(i - hashes.len().min(i))).copied()
        };
        let mut docs = Vec::with_capacity(self.docs.len());
        for SampleDocWire { key, copies, tokens, text } in self.docs {
            let tokens = match tokens {
                Some(ids) => Some(
                    ids.into_iter()
                        .map(|i| hash(i).ok_or_else(|| format!("token index {i} out of range")))
                        .collect::<std::result::Result<Vec<u64>, String>>()?,
                ),
                None => None,
            };
            docs.push((key, SampledDoc { text, tokens, copies }));
        }
        BottomK::from_parts(self.size, docs)
    }
}

/// A format-1 or -2 body: the same fields, a configuration without `keep_text`, and the sample
/// as text.
#[derive(Deserialize)]
struct LegacyWire {
    tailwatch_version: String,
    config: LegacyConfig,
    n_docs: u64,
    n_tokens: u64,
    n_bytes: u64,
    tokens: Vec<(String, u64, u64, u64)>,
    ngrams: Vec<NgramWire>,
    totals: [u64; MAX_ORDER],
    unique_in_docs: [u64; MAX_ORDER],
    doc_counts: Vec<(u128, u64)>,
    doc_lengths: Vec<(u64, u64)>,
    sample: LegacySample,
}

#[derive(Deserialize)]
struct LegacyConfig {
    tokenizer: tailwatch_core::TokenizerSpec,
    sample: SampleSize,
    seed: u64,
    items_k: u32,
}

#[derive(Deserialize)]
struct LegacySample {
    size: SampleSize,
    #[allow(dead_code, reason = "read to reach the documents; recomputed from them")]
    held: u64,
    docs: std::collections::BTreeMap<u64, LegacyDoc>,
}

#[derive(Deserialize)]
struct LegacyDoc {
    text: String,
    copies: u64,
}

impl From<LegacyWire> for ProfileWire {
    fn from(old: LegacyWire) -> Self {
        let LegacyConfig { tokenizer, sample, seed, items_k } = old.config;
        Self {
            tailwatch_version: old.tailwatch_version,
            config: ProfileConfig {
                tokenizer,
                sample,
                seed,
                items_k,
                keep_text: true,
                grouping: None,
                score_fields: Vec::new(),
            },
            n_docs: old.n_docs,
            n_tokens: old.n_tokens,
            n_bytes: old.n_bytes,
            tokens: old.tokens,
            ngrams: old.ngrams,
            totals: old.totals,
            unique_in_docs: old.unique_in_docs,
            doc_counts: old.doc_counts,
            doc_lengths: old.doc_lengths,
            sample: SampleWire {
                size: old.sample.size,
                extra_tokens: Vec::new(),
                docs: old
                    .sample
                    .docs
                    .into_iter()
                    .map(|(key, d)| SampleDocWire { key, copies: d.copies, tokens: None, text: Some(d.text) })
                    .collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bytes` with its body changed by `change`, under a checksum that matches (what a crafted
    /// file looks like).
    fn rewrite(bytes: &[u8], change: impl FnOnce(&mut ProfileWire)) -> Vec<u8> {
        let body = zstd::decode_all(&bytes[20..]).unwrap();
        // the format-3 part, then the extensions (kept as they are)
        let (mut wire, extensions): (ProfileWire, &[u8]) = postcard::take_from_bytes(&body).unwrap();
        change(&mut wire);
        let body = [&postcard::to_stdvec(&wire).unwrap()[..], extensions].concat();
        let compressed = zstd::encode_all(&body[..], 3).unwrap();
        [&bytes[..12], &xxhash_rust::xxh3::xxh3_64(&compressed).to_le_bytes(), &compressed[..]].concat()
    }

    fn profile_bytes() -> Vec<u8> {
        let docs = ["the cat sat on the mat", "a dog ran", "the cat sat on the mat", "birds sing at dawn"];
        super::super::tests::profile_keeping_text(&docs, false).to_bytes().unwrap()
    }

    /// A sample naming a token past the token list and its extras is a corrupt file, not a panic.
    #[test]
    fn a_token_index_out_of_range_is_refused() {
        let corrupt = rewrite(&profile_bytes(), |w| w.sample.docs[0].tokens = Some(vec![u32::MAX]));
        let err = Profile::from_bytes(&corrupt, Path::new("p.twp")).unwrap_err();
        assert!(err.to_string().contains("token index"), "{err}");
    }

    /// A token listed twice is refused before its counts add up (a crafted second listing
    /// of `u64::MAX` occurrences overflowed: a fuzz finding of issue 18's seeds).
    #[test]
    fn a_token_listed_twice_is_refused_before_its_counts_add() {
        let corrupt = rewrite(&profile_bytes(), |w| {
            let first = w.tokens[0].clone();
            w.tokens.push((first.0, u64::MAX, first.2, first.3));
        });
        let err = Profile::from_bytes(&corrupt, Path::new("p.twp")).unwrap_err();
        assert!(err.to_string().contains("a token listed twice"), "{err}");
    }

    /// Every single-bit flip of a profile file is refused: the header's by its checks, the
    /// rest by the checksum, so no flipped profile is ever scored or stored.
    #[test]
    fn every_flipped_bit_is_refused() {
        let bytes = profile_bytes();
        assert!(Profile::from_bytes(&bytes, Path::new("p.twp")).is_ok());
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(Profile::from_bytes(&flipped, Path::new("p.twp")).is_err(), "bit {bit} flipped is read");
        }
        for len in 0..bytes.len() {
            assert!(Profile::from_bytes(&bytes[..len], Path::new("p.twp")).is_err(), "cut at {len} is read");
        }
    }

    /// Counts that cannot come from documents are refused by name, even under a valid checksum:
    /// more duplicate copies than documents (a duplicate_rate above 1), a token counted in more
    /// documents than it occurs in, a length histogram off by one, a sample larger than the
    /// corpus, and counters that would wrap.
    #[test]
    fn crafted_counts_are_refused() {
        let bytes = profile_bytes();
        type Change = Box<dyn FnOnce(&mut ProfileWire)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|w| w.doc_counts[0].1 += 50), "distinct documents' copies"),
            (Box::new(|w| w.tokens[0].2 = w.tokens[0].1 + 1), "the counts of token"),
            (Box::new(|w| w.doc_lengths[0].1 += 1), "length histogram"),
            (Box::new(|w| w.sample.docs[0].copies += 40), "sample"),
            (Box::new(|w| w.tokens[0].1 = u64::MAX), "counts do not add up"),
            (Box::new(|w| w.totals[1] = w.n_tokens + 1), "2-gram counts"),
        ];
        for (change, needle) in cases {
            let err = Profile::from_bytes(&rewrite(&bytes, change), Path::new("p.twp")).unwrap_err();
            assert!(err.to_string().contains(needle), "expected `{needle}` in: {err}");
        }
        // and the untouched body under the same rewrite reads
        assert!(Profile::from_bytes(&rewrite(&bytes, |_| ()), Path::new("p.twp")).is_ok());
    }

    /// Merging profiles whose counts together pass 64 bits is an error, and changes nothing.
    #[test]
    fn merges_that_would_wrap_are_refused() {
        let mut a = Profile::from_bytes(&profile_bytes(), Path::new("a.twp")).unwrap();
        let mut b = a.clone();
        b.n_bytes = u64::MAX;
        let before = a.to_bytes().unwrap();
        assert!(matches!(a.merge(b), Err(Error::Incompatible { .. })));
        assert_eq!(a.to_bytes().unwrap(), before);
    }
}
