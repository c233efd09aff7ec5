//! Files by digest in the database (DESIGN §10), so that several servers share them: a row
//! per file in `wf_contents` and its bytes in 1 MiB rows of `wf_content_chunks`, written in
//! one transaction committed with `synchronous_commit = on` before any event names it.

use std::io::Read;
use std::path::{Path, PathBuf};

use workflow_core::ActorId;
use workflow_core::content::{Digest, KeptFile};

use super::*;
use crate::storage::{Contents, KeptContent};

/// The size of a stored chunk.
const CHUNK: usize = 1 << 20;

impl Contents for PostgresStorage {
    fn keep_content(
        &self,
        digest: &Digest,
        spooled: &Path,
        size: u64,
        uploader: Option<&ActorId>,
    ) -> Result<()> {
        let what = format!("keeping file {digest}");
        let unavailable = |e: std::io::Error| Error::Unavailable {
            reason: format!("{what}: {e}"),
        };
        let found = std::fs::metadata(spooled).map_err(unavailable)?.len();
        if found != size {
            return Err(Error::Internal {
                reason: format!("{what}: the spool holds {found} bytes, not {size}"),
            });
        }
        let file = std::fs::File::open(spooled).map_err(unavailable)?;
        let digest = digest.as_str().to_owned();
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        let uploader = uploader.map(|a| a.0.clone());
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(from_pool)?;
            let tx = c.transaction().await.db()?;
            tx.batch_execute("SET LOCAL synchronous_commit TO on")
                .await
                .db()?;
            // Another server keeping the same bytes at once: one of the two inserts the row.
            let inserted = tx
                .execute(
                    "INSERT INTO wf_contents (digest, size) VALUES ($1, $2) \
                     ON CONFLICT (digest) DO NOTHING",
                    &[&digest, &size],
                )
                .await
                .db()?;
            if inserted == 0 {
                // Uploaded again: kept from now, for the clean-up's grace period.
                tx.execute(
                    "UPDATE wf_contents SET kept_at = now() WHERE digest = $1",
                    &[&digest],
                )
                .await
                .db()?;
            }
            if inserted == 1 {
                // A chunk at a time, so that a large file never sits in memory whole (the
                // read of 1 MiB from the local spool is short next to its insert).
                let mut file = file;
                for n in 0i32.. {
                    let mut chunk = Vec::with_capacity(CHUNK);
                    (&mut file)
                        .take(CHUNK as u64)
                        .read_to_end(&mut chunk)
                        .map_err(|e| Error::Unavailable {
                            reason: format!("keeping file {digest}: {e}"),
                        })?;
                    if chunk.is_empty() {
                        break;
                    }
                    tx.execute(
                        "INSERT INTO wf_content_chunks (digest, n, bytes) VALUES ($1, $2, $3)",
                        &[&digest, &n, &chunk],
                    )
                    .await
                    .db()?;
                }
            }
            if let Some(actor) = &uploader {
                tx.execute(
                    "INSERT INTO wf_content_uploads (digest, actor) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                    &[&digest, actor],
                )
                .await
                .db()?;
            }
            tx.commit().await.db()
        })?;
        let _ = std::fs::remove_file(spooled);
        Ok(())
    }

    fn uploaded_file(&self, digest: &Digest, actor: &ActorId) -> Result<Option<KeptFile>> {
        let digest = digest.as_str().to_owned();
        let actor = actor.0.clone();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(from_pool)?;
            // One round trip: who uploaded it, its size, and its first bytes.
            let row = c
                .query_opt(
                    "SELECT f.size, substring(k.bytes from 1 for 8) \
                     FROM wf_content_uploads u \
                     JOIN wf_contents f ON f.digest = u.digest \
                     LEFT JOIN wf_content_chunks k ON k.digest = u.digest AND k.n = 0 \
                     WHERE u.digest = $1 AND u.actor = $2",
                    &[&digest, &actor],
                )
                .await
                .db()?;
            Ok(row.map(|r| KeptFile {
                size: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
                head: r.get::<_, Option<Vec<u8>>>(1).unwrap_or_default(),
            }))
        })
    }

    fn content_size(&self, digest: &Digest) -> Result<Option<u64>> {
        let digest = digest.as_str().to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(from_pool)?;
            let row = c
                .query_opt("SELECT size FROM wf_contents WHERE digest = $1", &[&digest])
                .await
                .db()?;
            Ok(row.map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0)))
        })
    }

    fn read_content(&self, digest: &Digest, offset: u64, len: usize) -> Result<Vec<u8>> {
        let Some(size) = self.content_size(digest)? else {
            return Err(Error::corrupt(
                format!("reading file {digest}"),
                "it is not kept",
            ));
        };
        let end = offset.saturating_add(len as u64).min(size);
        if offset >= end {
            return Ok(Vec::new());
        }
        let first = i32::try_from(offset / CHUNK as u64).unwrap_or(i32::MAX);
        let last = i32::try_from((end - 1) / CHUNK as u64).unwrap_or(i32::MAX);
        let key = digest.as_str().to_owned();
        let chunks: Vec<(i32, Vec<u8>)> = self.run(move |pool| async move {
            let c = pool.get().await.map_err(from_pool)?;
            let rows = c
                .query(
                    "SELECT n, bytes FROM wf_content_chunks WHERE digest = $1 AND n BETWEEN $2 AND $3 \
                     ORDER BY n",
                    &[&key, &first, &last],
                )
                .await
                .db()?;
            Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
        })?;
        let mut out = Vec::with_capacity((end - offset) as usize);
        for (n, bytes) in chunks {
            let start = u64::try_from(n).unwrap_or(0) * CHUNK as u64;
            let from = offset.saturating_sub(start) as usize;
            let to = ((end - start) as usize).min(bytes.len());
            if from < to {
                out.extend_from_slice(&bytes[from..to]);
            }
        }
        if out.len() as u64 != end - offset {
            return Err(Error::corrupt(
                format!("reading file {digest}"),
                "its stored chunks are incomplete",
            ));
        }
        Ok(out)
    }

    fn list_contents(&self) -> Result<Vec<KeptContent>> {
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(from_pool)?;
            let rows = c
                .query(
                    "SELECT digest, size, kept_at FROM wf_contents ORDER BY digest",
                    &[],
                )
                .await
                .db()?;
            Ok(rows
                .into_iter()
                .filter_map(|r| {
                    Some(KeptContent {
                        digest: Digest::parse(r.get(0))?,
                        size: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
                        kept_at: Some(r.get(2)),
                    })
                })
                .collect())
        })
    }

    fn remove_content(&self, digest: &Digest) -> Result<()> {
        let digest = digest.as_str().to_owned();
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(from_pool)?;
            let tx = c.transaction().await.db()?;
            tx.execute(
                "DELETE FROM wf_content_uploads WHERE digest = $1",
                &[&digest],
            )
            .await
            .db()?;
            tx.execute(
                "DELETE FROM wf_content_chunks WHERE digest = $1",
                &[&digest],
            )
            .await
            .db()?;
            tx.execute("DELETE FROM wf_contents WHERE digest = $1", &[&digest])
                .await
                .db()?;
            tx.commit().await.db()
        })
    }

    fn spool_dir(&self) -> PathBuf {
        self.spool.clone()
    }
}
