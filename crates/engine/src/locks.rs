//! Taking the engine's shared locks. A poisoned lock is taken anyway: each one guards a value
//! that is replaced, inserted into or taken in one step (held queues, paused jobs, queue
//! settings, the CPU hold, the engine's task handle) or the CPU sampler, which a panic at worst
//! leaves with a stale reading. None can be left half-made, and refusing a poisoned lock would
//! turn one bug into every later read failing.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
