//! Chaos events: a fault on one client's session at a chosen moment.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{sleep, sleep_until, timeout};
use zk_core::Coordinator;
use zk_fake::{Fault, OpMatcher};

use super::recipe::Contended;
use super::scenario::{Action, Chaos, OpFault, When};
use super::world::{Status, World};

/// How long a [`When::Waiting`] or [`When::Holding`] event waits for its moment before giving
/// up.
const MOMENT_WAIT: Duration = Duration::from_secs(30);

/// Waits for a client to be in `status`; false if it is not within [`MOMENT_WAIT`].
async fn moment<R: Contended>(world: &World<R>, client: usize, status: Status) -> bool {
    let mut rx = world.status[client].subscribe();
    timeout(MOMENT_WAIT, rx.wait_for(|s| *s == status))
        .await
        .is_ok_and(|r| r.is_ok())
}

/// Strikes one chaos event, then checks the holders.
pub(crate) async fn strike<R: Contended>(world: Arc<World<R>>, chaos: Chaos) {
    sleep_until(world.start + Duration::from_millis(chaos.at_ms)).await;
    let wanted = match chaos.when {
        When::Now => None,
        When::Waiting => Some(Status::Acquiring),
        When::Holding => Some(Status::Holding),
    };
    if let Some(status) = wanted
        && !moment(&world, chaos.client, status).await
    {
        return;
    }
    sleep(Duration::from_millis(chaos.delay_ms)).await;
    if let Some(status) = wanted
        && *world.status[chaos.client].borrow() != status
    {
        return;
    }
    let session = world.sessions[chaos.client].session_id();
    let faults = world.ensemble.faults();
    let done = match chaos.action {
        Action::FailNext(kind, fault) => {
            let fault = match fault {
                OpFault::LossBeforeApply => Fault::ConnectionLossBeforeApply,
                OpFault::LossAfterApply => Fault::ConnectionLossAfterApply,
                OpFault::DelayReply(ms) => Fault::DelayReply(Duration::from_millis(ms)),
            };
            faults.fail_next(OpMatcher::op(kind).session(session), fault);
            true
        }
        Action::Expire => faults.expire_session(session),
        Action::Disconnect(ms) => faults.disconnect(session, Duration::from_millis(ms)),
    };
    world.log(format!(
        "chaos c{} ({session:#x}) {:?}{}",
        chaos.client,
        chaos.action,
        if done { "" } else { ": no effect" }
    ));
    world.check(&format!("after {:?} on c{}", chaos.action, chaos.client));
}
