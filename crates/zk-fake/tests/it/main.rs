//! Integration tests of the fake ensemble: fault injection, session lifecycle, sweeping.

mod conformance;
mod faults;
mod lifecycle;
mod sweeping;
