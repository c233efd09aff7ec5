//! Files by digest in the data directory (DESIGN §10): `content/<first two hex digits>/<digest>`,
//! written to a spool file in `content/spool/`, synced, renamed into place, and the folder it
//! went into synced, so that a file is on stable storage before any event names it. A file
//! is never changed once kept; keeping the same bytes again keeps nothing more.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use workflow_core::ActorId;
use workflow_core::content::{Digest, KeptFile};

use super::*;
use crate::storage::{Contents, KeptContent};

/// The folder of a data directory that holds its files.
pub(super) fn content_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("content")
}

fn io_error(what: impl std::fmt::Display, e: io::Error) -> Error {
    Error::Unavailable {
        reason: format!("{what}: {e}"),
    }
}

/// The `uploads` key recording that `actor` uploaded `digest`.
fn upload_key(digest: &Digest, actor: &ActorId) -> Vec<u8> {
    let mut k = upload_key_prefix(digest);
    k.extend_from_slice(actor.0.as_bytes());
    k
}

fn upload_key_prefix(digest: &Digest) -> Vec<u8> {
    let mut k = digest.as_str().as_bytes().to_vec();
    k.push(0);
    k
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl SledStorage {
    /// Syncs the entries that lead to a kept file: its folder's, `content/`'s (which holds
    /// the folder) and the data directory's (which holds `content/`). Every keep syncs all
    /// three, so that no upload is answered on a folder another one created and has not
    /// synced yet.
    fn sync_folders(&self, folder: &Path) -> io::Result<()> {
        sync_dir(folder)?;
        sync_dir(&self.contents)?;
        match self.contents.parent() {
            Some(data_dir) => sync_dir(data_dir),
            None => Ok(()),
        }
    }

    /// Removes what uploads a crash cut short left in the spool (the data directory is this
    /// process's alone: no upload is under way while it opens).
    pub(super) fn sweep_spool(&self) {
        if let Ok(entries) = std::fs::read_dir(self.spool_dir()) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// Keeps the file itself: renamed into place, synced, with the folders that lead to it.
    fn keep_file(&self, digest: &Digest, spooled: &Path, size: u64) -> Result<()> {
        let target = self.content_path(digest);
        let what = || format!("keeping file {digest}");
        let folder = target.parent().map(Path::to_owned).unwrap_or_default();
        if target.exists() {
            let _ = std::fs::remove_file(spooled);
            // Uploaded again: kept from now, as far as the clean-up of files no event names
            // is concerned (its grace period starts again).
            File::open(&target)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()))
                .map_err(|e| io_error(what(), e))?;
            // Another upload of the same bytes may have renamed it and not yet synced its
            // folders: sync them before answering, whoever renamed it.
            return self.sync_folders(&folder).map_err(|e| io_error(what(), e));
        }
        let f = File::open(spooled).map_err(|e| io_error(what(), e))?;
        let found = f.metadata().map_err(|e| io_error(what(), e))?.len();
        if found != size {
            return Err(Error::Internal {
                reason: format!("{}: the spool holds {found} bytes, not {size}", what()),
            });
        }
        f.sync_all().map_err(|e| io_error(what(), e))?;
        drop(f);
        std::fs::create_dir_all(&folder).map_err(|e| io_error(what(), e))?;
        std::fs::rename(spooled, &target).map_err(|e| io_error(what(), e))?;
        self.sync_folders(&folder).map_err(|e| io_error(what(), e))
    }

    fn content_path(&self, digest: &Digest) -> PathBuf {
        let d = digest.as_str();
        self.contents.join(&d[..2]).join(d)
    }
}

impl Contents for SledStorage {
    fn keep_content(
        &self,
        digest: &Digest,
        spooled: &Path,
        size: u64,
        uploader: Option<&ActorId>,
    ) -> Result<()> {
        self.keep_file(digest, spooled, size)?;
        if let Some(actor) = uploader {
            self.uploads.insert(upload_key(digest, actor), &[]).db()?;
            self.flush_durably()?;
        }
        Ok(())
    }

    fn uploaded_file(&self, digest: &Digest, actor: &ActorId) -> Result<Option<KeptFile>> {
        if !self.uploads.contains_key(upload_key(digest, actor)).db()? {
            return Ok(None);
        }
        let what = || format!("file {digest}");
        let f = match File::open(self.content_path(digest)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(what(), e)),
        };
        let size = f.metadata().map_err(|e| io_error(what(), e))?.len();
        let mut head = Vec::with_capacity(8);
        f.take(8)
            .read_to_end(&mut head)
            .map_err(|e| io_error(what(), e))?;
        Ok(Some(KeptFile { size, head }))
    }

    fn content_size(&self, digest: &Digest) -> Result<Option<u64>> {
        match std::fs::metadata(self.content_path(digest)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(format!("file {digest}"), e)),
        }
    }

    fn read_content(&self, digest: &Digest, offset: u64, len: usize) -> Result<Vec<u8>> {
        let what = || format!("reading file {digest}");
        let mut f = match File::open(self.content_path(digest)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::corrupt(what(), "it is not kept"));
            }
            Err(e) => return Err(io_error(what(), e)),
        };
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| io_error(what(), e))?;
        let mut out = Vec::with_capacity(len.min(1 << 20));
        f.take(len as u64)
            .read_to_end(&mut out)
            .map_err(|e| io_error(what(), e))?;
        Ok(out)
    }

    fn list_contents(&self) -> Result<Vec<KeptContent>> {
        let mut out = Vec::new();
        let folders = match std::fs::read_dir(&self.contents) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io_error("listing files", e)),
        };
        for folder in folders {
            let folder = folder.map_err(|e| io_error("listing files", e))?;
            let name = folder.file_name();
            // Two hex digits: a folder of files (the spool is not one).
            if name.len() != 2 || !folder.path().is_dir() {
                continue;
            }
            for file in
                std::fs::read_dir(folder.path()).map_err(|e| io_error("listing files", e))?
            {
                let file = file.map_err(|e| io_error("listing files", e))?;
                let Some(digest) = file.file_name().to_str().and_then(Digest::parse) else {
                    continue;
                };
                let meta = file.metadata().map_err(|e| io_error("listing files", e))?;
                out.push(KeptContent {
                    digest,
                    size: meta.len(),
                    kept_at: meta.modified().ok(),
                });
            }
        }
        out.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(out)
    }

    fn remove_content(&self, digest: &Digest) -> Result<()> {
        for key in self.uploads.scan_prefix(upload_key_prefix(digest)).keys() {
            self.uploads.remove(key.db()?).db()?;
        }
        self.flush_durably()?;
        let path = self.content_path(digest);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_error(format!("removing file {digest}"), e)),
        }
        if let Some(folder) = path.parent() {
            sync_dir(folder).map_err(|e| io_error(format!("removing file {digest}"), e))?;
        }
        Ok(())
    }

    fn spool_dir(&self) -> PathBuf {
        self.contents.join("spool")
    }
}
