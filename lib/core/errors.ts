// The errors of the library: AbortError, and the addon's errors made again in
// the caller's realm.
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

// Errors from C++ are re-created here, in the caller's realm (a jest or vm
// context has its own TypeError), with a stack through the caller's code:
// thrown ones where they are caught, rejections with the stack captured when
// the async call was made.
const errorTypes: Record<string, new (message: string) => Error> = { TypeError, RangeError, AbortError };

/** error, its stack replaced by that of `site` (an Error made at the call): the caller's. */
export function atSite<E extends Error>(error: E, site: Error): E {
  if (site.stack) error.stack = `${error.name}: ${error.message}\n${site.stack.split('\n').slice(1).join('\n')}`;
  return error;
}

/** err, made again here; with `site`, with the caller's stack. */
export function localError(err: unknown, site?: Error): Error {
  if (typeof err !== 'object' || err === null || typeof (err as Error).message !== 'string') return err as Error;
  const { name, message } = err as Error;
  const local = new (errorTypes[name] ?? Error)(message);
  if ('code' in (err as object)) Object.assign(local, { code: (err as { code: unknown }).code });
  return site ? atSite(local, site) : local;
}

/** fn, its thrown errors made again here. */
export function withLocalErrors<F extends (...args: never[]) => unknown>(fn: F): F {
  return function (this: unknown, ...args: Parameters<F>) {
    try {
      return fn.apply(this, args);
    } catch (err) {
      throw localError(err);
    }
  } as F;
}
