// The API's shapes, by name. They are not written here: `schema.d.ts` is generated from the
// API's own OpenAPI description (`ui/openapi.json`, checked against the server by a Rust test)
// with `npm run types`, so a field renamed in Rust fails this build instead of the page.

import type { components } from './schema';

type Schemas = components['schemas'];

export type JobState = Schemas['JobState'];
export type AttemptOutcome = Schemas['AttemptOutcome'];
export type JobView = Schemas['JobView'];
export type JobPage = Schemas['JobPage'];
export type JobDetail = Schemas['JobDetail'];
export type Attempt = Schemas['Attempt'];
export type Waiting = Schemas['Waiting'];
export type UsageView = Schemas['UsageView'];
export type Summary = Schemas['Summary'];
export type PowerView = Schemas['PowerView'];
export type QueueView = Schemas['QueueView'];
export type QueueUpdate = Schemas['QueueUpdate'];
export type MetricsSummary = Schemas['MetricsSummary'];
export type QueueSummary = Schemas['QueueSummary'];
export type Percentiles = Schemas['Percentiles'];
export type Trends = Schemas['Trends'];
export type Series = Schemas['Series'];
export type PoolView = Schemas['PoolView'];
export type WorkerView = Schemas['WorkerView'];
export type WorkerState = Schemas['WorkerState'];
export type Incident = Schemas['Incident'];
export type IncidentDetail = Schemas['IncidentDetail'];
export type IncidentBrief = Schemas['IncidentBrief'];

export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export function isFinal(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}

/** The filters of `GET /api/jobs` that the Jobs page uses. */
export interface ListQuery {
  state?: JobState;
  queue?: string;
  before?: number;
  limit?: number;
}

/** The windows the Overview and Queues pages offer (the API takes any duration). */
export const WINDOWS = ['1h', '6h', '24h', '7d'] as const;
export type Window = (typeof WINDOWS)[number];
