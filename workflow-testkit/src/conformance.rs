//! The storage conformance suite: what every backend of [`Storage`] must do, written against
//! that interface alone (no engine, no backend's keys). A backend runs all of it with one
//! line in a test file:
//!
//! ```ignore
//! workflow_testkit::storage_conformance!(workflow_testkit::conformance::Sled);
//! ```
//!
//! The data is the fixture's: the sample document and three others at earlier steps,
//! decided by the core on the fixture's directory, sealed into envelopes and grouped the
//! way the engine groups them. Expected projections come from the same index functions the
//! engine uses ([`index_keys`], [`index_diff`]), kept in memory as a model; each case
//! compares what the backend answers with the model.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use uuid::Uuid;
use workflow_core::{
    DocumentId, FlowEvent, FlowState, Recorded, Timestamp, codec::SCHEMA_VERSION, directory::Actor,
    directory::Classification, directory::Role, directory::Unit, numbering::Series, todo::Assignee,
};
use workflow_store::storage::{
    CommandRecord, CommitError, DocChange, Group, LogEntry, PartsStored, RebuildMode, Storage,
    StoredEvent,
};
use workflow_store::{
    Durability, Envelope, LogHead, SledStorage, envelope::GENESIS_HASH, projection::Cursor,
    projection::Dim, projection::DocRecord, projection::IndexEntry, projection::index_diff,
    projection::index_keys,
};

use crate::script::Script;
use crate::steps;

/// A storage backend under test: how to make a new, empty store and open it again.
pub trait Backend {
    /// Where one store lives (a directory, a database); dropping it removes the store.
    type Place;
    /// A new place holding no store yet.
    fn place(&self) -> Self::Place;
    /// Opens the store at `place`, creating it if there is none. The suite drops every
    /// handle of a store before opening it again.
    fn open(&self, place: &Self::Place) -> Arc<dyn Storage>;
}

/// The embedded sled backend, on a temporary directory.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sled;

impl Backend for Sled {
    type Place = tempfile::TempDir;

    fn place(&self) -> tempfile::TempDir {
        match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("no temporary directory: {e}"),
        }
    }

    fn open(&self, place: &tempfile::TempDir) -> Arc<dyn Storage> {
        match SledStorage::open(place.path(), 16 << 20, true, Durability::Strict) {
            Ok(s) => Arc::new(s),
            Err(e) => panic!("sled does not open: {e}"),
        }
    }
}

/// PostgreSQL: one fresh database per store on the test server ([`crate::postgres`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Postgres;

impl Backend for Postgres {
    type Place = crate::postgres::Database;

    fn place(&self) -> crate::postgres::Database {
        crate::postgres::Database::new()
    }

    fn open(&self, place: &crate::postgres::Database) -> Arc<dyn Storage> {
        Arc::new(place.open())
    }
}

/// Runs every case of the suite as its own `#[test]` against a [`Backend`] expression.
#[macro_export]
macro_rules! storage_conformance {
    ($backend:expr) => {
        $crate::storage_conformance!(@cases $backend;
            a_new_store_is_empty,
            groups_read_back_as_written,
            projections_follow_the_groups,
            a_group_is_durable_once_committed,
            a_group_that_does_not_follow_the_log_is_refused_whole,
            a_group_that_does_not_follow_a_stream_is_refused_whole,
            a_number_held_by_another_stream_is_refused_whole,
            a_recorded_command_id_decided_unread_refuses_the_group,
            a_rebuild_in_place_writes_only_what_differs,
            a_rebuild_from_scratch_starts_empty,
            an_interrupted_rebuild_is_remembered,
            the_projection_layout_version_is_kept,
            the_directory_is_stored_whole,
            readers_see_every_committed_group_while_a_writer_appends,
            drills_change_what_they_name,
            the_same_groups_give_the_same_projections,
            the_access_log_reads_back_as_appended,
            files_are_kept_by_digest_once_and_read_in_ranges,
            a_split_commit_reads_back_and_is_durable_once_synced,
            shared_writers_learn_of_and_wait_for_each_other,
            the_outbox_claims_each_delivery_once_and_fences_stale_puts
        );
    };
    (@cases $backend:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::conformance::$case(&$backend);
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------
// The data: documents decided by the core, sealed and grouped as the engine does.

/// One command's worth of a document's history.
#[derive(Debug, Clone)]
struct Step {
    events: Vec<Recorded<FlowEvent>>,
    after: FlowState,
}

/// The sample document and three more, each taken a different distance along the sample
/// flow (archived, drafted, in countersign, issued).
fn stories() -> Vec<(DocumentId, Vec<Step>)> {
    let mut script = Script::new();
    let mut out = Vec::new();
    for (i, reach) in [
        steps::ARCHIVED,
        steps::DRAFTED,
        steps::COUNTERSIGNING,
        steps::ISSUED,
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            script.next_document();
        }
        let flow = script.sample.flow(&script.dir);
        let mut story = Vec::new();
        for (actor, action) in flow.into_iter().take(reach) {
            let events = match script.run(actor.as_str(), action) {
                Ok(events) => events,
                Err(e) => panic!("the sample flow is rejected at {actor}: {e}"),
            };
            story.push(Step {
                events: events
                    .into_iter()
                    .map(|e| Recorded {
                        actor: e.actor,
                        at: e.at,
                        data: FlowEvent::from(e.data),
                    })
                    .collect(),
                after: FlowState::from(script.doc().clone()),
            });
        }
        out.push((script.id, story));
    }
    out
}

/// Whether a recipient string names a unit of the fixture's directory.
fn is_unit(s: &str) -> bool {
    static UNITS: OnceLock<Vec<String>> = OnceLock::new();
    UNITS
        .get_or_init(|| {
            crate::directory()
                .units()
                .map(|u| u.code.as_str().to_owned())
                .collect()
        })
        .iter()
        .any(|u| u == s)
}

/// What the suite has committed: the log's end, each stream's version and record, and the
/// command records — the model every answer is compared with.
#[derive(Debug, Clone, Default)]
struct Model {
    end: u64,
    hash: String,
    versions: HashMap<DocumentId, u64>,
    records: BTreeMap<DocumentId, DocRecord>,
    commands: BTreeMap<String, CommandRecord>,
    numbers: BTreeMap<Series, BTreeMap<u32, DocumentId>>,
    log: Vec<(u64, DocumentId, u64, Vec<u8>)>,
    next_command: u64,
}

impl Model {
    fn new() -> Self {
        Model {
            hash: GENESIS_HASH.to_owned(),
            ..Model::default()
        }
    }

    /// The group for `steps` (one command each), and the model once it is committed.
    fn group(&self, steps: &[(DocumentId, &Step)]) -> (Group, Model) {
        let mut next = self.clone();
        let mut group = Group::default();
        let mut before: BTreeMap<DocumentId, Option<DocRecord>> = BTreeMap::new();
        for (id, step) in steps {
            before
                .entry(*id)
                .or_insert_with(|| self.records.get(id).cloned());
            next.next_command += 1;
            let command_id = format!("conformance-{}", next.next_command);
            let first = next.end + 1;
            for event in &step.events {
                let version = next.versions.get(id).copied().unwrap_or(0) + 1;
                let mut envelope = Envelope {
                    position: next.end + 1,
                    stream_id: *id,
                    kind: Some(event.data.kind()),
                    version,
                    event_id: Uuid::from_u128(u128::from(next.end + 1)),
                    command_id: command_id.clone(),
                    request_digest: None,
                    actor: event.actor.clone(),
                    recorded_at: event.at,
                    event_type: event.data.type_name().to_owned(),
                    schema_version: SCHEMA_VERSION,
                    payload: event.data.payload(),
                    prev_hash: next.hash.clone(),
                    hash: String::new(),
                };
                let bytes = envelope.seal();
                next.end += 1;
                next.hash = envelope.hash.clone();
                next.versions.insert(*id, version);
                next.log.push((next.end, *id, version, bytes.clone()));
                group.envelopes.push(LogEntry {
                    position: next.end,
                    stream_id: *id,
                    version,
                    hash: envelope.hash,
                    bytes,
                });
                if let Some((series, n)) = event.data.number_claim() {
                    group.numbers.push((series.clone(), n, *id));
                    next.numbers.entry(series).or_default().insert(n, *id);
                }
            }
            // The record as the engine folds it (`DocRecord::create`/`apply`: who started
            // and who acted, so that a backend that loses either fails here), with the
            // state the step ends in.
            let mut record = next.records.get(id).cloned();
            for event in &step.events {
                match record.as_mut() {
                    Some(r) => r.apply(event),
                    None => record = DocRecord::create(first, event),
                }
            }
            let Some(mut record) = record else {
                panic!("step of {id} starts no stream");
            };
            record.state = step.after.clone();
            next.records.insert(*id, record);
            let record = CommandRecord {
                document_id: *id,
                first_position: first,
                last_position: next.end,
                version: next.versions.get(id).copied().unwrap_or(0),
            };
            next.commands.insert(command_id.clone(), record.clone());
            group.commands.push((command_id, record));
        }
        for (id, was) in before {
            if let Some(record) = next.records.get(&id) {
                group.docs.push(DocChange {
                    record: record.clone(),
                    diff: index_diff(was.as_ref(), record, &is_unit),
                    stored: was.as_ref().map(PartsStored::of).unwrap_or_default(),
                });
            }
        }
        (group, next)
    }

    /// The projection part of the whole model as one group, as a rebuild replays it.
    fn projections(&self) -> Group {
        let mut group = Group::default();
        for record in self.records.values() {
            group.docs.push(DocChange {
                record: record.clone(),
                diff: index_diff(None, record, &is_unit),
                stored: PartsStored::default(),
            });
        }
        group.commands = self
            .commands
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (series, numbers) in &self.numbers {
            for (n, id) in numbers {
                group.numbers.push((series.clone(), *n, *id));
            }
        }
        group
    }

    fn head(&self) -> Option<LogHead> {
        (self.end > 0).then(|| LogHead {
            position: self.end,
            hash: self.hash.clone(),
        })
    }
}

/// Commits a group that must be accepted.
#[track_caller]
fn commit(store: &dyn Storage, group: &Group) {
    if let Err(e) = store.commit(group) {
        panic!("a group that follows the store was refused: {e:?}");
    }
}

/// Unwraps a storage answer, naming the call on failure.
#[track_caller]
fn ok<T>(what: &str, r: workflow_store::Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what} failed: {e}"),
    }
}

/// The usual history: every story's steps interleaved round-robin, one group per round
/// (so groups hold several streams), then committed. Returns the model.
fn commit_all(store: &dyn Storage, stories: &[(DocumentId, Vec<Step>)]) -> Model {
    let mut model = Model::new();
    for group in rounds(stories) {
        let (g, next) = model.group(&group);
        commit(store, &g);
        model = next;
    }
    model
}

/// The stories' steps, round-robin: round k holds the k-th step of every story that has one.
fn rounds(stories: &[(DocumentId, Vec<Step>)]) -> Vec<Vec<(DocumentId, &Step)>> {
    let longest = stories.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
    (0..longest)
        .map(|k| {
            stories
                .iter()
                .filter_map(|(id, steps)| steps.get(k).map(|s| (*id, s)))
                .collect()
        })
        .collect()
}

/// Pages through a scan with pages of two, checking each page stays in order.
fn all_pages(
    what: &str,
    mut scan: impl FnMut(Option<Cursor>, usize) -> workflow_store::Result<Vec<Cursor>>,
) -> Vec<Cursor> {
    let mut out: Vec<Cursor> = Vec::new();
    loop {
        let page = ok(what, scan(out.last().copied(), 2));
        assert!(page.len() <= 2, "{what}: a page is longer than its limit");
        let done = page.len() < 2;
        out.extend(page);
        if done {
            return out;
        }
        assert!(out.len() < 10_000, "{what}: paging does not end");
    }
}

/// Checks every projection the backend answers against the model.
#[track_caller]
fn assert_projections(store: &dyn Storage, model: &Model) {
    let mut lists: BTreeMap<Dim, Vec<Cursor>> = BTreeMap::new();
    let mut todos: BTreeMap<Assignee, Vec<Cursor>> = BTreeMap::new();
    let mut due: Vec<(Timestamp, Cursor)> = Vec::new();
    for record in model.records.values() {
        assert_eq!(
            ok("doc", store.doc(record.id())).as_ref(),
            Some(record),
            "the state record of {}",
            record.id()
        );
        for entry in index_keys(record, &is_unit) {
            match entry {
                IndexEntry::List(dim) => lists.entry(dim).or_default().push(record.order()),
                IndexEntry::Todo(a) => todos.entry(a).or_default().push(record.order()),
                IndexEntry::Due(at) => due.push((at, record.order())),
            }
        }
    }
    // Records by id, paged.
    let mut ids = Vec::new();
    loop {
        let page = ok("docs_after", store.docs_after(ids.last().copied(), 2));
        let done = page.len() < 2;
        ids.extend(page.iter().map(DocRecord::id));
        if done {
            break;
        }
    }
    assert_eq!(
        ids,
        model.records.keys().copied().collect::<Vec<_>>(),
        "docs_after pages every record once, by id"
    );
    // Lists, to-do entries and the deadline index, in cursor order.
    for (dim, mut expected) in lists.clone() {
        expected.sort();
        let got = all_pages("scan_list", |after, limit| {
            store.scan_list(&dim, after, limit)
        });
        assert_eq!(got, expected, "list {dim:?}");
        // The same list newest first, paged back from its end.
        let newest = all_pages("scan_list_newest", |before, limit| {
            store.scan_list_newest(&dim, before, limit)
        });
        expected.reverse();
        assert_eq!(newest, expected, "list {dim:?}, newest first");
    }
    assert!(
        model.records.is_empty()
            || (lists.keys().any(|d| matches!(d, Dim::StartedBy(_)))
                && lists.keys().any(|d| matches!(d, Dim::ActedBy(_)))),
        "the suite's data has lists by person"
    );
    let empty = Dim::State("Voided".into());
    assert!(
        !lists.contains_key(&empty),
        "the suite's data has no voided document"
    );
    assert_eq!(ok("scan_list", store.scan_list(&empty, None, 10)), vec![]);
    assert_eq!(
        ok("scan_list_newest", store.scan_list_newest(&empty, None, 10)),
        vec![]
    );
    for (assignee, mut expected) in todos {
        expected.sort();
        let got = all_pages("scan_todo", |after, limit| {
            store.scan_todo(&assignee, after, limit)
        });
        assert_eq!(got, expected, "to-do entries of {assignee}");
    }
    let nobody = Assignee::Role(Role::ArchiveOffice);
    assert_eq!(ok("scan_todo", store.scan_todo(&nobody, None, 10)), vec![]);
    due.sort();
    let far = chrono::DateTime::<chrono::Utc>::MAX_UTC;
    assert_eq!(
        ok("due_before", store.due_before(far)),
        due.iter().map(|(_, c)| c.id).collect::<Vec<_>>(),
        "due_before lists the deadline index, earliest first"
    );
    if let Some((first, _)) = due.first() {
        let strictly_before: Vec<DocumentId> = due
            .iter()
            .filter(|(at, _)| at < first)
            .map(|(_, c)| c.id)
            .collect();
        assert_eq!(
            ok("due_before", store.due_before(*first)),
            strictly_before,
            "due_before is strictly before its instant"
        );
    }
    let counts: BTreeMap<Dim, u64> = lists
        .iter()
        .map(|(d, v)| (d.clone(), v.len() as u64))
        .collect();
    assert_eq!(ok("count_lists", store.count_lists()), counts);
    // Command records, by id and paged.
    for (id, record) in &model.commands {
        assert_eq!(ok("command", store.command(id)).as_ref(), Some(record));
    }
    assert_eq!(ok("command", store.command("never-used")), None);
    let mut commands = Vec::new();
    loop {
        let after = commands
            .last()
            .map(|(k, _): &(String, CommandRecord)| k.clone());
        let page = ok("commands_after", store.commands_after(after.as_deref(), 3));
        let done = page.len() < 3;
        commands.extend(page);
        if done {
            break;
        }
    }
    assert_eq!(
        commands,
        model
            .commands
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>(),
        "commands_after pages every command record once, by id"
    );
    // Numbers: the highest of each series.
    for (series, numbers) in &model.numbers {
        let max = numbers.keys().copied().max().unwrap_or(0);
        assert_eq!(
            ok("max_number", store.max_number(series)),
            max,
            "{series:?}"
        );
    }
}

/// Checks the log the backend answers against the model.
#[track_caller]
fn assert_log(store: &dyn Storage, model: &Model) {
    assert_eq!(ok("log_end", store.log_end()), model.head(), "log_end");
    assert_eq!(
        ok("recorded_head", store.recorded_head()),
        model.head(),
        "the head recorded with the last commit"
    );
    let all = ok("read_log", store.read_log(1, usize::MAX));
    assert_eq!(
        all.iter()
            .map(|e| (e.position, e.bytes.clone()))
            .collect::<Vec<_>>(),
        model
            .log
            .iter()
            .map(|(p, _, _, b)| (*p, b.clone()))
            .collect::<Vec<_>>(),
        "the log reads back byte for byte, in position order"
    );
    // Windows: from any position, at most `limit`.
    for from in [1, 2, model.end / 2 + 1, model.end, model.end + 1] {
        let window = ok("read_log", store.read_log(from, 3));
        let expected: Vec<u64> = (from..=model.end).take(3).collect();
        assert_eq!(
            window.iter().map(|e| e.position).collect::<Vec<_>>(),
            expected,
            "read_log({from}, 3)"
        );
    }
    // Streams: by version, bounded by max_version.
    for (id, version) in &model.versions {
        let expected: Vec<(u64, Vec<u8>)> = model
            .log
            .iter()
            .filter(|(_, s, _, _)| s == id)
            .map(|(p, _, _, b)| (*p, b.clone()))
            .collect();
        let got = ok("read_stream", store.read_stream(*id, u64::MAX));
        assert_eq!(
            got.iter()
                .map(|e| (e.position, e.bytes.clone()))
                .collect::<Vec<_>>(),
            expected,
            "stream {id}"
        );
        assert_eq!(expected.len() as u64, *version);
        let half = version / 2;
        assert_eq!(
            ok("read_stream", store.read_stream(*id, half)).len() as u64,
            half,
            "read_stream stops at max_version"
        );
        let hashes = ok("stream_hashes", store.stream_hashes(*id));
        assert_eq!(hashes.len() as u64, *version);
    }
    assert!(
        ok(
            "read_stream",
            store.read_stream(DocumentId(Uuid::from_u128(u128::MAX)), 9)
        )
        .is_empty()
    );
    // The stream index, paged, in stream and version order.
    let mut index = Vec::new();
    loop {
        let after = index
            .last()
            .map(|(s, v, _): &(DocumentId, u64, u64)| (*s, *v));
        let page = ok("stream_index_after", store.stream_index_after(after, 4));
        let done = page.len() < 4;
        index.extend(page);
        if done {
            break;
        }
    }
    let mut expected: Vec<(DocumentId, u64, u64)> =
        model.log.iter().map(|(p, s, v, _)| (*s, *v, *p)).collect();
    expected.sort();
    assert_eq!(index, expected, "the stream index");
}

/// What a refused group must leave as it was.
fn snapshot(
    store: &dyn Storage,
) -> (
    Option<LogHead>,
    Vec<workflow_store::storage::ProjectionEntry>,
) {
    (
        ok("log_end", store.log_end()),
        ok("dump_projections", store.dump_projections()),
    )
}

#[track_caller]
fn assert_refused_whole(store: &dyn Storage, group: &Group, what: &str) {
    let before = snapshot(store);
    match store.commit(&group.clone()) {
        Err(CommitError::Conflict(reason)) => assert!(!reason.is_empty(), "{what}: no reason"),
        Err(other) => panic!("{what}: refused, but not as a conflict: {other:?}"),
        Ok(()) => panic!("{what}: the group was accepted"),
    }
    assert_eq!(
        snapshot(store),
        before,
        "{what}: the refused group changed the store"
    );
    for (id, _) in &group.commands {
        assert_eq!(
            ok("command", store.command(id)),
            None,
            "{what}: command {id} recorded"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The cases.

/// A new store holds nothing and reports so without error.
pub fn a_new_store_is_empty<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let store = &*store;
    assert_eq!(ok("log_end", store.log_end()), None);
    assert_eq!(ok("recorded_head", store.recorded_head()), None);
    assert!(ok("read_log", store.read_log(1, 10)).is_empty());
    assert!(ok("docs_after", store.docs_after(None, 10)).is_empty());
    assert!(ok("commands_after", store.commands_after(None, 10)).is_empty());
    assert!(ok("stream_index_after", store.stream_index_after(None, 10)).is_empty());
    assert!(ok("count_lists", store.count_lists()).is_empty());
    assert!(ok("scan_list", store.scan_list(&Dim::All, None, 10)).is_empty());
    assert!(ok("dump_projections", store.dump_projections()).is_empty());
    assert!(!ok("rebuilding", store.rebuilding()));
    if let Some(legacy) = store.legacy_directory() {
        assert!(ok("actors", legacy.actors()).is_empty());
        assert!(ok("units", legacy.units()).is_empty());
    }
    let series = Series::Document {
        prefix: "X校发".into(),
        year: 2026,
    };
    assert_eq!(ok("max_number", store.max_number(&series)), 0);
    assert_projections(store, &Model::new());
}

/// Every event reads back byte for byte: by position, by window, by stream and through
/// the stream index; the head is the last event's.
pub fn groups_read_back_as_written<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let model = commit_all(&*store, &stories());
    assert!(model.end > 20, "the suite's data is not trivial");
    assert_log(&*store, &model);
    assert!(ok("size_on_disk", store.size_on_disk()) > 0);
}

/// After every group, each projection (records, lists, to-do entries, deadlines, counts,
/// command records, numbers) answers what the model says.
pub fn projections_follow_the_groups<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let stories = stories();
    let mut model = Model::new();
    for round in rounds(&stories) {
        let (g, next) = model.group(&round);
        commit(&*store, &g);
        model = next;
        assert_projections(&*store, &model);
    }
    // The archived sample reached every list dimension the core has.
    let dims = ok("count_lists", store.count_lists());
    for want in [
        Dim::All,
        Dim::State("Archived".into()),
        Dim::State("Issued".into()),
    ] {
        assert!(dims.contains_key(&want), "no {want:?} list");
    }
    assert!(dims.keys().any(|d| matches!(d, Dim::Unit(_))));
    assert!(dims.keys().any(|d| matches!(d, Dim::Kind(_))));
    assert!(dims.keys().any(|d| matches!(d, Dim::Year(_))));
}

/// What `commit` acknowledged is there after the store is dropped and opened again.
pub fn a_group_is_durable_once_committed<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let model = commit_all(&*store, &stories());
    let before = ok("dump_projections", store.dump_projections());
    drop(store);
    let store = backend.open(&place);
    assert_log(&*store, &model);
    assert_projections(&*store, &model);
    assert_eq!(ok("dump_projections", store.dump_projections()), before);
}

/// A group whose first position is taken, or would leave a gap, is refused whole: nothing
/// of it is written, and the next right group is accepted.
pub fn a_group_that_does_not_follow_the_log_is_refused_whole<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let stories = stories();
    let rounds = rounds(&stories);
    let (first, model) = Model::new().group(&rounds[0]);
    commit(&*store, &first);
    // Decided by a writer that has not seen round 0: a new stream of its own (so that no
    // stream version is taken, only the positions), from position 1 again.
    let mut other_writer = Model::new();
    other_writer.next_command = 1000;
    let fresh = DocumentId(Uuid::from_u128(0xFEED));
    let (stale, _) = other_writer.group(&[(fresh, &stories[1].1[0])]);
    assert_refused_whole(&*store, &stale, "a group at taken positions");
    assert_eq!(ok("doc", store.doc(fresh)), None);
    assert!(ok("read_stream", store.read_stream(fresh, u64::MAX)).is_empty());
    // Positions past the end leave a gap.
    let mut gapped = model.clone();
    gapped.end += 1;
    let (gap, _) = gapped.group(&rounds[1]);
    assert_refused_whole(&*store, &gap, "a group leaving a gap");
    let (right, model) = model.group(&rounds[1]);
    commit(&*store, &right);
    assert_log(&*store, &model);
    assert_projections(&*store, &model);
}

/// A group whose event repeats a stream's version, or skips one, is refused whole.
pub fn a_group_that_does_not_follow_a_stream_is_refused_whole<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let stories = stories();
    let (id, steps) = &stories[0];
    let (g, model) = Model::new().group(&[(*id, &steps[0])]);
    commit(&*store, &g);
    // The same step again at the right position: version 1 of the stream is taken.
    let mut repeat = model.clone();
    repeat.versions.insert(*id, 0);
    let (g, _) = repeat.group(&[(*id, &steps[1])]);
    assert_refused_whole(&*store, &g, "a group repeating a version");
    // Skipping a version.
    let mut skip = model.clone();
    skip.versions.insert(*id, 5);
    let (g, _) = skip.group(&[(*id, &steps[1])]);
    assert_refused_whole(&*store, &g, "a group skipping a version");
    // A stream's first event must be version 1.
    let (other, other_steps) = &stories[1];
    let mut late = model.clone();
    late.versions.insert(*other, 3);
    let (g, _) = late.group(&[(*other, &other_steps[0])]);
    assert_refused_whole(&*store, &g, "a new stream not starting at version 1");
    let (g, model) = model.group(&[(*id, &steps[1])]);
    commit(&*store, &g);
    assert_log(&*store, &model);
}

/// A command id the writer took as new without reading it (`Group::unread_commands`)
/// refuses the whole group when it is recorded (a retry: the writer decides the group again
/// with the records read); ids not recorded do not.
pub fn a_recorded_command_id_decided_unread_refuses_the_group<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let stories = stories();
    let rounds = rounds(&stories);
    let (first, model) = Model::new().group(&rounds[0]);
    commit(&*store, &first);
    let recorded = match first.commands.first() {
        Some((id, _)) => id.clone(),
        None => panic!("the suite's first group records no command"),
    };
    let (mut next, after) = model.group(&rounds[1]);
    next.unread_commands = vec!["never-used".into(), recorded];
    assert_refused_whole(
        &*store,
        &next,
        "a group with a recorded command id it did not read",
    );
    next.unread_commands = vec!["never-used".into(), "nor-this".into()];
    commit(&*store, &next);
    assert_log(&*store, &after);
    assert_projections(&*store, &after);
}

/// A number another stream holds refuses the whole group; the holder drawing it again
/// (a replay of its own claim) does not.
pub fn a_number_held_by_another_stream_is_refused_whole<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let model = commit_all(&*store, &stories());
    let (series, numbers) = match model.numbers.iter().next() {
        Some(s) => s,
        None => panic!("the suite's data draws no number"),
    };
    let (n, holder) = match numbers.iter().next() {
        Some((n, id)) => (*n, *id),
        None => panic!("empty series"),
    };
    let other = model
        .records
        .keys()
        .copied()
        .find(|id| *id != holder)
        .unwrap_or_else(|| panic!("one document only"));
    let mut g = Group::default();
    g.numbers.push((series.clone(), n, other));
    assert_refused_whole(&*store, &g, "a number held by another stream");
    let mut g = Group::default();
    g.numbers.push((series.clone(), n, holder));
    commit(&*store, &g);
    assert_eq!(
        ok("max_number", store.max_number(series)),
        numbers.keys().copied().max().unwrap_or(0)
    );
    assert_projections(&*store, &model);
}

/// A rebuild in place over intact projections writes nothing and removes nothing; over
/// damaged ones it repairs exactly the damage and removes what no replay produced.
pub fn a_rebuild_in_place_writes_only_what_differs<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let model = commit_all(&*store, &stories());
    let intact = ok("dump_projections", store.dump_projections());

    ok("begin_rebuild", store.begin_rebuild(RebuildMode::InPlace));
    assert!(ok("rebuilding", store.rebuilding()));
    assert_eq!(ok("converge", store.converge(model.projections())), 0);
    assert_eq!(ok("end_rebuild", store.end_rebuild(7)), 0);
    assert!(!ok("rebuilding", store.rebuilding()));
    assert_eq!(ok("projection_version", store.projection_version()), 7);
    assert_eq!(ok("dump_projections", store.dump_projections()), intact);

    // Damage: one entry changed, one removed, one added that no replay produces.
    let (part, key, value) = intact[0].clone();
    let mut changed = value.clone();
    changed.push(b' ');
    ok(
        "raw_put_projection",
        store.raw_put_projection(&part, &key, Some(&changed)),
    );
    let (gone_part, gone_key, _) = intact[intact.len() - 1].clone();
    ok(
        "raw_put_projection",
        store.raw_put_projection(&gone_part, &gone_key, None),
    );
    let mut stray = key.clone();
    stray.extend_from_slice(b"stray");
    ok(
        "raw_put_projection",
        store.raw_put_projection(&part, &stray, Some(b"x")),
    );
    assert_ne!(ok("dump_projections", store.dump_projections()), intact);

    ok("begin_rebuild", store.begin_rebuild(RebuildMode::InPlace));
    let wrote = ok("converge", store.converge(model.projections()));
    let removed = ok("end_rebuild", store.end_rebuild(7));
    assert_eq!(
        wrote, 2,
        "the changed and the removed entry are written again"
    );
    assert_eq!(removed, 1, "the stray entry is removed");
    assert_eq!(ok("dump_projections", store.dump_projections()), intact);
    assert_projections(&*store, &model);
    assert_log(&*store, &model);
}

/// A rebuild from scratch drops every projection first (the log stays), then holds exactly
/// what it converged.
pub fn a_rebuild_from_scratch_starts_empty<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let model = commit_all(&*store, &stories());
    let intact = ok("dump_projections", store.dump_projections());
    ok(
        "begin_rebuild",
        store.begin_rebuild(RebuildMode::FromScratch),
    );
    assert!(ok("dump_projections", store.dump_projections()).is_empty());
    assert!(ok("docs_after", store.docs_after(None, 10)).is_empty());
    assert_log(&*store, &model);
    let wrote = ok("converge", store.converge(model.projections()));
    assert_eq!(wrote as usize, intact.len(), "every entry is written once");
    assert_eq!(ok("end_rebuild", store.end_rebuild(3)), 0);
    assert_eq!(ok("dump_projections", store.dump_projections()), intact);
    assert_projections(&*store, &model);
}

/// A rebuild that was begun and not ended is still marked after the store is reopened (so
/// that it is finished before projections are served).
pub fn an_interrupted_rebuild_is_remembered<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let model = commit_all(&*store, &stories());
    ok("begin_rebuild", store.begin_rebuild(RebuildMode::InPlace));
    drop(store);
    let store = backend.open(&place);
    assert!(
        ok("rebuilding", store.rebuilding()),
        "the mark survives a restart"
    );
    ok("begin_rebuild", store.begin_rebuild(RebuildMode::InPlace));
    ok("converge", store.converge(model.projections()));
    ok("end_rebuild", store.end_rebuild(1));
    assert!(!ok("rebuilding", store.rebuilding()));
    // The drill's mark, too.
    ok("raw_mark_rebuilding", store.raw_mark_rebuilding());
    drop(store);
    let store = backend.open(&place);
    assert!(ok("rebuilding", store.rebuilding()));
}

/// The projections' layout version reads back after a restart.
pub fn the_projection_layout_version_is_kept<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    ok("set_projection_version", store.set_projection_version(42));
    assert_eq!(ok("projection_version", store.projection_version()), 42);
    drop(store);
    let store = backend.open(&place);
    assert_eq!(ok("projection_version", store.projection_version()), 42);
}

/// Where a backend keeps a directory beside the log (an early build's store, or a copy of
/// one), units and actors are stored together and durably; putting them again replaces by
/// code and id, and adds the new ones. A backend without one has nothing to show.
pub fn the_directory_is_stored_whole<B: Backend>(backend: &B) {
    let place = backend.place();
    let opened = backend.open(&place);
    let Some(store) = opened.legacy_directory() else {
        return;
    };
    let dir = crate::directory();
    let units: Vec<Unit> = dir.units().cloned().collect();
    let actors: Vec<Actor> = dir.actors().cloned().collect();
    ok("put_directory", store.put_directory(&units, &actors));
    let by_code = |mut v: Vec<Unit>| {
        v.sort_by(|a, b| a.code.cmp(&b.code));
        v
    };
    let by_id = |mut v: Vec<Actor>| {
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    };
    assert_eq!(by_code(ok("units", store.units())), by_code(units.clone()));
    assert_eq!(by_id(ok("actors", store.actors())), by_id(actors.clone()));
    // Replace one actor, add one.
    let mut changed = actors[0].clone();
    changed.clearance = Classification::TopSecret;
    let added = Actor {
        reach: Vec::new(),
        id: "new.person".into(),
        name: "新人".into(),
        unit: units[0].code.clone(),
        roles: [Role::Drafter].into_iter().collect(),
        clearance: Classification::None,
    };
    ok(
        "put_directory",
        store.put_directory(&[], &[changed.clone(), added.clone()]),
    );
    drop(opened);
    let opened = backend.open(&place);
    let Some(store) = opened.legacy_directory() else {
        panic!("the backend no longer keeps the directory it kept");
    };
    let mut expected = actors.clone();
    expected[0] = changed;
    expected.push(added);
    assert_eq!(by_id(ok("actors", store.actors())), by_id(expected));
    assert_eq!(by_code(ok("units", store.units())), by_code(units));
}

/// While one thread commits groups, readers on others always find every event up to the
/// last acknowledged commit, contiguous from position 1, each stream complete to its
/// acknowledged version.
pub fn readers_see_every_committed_group_while_a_writer_appends<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let stories = stories();
    let acknowledged = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let groups: Vec<(Group, Model)> = {
        let mut model = Model::new();
        rounds(&stories)
            .into_iter()
            .map(|r| {
                let (g, next) = model.group(&r);
                model = next.clone();
                (g, next)
            })
            .collect()
    };
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut checks = 0u32;
                    while !done.load(Ordering::Acquire) || checks == 0 {
                        let end = acknowledged.load(Ordering::Acquire);
                        let log = ok("read_log", store.read_log(1, end as usize));
                        let positions: Vec<u64> = log.iter().map(|e| e.position).collect();
                        assert_eq!(
                            positions,
                            (1..=end).collect::<Vec<_>>(),
                            "a gap below {end}"
                        );
                        let stored = ok("log_end", store.log_end()).map_or(0, |h| h.position);
                        assert!(
                            stored >= end,
                            "log_end {stored} is behind an acknowledged {end}"
                        );
                        checks += 1;
                    }
                    checks
                })
            })
            .collect();
        for (g, model) in &groups {
            commit(&*store, g);
            acknowledged.store(model.end, Ordering::Release);
        }
        done.store(true, Ordering::Release);
        for r in readers {
            match r.join() {
                Ok(checks) => assert!(checks > 0),
                Err(_) => panic!("a reader failed"),
            }
        }
    });
    if let Some((_, model)) = groups.last() {
        assert_log(&*store, model);
    }
}

/// The tamper drills change the one thing they name, so that verify has something to find.
pub fn drills_change_what_they_name<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let model = commit_all(&*store, &stories());
    let projections = ok("dump_projections", store.dump_projections());
    let mut tampered = model.log[2].3.clone();
    tampered.extend_from_slice(b" ");
    ok("raw_put_log", store.raw_put_log(3, &tampered));
    let at3 = ok("read_log", store.read_log(3, 1));
    assert_eq!(at3.first().map(|e| e.bytes.clone()), Some(tampered));
    assert_eq!(
        ok("read_log", store.read_log(1, 2)).len(),
        2,
        "its neighbours are as they were"
    );
    ok("raw_remove_log", store.raw_remove_log(5));
    let positions: Vec<u64> = ok("read_log", store.read_log(4, 3))
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(
        positions,
        vec![4, 6, 7],
        "the removed position reads as missing"
    );
    ok(
        "raw_set_recorded_head",
        store.raw_set_recorded_head(2, "ab"),
    );
    assert_eq!(
        ok("recorded_head", store.recorded_head()),
        Some(LogHead {
            position: 2,
            hash: "ab".into()
        })
    );
    assert_eq!(
        ok("log_end", store.log_end()),
        model.head(),
        "the log's own end is unchanged"
    );
    assert_eq!(
        ok("dump_projections", store.dump_projections()),
        projections
    );
}

/// Two stores given the same groups hold the same projections, entry for entry (rebuild
/// and verify compare builds this way).
pub fn the_same_groups_give_the_same_projections<B: Backend>(backend: &B) {
    let stories = stories();
    let (a, b) = (backend.place(), backend.place());
    let (sa, sb) = (backend.open(&a), backend.open(&b));
    let ma = commit_all(&*sa, &stories);
    let mb = commit_all(&*sb, &stories);
    assert_eq!(ma.hash, mb.hash, "the same events hash the same");
    assert_eq!(
        ok("dump_projections", sa.dump_projections()),
        ok("dump_projections", sb.dump_projections())
    );
    assert_eq!(ok("log_end", sa.log_end()), ok("log_end", sb.log_end()));
    // In the terms any two backends share too (`workflow copy` compares stores so), which
    // hold every stream's whole record.
    let comparable = ok("comparable_projections", sa.comparable_projections());
    assert_eq!(
        comparable,
        ok("comparable_projections", sb.comparable_projections())
    );
    let records = comparable
        .iter()
        .filter(|(part, _, _)| part == "docs")
        .count();
    assert_eq!(records, stories.len(), "one whole record per stream");
}

/// Waits (up to half a minute) until `done` holds: for what another thread or process does
/// at its own pace. Never a measure of speed.
#[track_caller]
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        if std::time::Instant::now() > give_up {
            panic!("{what}: not after 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Files are kept under their digest, durably (across a reopen), once (the same digest
/// again keeps nothing more), never from a spool that does not hold the size given; they
/// read back in ranges across chunk boundaries, are listed, and removed.
pub fn files_are_kept_by_digest_once_and_read_in_ranges<B: Backend>(backend: &B) {
    use workflow_core::{ActorId, content::Digest};
    let place = backend.place();
    let store = backend.open(&place);
    assert_eq!(ok("list_contents", store.list_contents()), Vec::new());
    // A file of three and a half chunks of 1 MiB, with bytes that tell their offset.
    let bytes: Vec<u8> = (0..3_500_000u32).map(|i| (i % 251) as u8).collect();
    let digest = |hex: &str| match Digest::parse(&hex.repeat(32)) {
        Some(d) => d,
        None => panic!("{hex} is no digest"),
    };
    let (digest, other) = (digest("ab"), digest("cd"));
    let spool = |bytes: &[u8]| {
        let dir = store.spool_dir();
        let path = dir.join(format!("{}.part", uuid::Uuid::new_v4()));
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, bytes)) {
            panic!("cannot spool a file: {e}");
        }
        path
    };
    let (he, wang) = (ActorId::from("he.ping"), ActorId::from("wang.fang"));
    let first = spool(&bytes);
    ok(
        "keep_content",
        store.keep_content(&digest, &first, bytes.len() as u64, Some(&he)),
    );
    assert!(!first.exists(), "the spool file was moved or removed");
    // The same digest again keeps nothing more (and leaves the first bytes), but records
    // its second uploader; a copy between stores names none.
    let again = spool(b"other bytes");
    ok(
        "keep_content",
        store.keep_content(&digest, &again, 11, Some(&wang)),
    );
    assert!(!again.exists());
    let copied = spool(b"copied");
    ok(
        "keep_content",
        store.keep_content(&digest, &copied, 6, None),
    );
    // A spool that does not hold the size given is refused, and nothing is kept.
    let short = spool(b"short");
    assert!(store.keep_content(&other, &short, 99, Some(&he)).is_err());
    assert!(ok("uploaded", store.uploaded_file(&other, &he)).is_none());
    let _ = std::fs::remove_file(&short);
    assert_eq!(ok("content_size", store.content_size(&other)), None);
    drop(store);
    let store = backend.open(&place);
    assert_eq!(
        ok("content_size", store.content_size(&digest)),
        Some(bytes.len() as u64)
    );
    // Who uploaded it is as durable as the file.
    let kept = workflow_core::content::KeptFile {
        size: bytes.len() as u64,
        head: bytes[..8].to_vec(),
    };
    assert_eq!(
        ok("uploaded", store.uploaded_file(&digest, &he)),
        Some(kept.clone())
    );
    assert_eq!(
        ok("uploaded", store.uploaded_file(&digest, &wang)),
        Some(kept)
    );
    assert!(
        ok(
            "uploaded",
            store.uploaded_file(&digest, &ActorId::from("lin.feng"))
        )
        .is_none()
    );
    for (offset, len) in [
        (0u64, 10usize),
        (1_048_570, 20),
        (3_499_990, 100),
        (0, 3_500_000),
    ] {
        let end = (offset as usize + len).min(bytes.len());
        assert_eq!(
            ok("read_content", store.read_content(&digest, offset, len)),
            bytes[offset as usize..end].to_vec(),
            "bytes {offset}..+{len}"
        );
    }
    assert!(
        store.read_content(&other, 0, 1).is_err(),
        "a file never kept"
    );
    let listed = ok("list_contents", store.list_contents());
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].digest.clone(), listed[0].size),
        (digest.clone(), 3_500_000)
    );
    ok("remove_content", store.remove_content(&digest));
    ok("remove_content", store.remove_content(&digest));
    assert_eq!(ok("content_size", store.content_size(&digest)), None);
    assert!(ok("uploaded", store.uploaded_file(&digest, &he)).is_none());
    assert_eq!(ok("list_contents", store.list_contents()), Vec::new());
}

/// The access log reads back as appended, with its recorded head, before and after the
/// store is opened again; entries that do not follow its end are refused; it is apart from
/// the event log; its drills change what they name.
pub fn the_access_log_reads_back_as_appended<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    assert_eq!(ok("access_end", store.access_end()), None);
    assert_eq!(
        ok("access_recorded_head", store.access_recorded_head()),
        None
    );
    let entry = |position: u64| StoredEvent {
        position,
        bytes: format!("{{\"read\":{position}}}").into_bytes(),
    };
    let head = |position: u64| LogHead {
        position,
        hash: format!("{position:064x}"),
    };
    ok(
        "append_access",
        store.append_access(&[entry(1), entry(2)], &head(2)),
    );
    ok("append_access", store.append_access(&[entry(3)], &head(3)));
    assert!(
        store.append_access(&[entry(5)], &head(5)).is_err(),
        "an entry past the access log's end was taken"
    );
    drop(store);
    let store = backend.open(&place);
    assert_eq!(
        ok("read_access", store.read_access(1, 10)),
        vec![entry(1), entry(2), entry(3)]
    );
    assert_eq!(ok("read_access", store.read_access(2, 1)), vec![entry(2)]);
    assert_eq!(ok("access_end", store.access_end()), Some(entry(3)));
    assert_eq!(
        ok("access_recorded_head", store.access_recorded_head()),
        Some(head(3))
    );
    assert_eq!(
        ok("log_end", store.log_end()),
        None,
        "the event log is apart"
    );
    ok("raw_put_access", store.raw_put_access(2, b"changed"));
    ok("raw_remove_access", store.raw_remove_access(3));
    assert_eq!(
        ok("read_access", store.read_access(1, 10)),
        vec![
            entry(1),
            StoredEvent {
                position: 2,
                bytes: b"changed".to_vec()
            }
        ]
    );
}

/// The notification outbox: a channel is held by one holder until its lease ends (another
/// is refused meanwhile, takes it after, and the first one's settlements then write
/// nothing), a settlement moves the channel and keeps its failures at once, kept
/// deliveries are claimed when due and then not again until their lease ends, a put fenced
/// by a lease another took writes nothing, a delivered one leaves the queue, and lists,
/// counts and memos read back — across a reopen.
pub fn the_outbox_claims_each_delivery_once_and_fences_stale_puts<B: Backend>(backend: &B) {
    use workflow_store::notify::{Delivery, DeliveryState};
    let place = backend.place();
    let store = backend.open(&place);
    let delivery = |n: u64, channel: &str, next_at: i64| Delivery {
        id: format!("{n:032x}"),
        notice_id: format!("notice-{n}"),
        position: n,
        channel: channel.to_owned(),
        address: String::new(),
        kind: workflow_core::notice::NoticeKind::Todo,
        recipient: "li.qiang".into(),
        document_id: DocumentId(uuid::Uuid::from_u128(u128::from(n))),
        subject: "【待办】".into(),
        text: format!("第{n}件"),
        url: String::new(),
        due_on: None,
        data: serde_json::Value::Null,
        created_at: 0,
        state: DeliveryState::Pending,
        attempts: 0,
        next_at,
        last_error: None,
        delivered_at: None,
    };
    use workflow_store::storage::Settlement;
    assert!(ok("outbox_channels", store.outbox_channels()).is_empty());
    let held = ok("outbox_hold", store.outbox_hold("hook", "a", 50, 1000, 0))
        .unwrap_or_else(|| panic!("a channel no one holds is taken"));
    assert_eq!((held.through, held.holder.as_str()), (0, "a"));
    assert_eq!(
        ok("outbox_hold", store.outbox_hold("hook", "b", 500, 1500, 99)),
        None,
        "another holder is refused while the lease runs"
    );
    assert!(
        ok("outbox_hold", store.outbox_hold("hook", "a", 500, 1000, 99)).is_some(),
        "its holder keeps it"
    );
    let settle = |channel: &str, holder: &str, expected, through, failures: &[Delivery]| {
        ok(
            "outbox_settle",
            store.outbox_settle(
                channel,
                holder,
                &Settlement {
                    expected,
                    through,
                    delivered: 5,
                    failures,
                    now: 60,
                    lease_until: 1000,
                },
            ),
        )
    };
    assert!(!settle("hook", "b", 0, 10, &[]), "not its holder");
    assert!(!settle("hook", "a", 3, 10, &[]), "not where it stands");
    let window = [
        delivery(1, "hook", 100),
        delivery(2, "hook", 100),
        delivery(4, "hook", 500),
    ];
    assert!(settle("hook", "a", 0, 10, &window));
    assert!(!settle("hook", "a", 0, 10, &[delivery(9, "hook", 0)]));
    assert_eq!(
        ok("outbox_get", store.outbox_get(&delivery(9, "hook", 0).id)),
        None,
        "a refused settlement keeps nothing"
    );
    ok("outbox_hold", store.outbox_hold("mail", "a", 50, 1000, 0));
    assert!(settle("mail", "a", 0, 10, &[delivery(3, "mail", 100)]));
    let mut changed = delivery(3, "mail", 100);
    changed.attempts = 7;
    assert!(settle("mail", "a", 10, 11, &[changed]));
    assert_eq!(
        ok("outbox_get", store.outbox_get(&delivery(3, "mail", 100).id)).map(|d| d.attempts),
        Some(0),
        "a delivery kept already stays as it stands"
    );
    // After the lease: another takes the channel where it stands; the first writes nothing.
    let taken = ok(
        "outbox_hold",
        store.outbox_hold("hook", "b", 1000, 2000, 99),
    )
    .unwrap_or_else(|| panic!("taken once the lease ended"));
    assert_eq!((taken.through, taken.delivered), (10, 5));
    assert!(!settle("hook", "a", 10, 12, &[]));
    ok("outbox_release", store.outbox_release("hook", "a"));
    assert_eq!(
        ok(
            "outbox_hold",
            store.outbox_hold("hook", "a", 1100, 2000, 99)
        ),
        None,
        "a release by one not holding it lets nothing go"
    );
    ok("outbox_release", store.outbox_release("hook", "b"));
    assert!(
        ok(
            "outbox_hold",
            store.outbox_hold("hook", "a", 1100, 2000, 99)
        )
        .is_some(),
        "released: taken at once"
    );
    drop(store);
    let store = backend.open(&place);
    let channels = ok("outbox_channels", store.outbox_channels());
    // (Who holds them after a reopen is the backend's: a sled store, held by one process,
    // lets go of what a process before it held.)
    let places: Vec<(&str, u64, u64)> = channels
        .iter()
        .map(|c| (c.channel.as_str(), c.through, c.delivered))
        .collect();
    assert_eq!(places, [("hook", 10, 5), ("mail", 11, 10)]);

    // Due at 100: the hook's two, not the mail's, not the one due at 500.
    let claimed = ok("outbox_claim", store.outbox_claim("hook", 100, 1000, 10));
    let ids: Vec<u64> = claimed.iter().map(|d| d.position).collect();
    assert_eq!(ids, [1, 2]);
    assert!(
        claimed.iter().all(|d| d.next_at == 1000),
        "leased until 1000"
    );
    assert!(
        ok("outbox_claim", store.outbox_claim("hook", 400, 2000, 10)).is_empty(),
        "leased ones are not claimed again before their lease ends"
    );
    // The first delivered under its lease; a put fenced by a lease no longer held writes
    // nothing.
    let mut first = claimed[0].clone();
    first.state = DeliveryState::Delivered;
    first.attempts = 1;
    assert!(ok("outbox_put", store.outbox_put(&first, Some(1000))));
    let mut stale = claimed[0].clone();
    stale.attempts = 1;
    stale.next_at = 5000;
    assert!(!ok("outbox_put", store.outbox_put(&stale, Some(1000))));
    assert_eq!(
        ok("outbox_get", store.outbox_get(&first.id)).map(|d| d.state),
        Some(DeliveryState::Delivered)
    );
    // After the lease: the second (undelivered) and the one due at 500, never the first.
    let again = ok("outbox_claim", store.outbox_claim("hook", 1000, 3000, 10));
    let ids: std::collections::BTreeSet<u64> = again.iter().map(|d| d.position).collect();
    assert_eq!(ids, [2, 4].into());
    let mut dead = again
        .iter()
        .find(|d| d.position == 2)
        .unwrap_or_else(|| panic!("{again:?}"))
        .clone();
    dead.state = DeliveryState::Dead;
    dead.last_error = Some("HTTP 503".into());
    assert!(ok("outbox_put", store.outbox_put(&dead, Some(3000))));
    drop(store);
    let store = backend.open(&place);
    let listed = |state| -> Vec<u64> {
        ok("outbox_list", store.outbox_list(state, 0, 10))
            .iter()
            .map(|d| d.position)
            .collect()
    };
    assert_eq!(listed(None), [1, 2, 3, 4]);
    assert_eq!(listed(Some(DeliveryState::Dead)), [2]);
    assert_eq!(listed(Some(DeliveryState::Delivered)), [1]);
    assert_eq!(
        ok("outbox_list", store.outbox_list(None, 3, 1)).len(),
        1,
        "from a position, at most the limit"
    );
    let counts = ok("outbox_counts", store.outbox_counts());
    assert_eq!(counts.get(&DeliveryState::Pending), Some(&2));
    assert_eq!(counts.get(&DeliveryState::Delivered), Some(&1));
    assert_eq!(counts.get(&DeliveryState::Dead), Some(&1));
    // An operator's retry (unfenced) puts the dead one back in the queue.
    let mut retried = dead.clone();
    retried.state = DeliveryState::Pending;
    retried.attempts = 0;
    retried.next_at = 3000;
    assert!(ok("outbox_put", store.outbox_put(&retried, None)));
    let claimed = ok("outbox_claim", store.outbox_claim("hook", 3000, 4000, 10));
    assert!(claimed.iter().any(|d| d.position == 2), "{claimed:?}");
    assert!(ok("outbox_claim", store.outbox_claim("mail", 100, 200, 10)).len() == 1);
    assert_eq!(ok("outbox_memo", store.outbox_memo("k")), None);
    ok(
        "outbox_set_memo",
        store.outbox_set_memo("k", "open 3 task-1"),
    );
    assert_eq!(
        ok("outbox_memo", store.outbox_memo("k")).as_deref(),
        Some("open 3 task-1")
    );
}

/// A backend that splits its commit (write now, make durable later) shows a written group
/// at once, and keeps it once synced; `flush` makes everything written durable. A backend
/// that does not commits each group whole, as the other cases show.
pub fn a_split_commit_reads_back_and_is_durable_once_synced<B: Backend>(backend: &B) {
    let place = backend.place();
    let store = backend.open(&place);
    let stories = stories();
    let mut model = Model::new();
    for group in rounds(&stories) {
        let (g, next) = model.group(&group);
        match store.split_commit() {
            Some(split) => {
                if let Err(e) = split.write_group(&g) {
                    panic!("a group that follows the store was refused: {e:?}");
                }
            }
            None => commit(&*store, &g),
        }
        model = next;
        // Written, even if not yet synced: readers see it.
        assert_eq!(ok("log_end", store.log_end()), model.head());
    }
    if let Some(split) = store.split_commit()
        && let Err(e) = split.sync_written(false)
    {
        panic!("sync_written failed: {e:?}");
    }
    ok("flush", store.flush());
    assert_log(&*store, &model);
    assert_projections(&*store, &model);
    drop(store);
    let store = backend.open(&place);
    assert_log(&*store, &model);
    assert_projections(&*store, &model);
}

/// A backend several processes may write (`shared_writers`) tells each handle of the
/// others' commits, and a handle holding commits off keeps another's commit waiting until
/// it lets go. A backend with one writer says so and has nothing more to show.
pub fn shared_writers_learn_of_and_wait_for_each_other<B: Backend>(backend: &B) {
    let place = backend.place();
    let a = backend.open(&place);
    let Some(writers) = a.shared_writers() else {
        return;
    };
    let b = backend.open(&place);
    let told = Arc::new(AtomicBool::new(false));
    writers.watch_foreign_commits(Some(Arc::new({
        let told = told.clone();
        move |_end: u64| told.store(true, Ordering::SeqCst)
    })));
    let stories = stories();
    let rounds = rounds(&stories);
    let (first, model) = Model::new().group(&rounds[0]);
    commit(&*b, &first);
    wait_until("a learns of b's commit", || told.load(Ordering::SeqCst));

    ok("hold_commits", writers.hold_commits());
    let (second, model) = model.group(&rounds[1]);
    let done = Arc::new(AtomicBool::new(false));
    let committing = std::thread::spawn({
        let (b, done) = (b.clone(), done.clone());
        move || {
            commit(&*b, &second);
            done.store(true, Ordering::SeqCst);
        }
    });
    // However long this waits, b must not commit while a holds commits off.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !done.load(Ordering::SeqCst),
        "b committed while a held commits off"
    );
    writers.release_commits();
    if committing.join().is_err() {
        panic!("b's commit failed after a let go");
    }
    assert_eq!(ok("log_end", a.log_end()), model.head());
    writers.watch_foreign_commits(None);
}
