// What every async twin shares: its native job reads only memory it owns,
// its rejection is an error made in the caller's realm with the stack of the
// call (captured as `site` before the first await), and a value that the
// native job found out of range is named as the synchronous checks name it.
//
// Why copies: N-API cannot pin an ArrayBuffer. While a job runs on another
// thread, the caller may detach its input (a transfer to a worker, a
// structuredClone), shrink a resizable buffer, or another thread may write a
// shared one after the job checked it; reading that memory then crashed the
// process. So a job reads private copies, made on the event loop in pieces
// small enough not to stall it, and for row-wise work (encode, search's
// queries) each piece is copied while the job of the previous one runs.
import type { CodeArray } from './arrays';
import { atSite, localError } from './errors';
import { checkOptions, CheckedMatrix, describe, isShared, valueError } from './validate';

/** What every async call takes. */
export interface AsyncOptions {
  /**
   * Let the native job read the input arrays in place instead of a private
   * copy. Then the caller must not detach (transfer), resize or write them
   * until the promise settles: the process may crash if it does. Arrays in a
   * SharedArrayBuffer are copied all the same.
   * @defaultValue false
   */
  zeroCopy?: boolean;
}

/** The zeroCopy option, checked (with the other options a call knows, if any). */
export function zeroCopyOption(options: unknown, where: string, known: readonly string[] = []): boolean {
  const o = checkOptions(options, ['zeroCopy', ...known], where);
  if (o.zeroCopy !== undefined && typeof o.zeroCopy !== 'boolean') {
    throw new TypeError(`Expected a boolean for zeroCopy, got ${describe(o.zeroCopy)}`);
  }
  return o.zeroCopy ?? false;
}

/** A vectors argument whose values the native job checks; data[0] is its value `offset`. */
export interface Values { data: Float32Array; name: string; cols: number; offset?: number }

export function asyncError(err: unknown, site: Error, values?: Values): Error {
  if (values && (err as { code?: string } | null)?.code === 'NANOPQ_OUT_OF_RANGE') {
    const { data, name, cols, offset } = values;
    return atSite(valueError(data, name, cols, (err as { index: number }).index, undefined, offset), site);
  }
  return localError(err, site);
}

/** The native promise's value, or asyncError of its rejection. */
export async function settled<T>(call: Promise<T>, site: Error, values?: Values): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw asyncError(err, site, values);
  }
}

// About 2.5 ms of copying into new memory (page faults included) on the
// machines measured: the longest the event loop waits for one piece.
const PIECE_BYTES = 4 << 20;

type Copyable = Float32Array | CodeArray;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Throws unless array still has `length` elements: it was detached, or its resizable buffer resized. */
function checkIntact(array: Copyable, length: number, name: string): void {
  if (array.length !== length) {
    throw new Error(`Expected ${name} to keep its memory until the call settled; it was detached or resized`);
  }
}

function blank(array: Copyable, length: number): Copyable {
  return array instanceof Float32Array ? new Float32Array(length)
    : array instanceof Uint8Array ? new Uint8Array(length)
      : array instanceof Uint16Array ? new Uint16Array(length) : new Uint32Array(length);
}

/** data, unless a copy is needed (see ownedCopy): then a copy made at once. */
export function ownedNow<T extends Copyable>(data: T, owned: boolean, zeroCopy: boolean): T {
  return owned || (zeroCopy && !isShared(data)) ? data : (data.slice() as T);
}

/**
 * What a native job may read of data: data itself when it is already a copy
 * of ours (`owned`) or zeroCopy allows it (and it is not shared); otherwise a
 * copy made a piece at a time, the event loop turning between pieces.
 */
export async function ownedCopy<T extends Copyable>(data: T, owned: boolean, zeroCopy: boolean, name: string): Promise<T> {
  if (owned || (zeroCopy && !isShared(data)) || data.byteLength <= PIECE_BYTES) return ownedNow(data, owned, zeroCopy);
  const length = data.length;
  const copy = blank(data, length) as T;
  const step = Math.floor(PIECE_BYTES / data.BYTES_PER_ELEMENT);
  for (let i = 0; i < length; i += step) {
    if (i > 0) await turn();
    checkIntact(data, length, name);
    copy.set(data.subarray(i, Math.min(length, i + step)), i);
  }
  return copy;
}

/**
 * Runs job(rows, first, count) over the rows of x a piece at a time, each
 * piece a private copy made on the event loop while the job of the previous
 * runs (x itself, in one piece, when owned or with zeroCopy). For work whose
 * rows are independent: the results are those of one call over all rows.
 */
export async function eachRowPiece(x: CheckedMatrix, name: string, zeroCopy: boolean,
  job: (rows: Float32Array, first: number, count: number) => Promise<void>): Promise<void> {
  const { data, rows, cols } = x;
  if (x.owned || (zeroCopy && !isShared(data))) return job(data, 0, rows);
  const per = Math.max(1, Math.floor(PIECE_BYTES / 4 / Math.max(cols, 1)));
  const buffers: Float32Array[] = [];
  let running: Promise<void> | undefined;
  try {
    for (let first = 0, i = 0; first < rows; first += per, i++) {
      const count = Math.min(per, rows - first);
      checkIntact(data, rows * cols, name);
      // Two buffers in turn: one read by the running job, the other filled.
      buffers[i % 2] ??= new Float32Array(Math.min(per, rows) * cols);
      const piece = buffers[i % 2].subarray(0, count * cols);
      piece.set(data.subarray(first * cols, (first + count) * cols));
      await running;
      running = job(piece, first, count);
    }
  } catch (err) {
    await running?.catch(() => undefined);  // settles only after no job reads a buffer
    throw err;
  }
  await running;
}
