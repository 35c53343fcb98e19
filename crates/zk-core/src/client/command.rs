//! What a client handle asks of its session task.

use tokio::sync::oneshot;

use crate::error::Result;
use crate::proto::{Request, Response};
use crate::types::event::AddWatchMode;
use crate::watch::{OneshotSender, PersistentSender};

/// A watch to register when the reply to its request arrives.
#[derive(Debug)]
pub(crate) enum WatchIntent {
    /// getData with a watch: registered on success.
    Data(OneshotSender),
    /// exists with a watch: a data watch on success, an exist watch on NoNode.
    Exists(OneshotSender),
    /// getChildren with a watch: registered on success.
    Child(OneshotSender),
    /// addWatch: registered on success.
    Persistent(PersistentSender, AddWatchMode),
}

/// A request and where its reply goes.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) request: Request,
    pub(crate) reply: ReplyTo,
}

/// What is kept of a request once it is on the wire: where the reply goes, and what is needed
/// to build errors in the caller's terms.
#[derive(Debug)]
pub(crate) struct ReplyTo {
    /// The application path (errors name it), or the paths of a multi's operations.
    pub(crate) paths: Vec<String>,
    /// Expected versions, for `BadVersion` errors (one per path).
    pub(crate) versions: Vec<i32>,
    pub(crate) watch: Option<(String, WatchIntent)>,
    pub(crate) reply: oneshot::Sender<Result<(i64, Response)>>,
}

/// A message from a handle to the session task.
#[derive(Debug)]
pub(crate) enum Command {
    Call(Call),
    Auth {
        scheme: String,
        auth: Vec<u8>,
        reply: oneshot::Sender<Result<()>>,
    },
    /// A watch handle was dropped before firing: the task may tell the server.
    WatchDropped,
    Close {
        reply: oneshot::Sender<()>,
    },
}
