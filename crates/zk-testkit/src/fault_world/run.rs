//! Running a scenario: a fresh fake ensemble and runtime with paused time, the clients, the
//! chaos events, the periodic checker, and the checks once the scripts are over.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::sleep;
use zk_core::Coordinator;
use zk_fake::FakeEnsemble;

use super::chaos::strike;
use super::client::client;
use super::recipe::Contended;
use super::scenario::Scenario;
use super::world::World;
use super::{CHECK_EVERY, SETTLE};

/// Runs `scenario` against `recipe` in a fresh current-thread runtime with paused time, on a
/// fresh [`FakeEnsemble`], checking the invariants of the [module docs](super) as it goes.
///
/// # Errors
/// A report of every violation (the first twenty), with the recipe, the scenario and the last
/// lines of the run's trace.
///
/// # Panics
/// When called inside a tokio runtime, or when a chaos event names a client the scenario
/// lacks.
pub fn run<R: Contended>(recipe: R, scenario: &Scenario) -> Result<(), String> {
    block_on_paused(run_in_runtime(recipe, scenario))
}

/// Runs `fut` to the end on a new single-threaded runtime whose clock starts paused, as every
/// fault property test on the fake does with each case.
///
/// # Panics
/// When called inside a tokio runtime.
pub fn block_on_paused<F: std::future::Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime")
        .block_on(fut)
}

async fn run_in_runtime<R: Contended>(recipe: R, scenario: &Scenario) -> Result<(), String> {
    let world = Arc::new(World::new(
        recipe,
        FakeEnsemble::new(),
        scenario.clients.len(),
    ));
    let checker = {
        let world = world.clone();
        tokio::spawn(async move {
            while !world.done.load(Ordering::Acquire) {
                sleep(CHECK_EVERY).await;
                world.check("periodic check");
            }
        })
    };
    let chaos: Vec<_> = scenario
        .chaos
        .iter()
        .map(|&c| {
            assert!(c.client < scenario.clients.len(), "{c:?} names no client");
            tokio::spawn(strike(world.clone(), c))
        })
        .collect();
    let clients: Vec<_> = scenario
        .clients
        .iter()
        .enumerate()
        .map(|(i, script)| tokio::spawn(client(world.clone(), i, script.clone())))
        .collect();
    for (i, task) in clients.into_iter().enumerate() {
        if let Err(error) = task.await {
            world.violation(format!("c{i}'s task failed: {error}"));
        }
    }
    for task in chaos {
        if let Err(error) = task.await {
            world.violation(format!("a chaos task failed: {error}"));
        }
    }
    world.done.store(true, Ordering::Release);
    let _ = checker.await;

    // No leftovers, first with every session still open: a node of a live session would block
    // the recipe for good.
    sleep(SETTLE).await;
    world.check("after the scripts");
    let left = world.queue();
    if !left.is_empty() {
        let owners: Vec<String> = left
            .iter()
            .map(|node| {
                let client = world
                    .sessions
                    .iter()
                    .position(|s| s.session_id() == node.owner)
                    .map_or("an expired session".to_owned(), |i| format!("c{i}"));
                format!("{} of {client} ({:#x})", node.name, node.owner)
            })
            .collect();
        world.violation(format!(
            "contender nodes left behind with every script over and sessions open: {}",
            owners.join(", ")
        ));
    }
    for session in &world.sessions {
        let _ = session.close().await;
    }
    sleep(Duration::from_secs(1)).await;
    if !world.queue().is_empty() {
        world.violation("contender nodes left behind after every client closed".to_owned());
    }
    world.report(scenario)
}
