// The faiss namespace and the conversions: Faiss files written by Python Faiss
// 1.7.3 (../shared/fixtures), round trips, and cross-language checks against
// Debian's python3-faiss (/usr/bin/python3).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { PQ, OPQ, faiss, io, nanopqToFaiss, faissToNanopq } = require('..');
const { randomMatrix } = require('./helpers/data');
const { manifest, npy, FIXTURES } = require('./helpers/fixtures');
const { writeNpy, readNpy } = io;
const { runPython } = require('./helpers/python');

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-faiss-'));
const asMatrix = (a) => ({ data: a.data, shape: a.shape });
const maxAbsDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** Labels of each query's top k agree, where the distances are not tied. */
function expectSameRanking(labels, expected, distances, k) {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== expected[i]) {
      const row = Math.floor(i / k);
      const d = distances[i];
      // A swap is only allowed between equal distances.
      const tied = Array.from(distances.subarray(row * k, (row + 1) * k)).filter((v) => v === d).length > 1;
      expect(tied).toBe(true);
    }
  }
}

const cases = manifest().filter((c) => c.kind === 'faiss-index');
test('there are Faiss index fixtures', () => expect(cases.length).toBeGreaterThan(0));

describe.each(cases.map((c) => [c.name, c]))('fixture %s', (_, c) => {
  const file = path.join(FIXTURES, c.file);
  const index = faiss.readIndex(file);
  const Xq = asMatrix(npy(c.Xq));
  const Xb = asMatrix(npy(c.Xb));
  const expectedLabels = npy(c.labels);
  const k = expectedLabels.shape[1];

  test('reads as the right type, with its settings', () => {
    expect(index).toBeInstanceOf(c.opq ? faiss.IndexPreTransform : faiss.IndexPQ);
    expect([index.d, index.ntotal, index.isTrained, index.metric]).toEqual([c.D, c.ntotal, true, c.metric]);
    const inner = c.opq ? index.index : index;
    expect([inner.pq.M, inner.pq.nbits, inner.pq.ksub, inner.pq.dsub]).toEqual([c.M, c.nbits, 2 ** c.nbits, c.D / c.M]);
  });

  test('search returns the labels and distances Python Faiss did', () => {
    const { labels, distances } = index.search(Xq, k);
    expect(Array.from(labels)).toEqual(Array.from(expectedLabels.data));
    const expected = npy(c.distances).data;
    distances.forEach((d, i) => expect(Math.abs(d - expected[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, expected[i])));
  });

  test('codes are the file\'s, packed and unpacked', () => {
    const inner = c.opq ? index.index : index;
    expect(Array.from(inner.codes)).toEqual(Array.from(npy(c.codes).data));
    const [model, codes] = faissToNanopq(index);
    expect(model).toBeInstanceOf(c.opq ? OPQ : PQ);
    expect(codes.shape).toEqual([c.ntotal, c.M]);
    expect(Array.from(codes.data)).toEqual(Array.from(npy(c.codes_unpacked).data));
    // The converted model encodes the database vectors to the same codes.
    expect(Array.from(model.encode(Xb).data)).toEqual(Array.from(codes.data));
  });

  test('the converted model ranks as the index does (ties aside)', () => {
    const [model, codes] = faissToNanopq(index);
    const labels = new BigInt64Array(Xq.shape[0] * k);
    const dists = new Float32Array(Xq.shape[0] * k);
    for (let q = 0; q < Xq.shape[0]; q++) {
      const top = model.dtable(Xq.data.subarray(q * c.D, (q + 1) * c.D)).topk(codes, k);
      top.ids.forEach((id, j) => { labels[q * k + j] = BigInt(id); dists[q * k + j] = top.dists[j]; });
    }
    expectSameRanking(labels, expectedLabels.data, dists, k);
    dists.forEach((d, i) => expect(Math.abs(d - npy(c.distances).data[i])).toBeLessThanOrEqual(1e-3 * Math.max(1, d)));
  });

  test('writeIndex gives back the very bytes of the file', () => {
    expect(Buffer.compare(faiss.writeIndex(index), fs.readFileSync(file))).toBe(0);
    const out = path.join(tmp(), 'copy.faiss');
    faiss.writeIndex(index, out);
    expect(Buffer.compare(fs.readFileSync(out), fs.readFileSync(file))).toBe(0);
    expect(faiss.readIndex(fs.readFileSync(out)).ntotal).toBe(c.ntotal);
  });
});

describe('nanopqToFaiss', () => {
  const Xt = randomMatrix(3000, 32, 31);
  const Xq = randomMatrix(20, 32, 32);

  test.each(['l2', 'dot'])('PQ (%s): same codewords, codes and rankings', (metric) => {
    const pq = new PQ({ M: 4, Ks: 256, metric }).fit(Xt, { iter: 10 });
    const index = nanopqToFaiss(pq);
    expect(index).toBeInstanceOf(faiss.IndexPQ);
    expect([index.metric, index.isTrained, index.ntotal, index.pq.nbits]).toEqual([metric, true, 0, 8]);
    expect(Array.from(index.pq.centroids)).toEqual(Array.from(pq.codewords.data));
    const codes = pq.encode(Xt);
    expect(Array.from(index.pq.computeCodes(Xt).data)).toEqual(Array.from(codes.data));
    index.add(Xt);
    const { labels, distances } = index.search(Xq, 10);
    const ours = new BigInt64Array(200);
    const oursDists = new Float32Array(200);
    for (let q = 0; q < 20; q++) {
      const top = pq.dtable(Xq.data.subarray(q * 32, (q + 1) * 32)).topk(codes, 10);
      top.ids.forEach((id, j) => { ours[q * 10 + j] = BigInt(id); oursDists[q * 10 + j] = top.dists[j]; });
    }
    expectSameRanking(ours, labels, oursDists, 10);
    // And back: the same model and the codes Faiss stored.
    const [back, stored] = faissToNanopq(index);
    expect(back.equals(pq)).toBe(true);
    expect(Array.from(stored.data)).toEqual(Array.from(codes.data));
  });

  test('OPQ: IndexPreTransform(OPQMatrix with A = R^T, IndexPQ), same codes', () => {
    const opq = new OPQ({ M: 4, Ks: 16 }).fit(Xt, { rotationIter: 3, pqIter: 5 });
    const index = nanopqToFaiss(opq);
    expect(index).toBeInstanceOf(faiss.IndexPreTransform);
    const [transform] = index.chain;
    expect([transform.dIn, transform.dOut, transform.isTrained]).toEqual([32, 32, true]);
    expect(transform.A[1 * 32 + 0]).toBe(opq.R.data[0 * 32 + 1]);
    const rotated = transform.apply(Xt);
    expect(maxAbsDiff(opq.rotate(Xt).data, rotated.data)).toBeLessThan(1e-4);
    expect(Array.from(index.index.pq.computeCodes(rotated).data)).toEqual(Array.from(opq.encode(Xt).data));
    index.add(Xt);
    const [back, stored] = faissToNanopq(index);
    expect(back.equals(opq)).toBe(true);
    expect(Array.from(stored.data)).toEqual(Array.from(opq.encode(Xt).data));
    expect(maxAbsDiff(transform.reverseTransform(rotated).data, Xt.data)).toBeLessThan(1e-4);
  });

  test('Ks that is not a power of two has no Faiss counterpart', () => {
    const pq = new PQ({ M: 4, Ks: 10 }).fit(Xt, { iter: 2 });
    expect(() => nanopqToFaiss(pq)).toThrow('Expected Ks = 2**nbits (nbits 1 to 16) for a Faiss IndexPQ, got Ks = 10');
    expect(() => nanopqToFaiss(new PQ({ M: 4 }))).toThrow('Expected a fitted model for nanopqToFaiss(); call fit() first');
    expect(() => nanopqToFaiss({})).toThrow(TypeError);
  });
});

describe('faissToNanopq for any nbits', () => {
  test.each([4, 6, 8, 10, 12, 16])('nbits %i: codes unpacked, uint8/uint16 by nanopq\'s rule, equal to encode', (nbits) => {
    const X = randomMatrix(2000, 16, 40 + nbits);
    const index = new faiss.IndexPQ(16, 4, nbits);
    index.pq.centroids = randomMatrix(4 * 2 ** nbits, 4, 80 + nbits).data;  // a codebook set by hand
    index.isTrained = true;
    index.add(X);
    expect(index.codes.length).toBe(X.shape[0] * Math.ceil((4 * nbits) / 8));
    const [pq, codes] = faissToNanopq(index);
    expect(pq.Ks).toBe(2 ** nbits);
    expect(codes.data).toBeInstanceOf(nbits <= 8 ? Uint8Array : Uint16Array);
    expect(Array.from(pq.encode(X).data)).toEqual(Array.from(codes.data));
    expect(Array.from(index.pq.decode(codes).data)).toEqual(Array.from(pq.decode(codes).data));
  });
});

describe('the tutorial\'s "Relation to PQ in Faiss", line for line', () => {
  test('nanopq -> faiss and faiss -> nanopq', () => {
    const D = 32, M = 4, nbits = 8;
    const Xt = randomMatrix(2000, D, 50);
    const Xb = randomMatrix(1000, D, 51);
    // nanopq -> faiss
    const pqNanopq = new PQ({ M }).fit(Xt);
    const pqFaiss = nanopqToFaiss(pqNanopq);  // faiss.IndexPQ
    expect(pqFaiss).toBeInstanceOf(faiss.IndexPQ);
    // faiss -> nanopq
    const pqFaiss2 = new faiss.IndexPQ(D, M, nbits);
    pqFaiss2.train(Xt);
    pqFaiss2.add(Xb);
    const [pqNanopq2, Cb] = faissToNanopq(pqFaiss2);  // a PQ, and the encoded vectors
    expect(pqNanopq2).toBeInstanceOf(PQ);
    expect(Cb.shape).toEqual([1000, M]);
    expect(Array.from(pqNanopq2.encode(Xb).data)).toEqual(Array.from(Cb.data));
  });
});

describe('faiss objects', () => {
  test('ProductQuantizer: train, computeCodes, decode; centroids copy in and out', () => {
    const X = randomMatrix(1000, 8, 60);
    const pq = new faiss.ProductQuantizer(8, 2, 4);
    expect([pq.d, pq.M, pq.nbits, pq.dsub, pq.ksub]).toEqual([8, 2, 4, 4, 16]);
    pq.train(X);
    const codes = pq.computeCodes(X);
    expect(codes.shape).toEqual([1000, 2]);
    expect(Math.max(...codes.data)).toBeLessThan(16);
    const c = pq.centroids;
    c[0] = 123;
    expect(pq.centroids[0]).not.toBe(123);
    pq.centroids = c;
    expect(pq.centroids[0]).toBe(123);
    expect(pq.decode([[0, 0]]).data[0]).toBe(123);
  });

  test('OPQMatrix: Faiss trains a rotation; apply and reverseTransform invert each other', () => {
    const X = randomMatrix(2000, 16, 61);
    const opq = new faiss.OPQMatrix(16, 4);
    expect(opq.isTrained).toBe(false);
    opq.train(X);
    expect([opq.dIn, opq.dOut, opq.isTrained]).toEqual([16, 16, true]);
    const y = opq.apply(X);
    expect(maxAbsDiff(opq.reverseTransform(y).data, X.data)).toBeLessThan(1e-4);
    opq.train({ data: X.data.subarray(0, 300 * 16), shape: [300, 16] });  // again, from the A it holds
    expect(opq.isOrthonormal).toBe(true);
  });

  test('IndexPreTransform trains its chain and its index; the parts are shared, not copied', () => {
    const X = randomMatrix(3000, 16, 62);
    const index = new faiss.IndexPreTransform(new faiss.OPQMatrix(16, 4), new faiss.IndexPQ(16, 4, 6));
    index.train(X);
    index.add(X);
    expect([index.ntotal, index.isTrained, index.index.ntotal]).toEqual([3000, true, 3000]);
    const { labels } = index.search({ data: X.data.subarray(0, 16 * 5), shape: [5, 16] }, 3);
    expect(labels).toHaveLength(15);
    const pq = index.index.pq;
    expect(pq.nbits).toBe(6);
  });

  // Faiss fills a result row up to k, with label -1 beyond ntotal: k is
  // clamped to ntotal instead, and the result's shape says what was found.
  test.each([['IndexPQ', () => new faiss.IndexPQ(8, 2, 4)],
    ['IndexPreTransform', () => new faiss.IndexPreTransform(new faiss.OPQMatrix(8, 2), new faiss.IndexPQ(8, 2, 4))]])('%s.search: results (n, k), label -1 and FLT_MAX where fewer than k', async (_, make) => {
    const X = randomMatrix(300, 8, 63);
    const Xq = randomMatrix(4, 8, 64);
    const index = make();
    index.train(X);
    for (const r of [index.search(Xq, 10), await index.searchAsync(Xq, 10)]) {
      expect(r.shape).toEqual([4, 10]);
      expect(r.labels).toEqual(new BigInt64Array(40).fill(-1n));
      expect(r.distances).toEqual(new Float32Array(40).fill(3.4028234663852886e38));
    }
    index.add({ data: X.data.subarray(0, 7 * 8), shape: [7, 8] });
    const all = index.search(Xq, 7);
    for (const r of [index.search(Xq, 1000), await index.searchAsync(Xq, 1000)]) {
      expect(r.shape).toEqual([4, 1000]);
      for (let q = 0; q < 4; q++) {
        expect(r.labels.subarray(q * 1000, q * 1000 + 7)).toEqual(all.labels.subarray(q * 7, q * 7 + 7));
        expect(r.distances.subarray(q * 1000, q * 1000 + 7)).toEqual(all.distances.subarray(q * 7, q * 7 + 7));
        expect(new Set(r.labels.subarray(q * 1000 + 7, (q + 1) * 1000))).toEqual(new Set([-1n]));
      }
    }
    expect(() => index.search(Xq, 2 ** 31 - 1)).toThrow(RangeError);
    for (let q = 0; q < 4; q++) expect(Array.from(all.labels.subarray(q * 7, q * 7 + 7)).sort()).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n]);
    expect(index.search(Xq, 3).shape).toEqual([4, 3]);
    expect(() => index.search(Xq, 0)).toThrow(new RangeError('Expected 1 <= k <= 2147483647, got 0'));
  });

  test('errors', () => {
    expect(() => new faiss.IndexPQ(10, 4, 8)).toThrow('Expected d divisible by M = 4, got d = 10');
    expect(() => new faiss.IndexPQ(16, 4, 17)).toThrow('Expected 1 <= nbits <= 16, got 17');
    expect(() => new faiss.IndexPQ(16, 4, 8, 'cos')).toThrow("Expected 'l2' or 'dot' for metric, got 'cos'");
    const index = new faiss.IndexPQ(16, 4, 8);
    expect(() => index.add(randomMatrix(10, 16))).toThrow('Expected a trained index for add(); call train() first');
    expect(() => index.search(randomMatrix(10, 16), 5)).toThrow('Expected a trained index for search(); call train() first');
    expect(() => index.train(randomMatrix(10, 8))).toThrow('Expected x to have 16 columns (D), got shape [10, 8]');
    expect(() => new faiss.IndexPreTransform(new faiss.OPQMatrix(8, 4), index)).toThrow("Expected the transform's dOut to be the index's d = 16, got 8");
    expect(() => new faiss.IndexPreTransform({}, index)).toThrow('Expected a faiss.OPQMatrix for transform, got an object with keys []');
    expect(() => faiss.writeIndex({})).toThrow(TypeError);
    expect(() => new faiss.OPQMatrix(16, 4).A).toThrow('Expected a trained OPQMatrix for A; call train() or assign A first');
    expect(() => new faiss.ProductQuantizer(8, 2, 4).train(randomMatrix(10, 8))).toThrow('Expected at least ksub = 16 training vectors in x, got 10');
  });
});

describe('index files that are not what this library wraps', () => {
  const good = fs.readFileSync(path.join(FIXTURES, 'faiss_pq_m4.faiss'));

  test('truncated, padded or inconsistent files are refused before Faiss reads them', () => {
    expect(() => faiss.readIndex(good.subarray(0, 100))).toThrow(/^Expected pq.centroids of 32768 bytes in src at byte 69, got 31 bytes left$/);
    expect(() => faiss.readIndex(Buffer.concat([good, Buffer.alloc(3)]))).toThrow(`Expected a Faiss index file in src at byte ${good.length}, got 3 bytes after the index`);
    const short = Buffer.from(good);
    short.writeBigInt64LE(10n, 4 + 4 + 8 * 3 + 1 + 4 + 24);  // the centroid count
    expect(() => faiss.readIndex(short)).toThrow(TypeError);
    expect(() => faiss.readIndex(Buffer.from('nope'))).toThrow("got an index of type 'nope', which is not one of the kinds this library reads: IndexFlat ('IxF2', 'IxFI', 'IxFl'), IndexPQ ('IxPq')");
    expect(() => faiss.readIndex(42)).toThrow('Expected a path or a Uint8Array for src, got 42');
  });

  test('every truncation of a good file is a clean error', () => {
    for (let n = 0; n < good.length; n += 97) expect(() => faiss.readIndex(good.subarray(0, n))).toThrow(TypeError);
  });

  test('an index of another type, written by Python Faiss, is named', () => {
    // IndexLSH: a kind the file checker does not read (an IndexFlat it reads, and readIndex refuses as not wrapped).
    const file = path.join(tmp(), 'lsh.faiss');
    runPython(`
import sys, numpy as np, faiss
index = faiss.IndexLSH(8, 16)
index.add(np.zeros((3, 8), dtype='float32'))
faiss.write_index(index, sys.argv[1])
`, [file]);
    expect(() => faiss.readIndex(file)).toThrow(`Expected a Faiss index file in ${file} at byte 0, got an index of type 'IxHe' (IndexLSH), which is not one of the kinds this library reads`);
  });
});

describe('across languages (Python Faiss reads what we write, and the other way)', () => {
  test.each([['PQ', false], ['OPQ', true]])('%s trained here, searched by Python: same results', (_, isOpq) => {
    const dir = tmp();
    const Xt = randomMatrix(4000, 32, 70);
    const Xq = randomMatrix(15, 32, 71);
    const model = isOpq ? new OPQ({ M: 4, Ks: 256 }).fit(Xt, { rotationIter: 4, pqIter: 8 }) : new PQ({ M: 4, Ks: 256 }).fit(Xt, { iter: 8 });
    const index = nanopqToFaiss(model);
    index.add(Xt);
    faiss.writeIndex(index, path.join(dir, 'index.faiss'));
    writeNpy(path.join(dir, 'Xq.npy'), Xq.data, Xq.shape);
    const ours = index.search(Xq, 10);
    runPython(`
import sys, numpy as np, faiss
index = faiss.read_index(sys.argv[1] + '/index.faiss')
D, I = index.search(np.load(sys.argv[1] + '/Xq.npy'), 10)
np.save(sys.argv[1] + '/labels.npy', I)
np.save(sys.argv[1] + '/distances.npy', D)
print(type(index).__name__)
`, [dir]);
    expect(Array.from(readNpy(path.join(dir, 'labels.npy')).data)).toEqual(Array.from(ours.labels));
    const theirs = Array.from(readNpy(path.join(dir, 'distances.npy')).data);
    if (process.arch === 'x64') {
      expect(theirs).toEqual(Array.from(ours.distances));
    } else {
      // Faiss's arm64 build (Debian's, under the arm64 Node) computes distances
      // with NEON's fused multiply-adds, Python's x86-64 one without: a few ulps apart.
      const far = theirs.filter((d, i) => !(Math.abs(d - ours.distances[i]) <= 8 * 2 ** -23 * Math.abs(d)));
      expect(far).toEqual([]);
    }
  });

  test.each([['IndexPQ', false], ['IndexPreTransform', true]])('%s trained by Python, read here: same search, codes and model', (_, isOpq) => {
    const dir = tmp();
    const Xb = randomMatrix(3000, 16, 72);
    const Xq = randomMatrix(10, 16, 73);
    writeNpy(path.join(dir, 'Xb.npy'), Xb.data, Xb.shape);
    writeNpy(path.join(dir, 'Xq.npy'), Xq.data, Xq.shape);
    runPython(`
import sys, numpy as np, faiss
d = sys.argv[1]
Xb, Xq = np.load(d + '/Xb.npy'), np.load(d + '/Xq.npy')
index = faiss.IndexPQ(16, 4, 8)
if ${isOpq ? 'True' : 'False'}:
    index = faiss.IndexPreTransform(faiss.OPQMatrix(16, 4), index)
index.train(Xb)
index.add(Xb)
faiss.write_index(index, d + '/index.faiss')
D, I = index.search(Xq, 5)
np.save(d + '/labels.npy', I)
`, [dir]);
    const index = faiss.readIndex(path.join(dir, 'index.faiss'));
    expect(index).toBeInstanceOf(isOpq ? faiss.IndexPreTransform : faiss.IndexPQ);
    expect(Array.from(index.search(Xq, 5).labels)).toEqual(Array.from(readNpy(path.join(dir, 'labels.npy')).data));
    const [model, codes] = faissToNanopq(index);
    expect(model).toBeInstanceOf(isOpq ? OPQ : PQ);
    expect(Array.from(model.encode(Xb).data)).toEqual(Array.from(codes.data));
  });
});

describe('what Faiss allows and nanopq cannot express', () => {
  // Index files written with Python Faiss: a transform with a bias, and one that is not orthonormal.
  test.each([['a bias', 'True', '5.0'], ['a non-orthonormal A', 'False', '0.0']])('a transform with %s is refused by faissToNanopq', (_, bias, b) => {
    const dir = tmp();
    runPython(`
import sys, numpy as np, faiss
rng = np.random.default_rng(0)
X = rng.random((500, 8), dtype='float32')
lt = faiss.LinearTransform(8, 8, ${bias})
A = np.eye(8, dtype='float32') * (1.0 if ${bias} else 2.0)
faiss.copy_array_to_vector(A.ravel(), lt.A)
if ${bias}:
    faiss.copy_array_to_vector(np.full(8, ${b}, dtype='float32'), lt.b)
lt.is_trained = True
index = faiss.IndexPreTransform(lt, faiss.IndexPQ(8, 2, 4))
index.train(X)
index.add(X)
faiss.write_index(index, sys.argv[1] + '/index.faiss')
`, [dir]);
    const index = faiss.readIndex(path.join(dir, 'index.faiss'));
    expect(index.chain[0].isOrthonormal).toBe(bias === 'True');
    expect(() => faissToNanopq(index)).toThrow('Expected an orthonormal transform without bias (an OPQMatrix) in index.chain[0]');
    if (bias === 'False') expect(() => index.chain[0].reverseTransform(randomMatrix(2, 8))).toThrow('Expected an orthonormal transform for reverseTransform');
    expect(() => index.chain[0].train(randomMatrix(20, 8))).toThrow('Expected an OPQMatrix to train; a linear transform read from a file is trained already');
  });

  test('an untrained pre-transform index written here reads back', () => {
    const index = new faiss.IndexPreTransform(new faiss.OPQMatrix(8, 2), new faiss.IndexPQ(8, 2, 4));
    const back = faiss.readIndex(faiss.writeIndex(index));
    expect(back.isTrained).toBe(false);
    expect(back.chain[0].isTrained).toBe(false);
  });

  test('a non-orthonormal R is refused by OPQ.fromParts', () => {
    const cw = { data: randomMatrix(2 * 4, 2, 90).data, shape: [2, 4, 2] };
    const R = { data: Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2]), shape: [4, 4] };
    expect(() => OPQ.fromParts(R, cw)).toThrow('Expected an orthonormal R (|R^T R - I| <= 0.0001), got an entry off by 3');
  });

  test('large batches go to Faiss in blocks (a 16-bit IndexPQ searched with many queries)', () => {
    const index = new faiss.IndexPQ(16, 16, 16);
    index.pq.centroids = randomMatrix(16 * 65536, 1, 91).data;
    index.isTrained = true;
    const X = randomMatrix(1000, 16, 92);
    index.add(X);  // one call: 1000 x 16 x 65536 floats of tables if not split
    const { labels } = index.search({ data: X.data.subarray(0, 200 * 16), shape: [200, 16] }, 1);
    // Each vector's own code is at distance 0 of the vector's reconstruction, so it is found first or tied.
    expect(labels.length).toBe(200);
    expect(Number(labels[0])).toBeGreaterThanOrEqual(0);
  });
});

describe('addCodes: codes stored as they are, without encoding vectors again', () => {
  const Xt = randomMatrix(2000, 16, 93);
  const Xq = randomMatrix(10, 16, 94);

  test.each([['IndexPQ', PQ, 8], ['IndexPreTransform', OPQ, 8], ['IndexPQ (nbits 10, codes across bytes)', PQ, 10]])('%s: the codes added are faissToNanopq\'s, and search works', (_, Model, nbits) => {
    const model = new Model({ M: 4, Ks: 2 ** nbits });
    if (Model === OPQ) model.fit(Xt, { rotationIter: 2, pqIter: 3 }); else model.fit(Xt, { iter: 3 });
    const codes = model.encode(Xt);
    const index = nanopqToFaiss(model);
    index.addCodes({ data: codes.data.subarray(0, 1500 * 4), shape: [1500, 4] });
    index.addCodes({ data: codes.data.subarray(1500 * 4), shape: [500, 4] });  // appended after the first
    expect(index.ntotal).toBe(2000);
    const [, stored] = faissToNanopq(index);
    expect(stored.shape).toEqual([2000, 4]);
    expect(Array.from(stored.data)).toEqual(Array.from(codes.data));
    // The same index filled by add(): the same packed codes and the same search.
    const added = nanopqToFaiss(model);
    added.add(Xt);
    const inner = (i) => (i instanceof faiss.IndexPreTransform ? i.index : i);
    expect(Buffer.from(inner(index).codes).equals(Buffer.from(inner(added).codes))).toBe(true);
    const got = index.search(Xq, 5);
    const want = added.search(Xq, 5);
    expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
    expect(Array.from(got.distances)).toEqual(Array.from(want.distances));
  });

  // Through the IndexPreTransform, through the IndexPQ it was made of (inner),
  // or through its `index`: the IndexPreTransform counts them all, so its
  // file (which readIndex takes only when its ntotal is its index's) reads back.
  const ways = ['add', 'addAsync', 'addCodes'].flatMap((how) => [['pt', how], ['inner', how], ['pt.index', how]]);
  test.each(ways)('%s.%s: ntotal counts it; writeIndex -> readIndex gives the same index', async (through, how) => {
    const opq = new OPQ({ M: 4, Ks: 16 }).fit(Xt, { rotationIter: 2, pqIter: 3 });
    const transform = new faiss.OPQMatrix(16, 4);
    transform.A = nanopqToFaiss(opq).chain[0].A;
    const inner = new faiss.IndexPQ(16, 4, 4);
    inner.pq.centroids = opq.codewords.data;
    inner.isTrained = true;
    const pt = new faiss.IndexPreTransform(transform, inner);
    const target = { pt, inner, 'pt.index': pt.index }[through];
    const vectors = through === 'pt' ? Xt : opq.rotate(Xt);  // the IndexPQ takes rotated vectors
    if (how === 'addCodes') target.addCodes(opq.encode(Xt));
    else await target[how](vectors);
    expect([pt.ntotal, pt.index.ntotal, inner.ntotal]).toEqual([2000, 2000, 2000]);
    const back = faiss.readIndex(faiss.writeIndex(pt));
    expect([back.ntotal, back.index.ntotal]).toEqual([2000, 2000]);
    const [got, want] = [back.search(Xq, 5), pt.search(Xq, 5)];
    expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
    expect(Array.from(got.distances)).toEqual(Array.from(want.distances));
    expect(got.labels.every((id) => id >= 0n && id < 2000n)).toBe(true);
  });

  test('number[][] codes, and nothing added', () => {
    const index = new faiss.IndexPQ(4, 2, 4);
    index.pq.centroids = randomMatrix(2 * 16, 2, 95).data;
    index.isTrained = true;
    index.addCodes([]);
    expect(index.ntotal).toBe(0);
    index.addCodes([[1, 15], [0, 3]]);
    expect(Array.from(faissToNanopq(index)[1].data)).toEqual([1, 15, 0, 3]);
  });

  test('errors: wrong M, a code >= 2**nbits (nothing added), an untrained index', () => {
    const index = new faiss.IndexPQ(4, 2, 4);
    expect(() => index.addCodes([[0, 0]])).toThrow('Expected a trained index for addCodes(); call train() first');
    index.pq.centroids = randomMatrix(2 * 16, 2, 96).data;
    index.isTrained = true;
    expect(() => index.addCodes({ data: new Uint8Array(3), shape: [1, 3] })).toThrow('Expected codes to have M = 2 columns, got shape [1, 3]');
    expect(() => index.addCodes([[0, 16]])).toThrow('Expected integer codes in [0, Ks = 16) in codes, got 16 at codes[0][1]');
    expect(() => index.addCodes({ data: Uint8Array.from([1, 2, 3, 16]), shape: [2, 2] })).toThrow(RangeError);
    expect(() => index.addCodes({ data: Uint8Array.from([1, 2, 3, 16]), shape: [2, 2] })).toThrow('Expected codes < Ks = 16, got 16 at codes[1][1]');
    expect(index.ntotal).toBe(0);
    expect(() => index.addCodes({ data: new Float32Array(2), shape: [1, 2] })).toThrow(TypeError);
  });
});
