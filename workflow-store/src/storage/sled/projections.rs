//! Reading projections: [`Projections`].

use super::*;
use crate::storage::keys::series_number;

impl Projections for SledStorage {
    fn doc(&self, id: DocumentId) -> Result<Option<DocRecord>> {
        #[cfg(any(test, feature = "fault-injection"))]
        self.faults.read()?;
        match self.docs.get(id.0.as_bytes()).db()? {
            Some(v) => Ok(Some(self.record(id, &v)?)),
            None => Ok(None),
        }
    }

    fn docs_after(&self, after: Option<DocumentId>, limit: usize) -> Result<Vec<DocRecord>> {
        let iter = match after {
            Some(id) => {
                let mut start = id.0.as_bytes().to_vec();
                start.push(0);
                self.docs.range(start..)
            }
            None => self.docs.range::<&[u8], _>(..),
        };
        let mut out = Vec::new();
        for kv in iter.take(limit) {
            let (k, v) = kv.db()?;
            let id = uuid::Uuid::from_slice(&k)
                .map(DocumentId)
                .map_err(|e| Error::corrupt("a document record's key", e))?;
            out.push(self.record(id, &v)?);
        }
        Ok(out)
    }

    fn command(&self, command_id: &str) -> Result<Option<CommandRecord>> {
        #[cfg(any(test, feature = "fault-injection"))]
        self.faults.read()?;
        match self.commands.get(command_id.as_bytes()).db()? {
            Some(v) => Ok(Some(parse(format_args!("command {command_id}"), &v)?)),
            None => Ok(None),
        }
    }

    fn commands_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, CommandRecord)>> {
        let iter = match after {
            Some(id) => {
                let mut start = id.as_bytes().to_vec();
                start.push(0);
                self.commands.range(start..)
            }
            None => self.commands.range::<&[u8], _>(..),
        };
        let mut out = Vec::new();
        for kv in iter.take(limit) {
            let (k, v) = kv.db()?;
            let id = String::from_utf8_lossy(&k).into_owned();
            let rec = parse(format_args!("command {id}"), &v)?;
            out.push((id, rec));
        }
        Ok(out)
    }

    fn max_number(&self, series: &Series) -> Result<u32> {
        let prefix = series_prefix(series);
        match self.numbers.scan_prefix(&prefix).next_back() {
            Some(kv) => {
                let (k, _) = kv.db()?;
                series_number(&prefix, &k)
                    .ok_or_else(|| Error::corrupt("numbers index", "malformed key"))
            }
            None => Ok(0),
        }
    }

    fn scan_list(&self, dim: &Dim, after: Option<Cursor>, limit: usize) -> Result<Vec<Cursor>> {
        self.scan(&self.lists, &dim_prefix(dim), after, limit)
    }

    fn scan_list_newest(
        &self,
        dim: &Dim,
        before: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Cursor>> {
        let (prefix, end) = crate::storage::keys::newest_range(dim, before);
        let mut out = Vec::new();
        for kv in self.lists.range(prefix.clone()..end).rev().take(limit) {
            let (k, _) = kv.db()?;
            out.push(cursor_from_suffix(&k[prefix.len()..]).ok_or_else(|| {
                Error::corrupt(format_args!("list {dim:?}"), format!("malformed key {k:?}"))
            })?);
        }
        Ok(out)
    }

    fn scan_todo(
        &self,
        assignee: &Assignee,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Cursor>> {
        self.scan(
            &self.inbox,
            &crate::storage::keys::assignee_prefix(assignee),
            after,
            limit,
        )
    }

    fn due_before(&self, until: Timestamp) -> Result<Vec<DocumentId>> {
        let mut end = DUE_PREFIX.to_vec();
        end.extend_from_slice(&sortable_instant(until));
        let mut out = Vec::new();
        for kv in self.lists.range(DUE_PREFIX.to_vec()..end) {
            let (k, _) = kv.db()?;
            let id = k
                .len()
                .checked_sub(16)
                .and_then(|at| uuid::Uuid::from_slice(&k[at..]).ok())
                .ok_or_else(|| Error::corrupt("deadline index", "malformed key"))?;
            out.push(DocumentId(id));
        }
        Ok(out)
    }

    fn count_lists(&self) -> Result<BTreeMap<Dim, u64>> {
        let mut counts = BTreeMap::new();
        for k in self.lists.iter().keys() {
            let k = k.db()?;
            let end = k.iter().position(|b| *b == 0).unwrap_or(k.len());
            if let Some(dim) = dim_from_prefix(&k[..end]) {
                *counts.entry(dim).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    fn dump_projections(&self) -> Result<Vec<ProjectionEntry>> {
        let mut out = Vec::new();
        for name in PROJECTIONS {
            for kv in self.projection_tree(name)?.iter() {
                let (k, v) = kv.db()?;
                out.push((name.to_owned(), k.to_vec(), v.to_vec()));
            }
        }
        Ok(out)
    }
}
