//! Identifiers and time: what names a document (its stream), an actor, a unit, and when.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The actor id of the engine itself: it gives the reminders and the cross-flow reactions,
/// and no directory actor may take this id.
pub const SYSTEM_ACTOR: &str = "system";

/// An instant in UTC. Time enters the core with each command; the core never reads a clock.
pub type Timestamp = DateTime<Utc>;

/// The id of one document, which is also the id of its event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DocumentId(pub Uuid);

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

string_id!(
    /// The id of an actor (a person) in the directory, e.g. `wang.fang`.
    ActorId
);
string_id!(
    /// The code of a unit (单位/部门), e.g. `JWC` for 教务处.
    UnitCode
);

/// An instant in China Standard Time (UTC+8), where the offices are.
pub fn in_china(at: Timestamp) -> DateTime<FixedOffset> {
    match FixedOffset::east_opt(8 * 3600) {
        Some(cst) => at.with_timezone(&cst),
        None => at.fixed_offset(),
    }
}

/// The calendar date in China Standard Time (UTC+8), where the offices are.
pub fn china_date(at: Timestamp) -> NaiveDate {
    in_china(at).date_naive()
}

/// An instant as the offices read it: `2026-11-24 09:30:00 CST` (China Standard Time).
pub fn china_time(at: Timestamp) -> String {
    in_china(at).format("%Y-%m-%d %H:%M:%S CST").to_string()
}

/// 24:00 of `date`, China time (the next day's first instant): when a deadline on that day
/// runs out. Anything done before it, 23:59:59.999 included, is within the deadline.
pub(crate) fn end_of_day(date: NaiveDate) -> Option<Timestamp> {
    use chrono::TimeZone;
    let end = date.succ_opt()?.and_hms_opt(0, 0, 0)?;
    chrono::FixedOffset::east_opt(8 * 3600)?
        .from_local_datetime(&end)
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
}
