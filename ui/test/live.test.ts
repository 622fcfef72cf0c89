import { describe, expect, it, vi } from 'vitest';
import { coalesced, throttled } from '../src/live';

describe('coalesced', () => {
  it('folds calls made during a run into exactly one more run', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const refresh = coalesced(async () => {
      runs++;
      if (runs === 1) await new Promise<void>((r) => (release = r));
    });
    const first = refresh();
    refresh();
    refresh();
    refresh();
    expect(runs).toBe(1);
    release();
    await first;
    expect(runs).toBe(2);
    await refresh();
    expect(runs).toBe(3);
  });

  it('keeps working after a run throws', async () => {
    let runs = 0;
    const refresh = coalesced(async () => {
      runs++;
      if (runs === 1) throw new Error('boom');
    });
    await expect(refresh()).rejects.toThrow('boom');
    await refresh();
    expect(runs).toBe(2);
  });
});

describe('throttled', () => {
  it('runs at once, then once at the end of the interval for any number of calls', async () => {
    vi.useFakeTimers();
    try {
      let runs = 0;
      const t = throttled(() => runs++, 10_000);
      t.call();
      expect(runs).toBe(1);
      for (let i = 0; i < 50; i++) t.call();
      expect(runs).toBe(1);
      await vi.advanceTimersByTimeAsync(9_999);
      expect(runs).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(runs).toBe(2);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(runs).toBe(2);
      t.call();
      expect(runs).toBe(3);
      t.call();
      t.cancel();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(runs).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
