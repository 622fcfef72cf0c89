// Server-Sent Events over fetch(). EventSource cannot send an Authorization header, so the
// browser transport reads /api/events as a byte stream and parses it here, following the
// WHATWG "event stream interpretation" rules for the fields we use (event, data, comments).

export interface SseMessage {
  /** The `event:` field, "message" when the server gave none. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
}

/** Incremental parser: feed it text chunks as they arrive, in any split, and it returns the
 *  messages each chunk completed. Lines may end in "\n", "\r\n" or "\r". */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  /** A chunk ended in "\r": if the next starts with "\n", that "\n" belongs to the same break. */
  private pendingCr = false;

  push(chunk: string): SseMessage[] {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      this.line(this.buffer.slice(start, i), out);
      if (c === '\r') {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[i + 1] === '\n') i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      // A blank line dispatches; with no data lines there is nothing to dispatch.
      if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return; // a comment, servers send them as keep-alives
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    // `id` and `retry` are not used by this API; unknown fields are ignored by the spec.
  }
}

/** Delay before reconnect number `attempt` (0-based): 0.5 s doubling to a 15 s ceiling, so a
 *  restarting daemon is picked up quickly and a stopped one is not hammered. */
export function backoffMs(attempt: number): number {
  return Math.min(15_000, 500 * 2 ** Math.max(0, attempt));
}

export type LiveStatus = 'connecting' | 'live' | 'offline';

export interface FollowOptions {
  url: string;
  headers: Record<string, string>;
  onMessage: (msg: SseMessage) => void;
  /** Called after a reconnect: ticks may have been missed while the stream was down. */
  onReconnect: () => void;
  onStatus: (status: LiveStatus) => void;
  /** The token was refused: reconnecting cannot help, so following stops. */
  onUnauthorized: () => void;
}

/** Follows an SSE stream until the returned function is called, reconnecting with backoff
 *  whenever the stream fails or ends. */
export function followSse(opts: FollowOptions): () => void {
  const abort = new AbortController();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });

  const run = async () => {
    let failures = 0;
    let connectedBefore = false;
    while (!abort.signal.aborted) {
      opts.onStatus('connecting');
      try {
        const res = await fetch(opts.url, {
          headers: { ...opts.headers, Accept: 'text/event-stream' },
          signal: abort.signal,
          cache: 'no-store',
        });
        if (res.status === 401) {
          opts.onUnauthorized();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        opts.onStatus('live');
        failures = 0;
        if (connectedBefore) opts.onReconnect();
        connectedBefore = true;
        const since = Date.now();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const msg of parser.push(value)) opts.onMessage(msg);
        }
        // A stream that the server ends at once, again and again, must not become a tight
        // reconnect loop: count a short-lived one as a failure so the backoff grows.
        if (Date.now() - since < 2_000) failures++;
      } catch {
        if (abort.signal.aborted) return;
        failures++;
      }
      if (abort.signal.aborted) return;
      opts.onStatus('offline');
      await sleep(backoffMs(failures));
    }
  };
  void run();
  return () => abort.abort();
}
