//! Waiting out what waiting can cure: connection loss, and session expiry on a handle that
//! opens a new session.

use zk_core::{Coordinator, Error, SessionState};

/// Waits until the handle is connected; fails once it never will be again.
///
/// # Errors
/// [`Error::Closed`] or [`Error::AuthFailed`] when the handle has ended.
pub async fn connected<C: Coordinator + ?Sized>(zk: &C) -> Result<(), Error> {
    let mut state = zk.session_state();
    let state = state
        .wait_for(|s| s.is_connected() || s.is_terminal())
        .await
        .map_err(|_| Error::Closed)?;
    match *state {
        SessionState::AuthFailed => Err(Error::AuthFailed),
        SessionState::Closed => Err(Error::Closed),
        _ => Ok(()),
    }
}

/// Waits out `error` when waiting can cure it: connection loss (until the handle reconnects),
/// or the session's expiry when the handle opens a new session (for at most a few session
/// timeouts, since a handle built with terminal expiry never will).
///
/// # Errors
/// `error` itself when waiting cannot help, or the handle's final failure.
pub async fn recover<C: Coordinator + ?Sized>(zk: &C, error: Error) -> Result<(), Error> {
    if error.is_retryable() {
        return connected(zk).await;
    }
    if error == Error::SessionExpired {
        let patience = zk.session_timeout() * 3 + std::time::Duration::from_secs(1);
        return match tokio::time::timeout(patience, connected(zk)).await {
            Ok(result) => result,
            Err(_) => Err(error),
        };
    }
    Err(error)
}
