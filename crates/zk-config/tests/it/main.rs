//! zk-config's tests: the shared cases on the fake and on a real server, and interop with
//! kazoo and Curator counters.

#[macro_use]
mod cases;
mod interop;
mod on_fake;
mod on_real;
