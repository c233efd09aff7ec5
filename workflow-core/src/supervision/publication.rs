//! 通报 published: the record that a month's bulletin was published, so that what was
//! published is on record (DESIGN §3b). One `bulletin` stream per month and clearance level,
//! one event in it: the bulletin's SHA-256 digest in every format, the item count, who
//! published it and when.
//!
//! Deciding is pure, so the digests come with the command; the engine computes them from
//! the log and refuses a command whose digests are not those of the bulletin it produces.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::bulletin::{Bulletin, Month};
use crate::checks::{require_clearance, require_role};
use crate::context::Context;
use crate::directory::{Classification, Role};
use crate::error::Error;
use crate::flow::{Flow, FlowCommand, Listing, Particulars, Recorded, StreamKind};
use crate::ids::{ActorId, DocumentId, Timestamp};
use crate::todo::Assignee;

/// The id of the stream recording the publication of `month`'s bulletin over the items
/// classified up to `clearance`: derived from both, so a second publication of the same
/// bulletin finds the stream taken.
pub fn publication_id(month: Month, clearance: Classification) -> DocumentId {
    // A fixed namespace of this engine's own (a v4 uuid drawn once).
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x3f61_c0d8_9a27_4e15_8b3c_62f4_d9a0_175e);
    DocumentId(uuid::Uuid::new_v5(
        &NAMESPACE,
        format!("月通报/{month}/{clearance}").as_bytes(),
    ))
}

/// The SHA-256 digests (lowercase hex) of a bulletin's four renderings: whoever holds a
/// published copy in any format can check it against the record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BulletinDigests {
    /// Of [`Bulletin::to_json`].
    pub json: String,
    /// Of [`Bulletin::to_csv`].
    pub csv: String,
    /// Of [`Bulletin::to_markdown`].
    pub markdown: String,
    /// Of [`Bulletin::to_html`].
    pub html: String,
    /// The bulletin format they are of ([`super::bulletin::BULLETIN_FORMAT`]): records
    /// written before formats had a number have none, and are of format 1.
    #[serde(default = "first_format", skip_serializing_if = "is_first_format")]
    pub format: u32,
}

fn first_format() -> u32 {
    1
}

fn is_first_format(format: &u32) -> bool {
    *format == 1
}

impl BulletinDigests {
    /// The digests of `bulletin`'s renderings (in the format it was produced in).
    pub fn of(bulletin: &Bulletin) -> BulletinDigests {
        BulletinDigests {
            json: sha256_hex(&bulletin.to_json()),
            csv: sha256_hex(&bulletin.to_csv()),
            markdown: sha256_hex(&bulletin.to_markdown()),
            html: sha256_hex(&bulletin.to_html()),
            format: bulletin.format,
        }
    }

    fn fields(&self) -> [(&'static str, &str); 4] {
        [
            ("json", &self.json),
            ("csv", &self.csv),
            ("markdown", &self.markdown),
            ("html", &self.html),
        ]
    }
}

/// The SHA-256 of `text`, as lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What may be asked of a publication stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum PublicationAction {
    /// 发布月通报: record that `month`'s bulletin over the items classified up to
    /// `clearance` was published, with its digests. Only after the month's end, by a
    /// supervisor cleared for `clearance`, once.
    PublishBulletin {
        /// The month.
        month: Month,
        /// The highest 密级 of the items it covers.
        clearance: Classification,
        /// How many items it counts (open at any time in the month).
        items: u32,
        /// Its digests.
        digests: BulletinDigests,
    },
}

impl PublicationAction {
    /// The command's name, as used in messages and on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            PublicationAction::PublishBulletin { .. } => "PublishBulletin",
        }
    }

    /// The action publishing `bulletin` at `clearance`.
    pub fn publish(bulletin: &Bulletin, clearance: Classification) -> PublicationAction {
        PublicationAction::PublishBulletin {
            month: bulletin.month,
            clearance,
            items: bulletin.item_count(),
            digests: BulletinDigests::of(bulletin),
        }
    }
}

/// What happened to a publication stream. Stored as `{"type": …, "payload": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum PublicationEvent {
    /// 月通报 published.
    BulletinPublished {
        /// The stream.
        document_id: DocumentId,
        /// The month.
        month: Month,
        /// The highest 密级 of the items it covers.
        clearance: Classification,
        /// How many items it counts.
        items: u32,
        /// Its digests.
        digests: BulletinDigests,
    },
}

impl crate::codec::EventCodec for PublicationEvent {
    /// The stable type name stored in the log.
    fn type_name(&self) -> &'static str {
        match self {
            PublicationEvent::BulletinPublished { .. } => "BulletinPublished",
        }
    }

    /// The step in the office's words.
    fn step(&self) -> &'static str {
        match self {
            PublicationEvent::BulletinPublished { .. } => "发布月通报",
        }
    }
}

/// A published bulletin, as its stream records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    id: DocumentId,
    month: Month,
    clearance: Classification,
    items: u32,
    digests: BulletinDigests,
    published_by: ActorId,
    published_at: Timestamp,
    title: String,
    version: u64,
}

impl Publication {
    /// The stream's id.
    pub fn id(&self) -> DocumentId {
        self.id
    }
    /// The month.
    pub fn month(&self) -> Month {
        self.month
    }
    /// The highest 密级 of the items it covers.
    pub fn clearance(&self) -> Classification {
        self.clearance
    }
    /// How many items it counts.
    pub fn items(&self) -> u32 {
        self.items
    }
    /// Its digests.
    pub fn digests(&self) -> &BulletinDigests {
        &self.digests
    }
    /// Who published it.
    pub fn published_by(&self) -> &ActorId {
        &self.published_by
    }
    /// When.
    pub fn published_at(&self) -> Timestamp {
        self.published_at
    }
    /// How many events made it.
    pub fn version(&self) -> u64 {
        self.version
    }
}

/// The publication streams on the flow boundary.
#[derive(Debug, Clone, Copy)]
pub struct Publications;

impl Publications {
    fn decide_publish(
        state: Option<&Publication>,
        cmd: &FlowCommand<PublicationAction>,
        ctx: &dyn Context,
    ) -> Result<Vec<PublicationEvent>, Error> {
        let PublicationAction::PublishBulletin {
            month,
            clearance,
            items,
            digests,
        } = &cmd.action;
        let name = cmd.action.name();
        let actor = ctx.actor(&cmd.actor).ok_or_else(|| Error::UnknownActor {
            actor: cmd.actor.clone(),
        })?;
        if ctx.is_deactivated(&actor.id) {
            return Err(Error::ActorDeactivated { actor: actor.id });
        }
        require_role(&actor, Role::Supervisor, name)?;
        require_clearance(&actor, *clearance)?;
        let expected = publication_id(*month, *clearance);
        if cmd.document_id != expected {
            return Err(Error::field(
                "document_id",
                format!(
                    "the publication of {month}'s bulletin at {clearance} is stream {expected}, not {}",
                    cmd.document_id
                ),
            ));
        }
        if let Some(p) = state {
            return Err(Error::DocumentExists(p.id));
        }
        if cmd.at < month.end() {
            return Err(Error::NotNow {
                command: name,
                reason: format!("{month} has not ended; its bulletin is published after it"),
            });
        }
        for (field, digest) in digests.fields() {
            if digest.len() != 64
                || !digest
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(Error::field(
                    format!("digests.{field}"),
                    "a SHA-256 digest is 64 lowercase hex digits",
                ));
            }
        }
        Ok(vec![PublicationEvent::BulletinPublished {
            document_id: cmd.document_id,
            month: *month,
            clearance: *clearance,
            items: *items,
            digests: digests.clone(),
        }])
    }
}

impl Flow for Publications {
    const KIND: StreamKind = StreamKind::Bulletin;
    type State = Publication;
    type Action = PublicationAction;
    type Event = PublicationEvent;

    fn command_name(action: &PublicationAction) -> &'static str {
        action.name()
    }

    fn decide(
        state: Option<&Publication>,
        command: &FlowCommand<PublicationAction>,
        ctx: &dyn Context,
    ) -> Result<Vec<Recorded<PublicationEvent>>, Error> {
        Ok(Self::decide_publish(state, command, ctx)?
            .into_iter()
            .map(|data| Recorded {
                actor: command.actor.clone(),
                at: command.at,
                data,
            })
            .collect())
    }

    fn create(actor: &ActorId, at: Timestamp, event: &PublicationEvent) -> Option<Publication> {
        let PublicationEvent::BulletinPublished {
            document_id,
            month,
            clearance,
            items,
            digests,
        } = event;
        Some(Publication {
            id: *document_id,
            month: *month,
            clearance: *clearance,
            items: *items,
            digests: digests.clone(),
            published_by: actor.clone(),
            published_at: at,
            title: format!("{}年{}月督办工作通报", month.year, month.month),
            version: 1,
        })
    }

    fn apply(state: &mut Publication, _: &ActorId, _: Timestamp, _: &PublicationEvent) {
        // A publication has one event; decide refuses any other.
        state.version += 1;
    }

    fn id(state: &Publication) -> DocumentId {
        state.id
    }

    fn version(state: &Publication) -> u64 {
        state.version
    }

    fn classification(state: &Publication) -> Classification {
        state.clearance
    }

    fn assignees(_: &Publication, _: &dyn Fn(&str) -> bool) -> Vec<Assignee> {
        Vec::new()
    }

    fn listing(_: &Publication) -> Option<Listing> {
        // Found by its id (month and clearance), not listed among documents.
        None
    }

    fn title(state: &Publication) -> &str {
        &state.title
    }

    fn summary(event: &PublicationEvent, _: &dyn crate::sheet::Names) -> String {
        match event {
            PublicationEvent::BulletinPublished {
                month,
                clearance,
                items,
                digests,
                ..
            } => format!(
                "{month} up to {clearance}, {items} items, html sha256 {}",
                digests.html
            ),
        }
    }

    fn particulars(p: &Publication) -> Particulars<'_> {
        Particulars {
            state: "Published",
            state_label: "已发布",
            kind: None,
            unit: None,
            from: None,
            urgency: None,
            number: None,
            deadline: None,
            updated_at: p.published_at(),
            archive: None,
            text: Vec::new(),
        }
    }
}
