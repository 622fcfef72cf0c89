// Job states and attempt outcomes → badge label and tone. The tone names a CSS class
// (`badge--<tone>`), so colors live in style.css only.

import type { AttemptOutcome, JobState } from './api/types';

export type Tone = 'neutral' | 'active' | 'ok' | 'bad' | 'muted' | 'warn';

export interface Badge {
  label: string;
  tone: Tone;
}

const STATE_BADGES: Record<JobState, Badge> = {
  queued: { label: 'queued', tone: 'neutral' },
  running: { label: 'running', tone: 'active' },
  succeeded: { label: 'succeeded', tone: 'ok' },
  failed: { label: 'failed', tone: 'bad' },
  cancelled: { label: 'cancelled', tone: 'muted' },
};

const OUTCOME_BADGES: Record<AttemptOutcome, Badge> = {
  starting: { label: 'starting', tone: 'active' },
  running: { label: 'running', tone: 'active' },
  succeeded: { label: 'succeeded', tone: 'ok' },
  failed: { label: 'failed', tone: 'bad' },
  timed_out: { label: 'timed out', tone: 'bad' },
  cancelled: { label: 'cancelled', tone: 'muted' },
  // Nightshift's own shutdown or crash, not the job's fault: a warning, not a failure.
  interrupted: { label: 'interrupted', tone: 'warn' },
  spawn_failed: { label: 'could not start', tone: 'bad' },
};

/** The badge for a job state; a state this build does not know yet still gets a neutral one. */
export function stateBadge(state: string): Badge {
  return STATE_BADGES[state as JobState] ?? { label: state, tone: 'neutral' };
}

export function outcomeBadge(outcome: string): Badge {
  return OUTCOME_BADGES[outcome as AttemptOutcome] ?? { label: outcome, tone: 'neutral' };
}

export type JobActionKind = 'cancel' | 'retry';

/** Which row action a job offers: cancel while it may still run, retry once it is final. */
export function jobAction(state: string): JobActionKind | null {
  if (state === 'queued' || state === 'running') return 'cancel';
  if (state === 'succeeded' || state === 'failed' || state === 'cancelled') return 'retry';
  return null;
}
