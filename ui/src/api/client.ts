// The one way the UI reaches Nightshift, in the browser and in the desktop window alike:
// fetch() against the daemon's own origin with the bearer token, and live ticks from
// GET /api/events read as a stream (see sse.ts for why not EventSource). One path per
// endpoint, so the tests that drive a real browser cover what every user runs.

import { ApiError, toApiError } from '../errors';
import { followSse, type LiveStatus } from '../sse';
import type {
  Incident,
  IncidentDetail,
  JobDetail,
  JobPage,
  JobView,
  ListQuery,
  MetricsSummary,
  PoolView,
  PowerView,
  QueueUpdate,
  QueueView,
  Summary,
  Trends,
} from './types';

export type { LiveStatus };

export interface ClientOptions {
  token: string;
  /** The daemon refused the token (401): the page asks for a fresh link. */
  onUnauthorized: () => void;
  /** Defaults to the page's origin; tests and odd set-ups may point elsewhere. */
  base?: string;
}

export interface Client {
  listJobs(query: ListQuery): Promise<JobPage>;
  showJob(id: number): Promise<JobDetail>;
  cancelJob(id: number): Promise<JobView>;
  retryJob(id: number): Promise<JobView>;
  /** The last `tail` lines of the job's output (all of it without `tail`). */
  jobLogs(id: number, tail?: number): Promise<string>;
  summary(): Promise<Summary>;
  power(): Promise<PowerView>;
  pauseAll(): Promise<Summary>;
  resumeAll(): Promise<Summary>;
  queues(): Promise<QueueView[]>;
  pauseQueue(name: string): Promise<QueueView>;
  resumeQueue(name: string): Promise<QueueView>;
  updateQueue(name: string, update: QueueUpdate): Promise<QueueView>;
  /** What happened over `window` ("1h", "24h", "7d"…), for all queues and each. */
  metricsSummary(window: string, queue?: string): Promise<MetricsSummary>;
  /** Series per queue and for all over `window`, the step chosen by the daemon. */
  trends(window: string): Promise<Trends>;
  pools(): Promise<PoolView[]>;
  scalePool(name: string, count: number): Promise<PoolView>;
  /** Stop (each worker after its job), start, or restart a pool's workers. */
  poolAction(name: string, action: 'stop' | 'start' | 'restart'): Promise<PoolView>;
  /** Open incidents (pending and active), or every one, newest first. */
  incidents(which: 'open' | 'all'): Promise<Incident[]>;
  incident(id: number): Promise<IncidentDetail>;
  /** Acknowledge, snooze (for `snoozeFor`, "1h") or resolve, from the admin page. */
  incidentAction(id: number, action: 'acknowledge' | 'snooze' | 'resolve', snoozeFor?: string): Promise<Incident>;
  /** Calls `onChange` on every "something changed, refetch" tick until the returned function
   *  is called. `onStatus` reports whether ticks can currently arrive. */
  subscribe(onChange: () => void, onStatus?: (status: LiveStatus) => void): () => void;
}

/** Drops absent filters: the API refuses unknown fields and treats "" as a value. */
export function queryString(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const qs = search.toString();
  return qs ? `?${qs}` : '';
}

export function httpClient(opts: ClientOptions): Client {
  const base = opts.base ?? '';
  const auth = { Authorization: `Bearer ${opts.token}` };

  async function request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
    let res: Response;
    const headers: Record<string, string> = { ...auth };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      res = await fetch(base + path, {
        method,
        headers,
        cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError('unreachable', `Cannot reach the Nightshift daemon (${String(err)}). Is it running?`);
    }
    if (res.ok) return res;
    if (res.status === 401) opts.onUnauthorized();
    const text = await res.text().catch(() => '');
    let parsed: { message?: unknown } | null = null;
    try {
      parsed = JSON.parse(text) as { message?: unknown };
    } catch {
      // Not JSON (a proxy's error page, say): describe it by its status instead.
    }
    if (parsed && typeof parsed.message === 'string') throw toApiError(parsed);
    throw new ApiError(`http_${res.status}`, `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }

  const json = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
    (await request(method, path, body)).json() as Promise<T>;
  const queuePath = (name: string) => `/api/queues/${encodeURIComponent(name)}`;

  return {
    listJobs: (q) => json('GET', `/api/jobs${queryString({ state: q.state, queue: q.queue, before: q.before, limit: q.limit })}`),
    showJob: (id) => json('GET', `/api/jobs/${id}`),
    cancelJob: (id) => json('POST', `/api/jobs/${id}/cancel`),
    retryJob: (id) => json('POST', `/api/jobs/${id}/retry`),
    async jobLogs(id, tail) {
      return (await request('GET', `/api/jobs/${id}/logs${queryString({ tail })}`)).text();
    },
    summary: () => json('GET', '/api/summary'),
    power: () => json('GET', '/api/power'),
    pauseAll: () => json('POST', '/api/pause'),
    resumeAll: () => json('POST', '/api/resume'),
    queues: () => json('GET', '/api/queues'),
    pauseQueue: (name) => json('POST', `${queuePath(name)}/pause`),
    resumeQueue: (name) => json('POST', `${queuePath(name)}/resume`),
    updateQueue: (name, update) => json('POST', queuePath(name), update),
    metricsSummary: (window, queue) => json('GET', `/api/metrics/summary${queryString({ window, queue })}`),
    trends: (window) => json('GET', `/api/metrics/trends${queryString({ window })}`),
    pools: () => json('GET', '/api/pools'),
    scalePool: (name, count) => json('POST', `/api/pools/${encodeURIComponent(name)}`, { count }),
    poolAction: (name, action) => json('POST', `/api/pools/${encodeURIComponent(name)}/${action}`),
    incidents: (which) => json('GET', `/api/incidents${queryString({ state: which })}`),
    incident: (id) => json('GET', `/api/incidents/${id}`),
    incidentAction: (id, action, snoozeFor) =>
      json('POST', `/api/incidents/${id}/${action}`, snoozeFor ? { door: 'window', for: snoozeFor } : { door: 'window' }),
    subscribe(onChange, onStatus) {
      return followSse({
        url: `${base}/api/events`,
        headers: auth,
        onMessage: (msg) => {
          if (msg.event === 'changed') onChange();
        },
        onReconnect: onChange,
        onStatus: (s) => onStatus?.(s),
        onUnauthorized: opts.onUnauthorized,
      });
    },
  };
}
