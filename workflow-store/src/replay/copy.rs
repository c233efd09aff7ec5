//! Copying a store into another, of any backend (`workflow copy`, DESIGN §8): the log and
//! the access log byte for byte, then the projections rebuilt from the copied log, then
//! the two stores compared.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use workflow_core::DocumentId;

use crate::envelope::LogHead;
use crate::error::{Error, Result};
use crate::projection::PROJECTION_VERSION;
use crate::storage::{Group, LogEntry, RebuildMode, Storage, StoredEvent};

/// Events per commit while copying.
const BATCH: usize = 1000;

/// What a copy wrote and what comparing the two stores found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Events copied.
    pub events: u64,
    /// Access-log entries copied.
    pub access_entries: u64,
    /// The copied log's head (`None` for an empty log).
    pub head: Option<LogHead>,
    /// Whether both logs end at the same position with the same hash, and both access
    /// logs too.
    pub heads_equal: bool,
    /// Whether the projections rebuilt from the copied log equal the source's, entry for
    /// entry; `None` when the source's have an older layout (or a rebuild of them was
    /// interrupted) and so were not compared.
    pub projections_equal: Option<bool>,
    /// The copy's log verified (hash chain, end of log, indexes, fixity digests).
    pub verify: crate::replay::VerifyReport,
    /// Files (正文, attachments) copied, each checked against its digest on the way.
    pub files: u64,
    /// Whether the copy keeps the same files as the source.
    pub files_equal: bool,
    /// Whether the source kept its directory beside the log (a store of an early build):
    /// the engine records it in the log when it first opens the copy, as it would have
    /// the original, so the copy's log then grows by that event.
    pub legacy_directory: bool,
}

impl CopyReport {
    /// Whether the copy is the source's equal: heads, and projections where compared.
    pub fn is_equal(&self) -> bool {
        self.heads_equal
            && self.files_equal
            && self.projections_equal != Some(false)
            && self.verify.is_intact()
    }
}

/// The fields a copy needs of a stored envelope (the rest is copied as bytes).
#[derive(Deserialize)]
struct Indexed<'a> {
    position: u64,
    stream_id: DocumentId,
    version: u64,
    #[serde(borrow)]
    hash: Cow<'a, str>,
}

/// The fields a copy needs of a stored access-log entry.
#[derive(Deserialize)]
struct Chained<'a> {
    #[serde(borrow)]
    hash: Cow<'a, str>,
}

/// Copies the log, the access log (and a directory kept beside the log by an early build)
/// of `from` into the empty store `to`, rebuilds `to`'s projections from the copied log, and
/// compares the two, and verifies the copy's log; the kept files (正文, attachments) too,
/// each checked against its digest. `progress` is told the step (`"log"`, `"access log"`,
/// `"files"`, `"rebuild"`, `"verify"`), how far it is and of how much.
///
/// Nothing may write to `from` meanwhile (stop its servers): the copy takes the log up to
/// the end it finds at the start, and a later event would make the comparison fail. A
/// target that holds anything is refused and left as it is.
pub fn copy_store(
    from: &dyn Storage,
    to: &dyn Storage,
    progress: impl FnMut(&str, u64, u64) + Send + 'static,
) -> Result<CopyReport> {
    ensure_empty(to)?;
    // Whether the target can keep a directory the source kept beside its log: asked before
    // anything is written, so that a refusal leaves the target empty.
    let (units, actors) = from.legacy_units_and_actors()?;
    let legacy_directory = !units.is_empty() || !actors.is_empty();
    let legacy_target = match (legacy_directory, to.legacy_directory()) {
        (false, _) => None,
        (true, Some(target)) => Some(target),
        (true, None) => {
            return Err(Error::InvalidRequest {
                field: "to",
                reason: "the source keeps its directory beside the log (an early build's \
                         store) and the target cannot: open the source with this build first, \
                         which records the directory in its log, then copy"
                    .into(),
            });
        }
    };
    let progress = Arc::new(Mutex::new(progress));
    let tell = |step: &str, done: u64, total: u64| {
        if let Ok(mut p) = progress.lock() {
            p(step, done, total)
        }
    };
    let end = from.log_end()?;
    let total = end.as_ref().map_or(0, |e| e.position);
    copy_log(from, to, total, &tell)?;
    let access_total = copy_access_log(from, to, &tell)?;
    let files = copy_contents(from, to, &tell)?;
    // A directory an early build kept beside the log (the engine records it in the log
    // when it opens the copy, as it would have the original).
    if let Some(target) = legacy_target {
        target.put_directory(&units, &actors)?;
    }
    // The projections, from the copied log.
    let rebuild_progress = {
        let progress = progress.clone();
        Box::new(move |done, total| {
            if let Ok(mut p) = progress.lock() {
                p("rebuild", done, total)
            }
        })
    };
    crate::replay::rebuild(to, 20_000, RebuildMode::FromScratch, rebuild_progress)?;
    let copied_end = to.log_end()?;
    // A store whose access log began before its head was recorded has none to compare.
    let access_heads_equal = match from.access_recorded_head()? {
        Some(head) => to.access_recorded_head()? == Some(head),
        None => true,
    };
    let heads_equal = copied_end == end
        && from.access_end()?.map(|e| e.position) == to.access_end()?.map(|e| e.position)
        && access_heads_equal;
    let listed = |s: &dyn Storage| -> Result<Vec<(String, u64)>> {
        Ok(s.list_contents()?
            .into_iter()
            .map(|k| (k.digest.to_string(), k.size))
            .collect())
    };
    let files_equal = listed(from)? == listed(to)?;
    let comparable = from.projection_version()? == PROJECTION_VERSION && !from.rebuilding()?;
    let projections_equal = if comparable {
        Some(from.comparable_projections()? == to.comparable_projections()?)
    } else {
        None
    };
    let verify = crate::replay::verify(
        to,
        &crate::replay::VerifyOptions::default(),
        total,
        |d, t| tell("verify", d, t),
    )?;
    Ok(CopyReport {
        events: total,
        access_entries: access_total,
        head: copied_end,
        heads_equal,
        projections_equal,
        verify,
        files,
        files_equal,
        legacy_directory,
    })
}

/// Every kept file of `from` into `to`: spooled where `to` spools, checked against its
/// digest, kept. Returns how many.
fn copy_contents(
    from: &dyn Storage,
    to: &dyn Storage,
    tell: &impl Fn(&str, u64, u64),
) -> Result<u64> {
    use std::io::Write as _;
    let kept = from.list_contents()?;
    let total = kept.len() as u64;
    let spool = to.spool_dir();
    std::fs::create_dir_all(&spool).map_err(|e| Error::Unavailable {
        reason: format!("the target's spool {}: {e}", spool.display()),
    })?;
    for (n, k) in kept.into_iter().enumerate() {
        let path = spool.join(format!("copy-{}.part", k.digest));
        let write = || -> Result<()> {
            let io = |e: std::io::Error| Error::Unavailable {
                reason: format!("copying file {}: {e}", k.digest),
            };
            let mut out = std::fs::File::create(&path).map_err(io)?;
            let read = crate::storage::kept::read_kept(from, &k.digest, k.size, |bytes| {
                out.write_all(bytes).map_err(io)
            })?;
            match read {
                None => {}
                Some(crate::storage::kept::KeptProblem::Short(at)) => {
                    return Err(Error::corrupt(
                        format!("file {}", k.digest),
                        format!("it ends at byte {at} of {}", k.size),
                    ));
                }
                Some(crate::storage::kept::KeptProblem::Altered(_)) => {
                    return Err(Error::corrupt(
                        format!("file {}", k.digest),
                        "the source's bytes do not hash to its digest (run workflow verify on it)",
                    ));
                }
            }
            drop(out);
            to.keep_content(&k.digest, &path, k.size, None)
        };
        let result = write();
        let _ = std::fs::remove_file(&path);
        result?;
        tell("files", n as u64 + 1, total);
    }
    Ok(total)
}

/// Refuses a target that holds a log or an access log already.
fn ensure_empty(to: &dyn Storage) -> Result<()> {
    if let Some(end) = to.log_end()? {
        return Err(Error::InvalidRequest {
            field: "to",
            reason: format!(
                "the target store holds a log already (up to position {}): copy only into an \
                 empty store",
                end.position
            ),
        });
    }
    if to.access_end()?.is_some() {
        return Err(Error::InvalidRequest {
            field: "to",
            reason: "the target store holds an access log already: copy only into an empty \
                     store"
                .into(),
        });
    }
    Ok(())
}

/// The log up to `total` (its end when the copy began), in commits of [`BATCH`] events.
fn copy_log(
    from: &dyn Storage,
    to: &dyn Storage,
    total: u64,
    tell: &dyn Fn(&str, u64, u64),
) -> Result<()> {
    let mut next = 1;
    while next <= total {
        let want = usize::try_from(total - next + 1).map_or(BATCH, |n| n.min(BATCH));
        let events = from.read_log(next, want)?;
        if events.is_empty() {
            return Err(Error::corrupt(
                format_args!("position {next}"),
                "the source log ends before the end it reported",
            ));
        }
        let mut group = Group::default();
        for e in events {
            if e.position != next {
                return Err(Error::corrupt(
                    format_args!("position {next}"),
                    format!("missing from the source log (found {} next)", e.position),
                ));
            }
            let i: Indexed<'_> = serde_json::from_slice(&e.bytes)
                .map_err(|err| Error::corrupt(format_args!("position {}", e.position), err))?;
            if i.position != e.position {
                return Err(Error::corrupt(
                    format_args!("position {}", e.position),
                    format!("the stored event says position {}", i.position),
                ));
            }
            group.envelopes.push(LogEntry {
                position: e.position,
                stream_id: i.stream_id,
                version: i.version,
                hash: i.hash.into_owned(),
                bytes: e.bytes,
            });
            next += 1;
        }
        group.sync_always = true;
        to.commit(&group).map_err(|e| match e {
            crate::storage::CommitError::NotWritten(e)
            | crate::storage::CommitError::NotDurable(e) => e,
            crate::storage::CommitError::Conflict(reason) => Error::WriteConflict {
                reason: format!("something else writes to the target store: {reason}"),
            },
        })?;
        tell("log", next - 1, total);
    }
    Ok(())
}

/// The access log, with its recorded head; returns how many entries it has.
fn copy_access_log(
    from: &dyn Storage,
    to: &dyn Storage,
    tell: &dyn Fn(&str, u64, u64),
) -> Result<u64> {
    let access_total = from.access_end()?.map_or(0, |e| e.position);
    let mut access_next = 1;
    while access_next <= access_total {
        let entries: Vec<StoredEvent> = from
            .read_access(access_next, BATCH)?
            .into_iter()
            .take_while(|e| e.position <= access_total)
            .collect();
        let Some(last) = entries.last() else {
            return Err(Error::corrupt(
                format_args!("access-log position {access_next}"),
                "the source access log ends before the end it reported",
            ));
        };
        let c: Chained<'_> = serde_json::from_slice(&last.bytes).map_err(|err| {
            Error::corrupt(format_args!("access-log position {}", last.position), err)
        })?;
        let head = LogHead {
            position: last.position,
            hash: c.hash.into_owned(),
        };
        to.append_access(&entries, &head)?;
        access_next = head.position + 1;
        tell("access log", head.position, access_total);
    }
    Ok(access_total)
}
