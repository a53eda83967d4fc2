//! A timer for the deadlines of one connection, which come one after another.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio::time::{Instant, Sleep};

/// A timer for deadlines that come one after another (a connection's requests), mostly later
/// each time: armed once, and moved to the deadline it serves only when it fires before it,
/// or when a deadline comes earlier than the one it is set for. `tokio::time::timeout` on every
/// request would insert an entry into the runtime's timer wheel and take it out again each
/// time; this touches the wheel about once per timeout period.
///
/// Nor is the timer polled again while it waits for the deadline it was last polled for, on
/// behalf of the same task: polling registers the task's waker anew each time (a waker clone
/// and four atomic operations), and the registered one will do.
#[derive(Default)]
pub struct LazyTimer {
    sleep: Option<Pin<Box<Sleep>>>,
    /// The waker the timer last answered `Pending` to, for the deadline it is set for.
    waiting: Option<Waker>,
}

impl LazyTimer {
    /// Ready once `deadline` has passed; until then the task is woken when it may have.
    pub fn poll_passed(&mut self, deadline: Instant, cx: &mut Context<'_>) -> Poll<()> {
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.deadline() > deadline {
            sleep.as_mut().reset(deadline);
            self.waiting = None;
        }
        // Still in the runtime's timer wheel, set no later than `deadline`, and due to wake
        // this very task: nothing has passed that the task would not hear of.
        if !sleep.is_elapsed() && self.waiting.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        self.waiting = None;
        loop {
            if sleep.as_mut().poll(cx).is_pending() {
                self.waiting = Some(cx.waker().clone());
                return Poll::Pending;
            }
            if sleep.deadline() >= deadline {
                return Poll::Ready(());
            }
            // Fired for an earlier deadline: on to this one.
            sleep.as_mut().reset(deadline);
        }
    }

    /// `fut`'s output, or `None` when `deadline` passes first. (`fut` is pinned where the
    /// caller keeps it: a future taken by value would be held twice, moved and pinned.)
    pub async fn run_until<F: Future>(
        &mut self,
        deadline: Instant,
        mut fut: Pin<&mut F>,
    ) -> Option<F::Output> {
        std::future::poll_fn(|cx| {
            if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                return Poll::Ready(Some(out));
            }
            self.poll_passed(deadline, cx).map(|()| None)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn each_deadline_is_kept_however_the_timer_was_set() {
        let mut timer = LazyTimer::default();
        let start = Instant::now();
        let slow = || tokio::time::sleep(Duration::from_secs(10));
        let at = |seconds| start + Duration::from_secs(seconds);
        // Armed for the first deadline; the second, later one is served by moving it forward.
        assert_eq!(timer.run_until(at(1), std::pin::pin!(slow())).await, None);
        assert_eq!(Instant::now(), at(1));
        let quick = std::pin::pin!(async { 7 });
        assert_eq!(timer.run_until(at(5), quick).await, Some(7));
        assert_eq!(timer.run_until(at(3), std::pin::pin!(slow())).await, None);
        assert_eq!(Instant::now(), at(3));
        // A deadline earlier than the one the timer is set for.
        timer.sleep.as_mut().unwrap().as_mut().reset(at(60));
        assert_eq!(timer.run_until(at(5), std::pin::pin!(slow())).await, None);
        assert_eq!(Instant::now(), at(5));
    }

    #[tokio::test]
    async fn a_task_woken_for_other_reasons_still_sees_its_deadline_pass() {
        // The task is woken over and over by its own future, while the timer waits: the timer
        // is left registered, and still ends the wait when the deadline passes.
        let mut timer = LazyTimer::default();
        let deadline = Instant::now() + Duration::from_millis(30);
        let busy = std::pin::pin!(async {
            loop {
                tokio::task::yield_now().await;
            }
        });
        let ended = tokio::time::timeout(Duration::from_secs(5), timer.run_until(deadline, busy)).await;
        assert!(matches!(ended, Ok(None)), "the deadline passed unnoticed");
        assert!(Instant::now() >= deadline);
    }
}
