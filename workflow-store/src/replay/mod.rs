//! Replaying the log: rebuilding every projection from it, and verifying it (the hash chain,
//! its end, its indexes, fixity digests, a witness head).

mod rebuild;
mod verify;

pub(crate) use rebuild::rebuild;
pub(crate) use verify::verify;
pub use verify::{ChainBreak, VerifyOptions, VerifyReport};
