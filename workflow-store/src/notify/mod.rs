//! Notification delivery (DESIGN §12): what [`workflow_core::notice`] derives from the log,
//! sent to people over the deployment's channels — the notices of any stretch of the log
//! ([`Engine::notices`]), the channels a deployment configures ([`channel`]), the outbox
//! that derives deliveries from the durable log and sends them ([`Notifier`]), the request
//! shapes of each channel (`send`) and the webhook signatures ([`webhook`]).

pub mod channel;
mod outbox;
mod send;
pub mod webhook;

pub use crate::storage::ChannelCursor;
pub use channel::{ChannelConfig, NotifyConfig};
pub use outbox::{Delivery, DeliveryState, Notifier, OutboxStatus};
pub use send::dingtalk_sign;

use std::collections::{BTreeSet, HashMap};

use workflow_core::notice::{Notice, People, notices};
use workflow_core::{DocumentId, FlowState, StreamKind, UnitCode};

use crate::{AsOf, Engine, Error, Result};

impl Engine {
    /// The notices the durable log's events from position `from` on imply, reading at most
    /// `limit` events, and the position to read from next: each document's event against
    /// its stream's states before and after it, with the directory's active people as it is
    /// now (not yet as it was at each event: the same log and directory give the same
    /// notices with the same ids).
    pub fn notices(&self, from: u64, limit: usize) -> Result<(Vec<Notice>, u64)> {
        let w = self.notices_following(from, limit, &mut HashMap::new())?;
        Ok((w.notices, w.next))
    }

    /// As [`Engine::notices`], with the streams' states kept in `states` from one window to
    /// the next: a stream the caller has followed is not read from the log again (the
    /// outbox's deliverers follow the log window by window); with the directory it read.
    pub(crate) fn notices_following(
        &self,
        from: u64,
        limit: usize,
        states: &mut HashMap<DocumentId, FlowState>,
    ) -> Result<Window> {
        let from = from.max(1);
        // Only what is durable: a notice is never derived from an event a failed flush
        // could still take back.
        let envelopes = self.read_log(from, limit)?;
        let next = envelopes.last().map_or(from, |e| e.position + 1);
        let actors: Vec<_> = self
            .actors()
            .into_iter()
            .filter(|a| !self.is_deactivated(&a.id))
            .collect();
        let units = self.units();
        let offices: BTreeSet<UnitCode> = units
            .iter()
            .filter(|u| u.office)
            .map(|u| u.code.clone())
            .collect();
        let codes: BTreeSet<UnitCode> = units.iter().map(|u| u.code.clone()).collect();
        let people = People {
            actors: &actors,
            offices: &offices,
            units: &codes,
        };
        let mut out = Vec::new();
        // Each stream's state as the window goes: read once (as of the event before its
        // first in the window) unless followed already, then folded event by event.
        for env in envelopes {
            // The documents' streams, and the published 月通报.
            let kind = env.stream_kind();
            if !StreamKind::DOCUMENTS.contains(&kind) && kind != StreamKind::Bulletin {
                continue;
            }
            let event = env
                .event()
                .map_err(|e| Error::corrupt(format_args!("position {}", env.position), e))?;
            let before = match states.remove(&env.stream_id) {
                Some(s) if s.version() + 1 == env.version => Some(s),
                _ if env.version == 1 => None,
                _ => Some(self.state_as_of(env.stream_id, AsOf::Version(env.version - 1))?),
            };
            let after = match &before {
                Some(b) => {
                    let mut s = b.clone();
                    s.apply(&event);
                    s
                }
                None => FlowState::create(&event).ok_or_else(|| {
                    Error::corrupt(
                        format_args!("position {}", env.position),
                        "a stream's first event that starts no stream",
                    )
                })?,
            };
            out.extend(notices(
                env.position,
                &event,
                before.as_ref(),
                &after,
                people,
            ));
            states.insert(env.stream_id, after);
        }
        Ok(Window {
            notices: out,
            next,
            actors,
            units,
        })
    }
}

/// A window of the log's notices, the position to read from next, and the directory they
/// were derived with (its active people and every unit).
pub(crate) struct Window {
    pub(crate) notices: Vec<Notice>,
    pub(crate) next: u64,
    pub(crate) actors: Vec<workflow_core::directory::Actor>,
    pub(crate) units: Vec<workflow_core::directory::Unit>,
}
