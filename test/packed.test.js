// Codes of a Ks = 16 model packed for fast scan (packCodes): every search
// over them gives the plain codes' results to the bit (ids, distances, ties
// to the lower id), for l2 and dot, on every kernel (NANOPQ_SIMD); bad input
// is an Error.
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const path = require('node:path');
const { PQ, OPQ, PackedCodes, DistanceTable, getNumThreads, setNumThreads } = require('..');
const { randomMatrix } = require('./helpers/data');

const plain = (r) => ({ ids: Array.from(r.ids), dists: Array.from(r.dists) });
/** A PQ of M subspaces, 16 codewords of Ds dimensions each, random. */
const modelOf = (M, Ds = 2, seed = M) => PQ.fromCodewords({ data: randomMatrix(M * 16, Ds, seed).data, shape: [M, 16, Ds] });
/** n random codes of M subspaces below Ks (a power of two up to 256), seeded (a linear congruential generator: quick for millions). */
const codesOf = (n, M, seed, Ks = 16) => {
  const data = new Uint8Array(n * M);
  let a = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    data[i] = (a >>> 24) & (Ks - 1);
  }
  return { data, shape: [n, M] };
};

describe('packCodes / unpackCodes', () => {
  test.each([[1, 1], [31, 3], [32, 8], [33, 7], [1000, 16], [100, 32]])('N = %i, M = %i: the same codes back', (N, M) => {
    const pq = modelOf(M);
    const codes = codesOf(N, M, N);
    const packed = pq.packCodes(codes);
    expect(packed).toBeInstanceOf(PackedCodes);
    expect([packed.N, packed.M, packed.data.length]).toEqual([N, M, Math.ceil(N / 32) * 32 * Math.ceil(M / 2)]);
    expect(pq.unpackCodes(packed)).toEqual(codes);
  });

  test('the layout: row j of a block, subspaces 2p and 2p + 1 in byte (block * pairs + p) * 32 + j', () => {
    const pq = PQ.fromCodewords({ data: new Float32Array(3 * 16), shape: [3, 16, 1] });
    const codes = codesOf(40, 3, 5);
    const { data } = pq.packCodes(codes);
    const c = (i, m) => codes.data[i * 3 + m];
    expect(data[1]).toBe(c(1, 0) | (c(1, 1) << 4));                  // block 0, pair 0, row 1
    expect(data[32 + 7]).toBe(c(7, 2));                              // block 0, pair 1 (subspace 3: none), row 7
    expect(data[2 * 32 + 32 + 5]).toBe(c(37, 2));                    // block 1, pair 1, row 37
    expect(data[2 * 32 + 8 + 0]).toBe(0);                            // row 40 (past N): 0
  });
});

describe('scans over packed codes equal the plain scans', () => {
  const D = 24;
  const X = randomMatrix(3000, D, 7);
  const queries = randomMatrix(40, D, 8);

  test.each(['l2', 'dot'])('%s: search, searchAsync, dtable.topk and adist, M = 3, 8, 12', async (metric) => {
    for (const M of [3, 8, 12]) {
      const pq = new PQ({ M, Ks: 16, metric }).fit(X, { iter: 3 });
      const codes = pq.encode(X);
      const packed = pq.packCodes(codes);
      for (const k of [1, 10, 100]) {
        const expected = plain(pq.search(queries, codes, k));
        expect(plain(pq.search(queries, packed, k))).toEqual(expected);
        expect(plain(await pq.searchAsync(queries, packed, k))).toEqual(expected);
      }
      const dt = pq.dtable(queries.data.subarray(0, D));
      expect(plain(dt.topk(packed, 7))).toEqual(plain(dt.topk(codes, 7)));
      expect(Array.from(dt.adist(packed))).toEqual(Array.from(dt.adist(codes)));
    }
  });

  test('OPQ: the same rows', () => {
    const opq = new OPQ({ M: 4, Ks: 16 }).fit(X, { rotationIter: 2, pqIter: 2 });
    const codes = opq.encode(X);
    expect(plain(opq.search(queries, opq.packCodes(codes), 5))).toEqual(plain(opq.search(queries, codes, 5)));
  });

  test('a table of few values (ties, to the lower id) and of infinite entries (NaN distances, last)', () => {
    const M = 6, n = 5000;
    const codes = codesOf(n, M, 3);
    const packed = PQ.fromCodewords({ data: new Float32Array(M * 16), shape: [M, 16, 1] }).packCodes(codes);
    const tables = [
      Float32Array.from({ length: M * 16 }, (_, i) => i % 3),
      Float32Array.from({ length: M * 16 }, (_, i) => (i === 5 ? Infinity : i === 40 ? -Infinity : (i * 7) % 4)),
    ];
    for (const data of tables) {
      for (const metric of ['l2', 'dot']) {
        const dt = new DistanceTable({ data, shape: [M, 16] }, metric);
        for (const k of [1, 13, 600]) expect(plain(dt.topk(packed, k))).toEqual(plain(dt.topk(codes, k)));
      }
    }
  });

  test('a million codes, split between threads: the same on any number of them', () => {
    // Random bytes are packed codes: made natively (a JavaScript loop over 16M codes is slow under jest).
    const M = 16, n = 1 << 20;
    const cipher = crypto.createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16, 2));
    const bytes = new Uint8Array(cipher.update(Buffer.alloc(n / 32 * 32 * M / 2)));
    const pq = modelOf(M, 1, 9);
    const packed = new PackedCodes(bytes, n, M);
    const codes = pq.unpackCodes(packed);
    const dt = pq.dtable(randomMatrix(1, M, 12).data);
    const expected = plain(dt.topk(codes, 10));
    const before = getNumThreads();
    try {
      for (const threads of [1, 2, 3]) {
        setNumThreads(threads);
        expect(plain(dt.topk(packed, 10))).toEqual(expected);
      }
    } finally {
      setNumThreads(before);
    }
  });

  test('every kernel (NANOPQ_SIMD) gives the same results', () => {
    // A child process per level: the kernel is chosen once, when the addon loads.
    const script = path.join(__dirname, 'helpers', 'packed-child.js');
    const run = (simd) => JSON.parse(execFileSync(process.execPath, [script],
      { env: { ...process.env, NANOPQ_SIMD: simd }, encoding: 'utf8' }));
    const results = ['generic', 'avx2', 'native'].map(run);
    expect(results[0].kernel).toBe('generic');
    for (const r of results) {
      expect(r.searchSame).toBe(true);
      expect(r.packed).toBe(results[0].plain);
      expect(r.plain).toBe(results[0].plain);
    }
  }, 60000);
});

describe('.npk files (toBuffer / fromBuffer, save / load)', () => {
  const pq = modelOf(5, 2, 3);
  const packed = pq.packCodes(codesOf(70, 5, 4));

  test('the same packed codes back, from bytes at any offset and from a file', () => {
    const bytes = packed.toBuffer();
    expect(bytes.length).toBe(40 + packed.data.length);  // the header, with the model's fingerprint (format version 2)
    for (const offset of [0, 3]) {
      const buf = Buffer.alloc(offset + bytes.length);
      bytes.copy(buf, offset);
      const back = PackedCodes.fromBuffer(buf.subarray(offset));
      buf.fill(0);  // the copy keeps nothing of the bytes
      expect([back.N, back.M, Buffer.from(back.data).equals(Buffer.from(packed.data))]).toEqual([70, 5, true]);
    }
    const file = path.join(require('node:os').tmpdir(), `nanopq-packed-${process.pid}.npk`);
    packed.save(file);
    expect(pq.unpackCodes(PackedCodes.load(file))).toEqual(pq.unpackCodes(packed));
    require('node:fs').rmSync(file);
  });

  test('hostile bytes: a TypeError naming what was expected', () => {
    const bytes = packed.toBuffer();
    const edit = (at, write) => { const b = Buffer.from(bytes); write(b, at); return b; };
    expect(() => PackedCodes.fromBuffer(bytes.subarray(0, 20))).toThrow(/magic "NANOPQPK"/);
    expect(() => PackedCodes.fromBuffer(edit(0, (b) => b.write('X')))).toThrow(/magic/);
    expect(() => PackedCodes.fromBuffer(edit(8, (b, at) => b.writeUInt32LE(3, at)))).toThrow(/format version 3; this build reads versions 1 and 2$/);
    expect(() => PackedCodes.fromBuffer(edit(12, (b, at) => b.writeUInt32LE(0, at)))).toThrow(/M = 0, not 1 to 256/);
    expect(() => PackedCodes.fromBuffer(edit(12, (b, at) => b.writeUInt32LE(300, at)))).toThrow(/M = 300/);
    expect(() => PackedCodes.fromBuffer(edit(16, (b, at) => b.writeBigUInt64LE(2n ** 40n, at)))).toThrow(/the packed codes of \d+ bytes/);
    expect(() => PackedCodes.fromBuffer(edit(16, (b, at) => b.writeBigUInt64LE(2n ** 63n, at)))).toThrow(/N of 0 to 2\*\*53 - 1/);
    expect(() => PackedCodes.fromBuffer(Buffer.concat([bytes, Buffer.alloc(1)]))).toThrow(/1 bytes after the packed codes/);
    expect(() => PackedCodes.fromBuffer(bytes.subarray(0, bytes.length - 1))).toThrow(TypeError);
  });
});

describe('bad input: an Error, never a crash', () => {
  const pq = modelOf(4, 2, 1);
  const codes = codesOf(50, 4, 2);

  test('packCodes of a model with Ks other than 16, or of codes >= 16', () => {
    const pq256 = PQ.fromCodewords({ data: new Float32Array(2 * 256), shape: [2, 256, 1] });
    expect(() => pq256.packCodes(codesOf(4, 2, 1, 256))).toThrow(new TypeError('Expected a model with Ks = 16 to pack codes, got Ks = 256'));
    const bad = codesOf(5, 4, 3);
    bad.data[13] = 16;
    expect(() => pq.packCodes(bad)).toThrow(RangeError);
    expect(() => pq.packCodes([[1, 2, 3]])).toThrow(/M = 4/);
  });

  test('packed codes of another M, a wrong length, or not PackedCodes', () => {
    const other = modelOf(6, 2, 1).packCodes(codesOf(50, 6, 2));
    const q = randomMatrix(2, 8, 3);
    expect(() => pq.search(q, other, 3)).toThrow(new RangeError('Expected packed codes of M = 4 subspaces, got M = 6'));
    expect(() => pq.dtable(q.data.subarray(0, 8)).topk(other, 3)).toThrow(RangeError);
    expect(() => pq.unpackCodes(other)).toThrow(RangeError);
    expect(() => pq.unpackCodes({ data: new Uint8Array(64), N: 2, M: 4 })).toThrow(/Expected packed to be PackedCodes/);
    expect(() => new PackedCodes(new Uint8Array(63), 2, 4)).toThrow(new RangeError('Expected 64 bytes of packed codes for N = 2, M = 4, got 63'));
    expect(() => new PackedCodes(new Uint8Array(0), 0, 257)).toThrow(RangeError);
    expect(() => pq.search(q, pq.packCodes(codes), 51)).not.toThrow();  // k > N: N rows, as plain codes
  });

  test('a PackedCodes whose memory is detached under an async search rejects', async () => {
    const packed = pq.packCodes(codesOf(5000, 4, 9));
    const q = randomMatrix(100, 8, 3);
    const call = pq.searchAsync(q, packed, 5);
    structuredClone(packed.data.buffer, { transfer: [packed.data.buffer] });
    // The async call copied the codes first, or sees them gone: never reads freed memory.
    await call.then(() => {}, (e) => expect(e).toBeInstanceOf(Error));
  });
});

describe('Faiss: IndexPQFastScan to and from a Ks = 16 model', () => {
  const { faiss, io, nanopqToFaiss, faissToNanopq, Rii } = require('..');
  const KINDS = path.join(__dirname, 'fixtures', 'faiss-kinds');
  const X = randomMatrix(2000, 16, 21);

  test('nanopqToFaiss(pq, { fastScan: true }): an IndexPQFastScan whose codes are those an IndexPQ of the model stores', () => {
    const pq = new PQ({ M: 8, Ks: 16 }).fit(X, { iter: 5 });
    const fs = nanopqToFaiss(pq, { fastScan: true });
    expect(fs).toBeInstanceOf(faiss.IndexPQFastScan);
    const plainIndex = nanopqToFaiss(pq);
    fs.add(X);
    plainIndex.add(X);
    const [model, codes] = faissToNanopq(fs);
    expect(model.equals(pq)).toBe(true);
    expect(codes).toEqual(faissToNanopq(plainIndex)[1]);
    // Written and read back (a file Python's faiss.read_index reads): the same.
    const again = faissToNanopq(faiss.readIndex(faiss.writeIndex(fs)));
    expect(again[1]).toEqual(codes);
  });

  test('an OPQ gives an IndexPreTransform over an IndexPQFastScan, and back', () => {
    const opq = new OPQ({ M: 4, Ks: 16 }).fit(X, { rotationIter: 2, pqIter: 2 });
    const index = nanopqToFaiss(opq, { fastScan: true });
    expect(index.index).toBeInstanceOf(faiss.IndexPQFastScan);
    index.add({ data: X.data.subarray(0, 100 * 16), shape: [100, 16] });
    const [model, codes] = faissToNanopq(index);
    expect(model.equals(opq)).toBe(true);
    expect(codes.shape).toEqual([100, 4]);
  });

  test("a Python-written IndexPQFastScan: its codes are its PQ's encoding of the vectors it holds", () => {
    const index = faiss.readIndex(path.join(KINDS, 'pq16x4fs.faiss'));
    const [pq, codes] = faissToNanopq(index);
    const db = io.readNpy(path.join(KINDS, 'database.npy'));
    const x = { data: db.data.subarray(0, index.ntotal * db.shape[1]), shape: [index.ntotal, db.shape[1]] };
    const ours = pq.encode(x);
    let same = 0;
    for (let i = 0; i < index.ntotal; i++) same += ours.data.subarray(i * 16, (i + 1) * 16).every((v, m) => v === codes.data[i * 16 + m]);
    expect(same / index.ntotal).toBeGreaterThan(0.99);  // ties in the nearest codeword aside
  });

  test('fastScan of a model with Ks other than 16, of a Rii, or not a boolean: a TypeError', () => {
    const pq256 = new PQ({ M: 2, Ks: 256 }).fit(randomMatrix(600, 4, 1), { iter: 2 });
    expect(() => nanopqToFaiss(pq256, { fastScan: true })).toThrow(/Ks = 16/);
    const pq = new PQ({ M: 2, Ks: 16 }).fit(randomMatrix(300, 4, 1), { iter: 2 });
    expect(() => nanopqToFaiss(pq, { fastScan: 'yes' })).toThrow(/boolean for fastScan/);
    expect(() => nanopqToFaiss(pq, { fast: true })).toThrow(TypeError);
    const rii = new Rii({ fineQuantizer: new PQ({ M: 2 }).fit(randomMatrix(600, 4, 2), { iter: 2 }) }).addConfigure(randomMatrix(600, 4, 3));
    expect(() => nanopqToFaiss(rii, { fastScan: true })).toThrow(/got a Rii/);
  });
});
