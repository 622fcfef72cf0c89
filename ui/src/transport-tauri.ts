// The Tauri transport: each call is one IPC command onto the same facade the HTTP routes use.
// Command names are snake_case; Tauri 2 maps our camelCase argument keys to the Rust names.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { toApiError } from './errors';
import { cleanQuery, type Transport } from './transport';
import type { JobDetail, JobPage, JobView, ListQuery, Summary } from './types';

export const CHANGED_EVENT = 'nightshift://changed';

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (err) {
    throw toApiError(err); // the command rejects with the API's {code, message}
  }
}

export function tauriTransport(): Transport {
  return {
    kind: 'tauri',
    listJobs: (query: ListQuery) => call<JobPage>('list_jobs', { query: cleanQuery(query) }),
    showJob: (id) => call<JobDetail>('show_job', { id }),
    cancelJob: (id) => call<JobView>('cancel_job', { id }),
    retryJob: (id) => call<JobView>('retry_job', { id }),
    jobLogs: (id, tail) => call<string>('job_logs', tail === undefined ? { id } : { id, tail }),
    summary: () => call<Summary>('summary'),
    pauseAll: () => call<Summary>('pause_all'),
    resumeAll: () => call<Summary>('resume_all'),
    subscribe(onChange, onStatus) {
      let stopped = false;
      let unlisten: (() => void) | null = null;
      // IPC events need no connection, so "live" as soon as the listener is registered.
      listen(CHANGED_EVENT, () => onChange()).then(
        (fn) => {
          if (stopped) fn();
          else {
            unlisten = fn;
            onStatus?.('live');
          }
        },
        () => onStatus?.('offline'),
      );
      return () => {
        stopped = true;
        unlisten?.();
      };
    },
  };
}
