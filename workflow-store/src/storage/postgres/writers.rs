//! Several writers on one store: [`SharedWriters`].

use super::*;
use super::{commit_sql::*, listen::*};

impl SharedWriters for PostgresStorage {
    fn hold_commits(&self) -> Result<()> {
        self.release_commits();
        let (locked_tx, locked_rx) = std::sync::mpsc::sync_channel(1);
        let (group_tx, group_rx) = tokio::sync::oneshot::channel::<HeldCommit>();
        let pool = self.pool.clone();
        let token = self.token.clone();
        self.runtime()?.spawn(async move {
            let mut c = match pool.get().await {
                Ok(c) => c,
                Err(e) => {
                    let _ = locked_tx.send(Err(from_pool(e)));
                    return;
                }
            };
            let tx = match lock_head(&mut c).await {
                Ok(tx) => tx,
                Err(CommitError::NotWritten(e) | CommitError::NotDurable(e)) => {
                    let _ = locked_tx.send(Err(e));
                    return;
                }
                Err(CommitError::Conflict(reason)) => {
                    let _ = locked_tx.send(Err(Error::WriteConflict { reason }));
                    return;
                }
            };
            let _ = locked_tx.send(Ok(()));
            // While held (a rebuild may take minutes), a statement every ten seconds keeps
            // the transaction from counting as idle. Released (the sender dropped): the
            // transaction rolls back as it drops.
            let mut group_rx = group_rx;
            loop {
                tokio::select! {
                    given = &mut group_rx => {
                        if let Ok((group, relaxed, reply)) = given {
                            let _ = reply.send(finish_commit(tx, &group, relaxed, &token).await);
                        }
                        return;
                    }
                    () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
                        if tx.batch_execute("SELECT 1").await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
        locked_rx.recv().map_err(|_| Error::Internal {
            reason: "the PostgreSQL task stopped before taking the head-row lock".into(),
        })??;
        if let Ok(mut held) = self.held.lock() {
            *held = Some(group_tx);
        }
        Ok(())
    }

    fn release_commits(&self) {
        if let Ok(mut held) = self.held.lock() {
            held.take();
        }
    }

    fn watch_foreign_commits(&self, notify: Option<ForeignCommits>) {
        let start = notify.is_some();
        if let Ok(mut f) = self.foreign.lock() {
            *f = notify;
        }
        if start
            && !self
                .listening
                .swap(true, std::sync::atomic::Ordering::SeqCst)
            && let Ok(rt) = self.runtime()
        {
            rt.spawn(listen(
                self.config.clone(),
                self.token.clone(),
                self.foreign.clone(),
                self.shown.clone(),
            ));
        }
    }
}
