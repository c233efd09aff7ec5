//! Reading projections: [`Projections`].

use super::sql::*;
use super::*;
use crate::storage::keys::series_number;

const DOCS_BY_ID: &str = "SELECT stream_id, value FROM wf_docs WHERE stream_id = ANY($1)";
const COMMANDS_BY_ID: &str = "SELECT command_id, value FROM wf_commands WHERE command_id = ANY($1)";

fn doc_row(r: &Row) -> Result<DocRecord> {
    whole_record(DocumentId(r.get(0)), &r.get::<_, Vec<u8>>(1))
}

fn command_row(r: &Row) -> Result<(String, CommandRecord)> {
    let id: String = r.get(0);
    let rec = parse(format_args!("command {id:?}"), &r.get::<_, Vec<u8>>(1))?;
    Ok((id, rec))
}

impl Projections for PostgresStorage {
    fn doc(&self, id: DocumentId) -> Result<Option<DocRecord>> {
        self.query_opt(
            "SELECT value FROM wf_docs WHERE stream_id = $1",
            vec![param(id.0)],
        )?
        .map(|r| whole_record(id, &r.get::<_, Vec<u8>>(0)))
        .transpose()
    }

    fn docs(&self, ids: &[DocumentId]) -> Result<Vec<DocRecord>> {
        let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        self.query(DOCS_BY_ID, vec![param(ids)])?
            .iter()
            .map(doc_row)
            .collect()
    }

    fn commands(&self, command_ids: &[String]) -> Result<Vec<(String, CommandRecord)>> {
        self.query(COMMANDS_BY_ID, vec![param(command_ids.to_vec())])?
            .iter()
            .map(command_row)
            .collect()
    }

    fn docs_and_commands(
        &self,
        ids: &[DocumentId],
        command_ids: &[String],
    ) -> Result<crate::storage::DocsAndCommands> {
        // Both statements sent together on one connection (no statement when every stream
        // is in the writer's cache).
        let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        let command_ids = command_ids.to_vec();
        let (docs, commands) = self.run(move |pool| async move {
            let c = pool.get().await.map_err(from_pool)?;
            let (docs_sql, commands_sql) = (
                c.prepare_cached(DOCS_BY_ID).await.db()?,
                c.prepare_cached(COMMANDS_BY_ID).await.db()?,
            );
            let docs = async {
                if ids.is_empty() {
                    Ok(Vec::new())
                } else {
                    c.query(&docs_sql, &[&ids]).await
                }
            };
            let commands = async {
                if command_ids.is_empty() {
                    Ok(Vec::new())
                } else {
                    c.query(&commands_sql, &[&command_ids]).await
                }
            };
            futures::future::try_join(docs, commands).await.db()
        })?;
        Ok((
            docs.iter().map(doc_row).collect::<Result<_>>()?,
            commands.iter().map(command_row).collect::<Result<_>>()?,
        ))
    }

    fn docs_after(&self, after: Option<DocumentId>, limit: usize) -> Result<Vec<DocRecord>> {
        self.query(
            "SELECT stream_id, value FROM wf_docs WHERE $1::uuid IS NULL OR stream_id > $1 \
             ORDER BY stream_id LIMIT $2",
            vec![param(after.map(|id| id.0)), param(self::limit(limit))],
        )?
        .iter()
        .map(|r| whole_record(DocumentId(r.get(0)), &r.get::<_, Vec<u8>>(1)))
        .collect()
    }

    fn command(&self, command_id: &str) -> Result<Option<CommandRecord>> {
        self.query_opt(
            "SELECT value FROM wf_commands WHERE command_id = $1",
            vec![param(command_id.to_owned())],
        )?
        .map(|r| {
            parse(
                format_args!("command {command_id}"),
                &r.get::<_, Vec<u8>>(0),
            )
        })
        .transpose()
    }

    fn commands_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, CommandRecord)>> {
        self.query(
            "SELECT command_id, value FROM wf_commands WHERE $1::text IS NULL OR command_id > $1 \
             ORDER BY command_id LIMIT $2",
            vec![param(after.map(str::to_owned)), param(self::limit(limit))],
        )?
        .iter()
        .map(|r| {
            let id: String = r.get(0);
            let rec = parse(format_args!("command {id}"), &r.get::<_, Vec<u8>>(1))?;
            Ok((id, rec))
        })
        .collect()
    }

    fn max_number(&self, series: &Series) -> Result<u32> {
        let prefix = series_prefix(series);
        let mut end = prefix.clone();
        end.extend_from_slice(&[0xff; 5]);
        match self
            .scan_keys("wf_numbers", (prefix.clone(), end), 1, true)?
            .pop()
        {
            Some(k) => series_number(&prefix, &k)
                .ok_or_else(|| Error::corrupt("numbers index", "malformed key")),
            None => Ok(0),
        }
    }

    fn scan_list(&self, dim: &Dim, after: Option<Cursor>, limit: usize) -> Result<Vec<Cursor>> {
        self.scan("wf_lists", dim_prefix(dim), after, limit)
    }

    fn scan_list_newest(
        &self,
        dim: &Dim,
        before: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Cursor>> {
        let (prefix, end) = crate::storage::keys::newest_range(dim, before);
        self.scan_keys("wf_lists", (prefix.clone(), end), limit, true)?
            .iter()
            .map(|k| {
                cursor_from_suffix(&k[prefix.len()..]).ok_or_else(|| {
                    Error::corrupt(format_args!("list {dim:?}"), format!("malformed key {k:?}"))
                })
            })
            .collect()
    }

    fn scan_todo(
        &self,
        assignee: &Assignee,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Cursor>> {
        self.scan(
            "wf_inbox",
            crate::storage::keys::assignee_prefix(assignee),
            after,
            limit,
        )
    }

    fn due_before(&self, until: Timestamp) -> Result<Vec<DocumentId>> {
        let mut end = DUE_PREFIX.to_vec();
        end.extend_from_slice(&sortable_instant(until));
        self.scan_keys("wf_lists", (DUE_PREFIX.to_vec(), end), usize::MAX, false)?
            .iter()
            .map(|k| {
                k.len()
                    .checked_sub(16)
                    .and_then(|at| Uuid::from_slice(&k[at..]).ok())
                    .map(DocumentId)
                    .ok_or_else(|| Error::corrupt("deadline index", "malformed key"))
            })
            .collect()
    }

    fn count_lists(&self) -> Result<BTreeMap<Dim, u64>> {
        let mut counts = BTreeMap::new();
        for r in self.query(
            "SELECT substring(key FROM 1 FOR position('\\x00'::bytea IN key) - 1), count(*) \
             FROM wf_lists GROUP BY 1",
            vec![],
        )? {
            let (prefix, n): (Vec<u8>, i64) = (r.get(0), r.get(1));
            if let Some(dim) = dim_from_prefix(&prefix) {
                *counts.entry(dim).or_insert(0) += unpos(n);
            }
        }
        Ok(counts)
    }

    fn dump_projections(&self) -> Result<Vec<ProjectionEntry>> {
        let mut out = Vec::new();
        for part in PROJECTIONS {
            out.extend(
                self.dump_part(part)?
                    .into_iter()
                    .map(|(k, v)| (part.to_owned(), k, v)),
            );
        }
        Ok(out)
    }
}
