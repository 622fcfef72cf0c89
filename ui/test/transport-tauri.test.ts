import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
const listen = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...a: unknown[]) => invoke(...a) }));
vi.mock('@tauri-apps/api/event', () => ({ listen: (...a: unknown[]) => listen(...a) }));

const { tauriTransport, CHANGED_EVENT } = await import('../src/transport-tauri');
const { ApiError } = await import('../src/errors');

beforeEach(() => {
  invoke.mockReset();
  listen.mockReset();
});

describe('tauriTransport', () => {
  it('calls the snake_case commands with camelCase arguments', async () => {
    invoke.mockResolvedValue({ jobs: [], next_before: null });
    const t = tauriTransport();
    await t.listJobs({ state: 'running', queue: '', limit: 50 });
    expect(invoke).toHaveBeenLastCalledWith('list_jobs', { query: { state: 'running', limit: 50 } });
    await t.jobLogs(9, 500);
    expect(invoke).toHaveBeenLastCalledWith('job_logs', { id: 9, tail: 500 });
    await t.cancelJob(4);
    expect(invoke).toHaveBeenLastCalledWith('cancel_job', { id: 4 });
    await t.resumeAll();
    expect(invoke).toHaveBeenLastCalledWith('resume_all', undefined);
  });

  it('rejects with an ApiError carrying the command’s code', async () => {
    invoke.mockRejectedValue({ code: 'not_found', message: 'no job 12' });
    const err = await tauriTransport().showJob(12).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'not_found', message: 'no job 12' });
  });

  it('listens for the change event and stops listening when unsubscribed', async () => {
    const unlisten = vi.fn();
    let handler: () => void = () => {};
    listen.mockImplementation(async (name: string, fn: () => void) => {
      expect(name).toBe(CHANGED_EVENT);
      handler = fn;
      return unlisten;
    });
    const onChange = vi.fn();
    const onStatus = vi.fn();
    const stop = tauriTransport().subscribe(onChange, onStatus);
    await Promise.resolve();
    await Promise.resolve();
    handler();
    expect(onChange).toHaveBeenCalledOnce();
    expect(onStatus).toHaveBeenCalledWith('live');
    stop();
    expect(unlisten).toHaveBeenCalledOnce();
  });
});
