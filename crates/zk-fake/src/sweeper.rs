//! The background sweeper that deletes emptied containers and expired TTL nodes.

use crate::ensemble::{FakeEnsemble, ServerState};
use crate::tree::NodeKind;

/// Starts the sweeper if a container or TTL node needs one and it is not running.
///
/// It runs on tokio's clock every `sweep_interval`, and stops by itself once no container or TTL
/// node is left (or the ensemble is dropped).
/// Without a tokio runtime nothing is swept.
pub(crate) fn ensure_running(ensemble: &FakeEnsemble) {
    let interval = ensemble.with_state(|st| {
        if !st.sweep_wanted || st.sweeper_running {
            return None;
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return None;
        }
        st.sweep_wanted = false;
        st.sweeper_running = true;
        Some(st.config.sweep_interval)
    });
    let Some(interval) = interval else {
        return;
    };
    let weak = ensemble.downgrade();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let Some(ensemble) = FakeEnsemble::upgrade(&weak) else {
                return;
            };
            if !ensemble.with_state(ServerState::sweep) {
                return;
            }
        }
    });
}

impl ServerState {
    /// Deletes what is due (each deletion its own transaction, as the server's sweeper does);
    /// returns whether containers or TTL nodes remain to watch over.
    fn sweep(&mut self) -> bool {
        let now = self.now_millis();
        let mut remaining = false;
        let mut due: Vec<String> = Vec::new();
        for (path, node) in self.tree.iter() {
            let expired = match node.kind {
                NodeKind::Container => node.stat.cversion > 0 && node.children.is_empty(),
                NodeKind::Ttl(ttl) => node.children.is_empty() && now - node.stat.mtime > ttl,
                _ => continue,
            };
            if expired {
                due.push(path.clone());
            } else {
                remaining = true;
            }
        }
        due.sort_unstable();
        for path in due {
            let zxid = self.next_zxid();
            self.remove_node(&path, zxid);
        }
        self.flush_events();
        if !remaining {
            self.sweeper_running = false;
        }
        remaining
    }
}
