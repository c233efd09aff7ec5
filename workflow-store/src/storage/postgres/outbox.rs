//! The notification outbox: [`Outbox`], in `wf_outbox_channel` (where each channel stands,
//! and which server holds it until when), `wf_outbox` (a delivery kept a row — one that
//! failed at its first try — its channel, state and due time as columns for the claims) and
//! `wf_outbox_memo`. A channel is held by one server at a time (a lease taken and renewed by
//! one statement, fenced by the holder on every move); a claim of kept deliveries takes due
//! rows with `FOR UPDATE SKIP LOCKED` and moves them past the lease in the same statement.

use super::sql::*;
use super::*;
use crate::notify::{Delivery, DeliveryState};
use crate::storage::{ChannelCursor, Settlement};

const CURSOR_COLUMNS: &str = "channel, through, delivered, settled_at, holder, lease_until";

fn cursor_of(row: &Row) -> ChannelCursor {
    ChannelCursor {
        channel: row.get("channel"),
        through: u64::try_from(row.get::<_, i64>("through")).unwrap_or(0),
        delivered: u64::try_from(row.get::<_, i64>("delivered")).unwrap_or(0),
        settled_at: row.get("settled_at"),
        holder: row.get("holder"),
        lease_until: row.get("lease_until"),
    }
}

fn delivery_of(row: &Row) -> Result<Delivery> {
    let bytes: Vec<u8> = row.get("value");
    let next_at: i64 = row.get("next_at");
    let mut d: Delivery =
        serde_json::from_slice(&bytes).map_err(|e| Error::corrupt("an outbox delivery", e))?;
    d.next_at = next_at;
    Ok(d)
}

fn value(d: &Delivery) -> Vec<u8> {
    serde_json::to_vec(d).unwrap_or_default()
}

impl Outbox for PostgresStorage {
    fn outbox_hold(
        &self,
        channel: &str,
        holder: &str,
        now: i64,
        lease_until: i64,
        start: u64,
    ) -> Result<Option<ChannelCursor>> {
        Ok(self
            .query_opt(
                format!(
                    "INSERT INTO wf_outbox_channel ({CURSOR_COLUMNS}) \
                     VALUES ($1, $5, 0, $3, $2, $4) \
                     ON CONFLICT (channel) DO UPDATE \
                     SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until \
                     WHERE wf_outbox_channel.holder = '' OR wf_outbox_channel.holder = $2 \
                     OR wf_outbox_channel.lease_until <= $3 \
                     RETURNING {CURSOR_COLUMNS}"
                ),
                vec![
                    param(channel.to_owned()),
                    param(holder.to_owned()),
                    param(now),
                    param(lease_until),
                    param(pos(start)),
                ],
            )?
            .as_ref()
            .map(cursor_of))
    }

    fn outbox_settle(&self, channel: &str, holder: &str, s: &Settlement<'_>) -> Result<bool> {
        let (channel, holder) = (channel.to_owned(), holder.to_owned());
        let (expected, through, delivered) = (pos(s.expected), pos(s.through), pos(s.delivered));
        let (now, lease_until) = (s.now, s.lease_until);
        let failures = s.failures;
        let ids: Vec<String> = failures.iter().map(|d| d.id.clone()).collect();
        let positions: Vec<i64> = failures.iter().map(|d| pos(d.position)).collect();
        let channels: Vec<String> = failures.iter().map(|d| d.channel.clone()).collect();
        let states: Vec<String> = failures.iter().map(|d| d.state.name().to_owned()).collect();
        let due: Vec<i64> = failures.iter().map(|d| d.next_at).collect();
        let values: Vec<Vec<u8>> = failures.iter().map(value).collect();
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(from_pool)?;
            let tx = c.transaction().await.db()?;
            let moved = tx
                .execute(
                    "UPDATE wf_outbox_channel SET through = $4, delivered = delivered + $5, \
                     settled_at = $6, lease_until = $7 \
                     WHERE channel = $1 AND holder = $2 AND through = $3",
                    &[
                        &channel,
                        &holder,
                        &expected,
                        &through,
                        &delivered,
                        &now,
                        &lease_until,
                    ],
                )
                .await
                .db()?;
            if moved != 1 {
                return Ok(false);
            }
            if !ids.is_empty() {
                tx.execute(
                    "INSERT INTO wf_outbox (id, position, channel, state, next_at, value) \
                     SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], \
                     $5::bigint[], $6::bytea[]) ON CONFLICT (id) DO NOTHING",
                    &[&ids, &positions, &channels, &states, &due, &values],
                )
                .await
                .db()?;
            }
            tx.commit().await.db()?;
            Ok(true)
        })
    }

    fn outbox_release(&self, channel: &str, holder: &str) -> Result<()> {
        self.execute(
            "UPDATE wf_outbox_channel SET holder = '', lease_until = 0 \
             WHERE channel = $1 AND holder = $2",
            vec![param(channel.to_owned()), param(holder.to_owned())],
        )?;
        Ok(())
    }

    fn outbox_channels(&self) -> Result<Vec<ChannelCursor>> {
        Ok(self
            .query(
                format!("SELECT {CURSOR_COLUMNS} FROM wf_outbox_channel ORDER BY channel"),
                vec![],
            )?
            .iter()
            .map(cursor_of)
            .collect())
    }

    fn outbox_claim(
        &self,
        channel: &str,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        self.query(
            "UPDATE wf_outbox SET next_at = $3 WHERE id IN (\
                SELECT id FROM wf_outbox WHERE channel = $1 AND state = 'pending' \
                AND next_at <= $2 ORDER BY next_at, position LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING value, next_at",
            vec![
                param(channel.to_owned()),
                param(now),
                param(lease_until),
                param(i64::try_from(limit).unwrap_or(i64::MAX)),
            ],
        )?
        .iter()
        .map(delivery_of)
        .collect::<Result<Vec<_>>>()
        .map(|mut v| {
            v.sort_by_key(|d| (d.position, d.id.clone()));
            v
        })
    }

    fn outbox_put(&self, d: &Delivery, fence: Option<i64>) -> Result<bool> {
        let changed = self.execute(
            "UPDATE wf_outbox SET state = $2, next_at = $3, value = $4 WHERE id = $1 \
             AND ($5::bigint IS NULL OR (state = 'pending' AND next_at = $5))",
            vec![
                param(d.id.clone()),
                param(d.state.name().to_owned()),
                param(d.next_at),
                param(value(d)),
                param(fence),
            ],
        )?;
        Ok(changed == 1)
    }

    fn outbox_get(&self, id: &str) -> Result<Option<Delivery>> {
        self.query_opt(
            "SELECT value, next_at FROM wf_outbox WHERE id = $1",
            vec![param(id.to_owned())],
        )?
        .as_ref()
        .map(delivery_of)
        .transpose()
    }

    fn outbox_list(
        &self,
        state: Option<DeliveryState>,
        from: u64,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        self.query(
            "SELECT value, next_at FROM wf_outbox WHERE position >= $1 \
             AND ($2::text IS NULL OR state = $2) ORDER BY position, id LIMIT $3",
            vec![
                param(pos(from)),
                param(state.map(|s| s.name().to_owned())),
                param(i64::try_from(limit).unwrap_or(i64::MAX)),
            ],
        )?
        .iter()
        .map(delivery_of)
        .collect()
    }

    fn outbox_counts(&self) -> Result<BTreeMap<DeliveryState, u64>> {
        let mut out = BTreeMap::new();
        for row in self.query(
            "SELECT state, count(*) FROM wf_outbox GROUP BY state",
            vec![],
        )? {
            let state: String = row.get(0);
            let n: i64 = row.get(1);
            let state = match state.as_str() {
                "pending" => DeliveryState::Pending,
                "delivered" => DeliveryState::Delivered,
                _ => DeliveryState::Dead,
            };
            out.insert(state, u64::try_from(n).unwrap_or(0));
        }
        Ok(out)
    }

    fn outbox_memo(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .query_opt(
                "SELECT value FROM wf_outbox_memo WHERE key = $1",
                vec![param(key.to_owned())],
            )?
            .map(|r| r.get(0)))
    }

    fn outbox_set_memo(&self, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT INTO wf_outbox_memo (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            vec![param(key.to_owned()), param(value.to_owned())],
        )?;
        Ok(())
    }
}
