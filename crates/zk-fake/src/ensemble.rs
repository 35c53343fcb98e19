//! The in-memory ensemble: configuration, the shared server state, and the handle users hold.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use rustc_hash::FxHashMap;
use tokio::sync::watch;
use tokio::time::Instant;
use zk_core::{EventType, Id, Perms, SessionState, Stat};

use crate::acl_check::{CLIENT_IP, allows, authenticate};
use crate::faults::{FaultPlan, Faults};
use crate::session::{FakeSession, SessionOptions};
use crate::tree::Tree;
use zk_core::watch::WatchRegistry;

/// Settings of a [`FakeEnsemble`], fixed when it is built.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) tick_time: Duration,
    pub(crate) extended_types: bool,
    pub(crate) sweep_interval: Duration,
    pub(crate) max_packet: usize,
    pub(crate) epoch_millis: i64,
    pub(crate) super_digest: Option<String>,
    pub(crate) multi_create_stat: bool,
    pub(crate) reconnect_delay: Duration,
    pub(crate) filter_notifications: bool,
    pub(crate) persistent_watches: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tick_time: Duration::from_millis(2000),
            extended_types: true,
            sweep_interval: Duration::from_secs(1),
            max_packet: zk_core::DEFAULT_MAX_PACKET,
            epoch_millis: 1_700_000_000_000,
            super_digest: None,
            multi_create_stat: false,
            reconnect_delay: Duration::from_millis(1),
            filter_notifications: true,
            persistent_watches: true,
        }
    }
}

/// Builds a [`FakeEnsemble`] with non-default settings.
#[derive(Debug, Clone, Default)]
pub struct FakeEnsembleBuilder {
    config: Config,
}

impl FakeEnsembleBuilder {
    /// The server tick; session timeouts are clamped to 2 to 20 ticks (default 2 s, so 4–40 s).
    pub fn tick_time(mut self, tick: Duration) -> Self {
        self.config.tick_time = tick;
        self
    }

    /// Whether `add_watch` (persistent watches, ZooKeeper 3.6+) is available (default true).
    /// Without it the fake answers like a 3.5 server: `add_watch` fails with `Unimplemented`,
    /// so code that falls back to one-shot watches can be tested.
    pub fn persistent_watches(mut self, enabled: bool) -> Self {
        self.config.persistent_watches = enabled;
        self
    }

    /// Whether TTL nodes are enabled (ZooKeeper's `extendedTypesEnabled`; default true).
    /// Without them TTL creates fail with `Unimplemented`.
    pub fn extended_types(mut self, enabled: bool) -> Self {
        self.config.extended_types = enabled;
        self
    }

    /// How often emptied containers and expired TTL nodes are swept (default 1 s; real servers
    /// default to 60 s, set with `znode.container.checkIntervalMs`).
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.config.sweep_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// The packet limit (`jute.maxbuffer`, default 1,048,575 bytes).
    pub fn max_packet(mut self, bytes: usize) -> Self {
        self.config.max_packet = bytes;
        self
    }

    /// The wall-clock time, in ms since the epoch, that `ctime`/`mtime` start from (the fake
    /// never reads the real clock).
    pub fn epoch_millis(mut self, millis: i64) -> Self {
        self.config.epoch_millis = millis;
        self
    }

    /// Makes digest user `user` with `password` a super user, who passes every ACL check
    /// (ZooKeeper's `zookeeper.DigestAuthenticationProvider.superDigest`).
    pub fn super_user(mut self, user: &str, password: &str) -> Self {
        self.config.super_digest = Some(zk_core::digest_id(user, password));
        self
    }

    /// Whether plain creates inside `multi` report their Stat (default false, as ZooKeeper
    /// 3.8.0 does; 3.8.2+ and 3.9 report it).
    pub fn multi_create_stat(mut self, enabled: bool) -> Self {
        self.config.multi_create_stat = enabled;
        self
    }

    /// How long a handle takes to reconnect after a lost connection, or to open a new session
    /// after expiry (default 1 ms of tokio time), so state watchers see `Disconnected` or
    /// `Expired` before `SyncConnected`.
    pub fn reconnect_delay(mut self, delay: Duration) -> Self {
        self.config.reconnect_delay = delay;
        self
    }

    /// Whether a session hears only of nodes it may READ (default true): the fix for
    /// CVE-2024-23944 in ZooKeeper 3.8.4+, 3.9.2+ and distributions' patched 3.8.0 builds
    /// (Debian's among them). Turn it off to model an unpatched server, which notifies every
    /// watcher regardless of ACLs.
    pub fn filter_notifications_by_acl(mut self, enabled: bool) -> Self {
        self.config.filter_notifications = enabled;
        self
    }

    /// Builds the ensemble.
    pub fn build(self) -> FakeEnsemble {
        FakeEnsemble {
            shared: Arc::new(Shared {
                state: Mutex::new(ServerState::new(self.config)),
            }),
        }
    }
}

/// An in-memory ZooKeeper ensemble that behaves like a real 3.8 server.
///
/// Each [`FakeEnsemble::connect`] opens an independent session implementing
/// [`zk_core::Coordinator`], so contention between clients can be tested in one process.
/// Cloning the ensemble clones the handle, not the tree.
///
/// ```
/// use zk_core::{Coordinator, CreateOptions};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> zk_core::Result<()> {
/// let ensemble = zk_fake::FakeEnsemble::new();
/// let (a, b) = (ensemble.connect(), ensemble.connect());
/// a.create("/owner", b"a", &CreateOptions::ephemeral()).await?;
/// assert_eq!(b.get_data("/owner").await?.0, b"a");
/// a.close().await?;
/// assert!(b.exists("/owner").await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FakeEnsemble {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) state: Mutex<ServerState>,
}

impl fmt::Debug for FakeEnsemble {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        f.debug_struct("FakeEnsemble")
            .field("last_zxid", &st.zxid)
            .field("nodes", &st.tree.len())
            .field("sessions", &st.sessions.len())
            .finish()
    }
}

impl Default for FakeEnsemble {
    fn default() -> Self {
        FakeEnsemble::new()
    }
}

impl FakeEnsemble {
    /// An ensemble with default settings: tick 2 s, TTL enabled, sweeps every second.
    pub fn new() -> FakeEnsemble {
        FakeEnsemble::builder().build()
    }

    /// A builder for other settings.
    pub fn builder() -> FakeEnsembleBuilder {
        FakeEnsembleBuilder::default()
    }

    /// Opens a new session with default options (10 s timeout, renewed after expiry).
    pub fn connect(&self) -> FakeSession {
        self.connect_with(SessionOptions::default())
    }

    /// Opens a new session with `options`.
    pub fn connect_with(&self, options: SessionOptions) -> FakeSession {
        let (client, state_rx, lingering) = self.with_state(|st| st.open_client(&options));
        if let Some((session_id, timeout)) = lingering {
            self.expire_later(session_id, timeout);
        }
        FakeSession::new(self.clone(), client, state_rx)
    }

    /// The fault-injection handle.
    pub fn faults(&self) -> Faults {
        Faults {
            ensemble: self.clone(),
        }
    }

    /// The zxid of the last transaction.
    pub fn last_zxid(&self) -> i64 {
        self.lock().zxid
    }

    /// The ids of the live sessions, in ascending order.
    pub fn session_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.lock().sessions.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// How many watches the live session `session_id` holds and still listens to (one-shot
    /// watches not fired yet, and persistent ones; a dropped watch is not counted); `None` for
    /// no live session of that id. A test that runs a watcher through many changes
    /// checks with it that watches do not pile up.
    pub fn watch_count(&self, session_id: i64) -> Option<usize> {
        let state = self.lock();
        let client = state.sessions.get(&session_id)?;
        state.clients.get(client).map(|c| c.watches.live())
    }

    /// Every node with its data and Stat, keyed by path (the `/zookeeper` system nodes included).
    pub fn snapshot(&self) -> BTreeMap<String, (Vec<u8>, Stat)> {
        self.lock()
            .tree
            .iter()
            .map(|(path, node)| (path.clone(), (node.data.clone(), node.stat)))
            .collect()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, ServerState> {
        // A panic while holding the lock cannot leave the tree half-changed in a way later
        // calls could not cope with, so a poisoned lock is still usable.
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn with_state<T>(&self, f: impl FnOnce(&mut ServerState) -> T) -> T {
        let mut guard = self.lock();
        let out = f(&mut guard);
        drop(guard);
        out
    }

    pub(crate) fn downgrade(&self) -> Weak<Shared> {
        Arc::downgrade(&self.shared)
    }

    pub(crate) fn upgrade(weak: &Weak<Shared>) -> Option<FakeEnsemble> {
        weak.upgrade().map(|shared| FakeEnsemble { shared })
    }
}

/// A node event waiting for delivery, with the ACL that decides who may hear of it: the node's
/// own, or for `NodeChildrenChanged` its parent's (the node is the parent then).
#[derive(Debug)]
pub(crate) struct NodeEvent {
    pub(crate) kind: EventType,
    pub(crate) path: String,
    pub(crate) acl: Vec<zk_core::Acl>,
}

/// Where one client's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    Connected,
    /// Cut off; `last_zxid` is what the client had seen, for SetWatches on return.
    Disconnected {
        last_zxid: i64,
    },
    /// The session expired; a new one opens when the connection returns (unless terminal).
    Expired,
    AuthFailed,
    Closed,
}

/// One client library instance: a handle lineage that may go through several sessions.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) state_tx: watch::Sender<SessionState>,
    pub(crate) session_id: i64,
    pub(crate) timeout: Duration,
    pub(crate) terminal_expiry: bool,
    pub(crate) identities: Vec<Id>,
    pub(crate) link: Link,
    pub(crate) watches: WatchRegistry,
    /// Bumped by every connection change, so stale timers know to do nothing.
    pub(crate) generation: u64,
    /// No reply of this client may arrive before this instant (keeps delayed replies in order).
    pub(crate) reply_at: Option<Instant>,
    /// The application dropped every handle; the session is left to time out.
    pub(crate) abandoned: bool,
}

/// Everything the "server" knows, behind one lock.
#[derive(Debug)]
pub(crate) struct ServerState {
    pub(crate) config: Config,
    pub(crate) zxid: i64,
    pub(crate) tree: Tree,
    pub(crate) clients: FxHashMap<u64, Client>,
    /// Live sessions and the client that holds each.
    pub(crate) sessions: FxHashMap<i64, u64>,
    pub(crate) faults: FaultPlan,
    pub(crate) sweeper_running: bool,
    /// A container or TTL node was created, so the sweeper must run.
    pub(crate) sweep_wanted: bool,
    /// Node events of the running operation, delivered when it completes.
    pub(crate) events: Vec<NodeEvent>,
    /// Whether any watch was ever registered; until then no event needs recording.
    pub(crate) watched: bool,
    next_client: u64,
    next_session: i64,
    start: Instant,
}

impl ServerState {
    fn new(config: Config) -> ServerState {
        let session_base = (1i64 << 56) | ((config.epoch_millis & 0xFF_FFFF_FFFF) << 16);
        ServerState {
            config,
            zxid: 0,
            tree: Tree::new(),
            clients: FxHashMap::default(),
            sessions: FxHashMap::default(),
            faults: FaultPlan::default(),
            sweeper_running: false,
            sweep_wanted: false,
            events: Vec::new(),
            watched: false,
            next_client: 0,
            next_session: session_base,
            start: Instant::now(),
        }
    }

    /// Milliseconds since the epoch on the fake's clock (tokio time from `epoch_millis`).
    pub(crate) fn now_millis(&self) -> i64 {
        let elapsed = Instant::now().saturating_duration_since(self.start);
        self.config.epoch_millis + elapsed.as_millis() as i64
    }

    /// Starts a transaction and returns its zxid.
    pub(crate) fn next_zxid(&mut self) -> i64 {
        self.zxid += 1;
        self.zxid
    }

    /// Creates a session (a transaction of its own) and returns its id.
    pub(crate) fn new_session(&mut self, client: u64) -> i64 {
        self.next_zxid();
        self.next_session += 1;
        let id = self.next_session;
        self.sessions.insert(id, client);
        id
    }

    fn negotiate(&self, requested: Duration) -> Duration {
        let tick = self.config.tick_time;
        requested.clamp(tick * 2, tick * 20)
    }

    /// Opens a client and its first session, then presents its credentials; returns the session
    /// left lingering when they are refused.
    fn open_client(
        &mut self,
        options: &SessionOptions,
    ) -> (u64, watch::Receiver<SessionState>, Option<(i64, Duration)>) {
        self.next_client += 1;
        let client = self.next_client;
        let session_id = self.new_session(client);
        let (state_tx, state_rx) = watch::channel(SessionState::SyncConnected);
        self.clients.insert(
            client,
            Client {
                state_tx,
                session_id,
                timeout: self.negotiate(options.timeout),
                terminal_expiry: options.terminal_expiry,
                identities: vec![Id::new("ip", CLIENT_IP)],
                link: Link::Connected,
                watches: WatchRegistry::default(),
                generation: 0,
                reply_at: None,
                abandoned: false,
            },
        );
        let super_digest = self.config.super_digest.clone();
        for (scheme, auth) in &options.auth {
            match authenticate(scheme, auth, super_digest.as_deref()) {
                Some(ids) => {
                    let identities = &mut self.client_mut(client).identities;
                    for id in ids {
                        if !identities.contains(&id) {
                            identities.push(id);
                        }
                    }
                }
                None => return (client, state_rx, Some(self.auth_failed(client))),
            }
        }
        (client, state_rx, None)
    }

    pub(crate) fn client(&self, client: u64) -> &Client {
        &self.clients[&client]
    }

    pub(crate) fn client_mut(&mut self, client: u64) -> &mut Client {
        self.clients
            .get_mut(&client)
            .expect("client record outlives its handles")
    }

    /// Delivers the queued node events to every connected client's watches.
    pub(crate) fn flush_events(&mut self) {
        if self.events.is_empty() {
            return;
        }
        let mut events = std::mem::take(&mut self.events);
        let filter = self.config.filter_notifications;
        for event in events.drain(..) {
            for client in self.clients.values_mut() {
                if client.link != Link::Connected {
                    continue;
                }
                // CVE-2024-23944: a session hears only of nodes it may read.
                if filter && !allows(&event.acl, &client.identities, Perms::READ) {
                    continue;
                }
                client.watches.fire(event.kind, &event.path);
            }
        }
        self.events = events;
    }
}
