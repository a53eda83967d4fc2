//! What API keys used, counted by a worker's threads between two reports to the control plane
//! (see [`crate::distribution::reporter`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

use crate::domain::usage_plan::UsageCount;

/// Requests by plan, key and day.
type Counts = HashMap<(Arc<str>, Arc<str>, NaiveDate), i64>;

#[derive(Debug, Default)]
pub struct UsageCounter {
    counts: Mutex<Counts>,
}

impl UsageCounter {
    /// One request of `key` under `plan` on `day`.
    pub fn count(&self, plan: &Arc<str>, key: &Arc<str>, day: NaiveDate) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *counts.entry((plan.clone(), key.clone(), day)).or_default() += 1;
    }

    /// Everything counted since the last drain.
    pub fn drain(&self) -> Vec<UsageCount> {
        let counts = std::mem::take(&mut *self.counts.lock().unwrap_or_else(|e| e.into_inner()));
        counts
            .into_iter()
            .map(|((plan, key, day), used)| UsageCount {
                plan_id: plan.to_string(),
                key_id: key.to_string(),
                day,
                used,
            })
            .collect()
    }
}
