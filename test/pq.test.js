// The intent of Python nanopq's tests/test_pq.py, and what this library adds.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { PQ, DistanceTable, exactSearch, getNumThreads, setNumThreads } = require('..');
const { randomMatrix, row, relativeError, argmin } = require('./helpers/data');

const N = 100, D = 12, M = 4, Ks = 10;

describe('PQ construction', () => {
  test('code dtype follows nanopq: uint8 up to 2**8, uint16 up to 2**16, else uint32', () => {
    expect(new PQ({ M: 4, Ks: 256 }).codeDtype).toBe('uint8');
    expect(new PQ({ M: 4, Ks: 257 }).codeDtype).toBe('uint16');
    expect(new PQ({ M: 4, Ks: 500 }).codeDtype).toBe('uint16');
    expect(new PQ({ M: 4, Ks: 2 ** 16 }).codeDtype).toBe('uint16');
    expect(new PQ({ M: 4, Ks: 2 ** 16 + 10 }).codeDtype).toBe('uint32');
    expect(new PQ({ M: 4, Ks: 2 ** 32 }).codeDtype).toBe('uint32');
  });

  test('defaults: Ks 256, metric l2, quiet, not fitted', () => {
    const pq = new PQ({ M: 4 });
    expect([pq.Ks, pq.metric, pq.verbose, pq.Ds, pq.codewords]).toEqual([256, 'l2', false, null, null]);
  });
});

describe('PQ.fit', () => {
  const X = randomMatrix(N, D);

  test('sets Ds and codewords of shape (M, Ks, Ds), and chains', () => {
    const pq = new PQ({ M, Ks });
    expect(pq.fit(X)).toBe(pq);
    expect(pq.Ds).toBe(D / M);
    expect(pq.codewords.shape).toEqual([M, Ks, D / M]);
    expect(pq.codewords.data).toHaveLength(M * Ks * (D / M));
  });

  test('same data, options and seed give identical codewords', () => {
    for (const [ks, minit] of [[10, 'points'], [16, 'points'], [10, '++'], [16, 'random']]) {
      const a = new PQ({ M, Ks: ks }).fit(X, { iter: 15, seed: 7, minit });
      const b = new PQ({ M, Ks: ks }).fit(X, { iter: 15, seed: 7, minit });
      expect(Array.from(a.codewords.data)).toEqual(Array.from(b.codewords.data));
    }
  });

  test('...whatever the number of threads, OpenMP\'s and OpenBLAS\'s, with either family of OpenBLAS kernels', () => {
    // Covers each product split into blocks of rows (the sizes here are large
    // enough to be split): OPQ's x @ R and R, exactSearch, and a
    // faiss.IndexPQ's k-means, add and search; and OPQ's rotation of a row
    // alone or in a batch (dtable against search). OpenBLAS's AVX2 kernels
    // round a row by where it falls in a call, so neither may follow the
    // number of threads or the batch; OPENBLAS_CORETYPE=Haswell gives those
    // kernels on any CPU with AVX2, AVX-512 included.
    const script = `
      const { PQ, OPQ, exactSearch, faiss } = require(${JSON.stringify(path.join(__dirname, '..'))});
      const { randomMatrix } = require(${JSON.stringify(path.join(__dirname, 'helpers', 'data'))});
      const x = randomMatrix(3000, 128, 9), q = { data: x.data.subarray(0, 1000 * 128), shape: [1000, 128] };
      const pq = new PQ({ M: 4, Ks: 10 }).fit(x, { minit: '++' }), opq = new OPQ({ M: 4, Ks: 16 }).fit(x);
      const pq256 = new PQ({ M: 4, Ks: 256 }).fit(x, { iter: 5 });
      const parametric = new OPQ({ M: 4, Ks: 16 }).fit(x, { parametricInit: true, rotationIter: 3 });
      const exact = exactSearch(q, x, 5);
      const index = new faiss.IndexPQ(128, 4, 8);
      index.train(x);
      index.add(x);
      const found = index.search(q, 5);
      const alone = new Float32Array(50 * 128);
      for (let i = 0; i < 50; i++) alone.set(opq.rotate(q.data.subarray(i * 128, (i + 1) * 128)), i * 128);
      const named = {
        pq: pq.codewords.data, opq: opq.codewords.data, R: opq.R.data, pq256: pq256.codewords.data,
        parametricR: parametric.R.data, exactDists: exact.dists, exactIds: exact.ids, index: faiss.writeIndex(index),
        foundDists: found.distances, foundLabels: found.labels,
        rotatedInBatch: opq.rotate(q).data.subarray(0, 50 * 128), rotatedAlone: alone,
      };
      const hash = (a) => require('node:crypto').createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
      console.log(JSON.stringify(Object.fromEntries(Object.entries(named).map(([k, a]) => [k, hash(a)]))));`;
    const fitWith = (omp, openblas, coretype) => {
      const env = { ...process.env, OMP_NUM_THREADS: omp, OPENBLAS_NUM_THREADS: openblas };
      if (coretype) env.OPENBLAS_CORETYPE = coretype;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env });
      if (r.status !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout);
    };
    const avx2 = fs.existsSync('/proc/cpuinfo') && /\bavx2\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    for (const coretype of avx2 ? [undefined, 'Haswell'] : [undefined]) {
      // One thread and M = 4 add k-means' sums up in the assignment's pass
      // (assign_and_sum); three threads in a pass of their own.
      const one = fitWith('1', '1', coretype);
      expect(one.rotatedAlone).toBe(one.rotatedInBatch);
      expect(fitWith('3', '1', coretype)).toEqual(one);
      expect(fitWith('1', '3', coretype)).toEqual(one);
      expect(fitWith('2', '2', coretype)).toEqual(one);
    }
  });

  test('another seed gives other codewords', () => {
    const a = new PQ({ M, Ks }).fit(X, { seed: 1 });
    const b = new PQ({ M, Ks }).fit(X, { seed: 2 });
    expect(a.equals(b)).toBe(false);
  });

  test('accepts number[][], Float32Array[] and {data, shape} alike', () => {
    const rows = Array.from({ length: N }, (_, i) => row(X, i));
    const a = new PQ({ M, Ks }).fit(X);
    const b = new PQ({ M, Ks }).fit(rows);
    const c = new PQ({ M, Ks }).fit(rows.map((r) => Array.from(r)));
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(true);
  });

  test.each(['points', 'random', '++'])('minit %s trains a usable quantizer', (minit) => {
    for (const ks of [10, 64]) {
      const pq = new PQ({ M, Ks: ks }).fit(X, { minit });
      expect(relativeError(X, pq.decode(pq.encode(X)))).toBeLessThan(0.1);
    }
  });
});

describe('PQ.equals', () => {
  const X = randomMatrix(N, D);

  test('as nanopq __eq__: same settings and codewords', () => {
    const pq1 = new PQ({ M, Ks });
    const pq2 = new PQ({ M, Ks });
    const pq4 = new PQ({ M, Ks: 2 * Ks });
    expect(pq1.equals(pq1)).toBe(true);
    expect(pq1.equals(pq2)).toBe(true);
    expect(pq1.equals(pq4)).toBe(false);
    pq1.fit(X);
    expect(pq1.equals(pq2)).toBe(false);
    pq2.fit(X);
    pq4.fit(X);
    expect(pq1.equals(pq2)).toBe(true);
    expect(pq1.equals(PQ.fromBuffer(pq1.toBuffer()))).toBe(true);
    expect(pq1.equals(pq4)).toBe(false);
    expect(pq1.equals(new PQ({ M, Ks, metric: 'dot' }).fit(X))).toBe(false);
    expect(pq1.equals({ ...pq1 })).toBe(false);
  });
});

describe('encode / decode', () => {
  const X = randomMatrix(N, D);

  test('codes (N, M) of codeDtype; reconstruction relative error < 0.1', () => {
    const pq = new PQ({ M, Ks }).fit(X);
    const codes = pq.encode(X);
    expect(codes.shape).toEqual([N, M]);
    expect(codes.data).toBeInstanceOf(Uint8Array);
    const decoded = pq.decode(codes);
    expect(decoded.shape).toEqual([N, D]);
    expect(relativeError(X, decoded)).toBeLessThan(0.1);
  });

  test('each code names the nearest codeword of its subspace', () => {
    for (const ks of [10, 16, 256, 300]) {
      const train = randomMatrix(1000, D, 5);
      const pq = new PQ({ M, Ks: ks }).fit(train, { iter: 5 });
      const codes = pq.encode(X);
      const Ds = pq.Ds;
      const cw = pq.codewords.data;
      for (let i = 0; i < N; i++) {
        for (let m = 0; m < M; m++) {
          let best = -1, bestDist = Infinity;
          for (let k = 0; k < ks; k++) {
            let d = 0;
            for (let j = 0; j < Ds; j++) d += (X.data[i * D + m * Ds + j] - cw[(m * ks + k) * Ds + j]) ** 2;
            if (d < bestDist) [best, bestDist] = [k, d];
          }
          expect(codes.data[i * M + m]).toBe(best);
        }
      }
    }
  });

  test('decode gathers the codewords the codes name; number[][] codes work too', () => {
    const pq = new PQ({ M, Ks }).fit(X);
    const decoded = pq.decode([[0, 1, 2, 3], [9, 9, 9, 9]]);
    const cw = pq.codewords.data;
    const Ds = pq.Ds;
    for (let m = 0; m < M; m++) {
      for (let j = 0; j < Ds; j++) {
        expect(decoded.data[m * Ds + j]).toBe(cw[(m * Ks + m) * Ds + j]);
        expect(decoded.data[D + m * Ds + j]).toBe(cw[(m * Ks + 9) * Ds + j]);
      }
    }
  });

  test('Ks above 256 gives uint16 codes that round-trip', () => {
    const train = randomMatrix(3000, 8, 9);
    for (const ks of [512, 1000]) {
      const pq = new PQ({ M: 2, Ks: ks }).fit(train, { iter: 3 });
      const codes = pq.encode(train);
      expect(codes.data).toBeInstanceOf(Uint16Array);
      expect(Math.max(...codes.data)).toBeGreaterThan(255);
      expect(Array.from(pq.encode(pq.decode(codes)).data)).toEqual(Array.from(codes.data));
    }
  });

  test('encode reads a view with a byteOffset in place', () => {
    const pq = new PQ({ M, Ks }).fit(X);
    const padded = new Float32Array(D + X.data.length);
    padded.set(X.data, D);
    const view = { data: padded.subarray(D), shape: [N, D] };
    expect(Array.from(pq.encode(view).data)).toEqual(Array.from(pq.encode(X).data));
  });
});

describe('dtable / adist / topk', () => {
  const X = randomMatrix(N, D);

  test('a query\'s own code is the argmin of adist; dtable chains', () => {
    const pq = new PQ({ M, Ks }).fit(X);
    const codes = pq.encode(X);
    const q = row(X, 13);
    const dt = pq.dtable(q);
    expect(dt).toBeInstanceOf(DistanceTable);
    expect(dt.dtable.shape).toEqual([M, Ks]);
    const dists = dt.adist(codes);
    expect(dists).toHaveLength(N);
    expect(argmin(dists)).toBe(13);
    expect(Array.from(pq.dtable(Array.from(q)).adist(codes))).toEqual(Array.from(dists));
  });

  test('dtable[m][ks] is the squared distance of sub-vector m to codeword ks', () => {
    const pq = new PQ({ M, Ks }).fit(X);
    const q = row(X, 3);
    const t = pq.dtable(q).dtable.data;
    const cw = pq.codewords.data;
    const Ds = pq.Ds;
    for (let m = 0; m < M; m++) {
      for (let k = 0; k < Ks; k++) {
        let d = 0;
        for (let j = 0; j < Ds; j++) d += (q[m * Ds + j] - cw[(m * Ks + k) * Ds + j]) ** 2;
        expect(t[m * Ks + k]).toBeCloseTo(d, 5);
      }
    }
  });

  test('adist is the sum of the table entries the codes name, unsorted', () => {
    const pq = new PQ({ M, Ks }).fit(X);
    const codes = pq.encode(X);
    const dt = pq.dtable(row(X, 0));
    const dists = dt.adist(codes);
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += dt.dtable.data[m * Ks + codes.data[i * M + m]];
      expect(dists[i]).toBeCloseTo(s, 5);
    }
  });

  test('metric dot: the table holds inner products (hand-computed), and adist sums them', () => {
    const pq = new PQ({ M, Ks, metric: 'dot' }).fit(X);
    const codes = pq.encode(X);
    const q = row(X, 13);
    const dt = pq.dtable(q);
    expect(dt.metric).toBe('dot');
    const cw = pq.codewords.data;
    const Ds = pq.Ds;
    const table = new Float32Array(M * Ks);
    for (let m = 0; m < M; m++) {
      for (let k = 0; k < Ks; k++) {
        let ip = 0;
        for (let j = 0; j < Ds; j++) ip += q[m * Ds + j] * cw[(m * Ks + k) * Ds + j];
        table[m * Ks + k] = ip;
      }
    }
    dt.dtable.data.forEach((v, i) => expect(v).toBeCloseTo(table[i], 5));
    const dists = dt.adist(codes);
    let meanError = 0;
    for (let i = 0; i < N; i++) {
      let exact = 0;
      for (let j = 0; j < D; j++) exact += X.data[i * D + j] * q[j];
      meanError += (exact - dists[i]) / N;
    }
    expect(Math.abs(meanError)).toBeLessThan(0.05);
    // Encoding stays Euclidean, as nanopq: the same codes as the l2 model.
    expect(Array.from(codes.data)).toEqual(Array.from(new PQ({ M, Ks }).fit(X).encode(X).data));
  });

  test('topk: best first, the smallest for l2 and the largest for dot', () => {
    for (const metric of ['l2', 'dot']) {
      const pq = new PQ({ M, Ks, metric }).fit(X);
      const codes = pq.encode(X);
      const dt = pq.dtable(row(X, 42));
      const all = dt.adist(codes);
      const order = Array.from(all.keys()).sort((a, b) => (metric === 'l2' ? all[a] - all[b] : all[b] - all[a]) || a - b);
      const { ids, dists } = dt.topk(codes, 10);
      expect(Array.from(ids)).toEqual(order.slice(0, 10));
      expect(Array.from(dists)).toEqual(order.slice(0, 10).map((i) => all[i]));
      expect(dt.topk(codes, 1000).ids).toHaveLength(N);
    }
  });

  test('one query over many codes (a scan split between threads): the same ids and distances on any number of threads', () => {
    // 300,000 codes of M = 8 (above the size a scan splits into blocks), of a table
    // with many equal entries: ties to the lower id across blocks too, and
    // infinite ones (Infinity - Infinity: a NaN distance, which ranks last).
    const n = 300000, Mx = 8, Kx = 16;
    const table = Float32Array.from({ length: Mx * Kx }, (_, i) => (i === 19 ? Infinity : i === 50 ? -Infinity : (i * 37) % 5));
    const codes = { data: Uint8Array.from({ length: n * Mx }, (_, i) => (Math.imul(i, 2654435761) >>> 27) % Kx), shape: [n, Mx] };
    const expected = (largest) => {
      const d = new Float32Array(n);
      for (let i = 0; i < n; i++) { let s = 0; for (let m = 0; m < Mx; m++) s += table[m * Kx + codes.data[i * Mx + m]]; d[i] = s; }
      const key = (i) => (Number.isNaN(d[i]) ? Infinity : largest ? -d[i] : d[i]);
      return { d, order: Array.from(d.keys()).sort((a, b) => key(a) - key(b) || a - b) };
    };
    const before = getNumThreads();
    try {
      for (const metric of ['l2', 'dot']) {
        const dt = new DistanceTable({ data: table, shape: [Mx, Kx] }, metric);
        const { d, order } = expected(metric === 'dot');
        for (const threads of [1, 2, 3]) {
          setNumThreads(threads);
          const got = dt.adist(codes);
          expect(got.findIndex((v, i) => v !== d[i] && !(Number.isNaN(v) && Number.isNaN(d[i])))).toBe(-1);
          for (const k of [1, 10, 100]) {
            const r = dt.topk(codes, k);
            expect(Array.from(r.ids)).toEqual(order.slice(0, k));
            expect(Array.from(r.dists)).toEqual(order.slice(0, k).map((i) => d[i]));
          }
        }
      }
    } finally {
      setNumThreads(before);
    }
  });

  test('DistanceTable built by hand works as nanopq\'s', () => {
    const dt = new DistanceTable({ data: Float32Array.from([1, 5, 2, 0, 3, 4]), shape: [2, 3] });
    expect(dt.metric).toBe('l2');
    expect(Array.from(dt.adist([[0, 0], [2, 1], [1, 2]]))).toEqual([1, 5, 9]);
    expect(Array.from(dt.topk([[0, 0], [2, 1], [1, 2]], 2).ids)).toEqual([0, 1]);
  });
});

describe('serialization', () => {
  const X = randomMatrix(N, D);

  test('toBuffer / fromBuffer and save / load give an equal model with the same codes', () => {
    for (const metric of ['l2', 'dot']) {
      const pq = new PQ({ M, Ks, metric }).fit(X);
      const copy = PQ.fromBuffer(pq.toBuffer());
      expect(copy.equals(pq)).toBe(true);
      expect(copy.metric).toBe(metric);
      expect(Array.from(copy.encode(X).data)).toEqual(Array.from(pq.encode(X).data));
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-')), 'pq.npq');
      pq.save(file);
      expect(PQ.load(file).equals(pq)).toBe(true);
    }
  });

  test('fromBuffer at any byte offset; the model keeps no view of the buffer', () => {
    const pq = new PQ({ M, Ks }).fit(X);
    const bytes = pq.toBuffer();
    for (const offset of [0, 1, 4]) {  // aligned for float32 or not
      const buf = Buffer.alloc(offset + bytes.length);
      bytes.copy(buf, offset);
      const copy = PQ.fromBuffer(buf.subarray(offset));
      buf.fill(0);
      expect(copy.equals(pq)).toBe(true);
    }
  });

  test('an unfitted model round-trips, as a pickle of one does', () => {
    const pq = new PQ({ M: 3, Ks: 2 ** 32 });
    const copy = PQ.fromBuffer(pq.toBuffer());
    expect([copy.M, copy.Ks, copy.Ds, copy.codewords]).toEqual([3, 2 ** 32, null, null]);
  });

  test('the header is the documented one', () => {
    const buf = new PQ({ M, Ks }).fit(X).toBuffer();
    expect(buf.toString('latin1', 0, 8)).toBe('NANOPQ\0\0');
    expect(buf.readUInt32LE(8)).toBe(1);
    expect([buf.readUInt8(12), buf.readUInt8(13), buf.readUInt32LE(16), buf.readUInt32LE(20)]).toEqual([0, 0, M, D / M]);
    expect(buf.readBigUInt64LE(24)).toBe(BigInt(Ks));
    expect(buf.length).toBe(32 + 4 * M * Ks * (D / M));
  });
});

describe('data far from the origin', () => {
  // Faiss's BLAS distances (|x|^2 + |c|^2 - 2 x.c) lose such data; centring keeps it.
  function nearest(x, cw, i, m, Ks, Ds, D) {
    let best = -1, bestDist = Infinity;
    for (let k = 0; k < Ks; k++) {
      let d = 0;
      for (let j = 0; j < Ds; j++) d += (x.data[i * D + m * Ds + j] - cw[(m * Ks + k) * Ds + j]) ** 2;
      if (d < bestDist) [best, bestDist] = [k, d];
    }
    return best;
  }
  test.each([256, 100])('encode finds the nearest codeword of data around 1000 (Ds 16, Ks %i)', (Ks) => {
    const Ds = 16, D = 32;
    const x = randomMatrix(200, D, 21);
    x.data.forEach((v, i) => { x.data[i] = 1000 + v; });
    const cw = randomMatrix(2 * Ks, Ds, 22).data.map((v) => 1000 + v);
    const pq = PQ.fromCodewords({ data: cw, shape: [2, Ks, Ds] });
    const codes = pq.encode(x);
    for (let i = 0; i < 200; i++) for (let m = 0; m < 2; m++) expect(codes.data[i * 2 + m]).toBe(nearest(x, cw, i, m, Ks, Ds, D));
  });
  test('exactSearch finds each vector itself among data around 1000', () => {
    const db = randomMatrix(100, 32, 23);
    db.data.forEach((v, i) => { db.data[i] = 1000 + v; });
    const r = exactSearch({ data: db.data.subarray(0, 25 * 32), shape: [25, 32] }, db, 1);
    expect(Array.from(r.ids)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });
  test('exactSearch gives the same distances whatever the number of threads', () => {
    // Split between threads, each block must stay large enough for Faiss's
    // BLAS form of the distances, which exact differences would round otherwise.
    const db = randomMatrix(2000, 32, 25), q = randomMatrix(40, 32, 26);
    const before = getNumThreads();
    try {
      setNumThreads(1);
      const one = exactSearch(q, db, 5);
      setNumThreads(8);
      const eight = exactSearch(q, db, 5);
      expect(Array.from(eight.dists)).toEqual(Array.from(one.dists));
      expect(Array.from(eight.ids)).toEqual(Array.from(one.ids));
    } finally {
      setNumThreads(before);
    }
  });
  test('fit on data around 1e4 reconstructs as well as on the same data around 0', () => {
    const x = randomMatrix(2000, 32, 24);
    const shifted = { data: x.data.map((v) => 1e4 + v), shape: x.shape };
    const err = (data) => {
      const pq = new PQ({ M: 2, Ks: 64 }).fit(data);
      const d = pq.decode(pq.encode(data));
      return d.data.reduce((s, v, i) => s + (v - data.data[i]) ** 2, 0);
    };
    expect(err(shifted)).toBeLessThan(err(x) * 1.1);
  });
});

describe('shared memory', () => {
  test('codes and vectors on a SharedArrayBuffer work', () => {
    const X = randomMatrix(N, D);
    const pq = new PQ({ M, Ks }).fit(X);
    const codes = pq.encode(X);
    const shared = new Uint8Array(new SharedArrayBuffer(codes.data.length));
    shared.set(codes.data);
    expect(Array.from(pq.decode({ data: shared, shape: codes.shape }).data)).toEqual(Array.from(pq.decode(codes).data));
    const sx = new Float32Array(new SharedArrayBuffer(X.data.byteLength));
    sx.set(X.data);
    expect(Array.from(pq.encode({ data: sx, shape: X.shape }).data)).toEqual(Array.from(codes.data));
  });
});

describe('exactSearch', () => {
  test('finds each vector itself first, and agrees with a brute-force scan', () => {
    const X = randomMatrix(300, 12, 4);
    const r = exactSearch(X, X, 5);
    expect(r.shape).toEqual([300, 5]);
    for (let i = 0; i < 300; i++) expect(r.ids[i * 5]).toBe(i);
    const q = row(X, 17);
    const all = Array.from({ length: 300 }, (_, j) => row(X, j).reduce((s, v, t) => s + (v - q[t]) ** 2, 0));
    const order = all.map((_, j) => j).sort((a, b) => all[a] - all[b]).slice(0, 5);
    expect(Array.from(r.ids.subarray(17 * 5, 18 * 5))).toEqual(order);
    r.dists.subarray(17 * 5, 18 * 5).forEach((d, t) => expect(d).toBeCloseTo(all[order[t]], 4));
  });
});
