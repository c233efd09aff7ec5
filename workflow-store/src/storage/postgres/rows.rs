//! The projection rows of a group: index writes, keyed upserts, the tables by part.

use super::sql::*;
use super::*;

/// The index writes of a group, last one per key winning (as in a sled batch).
#[derive(Default)]
pub(super) struct IndexWrites {
    pub(super) lists: BTreeMap<Vec<u8>, bool>,
    pub(super) inbox: BTreeMap<Vec<u8>, bool>,
}

impl IndexWrites {
    pub(super) fn put(&mut self, (tree, key): (IndexTree, Vec<u8>), add: bool) {
        match tree {
            IndexTree::Lists => self.lists.insert(key, add),
            IndexTree::Inbox => self.inbox.insert(key, add),
        };
    }

    /// A commit's index writes: the last write of each key wins (as in a sled batch).
    pub(super) fn of(group: &Group) -> IndexWrites {
        let mut w = IndexWrites::default();
        for change in &group.docs {
            let order = change.record.order();
            for (entries, add) in [(&change.diff.remove, false), (&change.diff.add, true)] {
                for entry in entries {
                    w.put(index_key(entry, order), add);
                }
            }
        }
        w
    }

    /// A rebuild's index writes: every removal, then every addition (as the sled
    /// backend converges).
    pub(super) fn apart(group: &Group) -> (IndexWrites, IndexWrites) {
        let (mut removals, mut additions) = (IndexWrites::default(), IndexWrites::default());
        for change in &group.docs {
            let order = change.record.order();
            for entry in &change.diff.remove {
                removals.put(index_key(entry, order), false);
            }
            for entry in &change.diff.add {
                additions.put(index_key(entry, order), true);
            }
        }
        (removals, additions)
    }

    pub(super) fn split(map: BTreeMap<Vec<u8>, bool>) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let (add, remove): (Vec<_>, Vec<_>) = map.into_iter().partition(|(_, add)| *add);
        (
            remove.into_iter().map(|(k, _)| k).collect(),
            add.into_iter().map(|(k, _)| k).collect(),
        )
    }
}

/// The rows a group writes to the keyed projection tables, one per key (the last wins).
pub(super) struct Rows {
    pub(super) command_ids: Vec<String>,
    pub(super) commands: Vec<Vec<u8>>,
    pub(super) doc_ids: Vec<Uuid>,
    pub(super) docs: Vec<Vec<u8>>,
    pub(super) number_keys: Vec<Vec<u8>>,
    pub(super) number_streams: Vec<Uuid>,
}

impl Rows {
    pub(super) fn of(group: &Group) -> Rows {
        let commands: BTreeMap<&str, Vec<u8>> = group
            .commands
            .iter()
            .map(|(id, rec)| (id.as_str(), json(rec)))
            .collect();
        let docs: BTreeMap<Uuid, Vec<u8>> = group
            .docs
            .iter()
            .map(|c| (c.record.id().0, json(&c.record)))
            .collect();
        let numbers: BTreeMap<Vec<u8>, Uuid> = group
            .numbers
            .iter()
            .map(|(s, n, id)| (series_key(s, *n), id.0))
            .collect();
        let (command_ids, commands) = commands.into_iter().map(|(k, v)| (k.to_owned(), v)).unzip();
        let (doc_ids, docs) = docs.into_iter().unzip();
        let (number_keys, number_streams) = numbers.into_iter().unzip();
        Rows {
            command_ids,
            commands,
            doc_ids,
            docs,
            number_keys,
            number_streams,
        }
    }
}

/// The statement that removes (`add = false`) or adds keys of an index table.
pub(super) fn index_sql(table: &str, add: bool) -> String {
    if add {
        format!(
            "INSERT INTO {table} (key) SELECT * FROM UNNEST($1::bytea[]) \
             ON CONFLICT (key) DO NOTHING"
        )
    } else {
        format!("DELETE FROM {table} WHERE key = ANY($1::bytea[])")
    }
}

/// Writes the keyed projection rows; with `only_changed`, rows equal to what is stored are
/// left alone. Returns the rows written.
pub(super) async fn upsert_rows(
    tx: &Tx<'_>,
    rows: &Rows,
    only_changed: bool,
) -> std::result::Result<u64, tokio_postgres::Error> {
    let mut n = 0;
    if !rows.command_ids.is_empty() {
        let table = Keyed::new("wf_commands", ("command_id", "text"), ("value", "bytea"));
        n += exec(
            tx,
            &table.sql(only_changed),
            &[&rows.command_ids, &rows.commands],
        )
        .await?;
    }
    if !rows.doc_ids.is_empty() {
        let table = Keyed::new("wf_docs", ("stream_id", "uuid"), ("value", "bytea"));
        n += exec(tx, &table.sql(only_changed), &[&rows.doc_ids, &rows.docs]).await?;
    }
    if !rows.number_keys.is_empty() {
        let table = Keyed::new("wf_numbers", ("key", "bytea"), ("stream_id", "uuid"));
        n += exec(
            tx,
            &table.sql(only_changed),
            &[&rows.number_keys, &rows.number_streams],
        )
        .await?;
    }
    Ok(n)
}

/// A keyed projection table: its name, and its key and value columns with their types.
pub(super) struct Keyed {
    pub(super) table: &'static str,
    pub(super) key: (&'static str, &'static str),
    pub(super) value: (&'static str, &'static str),
}

impl Keyed {
    pub(super) fn new(
        table: &'static str,
        key: (&'static str, &'static str),
        value: (&'static str, &'static str),
    ) -> Keyed {
        Keyed { table, key, value }
    }

    /// Inserts or replaces rows given as two parallel arrays.
    /// The upsert of many rows at once (`$1` keys, `$2` values); with `only_changed`, a row
    /// equal to what is stored is left alone.
    pub(super) fn sql(&self, only_changed: bool) -> String {
        let Keyed {
            table,
            key: (key, key_ty),
            value: (value, value_ty),
        } = self;
        let when = if only_changed {
            format!(" WHERE {table}.{value} IS DISTINCT FROM EXCLUDED.{value}")
        } else {
            String::new()
        };
        format!(
            "INSERT INTO {table} ({key}, {value}) \
             SELECT * FROM UNNEST($1::{key_ty}[], $2::{value_ty}[]) \
             ON CONFLICT ({key}) DO UPDATE SET {value} = EXCLUDED.{value}{when}"
        )
    }
}

/// Removes then adds keys of an index table; returns the rows changed.
pub(super) async fn index_writes(
    tx: &Tx<'_>,
    table: &str,
    remove: &[Vec<u8>],
    add: &[Vec<u8>],
) -> std::result::Result<u64, tokio_postgres::Error> {
    let mut n = 0;
    if !remove.is_empty() {
        n += exec(tx, &index_sql(table, false), &[&remove]).await?;
    }
    if !add.is_empty() {
        n += exec(tx, &index_sql(table, true), &[&add]).await?;
    }
    Ok(n)
}

/// A projection table: its name, its key column and its value column (`None`: keys only).
pub(super) fn projection_table(
    part: &str,
) -> Result<(&'static str, &'static str, Option<&'static str>)> {
    Ok(match part {
        "commands" => ("wf_commands", "command_id", Some("value")),
        "docs" => ("wf_docs", "stream_id", Some("value")),
        "lists" => ("wf_lists", "key", None),
        "inbox" => ("wf_inbox", "key", None),
        "numbers" => ("wf_numbers", "key", Some("stream_id")),
        other => {
            return Err(Error::corrupt(
                format_args!("table {other}"),
                "not a projection",
            ));
        }
    })
}

/// A row of a projection table as `(key, value)` bytes, as sled stores it.
pub(super) fn row_bytes(part: &str, r: &tokio_postgres::Row) -> (Vec<u8>, Vec<u8>) {
    match part {
        "commands" => (r.get::<_, String>(0).into_bytes(), r.get(1)),
        "docs" => (r.get::<_, Uuid>(0).as_bytes().to_vec(), r.get(1)),
        "numbers" => (r.get(0), r.get::<_, Uuid>(1).as_bytes().to_vec()),
        _ => (r.get(0), Vec::new()),
    }
}
