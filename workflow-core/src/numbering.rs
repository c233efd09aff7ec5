//! 发文字号 document numbers and 档号 archival references: the rule and the formatting.
//!
//! The core decides what a number looks like and that the sequence starts at 1 with no
//! gaps; the store (through [`crate::Context`]) hands out the next sequence so that
//! numbers are unique across all documents.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::retention::Retention;

/// A numbering series, in which numbers run 1, 2, 3, … without gaps and are unique across
/// documents: 发文字号, 收文编号 and 签报编号 per prefix and year; 督办立项号 per year; 件号 per
/// fonds, year and retention. The one
/// definition: the store keeps the highest number of each and encodes it as it likes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Series {
    /// 发文字号: per 机关代字 and year of issue.
    Document {
        /// 机关代字.
        prefix: String,
        /// The year in 〔〕.
        year: i32,
    },
    /// 收文编号: per receiving unit's prefix and year of receipt.
    Receipt {
        /// The receiving unit's 收文 prefix, e.g. `X校收`.
        prefix: String,
        /// The year of receipt.
        year: i32,
    },
    /// 签报编号: per the 签报单位's prefix and the year of 核稿.
    Memo {
        /// The unit's 签报 prefix, e.g. `X校教签`.
        prefix: String,
        /// The year of 核稿.
        year: i32,
    },
    /// 督办立项号: per year of 立项.
    Supervision {
        /// The year of 立项 (China time).
        year: i32,
    },
    /// 件号: per fonds (全宗号), year (年度) and retention (保管期限).
    Item {
        /// 全宗号.
        fonds: String,
        /// 年度.
        year: i32,
        /// 保管期限.
        retention: Retention,
    },
}

impl DocumentNumber {
    /// The series this number is drawn from.
    pub fn series(&self) -> Series {
        Series::Document {
            prefix: self.prefix.clone(),
            year: self.year,
        }
    }
}

impl ArchiveReference {
    /// The series this item number is drawn from.
    pub fn series(&self) -> Series {
        Series::Item {
            fonds: self.fonds.clone(),
            year: self.year,
            retention: self.retention,
        }
    }
}

/// 督办立项号, e.g. `督〔2026〕15号`: per year of 立项, from 1, without gaps, whoever opened
/// the item (a 督办员, or the engine for a 批示 that asks for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ItemNumber {
    /// The year of 立项.
    pub year: i32,
    /// 1, 2, 3, … per year.
    pub seq: u32,
}

impl ItemNumber {
    /// The series this number is drawn from.
    pub fn series(&self) -> Series {
        Series::Supervision { year: self.year }
    }
}

impl fmt::Display for ItemNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "督〔{}〕{}号", self.year, self.seq)
    }
}

/// 发文字号, e.g. `X校发〔2026〕12号`: prefix (机关代字), year in 〔〕, sequence without
/// leading zeros and without 第.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DocumentNumber {
    /// 机关代字 of the issuing (lead) unit.
    pub prefix: String,
    /// The year of the issue date.
    pub year: i32,
    /// 1, 2, 3, … per prefix and year.
    pub seq: u32,
}

impl fmt::Display for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}〔{}〕{}号", self.prefix, self.year, self.seq)
    }
}

/// 收文编号, e.g. `X校收〔2026〕15号`: the receiving unit's prefix, the year of receipt, the
/// sequence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReceiptNumber {
    /// The receiving unit's prefix.
    pub prefix: String,
    /// The year of receipt.
    pub year: i32,
    /// 1, 2, 3, … per prefix and year.
    pub seq: u32,
}

impl ReceiptNumber {
    /// The series this number is drawn from.
    pub fn series(&self) -> Series {
        Series::Receipt {
            prefix: self.prefix.clone(),
            year: self.year,
        }
    }
}

impl fmt::Display for ReceiptNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}〔{}〕{}号", self.prefix, self.year, self.seq)
    }
}

/// 档号, e.g. `J012-WS·2026-Y-BGS-0015`: 全宗号-WS·年度-期限-机构-件号.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ArchiveReference {
    /// 全宗号 fonds number.
    pub fonds: String,
    /// 年度.
    pub year: i32,
    /// 保管期限.
    pub retention: Retention,
    /// 机构 code of the organisational unit.
    pub unit: String,
    /// 件号, 1, 2, 3, … per fonds, year and retention.
    pub item: u32,
}

impl fmt::Display for ArchiveReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-WS·{}-{}-{}-{:04}",
            self.fonds,
            self.year,
            self.retention.code(),
            self.unit,
            self.item
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_number_has_brackets_no_leading_zero_and_no_di() {
        let n = DocumentNumber {
            prefix: "X校发".into(),
            year: 2026,
            seq: 12,
        };
        assert_eq!(n.to_string(), "X校发〔2026〕12号");
        let n = DocumentNumber {
            prefix: "X校教".into(),
            year: 2027,
            seq: 3,
        };
        assert_eq!(n.to_string(), "X校教〔2027〕3号");
    }

    #[test]
    fn archive_reference_pads_item_to_four_digits() {
        let r = ArchiveReference {
            fonds: "J012".into(),
            year: 2026,
            retention: Retention::Permanent,
            unit: "BGS".into(),
            item: 15,
        };
        assert_eq!(r.to_string(), "J012-WS·2026-Y-BGS-0015");
        let r = ArchiveReference {
            retention: Retention::Years30,
            item: 1,
            ..r
        };
        assert_eq!(r.to_string(), "J012-WS·2026-D30-BGS-0001");
        let r = ArchiveReference {
            retention: Retention::Years10,
            ..r
        };
        assert_eq!(r.to_string(), "J012-WS·2026-D10-BGS-0001");
    }
}
