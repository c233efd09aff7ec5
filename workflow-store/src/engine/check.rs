//! A dry run of a command: decided as the writer would decide it now, nothing written.

use super::group::{GroupContext, Overlay, decide};
use super::{Engine, Request};
use crate::error::{Error, Result};

impl Engine {
    /// Whether `request` would be accepted if it were executed now, or the error it would
    /// get: decided by its flow against the stored state and the directory, with nothing
    /// written and no command id recorded. Advisory only: another command may change the
    /// document before this one is executed, and then the real decision is the writer's.
    /// (The web console offers a person only the actions this accepts.)
    pub fn check(&self, request: &Request) -> Result<()> {
        let id = request.document_id;
        self.certain(id)?;
        let current = self.inner.storage.doc(id)?;
        let directory = self.inner.directory.read().map_err(|_| Error::Closed)?;
        let overlay = Overlay::default();
        let ctx = GroupContext {
            directory: &directory,
            schedule: &self.inner.retention_schedule,
            reads: &super::group::StoreReads(&*self.inner.storage),
            overlay: &overlay,
            // A dry run prints nothing (and keeps nothing).
            printer: None,
            stream: id,
        };
        decide(request, current.as_ref(), &ctx, &self.inner.clock).map(|_| ())
    }
}
