//! Clock readings on the request path.
//!
//! A request reads the monotonic clock four times: when its head has arrived, when its
//! integration starts and ends, and when its answer is ready. Everything else that needs a
//! time takes one of those readings: the wall-clock time of the request (`$context.requestTime`,
//! the trace id), the answer's `Date`, the deadlines of the body, of the backend and of the
//! next request on the connection, and the pool's idle bookkeeping. On a virtual machine a
//! reading costs tens of nanoseconds, and a proxied request used to take twelve.

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime};

/// How long a thread's pairing of the two clocks serves before it is taken again: a step of
/// the system clock shows within this.
const REANCHOR: Duration = Duration::from_secs(1);

thread_local! {
    /// A monotonic reading and the wall-clock time taken with it.
    static ANCHOR: Cell<Option<(Instant, SystemTime)>> = const { Cell::new(None) };
}

/// The wall-clock time of the monotonic reading `at`, without reading the system clock more
/// than once a second per thread.
pub fn wall(at: Instant) -> SystemTime {
    ANCHOR.with(|anchor| {
        let (mut base, mut base_wall) = anchor.get().unwrap_or_else(|| anchored(anchor));
        // Readings mostly come after the anchor, and in order; one far after it pairs anew.
        let mut later = at.checked_duration_since(base);
        if later.is_some_and(|later| later >= REANCHOR) {
            (base, base_wall) = anchored(anchor);
            later = at.checked_duration_since(base);
        }
        match later {
            Some(later) => base_wall + later,
            // One taken before the thread paired the clocks again.
            None => base_wall - base.duration_since(at),
        }
    })
}

/// Pairs the two clocks anew.
fn anchored(anchor: &Cell<Option<(Instant, SystemTime)>>) -> (Instant, SystemTime) {
    let fresh = (Instant::now(), SystemTime::now());
    anchor.set(Some(fresh));
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apart(a: SystemTime, b: SystemTime) -> Duration {
        a.duration_since(b).unwrap_or_else(|e| e.duration())
    }

    #[test]
    fn the_wall_time_of_a_reading_is_that_of_the_system_clock() {
        let (at, now) = (Instant::now(), SystemTime::now());
        assert!(apart(wall(at), now) < Duration::from_millis(50));
        // Readings before and after the anchor, and far from it (which re-anchors).
        let later = at + Duration::from_millis(300);
        assert!(apart(wall(later), now + Duration::from_millis(300)) < Duration::from_millis(50));
        let earlier = at - Duration::from_millis(200);
        assert!(apart(wall(earlier), now - Duration::from_millis(200)) < Duration::from_millis(50));
        let far = at + Duration::from_secs(5);
        assert!(apart(wall(far), now + Duration::from_secs(5)) < Duration::from_millis(50));
    }
}
