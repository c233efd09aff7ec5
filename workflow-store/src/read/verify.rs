//! Verifying from an open engine: the log (bounded at the durable head), its head for a
//! witness to keep, and the state projections against their streams.

use workflow_core::DocumentId;

use crate::engine::Engine;
use crate::envelope::LogHead;
use crate::error::{Error, Result};
use crate::replay::{VerifyOptions, VerifyReport, verify};

impl Engine {
    /// Verifies the log (see [`Engine::verify_with`]) with no witness head.
    pub fn verify(&self, progress: impl FnMut(u64, u64)) -> Result<VerifyReport> {
        self.verify_with(&VerifyOptions::default(), progress)
    }

    /// Verifies the log: walks the hash chain from position 1 (positions, links, hashes,
    /// stream versions, payloads), recomputes the fixity digest of every archived document,
    /// checks that the log ends at the head recorded with the last commit and that the
    /// stream index and command records point nowhere past it, and, with
    /// `options.against`, that the log still holds a head recorded earlier. See
    /// [`VerifyReport`]. `progress(done, total)` is called every few thousand events.
    pub fn verify_with(
        &self,
        options: &VerifyOptions,
        progress: impl FnMut(u64, u64),
    ) -> Result<VerifyReport> {
        let mut report = verify(&*self.inner.storage, options, self.head(), progress)?;
        // A published 月通报 is a pure function of the log as of its month's end: produced
        // again, it must still give the digests recorded when it was published (an event
        // dated before the month's end but written after the publication would not).
        if report.first_break.is_none() {
            for p in std::mem::take(&mut report.published) {
                let newest = workflow_core::supervision::bulletin::BULLETIN_FORMAT;
                if p.digests.format > newest {
                    report.first_break = Some(crate::replay::ChainBreak {
                        position: p.position,
                        reason: format!(
                            "the 月通报 of {} published here is of bulletin format {}, newer \
                             than this build's ({newest}): verify it with a newer build",
                            p.month, p.digests.format
                        ),
                    });
                    break;
                }
                let bulletin =
                    self.bulletin_from_log(p.month, Some(p.clearance), p.digests.format)?;
                let now = workflow_core::supervision::BulletinDigests::of(&bulletin);
                if now != p.digests || bulletin.item_count() != p.items {
                    report.first_break = Some(crate::replay::ChainBreak {
                        position: p.position,
                        reason: format!(
                            "the 月通报 of {} at {} published here no longer matches the log: \
                             produced again it counts {} items (published: {}) and its html \
                             sha256 is {} (published: {}); an event dated before the month's \
                             end was written after it was published",
                            p.month,
                            p.clearance,
                            bulletin.item_count(),
                            p.items,
                            now.html,
                            p.digests.html
                        ),
                    });
                    break;
                }
                report.bulletins_checked += 1;
            }
        }
        self.verify_files(&mut report)?;
        self.verify_printed(&mut report)?;
        Ok(report)
    }

    /// Prints every issued 公文 whose copy was kept at 印发 again from the log with the
    /// engine's printer (without one, they are counted as not checked) — the
    /// document as of its `Issued` event, the directory as of the position before it (a
    /// directory change is a group of its own: what the decision saw) — and compares it
    /// with the kept copy.
    fn verify_printed(&self, report: &mut VerifyReport) -> Result<()> {
        use crate::print::Reprint;
        use crate::replay::PrintedProblem;
        let printed = std::mem::take(&mut report.printed);
        if printed.is_empty() {
            return Ok(());
        }
        let problem = |p: &crate::replay::PrintedAt, reason: String| PrintedProblem {
            document: p.document,
            number: p.number.clone(),
            reason,
        };
        let Some(printer) = self.inner.printer.as_deref() else {
            report.printed_not_checked.extend(
                printed
                    .iter()
                    .map(|p| problem(p, "no printer was given to print it again".to_owned())),
            );
            return Ok(());
        };
        // The directory folded forward, as far as each 印发 saw it. Laid out again a batch
        // at a time, on every core (each layout is CPU work of its own).
        let mut directory = super::history::DirectoryReplay::read(self)?;
        let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        for batch in printed.chunks(64) {
            let mut jobs = Vec::with_capacity(batch.len());
            for p in batch {
                let units = directory.units_before(p.position)?;
                // Reported with the rest (verify goes on), not an end to verify.
                let Some(workflow_core::FlowState::Outgoing(doc)) =
                    self.fold_stream(p.document, p.version, None)?
                else {
                    report.printed_problems.push(problem(
                        p,
                        format!(
                            "the Issued event at position {} is in a stream that does not fold \
                             to a 发文",
                            p.position
                        ),
                    ));
                    continue;
                };
                let Some(kept) = self.kept_bytes(&p.file)? else {
                    report.printed_not_checked.push(problem(
                        p,
                        format!(
                            "its printed copy {} is not kept here whole (missing, cut short or \
                             altered: the file check names which)",
                            p.file.digest
                        ),
                    ));
                    continue;
                };
                jobs.push((p, doc, units, kept));
            }
            let per = jobs.len().div_ceil(workers).max(1);
            let outcomes: Vec<_> = std::thread::scope(|scope| {
                let running: Vec<_> = jobs
                    .chunks(per)
                    .map(|chunk| {
                        let n = chunk.len();
                        let handle = scope.spawn(move || {
                            chunk
                                .iter()
                                .map(|(_, doc, units, kept)| printer.reprint(doc, units, kept))
                                .collect::<Vec<_>>()
                        });
                        (n, handle)
                    })
                    .collect();
                running
                    .into_iter()
                    .flat_map(|(n, handle)| {
                        handle.join().unwrap_or_else(|_| {
                            vec![
                                Err(crate::print::PrintError::Unavailable(
                                    "the printer stopped (a panic) while printing it again".into()
                                ));
                                n
                            ]
                        })
                    })
                    .collect()
            });
            for ((p, ..), outcome) in jobs.iter().zip(outcomes) {
                match outcome {
                    Ok(Reprint::Same) => report.printed_checked += 1,
                    Ok(Reprint::Differs(why)) => report.printed_problems.push(problem(p, why)),
                    Ok(Reprint::CannotTell(why)) => {
                        report.printed_not_checked.push(problem(p, why));
                    }
                    Err(e) => report
                        .printed_not_checked
                        .push(problem(p, format!("it cannot be printed again here: {e}"))),
                }
            }
        }
        Ok(())
    }

    /// A kept file's bytes, whole (`None` if this store does not keep it, or keeps less),
    /// read by an operator's command or verify; a person reads a file through its document
    /// ([`Engine::read_file`]), under its reading rules.
    pub fn kept_bytes(&self, file: &workflow_core::content::FileRef) -> Result<Option<Vec<u8>>> {
        let storage = &*self.inner.storage;
        if storage.content_size(&file.digest)? != Some(file.size) {
            return Ok(None);
        }
        let mut bytes = Vec::with_capacity(usize::try_from(file.size).unwrap_or(0));
        let read = crate::storage::kept::read_kept(storage, &file.digest, file.size, |chunk| {
            bytes.extend_from_slice(chunk);
            Ok(())
        })?;
        // A copy cut short or altered is not the copy kept (verify's file check names it).
        Ok(read.is_none().then_some(bytes))
    }

    /// Reads every kept file again and checks that it hashes to its digest; names the
    /// documents of any that does not, and counts the digests documents name that this
    /// store does not keep.
    fn verify_files(&self, report: &mut VerifyReport) -> Result<()> {
        use std::collections::{BTreeMap, BTreeSet};
        let storage = &*self.inner.storage;
        // Which documents name which digests.
        let mut named: BTreeMap<String, Vec<DocumentId>> = BTreeMap::new();
        let mut after = None;
        loop {
            let page = storage.docs_after(after, 1000)?;
            let Some(last) = page.last() else { break };
            after = Some(last.id());
            for r in &page {
                for (_, digest) in r.state.files() {
                    named
                        .entry(digest.to_ascii_lowercase())
                        .or_default()
                        .push(r.id());
                }
            }
        }
        let kept = storage.list_contents()?;
        let kept_digests: BTreeSet<String> = kept.iter().map(|k| k.digest.to_string()).collect();
        report.files_not_kept = named.keys().filter(|d| !kept_digests.contains(*d)).count() as u64;
        for k in kept {
            use crate::storage::kept::KeptProblem;
            let problem =
                match crate::storage::kept::read_kept(storage, &k.digest, k.size, |_| Ok(())) {
                    Ok(None) => None,
                    Ok(Some(KeptProblem::Short(at))) => {
                        Some(format!("it ends at byte {at} of {}", k.size))
                    }
                    Ok(Some(KeptProblem::Altered(found))) => {
                        Some(format!("its bytes were altered: they hash to {found}"))
                    }
                    Err(e) => Some(format!("it cannot be read: {e}")),
                };
            match problem {
                None => report.files_checked += 1,
                Some(reason) => report.file_problems.push(crate::replay::FileProblem {
                    documents: named.get(k.digest.as_str()).cloned().unwrap_or_default(),
                    digest: k.digest,
                    reason,
                }),
            }
        }
        Ok(())
    }

    /// The head of the durable log: the last acknowledged position and its hash. Hand it
    /// to another system to keep; [`VerifyOptions::against`] later proves the log still
    /// extends it unchanged.
    pub fn log_head(&self) -> Result<LogHead> {
        let position = self.head();
        if position == 0 {
            return Ok(LogHead {
                position,
                hash: crate::envelope::GENESIS_HASH.to_owned(),
            });
        }
        let e = self
            .read_log(position, 1)?
            .into_iter()
            .next()
            .filter(|e| e.position == position)
            .ok_or_else(|| Error::corrupt(format_args!("position {position}"), "missing"))?;
        Ok(LogHead {
            position,
            hash: e.hash,
        })
    }

    /// Checks every state projection against the fold of its stream; returns the ids that
    /// differ (empty when all agree).
    pub fn verify_projections(&self) -> Result<Vec<DocumentId>> {
        let mut bad = Vec::new();
        let mut after = None;
        loop {
            let recs = self.inner.storage.docs_after(after, 1024)?;
            let Some(last) = recs.last() else { break };
            after = Some(last.id());
            for r in recs {
                let id = r.id();
                match self.fold_stream(id, u64::MAX, None) {
                    Ok(Some(folded)) if folded == r.state => {}
                    _ => bad.push(id),
                }
            }
        }
        Ok(bad)
    }
}
