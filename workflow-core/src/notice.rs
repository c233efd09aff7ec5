//! Notices (通知): what an event of the log tells people (DESIGN §12) — a to-do that arrived,
//! a 催办, an escalation — derived from the event and the states around it, so that they are
//! exactly as durable as the log and a replay with the same directory derives the same ones. Each has a stable id
//! (from the log position, the kind and the recipient) for receivers to de-duplicate by.
//! Delivering them (webhook, email, 企业微信, 钉钉) is the store's; a message never shows
//! a document above what its channel is cleared for ([`Notice::text`]).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::directory::{Actor, Classification, Role};
use crate::flow::{Recorded, Reminding};
use crate::ids::{ActorId, DocumentId, UnitCode, china_date};
use crate::kind::StreamKind;
use crate::registry::{FlowEvent, FlowState};
use crate::todo::Assignee;

/// What a notice says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// 待办: the document now waits for the recipient (a step, a 签收, a 收文 registered
    /// for their unit, a 督办 item assigned, a 传阅).
    Todo,
    /// 催办: by hand or by the deadline sweep, to whoever has it to do.
    Urged,
    /// 督办提醒: an overdue step escalated to the recipient (a leader, the supervisor).
    Escalated,
    /// 已办: the document no longer waits for the recipient (they acted, or it moved on) —
    /// for channels that keep a to-do list of their own in step (钉钉待办), not for people.
    Done,
    /// 月通报: a month's 督办 bulletin was published — to the leaders, the office's
    /// director, the handlers who carry items and the other supervisors.
    Bulletin,
}

impl NoticeKind {
    /// Its stable name (in ids and on the wire).
    pub fn name(self) -> &'static str {
        match self {
            NoticeKind::Todo => "todo",
            NoticeKind::Urged => "urged",
            NoticeKind::Escalated => "escalated",
            NoticeKind::Done => "done",
            NoticeKind::Bulletin => "bulletin",
        }
    }

    /// Every kind, in order.
    pub const ALL: [NoticeKind; 5] = [
        NoticeKind::Todo,
        NoticeKind::Urged,
        NoticeKind::Escalated,
        NoticeKind::Done,
        NoticeKind::Bulletin,
    ];

    /// The kind of a stable name.
    pub fn parse(name: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// What it is called in a message's subject: 待办, 催办, 督办提醒, 已办.
    pub fn chinese(self) -> &'static str {
        match self {
            NoticeKind::Todo => "待办",
            NoticeKind::Urged => "催办",
            NoticeKind::Escalated => "督办提醒",
            NoticeKind::Done => "已办",
            NoticeKind::Bulletin => "月通报",
        }
    }
}

/// One notice to one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Stable: the SHA-256 (hex) of the position, the kind and the recipient.
    pub id: String,
    /// The log position of the event it comes from.
    pub position: u64,
    /// What happened.
    pub kind: NoticeKind,
    /// Whom it is for.
    pub recipient: ActorId,
    /// The document.
    pub document_id: DocumentId,
    /// Its flow.
    pub flow: StreamKind,
    /// Its title.
    pub title: String,
    /// Its number as the office writes it (发文字号, 收文编号, 立项号), if it has one.
    pub number: Option<String>,
    /// Its 密级: a channel cleared below it says only that something waits.
    pub classification: Classification,
    /// Where it stands, in the office's words (待批办, 审核中…).
    pub step: &'static str,
    /// The day it is due, China time, if it is.
    pub due_on: Option<NaiveDate>,
    /// The console's path to its card (`/doc/ID`).
    pub link: String,
    /// A 催办's ask: overdue (催办), a progress report (催报) or a deadline near (临近提醒).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminding: Option<Reminding>,
}

impl Notice {
    /// The message, short and in Chinese: who needs to do what on which document, by when,
    /// and where. A document above `cleared` (the channel's 密级) is announced without its
    /// title or number: 您有一件秘密收文待办，请登录系统查看。
    pub fn text(&self, cleared: Classification, base_url: &str) -> String {
        let flow = self.flow.label();
        let link = format!("{}{}", base_url.trim_end_matches('/'), self.link);
        if self.classification > cleared {
            let what = match (self.kind, self.reminding) {
                (NoticeKind::Urged, Some(Reminding::Feedback)) => "需报送进展",
                (NoticeKind::Urged, Some(Reminding::Approaching)) => "临近时限",
                (kind, _) => match kind {
                    NoticeKind::Todo => "待办",
                    NoticeKind::Urged => "被催办",
                    NoticeKind::Escalated => "超期未办结",
                    NoticeKind::Done => "已办理",
                    NoticeKind::Bulletin => "已发布",
                },
            };
            return format!(
                "您有一件{}{flow}{what}，请登录系统查看：{link}",
                self.classification.chinese()
            );
        }
        let doc = match &self.number {
            Some(n) if !n.is_empty() => format!("《{}》（{n}）", self.title),
            _ => format!("《{}》", self.title),
        };
        let due = self
            .due_on
            .map(|d| format!("，时限 {}", d.format("%Y年%-m月%-d日")))
            .unwrap_or_default();
        match self.kind {
            NoticeKind::Todo => {
                format!("【待办】{flow}{doc}{}，请办理{due}。{link}", self.step)
            }
            NoticeKind::Urged => match self.reminding.unwrap_or_default() {
                Reminding::Overdue => {
                    format!("【催办】{flow}{doc}{}，请抓紧办理{due}。{link}", self.step)
                }
                Reminding::Feedback => {
                    format!(
                        "【催报】{flow}{doc}{}，请报送办理进展{due}。{link}",
                        self.step
                    )
                }
                Reminding::Approaching => {
                    format!(
                        "【临近提醒】{flow}{doc}{}，时限将至，请抓紧办理{due}。{link}",
                        self.step
                    )
                }
            },
            NoticeKind::Escalated => {
                format!(
                    "【督办提醒】{flow}{doc}超过时限尚未办结（{}），请督促办理{due}。{link}",
                    self.step
                )
            }
            NoticeKind::Done => format!("【已办】{flow}{doc}已办理，现{}。{link}", self.step),
            NoticeKind::Bulletin => format!("【月通报】{doc}已发布，请查阅。{link}"),
        }
    }

    /// A subject line for channels that have one (email): the kind and, where the channel
    /// is cleared for it, the title.
    pub fn subject(&self, cleared: Classification) -> String {
        let kind = match (self.kind, self.reminding) {
            (NoticeKind::Urged, Some(r)) => r.chinese(),
            (kind, _) => kind.chinese(),
        };
        if self.classification > cleared {
            format!(
                "【{kind}】您有一件{}{}",
                self.classification.chinese(),
                self.flow.label()
            )
        } else {
            format!("【{kind}】{}", self.title)
        }
    }
}

/// The people a notice may go to: the directory's active actors, and which units are
/// general offices (to match [`Assignee::OfficeRole`]) and units at all.
#[derive(Debug, Clone, Copy)]
pub struct People<'a> {
    /// The active actors.
    pub actors: &'a [Actor],
    /// The general offices.
    pub offices: &'a BTreeSet<UnitCode>,
    /// Every unit's code.
    pub units: &'a BTreeSet<UnitCode>,
}

impl People<'_> {
    /// Who `state` waits for: the active actors its to-do keys match, cleared for it.
    fn holders(&self, state: &FlowState) -> BTreeSet<ActorId> {
        let is_unit = |u: &str| self.units.contains(&UnitCode::from(u));
        let keys: Vec<Assignee> = state.assignees(&is_unit);
        self.actors
            .iter()
            .filter(|a| a.may_see(state.classification()))
            .filter(|a| {
                let in_office = self.offices.contains(&a.unit);
                keys.iter().any(|k| k.matches(a, in_office))
            })
            .map(|a| a.id.clone())
            .collect()
    }
}

/// The notices the event at `position` implies: `before` is its stream's state before it
/// (`None` for a stream's first event), `after` the state it made.
pub fn notices(
    position: u64,
    event: &Recorded<FlowEvent>,
    before: Option<&FlowState>,
    after: &FlowState,
    people: People<'_>,
) -> Vec<Notice> {
    if let FlowState::Bulletin(published) = after {
        return bulletin_notices(position, event, before, after, published, people);
    }
    let now_holding = people.holders(after);
    let mut out = Vec::new();
    let mut notice = |kind: NoticeKind, recipient: &ActorId, reminding: Option<Reminding>| {
        let mut n = notice_of(position, kind, recipient, after);
        n.reminding = reminding;
        out.push(n);
    };
    match escalation(&event.data, after, people) {
        // A 催办 (by hand or the sweep): whoever has it to do — not whoever sent it — and
        // the one it is escalated to (cleared for it) as a 督办提醒 instead.
        Some((escalated_to, named, reminding)) => {
            // Among those who hold it, those it names (by their to-do keys), if it names any.
            let urged = |a: &ActorId| {
                named.is_empty()
                    || people.actors.iter().any(|p| {
                        p.id == *a
                            && named
                                .iter()
                                .any(|k| k.matches(p, people.offices.contains(&p.unit)))
                    })
            };
            for a in &now_holding {
                if *a != event.actor && Some(a) != escalated_to.as_ref() && urged(a) {
                    notice(NoticeKind::Urged, a, Some(reminding));
                }
            }
            if let Some(to) = escalated_to
                && people
                    .actors
                    .iter()
                    .any(|a| a.id == to && a.may_see(after.classification()))
            {
                notice(NoticeKind::Escalated, &to, None);
            }
        }
        // Anything else: those it waits for now and did not before (not the one who acted).
        None => {
            let held = before.map(|b| people.holders(b)).unwrap_or_default();
            for a in now_holding.difference(&held) {
                if *a != event.actor {
                    notice(NoticeKind::Todo, a, None);
                }
            }
            // And those it waited for and no longer does, whoever acted.
            for a in held.difference(&now_holding) {
                notice(NoticeKind::Done, a, None);
            }
        }
    }
    out
}

/// A 月通报's publication (its stream's first event): to the leaders, the office's
/// director, the handlers and the other supervisors cleared for it, with its page's link.
fn bulletin_notices(
    position: u64,
    event: &Recorded<FlowEvent>,
    before: Option<&FlowState>,
    after: &FlowState,
    published: &crate::supervision::Publication,
    people: People<'_>,
) -> Vec<Notice> {
    if before.is_some() {
        return Vec::new();
    }
    let link = format!("/bulletin?month={}", published.month());
    people
        .actors
        .iter()
        .filter(|a| a.id != event.actor && a.may_see(after.classification()))
        .filter(|a| {
            a.roles.iter().any(|r| {
                matches!(
                    r,
                    Role::Leader | Role::OfficeDirector | Role::Handler | Role::Supervisor
                )
            })
        })
        .map(|a| Notice {
            link: link.clone(),
            due_on: None,
            ..notice_of(position, NoticeKind::Bulletin, &a.id, after)
        })
        .collect()
}

/// Whether the event is a 催办 (by hand, or the sweep's) — `Some`, with whom it escalates
/// to, if anyone, and the to-do keys it urges (empty: whoever holds it). Each flow says
/// which of its events are (the registry asks it); a reminder names its keys as text.
fn escalation(
    event: &FlowEvent,
    after: &FlowState,
    people: People<'_>,
) -> Option<(Option<ActorId>, Vec<Assignee>, Reminding)> {
    match event.reminded() {
        Some(sent) => {
            let is_unit = |u: &str| people.units.contains(&UnitCode::from(u));
            let named = after
                .assignees(&is_unit)
                .into_iter()
                .filter(|k| sent.waiting_for.contains(&k.to_string()))
                .collect();
            Some((sent.escalated_to, named, sent.reminding))
        }
        None => event
            .urged_by_hand()
            .map(|keys| (None, keys, Reminding::Overdue)),
    }
}

fn notice_of(position: u64, kind: NoticeKind, recipient: &ActorId, s: &FlowState) -> Notice {
    let p = s.particulars();
    let id = Sha256::digest(format!("{position}:{}:{recipient}", kind.name()).as_bytes());
    Notice {
        id: format!("{id:x}"),
        position,
        kind,
        recipient: recipient.clone(),
        document_id: s.id(),
        flow: s.kind(),
        title: s.title().to_owned(),
        number: p.number.clone(),
        classification: s.classification(),
        step: p.state_label,
        due_on: s
            .due()
            .map(|t| china_date(t - chrono::Duration::nanoseconds(1)))
            .or(p.deadline),
        link: format!("/doc/{}", s.id()),
        reminding: None,
    }
}
