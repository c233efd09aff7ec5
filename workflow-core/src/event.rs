//! Events: what happened to a document. State is a fold of them; they are never changed.
//!
//! The JSON form of an event is part of the audit log and must stay readable for decades:
//! every event has a stable type name and a schema version, and [`upcast`] is the one place
//! where an older payload is brought up to the current schema before decoding.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::command::{DraftFields, StageSpec};
use crate::document::State;
use crate::number::{ArchiveReference, DocumentNumber};
use crate::types::{ActorId, DocumentId, Retention, Timestamp, UnitCode};

/// One recorded event: who, when, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The actor whose command produced it.
    pub actor: ActorId,
    /// The instant of that command.
    pub at: Timestamp,
    /// What happened.
    pub data: EventData,
}

/// The current schema version of every event type. Bump per type when its payload changes,
/// and teach [`upcast`] to read the old form. A new optional field that is left out when
/// empty, and defaults when absent, is not a change of form: every stored payload keeps its
/// bytes and reads as before (`Drafted.warnings`, `Archived.scheduled_retention`).
pub const SCHEMA_VERSION: u32 = 1;

/// What happened. Serialized as `{"type": "...", "payload": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum EventData {
    /// 拟稿: the document was created.
    Drafted {
        /// The new document's id.
        document_id: DocumentId,
        /// The draft's content.
        fields: DraftFields,
        /// The drafter's unit at drafting time.
        drafter_unit: UnitCode,
        /// What the rules accepted but flagged, e.g. an upward 报告 with several 主送
        /// (原则上主送一个上级机关). Absent when none.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    /// 修改: the draft's content was replaced.
    Revised {
        /// The new content.
        fields: DraftFields,
        /// As for `Drafted`, for the new content.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    /// 送审: a round started along this route.
    SubmittedForReview {
        /// The round number, from 1.
        round: u32,
        /// The route of this round.
        route: Vec<StageSpec>,
    },
    /// 审核通过 at a review stage.
    Approved {
        /// The stage index (0-based).
        stage: usize,
        /// 审核意见.
        opinion: String,
    },
    /// 会签 by one department.
    Countersigned {
        /// The stage index (0-based).
        stage: usize,
        /// The department signed for.
        unit: UnitCode,
        /// Agreed or not.
        agree: bool,
        /// 会签意见.
        opinion: String,
    },
    /// 加签: a department was added to the live countersign stage.
    CountersignerAdded {
        /// The stage index (0-based).
        stage: usize,
        /// The department added.
        unit: UnitCode,
    },
    /// 减签: a department was removed from the live countersign stage.
    CountersignerRemoved {
        /// The stage index (0-based).
        stage: usize,
        /// The department removed.
        unit: UnitCode,
    },
    /// An `Any`/`Ratio` stage was decided before these departments acted: not needed.
    CountersignersNotNeeded {
        /// The stage index (0-based).
        stage: usize,
        /// The departments that did not act.
        units: Vec<UnitCode>,
    },
    /// 加签 of a reviewer: a review stage was inserted.
    ReviewerAdded {
        /// The index of the new stage (0-based).
        stage: usize,
        /// The reviewer.
        reviewer: ActorId,
        /// Inserted before the current stage (and now current) or after it.
        before: bool,
    },
    /// 转办: the review task moved to another reviewer.
    Reassigned {
        /// The stage index (0-based).
        stage: usize,
        /// The previous reviewer.
        from: ActorId,
        /// The new reviewer.
        to: ActorId,
        /// Why.
        reason: String,
    },
    /// 委派: the reviewer handed the task to a delegate.
    Delegated {
        /// The stage index (0-based).
        stage: usize,
        /// The reviewer (delegator).
        from: ActorId,
        /// The delegate.
        to: ActorId,
        /// Why.
        reason: String,
    },
    /// The delegate's result, back to the delegator to confirm.
    DelegateReported {
        /// The stage index (0-based).
        stage: usize,
        /// Whether the delegate agrees.
        agree: bool,
        /// The delegate's opinion.
        opinion: String,
    },
    /// 退回 to an earlier stage, which runs again from there.
    ReturnedToStage {
        /// The state it was returned from.
        from: State,
        /// The stage index it went back to (0-based).
        stage: usize,
        /// Why.
        reason: String,
    },
    /// 催办: a reminder for an overdue stage.
    Reminded {
        /// The stage index (0-based).
        stage: usize,
        /// When the stage was due.
        due_at: Timestamp,
        /// Whom it waits for, as to-do keys (e.g. `li.qiang`, `Countersigner@RSC`).
        waiting_for: Vec<String>,
        /// The actor it was escalated to, if the route names one.
        escalated_to: Option<ActorId>,
    },
    /// 退回.
    Returned {
        /// The state it was returned from.
        from: State,
        /// The state it went back to.
        to: State,
        /// Why.
        reason: String,
    },
    /// 撤回 by the drafter.
    Withdrawn {
        /// Why (may be empty).
        reason: String,
    },
    /// 签发: one required signature.
    Signed {
        /// The issuing unit signed for.
        unit: UnitCode,
        /// The signer's name as recorded on the document.
        signer_name: String,
        /// 签发意见.
        opinion: String,
        /// The full date of the signature (China Standard Time).
        date: NaiveDate,
    },
    /// 印发: number assigned and distributed.
    Issued {
        /// 发文字号.
        number: DocumentNumber,
        /// 印发日期.
        issue_date: NaiveDate,
        /// 份数.
        copies: u32,
        /// 主送 as distributed.
        main_recipients: Vec<String>,
        /// 抄送 as distributed.
        cc: Vec<String>,
    },
    /// 签收 by one recipient unit.
    Acknowledged {
        /// The recipient unit.
        recipient: UnitCode,
    },
    /// 归档.
    Archived {
        /// 档号 and its parts.
        reference: ArchiveReference,
        /// Fixity digest of the document's event chain before this event, if kept.
        fixity_hash: Option<String>,
        /// The retention the schedule (保管期限表) gave (absent in events written before
        /// schedules were kept).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scheduled_retention: Option<Retention>,
        /// Why the archivist chose another retention than the schedule's (a deviation).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deviation: Option<String>,
    },
    /// 作废.
    Voided {
        /// Why.
        reason: String,
    },
}

impl EventData {
    /// The stable type name stored in the log.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventData::Drafted { .. } => "Drafted",
            EventData::Revised { .. } => "Revised",
            EventData::SubmittedForReview { .. } => "SubmittedForReview",
            EventData::Approved { .. } => "Approved",
            EventData::Countersigned { .. } => "Countersigned",
            EventData::CountersignerAdded { .. } => "CountersignerAdded",
            EventData::CountersignerRemoved { .. } => "CountersignerRemoved",
            EventData::CountersignersNotNeeded { .. } => "CountersignersNotNeeded",
            EventData::ReviewerAdded { .. } => "ReviewerAdded",
            EventData::Reassigned { .. } => "Reassigned",
            EventData::Delegated { .. } => "Delegated",
            EventData::DelegateReported { .. } => "DelegateReported",
            EventData::ReturnedToStage { .. } => "ReturnedToStage",
            EventData::Reminded { .. } => "Reminded",
            EventData::Returned { .. } => "Returned",
            EventData::Withdrawn { .. } => "Withdrawn",
            EventData::Signed { .. } => "Signed",
            EventData::Issued { .. } => "Issued",
            EventData::Acknowledged { .. } => "Acknowledged",
            EventData::Archived { .. } => "Archived",
            EventData::Voided { .. } => "Voided",
        }
    }

    /// The number this event claims in its series (`Issued`: the 发文字号; `Archived`: the
    /// 件号), which the store keeps unique and gapless.
    pub fn number_claim(&self) -> Option<(crate::number::Series, u32)> {
        match self {
            EventData::Issued { number, .. } => Some((number.series(), number.seq)),
            EventData::Archived { reference, .. } => Some((reference.series(), reference.item)),
            _ => None,
        }
    }

    /// The step in the office's words, for timelines: 拟稿, 审核通过, 会签, 签发, ….
    pub fn step(&self) -> &'static str {
        match self {
            EventData::Drafted { .. } => "拟稿",
            EventData::Revised { .. } => "修改",
            EventData::SubmittedForReview { .. } => "送审",
            EventData::Approved { .. } => "审核通过",
            EventData::Countersigned { agree: true, .. } => "会签同意",
            EventData::Countersigned { agree: false, .. } => "会签不同意",
            EventData::CountersignerAdded { .. } => "加签",
            EventData::CountersignerRemoved { .. } => "减签",
            EventData::CountersignersNotNeeded { .. } => "无需会签",
            EventData::ReviewerAdded { .. } => "加签",
            EventData::Reassigned { .. } => "转办",
            EventData::Delegated { .. } => "委派",
            EventData::DelegateReported { .. } => "委派回复",
            EventData::ReturnedToStage { .. } => "退回环节",
            EventData::Reminded { .. } => "催办",
            EventData::Returned { .. } => "退回",
            EventData::Withdrawn { .. } => "撤回",
            EventData::Signed { .. } => "签发",
            EventData::Issued { .. } => "印发",
            EventData::Acknowledged { .. } => "签收",
            EventData::Archived { .. } => "归档",
            EventData::Voided { .. } => "作废",
        }
    }

    /// The payload alone, as stored in the envelope's `payload` field.
    pub fn payload(&self) -> Value {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut m)) => m.remove("payload").unwrap_or(Value::Null),
            // Every variant is a struct variant, so the adjacent tagging always yields an
            // object with a payload; anything else would be a serde bug.
            _ => Value::Null,
        }
    }

    /// As [`EventData::decode`], from a borrowed payload (no copy for the current schema).
    pub fn decode_ref(type_name: &str, version: u32, payload: &Value) -> Result<Self, DecodeError> {
        if version != SCHEMA_VERSION {
            return Self::decode(type_name, version, payload.clone());
        }
        // Current schema: decode straight from the borrowed payload, without copying it.
        use serde::Deserialize;
        use serde::de::value::MapDeserializer;
        let tag = Value::String(type_name.to_owned());
        let fields = [("type", &tag), ("payload", payload)];
        let map = MapDeserializer::<_, serde_json::Error>::new(fields.into_iter());
        EventData::deserialize(map).map_err(|e| DecodeError::Payload {
            type_name: type_name.to_owned(),
            reason: e.to_string(),
        })
    }

    /// As [`EventData::decode`], from the payload's JSON text, read straight into the
    /// typed event without building a `Value` tree first.
    pub fn decode_json(
        type_name: &str,
        version: u32,
        payload: &serde_json::value::RawValue,
    ) -> Result<Self, DecodeError> {
        Self::deserialize_payload(type_name, version, payload).map_err(|e| match e {
            PayloadError::Decode(d) => d,
            PayloadError::Serde(e) => DecodeError::Payload {
                type_name: type_name.to_owned(),
                reason: e.to_string(),
            },
        })
    }

    /// Reads a payload from any serde deserializer, given the stored `type` and schema
    /// `version`: a log reader that meets `type` before `payload` decodes the event in the
    /// same pass that reads the envelope (replay and verify read every stored event so).
    /// Older schema versions go through a `Value` and [`upcast`].
    pub fn deserialize_payload<'de, D: serde::Deserializer<'de>>(
        type_name: &str,
        version: u32,
        payload: D,
    ) -> Result<Self, PayloadError<D::Error>> {
        if version != SCHEMA_VERSION {
            let value = Value::deserialize(payload).map_err(PayloadError::Serde)?;
            return Self::decode(type_name, version, value).map_err(PayloadError::Decode);
        }
        EventData::deserialize(Tagged {
            type_name,
            payload: Some(payload),
            next: 0,
        })
        .map_err(PayloadError::Serde)
    }

    /// Decodes a stored `type`, schema `version` and `payload`, upcasting older versions.
    pub fn decode(type_name: &str, version: u32, payload: Value) -> Result<Self, DecodeError> {
        let payload = upcast(type_name, version, payload)?;
        let tagged = serde_json::json!({ "type": type_name, "payload": payload });
        serde_json::from_value(tagged).map_err(|e| DecodeError::Payload {
            type_name: type_name.to_owned(),
            reason: e.to_string(),
        })
    }
}

/// Why [`EventData::deserialize_payload`] failed: the deserializer's own error, or an
/// upcasting error.
#[derive(Debug)]
pub enum PayloadError<E> {
    /// The payload text does not fit the type.
    Serde(E),
    /// The schema version cannot be upcast.
    Decode(DecodeError),
}

/// The adjacently tagged form `{"type": …, "payload": …}` presented over a tag we already
/// hold and a deserializer positioned at the payload.
struct Tagged<'t, D> {
    type_name: &'t str,
    payload: Option<D>,
    next: u8,
}

impl<'de, D: serde::Deserializer<'de>> serde::Deserializer<'de> for Tagged<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, D: serde::Deserializer<'de>> serde::de::MapAccess<'de> for Tagged<'_, D> {
    type Error = D::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, D::Error> {
        use serde::de::IntoDeserializer;
        let key = match self.next {
            0 => "type",
            1 => "payload",
            _ => return Ok(None),
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, D::Error> {
        use serde::de::{Error, IntoDeserializer};
        self.next += 1;
        if self.next == 1 {
            return seed.deserialize(self.type_name.into_deserializer());
        }
        match self.payload.take() {
            Some(d) => seed.deserialize(d),
            None => Err(D::Error::custom("payload read twice")),
        }
    }
}

/// A stored event that cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The schema version is newer than this program knows.
    #[error("event type {type_name} has schema version {version}, newer than {SCHEMA_VERSION}")]
    FutureVersion {
        /// The stored type.
        type_name: String,
        /// The stored version.
        version: u32,
    },
    /// The payload does not match the type.
    #[error("event type {type_name} has an unreadable payload: {reason}")]
    Payload {
        /// The stored type.
        type_name: String,
        /// The decoder's complaint.
        reason: String,
    },
}

/// Brings a payload of schema `version` up to [`SCHEMA_VERSION`]. Version 1 is the first,
/// so today this only refuses versions from the future; later schema changes add arms here.
pub fn upcast(type_name: &str, version: u32, payload: Value) -> Result<Value, DecodeError> {
    if version > SCHEMA_VERSION {
        return Err(DecodeError::FutureVersion {
            type_name: type_name.to_owned(),
            version,
        });
    }
    Ok(payload)
}
