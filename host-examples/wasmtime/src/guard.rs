//! The bounds on every call into the guest: the memory guard of each store
//! and the one epoch ticker per engine that drives the time bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::{Engine, ResourceLimiter};

/// Bounds on every call into the guest, so that a guest bug can neither hang
/// nor exhaust the host. A call over a bound is refused as `too-large`, and
/// the next call gets a fresh instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most guest linear memory, in bytes (default 2 GiB: a 256 MiB input,
    /// the largest the component accepts, needs about three times that).
    pub memory_bytes: usize,
    /// Longest one call may run (default 60 s; a 100,000-issue snapshot
    /// takes well under a second).
    pub call_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 2 << 30,
            call_time: Duration::from_secs(60),
        }
    }
}

/// How often the engine's epoch advances; deadlines are counted in ticks.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// The store's data: the memory bound, whether it was hit, and the largest
/// size the guest's memory was allowed to reach (for `bench`).
pub(crate) struct Guard {
    pub(crate) memory_bytes: usize,
    pub(crate) memory_denied: bool,
    pub(crate) memory_peak: usize,
}

impl ResourceLimiter for Guard {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.memory_bytes;
        self.memory_denied |= !allowed;
        if allowed {
            self.memory_peak = self.memory_peak.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// A share of the one thread that advances an engine's epoch every
/// [`TICK`]: every [`crate::Publisher`] on an engine holds one, and the thread
/// stops when the last is dropped. One thread per engine, not per
/// publisher: each tick advances the epoch of every store on the engine, so
/// two tickers would count a publisher's deadline down twice as fast.
pub(crate) struct Ticker(Engine);

/// The running tickers: an engine, how many publishers share it, and the
/// flag that stops its thread.
static TICKERS: std::sync::Mutex<Vec<(Engine, usize, Arc<AtomicBool>)>> =
    std::sync::Mutex::new(Vec::new());

fn tickers() -> std::sync::MutexGuard<'static, Vec<(Engine, usize, Arc<AtomicBool>)>> {
    // The list stays consistent even if a holder panicked.
    TICKERS.lock().unwrap_or_else(|p| p.into_inner())
}

impl Ticker {
    pub(crate) fn start(engine: &Engine) -> Ticker {
        let mut all = tickers();
        if let Some(entry) = all.iter_mut().find(|(e, _, _)| Engine::same(e, engine)) {
            entry.1 += 1;
        } else {
            let stop = Arc::new(AtomicBool::new(false));
            let (ticking, flag) = (engine.clone(), stop.clone());
            std::thread::spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    ticking.increment_epoch();
                }
            });
            all.push((engine.clone(), 1, stop));
        }
        Ticker(engine.clone())
    }

    /// How many ticker threads run for `engine` (0 or 1), for tests.
    pub(crate) fn threads_for(engine: &Engine) -> usize {
        tickers()
            .iter()
            .filter(|(e, _, _)| Engine::same(e, engine))
            .count()
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        let mut all = tickers();
        if let Some(i) = all.iter().position(|(e, _, _)| Engine::same(e, &self.0)) {
            all[i].1 -= 1;
            if all[i].1 == 0 {
                all[i].2.store(true, Ordering::Relaxed);
                all.swap_remove(i);
            }
        }
    }
}
