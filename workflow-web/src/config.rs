//! The `[web]` table of the server's configuration.

use std::net::{IpAddr, SocketAddr};

use serde::Deserialize;

use crate::error::WebError;

/// How the console learns who is signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Choose an actor from the directory on a sign-in page: for trying the console out,
    /// on a loopback address only.
    Dev,
    /// A trusted reverse proxy (the campus single sign-on gateway) passes the user id in
    /// [`WebConfig::header`]; accepted only from [`WebConfig::trusted_proxies`].
    Header,
}

/// The web console's settings (`[web]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// Where to serve the console (default `127.0.0.1:8080`).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// `dev` or `header`.
    pub auth: AuthMode,
    /// The request header holding the signed-in user's actor id (`header` mode), e.g.
    /// `X-Remote-User`.
    #[serde(default)]
    pub header: Option<String>,
    /// The addresses of the proxies allowed to set that header (`header` mode).
    #[serde(default)]
    pub trusted_proxies: Vec<IpAddr>,
    /// The name reads through the console are recorded under in the access log (default
    /// `web`).
    #[serde(default = "default_channel")]
    pub channel: String,
    /// Whether the console's cookies are `Secure` (sent over HTTPS only). Default: yes in
    /// `header` mode (behind the campus gateway, which terminates TLS), no in `dev` mode
    /// (plain HTTP on this machine). Set `false` only for a gateway that serves plain HTTP.
    #[serde(default)]
    pub secure_cookies: Option<bool>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_channel() -> String {
    "web".into()
}

impl WebConfig {
    /// The settings for trying the console out: `dev` sign-in on `listen`.
    pub fn dev(listen: SocketAddr) -> WebConfig {
        WebConfig {
            listen,
            auth: AuthMode::Dev,
            header: None,
            trusted_proxies: Vec::new(),
            channel: default_channel(),
            secure_cookies: None,
        }
    }

    /// Whether cookies are `Secure`: as configured, else in `header` mode only.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or(self.auth == AuthMode::Header)
    }

    /// Refuses settings that would let anyone be anyone: `dev` away from loopback, `header`
    /// without a header name or without trusted proxies.
    pub fn validate(&self) -> Result<(), WebError> {
        let bad = |field: &'static str, reason: &str| {
            Err(WebError::Config {
                field,
                reason: reason.into(),
            })
        };
        if self.channel.trim().is_empty() {
            return bad("web.channel", "must not be empty");
        }
        match self.auth {
            AuthMode::Dev if !self.listen.ip().is_loopback() => bad(
                "web.listen",
                "auth = \"dev\" lets whoever reaches the console choose who they are: it is \
                 served on a loopback address only (use auth = \"header\" behind the campus \
                 sign-on gateway)",
            ),
            AuthMode::Dev => Ok(()),
            AuthMode::Header if self.header.as_deref().is_some_and(|h| h.trim() != h) => {
                bad("web.header", "has spaces around the name")
            }
            AuthMode::Header => {
                match self.header.as_deref().map(str::trim) {
                    None | Some("") => {
                        return bad(
                            "web.header",
                            "auth = \"header\" needs the header the proxy sets, e.g. \
                             \"X-Remote-User\"",
                        );
                    }
                    Some(h) if axum::http::HeaderName::try_from(h).is_err() => {
                        return bad("web.header", "is not a valid header name");
                    }
                    Some(_) => {}
                }
                if self.trusted_proxies.is_empty() {
                    return bad(
                        "web.trusted_proxies",
                        "auth = \"header\" needs the addresses of the proxies allowed to set \
                         the header",
                    );
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_is_refused_away_from_loopback() {
        let c = WebConfig::dev("0.0.0.0:8080".parse().unwrap_or_else(|_| default_listen()));
        assert!(matches!(
            c.validate(),
            Err(WebError::Config {
                field: "web.listen",
                ..
            })
        ));
        assert!(WebConfig::dev(default_listen()).validate().is_ok());
    }

    #[test]
    fn header_needs_a_header_and_proxies() {
        let mut c = WebConfig::dev("10.0.0.5:8080".parse().unwrap_or_else(|_| default_listen()));
        c.auth = AuthMode::Header;
        assert!(matches!(
            c.validate(),
            Err(WebError::Config {
                field: "web.header",
                ..
            })
        ));
        c.header = Some("X-Remote-User".into());
        assert!(matches!(
            c.validate(),
            Err(WebError::Config {
                field: "web.trusted_proxies",
                ..
            })
        ));
        c.trusted_proxies = vec![IpAddr::from([10, 0, 0, 1])];
        assert!(c.validate().is_ok());
    }
}
