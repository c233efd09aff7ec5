//! Writing a group: [`Storage`] and, where the backend splits it, [`SplitCommit`].

use super::*;

impl Storage for SledStorage {
    fn legacy_directory(&self) -> Option<&dyn LegacyDirectory> {
        Some(self)
    }

    fn commit(&self, group: &Group) -> std::result::Result<(), CommitError> {
        self.write_group(group)?;
        self.sync_written(group.sync_always)
    }

    fn split_commit(&self) -> Option<&dyn SplitCommit> {
        Some(self)
    }
}

impl SplitCommit for SledStorage {
    fn write_group(&self, group: &Group) -> std::result::Result<(), CommitError> {
        #[cfg(any(test, feature = "fault-injection"))]
        {
            self.faults.wait_if_held();
            if let Some(e) = self.faults.commit() {
                return Err(CommitError::NotWritten(e));
            }
        }
        let preparing = std::time::Instant::now();
        let mut log = sled::Batch::default();
        let mut streams = sled::Batch::default();
        for e in &group.envelopes {
            log.insert(&e.position.to_be_bytes(), e.bytes.as_slice());
            streams.insert(
                &stream_key(e.stream_id, e.version),
                &e.position.to_be_bytes(),
            );
        }
        let head = group
            .envelopes
            .last()
            .map(|e| head_value(e.position, &e.hash));
        let mut commands = sled::Batch::default();
        for (id, rec) in &group.commands {
            commands.insert(id.as_bytes(), json(rec));
        }
        let (mut docs, mut parts, mut lists, mut inbox) = (
            sled::Batch::default(),
            sled::Batch::default(),
            sled::Batch::default(),
            sled::Batch::default(),
        );
        for change in &group.docs {
            let order = change.record.order();
            for entry in &change.diff.remove {
                let (tree, key) = index_key(entry, order);
                match tree {
                    IndexTree::Lists => lists.remove(key),
                    IndexTree::Inbox => inbox.remove(key),
                }
            }
            for entry in &change.diff.add {
                let (tree, key) = index_key(entry, order);
                match tree {
                    IndexTree::Lists => lists.insert(key, &[] as &[u8]),
                    IndexTree::Inbox => inbox.insert(key, &[] as &[u8]),
                }
            }
            let (record, new_parts) = record_entries(change).map_err(CommitError::NotWritten)?;
            docs.insert(change.record.id().0.as_bytes(), record);
            for (k, v) in new_parts {
                parts.insert(k, v);
            }
        }
        // What the group expects of the store: the log ends right before its first event,
        // and each stream right before the group's first event of it.
        let first_position = group.envelopes.first().map(|e| e.position);
        let mut stream_starts: Vec<(DocumentId, u64)> = Vec::new();
        for e in &group.envelopes {
            if !stream_starts.iter().any(|(id, _)| *id == e.stream_id) {
                stream_starts.push((e.stream_id, e.version));
            }
        }
        let mut numbers = sled::Batch::default();
        let number_keys: Vec<(Vec<u8>, DocumentId)> = group
            .numbers
            .iter()
            .map(|(s, n, id)| (series_key(s, *n), *id))
            .collect();
        for (k, id) in &number_keys {
            numbers.insert(k.as_slice(), id.0.as_bytes());
        }
        crate::telemetry::spent(crate::telemetry::Phase::Prepare, preparing.elapsed());
        let writing = std::time::Instant::now();
        (
            &self.log,
            &self.streams,
            &self.commands,
            &self.docs,
            &self.parts,
            &self.lists,
            &self.inbox,
            &self.numbers,
            &self.meta,
        )
            .transaction(
                |(tlog, tstreams, tcommands, tdocs, tparts, tlists, tinbox, tnumbers, tmeta)| {
                    let conflict = |reason: String| ConflictableTransactionError::Abort(reason);
                    if let Some(first) = first_position {
                        if tlog.get(first.to_be_bytes())?.is_some() {
                            return Err(conflict(format!("log position {first} is taken")));
                        }
                        if first > 1 && tlog.get((first - 1).to_be_bytes())?.is_none() {
                            return Err(conflict(format!(
                                "log position {first} would leave a gap: {} is not stored",
                                first - 1
                            )));
                        }
                    }
                    for (id, version) in &stream_starts {
                        if tstreams.get(stream_key(*id, *version))?.is_some() {
                            return Err(conflict(format!(
                                "document {id} already has version {version}"
                            )));
                        }
                        if *version > 1 && tstreams.get(stream_key(*id, version - 1))?.is_none() {
                            return Err(conflict(format!(
                                "document {id} has no version {} to follow",
                                version - 1
                            )));
                        }
                    }
                    for id in &group.unread_commands {
                        if tcommands.get(id.as_bytes())?.is_some() {
                            return Err(conflict(format!("command id {id:?} is recorded already")));
                        }
                    }
                    // Numbers are unique: a number already held by another stream aborts all.
                    for (k, id) in &number_keys {
                        if let Some(held) = tnumbers.get(k)?
                            && held.as_ref() != id.0.as_bytes()
                        {
                            return Err(conflict(format!(
                                "number already held by another document (key {})",
                                hex::encode(k)
                            )));
                        }
                    }
                    tlog.apply_batch(&log)?;
                    tstreams.apply_batch(&streams)?;
                    tcommands.apply_batch(&commands)?;
                    tdocs.apply_batch(&docs)?;
                    tparts.apply_batch(&parts)?;
                    tlists.apply_batch(&lists)?;
                    tinbox.apply_batch(&inbox)?;
                    tnumbers.apply_batch(&numbers)?;
                    // The head travels with the events it names, so a log cut short is
                    // detectable: the recorded head then points past its end.
                    if let Some(head) = &head {
                        tmeta.insert(HEAD, head.as_slice())?;
                    }
                    Ok(())
                },
            )
            .map_err(|e| match e {
                TransactionError::Abort(reason) => CommitError::Conflict(reason),
                // sled may have applied the transaction to its trees in memory before the
                // error (a full disk fails the log write afterwards): the group may be
                // readable here and yet not on disk. Never "nothing was written".
                TransactionError::Storage(e) => storage_failure(from_sled(e)),
            })?;
        #[cfg(any(test, feature = "fault-injection"))]
        if let Some(e) = self.faults.transaction() {
            // Injected after the transaction was applied, as sled's own error comes.
            return Err(storage_failure(e));
        }
        crate::telemetry::spent(crate::telemetry::Phase::Transaction, writing.elapsed());
        #[cfg(any(test, feature = "fault-injection"))]
        self.faults.wrote();
        Ok(())
    }

    fn sync_written(&self, always: bool) -> std::result::Result<(), CommitError> {
        #[cfg(any(test, feature = "fault-injection"))]
        {
            self.faults.wait_if_syncs_held();
            if let Some(e) = self.faults.flush() {
                return Err(CommitError::NotDurable(e));
            }
        }
        let flushing = std::time::Instant::now();
        self.db
            .flush()
            .map_err(|e| CommitError::NotDurable(from_sled(e)))?;
        crate::telemetry::spent(crate::telemetry::Phase::Flush, flushing.elapsed());
        #[cfg(any(test, feature = "fault-injection"))]
        if let Some(e) = self.faults.sync() {
            return Err(CommitError::NotDurable(e));
        }
        let syncing = std::time::Instant::now();
        if always {
            self.stable.sync()
        } else {
            self.stable.sync_group()
        }
        .map_err(|e| CommitError::NotDurable(unsynced(&e)))?;
        crate::telemetry::spent(crate::telemetry::Phase::Sync, syncing.elapsed());
        Ok(())
    }
}
