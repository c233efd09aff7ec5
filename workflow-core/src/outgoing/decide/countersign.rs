//! 会签: a department's opinion on a countersign stage, under the stage's completion rule.

use super::*;
use crate::outgoing::event::EventData;

impl Decide<'_> {
    pub(super) fn countersign(
        &self,
        agree: bool,
        opinion: &str,
        stage: Option<usize>,
    ) -> Result<Vec<EventData>, Error> {
        self.require_meant_stage(stage)?;
        self.require_state(&[State::Countersigning])?;
        let (stage, unit) = self.require_pending_countersigner()?;
        check_text("opinion", opinion, !agree)?;
        let mut after = self.current_stage_clone()?;
        after.countersigns.insert(unit.clone(), agree);
        let mut events = vec![EventData::Countersigned {
            content: self.main_file(),
            stage,
            unit,
            agree,
            opinion: opinion.trim().to_owned(),
        }];
        events.extend(not_needed(stage, &after));
        Ok(events)
    }

    /// The stage and the actor's department, if the actor may countersign for it now.
    pub(super) fn require_pending_countersigner(&self) -> Result<(usize, UnitCode), Error> {
        let Some((
            i,
            Stage {
                spec: StageSpec::Countersign { departments, .. },
                countersigns,
                ..
            },
        )) = self.doc.current()
        else {
            return Err(self.not_now("the current stage is not a countersign"));
        };
        require_role(self.actor, Role::Countersigner, self.name)?;
        let unit = &self.actor.unit;
        if !departments.contains(unit) {
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: format!("a countersigner of {}", join(departments)),
            });
        }
        if countersigns.contains_key(unit) {
            return Err(self.not_now(&format!(
                "department {unit} has already countersigned in round {}",
                self.doc.round()
            )));
        }
        Ok((i, unit.clone()))
    }
}

/// `CountersignersNotNeeded` when a stage is decided (`after` the change) before all its
/// departments acted, so they are recorded rather than silently dropped.
pub(super) fn not_needed(stage: usize, after: &Stage) -> Option<EventData> {
    let pending = after.pending();
    (after.outcome() != StageOutcome::Pending && !pending.is_empty()).then_some(
        EventData::CountersignersNotNeeded {
            stage,
            units: pending,
        },
    )
}
