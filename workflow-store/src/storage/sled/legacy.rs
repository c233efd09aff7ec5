//! The directory a store written before the directory stream kept beside the log: [`LegacyDirectory`].

use super::*;

impl LegacyDirectory for SledStorage {
    fn actors(&self) -> Result<Vec<Actor>> {
        read_all(&self.actors, "actor")
    }

    fn units(&self) -> Result<Vec<Unit>> {
        read_all(&self.units, "unit")
    }

    fn put_directory(&self, units: &[Unit], actors: &[Actor]) -> Result<()> {
        let mut u = sled::Batch::default();
        for unit in units {
            u.insert(unit.code.0.as_bytes(), json(unit));
        }
        let mut a = sled::Batch::default();
        for actor in actors {
            a.insert(actor.id.0.as_bytes(), json(actor));
        }
        (&self.units, &self.actors)
            .transaction(|(tu, ta)| {
                tu.apply_batch(&u)?;
                ta.apply_batch(&a)?;
                Ok::<(), ConflictableTransactionError<Error>>(())
            })
            .map_err(from_sled_tx)?;
        self.flush_durably()
    }
}
