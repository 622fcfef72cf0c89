// One error type for both transports: the API's `{code, message}`, whatever carried it.

export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

/** Turns whatever a transport rejected with into an ApiError. Tauri rejects with the plain
 *  serialized object (or, for failures before our command runs, a bare string). */
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
