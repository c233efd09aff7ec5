//! The issued 公文 printed at 印发 (DESIGN §11): a binary that links a renderer (the
//! `workflow` binary links `workflow-render`) gives the engine a [`Printer`]; the engine asks
//! it while deciding an `Issue`, keeps the PDF in the content store before the event is
//! committed, and the `Issued` event names it — so the chain covers what was printed. The
//! store itself links no renderer.

use std::io::Write;
use std::sync::Arc;

use workflow_core::DocumentId;
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

    /// What [`Printer::print`] lays out for `doc` with `units`, as bytes: two calls giving
    /// the same bytes print the same PDF. With it the engine prints a 印发 *ahead*, on the
    /// caller's thread before the writer decides it, and the writer takes that copy when
    /// its own decision prints the same (DESIGN §11); `None` (the default) or a decision
    /// that prints otherwise (another 印发 took the predicted 发文字号 meanwhile): the writer
    /// prints it itself.
    fn input(&self, _doc: &Document, _units: &[Unit]) -> Option<Vec<u8>> {
        None
    }

    /// Whether `kept`, the copy printed at `doc`'s 印发 with the directory's `units` as they
    /// were then, is what `doc` prints now.
    fn reprint(
        &self,
        doc: &Document,
        units: &[Unit],
        kept: &[u8],
    ) -> std::result::Result<Reprint, PrintError>;
}

/// The keyword a printed 公文's XMP metadata names its layout's number with
/// (`workflow-layout N`).
pub const LAYOUT_KEYWORD: &str = "workflow-layout";

/// What a PDF says it was printed with: the layout's number and the fonts, each as
/// `role family sha256:digest` (read from its XMP metadata, which is not compressed) — the
/// rendering environment a 公文 carries with it for the long term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedWith {
    /// The layout's number (`None`: printed before layouts were numbered).
    pub layout: Option<u32>,
    /// The fonts, as recorded.
    pub fonts: Vec<String>,
}

/// What a PDF printed by this software says it was printed with; `None` for a PDF that
/// names no fonts (not printed by it).
pub fn printed_with(pdf: &[u8]) -> Option<PrintedWith> {
    const OPEN: &[u8] = b"<pdf:Keywords>";
    const CLOSE: &[u8] = b"</pdf:Keywords>";
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let start = find(pdf, OPEN)? + OPEN.len();
    let len = find(&pdf[start..], CLOSE)?;
    let keywords = std::str::from_utf8(&pdf[start..start + len]).ok()?;
    let mut layout = None;
    let mut fonts = Vec::new();
    for k in keywords.split(", ").map(str::trim) {
        if let Some(n) = k.strip_prefix(LAYOUT_KEYWORD) {
            layout = n.trim().parse().ok();
        } else if k.contains(" sha256:") {
            fonts.push(k.to_owned());
        }
    }
    (!fonts.is_empty()).then_some(PrintedWith { layout, fonts })
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

/// Copies of issued 公文 printed ahead of their 印发's decision (see [`Printer::input`]),
/// each kept durably already and known by the digest of what it prints. The writer uses one
/// when its decision prints the same (a group decided again finds it still there); the
/// 印发's caller lets go of its copies once the writer has answered; the oldest go when
/// more are waiting than that (a copy nobody named is an unreferenced file, removed with
/// the others).
#[derive(Debug, Default)]
pub(crate) struct PrintedAhead {
    copies: std::sync::Mutex<std::collections::VecDeque<(Digest, DocumentId, FileRef)>>,
    /// The 发文 whose 印发 is sent back to be printed ahead again when its copy shows
    /// another number, rather than printed by the writer (which would hold every command).
    again: std::sync::Mutex<std::collections::HashSet<DocumentId>>,
}

/// While held, a stale copy of its 发文 sends the 印发 back (see [`PrintedAhead::again`]);
/// dropped, its copies go.
pub(crate) struct PrintAgain<'a> {
    ahead: &'a PrintedAhead,
    id: DocumentId,
}

impl Drop for PrintAgain<'_> {
    fn drop(&mut self) {
        lock(&self.ahead.again).remove(&self.id);
        lock(&self.ahead.copies).retain(|(_, id, _)| *id != self.id);
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl PrintedAhead {
    /// How many copies wait at most.
    const WAITING: usize = 64;

    /// Until the guard is dropped, the writer sends `id`'s 印发 back when the copy printed
    /// ahead is not what its decision prints ([`Error::PrintedAheadStale`]); once dropped,
    /// `id`'s copies are let go.
    pub(crate) fn print_again(&self, id: DocumentId) -> PrintAgain<'_> {
        lock(&self.again).insert(id);
        PrintAgain { ahead: self, id }
    }

    fn sends_back(&self, id: DocumentId) -> bool {
        lock(&self.again).contains(&id)
    }

    fn put(&self, key: Digest, id: DocumentId, file: FileRef) {
        let mut copies = lock(&self.copies);
        copies.retain(|(k, _, _)| *k != key);
        if copies.len() == Self::WAITING {
            copies.pop_front();
        }
        copies.push_back((key, id, file));
    }

    fn find(&self, key: &Digest) -> Option<FileRef> {
        lock(&self.copies)
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, f)| f.clone())
    }
}

/// Who prints an issued 公文 in a decision, and how: the writer uses a copy printed ahead
/// when there is one; a decision made ahead prints and leaves its copy for the writer.
#[derive(Clone, Copy)]
pub(crate) struct Press<'a> {
    pub(crate) printer: &'a dyn Printer,
    pub(crate) ahead: &'a PrintedAhead,
    /// Whether this decision is made ahead of the writer's.
    pub(crate) printing_ahead: bool,
}

impl Press<'_> {
    /// `doc` printed with `units` and kept: a copy printed ahead where there is one, else
    /// printed by `keep` (which keeps it durably). Ahead, with a printer that cannot say
    /// what it lays out, nothing is printed ([`Error::PrintedAheadStale`]): the writer will.
    pub(crate) fn issued(
        &self,
        doc: &Document,
        units: &[Unit],
        keep: impl FnOnce() -> Result<FileRef>,
    ) -> Result<FileRef> {
        let key = self
            .printer
            .input(doc, units)
            .map(|bytes| Digest::of(&bytes));
        let stale = || Error::PrintedAheadStale {
            document_id: doc.id(),
        };
        match &key {
            // A copy waiting (printed ahead; ahead: the same 印发 asked again) is used.
            Some(k) => {
                if let Some(file) = self.ahead.find(k) {
                    return Ok(file);
                }
                if !self.printing_ahead && self.ahead.sends_back(doc.id()) {
                    return Err(stale());
                }
            }
            None if self.printing_ahead => return Err(stale()),
            None => {}
        }
        let file = keep()?;
        if self.printing_ahead
            && let Some(key) = key
        {
            self.ahead.put(key, doc.id(), file.clone());
        }
        Ok(file)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::*;

    fn file(n: u8) -> FileRef {
        FileRef {
            name: format!("{n}.pdf"),
            digest: Digest::of(&[n]),
            size: 1,
            media_type: "application/pdf".into(),
            pages: None,
        }
    }

    #[test]
    fn copies_printed_ahead_wait_until_their_issue_is_answered() {
        let ahead = PrintedAhead::default();
        let id = |n: u8| DocumentId(uuid::Uuid::from_u128(u128::from(n)));
        for n in 0..=u8::try_from(PrintedAhead::WAITING).unwrap() {
            ahead.put(Digest::of(&[n, n]), id(n), file(n));
        }
        // One more than may wait: the first went.
        assert_eq!(ahead.find(&Digest::of(&[0, 0])), None);
        // Found as often as a group is decided, until its 印发 is answered.
        assert_eq!(ahead.find(&Digest::of(&[1, 1])), Some(file(1)));
        assert_eq!(ahead.find(&Digest::of(&[1, 1])), Some(file(1)));
        {
            let _again = ahead.print_again(id(1));
            assert!(ahead.sends_back(id(1)));
            assert!(!ahead.sends_back(id(2)));
        }
        assert!(!ahead.sends_back(id(1)));
        assert_eq!(
            ahead.find(&Digest::of(&[1, 1])),
            None,
            "let go once answered"
        );
        assert_eq!(ahead.find(&Digest::of(&[2, 2])), Some(file(2)));
        // The same copy put again replaces, not doubles, it.
        ahead.put(Digest::of(&[2, 2]), id(2), file(2));
        assert_eq!(lock(&ahead.copies).len(), PrintedAhead::WAITING - 1);
    }
}
