//! What the layout prints, made from a 发文's record alone (its fields, 签发, 印发) and the
//! names of the units it names: every line of the issued 公文 as text, so that the template
//! only places them.

use chrono::NaiveDate;
use serde::Serialize;
use workflow_core::directory::Classification;
use workflow_core::kind::Urgency;
use workflow_core::outgoing::Document;

use crate::RenderError;

/// A paragraph of the 正文: a heading (`h1` 一、 in 黑体, `h2` （一） in 楷体) or plain (`p`),
/// its lead (the heading's words, up to its first 。) set apart from the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paragraph {
    /// `h1`, `h2` or `p`.
    pub kind: &'static str,
    /// The heading's words (a plain paragraph's first character onwards is all `rest`).
    pub lead: String,
    /// The rest of the paragraph.
    pub rest: String,
}

const NUMERALS: &str = "一二三四五六七八九十百零";

/// The paragraph `text` as the layout sets it.
pub fn paragraph(text: &str) -> Paragraph {
    let text = text.trim();
    let numeral_run = |s: &str| s.chars().take_while(|c| NUMERALS.contains(*c)).count();
    let n = numeral_run(text);
    let kind = if n > 0 && text.chars().nth(n) == Some('、') {
        "h1"
    } else if let Some(inner) = text.strip_prefix('（') {
        let m = numeral_run(inner);
        if m > 0 && inner.chars().nth(m) == Some('）') {
            "h2"
        } else {
            "p"
        }
    } else {
        "p"
    };
    if kind == "p" {
        return Paragraph {
            kind,
            lead: String::new(),
            rest: text.to_owned(),
        };
    }
    let (lead, rest) = match text.find('。') {
        Some(i) => text.split_at(i + '。'.len_utf8()),
        None => (text, ""),
    };
    Paragraph {
        kind,
        lead: lead.to_owned(),
        rest: rest.to_owned(),
    }
}

/// A date as the 公文 writes it: `2026年12月6日`.
pub fn chinese_date(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

/// Everything the issued 公文 prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issued {
    /// The document's id (the PDF's stable identifier).
    pub document_id: String,
    /// 标题.
    pub title: String,
    /// The names the issuing units' 公文 go out under (发文机关标志 and 署名), the lead unit
    /// first.
    pub issuer_units: Vec<String>,
    /// 发文字号, e.g. `X校发〔2026〕1号`.
    pub number: String,
    /// 签发人, for an upward document (上行文) only.
    pub signers: Vec<String>,
    /// 版头 marks: 密级★保密期限, 紧急程度 (each when set).
    pub marks: Vec<String>,
    /// 主送, the names joined (empty for none).
    pub main_recipients: String,
    /// 正文.
    pub body: Vec<Paragraph>,
    /// 附件说明: the attachments' names, numbered when several.
    pub attachments: Vec<String>,
    /// 成文日期, e.g. `2026年12月6日` (the 署名 above it is the issuing units).
    pub written_date: String,
    /// 附注, printed in parentheses under the 成文日期 (without them here).
    pub annotation: Option<String>,
    /// 抄送, the names joined (empty for none).
    pub cc: String,
    /// 印发机关.
    pub printer: String,
    /// 印发日期 (printed as `2026年12月6日印发`; the PDF's creation date).
    #[serde(skip)]
    pub issued_on: NaiveDate,
}

/// A recipient as printed: a unit's name for a unit code of the directory, else as written.
fn recipient(r: &str, name_of: &dyn Fn(&str) -> Option<String>) -> String {
    name_of(r).unwrap_or_else(|| r.to_owned())
}

impl Issued {
    /// What `doc` prints with the directory's `units` (in any order): the issuing units under
    /// the names their 公文 go out under ([`Unit::issuing_name`]), other unit codes printed
    /// as their names, the general office of the smallest code (else the issuing unit) as
    /// 印发机关.
    ///
    /// [`Unit::issuing_name`]: workflow_core::directory::Unit::issuing_name
    pub fn with_units(
        doc: &Document,
        units: &[workflow_core::directory::Unit],
    ) -> Result<Issued, RenderError> {
        if doc.issue().is_none() {
            return Err(RenderError::NotIssued(doc.id().to_string()));
        }
        let name_of = |code: &str| {
            units
                .iter()
                .find(|u| u.code.as_str() == code)
                .map(|u| u.name.clone())
        };
        // The general office of the smallest code: the same whatever order the units come
        // in (the writer's directory is a hash map; verify folds the log in code order).
        let printer = units
            .iter()
            .filter(|u| u.office)
            .min_by(|a, b| a.code.cmp(&b.code))
            .or_else(|| units.iter().find(|u| u.code == doc.fields().issuing_unit))
            .map(|u| u.name.clone())
            .ok_or_else(|| {
                RenderError::Layout(format!(
                    "the directory has no general office and no unit {}: there is no 印发机关 \
                     to print",
                    doc.fields().issuing_unit
                ))
            })?;
        let mut issued = Issued::from_document(doc, &name_of, &printer)?;
        let f = doc.fields();
        issued.issuer_units = std::iter::once(&f.issuing_unit)
            .chain(&f.co_issuing_units)
            .map(|code| {
                units
                    .iter()
                    .find(|u| u.code == *code)
                    .map_or_else(|| code.to_string(), |u| u.issuing_name().to_owned())
            })
            .collect();
        Ok(issued)
    }

    /// The file name it is kept and downloaded under: its 发文字号, `.pdf`.
    pub fn file_name(&self) -> String {
        format!("{}.pdf", workflow_core::content::safe_name(&self.number))
    }

    /// What `doc` prints once issued: `name_of` gives a unit's name for its code (the
    /// directory's), `printer` is the 印发机关 (the office that issued it). Refused for a
    /// document not yet issued.
    pub fn from_document(
        doc: &Document,
        name_of: &dyn Fn(&str) -> Option<String>,
        printer: &str,
    ) -> Result<Issued, RenderError> {
        let issue = doc
            .issue()
            .ok_or_else(|| RenderError::NotIssued(doc.id().to_string()))?;
        let f = doc.fields();
        let units: Vec<String> = std::iter::once(&f.issuing_unit)
            .chain(&f.co_issuing_units)
            .map(|u| recipient(u.as_str(), name_of))
            .collect();
        let mut marks = Vec::new();
        if f.classification != Classification::None {
            marks.push(f.classification.marking(f.classification_period_years));
        }
        if f.urgency != Urgency::Normal {
            marks.push(f.urgency.chinese().to_owned());
        }
        let join = |list: &[String]| {
            list.iter()
                .map(|r| recipient(r, name_of))
                .collect::<Vec<_>>()
                .join("、")
        };
        let main_recipients = join(&issue.main_recipients);
        // A 正文 that opens with its 主送 line (as drafts typed in one box do: "各学院、各部门：")
        // has it printed once, where the layout puts 主送. Only a line of recipients' names
        // and nothing else is taken for it; any other opening line is 正文 and printed.
        let named: Vec<String> = issue
            .main_recipients
            .iter()
            .flat_map(|r| [r.clone(), recipient(r, name_of)])
            .collect();
        let is_recipients_line = |line: &str| {
            let Some(names) = line.trim().strip_suffix('：') else {
                return false;
            };
            // Every name of the line (an empty line names "", which is no recipient).
            names
                .split(['、', '，', ','])
                .map(str::trim)
                .all(|p| named.iter().any(|n| n == p))
        };
        let mut lines: Vec<&str> = f.body.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.first().is_some_and(|l| is_recipients_line(l)) {
            lines.remove(0);
        }
        let attachments: Vec<String> = f
            .files
            .attachments
            .iter()
            .map(|a| {
                let name = a.name.as_str();
                name.rsplit_once('.')
                    .map_or(name, |(stem, _)| stem)
                    .to_owned()
            })
            .collect();
        let numbered = attachments.len() > 1;
        Ok(Issued {
            document_id: doc.id().to_string(),
            title: f.title.clone(),
            issuer_units: units,
            number: issue.number.to_string(),
            signers: if f.kind.is_upward() {
                doc.signatures().iter().map(|s| s.name.clone()).collect()
            } else {
                Vec::new()
            },
            marks,
            main_recipients,
            body: lines.into_iter().map(paragraph).collect(),
            attachments: attachments
                .into_iter()
                .enumerate()
                .map(|(i, a)| {
                    if numbered {
                        format!("{}.{a}", i + 1)
                    } else {
                        a
                    }
                })
                .collect(),
            written_date: doc
                .written_date()
                .map(chinese_date)
                .unwrap_or_else(|| chinese_date(issue.issue_date)),
            annotation: f.annotation.clone(),
            cc: join(&issue.cc),
            printer: printer.to_owned(),
            issued_on: issue.issue_date,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_told_by_their_numbering() {
        let h1 = paragraph("一、工作目标。以评促建，以评促改。");
        assert_eq!((h1.kind, h1.lead.as_str()), ("h1", "一、工作目标。"));
        assert_eq!(h1.rest, "以评促建，以评促改。");
        let h2 = paragraph("（二）组织领导");
        assert_eq!(
            (h2.kind, h2.lead.as_str(), h2.rest.as_str()),
            ("h2", "（二）组织领导", "")
        );
        for plain in [
            "1.时间安排。",
            "（1）第一阶段。",
            "十分重要。",
            "（注）说明",
        ] {
            assert_eq!(paragraph(plain).kind, "p", "{plain}");
        }
        assert_eq!(
            chinese_date(NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default()),
            "2026年12月6日"
        );
    }
}
