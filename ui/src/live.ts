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

/** Calls `run` at most once per `ms`: at once when it has not run for `ms`, else once when
 *  `ms` has passed since the last run, however many calls came in between (so the last
 *  change is always shown, at most `ms` late). Returns the call and a function that cancels a
 *  pending run. */
export function throttled(run: () => void, ms: number): { call: () => void; cancel: () => void } {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fire = () => {
    timer = null;
    last = Date.now();
    run();
  };
  return {
    call() {
      if (timer !== null) return;
      const wait = last + ms - Date.now();
      if (wait <= 0) fire();
      else timer = setTimeout(fire, wait);
    },
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
