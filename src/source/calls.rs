//! A tally of the API calls a run makes, shared by every live source, read by the diagnosis for `Report.stats`
//! and for the progress line.

use std::collections::BTreeMap;
use std::sync::Mutex;

type Observer = Box<dyn Fn(&str, &str) + Send + Sync>;

/// Counts calls per IAM action name and tells an observer (the progress spinner) about each one.
#[derive(Default)]
pub struct CallLog {
    counts: Mutex<BTreeMap<&'static str, u64>>,
    observer: Mutex<Option<Observer>>,
}

impl CallLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one call to `api` about `resource`.
    pub fn record(&self, api: &'static str, resource: &str) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(api).or_insert(0) += 1;
        }
        if let Ok(observer) = self.observer.lock()
            && let Some(observe) = observer.as_ref()
        {
            observe(api, resource);
        }
    }

    /// Sets the function told about each call (`api`, `resource`).
    pub fn observe(&self, observer: impl Fn(&str, &str) + Send + Sync + 'static) {
        if let Ok(mut slot) = self.observer.lock() {
            *slot = Some(Box::new(observer));
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.lock().map(|c| c.values().sum()).unwrap_or(0)
    }

    pub fn by_api(&self) -> BTreeMap<&'static str, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl std::fmt::Debug for CallLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallLog").field("counts", &self.by_api()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn counts_per_api_and_tells_the_observer() {
        let log = CallLog::new();
        let seen = Arc::new(AtomicU64::new(0));
        let seen_by_observer = Arc::clone(&seen);
        log.observe(move |_, _| {
            seen_by_observer.fetch_add(1, Ordering::Relaxed);
        });
        log.record("iam:GetRole", "app");
        log.record("iam:GetRole", "exec");
        log.record("ecs:DescribeTasks", "t");
        assert_eq!(log.total(), 3);
        assert_eq!(log.by_api().get("iam:GetRole"), Some(&2));
        assert_eq!(seen.load(Ordering::Relaxed), 3);
    }
}
