//! The document aggregate: its state and the fold (`apply`) that builds it from events.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::command::{Completion, DraftFields, StageSpec};
use crate::event::{Event, EventData};
use crate::number::{ArchiveReference, DocumentNumber};
use crate::types::{
    Actor, ActorId, Classification, DocumentId, Kind, Retention, Role, Timestamp, UnitCode,
};

/// Where a document stands (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum State {
    /// 拟稿: the drafter edits.
    Drafting,
    /// 审核/核稿: the current review stage's reviewer acts.
    InReview,
    /// 会签: the departments of the current countersign stage act in parallel.
    Countersigning,
    /// 待签发: waiting for the required signatures.
    AwaitingSignOff,
    /// 已签发: waiting for the office to issue.
    SignedOff,
    /// 已印发: distributed; recipients acknowledge; the archivist archives.
    Issued,
    /// 已归档: terminal and immutable.
    Archived,
    /// 已作废: terminal.
    Voided,
}

impl State {
    /// All states, in flow order.
    pub const ALL: [State; 8] = [
        State::Drafting,
        State::InReview,
        State::Countersigning,
        State::AwaitingSignOff,
        State::SignedOff,
        State::Issued,
        State::Archived,
        State::Voided,
    ];

    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            State::Drafting => "拟稿",
            State::InReview => "审核",
            State::Countersigning => "会签",
            State::AwaitingSignOff => "待签发",
            State::SignedOff => "已签发",
            State::Issued => "已印发",
            State::Archived => "已归档",
            State::Voided => "已作废",
        }
    }

    /// Whether nothing more can happen.
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Archived | State::Voided)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?} ({})", self.chinese())
    }
}

/// One stage of the current round's route, with its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    /// The stage as submitted (plus departments added by 加签).
    pub spec: StageSpec,
    /// When the stage started, once it has.
    pub started_at: Option<Timestamp>,
    /// When it is due (start + deadline days), if it has a deadline and has started.
    pub due_at: Option<Timestamp>,
    /// Countersign opinions of this round, per department (countersign stages only).
    pub countersigns: BTreeMap<UnitCode, bool>,
    /// Whether the stage is complete.
    pub completed: bool,
    /// Departments an `Any`/`Ratio` stage was decided without (recorded, not dropped).
    #[serde(default)]
    pub not_needed: Vec<UnitCode>,
    /// 委派: the delegate acting for the reviewer, while delegated.
    #[serde(default)]
    pub delegate: Option<ActorId>,
    /// The delegate's result once reported (the reviewer then confirms).
    #[serde(default)]
    pub delegate_report: Option<bool>,
    /// When the last 催办 reminder for this stage was sent.
    #[serde(default)]
    pub last_reminded_at: Option<Timestamp>,
    /// How many reminders this stage got.
    #[serde(default)]
    pub reminders: u32,
}

/// Where a countersign stage stands under its completion rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOutcome {
    /// Still waiting for departments.
    Pending,
    /// The rule is met: the route moves on.
    Complete,
    /// The rule can no longer be met: the draft goes back to its drafter.
    Failed,
}

impl Stage {
    fn fresh(spec: StageSpec) -> Stage {
        Stage {
            spec,
            started_at: None,
            due_at: None,
            countersigns: BTreeMap::new(),
            completed: false,
            not_needed: Vec::new(),
            delegate: None,
            delegate_report: None,
            last_reminded_at: None,
            reminders: 0,
        }
    }

    fn reset(&mut self) {
        *self = Stage::fresh(self.spec.clone());
    }

    /// The countersign stage's outcome under its rule (`Pending` for review stages).
    pub fn outcome(&self) -> StageOutcome {
        let StageSpec::Countersign {
            departments,
            completion,
            ..
        } = &self.spec
        else {
            return StageOutcome::Pending;
        };
        let total = departments.len();
        let agreed = departments
            .iter()
            .filter(|d| self.countersigns.get(*d) == Some(&true))
            .count();
        let disagreed = departments
            .iter()
            .filter(|d| self.countersigns.get(*d) == Some(&false))
            .count();
        let open = total - agreed - disagreed;
        match completion {
            Completion::All if disagreed > 0 => StageOutcome::Failed,
            Completion::All if agreed == total => StageOutcome::Complete,
            Completion::Any if agreed > 0 => StageOutcome::Complete,
            Completion::Any if disagreed == total => StageOutcome::Failed,
            Completion::Ratio { percent } => {
                let need = usize::from(*percent) * total;
                if agreed * 100 >= need {
                    StageOutcome::Complete
                } else if (agreed + open) * 100 < need {
                    StageOutcome::Failed
                } else {
                    StageOutcome::Pending
                }
            }
            _ => StageOutcome::Pending,
        }
    }

    /// Departments that have not acted.
    pub fn pending(&self) -> Vec<UnitCode> {
        match &self.spec {
            StageSpec::Countersign { departments, .. } => departments
                .iter()
                .filter(|d| !self.countersigns.contains_key(*d))
                .cloned()
                .collect(),
            StageSpec::Review { .. } => Vec::new(),
        }
    }

    /// Who acts on a review stage now: the delegate while delegated and not yet reported,
    /// else the reviewer.
    pub fn acting_reviewer(&self) -> Option<&ActorId> {
        match &self.spec {
            StageSpec::Review { reviewer, .. } => match (&self.delegate, self.delegate_report) {
                (Some(d), None) => Some(d),
                _ => Some(reviewer),
            },
            StageSpec::Countersign { .. } => None,
        }
    }
}

/// One opinion on the record (审核意见, 会签意见, 签发意见, 退回理由).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opinion {
    /// The round it was given in (0 before the first submission).
    pub round: u32,
    /// The step: `review`, `countersign`, `sign_off`, `return`, `withdraw`.
    pub step: String,
    /// The stage index, for review and countersign.
    pub stage: Option<usize>,
    /// Who gave it.
    pub actor: ActorId,
    /// The department, for countersign and sign-off.
    pub unit: Option<UnitCode>,
    /// Agreed or not.
    pub agree: bool,
    /// The text.
    pub text: String,
    /// When.
    pub at: Timestamp,
}

/// One signature (签发).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The issuing unit signed for.
    pub unit: UnitCode,
    /// The signer.
    pub actor: ActorId,
    /// The signer's name as recorded.
    pub name: String,
    /// 签发意见.
    pub opinion: String,
    /// The full date.
    pub date: NaiveDate,
}

/// The issue record (印发).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRecord {
    /// 发文字号.
    pub number: DocumentNumber,
    /// 印发日期.
    pub issue_date: NaiveDate,
    /// 份数.
    pub copies: u32,
    /// 主送.
    pub main_recipients: Vec<String>,
    /// 抄送.
    pub cc: Vec<String>,
}

/// The archive record (归档).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveRecord {
    /// 档号 and its parts.
    pub reference: ArchiveReference,
    /// Fixity digest of the event chain before archiving, where a chain is kept.
    pub fixity_hash: Option<String>,
    /// When it was archived.
    pub at: Timestamp,
    /// The retention the schedule gave (absent for documents archived before schedules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_retention: Option<Retention>,
    /// Why another retention than the schedule's was chosen, if one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviation: Option<String>,
}

/// Who a document is waiting for: the key of a to-do (待办) entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignee {
    /// One named actor (the drafter, a reviewer).
    Actor(ActorId),
    /// Any actor of `unit` holding `role` (a countersigner, a signatory).
    UnitRole {
        /// The unit.
        unit: UnitCode,
        /// The role.
        role: Role,
    },
    /// Any actor of `unit` (a recipient that has to acknowledge).
    Unit(UnitCode),
    /// Any actor holding `role` (the office clerk, the archivist).
    Role(Role),
}

impl Assignee {
    /// Whether `actor` is (one of) the assignee(s).
    pub fn matches(&self, actor: &Actor) -> bool {
        match self {
            Assignee::Actor(id) => *id == actor.id,
            Assignee::UnitRole { unit, role } => {
                actor.unit == *unit
                    && (actor.has_role(*role)
                        || (*role == Role::Signatory && actor.has_role(Role::PrincipalSignatory)))
            }
            Assignee::Unit(unit) => actor.unit == *unit,
            Assignee::Role(role) => actor.has_role(*role),
        }
    }

    /// All the assignee keys an actor answers to; an inbox is the union of their entries.
    pub fn keys_of(actor: &Actor) -> Vec<Assignee> {
        let mut keys = vec![
            Assignee::Actor(actor.id.clone()),
            Assignee::Unit(actor.unit.clone()),
        ];
        for role in &actor.roles {
            keys.push(Assignee::Role(*role));
            keys.push(Assignee::UnitRole {
                unit: actor.unit.clone(),
                role: *role,
            });
            if *role == Role::PrincipalSignatory {
                keys.push(Assignee::UnitRole {
                    unit: actor.unit.clone(),
                    role: Role::Signatory,
                });
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }
}

impl fmt::Display for Assignee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Assignee::Actor(a) => write!(f, "{a}"),
            Assignee::UnitRole { unit, role } => write!(f, "{role}@{unit}"),
            Assignee::Unit(u) => write!(f, "@{u}"),
            Assignee::Role(r) => write!(f, "{r}"),
        }
    }
}

/// A document (公文) as the fold of its events.
///
/// Built only by [`Document::from_events`] / [`Document::apply`]; there are no setters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub(crate) id: DocumentId,
    pub(crate) version: u64,
    pub(crate) state: State,
    pub(crate) fields: DraftFields,
    pub(crate) drafter: ActorId,
    pub(crate) drafter_unit: UnitCode,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) revision: u32,
    pub(crate) round: u32,
    pub(crate) route: Vec<Stage>,
    pub(crate) current_stage: Option<usize>,
    pub(crate) acted_in_round: bool,
    pub(crate) signatures: Vec<Signature>,
    pub(crate) written_date: Option<NaiveDate>,
    pub(crate) issue: Option<IssueRecord>,
    pub(crate) acknowledged: BTreeMap<UnitCode, Timestamp>,
    pub(crate) archive: Option<ArchiveRecord>,
    pub(crate) opinions: Vec<Opinion>,
    pub(crate) void_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
}

impl Document {
    /// Folds a whole stream. `None` if it is empty or does not start with `Drafted`.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<Document> {
        let mut doc: Option<Document> = None;
        for e in events {
            match doc.as_mut() {
                Some(d) => d.apply(e),
                None => doc = Document::created_by(e),
            }
        }
        doc
    }

    /// The new document a `Drafted` event creates; `None` for any other event.
    pub fn created_by(event: &Event) -> Option<Document> {
        let EventData::Drafted {
            document_id,
            fields,
            drafter_unit,
            warnings,
        } = &event.data
        else {
            return None;
        };
        Some(Document {
            id: *document_id,
            version: 1,
            state: State::Drafting,
            fields: fields.clone(),
            drafter: event.actor.clone(),
            drafter_unit: drafter_unit.clone(),
            created_at: event.at,
            updated_at: event.at,
            revision: 1,
            round: 0,
            route: Vec::new(),
            current_stage: None,
            acted_in_round: false,
            signatures: Vec::new(),
            written_date: None,
            issue: None,
            acknowledged: BTreeMap::new(),
            archive: None,
            opinions: Vec::new(),
            void_reason: None,
            warnings: warnings.clone(),
        })
    }

    /// Applies one event. Never fails: the event was decided against this state, so it fits.
    pub fn apply(&mut self, event: &Event) {
        self.version += 1;
        self.updated_at = event.at;
        let at = event.at;
        match &event.data {
            // A second Drafted cannot be decided; ignoring it keeps `apply` total.
            EventData::Drafted { .. } => {}
            EventData::Revised { fields, warnings } => {
                self.fields = fields.clone();
                self.warnings = warnings.clone();
                self.revision += 1;
            }
            EventData::SubmittedForReview { round, route } => {
                self.round = *round;
                self.route = route.iter().cloned().map(Stage::fresh).collect();
                self.acted_in_round = false;
                self.signatures.clear();
                self.written_date = None;
                self.start_stage(0, at);
            }
            EventData::Approved { stage, opinion } => {
                self.acted_in_round = true;
                self.record_opinion(
                    &event.actor,
                    "review",
                    Some(*stage),
                    None,
                    true,
                    opinion,
                    at,
                );
                self.complete_stage(*stage, at);
            }
            EventData::Countersigned {
                stage,
                unit,
                agree,
                opinion,
            } => {
                self.acted_in_round = true;
                self.record_opinion(
                    &event.actor,
                    "countersign",
                    Some(*stage),
                    Some(unit.clone()),
                    *agree,
                    opinion,
                    at,
                );
                if let Some(s) = self.route.get_mut(*stage) {
                    s.countersigns.insert(unit.clone(), *agree);
                }
                self.settle_countersign(*stage, at);
            }
            EventData::CountersignerRemoved { stage, unit } => {
                if let Some(Stage {
                    spec: StageSpec::Countersign { departments, .. },
                    ..
                }) = self.route.get_mut(*stage)
                {
                    departments.retain(|d| d != unit);
                }
                self.settle_countersign(*stage, at);
            }
            EventData::CountersignersNotNeeded { stage, units } => {
                if let Some(s) = self.route.get_mut(*stage) {
                    s.not_needed.extend(units.iter().cloned());
                }
            }
            EventData::ReviewerAdded {
                stage,
                reviewer,
                before,
            } => {
                let new = Stage::fresh(StageSpec::review(reviewer.clone()));
                let index = (*stage).min(self.route.len());
                self.route.insert(index, new);
                if *before {
                    // The displaced stage waits again; it restarts when its turn comes.
                    if let Some(next) = self.route.get_mut(index + 1) {
                        next.reset();
                    }
                    self.start_stage(index, at);
                }
            }
            EventData::Reassigned {
                stage, to, reason, ..
            } => {
                if let Some(s) = self.route.get_mut(*stage) {
                    if let StageSpec::Review { reviewer, .. } = &mut s.spec {
                        *reviewer = to.clone();
                    }
                    s.delegate = None;
                    s.delegate_report = None;
                }
                if !reason.is_empty() {
                    self.record_opinion(
                        &event.actor,
                        "reassign",
                        Some(*stage),
                        None,
                        true,
                        reason,
                        at,
                    );
                }
            }
            EventData::Delegated {
                stage, to, reason, ..
            } => {
                if let Some(s) = self.route.get_mut(*stage) {
                    s.delegate = Some(to.clone());
                    s.delegate_report = None;
                }
                if !reason.is_empty() {
                    self.record_opinion(
                        &event.actor,
                        "delegate",
                        Some(*stage),
                        None,
                        true,
                        reason,
                        at,
                    );
                }
            }
            EventData::DelegateReported {
                stage,
                agree,
                opinion,
            } => {
                self.acted_in_round = true;
                self.record_opinion(
                    &event.actor,
                    "delegate_report",
                    Some(*stage),
                    None,
                    *agree,
                    opinion,
                    at,
                );
                if let Some(s) = self.route.get_mut(*stage) {
                    s.delegate_report = Some(*agree);
                }
            }
            EventData::ReturnedToStage { stage, reason, .. } => {
                self.record_opinion(
                    &event.actor,
                    "return",
                    self.current_stage,
                    None,
                    false,
                    reason,
                    at,
                );
                for s in self.route.iter_mut().skip(*stage) {
                    s.reset();
                }
                self.signatures.clear();
                self.written_date = None;
                self.start_stage(*stage, at);
            }
            EventData::Reminded { stage, .. } => {
                if let Some(s) = self.route.get_mut(*stage) {
                    s.last_reminded_at = Some(at);
                    s.reminders += 1;
                }
            }
            EventData::CountersignerAdded { stage, unit } => {
                if let Some(Stage {
                    spec: StageSpec::Countersign { departments, .. },
                    ..
                }) = self.route.get_mut(*stage)
                {
                    departments.push(unit.clone());
                }
            }
            EventData::Returned { to, reason, .. } => {
                self.record_opinion(
                    &event.actor,
                    "return",
                    self.current_stage,
                    None,
                    false,
                    reason,
                    at,
                );
                if *to == State::AwaitingSignOff {
                    self.state = State::AwaitingSignOff;
                    self.signatures.clear();
                    self.written_date = None;
                } else {
                    self.back_to_drafting();
                }
            }
            EventData::Withdrawn { reason } => {
                self.record_opinion(
                    &event.actor,
                    "withdraw",
                    self.current_stage,
                    None,
                    false,
                    reason,
                    at,
                );
                self.back_to_drafting();
            }
            EventData::Signed {
                unit,
                signer_name,
                opinion,
                date,
            } => {
                self.record_opinion(
                    &event.actor,
                    "sign_off",
                    None,
                    Some(unit.clone()),
                    true,
                    opinion,
                    at,
                );
                self.signatures.push(Signature {
                    unit: unit.clone(),
                    actor: event.actor.clone(),
                    name: signer_name.clone(),
                    opinion: opinion.clone(),
                    date: *date,
                });
                if self.unsigned_units().is_empty() {
                    self.state = State::SignedOff;
                    self.written_date = Some(*date);
                }
            }
            EventData::Issued {
                number,
                issue_date,
                copies,
                main_recipients,
                cc,
            } => {
                self.issue = Some(IssueRecord {
                    number: number.clone(),
                    issue_date: *issue_date,
                    copies: *copies,
                    main_recipients: main_recipients.clone(),
                    cc: cc.clone(),
                });
                self.state = State::Issued;
            }
            EventData::Acknowledged { recipient } => {
                self.acknowledged.insert(recipient.clone(), at);
            }
            EventData::Archived {
                reference,
                fixity_hash,
                scheduled_retention,
                deviation,
            } => {
                self.archive = Some(ArchiveRecord {
                    reference: reference.clone(),
                    fixity_hash: fixity_hash.clone(),
                    at,
                    scheduled_retention: *scheduled_retention,
                    deviation: deviation.clone(),
                });
                self.state = State::Archived;
            }
            EventData::Voided { reason } => {
                self.void_reason = Some(reason.clone());
                self.current_stage = None;
                self.state = State::Voided;
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // one opinion record has that many parts
    fn record_opinion(
        &mut self,
        actor: &ActorId,
        step: &str,
        stage: Option<usize>,
        unit: Option<UnitCode>,
        agree: bool,
        text: &str,
        at: Timestamp,
    ) {
        self.opinions.push(Opinion {
            round: self.round,
            step: step.to_owned(),
            stage,
            actor: actor.clone(),
            unit,
            agree,
            text: text.to_owned(),
            at,
        });
    }

    fn start_stage(&mut self, index: usize, at: Timestamp) {
        match self.route.get_mut(index) {
            Some(stage) => {
                stage.started_at = Some(at);
                stage.due_at = stage
                    .spec
                    .deadline_days()
                    .and_then(|d| at.checked_add_signed(Duration::days(i64::from(d))));
                self.state = match stage.spec {
                    StageSpec::Review { .. } => State::InReview,
                    StageSpec::Countersign { .. } => State::Countersigning,
                };
                self.current_stage = Some(index);
            }
            None => {
                self.current_stage = None;
                self.state = State::AwaitingSignOff;
                self.signatures.clear();
            }
        }
    }

    fn complete_stage(&mut self, index: usize, at: Timestamp) {
        if let Some(stage) = self.route.get_mut(index) {
            stage.completed = true;
        }
        self.start_stage(index + 1, at);
    }

    /// Moves a countersign stage on, or back to the drafter, once its rule decides.
    fn settle_countersign(&mut self, stage: usize, at: Timestamp) {
        if self.current_stage != Some(stage) {
            return;
        }
        match self.route.get(stage).map(Stage::outcome) {
            Some(StageOutcome::Complete) => self.complete_stage(stage, at),
            Some(StageOutcome::Failed) => self.back_to_drafting(),
            _ => {}
        }
    }

    fn back_to_drafting(&mut self) {
        self.state = State::Drafting;
        self.current_stage = None;
    }

    /// The units whose signature is still missing (lead unit first, then co-issuers).
    pub fn unsigned_units(&self) -> Vec<UnitCode> {
        self.signing_units()
            .into_iter()
            .filter(|u| !self.signatures.iter().any(|s| s.unit == *u))
            .collect()
    }

    /// The units that must sign: the issuing unit, then every co-issuing unit (联合发文).
    pub fn signing_units(&self) -> Vec<UnitCode> {
        let mut units = vec![self.fields.issuing_unit.clone()];
        units.extend(self.fields.co_issuing_units.iter().cloned());
        units
    }

    /// The role a signer needs: `PrincipalSignatory` for upward or important documents.
    pub fn required_sign_role(&self) -> Role {
        if self.fields.kind.is_upward() || self.fields.important {
            Role::PrincipalSignatory
        } else {
            Role::Signatory
        }
    }

    /// The stage the document is at, if it is in review or countersign.
    pub fn current(&self) -> Option<(usize, &Stage)> {
        let i = self.current_stage?;
        self.route.get(i).map(|s| (i, s))
    }

    /// Departments of the current countersign stage that have not signed this round.
    pub fn pending_departments(&self) -> Vec<UnitCode> {
        match self.current() {
            Some((
                _,
                Stage {
                    spec: StageSpec::Countersign { departments, .. },
                    countersigns,
                    ..
                },
            )) => departments
                .iter()
                .filter(|d| !countersigns.contains_key(*d))
                .cloned()
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Recipients that are units of the directory and have not acknowledged yet, given a
    /// predicate telling which recipient strings are unit codes.
    pub fn unacknowledged(&self, is_unit: impl Fn(&str) -> bool) -> Vec<UnitCode> {
        let Some(issue) = &self.issue else {
            return Vec::new();
        };
        let mut out: Vec<UnitCode> = issue
            .main_recipients
            .iter()
            .chain(&issue.cc)
            .filter(|r| is_unit(r))
            .map(|r| UnitCode(r.clone()))
            .filter(|u| !self.acknowledged.contains_key(u))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Who the document is waiting for now (its to-do entries).
    pub fn assignees(&self, is_unit: impl Fn(&str) -> bool) -> Vec<Assignee> {
        let mut waiting = match self.state {
            State::Drafting => vec![Assignee::Actor(self.drafter.clone())],
            State::InReview => self
                .current()
                .and_then(|(_, s)| s.acting_reviewer())
                .map(|r| Assignee::Actor(r.clone()))
                .into_iter()
                .collect(),
            State::Countersigning => self
                .pending_departments()
                .into_iter()
                .map(|unit| Assignee::UnitRole {
                    unit,
                    role: Role::Countersigner,
                })
                .collect(),
            State::AwaitingSignOff => {
                let role = self.required_sign_role();
                self.unsigned_units()
                    .into_iter()
                    .map(|unit| Assignee::UnitRole { unit, role })
                    .collect()
            }
            State::SignedOff => vec![Assignee::Role(Role::Clerk)],
            State::Issued => {
                let mut v: Vec<Assignee> = self
                    .unacknowledged(is_unit)
                    .into_iter()
                    .map(Assignee::Unit)
                    .collect();
                v.push(Assignee::Role(Role::Archivist));
                v
            }
            State::Archived | State::Voided => Vec::new(),
        };
        // An overdue stage that was escalated also waits on whom it was escalated to.
        if let Some((_, s)) = self.current()
            && s.reminders > 0
            && let Some(to) = s.spec.escalate_to()
        {
            let to = Assignee::Actor(to.clone());
            if !waiting.contains(&to) {
                waiting.push(to);
            }
        }
        waiting
    }

    /// Whether the current stage is past its deadline at `now`.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.current()
            .and_then(|(_, s)| s.due_at)
            .is_some_and(|due| now > due)
    }

    /// The document (and stream) id.
    pub fn id(&self) -> DocumentId {
        self.id
    }
    /// How many events have been applied (the stream version).
    pub fn version(&self) -> u64 {
        self.version
    }
    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }
    /// The draft's content.
    pub fn fields(&self) -> &DraftFields {
        &self.fields
    }
    /// 文种.
    pub fn kind(&self) -> Kind {
        self.fields.kind
    }
    /// 密级.
    pub fn classification(&self) -> Classification {
        self.fields.classification
    }
    /// The drafter.
    pub fn drafter(&self) -> &ActorId {
        &self.drafter
    }
    /// The drafter's unit at drafting.
    pub fn drafter_unit(&self) -> &UnitCode {
        &self.drafter_unit
    }
    /// When it was drafted.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
    /// When the last event happened.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    /// How many times the content was set (1 after drafting).
    pub fn revision(&self) -> u32 {
        self.revision
    }
    /// The review round (0 before the first submission).
    pub fn round(&self) -> u32 {
        self.round
    }
    /// The route of the current (or last) round.
    pub fn route(&self) -> &[Stage] {
        &self.route
    }
    /// Whether any reviewer or department acted in this round.
    pub fn acted_in_round(&self) -> bool {
        self.acted_in_round
    }
    /// Signatures so far (this sign-off).
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }
    /// 成文日期: the date of the last required signature.
    pub fn written_date(&self) -> Option<NaiveDate> {
        self.written_date
    }
    /// The issue record, once issued.
    pub fn issue(&self) -> Option<&IssueRecord> {
        self.issue.as_ref()
    }
    /// Recipient units that acknowledged, and when.
    pub fn acknowledged(&self) -> &BTreeMap<UnitCode, Timestamp> {
        &self.acknowledged
    }
    /// The archive record, once archived.
    pub fn archive(&self) -> Option<&ArchiveRecord> {
        self.archive.as_ref()
    }
    /// Every opinion given, in order, across rounds.
    pub fn opinions(&self) -> &[Opinion] {
        &self.opinions
    }
    /// Why it was voided.
    pub fn void_reason(&self) -> Option<&str> {
        self.void_reason.as_deref()
    }
    /// What the rules accepted but flagged in the current content (e.g. an upward 报告 with
    /// several 主送).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
