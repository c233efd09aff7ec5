//! Making projections again: [`Rebuild`].

use super::rows::*;
use super::*;

impl Rebuild for PostgresStorage {
    fn begin_rebuild(&self, mode: RebuildMode) -> Result<()> {
        // Marked first, so that an interrupted rebuild is finished when the store next
        // opens instead of leaving half-written projections to be served.
        self.set_meta(REBUILDING, Some(Vec::new()))?;
        if mode == RebuildMode::FromScratch {
            self.execute(
                "TRUNCATE wf_commands, wf_docs, wf_lists, wf_inbox, wf_numbers",
                vec![],
            )?;
        }
        if let Ok(mut r) = self.rebuild.lock() {
            *r = Some(Produced::default());
        }
        Ok(())
    }

    fn converge(&self, group: Group) -> Result<u64> {
        debug_assert!(group.envelopes.is_empty(), "a rebuild never writes the log");
        let rows = Rows::of(&group);
        let (removals, index) = IndexWrites::apart(&group);
        if let Ok(mut r) = self.rebuild.lock()
            && let Some(p) = r.as_mut()
        {
            for id in &rows.command_ids {
                p.add("commands", id.as_bytes());
            }
            for id in &rows.doc_ids {
                p.add("docs", id.as_bytes());
            }
            for k in index.lists.keys() {
                p.add("lists", k);
            }
            for k in index.inbox.keys() {
                p.add("inbox", k);
            }
            for k in &rows.number_keys {
                p.add("numbers", k);
            }
        }
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(from_pool)?;
            let tx = c.transaction().await.db()?;
            let mut changed = upsert_rows(&tx, &rows, true).await.db()?;
            for (table, remove, add) in [
                ("wf_lists", removals.lists, index.lists),
                ("wf_inbox", removals.inbox, index.inbox),
            ] {
                let remove: Vec<Vec<u8>> = remove.into_keys().collect();
                let add: Vec<Vec<u8>> = add.into_keys().collect();
                changed += index_writes(&tx, table, &remove, &add).await.db()?;
            }
            tx.commit().await.db()?;
            Ok(changed)
        })
    }

    fn end_rebuild(&self, layout: u32) -> Result<u64> {
        let produced = Produced::take(&self.rebuild)?;
        let mut removed = 0u64;
        for part in PROJECTIONS {
            let stale: Vec<Vec<u8>> = self
                .dump_part(part)?
                .into_iter()
                .filter(|(k, _)| !produced.contains(part, k))
                .map(|(k, _)| k)
                .collect();
            removed += self.delete_keys(part, stale)?;
        }
        self.set_projection_version(layout)?;
        self.set_meta(REBUILDING, None)?;
        Ok(removed)
    }

    fn rebuilding(&self) -> Result<bool> {
        Ok(self.get_meta(REBUILDING)?.is_some())
    }

    fn projection_version(&self) -> Result<u32> {
        match self.get_meta(PROJECTION_LAYOUT)? {
            Some(v) => {
                let bytes: [u8; 4] = v
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::corrupt("projection layout version", "expected 4 bytes"))?;
                Ok(u32::from_be_bytes(bytes))
            }
            None => Ok(0),
        }
    }

    fn set_projection_version(&self, version: u32) -> Result<()> {
        self.set_meta(PROJECTION_LAYOUT, Some(version.to_be_bytes().to_vec()))
    }
}
