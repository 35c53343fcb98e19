//! The persistent watch: a stream of events for a node, or a whole subtree.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::FusedStream;
use tokio::sync::mpsc;

use super::drop_hook::DropHook;
use crate::types::event::WatchEvent;

/// A persistent (or persistent recursive) watch, returned by `add_watch`.
///
/// It yields node events until removed, and session events too: `Disconnected` and
/// `SyncConnected`, because events can be lost while disconnected and consumers must re-read.
/// It ends (`None`) after a session-ending state (`Expired`, `AuthFailed`, `Closed`), which it
/// yields first.
/// Events queue without bound, so a slow consumer never stalls the session.
/// Dropping it removes the watch.
#[must_use = "a watch does nothing unless polled"]
#[derive(Debug)]
pub struct PersistentWatch {
    rx: mpsc::UnboundedReceiver<WatchEvent>,
    done: bool,
    _on_drop: Option<DropHook>,
}

/// The backend's half of a [`PersistentWatch`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct PersistentSender {
    tx: mpsc::UnboundedSender<WatchEvent>,
}

impl PersistentWatch {
    /// Creates a connected sender and watch.
    pub fn channel() -> (PersistentSender, PersistentWatch) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            PersistentSender { tx },
            PersistentWatch {
                rx,
                done: false,
                _on_drop: None,
            },
        )
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
    /// Queues an event; returns false if the watch was dropped.
    pub fn send(&self, event: WatchEvent) -> bool {
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

    #[test]
    fn dropping_the_watch_closes_the_sender() {
        let (tx, watch) = PersistentWatch::channel();
        assert!(!tx.is_closed());
        drop(watch);
        assert!(tx.is_closed());
        assert!(!tx.send(WatchEvent::session(SessionState::Closed)));
    }
}
