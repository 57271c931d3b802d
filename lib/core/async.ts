// What every async twin shares: its native job reads only memory it owns,
// whose values were checked here as the synchronous calls check theirs (one
// check, validate.ts's checkValues), and its rejection is an error made in
// the caller's realm with the stack of the call (captured as `site` before
// the first await).
//
// Why copies: N-API cannot pin an ArrayBuffer. While a job runs on another
// thread, the caller may detach its input (a transfer to a worker, a
// structuredClone), shrink a resizable buffer, or another thread may write a
// shared one after the job checked it; reading that memory then crashed the
// process. So a job reads private copies, made on the event loop in pieces
// small enough not to stall it, and for row-wise work (encode, search's
// queries) each piece is copied while the job of the previous one runs.
import type { CodeArray } from './arrays';
import { localError } from './errors';
import { checkedCopy, checkOptions, CheckedMatrix, describe, isShared } from './validate';

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

/** The native promise's value, or its rejection made again here with the caller's stack. */
export async function settled<T>(call: Promise<T>, site: Error): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw localError(err, site);
  }
}

// About 2.5 ms of copying into new memory (page faults included) on the
// machines measured: the longest the event loop waits for one piece.
const PIECE_BYTES = 4 << 20;
// The pieces of row-wise work are larger: each is a native call, whose start
// (a thread-pool hop, threads woken) cost about 0.5 ms.
const ROW_PIECE_BYTES = 8 << 20;

// Row pieces' buffers, kept for the next call (at most two: 16 MB): a new
// buffer's first touch (page faults, about 0.6 ms a MB, on the event loop)
// costs more than copying into one already touched.
const spareBuffers: Float32Array[] = [];
const takeBuffer = () => spareBuffers.pop() ?? new Float32Array(ROW_PIECE_BYTES / 4);
const giveBack = (buffers: Float32Array[]) => {
  for (const b of buffers) if (spareBuffers.length < 2) spareBuffers.push(b);
};

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

/**
 * An input as validate.ts returns it: `owned` when data is already a copy of
 * ours; `cols` for vectors, whose values are checked (codes are checked in
 * range by the native call, in the memory it reads).
 */
interface Input<T extends Copyable> { data: T; owned: boolean; cols?: number }

/** data may be read where it is: ours already, or zeroCopy allows it (and it is not shared). */
const inPlace = (input: Input<Copyable>, zeroCopy: boolean) => input.owned || (zeroCopy && !isShared(input.data));

/**
 * Checks the values of piece (vectors; data[0] is value `offset` of the
 * argument), as it is copied into `into` when given: one pass over memory.
 */
function checkPiece(piece: Copyable, into: Copyable | undefined, input: Input<Copyable>, name: string, offset: number): void {
  if (input.cols !== undefined) {
    checkedCopy(piece as Float32Array, into as Float32Array | undefined, name, input.cols, undefined, offset);
  } else {
    into?.set(piece);
  }
}

/** What a native job may read of input (see ownedCopy), copied and checked at once. */
export function ownedNow<T extends Copyable>(input: Input<T>, name: string, zeroCopy: boolean): T {
  const copy = inPlace(input, zeroCopy) ? undefined : (blank(input.data, input.data.length) as T);
  checkPiece(input.data, copy, input, name, 0);
  return copy ?? input.data;
}

/**
 * What a native job may read of input: its data, or a private copy (see
 * inPlace), checked; a piece at a time, the event loop turning between pieces.
 */
export async function ownedCopy<T extends Copyable>(input: Input<T>, name: string, zeroCopy: boolean): Promise<T> {
  const { data } = input;
  if (data.byteLength <= PIECE_BYTES) return ownedNow(input, name, zeroCopy);
  const length = data.length;
  const out = inPlace(input, zeroCopy) ? data : (blank(data, length) as T);
  const step = Math.floor(PIECE_BYTES / data.BYTES_PER_ELEMENT);
  for (let i = 0; i < length; i += step) {
    if (i > 0) await turn();
    checkIntact(data, length, name);
    const end = Math.min(length, i + step);
    checkPiece(data.subarray(i, end), out === data ? undefined : out.subarray(i, end), input, name, i);
  }
  return out;
}

/**
 * Runs job(rows, first, count) over the rows of x a piece at a time, each
 * piece a private, checked copy made on the event loop while the job of the
 * previous runs (x itself, in one piece, when it may be read in place). For
 * work whose rows are independent: the results are those of one call over
 * all rows.
 */
export async function eachRowPiece(x: CheckedMatrix, name: string, zeroCopy: boolean,
  job: (rows: Float32Array, first: number, count: number) => Promise<void>): Promise<void> {
  const { data, rows, cols } = x;
  const per = Math.floor(ROW_PIECE_BYTES / 4 / Math.max(cols, 1));
  // In one piece: what may be read in place, what a small copy holds, rows of over 8 MB each.
  if (inPlace(x, zeroCopy) || data.byteLength <= PIECE_BYTES || per === 0) {
    return job(await ownedCopy(x, name, zeroCopy), 0, rows);
  }
  const buffers: Float32Array[] = [];
  let running: Promise<void> | undefined;
  try {
    for (let first = 0, i = 0; first < rows; first += per, i++) {
      const count = Math.min(per, rows - first);
      checkIntact(data, rows * cols, name);
      // Two buffers in turn: one read by the running job, the other filled.
      buffers[i % 2] ??= takeBuffer();
      const piece = buffers[i % 2].subarray(0, count * cols);
      checkPiece(data.subarray(first * cols, (first + count) * cols), piece, x, name, first * cols);
      await running;
      running = job(piece, first, count);
    }
    await running;
  } catch (err) {
    await running?.catch(() => undefined);  // settles only after no job reads a buffer
    throw err;
  } finally {
    giveBack(buffers);
  }
}
