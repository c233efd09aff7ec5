//! The engine's printer (DESIGN §11): an issued 发文 laid out by this crate at 印发, so
//! that its `Issued` event names the PDF as printed (a program gives it to the engine as
//! `Config::printer`; the console prints through the engine too). The fonts are loaded once, on a thread
//! of their own when the server starts; a missing font refuses a 印发 (nothing written)
//! with what to install, and text no font can print refuses it naming the text.

use std::sync::{Mutex, OnceLock};

use crate::{FontFiles, Fonts, Issued, RenderError, Renderer};
use workflow_core::directory::Unit;
use workflow_core::outgoing::Document;
use workflow_store::print::{PrintError, Reprint};

/// This crate as the engine's [`workflow_store::print::Printer`].
#[derive(Debug, Default)]
pub struct RenderPrinter {
    renderer: OnceLock<Renderer>,
    /// Held while the fonts load, so that a 印发 arriving meanwhile waits for that load
    /// rather than reading the fonts a second time. A failed load is not kept: fonts
    /// installed later are found by the next 印发.
    loading: Mutex<()>,
}

/// A layout's failure as the engine takes it: missing fonts may be installed (the 印发 may
/// succeed later), anything else is the document's (refused, naming why).
fn print_error(e: RenderError) -> PrintError {
    match e {
        RenderError::Font { .. } => PrintError::Unavailable(e.to_string()),
        other => PrintError::Content(other.to_string()),
    }
}

impl RenderPrinter {
    fn renderer(&self) -> Result<&Renderer, PrintError> {
        if let Some(r) = self.renderer.get() {
            return Ok(r);
        }
        let _loading = self
            .loading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(r) = self.renderer.get() {
            return Ok(r);
        }
        let fonts = Fonts::load(&FontFiles::debian()).map_err(print_error)?;
        Ok(self.renderer.get_or_init(|| Renderer::new(fonts)))
    }

    /// Loads the fonts now, saying in the log when one is missing: the first 印发 then does
    /// not wait for them on the writer.
    pub fn warm(&self) {
        if let Err(e) = self.renderer() {
            tracing::warn!(error = %e, "issued documents cannot be printed until the fonts are installed");
        }
    }
}

impl workflow_store::print::Printer for RenderPrinter {
    fn print(&self, doc: &Document, units: &[Unit]) -> Result<(String, Vec<u8>), PrintError> {
        let issued = Issued::with_units(doc, units).map_err(print_error)?;
        let rendered = self.renderer()?.render(&issued).map_err(print_error)?;
        Ok((issued.file_name(), rendered.pdf))
    }

    fn input(&self, doc: &Document, units: &[Unit]) -> Option<Vec<u8>> {
        // The layout is a function of these lines and the fonts (the same for this printer's
        // life): the same lines print the same bytes (verify relies on it too).
        let issued = Issued::with_units(doc, units).ok()?;
        serde_json::to_vec(&(&issued, issued.issued_on)).ok()
    }

    fn reprint(&self, doc: &Document, units: &[Unit], kept: &[u8]) -> Result<Reprint, PrintError> {
        let issued = Issued::with_units(doc, units).map_err(print_error)?;
        self.renderer()?.check(&issued, kept).map_err(print_error)
    }
}

/// A printer whose fonts load when first used (the operator's commands: `verify` prints
/// the archived 公文 again only when there are some).
pub fn lazy_printer() -> workflow_store::print::PrinterHandle {
    workflow_store::print::PrinterHandle(std::sync::Arc::new(RenderPrinter::default()))
}

/// The printer a server's engine is given, its fonts loaded on a thread of their own so
/// that the start does not wait for them (a 印发 arriving while they load waits for that
/// load, not a second one).
pub fn printer() -> workflow_store::print::PrinterHandle {
    let printer = std::sync::Arc::new(RenderPrinter::default());
    let warming = printer.clone();
    std::thread::spawn(move || warming.warm());
    workflow_store::print::PrinterHandle(printer)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use workflow_store::print::Printer as _;

    use super::*;

    #[test]
    fn an_issued_sample_prints_as_a_pdf_named_by_its_number() {
        let mut s = workflow_testkit::script::Script::new();
        s.issued();
        let units: Vec<Unit> = workflow_testkit::directory().units().cloned().collect();
        let printer = RenderPrinter::default();
        let (name, pdf) = printer.print(s.doc(), &units).unwrap();
        assert!(
            name.starts_with("X校发〔2026〕") && name.ends_with("号.pdf"),
            "{name}"
        );
        assert!(pdf.starts_with(b"%PDF-"));
        // Loaded once: a second print reuses the fonts and gives the same bytes.
        assert_eq!(printer.print(s.doc(), &units).unwrap().1, pdf);
        // What it lays out, by which a copy printed ahead is known: the same for the same
        // record and names, another for another name.
        let input = printer.input(s.doc(), &units).unwrap();
        assert_eq!(printer.input(s.doc(), &units).unwrap(), input);
        // Printed again with the directory of its day: the same; with a unit renamed since,
        // the record prints otherwise (verify folds the directory as of the 印发 for this).
        assert_eq!(
            printer.reprint(s.doc(), &units, &pdf).unwrap(),
            Reprint::Same
        );
        let renamed: Vec<Unit> = units
            .iter()
            .cloned()
            .map(|mut u| {
                u.name.push_str("（更名）");
                u
            })
            .collect();
        assert!(matches!(
            printer.reprint(s.doc(), &renamed, &pdf).unwrap(),
            Reprint::Differs(why) if why.contains("does not show this record")
        ));
        assert_ne!(printer.input(s.doc(), &renamed).unwrap(), input);
        // A draft has nothing to print: refused for what it is, not as a passing failure.
        let mut draft = workflow_testkit::script::Script::new();
        draft.drafted();
        assert!(matches!(
            printer.print(draft.doc(), &units),
            Err(PrintError::Content(e)) if e.contains("has not been issued")
        ));
    }
}
