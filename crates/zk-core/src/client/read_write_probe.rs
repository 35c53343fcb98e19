//! While attached to a read-only server, look for a read-write one in the background.
//!
//! Like the Java client, it asks the other servers the four-letter word `isro` (answer `rw` or
//! `ro`), backing off from 100 ms to 60 s between rounds.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(60);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Asks one server whether it is read-write.
async fn is_read_write(host: &(String, u16)) -> bool {
    let probe = async {
        let mut stream = TcpStream::connect((host.0.as_str(), host.1)).await?;
        stream.write_all(b"isro").await?;
        let mut answer = Vec::new();
        stream.take(16).read_to_end(&mut answer).await?;
        Ok::<bool, std::io::Error>(answer.starts_with(b"rw"))
    };
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, probe).await,
        Ok(Ok(true))
    )
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
