//! A stream's state in the parts a store may keep apart from the record it rewrites on every
//! command: the content, which commands seldom change (a 发文's draft with its 正文, a 收文's
//! registration, a 督办 item's spec), and the opinions, which only grow. A store that keeps
//! them apart writes the content once per revision and each opinion once, instead of
//! rewriting all of them with every command (they were most of a record's bytes).
//!
//! [`FlowState::take_parts`] moves them out (nothing is copied), leaving a state that
//! serializes without them; [`FlowState::put_parts`] moves them back. A state with its parts
//! taken out is for serializing only: its accessors answer for an empty draft.

use serde::{Deserialize, Serialize};

use crate::incoming::Registration;
use crate::opinion::Opinion;
use crate::outgoing::DraftFields;
use crate::registry::FlowState;
use crate::supervision::ItemSpec;

/// The content of a stream: what its creator (or a 发文's revision) set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Content {
    /// 发文: the draft's fields (拟稿).
    Outgoing(DraftFields),
    /// 收文: the registration (收文登记).
    Incoming(Registration),
    /// 督办: the item's spec (立项).
    Supervision(ItemSpec),
}

/// The parts of a stream's state kept apart from its record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateParts {
    /// The content, for the flows that have one.
    pub content: Option<Content>,
    /// Every opinion, in order.
    pub opinions: Vec<Opinion>,
}

/// Parts that do not fit the state they are put back into: a content of another flow, or
/// none where the flow has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored parts do not fit a {flow} stream ({what})")]
pub struct PartsMismatch {
    /// The stream's flow.
    pub flow: &'static str,
    /// What did not fit.
    pub what: &'static str,
}

impl FlowState {
    /// How many times its content was set: a store writes the content again only when this
    /// changes (0 for streams without content).
    pub fn content_revision(&self) -> u32 {
        match self {
            FlowState::Outgoing(d) => d.revision,
            // Set once, when the stream is created.
            FlowState::Incoming(_) | FlowState::Supervision(_) => 1,
            // A 签报 is kept whole (see `take_parts`).
            FlowState::Submission(_) | FlowState::Directory(_) | FlowState::Bulletin(_) => 0,
        }
    }

    /// Whether it holds its content: false for a state whose content was taken out
    /// ([`take_parts`](Self::take_parts)) or that was read from a record stored without it.
    /// A store that keeps whole records refuses a record without its content as corrupt
    /// (reading one fills the content in with a stand-in, so that records kept apart from
    /// their parts read).
    pub fn holds_content(&self) -> bool {
        match self {
            FlowState::Outgoing(d) => !d.fields.is_placeholder(),
            FlowState::Incoming(r) => !r.registration.is_placeholder(),
            FlowState::Supervision(i) => !i.spec.is_placeholder(),
            FlowState::Submission(_) | FlowState::Directory(_) | FlowState::Bulletin(_) => true,
        }
    }

    /// How many opinions it holds.
    pub fn opinion_count(&self) -> usize {
        self.opinions().map_or(0, <[Opinion]>::len)
    }

    fn opinions(&self) -> Option<&[Opinion]> {
        match self {
            FlowState::Outgoing(d) => Some(&d.opinions),
            FlowState::Incoming(r) => Some(&r.opinions),
            FlowState::Supervision(i) => Some(&i.opinions),
            FlowState::Submission(_) | FlowState::Directory(_) | FlowState::Bulletin(_) => None,
        }
    }

    /// Moves the content and the opinions out, leaving a state that serializes without them
    /// (and is good for nothing else until [`FlowState::put_parts`]).
    pub fn take_parts(&mut self) -> StateParts {
        match self {
            FlowState::Outgoing(d) => StateParts {
                content: Some(Content::Outgoing(std::mem::replace(
                    &mut d.fields,
                    DraftFields::placeholder(),
                ))),
                opinions: std::mem::take(&mut d.opinions),
            },
            FlowState::Incoming(r) => StateParts {
                content: Some(Content::Incoming(std::mem::replace(
                    &mut r.registration,
                    Registration::placeholder(),
                ))),
                opinions: std::mem::take(&mut r.opinions),
            },
            FlowState::Supervision(i) => StateParts {
                content: Some(Content::Supervision(std::mem::replace(
                    &mut i.spec,
                    ItemSpec::placeholder(),
                ))),
                opinions: std::mem::take(&mut i.opinions),
            },
            // A 签报 is kept whole: its parts stay in its record until the parts leave the
            // core for the stores (issue #33's notes), rather than add a fourth placeholder.
            FlowState::Submission(_) | FlowState::Directory(_) | FlowState::Bulletin(_) => {
                StateParts::default()
            }
        }
    }

    /// Puts back what [`FlowState::take_parts`] took out (or what a store kept apart).
    pub fn put_parts(&mut self, parts: StateParts) -> Result<(), PartsMismatch> {
        let flow = self.kind().as_str();
        let mismatch = |what| Err(PartsMismatch { flow, what });
        match (self, parts.content) {
            (FlowState::Outgoing(d), Some(Content::Outgoing(fields))) => {
                d.fields = fields;
                d.opinions = parts.opinions;
            }
            (FlowState::Incoming(r), Some(Content::Incoming(registration))) => {
                r.registration = registration;
                r.opinions = parts.opinions;
            }
            (FlowState::Supervision(i), Some(Content::Supervision(spec))) => {
                i.spec = spec;
                i.opinions = parts.opinions;
            }
            (FlowState::Submission(_) | FlowState::Directory(_) | FlowState::Bulletin(_), None) => {
                if !parts.opinions.is_empty() {
                    return mismatch("opinions on a stream without any");
                }
            }
            (
                FlowState::Submission(_) | FlowState::Directory(_) | FlowState::Bulletin(_),
                Some(_),
            ) => {
                return mismatch("content on a stream without any");
            }
            (_, None) => return mismatch("no content"),
            (_, Some(_)) => return mismatch("the content of another flow"),
        }
        Ok(())
    }
}
