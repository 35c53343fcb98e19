//! Free loopback ports: ask the kernel (bind to `127.0.0.1:0`) and never hand one out twice.

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Mutex, PoisonError};

use super::error::{HarnessError, Result};

/// Returns `n` distinct ports that were free on 127.0.0.1 a moment ago.
///
/// The listeners are closed before the server binds, so another process may take a port in
/// between; start-up retries on "address in use" for that reason.
/// Within this process no port is returned twice, so concurrent tests do not collide.
pub(crate) fn free_ports(n: usize) -> Result<Vec<u16>> {
    static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner);
    let handed_out = handed_out.get_or_insert_with(HashSet::new);
    let mut listeners = Vec::with_capacity(n);
    let mut ports = Vec::with_capacity(n);
    // Each attempt binds a new listener while the earlier ones stay open, so the kernel never
    // returns the same port twice within one call; the bound only guards against a kernel
    // that keeps offering ports this process already used.
    for _ in 0..n * 20 + 20 {
        if ports.len() == n {
            break;
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| HarnessError::io("binding 127.0.0.1:0 to find a free port", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| HarnessError::io("reading a bound port", e))?
            .port();
        if handed_out.insert(port) {
            ports.push(port);
        }
        listeners.push(listener);
    }
    if ports.len() < n {
        return Err(HarnessError::io(
            "finding free ports on 127.0.0.1",
            std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "no unused port left"),
        ));
    }
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_across_calls() {
        let mut all = free_ports(5).unwrap();
        all.extend(free_ports(4).unwrap());
        let unique: HashSet<u16> = all.iter().copied().collect();
        assert_eq!(unique.len(), 9);
        assert!(all.iter().all(|p| *p != 0));
    }
}
