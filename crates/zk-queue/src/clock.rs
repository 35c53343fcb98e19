//! The time delays are measured against: wall-clock milliseconds since the Unix epoch, since
//! a delayed item's "not before" is written by one process and read by others.
//!
//! The wall clock is read once (per thread); after that the time advances with tokio's
//! clock. So in a test with tokio's clock paused, delays pass exactly as the test advances
//! time, and a wall-clock step (NTP) does not make delays jump.

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

thread_local! {
    /// The wall clock and tokio's clock, read together on this thread's first use. Per
    /// thread, because each runtime (a test's paused one, say) has a clock of its own, and a
    /// runtime's tasks run on its threads.
    static ANCHOR: Cell<Option<(Duration, Instant)>> = const { Cell::new(None) };
}

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> u64 {
    let now = Instant::now();
    let (wall, at) = ANCHOR.with(|anchor| {
        anchor.get().unwrap_or_else(|| {
            let wall = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            anchor.set(Some((wall, now)));
            (wall, now)
        })
    });
    millis(wall + now.saturating_duration_since(at))
}

/// A time as milliseconds since the Unix epoch (times before it count as 0).
pub(crate) fn epoch_millis(at: SystemTime) -> u64 {
    millis(at.duration_since(UNIX_EPOCH).unwrap_or_default())
}

/// A time given as milliseconds since the Unix epoch.
pub(crate) fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// The instant (on tokio's clock) at which `at` (milliseconds since the Unix epoch) will be
/// now.
pub(crate) fn instant_of(at: u64) -> Instant {
    Instant::now() + Duration::from_millis(at.saturating_sub(now_millis()))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn time_moves_with_tokio() {
        let before = now_millis();
        tokio::time::advance(Duration::from_millis(1_500)).await;
        let after = now_millis();
        assert!(
            (1_500..1_600).contains(&(after - before)),
            "{before} {after}"
        );
        assert_eq!(epoch_millis(from_millis(after)), after);
        let due = instant_of(after + 250);
        assert_eq!(due - Instant::now(), Duration::from_millis(250));
    }
}
