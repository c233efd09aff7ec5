//! Routes: the stages a document runs through (审核 by one reviewer, 会签 by several
//! departments under a completion rule), their deadlines and their progress. The route is
//! data given at submission (DESIGN §2, §2b); shared by the flows that route.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{ActorId, Timestamp, UnitCode};

/// How a stage of the route is named in messages: its 0-based index, as on the wire, and
/// the 1-based number offices use, e.g. `stage index 0 (第1环节)`.
pub fn stage_label(index: usize) -> String {
    format!("stage index {index} (第{}环节)", index + 1)
}

/// When a countersign stage is complete (DESIGN §2b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    /// 会签: every department agrees; any disagreement returns the draft (veto).
    #[default]
    All,
    /// 或签: the first agreement completes the stage; it returns only if all disagree.
    Any,
    /// At least `percent` % of the departments agree; it returns once that is out of reach.
    Ratio {
        /// 1–100.
        percent: u8,
    },
}

/// One stage of a document's route, as given at submission.
///
/// Fields added after the first schema (`completion`, `escalate_to`) default when absent,
/// so events written before them read unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageSpec {
    /// 审核/核稿 by one named actor.
    Review {
        /// The reviewer.
        reviewer: ActorId,
        /// 办理时限 in calendar days from the stage's start.
        #[serde(default)]
        deadline_days: Option<u32>,
        /// Who is told when the stage is overdue (督办 escalation).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        escalate_to: Option<ActorId>,
    },
    /// 会签 by several departments in parallel.
    Countersign {
        /// The departments.
        departments: Vec<UnitCode>,
        /// 办理时限 in calendar days from the stage's start.
        #[serde(default)]
        deadline_days: Option<u32>,
        /// When the stage is complete: all (default), any (或签), or a ratio.
        #[serde(default, skip_serializing_if = "is_all")]
        completion: Completion,
        /// Who is told when the stage is overdue (督办 escalation).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        escalate_to: Option<ActorId>,
    },
}

fn is_all(c: &Completion) -> bool {
    *c == Completion::All
}

impl StageSpec {
    /// A review stage without deadline or escalation.
    pub fn review(reviewer: impl Into<ActorId>) -> Self {
        StageSpec::Review {
            reviewer: reviewer.into(),
            deadline_days: None,
            escalate_to: None,
        }
    }

    /// A countersign stage (all must agree) without deadline or escalation.
    pub fn countersign<U: Into<UnitCode>>(departments: impl IntoIterator<Item = U>) -> Self {
        StageSpec::Countersign {
            departments: departments.into_iter().map(Into::into).collect(),
            deadline_days: None,
            completion: Completion::All,
            escalate_to: None,
        }
    }

    /// The same stage with a deadline in days.
    pub fn with_deadline(mut self, days: u32) -> Self {
        match &mut self {
            StageSpec::Review { deadline_days, .. }
            | StageSpec::Countersign { deadline_days, .. } => {
                *deadline_days = Some(days);
            }
        }
        self
    }

    /// The stage's time limit in days, if any.
    pub fn deadline_days(&self) -> Option<u32> {
        match self {
            StageSpec::Review { deadline_days, .. }
            | StageSpec::Countersign { deadline_days, .. } => *deadline_days,
        }
    }

    /// Who is told when the stage is overdue.
    pub fn escalate_to(&self) -> Option<&ActorId> {
        match self {
            StageSpec::Review { escalate_to, .. } | StageSpec::Countersign { escalate_to, .. } => {
                escalate_to.as_ref()
            }
        }
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
    pub(crate) fn fresh(spec: StageSpec) -> Stage {
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

    pub(crate) fn reset(&mut self) {
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
