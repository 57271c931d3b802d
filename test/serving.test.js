// Serving: batched search, the async twins, threads, dispose. Results are
// checked against the synchronous, per-query calls; no timings here.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { PQ, OPQ, AbortError, faiss, io, setNumThreads, getNumThreads, nanopqToFaiss } = require('..');
const { randomMatrix } = require('./helpers/data');

const ROOT = path.join(__dirname, '..');
const D = 16;
const Xt = randomMatrix(1200, D, 11);
const Xq = randomMatrix(37, D, 12);  // not a multiple of any vector width

function row(x, i) {
  return x.data.subarray(i * x.shape[1], (i + 1) * x.shape[1]);
}

function rejection(promise) {
  return promise.then(() => { throw new Error('expected a rejection'); }, (err) => err);
}

// search must give, row by row, dtable(query).topk(codes, k): the same ids
// and the very same distances.
function expectSearchEqualsTopk(model, queries, codes, k) {
  const found = model.search(queries, codes, k);
  const rows = codes.shape[0];
  expect(found.shape).toEqual([queries.shape[0], Math.min(k, rows)]);
  for (let q = 0; q < queries.shape[0]; q++) {
    const top = model.dtable(row(queries, q)).topk(codes, k);
    const n = found.shape[1];
    expect(Array.from(found.ids.subarray(q * n, (q + 1) * n))).toEqual(Array.from(top.ids));
    expect(Array.from(found.dists.subarray(q * n, (q + 1) * n))).toEqual(Array.from(top.dists));
  }
  return found;
}

describe('search', () => {
  test.each([
    ['PQ l2, Ks 256', () => new PQ({ M: 4, Ks: 256 }).fit(Xt, { iter: 5 })],
    ['PQ dot, Ks 10', () => new PQ({ M: 4, Ks: 10, metric: 'dot' }).fit(Xt, { iter: 5 })],
    ['PQ l2, Ks 500 (uint16 codes)', () => new PQ({ M: 2, Ks: 500 }).fit(Xt, { iter: 3 })],
    ['OPQ l2, Ks 16', () => new OPQ({ M: 4, Ks: 16 }).fit(Xt, { pqIter: 5, rotationIter: 3 })],
    ['OPQ dot, Ks 256', () => new OPQ({ M: 8, Ks: 256, metric: 'dot' }).fit(Xt, { pqIter: 3, rotationIter: 2 })],
  ])('%s: each row is dtable(query).topk(codes, k), ids and distances', (_, make) => {
    const model = make();
    const codes = model.encode(Xt);
    for (const k of [1, 10]) expectSearchEqualsTopk(model, Xq, codes, k);
    expectSearchEqualsTopk(model, { data: row(Xq, 3), shape: [1, D] }, codes, 7);  // one query
  });

  test('a codebook too large to interleave the tables of many queries (Ks 20,000): each query alone', () => {
    const codewords = randomMatrix(4 * 20000, 4, 13);
    const pq = PQ.fromCodewords({ data: codewords.data, shape: [4, 20000, 4] });
    const codes = { data: Uint16Array.from({ length: 3000 * 4 }, (_, i) => (i * 7919) % 20000), shape: [3000, 4] };
    expectSearchEqualsTopk(pq, Xq, codes, 4);
  });

  test('best first: smallest for l2, largest for dot; ties to the lower id', () => {
    const pq = new PQ({ M: 4, Ks: 16 }).fit(Xt, { iter: 3 });
    const codes = pq.encode(Xt);
    // Every code twice: each pair ties, and the lower id comes first.
    const twice = { data: new Uint8Array(codes.data.length * 2), shape: [codes.shape[0] * 2, 4] };
    twice.data.set(codes.data);
    twice.data.set(codes.data, codes.data.length);
    const found = expectSearchEqualsTopk(pq, Xq, twice, 6);
    for (let q = 0; q < Xq.shape[0]; q++) {
      const dists = found.dists.subarray(q * 6, q * 6 + 6), ids = found.ids.subarray(q * 6, q * 6 + 6);
      for (let j = 1; j < 6; j++) {
        expect(dists[j]).toBeGreaterThanOrEqual(dists[j - 1]);
        if (dists[j] === dists[j - 1]) expect(ids[j]).toBeGreaterThan(ids[j - 1]);
      }
    }
    const dot = new PQ({ M: 4, Ks: 16, metric: 'dot' }).fit(Xt, { iter: 3 });
    const byDot = expectSearchEqualsTopk(dot, Xq, dot.encode(Xt), 5);
    for (let j = 1; j < 5; j++) expect(byDot.dists[j]).toBeLessThanOrEqual(byDot.dists[j - 1]);
  });

  test('k larger than N gives N; number[][] queries and codes work', () => {
    const pq = new PQ({ M: 4, Ks: 16 }).fit(Xt, { iter: 3 });
    const codes = [[1, 2, 3, 4], [4, 3, 2, 1], [0, 0, 0, 0]];
    const found = pq.search([Array.from(row(Xq, 0)), Array.from(row(Xq, 1))], codes, 50);
    expect(found.shape).toEqual([2, 3]);
    expect(found.ids).toHaveLength(6);
    expect(Array.from(found.ids.subarray(0, 3)).sort()).toEqual([0, 1, 2]);
  });

  test('the same results at 1 and 3 threads', () => {
    const pq = new PQ({ M: 4, Ks: 256 }).fit(Xt, { iter: 3 });
    const codes = pq.encode(Xt);
    const before = getNumThreads();
    try {
      setNumThreads(1);
      expect(getNumThreads()).toBe(1);
      const one = pq.search(Xq, codes, 10);
      setNumThreads(3);
      const three = pq.search(Xq, codes, 10);
      expect(Array.from(three.ids)).toEqual(Array.from(one.ids));
      expect(Array.from(three.dists)).toEqual(Array.from(one.dists));
    } finally {
      setNumThreads(before);
    }
  });

  test('bad input: errors that name the argument', () => {
    const pq = new PQ({ M: 4, Ks: 10 }).fit(Xt, { iter: 2 });
    const codes = pq.encode(Xt);
    expect(() => pq.search(randomMatrix(2, 8), codes, 1)).toThrow(new RangeError('Expected queries to have 16 columns (D), got shape [2, 8]'));
    expect(() => pq.search(Xq, codes, 0)).toThrow(new RangeError('Expected 1 <= k <= 9007199254740991, got 0'));
    expect(() => pq.search(Xq, codes, 1.5)).toThrow(new TypeError('Expected an integer for k, got 1.5'));
    expect(() => pq.search(Xq, { data: Uint8Array.from([0, 1, 2, 10]), shape: [1, 4] }, 1))
      .toThrow(new RangeError('Expected codes < Ks = 10, got 10 at codes[0][3]'));
    expect(() => pq.search(Xq, { data: new Uint8Array(8), shape: [2, 3] }, 1))
      .toThrow(new RangeError('Expected codes to have M = 4 columns, got shape [2, 3]'));
    expect(() => new PQ({ M: 4 }).search(Xq, codes, 1))
      .toThrow(new TypeError('Expected a fitted PQ for search(); call fit() or PQ.fromCodewords() first'));
    expect(() => setNumThreads(0)).toThrow(new RangeError('Expected 1 <= n <= 4096, got 0'));
    expect(() => setNumThreads('2')).toThrow(new TypeError("Expected an integer for n, got '2'"));
  });
});

describe('async twins', () => {
  test('fitAsync, encodeAsync and searchAsync give what fit, encode and search give', async () => {
    for (const [make, options] of [[() => new PQ({ M: 4, Ks: 16 }), { iter: 4, seed: 3 }],
      [() => new OPQ({ M: 4, Ks: 16 }), { pqIter: 4, rotationIter: 3, seed: 3 }]]) {
      const sync = make().fit(Xt, options);
      const model = make();
      expect(await model.fitAsync(Xt, options)).toBe(model);
      expect(model.equals(sync)).toBe(true);
      const codes = await model.encodeAsync(Xt);
      expect(Array.from(codes.data)).toEqual(Array.from(sync.encode(Xt).data));
      expect(await model.searchAsync(Xq, codes, 5)).toEqual(sync.search(Xq, codes, 5));
    }
  });

  test('many searchAsync and encodeAsync at once on one model, and on several', async () => {
    const a = new PQ({ M: 4, Ks: 256 }).fit(Xt, { iter: 3 }), b = new OPQ({ M: 4, Ks: 16 }).fit(Xt, { rotationIter: 2 });
    const codesA = a.encode(Xt), codesB = b.encode(Xt);
    const calls = [];
    for (let i = 0; i < 6; i++) calls.push(a.searchAsync(Xq, codesA, 3), b.searchAsync(Xq, codesB, 4), a.encodeAsync(Xq));
    const results = await Promise.all(calls);
    for (let i = 0; i < 6; i++) {
      expect(results[3 * i]).toEqual(a.search(Xq, codesA, 3));
      expect(results[3 * i + 1]).toEqual(b.search(Xq, codesB, 4));
      expect(results[3 * i + 2]).toEqual(a.encode(Xq));
    }
  });

  test('fit and fitAsync are refused while an async call runs; reads are not', async () => {
    const pq = new PQ({ M: 4, Ks: 16 }).fit(Xt, { iter: 2 });
    const codes = pq.encode(Xt);
    const running = pq.searchAsync(Xq, codes, 3);
    expect(() => pq.fit(Xt)).toThrow(new Error('Expected no async call running on this PQ for fit(); wait for it to settle first'));
    await expect(pq.fitAsync(Xt)).rejects.toThrow('Expected no async call running on this PQ for fitAsync(); wait for it to settle first');
    expect(pq.search(Xq, codes, 3)).toEqual(await running);
    pq.fit(Xt, { iter: 2 });  // allowed again once settled
    // During fitAsync, reads use the model as it was.
    const before = pq.encode(Xq);
    const fitting = pq.fitAsync(Xt, { iter: 5, seed: 9 });
    expect(pq.encode(Xq)).toEqual(before);
    await fitting;
    expect(pq.equals(new PQ({ M: 4, Ks: 16 }).fit(Xt, { iter: 5, seed: 9 }))).toBe(true);
  });

  test('aborting fitAsync rejects with an AbortError and leaves the model as it was', async () => {
    const pq = new PQ({ M: 4, Ks: 16 }).fit(Xt, { iter: 2 });
    const codewords = pq.codewords.data;
    const controller = new AbortController();
    let steps = 0;
    const fitting = pq.fitAsync(Xt, {
      iter: 1000000, signal: controller.signal,
      onProgress: () => { if (++steps === 3) controller.abort('enough'); },
    });
    const err = await rejection(fitting);
    expect(err).toBeInstanceOf(AbortError);
    expect([err.name, err.code, err.cause]).toEqual(['AbortError', 'ABORT_ERR', 'enough']);
    expect(err.stack).toMatch(/serving\.test\.js/);
    expect(steps).toBeGreaterThanOrEqual(3);
    expect(steps).toBeLessThan(1000);
    expect(Array.from(pq.codewords.data)).toEqual(Array.from(codewords));
    // An aborted signal rejects at once; an OPQ stops too.
    await expect(pq.fitAsync(Xt, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    const opq = new OPQ({ M: 4, Ks: 16 });
    const stop = new AbortController();
    const opqFitting = opq.fitAsync(Xt, { rotationIter: 100000, signal: stop.signal, onProgress: () => stop.abort() });
    await expect(opqFitting).rejects.toBeInstanceOf(AbortError);
    expect(opq.R).toBeNull();
  });

  test('onProgress: every iteration, on the event loop, in order; a throw in it rejects fitAsync', async () => {
    const seen = [];
    await new PQ({ M: 4, Ks: 16 }).fitAsync(Xt, { iter: 4, onProgress: (p) => seen.push(p) });
    expect(seen).toEqual([1, 2, 3, 4].map((iteration) => ({ phase: 'kmeans', iteration, of: 4 })));
    const opqSeen = [];
    await new OPQ({ M: 4, Ks: 16 }).fitAsync(Xt, { pqIter: 2, rotationIter: 3, onProgress: (p) => opqSeen.push(`${p.phase} ${p.iteration}/${p.of}`) });
    expect(opqSeen).toEqual(['rotation 1/2', 'rotation 2/2', 'kmeans 1/2', 'kmeans 2/2']);
    const boom = new Error('boom');
    await expect(new PQ({ M: 4, Ks: 16 }).fitAsync(Xt, { iter: 100000, onProgress: () => { throw boom; } })).rejects.toBe(boom);
  });

  test('bad input rejects with the errors the sync calls throw, with the caller\'s stack', async () => {
    const pq = new PQ({ M: 4, Ks: 10 }).fit(Xt, { iter: 2 });
    const nan = randomMatrix(3, D);
    nan.data[2 * D + 5] = NaN;
    const err = await rejection(pq.encodeAsync(nan));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toBe('Expected finite values in vecs, got NaN at vecs[2][5]');
    expect(err.stack).toMatch(/serving\.test\.js/);
    await expect(pq.searchAsync(nan, pq.encode(Xt), 2)).rejects.toThrow(new RangeError('Expected finite values in queries, got NaN at queries[2][5]'));
    await expect(pq.searchAsync(Xq, { data: Uint8Array.from([0, 1, 2, 10]), shape: [1, 4] }, 1))
      .rejects.toThrow(new RangeError('Expected codes < Ks = 10, got 10 at codes[0][3]'));
    await expect(pq.searchAsync(Xq, pq.encode(Xt), -1)).rejects.toThrow(RangeError);
    await expect(pq.fitAsync(nan)).rejects.toThrow(new RangeError('Expected more training vectors than Ks = 10 in vecs, got N = 3'));
    const big = randomMatrix(100, D);
    big.data[7] = 1e20;
    await expect(pq.fitAsync(big)).rejects.toThrow(new RangeError('Expected values of magnitude <= 1000000000000000 in vecs, got 100000002004087730000 at vecs[0][7]'));
    await expect(pq.fitAsync(Xt, { iters: 3 })).rejects.toThrow(new TypeError('Unknown option "iters" for PQ.fitAsync; expected one of iter, seed, minit'));
    await expect(pq.fitAsync(Xt, { signal: 'stop' })).rejects.toThrow(new TypeError("Expected an AbortSignal for signal, got 'stop'"));
    await expect(pq.fitAsync(Xt, { onProgress: 1 })).rejects.toThrow(new TypeError('Expected a function for onProgress, got 1'));
    await expect(pq.fitAsync(Xt, null)).rejects.toThrow(new TypeError('Expected an options object for PQ.fitAsync, got null'));
    await expect(new OPQ({ M: 4 }).encodeAsync(Xt)).rejects.toThrow(new TypeError('Expected a fitted OPQ for encodeAsync(); call fit() or OPQ.fromParts() first'));
  });

  test('inputs dropped and collected while async calls run do not crash', () => {
    const script = `
      const { PQ, OPQ } = require(${JSON.stringify(ROOT)});
      const make = (n, d) => ({ data: Float32Array.from({ length: n * d }, () => Math.random()), shape: [n, d] });
      (async () => {
        for (let round = 0; round < 5; round++) {
          const calls = [];
          let pq = new PQ({ M: 4, Ks: 16 }).fit(make(500, 16), { iter: 2 });
          calls.push(pq.encodeAsync(make(3000, 16)), pq.searchAsync(make(50, 16), pq.encode(make(3000, 16)), 5),
            new OPQ({ M: 4, Ks: 16 }).fitAsync(make(800, 16), { rotationIter: 3 }));
          pq.dispose();
          pq = null;
          for (let i = 0; i < 3; i++) { global.gc(); await new Promise((r) => setImmediate(r)); }
          const [codes, found] = await Promise.all(calls);
          if (codes.shape[0] !== 3000 || found.shape[0] !== 50) throw new Error('wrong result');
        }
        console.log('ok');
      })();`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect([r.status, r.signal, r.stdout.trim()]).toEqual([0, null, 'ok']);
  });

  test('many async calls at once, on one model and on several, give the sync results while collections run', () => {
    const script = `
      const { PQ, OPQ, faiss } = require(${JSON.stringify(ROOT)});
      const addon = require(${JSON.stringify(path.join(ROOT, 'dist', 'core', 'native.js'))}).native;
      let seed = 1;
      const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
      const make = (n, d) => ({ data: Float32Array.from({ length: n * d }, random), shape: [n, d] });
      const bytes = (a) => { const v = a.data ?? a; return Buffer.from(v.buffer, v.byteOffset, v.byteLength); };
      const same = (a, b) => Buffer.compare(bytes(a), bytes(b)) === 0;
      (async () => {
        const x = make(2000, 16), q = make(40, 16);
        let models = [new PQ({ M: 4, Ks: 16 }).fit(x, { iter: 3 }), new OPQ({ M: 4, Ks: 16 }).fit(x, { pqIter: 3, rotationIter: 2 })];
        let index = new faiss.IndexPQ(16, 4, 4);
        index.train(x);
        index.add(x);
        const expected = models.map((m) => ({ codes: m.encode(x), found: m.search(q, m.encode(x), 5) }));
        const expectedIndex = index.search(q, 5);
        const calls = [];
        for (let round = 0; round < 10; round++) {
          models.forEach((m, i) => {
            calls.push(m.encodeAsync(x).then((c) => same(c, expected[i].codes)));
            calls.push(m.searchAsync(q, expected[i].codes, 5).then((r) => same(r.ids, expected[i].found.ids) && same(r.dists, expected[i].found.dists)));
          });
          calls.push(index.searchAsync(q, 5).then((r) => same(r.labels, expectedIndex.labels) && same(r.distances, expectedIndex.distances)));
        }
        // Dropped while their calls run: the handles are collected and swept.
        models = null;
        index = null;
        for (let i = 0; i < 3; i++) { global.gc(); addon.sweep(); await new Promise((r) => setImmediate(r)); }
        const results = await Promise.all(calls);
        console.log(results.length, results.every(Boolean));
      })();`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect([r.status, r.signal, r.stdout.trim()]).toEqual([0, null, '50 true']);
  });

  test('dispose frees the model: later calls throw, calls already running finish', async () => {
    const pq = new PQ({ M: 4, Ks: 16 }).fit(Xt, { iter: 2 });
    const codes = pq.encode(Xt);
    const expected = pq.search(Xq, codes, 3);
    const running = pq.searchAsync(Xq, codes, 3);
    pq.dispose();
    expect(() => pq.encode(Xq)).toThrow(new Error('Expected a PQ that is not disposed of for encode()'));
    expect(() => pq.fit(Xt)).toThrow(new Error('Expected a PQ that is not disposed of for fit()'));
    expect(await running).toEqual(expected);
    pq.dispose();  // twice is fine
  });
});

// dispose() frees the model: save, toBuffer and the pickle writer wrote an
// empty (unfitted) model of 32 bytes after it, and the getters read null.
describe('after dispose(), every method and getter throws', () => {
  test.each(['PQ', 'OPQ'])('%s', async (kind) => {
    const model = kind === 'PQ' ? new PQ({ M: 4, Ks: 16 }).fit(Xt, { iter: 2 })
      : new OPQ({ M: 4, Ks: 16 }).fit(Xt, { pqIter: 2, rotationIter: 1 });
    const codes = model.encode(Xq);
    const other = PQ.fromBuffer(new PQ({ M: 4, Ks: 16 }).fit(Xt, { iter: 2 }).toBuffer());
    model.dispose();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-disposed-')), 'model');
    const expected = (what) => new Error(`Expected ${kind === 'PQ' ? 'a' : 'an'} ${kind} that is not disposed of for ${what}`);
    const calls = [
      ['Ds', () => model.Ds], ['codewords', () => model.codewords], ['verbose', () => model.verbose],
      ['verbose', () => { model.verbose = true; }],
      ['fit()', () => model.fit(Xt)], ['encode()', () => model.encode(Xq)], ['decode()', () => model.decode(codes)],
      ['dtable()', () => model.dtable(row(Xq, 0))], ['search()', () => model.search(Xq, codes, 3)],
      ['equals()', () => model.equals(other)], ['toBuffer()', () => model.toBuffer()], ['save()', () => model.save(file)],
      ['io.writeNanopqPickle()', () => io.writeNanopqPickle(model, file)], ['nanopqToFaiss()', () => nanopqToFaiss(model)],
      ...(kind === 'OPQ' ? [['R', () => model.R], ['pq', () => model.pq], ['rotate()', () => model.rotate(Xq)]] : []),
    ];
    const outcome = (call) => { try { return call(); } catch (err) { return err; } };
    for (const [what, call] of calls) expect([what, outcome(call)]).toEqual([what, expected(what)]);
    for (const [what, call] of [['fitAsync()', () => model.fitAsync(Xt)], ['encodeAsync()', () => model.encodeAsync(Xq)],
      ['searchAsync()', () => model.searchAsync(Xq, codes, 3)]]) {
      expect([what, await rejection(call())]).toEqual([what, expected(what)]);
    }
    expect(other.equals(model)).toBe(false);  // another model's equals: not the same model
    expect(fs.existsSync(file)).toBe(false);
    // Its settings are plain frozen fields, not the model: still readable.
    expect([model.M, model.Ks, model.metric, model.codeDtype]).toEqual([4, 16, 'l2', 'uint8']);
    expect(util.inspect(model, { breakLength: Infinity })).toBe(`${kind} { M: 4, Ks: 16, Ds: null, metric: 'l2', fitted: false${kind === 'OPQ' ? ', R: null' : ''}, disposed: true }`);
    model.dispose();  // twice is fine
  });
});

describe('faiss async twins', () => {
  test('dispose frees an index: later calls throw, calls already running finish, its pq lives on', async () => {
    const index = nanopqToFaiss(new PQ({ M: 4, Ks: 16 }).fit(Xt, { iter: 2 }));
    index.add(Xt);
    const pq = index.pq;
    const expected = index.search(Xq, 3);
    const running = index.searchAsync(Xq, 3);
    index.dispose();
    expect(() => index.search(Xq, 3)).toThrow(new Error('Expected a Faiss object that is not disposed of'));
    expect(() => index.ntotal).toThrow('Expected a Faiss object that is not disposed of');
    expect(await running).toEqual(expected);
    expect(pq.centroids).toHaveLength(4 * 16 * 4);
    index.dispose();  // twice is fine
  });

  test('trainAsync, addAsync and searchAsync give what the sync calls give', async () => {
    for (const make of [() => new faiss.IndexPQ(D, 4, 4),
      () => new faiss.IndexPreTransform(new faiss.OPQMatrix(D, 4), new faiss.IndexPQ(D, 4, 4))]) {
      const sync = make(), index = make();
      sync.train(Xt);
      sync.add(Xt);
      await index.trainAsync(Xt);
      await index.addAsync(Xt);
      expect(index.ntotal).toBe(Xt.shape[0]);
      expect(faiss.writeIndex(index)).toEqual(faiss.writeIndex(sync));
      const [a, b] = await Promise.all([index.searchAsync(Xq, 5), index.searchAsync(Xq, 5)]);
      expect(a).toEqual(sync.search(Xq, 5));
      expect(b).toEqual(a);
    }
  });

  test('while an async call changes an index, every other call on it and its parts is refused', async () => {
    const inner = new faiss.IndexPQ(D, 4, 4);
    const pre = new faiss.IndexPreTransform(new faiss.OPQMatrix(D, 4), inner);
    const busy = 'Expected no async call changing this Faiss object';
    const training = pre.trainAsync(Xt);
    expect(() => pre.search(Xq, 1)).toThrow(busy);
    expect(() => inner.add(Xt)).toThrow(busy);
    expect(() => faiss.writeIndex(inner)).toThrow(busy);
    await expect(pre.addAsync(Xt)).rejects.toThrow(busy);
    await training;
    pre.add(Xt);  // (an empty index's search returns at once, without Faiss)
    const searching = inner.searchAsync(Xq, 2);  // reads may run together...
    const alsoSearching = pre.searchAsync(Xq, 2);
    expect(() => inner.add(Xt)).toThrow(`${busy} or reading it`);  // ...but nothing may change meanwhile
    await Promise.all([searching, alsoSearching]);
    inner.add(Xt);
    const pq = nanopqToFaiss(new PQ({ M: 4, Ks: 16 }).fit(Xt, { iter: 2 }));
    await expect(pq.addAsync(randomMatrix(2, 8))).rejects.toThrow(new RangeError('Expected x to have 16 columns (D), got shape [2, 8]'));
    await expect(new faiss.IndexPQ(D, 4, 4).searchAsync(Xq, 1)).rejects.toThrow('Expected a trained index for search(); call train() first');
  });
});

test('verbose: false prints nothing from the async twins either', () => {
  const script = `
    const { PQ, OPQ } = require(${JSON.stringify(ROOT)});
    const x = { data: Float32Array.from({ length: 300 * 8 }, (_, i) => Math.sin(i)), shape: [300, 8] };
    (async () => {
      const pq = await new PQ({ M: 2, Ks: 16 }).fitAsync(x);
      await pq.searchAsync(x, await pq.encodeAsync(x), 3);
      await new OPQ({ M: 2, Ks: 16 }).fitAsync(x, { rotationIter: 2 });
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect([r.status, r.stdout, r.stderr]).toEqual([0, '', '']);
});

// The threads that compute for async calls run at nice 10, so that the
// threads running JavaScript get a core first; JavaScript's own stay at 0.
// (Linux, where each thread has its own nice value: /proc/self/task/<tid>/stat field 19.)
test('async work runs on threads of a lower priority than JavaScript\'s', () => {
  const script = `
    const fs = require('node:fs');
    const { Worker } = require('node:worker_threads');
    const { PQ, faiss } = require(${JSON.stringify(ROOT)});
    const nice = (tid) => Number(fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[16]);
    const x = { data: Float32Array.from({ length: 3000 * 16 }, (_, i) => Math.sin(i)), shape: [3000, 16] };
    (async () => {
      const pq = new PQ({ M: 4, Ks: 16 }).fit(x, { iter: 2 });
      pq.search(x, pq.encode(x), 3);  // the JavaScript thread's own OpenMP team
      const index = faiss.indexFactory(16, 'IVF8,Flat');
      await index.trainAsync(x);
      await index.addAsync(x);
      await index.searchAsync(x, 3);
      const tids = fs.readdirSync('/proc/self/task').map(Number);
      const values = tids.map(nice);
      const worker = await new Promise((resolve) => new Worker('require("node:worker_threads").parentPort.postMessage(require("node:fs").readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1].split(" ")[16])', { eval: true }).on('message', resolve));
      console.log(JSON.stringify({ main: nice(process.pid), lowered: values.filter((v) => v === 10).length, worker: Number(worker) }));
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const { main, lowered, worker } = JSON.parse(r.stdout);
  expect(main).toBeLessThan(10);  // as this test runs (0 unless started under nice)
  expect(worker).toBe(main);
  expect(lowered).toBeGreaterThanOrEqual(1);
});
