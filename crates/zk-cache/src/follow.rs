//! The loop behind every followed watch: read and watch, yield the value if its version is
//! new, wait for the watch or a reconnect, read again; ride out connection loss and new
//! sessions; end with the handle.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::BoxStream;
use tokio::sync::watch;
use zk_core::path::validate_path;
use zk_core::{Coordinator, CoordinatorExt, Error, EventType, OneshotWatch, SessionState};

use crate::source::{ChildList, Children, Data, NodeData, Source};

/// A stream of the values of one node: the current value first, then each change, `None`
/// while the node does not exist.
///
/// Each value is yielded once: values are told apart by a zxid (`mzxid` for data, `pzxid` for
/// children), so a watch that fires without a change, or a re-read after a reconnect that finds
/// nothing new, yields nothing. Changes that happen quickly one after another may be seen as
/// one: the stream always moves to the latest value, never back.
///
/// It re-arms itself after every event. While the connection is down it waits; once it is back
/// it reads once, since changes may have happened meanwhile. After session expiry it waits
/// for the handle's new session and reads again (ephemeral nodes of the old session are gone
/// by then, which is a change like any other).
///
/// It ends (`None`) when the handle is closed. An error that waiting cannot cure (no
/// permission to read the node, failed authentication, expiry on a handle that opens no new
/// session) is yielded once, and then the stream ends.
#[must_use = "a watch does nothing unless polled"]
pub struct WatchStream<T> {
    inner: BoxStream<'static, Result<Option<T>, Error>>,
    path: String,
}

/// A followed data watch: see [`data_watch`].
pub type DataWatch = WatchStream<NodeData>;

/// A followed children watch: see [`children_watch`].
pub type ChildrenWatch = WatchStream<Children>;

impl<T> fmt::Debug for WatchStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchStream")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<T> Stream for WatchStream<T> {
    type Item = Result<Option<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// Follows the data of the node at `path`: its current data and Stat (`None` if it does not
/// exist) first, then every change. See [`WatchStream`] for what it yields and when it ends.
///
/// # Errors
/// [`Error::InvalidPath`] for an invalid path; nothing is read until the stream is polled.
pub fn data_watch<C: Coordinator + 'static>(zk: C, path: &str) -> Result<DataWatch, Error> {
    WatchStream::new(zk, path, Data)
}

/// Follows the children of the node at `path`: its current children, sorted, and Stat (`None`
/// if it does not exist) first, then every change of the set. See [`WatchStream`].
///
/// # Errors
/// [`Error::InvalidPath`] for an invalid path; nothing is read until the stream is polled.
pub fn children_watch<C: Coordinator + 'static>(zk: C, path: &str) -> Result<ChildrenWatch, Error> {
    WatchStream::new(zk, path, ChildList)
}

impl<T: Clone + Send + Sync + 'static> WatchStream<T> {
    fn new<C, S>(zk: C, path: &str, source: S) -> Result<WatchStream<T>, Error>
    where
        C: Coordinator + 'static,
        S: Source<Value = T>,
    {
        validate_path(path)?;
        let state = zk.session_state();
        let follower = Follower {
            zk,
            state,
            path: path.to_owned(),
            source,
            last: None,
            armed: None,
            done: false,
        };
        let inner = futures::stream::unfold(follower, |mut follower| async move {
            let item = follower.next().await?;
            Some((item, follower))
        });
        Ok(WatchStream {
            inner: Box::pin(inner),
            path: path.to_owned(),
        })
    }

    /// The followed path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The "always the latest" flavour: waits for the first value, then keeps a
    /// [`tokio::sync::watch`] receiver current from a background task.
    ///
    /// The task ends when every receiver is dropped, or when the stream ends (the handle was
    /// closed, or an error that waiting cannot cure): the sender is then dropped, so
    /// `changed()` fails, and the receiver keeps the last value.
    ///
    /// # Errors
    /// What the stream yields instead of a first value; [`Error::Closed`] if it ended first.
    pub async fn into_latest(mut self) -> Result<watch::Receiver<Option<T>>, Error> {
        use futures::StreamExt;
        let first = self.next().await.ok_or(Error::Closed)??;
        let (tx, rx) = watch::channel(first);
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    () = tx.closed() => return,
                    next = self.next() => next,
                };
                match next {
                    Some(Ok(value)) => {
                        tx.send_replace(value);
                    }
                    Some(Err(_)) | None => return,
                }
            }
        });
        Ok(rx)
    }
}

/// The state of one followed watch.
struct Follower<C, S: Source> {
    zk: C,
    path: String,
    source: S,
    /// The version of the last value yielded (`Some(None)`: the node was absent); `None`
    /// before the first.
    last: Option<Option<i64>>,
    /// The watch set by the last read.
    armed: Option<OneshotWatch>,
    /// The handle's session state, marked seen at each read: a change since means the
    /// connection dropped after that read, whether or not the stream was being polled.
    state: watch::Receiver<SessionState>,
    done: bool,
}

/// Why a follower reads again.
enum Wake {
    /// The watch fired, or the connection came back: read.
    Read,
    /// The handle ended: the stream ends, with the error if there is one to tell.
    End(Option<Error>),
}

impl<C: Coordinator + 'static, S: Source> Follower<C, S> {
    /// The next value that differs from the last one yielded, or the end.
    async fn next(&mut self) -> Option<Result<Option<S::Value>, Error>> {
        loop {
            if self.done {
                return None;
            }
            if let Some(armed) = self.armed.take()
                && let Wake::End(error) = self.wait(armed).await
            {
                return self.end(error);
            }
            self.state.borrow_and_update();
            match self.read().await {
                Ok((value, armed)) => {
                    self.armed = Some(armed);
                    let version = value.as_ref().map(S::version);
                    if self.last != Some(version) {
                        self.last = Some(version);
                        return Some(Ok(value));
                    }
                }
                Err(error) => {
                    if let Err(error) = self.zk.recover(error).await {
                        return self.end(Some(error));
                    }
                }
            }
        }
    }

    /// Ends the stream: quietly when the handle was closed, else with `error`.
    fn end(&mut self, error: Option<Error>) -> Option<Result<Option<S::Value>, Error>> {
        self.done = true;
        match error {
            None | Some(Error::Closed) => None,
            Some(error) => Some(Err(error)),
        }
    }

    /// Reads the value and sets the watch; a missing node is watched for its creation.
    async fn read(&self) -> Result<(Option<S::Value>, OneshotWatch), Error> {
        let zk: &dyn Coordinator = &self.zk;
        loop {
            match self.source.read(zk, &self.path).await {
                Ok((value, armed)) => return Ok((Some(value), armed)),
                Err(Error::NoNode { .. }) => {
                    // If it was created between the two requests, read it.
                    if let (None, created) = zk.watch_exists(&self.path).await? {
                        return Ok((None, created));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits for `armed` to fire, or for the connection to drop and come back (changes made
    /// meanwhile may have been missed, so the caller reads once more).
    async fn wait(&mut self, armed: OneshotWatch) -> Wake {
        if self.state.has_changed().unwrap_or(true) {
            // From a connected state every change is a drop or an end; a read tells which.
            return Wake::Read;
        }
        let state = &mut self.state;
        let reconnected = async {
            if state.wait_for(|s| !s.is_connected()).await.is_err() {
                return;
            }
            let _ = state
                .wait_for(|s| s.is_connected() || s.is_terminal())
                .await;
        };
        let event = tokio::select! {
            event = armed => event,
            () = reconnected => return Wake::Read,
        };
        if event.event_type != EventType::Session {
            return Wake::Read;
        }
        if let Some(error) = event.state.terminal_error() {
            return Wake::End(Some(error));
        }
        if event.state != SessionState::Expired {
            return Wake::Read;
        }
        match self.zk.recover(Error::SessionExpired).await {
            Ok(()) => Wake::Read,
            Err(error) => Wake::End(Some(error)),
        }
    }
}
