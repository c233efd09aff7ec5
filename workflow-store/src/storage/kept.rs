//! Files kept by the storage, read and written the same way everywhere: a spool file for
//! what is about to be kept (uploads, printed 公文), and a kept file read through whole and
//! checked against its digest (verify, export, copy, render). Storage-level: it speaks
//! [`Storage`] only, so the engine, replay and export all use it without depending on one
//! another.

use std::path::PathBuf;

use sha2::{Digest as _, Sha256};
use workflow_core::content::Digest;

use crate::error::{Error, Result};
use crate::storage::Storage;

/// An I/O failure on `what`, as the engine answers it (a retry may help).
pub(crate) fn unavailable(what: &str, e: std::io::Error) -> Error {
    Error::Unavailable {
        reason: format!("{what}: {e}"),
    }
}

/// A new spool file, readable by this user only, on the same file system as the kept files
/// (so that keeping it is a rename): uploads and printed 公文 are written here first.
pub(crate) fn spool_file(storage: &dyn Storage) -> Result<(PathBuf, std::fs::File)> {
    let dir = storage.spool_dir();
    std::fs::create_dir_all(&dir).map_err(|e| unavailable("the spool", e))?;
    let path = dir.join(format!("{}.part", uuid::Uuid::new_v4()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&path)
        .map_err(|e| unavailable("the spool", e))?;
    Ok((path, file))
}

/// What reading a kept file through found wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeptProblem {
    /// It ends at this byte, before its size.
    Short(u64),
    /// Its bytes hash to this, not to its digest.
    Altered(Digest),
}

/// Reads the file kept under `digest`, `size` bytes, a chunk (1 MiB) at a time into `each`,
/// and checks that the bytes hash to the digest: `Ok(Some(problem))` for a file cut short
/// or altered (each caller words what that means where it reads), `Err` for a storage
/// error or one of `each`.
pub(crate) fn read_kept(
    storage: &dyn Storage,
    digest: &Digest,
    size: u64,
    mut each: impl FnMut(&[u8]) -> Result<()>,
) -> Result<Option<KeptProblem>> {
    let mut hasher = Sha256::new();
    let mut offset = 0u64;
    while offset < size {
        let bytes = storage.read_content(digest, offset, 1 << 20)?;
        if bytes.is_empty() {
            return Ok(Some(KeptProblem::Short(offset)));
        }
        hasher.update(&bytes);
        each(&bytes)?;
        offset += bytes.len() as u64;
    }
    let found = Digest::from_sha256(hasher.finalize().into());
    Ok((found != *digest).then_some(KeptProblem::Altered(found)))
}
