import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute } from '../src/router';

describe('parseRoute', () => {
  it('defaults to the overview', () => {
    expect(parseRoute('')).toEqual({ page: 'overview', id: null, params: {} });
    expect(parseRoute('#/')).toEqual({ page: 'overview', id: null, params: {} });
  });
  it('reads a job id and filters', () => {
    expect(parseRoute('#/jobs/42')).toEqual({ page: 'jobs', id: 42, params: {} });
    expect(parseRoute('#/jobs/42?state=failed&queue=media')).toEqual({
      page: 'jobs',
      id: 42,
      params: { state: 'failed', queue: 'media' },
    });
  });
  it('takes only positive decimal ids, like the API', () => {
    for (const bad of ['0', '-1', '1e3', '..', '4x', '9999999999999999']) {
      expect(parseRoute(`#/jobs/${bad}`).id, bad).toBeNull();
    }
  });
});

describe('formatRoute', () => {
  it('round-trips and drops empty filters', () => {
    expect(formatRoute({ page: 'jobs', id: 7, params: { state: 'running', queue: '' } })).toBe('#/jobs/7?state=running');
    expect(formatRoute({ page: 'jobs', id: null, params: {} })).toBe('#/jobs');
    const hash = '#/jobs/3?state=failed&queue=a.b';
    expect(formatRoute(parseRoute(hash))).toBe(hash);
  });
});
