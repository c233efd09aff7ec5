//! 保管期限 retention periods: the codes used in the 档号 and how periods compare. Its own
//! module because both the archive record and the numbering series (件号 per period) use it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// 保管期限 retention period of an archived document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Retention {
    /// 永久
    Permanent,
    /// 定期30年
    Years30,
    /// 定期10年
    Years10,
}

impl Retention {
    /// All retention periods, longest first.
    pub const ALL: [Retention; 3] = [Retention::Permanent, Retention::Years30, Retention::Years10];

    /// The code used in the archival reference (档号): `Y`, `D30`, `D10`.
    pub fn code(self) -> &'static str {
        match self {
            Retention::Permanent => "Y",
            Retention::Years30 => "D30",
            Retention::Years10 => "D10",
        }
    }

    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            Retention::Permanent => "永久",
            Retention::Years30 => "定期30年",
            Retention::Years10 => "定期10年",
        }
    }

    /// How many years it is kept; `None` for permanent.
    pub fn years(self) -> Option<u32> {
        match self {
            Retention::Permanent => None,
            Retention::Years30 => Some(30),
            Retention::Years10 => Some(10),
        }
    }

    /// Whether this keeps a file for less time than `other`.
    pub fn is_shorter_than(self, other: Retention) -> bool {
        match (self.years(), other.years()) {
            (Some(a), Some(b)) => a < b,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({})", self, self.chinese())
    }
}
