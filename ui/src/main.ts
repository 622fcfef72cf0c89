// Entry point: pick the transport for where we run, or explain how to get in.

import './style.css';
import { startApp, type App } from './app';
import { h } from './dom';
import { forgetToken, loadToken, tokenFromFragment } from './token';
import { inTauri } from './transport';
import { httpTransport } from './transport-http';
import { tauriTransport } from './transport-tauri';

const STATUS_COMMAND = 'nightshift status --url';

function showTokenPanel(root: HTMLElement, refused: boolean): void {
  root.replaceChildren(
    h('div', { class: 'gate' },
      h('section', { class: 'gate-panel', testid: refused ? 'token-refused' : 'token-missing', 'aria-labelledby': 'gate-title' },
        h('h1', { id: 'gate-title' }, refused ? 'This link has expired' : 'Nightshift needs its access link'),
        h('p', null, refused
          ? 'The daemon did not accept the saved access token (it may have been restarted with a new one).'
          : 'The admin page is protected by a token that only you can read, so it has to be opened through its link.'),
        h('p', null, 'Open this page with the link printed by ', h('code', null, STATUS_COMMAND), '.'),
        h('p', { class: 'muted' }, 'The token travels in the part of the link after “#”, which the browser never sends over the network; this page keeps it only for this tab.'))),
  );
  // Pasting the link into this same tab changes only the fragment, which reloads nothing.
  const retry = () => {
    if (!tokenFromFragment(location.hash).token) return;
    window.removeEventListener('hashchange', retry);
    boot();
  };
  window.addEventListener('hashchange', retry);
}

function boot(): void {
  const root = document.getElementById('app')!;
  if (inTauri()) {
    startApp(root, tauriTransport());
    return;
  }
  const token = loadToken();
  if (!token) {
    showTokenPanel(root, false);
    return;
  }
  let app: App | null = null;
  let refused = false;
  const transport = httpTransport({
    token,
    onUnauthorized: () => {
      if (refused) return;
      refused = true;
      forgetToken();
      app?.stop();
      showTokenPanel(root, true);
    },
  });
  // Requests are asynchronous, so a refusal always arrives after `app` is set.
  app = startApp(root, transport);
}

boot();
