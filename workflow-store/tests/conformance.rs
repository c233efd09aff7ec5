//! The storage conformance suite on each backend: one line per backend.

mod sled {
    workflow_testkit::storage_conformance!(workflow_testkit::conformance::Sled);
}

/// On the test server of `workflow_testkit::postgres` (a throwaway cluster, or the one
/// `WORKFLOW_TEST_POSTGRES` names); fails, naming `scripts/test`, without PostgreSQL.
mod postgres {
    workflow_testkit::storage_conformance!(workflow_testkit::conformance::Postgres);
}
