import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/errors';
import { followSse } from '../src/sse';
import { httpClient, queryString } from '../src/api/client';

interface Call {
  url: string;
  init: RequestInit;
}

/** Replaces global fetch with one that answers from `respond` and records every call. */
function stubFetch(respond: (url: string, init: RequestInit) => Response | Promise<Response>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    calls.push({ url, init });
    return respond(url, init);
  });
  return calls;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => vi.unstubAllGlobals());

describe('httpClient', () => {
  it('sends the bearer token and only the filters that are set', async () => {
    const calls = stubFetch(() => json(200, { jobs: [], next_before: null }));
    const t = httpClient({ token: 'abc', onUnauthorized: () => {} });
    await t.listJobs({ state: 'failed', queue: '', before: 40, limit: 100 });
    expect(calls[0]!.url).toBe('/api/jobs?state=failed&before=40&limit=100');
    expect((calls[0]!.init.headers as Record<string, string>).Authorization).toBe('Bearer abc');
  });

  it('posts actions and reads logs as text', async () => {
    const calls = stubFetch((url) =>
      url.includes('/logs') ? new Response('line 1\nline 2\n') : json(200, { counts: {}, running: 0, paused: true }),
    );
    const t = httpClient({ token: 'abc', onUnauthorized: () => {} });
    expect(await t.pauseAll()).toEqual({ counts: {}, running: 0, paused: true });
    expect(calls[0]).toMatchObject({ url: '/api/pause', init: { method: 'POST' } });
    expect(await t.jobLogs(7, 500)).toBe('line 1\nline 2\n');
    expect(calls[1]!.url).toBe('/api/jobs/7/logs?tail=500');
  });

  it('turns the API’s error body into an ApiError with its code', async () => {
    stubFetch(() => json(409, { code: 'conflict', message: 'job 3 is running' }));
    const t = httpClient({ token: 'abc', onUnauthorized: () => {} });
    const err = await t.retryJob(3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'conflict', message: 'job 3 is running' });
  });

  it('describes a non-JSON failure by its status, and reports a refused token', async () => {
    stubFetch(() => new Response('nope', { status: 401 }));
    const refused = vi.fn();
    const t = httpClient({ token: 'abc', onUnauthorized: refused });
    await expect(t.summary()).rejects.toMatchObject({ code: 'http_401', message: 'HTTP 401: nope' });
    expect(refused).toHaveBeenCalledOnce();
  });

  it('reaches the queue and metrics routes, names escaped, bodies as JSON', async () => {
    const calls = stubFetch(() => json(200, {}));
    const t = httpClient({ token: 'abc', onUnauthorized: () => {} });
    await t.pauseQueue('night.ly');
    await t.updateQueue('a b', { concurrency: 3 });
    await t.metricsSummary('24h');
    await t.metricsSummary('1h', 'index');
    await t.trends('7d');
    expect(calls.map((c) => [c.init.method, c.url])).toEqual([
      ['POST', '/api/queues/night.ly/pause'],
      ['POST', '/api/queues/a%20b'],
      ['GET', '/api/metrics/summary?window=24h'],
      ['GET', '/api/metrics/summary?window=1h&queue=index'],
      ['GET', '/api/metrics/trends?window=7d'],
    ]);
    expect(calls[1]!.init.body).toBe('{"concurrency":3}');
    expect((calls[1]!.init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect((calls[0]!.init.headers as Record<string, string>)['Content-Type']).toBeUndefined();
  });

  it('leaves absent and empty parameters out of the query', () => {
    expect(queryString({ a: undefined, b: '', c: null })).toBe('');
    expect(queryString({ state: 'failed', before: 0, queue: 'x&y' })).toBe('?state=failed&before=0&queue=x%26y');
  });

  it('says the daemon is unreachable when fetch itself fails', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    const t = httpClient({ token: 'abc', onUnauthorized: () => {} });
    await expect(t.showJob(1)).rejects.toMatchObject({ code: 'unreachable' });
  });
});

describe('followSse', () => {
  it('delivers messages from a chunked stream with the token attached', async () => {
    const enc = new TextEncoder();
    const calls = stubFetch(
      () =>
        new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(enc.encode('event: chan'));
              c.enqueue(enc.encode('ged\ndata: {}\n\n'));
              // Left open: the daemon keeps the stream until it stops.
            },
          }),
          { headers: { 'content-type': 'text/event-stream' } },
        ),
    );
    const got: string[] = [];
    const statuses: string[] = [];
    const seen = new Promise<void>((resolve) => {
      const stop = followSse({
        url: '/api/events',
        headers: { Authorization: 'Bearer abc' },
        onMessage: (m) => {
          got.push(m.event);
          stop();
          resolve();
        },
        onReconnect: () => {},
        onStatus: (s) => statuses.push(s),
        onUnauthorized: () => {},
      });
    });
    await seen;
    expect(got).toEqual(['changed']);
    expect(statuses).toEqual(['connecting', 'live']);
    expect((calls[0]!.init.headers as Record<string, string>).Authorization).toBe('Bearer abc');
  });

  it('stops for good on a refused token instead of retrying', async () => {
    const calls = stubFetch(() => new Response('', { status: 401 }));
    await new Promise<void>((resolve) => {
      followSse({
        url: '/api/events',
        headers: {},
        onMessage: () => {},
        onReconnect: () => {},
        onStatus: () => {},
        onUnauthorized: resolve,
      });
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toHaveLength(1);
  });

  it('reconnects after the stream ends and signals the catch-up', async () => {
    vi.useFakeTimers();
    try {
      const calls = stubFetch(() => new Response('event: changed\ndata: {}\n\n'));
      const onReconnect = vi.fn();
      const stop = followSse({
        url: '/api/events',
        headers: {},
        onMessage: () => {},
        onReconnect,
        onStatus: () => {},
        onUnauthorized: () => {},
      });
      await vi.advanceTimersByTimeAsync(0);
      expect(calls).toHaveLength(1);
      expect(onReconnect).not.toHaveBeenCalled();
      // A stream that ended at once counts as a failure: the first retry waits 1 s.
      await vi.advanceTimersByTimeAsync(999);
      expect(calls).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls).toHaveLength(2);
      expect(onReconnect).toHaveBeenCalledOnce();
      stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
