//! Tests and tamper drills: [`Drills`].

use super::rows::*;
use super::sql::*;
use super::*;

impl Drills for PostgresStorage {
    fn raw_put_log(&self, position: u64, bytes: &[u8]) -> Result<()> {
        self.execute(
            "UPDATE wf_log SET bytes = $2 WHERE position = $1",
            vec![param(pos(position)), param(bytes.to_vec())],
        )
        .map(drop)
    }

    fn raw_put_access(&self, position: u64, bytes: &[u8]) -> Result<()> {
        self.execute(
            "INSERT INTO wf_access (position, bytes) VALUES ($1, $2) \
             ON CONFLICT (position) DO UPDATE SET bytes = EXCLUDED.bytes",
            vec![param(pos(position)), param(bytes.to_vec())],
        )
        .map(drop)
    }

    fn raw_remove_access(&self, position: u64) -> Result<()> {
        self.execute(
            "DELETE FROM wf_access WHERE position = $1",
            vec![param(pos(position))],
        )
        .map(drop)
    }

    fn raw_remove_log(&self, position: u64) -> Result<()> {
        self.execute(
            "DELETE FROM wf_log WHERE position = $1",
            vec![param(pos(position))],
        )
        .map(drop)
    }

    fn raw_set_recorded_head(&self, position: u64, hash: &str) -> Result<()> {
        self.execute(
            "UPDATE wf_head SET position = $1, hash = $2 WHERE id = 1",
            vec![param(pos(position)), param(hash.to_owned())],
        )
        .map(drop)
    }

    fn raw_put_projection(&self, part: &str, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        let Some(value) = value else {
            return self.delete_keys(part, vec![key.to_vec()]).map(drop);
        };
        let bad = || Error::corrupt(format_args!("{part} key or value"), "malformed");
        let uuid_of = |b: &[u8]| Uuid::from_slice(b).map_err(|_| bad());
        let (sql, params) = match part {
            "commands" => (
                "INSERT INTO wf_commands (command_id, value) VALUES ($1, $2) \
                 ON CONFLICT (command_id) DO UPDATE SET value = EXCLUDED.value",
                vec![
                    param(String::from_utf8(key.to_vec()).map_err(|_| bad())?),
                    param(value.to_vec()),
                ],
            ),
            "docs" => (
                "INSERT INTO wf_docs (stream_id, value) VALUES ($1, $2) \
                 ON CONFLICT (stream_id) DO UPDATE SET value = EXCLUDED.value",
                vec![param(uuid_of(key)?), param(value.to_vec())],
            ),
            "numbers" => (
                "INSERT INTO wf_numbers (key, stream_id) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET stream_id = EXCLUDED.stream_id",
                vec![param(key.to_vec()), param(uuid_of(value)?)],
            ),
            "lists" => (
                "INSERT INTO wf_lists (key) VALUES ($1) ON CONFLICT DO NOTHING",
                vec![param(key.to_vec())],
            ),
            "inbox" => (
                "INSERT INTO wf_inbox (key) VALUES ($1) ON CONFLICT DO NOTHING",
                vec![param(key.to_vec())],
            ),
            other => return projection_table(other).map(drop),
        };
        self.execute(sql, params).map(drop)
    }

    fn raw_mark_rebuilding(&self) -> Result<()> {
        self.set_meta(REBUILDING, Some(Vec::new()))
    }
}
