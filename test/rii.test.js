// Rii: Python rii's tests/test_rii.py, one jest test per Python test, with
// this library's PQ/OPQ; then what the issue asks to hold: a linear query is
// dtable(q).topk over the stored codes, ivf with L = N is linear, a query over
// targetIds is a linear scan of those ids, and bad input is an Error that
// names the argument and leaves the index as it was.
const { PQ, OPQ, Rii } = require('..');
const { NO_ID } = Rii;
const { randomMatrix, row } = require('./helpers/data');

const N = 1000, D = 40;
const X = randomMatrix(N, D, 123);

// The quantizers the tests share, fitted once: codec M Ks.
const fitted = new Map();
function codec(Kind, M, Ks, metric = 'l2') {
  const key = `${Kind.name} ${M} ${Ks} ${metric}`;
  if (!fitted.has(key)) fitted.set(key, new Kind({ M, Ks, metric }).fit(X));
  return fitted.get(key);
}

function rows(matrix, first, count) {
  const d = matrix.shape[1];
  return { data: matrix.data.slice(first * d, (first + count) * d), shape: [count, d] };
}

function vstack(a, b) {
  const data = new Float32Array(a.data.length + b.data.length);
  data.set(a.data);
  data.set(b.data, a.data.length);
  return { data, shape: [a.shape[0] + b.shape[0], a.shape[1]] };
}

const S = [2, 24, 43, 55, 102, 139, 221, 542, 667, 873, 874, 899];
const isSorted = (a) => a.every((v, i) => i === 0 || a[i - 1] <= v);
const plain = (r) => ({ ids: Array.from(r.ids), dists: Array.from(r.dists) });

describe("Python rii's tests", () => {
  test('construct', () => {
    const M = 4, Ks = 20;
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const pq = new PQ({ M, Ks, verbose: true }).fit(X);
      const e = new Rii({ fineQuantizer: pq });
      expect(e.fineQuantizer.codewords.shape).toEqual([M, Ks, D / M]);
      expect([e.M, e.Ks]).toEqual([M, Ks]);
      expect(e.verbose).toBe(true);
      e.verbose = false;
      expect(e.verbose).toBe(false);
      expect(e.fineQuantizer.verbose).toBe(false);
    } finally {
      log.mockRestore();
    }
  });

  test.each([['PQ', PQ], ['OPQ', OPQ]])('add (%s)', (_, Kind) => {
    const q = codec(Kind, 4, 20);
    const e = new Rii({ fineQuantizer: q });
    expect(e.N).toBe(0);
    e.add(X, { updatePostingLists: false });
    expect(e.N).toBe(N);
    // The codes are those of encoding by hand.
    expect(e.codes).toEqual(q.encode(X));
    e.add(X, { updatePostingLists: false });
    expect(e.N).toBe(2 * N);
  });

  test.each([['PQ', PQ], ['OPQ', OPQ]])('reconfigure (%s)', (_, Kind) => {
    const M = 4;
    const e = new Rii({ fineQuantizer: codec(Kind, M, 20) });
    e.add(X, { updatePostingLists: false });
    for (const nlist of [5, 100]) {
      e.reconfigure({ nlist });
      expect(e.nlist).toBe(nlist);
      expect(e.coarseCenters.shape).toEqual([nlist, M]);
      expect(e.postingLists.length).toBe(nlist);
      expect(e.postingLists.reduce((s, l) => s + l.length, 0)).toBe(N);
      // Each id in exactly one list.
      expect(e.postingLists.flatMap((l) => Array.from(l)).sort((a, b) => a - b)).toEqual([...Array(N).keys()]);
    }
  });

  test('addConfigure', () => {
    const pq = codec(PQ, 4, 20);
    const e1 = new Rii({ fineQuantizer: pq });
    e1.addConfigure(X, { nlist: 20 });
    const e2 = new Rii({ fineQuantizer: pq });
    e2.add(X, { updatePostingLists: false });
    e2.reconfigure({ nlist: 20 });
    // addConfigure is add (without updating posting lists) then reconfigure.
    expect(e1.codes).toEqual(e2.codes);
    expect(e1.postingLists).toEqual(e2.postingLists);
    // It can be chained.
    const e3 = new Rii({ fineQuantizer: pq }).addConfigure(X, { nlist: 20 });
    expect(e3).toBeInstanceOf(Rii);
    expect(e1.codes).toEqual(e3.codes);
    expect(e1.postingLists).toEqual(e3.postingLists);
  });

  test('addConfigure with a small number of vectors', () => {
    const pq = codec(PQ, 4, 20);
    const e1 = new Rii({ fineQuantizer: pq });
    const e2 = new Rii({ fineQuantizer: pq });
    const e3 = new Rii({ fineQuantizer: pq });
    for (let i = 0; i < 10; i++) e1.addConfigure([row(X, i)]);  // one by one
    expect(e1.N).toBe(10);

    e2.addConfigure(rows(X, 0, 10));
    // The same as adding them at once.
    expect(e1.codes).toEqual(e2.codes);
    expect(e1.postingLists).toEqual(e2.postingLists);

    for (let i = 0; i < 10; i++) e3.add([row(X, i)]);
    e3.reconfigure();
    // The same as adding them one by one, then reconfiguring.
    expect(e1.codes).toEqual(e3.codes);
    expect(e1.postingLists).toEqual(e3.postingLists);
  });

  test('query linear', () => {
    const e = new Rii({ fineQuantizer: codec(PQ, 4, 20) }).addConfigure(X, { nlist: 20 });
    const topk = 10;
    for (let n = 0; n < 10; n++) {
      const q = row(X, n);
      const r1 = e.query(q, { topk, method: 'linear' });
      expect(r1.ids).toBeInstanceOf(Uint32Array);
      expect(r1.dists).toBeInstanceOf(Float32Array);
      expect(r1.ids.length).toBe(topk);
      expect(r1.dists.length).toBe(topk);
      expect(isSorted(Array.from(r1.dists))).toBe(true);
      expect(Array.from(r1.ids)).toContain(n);  // the true NN is in the top 10 with high probability

      // A subset search over every id is the search without targets.
      const r2 = e.query(q, { topk, method: 'linear', targetIds: [...Array(N).keys()] });
      expect(plain(r2)).toEqual(plain(r1));

      const r3 = e.query(q, { topk, method: 'linear', targetIds: S });
      expect(Array.from(r3.ids).every((id) => S.includes(id))).toBe(true);
    }
  });

  test('query ivf', () => {
    const e = new Rii({ fineQuantizer: codec(PQ, 20, 256) }).addConfigure(X, { nlist: 20 });
    const L = 200, topk = 10;
    const all = BigInt64Array.from({ length: N }, (_, i) => BigInt(i));
    for (let n = 0; n < 10; n++) {
      const q = row(X, n);
      const r1 = e.query(q, { topk, L, method: 'ivf' });
      expect(r1.ids).toBeInstanceOf(Uint32Array);
      expect(r1.dists).toBeInstanceOf(Float32Array);
      expect(r1.ids.length).toBe(topk);
      expect(isSorted(Array.from(r1.dists))).toBe(true);
      expect(Array.from(r1.ids)).toContain(n);

      const r2 = e.query(q, { topk, L, method: 'ivf', targetIds: all });
      expect(plain(r2)).toEqual(plain(r1));

      const r3 = e.query(q, { topk, L, method: 'ivf', targetIds: S });
      expect(Array.from(r3.ids).every((id) => S.includes(id))).toBe(true);

      // Every target and L = N: the linear scan.
      const r4 = e.query(q, { topk, L: N, method: 'ivf', targetIds: all });
      const r5 = e.query(q, { topk, method: 'linear' });
      expect(plain(r4)).toEqual(plain(r5));

      // Few targets and a large L: ivf and linear agree.
      const r6 = e.query(q, { topk, L, method: 'ivf', targetIds: S });
      const r7 = e.query(q, { topk, method: 'linear', targetIds: S });
      expect(plain(r6)).toEqual(plain(r7));
    }
  });

  test.each([['PQ', PQ], ['OPQ', OPQ]])('query (%s)', (_, Kind) => {
    const e = new Rii({ fineQuantizer: codec(Kind, 20, 256) }).addConfigure(X, { nlist: 20 });
    const topk = 50;
    for (let n = 0; n < 10; n++) {
      const q = row(X, n);
      const r1 = e.query(q, { topk });
      expect(r1.ids).toBeInstanceOf(Uint32Array);
      expect(r1.dists).toBeInstanceOf(Float32Array);
      expect(r1.ids.length).toBe(topk);
      expect(isSorted(Array.from(r1.dists))).toBe(true);
      expect(Array.from(r1.ids)).toContain(n);

      const r2 = e.query(q, { topk, targetIds: [...Array(N).keys()] });
      expect(plain(r2)).toEqual(plain(r1));

      const r3 = e.query(q, { topk: 5, targetIds: S });
      expect(Array.from(r3.ids).every((id) => S.includes(id))).toBe(true);
    }
  });

  test('clear', () => {
    const e = new Rii({ fineQuantizer: codec(PQ, 4, 20) }).addConfigure(X, { nlist: 20 });
    expect(e.threshold).not.toBeNull();
    e.clear();
    expect(e.threshold).toBeNull();
    expect(e.N).toBe(0);
    expect(e.nlist).toBe(0);
    expect(e.L0).toBeNull();
    expect(e.coarseCenters).toBeNull();
    expect(e.codes.shape).toEqual([0, 4]);  // Python's None: no codes
    expect(e.postingLists.length).toBe(0);
    // The codewords are kept.
    expect(e.codewords).toEqual(codec(PQ, 4, 20).codewords);
  });

  test('merge', () => {
    const N1 = 1000, N2 = 500;
    const X1 = X;
    const X2 = randomMatrix(N2, D, 7);
    const pq = codec(PQ, 4, 20);
    const e1 = new Rii({ fineQuantizer: pq });
    const e2 = new Rii({ fineQuantizer: pq });

    // e1: empty, e2: empty
    e1.merge(e2);
    expect([e1.N, e2.N]).toEqual([0, 0]);

    // e1: vecs, e2: empty
    e1.addConfigure(X1);
    e1.merge(e2);
    expect(e1.N).toBe(N1);
    expect(e1.nlist).toBe(Math.floor(Math.sqrt(N1)));
    e1.clear();

    // e1: empty, e2: vecs
    e2.addConfigure(X2);
    e1.merge(e2);
    expect(e1.N).toBe(N2);
    expect(e1.nlist).toBe(0);  // no posting lists
    e1.clear();
    e2.clear();

    // e1: vecs, e2: vecs
    e1.addConfigure(X1);
    e2.addConfigure(X2);
    e1.merge(e2);
    expect(e1.N).toBe(N1 + N2);
    expect(e1.nlist).toBe(Math.floor(Math.sqrt(N1)));  // e1's posting lists, grown
    expect(e1.codes).toEqual(pq.encode(vstack(X1, X2)));
    expect(e1.postingLists.flatMap((l) => Array.from(l)).sort((a, b) => a - b)).toEqual([...Array(N1 + N2).keys()]);
  });
});

describe('what must hold', () => {
  const topkOf = (e, q, k) => plain(e.fineQuantizer.dtable(q).topk(e.codes, k));

  test.each([['PQ', 'l2', PQ], ['OPQ', 'l2', OPQ], ['PQ', 'dot', PQ]])(
    'a linear query is dtable(q).topk over the stored codes, and ivf with L = N the same (%s, %s)', (_, metric, Kind) => {
      const e = new Rii({ fineQuantizer: codec(Kind, 8, 16, metric) }).addConfigure(X, { nlist: 30 });
      for (const n of [0, 5, 17]) {
        const q = row(X, n);
        for (const topk of [1, 10, N]) {
          const expected = topkOf(e, q, topk);
          expect(plain(e.query(q, { topk, method: 'linear' }))).toEqual(expected);
          expect(plain(e.query(q, { topk, L: N, method: 'ivf' }))).toEqual(expected);
        }
      }
    });

  test('the Rii holds a copy of the quantizer: disposing of the original changes nothing', () => {
    const pq = new PQ({ M: 4, Ks: 20 }).fit(X);
    const e = new Rii({ fineQuantizer: pq });
    expect(e.fineQuantizer).not.toBe(pq);
    expect(e.fineQuantizer.equals(pq)).toBe(true);
    pq.dispose();
    e.addConfigure(X, { nlist: 10 });
    expect(e.query(row(X, 0), { topk: 3 }).ids.length).toBe(3);
  });

  test('a query over targetIds is a linear scan restricted to those ids, ties to the lower id', () => {
    const e = new Rii({ fineQuantizer: codec(PQ, 4, 20) }).addConfigure(X, { nlist: 20 });
    const targets = [873, 2, 667, 102, 43, 899, 24, 55, 542, 221, 139, 874, 5, 600, 601, 602, 300];
    const q = row(X, 3);
    const all = e.fineQuantizer.dtable(q).adist(e.codes);
    const byHand = [...targets].sort((a, b) => (all[a] - all[b]) || (a - b));
    for (const topk of [1, 5, targets.length]) {
      const expected = { ids: byHand.slice(0, topk), dists: byHand.slice(0, topk).map((i) => all[i]) };
      for (const ids of [targets, Uint32Array.from(targets), Int32Array.from(targets), BigInt64Array.from(targets, BigInt),
        Float64Array.from(targets)]) {
        for (const method of ['linear', 'ivf', 'auto']) {
          const L = method === 'ivf' ? N : undefined;
          expect(plain(e.query(q, { topk, targetIds: ids, method, ...(L ? { L } : {}) }))).toEqual(expected);
        }
      }
      // Sorted ids may skip the sort.
      const sorted = [...targets].sort((a, b) => a - b);
      expect(plain(e.query(q, { topk, targetIds: sorted, sortTargetIds: false }))).toEqual(expected);
    }
    // The caller's array is not sorted in place.
    const mine = Int32Array.from(targets);
    e.query(q, { topk: 3, targetIds: mine });
    expect(Array.from(mine)).toEqual(targets);
  });

  test('properties', () => {
    const e = new Rii({ fineQuantizer: codec(PQ, 4, 20) });
    expect([e.N, e.nlist, e.L0, e.coarseCenters, e.threshold]).toEqual([0, 0, null, null, null]);
    e.addConfigure(X, { nlist: 30 });
    expect([e.N, e.nlist, e.L0]).toEqual([N, 30, 33]);  // L0 = round(N / nlist)
    expect(e.coarseCenters.data).toBeInstanceOf(Uint8Array);
    expect(e.codes.data).toBeInstanceOf(Uint8Array);
    expect(e.postingLists.every((l) => l instanceof Uint32Array)).toBe(true);
    expect(typeof e.threshold.slope).toBe('number');
    expect(typeof e.threshold.intercept).toBe('number');
    // Getters give copies: writing them changes nothing.
    e.codes.data.fill(0);
    e.postingLists[0].fill(7);
    e.coarseCenters.data.fill(0);
    expect(e.codes).toEqual(e.fineQuantizer.encode(X));
    expect(e.postingLists.flatMap((l) => Array.from(l)).sort((a, b) => a - b)).toEqual([...Array(N).keys()]);
  });

  // Each id is in the list of its nearest centre by the symmetric distance: the squared distance
  // between the decoded code and the decoded centre (near ties allowed).
  function expectNearestCentres(e, fromId) {
    const pq = e.fineQuantizer;
    const x = pq.decode(e.codes), c = pq.decode(e.coarseCenters);
    const d = x.shape[1];
    const sq = (i, k) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += (x.data[i * d + j] - c.data[k * d + j]) ** 2;
      return s;
    };
    e.postingLists.forEach((list, k) => {
      for (const i of list) {
        if (i < fromId) continue;
        const best = Math.min(...Array.from({ length: e.nlist }, (_, j) => sq(i, j)));
        expect(sq(i, k)).toBeLessThanOrEqual(best + 1e-4);
      }
    });
  }

  test('reconfigure and add put each id in the list of its nearest centre', () => {
    const e = new Rii({ fineQuantizer: codec(PQ, 4, 20) }).addConfigure(rows(X, 0, 500), { nlist: 10 });
    expectNearestCentres(e, 0);
    const centres = e.coarseCenters;
    e.add(rows(X, 500, 500));  // updatePostingLists 'auto': the lists exist, so they grow
    expect(e.N).toBe(N);
    expect(e.coarseCenters).toEqual(centres);
    expect(e.postingLists.flatMap((l) => Array.from(l)).sort((a, b) => a - b)).toEqual([...Array(N).keys()]);
    expectNearestCentres(e, 500);

    const f = new Rii({ fineQuantizer: codec(PQ, 4, 20) }).addConfigure(rows(X, 0, 500), { nlist: 10 });
    f.add(rows(X, 500, 500), { updatePostingLists: false });
    expect(f.postingLists.reduce((s, l) => s + l.length, 0)).toBe(500);
    f.add([], { updatePostingLists: true });  // nothing to add
    expect(f.N).toBe(N);
    // Ids 500.. are in no list: ivf cannot find them, linear can.
    const q = row(X, 700);
    expect(f.query(q, { method: 'linear' }).ids[0]).toBe(e.query(q, { method: 'linear' }).ids[0]);
    expect(Array.from(f.query(q, { topk: 10, L: N, method: 'ivf' }).ids).every((id) => id < 500)).toBe(true);
  });

  test('auto picks linear for few targets and ivf for many, by the threshold', () => {
    const big = randomMatrix(5000, 8, 5);
    const e = new Rii({ fineQuantizer: new PQ({ M: 4, Ks: 16 }).fit(rows(big, 0, 1000)) }).addConfigure(big);
    const { slope, intercept } = e.threshold;
    const L = e.L0;
    const thre = slope * L + intercept;
    expect(thre).toBeGreaterThan(1);
    expect(thre).toBeLessThan(5000);
    const q = row(big, 1);
    // Few targets: the linear result; all: the ivf result.
    const few = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(plain(e.query(q, { topk: 3, targetIds: few }))).toEqual(plain(e.query(q, { topk: 3, targetIds: few, method: 'linear' })));
    expect(plain(e.query(q, { topk: 3 }))).toEqual(plain(e.query(q, { topk: 3, method: 'ivf' })));
  });
});

describe('bad input: an Error naming the argument, the index unchanged', () => {
  const pq = () => codec(PQ, 4, 20);
  let e;
  beforeAll(() => {
    e = new Rii({ fineQuantizer: pq() }).addConfigure(X, { nlist: 20 });
  });
  const snapshot = (r) => ({ N: r.N, nlist: r.nlist, codes: r.codes, lists: r.postingLists, centers: r.coarseCenters, t: r.threshold });
  const q = row(X, 0);

  test.each([
    ['topk > N', { topk: N + 1 }, RangeError, /topk/],
    ['topk 0', { topk: 0 }, RangeError, /topk/],
    ['topk not an integer', { topk: 1.5 }, TypeError, /topk/],
    ['L < topk', { topk: 10, L: 5 }, RangeError, /topk <= L <= N/],
    ['L > N', { L: N + 1 }, RangeError, /topk <= L <= N/],
    ['targetIds out of range', { targetIds: [1, N] }, RangeError, /\[0, N = 1000\) in targetIds, got 1000 at targetIds\[1\]/],
    ['targetIds out of range, ascending Uint32', { targetIds: Uint32Array.from([1, 5, N]) }, RangeError, /\[0, N = 1000\) in targetIds, got 1000 at targetIds\[2\]/],
    ['targetIds duplicated, ascending Uint32', { targetIds: Uint32Array.from([3, 5, 5]) }, RangeError, /duplicate.*targetIds.*5/],
    ['targetIds negative', { targetIds: BigInt64Array.from([3n, -1n]) }, RangeError, /targetIds.*-1/],
    ['targetIds unsorted with sortTargetIds false', { targetIds: [5, 3, 9], sortTargetIds: false }, RangeError,
      /targetIds.*sorted.*sortTargetIds/],
    ['targetIds duplicated', { targetIds: [5, 3, 5] }, RangeError, /duplicate.*targetIds.*5/],
    ['targetIds duplicated, presorted', { targetIds: [3, 5, 5], sortTargetIds: false }, RangeError, /duplicate.*targetIds/],
    ['targetIds a string', { targetIds: '1,2,3' }, TypeError, /targetIds/],
    ['targetIds of strings', { targetIds: ['1', '2'] }, TypeError, /targetIds\[0\]/],
    ['targetIds of fractions', { targetIds: Float64Array.from([1, 2.5]) }, TypeError, /targetIds\[1\]/],
    ['targetIds an object', { targetIds: { length: 2 } }, TypeError, /targetIds/],
    ['fewer targetIds than topk', { topk: 5, targetIds: [1, 2] }, RangeError, /topk <= targetIds.length/],
    ['sortTargetIds not a boolean', { targetIds: [1], sortTargetIds: 'yes' }, TypeError, /sortTargetIds/],
    ['an unknown method', { method: 'fast' }, TypeError, /method/],
    ['a misspelt option', { topK: 3 }, TypeError, /did you mean "topk"/],
  ])('query: %s', (_, options, Type, message) => {
    const before = snapshot(e);
    expect(() => e.query(q, options)).toThrow(Type);
    expect(() => e.query(q, options)).toThrow(message);
    expect(snapshot(e)).toEqual(before);
  });

  test('query: a query of the wrong length', () => {
    expect(() => e.query(new Float32Array(3))).toThrow(/query.*length 40/);
    expect(() => e.query('q')).toThrow(TypeError);
  });

  test('query before addConfigure, and after add alone', () => {
    const f = new Rii({ fineQuantizer: pq() });
    expect(() => f.query(q)).toThrow(/no vectors.*addConfigure\(\)/);
    f.add(X);
    expect(() => f.query(q)).toThrow(/no posting lists.*reconfigure\(\)/);
    expect(f.N).toBe(N);
  });

  test('merge of a Rii with another quantizer, or of something else', () => {
    const other = new Rii({ fineQuantizer: new PQ({ M: 4, Ks: 20 }).fit(X, { seed: 5 }) }).addConfigure(X, { nlist: 5 });
    const opq = new Rii({ fineQuantizer: codec(OPQ, 4, 20) }).addConfigure(X, { nlist: 5 });
    const before = snapshot(e);
    expect(() => e.merge(other)).toThrow(/other.*same fine quantizer/);
    expect(() => e.merge(opq)).toThrow(/other.*same fine quantizer/);
    expect(() => e.merge({ codes: e.codes })).toThrow(TypeError);
    expect(() => e.merge(other, { updatepostinglists: true })).toThrow(/did you mean "updatePostingLists"/);
    expect(snapshot(e)).toEqual(before);
  });

  test('add, addConfigure and reconfigure', () => {
    const f = new Rii({ fineQuantizer: pq() });
    expect(() => f.add(X, { updatePostingLists: true })).toThrow(/updatePostingLists.*addConfigure\(\)/);
    expect(() => f.add(X, { updatePostingLists: 'yes' })).toThrow(/updatePostingLists/);
    expect(() => f.reconfigure()).toThrow(/no vectors/);
    expect(() => f.addConfigure([])).toThrow(/no vectors/);
    expect(() => f.addConfigure(X, { nlist: N + 1 })).toThrow(/nlist <= N = 1000/);
    expect(() => f.addConfigure(X, { nlist: 0 })).toThrow(/nlist/);
    expect(() => f.addConfigure(X, { iter: -1 })).toThrow(/iter/);
    expect(() => f.addConfigure(rows(X, 0, 3).data)).toThrow(/vecs/);
    expect(() => f.add([[1, 2, 3]])).toThrow(/vecs.*40 columns/);
    expect([f.N, f.nlist]).toEqual([0, 0]);
    const before = snapshot(e);
    expect(() => e.reconfigure({ nlist: N + 1 })).toThrow(/nlist/);
    expect(() => e.add([[1, 2, 3]])).toThrow(/vecs/);
    expect(() => e.add([[...row(X, 0).subarray(1), NaN]])).toThrow(/finite/);
    expect(snapshot(e)).toEqual(before);
  });

  test('the fine quantizer', () => {
    expect(() => new Rii({ fineQuantizer: new PQ({ M: 4, Ks: 20 }) })).toThrow(/fitted.*fineQuantizer/);
    expect(() => new Rii({ fineQuantizer: {} })).toThrow(/PQ or OPQ for fineQuantizer/);
    expect(() => new Rii({})).toThrow(/fineQuantizer/);
    expect(() => new Rii()).toThrow(TypeError);
    const wide = new PQ({ M: 2, Ks: 512 }).fit(randomMatrix(600, 4, 1), { iter: 2 });
    expect(() => new Rii({ fineQuantizer: wide })).toThrow(/Ks <= 256.*512/);
    const disposed = new PQ({ M: 4, Ks: 20 }).fit(X);
    disposed.dispose();
    expect(() => new Rii({ fineQuantizer: disposed })).toThrow(/disposed/);
  });
});

describe('parts (what files, pickles and Faiss carry)', () => {
  const built = () => new Rii({ fineQuantizer: codec(PQ, 4, 20) }).addConfigure(X, { nlist: 10 });

  test('fromParts(toParts()) is the same Rii, and answers the same', () => {
    const e = built();
    const f = Rii.fromParts(e.toParts());
    expect([f.N, f.nlist, f.L0]).toEqual([e.N, e.nlist, e.L0]);
    expect(f.codes).toEqual(e.codes);
    expect(f.coarseCenters).toEqual(e.coarseCenters);
    expect(f.postingLists).toEqual(e.postingLists);
    expect(f.threshold).toEqual(e.threshold);
    const q = row(X, 7);
    for (const method of ['linear', 'ivf']) {
      expect(plain(f.query(q, { topk: 5, method }))).toEqual(plain(e.query(q, { topk: 5, method })));
    }
  });

  test('codes alone: a Rii without posting lists; a missing threshold is estimated', () => {
    const e = built();
    const f = Rii.fromParts({ ...e.toParts(), coarseCenters: null, postingLists: [] });
    expect([f.N, f.nlist]).toEqual([N, 0]);
    const g = Rii.fromParts({ ...e.toParts(), threshold: null });
    expect(g.threshold).toEqual(e.threshold);
  });

  test('bad parts: an Error naming the part', () => {
    const p = built().toParts();
    const codes = p.codes.slice();
    codes[5] = 20;
    expect(() => Rii.fromParts({ ...p, codes })).toThrow(/codes < Ks = 20 in codes, got 20 at codes\[5\]/);
    expect(() => Rii.fromParts({ ...p, codes: p.codes.subarray(1) })).toThrow(/codes/);
    expect(() => Rii.fromParts({ ...p, codes: Array.from(p.codes) })).toThrow(/Uint8Array.*codes/);
    expect(() => Rii.fromParts({ ...p, postingLists: p.postingLists.slice(1) })).toThrow(/nlist = 10 posting lists/);
    const lists = p.postingLists.map((l) => Array.from(l));
    lists[3].push(N);
    expect(() => Rii.fromParts({ ...p, postingLists: lists })).toThrow(/\[0, N = 1000\) in postingLists\[3\]/);
    lists[3][lists[3].length - 1] = lists[0][0];
    expect(() => Rii.fromParts({ ...p, postingLists: lists })).toThrow(/at most one posting list/);
    expect(() => Rii.fromParts({ ...p, threshold: { slope: NaN, intercept: 1 } })).toThrow(/threshold/);
    expect(() => Rii.fromParts({ ...p, extra: 1 })).toThrow(/extra/);
  });
});

describe('search: query for many rows', () => {
  test('each row is the query of that row, for each method and with targetIds', () => {
    const e = new Rii({ fineQuantizer: codec(PQ, 4, 20) }).addConfigure(X, { nlist: 10 });
    const Q = rows(X, 100, 6);
    for (const options of [{ topk: 4 }, { topk: 4, method: 'linear' }, { topk: 3, L: 50, method: 'ivf' }, { topk: 2, targetIds: S }]) {
      const r = e.search(Q, options);
      expect(r.shape).toEqual([6, options.topk]);
      for (let i = 0; i < 6; i++) {
        const one = e.query(row(Q, i), options);
        const k = options.topk;
        expect(Array.from(r.ids.subarray(i * k, i * k + one.ids.length))).toEqual(Array.from(one.ids));
        expect(Array.from(r.dists.subarray(i * k, i * k + one.ids.length))).toEqual(Array.from(one.dists));
      }
    }
  });

  test('a row ivf finds fewer than topk for ends in NO_ID and Infinity', () => {
    const e = new Rii({ fineQuantizer: codec(PQ, 4, 20) });
    e.add(rows(X, 0, 500), { updatePostingLists: false });
    e.reconfigure({ nlist: 5 });
    e.add(rows(X, 500, 500), { updatePostingLists: false });  // not in the lists
    const r = e.search(rows(X, 0, 2), { topk: 3, L: 3, method: 'ivf', targetIds: [0, 1, 600, 700] });
    expect(r.shape).toEqual([2, 3]);
    const missing = Array.from(r.ids).filter((id) => id === NO_ID).length;
    expect(missing).toBeGreaterThan(0);
    r.ids.forEach((id, i) => expect(id === NO_ID).toBe(r.dists[i] === Infinity));
  });

  test('bad queries', () => {
    const e = new Rii({ fineQuantizer: codec(PQ, 4, 20) }).addConfigure(X, { nlist: 10 });
    expect(() => e.search([[1, 2, 3]])).toThrow(/queries.*40 columns/);
    expect(() => e.search(rows(X, 0, 2), { topk: 0 })).toThrow(/topk/);
  });
});

describe('remove: ids stay stable, removed ones are never found', () => {
  const fresh = () => new Rii({ fineQuantizer: codec(PQ, 4, 20) }).addConfigure(X, { nlist: 10 });

  test('no method finds a removed id; the others answer as before', () => {
    const e = fresh();
    const q = row(X, 3);
    const before = e.query(q, { topk: 20, method: 'linear' });
    const gone = Array.from(before.ids.subarray(0, 5));
    expect(e.remove([...gone, gone[0]])).toBe(5);  // a repeat is ignored
    expect([e.N, e.removedCount]).toEqual([N, 5]);
    const after = e.query(q, { topk: 15, method: 'linear' });
    expect(plain(after)).toEqual({ ids: Array.from(before.ids.subarray(5)), dists: Array.from(before.dists.subarray(5)) });
    for (const method of ['ivf', 'auto']) {
      const r = e.query(q, { topk: 10, L: 200, method });
      expect(Array.from(r.ids).some((id) => gone.includes(id))).toBe(false);
    }
    const subset = e.query(q, { topk: 2, targetIds: [gone[1], 500, 600] });
    expect(Array.from(subset.ids).sort((a, b) => a - b)).toEqual([500, 600]);
    expect(e.remove([gone[2]])).toBe(0);
  });

  test('reconfigure drops removed ids from the lists; parts carry them', () => {
    const e = fresh();
    e.remove([1, 2, 3]);
    const ids = (lists) => lists.flatMap((l) => Array.from(l));
    expect(ids(e.postingLists)).not.toContain(1);
    e.reconfigure({ nlist: 7 });
    expect(ids(e.postingLists).length).toBe(N - 3);
    const f = Rii.fromParts(e.toParts());
    expect(f.removedCount).toBe(3);
    expect(f.query(row(X, 1), { topk: 1, method: 'linear' }).ids[0]).not.toBe(1);
  });

  test('bad ids: an Error, nothing removed', () => {
    const e = fresh();
    expect(() => e.remove([5, N])).toThrow(/\[0, N = 1000\) in ids, got 1000 at ids\[1\]/);
    expect(() => e.remove([1.5])).toThrow(/integer ids in ids/);
    expect(() => e.remove('1')).toThrow(TypeError);
    expect(e.removedCount).toBe(0);
  });
});

describe('adds into the posting lists one at a time', () => {
  test('each id lands in the list of its nearest centre, as one add of all', () => {
    const one = new Rii({ fineQuantizer: codec(PQ, 4, 20) }).addConfigure(rows(X, 0, 300), { nlist: 8 });
    const all = Rii.fromParts(one.toParts());
    for (let i = 300; i < N; i++) one.add(rows(X, i, 1));
    all.add(rows(X, 300, N - 300));
    expect(one.postingLists).toEqual(all.postingLists);
    expect(plain(one.query(row(X, 5), { topk: 5, method: 'ivf', L: 100 }))).toEqual(plain(all.query(row(X, 5), { topk: 5, method: 'ivf', L: 100 })));
  });
});

describe('async twins', () => {
  const pq = () => codec(PQ, 4, 20);

  test('addConfigureAsync, reconfigureAsync and addAsync give what the synchronous calls give', async () => {
    const a = new Rii({ fineQuantizer: pq() }).addConfigure(rows(X, 0, 600), { nlist: 9 });
    const b = await new Rii({ fineQuantizer: pq() }).addConfigureAsync(rows(X, 0, 600), { nlist: 9 });
    expect(b.toParts()).toEqual(a.toParts());
    a.add(rows(X, 600, 400));
    await b.addAsync(rows(X, 600, 400));
    expect(b.toParts()).toEqual(a.toParts());
    a.reconfigure({ nlist: 12, iter: 3 });
    const progress = [];
    await b.reconfigureAsync({ nlist: 12, iter: 3, onProgress: (p) => progress.push(p) });
    expect(b.toParts()).toEqual(a.toParts());
    expect(progress).toEqual([1, 2, 3].map((iteration) => ({ phase: 'pqkmeans', iteration, of: 3 })));
  });

  test('searchAsync gives search\'s rows; adds and removals meanwhile are not seen', async () => {
    const e = new Rii({ fineQuantizer: pq() }).addConfigure(X, { nlist: 10 });
    const Q = rows(X, 0, 50);
    for (const options of [{ topk: 5 }, { topk: 5, method: 'ivf', L: 60 }, { topk: 3, targetIds: S }]) {
      const expected = e.search(Q, options);
      const pending = e.searchAsync(Q, options);
      e.add(rows(X, 0, 10));
      e.remove([expected.ids[0]]);
      expect(await pending).toEqual(expected);
    }
  });

  test('abort, a throwing onProgress, and calls that would change the Rii meanwhile', async () => {
    const e = new Rii({ fineQuantizer: pq() }).addConfigure(X, { nlist: 10 });
    const before = e.toParts();
    const controller = new AbortController();
    controller.abort();
    await expect(e.reconfigureAsync({ signal: controller.signal })).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }));
    const oops = new Error('oops');
    await expect(e.reconfigureAsync({ nlist: 20, onProgress: () => { throw oops; } })).rejects.toBe(oops);
    const running = e.reconfigureAsync({ nlist: 20 });
    expect(() => e.add(rows(X, 0, 1))).toThrow(/no reconfigureAsync\(\) running on this Rii for add\(\)/);
    expect(() => e.remove([1])).toThrow(/reconfigureAsync/);
    expect(e.query(row(X, 0), { topk: 1 }).ids).toHaveLength(1);  // reads go on
    await running;
    const aborted = new AbortController();
    const stopped = e.reconfigureAsync({ nlist: 30, signal: aborted.signal, onProgress: () => aborted.abort() });
    await expect(stopped).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }));
    expect(e.nlist).toBe(20);
    expect(e.toParts().codes).toEqual(before.codes);
    expect(() => e.add(rows(X, 0, 1))).not.toThrow();
  });
});

describe('the native scans check what they read', () => {
  const path = require('path');
  const { native } = require(path.join(__dirname, '..', 'dist', 'core', 'native.js'));

  test('list bounds, ids and targets out of range: a RangeError, no read outside', () => {
    const M = 4, Ks = 20;
    const sym = new Float32Array(M * Ks * Ks);
    expect(() => native.riiAssign(sym, M, Ks, new Uint8Array([0, 1, 2, 20]), 1, new Uint8Array(4), 1, new Uint32Array(1)))
      .toThrow(/codes < Ks = 20/);
    expect(() => native.riiAssign(sym, M, Ks, new Uint8Array(4), 1, new Uint8Array([0, 0, 0, 99]), 1, new Uint32Array(1)))
      .toThrow(/codes < Ks = 20/);
    const codewords = new Float32Array(M * Ks * 2);
    expect(() => native.riiUpdateCenters(codewords, M, Ks, 2, new Uint8Array(8), 2, Uint32Array.of(0, 3), 3, new Uint8Array(12)))
      .toThrow(/labels < K = 3/);
    expect(() => native.riiUpdateCenters(codewords, M, Ks, 2, new Uint8Array(8), 2, Uint32Array.of(0, 1), 3, new Uint8Array(11)))
      .toThrow(/12 elements/);
  });
});

describe('save and load (.rii)', () => {
  const fs = require('fs');
  const os = require('os');
  const path = require('path');

  test.each([['PQ', PQ], ['OPQ', OPQ]])('a %s Rii comes back the same, and answers the same', (_, Kind) => {
    const e = new Rii({ fineQuantizer: codec(Kind, 4, 20) }).addConfigure(X, { nlist: 12 });
    e.add(rows(X, 0, 50), { updatePostingLists: false });
    e.remove([3, 999]);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rii-')), 'a.rii');
    e.save(file);
    for (const f of [Rii.load(file), Rii.fromBuffer(e.toBuffer())]) {
      expect(f.toParts()).toEqual(e.toParts());
      expect(f.fineQuantizer.equals(e.fineQuantizer)).toBe(true);
      expect(f.search(rows(X, 10, 5), { topk: 4 })).toEqual(e.search(rows(X, 10, 5), { topk: 4 }));
    }
    const bare = new Rii({ fineQuantizer: codec(Kind, 4, 20) });
    bare.add(rows(X, 0, 10), { updatePostingLists: false });
    expect(Rii.fromBuffer(bare.toBuffer()).toParts()).toEqual(bare.toParts());
  });

  test('truncated, extended or altered files: an Error naming what is wrong, never a crash', () => {
    const e = new Rii({ fineQuantizer: codec(PQ, 4, 20) }).addConfigure(rows(X, 0, 200), { nlist: 5 });
    const bytes = e.toBuffer();
    for (let n = 0; n < bytes.length; n += 7) expect(() => Rii.fromBuffer(bytes.subarray(0, n))).toThrow(TypeError);
    expect(() => Rii.fromBuffer(Buffer.concat([bytes, Buffer.alloc(1)]))).toThrow(/1 bytes after the removed ids/);
    const altered = (at, write) => { const b = Buffer.from(bytes); write(b, at); return b; };
    expect(() => Rii.fromBuffer(altered(8, (b, at) => b.writeUInt32LE(2, at)))).toThrow(/format version 2/);
    expect(() => Rii.fromBuffer(altered(16, (b, at) => b.writeBigUInt64LE(2n ** 40n, at)))).toThrow(/codes of/);
    expect(() => Rii.fromBuffer(altered(24, (b, at) => b.writeBigUInt64LE(2n ** 60n, at)))).toThrow(/nlist of 0 to 2\*\*53 - 1/);
    const fq = Number(bytes.readBigUInt64LE(40));
    const codeAt = 64 + fq;
    expect(() => Rii.fromBuffer(altered(codeAt, (b, at) => { b[at] = 20; }))).toThrow(/codes < Ks = 20 in codes/);
    const listAt = codeAt + 200 * 4 + 5 * 4 + 5 * 4;
    expect(() => Rii.fromBuffer(altered(listAt, (b, at) => b.writeUInt32LE(200, at)))).toThrow(/\[0, N = 200\) in postingLists\[0\]/);
    expect(() => Rii.fromBuffer('x')).toThrow(/Uint8Array for buf/);
    expect(() => Rii.load(42)).toThrow(/file path/);
  });
});
