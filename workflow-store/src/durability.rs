//! What an acknowledged command survives: a backend-neutral promise each backend keeps its
//! own way (sled: `fdatasync` after each group; PostgreSQL: synchronous commit).

/// How durable an acknowledged command is (`durability` in the server's configuration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Every group is on stable storage before any of its callers is answered: it survives
    /// a process crash, an operating-system crash and a power loss (as far as the disk
    /// honours a cache flush). The default.
    #[default]
    Strict,
    /// Every group of commands is written to the operating system (it survives a crash of
    /// the process) and synced by sled's background thread within about half a second: a
    /// crash of the machine or a power loss may lose the last groups, although their callers
    /// were told they succeeded. (Creating the store, loading the directory and the other
    /// rare writes outside command groups are synced in either mode.) For those who
    /// explicitly prefer speed.
    Relaxed,
}
