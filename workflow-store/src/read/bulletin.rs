//! The 月通报 of supervision items, from the log: each item's events before the month's end,
//! and the directory's names as they were then (DESIGN §3b).

use workflow_core::supervision::bulletin::{self, Bulletin, BulletinNames, Month};
use workflow_core::supervision::{BulletinDigests, publication_id};
use workflow_core::{
    ActorId, Recorded, StreamKind, Timestamp, directory::Classification,
    directory::DIRECTORY_STREAM, supervision::Publication, supervision::PublicationAction,
    supervision::SupervisionEvent,
};

use crate::engine::{AsOf, Engine, Outcome, Request};
use crate::error::{Error, Result};
use crate::projection::Dim;

/// Items read per batch of the list index.
const BATCH: usize = 1024;

impl Engine {
    /// The 月通报 of `month` over the items classified up to `max` (all when `None`): a pure
    /// function of the log as of the month's end (China time), so the same whenever it is
    /// produced. A month that has not begun is refused; the current month gives its figures
    /// so far.
    pub fn bulletin(&self, month: Month, max: Option<Classification>) -> Result<Bulletin> {
        let now = (self.inner.clock)();
        if month.start() > now {
            return Err(Error::InvalidRequest {
                field: "month",
                reason: format!("{month} has not begun"),
            });
        }
        // A month published at this clearance is produced in the format it was published in,
        // so that the copy read is the one published (a later format may lay it out
        // otherwise); any other month in today's.
        let format = match max {
            Some(c) => self
                .publication(month, c)?
                .map_or(bulletin::BULLETIN_FORMAT, |p| p.digests().format),
            None => bulletin::BULLETIN_FORMAT,
        };
        // A month under way is counted to now, not to an end still to come.
        self.bulletin_until(month, now, max, format)
    }

    /// The 月通报 of `month` as the log gives it, in bulletin `format` (a publication's
    /// record names the one it was published in:
    /// [`workflow_core::supervision::BulletinDigests::format`]), whatever the clock says:
    /// verify produces each published month again with it, and an archivist can reproduce
    /// a copy published in an earlier format byte for byte.
    pub fn bulletin_from_log(
        &self,
        month: Month,
        max: Option<Classification>,
        format: u32,
    ) -> Result<Bulletin> {
        self.bulletin_until(month, month.end(), max, format)
    }

    /// The 月通报 of `month` as the log gives it up to `until` (the month's end at most).
    fn bulletin_until(
        &self,
        month: Month,
        until: Timestamp,
        max: Option<Classification>,
        format: u32,
    ) -> Result<Bulletin> {
        let end = until.min(month.end());
        let mut histories: Vec<Vec<Recorded<SupervisionEvent>>> = Vec::new();
        let mut after = None;
        loop {
            let batch =
                self.inner
                    .storage
                    .scan_list(&Dim::Flow(StreamKind::Supervision), after, BATCH)?;
            let exhausted = batch.len() < BATCH;
            for c in batch {
                after = Some(c);
                let mut events = Vec::new();
                for e in self.history(c.id)? {
                    if e.recorded_at >= end {
                        continue;
                    }
                    let r = e.event().map_err(|err| Error::corrupt(e.position, err))?;
                    if let Some(r) = r.filter_map(|d| match d {
                        workflow_core::FlowEvent::Supervision(s) => Some(s),
                        _ => None,
                    }) {
                        events.push(r);
                    }
                }
                let classification = events.first().and_then(|e| match &e.data {
                    SupervisionEvent::ItemOpened { spec, .. } => Some(spec.classification),
                    _ => None,
                });
                if max.is_none_or(|m| classification.is_some_and(|c| c <= m)) {
                    histories.push(events);
                }
            }
            if exhausted {
                break;
            }
        }
        let names = self.names_as_of(end)?;
        Ok(bulletin::monthly_until(
            month,
            end,
            histories.iter().map(Vec::as_slice),
            &names,
            format,
        ))
    }

    /// Publishes `month`'s bulletin over the items classified up to `clearance` (the
    /// actor's clearance when `None`): records its digests as the event of a `bulletin`
    /// stream, durable on return, and gives the bulletin published. Only a supervisor
    /// cleared for it, only after the month's end, and once per month and clearance (a
    /// second publication is refused as existing; a retry with the same `command_id` gets
    /// the first outcome).
    pub async fn publish_bulletin(
        &self,
        actor: &ActorId,
        month: Month,
        clearance: Option<Classification>,
        command_id: Option<String>,
    ) -> Result<(Bulletin, Outcome)> {
        let clearance = match clearance {
            Some(c) => c,
            None => {
                self.actor(actor)
                    .ok_or_else(|| workflow_core::Error::UnknownActor {
                        actor: actor.clone(),
                    })?
                    .clearance
            }
        };
        let engine = self.clone();
        let bulletin = tokio::task::spawn_blocking(move || engine.bulletin(month, Some(clearance)))
            .await
            .map_err(|e| Error::Internal {
                reason: format!("the bulletin stopped: {e}"),
            })??;
        // No expected version: a second publication is refused as existing, not as a conflict.
        let mut request = Request::new(
            publication_id(month, clearance),
            actor.clone(),
            PublicationAction::publish(&bulletin, clearance),
        );
        if let Some(id) = command_id {
            request.command_id = id;
        }
        // The digests were just taken from the log: submitted without `execute`'s check,
        // which would produce the bulletin a second time.
        let outcome = self.submit(request).await?;
        Ok((bulletin, outcome))
    }

    /// The record of `month`'s bulletin published at `clearance`, if it was published.
    pub fn publication(
        &self,
        month: Month,
        clearance: Classification,
    ) -> Result<Option<Publication>> {
        Ok(self
            .state(publication_id(month, clearance))?
            .and_then(|s| s.bulletin().cloned()))
    }

    /// Refuses a publication whose digests are not those of the bulletin the log gives (a
    /// month not yet ended is left to the flow, which refuses it by name).
    pub(crate) fn check_publication(
        &self,
        action: &PublicationAction,
        at: Option<Timestamp>,
    ) -> Result<()> {
        let PublicationAction::PublishBulletin {
            month,
            clearance,
            items,
            digests,
        } = action;
        let at = at.unwrap_or_else(|| (self.inner.clock)());
        if at < month.end() {
            return Ok(());
        }
        let bulletin = self.bulletin(*month, Some(*clearance))?;
        let expected = BulletinDigests::of(&bulletin);
        if expected != *digests || bulletin.item_count() != *items {
            return Err(Error::InvalidRequest {
                field: "digests",
                reason: format!(
                    "they are not those of the bulletin of {month} at {clearance} the log gives \
                     (its html sha256 is {})",
                    expected.html
                ),
            });
        }
        Ok(())
    }

    /// Units' and actors' names as the directory had them just before `end`.
    fn names_as_of(&self, end: workflow_core::Timestamp) -> Result<BulletinNames> {
        let before = end - chrono::Duration::nanoseconds(1);
        let dir = match self.state_as_of(DIRECTORY_STREAM, AsOf::Instant(before)) {
            Ok(s) => s,
            Err(Error::NotFound(_)) => return Ok(BulletinNames::default()),
            Err(e) => return Err(e),
        };
        let Some(d) = dir.directory() else {
            return Ok(BulletinNames::default());
        };
        Ok(BulletinNames {
            units: d
                .units
                .iter()
                .map(|(c, u)| (c.clone(), u.name.clone()))
                .collect(),
            actors: d
                .actors
                .iter()
                .map(|(id, a)| (id.clone(), a.name.clone()))
                .collect(),
        })
    }
}
