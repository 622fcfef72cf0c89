// Wires the shell, the pages, the router and the live feed together for one transport.

import { everySecondWhileVisible } from './live';
import { Messages } from './messages';
import type { Page } from './pages/page';
import { jobsPage } from './pages/jobs';
import { DEFAULT_PAGE, navigate, startRouter } from './router';
import { Shell } from './shell';
import type { Transport } from './transport';

export interface App {
  stop(): void;
}

export function startApp(root: HTMLElement, transport: Transport): App {
  const messages = new Messages();
  const shell = new Shell(transport, messages);
  const refreshSummary = () => void shell.refreshSummary();

  // Pages are built on first visit and kept, so returning to one keeps its filters and scroll.
  const factories: Record<string, () => Page> = {
    jobs: () => jobsPage(transport, messages, refreshSummary),
  };
  const pages = new Map<string, Page>();
  let current: Page | null = null;

  root.replaceChildren(shell.el);

  const stopRouter = startRouter((route) => {
    const make = factories[route.page];
    if (!make) {
      // Not built yet (or a mistyped link): land on the default page rather than a blank one.
      navigate({ page: DEFAULT_PAGE, id: null, params: {} }, true);
      route = { page: DEFAULT_PAGE, id: null, params: {} };
    }
    let page = pages.get(route.page);
    if (!page) {
      page = factories[route.page]!();
      pages.set(route.page, page);
    }
    if (page !== current) {
      shell.main.replaceChildren(page.el);
      current = page;
    }
    shell.setActive(route.page);
    page.route(route);
  });

  const unsubscribe = transport.subscribe(
    () => {
      refreshSummary();
      current?.changed();
    },
    (status) => shell.setLive(status),
  );
  const stopTicking = everySecondWhileVisible((now) => current?.tick(now));
  const onKey = (e: KeyboardEvent) => current?.keydown?.(e);
  document.addEventListener('keydown', onKey);
  refreshSummary();

  return {
    stop() {
      stopRouter();
      unsubscribe();
      stopTicking();
      document.removeEventListener('keydown', onKey);
    },
  };
}
