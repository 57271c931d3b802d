// What the adversarial review of issue 12 found, each a regression test:
// crafted files, resource bounds, paths that are not strings, and inputs that
// once aborted the process, hung or gave values of undefined behaviour.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { PQ, faiss, exactSearch } = require('..');
const { randomMatrix } = require('./helpers/data');

const ROOT = path.join(__dirname, '..');

/**
 * Runs a script in a child process, so that an abort shows as a failed test
 * instead of a lost worker; with memoryKiB, in that much address space (a
 * huge allocation then fails at once instead of exhausting the machine),
 * except under AddressSanitizer (scripts/sanitize.sh), which reserves terabytes.
 */
function run(script, nodeOptions = [], memoryKiB = 0) {
  const args = [...nodeOptions, '-e', `const { PQ, faiss, nanopqToFaiss } = require(${JSON.stringify(ROOT)});\n${script}`];
  const r = memoryKiB > 0 && !/libasan/.test(process.env.LD_PRELOAD ?? '')
    ? spawnSync('/bin/sh', ['-c', `ulimit -v ${memoryKiB} && exec "$0" "$@"`, process.execPath, ...args], { encoding: 'utf8', timeout: 60000 })
    : spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60000 });
  return { status: r.status, signal: r.signal, out: r.stdout.trim(), err: r.stderr };
}

describe('a transform that blows vectors up is refused before Faiss\'s k-means (it aborted)', () => {
  // A within bounds (1e15 on the diagonal), x within bounds (1e5): x A^T is 1e20.
  const build = `
    const x = { data: Float32Array.from({ length: 600 * 8 }, (_, i) => 1e5 * Math.sin(i)), shape: [600, 8] };
    const t = new faiss.OPQMatrix(8, 2);
    const A = new Float32Array(64);
    for (let i = 0; i < 8; i++) A[i * 8 + i] = 1e15;
    t.A = A;
    const report = (e) => console.log(e.name + ": " + e.message);`;
  const inIndex = 'const index = faiss.readIndex(faiss.writeIndex(new faiss.IndexPreTransform(t, new faiss.IndexPQ(8, 2, 4))));';
  test.each([['IndexPreTransform.train', `${inIndex} try { index.train(x); } catch (e) { report(e); }`],
    ['IndexPreTransform.trainAsync', `${inIndex} index.trainAsync(x).catch(report);`]])('%s', (_, call) => {
    const r = run(`${build}\n${call}`);
    expect([r.status, r.signal]).toEqual([0, null]);
    expect(r.out).toBe("RangeError: Expected vectors that the index's transforms keep within magnitude 1e15 for train()");
  });

  // OPQMatrix.train starts from the A assigned: Faiss's k-means sees x A^T.
  test('OPQMatrix.train from an assigned A', () => {
    const r = run(`${build}\ntry { t.train(x); } catch (e) { report(e); }`);
    expect([r.status, r.signal]).toEqual([0, null]);
    expect(r.out).toBe('RangeError: Expected vectors that A keeps within magnitude 1e15 for train()');
  });

  test('A is bounded as train\'s input is (A = 1e20 I aborted train)', () => {
    const r = run(`
      const x = { data: Float32Array.from({ length: 600 * 8 }, (_, i) => Math.sin(i)), shape: [600, 8] };
      const t = new faiss.OPQMatrix(8, 2);
      const A = new Float32Array(64);
      for (let i = 0; i < 8; i++) A[i * 8 + i] = 1e20;
      try { t.A = A; t.train(x); } catch (e) { console.log(e.name + ": " + e.message); }
      console.log(t.isTrained);`);
    expect([r.status, r.signal]).toEqual([0, null]);
    expect(r.out).toBe('RangeError: Expected values of magnitude <= 1000000000000000 in A, got 100000002004087730000 at A[0][0]\nfalse');
  });
});

describe('index files whose fields disagree or are out of range', () => {
  const x = randomMatrix(300, 8, 3);
  const index = new faiss.IndexPQ(8, 2, 4);
  index.train(x);
  index.add(x);
  const pq = Buffer.from(faiss.writeIndex(index));
  // 'IxPq', d (4), ntotal (8), two reserved (16): is_trained at byte 32.
  test('a boolean byte other than 0 or 1', () => {
    const bad = Buffer.from(pq);
    bad[32] = 2;
    expect(() => faiss.readIndex(bad)).toThrow('is_trained = 2 (a boolean must be 0 or 1)');
  });
  test('an IndexPreTransform whose ntotal is not its index\'s', () => {
    const t = new faiss.OPQMatrix(8, 2);
    t.train(x);
    const pre = new faiss.IndexPreTransform(t, new faiss.IndexPQ(8, 2, 4));
    pre.train(x);
    pre.add(x);
    const bad = Buffer.from(faiss.writeIndex(pre));
    bad.writeBigInt64LE(123456789n, 8);
    expect(() => faiss.readIndex(bad)).toThrow('index.ntotal = 300 where ntotal = 123456789');
  });
  test('centroids too large for distances in float32', () => {
    const bad = Buffer.from(pq);
    // pq.d, pq.M, pq.nbits (3 x 8) and the centroids' length (8) follow the header (45 bytes).
    bad.writeFloatLE(1e30, 45 + 24 + 8);
    expect(() => faiss.readIndex(bad)).toThrow(/1\.00000001504746\d*e\+30 in pq\.centroids \(values must be finite, of magnitude <= 100000000000000000\)/);
  });
});

describe('resource bounds: errors instead of hangs and huge allocations', () => {
  test('unpackCodes with M = 0 (it looped over 2**40 rows)', () => {
    expect(() => faiss.unpackCodes(new Uint8Array(0), 2 ** 40, 0, 8)).toThrow(new RangeError('Expected 1 <= M <= 4294967295, got 0'));
    expect(() => faiss.unpackCodes(new Uint8Array(0), -1, 4, 8)).toThrow(new RangeError('Expected 0 <= n <= 9007199254740991, got -1'));
    expect(() => faiss.unpackCodes(new Uint8Array(3), 1, 4, 8)).toThrow(new RangeError('Expected packed to hold n * ceil(M * nbits / 8) = 4 bytes, got 3'));
  });
  test('exactSearch over zero-width vectors', () => {
    expect(() => exactSearch({ data: new Float32Array(0), shape: [2 ** 28, 0] }, { data: new Float32Array(0), shape: [2 ** 28, 0] }, 1))
      .toThrow(new RangeError('Expected database to have at least one column, got shape [268435456, 0]'));
  });
  // 2 x (2**31 - 1) results are 48 GiB: the OOM killer ended the process.
  test('a Faiss search of more than 2**28 results is a RangeError naming k, sync and async; k > ntotal gives -1 past ntotal', () => {
    const r = run(`
      const x = { data: Float32Array.from({ length: 300 * 8 }, (_, i) => Math.sin(i)), shape: [300, 8] };
      const q = { data: x.data.subarray(0, 16), shape: [2, 8] };
      const index = new faiss.IndexPQ(8, 2, 4);
      const pt = new faiss.IndexPreTransform(new faiss.OPQMatrix(8, 2), new faiss.IndexPQ(8, 2, 4));
      (async () => {
        for (const ix of [index, pt]) {
          ix.train(x);
          ix.add(x);
          for (const search of [() => ix.search(q, 2 ** 31 - 1), () => ix.searchAsync(q, 2 ** 31 - 1)]) {
            try { await search(); } catch (e) { console.log(e.name + ': ' + e.message); }
          }
          const r = await ix.searchAsync(q, 1000);
          console.log(JSON.stringify(r.shape), r.labels.filter((l) => l === -1n).length);
        }
      })().catch((e) => console.log(e.name + ': ' + e.message));`, [], 3 * 2 ** 20);
    expect([r.status, r.signal]).toEqual([0, null]);
    const refused = 'RangeError: Expected n * k <= 268435456 results (12 bytes each), got n = 2, k = 2147483647 (the index holds 300)';
    expect(r.out.split('\n')).toEqual([refused, refused, '[2,1000] 1400', refused, refused, '[2,1000] 1400']);
  });
  test('the native search refuses k > ntotal (its own guard)', () => {
    const addon = require(path.join(ROOT, 'dist', 'core', 'native.js')).native;
    const index = addon.indexPQNew(8, 2, 4, 'l2');
    addon.indexSetTrained(index, true);
    expect(() => addon.indexSearch(index, new Float32Array(8), 1, 1, new Float32Array(1), new BigInt64Array(1)))
      .toThrow(new RangeError('Expected 1 <= k <= ntotal = 0'));
  });
  test('an OPQMatrix too large to train (it allocated 1 GiB up front)', () => {
    expect(() => new faiss.OPQMatrix(2 ** 20, 2 ** 20)).toThrow(new RangeError('Expected 1 <= d <= 16384, got 1048576'));
  });
});

describe('native memory is freed without the event loop turning (Node runs N-API finalizers only then)', () => {
  // Each model holds about 2 MB natively and each index 1 MB; 1,000 of them
  // held until the loop yields took 2,015 and 1,036 MB (freed as they go:
  // 288 and 224 MB at the peak).
  const setup = `
    const grown = (before) => Math.round((process.memoryUsage().rss - before) / 2 ** 20);
    const cw = { data: Float32Array.from({ length: 8 * 256 * 128 }, Math.random), shape: [8, 256, 128] };
    const indexBytes = faiss.writeIndex(nanopqToFaiss(PQ.fromCodewords(cw)));`;
  test.each([
    ['models', 'PQ.fromCodewords(cw)'],
    ['indexes', 'faiss.readIndex(indexBytes)'],
  ])('%s made and dropped in a synchronous loop', (_, make) => {
    const r = run(`${setup}
      const before = process.memoryUsage().rss;
      let peak = 0;
      for (let i = 0; i < 1000; i++) { ${make}; peak = Math.max(peak, grown(before)); }
      console.log(peak);`);
    expect(r.err).toBe('');
    expect(Number(r.out)).toBeLessThan(640);
  });

  test('a dropped model is freed after a garbage collection, with no further call', () => {
    const r = run(`${setup}
      const addon = require(${JSON.stringify(path.join(ROOT, 'dist', 'core', 'native.js'))}).native;
      global.gc();
      addon.sweep();
      const before = addon.handleCount();
      let models = Array.from({ length: 50 }, () => PQ.fromCodewords(cw));
      const held = addon.handleCount() - before;
      models = null;
      global.gc();
      setTimeout(() => console.log(held, addon.handleCount() - before), 100);`, ['--expose-gc']);
    const [held, after] = r.out.split(' ').map(Number);
    expect(held).toBe(50);
    expect(after).toBeLessThanOrEqual(0);
  });
});

test('paths must be strings: a number names a file descriptor (0 is stdin, 2 stderr)', () => {
  const pq = new PQ({ M: 2, Ks: 4 }).fit(randomMatrix(50, 4, 1), { iter: 2 });
  expect(() => PQ.load(0)).toThrow(new TypeError('Expected a file path (string) for path, got 0'));
  expect(() => pq.save(2)).toThrow(new TypeError('Expected a file path (string) for path, got 2'));
});

describe('messages that name the problem, and read-only fields that stay so', () => {
  test('a bigint, a string code and a NaN shape are shown as they are', () => {
    expect(() => new PQ({ M: 4n })).toThrow(new TypeError('Expected an integer for M, got 4n'));
    const pq = new PQ({ M: 2, Ks: 4 }).fit(randomMatrix(50, 4, 1), { iter: 2 });
    expect(() => pq.decode([[0, '1']])).toThrow(new RangeError("Expected integer codes in [0, Ks = 4) in codes, got '1' at codes[0][1]"));
    expect(() => pq.encode({ data: new Float32Array(16), shape: [NaN, 16] }))
      .toThrow(new TypeError('Expected vecs.shape to be [rows, cols] of non-negative integers, got [NaN,16]'));
  });

  test('assigning M, Ks, metric, codeDtype or a table\'s shape changes nothing', () => {
    'use strict';
    const pq = new PQ({ M: 2, Ks: 4 }).fit(randomMatrix(50, 4, 1), { iter: 2 });
    for (const [field, value] of [['M', 8], ['Ks', 1e6], ['metric', 'dot'], ['codeDtype', 'x']]) {
      expect(() => { pq[field] = value; }).toThrow(TypeError);
    }
    expect([pq.M, pq.Ks, pq.metric, pq.codeDtype]).toEqual([2, 4, 'l2', 'uint8']);
    const dt = pq.dtable(new Float32Array(4));
    expect(() => { dt.dtable.shape[1] = 1e6; }).toThrow(TypeError);
    expect(() => { dt.dtable = { data: new Float32Array(1), shape: [1, 1] }; }).toThrow(TypeError);
    expect(dt.adist([[1, 2]])).toHaveLength(1);
    pq.verbose = false;  // the one field meant to change
  });
});

describe('the Faiss indexes\' public API (crash hunt): each once crashed the process', () => {
  const data = `
    const rnd = (n, seed) => { let s = seed; const a = new Float32Array(n * 16); for (let i = 0; i < a.length; i++) { s = (s * 1103515245 + 12345) % 2147483648; a[i] = s / 2147483648 - 0.5; } return { data: a, shape: [n, 16] }; };
    const xb = rnd(2000, 1), xq = rnd(20, 7);
    const report = (e) => console.log(e.name + ': ' + e.message);`;

  test('a transform of a factory chain trains after its index was disposed of (it trained with the freed index\'s ProductQuantizer)', () => {
    const r = run(`${data}
      const pre = faiss.indexFactory(16, 'OPQ4,Flat');
      const t = pre.chain[0];
      pre.dispose();
      const junk = []; for (let i = 0; i < 2000; i++) junk.push(new Float64Array(64).fill(2));
      const x = { data: xb.data.subarray(0, 300 * 16), shape: [300, 16] };
      t.train(x);
      const again = new faiss.IndexPreTransform(faiss.indexFactory(16, 'OPQ4,Flat').chain[0], new faiss.IndexFlat(16));
      global.gc();
      again.train(x);
      console.log(t.isTrained, again.isTrained);`, ['--expose-gc']);
    expect([r.status, r.signal, r.out]).toEqual([0, null, 'true true']);
  });

  test('training on no vectors is a RangeError (a ScalarQuantizer read x[0] of none: a segfault)', () => {
    const r = run(`${data}
      const none = { data: new Float32Array(0), shape: [0, 16] };
      for (const f of ['SQ8', 'HNSW16,SQ8', 'IDMap,SQ4']) try { faiss.indexFactory(16, f).train(none); } catch (e) { report(e); }
      faiss.indexFactory(16, 'SQ6').trainAsync(none).catch(report);`);
    expect([r.status, r.signal]).toEqual([0, null]);
    expect(r.out.split('\n')).toEqual(Array(4).fill('RangeError: Expected at least one training vector in x, got 0 rows'));
  });

  // In 4 GiB of address space: asking the base for k * kFactor results each, or HNSW for
  // efSearch, allocated tens of GB (minutes, or the OOM killer); no more than ntotal now.
  test('a huge kFactor (refine) or efSearch (HNSW) asks for no more than the index holds', () => {
    const r = run(`${data}
      const same = (a, b) => a.labels.every((l, i) => l === b.labels[i]) ? 'same' : 'differ';
      const refine = faiss.indexFactory(16, 'IVF16,PQ8np,RFlat'); refine.train(xb); refine.add(xb);
      const all = refine.search(xq, 100, { kFactor: 20, nprobe: 16 });
      refine.kFactor = 1e6;
      const hnsw = faiss.indexFactory(16, 'HNSW16'); hnsw.add(xb);
      const q = { data: new Float32Array(200 * 16).fill(0.1), shape: [200, 16] };
      try {
        console.log(same(refine.search(xq, 100, { nprobe: 16 }), all), same(refine.search(xq, 100, { kFactor: 1e6, nprobe: 16 }), all));
        console.log(same(hnsw.search(q, 1, { efSearch: 1e6 }), hnsw.search(q, 1, { efSearch: 2000 })));
      } catch (e) { report(e); }`, [], 4 * 2 ** 20);
    expect([r.status, r.signal, r.out]).toEqual([0, null, 'same same\nsame']);
  });
});
