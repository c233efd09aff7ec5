//! The storage conformance suite on each backend: one line per backend.

workflow_testkit::storage_conformance!(workflow_testkit::conformance::Sled);
