//! Replaying the log: rebuilding every projection from it, verifying it (the hash chain,
//! its end, its indexes, fixity digests, a witness head), and copying a store into another.

mod copy;
mod rebuild;
mod verify;

pub use copy::{CopyReport, copy_store};
pub(crate) use rebuild::rebuild;
pub(crate) use verify::PrintedAt;
pub(crate) use verify::verify;
pub use verify::{ChainBreak, FileProblem, PrintedProblem, Problem, VerifyOptions, VerifyReport};
