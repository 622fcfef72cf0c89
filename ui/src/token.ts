// The browser's bearer token: it arrives once in the URL fragment (`#token=...`, which is never
// sent to the server or written to its logs), is kept in sessionStorage for reloads, and is
// removed from the address bar so it does not end up in bookmarks or screenshots.

export const TOKEN_KEY = 'nightshift.token';

/** A token must be usable as a header value: visible ASCII, no spaces. The daemon's are hex. */
export function isPlausibleToken(token: string): boolean {
  return /^[\x21-\x7e]{1,512}$/.test(token);
}

export interface FragmentToken {
  /** The token found in the fragment, if any. */
  token: string | null;
  /** The fragment to show instead (the route part), "" when nothing is left. */
  rest: string;
}

/** Reads `#token=abc` (optionally with other `&key=value` pairs, or after a route such as
 *  `#/jobs/42?token=abc`) and returns the token and the fragment without it. */
export function tokenFromFragment(hash: string): FragmentToken {
  const frag = hash.startsWith('#') ? hash.slice(1) : hash;
  const q = frag.indexOf('?');
  // A route fragment keeps its parameters after "?"; a bare fragment is all parameters.
  const [route, params] = frag.startsWith('/')
    ? [q < 0 ? frag : frag.slice(0, q), q < 0 ? '' : frag.slice(q + 1)]
    : ['', frag];
  if (!params) return { token: null, rest: hash };
  const search = new URLSearchParams(params);
  const raw = search.get('token');
  if (raw === null) return { token: null, rest: hash };
  search.delete('token');
  const left = search.toString();
  const rest = route ? `#${route}${left ? `?${left}` : ''}` : left ? `#${left}` : '';
  const token = raw.trim();
  return { token: isPlausibleToken(token) ? token : null, rest };
}

export interface TokenChoice {
  token: string | null;
  /** The fragment needed cleaning: replace the address bar's hash with `rest`. */
  cleanHash: string | null;
}

/** A token in the fragment wins over a stored one (a fresh link after a daemon reset). */
export function chooseToken(hash: string, stored: string | null): TokenChoice {
  const found = tokenFromFragment(hash);
  const cleanHash = found.rest !== hash ? found.rest : null;
  if (found.token) return { token: found.token, cleanHash };
  const keep = stored && isPlausibleToken(stored) ? stored : null;
  return { token: keep, cleanHash };
}

/** Applies chooseToken to the real page: stores the token and cleans the address bar. */
export function loadToken(): string | null {
  const stored = sessionStorage.getItem(TOKEN_KEY);
  const choice = chooseToken(location.hash, stored);
  if (choice.token) sessionStorage.setItem(TOKEN_KEY, choice.token);
  if (choice.cleanHash !== null) {
    const url = location.pathname + location.search + choice.cleanHash;
    history.replaceState(history.state, '', url);
  }
  return choice.token;
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}
