// A tiny element builder. Text always goes in as text nodes (never innerHTML), so job commands
// and log output can never inject markup; and there is no `style` attribute, which the CSP forbids.

type Child = Node | string | number | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined;
type Attrs = Record<string, AttrValue | ((ev: Event) => void)>;

/** `h('button', {class: 'btn', testid: 'x', onclick: fn}, 'Text')`. `testid` sets
 *  data-testid; `on*` keys add listeners; `true` sets a bare attribute, false/null skip it. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (typeof value === 'function') {
      el.addEventListener(key.slice(2), value as EventListener);
    } else if (value === true) {
      el.setAttribute(key === 'testid' ? 'data-testid' : key, '');
    } else if (value !== false && value !== null && value !== undefined) {
      el.setAttribute(key === 'testid' ? 'data-testid' : key, String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/** Sets text only when it differs, so live refreshes do not churn the DOM (or a selection). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Sets or removes an attribute only when it differs. */
export function setAttr(el: Element, name: string, value: string | null): void {
  if (value === null) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) {
    el.setAttribute(name, value);
  }
}

export function clear(el: Element): void {
  el.replaceChildren();
}
