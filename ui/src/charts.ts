// What the Overview and Queues pages draw, shaped from the API's answers. Pure functions (no
// DOM, no chart library), so they are unit tested in node.

import type { QueueSummary, QueueView, Series } from './api/types';
import { formatDuration } from './format';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** A CSS custom property of style.css ("--ok"), so light and dark themes both fit. */
  color: string;
  /** Counts per step read best as steps; levels and times as lines. */
  stepped?: boolean;
}

/** Jobs that ended per step: succeeded, failed and cancelled (together, what throughput
 *  counts). */
export function outcomeSeries(s: Series): ChartSeries[] {
  return [
    { label: 'succeeded', values: s.succeeded, color: '--ok', stepped: true },
    { label: 'failed', values: s.failed, color: '--bad', stepped: true },
    { label: 'cancelled', values: s.cancelled, color: '--muted', stepped: true },
  ];
}

/** Run time percentiles per step, in ms. */
export function runTimeSeries(s: Series): ChartSeries[] {
  return [
    { label: 'p50', values: s.run_p50_ms, color: '--ok' },
    { label: 'p95', values: s.run_p95_ms, color: '--warn' },
    { label: 'p99', values: s.run_p99_ms, color: '--bad' },
  ];
}

/** Mean queue depth per step, by state. */
export function depthSeries(s: Series): ChartSeries[] {
  return [
    { label: 'queued', values: s.queued, color: '--neutral' },
    { label: 'running', values: s.running, color: '--active' },
    { label: 'scheduled', values: s.scheduled, color: '--muted' },
    { label: 'held for power', values: s.held, color: '--warn' },
  ];
}

/** Jobs that ended per step (succeeded, failed and cancelled, as throughput counts them),
 *  gaps kept: a sparkline. */
export function finishedPerStep(s: Series): (number | null)[] {
  return s.succeeded.map((ok, i) => {
    const parts = [ok, s.failed[i] ?? null, s.cancelled[i] ?? null];
    return parts.every((v) => v === null) ? null : parts.reduce<number>((a, v) => a + (v ?? 0), 0);
  });
}

/** Indices of values with no value on either side: a line cannot show them, so they are drawn
 *  as dots (the step under way, just after a gap, is often one). */
export function isolatedPoints(values: readonly (number | null | undefined)[]): number[] {
  const out: number[] = [];
  values.forEach((v, i) => {
    if (v == null) return;
    if ((values[i - 1] ?? null) === null && (values[i + 1] ?? null) === null) out.push(i);
  });
  return out;
}

/** An SVG polyline's points for `values` in a `width`×`height` box; gaps split the line into
 *  runs, so each run is its own polyline. Empty when nothing has a value. */
export function sparkline(values: (number | null)[], width: number, height: number): string[] {
  const max = Math.max(0, ...values.filter((v): v is number => v !== null));
  const n = values.length;
  if (n === 0 || values.every((v) => v === null)) return [];
  const x = (i: number) => (n === 1 ? width / 2 : (i / (n - 1)) * width);
  const y = (v: number) => height - 1 - (max === 0 ? 0 : (v / max) * (height - 2));
  const runs: string[] = [];
  let run: string[] = [];
  values.forEach((v, i) => {
    if (v === null) {
      if (run.length) runs.push(run.join(' '));
      run = [];
    } else run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  if (run.length) runs.push(run.join(' '));
  return runs;
}

/** The share of a window Nightshift was running, in words: "all of it", "62%", "under 1%". */
export function formatCoverage(coveredMinutes: number, windowMs: number): string {
  if (windowMs <= 0) return '—';
  const share = (coveredMinutes * 60_000) / windowMs;
  if (share >= 0.995) return 'all of it';
  if (share > 0 && share < 0.01) return 'under 1% of it';
  return `${Math.round(share * 100)}% of it`;
}

/** A ratio as a percentage with one decimal, "—" when there is none. */
export function formatRatio(ratio: number | null | undefined): string {
  return ratio == null ? '—' : `${(ratio * 100).toFixed(1)}%`;
}

/** Jobs per hour: whole numbers once they are large, one decimal below 10. */
export function formatRate(perHour: number | null | undefined): string {
  if (perHour == null) return '—';
  return perHour >= 10 ? `${Math.round(perHour).toLocaleString('en')}/h` : `${perHour.toFixed(1)}/h`;
}

/** A run time as people compare them: "420ms", "1.5s" (a tenth below ten seconds, where
 *  "1s" would hide half of it), "42s", then as a duration; "—" when absent. */
export function formatSpan(ms: number | null | undefined): string {
  if (ms == null) return '—';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  return formatDuration(ms);
}

/** A chart's step in words: "1 min", "15 min", "2 h", "1 d". */
export function formatStep(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return formatDuration(seconds * 1000);
}

/** A duration in ms, "—" when absent. */
export function formatMs(ms: number | null | undefined): string {
  return ms == null ? '—' : formatDuration(ms);
}

/** A count on a chart axis: whole numbers as they are, fractions (mean depths) with up to two
 *  decimals, thousands as "k". */
export function formatCount(n: number): string {
  if (Math.abs(n) >= 1000) return `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}k`;
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(2)));
}

/** The queue's power rules in words; "any power" when it has none. */
export function powerPolicy(q: QueueView): string {
  const parts: string[] = [];
  if (q.require_ac) parts.push('needs AC');
  if (q.min_battery != null) parts.push(`battery ≥ ${q.min_battery}%`);
  if (q.battery_concurrency != null) parts.push(`at most ${q.battery_concurrency} on battery`);
  if (q.on_power_loss && q.on_power_loss !== 'finish') parts.push(`${q.on_power_loss} on power loss`);
  return parts.length ? parts.join(', ') : 'any power';
}

/** The summary of one queue by name, from a summary's list. */
export function summaryOf(queues: QueueSummary[] | undefined, name: string): QueueSummary | undefined {
  return queues?.find((q) => q.queue === name);
}
