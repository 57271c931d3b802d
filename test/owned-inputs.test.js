// Inputs that change under a call (issue 26): memory resized, detached or
// written by another thread while a native call reads it once crashed the
// process (SIGSEGV, use-after-free, Faiss's abort). Each case runs in a child
// process, so that a crash shows as a failed test; each must end in a correct
// result or an Error.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

/** Runs script (with nanopq's exports and a few helpers in scope) in a child process: its exit, signal and output. */
function run(script) {
  const prelude = `
    const { PQ, OPQ, faiss, DistanceTable } = require(${JSON.stringify(ROOT)});
    const { Worker } = require('node:worker_threads');
    const matrix = (rows, cols, seed = 1) => {
      const data = new Float32Array(rows * cols);
      for (let i = 0; i < data.length; i++) data[i] = Math.sin(seed * 7919 + i * 0.37) * 3;
      return { data, shape: [rows, cols] };
    };
    const inBuffer = (buffer, m) => { const data = new Float32Array(buffer, 0, m.data.length); data.set(m.data); return { data, shape: m.shape }; };
    // Transfers the array's memory away, and lets it be freed.
    const detach = (array) => { structuredClone(array.buffer, { transfer: [array.buffer] }); gc(); };
    const outcome = (p) => p.then(() => 'resolved', (e) => e.name + ': ' + e.message);`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', `${prelude}\n${script}`], { encoding: 'utf8', timeout: 120000 });
  return { status: r.status, signal: r.signal, out: r.stdout.trim(), err: r.stderr };
}

function expectClean(r) {
  expect({ status: r.status, signal: r.signal, err: r.err.slice(0, 2000) }).toEqual({ status: 0, signal: null, err: '' });
}

const N = 40000, D = 64;
const fitted = `const X = matrix(${N}, ${D}); const pq = new PQ({ M: 8 }).fit(matrix(2000, ${D}, 2), { iter: 3 });`;

describe('an async call owns what it reads: the caller may resize or detach its input meanwhile', () => {
  test('encodeAsync while the resizable buffer of vecs shrinks to 0: the codes of the vectors as they were', () => {
    const r = run(`${fitted}
      const rab = new ArrayBuffer(X.data.byteLength, { maxByteLength: X.data.byteLength });
      const x = inBuffer(rab, X);
      const expected = pq.encode(X).data;
      const p = pq.encodeAsync(x);
      setImmediate(() => rab.resize(0));
      p.then((codes) => console.log(Buffer.compare(Buffer.from(codes.data.buffer), Buffer.from(expected.buffer)) === 0),
        (e) => console.log(e.name + ': ' + e.message));`);
    expectClean(r);
    expect(r.out).toMatch(/^(true|Error: Expected vecs .*)$/);
  });

  test.each([
    ['encodeAsync', 'pq.encodeAsync(x)', 'x.data'],
    ['searchAsync, queries', 'pq.searchAsync(x, codes, 10)', 'x.data'],
    ['searchAsync, codes', 'pq.searchAsync(matrix(50, D), big, 10)', 'big.data'],
    ['faiss addAsync', 'index.addAsync(x)', 'x.data'],
    ['faiss searchAsync', 'index.searchAsync(x, 5)', 'x.data'],
    ['faiss trainAsync', 'new faiss.IndexPQ(D, 8, 6).trainAsync(x)', 'x.data'],
  ])('%s while its input is transferred away', (_, call, transferred) => {
    const r = run(`${fitted}
      const D = ${D};
      const x = { data: X.data.slice(), shape: X.shape };
      const codes = pq.encode(X);
      const big = { data: new Uint8Array(2000000 * 8).fill(3), shape: [2000000, 8] };
      const index = new faiss.IndexPQ(D, 8, 6); index.train(matrix(3000, D, 3));
      const p = outcome(${call});
      setImmediate(() => detach(${transferred}));
      p.then(console.log);`);
    expectClean(r);
    expect(r.out).toMatch(/^(resolved|Error: Expected .* detached .*)$/);
  });

  test('OPQ fitAsync while onProgress transfers the training vectors away, then drops them', () => {
    const r = run(`
      const x = matrix(60000, 32);
      const opq = new OPQ({ M: 4, Ks: 16 });
      const onProgress = (p) => { if (p.iteration === 1 && p.phase === 'rotation') setImmediate(() => detach(x.data)); };
      outcome(opq.fitAsync(x, { pqIter: 3, rotationIter: 10, onProgress })).then(console.log);`);
    expectClean(r);
    expect(r.out).toBe('resolved');
  });

  test('a synchronous OPQ fit whose verbose output transfers the vectors away', () => {
    const r = run(`
      const x = matrix(3000, 32);
      const log = console.log;
      const opq = new OPQ({ M: 4, Ks: 16, verbose: true });
      console.log = (line) => { if (/rotation 1/.test(line)) detach(x.data); };
      let result;
      try { opq.fit(x, { pqIter: 3, rotationIter: 3 }); result = 'fitted'; }
      catch (e) { result = e.name + ': ' + e.message; }
      log(result);`);
    expectClean(r);
    expect(r.out.split('\n').pop()).toBe('fitted');
  });
});

describe('values checked once are not read again from memory another thread writes', () => {
  // A worker flips the shared codes (or values) between valid and invalid
  // while this thread searches (or trains) over them, again and again.
  const flipper = (array, valid, invalid) => `
    new Worker(\`const { workerData: a } = require('node:worker_threads');
      const end = Date.now() + 4000, wait = (ms) => { const t = performance.now() + ms; while (performance.now() < t); };
      while (Date.now() < end) {  // valid for 0.3 ms (long enough to pass a check), then invalid for 2
        for (let i = 0; i < a.length; i += 7) a[i] = ${valid}; wait(0.3);
        for (let i = 0; i < a.length; i += 7) a[i] = ${invalid}; wait(2);
      }\`,
      { eval: true, workerData: ${array} });`;

  test('search and searchAsync over codes in a SharedArrayBuffer flipped to 0xffffffff', () => {
    const r = run(`
      const pq = new PQ({ M: 4, Ks: 256 }).fit(matrix(2000, 16), { iter: 3 });
      const plain = pq.encode(matrix(20000, 16, 5)).data;
      const shared = new Uint32Array(new SharedArrayBuffer(plain.length * 4)); shared.set(plain);
      const codes = { data: shared, shape: [20000, 4] };
      ${flipper('shared', 3, '0xffffffff')}
      const q = matrix(20, 16, 7);
      const seen = new Set();
      (async () => {
        const end = Date.now() + 3000;
        while (Date.now() < end) {
          try { pq.search(q, codes, 5); seen.add('ok'); } catch (e) { seen.add(e.name); }
          seen.add(await outcome(pq.searchAsync(q, codes, 5)).then((o) => o === 'resolved' ? 'ok' : o.split(':')[0]));
        }
        console.log([...seen].sort().join(','));
        process.exit(0);
      })();`);
    expectClean(r);
    expect(r.out).toMatch(/^(RangeError,)?ok$/);
  });

  test.each([
    ['PQ fitAsync', 'new PQ({ M: 4, Ks: 64 }).fitAsync(x, { iter: 3 })'],
    ['faiss trainAsync', 'new faiss.IndexPQ(16, 4, 6).trainAsync(x)'],
  ])('%s over vectors in a SharedArrayBuffer set to 1e30 after they were checked', (_, call) => {
    const r = run(`
      const X = matrix(4000, 16);
      const shared = new Float32Array(new SharedArrayBuffer(X.data.byteLength)); shared.set(X.data);
      const x = { data: shared, shape: X.shape };
      ${flipper('shared', 0.5, '1e30')}
      (async () => {
        const seen = new Set();
        for (let i = 0; i < 40; i++) {
          const o = await outcome(${call});
          seen.add(o === 'resolved' ? 'ok' : o.split(':')[0]);
        }
        console.log([...seen].sort().join(','));
        process.exit(0);
      })();`);
    expectClean(r);
    expect(r.out).toMatch(/^(RangeError,)?ok$|^RangeError$/);
  });
});

describe('outputs that alias inputs', () => {
  const setup = `
    const pq = new PQ({ M: 4, Ks: 256 }).fit(matrix(1000, 16), { iter: 3 });
    const dt = pq.dtable(matrix(1, 16, 2).data);
    const buffer = new ArrayBuffer(100 * 4 * 4 + 4 * 4);
    const codes = new Uint32Array(buffer, 0, 400);
    codes.set(pq.encode(matrix(100, 16, 3)).data);
    const C = { data: codes, shape: [100, 4] };
    const thrown = (f) => { try { f(); return 'no error'; } catch (e) { return e.name + ': ' + e.message; } };`;

  test('adist refuses an out that shares memory with the codes (one row ahead)', () => {
    const r = run(`${setup}
      console.log(thrown(() => dt.adist(C, new Float32Array(buffer, 16, 100))));`);
    expectClean(r);
    expect(r.out).toBe('TypeError: Expected out to share no memory with codes');
  });

  test('adist refuses an out that shares memory with the table', () => {
    const r = run(`${setup}
      const own = new Float32Array(dt.dtable.data);
      const table = new DistanceTable({ data: own, shape: [4, 256] });
      console.log(thrown(() => table.adist(C, own.subarray(0, 100))));`);
    expectClean(r);
    expect(r.out).toBe('TypeError: Expected out to share no memory with dtable');
  });

  test('an out of its own memory, or beside the codes in one buffer, is filled in place', () => {
    const r = run(`${setup}
      const beside = new Float32Array(new ArrayBuffer(2000), 1600, 100);
      const out = new Float32Array(100);
      console.log(dt.adist(C, out) === out, out.every((v, i) => v === dt.adist(C)[i]));`);
    expectClean(r);
    expect(r.out).toBe('true true');
  });
});

describe('async calls copy large inputs in pieces, with the results of one call over all rows', () => {
  const { PQ, OPQ } = require('..');
  const { randomMatrix } = require('./helpers/data');
  const same = (a, b) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
  // 10 MB of vectors: two row pieces (of 8 MB and less), and three pieces of a copy (4 MB).
  const X = randomMatrix(40000, 64, 5);
  const Q = randomMatrix(34000, 64, 6);  // queries in two pieces too
  const models = {
    'PQ, Ds 16': new PQ({ M: 4 }).fit(randomMatrix(3000, 64, 1), { iter: 3 }),
    'PQ, Ds 8 (Faiss encoder)': new PQ({ M: 8, Ks: 64 }).fit(randomMatrix(3000, 64, 2), { iter: 3 }),
    'OPQ, dot': new OPQ({ M: 4, Ks: 16, metric: 'dot' }).fit(randomMatrix(3000, 64, 3), { pqIter: 3, rotationIter: 2 }),
  };

  test.each(Object.keys(models))('%s: encodeAsync and searchAsync equal encode and search to the bit', async (name) => {
    const model = models[name];
    expect(same((await model.encodeAsync(X)).data, model.encode(X).data)).toBe(true);
    const codes = model.encode({ data: X.data.subarray(0, 2000 * 64), shape: [2000, 64] });
    const expected = model.search(Q, codes, 5);
    const got = await model.searchAsync(Q, codes, 5);
    expect(same(got.ids, expected.ids) && same(got.dists, expected.dists)).toBe(true);
    const zero = await model.searchAsync(Q, codes, 5, { zeroCopy: true });
    expect(same(zero.ids, expected.ids)).toBe(true);
  });

  test('a bad value in a later piece is named by its row in the argument', async () => {
    const x = { data: X.data.slice(), shape: X.shape };
    x.data[39000 * 64 + 3] = NaN;
    const error = new RangeError('Expected finite values in vecs, got NaN at vecs[39000][3]');
    await expect(models['PQ, Ds 16'].encodeAsync(x)).rejects.toThrow(error);
    await expect(models['PQ, Ds 16'].encodeAsync(x, { zeroCopy: true })).rejects.toThrow(error);
    await expect(new PQ({ M: 4 }).fitAsync(x, { iter: 1 })).rejects.toThrow(error);  // a copy in pieces of 4 MB
  });

  test('a model disposed of while an async call copies its pieces lets the call finish', async () => {
    const pq = new PQ({ M: 4 }).fit(randomMatrix(3000, 64, 1), { iter: 3 });
    const expected = pq.encode(X).data;
    const p = pq.encodeAsync(X);
    pq.dispose();
    expect(same((await p).data, expected)).toBe(true);
    expect(() => pq.encode(X)).toThrow('Expected a PQ that is not disposed of for encode()');
  });

  test('zeroCopy is a boolean option', async () => {
    const pq = models['PQ, Ds 16'];
    await expect(pq.encodeAsync(X, { zeroCopy: 1 })).rejects.toThrow(new TypeError('Expected a boolean for zeroCopy, got 1'));
    await expect(pq.encodeAsync(X, { zerocopy: true })).rejects.toThrow('Unknown option "zerocopy" for PQ.encodeAsync; did you mean "zeroCopy"?');
    expect(same((await pq.encodeAsync(X, { zeroCopy: true })).data, pq.encode(X).data)).toBe(true);
  });
});

test('scripts/stress.js: calls over inputs that change under them, a few seconds', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'stress.js'), '3'], { encoding: 'utf8', timeout: 120000 });
  expect({ status: r.status, signal: r.signal, err: r.stderr }).toEqual({ status: 0, signal: null, err: '' });
  expect(r.stdout).toMatch(/^stress: \d+ rounds in 3 s, no crash\n/);
  expect(r.stdout).toMatch(/encodeAsync: ok: \d+|encodeAsync: Error: \d+/);
});
