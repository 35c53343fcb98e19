//! zk-election's tests: the shared cases on the fake and on a real server, fake-only
//! connection-suspension cases, interop with kazoo and Curator, and leader loss on a real
//! three-member ensemble.

#[macro_use]
mod cases;
mod ensemble;
mod interop;
mod on_fake;
mod on_real;
mod suspension;
