//! zk-semaphore's tests: the shared cases on the fake and on a real server, and interop with
//! Curator's `InterProcessSemaphoreV2`.

#[macro_use]
mod cases;
mod curator_expiry;
mod interop;
mod on_fake;
mod on_real;
