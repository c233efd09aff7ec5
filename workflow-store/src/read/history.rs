//! Reading one document: its state now or at an earlier version or instant, its events, a
//! command's recorded outcome, and the log from a position. Only what is durable is shown.

use workflow_core::{DocumentId, FlowState, Recorded, Timestamp};

use crate::engine::{AsOf, Engine, Outcome, outcome_from_record};
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::storage::decode_all;

impl Engine {
    /// The state projection of a stream, of any flow.
    pub fn state(&self, id: DocumentId) -> Result<Option<FlowState>> {
        self.certain(id)?;
        Ok(self.inner.storage.doc(id)?.map(|r| r.state))
    }

    /// The state projection of a 发文 document (`None` if there is no such stream, or it
    /// is another flow's).
    pub fn document(&self, id: DocumentId) -> Result<Option<workflow_core::outgoing::Document>> {
        Ok(self.state(id)?.and_then(|s| s.outgoing().cloned()))
    }

    /// A document's events, in order: those that are durable (a group between its write
    /// and its sync is not shown).
    pub fn history(&self, id: DocumentId) -> Result<Vec<Envelope>> {
        self.certain(id)?;
        self.durable_events(id)
    }

    /// A stream's durable events (up to the head), also of a document a failed group may
    /// have changed: what is past the head is never read.
    pub(crate) fn durable_events(&self, id: DocumentId) -> Result<Vec<Envelope>> {
        let head = self.head();
        let mut events = decode_all(&self.inner.storage.read_stream(id, u64::MAX)?)?;
        events.retain(|e| e.position <= head);
        Ok(events)
    }

    /// The document as it was (time travel): folded from its stream up to a version or an
    /// instant. `NotFound` if it did not exist then.
    ///
    /// `AsOf::Version(0)` and a version past the current one are refused
    /// ([`Error::InvalidRequest`] on `as_of_version`, naming the current version).
    pub fn document_as_of(
        &self,
        id: DocumentId,
        as_of: AsOf,
    ) -> Result<workflow_core::outgoing::Document> {
        let state = self.state_as_of(id, as_of)?;
        state.outgoing().cloned().ok_or(Error::NotFound(id))
    }

    /// As [`Engine::document_as_of`], for a stream of any flow.
    pub fn state_as_of(&self, id: DocumentId, as_of: AsOf) -> Result<FlowState> {
        self.certain(id)?;
        let max = match as_of {
            AsOf::Version(0) => {
                return Err(Error::InvalidRequest {
                    field: "as_of_version",
                    reason: "versions start at 1 (the draft); 0 is before the document existed"
                        .into(),
                });
            }
            AsOf::Version(v) => {
                let current = self
                    .inner
                    .storage
                    .doc(id)?
                    .ok_or(Error::NotFound(id))?
                    .state
                    .version();
                if v > current {
                    return Err(Error::InvalidRequest {
                        field: "as_of_version",
                        reason: format!(
                            "version {v} is past the document's current version {current}"
                        ),
                    });
                }
                v
            }
            AsOf::Instant(_) => u64::MAX,
        };
        let until = match as_of {
            AsOf::Instant(t) => Some(t),
            AsOf::Version(_) => None,
        };
        self.fold_stream(id, max, until)?.ok_or(Error::NotFound(id))
    }

    /// The fold of a stream up to `max_version` and, if given, events recorded by `until`.
    pub(crate) fn fold_stream(
        &self,
        id: DocumentId,
        max_version: u64,
        until: Option<Timestamp>,
    ) -> Result<Option<FlowState>> {
        let envelopes = decode_all(&self.inner.storage.read_stream(id, max_version)?)?;
        let mut state: Option<FlowState> = None;
        for e in envelopes {
            if until.is_some_and(|t| e.recorded_at > t) {
                break;
            }
            fold_one(&mut state, &e)?;
        }
        Ok(state)
    }

    /// The directory's units as they were before the log position `position` (what a
    /// decision there saw: a directory change is a group of its own), in code order.
    pub fn units_before(&self, position: u64) -> Result<Vec<workflow_core::directory::Unit>> {
        DirectoryReplay::read(self)?.units_before(position)
    }

    /// The 公文 of the issued 发文 `doc` printed now, by this engine's printer, with the
    /// directory as it was at its 印发: for a document issued where nothing printed (the
    /// copy kept at 印发 is the one to serve where there is one). Its file name and PDF.
    /// Blocking: the layout takes tens of milliseconds.
    pub fn print_now(&self, doc: &workflow_core::outgoing::Document) -> Result<(String, Vec<u8>)> {
        use crate::print::PrintError;
        let Some(printer) = &self.inner.printer else {
            return Err(Error::Unavailable {
                reason: "this server was given no printer: issued documents cannot be laid \
                         out here"
                    .into(),
            });
        };
        let units = self.units_at_issue(doc.id())?.unwrap_or_default();
        printer.print(doc, &units).map_err(|e| match e {
            PrintError::Content(reason) => Error::InvalidRequest {
                field: "document",
                reason: format!("the issued document cannot be laid out: {reason}"),
            },
            PrintError::Unavailable(reason) => Error::Unavailable {
                reason: format!("laying out the issued document: {reason}"),
            },
        })
    }

    /// The units the issued 发文 `id` was printed with: the directory as of its `Issued`
    /// event (`None` before it is issued).
    pub fn units_at_issue(
        &self,
        id: DocumentId,
    ) -> Result<Option<Vec<workflow_core::directory::Unit>>> {
        let issued = self
            .history(id)?
            .into_iter()
            .find(|e| e.event_type == "Issued");
        issued.map(|e| self.units_before(e.position)).transpose()
    }

    /// Up to `limit` envelopes of the global log from `from` (inclusive), up to the durable
    /// head.
    pub fn read_log(&self, from: u64, limit: usize) -> Result<Vec<Envelope>> {
        let head = self.head();
        let from = from.max(1);
        if from > head {
            return Ok(Vec::new());
        }
        let limit = limit.min(usize::try_from(head - from + 1).unwrap_or(usize::MAX));
        decode_all(&self.inner.storage.read_log(from, limit)?)
    }

    /// The outcome recorded for a command id, once it is durable (`None` before: a group
    /// between its write and its flush is not reported as executed).
    pub fn command_outcome(&self, command_id: &str) -> Result<Option<Outcome>> {
        match self.inner.storage.command(command_id)? {
            Some(rec) if rec.last_position <= self.head() => {
                Ok(Some(outcome_from_record(&*self.inner.storage, &rec, true)?))
            }
            _ => Ok(None),
        }
    }
}

/// Folds one envelope of a stream into `state` (its first creates it).
pub(crate) fn fold_one(state: &mut Option<FlowState>, e: &Envelope) -> Result<()> {
    let event: Recorded<_> = e
        .event()
        .map_err(|err| Error::corrupt(format_args!("position {}", e.position), err))?;
    match state.as_mut() {
        Some(s) => s.apply(&event),
        None => *state = FlowState::create(&event),
    }
    Ok(())
}

/// The directory stream folded forward along the log, for positions asked in order.
pub(crate) struct DirectoryReplay {
    events: std::vec::IntoIter<Envelope>,
    next: Option<Envelope>,
    folded: Option<FlowState>,
}

impl DirectoryReplay {
    pub(crate) fn read(engine: &Engine) -> Result<DirectoryReplay> {
        let stream = workflow_core::directory::DIRECTORY_STREAM;
        let mut events =
            decode_all(&engine.inner.storage.read_stream(stream, u64::MAX)?)?.into_iter();
        Ok(DirectoryReplay {
            next: events.next(),
            events,
            folded: None,
        })
    }

    /// The units before `position` (not before a position asked earlier).
    pub(crate) fn units_before(
        &mut self,
        position: u64,
    ) -> Result<Vec<workflow_core::directory::Unit>> {
        while let Some(e) = self.next.take_if(|e| e.position < position) {
            fold_one(&mut self.folded, &e)?;
            self.next = self.events.next();
        }
        Ok(self
            .folded
            .as_ref()
            .and_then(|s| s.directory())
            .map(|d| d.units.values().cloned().collect())
            .unwrap_or_default())
    }
}
