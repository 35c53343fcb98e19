//! `ZkEnsemble`: n ZooKeeper servers in one quorum on loopback ports, like Curator's `TestingCluster`.

use std::time::{Duration, Instant};

use super::config::{CONFIG_FILE, Peer, Settings, render, write_file, write_myid};
use super::error::{HarnessError, Result};
use super::four_letter::Mode;
use super::install::{Installation, QUORUM_MAIN};
use super::node::ZkNode;
use super::ports::free_ports;
use super::scratch::ScratchDir;
use super::standalone::START_ATTEMPTS;

/// The pause between leader checks.
const POLL: Duration = Duration::from_millis(100);

/// An ensemble of `n` `QuorumPeerMain` servers on `127.0.0.1`, each with its own client,
/// quorum and election ports and data directory (with `myid`), sharing one temporary root.
///
/// Members get the same settings as a [`ZkServer`](super::ZkServer) (TTL nodes, every
/// four-letter word, one-second container sweep, no admin server), plus `initLimit=10` and
/// `syncLimit=2` ticks, so a dead or paused leader is noticed within about four seconds.
/// Dropping the ensemble kills every member by PID and removes the root; each member has its
/// own watchdog, as a standalone server does.
///
/// ```no_run
/// use zk_testkit::server::ZkEnsemble;
///
/// let ensemble = ZkEnsemble::start(3).expect("ZooKeeper must be installed");
/// let leader = ensemble.leader().expect("one leader");
/// ensemble.member(leader).kill();
/// let new_leader = ensemble.wait_for_leader().unwrap();
/// assert_ne!(new_leader, leader);
/// ensemble.member(leader).restart().unwrap(); // rejoins as a follower
/// ```
#[derive(Debug)]
pub struct ZkEnsemble {
    // Declared before `root`, so the JVMs are killed before the directory is removed.
    members: Vec<ZkNode>,
    settings: Settings,
    _root: ScratchDir,
}

impl ZkEnsemble {
    /// Starts `n` members with the default settings and waits until every member serves and
    /// exactly one is the leader.
    ///
    /// # Errors
    /// As for [`ZkServer::start`](super::ZkServer::start); a
    /// [`HarnessError::StartTimeout`] also when no single leader emerges in time.
    pub fn start(n: usize) -> Result<ZkEnsemble> {
        ZkEnsemble::builder().size(n).start()
    }

    /// Options for an ensemble (size, tick time, limits, JVM properties, extra `zoo.cfg` lines).
    pub fn builder() -> ZkEnsembleBuilder {
        ZkEnsembleBuilder::default()
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false: an ensemble has at least one member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Member `i` (0-based; its `myid` is `i + 1`), to kill, restart, pause or probe.
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn member(&self, i: usize) -> &ZkNode {
        &self.members[i]
    }

    /// Every member, in `myid` order.
    pub fn members(&self) -> &[ZkNode] {
        &self.members
    }

    /// The connect string naming every member: `127.0.0.1:p1,127.0.0.1:p2,…`.
    pub fn connect_string(&self) -> String {
        self.members
            .iter()
            .map(ZkNode::connect_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The member that reports `Mode: leader` now, if exactly one does (stopped and paused
    /// members are not asked).
    pub fn leader(&self) -> Option<usize> {
        match self.modes().as_slice() {
            modes if modes.iter().filter(|m| m.1 == Some(Mode::Leader)).count() == 1 => modes
                .iter()
                .find(|m| m.1 == Some(Mode::Leader))
                .map(|m| m.0),
            _ => None,
        }
    }

    /// Waits until every running, unpaused member serves and exactly one of them leads, and
    /// returns the leader; use it after killing or pausing members.
    ///
    /// # Errors
    /// [`HarnessError::StartTimeout`] when that does not happen within the start timeout (with
    /// a quorum lost, it never does).
    pub fn wait_for_leader(&self) -> Result<usize> {
        self.wait_for_leader_until(Instant::now() + self.settings.start_timeout)
    }

    fn wait_for_leader_until(&self, deadline: Instant) -> Result<usize> {
        let started = Instant::now();
        // Bounded by the deadline.
        loop {
            let modes = self.modes();
            let leaders: Vec<usize> = modes
                .iter()
                .filter(|m| m.1 == Some(Mode::Leader))
                .map(|m| m.0)
                .collect();
            let all_serving = modes
                .iter()
                .all(|m| matches!(m.1, Some(Mode::Leader | Mode::Follower | Mode::Observer)));
            if all_serving && leaders.len() == 1 {
                return Ok(leaders[0]);
            }
            if Instant::now() >= deadline {
                let summary = modes
                    .iter()
                    .map(|(i, mode)| format!("member {i}: {mode:?}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let log_tail = self
                    .members
                    .iter()
                    .enumerate()
                    .map(|(i, m)| format!("--- member {i} ---\n{}", m.log_tail(15)))
                    .collect::<String>();
                return Err(HarnessError::StartTimeout {
                    server: format!("ensemble {}", self.connect_string()),
                    waited: started.elapsed(),
                    reason: format!("no single leader among the serving members ({summary})"),
                    log_tail,
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// `(index, mode)` of every running, unpaused member.
    fn modes(&self) -> Vec<(usize, Option<Mode>)> {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.is_running() && !m.is_paused())
            .map(|(i, m)| (i, m.mode()))
            .collect()
    }
}

/// Options for [`ZkEnsemble`]; [`ZkEnsemble::builder`] makes one.
#[derive(Debug, Clone)]
pub struct ZkEnsembleBuilder {
    size: usize,
    settings: Settings,
}

impl Default for ZkEnsembleBuilder {
    fn default() -> Self {
        ZkEnsembleBuilder {
            size: 3,
            settings: Settings::default(),
        }
    }
}

impl ZkEnsembleBuilder {
    /// Sets the number of members (default 3; at least 1).
    pub fn size(mut self, n: usize) -> Self {
        self.size = n.max(1);
        self
    }

    /// Sets `tickTime` (default 2 s).
    pub fn tick_time(mut self, tick: Duration) -> Self {
        self.settings.tick_time = tick;
        self
    }

    /// Sets `initLimit` and `syncLimit` in ticks (defaults 10 and 2).
    pub fn limits(mut self, init_limit: u32, sync_limit: u32) -> Self {
        self.settings.init_limit = init_limit.max(1);
        self.settings.sync_limit = sync_limit.max(1);
        self
    }

    /// Adds a JVM system property for every member, passed as `-Dkey=value`.
    pub fn system_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings
            .system_properties
            .push((key.into(), value.into()));
        self
    }

    /// Appends a line to every member's `zoo.cfg`; it overrides the defaults.
    pub fn config_line(mut self, line: impl Into<String>) -> Self {
        self.settings.extra_config.push(line.into());
        self
    }

    /// Adds a JVM option for every member after the defaults, e.g. `-XX:TieredStopAtLevel=4`
    /// to undo the fast-start flag when benchmarking (for `-XX` flags the last one wins).
    pub fn jvm_option(mut self, option: impl Into<String>) -> Self {
        self.settings.jvm_options.push(option.into());
        self
    }

    /// Sets each JVM's maximum heap in MiB (default 256).
    pub fn heap_mib(mut self, mib: u32) -> Self {
        self.settings.heap_mib = mib.max(16);
        self
    }

    /// Sets how long start-up, restarts and [`ZkEnsemble::wait_for_leader`] may take (default
    /// 30 s, scaled by `ZK_TEST_TIMEOUT_SCALE`).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.settings.start_timeout = timeout;
        self
    }

    /// Ties the members' lives to another process; see
    /// [`ZkServerBuilder::owner_pid`](super::ZkServerBuilder::owner_pid).
    pub fn owner_pid(mut self, pid: u32) -> Self {
        self.settings.owner_pid = Some(pid);
        self
    }

    /// Starts every member and waits until all serve under one leader.
    ///
    /// # Errors
    /// As for [`ZkEnsemble::start`].
    pub fn start(self) -> Result<ZkEnsemble> {
        let installation = Installation::detect()?;
        let mut attempt = 1;
        loop {
            match self.try_start(installation) {
                Err(e) if e.is_address_in_use() && attempt < START_ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    fn try_start(&self, installation: &'static Installation) -> Result<ZkEnsemble> {
        let n = self.size;
        let root = ScratchDir::new("ensemble")?;
        let ports = free_ports(3 * n)?;
        let peers: Vec<Peer> = (0..n)
            .map(|i| Peer {
                id: i + 1,
                quorum_port: ports[3 * i + 1],
                election_port: ports[3 * i + 2],
            })
            .collect();
        let mut members = Vec::with_capacity(n);
        for (i, peer) in peers.iter().enumerate() {
            let client_port = ports[3 * i];
            let dir = root.path().join(format!("member-{}", peer.id));
            std::fs::create_dir(&dir)
                .map_err(|e| HarnessError::io(format!("creating {}", dir.display()), e))?;
            write_file(
                &dir.join(CONFIG_FILE),
                &render(&self.settings, &dir, client_port, &peers),
            )?;
            write_myid(&dir, peer.id)?;
            members.push(ZkNode::new(
                format!(
                    "ensemble member {i} (myid {}, 127.0.0.1:{client_port})",
                    peer.id
                ),
                installation,
                self.settings.clone(),
                QUORUM_MAIN,
                dir,
                root.path().to_path_buf(),
                client_port,
                true,
            ));
        }
        let ensemble = ZkEnsemble {
            members,
            settings: self.settings.clone(),
            _root: root,
        };
        for member in &ensemble.members {
            member.spawn()?;
        }
        let deadline = Instant::now() + self.settings.start_timeout;
        for member in &ensemble.members {
            member.wait_ready(deadline)?;
        }
        ensemble.wait_for_leader_until(deadline)?;
        Ok(ensemble)
    }
}
