import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  finishedPerStep,
  formatCount,
  formatCoverage,
  formatRate,
  formatRatio,
  formatSpan,
  formatStep,
  isolatedPoints,
  powerPolicy,
  sparkline,
} from '../src/charts';
import type { QueueView, Series } from '../src/api/types';

const series = (over: Partial<Series>): Series => ({
  added: [], cancelled: [], failed: [], held: [], paused_minutes: [], power_held_minutes: [], queued: [],
  retried: [], run_p50_ms: [], run_p95_ms: [], run_p99_ms: [], running: [], scheduled: [], started: [],
  succeeded: [], wait_p95_ms: [], ...over,
});

describe('finishedPerStep', () => {
  it('adds succeeded, failed and cancelled (as throughput does) and keeps gaps as gaps', () => {
    const s = series({ succeeded: [3, null, 0, 2], failed: [1, null, 0, null], cancelled: [1, null, 0, 0] });
    expect(finishedPerStep(s)).toEqual([5, null, 0, 2]);
  });
});

describe('isolatedPoints', () => {
  it('finds values with no neighbour, at the edges too', () => {
    expect(isolatedPoints([5, null, 3, 4, null, null, 7])).toEqual([0, 6]);
    expect(isolatedPoints([null, 1, null])).toEqual([1]);
    expect(isolatedPoints([])).toEqual([]);
  });
});

describe('sparkline', () => {
  it('splits at gaps and stays inside its box', () => {
    const runs = sparkline([0, 4, null, 2, 8], 100, 20);
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      for (const point of run.split(' ')) {
        const [x, y] = point.split(',').map(Number);
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(100);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(y).toBeLessThanOrEqual(20);
      }
    }
    expect(sparkline([null, null], 100, 20)).toEqual([]);
  });

  it('draws one point per value for any input, gaps never joined', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.nat(1_000_000), { nil: null }), { maxLength: 200 }), (values) => {
        const runs = sparkline(values, 120, 28);
        const drawn = runs.reduce((n, r) => n + r.split(' ').length, 0);
        expect(drawn).toBe(values.filter((v) => v !== null).length);
        for (const run of runs) expect(run).not.toMatch(/NaN|Infinity/);
      }),
    );
  });
});

describe('formatting', () => {
  it('reads ratios, rates, counts and coverage', () => {
    expect(formatRatio(0.98123)).toBe('98.1%');
    expect(formatRatio(null)).toBe('—');
    expect(formatRate(2040.4)).toBe('2,040/h');
    expect(formatRate(3.25)).toBe('3.3/h');
    expect(formatRate(undefined)).toBe('—');
    expect(formatCount(12)).toBe('12');
    expect(formatCount(0.5)).toBe('0.5');
    expect(formatCount(0.25)).toBe('0.25');
    expect(formatCount(1 / 3)).toBe('0.33');
    expect(formatSpan(420.4)).toBe('420ms');
    expect(formatSpan(1_900)).toBe('1.9s');
    expect(formatSpan(2_500)).toBe('2.5s');
    expect(formatSpan(42_400)).toBe('42s');
    expect(formatSpan(125_000)).toBe('2m 05s');
    expect(formatSpan(null)).toBe('—');
    expect(formatStep(60)).toBe('1 min');
    expect(formatStep(900)).toBe('15 min');
    expect(formatStep(7_200)).toBe('2 h');
    expect(formatStep(86_400)).toBe('1 d');
    expect(formatCount(12_500)).toBe('13k');
    expect(formatCoverage(1440, 86_400_000)).toBe('all of it');
    expect(formatCoverage(1, 86_400_000)).toBe('under 1% of it');
    expect(formatCoverage(0, 86_400_000)).toBe('0% of it');
    expect(formatCoverage(720, 86_400_000)).toBe('50% of it');
  });

  it('says a queue’s power rules in words', () => {
    const q = { name: 'q', concurrency: 2, counts: {}, limit_source: 'default', paused: false } as QueueView;
    expect(powerPolicy(q)).toBe('any power');
    expect(powerPolicy({ ...q, require_ac: true, on_power_loss: 'pause' })).toBe('needs AC, pause on power loss');
    expect(powerPolicy({ ...q, min_battery: 30, battery_concurrency: 1 })).toBe('battery ≥ 30%, at most 1 on battery');
  });
});
