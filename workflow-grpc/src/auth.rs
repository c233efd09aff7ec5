//! Bearer-token authentication: each token is bound to a named campus system.

use std::collections::HashMap;
use std::sync::Arc;

use tonic::service::Interceptor;
use tonic::{Code, Request, Status};

use crate::convert::status;

use crate::config::SystemConfig;

/// The authenticated caller, placed in each request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerSystem {
    /// The system's configured name.
    pub name: String,
    /// Whether it may use the admin service.
    pub admin: bool,
}

/// Checks `authorization: Bearer <token>` against the configured systems.
#[derive(Debug, Clone)]
pub struct Authenticator {
    tokens: Arc<HashMap<String, CallerSystem>>,
    admin_only: bool,
}

impl Authenticator {
    /// An authenticator for the configured systems; `admin_only` also requires `admin`.
    pub fn new(systems: &[SystemConfig], admin_only: bool) -> Self {
        let tokens = systems
            .iter()
            .map(|s| {
                (
                    s.token.clone(),
                    CallerSystem {
                        name: s.name.clone(),
                        admin: s.admin,
                    },
                )
            })
            .collect();
        Authenticator {
            tokens: Arc::new(tokens),
            admin_only,
        }
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
            .tokens
            .get(token.trim())
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
