//! 拟稿 and 修改: the draft's fields and the rules they are checked against at drafting.

use super::*;
use crate::outgoing::command::DraftFields;
use crate::outgoing::event::EventData;

impl Decide<'_> {
    pub(super) fn revise(&self, fields: &DraftFields) -> Result<Vec<EventData>, Error> {
        self.require_state(&[State::Drafting])?;
        self.require_drafter()?;
        let warnings = validate_fields(fields, self.ctx)?;
        require_clearance(self.actor, fields.classification)?;
        crate::content::check_files(
            self.ctx,
            &self.actor.id,
            "",
            &fields.files,
            &self.doc.fields().files,
        )?;
        Ok(vec![EventData::Revised {
            fields: normalized(fields),
            warnings,
        }])
    }
}

pub(super) fn draft(
    command: &Command,
    actor: &Actor,
    fields: &DraftFields,
    ctx: &dyn Context,
) -> Result<Vec<EventData>, Error> {
    require_role(actor, Role::Drafter, "Draft")?;
    let warnings = validate_fields(fields, ctx)?;
    require_clearance(actor, fields.classification)?;
    crate::content::check_files(ctx, &actor.id, "", &fields.files, &Default::default())?;
    Ok(vec![EventData::Drafted {
        document_id: command.document_id,
        fields: normalized(fields),
        drafter_unit: actor.unit.clone(),
        warnings,
    }])
}

/// The field rules checked at drafting (DESIGN §2), and what they accept but flag.
pub(super) fn validate_fields(f: &DraftFields, ctx: &dyn Context) -> Result<Vec<String>, Error> {
    check_title_and_body(f)?;
    check_issuing_units(f, ctx)?;
    let warnings = check_recipients(f)?;
    check_annotation(f.annotation.as_deref())?;
    crate::checks::check_classification_period(
        "classification_period_years",
        f.classification,
        f.classification_period_years,
    )?;
    Ok(warnings)
}

/// A title within bounds, a body within bounds.
fn check_title_and_body(f: &DraftFields) -> Result<(), Error> {
    let title = f.title.trim();
    if title.is_empty() {
        return Err(Error::field("title", "a document needs a title"));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(Error::field(
            "title",
            format!("longer than {MAX_TITLE_CHARS} characters"),
        ));
    }
    check_text("body", &f.body, false)?;
    Ok(())
}

/// The issuing unit and the co-issuers of a joint document: known, each once.
fn check_issuing_units(f: &DraftFields, ctx: &dyn Context) -> Result<(), Error> {
    let lead = UnitCode(f.issuing_unit.0.trim().to_owned());
    if lead.0.is_empty() {
        return Err(Error::field(
            "issuing_unit",
            "a document needs an issuing unit",
        ));
    }
    if ctx.unit(&lead).is_none() {
        return Err(Error::field("issuing_unit", format!("unknown unit {lead}")));
    }
    if f.co_issuing_units.len() > MAX_LIST {
        return Err(Error::field(
            "co_issuing_units",
            format!("at most {MAX_LIST}"),
        ));
    }
    let mut seen = BTreeSet::from([lead.clone()]);
    for u in &f.co_issuing_units {
        let code = UnitCode(u.0.trim().to_owned());
        if ctx.unit(&code).is_none() {
            return Err(Error::field(
                "co_issuing_units",
                format!("unknown unit {code}"),
            ));
        }
        if !seen.insert(code.clone()) {
            return Err(Error::field(
                "co_issuing_units",
                format!("{code} is listed twice or is the issuing unit"),
            ));
        }
    }
    Ok(())
}

/// 主送 and 抄送 as GB/T 9704 and the 条例 want them, and what is accepted but flagged.
fn check_recipients(f: &DraftFields) -> Result<Vec<String>, Error> {
    let mut recipients = BTreeSet::new();
    for (field, list) in [("main_recipients", &f.main_recipients), ("cc", &f.cc)] {
        if list.len() > MAX_LIST {
            return Err(Error::field(
                field,
                format!("at most {MAX_LIST} recipients"),
            ));
        }
        for r in list {
            let r = r.trim();
            if r.is_empty() {
                return Err(Error::field(field, "a recipient may not be empty"));
            }
            if r.chars().count() > MAX_TITLE_CHARS {
                return Err(Error::field(
                    field,
                    format!("a recipient is longer than {MAX_TITLE_CHARS} characters"),
                ));
            }
            if !recipients.insert(r.to_owned()) {
                return Err(Error::field(
                    field,
                    format!("recipient {r} is listed twice"),
                ));
            }
        }
    }
    if f.kind == Kind::Request && f.main_recipients.len() != 1 {
        return Err(Error::field(
            "main_recipients",
            format!(
                "a Request (请示) has exactly one main recipient, not {}",
                f.main_recipients.len()
            ),
        ));
    }
    if f.kind.needs_main_recipient() && f.main_recipients.is_empty() {
        return Err(Error::field(
            "main_recipients",
            format!("a {:?} needs at least one main recipient (主送)", f.kind),
        ));
    }
    let mut warnings = Vec::new();
    if f.kind.is_upward() && f.main_recipients.len() > 1 {
        warnings.push(format!(
            "原则上主送一个上级机关（《党政机关公文处理工作条例》第十五条）: this {:?} ({}) has {} \
             main recipients",
            f.kind,
            f.kind.chinese(),
            f.main_recipients.len()
        ));
    }
    Ok(warnings)
}

/// The most characters of a 附注.
const MAX_ANNOTATION_CHARS: usize = 60;

/// A 附注 as recorded: trimmed, without the parentheses the 公文 prints it in.
fn annotation(text: &str) -> &str {
    let t = text.trim();
    t.strip_prefix(['（', '('])
        .and_then(|t| t.strip_suffix(['）', ')']))
        .unwrap_or(t)
        .trim()
}

/// A 附注, when given: some words on one line, not too many.
fn check_annotation(text: Option<&str>) -> Result<(), Error> {
    let Some(text) = text else { return Ok(()) };
    let t = annotation(text);
    if t.is_empty() {
        return Err(Error::field(
            "annotation",
            "a 附注 needs some words (leave it out for none)",
        ));
    }
    if t.contains(['\n', '\r']) {
        return Err(Error::field("annotation", "a 附注 is one line"));
    }
    if t.chars().count() > MAX_ANNOTATION_CHARS {
        return Err(Error::field(
            "annotation",
            format!("longer than {MAX_ANNOTATION_CHARS} characters"),
        ));
    }
    Ok(())
}

/// The fields as recorded: ids and recipients trimmed.
pub(super) fn normalized(f: &DraftFields) -> DraftFields {
    let trim_all = |v: &[String]| v.iter().map(|s| s.trim().to_owned()).collect();
    DraftFields {
        title: f.title.trim().to_owned(),
        issuing_unit: UnitCode(f.issuing_unit.0.trim().to_owned()),
        co_issuing_units: f
            .co_issuing_units
            .iter()
            .map(|u| UnitCode(u.0.trim().to_owned()))
            .collect(),
        main_recipients: trim_all(&f.main_recipients),
        cc: trim_all(&f.cc),
        annotation: f.annotation.as_deref().map(|a| annotation(a).to_owned()),
        ..f.clone()
    }
}
