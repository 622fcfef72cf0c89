// The JSON shapes of the API, mirrored from crates/api/src/dto.rs and crates/core/src/job.rs.
// Rust `Option<T>` arrives as `null`; times are milliseconds since the Unix epoch.

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const JOB_STATES: readonly JobState[] = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
];

export type AttemptOutcome =
  | 'starting'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'cancelled'
  | 'interrupted'
  | 'spawn_failed';

/** `JobView`: the stored job (spec flattened in) plus the command as a person would type it. */
export interface JobView {
  id: number;
  state: JobState;
  program: string;
  args: string[];
  shell: boolean;
  env: Record<string, string>;
  cwd: string | null;
  queue: string;
  priority: number;
  timeout_ms: number | null;
  max_attempts: number;
  notify: boolean;
  payload_size: number | null;
  attempts_used: number;
  attempt_count: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  exit_code: number | null;
  signal: number | null;
  reason: string | null;
  command: string;
  /** Why it is not running: for a queued job what holds it back, for a running job that
   * power paused it. */
  waiting?: Waiting | null;
}

/** Why a job is not running; `kind` for programs, `message` for people. */
export interface Waiting {
  kind:
    | 'scheduled'
    | 'backoff'
    | 'dependency'
    | 'all_paused'
    | 'queue_paused'
    | 'on_battery'
    | 'battery_low'
    | 'queue_held'
    | 'queue_full'
    | 'paused_for_power'
    | 'cpu_busy'
    | 'next';
  message: string;
  /** For scheduled and backoff: when it becomes due (Unix ms). */
  until?: number;
  /** For dependency: the job it waits for. */
  job?: number;
}

export interface Attempt {
  id: number;
  job_id: number;
  number: number;
  pid: number | null;
  pgid: number | null;
  start_ticks: number | null;
  boot_id: string | null;
  started_at: number;
  ended_at: number | null;
  exit_code: number | null;
  signal: number | null;
  outcome: AttemptOutcome;
}

export interface JobPage {
  jobs: JobView[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  next_before: number | null;
}

export interface JobDetail {
  job: JobView;
  attempts: Attempt[];
}

export interface ListQuery {
  state?: JobState;
  queue?: string;
  before?: number;
  limit?: number;
}

/** Counts per state (a state with no jobs may be missing) and whether dispatch is held. */
export interface Summary {
  counts: Partial<Record<JobState, number>>;
  running: number;
  paused: boolean;
}

export function isFinal(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}
