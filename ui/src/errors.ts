// One error type for the UI: the API's `{code, message}`, or what went wrong reaching it.

export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

/** Turns whatever a call rejected with into an ApiError: the API's parsed error body, an
 *  ApiError already, or anything else thrown on the way. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (typeof err === 'object' && err !== null) {
    const o = err as { code?: unknown; message?: unknown };
    if (typeof o.message === 'string') {
      return new ApiError(typeof o.code === 'string' ? o.code : 'internal', o.message);
    }
  }
  if (typeof err === 'string') return new ApiError('internal', err);
  return new ApiError('internal', String(err));
}
