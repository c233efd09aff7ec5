//! Who may read what, for every adapter alike (gRPC, the web console): a reader is a person
//! of the directory or a system naming no actor; a document above the reader's clearance is
//! refused; every read of a classified document is recorded in the access log before it is
//! answered, and refused if it cannot be recorded.

use workflow_core::{
    ActorId, DocumentId, FlowState, StreamKind, directory::Actor, directory::Classification,
};

use crate::access::{AccessRecord, is_recorded};
use crate::engine::{AsOf, Engine};
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::read::{ListQuery, Page};

/// Who reads, and through which channel (the calling system's name, or `web` for the
/// console): the access log records both.
#[derive(Debug, Clone)]
pub struct Reader {
    channel: String,
    who: Who,
}

#[derive(Debug, Clone)]
enum Who {
    /// A person of the directory, with their clearance.
    Actor(Actor),
    /// A system reading without naming an actor, up to its `max_classification`.
    System(Classification),
}

impl Reader {
    /// A system reading on its own behalf, up to `max_classification`.
    pub fn system(name: impl Into<String>, max_classification: Classification) -> Reader {
        Reader {
            channel: name.into(),
            who: Who::System(max_classification),
        }
    }

    /// The channel (system) the read comes through.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The person reading, if one is named.
    pub fn actor(&self) -> Option<&Actor> {
        match &self.who {
            Who::Actor(a) => Some(a),
            Who::System(_) => None,
        }
    }

    /// The person's id, if one is named.
    pub fn actor_id(&self) -> Option<ActorId> {
        self.actor().map(|a| a.id.clone())
    }

    /// The highest classification this reader may see.
    pub fn clearance(&self) -> Classification {
        match &self.who {
            Who::Actor(a) => a.clearance,
            Who::System(max) => *max,
        }
    }

    /// Refuses a document classified above the reader's clearance, naming both.
    pub fn may_see(&self, classification: Classification) -> Result<()> {
        if self.clearance() >= classification {
            return Ok(());
        }
        Err(match &self.who {
            Who::Actor(actor) => Error::Rejected(workflow_core::Error::InsufficientClearance {
                actor: actor.id.clone(),
                clearance: actor.clearance,
                classification,
            }),
            Who::System(max) => Error::SystemClearance {
                system: self.channel.clone(),
                max: *max,
                classification,
            },
        })
    }

    fn record(
        &self,
        what: &str,
        document_id: DocumentId,
        classification: Classification,
        detail: String,
    ) -> AccessRecord {
        AccessRecord {
            system: self.channel.clone(),
            actor: self.actor_id(),
            what: what.into(),
            document_id,
            classification,
            detail,
        }
    }
}

impl Engine {
    /// The person `actor_id` reading through `channel`: refused with
    /// [`Error::InvalidRequest`] (field `actor_id`) when empty, and as the core names it
    /// when unknown or deactivated (离职, 调岗: a deactivated actor reads nothing).
    pub fn reader(&self, channel: &str, actor_id: &str) -> Result<Reader> {
        let id = actor_id.trim();
        if id.is_empty() {
            return Err(Error::InvalidRequest {
                field: "actor_id",
                reason: "is required".into(),
            });
        }
        let id = ActorId::from(id);
        let actor = self.actor(&id).ok_or_else(|| {
            Error::Rejected(workflow_core::Error::UnknownActor { actor: id.clone() })
        })?;
        if self.is_deactivated(&id) {
            return Err(Error::Rejected(workflow_core::Error::ActorDeactivated {
                actor: id,
            }));
        }
        Ok(Reader {
            channel: channel.to_owned(),
            who: Who::Actor(actor),
        })
    }

    /// A stream's state for `reader`, now or as of a version: of the flow `kind` when given
    /// (another flow's stream is `NotFound`, as is the directory's). Clearance is checked
    /// against the stream as it is now and as it was; a classified read is recorded at the
    /// stricter of the two before it is returned.
    pub async fn read_state(
        &self,
        reader: &Reader,
        id: DocumentId,
        kind: Option<StreamKind>,
        as_of_version: Option<u64>,
    ) -> Result<FlowState> {
        let current = self.readable(id, kind)?;
        let now = current.classification();
        let asked = if as_of_version.is_some() {
            "as_of"
        } else {
            "get"
        };
        self.may_see(reader, asked, id, now).await?;
        let (state, what, detail) = match as_of_version {
            Some(v) => {
                let then = self.state_as_of(id, AsOf::Version(v))?;
                self.may_see(reader, "as_of", id, then.classification())
                    .await?;
                (then, "as_of", format!("version {v}"))
            }
            None => (current, "get", String::new()),
        };
        let classification = state.classification().max(now);
        self.recorded(reader.record(what, id, classification, detail))
            .await?;
        Ok(state)
    }

    /// The name `document` gives the file `digest`, for `reader` to download it: a file the
    /// document names now is read under its current 密级; one only an earlier version named
    /// (a 正文 since replaced, which a reviewer approved) under the highest 密级 the
    /// document ever had, as its history is. The download is recorded as `file`, naming
    /// the file; a document that never named it is refused, and nothing recorded.
    pub(crate) async fn file_name_for(
        &self,
        reader: &Reader,
        document: DocumentId,
        digest: &workflow_core::content::Digest,
    ) -> Result<String> {
        let named = |s: &FlowState| {
            s.files()
                .into_iter()
                .find(|(_, d)| d.eq_ignore_ascii_case(digest.as_str()))
                .map(|(name, _)| name.to_owned())
        };
        let state = self.readable(document, None)?;
        let now = state.classification();
        self.may_see(reader, "file", document, now).await?;
        let (name, classification, earlier) = match named(&state) {
            Some(name) => (name, now, ""),
            None => {
                let mut found = None;
                let highest = fold_versions(&self.history(document)?, now, |s| {
                    found = named(s).or(found.take());
                })?;
                let Some(name) = found else {
                    return Err(Error::InvalidRequest {
                        field: "sha256",
                        reason: format!(
                            "document {document} names no file {digest} this engine keeps"
                        ),
                    });
                };
                self.may_see(reader, "file", document, highest).await?;
                (name, highest, " (named by an earlier version)")
            }
        };
        let detail = format!("{name} sha256 {digest}{earlier}");
        self.recorded(reader.record("file", document, classification, detail))
            .await?;
        Ok(name)
    }

    /// A stream's events for `reader` (any flow's but the directory's), with the state they
    /// fold to. The events show every version, so clearance is checked, and the read
    /// recorded, at the highest classification the stream ever had (a draft revised from
    /// 秘密 down to 非密 still shows its 秘密 versions).
    pub async fn read_history(
        &self,
        reader: &Reader,
        id: DocumentId,
    ) -> Result<(FlowState, Vec<Envelope>)> {
        let state = self.readable(id, None)?;
        self.may_see(reader, "history", id, state.classification())
            .await?;
        let events = self.history(id)?;
        let highest = fold_versions(&events, state.classification(), |_| {})?;
        self.may_see(reader, "history", id, highest).await?;
        let detail = format!("{} events", events.len());
        self.recorded(reader.record("history", id, highest, detail))
            .await?;
        Ok((state, events))
    }

    /// A stream's current state for `reader` for a purpose other than showing it (`export`
    /// of its archive package, say): checked as [`Engine::read_state`] and recorded under
    /// `what`, with `detail`.
    pub async fn read_for(
        &self,
        reader: &Reader,
        id: DocumentId,
        what: &str,
        detail: String,
    ) -> Result<FlowState> {
        let state = self.readable(id, None)?;
        self.may_see(reader, what, id, state.classification())
            .await?;
        self.recorded(reader.record(what, id, state.classification(), detail))
            .await?;
        Ok(state)
    }

    /// Whether `reader` may see the stream as it is now, without reading it out (so nothing
    /// is recorded): for acting on a document, where the command is the record.
    pub fn may_act_on(&self, reader: &Reader, id: DocumentId) -> Result<FlowState> {
        let state = self.readable(id, None)?;
        reader.may_see(state.classification())?;
        Ok(state)
    }

    /// A page of a list, or of the person's to-do (`todo`: across flows; a system naming
    /// no actor has none), filtered to what the reader's clearance covers; the classified
    /// documents on it are recorded, in one append, before it is returned.
    pub async fn read_page(&self, reader: &Reader, q: &ListQuery, todo: bool) -> Result<Page> {
        let mut q = q.clone();
        match &reader.who {
            Who::Actor(a) => q.viewer = Some(a.id.clone()),
            Who::System(max) => {
                q.viewer = None;
                q.max_classification = Some(q.max_classification.map_or(*max, |m| m.min(*max)));
            }
        }
        let page = match (&reader.who, todo) {
            (Who::Actor(a), true) => self.inbox(&a.id, &q)?,
            (Who::System(_), true) => {
                return Err(Error::InvalidRequest {
                    field: "actor_id",
                    reason: "is required for a to-do list (todo = true)".into(),
                });
            }
            (_, false) => self.list(&q)?,
        };
        let what = if todo { "todo" } else { "list" };
        let reads: Vec<AccessRecord> = page
            .states
            .iter()
            .map(|s| (s.id(), s.classification()))
            .filter(|(_, c)| is_recorded(*c))
            .map(|(id, c)| reader.record(what, id, c, String::new()))
            .collect();
        self.record_accesses(reads).await?;
        Ok(page)
    }

    /// How many documents wait in the reader's to-do list, up to a page of
    /// [`crate::read::MAX_PAGE_SIZE`], and whether there are more: a menu's count. The same
    /// rules as the list (what the reader is cleared for); nothing is handed out, so nothing
    /// is recorded in the access log.
    pub fn read_todo_count(&self, reader: &Reader) -> Result<(usize, bool)> {
        let Who::Actor(a) = &reader.who else {
            return Err(Error::InvalidRequest {
                field: "actor_id",
                reason: "is required for a to-do list".into(),
            });
        };
        let page = self.inbox(
            &a.id,
            &ListQuery {
                page_size: crate::read::MAX_PAGE_SIZE,
                ..ListQuery::default()
            },
        )?;
        Ok((page.states.len(), page.next_page_token.is_some()))
    }

    /// A stream a reader may ask for: any flow's (or `kind`'s) but the directory's, which is
    /// read through the admin calls.
    fn readable(&self, id: DocumentId, kind: Option<StreamKind>) -> Result<FlowState> {
        self.state(id)?
            .filter(|s| s.directory().is_none() && kind.is_none_or(|k| s.kind() == k))
            .ok_or(Error::NotFound(id))
    }

    /// Refuses a read of a document classified above the reader's clearance, recording the
    /// attempt first (`what` = `refused`, the read asked for and the levels in its detail):
    /// an audit wants the attempts too. The refusal is answered even when the attempt
    /// cannot be recorded (the failure is logged).
    async fn may_see(
        &self,
        reader: &Reader,
        asked: &str,
        id: DocumentId,
        classification: Classification,
    ) -> Result<()> {
        let Err(refused) = reader.may_see(classification) else {
            return Ok(());
        };
        let detail = format!(
            "{asked}: clearance {} below {classification}",
            reader.clearance()
        );
        if let Err(e) = self
            .recorded(reader.record("refused", id, classification, detail))
            .await
        {
            tracing::warn!(error = %e, document = %id, "a refused read could not be recorded in the access log");
        }
        Err(refused)
    }

    /// The 月通报 of `month` for `reader`: over the items their clearance covers; each
    /// classified item it names (overdue or closed in the month) is recorded as read, in one
    /// append, before it is returned.
    pub async fn read_bulletin(
        &self,
        reader: &Reader,
        month: workflow_core::supervision::bulletin::Month,
    ) -> Result<workflow_core::supervision::bulletin::Bulletin> {
        let engine = self.clone();
        let clearance = reader.clearance();
        let bulletin = tokio::task::spawn_blocking(move || engine.bulletin(month, Some(clearance)))
            .await
            .map_err(|e| Error::Internal {
                reason: format!("producing the bulletin: {e}"),
            })??;
        self.record_bulletin_read(reader, &bulletin).await?;
        Ok(bulletin)
    }

    /// Records, in one append, each classified item `bulletin` names (overdue, closed in its
    /// month, or listed in its 督办事项一览) as read by `reader`: before a bulletin is handed
    /// out (as `PublishBulletin` hands back the one it published).
    pub async fn record_bulletin_read(
        &self,
        reader: &Reader,
        bulletin: &workflow_core::supervision::bulletin::Bulletin,
    ) -> Result<()> {
        let month = bulletin.month;
        let mut named: Vec<DocumentId> = bulletin
            .overdue
            .iter()
            .map(|o| o.id)
            .chain(bulletin.closed.iter().map(|c| c.id))
            .chain(bulletin.items.iter().map(|i| i.id))
            .collect();
        named.sort();
        named.dedup();
        let mut reads = Vec::new();
        for id in named {
            let classification = self.highest_classification(id)?;
            if is_recorded(classification) {
                reads.push(reader.record("bulletin", id, classification, month.to_string()));
            }
        }
        self.record_accesses(reads).await?;
        Ok(())
    }

    /// Records one read of a classified document before it is answered.
    async fn recorded(&self, record: AccessRecord) -> Result<()> {
        if is_recorded(record.classification) {
            self.record_access(record).await?;
        }
        Ok(())
    }
}

/// Folds a stream's `events` version by version, showing each version to `each`; answers
/// the highest 密级 any version had (at least `from`).
fn fold_versions(
    events: &[Envelope],
    from: Classification,
    mut each: impl FnMut(&FlowState),
) -> Result<Classification> {
    let mut highest = from;
    let mut folded: Option<FlowState> = None;
    for e in events {
        super::history::fold_one(&mut folded, e)?;
        if let Some(s) = &folded {
            highest = highest.max(s.classification());
            each(s);
        }
    }
    Ok(highest)
}
