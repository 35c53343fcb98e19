//! `ZkServer`: one standalone ZooKeeper on a free loopback port, like Curator's `TestingServer`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::config::{CONFIG_FILE, Settings, render, write_file};
use super::error::Result;
use super::install::{Installation, STANDALONE_MAIN};
use super::node::ZkNode;
use super::ports::free_ports;
use super::scratch::ScratchDir;

/// How many times start-up picks new ports after "address in use".
pub(crate) const START_ATTEMPTS: u32 = 3;

/// A standalone ZooKeeper server in a JVM child process, on `127.0.0.1` and a free port, with
/// its own temporary data directory.
///
/// It runs `org.apache.zookeeper.server.ZooKeeperServerMain` with `tickTime=2000`,
/// `extendedTypesEnabled=true` (TTL nodes), `4lw.commands.whitelist=*`,
/// `admin.enableServer=false`, and `-Dznode.container.checkIntervalMs=1000`, so containers and
/// expired TTL nodes disappear within about a second.
/// The JVM logs to `zookeeper.log` in [`ZkServer::data_dir`], never to the test's output.
///
/// Dropping the server kills the JVM (by its PID) and removes the directory, also when a test
/// panics. A watchdog shell kills the JVM and removes the directory if the test process dies
/// without running destructors, as with [`ZkServer::shared`].
///
/// ```no_run
/// use zk_testkit::server::ZkServer;
///
/// let server = ZkServer::start().expect("ZooKeeper must be installed");
/// assert_eq!(server.four_letter("ruok").unwrap(), "imok");
/// println!("connect to {}", server.connect_string());
/// server.kill();
/// server.restart().unwrap(); // same port, same data: sessions can resume
/// ```
#[derive(Debug)]
pub struct ZkServer {
    // Declared before `dir`, so the JVM is killed before its directory is removed.
    node: ZkNode,
    _dir: ScratchDir,
    /// The TLS client port, for a server started with [`ZkServerBuilder::secure`].
    secure_port: Option<u16>,
}

impl ZkServer {
    /// Starts a server with the default settings and waits until it serves.
    ///
    /// # Errors
    /// [`HarnessError::NotInstalled`](super::HarnessError::NotInstalled) (with the install
    /// command) when Java or ZooKeeper is missing; [`HarnessError::StartTimeout`] or
    /// [`HarnessError::Exited`](super::HarnessError::Exited) with the tail of the server log.
    ///
    /// [`HarnessError::StartTimeout`]: super::HarnessError::StartTimeout
    pub fn start() -> Result<ZkServer> {
        ZkServer::builder().start()
    }

    /// Options for a server: tick time, JVM system properties, extra `zoo.cfg` lines.
    pub fn builder() -> ZkServerBuilder {
        ZkServerBuilder::default()
    }

    /// One server for the whole test binary, started on first use and never dropped.
    ///
    /// The watchdog stops it within about a second after the test binary exits and removes its
    /// directory. Use it for tests that leave the server running (each under its own root
    /// path); tests that kill, pause or restart a server start their own.
    ///
    /// # Panics
    /// When the server cannot start; the message says why (and how to install ZooKeeper when it
    /// is missing). A later call tries again.
    pub fn shared() -> &'static ZkServer {
        static SHARED: OnceLock<ZkServer> = OnceLock::new();
        SHARED.get_or_init(|| match ZkServer::start() {
            Ok(server) => server,
            Err(e) => panic!("cannot start the shared ZooKeeper server: {e}"),
        })
    }

    /// The server process: everything below, plus log access and PIDs.
    pub fn node(&self) -> &ZkNode {
        &self.node
    }

    /// The connect string, `127.0.0.1:<port>`.
    pub fn connect_string(&self) -> String {
        self.node.connect_string()
    }

    /// The client port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.node.port()
    }

    /// `127.0.0.1:<port>` of the TLS client port, for a server started with
    /// [`ZkServerBuilder::secure`].
    pub fn secure_connect_string(&self) -> Option<String> {
        self.secure_port.map(|port| format!("127.0.0.1:{port}"))
    }

    /// The data directory; it lives as long as this value.
    pub fn data_dir(&self) -> &Path {
        self.node.data_dir()
    }

    /// The JVM's PID while it runs; `None` after [`ZkServer::stop`] or [`ZkServer::kill`].
    pub fn pid(&self) -> Option<u32> {
        self.node.pid()
    }

    /// Stops the server gracefully, keeping its data for [`ZkServer::restart`].
    pub fn stop(&self) {
        self.node.stop()
    }

    /// Kills the server with `SIGKILL`, keeping its data for [`ZkServer::restart`].
    pub fn kill(&self) {
        self.node.kill()
    }

    /// Starts the server again on the same port and data directory (stopping it first if it
    /// runs) and waits until it serves.
    ///
    /// # Errors
    /// As for [`ZkServer::start`].
    pub fn restart(&self) -> Result<()> {
        self.node.restart()
    }

    /// Pauses the server with `SIGSTOP`; see [`ZkNode::pause`].
    ///
    /// # Errors
    /// [`HarnessError::NotRunning`](super::HarnessError::NotRunning) when it is stopped.
    pub fn pause(&self) -> Result<()> {
        self.node.pause()
    }

    /// Continues a paused server with `SIGCONT`.
    ///
    /// # Errors
    /// [`HarnessError::NotRunning`](super::HarnessError::NotRunning) when it is stopped.
    pub fn resume(&self) -> Result<()> {
        self.node.resume()
    }

    /// Sends a four-letter word and returns the answer; see [`ZkNode::four_letter`].
    ///
    /// # Errors
    /// [`HarnessError::FourLetter`](super::HarnessError::FourLetter) when the server is down,
    /// paused or too slow.
    pub fn four_letter(&self, command: &str) -> Result<String> {
        self.node.four_letter(command)
    }
}

/// Options for [`ZkServer`]; [`ZkServer::builder`] makes one.
#[derive(Debug, Clone, Default)]
pub struct ZkServerBuilder {
    settings: Settings,
    secure: Option<Secure>,
}

/// A TLS client port's files and policy.
#[derive(Debug, Clone)]
struct Secure {
    keystore: PathBuf,
    truststore: PathBuf,
    need_client_auth: bool,
}

impl ZkServerBuilder {
    /// Sets `tickTime` (default 2 s); session timeouts are bounded by 2 and 20 ticks.
    pub fn tick_time(mut self, tick: Duration) -> Self {
        self.settings.tick_time = tick;
        self
    }

    /// Adds a JVM system property, passed as `-Dkey=value` after the defaults (so it can
    /// override `znode.container.checkIntervalMs`, say).
    pub fn system_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings
            .system_properties
            .push((key.into(), value.into()));
        self
    }

    /// Adds a JVM option after the defaults, e.g. `-XX:TieredStopAtLevel=4` to undo the
    /// fast-start flag when benchmarking (for `-XX` flags the last one wins).
    pub fn jvm_option(mut self, option: impl Into<String>) -> Self {
        self.settings.jvm_options.push(option.into());
        self
    }

    /// Appends a line such as `maxSessionTimeout=60000` to `zoo.cfg`; it overrides the
    /// defaults.
    pub fn config_line(mut self, line: impl Into<String>) -> Self {
        self.settings.extra_config.push(line.into());
        self
    }

    /// Sets the JVM's maximum heap in MiB (default 256).
    pub fn heap_mib(mut self, mib: u32) -> Self {
        self.settings.heap_mib = mib.max(16);
        self
    }

    /// Sets how long start-up may take (default 30 s, scaled by `ZK_TEST_TIMEOUT_SCALE`).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.settings.start_timeout = timeout;
        self
    }

    /// Ties the server's life to another process: the watchdog kills the server and removes
    /// its directory when process `pid` exits (by default, the current process).
    pub fn owner_pid(mut self, pid: u32) -> Self {
        self.settings.owner_pid = Some(pid);
        self
    }

    /// Also serves TLS on a second loopback port ([`ZkServer::secure_connect_string`]),
    /// through Netty: `keystore_pem` holds the server's private key (PKCS#8) and certificate
    /// chain, `truststore_pem` the CAs it trusts for client certificates, and
    /// `need_client_auth` makes clients present one (mutual TLS).
    pub fn secure(
        mut self,
        keystore_pem: impl Into<PathBuf>,
        truststore_pem: impl Into<PathBuf>,
        need_client_auth: bool,
    ) -> Self {
        self.secure = Some(Secure {
            keystore: keystore_pem.into(),
            truststore: truststore_pem.into(),
            need_client_auth,
        });
        self
    }

    /// Starts the server and waits until it serves.
    ///
    /// # Errors
    /// As for [`ZkServer::start`].
    pub fn start(self) -> Result<ZkServer> {
        let installation = Installation::detect()?;
        let mut attempt = 1;
        loop {
            let dir = ScratchDir::new("server")?;
            let ports = free_ports(1 + usize::from(self.secure.is_some()))?;
            let (port, secure_port) = (ports[0], ports.get(1).copied());
            let mut settings = self.settings.clone();
            if let (Some(secure), Some(secure_port)) = (&self.secure, secure_port) {
                settings
                    .extra_config
                    .extend(secure_lines(secure, secure_port));
            }
            let cfg = render(&settings, dir.path(), port, &[]);
            write_file(&dir.path().join(CONFIG_FILE), &cfg)?;
            let node = ZkNode::new(
                format!("ZooKeeper server 127.0.0.1:{port}"),
                installation,
                self.settings.clone(),
                STANDALONE_MAIN,
                dir.path().to_path_buf(),
                dir.path().to_path_buf(),
                port,
                false,
            );
            node.spawn()?;
            let server = ZkServer {
                node,
                _dir: dir,
                secure_port,
            };
            match server
                .node
                .wait_ready(Instant::now() + self.settings.start_timeout)
            {
                Ok(()) => return Ok(server),
                Err(e) if e.is_address_in_use() && attempt < START_ATTEMPTS => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }
}

/// The `zoo.cfg` lines of a TLS client port (Netty serves it; the plain port stays, for the
/// harness's four-letter probes).
fn secure_lines(secure: &Secure, port: u16) -> Vec<String> {
    vec![
        "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory".to_owned(),
        format!("secureClientPort={port}"),
        "secureClientPortAddress=127.0.0.1".to_owned(),
        format!("ssl.keyStore.location={}", secure.keystore.display()),
        "ssl.keyStore.type=PEM".to_owned(),
        format!("ssl.trustStore.location={}", secure.truststore.display()),
        "ssl.trustStore.type=PEM".to_owned(),
        format!(
            "ssl.clientAuth={}",
            if secure.need_client_auth {
                "need"
            } else {
                "none"
            }
        ),
    ]
}
