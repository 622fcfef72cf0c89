// The app shell: left navigation, the header with the health summary and Pause/Resume, the
// message area and the main region that pages render into.

import { h, setAttr, setText } from './dom';
import { coalesced } from './live';
import type { Messages } from './messages';
import type { LiveStatus, Transport } from './transport';
import type { Summary } from './types';

interface NavItem {
  page: string;
  label: string;
  ready: boolean;
}

// Later issues fill in the disabled ones; they are listed now so the layout does not shift.
const NAV: NavItem[] = [
  { page: 'jobs', label: 'Jobs', ready: true },
  { page: 'queues', label: 'Queues', ready: false },
  { page: 'incidents', label: 'Incidents', ready: false },
  { page: 'metrics', label: 'Metrics', ready: false },
  { page: 'settings', label: 'Settings', ready: false },
];

const LIVE_TEXT: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  offline: 'Reconnecting…',
};

export class Shell {
  readonly main = h('main', { id: 'main', class: 'content', testid: 'main', tabindex: '-1' });
  readonly el: HTMLElement;
  private counts: Record<'running' | 'queued' | 'failed', HTMLElement>;
  private pausedBadge = h('span', { class: 'badge badge--warn', testid: 'summary-paused', hidden: true }, 'Paused');
  private pauseBtn = h('button', { type: 'button', class: 'btn', testid: 'pause-toggle', disabled: true }, 'Pause all');
  private live = h('span', { class: 'live', testid: 'live-status', 'data-status': 'connecting' }, LIVE_TEXT.connecting);
  private summary: Summary | null = null;
  readonly refreshSummary: () => Promise<void>;

  constructor(private transport: Transport, private messages: Messages) {
    const count = (key: string) => h('span', { class: 'chip-count', testid: `summary-${key}` }, '–');
    this.counts = { running: count('running'), queued: count('queued'), failed: count('failed') };
    const chip = (key: 'running' | 'queued' | 'failed', label: string) =>
      h('a', { class: `chip chip--${key}`, href: `#/jobs?state=${key}`, testid: `summary-${key}-link`, title: `Show ${key} jobs` },
        this.counts[key], h('span', { class: 'chip-label' }, label));

    const nav = h('nav', { class: 'nav', 'aria-label': 'Main', testid: 'nav' },
      h('div', { class: 'brand' }, 'Nightshift'),
      h('ul', { class: 'nav-list' }, ...NAV.map((item) => h('li', null, navLink(item)))));

    const header = h('header', { class: 'topbar', testid: 'topbar' },
      h('div', { class: 'summary', testid: 'summary', role: 'group', 'aria-label': 'Health summary' },
        chip('running', 'running'), chip('queued', 'queued'), chip('failed', 'failed'), this.pausedBadge),
      h('div', { class: 'topbar-end' }, this.live, this.pauseBtn));

    this.el = h('div', { class: 'shell' }, nav,
      h('div', { class: 'main-col' }, header, messages.el, this.main));

    this.pauseBtn.addEventListener('click', () => void this.togglePause());
    this.refreshSummary = coalesced(async () => {
      try {
        this.showSummary(await this.transport.summary());
      } catch {
        // The jobs page reports an unreachable daemon; the header just keeps its last figures.
      }
    });
  }

  /** Marks the nav item of the page on screen. */
  setActive(page: string): void {
    for (const a of this.el.querySelectorAll<HTMLElement>('.nav-link')) {
      setAttr(a, 'aria-current', a.dataset.page === page ? 'page' : null);
    }
  }

  setLive(status: LiveStatus): void {
    setAttr(this.live, 'data-status', status);
    setText(this.live, LIVE_TEXT[status]);
  }

  showSummary(s: Summary): void {
    this.summary = s;
    setText(this.counts.running, String(s.running));
    setText(this.counts.queued, String(s.counts.queued ?? 0));
    setText(this.counts.failed, String(s.counts.failed ?? 0));
    this.pausedBadge.hidden = !s.paused;
    setText(this.pauseBtn, s.paused ? 'Resume all' : 'Pause all');
    setAttr(this.pauseBtn, 'data-paused', String(s.paused));
    this.pauseBtn.title = s.paused
      ? 'Let every queue start jobs again'
      : 'Hold every queue: running jobs go on, no new ones start';
    this.pauseBtn.disabled = false;
  }

  private async togglePause(): Promise<void> {
    if (!this.summary) return;
    const resume = this.summary.paused;
    this.pauseBtn.disabled = true;
    try {
      this.showSummary(await (resume ? this.transport.resumeAll() : this.transport.pauseAll()));
    } catch (err) {
      this.messages.error(`Cannot ${resume ? 'resume' : 'pause'}: ${(err as Error).message}`);
      this.pauseBtn.disabled = false;
    }
  }
}

function navLink(item: NavItem): HTMLElement {
  if (item.ready) {
    return h('a', { class: 'nav-link', href: `#/${item.page}`, 'data-page': item.page, testid: `nav-${item.page}` }, item.label);
  }
  // aria-disabled rather than disabled: a disabled button shows no tooltip in some engines
  // and cannot be focused, so keyboard users would never learn why it is there.
  const btn = h('button', { type: 'button', class: 'nav-link', 'aria-disabled': 'true', title: 'Coming soon', 'data-page': item.page, testid: `nav-${item.page}` },
    item.label, h('span', { class: 'soon' }, 'soon'));
  btn.addEventListener('click', (e) => e.preventDefault());
  return btn;
}
