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
        // A dry run prints nothing (and keeps nothing).
        self.decide_now(request, None)
    }

    /// Decides `request` as [`Engine::check`] does, printing and keeping the 公文 a 印发
    /// issues for the writer to take when its own decision prints the same (see
    /// [`crate::print::Printer::input`]). Nothing else is written.
    pub(crate) fn print_ahead(&self, request: &Request) -> Result<()> {
        let Some(printer) = self.inner.printer.as_deref() else {
            return Ok(());
        };
        self.decide_now(
            request,
            Some(crate::print::Press {
                printer,
                ahead: &self.inner.printed_ahead,
                printing_ahead: true,
            }),
        )
    }

    fn decide_now(
        &self,
        request: &Request,
        printer: Option<crate::print::Press<'_>>,
    ) -> Result<()> {
        let id = request.document_id;
        self.certain(id)?;
        let current = self.inner.storage.doc(id)?;
        // Printing ahead lays a 公文 out and keeps it (an fsync): on a copy of the
        // directory, so that the writer's changes to it never wait for that.
        let copied = match printer {
            Some(_) => Some(
                self.inner
                    .directory
                    .read()
                    .map_err(|_| Error::Closed)?
                    .clone(),
            ),
            None => None,
        };
        let held = match copied {
            Some(_) => None,
            None => Some(self.inner.directory.read().map_err(|_| Error::Closed)?),
        };
        let directory = copied.as_ref().or(held.as_deref()).ok_or(Error::Closed)?;
        let overlay = Overlay::default();
        let ctx = GroupContext {
            directory,
            schedule: &self.inner.retention_schedule,
            reads: &super::group::StoreReads(&*self.inner.storage),
            overlay: &overlay,
            printer,
            stream: id,
        };
        decide(request, current.as_ref(), &ctx, &self.inner.clock).map(|_| ())
    }
}
