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
        // 年度 is the year the document was made (形成年度): its 成文日期, the date of
        // the last required signature (DA/T 22-2015), not the issue date.
        let year = d
            .written_date()
            .or_else(|| d.issue().map(|i| i.issue_date))
            .map_or_else(|| china_date(self.at).year(), |date| date.year());
        let f = crate::checks::file(
            self.ctx,
            self.actor,
            self.name,
            (StreamKind::Outgoing, Some(d.kind()), d.fields().important),
            year,
            crate::checks::ArchiveFields {
                fonds,
                retention,
                unit_code,
                deviation_reason,
            },
        )?;
        Ok(vec![EventData::Archived {
            reference: f.reference,
            fixity_hash: f.fixity_hash,
            scheduled_retention: Some(f.scheduled),
            deviation: f.deviation,
        }])
    }
}
