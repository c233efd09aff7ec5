//! What the pages show, in the office's words: list rows and the card of a document (the
//! 发文稿纸, the 收文批办单, the 督办单), made from the engine's states. Templates escape
//! every value; nothing here builds HTML.

use workflow_core::{ActorId, FlowState, Opinion, StageSpec, Timestamp, china_time};
use workflow_store::{Engine, Page};

/// A person's name as the office reads it: `王芳（wang.fang）`.
pub(crate) fn name(engine: &Engine, id: &ActorId) -> String {
    match engine.actor(id) {
        Some(a) if !a.name.is_empty() => format!("{}（{}）", a.name, id),
        _ => id.to_string(),
    }
}

/// The flow's name.
pub(crate) fn flow_label(s: &FlowState) -> &'static str {
    match s {
        FlowState::Outgoing(_) => "发文",
        FlowState::Incoming(_) => "收文",
        FlowState::Supervision(_) => "督办",
        FlowState::Bulletin(_) => "月通报",
        FlowState::Directory(_) => "通讯录",
    }
}

/// The state's name.
pub(crate) fn state_label(s: &FlowState) -> String {
    match s {
        FlowState::Outgoing(d) => d.state().chinese().to_owned(),
        FlowState::Incoming(r) => r.step().chinese().to_owned(),
        FlowState::Supervision(i) => i.step().chinese().to_owned(),
        FlowState::Bulletin(_) => "已发布".to_owned(),
        FlowState::Directory(_) => String::new(),
    }
}

/// One line of a list or of the 待办.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) flow: &'static str,
    pub(crate) title: String,
    pub(crate) state: String,
    pub(crate) unit: String,
    pub(crate) due: String,
    pub(crate) overdue: bool,
    pub(crate) updated: String,
    due_at: Option<Timestamp>,
    updated_at: Timestamp,
}

fn updated_at(s: &FlowState) -> Timestamp {
    match s {
        FlowState::Outgoing(d) => d.updated_at(),
        FlowState::Incoming(r) => r.updated_at(),
        FlowState::Supervision(i) => i.updated_at(),
        FlowState::Bulletin(_) | FlowState::Directory(_) => Timestamp::default(),
    }
}

pub(crate) fn row(s: &FlowState, now: Timestamp) -> Row {
    let due_at = s.due();
    let unit = s
        .listing()
        .and_then(|l| l.units.first().map(ToString::to_string))
        .unwrap_or_default();
    Row {
        id: s.id().to_string(),
        flow: flow_label(s),
        title: s.title().to_owned(),
        state: state_label(s),
        unit,
        due: due_at.map(china_time).unwrap_or_default(),
        overdue: due_at.is_some_and(|d| now > d),
        updated: china_time(updated_at(s)),
        due_at,
        updated_at: updated_at(s),
    }
}

/// A page's rows, all flows together: for the 待办 the overdue and soonest due first, for
/// a list the latest changed first.
pub(crate) fn rows(page: &Page, now: Timestamp, todo: bool) -> Vec<Row> {
    let mut rows: Vec<Row> = page
        .documents
        .iter()
        .cloned()
        .map(FlowState::Outgoing)
        .chain(page.receipts.iter().cloned().map(FlowState::Incoming))
        .chain(page.items.iter().cloned().map(FlowState::Supervision))
        .map(|s| row(&s, now))
        .collect();
    if todo {
        rows.sort_by_key(|r| {
            (
                r.due_at.is_none(),
                r.due_at,
                std::cmp::Reverse(r.updated_at),
            )
        });
    } else {
        rows.sort_by_key(|r| std::cmp::Reverse(r.updated_at));
    }
    rows
}

/// One stage of a 发文's route and how far it has come.
#[derive(Debug, Clone)]
pub(crate) struct StageView {
    pub(crate) number: usize,
    pub(crate) what: String,
    /// `done`, `now` or `todo`.
    pub(crate) progress: &'static str,
    pub(crate) due: String,
}

/// One opinion in order.
#[derive(Debug, Clone)]
pub(crate) struct OpinionView {
    pub(crate) at: String,
    pub(crate) who: String,
    pub(crate) unit: String,
    pub(crate) step: String,
    pub(crate) agree: bool,
    pub(crate) text: String,
}

/// A document's card.
#[derive(Debug, Clone, Default)]
pub(crate) struct Card {
    pub(crate) form: &'static str,
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) route: Vec<StageView>,
    pub(crate) opinions: Vec<OpinionView>,
    /// Attachments and fixity: (name, SHA-256).
    pub(crate) digests: Vec<(String, String)>,
    /// Linked streams: (label, id).
    pub(crate) links: Vec<(String, String)>,
}

fn step_label(step: &str) -> String {
    match step {
        "review" => "审核",
        "countersign" => "会签",
        "sign_off" => "签发",
        "return" => "退回",
        "withdraw" => "撤回",
        other => other,
    }
    .to_owned()
}

fn opinions(engine: &Engine, list: &[Opinion]) -> Vec<OpinionView> {
    list.iter()
        .map(|o| OpinionView {
            at: china_time(o.at),
            who: name(engine, &o.actor),
            unit: o.unit.as_ref().map(ToString::to_string).unwrap_or_default(),
            step: step_label(&o.step),
            agree: o.agree,
            text: o.text.clone(),
        })
        .collect()
}

fn push(fields: &mut Vec<(String, String)>, label: &str, value: impl ToString) {
    let value = value.to_string();
    if !value.is_empty() {
        fields.push((label.to_owned(), value));
    }
}

/// The card of any flow's document.
pub(crate) fn card(engine: &Engine, s: &FlowState) -> Card {
    let mut c = Card::default();
    let f = &mut c.fields;
    match s {
        FlowState::Outgoing(d) => {
            c.form = "发文稿纸";
            let x = d.fields();
            push(f, "文种", x.kind.chinese());
            push(
                f,
                "发文字号",
                d.issue().map(|i| i.number.to_string()).unwrap_or_default(),
            );
            push(f, "主办单位", &x.issuing_unit);
            push(
                f,
                "联合发文",
                workflow_core::summary::join_units(&x.co_issuing_units),
            );
            push(f, "密级", x.classification.chinese());
            push(f, "紧急程度", format!("{:?}", x.urgency));
            push(
                f,
                "拟稿",
                format!("{} {}", name(engine, d.drafter()), d.drafter_unit()),
            );
            push(f, "拟稿时间", china_time(d.created_at()));
            push(f, "主送", x.main_recipients.join("、"));
            push(f, "抄送", x.cc.join("、"));
            for sig in d.signatures() {
                push(
                    f,
                    "签发",
                    format!("[{}] {} {} {}", sig.unit, sig.name, sig.date, sig.opinion),
                );
            }
            push(
                f,
                "成文日期",
                d.written_date().map(|w| w.to_string()).unwrap_or_default(),
            );
            if let Some(i) = d.issue() {
                push(f, "印发", format!("{} {} 份", i.issue_date, i.copies));
            }
            for (unit, at) in d.acknowledged() {
                push(f, "签收", format!("{unit} {}", china_time(*at)));
                c.links.push((
                    format!("{unit} 的收文"),
                    workflow_core::linked_receipt_id(d.id(), unit).to_string(),
                ));
            }
            if let Some(a) = d.archive() {
                push(
                    f,
                    "档号",
                    format!("{} {}", a.reference, a.reference.retention.chinese()),
                );
                if let Some(h) = &a.fixity_hash {
                    c.digests.push(("归档固化摘要".into(), h.clone()));
                }
            }
            push(f, "作废理由", d.void_reason().unwrap_or_default());
            for w in d.warnings() {
                push(f, "提示", w);
            }
            let current = d.current().map(|(i, _)| i);
            c.route = d
                .route()
                .iter()
                .enumerate()
                .map(|(i, stage)| StageView {
                    number: i + 1,
                    what: match &stage.spec {
                        StageSpec::Review { reviewer, .. } => {
                            format!("审核：{}", name(engine, reviewer))
                        }
                        StageSpec::Countersign { departments, .. } => format!(
                            "会签：{}",
                            departments
                                .iter()
                                .map(|u| match stage.countersigns.get(u) {
                                    Some(true) => format!("{u} 同意"),
                                    Some(false) => format!("{u} 不同意"),
                                    None => format!("{u} 待签"),
                                })
                                .collect::<Vec<_>>()
                                .join("、")
                        ),
                    },
                    progress: if stage.completed {
                        "done"
                    } else if current == Some(i) {
                        "now"
                    } else {
                        "todo"
                    },
                    due: stage.due_at.map(china_time).unwrap_or_default(),
                })
                .collect();
            c.opinions = opinions(engine, d.opinions());
        }
        FlowState::Incoming(r) => {
            c.form = "收文批办单";
            let reg = r.registration();
            push(f, "收文编号", r.number());
            push(f, "来文单位", &reg.from);
            push(f, "来文字号", &reg.from_number);
            push(f, "文种", reg.kind.chinese());
            push(f, "密级", reg.classification.chinese());
            push(f, "收文日期", reg.received_on);
            push(
                f,
                "登记",
                format!("{} {}", name(engine, r.registrar()), r.unit()),
            );
            if let Some(l) = r.leader() {
                push(f, "呈批领导", name(engine, l));
            }
            if let Some(i) = r.instruction() {
                push(f, "批示领导", name(engine, &i.leader));
                push(f, "主办单位", &i.lead_unit);
                push(
                    f,
                    "协办单位",
                    workflow_core::summary::join_units(&i.co_units),
                );
                push(f, "列入督办", if i.supervise { "是" } else { "" });
            }
            push(
                f,
                "办结时限",
                r.deadline().map(|d| d.to_string()).unwrap_or_default(),
            );
            for n in r.progress() {
                push(
                    f,
                    "办理情况",
                    format!("{} {} {}", china_time(n.at), n.unit, n.text),
                );
            }
            if let Some(cl) = r.closure() {
                push(f, "办理结果", &cl.result);
                push(f, "答复", &cl.reply);
            }
            push(f, "退文理由", r.rejection().unwrap_or_default());
            if let Some(a) = r.archive() {
                push(
                    f,
                    "档号",
                    format!("{} {}", a.reference, a.reference.retention.chinese()),
                );
                if let Some(h) = &a.fixity_hash {
                    c.digests.push(("归档固化摘要".into(), h.clone()));
                }
            }
            for a in &reg.attachments {
                c.digests.push((a.name.clone(), a.sha256.clone()));
            }
            if let Some(src) = reg.source {
                c.links.push(("来文（本系统发文）".into(), src.to_string()));
            }
            for item in r.supervision_items() {
                c.links.push(("督办事项".into(), item.to_string()));
            }
            c.opinions = opinions(engine, r.opinions());
        }
        FlowState::Supervision(i) => {
            c.form = "督办单";
            let sp = i.spec();
            push(
                f,
                "来源",
                format!(
                    "{}{}",
                    sp.source.chinese(),
                    workflow_core::summary::source_reference(&sp.source)
                ),
            );
            push(f, "督办要求", &sp.requirements);
            push(f, "牵头领导", name(engine, &sp.leader));
            push(f, "主办单位", &sp.lead_unit);
            push(
                f,
                "协办单位",
                workflow_core::summary::join_units(&sp.co_units),
            );
            if let Some(r) = i.responsible() {
                push(f, "责任人", name(engine, r));
            }
            push(f, "办结时限", i.deadline());
            push(f, "反馈频次", sp.feedback.chinese());
            push(f, "密级", sp.classification.chinese());
            for fb in i.feedback() {
                push(f, "进展反馈", format!("{} {}", china_time(fb.at), fb.text));
            }
            if let Some(done) = i.completion() {
                push(f, "办理成果", &done.result);
            }
            if let Some(a) = i.archive() {
                push(
                    f,
                    "档号",
                    format!("{} {}", a.reference, a.reference.retention.chinese()),
                );
                if let Some(h) = &a.fixity_hash {
                    c.digests.push(("归档固化摘要".into(), h.clone()));
                }
            }
            if let workflow_core::supervision::Source::Instruction { receipt } = &sp.source {
                c.links.push(("来源收文".into(), receipt.to_string()));
            }
            c.opinions = opinions(engine, i.opinions());
        }
        FlowState::Bulletin(_) | FlowState::Directory(_) => {
            c.form = "记录";
        }
    }
    c
}

/// One line of a timeline.
#[derive(Debug, Clone)]
pub(crate) struct EventView {
    pub(crate) version: u64,
    pub(crate) position: u64,
    pub(crate) at: String,
    pub(crate) who: String,
    pub(crate) step: String,
    pub(crate) detail: String,
    pub(crate) hash: String,
}

pub(crate) fn timeline(engine: &Engine, events: &[workflow_store::Envelope]) -> Vec<EventView> {
    events
        .iter()
        .map(|e| {
            let (step, detail) = match e.event() {
                Ok(ev) => (
                    ev.data.step().to_owned(),
                    workflow_core::summary::summary(&ev.data),
                ),
                Err(err) => (e.event_type.clone(), format!("无法读取：{err}")),
            };
            EventView {
                version: e.version,
                position: e.position,
                at: china_time(e.recorded_at),
                who: name(engine, &e.actor),
                step,
                detail,
                hash: e.hash.clone(),
            }
        })
        .collect()
}
