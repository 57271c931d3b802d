// Every Faiss index kind through the one Index interface: indexFactory, ids,
// search options per call, removal, reconstruction, range search, merging,
// the parts of an index, and bad input (a clear Error, never a crash).
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { faiss, faissToNanopq } = require('..');
const { randomMatrix } = require('./helpers/data');

const ROOT = path.join(__dirname, '..');
const d = 16;
// Clustered data, so that IVF lists and graph searches mean something.
function clustered(n, seed) {
  const centers = randomMatrix(8, d, 99);
  const noise = randomMatrix(n, d, seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) data[i * d + j] = centers.data[(i % 8) * d + j] * 4 + noise.data[i * d + j];
  }
  return { data, shape: [n, d] };
}
const xb = clustered(2000, 1);
const xq = clustered(20, 2);
const ids = BigInt64Array.from({ length: 2000 }, (_, i) => BigInt(1000 + 7 * i));

/** An index of description, trained on xb and holding it (under ids where it takes them). */
function built(description, metric = 'l2') {
  const index = faiss.indexFactory(d, description, metric);
  index.train(xb);
  if (index instanceof faiss.IndexIDMap) index.addWithIds(xb, ids);
  else index.add(xb);
  return index;
}

const kinds = [
  ['Flat', faiss.IndexFlat], ['PQ8np', faiss.IndexPQ], ['SQ8', faiss.IndexScalarQuantizer],
  ['IVF16,Flat', faiss.IndexIVFFlat], ['IVF16,PQ8np', faiss.IndexIVFPQ], ['IVF16,SQ8', faiss.IndexIVFScalarQuantizer],
  ['PQ8x4fs', faiss.IndexPQFastScan], ['IVF16,PQ8x4fs', faiss.IndexIVFPQFastScan],
  ['HNSW16', faiss.IndexHNSWFlat], ['HNSW16,PQ8np', faiss.IndexHNSWPQ], ['HNSW16,SQ8', faiss.IndexHNSWSQ],
  ['IDMap,Flat', faiss.IndexIDMap], ['IDMap2,Flat', faiss.IndexIDMap2],
  ['OPQ4,IVF16,PQ4np', faiss.IndexPreTransform], ['PCAR8,IVF16,Flat', faiss.IndexPreTransform],
  ['L2norm,Flat', faiss.IndexPreTransform], ['IVF16,PQ8np,RFlat', faiss.IndexRefineFlat],
];

describe.each(kinds)('indexFactory(d, %p)', (description, Kind) => {
  const index = built(description);

  test('is the class of its kind, an Index, and finds each vector of its own', () => {
    expect(index).toBeInstanceOf(Kind);
    expect(index).toBeInstanceOf(faiss.Index);
    expect(index.ntotal).toBe(2000);
    expect(index.d).toBe(d);
    const { labels, distances, shape } = index.search({ data: xb.data.subarray(0, 5 * d), shape: [5, d] }, 4);
    expect(shape).toEqual([5, 4]);
    expect(labels).toBeInstanceOf(BigInt64Array);
    const own = (i) => (index instanceof faiss.IndexIDMap ? ids[i] : BigInt(i));
    // Lossy codes may rank a near twin first; the vector itself is among the few nearest.
    for (let i = 0; i < 5; i++) expect(Array.from(labels.subarray(i * 4, i * 4 + 4))).toContain(own(i));
    expect(distances[0]).toBeLessThanOrEqual(distances[1]);
  });

  test('writeIndex gives bytes that readIndex makes the same index of', () => {
    const bytes = faiss.writeIndex(index);
    const back = faiss.readIndex(bytes);
    expect(back).toBeInstanceOf(Kind);
    expect(Buffer.compare(Buffer.from(faiss.writeIndex(back)), Buffer.from(bytes))).toBe(0);
    expect(back.search(xq, 5)).toEqual(index.search(xq, 5));
  });
});

describe('search options, per call', () => {
  test('an IVF search with nprobe equals a search after setting nprobe, and leaves the index as it was', () => {
    const ivf = built('IVF16,PQ8np');
    const perCall = ivf.search(xq, 10, { nprobe: 6 });
    expect(ivf.nprobe).toBe(1);
    const plain = ivf.search(xq, 10);
    expect(perCall.labels).not.toEqual(plain.labels);
    ivf.nprobe = 6;
    expect(ivf.search(xq, 10)).toEqual(perCall);
  });

  test.each(['IVF16,PQ8x4fs', 'OPQ4,IVF16,PQ4np'])('%s takes nprobe as its IVF does', (description) => {
    const index = built(description);
    const perCall = index.search(xq, 10, { nprobe: 5 });
    const ivf = [index.index, index].find((i) => i instanceof faiss.IndexIVF);
    ivf.nprobe = 5;
    expect(index.search(xq, 10)).toEqual(perCall);
  });

  // Their IVF is a read-only part: nprobe = nlist (every list) gives an exhaustive search's answer.
  test.each([['IDMap,IVF16,Flat', 'IDMap,Flat', {}], ['IVF16,SQ8,RFlat', 'Flat', { kFactor: 20 }]])('%s takes nprobe for its IVF', (description, exact, options) => {
    const index = built(description);
    const all = index.search(xq, 10, { nprobe: 16, ...options });
    expect(all.labels).toEqual(built(exact).search(xq, 10).labels);
    expect(index.search(xq, 10, { nprobe: 1, ...options }).labels).not.toEqual(all.labels);
  });

  test('an HNSW search with efSearch at or above its own equals a search after setting it', () => {
    const hnsw = built('HNSW16');
    hnsw.efSearch = 4;
    const perCall = hnsw.search(xq, 3, { efSearch: 40 });
    expect(hnsw.efSearch).toBe(4);
    hnsw.efSearch = 40;
    expect(hnsw.search(xq, 3)).toEqual(perCall);
  });

  test('a refine search with kFactor equals a search after setting kFactor', () => {
    const refine = built('IVF16,PQ4np,RFlat');
    const perCall = refine.search(xq, 5, { kFactor: 4, nprobe: 3 });
    refine.kFactor = 4;
    const base = refine.index;
    expect(base).toBeInstanceOf(faiss.IndexIVFPQ);
    expect(() => { base.nprobe = 3; }).toThrow(/part of another/);
    expect(refine.search(xq, 5, { nprobe: 3 })).toEqual(perCall);
  });

  test('concurrent searchAsync calls with different nprobe each get their own', async () => {
    const ivf = built('IVF16,Flat');
    const expected = [1, 4, 16].map((nprobe) => ivf.search(xq, 10, { nprobe }));
    const got = await Promise.all([1, 4, 16].map((nprobe) => ivf.searchAsync(xq, 10, { nprobe })));
    expect(got).toEqual(expected);
    const fastScan = built('IVF16,PQ8x4fs');
    const fsExpected = [2, 8].map((nprobe) => fastScan.search(xq, 10, { nprobe }));
    expect(await Promise.all([2, 8].map((nprobe) => fastScan.searchAsync(xq, 10, { nprobe })))).toEqual(fsExpected);
  });

  test('options a kind does not take, or out of range, are refused naming them', () => {
    const ivf = built('IVF16,Flat');
    expect(() => ivf.search(xq, 5, { efSearch: 10 })).toThrow(/IndexIVFFlat takes \(nprobe, maxCodes\), got efSearch/);
    expect(() => ivf.search(xq, 5, { nprobee: 10 })).toThrow(TypeError);
    expect(() => ivf.search(xq, 5, { nprobe: 0 })).toThrow(RangeError);
    expect(() => ivf.search(xq, 5, { nprobe: 17 })).toThrow(/nprobe <= 16/);
    expect(() => { ivf.nprobe = 17; }).toThrow(RangeError);
    expect(() => built('Flat').search(xq, 5, { nprobe: 1 })).toThrow(/IndexFlat takes \(none\)/);
    expect(() => built('HNSW16').search(xq, 5, { efSearch: 0 })).toThrow(RangeError);
    expect(() => ivf.search(xq, 5, 'fast')).toThrow(TypeError);
  });
});

describe('fewer results than k', () => {
  test('are label -1 and the distance Faiss gives no result: FLT_MAX for l2, -FLT_MAX for dot', async () => {
    for (const [metric, none] of [['l2', 3.4028234663852886e38], ['dot', -3.4028234663852886e38]]) {
      const flat = faiss.indexFactory(d, 'Flat', metric);
      flat.add({ data: xb.data.subarray(0, 2 * d), shape: [2, d] });
      for (const r of [flat.search(xq, 3), await flat.searchAsync(xq, 3)]) {
        expect(r.shape).toEqual([20, 3]);
        for (let q = 0; q < 20; q++) {
          expect(r.labels[q * 3 + 2]).toBe(-1n);
          expect(r.distances[q * 3 + 2]).toBe(none);
          expect(new Set(r.labels.subarray(q * 3, q * 3 + 2))).toEqual(new Set([0n, 1n]));
        }
      }
    }
    // An IVF visiting one list of 16 finds fewer than k = 500 of the 2000 it holds.
    const ivf = built('IVF16,Flat');
    const { labels } = ivf.search(xq, 500, { nprobe: 1 });
    expect(labels).toContain(-1n);
  });
});

describe('ids', () => {
  test('an IDMap returns the ids it was given, as BigInt64Array or numbers', () => {
    const index = faiss.indexFactory(d, 'IDMap2,Flat');
    index.addWithIds(xb, Array.from(ids, Number));
    expect(index.search({ data: xb.data.subarray(3 * d, 4 * d), shape: [1, d] }, 1).labels[0]).toBe(ids[3]);
    expect(index.idMap).toEqual(ids);
    expect(index.reconstruct(ids[3])).toEqual(xb.data.subarray(3 * d, 4 * d));
    expect(() => index.reconstruct(5)).toThrow(/ids the index holds/);
  });

  test('an IVF takes ids of its own; removeIds removes them and says how many', () => {
    const ivf = faiss.indexFactory(d, 'IVF16,Flat');
    ivf.train(xb);
    ivf.addWithIds(xb, ids);
    expect(ivf.removeIds([ids[0], ids[1], 5n, 123456789])).toBe(2);
    expect(ivf.ntotal).toBe(1998);
    const { labels } = ivf.search(xb, 1, { nprobe: 16 });
    expect(labels).not.toContain(ids[0]);
  });

  test('an IVF with a hash-table direct map removes ids (Faiss takes only an id array there) and reconstructs the others', () => {
    const ivf = faiss.indexFactory(d, 'IVF16,Flat');
    ivf.train(xb);
    ivf.addWithIds(xb, ids);
    expect(() => ivf.removeIds([ids[0]])).not.toThrow();
    ivf.makeDirectMap('hashtable');
    expect(ivf.removeIds([ids[1], ids[2], ids[2], 5n])).toBe(2);
    expect(ivf.ntotal).toBe(1997);
    expect(() => ivf.reconstruct(ids[1])).toThrow();
    expect(ivf.reconstruct(ids[3])).toEqual(xb.data.subarray(3 * d, 4 * d));
    expect(ivf.search(xb, 1, { nprobe: 16 }).labels).not.toContain(ids[2]);
  });

  test('an IDMap over an IVF cannot merge (Faiss 1.7.3 would not shift the other\'s row numbers: wrong ids)', () => {
    const a = faiss.indexFactory(d, 'IDMap,IVF16,Flat');
    a.train(xb);
    a.addWithIds(xb, ids);
    const b = faiss.readIndex(faiss.writeIndex(a));
    expect(() => a.mergeFrom(b)).toThrow(/IndexIDMap over an index that does not number its vectors in order cannot merge/);
    expect([a.ntotal, b.ntotal]).toEqual([2000, 2000]);
  });

  test('ids of the wrong length, type or sign are refused; a kind without ids says what to use', () => {
    const map = faiss.indexFactory(d, 'IDMap,Flat');
    expect(() => map.addWithIds(xb, ids.subarray(0, 10))).toThrow(/Expected 2000 ids/);
    expect(() => map.addWithIds(xb, new Int32Array(2000))).toThrow(TypeError);
    expect(() => map.addWithIds(xb, [1.5])).toThrow(TypeError);
    expect(() => map.addWithIds({ data: xb.data.subarray(0, d), shape: [1, d] }, [-1])).toThrow(RangeError);
    expect(() => map.add(xb)).toThrow(/addWithIds/);
    expect(() => built('Flat').addWithIds(xb, ids)).toThrow(/wrap it in an IDMap/);
    expect(map.ntotal).toBe(0);
  });

  test('removeIds where Faiss cannot, and over an index that does not number in order, is refused before Faiss', () => {
    expect(() => built('HNSW16').removeIds([1])).toThrow(/cannot remove/);
    expect(() => built('IVF16,PQ8x4fs').removeIds([1])).toThrow(/cannot remove/);
    const mapOverIvf = faiss.indexFactory(d, 'IDMap,IVF16,Flat');
    mapOverIvf.train(xb);
    mapOverIvf.addWithIds(xb, ids);
    expect(() => mapOverIvf.removeIds([ids[0]])).toThrow(/does not number its vectors in order/);
    const flat = built('Flat');
    expect(flat.removeIds(new BigInt64Array([0n, 1999n]))).toBe(2);
    expect(flat.reconstruct(0)).toEqual(xb.data.subarray(d, 2 * d));
  });
});

describe('reconstruct, reset, mergeFrom, rangeSearch', () => {
  test('reconstruct checks ids; an IVF needs its direct map', () => {
    const flat = built('Flat');
    expect(flat.reconstructN(10, 2).data).toEqual(xb.data.subarray(10 * d, 12 * d));
    expect(() => flat.reconstruct(2000)).toThrow(RangeError);
    expect(() => flat.reconstructN(1999, 2)).toThrow(RangeError);
    expect(() => flat.reconstructN(0, 2 ** 31 - 1)).toThrow('Expected 0 <= n <= 2000, got 2147483647');
    expect(() => flat.reconstruct(-1)).toThrow(RangeError);
    const ivf = built('IVF16,Flat');
    expect(() => ivf.reconstruct(0)).toThrow(/makeDirectMap/);
    ivf.makeDirectMap();
    expect(ivf.directMap).toBe('array');
    expect(ivf.reconstruct(7)).toEqual(xb.data.subarray(7 * d, 8 * d));
    expect(() => ivf.reconstruct(2000)).toThrow();
    expect(() => ivf.addWithIds(xq, new BigInt64Array(20))).toThrow(/sequential ids/);
    const withIds = faiss.indexFactory(d, 'IVF16,Flat');
    withIds.train(xb);
    withIds.addWithIds(xb, ids);
    expect(() => withIds.makeDirectMap('array')).toThrow();
    expect(withIds.directMap).toBe('none');
    withIds.makeDirectMap('hashtable');
    expect(withIds.reconstruct(ids[9])).toEqual(xb.data.subarray(9 * d, 10 * d));
    expect(() => withIds.makeDirectMap('tree')).toThrow(/'none', 'array' or 'hashtable'/);
  });

  test('reset empties an index, which stays trained', () => {
    const ivf = built('IVF16,PQ8np');
    ivf.reset();
    expect([ivf.ntotal, ivf.isTrained]).toEqual([0, true]);
    expect(ivf.search(xq, 5).labels).toEqual(new BigInt64Array(100).fill(-1n));
  });

  test('mergeFrom moves the vectors of an index of the same kind, shifting IVF ids by addId', () => {
    const a = built('IVF16,Flat');
    const b = faiss.readIndex(faiss.writeIndex(a));
    const before = a.search(xq, 3, { nprobe: 16 });
    a.mergeFrom(b, 2000);
    expect([a.ntotal, b.ntotal]).toEqual([4000, 0]);
    const after = a.search(xq, 6, { nprobe: 16 });
    for (let i = 0; i < 20; i++) {
      const row = Array.from(after.labels.subarray(i * 6, i * 6 + 6));
      expect(row).toContain(before.labels[i * 3]);
      expect(row).toContain(before.labels[i * 3] + 2000n);
    }
    expect(() => a.mergeFrom(a)).toThrow(/the same/);
    expect(() => a.mergeFrom(built('Flat'))).toThrow(/Expected an IndexIVFFlat/);
    expect(() => built('HNSW16').mergeFrom(built('HNSW16'))).toThrow(/cannot merge/);
  });

  // Found by scripts/fuzz.js: Faiss compares the quantizers' nlist centroids, which an untrained one does not hold (a segfault).
  test.each(['IVF16,Flat', 'PCAR8,IVF16,Flat', 'IVF16,PQ4np'])('mergeFrom an untrained %s is refused, either way', (description) => {
    const untrained = () => faiss.indexFactory(d, description);
    expect(() => untrained().mergeFrom(untrained())).toThrow(/Expected trained indexes for mergeFrom\(\)/);
    expect(() => untrained().mergeFrom(built(description))).toThrow(/Expected trained indexes/);
    expect(() => built(description).mergeFrom(untrained())).toThrow(/Expected trained indexes/);
  });

  test('rangeSearch finds what an exhaustive scan finds', () => {
    const flat = built('Flat');
    const q = { data: xq.data.subarray(0, 2 * d), shape: [2, d] };
    const { distances } = flat.search(q, 2000);
    const radius = distances[50];
    const found = flat.rangeSearch(q, radius);
    expect(found.lims.length).toBe(3);
    const first = distances.subarray(0, 2000).filter((v) => v < radius).length;
    expect(found.lims[1]).toBe(first);
    expect(() => built('HNSW16').rangeSearch(q, 1)).toThrow(/no range search/);
    expect(() => flat.rangeSearch(q, NaN)).toThrow(TypeError);
  });

  // Queries go to Faiss in blocks of at most 2**26 / ntotal rows (958 here), so that a radius taking
  // in everything cannot grow Faiss's lists until an allocation fails inside its threads.
  test('rangeSearch over blocks of queries gives what it gives query by query; more than 2**26 results is a RangeError', async () => {
    const wide = faiss.indexFactory(2, 'Flat');
    wide.add({ data: Float32Array.from({ length: 70000 * 2 }, (_, i) => Math.sin(i * 1.7)), shape: [70000, 2] });
    const q = { data: Float32Array.from({ length: 2000 * 2 }, (_, i) => Math.cos(i * 0.3)), shape: [2000, 2] };
    const all = await wide.rangeSearchAsync(q, 1e-4);
    expect(all.lims.length).toBe(2001);
    for (const at of [0, 957, 958, 1915, 1999]) {
      const one = wide.rangeSearch({ data: q.data.subarray(2 * at, 2 * at + 2), shape: [1, 2] }, 1e-4);
      expect(all.lims[at + 1] - all.lims[at]).toBe(one.lims[1]);
      expect(all.labels.subarray(all.lims[at], all.lims[at + 1])).toEqual(one.labels);
    }
    expect(all.lims[2000]).toBe(all.labels.length);
    const tooMany = /^Expected a radius that finds at most 67108864 results in all, got more in the first 1916 queries$/;
    await expect(wide.rangeSearchAsync(q, 1e30)).rejects.toThrow(tooMany);
  });
});

describe('conversion', () => {
  test.each(['IVF16,PQ8np', 'HNSW16,PQ8np', 'IVF16,PQ8x4fs'])('the pq of %s converts to a PQ; the index itself is refused, named', (description) => {
    const index = built(description);
    const { pq } = index;
    const [model, codes] = faissToNanopq(pq);
    expect([model.M, model.Ks, codes.shape]).toEqual([pq.M, 2 ** pq.nbits, [0, pq.M]]);
    expect(model.encode(xq)).toEqual(pq.computeCodes(xq));
    expect(() => faissToNanopq(index)).toThrow(`got an ${index.constructor.name} (${index.description})`);
  });
});

describe('parts', () => {
  test('mergeFrom refuses an index into itself, also through two IndexPreTransforms over it (Faiss read the lists it grew)', () => {
    const ivf = built('IVF16,Flat');
    const t = new faiss.OPQMatrix(d, 4);
    t.A = Float32Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0));
    const one = new faiss.IndexPreTransform(t, ivf);
    const two = new faiss.IndexPreTransform(t, ivf);
    const same = /^Expected another index for argument 1, got the same \(or one over the same index\)$/;
    expect(() => ivf.mergeFrom(ivf)).toThrow(same);
    expect(() => two.mergeFrom(one)).toThrow(same);
    expect(() => one.mergeFrom(one.index)).toThrow(TypeError);
    expect([ivf.ntotal, one.ntotal, two.ntotal]).toEqual([2000, 2000, 2000]);
  });


  test('the parts of an index are read-only; an IndexPreTransform\'s index takes vectors', () => {
    const ivf = built('IVF16,PQ8np');
    expect(ivf.quantizer).toBeInstanceOf(faiss.IndexFlat);
    expect(ivf.quantizer.ntotal).toBe(16);
    expect(() => ivf.quantizer.add(xq)).toThrow(/part of another/);
    expect(() => ivf.quantizer.reset()).toThrow(/part of another/);
    expect(ivf.pq.M).toBe(8);
    const hnsw = built('HNSW16,SQ8');
    expect(hnsw.storage).toBeInstanceOf(faiss.IndexScalarQuantizer);
    expect(() => hnsw.storage.add(xq)).toThrow(/part of another/);
    const map = built('IDMap,Flat');
    expect(() => map.index.removeIds([0])).toThrow(/part of another/);
    const refine = built('PQ8np,RFlat');
    expect(refine.refineIndex).toBeInstanceOf(faiss.IndexFlat);
    expect(() => refine.index.add(xq)).toThrow(/part of another/);
    const pre = built('PCAR8,IVF16,Flat');
    pre.index.add(pre.chain[0].apply(xq));
    expect(pre.ntotal).toBe(2020);
    expect(() => pre.index.quantizer.add(pre.chain[0].apply(xq))).toThrow(/part of another/);
    expect(() => new faiss.IndexPreTransform(pre.chain[0], ivf.quantizer)).toThrow();
  });

  test('settings are refused while an async call runs, and taken after', async () => {
    const ivf = built('IVF16,Flat');
    const running = ivf.searchAsync(xb, 10, { nprobe: 16 });
    expect(() => { ivf.nprobe = 4; }).toThrow(/wait for it to settle/);
    await running;
    ivf.nprobe = 4;
    expect(ivf.nprobe).toBe(4);
  });
});

describe('bad input', () => {
  test('wrong d, untrained add, k <= 0, a disposed index', () => {
    const ivf = faiss.indexFactory(d, 'IVF16,PQ8np');
    expect(() => ivf.add(xb)).toThrow(/train\(\) first/);
    expect(() => ivf.train(randomMatrix(100, d + 1))).toThrow(RangeError);
    ivf.train(xb);
    ivf.add(xb);
    expect(() => ivf.search(xq, 0)).toThrow(RangeError);
    ivf.dispose();
    expect(() => ivf.search(xq, 1)).toThrow(/disposed/);
  });

  test('a description Faiss refuses is an Error with its message; numbers Faiss would crash on are refused first', () => {
    expect(() => faiss.indexFactory(d, 'IVF16,Fla')).toThrow(/Faiss/);
    // Fast scan's block size: 0 divides by zero; one without a search kernel aborts (found by scripts/fuzz.js).
    // A random rotation to many more dimensions: out**2 entries past 2**31 crash (found by scripts/fuzz.js).
    for (const bad of ['RR65536,Flat', 'RR1025,Flat', 'RR46341,Flat']) expect(() => faiss.indexFactory(8, bad)).toThrow(RangeError);
    expect(faiss.indexFactory(8, 'RR1024,Flat').d).toBe(8);
    const blocks = ['PQ8x4fs_0', 'PQ8x4fs_64', 'IVF16,PQ8x4fs_0', 'IVF16,PQ8x4fs_48', 'IVF16,PQ8x4fs_192', 'IVF16,PQ8x4fsr_1024'];
    for (const bad of ['PQ0', 'HNSW0', 'HNSW1', 'IVF0,Flat', 'IVF16,PQ8x0', 'OPQ0,PQ8', 'OPQ4_32,PQ4', 'IVF100000000,Flat', 'PCA32,Flat', ...blocks]) {
      expect(() => faiss.indexFactory(d, bad)).toThrow(RangeError);
    }
    expect(faiss.indexFactory(d, 'IVF16,PQ8x4fs_160')).toBeInstanceOf(faiss.IndexIVFPQFastScan);
    expect(faiss.indexFactory(d, 'PQ8x4fs_32')).toBeInstanceOf(faiss.IndexPQFastScan);
    expect(() => faiss.indexFactory(d, 'LSH')).toThrow(/IndexLSH/);
    expect(() => faiss.indexFactory(0, 'Flat')).toThrow(RangeError);
    expect(() => faiss.indexFactory(d, 'Flat', 'cosine')).toThrow(TypeError);
  });

  test('nothing is printed with Faiss\'s defaults (training on few points prints no warning)', () => {
    const script = `
      const { faiss } = require(${JSON.stringify(ROOT)});
      const x = { data: Float32Array.from({ length: 300 * 16 }, (_, i) => Math.sin(i)), shape: [300, 16] };
      for (const f of ['IVF64,PQ8np', 'OPQ4,IVF16,PQ4np', 'HNSW8,PQ8np', 'PQ8x4fs', 'IVF16,PQ8x4fs', 'IVF16,SQ4,RFlat']) {
        const ix = faiss.indexFactory(16, f); ix.train(x); ix.add(x); ix.search(x, 3);
        faiss.readIndex(faiss.writeIndex(ix)).train(x);
      }`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout + run.stderr).toBe('');
  });
});
