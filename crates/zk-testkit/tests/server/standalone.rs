//! A standalone server: start, probes, kill and restart with data, pause, stop, teardown.

use std::process::{Command, Stdio};
use std::time::Duration;

use zk_core::CreateMode;
use zk_testkit::server::{HarnessError, Mode, ZkServer, srvr_field};

use crate::probe::{NO_NODE, Probe};
use crate::support::{cmdline, exit_limit, process_exists, wait_until};

#[test]
fn a_server_survives_kill_restart_and_pause_then_stops() {
    let server = ZkServer::start().unwrap();
    let port = server.port();
    assert_eq!(server.connect_string(), format!("127.0.0.1:{port}"));
    assert_eq!(server.four_letter("ruok").unwrap(), "imok");
    let srvr = server.four_letter("srvr").unwrap();
    assert_eq!(Mode::from_srvr(&srvr), Some(Mode::Standalone), "{srvr}");
    assert!(
        srvr_field(&srvr, "Zookeeper version").is_some_and(|v| v.starts_with("3.")),
        "{srvr}"
    );
    let conf = server.four_letter("conf").unwrap();
    assert!(conf.lines().any(|l| l == "tickTime=2000"), "{conf}");

    let pid = server.pid().unwrap();
    let args = cmdline(pid);
    assert!(
        args.contains("-Dznode.container.checkIntervalMs=1000"),
        "{args}"
    );
    assert!(
        args.contains("org.apache.zookeeper.server.ZooKeeperServerMain"),
        "{args}"
    );
    assert!(server.data_dir().join("zoo.cfg").is_file());
    assert!(server.node().log_path().starts_with(server.data_dir()));

    // Write through a session, then crash the server.
    let mut probe = Probe::connect(server.node().address()).unwrap();
    assert!(probe.session.timeout_ms > 0);
    probe
        .create("/harness", b"kept", CreateMode::Persistent, None)
        .unwrap()
        .unwrap();
    let session = probe.session.clone();
    drop(probe);
    let watchdog = server.node().watchdog_pid().unwrap();
    server.kill();
    assert_eq!(server.pid(), None);
    assert!(!process_exists(pid), "the killed JVM {pid} was not reaped");
    let refused = server.four_letter("ruok").unwrap_err();
    assert!(
        matches!(refused, HarnessError::FourLetter { .. }),
        "{refused}"
    );
    assert!(!refused.is_timeout(), "{refused}");
    wait_until(exit_limit(), "the watchdog of a killed JVM exits", || {
        !process_exists(watchdog)
    });

    // Same port, same data, and the session can resume.
    server.restart().unwrap();
    assert_eq!(server.port(), port);
    let new_pid = server.pid().unwrap();
    assert_ne!(new_pid, pid);
    let mut probe = Probe::connect(server.node().address()).unwrap();
    assert_eq!(probe.get_data("/harness").unwrap(), Ok(b"kept".to_vec()));
    let resumed = Probe::resume(server.node().address(), &session).unwrap();
    assert!(!resumed.session.is_expired(), "{:?}", resumed.session);
    assert_eq!(resumed.session.session_id, session.session_id);
    drop(resumed);

    // A paused server accepts connections in the kernel but answers nothing.
    server.pause().unwrap();
    assert!(server.node().is_paused());
    let silent = server
        .node()
        .four_letter_with_timeout("ruok", Duration::from_millis(300))
        .unwrap_err();
    assert!(silent.is_timeout(), "{silent}");
    server.resume().unwrap();
    assert!(!server.node().is_paused());
    assert_eq!(server.four_letter("ruok").unwrap(), "imok");
    assert_eq!(probe.get_data("/harness").unwrap(), Ok(b"kept".to_vec()));
    drop(probe);

    // A graceful stop keeps the data directory; the process is gone.
    server.stop();
    assert_eq!(server.pid(), None);
    assert!(!process_exists(new_pid));
    assert!(server.data_dir().join("version-2").is_dir());
    assert!(matches!(
        server.pause(),
        Err(HarnessError::NotRunning { .. })
    ));
    let dir = server.data_dir().to_path_buf();
    drop(server);
    assert!(!dir.exists(), "{} was not removed", dir.display());
}

#[test]
fn dropping_a_server_in_a_panicking_test_removes_its_process_and_directory() {
    let (sender, receiver) = std::sync::mpsc::channel();
    let panicked = std::thread::spawn(move || {
        let server = ZkServer::start().unwrap();
        let node = server.node();
        sender
            .send((
                node.pid().unwrap(),
                node.watchdog_pid().unwrap(),
                server.data_dir().to_path_buf(),
            ))
            .unwrap();
        panic!("a test failing while it holds a server");
    })
    .join();
    assert!(panicked.is_err());
    let (pid, watchdog, dir) = receiver.recv().unwrap();
    assert!(!process_exists(pid), "JVM {pid} outlived its server");
    assert!(
        !process_exists(watchdog),
        "watchdog {watchdog} outlived its server"
    );
    assert!(!dir.exists(), "{} was not removed", dir.display());
}

#[test]
fn the_watchdog_kills_the_server_when_its_owner_dies() {
    // A stand-in for the test process: `cat` waits on its stdin until it is killed.
    let mut owner = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = ZkServer::builder().owner_pid(owner.id()).start().unwrap();
    let pid = server.pid().unwrap();
    let dir = server.data_dir().to_path_buf();
    assert_eq!(server.four_letter("ruok").unwrap(), "imok");

    owner.kill().unwrap();
    owner.wait().unwrap();
    wait_until(exit_limit(), "the watchdog kills the JVM", || {
        !server.node().is_running()
    });
    wait_until(exit_limit(), "the watchdog removes the directory", || {
        !dir.exists()
    });
    assert!(!process_exists(pid));
    assert!(server.four_letter("ruok").is_err());
}

#[test]
fn builder_options_reach_the_server() {
    let server = ZkServer::builder()
        .tick_time(Duration::from_millis(500))
        .config_line("maxClientCnxns=17")
        .system_property("zk.testkit.marker", "present")
        .heap_mib(128)
        .start()
        .unwrap();
    let conf = server.four_letter("conf").unwrap();
    assert!(conf.lines().any(|l| l == "tickTime=500"), "{conf}");
    assert!(conf.lines().any(|l| l == "maxClientCnxns=17"), "{conf}");
    let args = cmdline(server.pid().unwrap());
    assert!(args.contains("-Dzk.testkit.marker=present"), "{args}");
    assert!(args.contains("-Xmx128m"), "{args}");
}

#[test]
fn the_shared_server_starts_once_and_sweeps_ttl_and_container_nodes() {
    let shared = ZkServer::shared();
    assert!(std::ptr::eq(shared, ZkServer::shared()));
    assert_eq!(shared.four_letter("ruok").unwrap(), "imok");

    let root = format!("/sweep-{}", std::process::id());
    let mut probe = Probe::connect(shared.node().address()).unwrap();
    // TTL nodes need extendedTypesEnabled=true.
    let ttl = format!("{root}-ttl");
    probe
        .create(&ttl, b"", CreateMode::PersistentWithTtl, Some(1))
        .unwrap()
        .unwrap();
    let container = format!("{root}-container");
    probe
        .create(&container, b"", CreateMode::Container, None)
        .unwrap()
        .unwrap();
    let child = format!("{container}/child");
    probe
        .create(&child, b"", CreateMode::Persistent, None)
        .unwrap()
        .unwrap();
    probe.delete(&child).unwrap().unwrap();
    // The sweep runs every second; allow a few.
    wait_until(
        exit_limit(),
        "the TTL node and the empty container are swept",
        || {
            probe.get_data(&ttl).unwrap() == Err(NO_NODE)
                && probe.get_data(&container).unwrap() == Err(NO_NODE)
        },
    );
}
