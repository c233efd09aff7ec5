//! The storage conformance suite (filled below).
