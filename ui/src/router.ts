// A hash router: `#/overview`, `#/jobs/42`, with optional filters after "?" (`#/jobs?state=failed`).
// The daemon serves one page; the hash needs no server-side routes.

export interface Route {
  /** First path segment: "overview", "queues", "jobs" ("overview" when the hash is empty). */
  page: string;
  /** The numeric id in the second segment, if it is a valid one. */
  id: number | null;
  params: Record<string, string>;
}

export const DEFAULT_PAGE = 'overview';

/** Parses a location.hash. Ids follow the API's rule: positive decimal digits only. */
export function parseRoute(hash: string): Route {
  const frag = hash.replace(/^#/, '');
  const q = frag.indexOf('?');
  const path = q < 0 ? frag : frag.slice(0, q);
  const params: Record<string, string> = {};
  if (q >= 0) new URLSearchParams(frag.slice(q + 1)).forEach((v, k) => (params[k] = v));
  const parts = path.split('/').filter(Boolean);
  const page = parts[0] ?? DEFAULT_PAGE;
  const raw = parts[1];
  const id = raw && /^[0-9]{1,15}$/.test(raw) && Number(raw) > 0 ? Number(raw) : null;
  return { page, id, params };
}

/** The hash for a route; empty params are left out so links stay short. */
export function formatRoute(route: Route): string {
  let path = `#/${route.page}${route.id !== null ? `/${route.id}` : ''}`;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(route.params)) if (v) params.set(k, v);
  const qs = params.toString();
  if (qs) path += `?${qs}`;
  return path;
}

/** Calls `onRoute` now and on every hash change; returns a function that stops listening. */
export function startRouter(onRoute: (route: Route) => void): () => void {
  const fire = () => onRoute(parseRoute(location.hash));
  window.addEventListener('hashchange', fire);
  fire();
  return () => window.removeEventListener('hashchange', fire);
}

/** Goes to a route. `replace` rewrites the current history entry (filter typing) and, as
 *  replaceState fires no hashchange, the caller has already applied the change itself. */
export function navigate(route: Route, replace = false): void {
  const hash = formatRoute(route);
  if (location.hash === hash) return;
  if (replace) history.replaceState(history.state, '', hash);
  else location.hash = hash;
}
