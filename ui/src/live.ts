// Helpers that keep live updates cheap: coalesce refetches, tick clocks only when visible.

/** Wraps an async refresh so that calls during a run are folded into one more run after it:
 *  a burst of change ticks costs at most two fetches, and answers never arrive out of order. */
export function coalesced(run: () => Promise<void>): () => Promise<void> {
  let current: Promise<void> | null = null;
  let again = false;
  return () => {
    if (current) {
      again = true;
      return current;
    }
    current = (async () => {
      try {
        do {
          again = false;
          await run();
        } while (again);
      } finally {
        current = null;
      }
    })();
    return current;
  };
}

/** Calls `fn(now)` every second while the page is visible; a hidden window does no work.
 *  Returns a function that stops it. */
export function everySecondWhileVisible(fn: (now: number) => void): () => void {
  let timer: ReturnType<typeof setInterval> | null = null;
  const sync = () => {
    const visible = document.visibilityState === 'visible';
    if (visible && timer === null) {
      fn(Date.now()); // catch up at once after being hidden
      timer = setInterval(() => fn(Date.now()), 1000);
    } else if (!visible && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
  document.addEventListener('visibilitychange', sync);
  sync();
  return () => {
    document.removeEventListener('visibilitychange', sync);
    if (timer !== null) clearInterval(timer);
  };
}
