// An IndexIVFPQ file, as faiss::write_index (1.7.3) writes one, made from its
// parts: given codes in given lists under given ids, which Faiss's add() would
// encode again (and assign by its own quantizer). faiss.readIndex checks it
// whole (io/faiss-index.ts) and Faiss builds the index from it.
import type { Metric } from '../core/arrays';

/** One list: size rows of M one-byte codes (Faiss's 8-bit codes, unpacked as they are), and size ids. */
export interface IVFPQFileList { codes: Uint8Array; ids: ArrayLike<number> }

/** An IndexIVFPQ of 8-bit codes without residuals (by_residual 0), over a flat coarse quantizer. */
export interface IVFPQFileParts {
  d: number;
  metric: Metric;
  M: number;
  /** (nlist, d): the coarse quantizer's vectors. */
  centroids: Float32Array;
  /** (M, 256, d / M): the ProductQuantizer's centroids. */
  codewords: Float32Array;
  lists: IVFPQFileList[];
}

/** Little-endian fields, appended in order. */
class Fields {
  private readonly chunks: Uint8Array[] = [];

  private field(size: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(size);
    write(b);
    this.chunks.push(b);
  }

  tag(fourcc: string): void { this.chunks.push(Buffer.from(fourcc, 'latin1')); }
  u8(v: number): void { this.field(1, (b) => b.writeUInt8(v)); }
  i32(v: number): void { this.field(4, (b) => b.writeInt32LE(v)); }
  i64(v: number): void { this.field(8, (b) => b.writeBigInt64LE(BigInt(v))); }
  bytes(v: Uint8Array): void { this.chunks.push(v); }
  /** A std::vector<float>: its length, then its values (in the host's order: little-endian, as everywhere Faiss runs). */
  floats(v: Float32Array): void {
    this.i64(v.length);
    this.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }

  done(): Uint8Array { return Buffer.concat(this.chunks); }
}

/** What every index starts with: type, d, ntotal, two reserved fields, is_trained, metric_type. */
function header(f: Fields, tag: string, d: number, ntotal: number, metric: Metric): void {
  f.tag(tag);
  f.i32(d);
  f.i64(ntotal);
  f.i64(1 << 20);  // what Faiss writes in the reserved fields
  f.i64(1 << 20);
  f.u8(1);
  f.i32(metric === 'dot' ? 0 : 1);  // METRIC_INNER_PRODUCT 0, METRIC_L2 1
}

/** The bytes of the IndexIVFPQ of parts (nprobe 1, no direct map), for faiss.readIndex. */
export function ivfpqFileBytes(parts: IVFPQFileParts): Uint8Array {
  const { d, metric, M, centroids, codewords, lists } = parts;
  const nlist = lists.length;
  const ntotal = lists.reduce((n, list) => n + list.ids.length, 0);
  const f = new Fields();
  header(f, 'IwPQ', d, ntotal, metric);
  f.i64(nlist);
  f.i64(1);  // nprobe
  header(f, metric === 'dot' ? 'IxFI' : 'IxF2', d, nlist, metric);
  f.floats(centroids);
  f.u8(0);  // direct_map.type: none
  f.i64(0);  // direct_map.array: empty
  f.u8(0);  // by_residual
  f.i64(M);  // code_size: M bytes of 8-bit codes
  f.i64(d);  // pq.d, pq.M, pq.nbits, pq.centroids
  f.i64(M);
  f.i64(8);
  f.floats(codewords);
  f.tag('ilar');  // ArrayInvertedLists: nlist, code_size, the sizes in full, then each list's codes and ids
  f.i64(nlist);
  f.i64(M);
  f.tag('full');
  f.i64(nlist);
  for (const list of lists) f.i64(list.ids.length);
  for (const list of lists) {
    if (list.ids.length === 0) continue;
    f.bytes(list.codes);
    const ids = new BigInt64Array(list.ids.length);
    for (let i = 0; i < ids.length; i++) ids[i] = BigInt(list.ids[i]);
    f.bytes(new Uint8Array(ids.buffer));
  }
  return f.done();
}
