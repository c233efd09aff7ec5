//! 月通报: the monthly bulletin of supervision items (DESIGN §3b) — per lead unit, the
//! items open at the start of the month, opened in it, closed in it on time and late (against
//! the granted deadline), open and overdue at its end, periodic feedback missed in it and
//! extensions granted in it; then the overdue items and the items closed in the month with
//! their results.
//!
//! [`monthly`] is a pure function of the items' events: only events recorded before the end
//! of the month (China time) count, so producing November again after December's events
//! gives the same bulletin, byte for byte in every format.
//!
//! **Definitions.** An item is *open* from its 立项 until its 销号. *Closed on time*: the
//! completion report (办结报告) that was accepted was made by the end of the deadline in force
//! (after granted extensions); *late* otherwise. *Overdue at the end*: still with the lead
//! unit (not yet reported complete) and past the deadline in force. A periodic *feedback is
//! missed* at every instant `last feedback (or 交办) + n × period` (7 days weekly, 30 days
//! monthly) that passes while the lead unit has the item and no feedback came before it;
//! each such instant in the month counts once — the same instants the deadline sweep's
//! 催报 reminders are sent at.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

use super::command::ReminderReason;
use super::event::SupervisionEvent;
use super::state::{Item, ItemStep};
use crate::flow::Recorded;
use crate::ids::{ActorId, DocumentId, Timestamp, UnitCode, china_date};

/// A calendar month, e.g. `2026-11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// The month, 1–12.
    pub month: u32,
}

impl Month {
    /// The month, if `month` is 1–12 and the year within the calendar.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| Month { year, month })
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MIN)
    }

    /// The month after.
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The month before.
    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// Its first instant (midnight of its first day, China time).
    pub fn start(self) -> Timestamp {
        midnight(self.first_day())
    }

    /// The first instant after it.
    pub fn end(self) -> Timestamp {
        self.next().start()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = String;

    /// `YYYY-MM`.
    fn from_str(s: &str) -> Result<Month, String> {
        let bad = || format!("{s:?} is not a month: give YYYY-MM, e.g. 2026-11");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let (year, month) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        Month::new(year, month).ok_or_else(bad)
    }
}

fn midnight(day: NaiveDate) -> Timestamp {
    let cst = chrono::FixedOffset::east_opt(8 * 3600);
    cst.and_then(|tz| {
        tz.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
            .single()
    })
    .map_or_else(
        || day.and_time(chrono::NaiveTime::MIN).and_utc(),
        |t| t.to_utc(),
    )
}

/// The figures of one lead unit (or of all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Open at the start of the month.
    pub open_at_start: u32,
    /// Opened (立项) in the month.
    pub opened: u32,
    /// Closed (销号) in the month, reported complete within the deadline in force.
    pub closed_on_time: u32,
    /// Closed in the month, reported complete after the deadline in force.
    pub closed_late: u32,
    /// Open, with the lead unit, and past the deadline in force at the end of the month.
    pub overdue_at_end: u32,
    /// Periodic feedbacks missed in the month.
    pub feedback_missed: u32,
    /// Extensions granted in the month.
    pub extensions_granted: u32,
    /// 催办 sent in the month: by hand (a 督办员, the 牵头领导) and the deadline sweep's
    /// 超期催办 (from format 4; none before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urged: Option<u32>,
    /// Withdrawn (撤销: the 批办 it followed was sent back) in the month (from format 5;
    /// none before). With it the month adds up: open at its start and opened, less closed
    /// and withdrawn, is what stays open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<u32>,
}

impl Figures {
    /// Nothing in the month.
    fn is_idle(&self) -> bool {
        Figures {
            urged: None,
            withdrawn: None,
            ..*self
        } == Figures::default()
            && self.urged.unwrap_or(0) == 0
            && self.withdrawn.unwrap_or(0) == 0
    }

    fn add(&mut self, o: &Figures) {
        self.open_at_start += o.open_at_start;
        self.opened += o.opened;
        self.closed_on_time += o.closed_on_time;
        self.closed_late += o.closed_late;
        self.overdue_at_end += o.overdue_at_end;
        self.feedback_missed += o.feedback_missed;
        self.extensions_granted += o.extensions_granted;
        let sum = |a: Option<u32>, b: Option<u32>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.urged = sum(self.urged, o.urged);
        self.withdrawn = sum(self.withdrawn, o.withdrawn);
    }

    /// Its figures in the order of the column heads.
    pub fn cells(&self) -> Vec<u32> {
        [
            self.open_at_start,
            self.opened,
            self.closed_on_time,
            self.closed_late,
            self.overdue_at_end,
            self.feedback_missed,
            self.extensions_granted,
        ]
        .into_iter()
        .chain(self.urged)
        .chain(self.withdrawn)
        .collect()
    }
}

/// The column heads of the figures, in the office's words.
const HEADS: [&str; 7] = [
    "月初在办",
    "本月立项",
    "本月按期办结",
    "本月超期办结",
    "月末超期未办结",
    "本月未按期反馈",
    "本月批准延期",
];

/// One lead unit's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitLine {
    /// The unit.
    pub unit: UnitCode,
    /// Its name, as the directory had it at the end of the month.
    pub name: String,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// An item overdue at the end of the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueItem {
    /// The item.
    pub id: DocumentId,
    /// Its title.
    pub title: String,
    /// 主办.
    pub lead_unit: UnitCode,
    /// 责任人, with their name.
    pub responsible: Option<String>,
    /// The deadline in force.
    pub deadline: NaiveDate,
    /// Days past it at the end of the month.
    pub days_overdue: i64,
    /// The last 进展反馈: its date and text.
    pub last_feedback: Option<(NaiveDate, String)>,
}

/// An item counted in the month (open at its start, or opened in it), as the 督办事项一览
/// lists it (from format 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemLine {
    /// The item.
    pub id: DocumentId,
    /// 立项号 (none on an item opened before items were numbered).
    pub number: Option<String>,
    /// Its title.
    pub title: String,
    /// 牵头领导, with their name.
    pub leader: String,
    /// 主办.
    pub lead_unit: UnitCode,
    /// 主办's name (its code where the directory had none).
    pub lead_unit_name: String,
    /// 协办.
    pub co_units: Vec<UnitCode>,
    /// 协办's names, in the same order.
    pub co_unit_names: Vec<String>,
    /// 来源 (领导批示, 会议决定 with its reference, …).
    pub source: String,
    /// The 批示 or 任务要求 it came from, shortened to [`QUOTED`] characters.
    pub requirements: String,
    /// Where it stood at the end of the month (已交办, 办理中, 已销号, …).
    pub step: String,
    /// The deadline in force at the end of the month.
    pub deadline: NaiveDate,
    /// The last 进展反馈 by then: its date and text, shortened to [`QUOTED`] characters.
    pub last_progress: Option<(NaiveDate, String)>,
    /// 催办 sent in the month (by hand and the sweep's 超期催办).
    pub urged: u32,
    /// 考评 given at 销号, if closed with one by the month's end.
    pub grade: Option<String>,
}

/// How many characters of a 批示, 任务要求 or 进展 the 督办事项一览 quotes.
pub const QUOTED: usize = 60;

/// `text` on one line, shortened to `QUOTED` characters with an ellipsis.
fn quoted(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= QUOTED {
        line
    } else {
        let mut s: String = line.chars().take(QUOTED - 1).collect();
        s.push('…');
        s
    }
}

/// An item closed in the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosedItem {
    /// The item.
    pub id: DocumentId,
    /// Its title.
    pub title: String,
    /// 主办.
    pub lead_unit: UnitCode,
    /// The deadline in force.
    pub deadline: NaiveDate,
    /// When the accepted completion report was made.
    pub reported_on: NaiveDate,
    /// When it was closed (销号).
    pub closed_on: NaiveDate,
    /// Reported after the deadline.
    pub late: bool,
    /// 成果.
    pub result: String,
}

/// A month's bulletin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bulletin {
    /// The month.
    pub month: Month,
    /// The instant it is as of: the end of the month, or for a month under way the instant
    /// it was counted at ([`monthly_until`]).
    pub as_of: Timestamp,
    /// One line per lead unit with anything in the month (from format 3; before, with any
    /// item ever), by unit code.
    pub units: Vec<UnitLine>,
    /// The sums.
    pub total: Figures,
    /// Items overdue at the end, the longest overdue first.
    pub overdue: Vec<OverdueItem>,
    /// Items closed in the month, in the order closed.
    pub closed: Vec<ClosedItem>,
    /// Every item counted in the month, in the order opened (from format 4).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemLine>,
    /// The rules and renderings it follows ([`BULLETIN_FORMAT`], or an earlier one to
    /// check a bulletin published in it). Not part of any rendering.
    #[serde(skip)]
    pub format: u32,
}

/// Names for the bulletin's readers: units and actors as the directory had them at the end
/// of the month (so that the bulletin stays the same whenever it is produced).
#[derive(Debug, Clone, Default)]
pub struct BulletinNames {
    /// Unit names by code.
    pub units: BTreeMap<UnitCode, String>,
    /// Actor names by id.
    pub actors: BTreeMap<ActorId, String>,
}

/// The bulletin of `month` over the items whose histories (each in version order) are given.
/// Events recorded at or after the end of the month are ignored; an item none of whose events
/// is before it is not counted.
pub fn monthly<'a>(
    month: Month,
    histories: impl IntoIterator<Item = &'a [Recorded<SupervisionEvent>]>,
    names: &BulletinNames,
) -> Bulletin {
    monthly_in(month, histories, names, BULLETIN_FORMAT)
}

/// [`monthly`] under the rules of bulletin `format` (see [`BULLETIN_FORMAT`]): a bulletin
/// published in an earlier format is produced again in it, to check its record.
pub fn monthly_in<'a>(
    month: Month,
    histories: impl IntoIterator<Item = &'a [Recorded<SupervisionEvent>]>,
    names: &BulletinNames,
    format: u32,
) -> Bulletin {
    monthly_until(month, month.end(), histories, names, format)
}

/// The bulletin of `month` so far: as of `until` where that is before the month's end (the
/// month under way — lateness, overdue days and missed feedback counted to that instant,
/// not to a month end still to come), else the whole month as [`monthly_in`] gives it.
pub fn monthly_until<'a>(
    month: Month,
    until: Timestamp,
    histories: impl IntoIterator<Item = &'a [Recorded<SupervisionEvent>]>,
    names: &BulletinNames,
    format: u32,
) -> Bulletin {
    let rules = Rules::of(format);
    let (start, end) = (month.start(), until.clamp(month.start(), month.end()));
    // The last day counted: the month's own, or today in a month under way.
    let counted_to = if end == month.end() {
        month.last_day()
    } else {
        china_date(end)
    };
    let in_month = |t: Timestamp| start <= t && t < end;
    let mut units: BTreeMap<UnitCode, Figures> = BTreeMap::new();
    let mut overdue = Vec::new();
    let mut closed = Vec::new();
    let mut items = Vec::new();
    for history in histories {
        let Some((item, f)) = fold_counting(history, start, end, rules) else {
            continue;
        };
        let spec = item.spec();
        if rules.lists_items && (f.open_at_start + f.opened) > 0 {
            items.push((
                item.opened_at(),
                ItemLine {
                    id: item.id(),
                    number: item.number().map(ToString::to_string),
                    title: spec.title.clone(),
                    leader: label(names, &spec.leader),
                    lead_unit: spec.lead_unit.clone(),
                    lead_unit_name: unit_name(names, &spec.lead_unit),
                    co_units: spec.co_units.clone(),
                    co_unit_names: spec.co_units.iter().map(|u| unit_name(names, u)).collect(),
                    source: format!(
                        "{}{}",
                        spec.source.chinese(),
                        super::summary::source_reference(&spec.source)
                    ),
                    requirements: quoted(&spec.requirements),
                    step: item.step().chinese().to_owned(),
                    deadline: item.deadline(),
                    last_progress: item
                        .last_feedback()
                        .map(|f| (china_date(f.at), quoted(&f.text))),
                    urged: f.urged.unwrap_or(0),
                    grade: item.grade().map(|g| g.chinese().to_owned()),
                },
            ));
        }
        let row = units.entry(spec.lead_unit.clone()).or_default();
        row.add(&f);
        if rules.is_overdue(&item, end) {
            overdue.push(OverdueItem {
                id: item.id(),
                title: spec.title.clone(),
                lead_unit: spec.lead_unit.clone(),
                responsible: item.responsible().map(|r| label(names, r)),
                deadline: item.deadline(),
                days_overdue: rules.days_overdue(item.deadline(), counted_to),
                last_feedback: item
                    .last_feedback()
                    .map(|f| (china_date(f.at), f.text.clone())),
            });
        }
        if let (Some(at), Some(report)) = (item.closed_at(), item.completion())
            && in_month(at)
        {
            closed.push(ClosedItem {
                id: item.id(),
                title: spec.title.clone(),
                lead_unit: spec.lead_unit.clone(),
                deadline: item.deadline(),
                reported_on: china_date(report.at),
                closed_on: china_date(at),
                late: rules.is_late(&item),
                result: report.result.clone(),
            });
        }
    }
    overdue.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then_with(|| a.lead_unit.cmp(&b.lead_unit))
            .then_with(|| a.id.cmp(&b.id))
    });
    closed
        .sort_by(|a, b| (a.closed_on, &a.lead_unit, a.id).cmp(&(b.closed_on, &b.lead_unit, b.id)));
    items.sort_by(|(a_at, a), (b_at, b)| (a_at, a.id).cmp(&(b_at, b.id)));
    let items = items.into_iter().map(|(_, line)| line).collect();
    let mut total = rules.zero();
    let units = units
        .into_iter()
        // From format 3, a unit with nothing in the month (no item open at its start, none
        // opened, closed, overdue, missing feedback or extended in it) has no line.
        .filter(|(_, figures)| !rules.leaves_out_idle || !figures.is_idle())
        .map(|(unit, figures)| {
            total.add(&figures);
            UnitLine {
                name: names.units.get(&unit).cloned().unwrap_or_default(),
                unit,
                figures,
            }
        })
        .collect();
    Bulletin {
        month,
        as_of: end,
        units,
        total,
        overdue,
        closed,
        items,
        format,
    }
}

fn unit_name(names: &BulletinNames, u: &UnitCode) -> String {
    names
        .units
        .get(u)
        .filter(|n| !n.is_empty())
        .cloned()
        .unwrap_or_else(|| u.0.clone())
}

fn label(names: &BulletinNames, a: &ActorId) -> String {
    match names.actors.get(a) {
        Some(n) => format!("{n} {a}"),
        None => a.0.clone(),
    }
}

/// Reported complete after the end of the deadline in force.
/// The bulletin's rules as of a format: when a deadline day runs out, and how days overdue
/// are counted.
#[derive(Debug, Clone, Copy)]
struct Rules {
    /// Format 1's: a deadline ran out at 23:59:59 China time, and days overdue were
    /// counted to the first day of the next month (one too many).
    first: bool,
    /// Format 3's: units with nothing in the month have no line in the per-unit table
    /// (formats 1 and 2 listed every unit with an item ever, all-zero lines included).
    leaves_out_idle: bool,
    /// Format 4's: the figures count 催办 (by hand and the sweep's 超期催办), and the
    /// bulletin lists every item counted with its 立项号, leader, units, source and progress.
    lists_items: bool,
    /// Format 5's: the figures count the items withdrawn (撤销) in the month.
    counts_withdrawn: bool,
}

impl Rules {
    fn of(format: u32) -> Rules {
        Rules {
            first: format == 1,
            leaves_out_idle: format >= 3,
            lists_items: format >= 4,
            counts_withdrawn: format >= 5,
        }
    }

    /// Figures of nothing yet, with the columns this format has.
    fn zero(self) -> Figures {
        Figures {
            urged: self.lists_items.then_some(0),
            withdrawn: self.counts_withdrawn.then_some(0),
            ..Figures::default()
        }
    }

    /// When the item's deadline runs out.
    fn due_at(self, item: &Item) -> Option<Timestamp> {
        let due = item.due_at()?;
        Some(if self.first {
            due - Duration::seconds(1)
        } else {
            due
        })
    }

    /// Still to be done past its deadline at `now`.
    fn is_overdue(self, item: &Item, now: Timestamp) -> bool {
        item.step().is_open() && self.due_at(item).is_some_and(|d| d < now)
    }

    /// Its accepted completion report came after its deadline.
    fn is_late(self, item: &Item) -> bool {
        match (item.completion(), self.due_at(item)) {
            (Some(r), Some(due)) => r.at > due,
            _ => false,
        }
    }

    /// Whole days past the deadline day by the end of `day` (the month's last day, or for
    /// a month under way the day it is counted on).
    fn days_overdue(self, deadline: NaiveDate, day: NaiveDate) -> i64 {
        let days = (day - deadline).num_days();
        if self.first { days + 1 } else { days }
    }
}

/// The item as of `end`, and its figures for the month `[start, end)`.
fn fold_counting(
    history: &[Recorded<SupervisionEvent>],
    start: Timestamp,
    end: Timestamp,
    rules: Rules,
) -> Option<(Item, Figures)> {
    let in_month = |t: Timestamp| start <= t && t < end;
    let mut events = history.iter().filter(|e| e.at < end);
    let first = events.next()?;
    let mut item = Item::created(&first.actor, first.at, &first.data)?;
    let mut f = Figures {
        opened: u32::from(in_month(first.at)),
        ..rules.zero()
    };
    let mut closed_before_start = false;
    let mut since = first.at;
    for e in events {
        f.feedback_missed += missed_feedback(&item, since, e.at, start, end);
        item.apply_event(&e.actor, e.at, &e.data);
        since = e.at;
        match &e.data {
            SupervisionEvent::ItemClosed { .. } => {
                if e.at < start {
                    closed_before_start = true;
                } else if item.completion().is_some() {
                    if rules.is_late(&item) {
                        f.closed_late += 1;
                    } else {
                        f.closed_on_time += 1;
                    }
                }
            }
            SupervisionEvent::ItemExtensionDecided { granted: true, .. } if in_month(e.at) => {
                f.extensions_granted += 1;
            }
            // Withdrawn (its 批办 sent back): no longer open, neither closed nor overdue.
            SupervisionEvent::ItemWithdrawn { .. } if e.at < start => closed_before_start = true,
            SupervisionEvent::ItemWithdrawn { .. } if in_month(e.at) => {
                if let Some(withdrawn) = &mut f.withdrawn {
                    *withdrawn += 1;
                }
            }
            SupervisionEvent::ItemUrged { .. }
            | SupervisionEvent::ItemReminded {
                reason: ReminderReason::Overdue,
                ..
            } if in_month(e.at) => {
                if let Some(urged) = &mut f.urged {
                    *urged += 1;
                }
            }
            _ => {}
        }
    }
    f.feedback_missed += missed_feedback(&item, since, end, start, end);
    f.open_at_start = u32::from(item.opened_at() < start && !closed_before_start);
    f.overdue_at_end = u32::from(rules.is_overdue(&item, end));
    Some((item, f))
}

/// The periodic feedback instants missed while `item` stood unchanged over `[from, to)`,
/// counted where they fall in `[start, end)`.
fn missed_feedback(
    item: &Item,
    from: Timestamp,
    to: Timestamp,
    start: Timestamp,
    end: Timestamp,
) -> u32 {
    if !matches!(item.step(), ItemStep::Assigned | ItemStep::InProgress) {
        return 0;
    }
    let (Some(days), Some(anchor)) = (item.spec().feedback.days(), item.feedback_anchor()) else {
        return 0;
    };
    let period = Duration::days(days);
    let (lo, hi) = (from.max(start), to.min(end));
    if lo >= hi {
        return 0;
    }
    // The first due instant at or after `lo`: anchor + k·period, k ≥ 1.
    let elapsed = (lo - anchor).num_seconds().max(0);
    let mut k = (elapsed / period.num_seconds()).max(1);
    if anchor + period * (k as i32) < lo {
        k += 1;
    }
    let mut n = 0;
    while anchor + period * (k as i32) < hi {
        n += 1;
        k += 1;
    }
    n
}

impl Bulletin {
    /// How many items it counts: those open at some time in the month (open at its start,
    /// or opened in it).
    pub fn item_count(&self) -> u32 {
        self.total.open_at_start + self.total.opened
    }

    /// The bulletin as pretty JSON (with a final newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    fn title(&self) -> String {
        format!("{}年{}月督办工作通报", self.month.year, self.month.month)
    }

    /// The column heads of its figures: for a month under way, what is overdue is so now,
    /// not at a month end still to come.
    pub fn heads(&self) -> Vec<&'static str> {
        let mut heads = HEADS.to_vec();
        if !self.is_whole_month() {
            heads[4] = "目前超期未办结";
        }
        let rules = Rules::of(self.format);
        if rules.lists_items {
            heads.push("本月催办");
        }
        if rules.counts_withdrawn {
            heads.push("本月撤销");
        }
        heads
    }

    /// Whether it is the whole month (not a month still under way, counted so far).
    pub fn is_whole_month(&self) -> bool {
        self.as_of >= self.month.end()
    }

    /// The line that says what instant it is as of: the month's last day at 24:00, or, for a
    /// month under way, the minute it was counted at.
    pub fn as_of_line(&self) -> String {
        if self.is_whole_month() {
            format!("截至 {} 24:00（北京时间）。", self.month.last_day())
        } else {
            let cst = crate::ids::in_china(self.as_of).format("%Y-%m-%d %H:%M");
            format!("截至 {cst}（北京时间），本月尚未结束，数字统计到此刻。")
        }
    }

    fn unit_label(line: &UnitLine) -> String {
        if line.name.is_empty() {
            line.unit.0.clone()
        } else {
            format!("{} {}", line.name, line.unit)
        }
    }

    /// The bulletin as CSV: three tables (figures by unit, overdue items, items closed),
    /// each with its header row, separated by an empty line. It starts with a UTF-8
    /// byte-order mark (Excel and WPS on Chinese Windows otherwise read it as GBK), and a
    /// text cell that a spreadsheet would take for a formula (starting with `=`, `+`, `-`,
    /// `@`, a tab or a carriage return) is prefixed with `'`, as OWASP advises against CSV
    /// injection (bulletin format 2; format 1's CSV had neither, see [`BULLETIN_FORMAT`]).
    pub fn to_csv(&self) -> String {
        let safe = self.format != 1;
        let csv = |v: &str| if safe { csv(&formula_safe(v)) } else { csv(v) };
        let mut s = String::new();
        if safe {
            s.push('\u{feff}');
        }
        let _ = writeln!(s, "主办单位,单位代码,{}", self.heads().join(","));
        for l in &self.units {
            let _ = writeln!(
                s,
                "{},{},{}",
                csv(&l.name),
                csv(&l.unit.0),
                cells(&l.figures)
            );
        }
        let _ = writeln!(s, "合计,,{}", cells(&self.total));
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "超期事项,主办单位,责任人,办结时限,超期天数,最近反馈日期,最近反馈,编号"
        );
        for o in &self.overdue {
            let (day, text) = o
                .last_feedback
                .as_ref()
                .map_or((String::new(), String::new()), |(d, t)| {
                    (d.to_string(), t.clone())
                });
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{}",
                csv(&o.title),
                csv(&o.lead_unit.0),
                csv(o.responsible.as_deref().unwrap_or("")),
                o.deadline,
                o.days_overdue,
                day,
                csv(&text),
                o.id
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "办结事项,主办单位,办结时限,报结日期,销号日期,是否超期,成果,编号"
        );
        for c in &self.closed {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{}",
                csv(&c.title),
                csv(&c.lead_unit.0),
                c.deadline,
                c.reported_on,
                c.closed_on,
                if c.late { "超期" } else { "按期" },
                csv(&c.result),
                c.id
            );
        }
        if !self.items.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "立项号,督办事项,牵头领导,主办单位,协办单位,来源,批示或任务要求,状态,办结时限,最近进展日期,最近进展,本月催办,考评,编号"
            );
            for i in &self.items {
                let (day, text) = i
                    .last_progress
                    .as_ref()
                    .map_or((String::new(), String::new()), |(d, t)| {
                        (d.to_string(), t.clone())
                    });
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    csv(i.number.as_deref().unwrap_or("")),
                    csv(&i.title),
                    csv(&i.leader),
                    csv(&i.lead_unit_name),
                    csv(&i.co_unit_names.join("、")),
                    csv(&i.source),
                    csv(&i.requirements),
                    csv(&i.step),
                    i.deadline,
                    day,
                    csv(&text),
                    i.urged,
                    i.grade.as_deref().unwrap_or(""),
                    i.id
                );
            }
        }
        s
    }

    /// The bulletin as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# {}\n", self.title());
        let _ = writeln!(s, "{}\n", self.as_of_line());
        let _ = writeln!(s, "## 一、各单位督办事项办理情况\n");
        let _ = writeln!(s, "| 主办单位 | {} |", self.heads().join(" | "));
        let _ = writeln!(s, "|---|{}", "---:|".repeat(self.heads().len()));
        for l in &self.units {
            let _ = writeln!(
                s,
                "| {} | {} |",
                md(&Self::unit_label(l)),
                join_cells(&l.figures, " | ")
            );
        }
        let _ = writeln!(s, "| **合计** | {} |\n", join_cells(&self.total, " | "));
        let _ = writeln!(s, "## 二、超期未办结事项（{}项）\n", self.overdue.len());
        if self.overdue.is_empty() {
            let _ = writeln!(s, "无。\n");
        }
        for (n, o) in self.overdue.iter().enumerate() {
            let _ = writeln!(
                s,
                "{}. **{}**（主办 {}，责任人 {}）办结时限 {}，超期 {} 天；{}",
                n + 1,
                md(&o.title),
                o.lead_unit,
                md(o.responsible.as_deref().unwrap_or("未确定")),
                o.deadline,
                o.days_overdue,
                match &o.last_feedback {
                    Some((d, t)) => format!("最近反馈 {d}：{}", md(t)),
                    None => "尚无进展反馈".to_owned(),
                }
            );
        }
        if !self.overdue.is_empty() {
            s.push('\n');
        }
        let _ = writeln!(s, "## 三、本月办结事项（{}项）\n", self.closed.len());
        if self.closed.is_empty() {
            let _ = writeln!(s, "无。");
        }
        for (n, c) in self.closed.iter().enumerate() {
            let _ = writeln!(
                s,
                "{}. **{}**（主办 {}）{} 销号，{}；成果：{}",
                n + 1,
                md(&c.title),
                c.lead_unit,
                c.closed_on,
                if c.late {
                    format!("超期办结（时限 {}，{} 报结）", c.deadline, c.reported_on)
                } else {
                    "按期办结".to_owned()
                },
                md(&c.result)
            );
        }
        if !self.items.is_empty() {
            let _ = writeln!(s, "\n## 四、督办事项一览（{}项）\n", self.items.len());
            let _ = writeln!(
                s,
                "| 立项号 | 督办事项 | 牵头领导 | 主办 | 协办 | 来源 | 批示或任务要求 | 状态 | 办结时限 | 最近进展 | 本月催办 | 考评 |"
            );
            let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---:|---|");
            for i in &self.items {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    md(i.number.as_deref().unwrap_or("")),
                    md(&i.title),
                    md(&i.leader),
                    md(&i.lead_unit_name),
                    md(&i.co_unit_names.join("、")),
                    md(&i.source),
                    md(&i.requirements),
                    i.step,
                    i.deadline,
                    match &i.last_progress {
                        Some((d, t)) => format!("{d}：{}", md(t)),
                        None => "尚无".to_owned(),
                    },
                    i.urged,
                    i.grade.as_deref().unwrap_or("")
                );
            }
        }
        s
    }

    /// The bulletin as a self-contained HTML page (no scripts, no outside resources), every
    /// value escaped.
    pub fn to_html(&self) -> String {
        let mut s = String::new();
        let title = html(&self.title());
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{title}</title>\n<style>body{{font-family:sans-serif;margin:2em}}\
             table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.3em .6em}}\
             td.n{{text-align:right}}.late{{color:#b00}}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
        );
        let _ = writeln!(s, "<p>{}</p>", self.as_of_line());
        let _ = writeln!(s, "<h2>一、各单位督办事项办理情况</h2>\n<table>");
        let _ = writeln!(
            s,
            "<tr><th>主办单位</th>{}</tr>",
            self.heads()
                .iter()
                .map(|h| format!("<th>{h}</th>"))
                .collect::<String>()
        );
        let row = |label: &str, f: &Figures| {
            format!(
                "<tr><td>{label}</td>{}</tr>",
                f.cells()
                    .iter()
                    .map(|c| format!("<td class=\"n\">{c}</td>"))
                    .collect::<String>()
            )
        };
        for l in &self.units {
            let _ = writeln!(s, "{}", row(&html(&Self::unit_label(l)), &l.figures));
        }
        let _ = writeln!(s, "{}\n</table>", row("<b>合计</b>", &self.total));
        let _ = writeln!(s, "<h2>二、超期未办结事项（{}项）</h2>", self.overdue.len());
        let _ = writeln!(s, "<ol>");
        for o in &self.overdue {
            let _ = writeln!(
                s,
                "<li><b>{}</b>（主办 {}，责任人 {}）办结时限 {}，<span class=\"late\">超期 {} 天</span>；{}</li>",
                html(&o.title),
                html(&o.lead_unit.0),
                html(o.responsible.as_deref().unwrap_or("未确定")),
                o.deadline,
                o.days_overdue,
                match &o.last_feedback {
                    Some((d, t)) => format!("最近反馈 {d}：{}", html(t)),
                    None => "尚无进展反馈".to_owned(),
                }
            );
        }
        let _ = writeln!(s, "</ol>");
        let _ = writeln!(
            s,
            "<h2>三、本月办结事项（{}项）</h2>\n<ol>",
            self.closed.len()
        );
        for c in &self.closed {
            let _ = writeln!(
                s,
                "<li><b>{}</b>（主办 {}）{} 销号，{}；成果：{}</li>",
                html(&c.title),
                html(&c.lead_unit.0),
                c.closed_on,
                if c.late {
                    format!(
                        "<span class=\"late\">超期办结（时限 {}，{} 报结）</span>",
                        c.deadline, c.reported_on
                    )
                } else {
                    "按期办结".to_owned()
                },
                html(&c.result)
            );
        }
        let _ = writeln!(s, "</ol>");
        if !self.items.is_empty() {
            let _ = writeln!(
                s,
                "<h2>四、督办事项一览（{}项）</h2>\n<table>\n<tr><th>立项号</th><th>督办事项</th><th>牵头领导</th><th>主办</th><th>协办</th><th>来源</th><th>批示或任务要求</th><th>状态</th><th>办结时限</th><th>最近进展</th><th>本月催办</th><th>考评</th></tr>",
                self.items.len()
            );
            for i in &self.items {
                let _ = writeln!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    html(i.number.as_deref().unwrap_or("")),
                    html(&i.title),
                    html(&i.leader),
                    html(&i.lead_unit_name),
                    html(&i.co_unit_names.join("、")),
                    html(&i.source),
                    html(&i.requirements),
                    html(&i.step),
                    i.deadline,
                    match &i.last_progress {
                        Some((d, t)) => format!("{d}：{}", html(t)),
                        None => "尚无".to_owned(),
                    },
                    i.urged,
                    html(i.grade.as_deref().unwrap_or(""))
                );
            }
            let _ = writeln!(s, "</table>");
        }
        let _ = writeln!(s, "</body>\n</html>");
        s
    }
}

fn cells(f: &Figures) -> String {
    join_cells(f, ",")
}

fn join_cells(f: &Figures, sep: &str) -> String {
    f.cells()
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

/// The bulletin's format now, which a publication records with its digests: 2 — a
/// deadline day runs out at 24:00 China time (a report at 23:59:59 is on time, an item due
/// on the month's last day is not overdue at its end), 超期天数 counts the whole days past
/// the deadline day, and the CSV starts with a byte-order mark and writes formula-like text
/// cells with a leading `'`; 3 — the per-unit table leaves out units with nothing in the
/// month (no item open at its start, none opened, closed, overdue, missing feedback or
/// extended in it). Format 2 listed them as all-zero lines. Format 1, of bulletins published
/// before: a deadline ran out at 23:59:59, days overdue were counted one too many, the CSV
/// had neither. 4 — the figures count 本月催办 (by hand and the sweep's 超期催办), and a
/// fourth table, 督办事项一览, lists every item counted with its 立项号, 牵头领导, 主办 and
/// 协办, 来源, the 批示 or 任务要求 and the last 进展 (quoted, shortened), its state, deadline
/// and 催办 in the month. 5 — the figures count 本月撤销 (items withdrawn because the 批办
/// they followed was sent back), so that each line adds up.
pub const BULLETIN_FORMAT: u32 = 5;

/// A text cell a spreadsheet would not run: one starting with a formula's first character
/// gets a leading `'` (OWASP, "CSV Injection").
fn formula_safe(v: &str) -> std::borrow::Cow<'_, str> {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{v}"))
    } else {
        std::borrow::Cow::Borrowed(v)
    }
}

/// A CSV field, quoted where it must be (RFC 4180).
fn csv(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

/// Text for Markdown: characters that would start markup escaped, lines joined.
fn md(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' | '*' | '_' | '`' | '|' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text for HTML, escaped.
fn html(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The year and month of an instant, China time.
pub fn month_of(t: Timestamp) -> Month {
    let d = china_date(t);
    Month {
        year: d.year(),
        month: d.month(),
    }
}
