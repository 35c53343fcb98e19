//! Four-letter words (`ruok`, `srvr`, `mntr`, …): ZooKeeper's plain-text admin commands,
//! each sent over a TCP connection of its own, outside any session.
//!
//! The server must allow the word (`4lw.commands.whitelist`); a word it does not allow is
//! answered with a line saying so, not with an error.
//!
//! ```no_run
//! use std::time::Duration;
//! use zk_core::four_letter::four_letter_word;
//!
//! let address = "127.0.0.1:2181".parse().unwrap();
//! let answer = four_letter_word(address, "ruok", Duration::from_secs(5))?;
//! assert_eq!(answer, "imok");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The most bytes read from one answer (`dump` or `cons` on a busy server stay far below).
const MAX_ANSWER: usize = 4 << 20;

/// Sends the four-letter word `command` to `address` and returns the whole answer (read
/// until the server closes the connection, as it does after answering).
///
/// Blocking: connecting, writing and reading together take at most `timeout`. Bytes that are
/// not UTF-8 are replaced.
///
/// # Errors
/// The connection is refused (server down) or reset; [`io::ErrorKind::TimedOut`] when there
/// is no answer within `timeout` (a paused server accepts the connection in the kernel but
/// never replies); [`io::ErrorKind::InvalidData`] for an answer longer than 4 MiB.
pub fn four_letter_word(
    address: SocketAddr,
    command: &str,
    timeout: Duration,
) -> io::Result<String> {
    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&address, remaining(deadline)?)?;
    stream.set_write_timeout(Some(remaining(deadline)?))?;
    stream
        .write_all(command.as_bytes())
        .map_err(timed_out_if_blocked)?;
    let answer = read_answer(&mut stream, deadline)?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// Reads until the peer closes the connection, bounded by `deadline` and by [`MAX_ANSWER`].
fn read_answer(stream: &mut TcpStream, deadline: Instant) -> io::Result<Vec<u8>> {
    let mut answer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        stream.set_read_timeout(Some(remaining(deadline)?))?;
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(answer),
            Ok(n) => {
                answer.extend_from_slice(&chunk[..n]);
                if answer.len() > MAX_ANSWER {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "answer longer than 4 MiB",
                    ));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(timed_out_if_blocked(e)),
        }
    }
}

/// The time left until `deadline`.
///
/// # Errors
/// [`io::ErrorKind::TimedOut`] once none is left (a zero socket timeout would mean "none").
fn remaining(deadline: Instant) -> io::Result<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(no_answer_in_time)
}

/// The error of a deadline that passed.
fn no_answer_in_time() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "no answer in time")
}

/// A socket timeout reports `WouldBlock` on Unix; call it what it is.
fn timed_out_if_blocked(error: io::Error) -> io::Error {
    if error.kind() == io::ErrorKind::WouldBlock {
        no_answer_in_time()
    } else {
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};

    #[test]
    fn a_silent_peer_times_out() {
        // A listener that never accepts: the kernel completes the handshake, nobody answers.
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let address = listener.local_addr().unwrap();
        let err = four_letter_word(address, "ruok", Duration::from_millis(200)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    }

    #[test]
    fn an_answer_is_read_to_the_end() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let address = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut word = [0u8; 4];
            socket.read_exact(&mut word).unwrap();
            assert_eq!(&word, b"srvr");
            socket.write_all(b"Mode: ").unwrap();
            socket.write_all(b"standalone\n").unwrap();
        });
        let answer = four_letter_word(address, "srvr", Duration::from_secs(5)).unwrap();
        server.join().unwrap();
        assert_eq!(answer, "Mode: standalone\n");
    }

    #[test]
    fn an_endless_answer_is_cut_off() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let address = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let block = vec![b'x'; 64 * 1024];
            // Stops once the client gives up and closes.
            while socket.write_all(&block).is_ok() {}
        });
        let err = four_letter_word(address, "dump", Duration::from_secs(10)).unwrap_err();
        server.join().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    }
}
