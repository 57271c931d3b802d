// The .npq model format: this library's own serialization, documented in docs/format.md.
//
//   offset  size  field
//   0       8     magic "NANOPQ\0\0"
//   8       4     format version, uint32 (1)
//   12      1     kind: 0 = PQ, 1 = OPQ
//   13      1     metric: 0 = 'l2', 1 = 'dot'
//   14      2     reserved, 0
//   16      4     M, uint32
//   20      4     Ds, uint32 (0: not fitted, nothing follows)
//   24      8     Ks, uint64
//   32      ...   codewords, float32 (M, Ks, Ds); then for OPQ R, float32 (D, D), D = M * Ds
// All little-endian.
import { Metric } from './arrays';

export const MAGIC = 'NANOPQ\0\0';
export const VERSION = 1;
const HEADER = 32;

export type ModelKind = 'PQ' | 'OPQ';
const kinds: ModelKind[] = ['PQ', 'OPQ'];
const metrics: Metric[] = ['l2', 'dot'];

export interface ModelFields {
  kind: ModelKind;
  metric: Metric;
  M: number;
  Ks: number;
  Ds: number | null;
  codewords: Float32Array | null;
  R?: Float32Array | null;
}

export function writeModel(model: ModelFields): Buffer {
  const Ds = model.Ds ?? 0;
  const codewords = model.codewords ?? new Float32Array(0);
  const R = (model.kind === 'OPQ' && model.R) || new Float32Array(0);
  const bytes = new ArrayBuffer(HEADER + 4 * (codewords.length + R.length));
  const header = new DataView(bytes, 0, HEADER);
  for (let i = 0; i < MAGIC.length; i++) header.setUint8(i, MAGIC.charCodeAt(i));
  header.setUint32(8, VERSION, true);
  header.setUint8(12, kinds.indexOf(model.kind));
  header.setUint8(13, metrics.indexOf(model.metric));
  header.setUint32(16, model.M, true);
  header.setUint32(20, Ds, true);
  header.setBigUint64(24, BigInt(model.Ks), true);
  // Float32Array writes host order: little-endian on every platform Faiss packages ship for.
  const body = new Float32Array(bytes, HEADER);
  body.set(codewords);
  body.set(R, codewords.length);
  return Buffer.from(bytes);
}

function invalid(detail: string): TypeError {
  return new TypeError(`Expected a nanopq model (.npq) for buf, got ${detail}`);
}

export function readModel(buf: unknown): ModelFields {
  if (!(buf instanceof Uint8Array)) throw invalid(`a ${buf === null ? 'null' : typeof buf} value`);
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.length < HEADER || bytes.toString('latin1', 0, 8) !== MAGIC) {
    throw invalid(`${bytes.length} bytes that do not start with the magic "NANOPQ"`);
  }
  const version = bytes.readUInt32LE(8);
  if (version !== VERSION) throw invalid(`format version ${version}; this build reads version ${VERSION}`);
  const kind = kinds[bytes.readUInt8(12)];
  const metric = metrics[bytes.readUInt8(13)];
  if (!kind) throw invalid(`unknown model kind ${bytes.readUInt8(12)}`);
  if (!metric) throw invalid(`unknown metric ${bytes.readUInt8(13)}`);
  const M = bytes.readUInt32LE(16);
  const Ds = bytes.readUInt32LE(20);
  const Ks = Number(bytes.readBigUInt64LE(24));
  if (M < 1 || Ks < 1 || Ks > 2 ** 32) throw invalid(`M = ${M}, Ks = ${Ks}`);
  const D = M * Ds;
  const floats = M * Ks * Ds + (kind === 'OPQ' ? D * D : 0);
  const expected = HEADER + 4 * floats;
  if (bytes.length !== expected) {
    throw invalid(`${bytes.length} bytes where a ${kind} with M = ${M}, Ks = ${Ks}, Ds = ${Ds} takes ${expected}`);
  }
  // Copied out, so the model owns aligned arrays whatever the buffer's offset.
  const body = new Float32Array(floats);
  new Uint8Array(body.buffer).set(bytes.subarray(HEADER));
  const fitted = Ds > 0;
  return {
    kind, metric, M, Ks,
    Ds: fitted ? Ds : null,
    codewords: fitted ? body.subarray(0, M * Ks * Ds) : null,
    R: kind === 'OPQ' && fitted ? body.subarray(M * Ks * Ds) : null,
  };
}
