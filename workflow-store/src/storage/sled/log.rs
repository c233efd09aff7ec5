//! The event log: [`EventLog`].

use super::*;

impl EventLog for SledStorage {
    fn log_end(&self) -> Result<Option<LogHead>> {
        match self.log.last().db()? {
            Some((k, v)) => {
                let position = u64_of("log key", &k)?;
                let hash = crate::envelope::stored_hash(position, &v)?;
                Ok(Some(LogHead { position, hash }))
            }
            None => Ok(None),
        }
    }

    fn recorded_head(&self) -> Result<Option<LogHead>> {
        let Some(v) = self.meta.get(HEAD).db()? else {
            return Ok(None);
        };
        if v.len() < 8 {
            return Err(Error::corrupt("recorded head", "shorter than 8 bytes"));
        }
        let position = u64_of("recorded head", &v[..8])?;
        let hash = std::str::from_utf8(&v[8..])
            .map_err(|_| Error::corrupt("recorded head", "hash is not UTF-8"))?;
        Ok(Some(LogHead {
            position,
            hash: hash.to_owned(),
        }))
    }

    fn read_log(&self, from: u64, limit: usize) -> Result<Vec<StoredEvent>> {
        let mut out = Vec::new();
        for kv in self.log.range(from.to_be_bytes()..).take(limit) {
            let (k, v) = kv.db()?;
            out.push(StoredEvent {
                position: u64_of("log key", &k)?,
                bytes: v.to_vec(),
            });
        }
        Ok(out)
    }

    fn read_stream(&self, id: DocumentId, max_version: u64) -> Result<Vec<StoredEvent>> {
        self.stream_events(id, max_version)
    }

    fn stream_index_after(
        &self,
        after: Option<(DocumentId, u64)>,
        limit: usize,
    ) -> Result<Vec<(DocumentId, u64, u64)>> {
        let iter = match after {
            Some((id, version)) => {
                let mut start = stream_key(id, version).to_vec();
                start.push(0);
                self.streams.range(start..)
            }
            None => self.streams.range::<&[u8], _>(..),
        };
        let mut out = Vec::new();
        for kv in iter.take(limit) {
            let (k, v) = kv.db()?;
            if k.len() != 24 {
                return Err(Error::corrupt("stream index", "malformed key"));
            }
            let id = uuid::Uuid::from_slice(&k[..16])
                .map_err(|_| Error::corrupt("stream index", "malformed key"))?;
            let version = u64_of("stream index key", &k[16..])?;
            out.push((DocumentId(id), version, u64_of("stream index", &v)?));
        }
        Ok(out)
    }

    fn flush(&self) -> Result<()> {
        self.flush_durably()
    }

    fn size_on_disk(&self) -> Result<u64> {
        self.db.size_on_disk().db()
    }
}
