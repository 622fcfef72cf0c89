import { describe, expect, it } from 'vitest';
import { chooseToken, isPlausibleToken, tokenFromFragment } from '../src/token';

const HEX = 'a3f9'.repeat(16);

describe('tokenFromFragment', () => {
  it('takes the token from a bare fragment and leaves nothing behind', () => {
    expect(tokenFromFragment(`#token=${HEX}`)).toEqual({ token: HEX, rest: '' });
  });
  it('keeps other parameters and a route', () => {
    expect(tokenFromFragment(`#token=${HEX}&x=1`)).toEqual({ token: HEX, rest: '#x=1' });
    expect(tokenFromFragment(`#/jobs/42?token=${HEX}&state=failed`)).toEqual({
      token: HEX,
      rest: '#/jobs/42?state=failed',
    });
    expect(tokenFromFragment(`#/jobs?token=${HEX}`)).toEqual({ token: HEX, rest: '#/jobs' });
  });
  it('leaves a fragment without a token alone', () => {
    expect(tokenFromFragment('#/jobs/42?state=failed')).toEqual({ token: null, rest: '#/jobs/42?state=failed' });
    expect(tokenFromFragment('')).toEqual({ token: null, rest: '' });
    expect(tokenFromFragment('#/jobs')).toEqual({ token: null, rest: '#/jobs' });
  });
  it('removes but refuses a token that cannot be a header value', () => {
    expect(tokenFromFragment('#token=')).toEqual({ token: null, rest: '' });
    expect(tokenFromFragment('#token=a%20b')).toEqual({ token: null, rest: '' });
    expect(tokenFromFragment('#token=a%0Ab')).toEqual({ token: null, rest: '' });
  });
});

describe('chooseToken', () => {
  it('prefers a fresh token in the link and asks to clean the address bar', () => {
    expect(chooseToken(`#token=${HEX}`, 'old')).toEqual({ token: HEX, cleanHash: '' });
  });
  it('falls back to the stored token on reload, touching nothing', () => {
    expect(chooseToken('#/jobs/3', HEX)).toEqual({ token: HEX, cleanHash: null });
  });
  it('has no token when neither place has a usable one', () => {
    expect(chooseToken('', null)).toEqual({ token: null, cleanHash: null });
    expect(chooseToken('', 'bad token')).toEqual({ token: null, cleanHash: null });
  });
});

describe('isPlausibleToken', () => {
  it('accepts the daemon’s hex tokens and refuses whitespace or emptiness', () => {
    expect(isPlausibleToken(HEX)).toBe(true);
    expect(isPlausibleToken('')).toBe(false);
    expect(isPlausibleToken('a b')).toBe(false);
    expect(isPlausibleToken('é')).toBe(false);
  });
});
