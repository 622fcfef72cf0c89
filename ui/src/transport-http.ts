// The browser transport: fetch() against the daemon's own origin with the bearer token, and
// live ticks from GET /api/events read as a stream (see sse.ts for why not EventSource).

import { ApiError, toApiError } from './errors';
import { followSse } from './sse';
import { cleanQuery, type Transport } from './transport';
import type { JobDetail, JobPage, JobView, ListQuery, Summary } from './types';

export interface HttpOptions {
  token: string;
  /** The daemon refused the token (401): the page asks for a fresh link. */
  onUnauthorized: () => void;
  /** Defaults to the page's origin; tests and odd set-ups may point elsewhere. */
  base?: string;
}

export function httpTransport(opts: HttpOptions): Transport {
  const base = opts.base ?? '';
  const auth = { Authorization: `Bearer ${opts.token}` };

  async function request(method: 'GET' | 'POST', path: string): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(base + path, { method, headers: auth, cache: 'no-store' });
    } catch (err) {
      throw new ApiError('unreachable', `Cannot reach the Nightshift daemon (${String(err)}). Is it running?`);
    }
    if (res.ok) return res;
    if (res.status === 401) opts.onUnauthorized();
    const text = await res.text().catch(() => '');
    let body: { message?: unknown } | null = null;
    try {
      body = JSON.parse(text) as { message?: unknown };
    } catch {
      // Not JSON (a proxy's error page, say): describe it by its status instead.
    }
    if (body && typeof body.message === 'string') throw toApiError(body);
    throw new ApiError(`http_${res.status}`, `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }

  const json = async <T>(method: 'GET' | 'POST', path: string): Promise<T> =>
    (await request(method, path)).json() as Promise<T>;

  return {
    kind: 'http',
    listJobs(query: ListQuery) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(cleanQuery(query))) params.set(k, String(v));
      const qs = params.toString();
      return json<JobPage>('GET', `/api/jobs${qs ? `?${qs}` : ''}`);
    },
    showJob: (id) => json<JobDetail>('GET', `/api/jobs/${id}`),
    cancelJob: (id) => json<JobView>('POST', `/api/jobs/${id}/cancel`),
    retryJob: (id) => json<JobView>('POST', `/api/jobs/${id}/retry`),
    async jobLogs(id, tail) {
      const qs = tail === undefined ? '' : `?tail=${tail}`;
      return (await request('GET', `/api/jobs/${id}/logs${qs}`)).text();
    },
    summary: () => json<Summary>('GET', '/api/summary'),
    pauseAll: () => json<Summary>('POST', '/api/pause'),
    resumeAll: () => json<Summary>('POST', '/api/resume'),
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
