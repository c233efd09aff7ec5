//! An engine on a temporary directory with the fixture's directory loaded, a clock that
//! moves one minute per reading, and the sample flow as requests.

use std::path::Path;

use uuid::Uuid;
use workflow_core::{ActorId, DocumentId, FlowAction};
use workflow_store::{Config, Engine, Outcome, Request};

pub use crate::clock::{at, start_of_term, stepping_clock};

use crate::{CAMPUS, full_flow};

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
