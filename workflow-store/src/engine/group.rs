//! One commit group under way: what it has changed so far (read before the stored state), and
//! the context a decision within it consults.

use std::collections::HashMap;

use workflow_core::content::{Digest, KeptFile};
use workflow_core::{
    ActorId, Context, DocumentId, UnitCode, archive::RetentionSchedule, context::ContextError,
    directory::Actor, directory::Unit, numbering::Series,
};

use super::request::{Outcome, outcome_from_record};
use crate::directory::DirectoryCache;
use crate::envelope::fixity_digest;
use crate::error::{Error, Result};
use crate::projection::{DocRecord, IndexKeys};
use crate::storage::{CommandRecord, Group, PartsStored, Storage};

/// What one group has changed so far, read before the stored state.
#[derive(Default)]
pub(super) struct Overlay {
    pub(super) docs: HashMap<DocumentId, DocRecord>,
    /// What each touched stream had before the group: its index keys and how much of its
    /// parts the store holds (its record is not kept: copying whole records was a
    /// measurable share of the writer's time).
    pub(super) before: HashMap<DocumentId, Option<(IndexKeys, PartsStored)>>,
    pub(super) commands: HashMap<String, CommandRecord>,
    pub(super) numbers: HashMap<Series, u32>,
    pub(super) group: Group,
    /// Commands the group's new events asked of other streams, still to be decided in it.
    pub(super) reactions: Vec<workflow_core::reactions::Reaction>,
    /// The group's streams and command ids read from a remote store in one round trip
    /// each before deciding (`None`: known not to exist), taken as they are used.
    pub(super) prefetched_docs: HashMap<DocumentId, Option<DocRecord>>,
    pub(super) prefetched_commands: HashMap<String, Option<CommandRecord>>,
    /// Whether live subscribers want the group's events published to the shared tail, and
    /// the events, in position order.
    pub(super) publish: bool,
    pub(super) published: Vec<(crate::envelope::Envelope, crate::read::tail::Listed)>,
    /// The highest classification each document's events in the group gave it.
    pub(super) classified: HashMap<DocumentId, workflow_core::directory::Classification>,
    /// The outcomes of the reactions decided in the group (a retry of one answers from it).
    pub(super) reacted: Vec<super::Outcome>,
}

/// What a decision within the group consults: the directory, the retention schedule, and
/// the numbers and chain as stored plus what the group has added.
pub(super) struct GroupContext<'a> {
    pub(super) directory: &'a DirectoryCache,
    pub(super) schedule: &'a RetentionSchedule,
    pub(super) reads: &'a dyn GroupReads,
    pub(super) overlay: &'a Overlay,
    pub(super) stream: DocumentId,
    /// What prints an issued 发文 at 印发 (`None` in a dry run).
    pub(super) printer: Option<crate::print::Press<'a>>,
}

impl Context for GroupContext<'_> {
    fn actor(&self, id: &ActorId) -> Option<Actor> {
        self.directory.actors.get(id).cloned()
    }
    fn actors_of(&self, unit: &UnitCode) -> Vec<Actor> {
        self.directory.actors_of(unit)
    }
    fn is_deactivated(&self, id: &ActorId) -> bool {
        self.directory.deactivated.contains(id)
    }
    fn retention_schedule(&self) -> &RetentionSchedule {
        self.schedule
    }
    fn unit(&self, code: &UnitCode) -> Option<Unit> {
        self.directory.units.get(code).cloned()
    }
    fn next_number(&self, series: &Series) -> Result<u32, ContextError> {
        let max = match self.overlay.numbers.get(series) {
            Some(n) => *n,
            None => self.reads.max_number(series).map_err(context_error)?,
        };
        Ok(max + 1)
    }
    fn uploaded_file(
        &self,
        digest: &Digest,
        by: &ActorId,
    ) -> Result<Option<KeptFile>, ContextError> {
        self.reads.uploaded_file(digest, by).map_err(context_error)
    }
    fn prints(&self) -> bool {
        self.printer.is_some()
    }
    fn print_issued(
        &self,
        issued: &workflow_core::outgoing::Document,
    ) -> Result<Option<workflow_core::content::FileRef>, ContextError> {
        let Some(press) = self.printer else {
            return Ok(None);
        };
        let mut units: Vec<Unit> = self.directory.units.values().cloned().collect();
        // In code order, as verify folds them: the printer sees the same list either way.
        units.sort_by(|a, b| a.code.cmp(&b.code));
        press
            .issued(issued, &units, || {
                self.reads.keep_printed(press.printer, issued, &units)
            })
            .map(Some)
            .map_err(context_error)
    }
    fn fixity_hash(&self) -> Result<Option<String>, ContextError> {
        let mut hashes: Vec<String> = self
            .reads
            .stream_hashes(self.stream)
            .map_err(context_error)?;
        hashes.extend(
            self.overlay
                .group
                .envelopes
                .iter()
                .filter(|e| e.stream_id == self.stream)
                .map(|e| e.hash.clone()),
        );
        Ok(Some(fixity_digest(hashes.iter().map(String::as_str))))
    }
}

/// A storage failure, carried through a decision as the core's context error.
fn context_error(e: Error) -> ContextError {
    ContextError(Box::new(e))
}

/// A core error as the store's: a context error gives back the store error inside it.
pub(super) fn from_core(e: workflow_core::Error) -> Error {
    match e {
        workflow_core::Error::Context(ContextError(inner)) => match inner.downcast::<Error>() {
            Ok(store) => *store,
            Err(other) => Error::Unavailable {
                reason: other.to_string(),
            },
        },
        rejected => Error::Rejected(rejected),
    }
}

/// The events a command produces against the stream's current record, or why not: the
/// expected version first, then the stream's flow through the flow boundary. The writer
/// decides every command with this, and [`Engine::check`](super::Engine::check) dry-runs it.
pub(super) fn decide(
    req: &super::Request,
    current: Option<&DocRecord>,
    ctx: &GroupContext<'_>,
    clock: &super::Clock,
) -> Result<Vec<workflow_core::Recorded<workflow_core::FlowEvent>>, Error> {
    let id = req.document_id;
    let actual = current.map_or(0, |r| r.state.version());
    if let Some(expected) = req.expected_version
        && expected != actual
    {
        return Err(Error::Conflict {
            document_id: id,
            expected,
            actual,
        });
    }
    let command = workflow_core::FlowCommand {
        document_id: id,
        actor: req.actor.clone(),
        at: req.at.unwrap_or_else(|| clock()),
        action: req.action.clone(),
    };
    workflow_core::decide(current.map(|r| &r.state), &command, ctx).map_err(from_core)
}

/// What deciding a group reads of the store: a command id's record and the outcome it
/// names, a stream's record, a series' highest number, a stream's event hashes.
pub(super) trait GroupReads {
    /// What a command id was used for.
    fn command(&self, command_id: &str) -> Result<Option<CommandRecord>>;
    /// The outcome a command record names, as a retry gets it back.
    fn outcome(&self, record: &CommandRecord) -> Result<Outcome>;
    /// A stream's record.
    fn doc(&self, id: DocumentId) -> Result<Option<DocRecord>>;
    /// The highest number taken in a series (0 if none).
    fn max_number(&self, series: &Series) -> Result<u32>;
    /// The hashes of a stream's events, in order.
    fn stream_hashes(&self, id: DocumentId) -> Result<Vec<String>>;
    /// The file kept under `digest`, if `by` uploaded it: its size and first bytes.
    fn uploaded_file(&self, digest: &Digest, by: &ActorId) -> Result<Option<KeptFile>>;
    /// `issued` printed by `printer` and kept, as an event names it.
    fn keep_printed(
        &self,
        printer: &dyn crate::print::Printer,
        issued: &workflow_core::outgoing::Document,
        units: &[Unit],
    ) -> Result<workflow_core::content::FileRef>;
}

/// The store, as a group reads it.
pub(super) struct StoreReads<'a>(pub(super) &'a dyn Storage);

impl GroupReads for StoreReads<'_> {
    fn command(&self, command_id: &str) -> Result<Option<CommandRecord>> {
        self.0.command(command_id)
    }
    fn outcome(&self, record: &CommandRecord) -> Result<Outcome> {
        outcome_from_record(self.0, record, true)
    }
    fn doc(&self, id: DocumentId) -> Result<Option<DocRecord>> {
        self.0.doc(id)
    }
    fn max_number(&self, series: &Series) -> Result<u32> {
        self.0.max_number(series)
    }
    fn uploaded_file(&self, digest: &Digest, by: &ActorId) -> Result<Option<KeptFile>> {
        self.0.uploaded_file(digest, by)
    }
    fn keep_printed(
        &self,
        printer: &dyn crate::print::Printer,
        issued: &workflow_core::outgoing::Document,
        units: &[Unit],
    ) -> Result<workflow_core::content::FileRef> {
        crate::print::print_and_keep(printer, self.0, issued, units)
    }
    fn stream_hashes(&self, id: DocumentId) -> Result<Vec<String>> {
        self.0.stream_hashes(id)
    }
}
