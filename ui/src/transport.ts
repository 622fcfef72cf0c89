// The one seam between pages and the outside world. Pages get a Transport and never ask
// where they run: in the Tauri window calls go over IPC, in a browser over HTTP + SSE.

import type { LiveStatus } from './sse';
import type { JobDetail, JobPage, JobView, ListQuery, Summary } from './types';

export type { LiveStatus };

export interface Transport {
  /** "tauri" or "http", for display only. */
  readonly kind: 'tauri' | 'http';
  listJobs(query: ListQuery): Promise<JobPage>;
  showJob(id: number): Promise<JobDetail>;
  cancelJob(id: number): Promise<JobView>;
  retryJob(id: number): Promise<JobView>;
  /** The last `tail` lines of the job's output (all of it without `tail`). */
  jobLogs(id: number, tail?: number): Promise<string>;
  summary(): Promise<Summary>;
  pauseAll(): Promise<Summary>;
  resumeAll(): Promise<Summary>;
  /** Calls `onChange` on every "something changed, refetch" tick until the returned function
   *  is called. `onStatus` reports whether ticks can currently arrive. */
  subscribe(onChange: () => void, onStatus?: (status: LiveStatus) => void): () => void;
}

/** Inside the Tauri window the runtime injects this global before any of our code runs. */
export function inTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

/** Drops absent filters: the API refuses unknown fields and treats "" as a value. */
export function cleanQuery(query: ListQuery): ListQuery {
  const out: ListQuery = {};
  if (query.state) out.state = query.state;
  if (query.queue) out.queue = query.queue;
  if (query.before !== undefined) out.before = query.before;
  if (query.limit !== undefined) out.limit = query.limit;
  return out;
}
