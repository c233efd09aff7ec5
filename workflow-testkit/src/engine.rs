//! An engine on a temporary directory with the fixture's directory loaded, a clock that
//! moves one minute per reading, and the sample flow as requests.

use std::path::Path;

use uuid::Uuid;
use workflow_core::{ActorId, DocumentId, FlowAction};
use workflow_store::{Config, Engine, Outcome, Request};

pub use crate::clock::{at, start_of_term, stepping_clock};

use crate::{CAMPUS, full_flow};

/// Uploads `bytes` as `actor` under `name`, as a client does: kept, with `actor` as one
/// who uploaded it (so that their commands may name it).
pub fn upload(
    engine: &Engine,
    actor: &str,
    name: &str,
    bytes: &[u8],
) -> workflow_core::content::FileRef {
    let by = engine
        .reader("test", actor)
        .unwrap_or_else(|e| panic!("{actor} reads: {e}"));
    let mut up = engine
        .upload(&by, name)
        .unwrap_or_else(|e| panic!("uploading {name}: {e}"));
    up.write(bytes)
        .unwrap_or_else(|e| panic!("uploading {name}: {e}"));
    up.finish(None)
        .unwrap_or_else(|e| panic!("uploading {name}: {e}"))
}

/// The sample flow ([`full_flow`]) with the fixture's PDF ([`crate::SAMPLE_FILE`]),
/// uploaded by the drafter, as the draft's 正文; and that file.
pub fn flow_with_text(
    engine: &Engine,
) -> (
    Vec<(ActorId, workflow_core::outgoing::Action)>,
    workflow_core::content::FileRef,
) {
    let mut flow = full_flow();
    let text = upload(
        engine,
        flow[0].0.as_str(),
        crate::SAMPLE_FILE_NAME,
        crate::SAMPLE_FILE,
    );
    if let workflow_core::outgoing::Action::Draft(fields) = &mut flow[0].1 {
        fields.files.main = Some(Box::new(text.clone()));
    }
    (flow, text)
}

/// A new random document id.
pub fn new_id() -> DocumentId {
    DocumentId(Uuid::new_v4())
}

/// Opens (creating) an engine in `path` with the stepping clock and the fixture loaded.
pub async fn open(path: &Path) -> Engine {
    open_with(Config::new(path)).await
}

/// As [`open`], with the stepping clock set on `config`.
pub async fn open_with(config: Config) -> Engine {
    open_on_its_clock(Config {
        clock: stepping_clock(),
        ..config
    })
    .await
}

/// As [`open_with`], keeping the clock `config` has (one of [`crate::clock`]'s).
pub async fn open_on_its_clock(config: Config) -> Engine {
    let engine = match Engine::open_with(config) {
        Ok(e) => e,
        Err(e) => panic!("the engine does not open: {e}"),
    };
    if engine.units().is_empty()
        && let Err(e) = engine
            .load_directory_json(CAMPUS, "test", "the campus fixture")
            .await
    {
        panic!("the fixture does not load: {e}");
    }
    engine
}

/// Runs a command that must succeed.
pub async fn run(
    engine: &Engine,
    id: DocumentId,
    actor: impl Into<ActorId>,
    action: impl Into<FlowAction>,
) -> Outcome {
    let actor: ActorId = actor.into();
    let action: FlowAction = action.into();
    let name = action.name();
    match engine
        .execute(Request::new(id, actor.clone(), action))
        .await
    {
        Ok(o) => o,
        Err(e) => panic!("{actor} {name}: {e}"),
    }
}

/// Drives a new document through the first `steps` steps of the sample flow (see
/// [`crate::steps`]).
pub async fn drive(engine: &Engine, steps: usize) -> DocumentId {
    let id = new_id();
    drive_on(engine, id, 0, steps).await;
    id
}

/// Takes document `id` through the sample flow's steps `from..to`.
pub async fn drive_on(engine: &Engine, id: DocumentId, from: usize, to: usize) {
    for (actor, action) in full_flow().into_iter().take(to).skip(from) {
        run(engine, id, actor, action).await;
    }
}

/// Who has stream `id` in their 待办, and who may give it one of `actions` (the engine's
/// dry run accepts it), over every actor of the fixture's directory, each list by actor id:
/// the two are to be the same in every state (a to-do holds exactly who may act).
pub fn todo_holders_and_who_may_act(
    engine: &Engine,
    id: DocumentId,
    actions: &[FlowAction],
) -> (Vec<String>, Vec<String>) {
    let mut holders = Vec::new();
    let mut may_act = Vec::new();
    for actor in crate::directory().actors() {
        let page = match engine.inbox(&actor.id, &workflow_store::ListQuery::default()) {
            Ok(p) => p,
            Err(e) => panic!("{}'s 待办: {e}", actor.id),
        };
        let listed = page.states.iter().any(|s| s.id() == id);
        if listed {
            holders.push(actor.id.to_string());
        }
        if actions.iter().any(|a| {
            engine
                .check(&Request::new(id, actor.id.clone(), a.clone()))
                .is_ok()
        }) {
            may_act.push(actor.id.to_string());
        }
    }
    (holders, may_act)
}
