//! zk-election's tests: the shared cases on the fake and on a real server, fake-only
//! connection-suspension cases, and interop with kazoo and Curator.

#[macro_use]
mod cases;
mod interop;
mod on_fake;
mod on_real;
mod suspension;
