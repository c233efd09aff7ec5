//! Bearer-token authentication: each token is bound to a named campus system.

use std::sync::Arc;

use subtle::ConstantTimeEq;
use workflow_core::directory::Classification;

use tonic::service::Interceptor;
use tonic::{Code, Request, Status};

use crate::convert::status;

use crate::config::{ActsFor, SystemConfig, sha256};

/// The authenticated caller, placed in each request's extensions: its name and scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerSystem {
    /// The system's configured name.
    pub name: String,
    /// Whether it may use the admin service.
    pub admin: bool,
    /// The actors it may name; `None` for any.
    pub acts_for: Option<ActsFor>,
    /// The highest 密级 it receives when it names no actor.
    pub max_classification: Classification,
}

impl CallerSystem {
    /// A caller for a service run without authentication (a library user's own wiring):
    /// it may name any actor and receives only unclassified documents without one.
    pub fn unauthenticated() -> Self {
        CallerSystem {
            name: "(unauthenticated)".into(),
            admin: false,
            acts_for: None,
            max_classification: Classification::None,
        }
    }
}

/// Checks `authorization: Bearer <token>` against the configured systems' token digests.
#[derive(Debug, Clone)]
pub struct Authenticator {
    systems: Arc<Vec<([u8; 32], CallerSystem)>>,
    admin_only: bool,
}

impl Authenticator {
    /// An authenticator for the configured systems; `admin_only` also requires `admin`.
    /// Systems whose token or scope does not read are left out (`ServiceConfig::validate`
    /// refuses such a configuration before a server starts).
    pub fn new(systems: &[SystemConfig], admin_only: bool) -> Self {
        let systems = systems
            .iter()
            .filter_map(|s| {
                let digest = s.token_digest().ok()?;
                let acts_for = s.scope().ok()?;
                Some((
                    digest,
                    CallerSystem {
                        name: s.name.clone(),
                        admin: s.admin,
                        acts_for,
                        max_classification: s.max_classification,
                    },
                ))
            })
            .collect();
        Authenticator {
            systems: Arc::new(systems),
            admin_only,
        }
    }

    /// The system a token belongs to. The token is hashed and compared with every
    /// configured digest in constant time, without stopping at a match, so neither the
    /// time taken nor the order of the systems tells an attacker how close a guess was.
    pub fn system_of(&self, token: &str) -> Option<&CallerSystem> {
        let presented = sha256(token);
        let mut found = None;
        for (digest, system) in self.systems.iter() {
            let equal: bool = digest.ct_eq(&presented).into();
            if equal {
                found = Some(system);
            }
        }
        found
    }
}

impl Interceptor for Authenticator {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let unauthenticated = |reason: &str, message: &str| {
            status(Code::Unauthenticated, reason, message, Vec::new(), None)
        };
        let header = request.metadata().get("authorization").ok_or_else(|| {
            unauthenticated(
                "MISSING_TOKEN",
                "missing authorization metadata (expected: Bearer <token>)",
            )
        })?;
        let text = header.to_str().map_err(|_| {
            unauthenticated("MALFORMED_TOKEN", "authorization metadata is not ASCII")
        })?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .ok_or_else(|| {
                unauthenticated(
                    "MALFORMED_TOKEN",
                    "authorization metadata must be 'Bearer <token>'",
                )
            })?;
        let caller = self
            .system_of(token.trim())
            .cloned()
            .ok_or_else(|| unauthenticated("UNKNOWN_TOKEN", "unknown bearer token"))?;
        if self.admin_only && !caller.admin {
            return Err(status(
                Code::PermissionDenied,
                "NOT_ADMIN",
                format!(
                    "system {} is not configured as admin and may not call WorkflowAdmin",
                    caller.name
                ),
                vec![("system", caller.name.clone())],
                None,
            ));
        }
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}
