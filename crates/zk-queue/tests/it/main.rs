//! zk-queue's tests: the shared cases on the fake and on a real server, and interop with
//! kazoo's queues.

#[macro_use]
mod cases;
mod interop;
mod on_fake;
mod on_real;
