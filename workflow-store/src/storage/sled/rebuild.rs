//! Making projections again: [`Rebuild`].

use super::*;

impl Rebuild for SledStorage {
    fn begin_rebuild(&self, mode: RebuildMode) -> Result<()> {
        // Marked first, so that an interrupted rebuild is finished when the store next
        // opens instead of leaving half-written projections to be served.
        self.set_meta(REBUILDING, Some(&[]))?;
        if mode == RebuildMode::FromScratch {
            for name in PROJECTIONS {
                self.projection_tree(name)?.clear().db()?;
            }
        }
        if let Ok(mut r) = self.rebuild.lock() {
            *r = Some(Produced::default());
        }
        Ok(())
    }

    fn converge(&self, group: Group) -> Result<u64> {
        debug_assert!(group.envelopes.is_empty(), "a rebuild never writes the log");
        let mut changed = 0u64;
        // Reading is far cheaper than writing in sled (a write copies the node): on intact
        // projections a rebuild writes nothing. Keys in order, so sled mostly revisits the
        // leaf it just touched.
        let put = |name: &str, tree: &sled::Tree, key: &[u8], value: &[u8], changed: &mut u64| {
            self.produced(name, key);
            if tree.get(key).db()?.as_deref() != Some(value) {
                tree.insert(key, value).db()?;
                *changed += 1;
            }
            Ok::<(), Error>(())
        };
        let mut commands: Vec<(String, Vec<u8>)> = group
            .commands
            .iter()
            .map(|(id, rec)| (id.clone(), json(rec)))
            .collect();
        commands.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (id, value) in commands {
            put(
                "commands",
                &self.commands,
                id.as_bytes(),
                &value,
                &mut changed,
            )?;
        }
        let mut remove: [Vec<Vec<u8>>; 2] = Default::default();
        let mut add: [Vec<Vec<u8>>; 2] = Default::default();
        let slot = |t: IndexTree| usize::from(t == IndexTree::Inbox);
        let mut docs = Vec::with_capacity(group.docs.len());
        let mut parts = Vec::new();
        for change in group.docs {
            let order = change.record.order();
            for entry in &change.diff.remove {
                let (t, k) = index_key(entry, order);
                remove[slot(t)].push(k);
            }
            for entry in &change.diff.add {
                let (t, k) = index_key(entry, order);
                add[slot(t)].push(k);
            }
            let (record, new_parts) = record_entries(&change)?;
            docs.push((change.record.id(), record));
            parts.extend(new_parts);
        }
        // Parts first: a reader during a rebuild in place never finds a record whose parts
        // are not stored yet (a content revision it does not have is read again).
        parts.sort_unstable();
        for (key, value) in parts {
            put("parts", &self.parts, &key, &value, &mut changed)?;
        }
        docs.sort_unstable_by_key(|(id, _)| *id);
        for (id, value) in docs {
            put("docs", &self.docs, id.0.as_bytes(), &value, &mut changed)?;
        }
        for (t, name) in [(IndexTree::Lists, "lists"), (IndexTree::Inbox, "inbox")] {
            let tree = self.tree(t);
            let (mut remove, mut add) = (
                std::mem::take(&mut remove[slot(t)]),
                std::mem::take(&mut add[slot(t)]),
            );
            remove.sort_unstable();
            add.sort_unstable();
            for k in remove {
                if tree.remove(k).db()?.is_some() {
                    changed += 1;
                }
            }
            for k in add {
                put(name, tree, &k, &[], &mut changed)?;
            }
        }
        for (series, n, id) in group.numbers {
            put(
                "numbers",
                &self.numbers,
                &series_key(&series, n),
                id.0.as_bytes(),
                &mut changed,
            )?;
        }
        Ok(changed)
    }

    fn end_rebuild(&self, layout: u32) -> Result<u64> {
        let produced = Produced::take(&self.rebuild)?;
        let mut removed = 0u64;
        for name in PROJECTIONS {
            let t = self.projection_tree(name)?;
            for k in t.iter().keys() {
                let k = k.db()?;
                if !produced.contains(name, &k) {
                    t.remove(k).db()?;
                    removed += 1;
                }
            }
        }
        self.flush_durably()?;
        self.set_projection_version(layout)?;
        self.set_meta(REBUILDING, None)?;
        Ok(removed)
    }

    fn rebuilding(&self) -> Result<bool> {
        self.meta.contains_key(REBUILDING).db()
    }

    fn projection_version(&self) -> Result<u32> {
        match self.meta.get(PROJECTION_LAYOUT).db()? {
            Some(v) => {
                let bytes: [u8; 4] = v
                    .as_ref()
                    .try_into()
                    .map_err(|_| Error::corrupt("projection layout version", "expected 4 bytes"))?;
                Ok(u32::from_be_bytes(bytes))
            }
            None => Ok(0),
        }
    }

    fn set_projection_version(&self, version: u32) -> Result<()> {
        self.set_meta(PROJECTION_LAYOUT, Some(&version.to_be_bytes()))
    }
}
