#!/usr/bin/env node
// Feeds mutated files to every reader and then uses what loaded: a crash
// (signal), a hang (no progress for 5 s; 60 s for factory and for making the seeds) or memory over 2 GB is a failure;
// loading, or a thrown Error, is fine. Variants run in a child process, many
// per child: after a crash or hang the child is replaced and the run goes on.
//   node scripts/fuzz.js [--variants 5000] [--seed 1] [--reader faiss|npq|pickle|rii|npy|fvecs|idx|factory] [--out DIR] [--json]
// The faiss reader's seeds are a file of every kind (test/fixtures/faiss-kinds,
// and small ones made fresh), mutated in bytes and in the fields the file
// checker reads; an index that loads is searched (with each search option its
// kind takes), range-searched, reconstructed, added to, removed from, merged,
// written and read again. The factory reader mutates index_factory
// descriptions by their grammar and trains, adds to and uses what builds.
// The rii reader's seeds are small Rii pickles written here and one Python rii
// wrote (test/fixtures/rii); a Rii that loads is queried (each method, a
// subset of ids), searched, written and read again.
// Prints, per reader: variants, loaded, threw, crashed, hung, memory, and the
// first failing variants, each saved to DIR (reader, seed and number
// reproduce one: node scripts/fuzz.js --child READER SEED FIRST LAST).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { parseArgs } = require('node:util');
// mulberry32, seeded: a variant is named by (seed, number).
const { rng: random } = require('../test/helpers/data');
const { idxFile } = require('../test/helpers/idx');

const ROOT = path.join(__dirname, '..');
const READERS = ['faiss', 'npq', 'pickle', 'rii', 'npy', 'fvecs', 'idx', 'factory'];
const HANG_MS = 5000;
/**
 * A factory variant may take Faiss tens of seconds and end (4M lists; a chain
 * of OPQs to train), and making the seeds may take as long on a loaded CI
 * machine (OpenMP's threads wait on cores other tests hold): a hang is a minute.
 */
const SLOW_HANG_MS = 60000;
const MEMORY_LIMIT = 2 * 2 ** 30;

/** Files written by one of the io writers, as bytes. */
function written(write) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-fuzz-'));
  try {
    write(path.join(dir, 'file'));
    return fs.readFileSync(path.join(dir, 'file'));
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
}

/** Valid files of each reader's kind, made fresh (small, so that using them is quick). */
function seeds(reader) {
  const { PQ, OPQ, io } = require(ROOT);
  const x = { data: Float32Array.from({ length: 400 * 8 }, (_, i) => Math.sin(i * 0.37)), shape: [400, 8] };
  const sample = (Type, n) => Type.from({ length: n }, (_, i) => (Type === BigInt64Array ? BigInt(i * 7 - 30) : (i * 37) % 251));
  if (reader === 'npy') {
    return [written((f) => io.writeNpy(f, x.data.subarray(0, 40 * 8), [40, 8])), written((f) => io.writeNpy(f, Float64Array.from(x.data.subarray(0, 120)), [30, 4])),
      written((f) => io.writeNpy(f, sample(Uint8Array, 100), [20, 5])), written((f) => io.writeNpy(f, sample(BigInt64Array, 10), [10])),
      written((f) => io.writeNpy(f, sample(Uint16Array, 60), [3, 4, 5]))];
  }
  if (reader === 'fvecs') {
    return [written((f) => io.writeFvecs(f, { data: x.data.subarray(0, 40 * 8), shape: [40, 8] })),
      written((f) => io.writeIvecs(f, { data: sample(Int32Array, 60), shape: [10, 6] })),
      written((f) => io.writeBvecs(f, { data: sample(Uint8Array, 96), shape: [8, 12] }))];
  }
  if (reader === 'idx') {
    const images = idxFile('uint8', [20, 4, 4], Array.from(sample(Uint8Array, 320)));
    return [images, zlib.gzipSync(images), idxFile('float32', [16, 6], Array.from(x.data.subarray(0, 96))),
      idxFile('int16', [10, 3], Array.from({ length: 30 }, (_, i) => i * 1000 - 15000)), zlib.gzipSync(idxFile('uint8', [50], Array.from(sample(Uint8Array, 50))))];
  }
  const pq = new PQ({ M: 2, Ks: 16 }).fit(x, { iter: 3 });
  const opq = new OPQ({ M: 2, Ks: 16 }).fit(x, { rotationIter: 2, pqIter: 2 });
  if (reader === 'npq') return [pq.toBuffer(), opq.toBuffer(), new PQ({ M: 3, Ks: 300 }).toBuffer()];
  if (reader === 'pickle') {
    return [written((f) => io.writeNanopqPickle(pq, f)), written((f) => io.writeNanopqPickle(opq, f)),
      written((f) => io.writeNanopqPickle(new PQ({ M: 3, Ks: 300, metric: 'dot' }), f))];
  }
  if (reader === 'rii') {
    // Small Rii objects written here (protocol 3), and one that Python rii wrote (protocol 4: memo, frames, STACK_GLOBAL).
    const { Rii } = require(ROOT);
    const few = { data: x.data.subarray(0, 60 * 8), shape: [60, 8] };
    const unconfigured = new Rii({ fineQuantizer: pq });
    unconfigured.add(few);
    return [written((f) => io.writeRiiPickle(new Rii({ fineQuantizer: pq }).addConfigure(few, { nlist: 3 }), f)),
      written((f) => io.writeRiiPickle(new Rii({ fineQuantizer: opq }).addConfigure(few, { nlist: 1 }), f)),
      written((f) => io.writeRiiPickle(unconfigured, f)),
      fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'rii', 'pq.pkl'))];
  }
  if (reader === 'factory') return FACTORY_SEEDS;
  return faissSeeds();
}

/**
 * Variant `n` of the seeds: one to three mutations of one seed file, { bytes,
 * from: the seed's name, rand: the variant's random numbers, for its use };
 * of the factory reader, a description (factoryVariant).
 */
function variant(files, seed, n, reader) {
  if (reader === 'factory') return factoryVariant(seed, n);
  const rand = random(seed * 1000003 + n);
  const pick = (k) => Math.floor(rand() * k);
  const file = files[pick(files.length)];
  let bytes = Buffer.from(file.bytes ?? file);
  const huge = [0xffffffff, 0x7fffffff, 0x80000000, 2 ** 40, 2 ** 62, -1, 0, 1e30];
  for (let m = 0, count = 1 + pick(3); m < count; m++) {
    // Seed files of the faiss reader know their fields: half the edits are of one of them.
    if (file.fields && pick(2)) { bytes = editField(bytes, file, rand); continue; }
    const at = pick(bytes.length);
    switch (pick(5)) {
      case 0: bytes = bytes.subarray(0, at); break;                                  // truncated
      case 1: bytes[at] ^= 1 << pick(8); break;                                      // a bit flipped
      case 2: {                                                                       // a field set to a huge value
        const v = huge[pick(huge.length)], p = at - (at % 4);
        if (p + 8 > bytes.length) break;
        if (v === 1e30) bytes.writeFloatLE(v, p);
        else if (pick(2)) bytes.writeBigInt64LE(BigInt(v), p);
        else bytes.writeInt32LE(v | 0, p);
        break;
      }
      case 3: bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(16) }, () => pick(256))), bytes.subarray(at)]); break;
      default: bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(pick(bytes.length))]); break;  // a chunk repeated or lost
    }
  }
  return { bytes, from: file.name ?? `seed ${files.indexOf(file)}`, rand };
}

// ---------------------------------------------------------------------------
// Faiss index files: seeds of every kind, mutated where the checker reads fields.

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'faiss-kinds');
/** Small indexes of every kind, made fresh (d = 8): mutations of their few bytes reach structure more often. */
const SMALL_KINDS = ['Flat', 'PQ4np', 'SQ8', 'SQ4', 'IVF4,Flat', 'IVF4,PQ4np', 'IVF4,SQ8', 'PQ4x4fs', 'IVF4,PQ4x4fs',
  'HNSW4', 'HNSW4,PQ4np', 'HNSW4,SQ8', 'IDMap,Flat', 'IDMap2,Flat', 'IDMap,PQ4np', 'OPQ2,IVF4,PQ2np', 'PCAR4,IVF4,Flat',
  'L2norm,Flat', 'IVF4,PQ4np,RFlat', 'PQ4np,RFlat'];
/** Type tags a tag field may be set to: every kind's, the lists', the layouts', the transforms'. */
const TAGS = ['IxF2', 'IxFI', 'IxFl', 'IxPq', 'IxSQ', 'IwFl', 'IwPQ', 'IwSq', 'IPfs', 'IwPf', 'IHNf', 'IHNp', 'IHNs', 'IxMp',
  'IxM2', 'IxPT', 'IxRF', 'IwQR', 'IxHe', 'ilar', 'ilbl', 'il00', 'ilod', 'full', 'sprs', 'LTra', 'rrot', 'Pcam', 'VNrm'];

/** The fields the checker reads in bytes, in order: { what, at, n } (its Reader, recording each read). */
function fieldsOf(bytes) {
  const { Reader } = require(path.join(ROOT, 'dist', 'io', 'reader.js'));
  const { checkIndexFile } = require(path.join(ROOT, 'dist', 'io', 'faiss-index.js'));
  const fields = [];
  const r = new Reader(bytes, 'seed');
  const take = Reader.prototype.take;
  r.take = function recorded(n, what) { fields.push({ what, at: this.offset, n }); return take.call(this, n, what); };
  const kind = checkIndexFile(r);
  return { fields, kind };
}

/** A seed file: its name ('name (kind)'), bytes, and the fields read, grouped by name without element numbers. */
function faissSeed(name, bytes) {
  const { fields, kind } = fieldsOf(bytes);
  const groups = new Map();
  fields.forEach((f, i) => {
    const key = f.what.replace(/\[\d+\]/g, '[]');
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  return { name: `${name} (${kind})`, bytes, fields, groups: [...groups.values()], ntotal: Number(bytes.readBigInt64LE(8)) };
}

function faissSeeds() {
  const { PQ, OPQ, faiss, nanopqToFaiss } = require(ROOT);
  const x = { data: Float32Array.from({ length: 400 * 8 }, (_, i) => Math.sin(i * 0.37)), shape: [400, 8] };
  const pq = new PQ({ M: 2, Ks: 16 }).fit(x, { iter: 3 });
  const opq = new OPQ({ M: 2, Ks: 16 }).fit(x, { rotationIter: 2, pqIter: 2 });
  const withCodes = (index) => { index.add(x); return Buffer.from(faiss.writeIndex(index)); };
  const out = [faissSeed('nanopq-pq', withCodes(nanopqToFaiss(pq))), faissSeed('nanopq-opq', withCodes(nanopqToFaiss(opq))),
    faissSeed('nanopq-pq-empty', Buffer.from(faiss.writeIndex(nanopqToFaiss(pq))))];
  const { fixtures } = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8'));
  for (const f of fixtures) out.push(faissSeed(f.name, fs.readFileSync(path.join(FIXTURES, f.file))));
  const few = { data: x.data.subarray(0, 40 * 8), shape: [40, 8] };
  for (const description of SMALL_KINDS) {
    const index = faiss.indexFactory(8, description);
    index.train(x);
    if (index instanceof faiss.IndexIDMap) index.addWithIds(few, BigInt64Array.from({ length: 40 }, (_, i) => BigInt(i * 3 + 5)));
    else index.add(few);
    out.push(faissSeed(`small ${description}`, Buffer.from(faiss.writeIndex(index))));
    index.dispose();
  }
  return out;
}

const INT32S = [0, 1, -1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 64, 255, 256, 4096, 0x7fffffff, -0x80000000, 0x40000000];
const INT64S = [0n, 1n, -1n, 2n, 8n, 16n, 32n, 255n, 256n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n, 2n ** 32n + 1n, 2n ** 53n - 1n,
  2n ** 53n, 2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n)];
const FLOATS = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 0, -0, 1e-45, 0.5, 1, 2, -1, 1e6];

/** One edit of a field the checker reads: a value of its size (or an element of an array), a tag, or a length with its array. */
function editField(bytes, s, rand) {
  const pick = (k) => Math.floor(rand() * k);
  const group = s.groups[pick(s.groups.length)];
  const i = group[pick(group.length)];
  const f = s.fields[i];
  if (f.at + f.n > bytes.length || f.n === 0) return bytes;
  const near = (v) => [v + 1, v - 1, v * 2, Math.floor(v / 2), s.ntotal, s.ntotal - 1, s.ntotal + 1][pick(7)];
  // A type tag: another one.
  if (f.n === 4 && /tag|type of|layout of/.test(f.what)) {
    bytes.write(pick(8) ? TAGS[pick(TAGS.length)] : String.fromCharCode(...Array.from({ length: 4 }, () => pick(256))), f.at, 'latin1');
    return bytes;
  }
  // A length and its array, changed together: the array grows (repeating its last bytes) or shrinks.
  const next = s.fields[i + 1];
  if (f.what.startsWith('the length of ') && f.n === 8 && next && next.what === f.what.slice(14) && pick(2)) {
    const old = Number(bytes.readBigInt64LE(f.at));  // an earlier edit may have set it to anything
    if (!(old >= 0 && old <= 1e7)) return bytes;
    const size = old > 0 ? next.n / old : [1, 4, 8][pick(3)];
    const count = Math.max(0, [old + 1, old - 1, 0, old * 2, old + 2][pick(5)]);
    if (!Number.isInteger(size) || size < 1 || count * size > 1e7 || next.at + next.n > bytes.length) return bytes;
    bytes.writeBigInt64LE(BigInt(count), f.at);
    const end = next.at + next.n;
    if (count <= old) return Buffer.concat([bytes.subarray(0, next.at + count * size), bytes.subarray(end)]);
    const extra = Buffer.alloc((count - old) * size);
    for (let j = 0; j < extra.length; j++) extra[j] = old > 0 ? bytes[end - size + (j % size)] : pick(256);
    return Buffer.concat([bytes.subarray(0, end), extra, bytes.subarray(end)]);
  }
  // A value: the field's own size, or an element of an array (1, 4 or 8 bytes).
  const size = f.n === 1 || f.n === 4 || f.n === 8 ? f.n : [1, 4, 8, 4][pick(4)];
  const at = f.at + size * pick(Math.floor(f.n / size));
  if (size === 1) bytes[at] = [0, 1, 2, 0x7f, 0x80, 0xff, bytes[at] ^ 1][pick(7)];
  else if (size === 4) {
    if (pick(4) === 0) bytes.writeFloatLE(FLOATS[pick(FLOATS.length)], at);
    else bytes.writeInt32LE(pick(3) ? INT32S[pick(INT32S.length)] : near(bytes.readInt32LE(at)) | 0, at);
  } else if (pick(8) === 0) {
    bytes.writeDoubleLE(FLOATS[pick(FLOATS.length)], at);
  } else {
    const v = pick(3) ? INT64S[pick(INT64S.length)] : BigInt.asIntN(64, BigInt(near(Number(bytes.readBigInt64LE(at)))));
    bytes.writeBigInt64LE(v, at);
  }
  return bytes;
}

/** Calls fn, and takes an Error it throws as an answer (anything else is thrown on). */
function attempt(fn) {
  if (process.env.FUZZ_TRACE) fs.writeSync(2, `${fn.toString().slice(6, 120)}\n`);
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return undefined;
  }
}

/** rows (n, d) of made-up values, n cut so that no array is larger than 1M floats. */
function rowsOf(d, n, shift = 0) {
  const rows = Math.max(1, Math.min(n, Math.floor(2 ** 20 / d)));
  return { data: Float32Array.from({ length: rows * d }, (_, i) => Math.cos((i + shift) * 0.11) * 3), shape: [rows, d] };
}

/** The values a search option is tried with. */
function optionValues(name, index) {
  const nlist = [index, index.index, index.index?.index].find((i) => i && typeof i.nlist === 'number')?.nlist ?? 1;
  if (name === 'nprobe') return [1, 2, nlist];
  if (name === 'maxCodes') return [1, 10, 1e6];
  if (name === 'efSearch') return [1, 5, 64];
  if (name === 'kFactor') return [1, 2.5, 40];
  return [1];
}

/**
 * Uses an index as a program would: searches (with each search option it
 * takes), range search, reconstruct(N) of ids it has and has not, add or
 * addWithIds, removeIds, mergeFrom a copy, write and read again, train.
 * Each call may throw an Error; a crash or hang is what is looked for.
 */
function useIndex(index, rand) {
  const { faiss } = require(ROOT);
  const pick = (k) => Math.floor(rand() * k);
  const d = index.d;
  const q = rowsOf(d, 8, pick(1000));
  const found = attempt(() => index.search(q, 5));
  attempt(() => index.search(q, index.ntotal + 3));
  const options = attempt(() => Object.keys(index['searchOptions']())) ?? [];
  for (const name of options) {
    for (const v of optionValues(name, index)) attempt(() => index.search(q, 1 + pick(10), { [name]: v }));
  }
  if (options.length > 1) attempt(() => index.search(q, 4, Object.fromEntries(options.map((name) => [name, optionValues(name, index)[pick(3)]]))));
  const radius = found && found.distances.length ? found.distances[found.distances.length - 1] : 1;
  for (const r of [radius, 0, -1, 1e30]) attempt(() => index.rangeSearch(q, r));
  const n = index.ntotal;
  const label = found && found.labels.length ? found.labels[0] : 0n;
  for (const id of [0, n - 1, n, label, 2 ** 40]) attempt(() => index.reconstruct(id));
  for (const [first, count] of [[0, Math.min(n, 4)], [Math.max(0, n - 2), 4], [n, 1], [0, n]]) attempt(() => index.reconstructN(first, count));
  attempt(() => index.makeDirectMap?.(['array', 'hashtable'][pick(2)]));
  attempt(() => index.reconstruct(label));
  const x = rowsOf(d, 1 + pick(6), pick(1000));
  const ids = BigInt64Array.from({ length: x.shape[0] }, (_, i) => BigInt([i, n + i, 7 * i + 1, 2 ** 40 + i][pick(4)]));
  attempt(() => index.add(x));
  attempt(() => index.addWithIds(x, ids));
  attempt(() => index.search(q, 3));
  attempt(() => index.removeIds([0n, 1n, label, ids[0], 123456789n].slice(0, 1 + pick(5))));
  attempt(() => index.search(q, 3));
  attempt(() => index.reconstruct(0));
  for (const name of ['quantizer', 'storage', 'index', 'refineIndex']) attempt(() => index[name]?.search(rowsOf(index[name].d, 2), 2));
  attempt(() => index.chain?.forEach((t) => t.apply(rowsOf(t.dIn ?? d, 2))));
  const bytes = attempt(() => faiss.writeIndex(index));
  if (bytes) {
    const back = attempt(() => faiss.readIndex(bytes));
    if (back) {
      attempt(() => back.search(q, 2));
      attempt(() => index.mergeFrom(back, pick(2) ? 0 : n));
      attempt(() => index.search(q, 3));
      back.dispose();
    }
  }
  if (pick(4) === 0) attempt(() => index.train(rowsOf(d, 300, pick(1000))));
  attempt(() => index.search(q, 2));
  attempt(() => index.reset());
  attempt(() => index.search(q, 1));
}

// ---------------------------------------------------------------------------
// Factory strings: valid descriptions, mutated by their grammar, then built and used.

const FACTORY_SEEDS = ['Flat', 'PQ4', 'PQ8np', 'PQ4x4np', 'PQ8x4fs', 'SQ8', 'SQ4', 'SQfp16', 'SQ6', 'SQ8_direct',
  'IVF16,Flat', 'IVF16,PQ8np', 'IVF8,PQ4x4', 'IVF16,SQ8', 'IVF16,PQ8x4fs', 'IVF16,PQ4x4fs,RFlat', 'HNSW16', 'HNSW8,PQ4np',
  'HNSW8,SQ8', 'IDMap,Flat', 'IDMap2,Flat', 'IDMap,IVF8,Flat', 'OPQ4,IVF16,PQ4np', 'OPQ4_8,PQ4', 'PCAR8,IVF16,Flat', 'PCA8,Flat',
  'PCAW4,Flat', 'RR16,Flat', 'L2norm,Flat', 'IVF16,PQ8np,RFlat', 'PQ8np,RFlat', 'IVF8,SQ8,RFlat', 'IVF8_HNSW4,Flat'];
const FACTORY_PARTS = ['Flat', 'PQ4', 'PQ2x4', 'PQ4np', 'PQ4x4fs', 'SQ8', 'SQ4', 'SQfp16', 'IVF4', 'IVF16', 'HNSW4', 'HNSW16',
  'IDMap', 'IDMap2', 'OPQ2', 'OPQ4_8', 'PCA4', 'PCAR4', 'PCAW4', 'PCAWR4', 'RR8', 'L2norm', 'RFlat', 'Refine(Flat)',
  'Refine(SQfp16)', 'LSH', 'LSHrt', 'IMI2x4', 'PQ4+4', 'RQ2x4', 'LSQ2x4', 'PRQ2x2x4', 'NSG8', 'Residual4x4', 'ITQ4', 'ITQ',
  'Pad16', 'IVF4(PQ2)', 'IVF4_HNSW4', 'IVF4_PQ2', 'HNSW4_PQ2', 'HNSW4_SQ8', 'HNSW4_2x8', 'ZnLattice2x4_4', 'IVF4(Flat)',
  'BinaryHash', 'PQ4x4fsr', 'IVF4,PQ2x4fs', 'RQ1x4_Nqint8', 'SQbf16', 'Flat,IDMap', 'IVFauto', 'Residual2x4'];
const NUMBERS = ['0', '1', '2', '3', '4', '5', '7', '8', '12', '16', '17', '31', '32', '33', '64', '100', '256', '1000', '4095',
  '65536', '4194304', '4194305', '2147483647', '2147483648', '4294967296', '99999999999999999999', '', '00', '-1'];
const SUFFIXES = ['np', 'fs', 'fsr', 'x4', 'x8', 'x16', 'x0', 'x1', 'x99', '_8', '_0', '_1', '_99999', 'r', 'R', 'W', 'WR',
  '_HNSW4', '(Flat)', '(PQ2)', '+4', '+0', '_uniform', '_direct', ' ', ',', '_', 'x4x4', '_Nqint8'];
const DIMENSIONS = [1, 2, 3, 4, 7, 8, 12, 16, 16, 16, 17, 32, 32, 32, 64];

/** Variant n of the factory seeds: a description, mutated one to three times, and the d and metric it is built for. */
function factoryVariant(seed, n) {
  const rand = random(seed * 1000003 + n);
  const pick = (k) => Math.floor(rand() * k);
  const from = FACTORY_SEEDS[pick(FACTORY_SEEDS.length)];
  const d = DIMENSIONS[pick(DIMENSIONS.length)];
  let parts = from.split(',');
  for (let m = 0, count = 1 + pick(3); m < count; m++) {
    const at = pick(parts.length);
    switch (pick(9)) {
      case 0: case 1: {                                                     // a number changed
        const numbers = [...parts.join(',').matchAll(/\d+/g)];
        if (!numbers.length) break;
        const { index, 0: digits } = numbers[pick(numbers.length)];
        const value = pick(4) ? NUMBERS[pick(NUMBERS.length)] : String([d, d + 1, 2 * d, d - 1, Math.floor(d / 2)][pick(5)]);
        const text = parts.join(',');
        parts = (text.slice(0, index) + value + text.slice(index + digits.length)).split(',');
        break;
      }
      case 2: {                                                             // parts reordered
        const other = pick(parts.length);
        [parts[at], parts[other]] = [parts[other], parts[at]];
        if (pick(3) === 0) parts.reverse();
        break;
      }
      case 3: if (parts.length > 1) parts.splice(at, 1); break;             // a part dropped
      case 4: parts.splice(at, 0, parts[at]); break;                        // a part twice
      case 5: case 6: parts.splice(pick(parts.length + 1), 0, FACTORY_PARTS[pick(FACTORY_PARTS.length)]); break;
      case 7: parts[at] += SUFFIXES[pick(SUFFIXES.length)]; break;          // a suffix
      default: parts[at] = [parts[at].toLowerCase(), `${parts[at]}Foo`, parts[at].replace(/\d+$/, ''), '', 'X', '()'][pick(6)]; break;
    }
  }
  return { description: parts.join(pick(8) ? ',' : [' ', ', ', ',,'][pick(3)]), d, metric: pick(3) ? 'l2' : 'dot', from, rand };
}

/** A PQ without 'np' or 'fs' (IndexPQ's, IVFPQ's): Faiss's factory gives it polysemous training by default. */
const POLYSEMOUS_PQ = /(?<![A-Za-z])PQ\d+(?:x\d+)?(?![\dx+]|np|fs)/g;

/**
 * Builds the description's index, trains it on a tiny data set, adds to it
 * and uses it. Polysemous training (a PQ without 'np') takes Faiss 3 to 30 s
 * whatever the data, so such an index is built as described, then trained as
 * its 'np' twin (if that builds; else it is used untrained).
 */
function buildAndUse({ description, d, metric }, rand) {
  const { faiss } = require(ROOT);
  const pick = (k) => Math.floor(rand() * k);
  let index = faiss.indexFactory(d, description, metric);
  let train = true;
  if (description.search(POLYSEMOUS_PQ) >= 0) {
    index.dispose();
    index = attempt(() => faiss.indexFactory(d, description.replace(POLYSEMOUS_PQ, '$&np'), metric));
    train = Boolean(index);
    index ??= faiss.indexFactory(d, description, metric);
  }
  try {
    if (train) attempt(() => index.train(rowsOf(d, [1, 20, 300, 600][pick(4)], pick(1000))));
    const x = rowsOf(d, [1, 5, 50][pick(3)], pick(1000));
    attempt(() => index.add(x));
    attempt(() => index.addWithIds(x, BigInt64Array.from({ length: x.shape[0] }, (_, i) => BigInt(i * 5 + 1))));
    useIndex(index, rand);
  } finally {
    attempt(() => index.dispose());
  }
}

// ---------------------------------------------------------------------------

/** Uses an array that a reader returned: every value is read, and a 2-D float32 one trains a small PQ. */
function use({ data, shape }) {
  const { PQ } = require(ROOT);
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += Number(data[i]);
  if (data instanceof Float32Array && shape.length === 2 && shape[0] > 4 && shape[1] > 0) {
    const pq = new PQ({ M: 1, Ks: 4 }).fit({ data, shape }, { iter: 2 });
    pq.encode({ data, shape });
  }
  return sum;
}

/** Loads the bytes with the reader, then uses the result as a program would. Throws what the library throws. */
function load(reader, v, x) {
  const { PQ, OPQ, faiss, io, faissToNanopq } = require(ROOT);
  const { bytes } = v;
  if (reader === 'factory') return buildAndUse(v, v.rand);
  if (reader === 'npy') return use(io.readNpy(bytes));
  if (reader === 'idx') return use(io.readIdx(bytes));
  if (reader === 'fvecs') {
    // The three share a layout, so each mutated file is given to all three; one that loads counts as loaded.
    let loaded = 0, error;
    for (const read of [io.readFvecs, io.readIvecs, io.readBvecs]) {
      try { use(read(bytes)); loaded++; } catch (err) { error = err; }
    }
    if (!loaded) throw error;
    return;
  }
  if (reader === 'npq' || reader === 'pickle') {
    let model;
    if (reader === 'pickle') model = io.readNanopqPickle(bytes);
    else try { model = PQ.fromBuffer(bytes); } catch { model = OPQ.fromBuffer(bytes); }
    if (model.Ds === null) return;
    const D = model.M * model.Ds;
    const q = { data: x.data.subarray(0, 20 * D), shape: [20, D] };
    const codes = model.encode(q);
    model.search(q, codes, 3);
    model.dtable(q.data.subarray(0, D)).topk(codes, 2);
    model.decode(codes);
    model.toBuffer();
    if (reader === 'pickle') written((f) => io.writeNanopqPickle(model, f));
    return;
  }
  if (reader === 'rii') {
    const rii = io.readRiiPickle(bytes);
    if (rii.N > 0 && rii.nlist > 0) {
      const D = rii.M * rii.fineQuantizer.Ds;
      const q = x.data.subarray(0, D);
      const topk = Math.min(3, rii.N);
      for (const method of ['auto', 'linear', 'ivf']) rii.query(q, { topk, method });
      rii.query(q, { targetIds: rii.N > 1 ? [rii.N - 1, 0] : [0], method: 'ivf' });
      rii.search({ data: x.data.subarray(0, 5 * D), shape: [5, D] }, { topk });
    }
    io.readRiiPickle(written((f) => io.writeRiiPickle(rii, f)));
    return;
  }
  // Loaded means read: what the index is then asked may throw Errors (attempt).
  const index = faiss.readIndex(bytes);
  try {
    attempt(() => {
      const [model, codes] = faissToNanopq(index);
      const q = rowsOf(index.d, 20);
      if (codes.shape[0] > 0) model.search(q, codes, 2);
    });
    useIndex(index, v.rand);
  } finally {
    attempt(() => index.dispose());
  }
}

// The child: variants first..last, two lines each: "start n FROM", then
// "loaded n FROM" or "threw n FROM" (FROM: the seed it was made from).
function child(reader, seed, first, last) {
  const files = seeds(reader);
  fs.writeSync(1, 'ready\n');
  const x = { data: Float32Array.from({ length: 300 * 64 }, (_, i) => Math.cos(i * 0.11)) };
  for (let n = first; n <= last; n++) {
    const v = variant(files, seed, n, reader);
    fs.writeSync(1, `start ${n} ${v.from}\n`);
    let outcome = 'loaded';
    try {
      load(reader, v, x);
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      outcome = 'threw';
    }
    fs.writeSync(1, `${outcome} ${n} ${v.from}\n`);
  }
}

/** Saves variant n to dir (a file's bytes; a description as JSON); returns its path. */
function save(reader, seed, n, dir) {
  const v = variant(seeds(reader), seed, n, reader);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${reader}-${seed}-${n}.${reader === 'factory' ? 'json' : 'bin'}`);
  fs.writeFileSync(file, reader === 'factory' ? JSON.stringify({ d: v.d, description: v.description, metric: v.metric }) : v.bytes);
  return file;
}

/**
 * Runs variants [first, last] in children, replacing one that crashes, hangs
 * or grows too large, and saving the variant that did to dir. Returns the
 * counts, the first failures, and per seed how many of its variants loaded
 * and how many were run (seeds: { name: [loaded, run] }).
 */
async function fuzz(reader, seed, first, last, dir = path.join(os.tmpdir(), 'nanopq-fuzz')) {
  const counts = { variants: last - first + 1, loaded: 0, threw: 0, crashed: 0, hung: 0, memory: 0 };
  const failures = [];
  const bySeed = {};
  const tally = (from, loaded) => {
    const t = (bySeed[from] ??= [0, 0]);
    t[0] += loaded ? 1 : 0;
    t[1]++;
  };
  let next = first;
  while (next <= last) {
    const outcome = await new Promise((resolve) => {
      const proc = spawn(process.execPath, [__filename, '--child', reader, String(seed), String(next), String(last)],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let current = null, from = null, buffered = '', lastSeen = Date.now(), ended = null, ready = false;
      const watch = setInterval(() => {
        let rss = 0;
        try { rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'))[1]) * 1024; } catch { /* gone */ }
        if (rss > MEMORY_LIMIT) ended = 'memory';
        else if (Date.now() - lastSeen > (reader === 'factory' || !ready ? SLOW_HANG_MS : HANG_MS)) ended = 'hung';
        if (ended) proc.kill('SIGKILL');
      }, 100);
      let stderr = '';
      proc.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
      proc.stdout.on('data', (chunk) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop();
        for (const line of lines) {
          const [what, n, ...name] = line.split(' ');
          lastSeen = Date.now();
          if (what === 'ready') ready = true;
          else if (what === 'start') { current = Number(n); from = name.join(' '); }
          else if (what === 'loaded' || what === 'threw') {
            counts[what]++;
            tally(name.join(' '), what === 'loaded');
            current = null;
            next = Number(n) + 1;
          }
        }
      });
      proc.on('close', (status, signal) => {
        clearInterval(watch);
        // The child finished its range, or failed making variant `next` (a bug of this script, reported as a crash).
        if (current === null && (status === 0 || next > last)) return resolve(null);
        if (current === null) return resolve({ kind: 'crashed', n: next, from: 'making the variant', how: `${ended ?? `exit ${status}`}${signal ? ` (${signal})` : ''}: ${stderr.slice(-300)}` });
        const kind = ended ?? (signal ? 'crashed' : status !== 0 ? 'crashed' : null);
        resolve({ kind: kind ?? 'crashed', n: current, from, how: signal ?? `exit ${status}` });
      });
    });
    if (!outcome) break;
    counts[outcome.kind]++;
    tally(outcome.from, false);
    let saved = '';
    try { saved = `, saved as ${save(reader, seed, outcome.n, dir)}`; } catch (err) { saved = `, not saved (${err.message})`; }
    failures.push(`${outcome.kind} at variant ${outcome.n} of ${outcome.from} (${outcome.how}${saved}): node scripts/fuzz.js --child ${reader} ${seed} ${outcome.n} ${outcome.n}`);
    next = outcome.n + 1;
  }
  return { reader, seed, ...counts, failures: failures.slice(0, 10), seeds: bySeed };
}

if (process.argv[2] === '--child') {
  const [reader, seed, first, last] = process.argv.slice(3);
  child(reader, Number(seed), Number(first), Number(last));
} else if (require.main === module) {
  const { values } = parseArgs({
    options: { variants: { type: 'string', default: '5000' }, seed: { type: 'string', default: '1' },
      reader: { type: 'string', multiple: true }, out: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const unknown = (values.reader ?? []).filter((r) => !READERS.includes(r));
  if (unknown.length) {
    console.error(`fuzz: unknown --reader ${unknown.join(', ')}; the readers are ${READERS.join(', ')}`);
    process.exit(2);
  }
  (async () => {
    const results = [];
    for (const reader of values.reader ?? READERS) {
      const t0 = Date.now();
      const r = await fuzz(reader, Number(values.seed), 0, Number(values.variants) - 1, values.out);
      results.push(r);
      if (!values.json) {
        console.log(`${reader}: ${r.variants} variants in ${((Date.now() - t0) / 1e3).toFixed(0)} s: loaded ${r.loaded}, threw ${r.threw}, ` +
          `crashed ${r.crashed}, hung ${r.hung}, memory ${r.memory}; ${Object.keys(r.seeds).length} seeds`);
        for (const f of r.failures) console.log(`  ${f}`);
      }
    }
    if (values.json) console.log(JSON.stringify(results));
    process.exitCode = results.some((r) => r.crashed || r.hung || r.memory) ? 1 : 0;
  })();
}

module.exports = { fuzz, READERS, FACTORY_SEEDS, seeds, variant, load };
