//! zk-registry's tests: the shared cases on the fake and on a real server, a registration on
//! a real ensemble whose member dies, and interop with Curator's service discovery.

#[macro_use]
mod cases;
mod ensemble;
mod interop;
mod on_fake;
mod on_real;
