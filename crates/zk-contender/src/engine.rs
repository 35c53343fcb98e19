//! The engine, written once for every ordered recipe: a protected create of an ephemeral
//! sequential contender node, then waiting, as the [`Policy`] says, on only the contenders
//! whose departure can change the answer.

use futures::future::{join_all, select_all};
use tokio::time::Instant;
use zk_core::path::{join, name};
use zk_core::{
    Coordinator, CoordinatorExt, CreateMode, CreateOptions, Error, EventType, OneshotWatch,
    SessionState, Stat,
};

use crate::contender::{Contender, sorted_contenders};
use crate::node_name::NodePrefix;
use crate::policy::{Decision, Policy};
use crate::removal::{Cleanup, delete_node};

/// How many times a create retries a recipe path that vanished (a swept container) before
/// giving up with `NoNode`.
const PATH_RETRIES: u32 = 16;
/// How many times a create is retried through connection trouble before the error is final.
const CREATE_RETRIES: u32 = 1000;
/// How long a failed turn waits for its node's removal before leaving it to the background.
const CLEANUP_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// A contender node this attempt owns.
#[derive(Debug, Clone)]
pub struct Entered {
    /// The node's name.
    pub name: String,
    /// The node's full path.
    pub path: String,
    /// The node's czxid: strictly increasing from one contender to the next, so a holder's
    /// fencing token or a leader's term.
    pub czxid: i64,
    /// The session that owns the node.
    pub session_id: i64,
    /// A listing of the recipe path taken after the node existed.
    pub listing: Vec<String>,
    /// The recipe path's own Stat, read with `listing` (`None` if the path was gone by then).
    ///
    /// A recipe that keeps settings in the recipe path's data (a semaphore's permit count)
    /// compares its `mzxid` with the one it last checked: equal means the data has not
    /// changed since, so it need not read it again.
    pub dir_stat: Option<Stat>,
}

/// How waiting ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// The policy says this contender holds.
    Acquired,
    /// It does not hold, and the caller did not want to wait.
    Blocked,
    /// The node is gone (its session ended, or someone deleted it): start again.
    NodeGone,
    /// The deadline passed.
    TimedOut,
}

/// Runs `fut` until `deadline`, if there is one; `None` when it passed.
pub async fn until<F: std::future::Future>(deadline: Option<Instant>, fut: F) -> Option<F::Output> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, fut).await.ok(),
        None => Some(fut.await),
    }
}

/// A [`Engine::take_turn`] check for recipes that keep nothing in the recipe path: always
/// passes.
///
/// # Errors
/// Never.
pub async fn no_check<E>(_dir_stat: Option<Stat>) -> Result<(), E> {
    Ok(())
}

/// The engine for one recipe path: enters contenders, finds them again after lost replies,
/// lists, and waits for a contender's turn under a [`Policy`].
///
/// It borrows everything it needs, so a recipe builds one per operation at no cost.
#[derive(Debug, Clone, Copy)]
pub struct Engine<'a, C: Coordinator> {
    zk: &'a C,
    dir: &'a str,
    data: &'a [u8],
    containers: bool,
}

impl<'a, C: Coordinator> Engine<'a, C> {
    /// An engine for contenders under `dir`, creating it (and missing ancestors) as container
    /// nodes when missing, with empty node data.
    pub fn new(zk: &'a C, dir: &'a str) -> Engine<'a, C> {
        Engine {
            zk,
            dir,
            data: &[],
            containers: true,
        }
    }

    /// Stores `data` in each contender node (a holder's or candidate's identity, say).
    pub fn data(mut self, data: &'a [u8]) -> Engine<'a, C> {
        self.data = data;
        self
    }

    /// Whether missing recipe paths are created as containers (the default: the server sweeps
    /// them once empty) or as persistent nodes (kazoo's recipes fail for good if their path
    /// disappears, so interop with them needs this off).
    pub fn containers(mut self, containers: bool) -> Engine<'a, C> {
        self.containers = containers;
        self
    }

    /// The recipe path.
    pub fn dir(&self) -> &str {
        self.dir
    }

    /// Creates the recipe path; a `NoNode` on the way (a container swept meanwhile) is left to
    /// the caller's retry.
    async fn ensure_dir(&self) -> Result<(), Error> {
        loop {
            let made = if self.containers {
                self.zk.ensure_container_path(self.dir).await
            } else {
                self.zk.ensure_path(self.dir).await
            };
            match made {
                Ok(()) | Err(Error::NoNode { .. }) => return Ok(()),
                Err(e) => self.zk.recover(e).await?,
            }
        }
    }

    /// Creates this attempt's contender node and lists the recipe path, in one round trip when
    /// nothing goes wrong: ZooKeeper answers a session's requests in order, so a listing sent
    /// right behind the create already contains the new node.
    ///
    /// After a lost reply it looks for its own node by the attempt's tag and adopts it only if
    /// the current session owns it (Curator's fix for double ownership), deleting any other.
    ///
    /// # Errors
    /// Failures that retrying cannot cure (invalid path, no permission, a closed handle).
    pub async fn enter(&self, prefix: &NodePrefix) -> Result<Entered, Error> {
        let create_path = join(self.dir, &prefix.prefix);
        let options = CreateOptions::new(CreateMode::EphemeralSequential);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let (created, listed) = futures::join!(
                self.zk.create(&create_path, self.data, &options),
                self.zk.get_children(self.dir),
            );
            match created {
                Ok(created) => {
                    let name = name(&created.path).to_owned();
                    let (listing, dir_stat) = match listed {
                        Ok((children, stat)) if children.contains(&name) => (children, Some(stat)),
                        _ => self.list_with_stat().await?,
                    };
                    return Ok(Entered {
                        name,
                        path: created.path,
                        czxid: created.stat.czxid,
                        session_id: created.stat.ephemeral_owner,
                        listing,
                        dir_stat,
                    });
                }
                Err(Error::NoNode { .. }) if attempts < PATH_RETRIES => self.ensure_dir().await?,
                Err(e) if attempts < CREATE_RETRIES => {
                    self.zk.recover(e).await?;
                    if let Some(found) = self.find_own(prefix).await? {
                        return Ok(found);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Looks for a node of this attempt (by its tag) that this session owns, riding out
    /// connection loss; nodes of the attempt owned by an earlier session are deleted.
    ///
    /// # Errors
    /// Failures that retrying cannot cure.
    pub async fn find_own(&self, prefix: &NodePrefix) -> Result<Option<Entered>, Error> {
        loop {
            match self.try_find_own(prefix).await {
                Err(e) => self.zk.recover(e).await?,
                found => return found,
            }
        }
    }

    async fn try_find_own(&self, prefix: &NodePrefix) -> Result<Option<Entered>, Error> {
        let (listing, dir_stat) = self.list_with_stat().await?;
        let session_id = self.zk.session_id();
        for child in listing.iter().filter(|c| c.contains(&prefix.tag)) {
            let path = join(self.dir, child);
            match self.zk.exists(&path).await? {
                Some(stat) if stat.ephemeral_owner == session_id => {
                    return Ok(Some(Entered {
                        name: child.clone(),
                        path,
                        czxid: stat.czxid,
                        session_id,
                        listing: listing.clone(),
                        dir_stat,
                    }));
                }
                // A node of this attempt from an earlier session: it would never be released.
                Some(_) => delete_node(self.zk, &path, session_id).await?,
                None => {}
            }
        }
        Ok(None)
    }

    /// Lists the recipe path, riding out connection loss; a missing path is an empty list.
    ///
    /// # Errors
    /// Failures that retrying cannot cure.
    pub async fn list(&self) -> Result<Vec<String>, Error> {
        Ok(self.list_with_stat().await?.0)
    }

    /// Lists the recipe path with its Stat, riding out connection loss; a missing path is an
    /// empty list and no Stat.
    ///
    /// # Errors
    /// Failures that retrying cannot cure.
    pub async fn list_with_stat(&self) -> Result<(Vec<String>, Option<Stat>), Error> {
        loop {
            match self.zk.get_children(self.dir).await {
                Ok((children, stat)) => return Ok((children, Some(stat))),
                Err(Error::NoNode { .. }) => return Ok((Vec::new(), None)),
                Err(e) => self.zk.recover(e).await?,
            }
        }
    }

    /// The contenders under the recipe path, in order.
    ///
    /// # Errors
    /// Failures that retrying cannot cure.
    pub async fn contenders(&self) -> Result<Vec<Contender>, Error> {
        Ok(sorted_contenders(&self.list().await?))
    }

    /// Waits until `policy` says `entered` holds (or, with `wait` false, reports that it does
    /// not), watching only the contenders the policy names.
    ///
    /// # Errors
    /// [`Error::Closed`] or [`Error::AuthFailed`] when the handle ended, and failures that
    /// retrying cannot cure. Connection loss is ridden out; session expiry ends in
    /// [`Turn::NodeGone`].
    pub async fn wait_turn(
        &self,
        entered: &mut Entered,
        policy: &(impl Policy + ?Sized),
        wait: bool,
        deadline: Option<Instant>,
    ) -> Result<Turn, Error> {
        // Watches set on earlier passes and not yet fired, kept so a pass re-arms only what is
        // new: a semaphore waiter's N watches are set once, not once per wake-up.
        let mut armed = Armed::default();
        loop {
            if self.zk.session_id() != entered.session_id {
                return Ok(Turn::NodeGone);
            }
            let contenders = sorted_contenders(&entered.listing);
            let Some(me) = contenders.iter().position(|c| c.name == entered.name) else {
                return Ok(Turn::NodeGone);
            };
            let watched = match policy.decide(&contenders, me) {
                Decision::Hold => return Ok(Turn::Acquired),
                Decision::Wait(_) if !wait => return Ok(Turn::Blocked),
                Decision::Wait(watched) => watched,
            };
            let lookahead = policy.lookahead(&contenders, me);
            assert!(
                !watched.is_empty()
                    && watched.iter().all(|&i| i < me)
                    && lookahead.is_none_or(|l| watched.iter().all(|&i| l < i)),
                "policy bug: Wait must name contenders before the asking one, and a lookahead \
                 before those, got {watched:?} and {lookahead:?} for {me}"
            );
            let targets: Vec<&str> = watched
                .iter()
                .chain(&lookahead)
                .map(|&i| contenders[i].name.as_str())
                .collect();
            match until(deadline, self.wait_for_change(&mut armed, &targets)).await {
                None => return Ok(Turn::TimedOut),
                Some(Ok(Change::Deleted(gone))) => {
                    // Policies are monotone and contenders only join behind us, so if the
                    // listing without the departed contender says we hold, we do: no round
                    // trip. Otherwise list again rather than trust the old listing: whoever
                    // was ahead of the departed one has usually gone too, and finding that out
                    // watch by watch costs more than one listing.
                    // The sorted contenders without the departed one: no second parse.
                    let mut rest = contenders;
                    let at = rest
                        .iter()
                        .position(|c| c.name == gone)
                        .expect("a target is a contender");
                    rest.remove(at);
                    entered.listing.retain(|c| *c != gone);
                    // Targets come before us, so we moved up by one.
                    if policy.decide(&rest, me - 1) == Decision::Hold {
                        if self.zk.session_id() != entered.session_id {
                            return Ok(Turn::NodeGone);
                        }
                        return Ok(Turn::Acquired);
                    }
                }
                Some(Ok(Change::Relist)) => {}
                Some(Ok(Change::SessionEnded)) => return Ok(Turn::NodeGone),
                Some(Ok(Change::Reconnect)) => {
                    if until(deadline, self.zk.connected())
                        .await
                        .transpose()?
                        .is_none()
                    {
                        return Ok(Turn::TimedOut);
                    }
                }
                Some(Err(e)) => return Err(e),
            }
            (entered.listing, entered.dir_stat) = match until(deadline, self.list_with_stat()).await
            {
                None => return Ok(Turn::TimedOut),
                Some(listed) => listed?,
            };
        }
    }

    /// A whole turn, as every acquire needs it: enters with a fresh prefix from `prefix`, runs
    /// `check` (given the recipe path's Stat as listed, see [`Entered::dir_stat`]), then waits
    /// per [`Engine::wait_turn`]; when the node goes (session expiry, deletion) it enters again
    /// with a new prefix.
    ///
    /// `Some` node when it holds; `None` when it did not want to wait or the deadline passed.
    /// On every way out but holding, including this future being dropped and a failed `check`,
    /// the attempt's node is removed: before returning when that is quick, else in the
    /// background.
    ///
    /// # Errors
    /// `check`'s errors, and those of [`Engine::enter`] and [`Engine::wait_turn`].
    pub async fn take_turn<E, Fut>(
        &self,
        prefix: impl Fn() -> NodePrefix,
        policy: &(impl Policy + ?Sized),
        wait: bool,
        deadline: Option<Instant>,
        mut check: impl FnMut(Option<Stat>) -> Fut,
    ) -> Result<Option<Entered>, E>
    where
        C: Clone + 'static,
        E: From<Error>,
        Fut: std::future::Future<Output = Result<(), E>>,
    {
        loop {
            let prefix = prefix();
            let mut cleanup = Cleanup::tagged(self.zk.clone(), self.dir, &prefix.tag);
            // The deadline bounds entering too (an outage can stall it); if it passes, the
            // armed cleanup removes whatever the create left behind.
            let Some(entered) = until(deadline, self.enter(&prefix)).await else {
                return Ok(None);
            };
            let mut entered = entered?;
            cleanup.node(&entered.path, entered.session_id);
            let checked = match until(deadline, check(entered.dir_stat)).await {
                None => {
                    cleanup.run_within(CLEANUP_GRACE).await?;
                    return Ok(None);
                }
                Some(checked) => checked,
            };
            if let Err(e) = checked {
                cleanup.run_within(CLEANUP_GRACE).await?;
                return Err(e);
            }
            match self.wait_turn(&mut entered, policy, wait, deadline).await? {
                Turn::Acquired => {
                    cleanup.disarm();
                    return Ok(Some(entered));
                }
                // The session that owned the node ended, or someone deleted it: queue again.
                Turn::NodeGone => cleanup.run_within(CLEANUP_GRACE).await?,
                Turn::Blocked | Turn::TimedOut => {
                    cleanup.run_within(CLEANUP_GRACE).await?;
                    return Ok(None);
                }
            }
        }
    }

    /// Watches the contenders named `targets`, keeping the still-pending watches in `armed` and
    /// setting the missing ones in one pipelined batch, and resolves on the first change. A
    /// target found already gone counts as its deletion.
    async fn wait_for_change(&self, armed: &mut Armed, targets: &[&str]) -> Result<Change, Error> {
        armed.0.retain(|(name, _)| targets.contains(&name.as_str()));
        let missing: Vec<&str> = targets
            .iter()
            .copied()
            .filter(|target| !armed.0.iter().any(|(name, _)| name == target))
            .collect();
        let paths: Vec<String> = missing.iter().map(|name| join(self.dir, name)).collect();
        let set = join_all(paths.iter().map(|path| self.zk.watch_data(path))).await;
        let mut reconnect = false;
        let mut gone = None;
        for (name, result) in missing.into_iter().zip(set) {
            match result {
                Ok((_, _, watch)) => armed.0.push((name.to_owned(), watch)),
                Err(Error::NoNode { .. }) => gone = gone.or(Some(name)),
                Err(Error::SessionExpired) => return Ok(Change::SessionEnded),
                Err(e) if e.is_retryable() => reconnect = true,
                Err(e) => return Err(e),
            }
        }
        if let Some(name) = gone {
            return Ok(Change::Deleted(name.to_owned()));
        }
        if reconnect {
            return Ok(Change::Reconnect);
        }
        let (event, index, _) = select_all(armed.0.iter_mut().map(|(_, watch)| watch)).await;
        // A one-shot watch resolves once: it is spent either way.
        let (name, _) = armed.0.swap_remove(index);
        match event.event_type {
            EventType::NodeDeleted => return Ok(Change::Deleted(name)),
            EventType::Session => {}
            _ => return Ok(Change::Relist),
        }
        if let Some(error) = event.state.terminal_error() {
            return Err(error);
        }
        match event.state {
            // Expired: the node went with the session.
            SessionState::Expired => Ok(Change::SessionEnded),
            _ => Ok(Change::Relist),
        }
    }
}

/// Pending one-shot watches on contenders, by contender name.
#[derive(Default)]
struct Armed(Vec<(String, OneshotWatch)>);

/// What ended a wait for watched contenders.
enum Change {
    /// The watched contender of this name is gone.
    Deleted(String),
    /// A watched node changed or went: list again.
    Relist,
    /// The connection dropped while setting watches: wait for it, then list again.
    Reconnect,
    /// The session ended, and the node with it.
    SessionEnded,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_name::TagStyle;
    use crate::policy::{Exclusive, Leases};

    #[tokio::test(start_paused = true)]
    async fn entered_and_relisted_contenders_carry_the_recipe_paths_stat() {
        let ensemble = zk_fake::FakeEnsemble::new();
        let (a, b) = (ensemble.connect(), ensemble.connect());
        a.create("/slots", b"2", &CreateOptions::container())
            .await
            .unwrap();
        let engine = Engine::new(&a, "/slots");
        let first = engine
            .enter(&NodePrefix::new(TagStyle::Hex, "-lease-"))
            .await
            .unwrap();
        let (_, stat) = a.get_data("/slots").await.unwrap();
        assert_eq!(first.dir_stat.map(|s| s.mzxid), Some(stat.mzxid));

        // A waiter two places back, whose recipe path's data changes meanwhile: when the one
        // right before it goes, it still waits, so it lists again and sees the new mzxid.
        let second = Engine::new(&b, "/slots")
            .enter(&NodePrefix::new(TagStyle::Hex, "-lease-"))
            .await
            .unwrap();
        let mut waiter = Engine::new(&b, "/slots")
            .enter(&NodePrefix::new(TagStyle::Hex, "-lease-"))
            .await
            .unwrap();
        let changed = a.set_data("/slots", b"1", None).await.unwrap();
        let turn = tokio::spawn({
            let b = b.clone();
            async move {
                let engine = Engine::new(&b, "/slots");
                let turn = engine.wait_turn(&mut waiter, &Leases(1), true, None).await;
                (turn, waiter.dir_stat)
            }
        });
        tokio::task::yield_now().await;
        a.delete(&second.path, None).await.unwrap();
        tokio::task::yield_now().await;
        a.delete(&first.path, None).await.unwrap();
        let (turn, dir_stat) = turn.await.unwrap();
        assert_eq!(turn, Ok(Turn::Acquired));
        assert_eq!(dir_stat.map(|s| s.mzxid), Some(changed.mzxid));
        assert_ne!(changed.mzxid, stat.mzxid);

        let (listing, missing) = Engine::new(&a, "/nowhere").list_with_stat().await.unwrap();
        assert!(listing.is_empty() && missing.is_none());
    }

    fn prefix() -> NodePrefix {
        NodePrefix::new(TagStyle::Hex, "-lock-")
    }

    /// [`Engine::take_turn`] for one exclusive holder, with nothing to check.
    async fn contend<C: Coordinator + Clone + 'static>(
        engine: &Engine<'_, C>,
        wait: bool,
        deadline: Option<Instant>,
    ) -> Result<Option<Entered>, Error> {
        engine
            .take_turn(prefix, &Exclusive, wait, deadline, no_check::<Error>)
            .await
    }

    /// Waits until `zk` is connected in a session other than `old`.
    async fn new_session(zk: &impl Coordinator, old: i64) {
        let mut state = zk.session_state();
        state
            .wait_for(|s| s.is_connected() && zk.session_id() != old)
            .await
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn wait_turn_refuses_a_listing_from_an_ended_session() {
        let ensemble = zk_fake::FakeEnsemble::new();
        let zk = ensemble.connect();
        let engine = Engine::new(&zk, "/e");
        let mut entered = engine.enter(&prefix()).await.unwrap();
        assert_eq!(sorted_contenders(&entered.listing)[0].name, entered.name);
        let old = zk.session_id();
        assert!(ensemble.faults().expire_session(old));
        new_session(&zk, old).await;
        // The listing still shows the node first, but it belonged to the ended session.
        assert_eq!(
            engine
                .wait_turn(&mut entered, &Exclusive, true, None)
                .await
                .unwrap(),
            Turn::NodeGone
        );
    }

    #[tokio::test(start_paused = true)]
    async fn take_turn_enters_again_after_expiry_and_holds_in_its_new_session() {
        let ensemble = zk_fake::FakeEnsemble::new();
        let (a, b) = (ensemble.connect(), ensemble.connect());
        let first = contend(&Engine::new(&a, "/e"), true, None)
            .await
            .unwrap()
            .expect("a free path");
        let waiter = {
            let b = b.clone();
            tokio::spawn(async move { contend(&Engine::new(&b, "/e"), true, None).await })
        };
        while Engine::new(&a, "/e").list().await.unwrap().len() < 2 {
            tokio::task::yield_now().await;
        }
        let old = b.session_id();
        assert!(ensemble.faults().expire_session(old));
        new_session(&b, old).await;
        while Engine::new(&a, "/e").list().await.unwrap().len() < 2 {
            tokio::task::yield_now().await;
        }
        assert!(!waiter.is_finished(), "still behind the holder");
        delete_node(&a, &first.path, first.session_id)
            .await
            .unwrap();
        let won = waiter
            .await
            .unwrap()
            .unwrap()
            .expect("held after the holder left");
        assert_eq!(won.session_id, b.session_id());
        let owner = b.exists(&won.path).await.unwrap().unwrap().ephemeral_owner;
        assert_eq!(
            owner,
            b.session_id(),
            "held in the session that owns the node"
        );
        assert!(won.czxid > first.czxid);
    }

    #[tokio::test(start_paused = true)]
    async fn take_turn_that_gives_up_or_is_dropped_leaves_no_node() {
        let ensemble = zk_fake::FakeEnsemble::new();
        let (a, b) = (ensemble.connect(), ensemble.connect());
        let engine = Engine::new(&b, "/e");
        let held = contend(&Engine::new(&a, "/e"), true, None).await.unwrap();
        assert!(held.is_some());
        let tried = contend(&engine, false, None).await;
        assert!(tried.unwrap().is_none(), "blocked without waiting");
        assert_eq!(engine.list().await.unwrap().len(), 1);
        let deadline = Some(Instant::now() + std::time::Duration::from_millis(50));
        let timed = contend(&engine, true, deadline).await;
        assert!(timed.unwrap().is_none(), "the deadline passed");
        assert_eq!(engine.list().await.unwrap().len(), 1);
        let dropped = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            contend(&engine, true, None),
        )
        .await;
        assert!(dropped.is_err());
        while engine.list().await.unwrap().len() != 1 {
            tokio::task::yield_now().await;
        }
    }
}
