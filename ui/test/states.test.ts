import { describe, expect, it } from 'vitest';
import { jobAction, outcomeBadge, stateBadge } from '../src/states';
import { JOB_STATES } from '../src/api/types';

describe('stateBadge', () => {
  it('gives each state its own tone', () => {
    expect(stateBadge('queued')).toEqual({ label: 'queued', tone: 'neutral' });
    expect(stateBadge('running')).toEqual({ label: 'running', tone: 'active' });
    expect(stateBadge('succeeded')).toEqual({ label: 'succeeded', tone: 'ok' });
    expect(stateBadge('failed')).toEqual({ label: 'failed', tone: 'bad' });
    expect(stateBadge('cancelled')).toEqual({ label: 'cancelled', tone: 'muted' });
    expect(new Set(JOB_STATES.map((s) => stateBadge(s).tone)).size).toBe(JOB_STATES.length);
  });
  it('shows a state from a newer daemon as is, neutral', () => {
    expect(stateBadge('waiting')).toEqual({ label: 'waiting', tone: 'neutral' });
  });
});

describe('outcomeBadge', () => {
  it('reads outcomes in words and marks interruptions as warnings', () => {
    expect(outcomeBadge('timed_out')).toEqual({ label: 'timed out', tone: 'bad' });
    expect(outcomeBadge('spawn_failed')).toEqual({ label: 'could not start', tone: 'bad' });
    expect(outcomeBadge('interrupted').tone).toBe('warn');
    expect(outcomeBadge('succeeded').tone).toBe('ok');
  });
});

describe('jobAction', () => {
  it('offers cancel while a job may run and retry once it is final', () => {
    expect(jobAction('queued')).toBe('cancel');
    expect(jobAction('running')).toBe('cancel');
    expect(jobAction('succeeded')).toBe('retry');
    expect(jobAction('failed')).toBe('retry');
    expect(jobAction('cancelled')).toBe('retry');
    expect(jobAction('mystery')).toBeNull();
  });
});
