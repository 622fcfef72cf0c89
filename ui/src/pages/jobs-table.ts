// The jobs table. Rows are keyed by job id and updated in place on every live refresh, so
// scroll position, focus and selection survive; only changed text is written.

import { h, setAttr, setText } from '../dom';
import { formatAge, formatDuration, formatExit, formatTimestamp, jobDurationMs } from '../format';
import { jobAction, stateBadge } from '../states';
import type { JobView } from '../types';

export type JobActionKind = 'cancel' | 'retry';

interface Row {
  tr: HTMLTableRowElement;
  job: JobView;
  badge: HTMLElement;
  waiting: HTMLElement;
  queue: HTMLElement;
  command: HTMLElement;
  age: HTMLElement;
  duration: HTMLElement;
  exit: HTMLElement;
  cancel: HTMLButtonElement;
  retry: HTMLButtonElement;
}

export interface TableHandlers {
  select: (id: number) => void;
  action: (id: number, kind: JobActionKind) => void;
}

const COLUMNS = ['ID', 'State', 'Queue', 'Command', 'Age', 'Duration', 'Exit', 'Actions'];

export class JobsTable {
  readonly tbody = h('tbody', { testid: 'jobs-tbody' });
  readonly el = h('table', { class: 'table jobs-table', testid: 'jobs-table' },
    h('caption', { class: 'visually-hidden' }, 'Jobs, newest first'),
    h('thead', null, h('tr', null, ...COLUMNS.map((c) => h('th', { scope: 'col', class: `col-${c.toLowerCase()}` }, c)))),
    this.tbody);
  private rows = new Map<number, Row>();

  constructor(private handlers: TableHandlers) {}

  /** Shows exactly `jobs`, in order, reusing the rows it already has. */
  render(jobs: JobView[], now: number, selected: number | null, busy: ReadonlySet<number>): void {
    const keep = new Set(jobs.map((j) => j.id));
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    jobs.forEach((job, i) => {
      const row = this.rows.get(job.id) ?? this.create(job);
      this.update(row, job, now, selected, busy);
      // Move a row only when it is out of place: moving a focused node would drop its focus.
      if (this.tbody.children[i] !== row.tr) this.tbody.insertBefore(row.tr, this.tbody.children[i] ?? null);
    });
  }

  /** Updates one job from an action's answer without waiting for the next refresh. */
  patch(job: JobView, now: number, selected: number | null, busy: ReadonlySet<number>): void {
    const row = this.rows.get(job.id);
    if (row) this.update(row, job, now, selected, busy);
  }

  /** Per-second clock: ages, and durations of running jobs. */
  tick(now: number): void {
    for (const row of this.rows.values()) this.writeTimes(row, now);
  }

  private create(job: JobView): Row {
    const id = job.id;
    const mk = (kind: JobActionKind, label: string) =>
      h('button', { type: 'button', class: 'btn btn-small', testid: `${kind}-${id}`, onclick: (e: Event) => {
        e.stopPropagation();
        this.handlers.action(id, kind);
      } }, label);
    const row: Row = {
      tr: h('tr', { class: 'job-row', testid: `job-row-${id}`, 'data-id': id }),
      job,
      badge: h('span', { class: 'badge', testid: `job-state-${id}` }),
      waiting: h('span', { class: 'why', testid: `job-waiting-${id}` }),
      queue: h('td', { class: 'col-queue', testid: `job-queue-${id}` }),
      command: h('td', { class: 'col-command mono', testid: `job-command-${id}` }),
      age: h('td', { class: 'col-age', testid: `job-age-${id}` }),
      duration: h('td', { class: 'col-duration num', testid: `job-duration-${id}` }),
      exit: h('td', { class: 'col-exit num', testid: `job-exit-${id}` }),
      cancel: mk('cancel', 'Cancel'),
      retry: mk('retry', 'Retry'),
    };
    const link = h('a', { href: `#/jobs/${id}`, class: 'row-link', testid: `job-link-${id}`, onclick: (e: Event) => {
      e.preventDefault(); // keep the filters in the hash: the page builds the full route
      this.handlers.select(id);
    } }, String(id));
    row.tr.append(
      h('td', { class: 'col-id num' }, link),
      h('td', { class: 'col-state' }, row.badge, row.waiting),
      row.queue,
      row.command,
      row.age,
      row.duration,
      row.exit,
      h('td', { class: 'col-actions' }, row.cancel, row.retry),
    );
    row.tr.addEventListener('click', (e) => {
      // Clicking anywhere on the row selects it, except on its own controls.
      if (!(e.target as Element).closest('button, a')) this.handlers.select(id);
    });
    this.rows.set(id, row);
    return row;
  }

  private update(row: Row, job: JobView, now: number, selected: number | null, busy: ReadonlySet<number>): void {
    row.job = job;
    const badge = stateBadge(job.state);
    setAttr(row.tr, 'data-state', job.state);
    setAttr(row.tr, 'aria-current', job.id === selected ? 'true' : null);
    setAttr(row.tr, 'data-selected', job.id === selected ? 'true' : 'false');
    row.tr.classList.toggle('is-selected', job.id === selected);
    setText(row.badge, badge.label);
    setAttr(row.badge, 'class', `badge badge--${badge.tone}`);
    setAttr(row.badge, 'data-state', job.state);
    // Why a queued job waits, under its state: nothing is held back silently.
    setText(row.waiting, job.waiting?.message ?? '');
    row.waiting.dataset.kind = job.waiting?.kind ?? '';
    row.waiting.hidden = !job.waiting;
    setText(row.queue, job.queue);
    setText(row.command, job.command);
    setAttr(row.command, 'title', job.command);
    setText(row.exit, formatExit(job.exit_code, job.signal));
    setAttr(row.exit, 'title', job.reason);
    setAttr(row.age, 'title', formatTimestamp(job.created_at));
    this.writeTimes(row, now);

    const action = jobAction(job.state);
    const inFlight = busy.has(job.id);
    row.cancel.hidden = action !== 'cancel';
    row.retry.hidden = action !== 'retry';
    row.cancel.disabled = inFlight;
    row.retry.disabled = inFlight;
    setText(row.cancel, inFlight && action === 'cancel' ? 'Cancelling…' : 'Cancel');
    setText(row.retry, inFlight && action === 'retry' ? 'Retrying…' : 'Retry');
  }

  private writeTimes(row: Row, now: number): void {
    setText(row.age, formatAge(row.job.created_at, now));
    const ms = jobDurationMs(row.job, now);
    setText(row.duration, ms === null ? '—' : formatDuration(ms));
  }
}
