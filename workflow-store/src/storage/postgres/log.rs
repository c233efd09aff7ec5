//! The event log: [`EventLog`].

use super::sql::*;
use super::*;

impl EventLog for PostgresStorage {
    fn log_end(&self) -> Result<Option<LogHead>> {
        match self
            .stored(
                "SELECT position, bytes FROM wf_log ORDER BY position DESC LIMIT 1",
                vec![],
            )?
            .pop()
        {
            Some(e) => Ok(Some(LogHead {
                position: e.position,
                hash: crate::envelope::stored_hash(e.position, &e.bytes)?,
            })),
            None => Ok(None),
        }
    }

    fn recorded_head(&self) -> Result<Option<LogHead>> {
        let row = self.query_opt("SELECT position, hash FROM wf_head WHERE id = 1", vec![])?;
        Ok(row.and_then(|r| {
            let (p, hash): (Option<i64>, Option<String>) = (r.get(0), r.get(1));
            Some(LogHead {
                position: unpos(p?),
                hash: hash?,
            })
        }))
    }

    fn read_log(&self, from: u64, limit: usize) -> Result<Vec<StoredEvent>> {
        self.stored(
            "SELECT position, bytes FROM wf_log WHERE position >= $1 ORDER BY position LIMIT $2",
            vec![param(pos(from)), param(self::limit(limit))],
        )
    }

    fn read_stream(&self, id: DocumentId, max_version: u64) -> Result<Vec<StoredEvent>> {
        self.stored(
            "SELECT position, bytes FROM wf_log WHERE stream_id = $1 AND version <= $2 \
             ORDER BY version",
            vec![param(id.0), param(pos(max_version))],
        )
    }

    fn stream_index_after(
        &self,
        after: Option<(DocumentId, u64)>,
        limit: usize,
    ) -> Result<Vec<(DocumentId, u64, u64)>> {
        let (id, version) = after.map_or((Uuid::nil(), -1), |(id, v)| (id.0, pos(v)));
        Ok(self
            .query(
                "SELECT stream_id, version, position FROM wf_log \
                 WHERE (stream_id, version) > ($1, $2) ORDER BY stream_id, version LIMIT $3",
                vec![param(id), param(version), param(self::limit(limit))],
            )?
            .into_iter()
            .map(|r| (DocumentId(r.get(0)), unpos(r.get(1)), unpos(r.get(2))))
            .collect())
    }

    fn flush(&self) -> Result<()> {
        // Every write was committed with synchronous_commit on, or (relaxed) is flushed by
        // the server's WAL writer within its delay; nothing is buffered here.
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        let r = self.query_opt("SELECT pg_database_size(current_database())", vec![])?;
        Ok(r.map_or(0, |r| unpos(r.get(0))))
    }
}
