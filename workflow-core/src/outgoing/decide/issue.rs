//! 印发 (the 发文字号), 签收 by the recipients, and 作废 before issue.

use chrono::{Datelike, NaiveDate};

use super::*;
use crate::outgoing::event::EventData;

impl Decide<'_> {
    pub(super) fn issue(
        &self,
        issue_date: NaiveDate,
        copies: u32,
    ) -> Result<Vec<EventData>, Error> {
        let d = self.doc;

        self.require_state(&[State::SignedOff])?;
        require_role(self.actor, Role::Clerk, self.name)?;
        if copies == 0 {
            return Err(Error::field("copies", "at least one copy must be issued"));
        }
        if let Some(written) = d.written_date()
            && issue_date < written
        {
            return Err(Error::field(
                "issue_date",
                format!("{issue_date} is before the 成文日期 {written}"),
            ));
        }
        let unit = &d.fields().issuing_unit;
        let prefix = self
            .ctx
            .unit(unit)
            .map(|u| u.doc_prefix)
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| {
                self.not_now(&format!(
                    "issuing unit {unit} has no document-number prefix in the directory"
                ))
            })?;
        let year = issue_date.year();
        let seq = self.ctx.next_number(&Series::Document {
            prefix: prefix.clone(),
            year,
        })?;
        let mut issued = EventData::Issued {
            number: DocumentNumber { prefix, year, seq },
            issue_date,
            copies,
            main_recipients: d.fields().main_recipients.clone(),
            cc: d.fields().cc.clone(),
            printed: None,
        };
        // The 公文 as it prints once issued, where the context renders one (the store, given
        // a renderer), kept before this event is: the event names what was printed.
        if self.ctx.prints() {
            let mut after = d.clone();
            after.apply_parts(&self.actor.id, self.at, &issued);
            if let Some(file) = self.ctx.print_issued(&after)?
                && let EventData::Issued { printed, .. } = &mut issued
            {
                *printed = Some(file);
            }
        }
        Ok(vec![issued])
    }

    pub(super) fn acknowledge(&self) -> Result<Vec<EventData>, Error> {
        let d = self.doc;

        self.require_state(&[State::Issued])?;
        let unit = self.actor.unit.clone();
        let is_recipient = d
            .issue()
            .is_some_and(|i| i.main_recipients.iter().chain(&i.cc).any(|r| *r == unit.0));
        if !is_recipient {
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: "an actor of a recipient unit (主送 or 抄送)".into(),
            });
        }
        if d.acknowledged().contains_key(&unit) {
            return Err(self.not_now(&format!("recipient {unit} has already acknowledged")));
        }
        Ok(vec![EventData::Acknowledged { recipient: unit }])
    }

    pub(super) fn void(&self, reason: &str) -> Result<Vec<EventData>, Error> {
        let d = self.doc;

        self.require_state(&[
            State::Drafting,
            State::InReview,
            State::Countersigning,
            State::AwaitingSignOff,
            State::SignedOff,
        ])?;
        if self.actor.id != *d.drafter() && !self.actor.has_role(Role::Clerk) {
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: format!("the drafter {} or an office clerk", d.drafter()),
            });
        }
        check_text("reason", reason, true)?;
        Ok(vec![EventData::Voided {
            reason: reason.trim().to_owned(),
        }])
    }
}
