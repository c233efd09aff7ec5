//! The sled-backed event log (not built yet; issue #3).
