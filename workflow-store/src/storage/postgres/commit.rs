//! Writing a group: [`Storage`] and, where the backend splits it, [`SplitCommit`].

use super::*;

impl Storage for PostgresStorage {
    fn legacy_directory(&self) -> Option<&dyn LegacyDirectory> {
        Some(self)
    }

    fn commit(&self, group: &Group) -> std::result::Result<(), CommitError> {
        let started = std::time::Instant::now();
        let committed = self.commit_now(group);
        crate::telemetry::spent(crate::telemetry::Phase::Transaction, started.elapsed());
        committed
    }

    fn shared_writers(&self) -> Option<&dyn SharedWriters> {
        Some(self)
    }
}
