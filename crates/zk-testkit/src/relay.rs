//! A loopback TCP relay in front of a server, whose connections a test can cut: the client sees
//! its connection drop and its reconnects refused, while the server and every other client go
//! on. What a test needs to stage "disconnected while others change things" on a real server.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A relay from a loopback port to a server; see the [module docs](self).
///
/// Dropping it stops accepting, and ends the connections it relays at their next cut or close.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

#[derive(Debug)]
struct Shared {
    /// Bumped by every cut: each relayed connection ends when it changes.
    cuts: watch::Sender<u64>,
    /// While set, new connections are accepted and closed at once.
    refusing: AtomicBool,
}

impl Relay {
    /// Starts relaying from a new port on 127.0.0.1 to `target` (such as a test server's
    /// address).
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start(target: SocketAddr) -> io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            cuts: watch::Sender::new(0),
            refusing: AtomicBool::new(false),
        });
        let accept = tokio::spawn(accept_loop(listener, target, shared.clone()));
        Ok(Relay {
            addr,
            shared,
            accept,
        })
    }

    /// The relay's address, as a connect string (`127.0.0.1:port`).
    pub fn connect_string(&self) -> String {
        self.addr.to_string()
    }

    /// Closes every relayed connection now, and refuses new ones until [`Relay::restore`].
    pub fn cut(&self) {
        self.shared.refusing.store(true, Ordering::SeqCst);
        self.shared.cuts.send_modify(|n| *n += 1);
    }

    /// Accepts and relays connections again.
    pub fn restore(&self) {
        self.shared.refusing.store(false, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.cuts.send_modify(|n| *n += 1);
    }
}

async fn accept_loop(listener: TcpListener, target: SocketAddr, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // Out of descriptors, say: do not spin.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        // Subscribed before looking at the flag: `cut` sets the flag before it counts, so a
        // cut either shows in the flag or reaches this subscription, never neither.
        let cuts = shared.cuts.subscribe();
        if shared.refusing.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        tokio::spawn(relay(client, target, cuts));
    }
}

/// Copies both ways between `client` and a new connection to `target` until either side
/// closes or the relay cuts.
async fn relay(mut client: TcpStream, target: SocketAddr, mut cuts: watch::Receiver<u64>) {
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = cuts.changed() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An echo server on loopback.
    async fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n @ 1..) = conn.read(&mut buf).await {
                        if conn.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    async fn round_trip(conn: &mut TcpStream) -> io::Result<Vec<u8>> {
        conn.write_all(b"ping").await?;
        let mut buf = [0u8; 4];
        conn.read_exact(&mut buf).await?;
        Ok(buf.to_vec())
    }

    #[tokio::test]
    async fn relays_until_cut_refuses_while_cut_then_relays_again() {
        let relay = Relay::start(echo().await).await.unwrap();
        let mut conn = TcpStream::connect(relay.addr).await.unwrap();
        assert_eq!(round_trip(&mut conn).await.unwrap(), b"ping");
        relay.cut();
        assert!(
            round_trip(&mut conn).await.is_err(),
            "the cut connection is closed"
        );
        let mut refused = TcpStream::connect(relay.addr).await.unwrap();
        assert!(round_trip(&mut refused).await.is_err(), "refused while cut");
        relay.restore();
        let mut again = TcpStream::connect(relay.addr).await.unwrap();
        assert_eq!(round_trip(&mut again).await.unwrap(), b"ping");
    }
}
