//! The persistent watch: a stream of events for a node, or a whole subtree.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::FusedStream;
use tokio::sync::mpsc;

use super::drop_hook::DropHook;
use crate::types::event::{EventType, SessionState, WatchEvent};

/// A persistent (or persistent recursive) watch, returned by `add_watch`.
///
/// It yields node events until removed, and session events too: `Disconnected` and
/// `SyncConnected`, because events can be lost while disconnected and consumers must re-read.
/// It ends (`None`) after a session-ending state (`Expired`, `AuthFailed`, `Closed`), which it
/// yields first.
///
/// Up to [`PersistentWatch::CAPACITY`] events queue. A consumer that falls further behind
/// never stalls the session and never makes memory grow: the events that do not fit are
/// dropped, and the watch then yields one [`EventType::Lagged`] event (before the events still
/// queued) to say so; re-read whatever it follows.
/// Dropping it removes the watch.
#[must_use = "a watch does nothing unless polled"]
#[derive(Debug)]
pub struct PersistentWatch {
    rx: mpsc::Receiver<WatchEvent>,
    lagged: Arc<AtomicBool>,
    done: bool,
    _on_drop: Option<DropHook>,
}

/// The backend's half of a [`PersistentWatch`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct PersistentSender {
    tx: mpsc::Sender<WatchEvent>,
    lagged: Arc<AtomicBool>,
}

impl PersistentWatch {
    /// How many events a persistent watch queues before it drops events and reports
    /// [`EventType::Lagged`].
    pub const CAPACITY: usize = 4096;

    /// Creates a connected sender and watch, queueing up to [`PersistentWatch::CAPACITY`]
    /// events.
    pub fn channel() -> (PersistentSender, PersistentWatch) {
        PersistentWatch::channel_with_capacity(PersistentWatch::CAPACITY)
    }

    /// Creates a connected sender and watch, queueing up to `capacity` events (at least 1).
    pub fn channel_with_capacity(capacity: usize) -> (PersistentSender, PersistentWatch) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let lagged = Arc::new(AtomicBool::new(false));
        (
            PersistentSender {
                tx,
                lagged: lagged.clone(),
            },
            PersistentWatch {
                rx,
                lagged,
                done: false,
                _on_drop: None,
            },
        )
    }

    /// The event that reports dropped events, once, if some were dropped since the last one.
    fn take_lag(&self) -> Option<WatchEvent> {
        self.lagged
            .swap(false, Ordering::AcqRel)
            .then(|| WatchEvent {
                event_type: EventType::Lagged,
                state: SessionState::SyncConnected,
                path: String::new(),
            })
    }

    /// Runs `hook` when the watch is dropped (backends unregister with it).
    pub fn on_drop(mut self, hook: impl FnOnce() + Send + Sync + 'static) -> PersistentWatch {
        self._on_drop = Some(DropHook::new(hook));
        self
    }

    /// The next queued event, without waiting.
    ///
    /// Returns `None` when nothing is queued or the stream has ended.
    pub fn try_next_event(&mut self) -> Option<WatchEvent> {
        if self.done {
            return None;
        }
        if let Some(lag) = self.take_lag() {
            return Some(lag);
        }
        match self.rx.try_recv() {
            Ok(event) => Some(event),
            Err(mpsc::error::TryRecvError::Empty) => None,
            Err(mpsc::error::TryRecvError::Disconnected) => {
                self.done = true;
                None
            }
        }
    }
}

impl Stream for PersistentWatch {
    type Item = WatchEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<WatchEvent>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(lag) = self.take_lag() {
            return Poll::Ready(Some(lag));
        }
        let next = self.rx.poll_recv(cx);
        if let Poll::Ready(None) = next {
            self.done = true;
        }
        next
    }
}

impl FusedStream for PersistentWatch {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl PersistentSender {
    /// Queues an event; returns false if the watch was dropped. When the queue is full the
    /// event is dropped and the watch will report [`EventType::Lagged`].
    pub fn send(&self, event: WatchEvent) -> bool {
        match self.tx.try_send(event) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lagged.store(true, Ordering::Release);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// True once the watch was dropped, so the backend can forget this sender.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::event::{EventType, SessionState};
    use futures::StreamExt;

    #[tokio::test]
    async fn yields_events_then_ends_when_the_backend_drops_it() {
        let (tx, mut watch) = PersistentWatch::channel();
        assert!(tx.send(WatchEvent::node(EventType::NodeCreated, "/a")));
        assert!(tx.send(WatchEvent::session(SessionState::Expired)));
        drop(tx);
        assert_eq!(watch.next().await.unwrap().path, "/a");
        assert_eq!(watch.next().await.unwrap().state, SessionState::Expired);
        assert_eq!(watch.next().await, None);
        assert!(watch.is_terminated());
    }

    #[tokio::test]
    async fn a_full_queue_drops_events_and_reports_the_lag_once() {
        let (tx, mut watch) = PersistentWatch::channel_with_capacity(2);
        for path in ["/a", "/b", "/c", "/d"] {
            assert!(tx.send(WatchEvent::node(EventType::NodeCreated, path)));
        }
        assert_eq!(watch.next().await.unwrap().event_type, EventType::Lagged);
        assert_eq!(watch.next().await.unwrap().path, "/a");
        assert_eq!(watch.next().await.unwrap().path, "/b");
        // Room again: nothing more is lost, and the lag is not reported twice.
        assert!(tx.send(WatchEvent::node(EventType::NodeDeleted, "/e")));
        assert_eq!(watch.next().await.unwrap().path, "/e");
        assert_eq!(watch.try_next_event(), None);
    }

    #[test]
    fn dropping_the_watch_closes_the_sender() {
        let (tx, watch) = PersistentWatch::channel();
        assert!(!tx.is_closed());
        drop(watch);
        assert!(tx.is_closed());
        assert!(!tx.send(WatchEvent::session(SessionState::Closed)));
    }
}
