// Bad input is a TypeError or RangeError that names the argument and what was
// expected; never a crash. The messages are part of the contract.
const { PQ, DistanceTable } = require('..');
const { randomMatrix } = require('./helpers/data');
const { thrown } = require('./helpers/thrown');

const X = randomMatrix(100, 12);
const fitted = new PQ({ M: 4, Ks: 10 }).fit(X);

function expectError(fn, Type, message) {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(Type);
  expect(err.message).toBe(message);
}

describe('constructor options', () => {
  test.each([
    [{ M: 0 }, RangeError, 'Expected 1 <= M <= 4294967295, got 0'],
    [{ M: 2.5 }, TypeError, 'Expected an integer for M, got 2.5'],
    [{}, TypeError, 'Expected an integer for M, got undefined'],
    [{ M: 4, Ks: 0 }, RangeError, 'Expected 1 <= Ks <= 4294967296, got 0'],
    [{ M: 4, Ks: 2 ** 32 + 1 }, RangeError, 'Expected 1 <= Ks <= 4294967296, got 4294967297'],
    [{ M: 4, metric: 'cosine' }, TypeError, "Expected 'l2' or 'dot' for metric, got 'cosine'"],
    [{ M: 4, verbose: 1 }, TypeError, 'Expected a boolean for verbose, got 1'],
    [{ M: 4, ks: 16 }, TypeError, 'Unknown option "ks" for PQ; did you mean "Ks"?'],
    [{ M: 4, dims: 16 }, TypeError, 'Unknown option "dims" for PQ; expected one of M, Ks, metric, verbose'],
  ])('%j', (options, Type, message) => expectError(() => new PQ(options), Type, message));

  test('no options at all', () => {
    expectError(() => new PQ(), TypeError, 'Expected an integer for M, got undefined');
    expectError(() => new PQ(4), TypeError, 'Expected an options object for PQ, got 4');
  });
});

describe('fit', () => {
  const pq = () => new PQ({ M: 4, Ks: 10 });
  test('D not divisible by M', () => {
    expectError(() => pq().fit(randomMatrix(100, 13)), RangeError, 'Expected vecs to have D divisible by M = 4, got D = 13');
  });
  test('Ks >= N', () => {
    expectError(() => pq().fit(randomMatrix(10, 12)), RangeError, 'Expected more training vectors than Ks = 10 in vecs, got N = 10');
  });
  test('options', () => {
    expectError(() => pq().fit(X, { iters: 3 }), TypeError, 'Unknown option "iters" for PQ.fit; expected one of iter, seed, minit');
    expectError(() => pq().fit(X, { iter: 0 }), RangeError, 'Expected 1 <= iter <= 1000000, got 0');
    expectError(() => pq().fit(X, { seed: -1 }), RangeError, 'Expected 0 <= seed <= 2147483647, got -1');
    expectError(() => pq().fit(X, { minit: 'matrix' }), TypeError, "Expected 'points', 'random' or '++' for minit, got 'matrix'");
  });
  test('not a matrix', () => {
    expectError(() => pq().fit(new Float32Array(1200)), TypeError,
      'Expected vecs to be a {data: Float32Array, shape: [rows, cols]}, number[][] or Float32Array[], got a Float32Array of length 1200');
    expectError(() => pq().fit({ data: new Float64Array(1200), shape: [100, 12] }), TypeError,
      'Expected vecs.data to be a Float32Array, got a Float64Array of length 1200');
    expectError(() => pq().fit({ data: new Float32Array(1199), shape: [100, 12] }), RangeError,
      'Expected vecs.data.length to be rows * cols = 1200 for shape [100, 12], got 1199');
    expectError(() => pq().fit({ data: new Float32Array(1200), shape: [100, -12] }), TypeError,
      'Expected vecs.shape to be [rows, cols] of non-negative integers, got [100,-12]');
  });
  test('ragged rows', () => {
    const rows = Array.from({ length: 20 }, () => [1, 2, 3, 4]);
    rows[7] = [1, 2, 3];
    expectError(() => pq().fit(rows), RangeError, 'Expected every row of vecs to have length 4 (as vecs[0]), got 3 at vecs[7]');
    rows[7] = [1, 2, 3, 'x'];
    expectError(() => pq().fit(rows), TypeError, "Expected a number at vecs[7][3], got 'x'");
  });
  test('non-finite values', () => {
    const data = Float32Array.from(X.data);
    data[5 * 12 + 3] = NaN;
    expectError(() => pq().fit({ data, shape: [100, 12] }), RangeError, 'Expected finite values in vecs, got NaN at vecs[5][3]');
    data[5 * 12 + 3] = Infinity;
    expectError(() => pq().fit({ data, shape: [100, 12] }), RangeError, 'Expected finite values in vecs, got Infinity at vecs[5][3]');
  });
});

describe('values Faiss cannot take', () => {
  // Squared distances of such values overflow float32; Faiss then asserts and aborts.
  test('huge magnitudes are refused before they reach Faiss', () => {
    const rows = Array.from({ length: 100 }, (_, i) => [1e19 * (1 + i / 100), -1e19]);
    expectError(() => new PQ({ M: 1, Ks: 3 }).fit(rows), RangeError,
      'Expected values of magnitude <= 1000000000000000 in vecs, got 9999999980506448000 at vecs[0][0]');
    expectError(() => fitted.dtable(new Float32Array(12).fill(1e16)), RangeError,
      'Expected values of magnitude <= 1000000000000000 in query, got 10000000272564224 at query[0]');
    expectError(() => PQ.fromCodewords({ data: new Float32Array(5).fill(3e19), shape: [1, 5, 1] }), RangeError,
      'Expected values of magnitude <= 100000000000000000 in codewords, got 30000001041030970000 at codewords[0][0]');
  });
  test('a model file with NaN codewords is refused', () => {
    const buf = fitted.toBuffer();
    buf.writeFloatLE(NaN, 32 + 4 * 7);
    expectError(() => PQ.fromBuffer(buf), RangeError, 'Expected finite values in codewords, got NaN at codewords[2][1]');
  });
  test('holes in arrays are not zero rows', () => {
    expectError(() => fitted.encode(new Array(3)), TypeError, 'Expected vecs[0] to be a number[] or Float32Array, got undefined');
    // eslint-disable-next-line no-sparse-arrays
    expectError(() => fitted.encode([[...X.data.subarray(0, 12)], , [...X.data.subarray(0, 12)]]), TypeError,
      'Expected vecs[1] to be a number[] or Float32Array, got undefined');
    expectError(() => fitted.decode(new Array(2)), RangeError, 'Expected codes[0] to be an array of M = 4 codes, got undefined');
    expectError(() => fitted.dtable(new Array(12)), TypeError, 'Expected query to be a Float32Array or number[], got an array of length 12');
  });
});

describe('use before fit', () => {
  const pq = new PQ({ M: 4, Ks: 10 });
  test.each(['encode', 'decode', 'dtable'])('%s', (method) => {
    expectError(() => pq[method](X), TypeError, `Expected a fitted PQ for ${method}(); call fit() or PQ.fromCodewords() first`);
  });
});

describe('encode / decode / dtable', () => {
  test('wrong dimension', () => {
    expectError(() => fitted.encode(randomMatrix(5, 8)), RangeError, 'Expected vecs to have 12 columns (D), got shape [5, 8]');
    expectError(() => fitted.dtable(new Float32Array(8)), RangeError, 'Expected query to have length 12 (D), got 8');
    expectError(() => fitted.dtable([1, 2]), RangeError, 'Expected query to have length 12 (D), got 2');
    expectError(() => fitted.dtable('q'), TypeError, "Expected query to be a Float32Array or number[], got 'q'");
    expectError(() => fitted.dtable(new Float32Array(12).fill(NaN)), RangeError, 'Expected finite values in query, got NaN at query[0]');
  });
  test('codes out of range', () => {
    expectError(() => fitted.decode([[0, 1, 2, 10]]), RangeError, 'Expected integer codes in [0, Ks = 10) in codes, got 10 at codes[0][3]');
    expectError(() => fitted.decode([[0, 1, 2, -1]]), RangeError, 'Expected integer codes in [0, Ks = 10) in codes, got -1 at codes[0][3]');
    expectError(() => fitted.decode({ data: Uint8Array.from([0, 1, 2, 3, 4, 5, 200, 7]), shape: [2, 4] }), RangeError,
      'Expected codes < Ks = 10, got 200 at codes[1][2]');
    expectError(() => fitted.dtable(X.data.subarray(0, 12)).adist({ data: Uint32Array.from([0, 1, 2, 4294967295]), shape: [1, 4] }),
      RangeError, 'Expected codes < Ks = 10, got 4294967295 at codes[0][3]');
  });
  test('codes of the wrong shape or type', () => {
    expectError(() => fitted.decode([[0, 1, 2]]), RangeError, 'Expected codes[0] to be an array of M = 4 codes, got an array of length 3');
    expectError(() => fitted.decode({ data: new Uint8Array(8), shape: [4, 2] }), RangeError, 'Expected codes to have M = 4 columns, got shape [4, 2]');
    expectError(() => fitted.decode({ data: new Uint8Array(7), shape: [2, 4] }), RangeError,
      'Expected codes.data.length to be N * M = 8 for shape [2, 4], got 7');
    expectError(() => fitted.decode({ data: new Int8Array(8), shape: [2, 4] }), TypeError,
      'Expected codes.data to be a Uint8Array, Uint16Array or Uint32Array, got a Int8Array of length 8');
  });
});

describe('DistanceTable', () => {
  test('constructor', () => {
    expectError(() => new DistanceTable(new Float32Array(4)), TypeError,
      'Expected dtable to be {data: Float32Array, shape: [M, Ks]}, got a Float32Array of length 4');
    expectError(() => new DistanceTable({ data: new Float32Array(4), shape: [2, 3] }), RangeError,
      'Expected dtable.data.length to be M * Ks = 6, got 4');
    expectError(() => new DistanceTable({ data: Float32Array.from([0, NaN]), shape: [1, 2] }), RangeError,
      'Expected no NaN in dtable, got NaN at dtable[0][1]');
    expectError(() => new DistanceTable({ data: new Float32Array(4), shape: [2, 2] }, 'cos'), TypeError,
      "Expected 'l2' or 'dot' for metric, got 'cos'");
  });
  test('topk k', () => {
    const dt = new DistanceTable({ data: new Float32Array(4), shape: [2, 2] });
    expectError(() => dt.topk([[0, 1]], 0), RangeError, 'Expected 1 <= k <= 9007199254740991, got 0');
    expectError(() => dt.topk([[0, 1]], '3'), TypeError, "Expected an integer for k, got '3'");
  });
});

describe('fromCodewords / fromBuffer', () => {
  test('codewords', () => {
    expectError(() => PQ.fromCodewords({ data: new Float32Array(24), shape: [2, 3] }), TypeError,
      'Expected codewords.shape to be [M, Ks, Ds] of positive integers, got [2,3]');
    expectError(() => PQ.fromCodewords({ data: new Float32Array(23), shape: [2, 3, 4] }), RangeError,
      'Expected codewords.data.length to be M * Ks * Ds = 24, got 23');
  });
  test('not a model', () => {
    expectError(() => PQ.fromBuffer(Buffer.from('hello world, this is not a model at all')), TypeError,
      'Expected a nanopq model (.npq) in buf at byte 0, got 39 bytes that do not start with the magic "NANOPQ"');
    const buf = fitted.toBuffer();
    expectError(() => PQ.fromBuffer(buf.subarray(0, buf.length - 4)), TypeError,
      `Expected a nanopq model (.npq) in buf at byte 32, got ${buf.length - 4} bytes where a PQ with M = 4, Ks = 10, Ds = 3 takes ${buf.length}`);
    const future = Buffer.from(buf);
    future.writeUInt32LE(2, 8);
    expectError(() => PQ.fromBuffer(future), TypeError, 'Expected a nanopq model (.npq) in buf at byte 8, got format version 2; this build reads version 1');
    const huge = Buffer.from(buf);
    huge.writeUInt32LE(0xffffffff, 20);
    expect(() => PQ.fromBuffer(huge)).toThrow(TypeError);
    expectError(() => PQ.fromBuffer('model'), TypeError, 'Expected a nanopq model (.npq) for buf, got a string value');
  });
});

describe('the native layer guards itself', () => {
  // Called directly, past the TypeScript checks: errors, not crashes.
  // The addon the library loads (NANOPQ_ADDON first, as in scripts/sanitize.sh), without its wrappers.
  const native = require(process.env.NANOPQ_ADDON || require('node-gyp-build').path(require('node:path').join(__dirname, '..')));
  const cw = fitted.codewords.data;
  const model = native.modelNew(cw, 4, 10, 3, 'l2', null);
  const options = { M: 4, Ks: 10, Ds: 3, metric: 'l2', iter: 20, seed: 1, minit: 'points', verbose: false, rotationIter: 0, parametricInit: false };
  test.each([
    ['modelEncode', () => native.modelEncode(model, new Float32Array(11), 1, new Uint8Array(4))],
    ['modelEncode', () => native.modelEncode(model, new Float32Array(12), 1, new Uint8Array(3))],
    ['modelEncode', () => native.modelEncode(model, new Float32Array(12), 1, new Uint16Array(3))],
    ['modelDecode', () => native.modelDecode(model, Uint8Array.from([0, 0, 0, 99]), 1, new Float32Array(12))],
    ['modelNew', () => native.modelNew(cw, 4, 300, 3, 'l2', null)],
    ['modelNew', () => native.modelNew(cw, 4, 10, 3, 'l2', new Float32Array(3))],
    ['adist', () => native.adist(new Float32Array(40), 4, 10, new Uint32Array(4).fill(1e9), 1, new Float32Array(1))],
    ['topk', () => native.topk(new Float32Array(40), 4, 10, new Uint8Array(4), 1, 2, false, new Uint32Array(2), new Float32Array(2))],
    ['train', () => native.train(new Float32Array(12), 1, options)],
    ['train', () => native.train(X.data, 100, { ...options, minit: 'kmeans' })],
    ['train', () => native.train(X.data, 100, { ...options, iter: 0 })],
    ['train', () => native.trainAsync(X.data, 100, options, undefined, new Uint32Array(1))],
    ['modelDistanceTable', () => native.modelDistanceTable(model, new Float32Array(11), new Float32Array(40))],
    ['modelSearch', () => native.modelSearch(model, new Float32Array(12), 1, new Uint8Array(8), 2, 3, new Uint32Array(3), new Float32Array(3))],
    ['modelSearch', () => native.modelSearch(model, new Float32Array(12), 1, Uint8Array.from([0, 0, 0, 10]), 1, 1, new Uint32Array(1), new Float32Array(1))],
    ['modelRotate', () => native.modelRotate(model, new Float32Array(12), 1, false, new Float32Array(12))],
    ['modelEncode', () => native.modelEncode(native.pqNew(8, 2, 4), new Float32Array(12), 1, new Uint8Array(4))],
    ['modelDs', () => native.modelDs({})],
    ['firstOutOfRange', () => native.firstOutOfRange([1, 2], 1)],
    // Sizes whose products wrap around 2**64 must not pass the length checks.
    ['modelDecode', () => native.modelDecode(model, new Uint8Array(0), 2 ** 62, new Float32Array(0))],
    ['modelEncode', () => native.modelEncode(model, new Float32Array(0), 2 ** 62, new Uint8Array(0))],
    ['adist', () => native.adist(new Float32Array(0), 2 ** 32, 2 ** 32, new Uint8Array(0), 2 ** 32, new Float32Array(0))],
    ['train', () => native.train(new Float32Array(0), 2 ** 32, { ...options, M: 2 ** 32, Ks: 2 })],
    ['exactSearch', () => native.exactSearch(new Float32Array(0), 2 ** 32, new Float32Array(0), 2 ** 32, 2 ** 32, 1, new Uint32Array(0), new Float32Array(0))],
  ])('%s', (_, call) => {
    const err = thrown(call);
    // Thrown in the addon's realm, not jest's: check by name.
    expect(['TypeError', 'RangeError']).toContain(err.name);
    expect(err.message).toMatch(/^Expected/);
  });
});
