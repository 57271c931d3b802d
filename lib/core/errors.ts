/**
 * The rejection of an async call stopped by its AbortSignal, as Node's own
 * (name 'AbortError', code 'ABORT_ERR'); `cause` is the signal's reason.
 */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}
