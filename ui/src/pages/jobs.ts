// The Jobs page: state tabs and a queue filter, the live table with paging, row actions, and
// the detail pane of the selected job. Filters live in the hash (`#/jobs/42?state=failed`)
// so links from the header and the Back button work; the page cursor stays in memory.

import { toApiError } from '../errors';
import { h, setText } from '../dom';
import { coalesced } from '../live';
import type { Messages } from '../messages';
import { navigate, type Route } from '../router';
import type { Transport } from '../transport';
import { JOB_STATES, type JobPage, type JobState, type JobView } from '../types';
import { JobDetailPane } from './job-detail';
import { JobsTable, type JobActionKind } from './jobs-table';
import type { Page } from './page';

const PAGE_SIZE = 100;
const QUEUE_TYPING_MS = 250;

export function jobsPage(transport: Transport, messages: Messages, refreshSummary: () => void): Page {
  let state: JobState | null = null;
  let queue = '';
  /** The `before` cursors of the pages above the one shown; empty on the newest page. */
  let cursors: number[] = [];
  let page: JobPage | null = null;
  let selected: number | null = null;
  const busy = new Set<number>();
  let started = false;

  const currentRoute = (): Route => ({ page: 'jobs', id: selected, params: { state: state ?? '', queue } });

  const table = new JobsTable({
    select: (id) => {
      commitTyping();
      navigate({ ...currentRoute(), id });
    },
    action: (id, kind) => void act(id, kind),
  });
  const detail = new JobDetailPane(transport, {
    close: () => navigate({ ...currentRoute(), id: null }),
    action: (id, kind) => void act(id, kind),
  });

  const tabs = [null, 'queued', 'running', 'failed', 'succeeded', 'cancelled'].map((s) =>
    h('button', { type: 'button', class: 'tab', testid: `state-tab-${s ?? 'all'}`, 'data-state': s ?? 'all', onclick: () => {
      commitTyping();
      setFilters(s as JobState | null, queue);
    } },
      s === null ? 'All' : s[0]!.toUpperCase() + s.slice(1)));
  const queueInput = h('input', { type: 'search', class: 'input', id: 'queue-filter', testid: 'queue-filter', placeholder: 'any queue', autocomplete: 'off', spellcheck: 'false' });
  const problem = h('div', { class: 'banner banner--error', testid: 'jobs-error', role: 'alert', hidden: true });
  const empty = h('div', { class: 'empty', testid: 'jobs-empty', hidden: true });
  const newer = h('button', { type: 'button', class: 'btn btn-small', testid: 'page-newer', onclick: () => goPage(cursors.slice(0, -1)) }, '← Newer');
  const older = h('button', { type: 'button', class: 'btn btn-small', testid: 'page-older', onclick: () => page?.next_before != null && goPage([...cursors, page.next_before]) }, 'Older →');
  const pageInfo = h('span', { class: 'muted', testid: 'page-info' });

  let typing: ReturnType<typeof setTimeout> | undefined;
  queueInput.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(commitTyping, QUEUE_TYPING_MS);
  });
  /** Applies the queue filter being typed now rather than after the pause, so another control
   *  used in the meantime builds its route from what the input shows. */
  function commitTyping(): void {
    clearTimeout(typing);
    typing = undefined;
    setFilters(state, queueInput.value.trim(), true);
  }

  const el = h('section', { class: 'jobs', testid: 'jobs-page', 'aria-label': 'Jobs' },
    h('div', { class: 'jobs-list' },
      h('div', { class: 'toolbar' },
        h('div', { class: 'tabs', role: 'group', 'aria-label': 'Filter by state' }, ...tabs),
        h('label', { class: 'queue-filter', for: 'queue-filter' }, 'Queue', queueInput)),
      problem,
      h('div', { class: 'table-wrap', testid: 'jobs-scroll' }, table.el, empty),
      h('div', { class: 'pager' }, newer, pageInfo, older)),
    detail.el);

  const load = coalesced(async () => {
    const before = cursors.at(-1);
    const want = { state, queue, before };
    let next: JobPage;
    try {
      next = await transport.listJobs({ state: state ?? undefined, queue: queue || undefined, before, limit: PAGE_SIZE });
    } catch (err) {
      setText(problem, `Cannot load jobs: ${toApiError(err).message}`);
      problem.hidden = false;
      if (page === null) empty.hidden = true; // not "Loading…" forever under the error
      return;
    }
    // Filters changed while this was in flight: its answer is stale, the rerun will fetch again.
    if (want.state !== state || want.queue !== queue || want.before !== cursors.at(-1)) return;
    problem.hidden = true;
    page = next;
    render();
  });

  function render(): void {
    const jobs = page?.jobs ?? [];
    table.render(jobs, Date.now(), selected, busy);
    table.el.hidden = jobs.length === 0;
    empty.hidden = jobs.length > 0;
    if (jobs.length === 0) renderEmpty();
    for (const t of tabs) t.setAttribute('aria-pressed', String((t.dataset.state === 'all' ? null : t.dataset.state) === state));
    newer.hidden = cursors.length === 0;
    older.disabled = page?.next_before == null;
    setText(pageInfo, jobs.length === 0 ? '' : `${cursors.length === 0 ? 'Newest' : `Page ${cursors.length + 1}`}: ${jobs.length} job${jobs.length === 1 ? '' : 's'}`);
  }

  function renderEmpty(): void {
    empty.replaceChildren();
    if (page === null) empty.append('Loading jobs…');
    else if (cursors.length > 0) empty.append('No older jobs.');
    else if (state === null && queue === '') {
      empty.append('No jobs yet. Add one with ', h('code', null, 'nightshift add -- <command>'), '.');
    } else {
      empty.append(`No ${state ?? ''} jobs`.replace('  ', ' ') + (queue ? ` in queue “${queue}”.` : '.'));
    }
  }

  function setFilters(s: JobState | null, q: string, replace = false): void {
    if (s === state && q === queue) return;
    state = s;
    queue = q;
    cursors = [];
    page = null;
    render();
    void load();
    navigate(currentRoute(), replace);
  }

  function goPage(next: number[]): void {
    cursors = next;
    void load().then(() => table.el.closest('.table-wrap')?.scrollTo(0, 0));
  }

  async function act(id: number, kind: JobActionKind): Promise<void> {
    if (busy.has(id)) return;
    busy.add(id);
    const refreshUi = () => {
      if (page) table.render(page.jobs, Date.now(), selected, busy);
      if (detail.shownId === id) detail.setBusy(busy.has(id));
    };
    refreshUi();
    try {
      const job: JobView = await (kind === 'cancel' ? transport.cancelJob(id) : transport.retryJob(id));
      if (page) page = { ...page, jobs: page.jobs.map((j) => (j.id === id ? job : j)) };
      messages.info(kind === 'cancel' ? `Job ${id} cancelled.` : `Job ${id} is queued again.`);
    } catch (err) {
      messages.error(`Cannot ${kind} job ${id}: ${toApiError(err).message}`);
    } finally {
      busy.delete(id);
      refreshUi();
      void load();
      void detail.refresh();
      refreshSummary();
    }
  }

  return {
    el,
    route(r: Route) {
      const s = JOB_STATES.includes(r.params.state as JobState) ? (r.params.state as JobState) : null;
      const q = r.params.queue ?? '';
      // The address wins (Back, a header link): drop any half-typed filter.
      clearTimeout(typing);
      typing = undefined;
      if (queueInput.value.trim() !== q) queueInput.value = q;
      selected = r.id;
      detail.show(r.id);
      el.classList.toggle('has-detail', r.id !== null);
      if (s !== state || q !== queue || !started) {
        started = true;
        state = s;
        queue = q;
        cursors = [];
        render();
        void load();
      } else {
        render();
      }
    },
    changed() {
      void load();
      if (detail.shownId !== null) void detail.refresh();
    },
    tick(now: number) {
      table.tick(now);
      detail.tick(now);
    },
    keydown(e: KeyboardEvent) {
      const typingInField = (e.target as Element | null)?.closest('input, textarea');
      if (e.key === 'Escape' && selected !== null && !typingInField) navigate({ ...currentRoute(), id: null });
    },
  };
}
