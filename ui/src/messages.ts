// The inline message area under the header: action errors and confirmations, newest last.
// Messages fade on their own (errors linger longer) and can be dismissed.

import { h } from './dom';

const MAX_SHOWN = 4;

export class Messages {
  readonly el = h('div', { class: 'messages', testid: 'messages', 'aria-live': 'polite' });

  error(text: string): void {
    this.add(text, 'error', 12_000);
  }

  info(text: string): void {
    this.add(text, 'info', 5_000);
  }

  private add(text: string, kind: 'error' | 'info', ttlMs: number): void {
    const item = h(
      'div',
      { class: `message message--${kind}`, testid: 'message', 'data-kind': kind, role: kind === 'error' ? 'alert' : 'status' },
      h('span', { class: 'message-text' }, text),
      h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': 'Dismiss', testid: 'message-dismiss', onclick: () => item.remove() }, '×'),
    );
    this.el.append(item);
    while (this.el.children.length > MAX_SHOWN) this.el.firstElementChild?.remove();
    setTimeout(() => item.remove(), ttlMs);
  }
}
