//! What the gRPC service needs to know: the calling systems and their tokens, TLS, and the
//! 催办 interval its `SweepDeadlines` uses. The process that runs it (the `workflow`
//! binary) reads these from its configuration file.

use std::path::PathBuf;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use workflow_core::{UnitCode, directory::Actor, directory::Classification, directory::Role};

/// A campus system allowed to call the service: how it proves who it is, and what it may do
/// (DESIGN §5, least privilege).
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// The system's name, logged with each call and recorded with its directory changes and
    /// classified reads, e.g. `oa-portal`.
    pub name: String,
    /// SHA-256 (hex) of the bearer token it sends as `authorization: Bearer <token>`
    /// (`workflow token new --system NAME` prints a token and this line).
    #[serde(default)]
    pub token_sha256: Option<String>,
    /// The bearer token in plaintext: still read, for development configurations, with a
    /// warning at start. Give `token_sha256` instead.
    #[serde(default)]
    pub token: Option<String>,
    /// Whether it may call `WorkflowAdmin` (directory, verify, stats, access log).
    #[serde(default)]
    pub admin: bool,
    /// The actors it may name: those of these units (unit codes, e.g. `DAS`) or holding
    /// these roles (e.g. `Archivist`); `["*"]` for any actor (an OA portal). Absent: any
    /// actor, with a warning at start.
    #[serde(default)]
    pub acts_for: Option<Vec<String>>,
    /// The highest 密级 it receives when it names no actor (lists, gets, history,
    /// subscriptions): `None` (非密, the default), `Secret` (秘密), `Confidential` (机密) or
    /// `TopSecret` (绝密). With an actor named, the actor's clearance applies instead.
    #[serde(default)]
    pub max_classification: Classification,
}

impl std::fmt::Debug for SystemConfig {
    /// Never prints a plaintext token, should anything log a configuration.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemConfig")
            .field("name", &self.name)
            .field("token_sha256", &self.token_sha256)
            .field("token", &self.token.as_ref().map(|_| "(hidden)"))
            .field("admin", &self.admin)
            .field("acts_for", &self.acts_for)
            .field("max_classification", &self.max_classification)
            .finish()
    }
}

/// Whom a system may act for: units and roles (see [`SystemConfig::acts_for`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActsFor {
    /// Actors of these units.
    pub units: Vec<UnitCode>,
    /// Actors holding one of these roles.
    pub roles: Vec<Role>,
}

impl ActsFor {
    /// Reads `acts_for` entries: a role's name (as in the directory file) or a unit code.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut scope = ActsFor::default();
        for e in entries {
            let e = e.trim();
            if e.is_empty() {
                return Err("acts_for has an empty entry".into());
            }
            match e.parse::<Role>() {
                Ok(role) => scope.roles.push(role),
                Err(_) => scope.units.push(UnitCode::from(e)),
            }
        }
        Ok(scope)
    }

    /// Whether `actor` is within the scope.
    pub fn covers(&self, actor: &Actor) -> bool {
        self.units.contains(&actor.unit) || self.roles.iter().any(|r| actor.has_role(*r))
    }
}

impl std::fmt::Display for ActsFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = self.units.iter().map(|u| format!("unit {u}")).collect();
        parts.extend(self.roles.iter().map(|r| format!("role {r}")));
        if parts.is_empty() {
            f.write_str("no actor")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

impl SystemConfig {
    /// The SHA-256 of its token: `token_sha256` decoded, or the plaintext token hashed.
    pub fn token_digest(&self) -> Result<[u8; 32], String> {
        match (&self.token_sha256, &self.token) {
            (Some(_), Some(_)) => Err(format!(
                "system {}: give token_sha256 or token, not both",
                self.name
            )),
            (Some(hex), None) => decode_sha256(hex)
                .ok_or_else(|| format!("system {}: token_sha256 must be 64 hex digits", self.name)),
            (None, Some(token)) => {
                if token.trim().len() < 8 {
                    return Err(format!(
                        "system {}: token shorter than 8 characters",
                        self.name
                    ));
                }
                Ok(sha256(token.trim()))
            }
            (None, None) => Err(format!(
                "system {}: no token_sha256 (run `workflow token new --system {}`)",
                self.name, self.name
            )),
        }
    }

    /// Its `acts_for` scope, `None` for any actor.
    pub fn scope(&self) -> Result<Option<ActsFor>, String> {
        match self.acts_for.as_deref() {
            None => Ok(None),
            Some([any]) if any.trim() == "*" => Ok(None),
            Some(entries) if entries.iter().any(|e| e.trim() == "*") => Err(format!(
                "system {}: acts_for = [\"*\"] stands alone (any actor)",
                self.name
            )),
            Some(entries) => ActsFor::parse(entries)
                .map(Some)
                .map_err(|e| format!("system {}: {e}", self.name)),
        }
    }
}

/// SHA-256 of a token's text.
pub fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn decode_sha256(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
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
    /// Checks the values: at least one system, non-empty unique names, one token (or its
    /// digest) per system, unique, readable scopes, a reminder interval of at least an hour.
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
        let mut names = std::collections::HashSet::new();
        for s in &self.systems {
            if s.name.trim().is_empty() {
                return invalid("a system has an empty name".into());
            }
            if !names.insert(s.name.trim()) {
                return invalid(format!("system {} is configured twice", s.name));
            }
            let digest = s.token_digest().map_err(InvalidConfig)?;
            if !tokens.insert(digest) {
                return invalid(format!("system {}: token used by another system", s.name));
            }
            s.scope().map_err(InvalidConfig)?;
        }
        Ok(())
    }

    /// What a careful operator should hear at start: plaintext tokens, systems that may
    /// name any actor.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        for s in &self.systems {
            if s.token.is_some() {
                w.push(format!(
                    "system {}: plaintext token in the configuration; replace it with token_sha256 (`workflow token new --system {}`)",
                    s.name, s.name
                ));
            }
            if s.acts_for.is_none() {
                w.push(format!(
                    "system {}: no acts_for, so it may name any actor; set the units or roles it acts for",
                    s.name
                ));
            }
        }
        w
    }
}
