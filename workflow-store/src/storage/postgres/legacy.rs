//! The directory a store written before the directory stream kept beside the log: [`LegacyDirectory`].

use super::rows::*;
use super::sql::*;
use super::*;

impl LegacyDirectory for PostgresStorage {
    fn actors(&self) -> Result<Vec<Actor>> {
        self.read_directory("wf_actors")
    }

    fn units(&self) -> Result<Vec<Unit>> {
        self.read_directory("wf_units")
    }

    fn put_directory(&self, units: &[Unit], actors: &[Actor]) -> Result<()> {
        let (unit_ids, unit_values): (Vec<String>, Vec<Vec<u8>>) =
            units.iter().map(|u| (u.code.0.clone(), json(u))).unzip();
        let (actor_ids, actor_values): (Vec<String>, Vec<Vec<u8>>) =
            actors.iter().map(|a| (a.id.0.clone(), json(a))).unzip();
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(from_pool)?;
            let tx = c.transaction().await.db()?;
            for (table, ids, values) in [
                ("wf_units", &unit_ids, &unit_values),
                ("wf_actors", &actor_ids, &actor_values),
            ] {
                let sql = Keyed::new(table, ("id", "text"), ("value", "bytea")).sql(false);
                exec(&tx, &sql, &[ids, values]).await.db()?;
            }
            tx.commit().await.db()
        })
    }
}
