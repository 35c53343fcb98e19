//! zkctl end to end: the binary run as a process against a real ZooKeeper (the harness's
//! shared server), as a user runs it.

mod coordination;
mod data;
mod recipes;
mod support;
