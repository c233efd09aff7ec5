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
    /// Where the log and projections live: `"sled"` (the default: the embedded store in
    /// `data_dir`) or a PostgreSQL URL, `postgres://user:password@host:port/database`, for
    /// several server processes on one database (DESIGN §8).
    #[serde(default)]
    pub store: Option<String>,
    /// PostgreSQL only: connections per server process (default 16).
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// PostgreSQL only: accept a server running with `fsync = off`. It may lose or corrupt
    /// acknowledged commits when the database machine crashes: never in production.
    #[serde(default)]
    pub allow_fsync_off: bool,
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
    /// Where to serve `/metrics` (Prometheus text format) for whoever runs the service, e.g.
    /// `127.0.0.1:9464`; none by default. It needs no token: keep it on loopback or a
    /// network only the monitoring reaches.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
    /// The web console (`[web]`): off when absent. `listen` (default `127.0.0.1:8080`),
    /// `auth = "dev"` (choose an actor; loopback only) or `auth = "header"` with `header`
    /// and `trusted_proxies` (behind the campus sign-on gateway).
    #[serde(default)]
    pub web: Option<workflow_web::WebConfig>,
    /// How often the deadline sweep runs, in seconds (default 60; 0 turns it off).
    #[serde(default = "default_sweep_every_secs")]
    pub sweep_every_secs: u64,
    /// sled's page cache in MiB (default 256): room for the documents in use.
    #[serde(default = "default_cache_mib")]
    pub cache_mib: u64,
    /// Where the keyword index of 查询 lives: absent, with the store (a sled data
    /// directory's `search/`; memory on PostgreSQL); `"memory"` (built at every start);
    /// `"off"` (every search reads the documents); or a directory (empty, or holding the
    /// index), e.g. for a PostgreSQL server that should keep its index across restarts.
    #[serde(default)]
    pub search_index: Option<String>,
    /// At most one 催办 reminder per overdue stage per this many hours (default 24).
    #[serde(default = "default_reminder_interval_hours")]
    pub reminder_interval_hours: u32,
    /// `strict` (default): every acknowledged command is on stable storage (synced) before
    /// the answer, and survives a power loss. `relaxed`: it survives a crash of the server
    /// process, but a crash of the machine or a power loss may lose the last ones.
    #[serde(default)]
    pub durability: workflow_store::Durability,
    /// The digest of the log's hash chain for a new store: `"sha256"` (the default) or
    /// `"sm3"` (国密, GB/T 32905). A store keeps the digest it was created with; naming the
    /// other for a store with events is refused at start.
    #[serde(default)]
    pub chain_digest: Option<workflow_store::envelope::ChainDigest>,
    /// The retention schedule (保管期限表), `[[retention]]` rows checked in order; empty:
    /// the default drawn from 国家档案局令第8号 (`workflow retention-schedule` prints it).
    #[serde(default)]
    pub retention: Vec<workflow_core::archive::ScheduleRow>,
    /// The largest file an upload may be, in MiB (default 100).
    #[serde(default = "default_content_max_mib")]
    pub content_max_mib: u64,
    /// The kinds of file uploads may be, by the bytes' signature (default: `pdf`, `ofd`,
    /// `docx`, `xlsx`, `doc`, `wps`, `jpg`, `png`, `zip`).
    #[serde(default)]
    pub content_kinds: Vec<String>,
    /// Notifications (`[notify]`): the console's address for the links in messages, and the
    /// channels (`[[notify.channels]]`: webhook, email, 企业微信, 钉钉) the outbox delivers
    /// 待办 and 催办 over. None: no outbox.
    #[serde(default)]
    pub notify: workflow_store::notify::NotifyConfig,
}

fn default_content_max_mib() -> u64 {
    100
}

fn default_pool_size() -> usize {
    16
}

/// Whether a `store` value names PostgreSQL.
pub fn is_postgres(store: &str) -> bool {
    store.starts_with("postgres://") || store.starts_with("postgresql://")
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
            store: None,
            pool_size: default_pool_size(),
            allow_fsync_off: false,
            directory: None,
            systems: Vec::new(),
            tls: None,
            metrics_listen: None,
            web: None,
            sweep_every_secs: default_sweep_every_secs(),
            cache_mib: default_cache_mib(),
            search_index: None,
            reminder_interval_hours: default_reminder_interval_hours(),
            durability: workflow_store::Durability::Strict,
            chain_digest: None,
            retention: Vec::new(),
            content_max_mib: default_content_max_mib(),
            content_kinds: Vec::new(),
            notify: Default::default(),
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
        for c in &mut config.notify.channels {
            if let Some(ca) = c.ca_file.as_mut() {
                rebase(ca);
            }
        }
        // A search index directory, like the other paths, is relative to the file.
        if let workflow_store::SearchIndex::At(mut dir) = config.search_index() {
            rebase(&mut dir);
            config.search_index = Some(dir.display().to_string());
        }
        Ok(config)
    }

    /// The retention schedule: the configured rows, or the default.
    pub fn retention_schedule(
        &self,
    ) -> Result<workflow_core::archive::RetentionSchedule, ConfigError> {
        if self.retention.is_empty() {
            return Ok(workflow_core::archive::RetentionSchedule::default());
        }
        let schedule = workflow_core::archive::RetentionSchedule {
            rows: self.retention.clone(),
        };
        schedule
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        Ok(schedule)
    }

    /// What uploads may be: `content_max_mib` and `content_kinds` (all kinds when empty).
    pub fn content_limits(&self) -> Result<workflow_store::content::ContentLimits, ConfigError> {
        if self.content_max_mib == 0 {
            return Err(ConfigError::Invalid(
                "content_max_mib = 0: give the largest file an upload may be, in MiB".into(),
            ));
        }
        let kinds = if self.content_kinds.is_empty() {
            workflow_core::content::FileKind::ALL.to_vec()
        } else {
            self.content_kinds
                .iter()
                .map(|k| {
                    k.parse()
                        .map_err(|e: String| ConfigError::Invalid(format!("content_kinds: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(workflow_store::content::ContentLimits {
            max_bytes: self.content_max_mib.saturating_mul(1024 * 1024),
            kinds,
        })
    }

    /// The PostgreSQL URL when `store` names one; `None` for sled.
    pub fn postgres_url(&self) -> Result<Option<&str>, ConfigError> {
        match self.store.as_deref().map(str::trim) {
            None | Some("" | "sled") => Ok(None),
            Some(url) if is_postgres(url) => Ok(Some(url)),
            Some(other) => Err(ConfigError::Invalid(format!(
                "store = {other:?}: give \"sled\" or a postgres://user:password@host:port/database URL"
            ))),
        }
    }

    /// Where the store is, for messages: the PostgreSQL URL without its password, or the
    /// sled data directory (never the sled directory of a PostgreSQL configuration, which
    /// nothing uses).
    pub fn place(&self) -> String {
        match self.postgres_url() {
            Ok(Some(url)) => workflow_store::storage::postgres::redact(url),
            _ => self.data_dir.display().to_string(),
        }
    }

    /// The PostgreSQL options of this configuration.
    pub fn postgres_options(&self) -> workflow_store::PostgresOptions {
        workflow_store::PostgresOptions {
            pool_size: self.pool_size,
            durability: self.durability,
            // The test suite's throwaway clusters run without fsync and say so here.
            allow_fsync_off: self.allow_fsync_off
                || std::env::var("WORKFLOW_ALLOW_FSYNC_OFF").is_ok_and(|v| v == "1"),
        }
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
            content_limits: self.content_limits()?,
            // 印发 prints the 公文 (GB/T 9704), kept with the document.
            printer: Some(workflow_render::printer::printer()),
            search_index: self.search_index(),
            chain_digest: self.chain_digest,
            ..workflow_store::Config::new(&self.data_dir)
        })
    }

    /// Where the keyword index lives (`search_index`).
    pub fn search_index(&self) -> workflow_store::SearchIndex {
        use workflow_store::SearchIndex;
        match self.search_index.as_deref().map(str::trim) {
            None | Some("") => SearchIndex::WithStore,
            Some("memory") => SearchIndex::InMemory,
            Some("off") => SearchIndex::Off,
            Some(dir) => SearchIndex::At(PathBuf::from(dir)),
        }
    }

    /// Checks the values: the retention schedule, and what the service needs (at least one
    /// system, non-empty unique tokens and names).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.retention_schedule()?;
        self.content_limits()?;
        self.postgres_url()?;
        if let Some(web) = &self.web {
            web.validate()
                .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        }
        self.notify.check().map_err(ConfigError::Invalid)?;
        self.service()
            .validate()
            .map_err(|e| ConfigError::Invalid(e.0))
    }
}

/// A store as messages show it: a URL without its password, or the directory.
pub(crate) fn shown(place: &Path) -> String {
    let text = place.to_string_lossy();
    if crate::config::is_postgres(&text) {
        workflow_store::storage::postgres::redact(&text)
    } else {
        place.display().to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::ServerConfig;

    #[test]
    fn store_is_sled_or_a_postgres_url() {
        let with = |store: Option<&str>| ServerConfig {
            store: store.map(str::to_owned),
            ..ServerConfig::default()
        };
        assert_eq!(with(None).postgres_url().ok(), Some(None));
        assert_eq!(with(Some("sled")).postgres_url().ok(), Some(None));
        assert_eq!(
            with(Some("postgres://wf@db/workflow")).postgres_url().ok(),
            Some(Some("postgres://wf@db/workflow"))
        );
        let e = with(Some("mysql://db/workflow"))
            .postgres_url()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("store = \"mysql://db/workflow\""), "{e}");
    }

    #[test]
    fn the_keyword_index_lives_with_the_store_in_memory_nowhere_or_in_a_directory() {
        use workflow_store::SearchIndex;
        let at = |toml: &str| -> SearchIndex {
            let c: ServerConfig = toml::from_str(toml).unwrap_or_else(|e| panic!("{toml}: {e}"));
            c.search_index()
        };
        assert_eq!(at(""), SearchIndex::WithStore);
        assert_eq!(at("search_index = \"memory\""), SearchIndex::InMemory);
        assert_eq!(at("search_index = \"off\""), SearchIndex::Off);
        assert_eq!(
            at("search_index = \"/var/lib/workflow/search\""),
            SearchIndex::At("/var/lib/workflow/search".into())
        );
        // A relative directory is the configuration file's, as the other paths are.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("workflow.toml");
        std::fs::write(&file, "search_index = \"index\"\n").unwrap();
        let c = ServerConfig::read(&file).unwrap();
        assert_eq!(c.search_index(), SearchIndex::At(dir.path().join("index")));
        std::fs::write(&file, "search_index = \"memory\"\n").unwrap();
        let c = ServerConfig::read(&file).unwrap();
        assert_eq!(c.search_index(), SearchIndex::InMemory);
    }
}
