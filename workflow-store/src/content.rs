//! The files documents carry (DESIGN §10): an upload spooled to a file while its SHA-256 is
//! computed, checked — its size against the limit, its kind by the bytes' signature against
//! the allow-list, its digest against the one the sender computed — and kept by the
//! storage's [`Contents`](crate::storage::Contents) before anyone may name it; a read goes
//! through a document that names the file, under that document's reading rules.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};
use workflow_core::DocumentId;
use workflow_core::content::{
    Digest, FileKind, FileRef, Signature, name_problem, ole_kind, signature, zip_kind,
};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::read::Reader;
use crate::storage::Storage;
use crate::storage::kept::{spool_file, unavailable};

/// What uploads may be: at most `max_bytes` each, of these kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentLimits {
    /// The largest file, in bytes (default 100 MiB).
    pub max_bytes: u64,
    /// The kinds allowed, by the bytes' signature (default: all the engine knows).
    pub kinds: Vec<FileKind>,
}

impl Default for ContentLimits {
    fn default() -> Self {
        ContentLimits {
            max_bytes: 100 << 20,
            kinds: FileKind::ALL.to_vec(),
        }
    }
}

/// An upload under way (see [`Engine::upload`]): chunks written to a spool file while their
/// digest is computed; [`Upload::finish`] checks and keeps the file. Dropped unfinished, it
/// leaves nothing behind.
pub struct Upload {
    storage: Arc<dyn Storage>,
    uploader: workflow_core::ActorId,
    limits: ContentLimits,
    name: String,
    spool: Option<(PathBuf, std::fs::File)>,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// What uploads may be (size, kinds), as configured.
    pub fn content_limits(&self) -> &ContentLimits {
        &self.inner.content_limits
    }

    /// Starts an upload by `by` (an actor: the one who may then name the file in a command)
    /// of a file named `name` (checked: 1–255 characters, no path separators or control
    /// characters).
    pub fn upload(&self, by: &Reader, name: &str) -> Result<Upload> {
        let Some(uploader) = by.actor().map(|a| a.id.clone()) else {
            return Err(Error::InvalidRequest {
                field: "actor_id",
                reason: "a file is uploaded by an actor, who may then name it in a command".into(),
            });
        };
        if let Some(problem) = name_problem(name) {
            return Err(Error::InvalidRequest {
                field: "name",
                reason: problem,
            });
        }
        let storage = self.inner.storage.clone();
        let (path, file) = spool_file(&*storage)?;
        Ok(Upload {
            storage,
            uploader,
            limits: self.inner.content_limits.clone(),
            name: name.to_owned(),
            spool: Some((path, file)),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::with_capacity(8),
        })
    }

    /// Up to `len` bytes from `offset` of the file `digest`, read through `document`, which
    /// names it now or named it in an earlier version (a replaced 正文): the document is read
    /// under the reader's rules (clearance — for an earlier version's file, at the highest 密级
    /// the document had; a classified read is recorded in the access log as `file`, naming
    /// the file and its digest), and the file is told by the name the document gives it. Answers the file as the document names it, its size, and the bytes.
    pub async fn read_file(
        &self,
        reader: &Reader,
        document: DocumentId,
        digest: &Digest,
        offset: u64,
        len: usize,
    ) -> Result<(String, u64, Vec<u8>)> {
        let name = self.file_name_for(reader, document, digest).await?;
        let storage = self.inner.storage.clone();
        let digest = digest.clone();
        tokio::task::spawn_blocking(move || {
            // Said as "names no file" too, so that a caller learns nothing of which bytes
            // this engine keeps.
            let Some(size) = storage.content_size(&digest)? else {
                return Err(Error::InvalidRequest {
                    field: "sha256",
                    reason: format!("document {document} names no file {digest} this engine keeps"),
                });
            };
            let bytes = if offset >= size {
                Vec::new()
            } else {
                storage.read_content(&digest, offset, len)?
            };
            Ok((name, size, bytes))
        })
        .await
        .map_err(|e| Error::Internal {
            reason: e.to_string(),
        })?
    }
}

impl Engine {
    /// Up to `len` bytes from `offset` of the kept file `digest`, without the reading rules:
    /// for the rest of a download [`Engine::read_file`] allowed (and recorded) a moment ago,
    /// so that a long file is one read in the access log, not one per chunk.
    pub async fn file_bytes(&self, digest: &Digest, offset: u64, len: usize) -> Result<Vec<u8>> {
        let storage = self.inner.storage.clone();
        let digest = digest.clone();
        tokio::task::spawn_blocking(move || storage.read_content(&digest, offset, len))
            .await
            .map_err(|e| Error::Internal {
                reason: e.to_string(),
            })?
    }
}

impl Engine {
    /// The kept files no event names, kept longer than `grace` ago: uploads nobody went on
    /// to name (a draft abandoned before it was saved, a client that crashed). A file whose
    /// digest appears anywhere in the log — in any event, of any flow, ever — is named, and
    /// never among them.
    pub fn unreferenced_files(
        &self,
        grace: std::time::Duration,
    ) -> Result<Vec<crate::storage::KeptContent>> {
        let storage = &*self.inner.storage;
        let cutoff = std::time::SystemTime::now()
            .checked_sub(grace)
            .unwrap_or(std::time::UNIX_EPOCH);
        let candidates: Vec<_> = storage
            .list_contents()?
            .into_iter()
            .filter(|k| k.kept_at.is_some_and(|t| t <= cutoff))
            .collect();
        if candidates.is_empty() {
            return Ok(candidates);
        }
        let mut named = std::collections::HashSet::new();
        let mut from = 1;
        loop {
            let batch = storage.read_log(from, 1000)?;
            let Some(last) = batch.last() else { break };
            from = last.position + 1;
            for e in &batch {
                named.extend(hex_tokens(&e.bytes));
            }
        }
        Ok(candidates
            .into_iter()
            .filter(|k| !named.contains(k.digest.as_str()))
            .collect())
    }

    /// Removes the kept files [`Engine::unreferenced_files`] finds with this `grace`; returns
    /// those removed. Run it with no other server writing to the store (an operator command
    /// holds a sled directory alone; on PostgreSQL, stop the servers), so that no event can
    /// name a file between the scan and its removal.
    pub fn remove_unreferenced_files(
        &self,
        grace: std::time::Duration,
    ) -> Result<Vec<crate::storage::KeptContent>> {
        let found = self.unreferenced_files(grace)?;
        for k in &found {
            self.inner.storage.remove_content(&k.digest)?;
        }
        Ok(found)
    }
}

/// Every run of exactly 64 hex digits in `bytes` (lower-cased): what could be a digest.
fn hex_tokens(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, b) in bytes.iter().chain(std::iter::once(&b' ')).enumerate() {
        match (b.is_ascii_hexdigit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s == 64 {
                    out.push(String::from_utf8_lossy(&bytes[s..i]).to_ascii_lowercase());
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

impl Upload {
    /// Writes the next chunk; refused once the file would pass the size limit.
    pub fn write(&mut self, chunk: &[u8]) -> Result<()> {
        let size = self.size + chunk.len() as u64;
        if size > self.limits.max_bytes {
            return Err(Error::InvalidRequest {
                field: "chunk",
                reason: format!(
                    "the file is larger than the limit of {} bytes",
                    self.limits.max_bytes
                ),
            });
        }
        let Some((_, file)) = self.spool.as_mut() else {
            return Err(Error::Internal {
                reason: "an upload written after it finished".into(),
            });
        };
        file.write_all(chunk)
            .map_err(|e| unavailable("the upload spool", e))?;
        self.hasher.update(chunk);
        let missing = 8usize.saturating_sub(self.head.len());
        self.head
            .extend_from_slice(&chunk[..missing.min(chunk.len())]);
        self.size = size;
        Ok(())
    }

    /// Checks the file — not empty, its digest the `expected` one if given, its kind by
    /// signature allowed — and keeps it durably; answers it as an event names it.
    pub fn finish(mut self, expected: Option<&Digest>) -> Result<FileRef> {
        let Some((path, file)) = self.spool.take() else {
            return Err(Error::Internal {
                reason: "an upload finished twice".into(),
            });
        };
        drop(file);
        // Whatever happens below (a refusal, an error, a panic in a parser of the bytes), the
        // spool file does not outlive this call unless it was kept.
        struct Remove<'a>(&'a std::path::Path);
        impl Drop for Remove<'_> {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(self.0);
            }
        }
        let _remove = Remove(&path);
        self.check_and_keep(&path, expected)
    }

    fn check_and_keep(
        &mut self,
        path: &std::path::Path,
        expected: Option<&Digest>,
    ) -> Result<FileRef> {
        if self.size == 0 {
            return Err(Error::InvalidRequest {
                field: "chunk",
                reason: "the file is empty".into(),
            });
        }
        let digest = Digest::from_sha256(std::mem::take(&mut self.hasher).finalize().into());
        if let Some(expected) = expected
            && *expected != digest
        {
            return Err(Error::InvalidRequest {
                field: "sha256",
                reason: format!(
                    "the bytes received have the digest {digest}, not {expected}: the upload \
                     was damaged or cut short"
                ),
            });
        }
        let kind = match signature(&self.head) {
            Signature::Kind(k) => k,
            Signature::Ole => ole_kind(&self.name),
            Signature::Zip => {
                let file = std::fs::File::open(path).map_err(|e| unavailable("the upload", e))?;
                match zip::ZipArchive::new(file) {
                    Ok(archive) => {
                        let names: Vec<String> = archive
                            .file_names()
                            .filter_map(|n| n.ok().map(|n| n.into_owned()))
                            .collect();
                        zip_kind(names.iter().map(String::as_str))
                    }
                    Err(e) => {
                        return Err(Error::InvalidRequest {
                            field: "chunk",
                            reason: format!("the file begins as a ZIP archive but is not one: {e}"),
                        });
                    }
                }
            }
            Signature::Unknown => {
                return Err(Error::InvalidRequest {
                    field: "chunk",
                    reason: format!(
                        "the bytes are none of the kinds kept ({}); the name {:?} does not decide",
                        self.allowed(),
                        self.name
                    ),
                });
            }
        };
        if !self.limits.kinds.contains(&kind) {
            return Err(Error::InvalidRequest {
                field: "chunk",
                reason: format!(
                    "the file is {} ({}), which is not allowed here ({})",
                    kind.name(),
                    kind.media_type(),
                    self.allowed()
                ),
            });
        }
        self.storage
            .keep_content(&digest, path, self.size, Some(&self.uploader))?;
        Ok(FileRef {
            name: self.name.clone(),
            digest,
            size: self.size,
            media_type: kind.media_type().to_owned(),
            pages: None,
        })
    }

    fn allowed(&self) -> String {
        self.limits
            .kinds
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let Some((path, file)) = self.spool.take() {
            drop(file);
            let _ = std::fs::remove_file(path);
        }
    }
}
