import { describe, expect, it } from 'vitest';
import { coalesced } from '../src/live';

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
