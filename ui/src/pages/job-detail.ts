// The detail pane of one job: its fields, its attempts and the tail of its log. While the job
// can still produce output, every change tick (and, while it runs, every second) refetches the
// log, and the box follows its end unless the reader has scrolled up; once the job is final
// the log is fetched one last time and polling stops.

import { clear, h, setAttr, setText } from '../dom';
import { formatBytes, formatCpuTime, formatDuration, formatExit, formatTimestamp, jobDurationMs } from '../format';
import { coalesced } from '../live';
import { jobAction, outcomeBadge, stateBadge } from '../states';
import type { Transport } from '../transport';
import { isFinal, type Attempt, type JobDetail } from '../types';
import { toApiError } from '../errors';
import type { JobActionKind } from './jobs-table';

export const LOG_TAIL_LINES = 500;

export interface DetailHandlers {
  close: () => void;
  action: (id: number, kind: JobActionKind) => void;
}

export class JobDetailPane {
  readonly el = h('aside', { class: 'detail', testid: 'detail-pane', 'aria-label': 'Job details', hidden: true });
  private title = h('h2', { class: 'detail-title', testid: 'detail-title' });
  private state = h('span', { class: 'badge', testid: 'detail-state' });
  private reason = h('p', { class: 'detail-reason', testid: 'detail-reason' });
  private cancel = h('button', { type: 'button', class: 'btn btn-small', testid: 'detail-cancel' }, 'Cancel');
  private retry = h('button', { type: 'button', class: 'btn btn-small', testid: 'detail-retry' }, 'Retry');
  private fields = h('dl', { class: 'fields', testid: 'detail-fields' });
  private attempts = h('tbody', { testid: 'detail-attempts-body' });
  private noAttempts = h('p', { class: 'muted', testid: 'detail-no-attempts' }, 'No attempts yet.');
  private log = h('pre', { class: 'log mono', testid: 'detail-log', tabindex: '0', 'aria-label': 'Job output' });
  private logNote = h('p', { class: 'muted log-note', testid: 'detail-log-note' });
  private problem = h('p', { class: 'detail-problem', testid: 'detail-error', role: 'alert', hidden: true });
  private body: HTMLElement;

  private id: number | null = null;
  private detail: JobDetail | null = null;
  /** The last log fetch saw the job final: nothing more will be written, stop fetching. */
  private logDone = false;
  private logLoaded = false;
  private busy = false;
  readonly refresh: () => Promise<void>;

  constructor(private transport: Transport, handlers: DetailHandlers) {
    const close = h('button', { type: 'button', class: 'btn btn-ghost btn-small', testid: 'detail-close', 'aria-label': 'Close details', onclick: () => handlers.close() }, 'Close');
    this.cancel.addEventListener('click', () => this.id !== null && handlers.action(this.id, 'cancel'));
    this.retry.addEventListener('click', () => this.id !== null && handlers.action(this.id, 'retry'));
    this.body = h('div', { class: 'detail-body' },
      h('div', { class: 'detail-status' }, this.state, this.reason),
      this.fields,
      h('h3', null, 'Attempts'),
      h('table', { class: 'table attempts', testid: 'detail-attempts' },
        h('thead', null, h('tr', null, ...['#', 'Outcome', 'PID', 'Started', 'Took', 'Exit', 'CPU', 'Peak memory'].map((c) => h('th', { scope: 'col' }, c)))),
        this.attempts),
      this.noAttempts,
      h('h3', null, `Output (last ${LOG_TAIL_LINES} lines)`),
      this.log,
      this.logNote);
    this.el.append(
      h('div', { class: 'detail-head' }, this.title, h('div', { class: 'detail-actions' }, this.cancel, this.retry, close)),
      this.problem,
      this.body);
    this.refresh = coalesced(() => this.load());
  }

  get shownId(): number | null {
    return this.id;
  }

  /** Shows job `id` (null hides the pane). */
  show(id: number | null): void {
    if (id === this.id) return;
    this.id = id;
    this.detail = null;
    this.logDone = false;
    this.logLoaded = false;
    this.el.hidden = id === null;
    if (id === null) return;
    setText(this.title, `Job ${id}`);
    this.body.hidden = true;
    this.problem.hidden = true;
    clear(this.attempts);
    setText(this.log, '');
    void this.refresh();
  }

  /** Reflects an action in flight on the pane's own buttons. */
  setBusy(busy: boolean): void {
    this.busy = busy;
    if (this.detail) this.renderActions();
  }

  /** Once a second while visible. Output is not a state change, so no change tick announces
   *  it: while the job runs, the log is polled here as well. */
  tick(now: number): void {
    const job = this.detail?.job;
    if (job?.state !== 'running') return;
    this.renderFields(now);
    void this.refresh();
  }

  private async load(): Promise<void> {
    const id = this.id;
    if (id === null) return;
    let detail: JobDetail;
    try {
      detail = await this.transport.showJob(id);
    } catch (err) {
      if (this.id !== id) return;
      const e = toApiError(err);
      setText(this.problem, e.code === 'not_found' ? `Job ${id} does not exist (it may have been deleted).` : `Cannot load job ${id}: ${e.message}`);
      this.problem.hidden = false;
      this.body.hidden = e.code === 'not_found' || !this.detail;
      return;
    }
    if (this.id !== id) return; // another job was opened while this one loaded
    this.problem.hidden = true;
    this.body.hidden = false;
    this.detail = detail;
    this.render(Date.now());
    const final = isFinal(detail.job.state);
    if (!final) this.logDone = false; // a retried job writes again
    if (!this.logDone) await this.loadLog(id, final);
  }

  private async loadLog(id: number, final: boolean): Promise<void> {
    let text: string;
    try {
      text = await this.transport.jobLogs(id, LOG_TAIL_LINES);
    } catch (err) {
      if (this.id !== id) return;
      const e = toApiError(err);
      // A job that never started has no log file yet: that is not an error worth showing.
      setText(this.logNote, e.code === 'not_found' ? 'No output yet.' : `Cannot load the output: ${e.message}`);
      return;
    }
    if (this.id !== id) return;
    const el = this.log;
    const atEnd = !this.logLoaded || el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    setText(el, text);
    if (atEnd) el.scrollTop = el.scrollHeight;
    this.logLoaded = true;
    this.logDone = final;
    setText(this.logNote, text === '' ? 'No output yet.' : final ? 'The job has finished.' : 'Following the output as it runs.');
  }

  private render(now: number): void {
    const d = this.detail;
    if (!d) return;
    const job = d.job;
    const badge = stateBadge(job.state);
    setText(this.state, badge.label);
    setAttr(this.state, 'class', `badge badge--${badge.tone}`);
    setAttr(this.state, 'data-state', job.state);
    const why = job.waiting?.message ?? job.reason;
    setText(this.reason, why ?? '');
    this.reason.hidden = !why;
    this.renderActions();
    this.renderFields(now);
    this.renderAttempts(d.attempts);
  }

  private renderActions(): void {
    const action = this.detail ? jobAction(this.detail.job.state) : null;
    this.cancel.hidden = action !== 'cancel';
    this.retry.hidden = action !== 'retry';
    this.cancel.disabled = this.busy;
    this.retry.disabled = this.busy;
  }

  private renderFields(now: number): void {
    const job = this.detail!.job;
    const when = (ms: number | null) => (ms === null ? '—' : formatTimestamp(ms));
    const ran = jobDurationMs(job, now);
    const rows: [string, string, string][] = [
      ['command', 'Command', job.command],
      ['queue', 'Queue', job.queue],
      ['cwd', 'Working dir', job.cwd ?? '(the data folder)'],
      ['attempts-used', 'Attempts', `${job.attempts_used} of ${job.max_attempts} used`],
      ['timeout', 'Timeout', job.timeout_ms === null ? 'none' : formatDuration(job.timeout_ms)],
      ['created', 'Created', when(job.created_at)],
      ['started', 'Started', when(job.started_at)],
      ['finished', 'Finished', when(job.finished_at)],
      ['duration', 'Duration', ran === null ? '—' : formatDuration(ran)],
      ['exit', 'Exit', formatExit(job.exit_code, job.signal)],
    ];
    if (job.usage) {
      const u = job.usage;
      const cpu = u.cpu_percent === null ? '' : `${Math.round(u.cpu_percent)}% CPU, `;
      rows.push(['using', 'Using',
        `${cpu}${formatBytes(u.rss_bytes)} (peak ${formatBytes(u.peak_rss_bytes)}), ` +
        `${formatCpuTime(u.cpu_ms)} CPU time, ${u.processes} process${u.processes === 1 ? '' : 'es'}`]);
    }
    if (this.fields.children.length !== rows.length * 2) {
      clear(this.fields);
      for (const [key, label] of rows) {
        const mono = key === 'command' || key === 'cwd' ? ' mono' : '';
        this.fields.append(h('dt', null, label), h('dd', { class: `field-${key}${mono}`, testid: `detail-${key}` }));
      }
    }
    rows.forEach(([, , value], i) => setText(this.fields.children[i * 2 + 1]!, value));
  }

  private renderAttempts(attempts: Attempt[]): void {
    this.noAttempts.hidden = attempts.length > 0;
    clear(this.attempts);
    for (const a of attempts) {
      const badge = outcomeBadge(a.outcome);
      const took = a.ended_at === null ? '—' : formatDuration(a.ended_at - a.started_at);
      this.attempts.append(h('tr', { testid: `attempt-row-${a.number}`, 'data-outcome': a.outcome },
        h('td', { class: 'num' }, a.number),
        h('td', null, h('span', { class: `badge badge--${badge.tone}` }, badge.label)),
        h('td', { class: 'num mono' }, a.pid ?? '—'),
        h('td', null, formatTimestamp(a.started_at)),
        h('td', { class: 'num' }, took),
        h('td', { class: 'num' }, formatExit(a.exit_code, a.signal)),
        h('td', { class: 'num', testid: `attempt-cpu-${a.number}` }, a.cpu_ms === undefined ? '—' : formatCpuTime(a.cpu_ms)),
        h('td', { class: 'num', testid: `attempt-memory-${a.number}` }, a.peak_rss_bytes === undefined ? '—' : formatBytes(a.peak_rss_bytes))));
    }
  }
}
