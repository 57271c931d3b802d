// IDX, the format of (Fashion-)MNIST: bytes 00 00, an element type, the
// number of dimensions, each dimension as a big-endian uint32, then the
// elements, big-endian and row-major. Usually gzipped, as distributed.
import { constants as bufferConstants } from 'node:buffer';
import * as zlib from 'node:zlib';
import { Matrix } from '../core/arrays';
import { Reader, readerFor } from './reader';

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

export interface IdxMatrix extends Matrix {
  /** Every dimension in the file, e.g. [60000, 28, 28]; shape is [60000, 784]. */
  dims: number[];
  /** The element type in the file; data holds it as float32. */
  dtype: IdxDtype;
}

const TYPES: Record<number, [IdxDtype, number, (view: DataView, at: number) => number]> = {
  0x08: ['uint8', 1, (v, at) => v.getUint8(at)],
  0x09: ['int8', 1, (v, at) => v.getInt8(at)],
  0x0b: ['int16', 2, (v, at) => v.getInt16(at)],
  0x0c: ['int32', 4, (v, at) => v.getInt32(at)],
  0x0d: ['float32', 4, (v, at) => v.getFloat32(at)],
  0x0e: ['float64', 8, (v, at) => v.getFloat64(at)],
};
const TYPE_NAMES = '0x08 ubyte, 0x09 sbyte, 0x0B short, 0x0C int, 0x0D float, 0x0E double';

function header(r: Reader) {
  const magic = r.u16('the IDX magic');
  if (magic !== 0) throw r.error('an IDX file (bytes 00 00, or 1f 8b if gzipped)', `bytes ${Array.from(r.bytes.subarray(0, 2), (b) => b.toString(16).padStart(2, '0')).join(' ')}`);
  const code = r.u8('the element type');
  const type = TYPES[code];
  if (!type) throw r.error(`an IDX element type (${TYPE_NAMES})`, `0x${code.toString(16).padStart(2, '0')}`);
  const ndims = r.u8('the number of dimensions');
  r.expect(ndims >= 1, 'at least one dimension', '0');
  const dims = Array.from({ length: ndims }, (_, i) => r.u32be(`dimension ${i}`));
  const [dtype, size, get] = type;
  return { dtype, size, get, dims, dataBytes: dims.reduce((a, b) => a * b, size) };
}

function gunzip(r: Reader, options: zlib.ZlibOptions, bytes = r.bytes): Buffer {
  try {
    return zlib.gunzipSync(bytes, options);
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw r.error(`gzip data of at most ${options.maxOutputLength} bytes, as its IDX header gives`, 'more', 0);
    }
    throw r.error('gzip data', `a zlib error: ${message}`, 0);
  }
}

/**
 * Where a gzip file's deflate data starts: after its 10-byte header and the
 * optional extra field, name, comment and header CRC (RFC 1952), which may be
 * of any length.
 */
function deflateStart(b: Uint8Array): number {
  const flags = b[3] ?? 0;
  let at = 10;
  if (flags & 4) at += 2 + ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8));  // FEXTRA: its length, then it
  if (flags & 8) at = b.indexOf(0, at) + 1 || b.length;  // FNAME, zero-terminated
  if (flags & 16) at = b.indexOf(0, at) + 1 || b.length;  // FCOMMENT, zero-terminated
  if (flags & 2) at += 2;  // FHCRC
  return Math.min(at, b.length);
}

/**
 * The whole file, inflated: never more than its own header says it holds, so
 * a gzip bomb is an error, not an allocation.
 */
function inflated(r: Reader): Reader {
  // Deflate inflates each byte to at most 1032, so the first 4 KiB of deflate
  // data hold the IDX header (at most 1024 bytes) and inflate to less than 8 MiB.
  const head = new Reader(gunzip(r, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: 2 ** 23 },
    r.bytes.subarray(0, deflateStart(r.bytes) + 4096)), `${r.name} (gunzipped)`);
  const { dims, dataBytes } = header(head);
  const total = 4 + 4 * dims.length + dataBytes;
  if (total > bufferConstants.MAX_LENGTH) {
    throw head.error(`dimensions of at most ${bufferConstants.MAX_LENGTH} bytes`, `[${dims.join(', ')}]`);
  }
  return new Reader(gunzip(r, { maxOutputLength: total }), head.name);
}

/**
 * An IDX file ((Fashion-)MNIST's images or labels), gzipped or not, as a
 * Matrix that PQ.fit takes as it is: shape [n, product of the other
 * dimensions] ([60000, 784] for 28 x 28 images, [n, 1] for labels), data in
 * float32 (exact for bytes, shorts and MNIST's pixels; int and double values
 * are rounded to float32), dims and dtype as in the file.
 */
export function readIdx(src: string | Uint8Array): IdxMatrix {
  let r = readerFor(src);
  if (r.bytes[0] === 0x1f && r.bytes[1] === 0x8b) r = inflated(r);
  const { dtype, size, get, dims, dataBytes } = header(r);
  if (dataBytes !== r.left) {
    throw r.error(`${dataBytes} bytes of ${dtype} data for dimensions [${dims.join(', ')}]`, `${r.left} bytes`, r.offset);
  }
  const raw = r.slice(dataBytes, 'the data');
  const count = dataBytes / size;
  let data: Float32Array;
  if (dtype === 'uint8') data = new Float32Array(raw);  // MNIST's case, converted without a call per element
  else {
    data = new Float32Array(count);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) data[i] = get(view, i * size);
  }
  return { data, shape: [dims[0], dims.slice(1).reduce((a, b) => a * b, 1)], dims, dtype };
}
