//! The `.twp` file of a text [`Profile`]: header, then a zstd-compressed postcard body.
//!
//! Header (12 bytes): `TWPROF`, the kind tag ([`ProfileKind`], one byte: 0 text, 1 item
//! lists), `0x01`, and the body's format version (u32, little-endian). Files of formats 1 and 2
//! written before the kind tag existed hold 0 there, whatever they profile.
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tailwatch_core::DocHash;

use super::{Profile, ProfileConfig, ProfileParts, TokenStat};
use crate::accumulator::ProfileKind;
use crate::ngram_table::{MAX_ORDER, NgramTable, NgramWire};
use crate::sample::BottomK;
use crate::{Error, Result};

/// Magic bytes that open every `.twp` file (with the kind tag of a text profile at byte 6).
pub const PROFILE_MAGIC: &[u8; 8] = b"TWPROF\x00\x01";
/// The `.twp` format version this build writes. Version 2 stores the 2- and 3-gram tables as
/// keys only; this build also reads version 1 (and drops those tables' statistics).
pub const PROFILE_FORMAT_VERSION: u32 = 2;
/// The oldest `.twp` format version this build reads.
pub const PROFILE_FORMAT_OLDEST: u32 = 1;

/// The header of a profile of `kind`.
fn header(kind: ProfileKind) -> [u8; 12] {
    let mut header = [0u8; 12];
    header[..8].copy_from_slice(PROFILE_MAGIC);
    header[6] = kind.tag();
    header[8..].copy_from_slice(&PROFILE_FORMAT_VERSION.to_le_bytes());
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
        let mut tokens: Vec<(String, u64, u64, u64)> =
            self.token_stats().map(|(t, s)| (t.to_string(), s.count, s.docs, s.exposure)).collect();
        tokens.sort_unstable_by(|a, b| a.0.cmp(&b.0));
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
            sample: self.sample.clone(),
        };
        let body = postcard::to_stdvec(&wire).map_err(Error::Encode)?;
        let mut out = Vec::with_capacity(body.len() / 3 + 16);
        out.extend_from_slice(&header(self.kind()));
        let mut encoder = zstd::Encoder::new(out, 3).map_err(Error::Compress)?;
        encoder.write_all(&body).map_err(Error::Compress)?;
        encoder.finish().map_err(Error::Compress)
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
        let mut body = Vec::new();
        {
            use std::io::Read;
            let decoder =
                zstd::Decoder::new(&bytes[12..]).map_err(|e| not_profile(format!("corrupt body: {e}")))?;
            decoder
                .take((max_decoded as u64).saturating_add(1))
                .read_to_end(&mut body)
                .map_err(|e| not_profile(format!("corrupt body: {e}")))?;
        }
        if body.len() > max_decoded {
            return Err(not_profile(format!("the body decompresses to more than {max_decoded} bytes")));
        }
        let wire: ProfileWire =
            postcard::from_bytes(&body).map_err(|e| not_profile(format!("corrupt body: {e}")))?;
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
        if wire.sample.size() != profile.config.sample {
            return Err(not_profile("sample size does not match the header".into()));
        }
        profile.sample = wire.sample;
        profile.seal();
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
    sample: BottomK,
}
