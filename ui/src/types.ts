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
  /** For a running job, what its process group uses now (absent until its first sample). */
  usage?: UsageView | null;
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
  /** CPU time of its process group (ms) and the most memory it held at once (bytes), sampled
   *  every second while it ran; absent when it ended before the first sample. */
  cpu_ms?: number;
  peak_rss_bytes?: number;
}

/** What a running job's process group uses, from the latest sample. */
export interface UsageView {
  cpu_ms: number;
  /** Percent of one core over the last second; above 100 with several busy. */
  cpu_percent: number | null;
  rss_bytes: number;
  peak_rss_bytes: number;
  processes: number;
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
