//! While attached to a read-only server, look for a read-write one in the background.
//!
//! Like the Java client, it asks the other servers the four-letter word `isro` (answer `rw` or
//! `ro`), backing off from 100 ms to 60 s between rounds.

use std::time::Duration;

use crate::four_letter::four_letter_word;

const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(60);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Asks one server whether it is read-write, with the crate's one four-letter-word client
/// (blocking, so on tokio's blocking pool).
async fn is_read_write(host: &(String, u16)) -> bool {
    let Ok(mut addresses) = tokio::net::lookup_host((host.0.as_str(), host.1)).await else {
        return false;
    };
    let Some(address) = addresses.next() else {
        return false;
    };
    let asked =
        tokio::task::spawn_blocking(move || four_letter_word(address, "isro", PROBE_TIMEOUT));
    matches!(asked.await, Ok(Ok(answer)) if answer.starts_with("rw"))
}

/// Resolves with the index (in `hosts`) of a read-write server other than `current`; never
/// resolves if there is none (the caller drops it when the connection ends).
pub(crate) async fn find_read_write(hosts: Vec<(String, u16)>, current: usize) -> usize {
    let mut pause = FIRST_PAUSE;
    loop {
        tokio::time::sleep(pause).await;
        for (index, host) in hosts.iter().enumerate() {
            if index != current && is_read_write(host).await {
                return index;
            }
        }
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}
