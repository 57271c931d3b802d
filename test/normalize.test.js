// normalize(vecs): unit rows in a new array, for cosine similarity by 'dot'.
const { normalize, exactSearch, PQ } = require('..');
const { randomMatrix } = require('./helpers/data');

test('rows scale to unit length in a new array; zero rows stay zeros; the input is untouched', () => {
  const x = randomMatrix(50, 7, 1);
  x.data.fill(0, 7, 14);  // row 1: zeros
  const before = Float32Array.from(x.data);
  const y = normalize(x);
  expect(y.shape).toEqual([50, 7]);
  expect(y.data).not.toBe(x.data);
  expect(x.data).toEqual(before);
  for (let i = 0; i < 50; i++) {
    const row = y.data.subarray(i * 7, i * 7 + 7);
    const norm = Math.hypot(...row);
    if (i === 1) expect(Array.from(row)).toEqual(new Array(7).fill(0));
    else expect(norm).toBeCloseTo(1, 6);
    for (let j = 0; j < 7 && i !== 1; j++) expect(row[j] * Math.hypot(...before.subarray(i * 7, i * 7 + 7))).toBeCloseTo(before[i * 7 + j], 5);
  }
  expect(normalize([[3, 4]])).toEqual({ data: Float32Array.from([0.6, 0.8]), shape: [1, 2] });
  expect(normalize([3, 4])).toEqual(Float32Array.from([0.6, 0.8]));
  expect(normalize(new Float32Array([0, -2]))).toEqual(Float32Array.from([0, -1]));
});

test('bad input: errors naming it', () => {
  expect(() => normalize([[1, NaN]])).toThrow(new RangeError('Expected finite values in vecs, got NaN at vecs[0][1]'));
  expect(() => normalize([[1, 2], [3]])).toThrow(RangeError);
  expect(() => normalize('x')).toThrow(TypeError);
  expect(() => normalize([1, 'a'])).toThrow(TypeError);
});

test('cosine: exact search of normalized vectors by dot ranks as cosine does, and a dot PQ nearly so', () => {
  const db = randomMatrix(400, 16, 2), q = randomMatrix(20, 16, 3);
  for (let i = 0; i < db.data.length; i++) db.data[i] -= 0.5;
  for (let i = 0; i < q.data.length; i++) q.data[i] -= 0.5;
  const cosine = (a, b) => {
    let ab = 0, aa = 0, bb = 0;
    for (let j = 0; j < 16; j++) { ab += a[j] * b[j]; aa += a[j] * a[j]; bb += b[j] * b[j]; }
    return ab / Math.sqrt(aa * bb);
  };
  const row = (m, i) => m.data.subarray(i * 16, i * 16 + 16);
  const best = (i) => Array.from({ length: 400 }, (_, j) => j).sort((a, b) => cosine(row(q, i), row(db, b)) - cosine(row(q, i), row(db, a)))[0];
  const nd = normalize(db), nq = normalize(q);
  // exactSearch is L2: on unit vectors, the same order as the largest cosine.
  const exact = exactSearch(nq, nd, 1).ids;
  for (let i = 0; i < 20; i++) expect(exact[i]).toBe(best(i));
  const pq = new PQ({ M: 8, Ks: 64, metric: 'dot' }).fit(nd, { iter: 10, seed: 1 });
  const found = pq.search(nq, pq.encode(nd), 10).ids;
  let hits = 0;
  for (let i = 0; i < 20; i++) hits += found.subarray(i * 10, i * 10 + 10).includes(best(i));
  expect(hits).toBeGreaterThanOrEqual(16);
});
