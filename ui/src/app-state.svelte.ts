// What every page shares: the client, the live feed's status and change ticks, the clock,
// the header's summary and power, the route and the message area. One instance per app,
// handed to components through Svelte's context (`useApp`).

import { getContext, setContext } from 'svelte';
import type { Client, LiveStatus } from './api/client';
import type { PowerView, Summary } from './api/types';
import { toApiError } from './errors';
import { coalesced, everySecondWhileVisible } from './live';
import { DEFAULT_PAGE, navigate, parseRoute, startRouter, type Route } from './router';

export const PAGES = ['overview', 'queues', 'jobs', 'workers', 'incidents'] as const;

export interface Message {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

const MAX_MESSAGES = 4;

export class AppState {
  /** The live feed: can change ticks arrive right now? */
  status = $state<LiveStatus>('connecting');
  /** Bumped on every "something changed" tick; pages refetch when it moves. */
  changes = $state(0);
  /** The clock, once a second while the page is visible. */
  now = $state(Date.now());
  summary = $state<Summary | null>(null);
  power = $state<PowerView | null>(null);
  route = $state<Route>(parseRoute(''));
  messages = $state<Message[]>([]);
  private nextMessage = 1;

  constructor(readonly client: Client) {}

  /** Refetches the header's summary and power; the pages report an unreachable daemon, the
   *  header just keeps its last figures. */
  readonly refreshHeader = coalesced(async () => {
    const [summary, power] = await Promise.allSettled([this.client.summary(), this.client.power()]);
    if (summary.status === 'fulfilled') this.summary = summary.value;
    if (power.status === 'fulfilled') this.power = power.value;
  });

  error(text: string): void {
    this.add('error', text, 12_000);
  }

  info(text: string): void {
    this.add('info', text, 5_000);
  }

  /** Runs `action`, reports its failure as "Cannot <what>: <why>", and refreshes the header
   *  either way. Returns the action's answer, or null when it failed. */
  async act<T>(what: string, action: () => Promise<T>): Promise<T | null> {
    try {
      return await action();
    } catch (err) {
      this.error(`Cannot ${what}: ${toApiError(err).message}`);
      return null;
    } finally {
      void this.refreshHeader();
    }
  }

  dismiss(id: number): void {
    this.messages = this.messages.filter((m) => m.id !== id);
  }

  private add(kind: Message['kind'], text: string, ttlMs: number): void {
    const id = this.nextMessage++;
    this.messages = [...this.messages, { id, kind, text }].slice(-MAX_MESSAGES);
    setTimeout(() => this.dismiss(id), ttlMs);
  }

  /** Starts the router, the live feed and the clock; returns what stops them. */
  start(): () => void {
    const stopRouter = startRouter((route) => {
      if (!(PAGES as readonly string[]).includes(route.page)) {
        // A mistyped or old link: land on the default page rather than a blank one.
        route = { page: DEFAULT_PAGE, id: null, params: {} };
        navigate(route, true);
      }
      this.route = route;
    });
    const unsubscribe = this.client.subscribe(
      () => {
        this.changes += 1;
        void this.refreshHeader();
      },
      (status) => (this.status = status),
    );
    const stopTicking = everySecondWhileVisible((now) => (this.now = now));
    void this.refreshHeader();
    return () => {
      stopRouter();
      unsubscribe();
      stopTicking();
    };
  }
}

const KEY = Symbol('nightshift-app');

export function provideApp(app: AppState): void {
  setContext(KEY, app);
}

export function useApp(): AppState {
  return getContext<AppState>(KEY);
}
