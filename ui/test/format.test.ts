import { describe, expect, it } from 'vitest';
import {
  formatAge,
  formatBytes,
  formatCpuTime,
  formatDuration,
  formatExit,
  formatTimestamp,
  jobDurationMs,
} from '../src/format';

describe('formatDuration', () => {
  it('uses milliseconds below a second', () => {
    expect(formatDuration(0)).toBe('0ms');
    expect(formatDuration(420)).toBe('420ms');
    expect(formatDuration(999.9)).toBe('999ms');
  });
  it('uses whole seconds below a minute', () => {
    expect(formatDuration(1000)).toBe('1s');
    expect(formatDuration(59_999)).toBe('59s');
  });
  it('pads the smaller unit so a ticking clock keeps its width', () => {
    expect(formatDuration(60_000)).toBe('1m 00s');
    expect(formatDuration(3 * 60_000 + 4_000)).toBe('3m 04s');
    expect(formatDuration(2 * 3_600_000 + 5 * 60_000 + 59_000)).toBe('2h 05m');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d 4h');
  });
  it('reads negative spans (clock skew) as zero', () => {
    expect(formatDuration(-5000)).toBe('0ms');
  });
});

describe('formatAge', () => {
  const now = Date.UTC(2025, 2, 9, 12, 0, 0);
  it('is coarse and relative', () => {
    expect(formatAge(now - 2_000, now)).toBe('just now');
    expect(formatAge(now - 12_000, now)).toBe('12s ago');
    expect(formatAge(now - 3 * 60_000 - 59_000, now)).toBe('3m ago');
    expect(formatAge(now - 2 * 3_600_000, now)).toBe('2h ago');
    expect(formatAge(now - 4 * 86_400_000, now)).toBe('4d ago');
  });
  it('treats a time in the future as now', () => {
    expect(formatAge(now + 10_000, now)).toBe('just now');
  });
  it('gives the date for anything older than a month', () => {
    const then = new Date(2024, 0, 15, 10, 30).getTime();
    expect(formatAge(then, now)).toBe('2024-01-15');
  });
});

describe('formatTimestamp', () => {
  it('is local wall-clock time, zero padded', () => {
    expect(formatTimestamp(new Date(2025, 2, 9, 4, 5, 7).getTime())).toBe('2025-03-09 04:05:07');
  });
});

describe('formatExit', () => {
  it('prefers the exit code, then the signal by name', () => {
    expect(formatExit(0, null)).toBe('0');
    expect(formatExit(137, null)).toBe('137');
    expect(formatExit(null, 9)).toBe('SIGKILL');
    expect(formatExit(null, 15)).toBe('SIGTERM');
    expect(formatExit(null, 42)).toBe('signal 42');
    expect(formatExit(null, null)).toBe('—');
  });
});

describe('jobDurationMs', () => {
  it('measures finished jobs to their end and running jobs to now', () => {
    expect(jobDurationMs({ state: 'succeeded', started_at: 1_000, finished_at: 4_500 }, 99_000)).toBe(3_500);
    expect(jobDurationMs({ state: 'running', started_at: 1_000, finished_at: null }, 11_000)).toBe(10_000);
  });
  it('has nothing for a job that has not started or waits again', () => {
    expect(jobDurationMs({ state: 'queued', started_at: null, finished_at: null }, 5_000)).toBeNull();
    expect(jobDurationMs({ state: 'queued', started_at: 1_000, finished_at: null }, 5_000)).toBeNull();
  });
});

describe('formatBytes', () => {
  it('counts in powers of 1024 with one decimal past bytes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300.0 MiB');
    expect(formatBytes(2.5 * 1024 ** 3)).toBe('2.5 GiB');
  });
  it('reads a negative size as zero', () => {
    expect(formatBytes(-5)).toBe('0 B');
  });
});

describe('formatCpuTime', () => {
  it('shows hundredths while short, then a duration', () => {
    expect(formatCpuTime(350)).toBe('0.35s');
    expect(formatCpuTime(9_990)).toBe('9.99s');
    expect(formatCpuTime(200_000)).toBe('3m 20s');
  });
});
