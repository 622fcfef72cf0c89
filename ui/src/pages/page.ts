// What the app shell needs from a page module. Later pages (queues, incidents, metrics,
// settings) implement the same shape and register in app.ts.

import type { Route } from '../router';

export interface Page {
  /** The page's root element, put into the shell's main region once. */
  readonly el: HTMLElement;
  /** The hash changed to a route of this page (also called once when it is first shown). */
  route(route: Route): void;
  /** A live "something changed" tick: refetch what is on screen. */
  changed(): void;
  /** Once a second while the window is visible: update clocks. */
  tick(now: number): void;
  keydown?(e: KeyboardEvent): void;
}
