//! Webhook delivery: a background task sends queued alert events, retrying with exponential backoff.
use std::sync::Arc;
use std::time::Duration;

use crate::db::{DueDelivery, Store, WebhookOutbox};

/// Retry policy of webhook deliveries.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Delay before the first retry; doubles each attempt.
    pub base: Duration,
    /// Longest delay between attempts.
    pub max_delay: Duration,
    /// Attempts before a delivery is marked failed.
    pub max_attempts: u32,
    /// Per-request timeout.
    pub timeout: Duration,
    /// How often the queue is polled.
    pub poll: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            max_attempts: 8,
            timeout: Duration::from_secs(10),
            poll: Duration::from_millis(500),
        }
    }
}

impl RetryPolicy {
    /// Delay after `attempts` failed attempts.
    pub fn delay(&self, attempts: u32) -> Duration {
        let factor = 1u32.checked_shl(attempts.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max_delay)
    }
}

/// The signature header value of a payload: `blake3=<hex>` of BLAKE3 keyed by BLAKE3(secret).
pub fn signature(secret: &str, payload: &[u8]) -> String {
    let key = blake3::hash(secret.as_bytes());
    format!("blake3={}", blake3::keyed_hash(key.as_bytes(), payload).to_hex())
}

fn send(delivery: &DueDelivery, timeout: Duration) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.post(&delivery.url).header("content-type", "application/json");
    if let Some(secret) = &delivery.secret {
        request = request.header("x-tailwatch-signature", signature(secret, delivery.payload.as_bytes()));
    }
    match request.send(delivery.payload.as_bytes()) {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("HTTP {}", response.status())),
        Err(e) => Err(e.to_string()),
    }
}

/// Deliver everything that is due, once. Returns how many deliveries were attempted.
pub fn deliver_due(store: &dyn WebhookOutbox, policy: &RetryPolicy) -> usize {
    let now = chrono::Utc::now().timestamp_millis();
    let Ok(due) = store.due_deliveries(now, 64) else { return 0 };
    for delivery in &due {
        let result = send(delivery, policy.timeout);
        let attempts = delivery.attempts + 1;
        let outcome = match result {
            Ok(()) => store.record_attempt(delivery.id, None, None),
            Err(e) if attempts >= policy.max_attempts => store.record_attempt(delivery.id, Some(&e), None),
            Err(e) => {
                let retry_at =
                    chrono::Utc::now().timestamp_millis() + policy.delay(attempts).as_millis() as i64;
                store.record_attempt(delivery.id, Some(&e), Some(retry_at))
            }
        };
        // A failure to record leaves the delivery pending: it is retried, never lost.
        drop(outcome);
    }
    due.len()
}

/// Run the delivery loop until the runtime shuts down.
pub async fn run(store: Arc<dyn Store>, policy: RetryPolicy) {
    let mut tick = tokio::time::interval(policy.poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let store = store.clone();
        // Sending blocks (ureq): keep it off the async workers.
        let _ =
            tokio::task::spawn_blocking(move || deliver_due(store.as_ref() as &dyn WebhookOutbox, &policy))
                .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy {
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
            ..Default::default()
        };
        let delays: Vec<u64> = (1..=5).map(|a| p.delay(a).as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 4, 5, 5]);
        assert_eq!(p.delay(200), Duration::from_secs(5));
    }

    #[test]
    fn signatures_depend_on_secret_and_body() {
        let a = signature("s1", b"{}");
        assert!(a.starts_with("blake3="));
        assert_ne!(a, signature("s2", b"{}"));
        assert_ne!(a, signature("s1", b"{ }"));
    }
}
