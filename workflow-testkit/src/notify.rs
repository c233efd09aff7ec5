//! Notifications in tests: a webhook nobody listens on, and waiting for the dead letters
//! it makes.

use std::time::{Duration, Instant};

use workflow_store::Engine;
use workflow_store::notify::{ChannelConfig, Delivery, DeliveryState, NotifyConfig};

/// A signing secret from the Standard Webhooks specification's examples.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The notifications of one webhook channel `name` to a loopback port nothing listens on,
/// tried once: every notice a dead letter, with why.
pub fn unreachable_webhook(name: &str) -> NotifyConfig {
    // Bound and let go at once: closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("no loopback port: {e}"));
    NotifyConfig {
        base_url: None,
        channels: vec![ChannelConfig {
            name: name.into(),
            kind: "webhook".into(),
            url: Some(format!("http://{closed}/hook")),
            secrets: vec![SECRET.into()],
            max_attempts: Some(1),
            timeout_secs: Some(2),
            ..Default::default()
        }],
    }
}

/// Waits (up to a minute) until the outbox holds at least `at_least` dead letters, and
/// returns them.
pub async fn dead_letters(engine: &Engine, at_least: usize) -> Vec<Delivery> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let dead = engine
            .deliveries(Some(DeliveryState::Dead), 0, 100)
            .unwrap_or_else(|e| panic!("the outbox: {e}"));
        if dead.len() >= at_least {
            return dead;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {at_least} dead letters in a minute: {dead:?}",
            dead.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
