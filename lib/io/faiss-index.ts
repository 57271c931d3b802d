// Checks a Faiss index file before Faiss reads it. Faiss's reader trusts every
// size, count and number it reads (a short centroid table is read as it is,
// then searched out of bounds; a neighbor id past the graph is followed), so
// each is checked here, against the bytes left and against what the rest of
// the file says: the kinds in `sections`, as faiss::write_index (1.7.3) writes
// them, nested as Faiss nests them (IVF quantizers, HNSW storage, IndexIDMap,
// IndexPreTransform, IndexRefineFlat) at most MAX_DEPTH deep. One section per
// kind; the structures kinds share (the index header, ProductQuantizer,
// ScalarQuantizer, inverted lists, direct map, HNSW graph) have a helper each.
import { native } from '../core/native';
import { FLT_MAX, MAX_ABS_CODEWORD } from '../core/validate';
import { Reader } from './reader';

/** Bytes of one row of Faiss's bit-packed PQ codes: ceil(M * nbits / 8). */
export function packedCodeSize(M: number, nbits: number): number {
  return Math.ceil((M * nbits) / 8);
}

/** Index types a file may hold, by the four bytes Faiss writes first: the names in messages. */
const knownTypes: Record<string, string> = {
  IxF2: 'IndexFlatL2', IxFI: 'IndexFlatIP', IxFl: 'IndexFlat', IxPq: 'IndexPQ', IxSQ: 'IndexScalarQuantizer',
  IwFl: 'IndexIVFFlat', IwPQ: 'IndexIVFPQ', IwSq: 'IndexIVFScalarQuantizer', IPfs: 'IndexPQFastScan',
  IwPf: 'IndexIVFPQFastScan', IHNf: 'IndexHNSWFlat', IHNp: 'IndexHNSWPQ', IHNs: 'IndexHNSWSQ', IxMp: 'IndexIDMap',
  IxM2: 'IndexIDMap2', IxPT: 'IndexPreTransform', IxRF: 'IndexRefine',
  IwQR: 'IndexIVFPQR', IwSQ: 'IndexIVFScalarQuantizer (legacy format)', IxHe: 'IndexLSH', IxHE: 'IndexLSH (legacy format)',
  IxLS: 'IndexLocalSearchQuantizer', IxRq: 'IndexResidualQuantizer', IHN2: 'IndexHNSW2Level', IwFd: 'IndexIVFFlatDedup',
  IwSh: 'IndexIVFSpectralHash', Ix2L: 'Index2Layer', INSf: 'IndexNSGFlat', IxLa: 'IndexLattice', Imiq: 'MultiIndexQuantizer',
  IxPQ: 'IndexPQ (legacy format)', IxPo: 'IndexPQ (legacy polysemous format)', IvFl: 'IndexIVFFlat (legacy format)',
  IvPQ: 'IndexIVFPQ (legacy format)',
};

export type IndexType =
  | 'IndexFlat' | 'IndexPQ' | 'IndexScalarQuantizer' | 'IndexIVFFlat' | 'IndexIVFPQ' | 'IndexIVFScalarQuantizer'
  | 'IndexPQFastScan' | 'IndexIVFPQFastScan' | 'IndexHNSWFlat' | 'IndexHNSWPQ' | 'IndexHNSWSQ' | 'IndexIDMap'
  | 'IndexIDMap2' | 'IndexPreTransform' | 'IndexRefineFlat';

/** How deep indexes may nest (an IDMap over a PreTransform over an IVF has its quantizer at depth 4). */
const MAX_DEPTH = 8;
/** The most candidates an HNSW search or add keeps (efSearch, efConstruction, upper_beam), as IndexHNSW's setters take. */
const MAX_EF = 1e6;
/** IndexRefine searches its base index for k * k_factor results: a bound that keeps that a sane size. */
const MAX_K_FACTOR = 2 ** 20;

/** A type tag as it can be shown in a message. */
const printable = (tag: string) => tag.replace(/[^\x20-\x7e]/g, '?');

const FAISS_FILE = 'a Faiss index file';

/** The error for what was found at the field read last (or at byte at). */
const invalid = (r: Reader, found: string, at?: number) => r.error(FAISS_FILE, found, at);


/** A vector of float32 (count, then values) that must all be finite and within limit; returns the count. */
function finiteFloats(r: Reader, what: string, limit = FLT_MAX): number {
  const values = r.f32(r.size64(`the length of ${what}`), what);
  const i = native.firstOutOfRange(values, limit);
  if (i >= 0) throw invalid(r, `${values[i]} in ${what} (values must be finite, of magnitude <= ${limit})`);
  return values.length;
}

/** A C++ bool: a byte that must be 0 or 1 (any other is undefined behaviour when Faiss reads it). */
function bool(r: Reader, what: string): boolean {
  const v = r.u8(what);
  if (v > 1) throw invalid(r, `${what} = ${v} (a boolean must be 0 or 1)`);
  return v === 1;
}

/** A vector of bytes that must hold count elements of size bytes each. */
function codes(r: Reader, count: number, size: number, what: string, why: string): void {
  const n = r.size64(`the length of ${what}`);
  if (n !== count * size) throw invalid(r, `${n} bytes in ${what} where ${why} = ${count * size}`);
  r.skip(n, what);
}

const fourcc = (r: Reader, what = 'a type tag') => r.text(4, what);

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

// ---------------------------------------------------------------------------
// Shared structures

/** What every index starts with (after its tag). */
interface Header { tag: string; at: number; d: number; ntotal: number; trained: boolean; metric: number }

/** A checked index, as its container sees it. */
interface Part extends Header {
  kind: IndexType;
  /** An IndexFlat: the offset of its vectors. */
  vectorsAt?: number;
  /** An IndexPQ: pq.nbits. */
  nbits?: number;
  /** Whether each label a search returns is a row number, below ntotal (an IVF's or IDMap's ids may be anything). */
  rowLabels: boolean;
}

/** Where an index sits: the prefix of its fields' names ('' at the top, 'quantizer.' in an IVF), its depth; tags: the file's. */
interface Place { path: string; depth: number; tags: string[] }

function header(r: Reader, tag: string, at: number, p: string): Header {
  const d = r.i32(`${p}d`);
  if (d < 1) throw invalid(r, `${p}d = ${d}`);
  const ntotal = r.size64(`${p}ntotal`);
  const ntotalAt = r.offset - 8;
  r.size64('a reserved field');
  r.size64('a reserved field');
  const trained = bool(r, `${p}is_trained`);
  if (!trained && ntotal > 0) throw invalid(r, `${p}ntotal = ${ntotal} in an untrained index (is_trained = 0)`, ntotalAt);
  const metric = r.i32(`${p}metric_type`);
  if (metric !== 0 && metric !== 1) throw invalid(r, `${p}metric_type ${metric} (only METRIC_INNER_PRODUCT 0 and METRIC_L2 1 are supported)`);
  return { tag, at, d, ntotal, trained, metric };
}

/** An index nested in another agrees with it on d (or the d given), metric and ntotal. */
function agree(r: Reader, outer: Header, inner: Part, name: string, d = outer.d, dWhat = `d = ${d}`): void {
  if (inner.d !== d) throw invalid(r, `${name}.d = ${inner.d} where ${dWhat}`, inner.at);
  if (inner.metric !== outer.metric) throw invalid(r, `${name}.metric_type = ${inner.metric} where metric_type = ${outer.metric}`, inner.at);
  if (inner.ntotal !== outer.ntotal) throw invalid(r, `${name}.ntotal = ${inner.ntotal} where ntotal = ${outer.ntotal}`, inner.at);
}

/** A ProductQuantizer (d, M, nbits, centroids) for vectors of d dimensions; fastScan: nbits must be 4. */
function productQuantizer(r: Reader, d: number, p: string, fastScan = false): { M: number; nbits: number; codeSize: number } {
  const pqD = r.size64(`${p}pq.d`);
  if (pqD !== d) throw invalid(r, `${p}pq.d = ${pqD} where d = ${d}`);
  const M = r.size64(`${p}pq.M`);
  if (M < 1 || d % M !== 0) throw invalid(r, `${p}pq.M = ${M}, which does not divide d = ${d}`);
  const nbits = r.size64(`${p}pq.nbits`);
  if (nbits < 1 || nbits > 16) throw invalid(r, `${p}pq.nbits = ${nbits} (1 to 16 are supported)`);
  if (fastScan && nbits !== 4) throw invalid(r, `${p}pq.nbits = ${nbits} in a fast-scan index (only 4 is supported)`);
  const centroids = finiteFloats(r, `${p}pq.centroids`, MAX_ABS_CODEWORD);
  if (centroids !== d * 2 ** nbits) throw invalid(r, `${centroids} floats in ${p}pq.centroids where d * 2**nbits = ${d * 2 ** nbits}`);
  return { M, nbits, codeSize: packedCodeSize(M, nbits) };
}

/** ScalarQuantizer types, by qtype: the bytes of a code of d components, and the trained floats (vmin, vdiff) it needs. */
const sqTypes: { name: string; codeSize: (d: number) => number; trained: (d: number) => number }[] = [
  { name: 'QT_8bit', codeSize: (d) => d, trained: (d) => 2 * d },
  { name: 'QT_4bit', codeSize: (d) => Math.floor((d + 1) / 2), trained: (d) => 2 * d },
  { name: 'QT_8bit_uniform', codeSize: (d) => d, trained: () => 2 },
  { name: 'QT_4bit_uniform', codeSize: (d) => Math.floor((d + 1) / 2), trained: () => 2 },
  { name: 'QT_fp16', codeSize: (d) => 2 * d, trained: () => 0 },
  { name: 'QT_8bit_direct', codeSize: (d) => d, trained: () => 0 },
  { name: 'QT_6bit', codeSize: (d) => Math.floor((d * 6 + 7) / 8), trained: (d) => 2 * d },
];

/** A ScalarQuantizer for the index h; returns its code size. */
function scalarQuantizer(r: Reader, h: Header, p: string): number {
  const qtype = r.i32(`${p}sq.qtype`);
  const type = sqTypes[qtype];
  if (!type) throw invalid(r, `${p}sq.qtype = ${qtype} (0 to ${sqTypes.length - 1} are the types)`);
  const rangestat = r.i32(`${p}sq.rangestat`);
  if (rangestat < 0 || rangestat > 3) throw invalid(r, `${p}sq.rangestat = ${rangestat} (0 to 3 are the statistics)`);
  const arg = r.float(`${p}sq.rangestat_arg`);
  if (!Number.isFinite(arg)) throw invalid(r, `${p}sq.rangestat_arg = ${arg}`);
  const d = r.size64(`${p}sq.d`);
  if (d !== h.d) throw invalid(r, `${p}sq.d = ${d} where d = ${h.d}`);
  const codeSize = r.size64(`${p}sq.code_size`);
  if (codeSize !== type.codeSize(d)) throw invalid(r, `${p}sq.code_size = ${codeSize} where a ${type.name} code of d = ${d} is ${type.codeSize(d)} bytes`);
  const trained = finiteFloats(r, `${p}sq.trained`);
  // An untrained quantizer is written with none.
  if (trained !== type.trained(d) && (trained !== 0 || h.trained)) {
    throw invalid(r, `${trained} floats in ${p}sq.trained where a trained ${type.name} of d = ${d} has ${type.trained(d)}`);
  }
  return codeSize;
}

/** The lists of an IVF index: each one's size, and where its ids are. */
interface Lists { sizes: number[]; idsAt: number[] }

const listTypes: Record<string, string> = {
  ilar: 'ArrayInvertedLists', ilbl: 'BlockInvertedLists', ilod: 'OnDiskInvertedLists, whose data are in another file',
  il00: 'no lists: an IVF index read without them crashes when used',
};

function listsTag(r: Reader, want: string, p: string): void {
  const tag = fourcc(r, `the type of ${p}invlists`);
  if (tag === want) return;
  const name = listTypes[tag];
  throw invalid(r, `${p}invlists of type '${printable(tag)}'${name ? ` (${name})` : ''} where this kind has ${listTypes[want]} ('${want}')`);
}

/** ArrayInvertedLists ('ilar'): sizes (in full, or sparse as (list, size) pairs), then each list's codes and ids. */
function arrayLists(r: Reader, h: Header, nlist: number, codeSize: number, p: string): Lists {
  const il = `${p}invlists`;
  listsTag(r, 'ilar', p);
  const n = r.size64(`${il}.nlist`);
  if (n !== nlist) throw invalid(r, `${il}.nlist = ${n} where nlist = ${nlist}`);
  const cs = r.size64(`${il}.code_size`);
  if (cs !== codeSize) throw invalid(r, `${il}.code_size = ${cs} where the code size is ${codeSize}`);
  const sizes: number[] = new Array(nlist).fill(0);
  const layout = fourcc(r, `the layout of ${il}.sizes`);
  const sizesAt = r.offset;
  if (layout === 'full') {
    const count = r.size64(`the length of ${il}.sizes`);
    if (count !== nlist) throw invalid(r, `${count} list sizes in ${il}.sizes where nlist = ${nlist}`);
    for (let i = 0; i < nlist; i++) sizes[i] = r.size64(`${il}.sizes[${i}]`);
  } else if (layout === 'sprs') {
    // Faiss writes (list, size) for each list that is not empty, in order.
    const count = r.size64(`the length of ${il}.sizes`);
    if (count % 2 !== 0) throw invalid(r, `${count} numbers in the sparse ${il}.sizes (pairs of list and size)`);
    let last = -1;
    for (let j = 0; j < count; j += 2) {
      const list = r.size64(`${il}.sizes[${j}]`);
      if (list <= last || list >= nlist) throw invalid(r, `list ${list} in the sparse ${il}.sizes after list ${last} (lists are in order, below nlist = ${nlist})`);
      sizes[list] = r.size64(`${il}.sizes[${j + 1}]`);
      last = list;
    }
  } else {
    throw invalid(r, `'${printable(layout)}' as the layout of ${il}.sizes ('full' or 'sprs')`);
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== h.ntotal) throw invalid(r, `${il}.sizes summing to ${total} where ntotal = ${h.ntotal}`, sizesAt);
  const idsAt: number[] = new Array(nlist).fill(-1);
  for (let i = 0; i < nlist; i++) {
    if (sizes[i] === 0) continue;
    r.skip(sizes[i] * codeSize, `the codes of list ${i} in ${il}`);
    idsAt[i] = r.offset;
    r.skip(sizes[i] * 8, `the ids of list ${i} in ${il}`);
  }
  return { sizes, idsAt };
}

/** BlockInvertedLists ('ilbl', fast scan's): per list its ids, then its codes packed in blocks of bbs vectors. */
function blockLists(r: Reader, h: Header, nlist: number, bbs: number, M2: number, p: string): Lists {
  const il = `${p}invlists`;
  listsTag(r, 'ilbl', p);
  const n = r.size64(`${il}.nlist`);
  if (n !== nlist) throw invalid(r, `${il}.nlist = ${n} where nlist = ${nlist}`);
  const cs = r.u64(`${il}.code_size`);
  // Block lists have no code size: Faiss writes InvertedLists::INVALID_CODE_SIZE, (size_t)-1.
  if (cs !== 2n ** 64n - 1n && cs !== BigInt(M2 / 2)) throw invalid(r, `${il}.code_size = ${cs} (block lists have ${2n ** 64n - 1n}, INVALID_CODE_SIZE)`);
  const perBlock = r.size64(`${il}.n_per_block`);
  if (perBlock !== bbs) throw invalid(r, `${il}.n_per_block = ${perBlock} where bbs = ${bbs}`);
  const blockSize = r.size64(`${il}.block_size`);
  if (blockSize !== (bbs * M2) / 2) throw invalid(r, `${il}.block_size = ${blockSize} where bbs * M2 / 2 = ${(bbs * M2) / 2}`);
  const listsAt = r.offset;
  const sizes: number[] = [];
  const idsAt: number[] = [];
  for (let i = 0; i < nlist; i++) {
    const size = r.size64(`the length of ${il}.ids[${i}]`);
    idsAt.push(r.offset);
    r.skip(size * 8, `${il}.ids[${i}]`);
    sizes.push(size);
    const blocks = Math.ceil(size / bbs);
    codes(r, blocks, blockSize, `${il}.codes[${i}]`, `its ${size} ids in blocks of ${bbs}: ${blocks} blocks * block_size`);
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== h.ntotal) throw invalid(r, `lists of ${il} holding ${total} ids where ntotal = ${h.ntotal}`, listsAt);
  return { sizes, idsAt };
}

/** An IVF index's direct map: type (0 none, 1 array, 2 hashtable), the array, and for a hashtable its (id, entry) pairs. */
interface DirectMap { type: number; at: number; array: BigInt64Array; pairs: BigInt64Array | null }

function directMap(r: Reader, h: Header, p: string): DirectMap {
  const dm = `${p}direct_map`;
  const type = r.u8(`${dm}.type`);
  if (type > 2) throw invalid(r, `${dm}.type = ${type} (0 NoMap, 1 Array and 2 Hashtable are the types)`);
  const n = r.size64(`the length of ${dm}.array`);
  const at = r.offset;
  if (n !== (type === 1 ? h.ntotal : 0)) throw invalid(r, `${n} entries in ${dm}.array where ${type === 1 ? `ntotal = ${h.ntotal}` : `a direct map of type ${type} has none`}`);
  const array = r.array(BigInt64Array, n, `${dm}.array`);
  if (type !== 2) return { type, at, array, pairs: null };
  const m = r.size64(`the length of ${dm}.hashtable`);
  if (m !== h.ntotal) throw invalid(r, `${m} entries in ${dm}.hashtable where ntotal = ${h.ntotal}`);
  return { type, at: r.offset, array, pairs: r.array(BigInt64Array, 2 * m, `${dm}.hashtable`) };
}

/** Each entry of the direct map is -1 (an array's only) or (list << 32 | offset) of that very id in the lists. */
function checkDirectMap(r: Reader, map: DirectMap, lists: Lists, p: string): void {
  if (map.type === 0) return;
  const view = new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
  const hashtable = map.pairs !== null;
  const count = hashtable ? map.pairs!.length / 2 : map.array.length;
  for (let i = 0; i < count; i++) {
    const id = hashtable ? map.pairs![2 * i] : BigInt(i);
    const entry = hashtable ? map.pairs![2 * i + 1] : map.array[i];
    const at = map.at + (hashtable ? 16 * i + 8 : 8 * i);
    if (entry === -1n && !hashtable) continue;
    const list = Number(entry >> 32n);
    const offset = Number(entry & 0xffffffffn);
    const name = `${p}direct_map.${hashtable ? 'hashtable' : 'array'}[${i}]`;
    if (entry < 0n || list >= lists.sizes.length || offset >= lists.sizes[list]) {
      throw invalid(r, `${name} = ${entry} (list ${list}, offset ${offset}), which is not in the lists`, at);
    }
    const found = view.getBigInt64(lists.idsAt[list] + 8 * offset, true);
    if (found !== id) throw invalid(r, `${name} pointing at id ${found} for id ${id}`, at);
  }
}

/** The direct map checked against the lists; whether every id in the lists is a row number. */
function ivfLists(r: Reader, h: Header, map: DirectMap, lists: Lists, p: string): Partial<Part> {
  checkDirectMap(r, map, lists, p);
  const view = new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
  let rowLabels = true;
  lists.sizes.forEach((size, l) => {
    for (let i = 0; i < size && rowLabels; i++) {
      const id = view.getBigInt64(lists.idsAt[l] + 8 * i, true);
      rowLabels = id >= 0n && id < BigInt(h.ntotal);
    }
  });
  return { rowLabels };
}

/** An index whose labels another reads as row numbers (an IDMap's of its index, a refine's of its base). */
function labelsAreRows(r: Reader, inner: Part, name: string, why: string): void {
  if (!inner.rowLabels) throw invalid(r, `${name} with ids that are not its row numbers (0 to ntotal - 1), where ${why}`, inner.at);
}

/** What an IVF index has before its own fields: nlist, nprobe, the quantizer, the direct map. */
function ivfHeader(r: Reader, h: Header, place: Place): { nlist: number; map: DirectMap; quantizer: Part } {
  const p = place.path;
  const nlist = r.size64(`${p}nlist`);
  if (nlist < 1) throw invalid(r, `${p}nlist = ${nlist}`);
  const nprobe = r.size64(`${p}nprobe`);
  if (nprobe < 1) throw invalid(r, `${p}nprobe = ${nprobe}`);
  // IndexIVF's search visits min(nprobe, nlist) lists; fast scan's takes nprobe as it is (and never ends on 2**31).
  if (h.tag === 'IwPf' && nprobe > nlist) throw invalid(r, `${p}nprobe = ${nprobe} where nlist = ${nlist} (a fast-scan IVF visits nprobe lists)`);
  const q = index(r, { ...place, path: `${p}quantizer.`, depth: place.depth + 1 });
  if (q.d !== h.d) throw invalid(r, `${p}quantizer.d = ${q.d} where d = ${h.d}`, q.at);
  // Faiss looks up lists by what the quantizer returns, and reconstructs centroids 0..nlist-1 from it.
  if (q.ntotal !== nlist && (q.ntotal !== 0 || h.trained)) {
    throw invalid(r, `${p}quantizer.ntotal = ${q.ntotal} where nlist = ${nlist}`, q.at);
  }
  if (q.vectorsAt !== undefined) {
    const centroids = new Float32Array(q.ntotal * q.d);
    new Uint8Array(centroids.buffer).set(r.bytes.subarray(q.vectorsAt, q.vectorsAt + centroids.byteLength));
    const i = native.firstOutOfRange(centroids, FLT_MAX);
    if (i >= 0) throw invalid(r, `${centroids[i]} in ${p}quantizer.codes (centroids must be finite)`, q.vectorsAt + 4 * i);
  }
  return { nlist, map: directMap(r, h, p), quantizer: q };
}

/** An HNSW graph of h.ntotal nodes: the per-level layout, each node's level and neighbors, the entry point. */
function hnswGraph(r: Reader, h: Header, p: string): void {
  const g = `${p}hnsw`;
  const nProbas = r.size64(`the length of ${g}.assign_probas`);
  if (nProbas < 1) throw invalid(r, `${nProbas} entries in ${g}.assign_probas (at least one level)`);
  const probas = r.array(Float64Array, nProbas, `${g}.assign_probas`);
  const badProba = probas.findIndex((v) => !(v >= 0 && v <= 1));
  if (badProba >= 0) throw invalid(r, `${g}.assign_probas[${badProba}] = ${probas[badProba]} (a probability)`);

  // cum[l] is where level l's neighbors begin in a node's slice of neighbors: one more entry than levels.
  const nCum = r.size64(`the length of ${g}.cum_nneighbor_per_level`);
  if (nCum !== nProbas + 1) throw invalid(r, `${nCum} entries in ${g}.cum_nneighbor_per_level where assign_probas has ${nProbas} + 1`);
  const cumAt = r.offset;
  const cum = r.array(Int32Array, nCum, `${g}.cum_nneighbor_per_level`);
  for (let l = 0; l < nCum; l++) {
    if (l === 0 ? cum[0] !== 0 : cum[l] < cum[l - 1]) {
      throw invalid(r, `${g}.cum_nneighbor_per_level[${l}] = ${cum[l]} (it starts at 0 and never decreases)`, cumAt + 4 * l);
    }
  }

  const nLevels = r.size64(`the length of ${g}.levels`);
  if (nLevels !== h.ntotal) throw invalid(r, `${nLevels} entries in ${g}.levels where ntotal = ${h.ntotal}`);
  const levelsAt = r.offset;
  const levels = r.array(Int32Array, nLevels, `${g}.levels`);
  let top = 0;
  for (let i = 0; i < nLevels; i++) {
    if (levels[i] < 1 || levels[i] >= nCum) throw invalid(r, `${g}.levels[${i}] = ${levels[i]} (1 to ${nCum - 1}, the levels of cum_nneighbor_per_level)`, levelsAt + 4 * i);
    top = Math.max(top, levels[i]);
  }

  const nOffsets = r.size64(`the length of ${g}.offsets`);
  if (nOffsets !== h.ntotal + 1) throw invalid(r, `${nOffsets} entries in ${g}.offsets where ntotal + 1 = ${h.ntotal + 1}`);
  const offsets: number[] = [];
  for (let i = 0; i <= h.ntotal; i++) {
    const o = r.size64(`${g}.offsets[${i}]`);
    // Node i has cum[levels[i]] neighbor slots, from offsets[i].
    const want = i === 0 ? 0 : offsets[i - 1] + cum[levels[i - 1]];
    if (o !== want) throw invalid(r, `${g}.offsets[${i}] = ${o} where ${i === 0 ? 'the first is 0' : `offsets[${i - 1}] + cum_nneighbor_per_level[levels[${i - 1}]] = ${want}`}`);
    offsets.push(o);
  }
  const nNeighbors = r.size64(`the length of ${g}.neighbors`);
  if (nNeighbors !== offsets[h.ntotal]) throw invalid(r, `${nNeighbors} entries in ${g}.neighbors where offsets[ntotal] = ${offsets[h.ntotal]}`);
  const neighborsAt = r.offset;
  const neighbors = r.array(Int32Array, nNeighbors, `${g}.neighbors`);
  // A neighbor at level l > 0 is a node that has level l too: Faiss reads its slice at that level.
  for (let i = 0; i < h.ntotal; i++) {
    for (let l = 0; l < levels[i]; l++) {
      for (let j = offsets[i] + cum[l]; j < offsets[i] + cum[l + 1]; j++) {
        const v = neighbors[j];
        if (v === -1) continue;
        if (v < -1 || v >= h.ntotal || levels[v] <= l) {
          const why = v < -1 || v >= h.ntotal ? `ids are -1 or below ntotal = ${h.ntotal}` : `node ${v} has ${levels[v]} levels`;
          throw invalid(r, `${g}.neighbors[${j}] = ${v} as a level-${l} neighbor of node ${i} (${why})`, neighborsAt + 4 * j);
        }
      }
    }
  }

  const entry = r.i32(`${g}.entry_point`);
  const entryAt = r.offset - 4;
  const maxLevel = r.i32(`${g}.max_level`);
  if (maxLevel !== top - 1) throw invalid(r, `${g}.max_level = ${maxLevel} where the highest of levels is ${top} (max_level = ${top - 1})`);
  if (h.ntotal === 0 ? entry !== -1 : entry < 0 || entry >= h.ntotal || levels[entry] !== top) {
    const want = h.ntotal === 0 ? '-1 in an empty graph' : `a node below ntotal = ${h.ntotal} on the top level, ${top}`;
    throw invalid(r, `${g}.entry_point = ${entry} (${want})`, entryAt);
  }
  // Faiss sizes a search's (or an add's) candidate heaps by these: 1e6 at most, as the efSearch setter takes.
  for (const field of ['efConstruction', 'efSearch', 'upper_beam']) {
    const v = r.i32(`${g}.${field}`);
    if (v < 1 || v > MAX_EF) throw invalid(r, `${g}.${field} = ${v} (1 to ${MAX_EF})`);
  }
}

/** A query block size of fast scan: 0 (Faiss's default), or hex digits of 1 to 4 queries each, or 5 or 6 alone. */
function queryBlocks(qbs: number): boolean {
  if (qbs === 0 || qbs === 5 || qbs === 6) return true;
  for (let q = qbs; q > 0; q >>= 4) if ((q & 15) < 1 || (q & 15) > 4) return false;
  return qbs > 0;
}

/**
 * Fast scan's block size: vectors are packed bbs at a time. Faiss 1.7.3's
 * search has kernels for 32 to 160 (by 32) in an IVF, and for 32 alone in an
 * IndexPQFastScan (but for a few queries): another aborts the process ("bbs not instantiated").
 */
function blockSize(r: Reader, p: string, ivf: boolean): number {
  const bbs = r.i32(`${p}bbs`);
  if (ivf ? !(bbs >= 32 && bbs <= 160 && bbs % 32 === 0) : bbs !== 32) {
    throw invalid(r, `${p}bbs = ${bbs} (${ivf ? '32, 64, 96, 128 or 160 in an IndexIVFPQFastScan' : 'only 32 in an IndexPQFastScan'})`);
  }
  return bbs;
}

/** An int that must be one of values. */
function oneOf(r: Reader, what: string, values: number[]): number {
  const v = r.i32(what);
  if (!values.includes(v)) throw invalid(r, `${what} = ${v} (${values.join(', ')} are the ones Faiss runs on a read index)`);
  return v;
}

/** A transform in IndexPreTransform's chain: returns d_in, d_out. */
function transform(r: Reader, p: string, tags: string[]): { dIn: number; dOut: number; dInAt: number } {
  const tag = fourcc(r, `the type of ${p.slice(0, -1)}`);
  tags.push(tag);
  const linear = tag === 'LTra' || tag === 'rrot' || tag === 'Pcam';
  let pca: { mean: number; eigenvalues: number; PCAMat: number; at: number } | null = null;
  let haveBias = false;
  let a = 0;
  let b = 0;
  if (tag === 'Pcam') {
    for (const field of ['eigen_power', 'epsilon']) {
      const v = r.float(`${p}${field}`);
      if (!Number.isFinite(v)) throw invalid(r, `${p}${field} = ${v}`);
    }
    bool(r, `${p}random_rotation`);
    const bins = r.i32(`${p}balanced_bins`);
    if (bins < 0) throw invalid(r, `${p}balanced_bins = ${bins}`);
    const at = r.offset;
    pca = { mean: finiteFloats(r, `${p}mean`), eigenvalues: finiteFloats(r, `${p}eigenvalues`), PCAMat: finiteFloats(r, `${p}PCAMat`), at };
  } else if (tag === 'VNrm') {
    const norm = r.float(`${p}norm`);
    if (norm !== 2) throw invalid(r, `${p}norm = ${norm} (Faiss applies only the L2 norm, 2)`);
  } else if (!linear) {
    throw invalid(r, `a transform of type '${printable(tag)}' (the transforms read are LinearTransform and OPQMatrix 'LTra', RandomRotationMatrix 'rrot', PCAMatrix 'Pcam' and NormalizationTransform 'VNrm')`);
  }
  if (linear) {
    haveBias = bool(r, `${p}have_bias`);
    a = finiteFloats(r, `${p}A`);
    b = finiteFloats(r, `${p}b`);
  }
  const dIn = r.i32(`${p}d_in`);
  const dInAt = r.offset - 4;
  const dOut = r.i32(`${p}d_out`);
  const trained = bool(r, `${p}is_trained`);
  if (dIn < 1 || dOut < 1) throw invalid(r, `${p}d_in = ${dIn}, d_out = ${dOut}`, dInAt);
  if (tag === 'VNrm' && dOut !== dIn) throw invalid(r, `${p}d_out = ${dOut} where a NormalizationTransform's d_in = ${dIn}`, dInAt + 4);
  // An untrained linear transform is written with empty A and b.
  const sizes = trained ? a === dIn * dOut && b === (haveBias ? dOut : 0) : a === 0 && b === 0;
  if (linear && !sizes) {
    throw invalid(r, `a linear transform with ${p}d_in = ${dIn}, ${p}d_out = ${dOut}, ${a} floats in ${p}A and ${b} in ${p}b`, dInAt);
  }
  if (pca) {
    const ok = trained
      ? pca.mean === dIn && pca.eigenvalues === dIn && pca.PCAMat >= dIn * dOut && pca.PCAMat % dIn === 0
      : pca.mean === 0 && pca.eigenvalues === 0 && pca.PCAMat === 0;
    if (!ok) throw invalid(r, `a PCAMatrix with ${p}d_in = ${dIn}, ${p}d_out = ${dOut} and ${pca.mean} floats in ${p}mean, ${pca.eigenvalues} in ${p}eigenvalues, ${pca.PCAMat} in ${p}PCAMat`, pca.at);
  }
  return { dIn, dOut, dInAt };
}

// ---------------------------------------------------------------------------
// One section per kind: what follows the header. Each returns what its container checks.

type Section = (r: Reader, h: Header, place: Place) => Partial<Part> | void;

function indexFlat(r: Reader, h: Header, { path: p }: Place): Partial<Part> {
  const want = h.tag === 'IxF2' ? 1 : h.tag === 'IxFI' ? 0 : h.metric;
  if (h.metric !== want) throw invalid(r, `${p}metric_type = ${h.metric} in an index of type '${h.tag}' (${knownTypes[h.tag]})`, h.at);
  // Faiss writes a flat index's codes as a vector of float32: its length counts floats.
  const floats = r.size64(`the length of ${p}codes`);
  if (floats !== h.ntotal * h.d) throw invalid(r, `${floats} floats in ${p}codes where ntotal * d = ${h.ntotal * h.d}`);
  const vectorsAt = r.offset;
  r.skip(floats * 4, `${p}codes`);
  return { vectorsAt };
}

function indexPQ(r: Reader, h: Header, { path: p }: Place): Partial<Part> {
  const pq = productQuantizer(r, h.d, p);
  codes(r, h.ntotal, pq.codeSize, `${p}codes`, 'ntotal * code_size');
  const searchType = r.i32(`${p}search_type`);
  if (searchType !== 0) throw invalid(r, `${p}search_type ${searchType} (only ST_PQ 0 is supported)`);
  bool(r, `${p}encode_signs`);
  r.i32(`${p}polysemous_ht`);
  return { nbits: pq.nbits };
}

function indexScalarQuantizer(r: Reader, h: Header, { path: p }: Place): void {
  const codeSize = scalarQuantizer(r, h, p);
  codes(r, h.ntotal, codeSize, `${p}codes`, 'ntotal * sq.code_size');
}

function indexIVFFlat(r: Reader, h: Header, place: Place): Partial<Part> {
  const { nlist, map } = ivfHeader(r, h, place);
  return ivfLists(r, h, map, arrayLists(r, h, nlist, h.d * 4, place.path), place.path);
}

/** A code_size field that must be what the quantizer read after it says. */
function codeSizeField(r: Reader, p: string): { codeSize: number; at: number } {
  const codeSize = r.size64(`${p}code_size`);
  return { codeSize, at: r.offset - 8 };
}

function expectCodeSize(r: Reader, field: { codeSize: number; at: number }, want: number, p: string, why: string): void {
  if (field.codeSize !== want) throw invalid(r, `${p}code_size = ${field.codeSize} where ${why} = ${want}`, field.at);
}

function indexIVFPQ(r: Reader, h: Header, place: Place): Partial<Part> {
  const p = place.path;
  const { nlist, map } = ivfHeader(r, h, place);
  bool(r, `${p}by_residual`);
  const field = codeSizeField(r, p);
  const pq = productQuantizer(r, h.d, p);
  expectCodeSize(r, field, pq.codeSize, p, 'pq.code_size, ceil(M * nbits / 8),');
  return ivfLists(r, h, map, arrayLists(r, h, nlist, pq.codeSize, p), p);
}

function indexIVFScalarQuantizer(r: Reader, h: Header, place: Place): Partial<Part> {
  const p = place.path;
  const { nlist, map } = ivfHeader(r, h, place);
  const codeSize = scalarQuantizer(r, h, p);
  expectCodeSize(r, codeSizeField(r, p), codeSize, p, 'sq.code_size');
  bool(r, `${p}by_residual`);
  return ivfLists(r, h, map, arrayLists(r, h, nlist, codeSize, p), p);
}

function indexPQFastScan(r: Reader, h: Header, { path: p }: Place): void {
  const pq = productQuantizer(r, h.d, p, true);
  oneOf(r, `${p}implem`, [0, 12, 13, 14, 15]);
  const bbs = blockSize(r, p, false);
  const qbs = r.i32(`${p}qbs`);
  if (!queryBlocks(qbs)) throw invalid(r, `${p}qbs = ${qbs} (0, or hex digits of 1 to 4 queries)`);
  const ntotal2 = r.size64(`${p}ntotal2`);
  if (ntotal2 !== roundUp(h.ntotal, bbs)) throw invalid(r, `${p}ntotal2 = ${ntotal2} where ntotal rounded up to bbs = ${roundUp(h.ntotal, bbs)}`);
  const M2 = r.size64(`${p}M2`);
  if (M2 !== roundUp(pq.M, 2)) throw invalid(r, `${p}M2 = ${M2} where pq.M rounded up to even = ${roundUp(pq.M, 2)}`);
  codes(r, ntotal2, M2 / 2, `${p}codes`, 'ntotal2 * M2 / 2');
}

function indexIVFPQFastScan(r: Reader, h: Header, place: Place): Partial<Part> {
  const p = place.path;
  const { nlist, map } = ivfHeader(r, h, place);
  bool(r, `${p}by_residual`);
  const field = codeSizeField(r, p);
  const bbs = blockSize(r, p, true);
  const M2 = r.size64(`${p}M2`);
  const M2At = r.offset - 8;
  oneOf(r, `${p}implem`, [0, 10, 11, 12, 13, 14, 15]);
  const qbs2 = r.size64(`${p}qbs2`);
  if (qbs2 > 2 ** 31 - 1) throw invalid(r, `${p}qbs2 = ${qbs2} (Faiss takes it as an int)`);
  const pq = productQuantizer(r, h.d, p, true);
  if (M2 !== roundUp(pq.M, 2)) throw invalid(r, `${p}M2 = ${M2} where pq.M rounded up to even = ${roundUp(pq.M, 2)}`, M2At);
  expectCodeSize(r, field, pq.codeSize, p, 'pq.code_size, ceil(M * nbits / 8),');
  return ivfLists(r, h, map, blockLists(r, h, nlist, bbs, M2, p), p);
}

/** Each HNSW kind's storage. */
const hnswStorage: Record<string, IndexType> = { IHNf: 'IndexFlat', IHNp: 'IndexPQ', IHNs: 'IndexScalarQuantizer' };

function indexHNSW(r: Reader, h: Header, place: Place): void {
  const p = place.path;
  hnswGraph(r, h, p);
  const storage = index(r, { ...place, path: `${p}storage.`, depth: place.depth + 1 });
  const want = hnswStorage[h.tag];
  if (storage.kind !== want) throw invalid(r, `${p}storage of kind ${storage.kind} in an index of type '${h.tag}' (${knownTypes[h.tag]}), whose storage is an ${want}`, storage.at);
  agree(r, h, storage, `${p}storage`);
  // Faiss builds IndexHNSWPQ's table of M * 2**nbits * 2**nbits distances as it reads one.
  if (storage.nbits !== undefined && storage.nbits > 8) throw invalid(r, `${p}storage.pq.nbits = ${storage.nbits} in an IndexHNSWPQ (up to 8 are supported)`, storage.at);
}

function indexIDMap(r: Reader, h: Header, place: Place): Partial<Part> {
  const p = place.path;
  const inner = index(r, { ...place, path: `${p}index.`, depth: place.depth + 1 });
  agree(r, h, inner, `${p}index`);
  labelsAreRows(r, inner, `${p}index`, 'the id map looks them up');
  const n = r.size64(`the length of ${p}id_map`);
  if (n !== h.ntotal) throw invalid(r, `${n} ids in ${p}id_map where ntotal = ${h.ntotal}`);
  const at = r.offset;
  const ids = r.array(BigInt64Array, n, `${p}id_map`);
  // IndexIDMap2 maps ids back to rows: no id twice.
  if (h.tag === 'IxM2') {
    const sorted = BigInt64Array.from(ids).sort();
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i] === sorted[i - 1]) throw invalid(r, `id ${sorted[i]} twice in ${p}id_map of an IndexIDMap2`, at + 8 * ids.indexOf(sorted[i]));
    }
  }
  return { rowLabels: ids.every((id) => id >= 0n && id < BigInt(h.ntotal)) };
}

function indexPreTransform(r: Reader, h: Header, place: Place): Partial<Part> {
  const p = place.path;
  const nt = r.i32(`${p}the number of transforms`);
  if (nt < 1 || nt > 16) throw invalid(r, `${nt} transforms`);
  let dim = h.d;
  let dimWhat = 'd';
  for (let i = 0; i < nt; i++) {
    const { dIn, dOut, dInAt } = transform(r, `${p}chain[${i}].`, place.tags);
    if (dIn !== dim) throw invalid(r, `${p}chain[${i}].d_in = ${dIn} where ${dimWhat} = ${dim}`, dInAt);
    dim = dOut;
    dimWhat = `chain[${i}].d_out`;
  }
  const inner = index(r, { ...place, path: `${p}index.`, depth: place.depth + 1 });
  agree(r, h, inner, `${p}index`, dim, `${dimWhat} = ${dim}`);
  return { rowLabels: inner.rowLabels };
}

function indexRefineFlat(r: Reader, h: Header, place: Place): void {
  const p = place.path;
  const base = index(r, { ...place, path: `${p}base_index.`, depth: place.depth + 1 });
  agree(r, h, base, `${p}base_index`);
  labelsAreRows(r, base, `${p}base_index`, 'the refine index reads its vectors by them');
  const refine = index(r, { ...place, path: `${p}refine_index.`, depth: place.depth + 1 });
  if (refine.kind !== 'IndexFlat') throw invalid(r, `${p}refine_index of kind ${refine.kind} (only IndexRefineFlat, whose refine index is an IndexFlat, is supported)`, refine.at);
  agree(r, h, refine, `${p}refine_index`);
  const kFactor = r.float(`${p}k_factor`);
  // Faiss searches the base for k * k_factor results and reads k of them.
  if (!(kFactor >= 1 && kFactor <= MAX_K_FACTOR)) throw invalid(r, `${p}k_factor = ${kFactor} (1 to ${MAX_K_FACTOR})`);
}

/** The kinds, by the tag Faiss writes first: each one's section of the checker. */
const sections = new Map<string, [IndexType, Section]>([
  ['IxF2', ['IndexFlat', indexFlat]],
  ['IxFI', ['IndexFlat', indexFlat]],
  ['IxFl', ['IndexFlat', indexFlat]],
  ['IxPq', ['IndexPQ', indexPQ]],
  ['IxSQ', ['IndexScalarQuantizer', indexScalarQuantizer]],
  ['IwFl', ['IndexIVFFlat', indexIVFFlat]],
  ['IwPQ', ['IndexIVFPQ', indexIVFPQ]],
  ['IwSq', ['IndexIVFScalarQuantizer', indexIVFScalarQuantizer]],
  ['IPfs', ['IndexPQFastScan', indexPQFastScan]],
  ['IwPf', ['IndexIVFPQFastScan', indexIVFPQFastScan]],
  ['IHNf', ['IndexHNSWFlat', indexHNSW]],
  ['IHNp', ['IndexHNSWPQ', indexHNSW]],
  ['IHNs', ['IndexHNSWSQ', indexHNSW]],
  ['IxMp', ['IndexIDMap', indexIDMap]],
  ['IxM2', ['IndexIDMap2', indexIDMap]],
  ['IxPT', ['IndexPreTransform', indexPreTransform]],
  ['IxRF', ['IndexRefineFlat', indexRefineFlat]],
]);

/** The kinds read, with their tags: "IndexFlat ('IxF2', 'IxFI', 'IxFl'), IndexPQ ('IxPq'), ...". */
function supportedKinds(): string {
  const tags = new Map<IndexType, string[]>();
  for (const [tag, [kind]] of sections) tags.set(kind, [...(tags.get(kind) ?? []), `'${tag}'`]);
  return [...tags].map(([kind, t]) => `${kind} (${t.join(', ')})`).join(', ');
}

function describeType(tag: string, p: string): string {
  const name = knownTypes[tag];
  const as = p ? ` as ${p.slice(0, -1)}` : '';
  return `an index of type '${printable(tag)}'${name ? ` (${name})` : ''}${as}, which is not one of the kinds this library reads: ${supportedKinds()}`;
}

/** An index at place: its tag, header and section. */
function index(r: Reader, place: Place): Part {
  const at = r.offset;
  if (place.depth > MAX_DEPTH) throw invalid(r, `indexes nested more than ${MAX_DEPTH} deep, at ${place.path.slice(0, -1)}`, at);
  const tag = fourcc(r);
  place.tags.push(tag);
  const section = sections.get(tag);
  if (!section) throw invalid(r, describeType(tag, place.path));
  const [kind, check] = section;
  const h = header(r, tag, at, place.path);
  return { ...h, kind, rowLabels: true, ...check(r, h, place) };
}

/**
 * Throws a TypeError naming what is wrong unless the reader's bytes hold an
 * index of a kind this library reads; returns the kind. tags: given an array,
 * the type tags of the file's indexes and transforms, in file order.
 */
export function checkIndexFile(r: Reader, tags: string[] = []): IndexType {
  const { kind } = index(r, { path: '', depth: 1, tags });
  if (r.left > 0) throw invalid(r, `${r.left} bytes after the index`, r.offset);
  return kind;
}

/** One inverted list of an IndexIVFPQ file: its codes (size, code_size) as Faiss packs them, and its ids. */
export interface IVFPQList { codes: Uint8Array; ids: BigInt64Array }

/** What an IndexIVFPQ file ('IwPQ', at the top) holds, checked as checkIndexFile checks it. */
export interface IVFPQFile {
  d: number;
  ntotal: number;
  metric: 'l2' | 'dot';
  nlist: number;
  byResidual: boolean;
  M: number;
  nbits: number;
  /** The coarse quantizer's kind, and its vectors (nlist, d) when it is an IndexFlat (else null). */
  quantizer: IndexType;
  centroids: Float32Array | null;
  lists: IVFPQList[];
}

/** The parts of the IndexIVFPQ the reader's bytes hold (as faiss.writeIndex writes one): copies, not views. */
export function readIVFPQFile(r: Reader): IVFPQFile {
  const at = r.offset;
  const tag = fourcc(r);
  if (tag !== 'IwPQ') throw invalid(r, `an index of type '${printable(tag)}'${knownTypes[tag] ? ` (${knownTypes[tag]})` : ''} where an IndexIVFPQ ('IwPQ') was expected`);
  const h = header(r, tag, at, '');
  const { nlist, map, quantizer } = ivfHeader(r, h, { path: '', depth: 1, tags: [] });
  const byResidual = bool(r, 'by_residual');
  const field = codeSizeField(r, '');
  const pq = productQuantizer(r, h.d, '');
  expectCodeSize(r, field, pq.codeSize, '', 'pq.code_size, ceil(M * nbits / 8),');
  const found = arrayLists(r, h, nlist, pq.codeSize, '');
  ivfLists(r, h, map, found, '');
  if (r.left > 0) throw invalid(r, `${r.left} bytes after the index`, r.offset);
  let centroids: Float32Array | null = null;
  if (quantizer.vectorsAt !== undefined) {
    centroids = new Float32Array(quantizer.ntotal * quantizer.d);
    new Uint8Array(centroids.buffer).set(r.bytes.subarray(quantizer.vectorsAt, quantizer.vectorsAt + centroids.byteLength));
  }
  const lists = found.sizes.map((size, l): IVFPQList => {
    if (size === 0) return { codes: new Uint8Array(0), ids: new BigInt64Array(0) };
    const idsAt = found.idsAt[l];
    const ids = new BigInt64Array(size);
    new Uint8Array(ids.buffer).set(r.bytes.subarray(idsAt, idsAt + 8 * size));
    return { codes: new Uint8Array(r.bytes.subarray(idsAt - size * pq.codeSize, idsAt)), ids };
  });
  return {
    d: h.d, ntotal: h.ntotal, metric: h.metric === 0 ? 'dot' : 'l2', nlist, byResidual, M: pq.M, nbits: pq.nbits,
    quantizer: quantizer.kind, centroids, lists,
  };
}
