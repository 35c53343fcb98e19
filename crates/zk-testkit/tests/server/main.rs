//! Tests for the real-server harness: standalone servers, ensembles, teardown and the watchdog.
//!
//! They need ZooKeeper (`apt-get install -y zookeeper`) and fail with that command when it is
//! missing.

mod ensemble;
mod probe;
mod standalone;
mod support;
