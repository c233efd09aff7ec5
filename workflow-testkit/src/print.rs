//! A printer of tests: each issued 公文 as a small PDF naming its 发文字号 and document id, the
//! same bytes for the same record, recording a layout and a font with its digest in its XMP
//! keywords as the real printer does; the one marked `encrypted` with an `/Encrypt` entry,
//! the one marked `unrecorded` without that record.

use std::sync::Mutex;

use workflow_core::DocumentId;
use workflow_core::directory::Unit;
use workflow_core::outgoing::Document;
use workflow_store::print::{PrintError, Printer, Reprint};

/// See the module's docs.
#[derive(Debug, Default)]
pub struct SmallPdf {
    /// The document whose 公文 is printed as an encrypted PDF, if any.
    pub encrypted: Mutex<Option<DocumentId>>,
    /// The document whose 公文 is printed without naming its layout and fonts, if any.
    pub unrecorded: Mutex<Option<DocumentId>>,
}

impl SmallPdf {
    /// The printer as an engine's configuration holds it.
    pub fn handle(self: std::sync::Arc<Self>) -> workflow_store::print::PrinterHandle {
        workflow_store::print::PrinterHandle(self)
    }

    /// The bytes `doc` prints as.
    pub fn pdf(&self, doc: &Document) -> Vec<u8> {
        let number = doc
            .issue()
            .map(|i| i.number.to_string())
            .unwrap_or_default();
        let encrypted = *self
            .encrypted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            == Some(doc.id());
        let encrypt = if encrypted { "/Encrypt 5 0 R " } else { "" };
        let unrecorded = *self
            .unrecorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            == Some(doc.id());
        let environment = if unrecorded {
            "\n".to_owned()
        } else {
            format!(
                "<pdf:Keywords>{} 1, 仿宋 TestFang sha256:{}</pdf:Keywords>\n",
                workflow_store::print::LAYOUT_KEYWORD,
                "0f".repeat(32)
            )
        };
        // A whole PDF of one empty page (catalog, page tree, page, cross-reference table),
        // the number, id and environment in comments.
        let mut pdf = format!("%PDF-1.7\n% {number}\n% {}\n% {environment}", doc.id());
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        ];
        let mut offsets = Vec::new();
        for (n, body) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.push_str(&format!("{} 0 obj\n{body}\nendobj\n", n + 1));
        }
        let xref = pdf.len();
        pdf.push_str(&format!(
            "xref\n0 {}\n0000000000 65535 f \n",
            objects.len() + 1
        ));
        for o in offsets {
            pdf.push_str(&format!("{o:010} 00000 n \n"));
        }
        pdf.push_str(&format!(
            "trailer\n<< /Size {} /Root 1 0 R {encrypt}>>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        ));
        pdf.into_bytes()
    }
}

impl Printer for SmallPdf {
    fn print(&self, doc: &Document, _: &[Unit]) -> Result<(String, Vec<u8>), PrintError> {
        let number = doc
            .issue()
            .map(|i| i.number.to_string())
            .ok_or_else(|| PrintError::Content("not issued".into()))?;
        Ok((format!("{number}.pdf"), self.pdf(doc)))
    }

    fn input(&self, doc: &Document, _: &[Unit]) -> Option<Vec<u8>> {
        Some(self.pdf(doc))
    }

    fn reprint(&self, doc: &Document, _: &[Unit], kept: &[u8]) -> Result<Reprint, PrintError> {
        Ok(if self.pdf(doc) == kept {
            Reprint::Same
        } else {
            Reprint::Differs("printed otherwise".into())
        })
    }
}
