//! The write token: from `TAILWATCH_TOKEN` or created at first start; compared in constant time.
use rand::RngExt;

use crate::db::Settings;
use crate::error::StoreResult;

/// Setting that holds the BLAKE3 hash of a generated token.
const TOKEN_HASH: &str = "token_blake3";

/// How the server checks bearer tokens. Only a hash of the token is kept.
#[derive(Clone)]
pub struct TokenCheck {
    hash: blake3::Hash,
}

impl std::fmt::Debug for TokenCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCheck(..)")
    }
}

/// Where the token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// Given by the operator (environment or option).
    Given,
    /// Created now; shown once.
    Created(String),
    /// Created at an earlier start; its hash is in the database.
    Stored,
}

impl TokenCheck {
    /// Check against a known token.
    pub fn new(token: &str) -> Self {
        Self { hash: blake3::hash(token.as_bytes()) }
    }

    /// The given token, else the stored hash, else a new random token (returned once).
    pub fn load_or_create(store: &dyn Settings, given: Option<&str>) -> StoreResult<(Self, TokenSource)> {
        if let Some(token) = given {
            return Ok((Self::new(token), TokenSource::Given));
        }
        if let Some(hex) = store.setting(TOKEN_HASH)?
            && let Ok(hash) = blake3::Hash::from_hex(hex.trim())
        {
            return Ok((Self { hash }, TokenSource::Stored));
        }
        let bytes: [u8; 24] = rand::rng().random();
        let token = format!("tw_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let check = Self::new(&token);
        store.set_setting(TOKEN_HASH, &check.hash.to_hex())?;
        Ok((check, TokenSource::Created(token)))
    }

    /// Whether `token` is the token (constant time: `blake3::Hash` equality is constant-time).
    pub fn accepts(&self, token: &str) -> bool {
        blake3::hash(token.as_bytes()) == self.hash
    }
}
