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

/// Dashboard sessions: the sign-in cookie holds a random session id, never the write token, so
/// a leaked cookie (a browser profile, a proxy log) expires with its session and does not give
/// the token to the API. Only hashes of the ids are kept, in memory: a restart signs everyone
/// out.
#[derive(Debug)]
pub struct Sessions {
    live: std::sync::Mutex<std::collections::HashMap<blake3::Hash, std::time::Instant>>,
    lifetime: std::time::Duration,
}

/// Sessions at most held; signing in past it ends the oldest.
const MAX_SESSIONS: usize = 10_000;

/// How long a dashboard session lasts: 12 hours.
pub const SESSION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(12 * 3600);

impl Default for Sessions {
    fn default() -> Self {
        Self::new(SESSION_LIFETIME)
    }
}

impl Sessions {
    /// Sessions that last `lifetime`.
    pub fn new(lifetime: std::time::Duration) -> Self {
        Self { live: std::sync::Mutex::new(std::collections::HashMap::new()), lifetime }
    }

    /// How long a session lasts.
    pub fn lifetime(&self) -> std::time::Duration {
        self.lifetime
    }

    /// Start a session; its id (the cookie's value).
    pub fn start(&self) -> String {
        let bytes: [u8; 32] = rand::rng().random();
        let id = format!("tws_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let now = std::time::Instant::now();
        let mut live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        live.retain(|_, expires| *expires > now);
        if live.len() >= MAX_SESSIONS
            && let Some(oldest) = live.iter().min_by_key(|(_, expires)| **expires).map(|(hash, _)| *hash)
        {
            live.remove(&oldest);
        }
        live.insert(blake3::hash(id.as_bytes()), now + self.lifetime);
        id
    }

    /// Whether `id` is a live session (constant-time comparison of hashes).
    pub fn is_live(&self, id: &str) -> bool {
        let live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        live.get(&blake3::hash(id.as_bytes())).is_some_and(|expires| *expires > std::time::Instant::now())
    }
}

#[cfg(test)]
mod session_tests {
    use super::*;

    #[test]
    fn sessions_are_random_live_and_expire() {
        let sessions = Sessions::new(std::time::Duration::from_secs(60));
        let (a, b) = (sessions.start(), sessions.start());
        assert_ne!(a, b);
        assert!(sessions.is_live(&a) && sessions.is_live(&b));
        assert!(!sessions.is_live("tws_00"));
        let short = Sessions::new(std::time::Duration::ZERO);
        let gone = short.start();
        assert!(!short.is_live(&gone), "an expired session is not live");
    }
}
