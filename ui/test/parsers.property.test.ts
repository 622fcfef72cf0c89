// Property tests for the UI's parsers: whatever arrives (a stream cut anywhere, any address
// bar), they neither throw nor lose or invent anything.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute } from '../src/router';
import { SseParser } from '../src/sse';
import { isPlausibleToken, tokenFromFragment } from '../src/token';

/** An event stream of `messages`, each with its own line ending (one ending per message: a
 *  "\r" then a "\n" would be one break, "\r\n", not two). */
const stream = fc
  .array(
    fc.record({
      event: fc.stringMatching(/^[a-z]{1,8}$/),
      data: fc.stringMatching(/^[^\r\n]{0,20}$/),
      end: fc.constantFrom('\n', '\r\n', '\r'),
    }),
    { maxLength: 8 },
  )
  .map((sent) => ({
    messages: sent.map(({ event, data }) => ({ event, data })),
    text: sent.map((m) => `event: ${m.event}${m.end}data: ${m.data}${m.end}${m.end}`).join(''),
  }));

describe('SseParser, for any stream cut into any chunks', () => {
  it('yields exactly the messages sent, in order', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), ({ messages, text }, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const p = new SseParser();
        const got = [];
        let at = 0;
        for (const cut of [...points, text.length]) {
          got.push(...p.push(text.slice(at, cut)));
          at = cut;
        }
        expect(got).toEqual(messages);
      }),
    );
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.array(fc.string(), { maxLength: 10 }), (chunks) => {
      const p = new SseParser();
      for (const c of chunks) p.push(c);
    }));
  });
});

describe('parseRoute, for any hash', () => {
  it('gives a page, an id that is a positive safe integer or null, and round-trips', () => {
    fc.assert(
      fc.property(fc.string(), (hash) => {
        const route = parseRoute(hash);
        expect(typeof route.page).toBe('string');
        if (route.id !== null) {
          expect(Number.isSafeInteger(route.id)).toBe(true);
          expect(route.id).toBeGreaterThan(0);
        }
        // What it formats parses back to the same route.
        expect(parseRoute(formatRoute(route))).toEqual(parseRoute(formatRoute(parseRoute(formatRoute(route)))));
      }),
    );
  });

  it('reads back any route it formats', () => {
    const name = fc.stringMatching(/^[a-z]{1,10}$/);
    fc.assert(
      fc.property(name, fc.option(fc.integer({ min: 1, max: 999_999_999_999_999 }), { nil: null }),
        fc.dictionary(name, fc.string({ minLength: 1 })), (page, id, params) => {
          expect(parseRoute(formatRoute({ page, id, params }))).toEqual({ page, id, params });
        }),
    );
  });
});

describe('tokenFromFragment, for any fragment', () => {
  it('returns only a plausible token, and a rest without it', () => {
    fc.assert(
      fc.property(fc.string(), (hash) => {
        const { token, rest } = tokenFromFragment(hash);
        if (token !== null) {
          expect(isPlausibleToken(token)).toBe(true);
          expect(rest).not.toContain(`token=${encodeURIComponent(token)}`);
        }
      }),
    );
  });

  it('finds a token placed in any route’s parameters and keeps the others', () => {
    const word = fc.stringMatching(/^[a-z0-9]{1,8}$/);
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{64}$/), fc.option(word, { nil: null }), fc.dictionary(word.filter((k) => k !== 'token'), word),
        (token, page, others) => {
          const params = new URLSearchParams({ ...others, token }).toString();
          const hash = page === null ? `#${params}` : `#/${page}?${params}`;
          const found = tokenFromFragment(hash);
          expect(found.token).toBe(token);
          const rest = found.rest.replace(/^#/, '');
          const left = rest.startsWith('/') ? (rest.includes('?') ? rest.slice(rest.indexOf('?') + 1) : '') : rest;
          expect(Object.fromEntries(new URLSearchParams(left))).toEqual(others);
        }),
    );
  });
});
