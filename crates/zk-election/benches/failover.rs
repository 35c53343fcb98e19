//! Placeholder until the failover benchmark lands.

fn main() {}
