//! A three-member ensemble: one leader, failover after killing it, and the old leader rejoining.

use std::collections::HashSet;

use zk_core::CreateMode;
use zk_testkit::server::{Mode, ZkEnsemble};

use crate::probe::Probe;
use crate::support::process_exists;

#[test]
fn an_ensemble_fails_over_and_the_killed_leader_rejoins() {
    let ensemble = ZkEnsemble::start(3).unwrap();
    assert_eq!(ensemble.len(), 3);
    let connect = ensemble.connect_string();
    let hosts: HashSet<&str> = connect.split(',').collect();
    assert_eq!(hosts.len(), 3, "{connect}");
    assert!(
        hosts.iter().all(|h| h.starts_with("127.0.0.1:")),
        "{connect}"
    );
    for (i, member) in ensemble.members().iter().enumerate() {
        let myid = std::fs::read_to_string(member.data_dir().join("myid")).unwrap();
        assert_eq!(myid.trim(), (i + 1).to_string());
        assert_eq!(member.four_letter("ruok").unwrap(), "imok");
    }

    let leader = ensemble.leader().expect("one leader after start");
    let modes: Vec<Option<Mode>> = ensemble.members().iter().map(|m| m.mode()).collect();
    assert_eq!(
        modes.iter().filter(|m| **m == Some(Mode::Leader)).count(),
        1,
        "{modes:?}"
    );
    assert_eq!(
        modes.iter().filter(|m| **m == Some(Mode::Follower)).count(),
        2,
        "{modes:?}"
    );

    // Write through a follower, then kill the leader.
    let follower = (0..3).find(|i| *i != leader).unwrap();
    let mut probe = Probe::connect(ensemble.member(follower).address()).unwrap();
    probe
        .create("/failover", b"v1", CreateMode::Persistent, None)
        .unwrap()
        .unwrap();
    drop(probe);
    let old_pid = ensemble.member(leader).pid().unwrap();
    ensemble.member(leader).kill();
    assert!(!process_exists(old_pid));

    let new_leader = ensemble.wait_for_leader().unwrap();
    assert_ne!(new_leader, leader);
    let mut probe = Probe::connect(ensemble.member(new_leader).address()).unwrap();
    assert_eq!(probe.get_data("/failover").unwrap(), Ok(b"v1".to_vec()));
    probe
        .create("/while-down", b"v2", CreateMode::Persistent, None)
        .unwrap()
        .unwrap();
    drop(probe);

    // The old leader comes back as a follower and catches up.
    ensemble.member(leader).restart().unwrap();
    assert_eq!(ensemble.member(leader).mode(), Some(Mode::Follower));
    assert_eq!(ensemble.wait_for_leader().unwrap(), new_leader);
    let mut probe = Probe::connect(ensemble.member(leader).address()).unwrap();
    assert_eq!(probe.get_data("/while-down").unwrap(), Ok(b"v2".to_vec()));
    drop(probe);

    // Dropping the ensemble removes every process and the shared root.
    let pids: Vec<u32> = ensemble.members().iter().filter_map(|m| m.pid()).collect();
    assert_eq!(pids.len(), 3);
    let root = ensemble
        .member(0)
        .data_dir()
        .parent()
        .unwrap()
        .to_path_buf();
    drop(ensemble);
    for pid in pids {
        assert!(
            !process_exists(pid),
            "member JVM {pid} outlived the ensemble"
        );
    }
    assert!(!root.exists(), "{} was not removed", root.display());
}
