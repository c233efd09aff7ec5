//! 归档: the 档号 (年度 from the 成文日期) and the retention the schedule gives.

use chrono::Datelike;

use super::*;
use crate::outgoing::event::EventData;
use crate::retention::Retention;

impl Decide<'_> {
    pub(super) fn archive(
        &self,
        fonds: &str,
        retention: Option<Retention>,
        unit_code: &str,
        deviation_reason: &str,
    ) -> Result<Vec<EventData>, Error> {
        let d = self.doc;

        self.require_state(&[State::Issued])?;
        require_role(self.actor, Role::Archivist, self.name)?;
        let fonds = check_code("fonds", fonds)?;
        let unit = check_code("unit_code", unit_code)?;
        let (retention, scheduled, deviation) = self.retention(retention, deviation_reason)?;
        // 年度 is the year the document was made (形成年度): its 成文日期, the date of
        // the last required signature (DA/T 22-2015), not the issue date.
        let year = d
            .written_date()
            .or_else(|| d.issue().map(|i| i.issue_date))
            .map_or_else(|| china_date(self.at).year(), |date| date.year());
        let item = self.ctx.next_number(&Series::Item {
            fonds: fonds.clone(),
            year,
            retention,
        })?;
        Ok(vec![EventData::Archived {
            reference: ArchiveReference {
                fonds,
                year,
                retention,
                unit,
                item,
            },
            fixity_hash: self.ctx.fixity_hash()?,
            scheduled_retention: Some(scheduled),
            deviation,
        }])
    }

    /// The retention to archive with (the schedule's unless the archivist chose another),
    /// the schedule's, and the recorded deviation: another period needs a reason, a shorter
    /// one the archive office's role.
    pub(super) fn retention(
        &self,
        chosen: Option<Retention>,
        reason: &str,
    ) -> Result<(Retention, Retention, Option<String>), Error> {
        let d = self.doc;
        crate::checks::choose_retention(
            self.ctx,
            self.actor,
            self.name,
            (StreamKind::Outgoing, Some(d.kind()), d.fields().important),
            chosen,
            reason,
        )
    }
}
