//! zk-lock's tests: the shared cases on the fake and on a real server, plus fake-only fault
//! scenarios.

#[macro_use]
mod cases;
mod interop;
mod on_fake;
mod on_real;
mod teardown;
