//! Writing `zoo.cfg` and `myid`, and the JVM flags every test server gets.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::error::{HarnessError, Result};

/// The file name of a server's configuration inside its data directory.
pub(crate) const CONFIG_FILE: &str = "zoo.cfg";
/// The file the server logs to (through `slf4j-simple`), inside its data directory.
pub(crate) const LOG_FILE: &str = "zookeeper.log";
/// The file the JVM's own stdout and stderr go to, inside its data directory.
pub(crate) const JVM_OUTPUT_FILE: &str = "jvm.out";

/// Options shared by standalone servers and ensemble members.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `tickTime`.
    pub(crate) tick_time: Duration,
    /// `initLimit` in ticks (ensembles only).
    pub(crate) init_limit: u32,
    /// `syncLimit` in ticks (ensembles only).
    pub(crate) sync_limit: u32,
    /// `-D` system properties added after the defaults, so they override them.
    pub(crate) system_properties: Vec<(String, String)>,
    /// Other JVM options added after the defaults (for `-XX` flags the last one wins).
    pub(crate) jvm_options: Vec<String>,
    /// Lines appended to `zoo.cfg` after the defaults, so they override them.
    pub(crate) extra_config: Vec<String>,
    /// `-Xmx` in MiB.
    pub(crate) heap_mib: u32,
    /// How long start-up (and election) may take.
    pub(crate) start_timeout: Duration,
    /// The process whose exit kills the server (the current process unless set).
    pub(crate) owner_pid: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            tick_time: Duration::from_millis(2000),
            init_limit: 10,
            sync_limit: 2,
            system_properties: Vec::new(),
            jvm_options: Vec::new(),
            extra_config: Vec::new(),
            heap_mib: 256,
            start_timeout: Duration::from_secs(30).mul_f64(crate::timing::scale()),
            owner_pid: None,
        }
    }
}

/// One ensemble member's ports, as the `server.<id>` line needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Peer {
    /// The member's `myid` (1-based).
    pub(crate) id: usize,
    /// The quorum (follower-to-leader) port.
    pub(crate) quorum_port: u16,
    /// The leader-election port.
    pub(crate) election_port: u16,
}

/// Renders `zoo.cfg`: the common settings, the peers (for an ensemble member), then the
/// caller's extra lines, which win because ZooKeeper keeps the last value of a key.
pub(crate) fn render(
    settings: &Settings,
    data_dir: &Path,
    client_port: u16,
    peers: &[Peer],
) -> String {
    let mut cfg = String::new();
    let _ = writeln!(
        cfg,
        "# Written by zk-testkit for a test server; removed with it."
    );
    let _ = writeln!(cfg, "tickTime={}", settings.tick_time.as_millis().max(1));
    let _ = writeln!(cfg, "dataDir={}", data_dir.display());
    let _ = writeln!(cfg, "clientPort={client_port}");
    let _ = writeln!(cfg, "clientPortAddress=127.0.0.1");
    let _ = writeln!(cfg, "maxClientCnxns=0");
    let _ = writeln!(cfg, "extendedTypesEnabled=true");
    let _ = writeln!(cfg, "4lw.commands.whitelist=*");
    let _ = writeln!(cfg, "admin.enableServer=false");
    // Test data is thrown away, so skip fsync and the 64 MB log preallocation.
    let _ = writeln!(cfg, "forceSync=no");
    let _ = writeln!(cfg, "preAllocSize=1024");
    if !peers.is_empty() {
        let _ = writeln!(cfg, "initLimit={}", settings.init_limit);
        let _ = writeln!(cfg, "syncLimit={}", settings.sync_limit);
        let _ = writeln!(cfg, "quorumListenOnAllIPs=false");
        let _ = writeln!(cfg, "reconfigEnabled=false");
        // A dead peer refuses connections at once on loopback; a paused one would otherwise
        // hold each election connection attempt for the default 5 s.
        let _ = writeln!(cfg, "cnxTimeout=1000");
        for peer in peers {
            let _ = writeln!(
                cfg,
                "server.{}=127.0.0.1:{}:{}",
                peer.id, peer.quorum_port, peer.election_port
            );
        }
    }
    for line in &settings.extra_config {
        let _ = writeln!(cfg, "{line}");
    }
    cfg
}

/// The JVM arguments before the class path: a small heap, fast start-up flags, quiet logging
/// into `dir`, the one-second container sweep, then the caller's properties.
pub(crate) fn jvm_flags(settings: &Settings, dir: &Path) -> Vec<String> {
    let dir = dir.display();
    let mut flags = vec![
        format!("-Xmx{}m", settings.heap_mib),
        "-Xms32m".to_owned(),
        "-Xss512k".to_owned(),
        "-XX:+UseSerialGC".to_owned(),
        "-XX:TieredStopAtLevel=1".to_owned(),
        "-Xshare:auto".to_owned(),
        // No /tmp/hsperfdata_<user> files; crash reports stay in the data directory.
        "-XX:-UsePerfData".to_owned(),
        format!("-XX:ErrorFile={dir}/hs_err_pid%p.log"),
        "-Djava.awt.headless=true".to_owned(),
        "-Djava.net.preferIPv4Stack=true".to_owned(),
        // Containers and TTL nodes are swept every second instead of every minute.
        "-Dznode.container.checkIntervalMs=1000".to_owned(),
        "-Dzookeeper.jmx.log4j.disable=true".to_owned(),
        format!("-Dzookeeper.log.dir={dir}"),
        format!("-Dorg.slf4j.simpleLogger.logFile={dir}/{LOG_FILE}"),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=info".to_owned(),
        "-Dorg.slf4j.simpleLogger.showDateTime=true".to_owned(),
        "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS".to_owned(),
    ];
    flags.extend(settings.jvm_options.iter().cloned());
    for (key, value) in &settings.system_properties {
        flags.push(format!("-D{key}={value}"));
    }
    flags
}

/// Writes `text` to `path`, naming the file in the error.
pub(crate) fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)
        .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))
}

/// Writes an ensemble member's `myid` file into its data directory.
pub(crate) fn write_myid(data_dir: &Path, id: usize) -> Result<()> {
    write_file(&data_dir.join("myid"), &format!("{id}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standalone_config_has_the_test_settings() {
        let settings = Settings {
            extra_config: vec!["maxSessionTimeout=9000".into()],
            ..Settings::default()
        };
        let cfg = render(&settings, Path::new("/tmp/zk-testkit-x"), 4321, &[]);
        for line in [
            "tickTime=2000",
            "dataDir=/tmp/zk-testkit-x",
            "clientPort=4321",
            "clientPortAddress=127.0.0.1",
            "extendedTypesEnabled=true",
            "4lw.commands.whitelist=*",
            "admin.enableServer=false",
        ] {
            assert!(cfg.lines().any(|l| l == line), "{line} missing from\n{cfg}");
        }
        assert!(!cfg.contains("server.1"), "{cfg}");
        assert!(!cfg.contains("initLimit"), "{cfg}");
        assert_eq!(cfg.lines().last(), Some("maxSessionTimeout=9000"));
    }

    #[test]
    fn member_config_lists_every_peer() {
        let peers = [
            Peer {
                id: 1,
                quorum_port: 10,
                election_port: 11,
            },
            Peer {
                id: 2,
                quorum_port: 20,
                election_port: 21,
            },
        ];
        let cfg = render(&Settings::default(), Path::new("/d"), 5, &peers);
        assert!(cfg.contains("\nserver.1=127.0.0.1:10:11\n"), "{cfg}");
        assert!(cfg.contains("\nserver.2=127.0.0.1:20:21\n"), "{cfg}");
        assert!(cfg.contains("\ninitLimit=10\nsyncLimit=2\n"), "{cfg}");
    }

    #[test]
    fn jvm_flags_keep_the_server_quiet_and_fast() {
        let settings = Settings {
            system_properties: vec![("a.b".into(), "c".into())],
            jvm_options: vec!["-XX:TieredStopAtLevel=4".into()],
            ..Settings::default()
        };
        let flags = jvm_flags(&settings, Path::new("/d"));
        let fast = flags
            .iter()
            .position(|f| f == "-XX:TieredStopAtLevel=1")
            .unwrap();
        let full = flags
            .iter()
            .position(|f| f == "-XX:TieredStopAtLevel=4")
            .unwrap();
        assert!(
            full > fast,
            "a caller's option comes after the default it overrides"
        );
        assert!(flags.contains(&"-Dznode.container.checkIntervalMs=1000".to_owned()));
        assert!(flags.contains(&"-Xmx256m".to_owned()));
        assert!(flags.contains(&"-Dorg.slf4j.simpleLogger.logFile=/d/zookeeper.log".to_owned()));
        assert_eq!(flags.last().map(String::as_str), Some("-Da.b=c"));
    }
}
