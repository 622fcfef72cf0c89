// Pure text formatting for times, durations and exits. No DOM, so it is unit tested in node.

import type { JobView } from './api/types';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** A span of time, compact and stable in width as it ticks: "420ms", "12s", "3m 04s",
 *  "2h 05m", "3d 4h". Negative spans (clock skew) read as zero. */
export function formatDuration(ms: number): string {
  const t = Math.max(0, Math.floor(ms));
  if (t < SECOND) return `${t}ms`;
  if (t < MINUTE) return `${Math.floor(t / SECOND)}s`;
  if (t < HOUR) return `${Math.floor(t / MINUTE)}m ${pad2(Math.floor((t % MINUTE) / SECOND))}s`;
  if (t < DAY) return `${Math.floor(t / HOUR)}h ${pad2(Math.floor((t % HOUR) / MINUTE))}m`;
  return `${Math.floor(t / DAY)}d ${Math.floor((t % DAY) / HOUR)}h`;
}

/** A size as people read it, in powers of 1024: "512 B", "1.5 KiB", "300.0 MiB", "2.1 GiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Math.max(0, n);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.floor(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** CPU time: hundredths of a second while it is short ("0.35s"), then as a duration. */
export function formatCpuTime(ms: number): string {
  return ms < 10 * SECOND ? `${(Math.max(0, ms) / SECOND).toFixed(2)}s` : formatDuration(ms);
}

/** How long ago `then` was, coarse on purpose: "just now", "12s ago", "3m ago", "2h ago",
 *  "4d ago"; past a month, the date itself says more than a count of days. */
export function formatAge(then: number, now: number): string {
  const d = now - then;
  if (d < 5 * SECOND) return 'just now';
  if (d < MINUTE) return `${Math.floor(d / SECOND)}s ago`;
  if (d < HOUR) return `${Math.floor(d / MINUTE)}m ago`;
  if (d < DAY) return `${Math.floor(d / HOUR)}h ago`;
  if (d < 30 * DAY) return `${Math.floor(d / DAY)}d ago`;
  return formatTimestamp(then).slice(0, 10);
}

/** Local wall-clock time, sortable: "2025-03-09 14:05:07". */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  6: 'SIGABRT',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  14: 'SIGALRM',
  15: 'SIGTERM',
};

/** An exit status as people read it: the code, else the signal by name, else a dash. */
export function formatExit(code: number | null | undefined, signal: number | null | undefined): string {
  if (code != null) return String(code);
  if (signal != null) return SIGNALS[signal] ?? `signal ${signal}`;
  return '—';
}

/** How long the job ran: to its end if it finished, to `now` while it runs, else nothing. */
export function jobDurationMs(
  job: Pick<JobView, 'state' | 'started_at' | 'finished_at'>,
  now: number,
): number | null {
  if (job.started_at == null) return null;
  if (job.finished_at != null) return job.finished_at - job.started_at;
  if (job.state === 'running') return now - job.started_at;
  return null;
}
