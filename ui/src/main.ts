// Entry point: with the access token, the app; without it (or once the daemon refuses it),
// the panel that says how to get in. The desktop window opens the same page with the same
// kind of link, so there is no other way in.

// First: before anything reads the browser's language (see locale.ts).
import './locale';
import './style.css';
import { mount, unmount } from 'svelte';
import App from './App.svelte';
import Gate from './components/Gate.svelte';
import { httpClient } from './api/client';
import { AppState } from './app-state.svelte';
import { forgetToken, loadToken, tokenFromFragment } from './token';

let shown: ReturnType<typeof mount> | null = null;

/** Replaces whatever is on screen with what `make` mounts into the root. */
function show(make: (target: HTMLElement) => ReturnType<typeof mount>): void {
  const target = document.getElementById('app')!;
  if (shown) void unmount(shown);
  target.replaceChildren();
  shown = make(target);
}

function showGate(refused: boolean): void {
  show((target) => mount(Gate, { target, props: { refused } }));
  // Pasting the link into this same tab changes only the fragment, which reloads nothing.
  const retry = () => {
    if (!tokenFromFragment(location.hash).token) return;
    window.removeEventListener('hashchange', retry);
    boot();
  };
  window.addEventListener('hashchange', retry);
}

function boot(): void {
  const token = loadToken();
  if (!token) {
    showGate(false);
    return;
  }
  let refused = false;
  let stop: (() => void) | null = null;
  const client = httpClient({
    token,
    onUnauthorized: () => {
      if (refused) return;
      refused = true;
      forgetToken();
      stop?.();
      showGate(true);
    },
  });
  const app = new AppState(client);
  show((target) => mount(App, { target, props: { app } }));
  // Requests are asynchronous, so a refusal always arrives after `stop` is set.
  stop = app.start();
}

boot();
