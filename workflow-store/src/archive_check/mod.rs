//! 四性检测 (DA/T 70-2018): whether the archived records of a 全宗, 年度 and 保管期限 are
//! 真实 (authentic), 完整 (complete), 可用 (usable) and 安全 (secure), checked from the log
//! the engine keeps — one line per check, 通过 or 不通过 and why (DESIGN §14).
//!
//! What is checked, by aspect (the names are DA/T 70's; its item numbers are not repeated
//! here):
//!
//! | aspect | check |
//! |---|---|
//! | 真实性 | 固化信息有效性: the hash chain from position 1, the head recorded with the last commit, each archived record's fixity digest |
//! | 真实性 | 内容数据的电子属性一致性: every kept file hashes to its digest |
//! | 真实性 | 版式文件与记录一致性: each issued 公文 kept at 印发 prints again the same (where a printer is configured) |
//! | 真实性 | 元数据项格式与值域: 档号's parts, 题名, 发文字号 / 收文编号 |
//! | 完整性 | 件号连续性: 1, 2, 3 … without gaps or repeats per 全宗, 年度, 保管期限 |
//! | 完整性 | 文号连续性: 发文字号, 收文编号, 签报编号, 督办立项号 without gaps per series and year |
//! | 完整性 | 过程信息完整性: each record's 办理过程 whole, version 1 to its last, ending in its 归档 |
//! | 完整性 | 内容数据完整性: each record has its content, and every file it names is kept |
//! | 可用性 | 内容数据格式: every file of a format kept for the long term ([`ARCHIVAL_KINDS`]) |
//! | 可用性 | 内容数据可读性: every file opens — a PDF parsed (cross-reference table, objects, a page) and not encrypted, a PNG or JPEG decoded, an OFD's container holding its `OFD.xml` |
//! | 可用性 | 软硬件环境记录: each issued 公文 printed at 印发 names the layout and the fonts (with their SHA-256) it was printed with |
//! | 安全性 | 存储安全性: the log extends a head recorded elsewhere (a witness), when one is given |
//!
//! Not checked here: viruses (a virus scanner's job) and the 载体 (the medium a package
//! is written to).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use workflow_core::content::{Digest, FileKind};
use workflow_core::numbering::Series;
use workflow_core::retention::Retention;
use workflow_core::{DocumentId, FlowEvent, FlowState, Recorded, StreamKind, flow::Closing};

use crate::engine::Engine;
use crate::envelope::{Envelope, LogHead};
use crate::error::Result;

mod package;
pub use package::check_package;

/// Which archived records a check covers: those whose 档号 has this 全宗号, 年度 and
/// 保管期限 (each, when given; none given: every archived record).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ArchiveScope {
    /// 全宗号.
    pub fonds: Option<String>,
    /// 年度.
    pub year: Option<i32>,
    /// 保管期限.
    pub retention: Option<Retention>,
    /// A head recorded elsewhere (a witness) the log must extend.
    #[serde(skip)]
    pub against: Option<LogHead>,
    /// The clearance of whoever reads the report (the console's operator): the names of
    /// files of records classified above it are not shown in its findings. None: shown
    /// (the operator's own commands, the archive system over gRPC).
    #[serde(skip)]
    pub viewer: Option<workflow_core::directory::Classification>,
}

/// The 值域 of a 全宗号: 1 to 10 letters or digits.
fn fonds_in_range(fonds: &str) -> bool {
    (1..=10).contains(&fonds.len()) && fonds.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The 值域 of a 年度.
const YEARS: std::ops::RangeInclusive<i32> = 1949..=2200;

/// A scope asked for that can cover nothing as written (see [`ArchiveScope::check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeProblem {
    /// `fonds` or `year`.
    pub field: &'static str,
    /// Why, in a sentence for the person who asked.
    pub reason: String,
}

impl ArchiveScope {
    /// Whether the 全宗号 and 年度 asked for are in their 值域 (a mistyped one is said, not
    /// checked into an empty report).
    pub fn check(&self) -> std::result::Result<(), ScopeProblem> {
        if let Some(f) = &self.fonds
            && !fonds_in_range(f)
        {
            return Err(ScopeProblem {
                field: "fonds",
                reason: format!("全宗号“{f}”不对：全宗号是 1 至 10 位字母或数字，例如 J012"),
            });
        }
        if let Some(y) = self.year
            && !YEARS.contains(&y)
        {
            return Err(ScopeProblem {
                field: "year",
                reason: format!(
                    "年度“{y}”不对：年度是 {} 至 {} 之间的年份，例如 2026",
                    YEARS.start(),
                    YEARS.end()
                ),
            });
        }
        Ok(())
    }

    fn covers(&self, r: &workflow_core::numbering::ArchiveReference) -> bool {
        self.covers_items(&r.fonds, r.year, r.retention)
    }

    /// Whether the 件号 of this 全宗, 年度 and 保管期限 are in scope.
    fn covers_items(&self, fonds: &str, year: i32, retention: Retention) -> bool {
        self.fonds.as_deref().is_none_or(|f| f == fonds)
            && self.year.is_none_or(|y| y == year)
            && self.retention.is_none_or(|k| k == retention)
    }

    /// What it covers, in words: `全宗 X001 · 2026年度 · 永久`, or `全部归档记录`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = &self.fonds {
            parts.push(format!("全宗 {f}"));
        }
        if let Some(y) = self.year {
            parts.push(format!("{y}年度"));
        }
        if let Some(r) = self.retention {
            parts.push(r.chinese().to_owned());
        }
        if parts.is_empty() {
            "全部归档记录".into()
        } else {
            parts.join(" · ")
        }
    }
}

/// One of the four properties (四性).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    /// 真实性.
    Authenticity,
    /// 完整性.
    Integrity,
    /// 可用性.
    Usability,
    /// 安全性.
    Security,
}

impl Aspect {
    /// 真实性, 完整性, 可用性, 安全性.
    pub fn chinese(self) -> &'static str {
        match self {
            Aspect::Authenticity => "真实性",
            Aspect::Integrity => "完整性",
            Aspect::Usability => "可用性",
            Aspect::Security => "安全性",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckItem {
    /// Which property it checks.
    pub aspect: Aspect,
    /// A stable code for programs, e.g. `integrity.item_numbers`.
    pub code: &'static str,
    /// Its name, in DA/T 70's words.
    pub name: &'static str,
    /// 通过 (`true`) or 不通过.
    pub passed: bool,
    /// How many things it looked at (records, files, numbers, events).
    pub checked: u64,
    /// What it found wrong, one sentence each (empty when it passed), or, for a check that
    /// passed with something to say, that.
    pub findings: Vec<String>,
}

/// A 四性检测 report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveCheck {
    /// What it covers, in words.
    pub scope: String,
    /// The archived records it covers.
    pub records: u64,
    /// Whether a 全宗, 年度 or 保管期限 was asked for.
    pub scoped: bool,
    /// The log's events walked.
    pub events: u64,
    /// Its lines, by aspect.
    pub items: Vec<CheckItem>,
}

impl ArchiveCheck {
    /// Whether every line passed, over at least one record when a 全宗, 年度 or 保管期限
    /// was asked for (a mistyped 全宗号 covers none: that is not a pass).
    pub fn passed(&self) -> bool {
        self.items.iter().all(|i| i.passed) && !(self.scoped && self.records == 0)
    }

    /// The report as a person reads it: a heading, then one line per check with 通过 or
    /// 不通过, and under a failed one what was wrong.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "四性检测报告（DA/T 70-2018）\n范围：{}；归档记录 {} 件；日志事件 {} 条\n\n",
            self.scope, self.records, self.events
        );
        for item in &self.items {
            out.push_str(&format!(
                "[{}] {} {}（检查 {} 项）\n",
                item.aspect.chinese(),
                item.name,
                if item.passed { "通过" } else { "不通过" },
                item.checked
            ));
            for f in &item.findings {
                out.push_str(&format!("    {f}\n"));
            }
        }
        out.push_str(&format!("\n结论：{}\n", self.conclusion()));
        out
    }

    /// The verdict in a sentence, as the report ends and the console's banner says it.
    pub fn conclusion(&self) -> String {
        let failed = self.items.iter().filter(|i| !i.passed).count();
        if failed == 0 && self.records == 0 && self.scoped {
            "不通过——范围内没有归档记录（请核对全宗号、年度、保管期限）。".to_owned()
        } else if failed == 0 && self.records == 0 {
            "库中没有归档记录；日志与其余各项检测通过。".to_owned()
        } else if failed == 0 {
            format!(
                "{} 项检测全部通过（归档记录 {} 件）。",
                self.items.len(),
                self.records
            )
        } else {
            format!(
                "{} 项检测中 {failed} 项不通过（归档记录 {} 件）。",
                self.items.len(),
                self.records
            )
        }
    }

    /// The report as CSV (UTF-8 with a byte-order mark, as spreadsheets on campus expect):
    /// `性,代码,检测项,结果,检查数,说明`, one row per check, its findings joined by `；`.
    pub fn to_csv(&self) -> String {
        let field = |s: &str| {
            // A cell a spreadsheet would take for a formula is kept as text.
            let s = if s.starts_with(['=', '+', '-', '@']) {
                format!("'{s}")
            } else {
                s.to_owned()
            };
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s
            }
        };
        let mut out = String::from("\u{feff}性,代码,检测项,结果,检查数,说明\n");
        for i in &self.items {
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                i.aspect.chinese(),
                i.code,
                field(i.name),
                if i.passed { "通过" } else { "不通过" },
                i.checked,
                field(&i.findings.join("；"))
            ));
        }
        out
    }
}

/// The formats kept for the long term (GB/T 18894: 版式 documents as PDF or OFD, images as
/// JPEG or PNG); word-processing files, spreadsheets and other archives are converted to
/// one of them before 归档.
pub const ARCHIVAL_KINDS: [FileKind; 4] =
    [FileKind::Pdf, FileKind::Ofd, FileKind::Jpg, FileKind::Png];

/// At most this many findings are listed per check (the count says how many more).
const LISTED: usize = 20;

fn item(
    aspect: Aspect,
    code: &'static str,
    name: &'static str,
    checked: u64,
    mut problems: Vec<String>,
) -> CheckItem {
    let passed = problems.is_empty();
    if problems.len() > LISTED {
        let more = problems.len() - LISTED;
        problems.truncate(LISTED);
        problems.push(format!("……另有 {more} 处"));
    }
    CheckItem {
        aspect,
        code,
        name,
        passed,
        checked,
        findings: problems,
    }
}

/// What the walk of the log learns of one stream.
#[derive(Default)]
struct Stream {
    kind: Option<StreamKind>,
    /// Versions seen, in log order (each must be the one before plus one, from 1).
    last_version: u64,
    version_problem: Option<String>,
    /// Whether its first event started it (the flow creates a state from it).
    started: bool,
    /// Its 归档 event's version and digest, if it was filed.
    filed: Option<(u64, Option<String>)>,
}

/// The series of a number as the report names it.
fn series_name(s: &Series) -> String {
    match s {
        Series::Document { prefix, year } => format!("发文字号 {prefix}〔{year}〕"),
        Series::Receipt { prefix, year } => format!("收文编号 {prefix}〔{year}〕"),
        Series::Memo { prefix, year } => format!("签报编号 {prefix}〔{year}〕"),
        Series::Supervision { year } => format!("督办立项号 {year}年"),
        Series::Item {
            fonds,
            year,
            retention,
        } => format!("件号 全宗{fonds}·{year}·{}", retention.chinese()),
    }
}

/// The gaps and repeats of the numbers `taken` (1, 2, 3 … expected).
fn gaps(series: &Series, taken: &mut [(u32, DocumentId)]) -> Vec<String> {
    taken.sort();
    let mut out = Vec::new();
    let mut expected = 1u32;
    for (n, id) in taken.iter() {
        if *n < expected {
            out.push(format!(
                "{}：第 {n} 号重复（文档 {id}）",
                series_name(series)
            ));
            continue;
        }
        if *n > expected {
            let missing = if *n == expected + 1 {
                format!("第 {expected} 号")
            } else {
                format!("第 {expected}–{} 号", n - 1)
            };
            out.push(format!("{}：缺{missing}", series_name(series)));
        }
        expected = n.saturating_add(1);
    }
    out
}

/// The issued 公文 printed at 印发 a record names (its digest), if any.
fn printed_of(state: &FlowState) -> Option<Digest> {
    match state {
        FlowState::Outgoing(d) => d.issue()?.printed.as_ref().map(|f| f.digest.clone()),
        _ => None,
    }
}

/// Why a printed 公文's bytes do not record the rendering environment (the layout's number
/// and each font with its digest), or `None` when they do.
fn unrecorded_environment(pdf: &[u8]) -> Option<String> {
    match crate::print::printed_with(pdf) {
        None => Some("未记录其版式与字体（渲染环境）".into()),
        Some(w) if w.layout.is_none() => Some("未记录其版式编号".into()),
        Some(_) => None,
    }
}

/// Why a file of `kind` is not of a format kept for the long term, or `None` when it is.
fn format_problem(kind: Option<FileKind>) -> Option<String> {
    match kind {
        Some(k) if !ARCHIVAL_KINDS.contains(&k) => Some(format!(
            "为 {}，不是长期保存格式（PDF、OFD、JPEG、PNG）",
            k.name()
        )),
        None => Some("格式无法识别".into()),
        Some(_) => None,
    }
}

/// Whether `bytes`, a file of `kind`, open as what they are: a PDF whole (its header, its
/// `%%EOF`, a cross-reference table and objects a PDF parser reads, at least one page) and
/// not encrypted; a PNG or a JPEG decoding to its last pixel; an OFD a ZIP container holding
/// its `OFD.xml`. `Some(why)` when not. Other kinds are judged by the format line alone.
fn unreadable(kind: Option<FileKind>, bytes: &[u8]) -> Option<String> {
    match kind {
        None => Some("格式无法识别".into()),
        Some(FileKind::Pdf) => {
            let tail = &bytes[bytes.len().saturating_sub(1024)..];
            if !bytes.starts_with(b"%PDF-") {
                return Some("PDF 文件头缺失".into());
            }
            if !tail.windows(5).any(|w| w == b"%%EOF") {
                return Some("PDF 文件尾（%%EOF）缺失，文件不完整".into());
            }
            if bytes.windows(8).any(|w| w == b"/Encrypt") {
                return Some("PDF 已加密（/Encrypt），长期保存须解除加密".into());
            }
            match hayro_syntax::Pdf::new(bytes.to_vec()) {
                Err(hayro_syntax::LoadPdfError::Decryption(_)) => {
                    Some("PDF 已加密，长期保存须解除加密".into())
                }
                Err(_) => Some("PDF 结构无法解析（交叉引用表或对象损坏）".into()),
                Ok(pdf) if pdf.pages().is_empty() => Some("PDF 没有页面".into()),
                Ok(_) => None,
            }
        }
        Some(FileKind::Png) => {
            let decoded = png::Decoder::new(std::io::Cursor::new(bytes))
                .read_info()
                .and_then(|mut reader| {
                    let size = reader.output_buffer_size().unwrap_or(0);
                    let mut buf = vec![0; size];
                    reader.next_frame(&mut buf).map(|_| ())
                });
            decoded.err().map(|e| format!("PNG 图像无法解码：{e}"))
        }
        Some(FileKind::Jpg) => zune_jpeg::JpegDecoder::new(std::io::Cursor::new(bytes))
            .decode()
            .err()
            .map(|e| format!("JPEG 图像无法解码：{e:?}")),
        Some(FileKind::Ofd) => match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
            Err(e) => Some(format!("OFD 容器（ZIP）无法打开：{e}")),
            Ok(z) if !z.file_names().any(|n| n.is_ok_and(|n| n == "OFD.xml")) => {
                Some("OFD 容器中没有入口文件 OFD.xml".into())
            }
            Ok(_) => None,
        },
        Some(_) => None,
    }
}

/// What is out of its 值域 in a record's metadata (DA/T 46's elements the engine holds:
/// 档号's parts, 题名, 文号), one sentence each.
fn metadata_problems(id: DocumentId, state: &FlowState) -> Vec<String> {
    let mut out = Vec::new();
    let p = state.particulars();
    if let Some(a) = p.archive {
        let r = &a.reference;
        if !fonds_in_range(&r.fonds) {
            out.push(format!(
                "文档 {id}：全宗号 {:?} 不是 1–10 位字母或数字",
                r.fonds
            ));
        }
        if !YEARS.contains(&r.year) {
            out.push(format!("文档 {id}：年度 {} 不在值域内", r.year));
        }
        if r.item == 0 {
            out.push(format!("文档 {id}：件号为 0"));
        }
        if r.unit.trim().is_empty() {
            out.push(format!("文档 {id}：档号缺机构（问题）代码"));
        }
    }
    let title = state.title();
    if title.trim().is_empty() || title.chars().any(char::is_control) {
        out.push(format!("文档 {id}：题名为空或含控制字符"));
    }
    if p.number.as_deref().is_some_and(|n| n.trim().is_empty()) {
        out.push(format!("文档 {id}：文号为空"));
    }
    out
}

impl Engine {
    /// The 四性检测 of the archived records `scope` covers (see the module's docs).
    /// Reads the whole log and every file those records name; writes nothing.
    pub fn check_archive(&self, scope: &ArchiveScope) -> Result<ArchiveCheck> {
        self.check_archive_with(scope, |_, _| {})
    }

    /// [`Engine::check_archive`], calling `progress(done, total)` as the log's events are
    /// verified (the longest part; the report's own pass follows).
    pub fn check_archive_with(
        &self,
        scope: &ArchiveScope,
        progress: impl FnMut(u64, u64),
    ) -> Result<ArchiveCheck> {
        let storage = &*self.inner.storage;
        // 固化信息: the chain, the recorded head, the fixity digests, the kept files and
        // the printed 公文, as verify checks them.
        let verified = self.verify_with(
            &crate::replay::VerifyOptions {
                against: scope.against.clone(),
            },
            progress,
        )?;

        // One walk of the log: each stream's versions and 归档, every number claimed.
        let mut streams: HashMap<DocumentId, Stream> = HashMap::new();
        let mut numbers: HashMap<Series, Vec<(u32, DocumentId)>> = HashMap::new();
        let mut events = 0u64;
        let mut unreadable_events = Vec::new();
        let mut from = 1;
        loop {
            let batch = storage.read_log(from, 1000)?;
            let Some(last) = batch.last() else { break };
            from = last.position + 1;
            for stored in &batch {
                events += 1;
                let decoded = serde_json::from_slice::<Envelope>(&stored.bytes)
                    .map_err(|e| e.to_string())
                    .and_then(|envelope| {
                        envelope
                            .event()
                            .map(|event| (envelope, event))
                            .map_err(|e| e.to_string())
                    });
                let (envelope, event): (Envelope, Recorded<FlowEvent>) = match decoded {
                    Ok(d) => d,
                    Err(why) => {
                        unreadable_events
                            .push(format!("位置 {} 的事件无法读取：{why}", stored.position));
                        continue;
                    }
                };
                let s = streams.entry(envelope.stream_id).or_default();
                if s.last_version == 0 {
                    s.kind = Some(envelope.stream_kind());
                    s.started = FlowState::create(&event).is_some();
                }
                if envelope.version != s.last_version + 1 && s.version_problem.is_none() {
                    s.version_problem = Some(format!(
                        "文档 {}：第 {} 号事件之后是第 {} 号（位置 {}），办理过程缺失",
                        envelope.stream_id, s.last_version, envelope.version, stored.position
                    ));
                }
                s.last_version = envelope.version;
                if let Some(Closing::Filed(digest)) = event.data.closing() {
                    s.filed = Some((envelope.version, digest.map(str::to_owned)));
                }
                if let Some((series, n)) = event.data.number_claim() {
                    numbers
                        .entry(series)
                        .or_default()
                        .push((n, envelope.stream_id));
                }
            }
        }

        // The records in scope, as they stand.
        let mut records = Vec::new();
        let mut missing_records = Vec::new();
        for (id, s) in &streams {
            if s.kind == Some(StreamKind::Directory) || s.filed.is_none() {
                continue;
            }
            let Some(state) = storage.doc(*id)?.map(|r| r.state) else {
                missing_records.push(format!(
                    "文档 {id}：日志中已归档，但无其记录（请运行 workflow rebuild）"
                ));
                continue;
            };
            let in_scope = state
                .particulars()
                .archive
                .is_some_and(|a| scope.covers(&a.reference));
            if in_scope {
                records.push((*id, state));
            }
        }
        records.sort_by_key(|(id, _)| *id);
        let in_scope: HashSet<DocumentId> = records.iter().map(|(id, _)| *id).collect();
        // A file as the findings name it: not by its name where the record is classified
        // above the reader's clearance.
        let hidden: HashSet<DocumentId> = records
            .iter()
            .filter(|(_, state)| {
                scope
                    .viewer
                    .is_some_and(|viewer| state.classification() > viewer)
            })
            .map(|(id, _)| *id)
            .collect();
        let file_named = |name: &str, id: &DocumentId| {
            if hidden.contains(id) {
                "《（密级高于查看人许可，名称不显示）》".to_owned()
            } else {
                format!("《{name}》")
            }
        };
        let years: HashSet<i32> = records
            .iter()
            .filter_map(|(_, s)| s.particulars().archive.map(|a| a.reference.year))
            .collect();

        let mut items = Vec::new();

        // 真实性.
        let mut chain = Vec::new();
        if let Some(b) = &verified.first_break {
            chain.push(format!("哈希链在位置 {} 处断开：{}", b.position, b.reason));
        }
        let unfixed: Vec<String> = records
            .iter()
            .filter(|(id, _)| streams[id].filed.as_ref().is_some_and(|(_, d)| d.is_none()))
            .map(|(id, _)| format!("文档 {id}：归档时未记录固化摘要"))
            .collect();
        chain.extend(unfixed);
        chain.extend(unreadable_events);
        items.push(item(
            Aspect::Authenticity,
            "authenticity.fixity",
            "固化信息有效性（哈希链、记录头与归档固化摘要）",
            verified.checked,
            chain,
        ));
        let file_problems: Vec<String> = verified
            .file_problems
            .iter()
            .filter(|p| p.documents.iter().any(|d| in_scope.contains(d)))
            .map(|p| {
                format!(
                    "文件 {}：{}（文档 {}）",
                    p.digest,
                    p.reason,
                    ids(&p.documents)
                )
            })
            .collect();
        items.push(item(
            Aspect::Authenticity,
            "authenticity.content_digests",
            "内容数据的电子属性一致性（文件摘要与大小）",
            verified.files_checked,
            file_problems,
        ));
        let printed: Vec<String> = verified
            .printed_problems
            .iter()
            .filter(|p| in_scope.contains(&p.document))
            .map(|p| format!("{}（文档 {}）：{}", p.number, p.document, p.reason))
            .collect();
        let mut printed_item = item(
            Aspect::Authenticity,
            "authenticity.printed",
            "版式文件与记录一致性（印发的公文按记录重排一致）",
            verified.printed_checked,
            printed,
        );
        if printed_item.passed {
            let not_checked = verified
                .printed_not_checked
                .iter()
                .filter(|p| in_scope.contains(&p.document))
                .count();
            if not_checked > 0 {
                printed_item.findings.push(format!(
                    "{not_checked} 件未能重排核对（本机无同版式或字体）"
                ));
            }
        }
        items.push(printed_item);
        let metadata: Vec<String> = records
            .iter()
            .flat_map(|(id, state)| metadata_problems(*id, state))
            .collect();
        items.push(item(
            Aspect::Authenticity,
            "authenticity.metadata",
            "元数据项格式与值域（档号、题名、文号）",
            records.len() as u64,
            metadata,
        ));

        // 完整性.
        let mut item_numbers = Vec::new();
        let mut checked_items = 0u64;
        let mut other_numbers = Vec::new();
        let mut checked_other = 0u64;
        let mut series: Vec<_> = numbers.into_iter().collect();
        series.sort_by_key(|(s, _)| series_name(s));
        for (s, mut taken) in series {
            match &s {
                Series::Item {
                    fonds,
                    year,
                    retention,
                } => {
                    if scope.covers_items(fonds, *year, *retention) {
                        checked_items += taken.len() as u64;
                        item_numbers.extend(gaps(&s, &mut taken));
                    }
                }
                Series::Document { year, .. }
                | Series::Receipt { year, .. }
                | Series::Memo { year, .. }
                | Series::Supervision { year } => {
                    let covered = match scope.year {
                        Some(y) => y == *year,
                        None => years.contains(year),
                    };
                    if covered {
                        checked_other += taken.len() as u64;
                        other_numbers.extend(gaps(&s, &mut taken));
                    }
                }
            }
        }
        items.push(item(
            Aspect::Integrity,
            "integrity.item_numbers",
            "件号连续性（全宗、年度、保管期限内无缺号重号）",
            checked_items,
            item_numbers,
        ));
        items.push(item(
            Aspect::Integrity,
            "integrity.document_numbers",
            "文号连续性（发文字号、收文编号、签报编号、督办立项号）",
            checked_other,
            other_numbers,
        ));
        let mut process = missing_records;
        for (id, _) in &records {
            let s = &streams[id];
            if !s.started {
                process.push(format!("文档 {id}：办理过程不是从创建开始"));
            }
            if let Some(p) = &s.version_problem {
                process.push(p.clone());
            }
        }
        items.push(item(
            Aspect::Integrity,
            "integrity.process",
            "过程信息完整性（办理过程自创建至归档逐条连续）",
            records.len() as u64,
            process,
        ));
        let mut content = Vec::new();
        let mut files: BTreeMap<String, (String, DocumentId)> = BTreeMap::new();
        for (id, state) in &records {
            let named = state.files();
            let has_text = state
                .particulars()
                .text
                .iter()
                .any(|t| !t.trim().is_empty());
            if named.is_empty() && !has_text {
                content.push(format!("文档 {id}：无正文也无文件"));
            }
            for (name, digest) in named {
                files
                    .entry(digest.to_owned())
                    .or_insert_with(|| (name.to_owned(), *id));
            }
        }
        let mut kept = Vec::new();
        for (digest, (name, id)) in &files {
            let size = Digest::parse(digest)
                .map(|d| storage.content_size(&d).map(|s| s.map(|s| (d, s))))
                .transpose()?
                .flatten();
            match size {
                Some((d, size)) => kept.push((d, size, name.clone(), *id)),
                None => content.push(format!(
                    "文档 {id}：文件{}未随记录保存",
                    file_named(name, id)
                )),
            }
        }
        items.push(item(
            Aspect::Integrity,
            "integrity.content",
            "内容数据完整性（每件有正文或文件，所列文件均已保存）",
            records.len() as u64 + files.len() as u64,
            content,
        ));

        // 可用性.
        let printed: HashSet<Digest> = records
            .iter()
            .filter_map(|(_, state)| printed_of(state))
            .collect();
        let mut formats = Vec::new();
        let mut readable = Vec::new();
        let mut rendering = Vec::new();
        let mut rendering_checked = 0u64;
        for (digest, size, name, id) in &kept {
            let at = format!("{}（文档 {id}）", file_named(name, id));
            // Read whole, once: the format, whether it opens, the 公文's environment.
            let bytes =
                match storage.read_content(digest, 0, usize::try_from(*size).unwrap_or(usize::MAX))
                {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        readable.push(format!("{at}读取失败：{e}"));
                        continue;
                    }
                };
            let kind = workflow_core::content::sniffed_kind(name, &bytes);
            if let Some(why) = format_problem(kind) {
                formats.push(format!("{at}{why}"));
            }
            if let Some(why) = unreadable(kind, &bytes) {
                readable.push(format!("{at}：{why}"));
            }
            if printed.contains(digest) {
                rendering_checked += 1;
                if let Some(why) = unrecorded_environment(&bytes) {
                    rendering.push(format!("{at}{why}"));
                }
            }
        }
        items.push(item(
            Aspect::Usability,
            "usability.formats",
            "内容数据格式（长期保存格式：PDF、OFD、JPEG、PNG）",
            kept.len() as u64,
            formats,
        ));
        items.push(item(
            Aspect::Usability,
            "usability.readable",
            "内容数据可读性（文件结构完整、未加密）",
            kept.len() as u64,
            readable,
        ));
        items.push(item(
            Aspect::Usability,
            "usability.rendering",
            "软硬件环境记录（印发的公文记有版式与字体及其摘要）",
            rendering_checked,
            rendering,
        ));

        // 安全性.
        let mut witness = Vec::new();
        let mut witness_item_checked = 0;
        if let Some(against) = &scope.against {
            witness_item_checked = 1;
            if verified.extends.is_none() {
                witness.push(format!(
                    "日志不延续见证头（位置 {}，哈希 {}）：见证之后有记录被改动",
                    against.position, against.hash
                ));
            }
        }
        let mut security = item(
            Aspect::Security,
            "security.witness",
            "存储安全性（日志延续外部见证头）",
            witness_item_checked,
            witness,
        );
        if scope.against.is_none() {
            security
                .findings
                .push("未给出见证头，仅核对了本库记录的头（见固化信息有效性）".into());
        }
        items.push(security);

        Ok(ArchiveCheck {
            scoped: scope.fonds.is_some() || scope.year.is_some() || scope.retention.is_some(),
            scope: scope.describe(),
            records: records.len() as u64,
            events,
            items,
        })
    }
}

fn ids(ids: &[DocumentId]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("、")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::*;

    #[test]
    fn gaps_and_repeats_are_named_with_their_series() {
        let s = Series::Document {
            prefix: "X校发".into(),
            year: 2026,
        };
        let id = DocumentId(uuid::Uuid::nil());
        assert!(gaps(&s, &mut [(2, id), (1, id), (3, id)]).is_empty());
        assert_eq!(
            gaps(&s, &mut [(1, id), (4, id), (4, id), (6, id)]),
            vec![
                "发文字号 X校发〔2026〕：缺第 2–3 号".to_owned(),
                format!("发文字号 X校发〔2026〕：第 4 号重复（文档 {id}）"),
                "发文字号 X校发〔2026〕：缺第 5 号".to_owned(),
            ]
        );
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_are_kept_as_text() {
        let report = ArchiveCheck {
            scope: "x".into(),
            records: 1,
            scoped: false,
            events: 1,
            items: vec![item(
                Aspect::Security,
                "security.package",
                "name",
                1,
                vec!["=HYPERLINK(\"http://x\")".into(), "a\rb".into()],
            )],
        };
        let csv = report.to_csv();
        let row = csv.lines().nth(1).unwrap();
        assert!(
            row.ends_with(",\"'=HYPERLINK(\"\"http://x\"\")；a\rb\""),
            "{row:?}"
        );
        assert!(report.conclusion().contains("1 项不通过"));
    }

    #[test]
    fn a_pdf_opens_when_whole_and_not_encrypted() {
        /// A PDF of `pages` empty pages, its cross-reference table right.
        fn pdf(pages: usize, trailer_extra: &str) -> Vec<u8> {
            let kids: Vec<String> = (0..pages).map(|n| format!("{} 0 R", n + 3)).collect();
            let mut objects = vec![
                "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
                format!(
                    "<< /Type /Pages /Kids [{}] /Count {pages} >>",
                    kids.join(" ")
                ),
            ];
            for _ in 0..pages {
                objects.push("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".into());
            }
            let mut out = String::from("%PDF-1.7\n");
            let mut offsets = Vec::new();
            for (n, body) in objects.iter().enumerate() {
                offsets.push(out.len());
                out.push_str(&format!("{} 0 obj\n{body}\nendobj\n", n + 1));
            }
            let xref = out.len();
            out.push_str(&format!(
                "xref\n0 {}\n0000000000 65535 f \n",
                objects.len() + 1
            ));
            for o in offsets {
                out.push_str(&format!("{o:010} 00000 n \n"));
            }
            out.push_str(&format!(
                "trailer\n<< /Size {} /Root 1 0 R {trailer_extra}>>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            ));
            out.into_bytes()
        }
        let kind = Some(FileKind::Pdf);
        assert_eq!(unreadable(kind, &pdf(2, "")), None);
        let whole = pdf(1, "");
        assert!(
            unreadable(kind, &whole[..whole.len() - 8])
                .unwrap()
                .contains("%%EOF")
        );
        assert!(
            unreadable(kind, &pdf(1, "/Encrypt 9 0 R "))
                .unwrap()
                .contains("加密")
        );
        // Header and end marker in place, the body not a PDF: its structure does not parse.
        let broken = b"%PDF-1.7\nnot a pdf at all\n%%EOF\n";
        assert!(
            unreadable(kind, broken).unwrap().contains("结构无法解析")
                || unreadable(kind, broken).unwrap().contains("没有页面"),
            "{:?}",
            unreadable(kind, broken)
        );
        assert!(unreadable(None, b"????").is_some());
    }

    #[test]
    fn images_decode_and_an_ofd_holds_its_entry() {
        // A 2×2 grey PNG decodes; cut short, it does not.
        let mut png_bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut png_bytes, 2, 2);
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&[0, 64, 128, 255]).unwrap();
        }
        let png = Some(FileKind::Png);
        assert_eq!(unreadable(png, &png_bytes), None);
        assert!(
            unreadable(png, &png_bytes[..png_bytes.len() - 20])
                .unwrap()
                .contains("PNG")
        );
        // A JPEG's signature followed by nothing that decodes.
        assert!(
            unreadable(Some(FileKind::Jpg), b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
                .unwrap()
                .contains("JPEG")
        );
        // An OFD: a ZIP container with its OFD.xml; without it, refused.
        let ofd = |entry: &str| {
            let mut out = std::io::Cursor::new(Vec::new());
            let mut zip = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            zip.start_file(entry, options).unwrap();
            std::io::Write::write_all(&mut zip, b"<ofd:OFD/>").unwrap();
            zip.finish().unwrap();
            out.into_inner()
        };
        let kind = Some(FileKind::Ofd);
        assert_eq!(unreadable(kind, &ofd("OFD.xml")), None);
        assert!(
            unreadable(kind, &ofd("Doc_0/Document.xml"))
                .unwrap()
                .contains("OFD.xml")
        );
        assert!(unreadable(kind, b"PK\x03\x04 broken").is_some());
    }
}
