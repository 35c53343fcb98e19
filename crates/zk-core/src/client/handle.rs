//! `ZkClient`: the wire client's handle, implementing `Coordinator` over the session task.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot, watch};

use super::command::{Call, Command, ReplyTo, WatchIntent};
use super::connect_string::Chroot;
use super::options::{ClientBuilder, ClientOptions};
use super::session::{SessionTask, SessionView};
use crate::coordinator::Coordinator;
use crate::error::{Error, Result};
use crate::path::validate_path;
use crate::proto::{MultiResult, OpCode, Request, Response};
use crate::types::acl::Acl;
use crate::types::create::{CreateOptions, Created};
use crate::types::event::{AddWatchMode, SessionState};
use crate::types::op::{Op, OpResult, ReadOp, ReadResult};
use crate::types::stat::Stat;
use crate::validate;
use crate::watch::{OneshotWatch, PersistentWatch, WatchRegistry};

/// A ZooKeeper client speaking the binary protocol to real servers.
///
/// Cheap to clone: clones share one session and one connection, and requests from all of them
/// are pipelined on it.
/// Dropping the last clone closes the session in the background (its ephemeral nodes go at
/// once), if a connection is up; cut off, the session is left to expire after its timeout.
/// Call [`Coordinator::close`] to close it and wait for the server's answer.
///
/// ```no_run
/// use zk_core::client::ZkClient;
/// use zk_core::{Coordinator, CreateOptions};
///
/// # async fn demo() -> zk_core::Result<()> {
/// let zk = ZkClient::connect("127.0.0.1:2181").await?;
/// zk.create("/hello", b"world", &CreateOptions::persistent()).await?;
/// let (data, stat) = zk.get_data("/hello").await?;
/// zk.close().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ZkClient {
    shared: Arc<Shared>,
}

struct Shared {
    commands: mpsc::UnboundedSender<Command>,
    state_rx: watch::Receiver<SessionState>,
    view: Arc<SessionView>,
    chroot: Chroot,
    max_packet: usize,
    watches: Arc<Mutex<WatchRegistry>>,
    request_timeout: Option<Duration>,
}

impl fmt::Debug for ZkClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZkClient")
            .field("session_id", &format_args!("{:#x}", self.session_id()))
            .field("state", &*self.shared.state_rx.borrow())
            .finish()
    }
}

fn version(v: Option<i32>) -> i32 {
    v.unwrap_or(-1)
}

fn unexpected(response: Response) -> Error {
    Error::protocol(format!("unexpected reply body {response:?}"))
}

impl ZkClient {
    /// Connects to `connect_string` (`host:port,host:port/chroot`) with default options.
    ///
    /// # Errors
    /// As [`ClientBuilder::connect`].
    pub async fn connect(connect_string: &str) -> Result<ZkClient> {
        ZkClient::builder(connect_string)?.connect().await
    }

    /// A builder for a client of `connect_string`.
    ///
    /// # Errors
    /// A malformed connect string.
    pub fn builder(connect_string: &str) -> Result<ClientBuilder> {
        ClientBuilder::new(connect_string)
    }

    pub(crate) async fn connect_with(options: ClientOptions) -> Result<ZkClient> {
        let (commands, rx) = mpsc::unbounded_channel();
        let (state_tx, state_rx) = watch::channel(SessionState::Disconnected);
        let view = Arc::new(SessionView::default());
        let watches = Arc::new(Mutex::new(WatchRegistry::default()));
        let chroot = Chroot::new(options.connect.chroot.clone());
        let max_packet = options.max_packet;
        let request_timeout = options.request_timeout;
        let task = SessionTask::new(options, rx, state_tx, view.clone(), watches.clone());
        let (ready_tx, ready_rx) = oneshot::channel();
        tokio::spawn(task.run(ready_tx));
        ready_rx.await.unwrap_or(Err(Error::ConnectionLoss))?;
        Ok(ZkClient {
            shared: Arc::new(Shared {
                commands,
                state_rx,
                view,
                chroot,
                max_packet,
                watches,
                request_timeout,
            }),
        })
    }

    /// The current session's password, which with [`Coordinator::session_id`] lets another
    /// connection resume (or, in tests, deliberately end) the session.
    pub fn session_password(&self) -> Vec<u8> {
        self.shared
            .view
            .password
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The server this client is connected to right now, as `(host, port)` from the connect
    /// string; `None` while disconnected.
    pub fn connected_server(&self) -> Option<(String, u16)> {
        self.shared
            .view
            .server
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn call(
        &self,
        request: Request,
        paths: Vec<String>,
        versions: Vec<i32>,
        watch: Option<(String, WatchIntent)>,
    ) -> Result<(i64, Response)> {
        let (reply, rx) = oneshot::channel();
        let call = Call {
            request,
            reply: ReplyTo {
                paths,
                versions,
                watch,
                reply,
            },
        };
        self.shared
            .commands
            .send(Command::Call(call))
            .map_err(|_| Error::Closed)?;
        let Some(limit) = self.shared.request_timeout else {
            return rx.await.unwrap_or(Err(Error::ConnectionLoss));
        };
        match tokio::time::timeout(limit, rx).await {
            Ok(answer) => answer.unwrap_or(Err(Error::ConnectionLoss)),
            Err(_) => Err(Error::RequestTimeout),
        }
    }

    async fn simple(&self, request: Request, path: &str, version: i32) -> Result<Response> {
        self.call(request, vec![path.to_owned()], vec![version], None)
            .await
            .map(|(_, r)| r)
    }

    fn server(&self, path: &str) -> String {
        self.shared.chroot.to_server(path)
    }

    /// A one-shot watch whose drop tells the session task to forget it.
    fn oneshot(&self) -> (crate::watch::OneshotSender, OneshotWatch) {
        let (tx, watch) = OneshotWatch::channel();
        let commands = self.shared.commands.downgrade();
        let watch = watch.on_drop(move || {
            if let Some(commands) = commands.upgrade() {
                let _ = commands.send(Command::WatchDropped);
            }
        });
        (tx, watch)
    }

    /// Whether a standard watch on `path` must be kept locally: on ZooKeeper 3.8 a standard
    /// watch replaces this session's persistent watch on the same path (ZOOKEEPER-4466), so
    /// the persistent watch's events serve it instead.
    fn covered_by_persistent(&self, path: &str) -> bool {
        self.shared
            .watches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .has_persistent_on(path)
    }

    fn create_request(&self, path: &str, data: &[u8], options: &CreateOptions) -> Result<Request> {
        let mode = options.mode;
        let opcode = if mode.is_container() {
            OpCode::CreateContainer
        } else if mode.is_ttl() {
            OpCode::CreateTtl
        } else {
            OpCode::Create2
        };
        Ok(Request::Create {
            opcode,
            path: self.server(path),
            data: data.to_vec(),
            acl: options.acl.clone(),
            flags: mode.flags(),
            ttl: options.ttl_millis()?,
        })
    }

    fn read_request(&self, op: &ReadOp) -> Result<Request> {
        match op {
            ReadOp::GetData { path } => Ok(Request::GetData {
                path: self.server(path),
                watch: false,
            }),
            ReadOp::GetChildren { path } => Ok(Request::GetChildren {
                path: self.server(path),
                watch: false,
            }),
        }
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl Coordinator for ZkClient {
    async fn create(&self, path: &str, data: &[u8], options: &CreateOptions) -> Result<Created> {
        validate::create(path, data, options, self.shared.max_packet)?;
        let request = self.create_request(path, data, options)?;
        match self.simple(request, path, -1).await? {
            Response::Create2 { path, stat } => Ok(Created {
                path: self.shared.chroot.to_client(&path),
                stat,
            }),
            other => Err(unexpected(other)),
        }
    }

    async fn delete(&self, path: &str, version: Option<i32>) -> Result<()> {
        validate_path(path)?;
        let v = self::version(version);
        let request = Request::Delete {
            path: self.server(path),
            version: v,
        };
        self.simple(request, path, v).await.map(|_| ())
    }

    async fn exists(&self, path: &str) -> Result<Option<Stat>> {
        validate_path(path)?;
        let request = Request::Exists {
            path: self.server(path),
            watch: false,
        };
        match self.simple(request, path, -1).await {
            Ok(Response::Stat(stat)) => Ok(Some(stat)),
            Ok(other) => Err(unexpected(other)),
            Err(Error::NoNode { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn watch_exists(&self, path: &str) -> Result<(Option<Stat>, OneshotWatch)> {
        validate_path(path)?;
        let (tx, watch) = self.oneshot();
        let request = Request::Exists {
            path: self.server(path),
            watch: !self.covered_by_persistent(path),
        };
        let intent = Some((path.to_owned(), WatchIntent::Exists(tx)));
        match self
            .call(request, vec![path.to_owned()], vec![-1], intent)
            .await
        {
            Ok((_, Response::Stat(stat))) => Ok((Some(stat), watch)),
            Ok((_, other)) => Err(unexpected(other)),
            Err(Error::NoNode { .. }) => Ok((None, watch)),
            Err(e) => Err(e),
        }
    }

    async fn get_data(&self, path: &str) -> Result<(Vec<u8>, Stat)> {
        validate_path(path)?;
        let request = Request::GetData {
            path: self.server(path),
            watch: false,
        };
        match self.simple(request, path, -1).await? {
            Response::Data { data, stat } => Ok((data, stat)),
            other => Err(unexpected(other)),
        }
    }

    async fn watch_data(&self, path: &str) -> Result<(Vec<u8>, Stat, OneshotWatch)> {
        validate_path(path)?;
        let (tx, watch) = self.oneshot();
        let request = Request::GetData {
            path: self.server(path),
            watch: !self.covered_by_persistent(path),
        };
        let intent = Some((path.to_owned(), WatchIntent::Data(tx)));
        match self
            .call(request, vec![path.to_owned()], vec![-1], intent)
            .await?
        {
            (_, Response::Data { data, stat }) => Ok((data, stat, watch)),
            (_, other) => Err(unexpected(other)),
        }
    }

    async fn set_data(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Stat> {
        validate::set_data(path, data, self.shared.max_packet)?;
        let v = self::version(version);
        let request = Request::SetData {
            path: self.server(path),
            data: data.to_vec(),
            version: v,
        };
        match self.simple(request, path, v).await? {
            Response::Stat(stat) => Ok(stat),
            other => Err(unexpected(other)),
        }
    }

    async fn get_children(&self, path: &str) -> Result<(Vec<String>, Stat)> {
        validate_path(path)?;
        let request = Request::GetChildren2 {
            path: self.server(path),
            watch: false,
        };
        match self.simple(request, path, -1).await? {
            Response::Children2 { children, stat } => Ok((children, stat)),
            other => Err(unexpected(other)),
        }
    }

    async fn watch_children(&self, path: &str) -> Result<(Vec<String>, Stat, OneshotWatch)> {
        validate_path(path)?;
        let (tx, watch) = self.oneshot();
        let request = Request::GetChildren2 {
            path: self.server(path),
            watch: true,
        };
        let intent = Some((path.to_owned(), WatchIntent::Child(tx)));
        match self
            .call(request, vec![path.to_owned()], vec![-1], intent)
            .await?
        {
            (_, Response::Children2 { children, stat }) => Ok((children, stat, watch)),
            (_, other) => Err(unexpected(other)),
        }
    }

    async fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat)> {
        validate_path(path)?;
        let request = Request::GetAcl {
            path: self.server(path),
        };
        match self.simple(request, path, -1).await? {
            Response::Acl { acl, stat } => Ok((acl, stat)),
            other => Err(unexpected(other)),
        }
    }

    async fn set_acl(&self, path: &str, acl: &[Acl], version: Option<i32>) -> Result<Stat> {
        validate::set_acl(path, acl, self.shared.max_packet)?;
        let v = self::version(version);
        let request = Request::SetAcl {
            path: self.server(path),
            acl: acl.to_vec(),
            version: v,
        };
        match self.simple(request, path, v).await? {
            Response::Stat(stat) => Ok(stat),
            other => Err(unexpected(other)),
        }
    }

    async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        validate::multi(ops, self.shared.max_packet)?;
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let mut requests = Vec::with_capacity(ops.len());
        let mut versions = Vec::with_capacity(ops.len());
        for op in ops {
            let (request, v) = match op {
                Op::Create {
                    path,
                    data,
                    options,
                } => (self.create_request(path, data, options)?, -1),
                Op::Delete { path, version } => (
                    Request::Delete {
                        path: self.server(path),
                        version: self::version(*version),
                    },
                    self::version(*version),
                ),
                Op::SetData {
                    path,
                    data,
                    version,
                } => (
                    Request::SetData {
                        path: self.server(path),
                        data: data.clone(),
                        version: self::version(*version),
                    },
                    self::version(*version),
                ),
                Op::Check { path, version } => (
                    Request::Check {
                        path: self.server(path),
                        version: self::version(*version),
                    },
                    self::version(*version),
                ),
            };
            requests.push(request);
            versions.push(v);
        }
        let paths: Vec<String> = ops.iter().map(|op| op.path().to_owned()).collect();
        let (_, response) = self
            .call(
                Request::Multi(requests),
                paths.clone(),
                versions.clone(),
                None,
            )
            .await?;
        let Response::Multi(results) = response else {
            return Err(unexpected(response));
        };
        if results.len() != ops.len() {
            return Err(Error::protocol(
                "multi reply has the wrong number of results",
            ));
        }
        let failed = results.iter().enumerate().find_map(|(i, r)| match r {
            MultiResult::Error(code) if *code != 0 => Some((i, *code)),
            _ => None,
        });
        if let Some((index, code)) = failed {
            let source = Error::from_code(code, &paths[index], versions[index], "multi")
                .unwrap_or(Error::RuntimeInconsistency);
            return Err(Error::Multi {
                index,
                source: Box::new(source),
            });
        }
        results
            .into_iter()
            .map(|r| match r {
                MultiResult::Create { path } => Ok(OpResult::Create {
                    path: self.shared.chroot.to_client(&path),
                    stat: None,
                }),
                MultiResult::Create2 { path, stat } => Ok(OpResult::Create {
                    path: self.shared.chroot.to_client(&path),
                    stat: Some(stat),
                }),
                MultiResult::Delete => Ok(OpResult::Delete),
                MultiResult::SetData(stat) => Ok(OpResult::SetData { stat }),
                MultiResult::Check => Ok(OpResult::Check),
                other => Err(Error::protocol(format!(
                    "unexpected multi result {other:?}"
                ))),
            })
            .collect()
    }

    async fn multi_read(&self, ops: &[ReadOp]) -> Result<Vec<Result<ReadResult>>> {
        validate::multi_read(ops)?;
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let requests = ops
            .iter()
            .map(|op| self.read_request(op))
            .collect::<Result<Vec<_>>>()?;
        let paths: Vec<String> = ops.iter().map(|op| op.path().to_owned()).collect();
        let (_, response) = self
            .call(Request::MultiRead(requests), paths.clone(), vec![-1], None)
            .await?;
        let Response::Multi(results) = response else {
            return Err(unexpected(response));
        };
        if results.len() != ops.len() {
            return Err(Error::protocol(
                "multiRead reply has the wrong number of results",
            ));
        }
        Ok(results
            .into_iter()
            .zip(&paths)
            .map(|(r, path)| match r {
                MultiResult::GetData { data, stat } => Ok(ReadResult::Data { data, stat }),
                MultiResult::GetChildren(children) => Ok(ReadResult::Children { children }),
                MultiResult::Error(code) => Err(Error::from_code(code, path, -1, "multiRead")
                    .unwrap_or(Error::RuntimeInconsistency)),
                other => Err(Error::protocol(format!(
                    "unexpected multiRead result {other:?}"
                ))),
            })
            .collect())
    }

    async fn sync(&self, path: &str) -> Result<()> {
        validate_path(path)?;
        let request = Request::Sync {
            path: self.server(path),
        };
        self.simple(request, path, -1).await.map(|_| ())
    }

    async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<PersistentWatch> {
        validate_path(path)?;
        let (tx, watch) = PersistentWatch::channel();
        let commands = self.shared.commands.downgrade();
        let watch = watch.on_drop(move || {
            if let Some(commands) = commands.upgrade() {
                let _ = commands.send(Command::WatchDropped);
            }
        });
        let request = Request::AddWatch {
            path: self.server(path),
            mode: mode.code(),
        };
        let intent = Some((path.to_owned(), WatchIntent::Persistent(tx, mode)));
        self.call(request, vec![path.to_owned()], vec![-1], intent)
            .await?;
        Ok(watch)
    }

    async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>> {
        validate::ephemerals_prefix(prefix)?;
        let server_prefix = if prefix.is_empty() {
            self.server("/")
        } else {
            self.server(prefix)
        };
        let request = Request::GetEphemerals {
            prefix: server_prefix,
        };
        match self.simple(request, prefix, -1).await? {
            Response::Ephemerals(paths) => Ok(paths
                .iter()
                .map(|p| self.shared.chroot.to_client(p))
                .collect()),
            other => Err(unexpected(other)),
        }
    }

    async fn get_all_children_number(&self, path: &str) -> Result<i32> {
        validate_path(path)?;
        let request = Request::GetAllChildrenNumber {
            path: self.server(path),
        };
        match self.simple(request, path, -1).await? {
            Response::Count(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.shared
            .commands
            .send(Command::Auth {
                scheme: scheme.to_owned(),
                auth: auth.to_vec(),
                reply,
            })
            .map_err(|_| Error::Closed)?;
        rx.await.unwrap_or(Err(Error::ConnectionLoss))
    }

    fn session_id(&self) -> i64 {
        self.shared.view.id.load(Ordering::Acquire)
    }

    fn session_timeout(&self) -> Duration {
        Duration::from_millis(self.shared.view.timeout_ms.load(Ordering::Acquire))
    }

    fn session_state(&self) -> watch::Receiver<SessionState> {
        self.shared.state_rx.clone()
    }

    async fn close(&self) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        if self.shared.commands.send(Command::Close { reply }).is_ok() {
            let _ = rx.await;
        }
        Ok(())
    }
}
