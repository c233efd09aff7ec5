//! The access log: [`AccessLog`].

use super::*;

impl AccessLog for SledStorage {
    fn access_recorded_head(&self) -> Result<Option<LogHead>> {
        let Some(v) = self.meta.get(ACCESS_HEAD).db()? else {
            return Ok(None);
        };
        if v.len() < 8 {
            return Err(Error::corrupt("access-log head", "shorter than 8 bytes"));
        }
        let position = u64_of("access-log head", &v[..8])?;
        let hash = std::str::from_utf8(&v[8..])
            .map_err(|_| Error::corrupt("access-log head", "hash is not UTF-8"))?;
        Ok(Some(LogHead {
            position,
            hash: hash.to_owned(),
        }))
    }

    fn append_access(&self, entries: &[StoredEvent], head: &LogHead) -> Result<()> {
        let next = self
            .access
            .last()
            .db()?
            .map_or(Ok(1), |(k, _)| u64_of("access key", &k).map(|p| p + 1))?;
        let mut batch = sled::Batch::default();
        for (i, e) in entries.iter().enumerate() {
            if e.position != next + i as u64 {
                return Err(Error::Internal {
                    reason: format!(
                        "access-log entry at position {} does not follow the access log's end {}",
                        e.position,
                        next - 1
                    ),
                });
            }
            batch.insert(&e.position.to_be_bytes(), e.bytes.as_slice());
        }
        let head = head_value(head.position, &head.hash);
        (&self.access, &self.meta)
            .transaction(|(access, meta)| {
                access.apply_batch(&batch)?;
                meta.insert(ACCESS_HEAD, head.as_slice())?;
                Ok::<(), ConflictableTransactionError<Error>>(())
            })
            .map_err(from_sled_tx)?;
        self.flush_durably()
    }

    fn read_access(&self, from: u64, limit: usize) -> Result<Vec<StoredEvent>> {
        let mut out = Vec::new();
        for kv in self.access.range(from.to_be_bytes()..).take(limit) {
            let (k, v) = kv.db()?;
            out.push(StoredEvent {
                position: u64_of("access key", &k)?,
                bytes: v.to_vec(),
            });
        }
        Ok(out)
    }

    fn access_end(&self) -> Result<Option<StoredEvent>> {
        match self.access.last().db()? {
            Some((k, v)) => Ok(Some(StoredEvent {
                position: u64_of("access key", &k)?,
                bytes: v.to_vec(),
            })),
            None => Ok(None),
        }
    }
}
