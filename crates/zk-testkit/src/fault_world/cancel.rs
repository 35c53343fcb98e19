//! Cancellation at a chosen await point.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Drops the inner future at the wake-up after its `n`-th poll.
struct PollLimit<F: Future> {
    inner: Pin<Box<F>>,
    left: u32,
}

impl<F: Future> Future for PollLimit<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        self.inner.as_mut().poll(cx).map(Some)
    }
}

/// Runs `fut`, but drops it at the wake-up after its `n`-th poll: cancellation at the `n`-th
/// await point it reaches. `None` when it was cancelled, `Some` with its output when it
/// finished within `n` polls.
///
/// Trying `n = 1, 2, ...` until the call finishes cancels it at every await point in turn.
///
/// ```
/// use zk_testkit::fault_world::cancel_after_polls;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
/// let two_awaits = async {
///     tokio::task::yield_now().await;
///     tokio::task::yield_now().await;
///     7
/// };
/// assert_eq!(cancel_after_polls(two_awaits, 2).await, None);
/// assert_eq!(cancel_after_polls(async { 7 }, 1).await, Some(7));
/// # });
/// ```
pub async fn cancel_after_polls<F: Future>(fut: F, n: u32) -> Option<F::Output> {
    PollLimit {
        inner: Box::pin(fut),
        left: n,
    }
    .await
}
