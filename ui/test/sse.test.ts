import { describe, expect, it } from 'vitest';
import { backoffMs, SseParser } from '../src/sse';

describe('SseParser', () => {
  it('parses the daemon’s changed ticks', () => {
    const p = new SseParser();
    expect(p.push('event: changed\ndata: {}\n\nevent: changed\ndata: {}\n\n')).toEqual([
      { event: 'changed', data: '{}' },
      { event: 'changed', data: '{}' },
    ]);
  });

  it('completes a message split across chunks at any point', () => {
    const text = 'event: changed\ndata: {}\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser();
      const got = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
      expect(got, `cut at ${cut}`).toEqual([{ event: 'changed', data: '{}' }]);
    }
  });

  it('accepts CRLF and lone CR line ends, even with CRLF split between chunks', () => {
    const p = new SseParser();
    expect(p.push('event: changed\r\ndata: {}\r')).toEqual([]);
    expect(p.push('\n\r\n')).toEqual([{ event: 'changed', data: '{}' }]);
    expect(p.push('data: a\rdata: b\r\r')).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('ignores comments and unknown fields, strips one leading space only', () => {
    const p = new SseParser();
    expect(p.push(': keep-alive\n\nid: 7\nretry: 100\nfoo: bar\ndata:  two spaces\ndata\n\n')).toEqual([
      { event: 'message', data: ' two spaces\n' },
    ]);
  });

  it('dispatches nothing for a block without data, and resets the event name', () => {
    const p = new SseParser();
    expect(p.push('event: changed\n\n')).toEqual([]);
    expect(p.push('data: x\n\n')).toEqual([{ event: 'message', data: 'x' }]);
  });

  it('holds an unterminated message until its blank line arrives', () => {
    const p = new SseParser();
    expect(p.push('event: changed\ndata: {}\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'changed', data: '{}' }]);
  });
});

describe('backoffMs', () => {
  it('doubles from half a second to a ceiling', () => {
    expect([0, 1, 2, 3].map(backoffMs)).toEqual([500, 1000, 2000, 4000]);
    expect(backoffMs(5)).toBe(15_000);
    expect(backoffMs(50)).toBe(15_000);
    expect(backoffMs(-1)).toBe(500);
  });
});
