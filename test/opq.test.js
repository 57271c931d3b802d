// The intent of Python nanopq's tests/test_opq.py, and the opq_* fixtures.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { OPQ, PQ, DistanceTable } = require('..');
const { randomMatrix, numpyRandom, row, relativeError, argmin } = require('./helpers/data');
const { manifest, npy } = require('./helpers/fixtures');

const N = 100, D = 12, M = 4, Ks = 10;
const X = randomMatrix(N, D);

function maxOrthonormalityError(R) {
  const [d] = R.shape;
  let worst = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += R.data[k * d + i] * R.data[k * d + j];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

test('properties delegate to pq', () => {
  const opq = new OPQ({ M: 4, Ks: 256 });
  expect(opq.pq).toBeInstanceOf(PQ);
  expect([opq.M, opq.Ks, opq.verbose, opq.codeDtype, opq.metric, opq.Ds, opq.codewords])
    .toEqual([opq.pq.M, opq.pq.Ks, opq.pq.verbose, opq.pq.codeDtype, opq.pq.metric, null, null]);
  expect(opq.R).toBeNull();
  opq.verbose = true;
  expect(opq.pq.verbose).toBe(true);
  opq.verbose = false;
});

test('fit: shapes, chaining and determinism', () => {
  const opq = new OPQ({ M, Ks });
  expect(opq.fit(X)).toBe(opq);
  expect(opq.Ds).toBe(D / M);
  expect(opq.codewords.shape).toEqual([M, Ks, D / M]);
  expect(opq.R.shape).toEqual([D, D]);
  const opq2 = new OPQ({ M, Ks }).fit(X);
  expect(Array.from(opq2.codewords.data)).toEqual(Array.from(opq.codewords.data));
  expect(Array.from(opq2.R.data)).toEqual(Array.from(opq.R.data));
});

test('equality, as nanopq __eq__', () => {
  const opq1 = new OPQ({ M, Ks });
  const opq2 = new OPQ({ M, Ks });
  const opq4 = new OPQ({ M, Ks: 2 * Ks });
  expect(opq1.equals(opq1)).toBe(true);
  expect(opq1.equals(opq2)).toBe(true);
  expect(opq1.equals(opq4)).toBe(false);
  opq1.fit(X);
  opq2.fit(X);
  opq4.fit(X);
  expect(opq1.equals(opq2)).toBe(true);
  expect(opq1.equals(OPQ.fromBuffer(opq1.toBuffer()))).toBe(true);
  expect(opq1.equals(opq4)).toBe(false);
  expect(opq1.equals(opq1.pq)).toBe(false);
  expect(opq1.equals(new OPQ({ M, Ks }).fit(X, { seed: 5 }))).toBe(false);
});

test('rotate: one vector (D,) and several (N, D); R is orthonormal', () => {
  const opq = new OPQ({ M, Ks }).fit(X);
  const one = opq.rotate(row(X, 0));
  expect(one).toBeInstanceOf(Float32Array);
  expect(one).toHaveLength(D);
  const three = opq.rotate({ data: X.data.subarray(0, 3 * D), shape: [3, D] });
  expect(three.shape).toEqual([3, D]);
  expect(Array.from(three.data.subarray(0, D))).toEqual(Array.from(one));
  expect(Array.from(opq.rotate(Array.from(row(X, 0))))).toEqual(Array.from(one));
  for (let j = 0; j < D; j++) {
    let s = 0;
    for (let k = 0; k < D; k++) s += X.data[k] * opq.R.data[k * D + j];
    expect(one[j]).toBeCloseTo(s, 5);
  }
  expect(maxOrthonormalityError(opq.R)).toBeLessThan(1e-4);
});

// Training takes x^T decode(codes) from per-code sums when M * Ks <= N, else
// from the decoded rows: both ways are checked.
test.each([[2000, 16], [300, 128]])('encode / decode: codes (N, M), decode applies R^T, error below PQ\'s (N = %i, Ks = %i)', (N, Ks) => {
  const Xt = randomMatrix(N, 16, 8);
  // Correlated dimensions, where a rotation pays off.
  for (let i = 0; i < N; i++) for (let j = 8; j < 16; j++) Xt.data[i * 16 + j] = Xt.data[i * 16 + j - 8] * 0.9 + Xt.data[i * 16 + j] * 0.1;
  const opq = new OPQ({ M: 4, Ks }).fit(Xt, { rotationIter: 10 });
  const codes = opq.encode(Xt);
  expect(codes.shape).toEqual([N, 4]);
  expect(codes.data).toBeInstanceOf(Uint8Array);
  const decoded = opq.decode(codes);
  const inner = opq.pq.decode(codes);
  for (let j = 0; j < 16; j++) {
    let s = 0;
    for (let k = 0; k < 16; k++) s += inner.data[k] * opq.R.data[j * 16 + k];
    expect(decoded.data[j]).toBeCloseTo(s, 4);
  }
  const pq = new PQ({ M: 4, Ks }).fit(Xt);
  expect(relativeError(Xt, decoded)).toBeLessThan(relativeError(Xt, pq.decode(pq.encode(Xt))));
});

test('dtable of the rotated query; a vector\'s own code is the argmin of adist', () => {
  const opq = new OPQ({ M, Ks }).fit(X);
  const codes = opq.encode(X);
  const dt = opq.dtable(row(X, 13));
  expect(dt).toBeInstanceOf(DistanceTable);
  expect(argmin(dt.adist(codes))).toBe(13);
  expect(Array.from(dt.dtable.data)).toEqual(Array.from(opq.pq.dtable(opq.rotate(row(X, 13))).dtable.data));
});

test('parametric init (eigenvalue allocation) beats the identity start with rotationIter 1', () => {
  // nanopq's own test data: np.random.seed(123); np.random.random((100, 12)).
  const X2 = numpyRandom(100, 12, 123);
  const err = (parametricInit) => {
    const opq = new OPQ({ M: 2, Ks: 20 }).fit(X2, { parametricInit, rotationIter: 1 });
    return relativeError(X2, opq.decode(opq.encode(X2)));
  };
  expect(err(true)).toBeLessThan(err(false));
  const R = new OPQ({ M: 2, Ks: 20 }).fit(X2, { parametricInit: true, rotationIter: 1 }).R;
  expect(maxOrthonormalityError(R)).toBeLessThan(1e-4);
});

test('more rotation iterations do not raise the training error', () => {
  const Xt = randomMatrix(1000, 16, 3);
  const err = (rotationIter) => {
    const opq = new OPQ({ M: 4, Ks: 16 }).fit(Xt, { rotationIter });
    return relativeError(Xt, opq.decode(opq.encode(Xt)));
  };
  expect(err(8)).toBeLessThanOrEqual(err(1) * 1.001);
});

test('metric dot: the table holds inner products of the rotated query', () => {
  const opq = new OPQ({ M, Ks, metric: 'dot' }).fit(X);
  expect(opq.pq.metric).toBe('dot');
  const q = row(X, 2);
  const dt = opq.dtable(q);
  expect(dt.metric).toBe('dot');
  const rq = opq.rotate(q);
  const cw = opq.codewords.data;
  const Ds = D / M;
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < Ks; k++) {
      let ip = 0;
      for (let j = 0; j < Ds; j++) ip += rq[m * Ds + j] * cw[(m * Ks + k) * Ds + j];
      expect(dt.dtable.data[m * Ks + k]).toBeCloseTo(ip, 5);
    }
  }
});

test('minit and Ks that is not a power of two', () => {
  for (const [ks, minit] of [[10, '++'], [16, 'random'], [300, 'points']]) {
    const Xt = randomMatrix(1000, 8, 11);
    const opq = new OPQ({ M: 2, Ks: ks }).fit(Xt, { minit, rotationIter: 3, pqIter: 5 });
    expect(opq.encode(Xt).data).toBeInstanceOf(ks > 256 ? Uint16Array : Uint8Array);
    expect(relativeError(Xt, opq.decode(opq.encode(Xt)))).toBeLessThan(0.1);
  }
});

test('serialization round trip, and a PQ buffer is not an OPQ', () => {
  const opq = new OPQ({ M, Ks, metric: 'dot' }).fit(X);
  const copy = OPQ.fromBuffer(opq.toBuffer());
  expect(copy.equals(opq)).toBe(true);
  expect(copy.metric).toBe('dot');
  expect(Array.from(copy.encode(X).data)).toEqual(Array.from(opq.encode(X).data));
  expect(() => OPQ.fromBuffer(opq.pq.toBuffer())).toThrow('Expected an OPQ model in buf, got a PQ model');
  expect(() => PQ.fromBuffer(opq.toBuffer())).toThrow('Expected a PQ model in buf, got an OPQ model');
  expect(OPQ.fromBuffer(new OPQ({ M: 3 }).toBuffer()).R).toBeNull();
});

test('load() errors name the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-'));
  const file = (name, bytes) => { const f = path.join(dir, name); fs.writeFileSync(f, bytes); return f; };
  const pqFile = file('pq.npq', new PQ({ M, Ks }).fit(X).toBuffer());
  const opqFile = file('opq.npq', new OPQ({ M }).toBuffer());
  const junk = file('junk.npq', Buffer.from('not a model'));
  expect(() => OPQ.load(pqFile)).toThrow(`Expected an OPQ model in ${pqFile}, got a PQ model`);
  expect(() => PQ.load(opqFile)).toThrow(`Expected a PQ model in ${opqFile}, got an OPQ model`);
  expect(() => PQ.load(junk)).toThrow(`Expected a nanopq model (.npq) in ${junk} at byte 0, got 11 bytes`);
});

test('errors', () => {
  const opq = new OPQ({ M, Ks });
  expect(() => opq.encode(X)).toThrow('Expected a fitted OPQ for encode(); call fit() or OPQ.fromParts() first');
  expect(() => opq.rotate(row(X, 0))).toThrow('Expected a fitted OPQ for rotate(); call fit() or OPQ.fromParts() first');
  expect(() => opq.fit(X, { rotation_iter: 3 })).toThrow('Unknown option "rotation_iter" for OPQ.fit; expected one of pqIter, rotationIter, seed, parametricInit, minit');
  expect(() => opq.fit(X, { rotationIter: 0 })).toThrow(RangeError);
  expect(() => opq.fit(X, { parametricInit: 'yes' })).toThrow("Expected a boolean for parametricInit, got 'yes'");
  expect(() => opq.fit(randomMatrix(100, 10))).toThrow('Expected vecs to have D divisible by M = 4, got D = 10');
  opq.fit(X);
  expect(() => opq.rotate(new Float32Array(5))).toThrow('Expected vec to have length 12 (D), got 5');
  expect(() => opq.decode([[0, 0, 0, 10]])).toThrow('Expected integer codes in [0, Ks = 10) in codes, got 10 at codes[0][3]');
  const cw = opq.codewords;
  expect(() => OPQ.fromParts({ data: new Float32Array(100), shape: [10, 10] }, cw))
    .toThrow('Expected R to have 12 columns (D), got shape [10, 10]');
});

const cases = manifest().filter((c) => c.kind === 'nanopq-pickle' && c.cls === 'OPQ');
test('there are nanopq OPQ fixtures', () => expect(cases.length).toBeGreaterThan(0));
describe.each(cases.map((c) => [c.name, c]))('fixture %s', (_, c) => {
  const R = npy(c.R);
  const cw = npy(c.codewords);
  const opq = OPQ.fromParts({ data: R.data, shape: R.shape }, { data: cw.data, shape: cw.shape }, { metric: c.metric });
  const Xb = npy(c.Xb);
  const codes = npy(c.codes);

  test('encode reproduces nanopq\'s codes', () => {
    expect(Array.from(opq.encode({ data: Xb.data, shape: Xb.shape }).data)).toEqual(Array.from(codes.data));
  });
  test('decode reproduces nanopq\'s reconstruction', () => {
    const decoded = opq.decode({ data: codes.data, shape: codes.shape });
    const expected = npy(c.decoded).data;
    decoded.data.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i]))));
  });
  test('adist matches nanopq\'s', () => {
    const dists = opq.dtable(npy(c.query).data).adist({ data: codes.data, shape: codes.shape });
    const expected = npy(c.adist).data;
    dists.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i]))));
  });
});

test('dtable takes every query encode takes: the rotated query is not checked against the input bound', () => {
  const Xt = randomMatrix(200, 8, 12);
  const opq = new OPQ({ M: 2, Ks: 16 }).fit(Xt, { parametricInit: true, rotationIter: 2 });
  const query = new Float32Array(8).fill(1e15);
  expect(opq.encode([Array.from(query)]).shape).toEqual([1, 2]);
  expect(opq.dtable(query).dtable.shape).toEqual([2, 16]);
});
