//! The engine's printer (DESIGN §11): an issued 发文 laid out by `workflow-render` at 印发, so
//! that its `Issued` event names the PDF as printed. The fonts are loaded on the first
//! 印发 and kept; a missing font refuses that 印发 (nothing written) with what to install.

use std::sync::OnceLock;

use workflow_core::directory::Unit;
use workflow_core::outgoing::Document;
use workflow_render::{FontFiles, Fonts, Issued, Renderer};

/// `workflow-render` as the engine's [`workflow_store::print::Printer`].
#[derive(Debug, Default)]
pub(crate) struct RenderPrinter {
    renderer: OnceLock<Renderer>,
}

impl RenderPrinter {
    fn renderer(&self) -> Result<&Renderer, String> {
        if let Some(r) = self.renderer.get() {
            return Ok(r);
        }
        let fonts = Fonts::load(&FontFiles::debian()).map_err(|e| e.to_string())?;
        Ok(self.renderer.get_or_init(|| Renderer::new(fonts)))
    }
}

impl workflow_store::print::Printer for RenderPrinter {
    fn print(&self, doc: &Document, units: &[Unit]) -> Result<(String, Vec<u8>), String> {
        let issued = Issued::with_units(doc, units).map_err(|e| e.to_string())?;
        let rendered = self
            .renderer()?
            .render(&issued)
            .map_err(|e| e.to_string())?;
        Ok((issued.file_name(), rendered.pdf))
    }
}

/// The printer a server's engine is given.
pub(crate) fn printer() -> workflow_store::print::PrinterHandle {
    workflow_store::print::PrinterHandle(std::sync::Arc::new(RenderPrinter::default()))
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
        // A draft has nothing to print.
        let mut draft = workflow_testkit::script::Script::new();
        draft.drafted();
        assert!(
            printer
                .print(draft.doc(), &units)
                .unwrap_err()
                .contains("has not been issued")
        );
    }
}
