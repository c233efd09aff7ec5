//! The issued 公文 printed at 印发 (DESIGN §11): a binary that links a renderer (the
//! `workflow` binary links `workflow-render`) gives the engine a [`Printer`]; the engine asks
//! it while deciding an `Issue`, keeps the PDF in the content store before the event is
//! committed, and the `Issued` event names it — so the chain covers what was printed. The
//! store itself links no renderer.

use std::io::Write;
use std::sync::Arc;

use workflow_core::content::{Digest, FileRef};
use workflow_core::directory::Unit;
use workflow_core::outgoing::Document;

use crate::error::{Error, Result};
use crate::storage::Storage;

/// Why a 公文 could not be printed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintError {
    /// Its text cannot be printed as it is (a character no font has, say): trying again will
    /// not help; the 印发 is refused, naming why.
    #[error("its text cannot be printed: {0}")]
    Content(String),
    /// The printer cannot work now (its fonts missing): the same 印发 may succeed later.
    #[error("the printer cannot work now: {0}")]
    Unavailable(String),
}

/// Whether a printed copy kept in the archive is what its record prints (`verify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reprint {
    /// Printed again from the log, byte for byte the same.
    Same,
    /// Printed again the same way (same layout, same fonts), it differs: the kept copy does
    /// not show the record. Why, with both digests.
    Differs(String),
    /// It cannot be printed the same way here (another layout, other fonts): why.
    CannotTell(String),
}

/// Lays an issued 发文 out as its 公文.
pub trait Printer: Send + Sync {
    /// The 公文 of `doc` (issued: it has its 发文字号) with the directory's `units`: its file
    /// name and its PDF bytes, or why it could not be printed.
    fn print(
        &self,
        doc: &Document,
        units: &[Unit],
    ) -> std::result::Result<(String, Vec<u8>), PrintError>;

    /// Whether `kept`, the copy printed at `doc`'s 印发 with the directory's `units` as they
    /// were then, is what `doc` prints now.
    fn reprint(
        &self,
        doc: &Document,
        units: &[Unit],
        kept: &[u8],
    ) -> std::result::Result<Reprint, PrintError>;
}

/// A printer as a configuration holds it.
#[derive(Clone)]
pub struct PrinterHandle(pub Arc<dyn Printer>);

impl PartialEq for PrinterHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for PrinterHandle {}

impl std::fmt::Debug for PrinterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Printer")
    }
}

/// A printer's refusal as the engine answers it: the text's fault is the request's, a
/// printer that cannot work now may later.
fn refused(e: PrintError) -> Error {
    match e {
        PrintError::Content(reason) => Error::InvalidRequest {
            field: "document",
            reason: format!(
                "the issued document (印发) cannot be printed: {reason}; nothing was written"
            ),
        },
        PrintError::Unavailable(reason) => Error::Unavailable {
            reason: format!("printing the issued document (印发): {reason}; nothing was written"),
        },
    }
}

/// Prints `doc` with `printer` and keeps the PDF durably (spooled, synced, kept by digest)
/// before answering it as an event names it.
pub(crate) fn print_and_keep(
    printer: &dyn Printer,
    storage: &dyn Storage,
    doc: &Document,
    units: &[Unit],
) -> Result<FileRef> {
    let (name, pdf) = printer.print(doc, units).map_err(refused)?;
    // What the printer gives is kept as uploads are: a proper name, and a PDF by its bytes.
    if let Some(why) = workflow_core::content::name_problem(&name) {
        return Err(Error::Internal {
            reason: format!("the printer named the issued document {name:?}: {why}"),
        });
    }
    let kind = workflow_core::content::sniffed_kind(&name, &pdf);
    if kind != Some(workflow_core::content::FileKind::Pdf) {
        return Err(Error::Internal {
            reason: format!("the printer gave {name:?} as {kind:?}, not a PDF"),
        });
    }
    let digest = Digest::of(&pdf);
    let unavailable = |e: std::io::Error| Error::Unavailable {
        reason: format!("keeping the printed document: {e}"),
    };
    // Spooled as an upload is (this user's only: a classified 公文 among them).
    let (path, mut file) = crate::storage::kept::spool_file(storage)?;
    // (The backend syncs it as it keeps it.)
    let written = file.write_all(&pdf).map_err(unavailable);
    drop(file);
    let kept = written.and_then(|()| storage.keep_content(&digest, &path, pdf.len() as u64, None));
    let _ = std::fs::remove_file(&path);
    kept?;
    Ok(FileRef {
        name,
        digest,
        size: pdf.len() as u64,
        media_type: workflow_core::content::FileKind::Pdf.media_type().into(),
        pages: None,
    })
}
