//! What the gRPC service needs to know: the calling systems and their tokens, TLS, and the
//! 催办 interval its `SweepDeadlines` uses. The process that runs it (the `workflow`
//! binary) reads these from its configuration file.

use std::path::PathBuf;

use serde::Deserialize;

/// A campus system allowed to call the service, and its bearer token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// The system's name, logged with each call, e.g. `oa-portal`.
    pub name: String,
    /// The bearer token it sends as `authorization: Bearer <token>`.
    pub token: String,
    /// Whether it may call `WorkflowAdmin` (directory, verify, stats).
    #[serde(default)]
    pub admin: bool,
}

/// Certificate and key (PEM) for TLS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain, PEM.
    pub cert: PathBuf,
    /// The private key, PEM.
    pub key: PathBuf,
}

/// The service's settings.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The campus systems and their tokens.
    pub systems: Vec<SystemConfig>,
    /// TLS; plaintext when absent.
    pub tls: Option<TlsConfig>,
    /// At most one 催办 reminder per overdue stage per this many hours.
    pub reminder_interval_hours: u32,
}

/// A setting the service cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidConfig(pub String);

impl ServiceConfig {
    /// Checks the values: at least one system, non-empty unique names and tokens of at
    /// least 8 characters, a reminder interval of at least an hour.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let invalid = |s: String| Err(InvalidConfig(s));
        if self.systems.is_empty() {
            return invalid(
                "no [[systems]] configured: every call would be refused as UNAUTHENTICATED".into(),
            );
        }
        if self.reminder_interval_hours == 0 {
            return invalid("reminder_interval_hours must be at least 1".into());
        }
        let mut tokens = std::collections::HashSet::new();
        for s in &self.systems {
            if s.name.trim().is_empty() {
                return invalid("a system has an empty name".into());
            }
            if s.token.trim().len() < 8 {
                return invalid(format!(
                    "system {}: token shorter than 8 characters",
                    s.name
                ));
            }
            if !tokens.insert(&s.token) {
                return invalid(format!("system {}: token used by another system", s.name));
            }
        }
        Ok(())
    }
}
