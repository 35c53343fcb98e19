//! One client: runs its script's rounds on its session, registers what it holds, and checks
//! what it can only check itself (liveness, timeouts, documented endings, loss told).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, sleep, timeout};

use super::cancel::cancel_after_polls;
use super::recipe::{Acquired, Contended, Request};
use super::scenario::{Cancel, End, Mode, Round, Script};
use super::world::{Holder, Status, World, lock};
use super::{LIVENESS, LOSS_TOLD, TIMEOUT_SLACK};

/// One acquire call's ending: `None` if the round cancelled it, `Err(())` if it hung.
type Ending<G> = Result<Option<Result<Acquired<G>, String>>, ()>;

/// One acquire call of a round.
async fn acquire<R: Contended>(
    world: &World<R>,
    client: usize,
    round: &Round,
    script: &Script,
) -> Ending<R::Guard> {
    let request = Request {
        client,
        mode: round.mode,
        role: round.role,
        loss: script.loss,
    };
    let call = world
        .recipe
        .acquire(world.sessions[client].clone(), request);
    let cancellable = async move {
        match round.cancel {
            Cancel::Never => Some(call.await),
            Cancel::AfterPolls(n) => cancel_after_polls(call, n).await,
            Cancel::AfterMs(ms) => timeout(Duration::from_millis(ms), call).await.ok(),
        }
    };
    timeout(LIVENESS, cancellable).await.map_err(|_| ())
}

/// Runs one client's script.
pub(crate) async fn client<R: Contended>(world: Arc<World<R>>, client: usize, script: Script) {
    for (index, round) in script.rounds.iter().enumerate() {
        sleep(Duration::from_millis(round.pause_ms)).await;
        world.log(format!("c{client}#{index} {round:?}"));
        world.set_status(client, Status::Acquiring);
        let started = Instant::now();
        let outcome = acquire(&world, client, round, &script).await;
        world.set_status(client, Status::Idle);
        if let (Mode::Timeout(ms), Ok(Some(_))) = (round.mode, &outcome) {
            let bound = Duration::from_millis(ms) + TIMEOUT_SLACK;
            if started.elapsed() > bound {
                world.violation(format!(
                    "c{client}#{index}: acquire_timeout({ms}ms) returned after {:?}",
                    started.elapsed()
                ));
            }
        }
        let guard = match outcome {
            Err(()) => {
                world.violation(format!(
                    "c{client}#{index}: {:?} still pending after {LIVENESS:?}: stuck",
                    round.mode
                ));
                continue;
            }
            Ok(None) => {
                world.log(format!("c{client}#{index} cancelled the acquire"));
                continue;
            }
            Ok(Some(Ok(Acquired::Held(guard)))) => guard,
            Ok(Some(Ok(Acquired::Blocked))) => {
                let what = format!("c{client}#{index}: {:?} reported blocked", round.mode);
                world.ended(round.mode == Mode::Try, what);
                continue;
            }
            Ok(Some(Ok(Acquired::TimedOut))) => {
                let what = format!("c{client}#{index}: {:?} timed out", round.mode);
                world.ended(matches!(round.mode, Mode::Timeout(_)), what);
                continue;
            }
            Ok(Some(Err(error))) => {
                world.violation(format!(
                    "c{client}#{index}: {:?} failed with {error} (the recipe promises to ride \
                     out connection loss and session expiry)",
                    round.mode
                ));
                continue;
            }
        };
        hold(&world, client, index, round, guard).await;
    }
    world.set_status(client, Status::Idle);
    world.log(format!("c{client} done"));
}

/// Registers a fresh guard, checks the acquisition, holds, and lets go.
async fn hold<R: Contended>(
    world: &Arc<World<R>>,
    client: usize,
    index: usize,
    round: &Round,
    guard: R::Guard,
) {
    let recipe = &world.recipe;
    let token = recipe.token(&guard);
    let held = recipe.is_held(&guard);
    world.log(format!(
        "c{client}#{index} acquired {} token {token} (held {held})",
        recipe.node_path(&guard)
    ));
    let guard = Arc::new(guard);
    let (told, mut lost) = watch::channel(None);
    let watcher = {
        let (world, loss) = (world.clone(), recipe.lost(&guard));
        tokio::spawn(async move {
            let reason = loss.await;
            world.log(format!("c{client}#{index} lost(): {reason:?}"));
            told.send_replace(Some(reason));
        })
    };
    if held {
        world.check_token(client, round.role, token);
        lock(&world.holders).push(Holder {
            client,
            round: index,
            role: round.role,
            token,
            guard: guard.clone(),
            lost: lost.clone(),
        });
        world.check(&format!("c{client}#{index} acquired"));
    }
    world.set_status(client, Status::Holding);
    sleep(Duration::from_millis(round.hold_ms)).await;
    world.set_status(client, Status::Idle);
    world.check(&format!("c{client}#{index} about to let go"));

    // Loss is told: a guard that stopped holding was reported lost.
    if !recipe.is_held(&guard) {
        let told = timeout(LOSS_TOLD, lost.wait_for(Option::is_some)).await;
        if !told.is_ok_and(|r| r.is_ok()) {
            world.violation(format!(
                "c{client}#{index}: the guard no longer holds, but lost() never resolved"
            ));
        }
    }
    lock(&world.holders).retain(|h| !Arc::ptr_eq(&h.guard, &guard));
    let Ok(guard) = Arc::try_unwrap(guard) else {
        unreachable!("the registry let go of the guard");
    };
    match round.end {
        End::Drop => {
            world.log(format!("c{client}#{index} drops the guard"));
            drop(guard);
        }
        End::Release => match timeout(LIVENESS, recipe.release(guard)).await {
            Ok(Ok(())) => world.log(format!("c{client}#{index} released")),
            Ok(Err(error)) => {
                world.violation(format!("c{client}#{index}: release failed with {error}"))
            }
            Err(_) => world.violation(format!(
                "c{client}#{index}: release still pending after {LIVENESS:?}: stuck"
            )),
        },
    }
    // The watcher ends once the guard is gone.
    let _ = timeout(Duration::from_secs(1), watcher).await;
}
