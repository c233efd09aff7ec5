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
pub mod printer;

use std::path::PathBuf;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};
use workflow_core::content::Digest;

pub use data::{Issued, Paragraph, chinese_date, paragraph};
pub use fonts::{FontFiles, FontUsed, Fonts};

/// The layout (GB/T 9704-2012), compiled into the binary.
pub const TEMPLATE: &str = include_str!("../template/gbt9704.typ");

/// The layout's number, recorded in every PDF (`workflow-layout 1` among its keywords).
/// The same record, layout and fonts give the same bytes, so that `verify` can lay an
/// archived 公文 out again and compare: any change to the template or to the data it is
/// given that changes a PDF's bytes takes a new number (the golden digest in the layout
/// tests fails until it does), and a build keeps the layouts it ever printed with.
pub const LAYOUT: u32 = 1;

/// The keyword naming the layout (the store reads it back).
use workflow_store::print::LAYOUT_KEYWORD;

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

/// What a PDF says it was printed with (its layout's number and fonts), read back by the
/// store's 四性检测 too: kept in `workflow_store::print`, one place for both.
pub use workflow_store::print::{PrintedWith, printed_with};

/// Whether a kept copy is what its record prints (see [`Renderer::check`]): the store's
/// verdict, which verify reports.
pub use workflow_store::print::Reprint;

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

/// The segmenter the 标题 is broken by (its dictionary built once per process).
fn words() -> &'static jieba_rs::Jieba {
    static JIEBA: std::sync::OnceLock<jieba_rs::Jieba> = std::sync::OnceLock::new();
    JIEBA.get_or_init(jieba_rs::Jieba::new)
}

/// Punctuation a line may not begin with, and punctuation it may not end with.
const NO_LINE_START: &str = "，。、；：？！）》」』”’〕】…";
const NO_LINE_END: &str = "（《「『“‘〔【";

/// The 标题 in lines of at most `max` full-width characters (half-width digits and letters
/// count half), as even as they can be (GB/T 9704: 回行时要做到词意完整，排列对称，长短适宜):
/// broken only between words (Chinese words as jieba segments them; a run of digits or
/// letters stays whole; no line begins with a closing mark or ends with an opening one),
/// in as few lines as that allows, each ending where it comes nearest its share of what
/// is left, the earlier lines the longer on a tie.
pub fn title_lines(title: &str, max: usize) -> Vec<String> {
    let title = title.trim();
    let width = |s: &str| -> usize { s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum() };
    // Words, with punctuation kept to the word it belongs with.
    let mut tokens: Vec<String> = Vec::new();
    let mut glue_next = false;
    for token in words().cut(title, true) {
        let w = token.word;
        let first = w.chars().next().unwrap_or(' ');
        let glue_prev = NO_LINE_START.contains(first)
            || (first.is_ascii_alphanumeric()
                && tokens
                    .last()
                    .and_then(|t| t.chars().last())
                    .is_some_and(|c| c.is_ascii_alphanumeric()));
        match tokens.last_mut() {
            Some(last) if glue_prev || glue_next => last.push_str(w),
            _ => tokens.push(w.to_owned()),
        }
        glue_next = w.chars().last().is_some_and(|c| NO_LINE_END.contains(c));
    }
    let total: usize = tokens.iter().map(|t| width(t)).sum();
    let cap = 2 * max.max(1);
    let mut count = total.div_ceil(cap).max(1);
    loop {
        let lines = break_into(&tokens, count, cap, total, width);
        if count >= tokens.len() || lines.iter().all(|l| width(l) <= cap) {
            return lines;
        }
        count += 1;
    }
}

/// `tokens` in at most `count` lines of about their share of the width each.
fn break_into(
    tokens: &[String],
    count: usize,
    cap: usize,
    total: usize,
    width: impl Fn(&str) -> usize,
) -> Vec<String> {
    let mut out = Vec::with_capacity(count);
    let (mut line, mut used, mut done) = (String::new(), 0, 0);
    for t in tokens {
        let w = width(t);
        let left = count - out.len();
        if left > 1 && used > 0 {
            let share = (total - done).div_ceil(left);
            let with = used + w;
            if with > cap || (with > share && with - share > share - used.min(share)) {
                out.push(std::mem::take(&mut line));
                done += used;
                used = 0;
            }
        }
        line.push_str(t);
        used += w;
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
        // The 标题's segmenter, built now rather than in the first 印发.
        words();
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
        /// The font families the template sets each role in.
        #[derive(serde::Serialize)]
        struct Families<'a> {
            fang: &'a str,
            kai: &'a str,
            hei: &'a str,
            biaosong: &'a str,
            song: &'a str,
        }
        /// The record's lines and what the layout derives from them.
        #[derive(serde::Serialize)]
        struct TemplateData<'a> {
            #[serde(flatten)]
            issued: &'a Issued,
            keywords: Vec<String>,
            description: String,
            issuer: String,
            /// 印发日期, e.g. `2026年12月6日`.
            issue_date: String,
            mark_suffix: &'static str,
            title_lines: Vec<String>,
            mark_size: f64,
            fonts: Families<'a>,
        }
        let suffix = "文件";
        let family = |role| self.fonts.family(role);
        let data = TemplateData {
            issued,
            keywords: [
                "GB/T 9704-2012".to_owned(),
                format!("{LAYOUT_KEYWORD} {LAYOUT}"),
            ]
            .into_iter()
            .chain(self.fonts.used().iter().map(FontUsed::keyword))
            .collect(),
            description: format!("{} {}", issued.number, issued.title),
            issuer: issued.issuer_units.join("、"),
            issue_date: chinese_date(issued.issued_on),
            mark_suffix: suffix,
            title_lines: title_lines(&issued.title, TITLE_CHARS),
            mark_size: mark_size(&issued.issuer_units, suffix),
            fonts: Families {
                fang: family("仿宋"),
                kai: family("楷体"),
                hei: family("黑体"),
                biaosong: family("小标宋"),
                song: family("宋体"),
            },
        };
        serde_json::to_vec(&data)
            .map_err(|e| RenderError::Layout(format!("the document's data: {e}")))
    }

    /// Whether `kept`, a copy of `issued` printed earlier, is what it prints now: laid out
    /// again when it was printed with this layout and these fonts (the same bytes, or the
    /// digests that differ), else why that cannot tell.
    pub fn check(&self, issued: &Issued, kept: &[u8]) -> Result<Reprint, RenderError> {
        let Some(with) = printed_with(kept) else {
            return Ok(Reprint::CannotTell(
                "the kept copy names no layout or fonts: it was not printed by this software"
                    .into(),
            ));
        };
        match with.layout {
            Some(n) if n == LAYOUT => {}
            Some(n) if n > LAYOUT => {
                return Ok(Reprint::CannotTell(format!(
                    "printed with layout {n}, newer than this build's ({LAYOUT}): check it with a newer build"
                )));
            }
            Some(n) => {
                return Ok(Reprint::CannotTell(format!(
                    "printed with layout {n}, which this build does not have (it has {LAYOUT})"
                )));
            }
            None => {
                return Ok(Reprint::CannotTell(
                    "printed before layouts were numbered".into(),
                ));
            }
        }
        let here: Vec<String> = self.fonts.used().iter().map(FontUsed::keyword).collect();
        if here != with.fonts {
            let missing: Vec<&str> = with
                .fonts
                .iter()
                .filter(|f| !here.contains(f))
                .map(String::as_str)
                .collect();
            return Ok(Reprint::CannotTell(format!(
                "printed with fonts this machine does not have ({}); it has {}",
                missing.join("; "),
                here.join("; ")
            )));
        }
        let again = self.render(issued)?;
        Ok(if again.pdf == kept {
            Reprint::Same
        } else {
            Reprint::Differs(format!(
                "laid out again from the record with the same layout and fonts it hashes to \
                 {}, not to the kept copy's {}: the kept copy does not show this record",
                again.sha256,
                Digest::of(kept)
            ))
        })
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
        let (month, day) = (
            u8::try_from(chrono::Datelike::month(&date)).ok(),
            u8::try_from(chrono::Datelike::day(&date)).ok(),
        );
        let timestamp = month
            .zip(day)
            .and_then(|(m, d)| Datetime::from_ymd(chrono::Datelike::year(&date), m, d))
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
            sha256: Digest::of(&pdf).to_string(),
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
