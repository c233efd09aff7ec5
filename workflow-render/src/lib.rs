//! The issued 公文 (印发) laid out per GB/T 9704-2012 as a PDF/A-2b (DESIGN §11): 红头,
//! 发文字号 (and 签发人 for a 上行文), the red 分隔线, 标题, 主送, 正文 with its headings,
//! 附件说明, 署名 and 成文日期 with the seal's place, 版记 on the last page, 页码 on
//! alternating sides. typst lays it out, used as a library from one embedded template: no
//! package or font is fetched, and the output is a pure function of the document's record —
//! the same record gives the same bytes (the creation date is the 印发 date, the PDF's
//! identifier the document's id), so that a copy kept in the archive can be checked by
//! rendering it again.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use workflow_render::{FontFiles, Fonts, Issued, Renderer};
//! # let doc: workflow_core::outgoing::Document = unimplemented!();
//! let renderer = Renderer::new(Fonts::load(&FontFiles::debian())?); // once per process
//! let issued = Issued::from_document(&doc, &|code| Some(code.to_owned()), "学校办公室")?;
//! let rendered = renderer.render(&issued)?;
//! std::fs::write("issued.pdf", &rendered.pdf)?;
//! # Ok(()) }
//! ```

mod data;
mod fonts;

use std::path::PathBuf;

use sha2::{Digest as _, Sha256};
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

pub use data::{Issued, Paragraph, chinese_date, paragraph};
pub use fonts::{FontFiles, FontUsed, Fonts};

/// The layout (GB/T 9704-2012), compiled into the binary.
pub const TEMPLATE: &str = include_str!("../template/gbt9704.typ");

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A font file is missing or unreadable.
    #[error("font file {}: {reason}", path.display())]
    Font {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The document has not been issued (印发): it has no 发文字号 to print.
    #[error("document {0} has not been issued (印发): there is nothing to print yet")]
    NotIssued(String),
    /// The layout failed (a bug in the template, or text it cannot set).
    #[error("laying out the document failed: {0}")]
    Layout(String),
}

/// A rendered document: the PDF, its SHA-256, its pages and the fonts it was set in.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The PDF/A-2b bytes.
    pub pdf: Vec<u8>,
    /// Their SHA-256 (hex).
    pub sha256: String,
    /// How many pages.
    pub pages: usize,
    /// The fonts, with their files' digests (also in the PDF's keywords).
    pub fonts: Vec<FontUsed>,
}

/// Lays out issued documents; holds the fonts, loaded once (build one per process).
#[derive(Debug)]
pub struct Renderer {
    fonts: Fonts,
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
}

/// The most characters a line of the 标题 holds (2号, 22 pt, across the 156 mm 版心).
const TITLE_CHARS: usize = 19;

/// The 标题 in lines of at most `max` full-width characters (half-width digits and letters
/// count half), as even as they can be (GB/T 9704: 回行时排列对称, 长短适宜): as few lines as
/// it needs, their widths shared out evenly, the earlier lines the longer, and never a
/// break inside a run of digits or letters (`2026` stays whole).
pub fn title_lines(title: &str, max: usize) -> Vec<String> {
    let chars: Vec<char> = title.trim().chars().collect();
    let width = |c: &char| if c.is_ascii() { 1 } else { 2 }; // in half characters
    let total: usize = chars.iter().map(width).sum();
    let lines = total.div_ceil(2 * max.max(1)).max(1);
    let mut out = Vec::with_capacity(lines);
    let mut line = String::new();
    let mut used = 0;
    let mut done = 0;
    for (i, c) in chars.iter().enumerate() {
        let left = lines - out.len();
        // Each line takes its share of what is left; a run of ASCII is not broken.
        let share = (total - done).div_ceil(left);
        let inside_run = c.is_ascii_alphanumeric() && i > 0 && chars[i - 1].is_ascii_alphanumeric();
        if left > 1 && used >= share && !inside_run {
            out.push(std::mem::take(&mut line));
            done += used;
            used = 0;
        }
        line.push(*c);
        used += width(c);
    }
    out.push(line);
    out
}

/// The size of the 发文机关标志's characters, in points: as large as the 版心's width lets
/// the longest line be, at most 42 pt.
fn mark_size(units: &[String], suffix: &str) -> f64 {
    let chars = if units.len() == 1 {
        units.first().map_or(0, |u| u.chars().count()) + suffix.chars().count()
    } else {
        units.iter().map(|u| u.chars().count()).max().unwrap_or(0) + suffix.chars().count() + 1
    };
    // The 版心 is 156 mm wide = 442.2 pt.
    (440.0 / chars.max(1) as f64).min(42.0)
}

impl Renderer {
    /// A renderer with these fonts.
    pub fn new(fonts: Fonts) -> Renderer {
        let book = FontBook::from_infos(fonts.fonts.iter().map(|f| f.info().clone()));
        Renderer {
            fonts,
            library: LazyHash::new(Library::builder().build()),
            book: LazyHash::new(book),
        }
    }

    /// The fonts it sets documents in.
    pub fn fonts(&self) -> &[FontUsed] {
        self.fonts.used()
    }

    /// The data the template reads, as JSON.
    fn data(&self, issued: &Issued) -> Result<Vec<u8>, RenderError> {
        let suffix = "文件";
        let keywords: Vec<String> = std::iter::once("GB/T 9704-2012".to_owned())
            .chain(
                self.fonts
                    .used()
                    .iter()
                    .map(|u| format!("{} {} sha256:{}", u.role, u.family, u.sha256)),
            )
            .collect();
        let mut value = serde_json::to_value(issued)
            .map_err(|e| RenderError::Layout(format!("the document's data: {e}")))?;
        if let Some(map) = value.as_object_mut() {
            map.insert("keywords".into(), serde_json::json!(keywords));
            map.insert(
                "description".into(),
                serde_json::json!(format!("{} {}", issued.number, issued.title)),
            );
            map.insert(
                "issuer".into(),
                serde_json::json!(issued.issuer_units.join("、")),
            );
            map.insert("mark_suffix".into(), serde_json::json!(suffix));
            map.insert(
                "title_lines".into(),
                serde_json::json!(title_lines(&issued.title, TITLE_CHARS)),
            );
            map.insert(
                "mark_size".into(),
                serde_json::json!(mark_size(&issued.issuer_units, suffix)),
            );
            map.insert(
                "fonts".into(),
                serde_json::json!({
                    "fang": self.fonts.family("仿宋"),
                    "kai": self.fonts.family("楷体"),
                    "hei": self.fonts.family("黑体"),
                    "biaosong": self.fonts.family("小标宋"),
                    "song": self.fonts.family("宋体"),
                }),
            );
        }
        serde_json::to_vec(&value).map_err(|e| RenderError::Layout(e.to_string()))
    }

    /// Lays `issued` out and writes it as a PDF/A-2b, dated its 印发 date.
    pub fn render(&self, issued: &Issued) -> Result<Rendered, RenderError> {
        let world = OneDocument::new(self, self.data(issued)?)?;
        let compiled = typst::compile::<PagedDocument>(&world).output;
        // What typst memoized for this document is of little use for the next (another
        // document): keep the process's memory flat.
        typst::comemo::evict(10);
        let document = compiled.map_err(|errors| RenderError::Layout(messages(&errors)))?;
        let date = issued.issued_on;
        let day = |n: u32| u8::try_from(n).unwrap_or(1);
        let timestamp = Datetime::from_ymd(
            chrono::Datelike::year(&date),
            day(chrono::Datelike::month(&date)),
            day(chrono::Datelike::day(&date)),
        )
        .and_then(|d| Timestamp::new_local(d, 8 * 60))
        .ok_or_else(|| {
            RenderError::Layout(format!("the 印发 date {date} is not a date typst takes"))
        })?;
        let options = PdfOptions {
            ident: Smart::Custom(issued.document_id.clone()),
            creator: Smart::Custom(Some("workflow (GB/T 9704-2012)".into())),
            timestamp: Some(timestamp),
            standards: PdfStandards::new(&[PdfStandard::A_2b])
                .map_err(|e| RenderError::Layout(e.message().to_string()))?,
            ..PdfOptions::default()
        };
        let pdf = typst_pdf::pdf(&document, &options)
            .map_err(|errors| RenderError::Layout(messages(&errors)))?;
        Ok(Rendered {
            sha256: hex::encode(Sha256::digest(&pdf)),
            pages: document.pages().len(),
            fonts: self.fonts.used().to_vec(),
            pdf,
        })
    }
}

fn messages(errors: &[typst::diag::SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The world one document is compiled in: the template as `/main.typ`, its data as
/// `/data.json`, the renderer's fonts, no date and no other file.
struct OneDocument<'a> {
    renderer: &'a Renderer,
    main: Source,
    data_id: FileId,
    data: Bytes,
}

impl<'a> OneDocument<'a> {
    fn new(renderer: &'a Renderer, data: Vec<u8>) -> Result<Self, RenderError> {
        let id = |path: &str| {
            VirtualPath::new(path)
                .map(|p| RootedPath::new(VirtualRoot::Project, p).intern())
                .map_err(|e| RenderError::Layout(format!("{path}: {e:?}")))
        };
        Ok(OneDocument {
            renderer,
            main: Source::new(id("/main.typ")?, TEMPLATE.to_owned()),
            data_id: id("/data.json")?,
            data: Bytes::new(data),
        })
    }
}

impl World for OneDocument<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.renderer.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.renderer.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else if id == self.main.id() {
            Ok(Bytes::from_string(self.main.clone()))
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.renderer.fonts.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // Nothing in a 公文 depends on the day it is rendered.
        None
    }
}
