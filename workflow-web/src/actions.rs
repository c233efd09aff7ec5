//! The actions the console offers on a document's page, as forms: which fields each has,
//! how a submitted form becomes the flow's command, and which of them a person may take now
//! (asked of the engine with a dry run, so the rules stay the core's).

use std::collections::HashMap;

use chrono::NaiveDate;
use workflow_core::directory::Role;
use workflow_core::incoming::{IncomingAction, Plan};
use workflow_core::outgoing::Action;
use workflow_core::route::StageSpec;
use workflow_core::submission::{Decision, SubmissionAction, Supervise};
use workflow_core::supervision::SupervisionAction;
use workflow_core::{
    ActorId, FlowAction, FlowState, StreamKind, Timestamp, UnitCode, retention::Retention,
};

use crate::error::WebError;

/// How a field is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// One line.
    Line,
    /// Several lines (opinions, reasons).
    Text,
    /// A date.
    Date,
    /// A whole number.
    Number,
    /// 同意 / 不同意 (or 批准 / 不批准).
    YesNo,
    /// 同意 / 修改后同意 / 不同意 (a leader's 批示).
    Decision,
    /// A check box.
    Check,
    /// 保管期限: by the schedule, or one of the three.
    Retention,
    /// 考评: none, or one of the four grades.
    Grade,
    /// One unit, chosen by name.
    Unit,
    /// Several units, ticked by name.
    Units,
    /// One person (with the role, if one is given), chosen by name under their unit.
    Person(Option<Role>),
    /// Several people, ticked by name under their units.
    People,
    /// Up to three people with the role, in the order chosen (会批 leaders).
    Ordered(Role),
}

impl Input {
    /// Whether it is chosen from the directory (units or people).
    pub(crate) fn is_picker(self) -> bool {
        matches!(
            self,
            Input::Unit | Input::Units | Input::Person(_) | Input::People | Input::Ordered(_)
        )
    }
}

/// One field of an action's form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) label: &'static str,
    pub(crate) input: Input,
    pub(crate) required: bool,
    /// Texts one click away (同意, 已阅), as this step words them.
    pub(crate) stock: &'static [&'static str],
}

const fn field(name: &'static str, label: &'static str, input: Input, required: bool) -> Field {
    Field {
        name,
        label,
        input,
        required,
        stock: &[],
    }
}

impl Field {
    /// The field with texts one click away.
    const fn with_stock(self, stock: &'static [&'static str]) -> Field {
        Field { stock, ..self }
    }
}

/// A reviewer's or reader's stock words.
const AGREE: &[&str] = &["同意", "同意，请审示", "已阅"];
/// 考评's grades as the form offers them: (name, 中文).
pub(crate) const GRADES: [(&str, &str); 4] = [
    ("excellent", "优秀"),
    ("good", "良好"),
    ("adequate", "合格"),
    ("poor", "不合格"),
];
/// A 督办员's 催办.
const URGE: &[&str] = &["请抓紧办理，按时反馈进展", "已超期，请尽快报送办结情况"];
/// The office's 拟办.
const PROPOSE: &[&str] = &["拟请校领导阅示", "拟请相关部门阅知", "拟请相关部门办理"];
/// A leader's 批示.
const INSTRUCT: &[&str] = &["同意", "请按拟办意见办理", "请牵头单位抓紧落实，按时办结"];

/// 修改 of a draft that came back: its title and text (the rest of the draft — 文种, units,
/// files — stays as it is; files are changed above the forms).
const REVISE: [Field; 2] = [
    field("title", "标题", Input::Line, true),
    field("body", "正文", Input::Text, false),
];

const OPINION: Field = field("opinion", "意见", Input::Text, false).with_stock(AGREE);
const REASON: Field = field("reason", "理由", Input::Text, true)
    .with_stock(&["请修改后重新送审", "内容有误，请核实"]);
/// Why more time is asked for.
const EXTENSION_REASON: Field = field("reason", "理由", Input::Text, true)
    .with_stock(&["工作量大，需延期办理", "需等待相关单位意见"]);
const NOTE: Field = field("note", "备注", Input::Text, false).with_stock(&["收到"]);
const UNTIL: Field = field("until", "延期至", Input::Date, true);
const GRANT: Field = field("grant", "审批", Input::YesNo, true);
const ARCHIVE: [Field; 4] = [
    field("fonds", "全宗号", Input::Line, true),
    field("unit_code", "机构（问题）代码", Input::Line, true),
    field("retention", "保管期限", Input::Retention, false),
    field(
        "deviation_reason",
        "偏离保管期限表的理由",
        Input::Text,
        false,
    ),
];

/// An action the console offers, with its form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActionForm {
    /// The command's name (as gRPC and the log name it).
    pub(crate) name: &'static str,
    /// The button's label.
    pub(crate) label: &'static str,
    pub(crate) fields: &'static [Field],
    /// A step back or out (退回, 撤回, 作废, 退文): offered after the steps forward, folded,
    /// and taken only once the person ticks that they mean it.
    pub(crate) back: bool,
}

const fn form(name: &'static str, label: &'static str, fields: &'static [Field]) -> ActionForm {
    ActionForm {
        name,
        label,
        fields,
        back: false,
    }
}

const fn back(name: &'static str, label: &'static str, fields: &'static [Field]) -> ActionForm {
    ActionForm {
        name,
        label,
        fields,
        back: true,
    }
}

/// The label of the field an error names (for a sentence a person reads): in the form
/// `form` where it has one, else in any form; a path into a command (`plan.leader`,
/// `leaders[1]`) names the form's field by its last name. Never an English name: a field no
/// form shows is 所填内容.
pub(crate) fn field_label(form: Option<&str>, path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or(path);
    let name = last.split('[').next().unwrap_or(last);
    let forms = || {
        [OUTGOING, INCOMING, SUPERVISION, SUBMISSION, REGISTER]
            .into_iter()
            .flatten()
    };
    let in_form = forms()
        .filter(|f| Some(f.name) == form)
        .flat_map(|f| f.fields)
        .find(|f| f.name == name);
    in_form
        .or_else(|| forms().flat_map(|f| f.fields).find(|f| f.name == name))
        .map_or_else(|| "所填内容".to_owned(), |f| f.label.to_owned())
}

/// 发文: the steps a person takes on a draft under way. (Drafting, routing and 加签 are
/// the drafting systems' business, over gRPC.)
const OUTGOING: &[ActionForm] = &[
    form("Revise", "修改", &REVISE),
    form("SubmitForReview", "重新送审", &[]),
    form("Approve", "审核通过", &[OPINION]),
    back("Return", "退回", &[REASON]),
    form(
        "Countersign",
        "会签",
        &[
            field("agree", "会签意见", Input::YesNo, true),
            field("opinion", "意见（不同意时必填）", Input::Text, false).with_stock(AGREE),
        ],
    ),
    form(
        "SignOff",
        "签发",
        &[field("opinion", "签发意见", Input::Text, false).with_stock(&["同意", "同意印发"])],
    ),
    back(
        "Withdraw",
        "撤回",
        &[field("reason", "理由", Input::Text, false)],
    ),
    form(
        "Issue",
        "印发",
        &[
            field("issue_date", "印发日期", Input::Date, true),
            field("copies", "份数", Input::Number, true),
        ],
    ),
    form("Acknowledge", "签收", &[]),
    form("Archive", "归档", &ARCHIVE),
    back("Void", "作废", &[REASON]),
];

/// 收文: 初审 to 归档.
const INCOMING: &[ActionForm] = &[
    form(
        "ScreenIncoming",
        "初审",
        &[NOTE, field("deadline", "办结时限", Input::Date, false)],
    ),
    back("RejectIncoming", "退文", &[REASON]),
    form(
        "ProposeHandling",
        "拟办",
        &[
            field(
                "leader",
                "呈批领导（批办时选）",
                Input::Person(Some(Role::Leader)),
                false,
            ),
            field(
                "co_leaders",
                "会批领导（先于呈批领导批示）",
                Input::People,
                false,
            ),
            field("in_turn", "依次会批（不选则同时）", Input::Check, false),
            field("readers", "传阅人（传阅时选）", Input::People, false),
            field(
                "act_by",
                "阅办时限（须办理时填，不填为阅知）",
                Input::Date,
                false,
            ),
            OPINION.with_stock(PROPOSE),
        ],
    ),
    form(
        "CommentInstruction",
        "会批",
        &[field("opinion", "批示意见", Input::Text, true).with_stock(INSTRUCT)],
    ),
    form(
        "InstructIncoming",
        "批办",
        &[
            field("lead_unit", "主办单位", Input::Unit, true),
            field("co_units", "协办单位", Input::Units, false),
            field("deadline", "办结时限", Input::Date, true),
            field("opinion", "批示", Input::Text, true).with_stock(INSTRUCT),
            field("supervise", "列入督办", Input::Check, false),
        ],
    ),
    form(
        "TransferInstruction",
        "转呈",
        &[
            field("to", "转呈领导", Input::Person(Some(Role::Leader)), true),
            OPINION,
        ],
    ),
    form(
        "ReturnSlip",
        "回执已回",
        &[field("note", "回执情况", Input::Text, false)],
    ),
    form(
        "UrgeIncoming",
        "催办",
        &[field("message", "催办事项", Input::Text, true).with_stock(URGE)],
    ),
    form(
        "RecordProgress",
        "办理情况",
        &[field("text", "办理情况", Input::Text, true)],
    ),
    form(
        "CoInput",
        "协办意见",
        &[field("text", "协办意见", Input::Text, true)],
    ),
    form("RequestExtension", "申请延期", &[UNTIL, EXTENSION_REASON]),
    form(
        "DecideExtension",
        "审批延期",
        &[GRANT, field("reason", "理由", Input::Text, false)],
    ),
    back("SendBack", "退回重办", &[REASON]),
    form(
        "CompleteIncoming",
        "办结",
        &[
            field("result", "办理结果", Input::Text, true),
            field("reply", "答复", Input::Text, false),
        ],
    ),
    form("MarkRead", "阅知", &[OPINION]),
    form(
        "AddReaders",
        "传阅",
        &[
            // Checked by the engine (at least one): a required field here would keep the
            // dry run, which names nobody, from offering the form.
            field("readers", "传阅人", Input::People, false),
            field(
                "act_by",
                "阅办时限（须办理时填，不填为阅知）",
                Input::Date,
                false,
            ),
        ],
    ),
    form("ArchiveIncoming", "归档", &ARCHIVE),
];

/// 收文登记: the registration page's fields (not a card's form), for the labels a refusal
/// names them by.
pub(crate) const REGISTER: &[ActionForm] = &[form(
    "RegisterIncoming",
    "收文登记",
    &[
        field("unit", "登记单位", Input::Unit, false),
        field("from", "来文单位", Input::Line, true),
        field("from_number", "来文字号", Input::Line, false),
        field("title", "标题", Input::Line, true),
        field("kind", "文种", Input::Line, true),
        field("pages", "页数", Input::Number, false),
        field("classification", "密级", Input::Line, true),
        field(
            "classification_period_years",
            "保密期限（年）",
            Input::Number,
            false,
        ),
        field("urgency", "紧急程度", Input::Line, true),
        field("received_on", "收文日期", Input::Date, true),
        field("deadline", "办结时限", Input::Date, false),
        field("channel", "来文方式", Input::Line, true),
        field("copies", "份数", Input::Number, false),
        field("copy_numbers", "份号", Input::Line, false),
        field("reply_required", "需回复", Input::Check, false),
        field("slip_required", "需回执", Input::Check, false),
        field("important", "重要", Input::Check, false),
        field("main", "正文", Input::Line, false),
        field("attachment", "附件", Input::Line, false),
    ],
)];

/// 督办: 交办 to 归档.
const SUPERVISION: &[ActionForm] = &[
    form("AcceptItem", "签收交办", &[NOTE]),
    form(
        "GiveItemInput",
        "协办情况",
        &[field("text", "协办情况", Input::Text, true)],
    ),
    form(
        "ReportProgress",
        "进展反馈",
        &[
            field("text", "进展情况", Input::Text, true),
            field("percent", "完成比例（%）", Input::Number, false),
        ],
    ),
    form(
        "RequestItemExtension",
        "申请延期",
        &[UNTIL, EXTENSION_REASON],
    ),
    form(
        "DecideItemExtension",
        "审批延期",
        &[GRANT, field("reason", "理由", Input::Text, false)],
    ),
    form(
        "ReportCompletion",
        "办结报告",
        &[field("result", "办理成果", Input::Text, true)],
    ),
    form(
        "CloseItem",
        "销号",
        &[
            field("grade", "考评", Input::Grade, false),
            field("note", "备注（考评不合格时必填）", Input::Text, false),
        ],
    ),
    back("ReturnItem", "退回", &[REASON]),
    form(
        "UrgeItem",
        "催办",
        &[field("message", "催办事项", Input::Text, true).with_stock(URGE)],
    ),
    form("ArchiveItem", "归档", &ARCHIVE),
];

/// 签报: 审核 to 归档. (Drafting and the route are the drafting systems' business, over gRPC,
/// as for 发文.)
const SUBMISSION: &[ActionForm] = &[
    form("ReviseMemo", "修改", &REVISE),
    form("SubmitMemo", "重新送审", &[]),
    form("ApproveMemo", "审核通过", &[OPINION]),
    form(
        "CountersignMemo",
        "会签",
        &[
            field("agree", "会签意见", Input::YesNo, true),
            field("opinion", "意见（不同意时必填）", Input::Text, false).with_stock(AGREE),
        ],
    ),
    form(
        "AcceptMemo",
        "核稿",
        &[
            field("opinion", "拟办意见", Input::Text, true).with_stock(PROPOSE),
            field(
                "leaders",
                "批示领导（按批示顺序）",
                Input::Ordered(Role::Leader),
                true,
            ),
        ],
    ),
    form(
        "EndorseMemo",
        "批示",
        &[
            field("decision", "批示意见", Input::Decision, true),
            field("text", "批示", Input::Text, true).with_stock(INSTRUCT),
            field("supervise", "列入督办", Input::Check, false),
            field("deadline", "督办时限（列入督办时必填）", Input::Date, false),
            field("co_units", "督办协办单位", Input::Units, false),
        ],
    ),
    form(
        "ReferMemo",
        "转批",
        &[
            field("to", "转批领导", Input::Person(Some(Role::Leader)), true),
            OPINION,
        ],
    ),
    back("ReturnMemo", "退回", &[REASON]),
    form(
        "CloseMemo",
        "办结",
        &[field("note", "办结说明", Input::Text, false)],
    ),
    form("ArchiveMemo", "归档", &ARCHIVE),
    back("VoidMemo", "作废", &[REASON]),
];

/// The forms of a flow.
pub(crate) fn forms(kind: StreamKind) -> &'static [ActionForm] {
    match kind {
        StreamKind::Outgoing => OUTGOING,
        StreamKind::Incoming => INCOMING,
        StreamKind::Supervision => SUPERVISION,
        StreamKind::Submission => SUBMISSION,
        StreamKind::Directory | StreamKind::Bulletin => &[],
    }
}

/// A submitted form's values, by field name.
pub(crate) type Values = HashMap<String, String>;

pub(crate) fn text(v: &Values, name: &str) -> String {
    v.get(name).map(|s| s.trim().to_owned()).unwrap_or_default()
}

fn required(v: &Values, f: &Field) -> Result<String, WebError> {
    let t = text(v, f.name);
    if f.required && t.is_empty() && f.input != Input::YesNo {
        return Err(WebError::bad_form(f.name, format!("{}：必填", f.label)));
    }
    Ok(t)
}

/// The people a list field names.
fn people(v: &Values, name: &str) -> Vec<ActorId> {
    list(v, name)
        .iter()
        .map(|r| ActorId::from(r.as_str()))
        .collect()
}

pub(crate) fn date(v: &Values, form: &str, name: &str) -> Result<Option<NaiveDate>, WebError> {
    match text(v, name) {
        t if t.is_empty() => Ok(None),
        t => NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                WebError::bad_form(
                    name,
                    format!(
                        "{}：{t} 不是日期（YYYY-MM-DD）",
                        field_label(Some(form), name)
                    ),
                )
            }),
    }
}

pub(crate) fn needed_date(v: &Values, form: &str, name: &str) -> Result<NaiveDate, WebError> {
    date(v, form, name)?
        .ok_or_else(|| WebError::bad_form(name, format!("{}：必填", field_label(Some(form), name))))
}

pub(crate) fn number<T: std::str::FromStr>(
    v: &Values,
    form: &str,
    name: &str,
) -> Result<Option<T>, WebError> {
    match text(v, name) {
        t if t.is_empty() => Ok(None),
        t => t.parse().map(Some).map_err(|_| {
            WebError::bad_form(
                name,
                format!("{}：{t} 不是有效的数", field_label(Some(form), name)),
            )
        }),
    }
}

/// A 同意/不同意 choice (`agree`, `grant`: must be made) or a check box (unchecked: no).
pub(crate) fn yes(v: &Values, form: &str, name: &str) -> Result<bool, WebError> {
    let choice = matches!(name, "agree" | "grant");
    match text(v, name).as_str() {
        "yes" | "on" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        "" if !choice => Ok(false),
        "" => Err(WebError::bad_form(
            name,
            format!("{}：必填，同意或不同意", field_label(Some(form), name)),
        )),
        other => Err(WebError::bad_form(
            name,
            format!(
                "{}：{other:?} 应为同意或不同意",
                field_label(Some(form), name)
            ),
        )),
    }
}

/// The 正文 the page showed (its SHA-256, sent with the form; empty: none), so that an
/// approval given on a text since revised is refused rather than recorded.
fn shown(v: &Values) -> Result<Option<workflow_core::content::Digest>, WebError> {
    match text(v, "content").as_str() {
        "" => Ok(None),
        hex => workflow_core::content::Digest::parse(hex)
            .map(Some)
            .ok_or_else(|| WebError::bad_form("content", "页面上的正文摘要有误，请刷新")),
    }
}

fn list(v: &Values, name: &str) -> Vec<String> {
    items(&text(v, name))
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// The items of a list as a form sends it: ticked boxes joined with commas, or typed with
/// commas (either width), 、 or spaces between them.
pub(crate) fn items(list: &str) -> Vec<&str> {
    list.split([',', '，', '、', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn grade(v: &Values) -> Result<Option<workflow_core::supervision::Grade>, WebError> {
    match text(v, "grade").as_str() {
        "" => Ok(None),
        name => workflow_core::supervision::Grade::ALL
            .into_iter()
            .find(|g| g.name() == name)
            .map(Some)
            .ok_or_else(|| WebError::bad_form("grade", format!("{name} 不是考评等次"))),
    }
}

fn retention(v: &Values) -> Result<Option<Retention>, WebError> {
    match text(v, "retention").as_str() {
        "" => Ok(None),
        code => Retention::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .map(Some)
            .ok_or_else(|| WebError::bad_form("retention", format!("{code} 不是保管期限代码"))),
    }
}

/// The command a submitted form asks for, on a stream of `kind`. `stage` is the stage the
/// person saw (a 发文's current stage), so that an action meant for one stage never lands
/// on the next.
pub(crate) fn command(
    state: &FlowState,
    name: &str,
    v: &Values,
    stage: Option<usize>,
) -> Result<FlowAction, WebError> {
    let kind = state.kind();
    let spec = forms(kind)
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| WebError::bad_form("action", format!("{name} 不是此类文件可办理的操作")))?;
    for f in spec.fields {
        required(v, f)?;
    }
    let form = spec.name;
    let t = |n: &str| text(v, n);
    let archive_fields = || -> Result<_, WebError> {
        Ok((
            t("fonds"),
            retention(v)?,
            t("unit_code"),
            t("deviation_reason"),
        ))
    };
    Ok(match (kind, name) {
        (StreamKind::Outgoing, _) => FlowAction::Outgoing(match name {
            "Revise" => {
                let d = state
                    .outgoing()
                    .ok_or_else(|| WebError::bad_form("action", "此文件不是发文"))?;
                let mut fields = d.fields().clone();
                (fields.title, fields.body) = (t("title"), body(v));
                Action::Revise(fields)
            }
            "SubmitForReview" => Action::SubmitForReview {
                route: same_route(state.outgoing().map(|d| d.route()))?,
            },
            "Approve" => Action::Approve {
                content: shown(v)?,
                opinion: t("opinion"),
                stage,
            },
            "Return" => Action::Return {
                reason: t("reason"),
                stage,
            },
            "Countersign" => Action::Countersign {
                content: shown(v)?,
                agree: yes(v, form, "agree")?,
                opinion: t("opinion"),
                stage,
            },
            "SignOff" => Action::SignOff {
                content: shown(v)?,
                opinion: t("opinion"),
            },
            "Withdraw" => Action::Withdraw {
                reason: t("reason"),
            },
            "Issue" => Action::Issue {
                issue_date: needed_date(v, form, "issue_date")?,
                copies: number(v, form, "copies")?.unwrap_or(0),
            },
            "Acknowledge" => Action::Acknowledge,
            "Archive" => {
                let (fonds, retention, unit_code, deviation_reason) = archive_fields()?;
                Action::Archive {
                    fonds,
                    retention,
                    unit_code,
                    deviation_reason,
                }
            }
            _ => Action::Void {
                reason: t("reason"),
            },
        }),
        (StreamKind::Incoming, _) => FlowAction::Incoming(match name {
            "ScreenIncoming" => IncomingAction::Screen {
                note: t("note"),
                deadline: date(v, form, "deadline")?,
            },
            "RejectIncoming" => IncomingAction::RejectIncoming {
                reason: t("reason"),
            },
            "ProposeHandling" => IncomingAction::Propose {
                plan: match t("leader") {
                    // Both kinds of 拟办 filled in: say so, rather than drop one unseen.
                    l if !l.is_empty()
                        && (!list(v, "readers").is_empty() || !t("act_by").is_empty()) =>
                    {
                        return Err(WebError::bad_form(
                            "readers",
                            "拟办只能二选一：呈批领导（批办）或传阅人（传阅），请清空其中一项",
                        ));
                    }
                    l if l.is_empty() && !list(v, "co_leaders").is_empty() => {
                        return Err(WebError::bad_form(
                            "co_leaders",
                            "会批领导须与呈批领导一起选（批办时）；传阅时不选会批领导",
                        ));
                    }
                    l if !l.is_empty() => Plan::Instruct {
                        leader: ActorId::from(l.as_str()),
                        co_leaders: people(v, "co_leaders"),
                        in_turn: yes(v, form, "in_turn")?,
                    },
                    _ => Plan::Circulate {
                        readers: people(v, "readers"),
                        act_by: date(v, form, "act_by")?,
                    },
                },
                opinion: t("opinion"),
            },
            "InstructIncoming" => IncomingAction::Instruct {
                lead_unit: UnitCode::from(t("lead_unit").as_str()),
                co_units: list(v, "co_units")
                    .iter()
                    .map(|u| UnitCode::from(u.as_str()))
                    .collect(),
                deadline: needed_date(v, form, "deadline")?,
                opinion: t("opinion"),
                supervise: yes(v, form, "supervise")?,
            },
            "TransferInstruction" => IncomingAction::TransferInstruction {
                to: ActorId::from(t("to").as_str()),
                opinion: t("opinion"),
            },
            "RecordProgress" => IncomingAction::RecordProgress { text: t("text") },
            "ReturnSlip" => IncomingAction::ReturnSlip { note: t("note") },
            "UrgeIncoming" => IncomingAction::UrgeIncoming {
                message: t("message"),
            },
            "CoInput" => IncomingAction::CoInput { text: t("text") },
            "RequestExtension" => IncomingAction::RequestExtension {
                until: needed_date(v, form, "until")?,
                reason: t("reason"),
            },
            "DecideExtension" => IncomingAction::DecideExtension {
                grant: yes(v, form, "grant")?,
                reason: t("reason"),
            },
            "SendBack" => IncomingAction::SendBack {
                reason: t("reason"),
            },
            "CompleteIncoming" => IncomingAction::Complete {
                result: t("result"),
                reply: t("reply"),
            },
            "MarkRead" => IncomingAction::MarkRead {
                opinion: t("opinion"),
            },
            "CommentInstruction" => IncomingAction::CommentInstruction {
                opinion: t("opinion"),
            },
            "AddReaders" => IncomingAction::AddReaders {
                readers: people(v, "readers"),
                act_by: date(v, form, "act_by")?,
            },
            _ => {
                let (fonds, retention, unit_code, deviation_reason) = archive_fields()?;
                IncomingAction::ArchiveIncoming {
                    fonds,
                    retention,
                    unit_code,
                    deviation_reason,
                }
            }
        }),
        (StreamKind::Submission, _) => {
            FlowAction::Submission(submission_command(state, name, v, stage)?)
        }
        (_, _) => FlowAction::Supervision(match name {
            "AcceptItem" => SupervisionAction::AcceptItem { note: t("note") },
            "ReportProgress" => SupervisionAction::ReportProgress {
                text: t("text"),
                percent: number(v, form, "percent")?,
            },
            "RequestItemExtension" => SupervisionAction::RequestItemExtension {
                until: needed_date(v, form, "until")?,
                reason: t("reason"),
            },
            "DecideItemExtension" => SupervisionAction::DecideItemExtension {
                grant: yes(v, form, "grant")?,
                reason: t("reason"),
            },
            "ReportCompletion" => SupervisionAction::ReportCompletion {
                result: t("result"),
            },
            "CloseItem" => SupervisionAction::CloseItem {
                note: t("note"),
                grade: grade(v)?,
            },
            "ReturnItem" => SupervisionAction::ReturnItem {
                reason: t("reason"),
            },
            "UrgeItem" => SupervisionAction::UrgeItem {
                message: t("message"),
            },
            "GiveItemInput" => SupervisionAction::GiveItemInput { text: t("text") },
            _ => {
                let (fonds, retention, unit_code, deviation_reason) = archive_fields()?;
                SupervisionAction::ArchiveItem {
                    fonds,
                    retention,
                    unit_code,
                    deviation_reason,
                }
            }
        }),
    })
}

/// A 签报 form's command.
fn submission_command(
    state: &FlowState,
    name: &str,
    v: &Values,
    stage: Option<usize>,
) -> Result<SubmissionAction, WebError> {
    let t = |n: &str| text(v, n);
    let form = name;
    Ok(match name {
        "ReviseMemo" => {
            let m = state
                .submission()
                .ok_or_else(|| WebError::bad_form("action", "此文件不是签报"))?;
            let mut fields = m.fields().clone();
            (fields.title, fields.body) = (t("title"), body(v));
            SubmissionAction::ReviseMemo { fields }
        }
        "SubmitMemo" => SubmissionAction::SubmitMemo {
            route: same_route(state.submission().map(|m| m.route()))?,
        },
        "ApproveMemo" => SubmissionAction::ApproveMemo {
            content: shown(v)?,
            opinion: t("opinion"),
            stage,
        },
        "CountersignMemo" => SubmissionAction::CountersignMemo {
            content: shown(v)?,
            agree: yes(v, form, "agree")?,
            opinion: t("opinion"),
            stage,
        },
        "AcceptMemo" => SubmissionAction::AcceptMemo {
            opinion: t("opinion"),
            leaders: list(v, "leaders")
                .iter()
                .map(|l| ActorId::from(l.as_str()))
                .collect(),
        },
        "EndorseMemo" => SubmissionAction::EndorseMemo {
            content: shown(v)?,
            decision: match t("decision").as_str() {
                "agree" => Decision::Agree,
                "agree_with_changes" => Decision::AgreeWithChanges,
                "disagree" => Decision::Disagree,
                other => {
                    return Err(WebError::bad_form(
                        "decision",
                        format!("{other:?} 不是批示意见：同意、修改后同意或不同意"),
                    ));
                }
            },
            text: t("text"),
            supervise: if yes(v, form, "supervise")? {
                Some(Supervise {
                    lead_unit: None,
                    co_units: list(v, "co_units")
                        .iter()
                        .map(|u| UnitCode::from(u.as_str()))
                        .collect(),
                    deadline: date(v, form, "deadline")?
                        .ok_or_else(|| WebError::bad_form("deadline", "列入督办时必填督办时限"))?,
                })
            } else {
                None
            },
        },
        "ReferMemo" => SubmissionAction::ReferMemo {
            to: ActorId::from(t("to").as_str()),
            opinion: t("opinion"),
        },
        "ReturnMemo" => SubmissionAction::ReturnMemo {
            reason: t("reason"),
        },
        "CloseMemo" => SubmissionAction::CloseMemo { note: t("note") },
        "VoidMemo" => SubmissionAction::VoidMemo {
            reason: t("reason"),
        },
        _ => SubmissionAction::ArchiveMemo {
            fonds: t("fonds"),
            retention: retention(v)?,
            unit_code: t("unit_code"),
            deviation_reason: t("deviation_reason"),
        },
    })
}

/// A revised 正文 as typed: its indents (　　) are the drafter's.
fn body(v: &Values) -> String {
    v.get("body").cloned().unwrap_or_default()
}

/// A step back or out (退回, 作废, …) is taken only once the person ticked 确认: a POST
/// without it is refused. (Checked when a form is sent, not in the dry run that decides
/// which forms a card offers.)
pub(crate) fn confirmed(kind: StreamKind, name: &str, v: &Values) -> Result<(), WebError> {
    match forms(kind).iter().find(|f| f.name == name) {
        Some(spec) if spec.back && text(v, "confirm") != "yes" => Err(WebError::bad_form(
            "confirm",
            format!("请勾选“确认{}”后再提交", spec.label),
        )),
        _ => Ok(()),
    }
}

/// What a form holds when first shown: a 修改 the draft's title and text as they are.
pub(crate) fn initial(state: &FlowState, form: &str) -> HashMap<String, String> {
    let (title, body) = match (form, state.outgoing(), state.submission()) {
        ("Revise", Some(d), _) => (&d.fields().title, &d.fields().body),
        ("ReviseMemo", _, Some(m)) => (&m.fields().title, &m.fields().body),
        _ => return HashMap::new(),
    };
    [("title", title), ("body", body)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect()
}

/// 重新送审 goes along the route of the last round, as it was submitted (with the units
/// added by 加签); a draft never sent has no route to go along here.
fn same_route(route: Option<&[workflow_core::route::Stage]>) -> Result<Vec<StageSpec>, WebError> {
    let route: Vec<StageSpec> = route
        .unwrap_or_default()
        .iter()
        .map(|s| s.spec.clone())
        .collect();
    if route.is_empty() {
        return Err(WebError::bad_form(
            "route",
            "此稿尚未送审过，没有可沿用的审批路径；请在拟稿系统中送审",
        ));
    }
    Ok(route)
}

/// Plausible values for a dry run of each form: what a person would type does not decide
/// whether the action is theirs to take (a refusal of a field only is still offered).
fn probe_values(actor: &ActorId, unit: &UnitCode, now: Timestamp) -> Values {
    let in_a_week = (workflow_core::ids::china_date(now) + chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
    [
        ("opinion", "同意"),
        ("reason", "请修改"),
        ("note", "收到"),
        ("text", "正在办理"),
        ("result", "已办结"),
        ("agree", "yes"),
        ("decision", "agree"),
        // No one in particular: the office is offered 核稿 whoever the leaders will be.
        ("leaders", "-"),
        ("title", "标题"),
        ("grant", "yes"),
        ("copies", "1"),
        ("fonds", "X001"),
        ("unit_code", unit.as_str()),
        ("lead_unit", unit.as_str()),
        ("leader", actor.as_str()),
        ("to", actor.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain(
        ["until", "deadline", "issue_date"]
            .into_iter()
            .map(|k| (k.to_owned(), in_a_week.clone())),
    )
    .collect()
}

/// The steps that may be taken on many documents at once from the 待办 (批量): they ask
/// for nothing but a tick — 阅知 of a 收文 passed round, 签收 of a 发文 sent to the unit.
pub(crate) const BATCH: &[(StreamKind, &str, &str)] = &[
    (StreamKind::Incoming, "MarkRead", "阅知"),
    (StreamKind::Outgoing, "Acknowledge", "签收"),
];

/// The batch step (its form name and label) `actor` may take on `state` now, if any: the
/// engine's dry run accepts it exactly as the batch will send it (no opinion).
pub(crate) fn batchable(
    engine: &workflow_store::Engine,
    state: &FlowState,
    actor: &ActorId,
) -> Option<(&'static str, &'static str)> {
    let (_, name, label) = BATCH.iter().find(|(kind, ..)| *kind == state.kind())?;
    let action = command(state, name, &Values::new(), None).ok()?;
    let mut request = workflow_store::Request::new(state.id(), actor.as_str(), action);
    request.expected_version = Some(state.version());
    engine.check(&request).ok().map(|()| (*name, *label))
}

/// The forms `actor` may submit on `state` now: those the engine's dry run accepts, or
/// refuses only for a field's value (which the person fills in); the steps forward first,
/// then the steps back (退回, 作废).
pub(crate) fn offered(
    engine: &workflow_store::Engine,
    state: &FlowState,
    actor: &workflow_core::directory::Actor,
    now: Timestamp,
) -> Vec<ActionForm> {
    let values = probe_values(&actor.id, &actor.unit, now);
    let stage = state.current_stage();
    let mut offered: Vec<ActionForm> = forms(state.kind())
        .iter()
        .filter(|f| {
            let Ok(action) = command(state, f.name, &values, stage) else {
                return false;
            };
            let mut request = workflow_store::Request::new(state.id(), actor.id.as_str(), action);
            request.expected_version = Some(state.version());
            match engine.check(&request) {
                Ok(()) => true,
                // Refused for a value the person fills in: theirs to take with another.
                Err(workflow_store::Error::Rejected(e)) => e.refused_field().is_some(),
                Err(_) => false,
            }
        })
        .copied()
        .collect();
    offered.sort_by_key(|f| f.back);
    offered
}
