//! The one-shot watch: a future that resolves with the first event for a node.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::FusedFuture;
use tokio::sync::oneshot;

use super::drop_hook::DropHook;
use crate::types::event::{SessionState, WatchEvent};

/// A one-shot watch, returned with the read that set it.
///
/// It resolves exactly once: with the node event, or with a session event (`Expired`, `AuthFailed`,
/// `Closed`) if the session ends first.
/// If the backend goes away without a word it resolves with `Closed`; it never hangs on a dead
/// backend and never panics.
/// Dropping it unregisters the watch.
///
/// ```
/// # async fn demo(zk: &dyn zk_core::Coordinator) -> zk_core::Result<()> {
/// let (_data, _stat, watch) = zk.watch_data("/config").await?;
/// let event = watch.await;
/// println!("{:?} on {}", event.event_type, event.path);
/// # Ok(()) }
/// ```
#[must_use = "a watch does nothing unless awaited"]
#[derive(Debug)]
pub struct OneshotWatch {
    rx: Option<oneshot::Receiver<WatchEvent>>,
    on_drop: Option<DropHook>,
}

/// The backend's half of a [`OneshotWatch`].
#[derive(Debug)]
pub struct OneshotSender {
    tx: oneshot::Sender<WatchEvent>,
}

impl OneshotWatch {
    /// Creates a connected sender and watch.
    pub fn channel() -> (OneshotSender, OneshotWatch) {
        let (tx, rx) = oneshot::channel();
        (
            OneshotSender { tx },
            OneshotWatch {
                rx: Some(rx),
                on_drop: None,
            },
        )
    }

    /// Runs `hook` when the watch is dropped before it resolved (backends unregister with it).
    pub fn on_drop(mut self, hook: impl FnOnce() + Send + Sync + 'static) -> OneshotWatch {
        self.on_drop = Some(DropHook::new(hook));
        self
    }

    /// A watch that has already resolved with `event`.
    pub fn ready(event: WatchEvent) -> OneshotWatch {
        let (tx, watch) = OneshotWatch::channel();
        tx.send(event);
        watch
    }

    /// The event, if it has arrived, without waiting.
    ///
    /// Returns `None` while the watch is pending or after it already returned its event.
    pub fn try_event(&mut self) -> Option<WatchEvent> {
        let rx = self.rx.as_mut()?;
        let event = match rx.try_recv() {
            Ok(event) => event,
            Err(oneshot::error::TryRecvError::Empty) => return None,
            Err(oneshot::error::TryRecvError::Closed) => WatchEvent::session(SessionState::Closed),
        };
        self.finish();
        Some(event)
    }

    fn finish(&mut self) {
        self.rx = None;
        if let Some(mut hook) = self.on_drop.take() {
            // The watch fired, so there is nothing left to unregister.
            hook.disarm();
        }
    }
}

impl Future for OneshotWatch {
    type Output = WatchEvent;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WatchEvent> {
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Pending;
        };
        let event = match Pin::new(rx).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(event)) => event,
            Poll::Ready(Err(_)) => WatchEvent::session(SessionState::Closed),
        };
        self.finish();
        Poll::Ready(event)
    }
}

impl FusedFuture for OneshotWatch {
    fn is_terminated(&self) -> bool {
        self.rx.is_none()
    }
}

impl OneshotSender {
    /// Delivers the event; returns false if the watch was already dropped.
    pub fn send(self, event: WatchEvent) -> bool {
        self.tx.send(event).is_ok()
    }

    /// True once the watch was dropped, so the backend can forget this sender.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::event::EventType;
    use futures::FutureExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn resolves_with_the_sent_event() {
        let (tx, watch) = OneshotWatch::channel();
        assert!(tx.send(WatchEvent::node(EventType::NodeDeleted, "/a")));
        assert_eq!(
            watch.now_or_never(),
            Some(WatchEvent::node(EventType::NodeDeleted, "/a"))
        );
    }

    #[test]
    fn resolves_closed_when_the_sender_vanishes() {
        let (tx, mut watch) = OneshotWatch::channel();
        assert_eq!(watch.try_event(), None);
        drop(tx);
        assert_eq!(
            watch.try_event(),
            Some(WatchEvent::session(SessionState::Closed))
        );
        assert_eq!(watch.try_event(), None);
    }

    #[test]
    fn drop_hook_runs_only_for_unresolved_watches() {
        let count = Arc::new(AtomicUsize::new(0));
        let hook = |count: &Arc<AtomicUsize>| {
            let count = count.clone();
            move || {
                count.fetch_add(1, Ordering::SeqCst);
            }
        };
        let (tx, watch) = OneshotWatch::channel();
        let watch = watch.on_drop(hook(&count));
        assert!(!tx.is_closed());
        drop(watch);
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert!(tx.is_closed());

        let (tx, watch) = OneshotWatch::channel();
        let mut watch = watch.on_drop(hook(&count));
        tx.send(WatchEvent::session(SessionState::Expired));
        assert!(watch.try_event().is_some());
        drop(watch);
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }
}
