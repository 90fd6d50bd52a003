//! [`ProfileBuilder`]: observes documents into a [`Profile`], with the scratch buffers of the
//! document at hand.
use tailwatch_core::{DocHash, Tokenizer, TokenizerKind, content_hash, sample_key, stable_hash};

use super::{Profile, ProfileConfig, ProfileParts};
use crate::Result;
use crate::accumulator::Observer;
use crate::ngram_table::{MAX_ORDER, extend_key, for_each_run};

/// What identifies a document to a profile besides its tokens.
struct DocIdentity<'a> {
    /// Its bytes.
    bytes: u64,
    /// Its content hash (exact duplicates share it).
    content: DocHash,
    /// Its sample key.
    key: u64,
    /// Its text, when known.
    text: Option<&'a str>,
}

impl<'a> DocIdentity<'a> {
    fn of(doc: &'a str, seed: u64) -> Self {
        Self {
            bytes: doc.len() as u64,
            content: content_hash(doc),
            key: sample_key(doc, seed),
            text: Some(doc),
        }
    }
}

/// Builds a [`Profile`] one document at a time.
#[derive(Debug)]
pub struct ProfileBuilder<'t> {
    tokenizer: &'t Tokenizer,
    profile: Profile,
    /// The current document's token hashes, texts (concatenated) and text ends.
    hashes: Vec<u64>,
    text: String,
    ends: Vec<usize>,
    keys: Vec<Vec<u64>>,
    /// Whether each token of the current document is the first of its type in it.
    first_seen: Vec<bool>,
    /// The current document, normalized for the phrase bank.
    normalized: String,
}

impl<'t> ProfileBuilder<'t> {
    /// A builder of a full profile; `tokenizer` must be the one `config` names.
    pub fn new(tokenizer: &'t Tokenizer, config: ProfileConfig) -> Self {
        Self::with_parts(tokenizer, config, ProfileParts::ALL)
    }

    /// A builder of a profile keeping only `parts`.
    pub fn with_parts(tokenizer: &'t Tokenizer, config: ProfileConfig, parts: ProfileParts) -> Self {
        Self {
            tokenizer,
            profile: Profile::with_parts(config, parts),
            hashes: Vec::new(),
            text: String::new(),
            ends: Vec::new(),
            keys: vec![Vec::new(); MAX_ORDER],
            first_seen: Vec::new(),
            normalized: String::new(),
        }
    }

    /// A builder that goes on adding documents to `profile`, made with `tokenizer`: adding
    /// batch after batch this way costs what one pass does, where merging a profile of each
    /// batch into the whole re-sorts the whole each time.
    pub fn resume(tokenizer: &'t Tokenizer, profile: Profile) -> Self {
        let mut builder = Self::with_parts(tokenizer, profile.config.clone(), profile.parts);
        builder.profile = profile;
        builder
    }

    /// The profile so far (its n-gram tables are readable once sealed).
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The profile so far, to change (sketch its tables, say).
    pub fn profile_mut(&mut self) -> &mut Profile {
        &mut self.profile
    }

    /// Take the profile so far, leaving an empty one of the same settings to go on with.
    pub fn take(&mut self) -> Profile {
        let empty = Profile::with_parts(self.profile.config.clone(), self.profile.parts);
        std::mem::replace(&mut self.profile, empty)
    }

    /// Add one document.
    pub fn observe(&mut self, doc: &str) -> Result<()> {
        if !self.profile.parts.tokens {
            // nothing reads the tokens themselves: count them, hash none
            let len = self.tokenizer.count(doc)?;
            self.observe_document(DocIdentity::of(doc, self.profile.config.seed), len, None);
            return Ok(());
        }
        let (hashes, text, ends) = (&mut self.hashes, &mut self.text, &mut self.ends);
        hashes.clear();
        text.clear();
        ends.clear();
        self.tokenizer.tokenize(doc, |t| {
            hashes.push(stable_hash(t));
            text.push_str(t);
            ends.push(text.len());
        })?;
        self.observe_tokens(DocIdentity::of(doc, self.profile.config.seed));
        Ok(())
    }

    /// Add one document known by its tokens alone (a sampled document of a profile that keeps
    /// no text): `key` is its sample key, which also identifies it among exact duplicates, and
    /// `text_of` gives each token's text. Its bytes are unknown and count as 0.
    pub fn observe_sampled(
        &mut self,
        key: u64,
        tokens: &[u64],
        text_of: impl Fn(u64) -> Option<String>,
    ) -> Result<()> {
        let identity = DocIdentity { bytes: 0, content: DocHash(u128::from(key)), key, text: None };
        if !self.profile.parts.tokens {
            self.observe_document(identity, tokens.len(), Some(tokens));
            return Ok(());
        }
        let (hashes, text, ends) = (&mut self.hashes, &mut self.text, &mut self.ends);
        hashes.clear();
        text.clear();
        ends.clear();
        for &hash in tokens {
            let token = text_of(hash).ok_or(crate::Error::UnknownSampleToken { hash })?;
            hashes.push(hash);
            text.push_str(&token);
            ends.push(text.len());
        }
        self.observe_tokens(identity);
        Ok(())
    }

    /// Add the answers of one group (a record's, or the records sharing a group key): each is
    /// a document, and the group sample (when the profile groups answers) holds them under
    /// `key`. Without a grouping the key is ignored. Their scores count as missing.
    pub fn observe_group<S: AsRef<str>>(&mut self, key: &str, answers: &[S]) -> Result<()> {
        let missing = vec![vec![None; answers.len()]; self.profile.config.score_fields.len()];
        self.observe_answers(Some(key), answers, &missing, None)
    }

    /// Add one record's answers with their scores: `scores[f][i]` is the profile's score field
    /// `f` for answer `i` (`None`: missing; a value that is not finite counts as not finite).
    /// With a `key`, the answers join that group when the profile groups answers, each with
    /// its first score, and its place in the group's order (`orders`, one per answer) when
    /// the grouping has an order field.
    pub fn observe_answers<S: AsRef<str>>(
        &mut self,
        key: Option<&str>,
        answers: &[S],
        scores: &[Vec<Option<f64>>],
        orders: Option<&[u64]>,
    ) -> Result<()> {
        let fields = self.profile.config.score_fields.len();
        if scores.len() != fields || scores.iter().any(|s| s.len() != answers.len()) {
            return Err(crate::Error::ScoreShape { fields, answers: answers.len() });
        }
        for answer in answers {
            self.observe(answer.as_ref())?;
        }
        for (column, values) in self.profile.score_columns_mut().iter_mut().zip(scores) {
            for value in values {
                match value {
                    Some(v) if v.is_finite() => column.add(*v),
                    Some(_) => column.add_non_finite(),
                    None => column.add_missing(),
                }
            }
        }
        if let (Some(key), Some(groups)) = (key, self.profile.groups_mut()) {
            let first = scores.first();
            groups.offer_ordered(
                key,
                answers.iter().enumerate().map(|(i, a)| {
                    (a.as_ref(), first.and_then(|s| s[i]), orders.and_then(|o| o.get(i).copied()))
                }),
            );
        }
        Ok(())
    }

    /// The sealed profile.
    pub fn finish(self) -> Profile {
        self.profile.sealed()
    }

    /// What a document adds besides its tokens: the counts, the document part, the sample.
    /// `tokens`: the document's token hashes, when they were hashed.
    fn observe_document(&mut self, doc: DocIdentity<'_>, len: usize, tokens: Option<&[u64]>) {
        let p = &mut self.profile;
        p.n_docs += 1;
        p.n_tokens += len as u64;
        p.n_bytes += doc.bytes;
        if p.parts.documents {
            *p.doc_lengths.entry(len as u64).or_default() += 1;
            *p.doc_counts.entry(doc.content).or_default() += 1;
            // refusals and disclaimers, of documents whose text is at hand
            if let (Some(text), Some(counts)) = (doc.text, p.phrases.as_mut()) {
                crate::phrases::normalize_into(text, &mut self.normalized);
                counts.observe(crate::phrases::PhraseBank::standard().classify_normalized(&self.normalized));
            }
        }
        if p.parts.sample {
            // text or tokens: a sample that keeps text is tokenized again when read
            let keep_text = p.config.keep_text && doc.text.is_some();
            let tokens = if keep_text { None } else { tokens };
            p.sample.offer(doc.key, doc.text.unwrap_or_default(), keep_text, tokens);
        }
    }

    /// [`ProfileBuilder::observe`] of a tokenized document: its token hashes in `self.hashes`,
    /// and (when token types are kept) their texts concatenated in `self.text` (token `i` ends
    /// at `self.ends[i]`).
    fn observe_tokens(&mut self, doc: DocIdentity<'_>) {
        let hashes = std::mem::take(&mut self.hashes);
        self.observe_document(doc, hashes.len(), Some(&hashes));
        self.hashes = hashes;
        let p = &mut self.profile;
        let hashes = &self.hashes;
        let len = hashes.len();

        // Unigrams: counts and document frequencies, in the vocabulary's slots.
        let exposed =
            if p.config.tokenizer.kind == TokenizerKind::Items { p.config.items_k as usize } else { 0 };
        p.vocab.prefetch(hashes);
        p.vocab.begin_doc();
        let first_seen = &mut self.first_seen;
        first_seen.clear();
        let mut start = 0;
        for (position, (&hash, &end)) in hashes.iter().zip(&self.ends).enumerate() {
            let (id, first) = p.vocab.count(hash, &self.text[start..end]);
            start = end;
            first_seen.push(first);
            if position < exposed {
                p.vocab.expose(id);
            }
        }
        p.totals[0] += len as u64;
        p.unique_in_docs[0] += first_seen.iter().filter(|&&first| first).count() as u64;

        // n-gram keys of orders 2..=4, chained from the token hashes.
        let keys = &mut self.keys;
        for k in keys.iter_mut() {
            k.clear();
        }
        for start in 0..len {
            let mut key = hashes[start];
            for order in 2..=MAX_ORDER.min(len - start) {
                key = extend_key(key, hashes[start + order - 1]);
                keys[order - 1].push(key);
            }
        }
        // A repeated n-gram repeats its leading bigram, and a bigram repeats an earlier one
        // only where neither of its tokens is new to the document: only those bigrams are
        // looked for among the earlier ones. Without a repeat, every n-gram occurs once and
        // needs no sorting.
        let bigrams = &keys[1];
        let repeats = (1..bigrams.len())
            .any(|i| !first_seen[i] && !first_seen[i + 1] && bigrams[..i].contains(&bigrams[i]));
        for order in 2..=MAX_ORDER {
            let list = &mut keys[order - 1];
            p.totals[order - 1] += list.len() as u64;
            let table = &mut p.ngrams[order - 2];
            let mut runs = 0;
            if repeats {
                for_each_run(list, |key, count| {
                    table.add(key, count);
                    runs += 1;
                });
            } else {
                for &key in list.iter() {
                    table.add(key, 1);
                }
                runs = list.len() as u64;
            }
            p.unique_in_docs[order - 1] += runs;
        }
    }
}

impl Observer for ProfileBuilder<'_> {
    type Item = str;
    type Output = Profile;

    fn observe(&mut self, item: &str) -> Result<()> {
        ProfileBuilder::observe(self, item)
    }
    fn finish(self) -> Profile {
        ProfileBuilder::finish(self)
    }
}
