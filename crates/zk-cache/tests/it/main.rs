//! zk-cache's tests: the shared cases on the fake and on a real server, and what only the
//! fake can stage (connection cuts of a chosen length).

#[macro_use]
mod cases;
#[macro_use]
mod tree_cases;
mod ensemble;
mod on_fake;
mod on_real;
mod reconnect;
mod through_a_relay;
mod tree_faults;
