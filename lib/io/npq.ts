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
import { Metric } from '../core/arrays';
import { unshared } from '../core/validate';
import type { ModelFields, ModelKind } from './model-fields';
import { Reader } from './reader';

const MAGIC = 'NANOPQ\0\0';
const VERSION = 1;
const HEADER = 32;

const kinds: ModelKind[] = ['PQ', 'OPQ'];
const metrics: Metric[] = ['l2', 'dot'];

export function writeModel(model: ModelFields): Uint8Array {
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

const NPQ_FILE = 'a nanopq model (.npq)';

/** The fields of a .npq model; `source` (the argument or the file) is what errors name. */
export function readModel(buf: unknown, source = 'buf'): ModelFields {
  if (!(buf instanceof Uint8Array)) {
    throw new TypeError(`Expected ${NPQ_FILE} for ${source}, got a ${buf === null ? 'null' : typeof buf} value`);
  }
  // As owned: the codewords and R are views of buf when aligned (else copies), which the native model copies.
  const r = new Reader(unshared(buf), source, true);  // shared bytes copied: checked, then read again
  const invalid = (found: string, at?: number) => r.error(NPQ_FILE, found, at);
  r.formatHeader(NPQ_FILE, MAGIC, VERSION, HEADER, 'NANOPQ');
  const kind = kinds[r.u8('the model kind')];
  if (!kind) throw invalid(`unknown model kind ${buf[12]}`);
  const metric = metrics[r.u8('the metric')];
  if (!metric) throw invalid(`unknown metric ${buf[13]}`);
  r.skip(2, 'reserved bytes');
  const M = r.u32('M');
  const Ds = r.u32('Ds');
  const Ks = r.size64('Ks');
  if (M < 1 || Ks < 1 || Ks > 2 ** 32) throw invalid(`M = ${M}, Ks = ${Ks}`);
  const D = M * Ds;
  const floats = M * Ks * Ds + (kind === 'OPQ' ? D * D : 0);
  if (r.left !== 4 * floats) {
    throw invalid(`${buf.length} bytes where a ${kind} with M = ${M}, Ks = ${Ks}, Ds = ${Ds} takes ${HEADER + 4 * floats}`, HEADER);
  }
  const body = r.f32(floats, 'the codewords');
  const fitted = Ds > 0;
  return {
    kind, metric, M, Ks,
    Ds: fitted ? Ds : null,
    codewords: fitted ? body.subarray(0, M * Ks * Ds) : null,
    R: kind === 'OPQ' && fitted ? body.subarray(M * Ks * Ds) : null,
  };
}
