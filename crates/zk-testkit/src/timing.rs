//! Test timing: one base timeout, scaled by `ZK_TEST_TIMEOUT_SCALE`, and a helper to apply it.

use std::future::Future;
use std::panic::Location;
use std::time::Duration;

/// The unscaled time a single wait in a test may take: 5 seconds.
pub const BASE_TIMEOUT: Duration = Duration::from_secs(5);

/// The environment variable holding the timeout multiplier (a positive float, default 1).
pub const SCALE_VAR: &str = "ZK_TEST_TIMEOUT_SCALE";

/// The multiplier read from [`SCALE_VAR`]; 1 when unset, unparsable, zero, negative or not finite.
pub fn scale() -> f64 {
    std::env::var(SCALE_VAR)
        .ok()
        .and_then(|raw| parse_scale(&raw))
        .unwrap_or(1.0)
}

fn parse_scale(raw: &str) -> Option<f64> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
}

/// How long one wait in a test may take: [`BASE_TIMEOUT`] times [`scale`].
///
/// Slow machines (or a busy CI) raise the multiplier instead of editing tests.
pub fn test_timeout() -> Duration {
    BASE_TIMEOUT.mul_f64(scale())
}

/// Awaits `fut`, panicking with the caller's location if it takes longer than [`test_timeout`].
///
/// Use it around every wait for a watch event or a state change, so a missing event fails the
/// test with a clear message instead of hanging it.
/// Under paused tokio time the timeout fires as soon as nothing else can make progress.
///
/// # Panics
/// When the timeout elapses first.
#[track_caller]
pub fn within<F: Future>(fut: F) -> impl Future<Output = F::Output> {
    within_for(test_timeout(), fut)
}

/// Like [`within`] with an explicit limit (for a whole case, say).
///
/// # Panics
/// When `limit` elapses first.
#[track_caller]
pub fn within_for<F: Future>(limit: Duration, fut: F) -> impl Future<Output = F::Output> {
    let caller = Location::caller();
    async move {
        match tokio::time::timeout(limit, fut).await {
            Ok(output) => output,
            Err(_) => panic!(
                "timed out after {limit:?} waiting at {caller} \
                 (raise {SCALE_VAR} on slow machines)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_parsing() {
        assert_eq!(parse_scale("2.5"), Some(2.5));
        assert_eq!(parse_scale(" 3 "), Some(3.0));
        assert_eq!(parse_scale("0"), None);
        assert_eq!(parse_scale("-1"), None);
        assert_eq!(parse_scale("NaN"), None);
        assert_eq!(parse_scale("fast"), None);
    }

    #[test]
    fn timeout_is_the_scaled_base() {
        let expected = BASE_TIMEOUT.mul_f64(scale());
        assert_eq!(test_timeout(), expected);
        assert!(test_timeout() > Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn within_returns_the_output() {
        assert_eq!(within(async { 7 }).await, 7);
    }

    #[tokio::test(start_paused = true)]
    async fn within_panics_with_a_clear_message_on_timeout() {
        let joined = tokio::spawn(within(std::future::pending::<()>())).await;
        let panic = joined
            .expect_err("a pending future must time out")
            .into_panic();
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("timed out after"), "{message}");
        assert!(message.contains(SCALE_VAR), "{message}");
    }
}
