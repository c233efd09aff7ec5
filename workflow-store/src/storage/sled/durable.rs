//! Making what sled flushed durable on stable storage.
//!
//! sled 0.34's `flush` writes its buffers with `sync_file_range(WAIT_BEFORE | WRITE |
//! WAIT_AFTER)`: the data reaches the device, but neither the device's volatile write cache
//! nor the file's metadata (the size of a growing file) is flushed; a real `fsync` comes from
//! a background thread every 500 ms. Its blob files (values too large for a page) are never
//! synced, nor are directory entries (the `conf` file at creation, renamed snapshots). So
//! after sled's flush the store [`StableFiles::sync`]s: `fdatasync` of the data file, then
//! `fsync` of every new blob file and of each directory whose entries changed. Only then is a
//! group durable across a power loss, and only then is any caller answered.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::durability::Durability;

/// A directory's entries, as names and inode numbers.
type Entries = BTreeSet<(OsString, u64)>;

/// The files of one sled directory and what was last made durable of its entries.
#[derive(Debug)]
pub(crate) struct StableFiles {
    mode: Durability,
    dir: PathBuf,
    /// sled's data file, opened only to `fdatasync` it (a sync works on the file, whatever
    /// descriptor it comes through).
    data: File,
    synced: Mutex<Synced>,
}

#[derive(Debug, Default)]
struct Synced {
    dir: Entries,
    blobs: Entries,
}

impl StableFiles {
    /// Opens the data file of the sled directory `dir`, and makes what sled created there
    /// durable (its `conf` file and the directory entries), which sled itself does not: in
    /// either mode, since a store whose files were never synced vanishes whole in a power
    /// loss (once per open; it costs nothing later).
    pub(crate) fn open(dir: &Path, mode: Durability) -> io::Result<StableFiles> {
        let files = StableFiles {
            mode,
            dir: dir.to_owned(),
            data: File::open(dir.join("db"))?,
            synced: Mutex::new(Synced::default()),
        };
        File::open(dir.join("conf"))?.sync_all()?;
        files.data.sync_all()?;
        files.sync_entries()?;
        Ok(files)
    }

    /// Makes a committed group durable: everything sled has flushed, under
    /// [`Durability::Strict`]; nothing more under [`Durability::Relaxed`].
    pub(crate) fn sync_group(&self) -> io::Result<()> {
        match self.mode {
            Durability::Strict => self.sync(),
            Durability::Relaxed => Ok(()),
        }
    }

    /// Makes everything sled has flushed durable, in either mode: for the rare writes
    /// outside command groups (creating or upgrading the store, the directory, rebuild
    /// marks), which no mode may lose.
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.data.sync_data()?;
        self.sync_entries()
    }

    /// Syncs new blob files, then each directory whose entries changed since last time.
    /// Directories are listed each time (a few entries; cheaper than trusting their mtime,
    /// whose coarse clock misses changes made within one tick).
    fn sync_entries(&self) -> io::Result<()> {
        let mut synced = self
            .synced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let blobs_dir = self.dir.join("blobs");
        let blobs = entries(&blobs_dir)?;
        if blobs != synced.blobs {
            for (name, _) in blobs.difference(&synced.blobs) {
                match File::open(blobs_dir.join(name)) {
                    Ok(f) => f.sync_all()?,
                    // Removed meanwhile (sled collects blobs it no longer needs).
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            sync_dir(&blobs_dir)?;
            synced.blobs = blobs;
        }
        let top = entries(&self.dir)?;
        if top != synced.dir {
            sync_dir(&self.dir)?;
            synced.dir = top;
        }
        Ok(())
    }
}

fn entries(dir: &Path) -> io::Result<Entries> {
    match std::fs::read_dir(dir) {
        Ok(read) => read.map(|e| e.map(|e| (e.file_name(), e.ino()))).collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Entries::new()),
        Err(e) => Err(e),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir) {
        Ok(d) => d.sync_all(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
