//! Session lifecycle: expiry, disconnection and return, renewal, close, abandonment.

use std::time::Duration;

use zk_core::SessionState;

use crate::ensemble::{FakeEnsemble, Link, ServerState};
use crate::tree::NodeKind;

impl ServerState {
    /// The server ends a session: one transaction deletes its ephemeral nodes.
    pub(crate) fn kill_session(&mut self, session_id: i64) {
        if self.sessions.remove(&session_id).is_none() {
            return;
        }
        let zxid = self.next_zxid();
        let mut owned: Vec<String> = self
            .tree
            .iter()
            .filter(|(_, node)| node.kind == NodeKind::Ephemeral(session_id))
            .map(|(path, _)| path.clone())
            .collect();
        owned.sort_unstable();
        for path in owned {
            self.remove_node(&path, zxid);
        }
        self.flush_events();
    }

    /// Expires a live session now.
    ///
    /// Returns the client that held it, its generation afterwards, and whether it should open a
    /// new session as soon as it reconnects (it was connected and renews); `None` if no live
    /// session has that id.
    pub(crate) fn expire_session(&mut self, session_id: i64) -> Option<(u64, u64, bool)> {
        let client = *self.sessions.get(&session_id)?;
        // An expiring session's connection is already dead, so it hears nothing of the deletion
        // of its own ephemerals; its watches end with `Expired` instead.
        let link = std::mem::replace(&mut self.client_mut(client).link, Link::Expired);
        self.kill_session(session_id);
        self.client_mut(client).link = link;
        let renew = self.session_expired(client);
        let generation = self.clients.get(&client).map_or(0, |c| c.generation);
        Some((client, generation, renew))
    }

    /// The client learns its session expired: its watches end and it reports `Expired`.
    /// Returns whether it should renew as soon as it reconnects.
    fn session_expired(&mut self, client: u64) -> bool {
        let c = self.client_mut(client);
        if matches!(c.link, Link::AuthFailed | Link::Closed) {
            // The handle is already finished; only the server-side session was left.
            if c.abandoned {
                self.clients.remove(&client);
            }
            return false;
        }
        c.watches.end(SessionState::Expired);
        c.state_tx.send_replace(SessionState::Expired);
        if c.abandoned {
            self.clients.remove(&client);
            return false;
        }
        let was_connected = c.link == Link::Connected;
        // A client cut off at the time keeps its pending reconnection (from a lost request or a
        // timed disconnect): when its connection returns it hears of the expiry and renews.
        if was_connected {
            c.generation += 1;
        }
        c.link = Link::Expired;
        was_connected && !c.terminal_expiry
    }

    /// Opens a fresh session for a client whose previous one expired.
    fn renew(&mut self, client: u64) {
        let session_id = self.new_session(client);
        let c = self.client_mut(client);
        c.session_id = session_id;
        c.link = Link::Connected;
        c.generation += 1;
        c.state_tx.send_replace(SessionState::SyncConnected);
    }

    /// Cuts the client's connection; returns its generation, or `None` if it was not connected.
    pub(crate) fn cut(&mut self, client: u64) -> Option<u64> {
        let zxid = self.zxid;
        let c = self.clients.get_mut(&client)?;
        if c.link != Link::Connected {
            return None;
        }
        c.link = Link::Disconnected { last_zxid: zxid };
        c.generation += 1;
        c.state_tx.send_replace(SessionState::Disconnected);
        c.watches.connection_event(SessionState::Disconnected);
        Some(c.generation)
    }

    /// The connection returns (if nothing else happened since `generation`): the client
    /// reports `SyncConnected` and its watches catch up as SetWatches would make them.
    pub(crate) fn restore(&mut self, client: u64, generation: u64) {
        let Some(c) = self.clients.get_mut(&client) else {
            return;
        };
        if c.generation != generation {
            return;
        }
        match c.link {
            Link::Disconnected { last_zxid } => {
                c.link = Link::Connected;
                c.generation += 1;
                c.state_tx.send_replace(SessionState::SyncConnected);
                c.watches.connection_event(SessionState::SyncConnected);
                let catch_up = crate::catch_up::catch_up(&c.watches, &self.tree, last_zxid);
                for (event_type, path) in catch_up {
                    c.watches.fire(event_type, &path);
                }
            }
            Link::Expired if !c.terminal_expiry => self.renew(client),
            _ => {}
        }
    }

    /// The client closes: the session ends with its ephemerals, every watch resolves `Closed`.
    pub(crate) fn close_client(&mut self, client: u64) {
        let c = self.client(client);
        if c.link == Link::Closed {
            return;
        }
        let session_id = c.session_id;
        self.kill_session(session_id);
        let c = self.client_mut(client);
        c.link = Link::Closed;
        c.generation += 1;
        c.watches.end(SessionState::Closed);
        c.state_tx.send_replace(SessionState::Closed);
    }

    /// Authentication failed: the handle is finished; the session lingers until it times out.
    pub(crate) fn auth_failed(&mut self, client: u64) -> (i64, Duration) {
        let c = self.client_mut(client);
        c.link = Link::AuthFailed;
        c.generation += 1;
        c.watches.end(SessionState::AuthFailed);
        c.state_tx.send_replace(SessionState::AuthFailed);
        (c.session_id, c.timeout)
    }

    /// Every handle of the client was dropped. A connected session is closed at once, as the
    /// wire client closes it; one cut off (no connection to close it on) is returned, left to
    /// time out.
    pub(crate) fn abandon(&mut self, client: u64) -> Option<(i64, Duration)> {
        if self.clients.get(&client)?.link == Link::Connected {
            self.close_client(client);
            self.clients.remove(&client);
            return None;
        }
        let c = self.clients.get_mut(&client)?;
        c.abandoned = true;
        let session_id = c.session_id;
        let timeout = c.timeout;
        if self.sessions.contains_key(&session_id) {
            Some((session_id, timeout))
        } else {
            self.clients.remove(&client);
            None
        }
    }

    fn client_of_session(&self, session_id: i64) -> Option<u64> {
        self.sessions.get(&session_id).copied()
    }
}

impl FakeEnsemble {
    /// Cuts a session's connection for `duration`; see [`crate::Faults::disconnect`].
    pub(crate) fn disconnect(&self, session_id: i64, duration: Duration) -> bool {
        if tokio::runtime::Handle::try_current().is_err() {
            return false;
        }
        let cut = self.with_state(|st| {
            let client = st.client_of_session(session_id)?;
            let generation = st.cut(client)?;
            Some((client, generation, st.client(client).timeout))
        });
        let Some((client, generation, timeout)) = cut else {
            return false;
        };
        let weak = self.downgrade();
        tokio::spawn(async move {
            if duration < timeout {
                tokio::time::sleep(duration).await;
                if let Some(ensemble) = FakeEnsemble::upgrade(&weak) {
                    ensemble.with_state(|st| st.restore(client, generation));
                }
                return;
            }
            tokio::time::sleep(timeout).await;
            let Some(ensemble) = FakeEnsemble::upgrade(&weak) else {
                return;
            };
            let expired = ensemble.with_state(|st| {
                let current = st.clients.get(&client)?.generation;
                if current != generation {
                    return None;
                }
                // Expire it now, unless that already happened while the link was down.
                Some(
                    st.expire_session(session_id)
                        .map_or(current, |(_, generation, _)| generation),
                )
            });
            drop(ensemble);
            let Some(generation) = expired else {
                return;
            };
            tokio::time::sleep(duration - timeout).await;
            if let Some(ensemble) = FakeEnsemble::upgrade(&weak) {
                ensemble.with_state(|st| st.restore(client, generation));
            }
        });
        true
    }

    /// Expires a live session now and lets its client renew after the reconnect delay.
    pub(crate) fn expire_session(&self, session_id: i64) -> bool {
        match self.with_state(|st| st.expire_session(session_id)) {
            Some((client, generation, true)) => {
                self.reconnect_later(client, generation);
                true
            }
            Some(_) => true,
            None => false,
        }
    }

    /// Brings a cut or expired client back after the reconnect delay (at once without a
    /// runtime), unless something else happened to it meanwhile.
    pub(crate) fn reconnect_later(&self, client: u64, generation: u64) {
        if tokio::runtime::Handle::try_current().is_err() {
            self.with_state(|st| st.restore(client, generation));
            return;
        }
        let delay = self.with_state(|st| st.config.reconnect_delay);
        let weak = self.downgrade();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(ensemble) = FakeEnsemble::upgrade(&weak) {
                ensemble.with_state(|st| st.restore(client, generation));
            }
        });
    }

    /// Expires `session_id` after `timeout`, as the server does for a silent session.
    pub(crate) fn expire_later(&self, session_id: i64, timeout: Duration) {
        if tokio::runtime::Handle::try_current().is_err() {
            self.expire_session(session_id);
            return;
        }
        let weak = self.downgrade();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if let Some(ensemble) = FakeEnsemble::upgrade(&weak) {
                ensemble.expire_session(session_id);
            }
        });
    }
}
