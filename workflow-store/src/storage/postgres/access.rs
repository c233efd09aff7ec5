//! The access log: [`AccessLog`].

use super::sql::*;
use super::*;

impl AccessLog for PostgresStorage {
    fn append_access(&self, entries: &[StoredEvent], head: &LogHead) -> Result<()> {
        let positions: Vec<i64> = entries.iter().map(|e| pos(e.position)).collect();
        let bytes: Vec<Vec<u8>> = entries.iter().map(|e| e.bytes.clone()).collect();
        let head = head_value(head.position, &head.hash);
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(from_pool)?;
            let tx = c.transaction().await.db()?;
            // A read of classified content is recorded durably before it is handed out.
            tx.batch_execute("SET LOCAL synchronous_commit TO on")
                .await
                .db()?;
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[&(MIGRATION_LOCK + 1)],
            )
            .await
            .db()?;
            let end: Option<i64> = tx
                .query_one("SELECT max(position) FROM wf_access", &[])
                .await
                .db()?
                .get(0);
            let next = end.unwrap_or(0) + 1;
            for (i, p) in positions.iter().enumerate() {
                if *p != next + i as i64 {
                    // Another process appended first: the caller chains again from the end.
                    return Err(Error::WriteConflict {
                        reason: format!(
                            "access-log entry at position {p} does not follow the access log's end {}",
                            next - 1
                        ),
                    });
                }
            }
            tx.execute(
                "INSERT INTO wf_access (position, bytes) \
                 SELECT * FROM UNNEST($1::bigint[], $2::bytea[])",
                &[&positions, &bytes],
            )
            .await
            .db()?;
            tx.execute(
                "INSERT INTO wf_meta (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&ACCESS_HEAD, &head],
            )
            .await
            .db()?;
            tx.commit().await.db()
        })
    }

    fn access_recorded_head(&self) -> Result<Option<LogHead>> {
        let Some(v) = self.get_meta(ACCESS_HEAD)? else {
            return Ok(None);
        };
        if v.len() < 8 {
            return Err(Error::corrupt("access-log head", "shorter than 8 bytes"));
        }
        let mut p = [0u8; 8];
        p.copy_from_slice(&v[..8]);
        let hash = std::str::from_utf8(&v[8..])
            .map_err(|_| Error::corrupt("access-log head", "hash is not UTF-8"))?;
        Ok(Some(LogHead {
            position: u64::from_be_bytes(p),
            hash: hash.to_owned(),
        }))
    }

    fn read_access(&self, from: u64, limit: usize) -> Result<Vec<StoredEvent>> {
        self.stored(
            "SELECT position, bytes FROM wf_access WHERE position >= $1 \
             ORDER BY position LIMIT $2",
            vec![param(pos(from)), param(self::limit(limit))],
        )
    }

    fn access_end(&self) -> Result<Option<StoredEvent>> {
        Ok(self
            .stored(
                "SELECT position, bytes FROM wf_access ORDER BY position DESC LIMIT 1",
                vec![],
            )?
            .pop())
    }
}
