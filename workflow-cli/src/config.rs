//! The configuration file (`workflow.toml`) and its defaults: where the data lives, how it
//! is kept, and what the gRPC service is told.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use workflow_grpc::{ServiceConfig, SystemConfig, TlsConfig};

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said (with line and column).
        message: String,
    },
    /// A value is not acceptable.
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// The server's settings. Every field has a safe default except `systems`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on (default `127.0.0.1:50051`, loopback only).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The sled data directory (default `data`).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// A directory JSON file (units and actors, the fixture's form) loaded at start when
    /// the engine's directory is still empty.
    #[serde(default)]
    pub directory: Option<PathBuf>,
    /// The campus systems and their tokens.
    #[serde(default)]
    pub systems: Vec<SystemConfig>,
    /// TLS; plaintext when absent.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// How often the deadline sweep runs, in seconds (default 60; 0 turns it off).
    #[serde(default = "default_sweep_every_secs")]
    pub sweep_every_secs: u64,
    /// sled's page cache in MiB (default 256): room for the documents in use.
    #[serde(default = "default_cache_mib")]
    pub cache_mib: u64,
    /// At most one 催办 reminder per overdue stage per this many hours (default 24).
    #[serde(default = "default_reminder_interval_hours")]
    pub reminder_interval_hours: u32,
    /// `strict` (default): every acknowledged command is on stable storage (synced) before
    /// the answer, and survives a power loss. `relaxed`: it survives a crash of the server
    /// process, but a crash of the machine or a power loss may lose the last ones.
    #[serde(default)]
    pub durability: workflow_store::Durability,
    /// The retention schedule (保管期限表), `[[retention]]` rows checked in order; empty:
    /// the default drawn from 国家档案局令第8号 (`workflow retention-schedule` prints it).
    #[serde(default)]
    pub retention: Vec<workflow_core::ScheduleRow>,
}

fn default_sweep_every_secs() -> u64 {
    60
}

fn default_cache_mib() -> u64 {
    256
}

fn default_reminder_interval_hours() -> u32 {
    24
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 50051))
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            data_dir: default_data_dir(),
            directory: None,
            systems: Vec::new(),
            tls: None,
            sweep_every_secs: default_sweep_every_secs(),
            cache_mib: default_cache_mib(),
            reminder_interval_hours: default_reminder_interval_hours(),
            durability: workflow_store::Durability::Strict,
            retention: Vec::new(),
        }
    }
}

impl ServerConfig {
    /// Reads and checks a configuration file. Relative paths in it are taken relative to
    /// the file's directory.
    pub fn load(path: &Path) -> Result<ServerConfig, ConfigError> {
        let config = Self::read(path)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads a configuration file without checking it is enough to serve (operator tools
    /// only need its paths).
    pub fn read(path: &Path) -> Result<ServerConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config: ServerConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        let rebase = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        rebase(&mut config.data_dir);
        if let Some(d) = config.directory.as_mut() {
            rebase(d);
        }
        if let Some(tls) = config.tls.as_mut() {
            rebase(&mut tls.cert);
            rebase(&mut tls.key);
        }
        Ok(config)
    }

    /// The retention schedule: the configured rows, or the default.
    pub fn retention_schedule(&self) -> Result<workflow_core::RetentionSchedule, ConfigError> {
        if self.retention.is_empty() {
            return Ok(workflow_core::RetentionSchedule::default());
        }
        let schedule = workflow_core::RetentionSchedule {
            rows: self.retention.clone(),
        };
        schedule
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        Ok(schedule)
    }

    /// What the gRPC service is told.
    pub fn service(&self) -> ServiceConfig {
        ServiceConfig {
            systems: self.systems.clone(),
            tls: self.tls.clone(),
            reminder_interval_hours: self.reminder_interval_hours,
        }
    }

    /// The engine's settings, with `clock`.
    pub fn engine(
        &self,
        clock: workflow_store::Clock,
    ) -> Result<workflow_store::Config, ConfigError> {
        Ok(workflow_store::Config {
            clock,
            cache_bytes: self.cache_mib.saturating_mul(1024 * 1024),
            durability: self.durability,
            retention_schedule: self.retention_schedule()?,
            ..workflow_store::Config::new(&self.data_dir)
        })
    }

    /// Checks the values: the retention schedule, and what the service needs (at least one
    /// system, non-empty unique tokens and names).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.retention_schedule()?;
        self.service()
            .validate()
            .map_err(|e| ConfigError::Invalid(e.0))
    }
}
