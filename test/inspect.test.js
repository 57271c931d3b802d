// What console.log and util.inspect show of each class: the numbers a user
// checks (shapes, metric, whether fitted), never the arrays themselves.
const util = require('node:util');
const { PQ, OPQ, DistanceTable, faiss, nanopqToFaiss } = require('..');

const D = 12;
const X = { data: Float32Array.from({ length: 100 * D }, (_, i) => Math.sin(i * 0.37)), shape: [100, D] };
const show = (x) => util.inspect(x, { colors: false });

test('PQ: M, Ks, Ds, metric and whether fitted', () => {
  expect(show(new PQ({ M: 4, metric: 'dot' }))).toBe("PQ { M: 4, Ks: 256, Ds: null, metric: 'dot', fitted: false }");
  const pq = new PQ({ M: 4, Ks: 16 }).fit(X, { iter: 2 });
  expect(show(pq)).toBe("PQ { M: 4, Ks: 16, Ds: 3, metric: 'l2', fitted: true }");
  pq.dispose();
  expect(show(pq)).toBe("PQ { M: 4, Ks: 16, Ds: null, metric: 'l2', fitted: false, disposed: true }");
});

test("OPQ: as PQ, and R's shape", () => {
  expect(show(new OPQ({ M: 4 }))).toBe("OPQ { M: 4, Ks: 256, Ds: null, metric: 'l2', fitted: false, R: null }");
  const opq = new OPQ({ M: 4, Ks: 16 }).fit(X, { pqIter: 2, rotationIter: 1 });
  expect(show(opq)).toBe("OPQ { M: 4, Ks: 16, Ds: 3, metric: 'l2', fitted: true, R: (12, 12) }");
  expect(show({ nested: { deeper: [opq] } })).toMatch("OPQ { M: 4, Ks: 16, Ds: 3, metric: 'l2', fitted: true, R: (12, 12) }");
});

test('DistanceTable: its shape and metric', () => {
  const pq = new PQ({ M: 4, Ks: 16 }).fit(X, { iter: 2 });
  expect(show(pq.dtable(X.data.subarray(0, D)))).toBe("DistanceTable { M: 4, Ks: 16, metric: 'l2' }");
  expect(show(new DistanceTable({ data: new Float32Array(6), shape: [2, 3] }, 'dot'))).toBe("DistanceTable { M: 2, Ks: 3, metric: 'dot' }");
});

test('the Faiss objects: their dimensions and ntotal', () => {
  expect(show(new faiss.ProductQuantizer(D, 4, 4))).toBe('ProductQuantizer { d: 12, M: 4, nbits: 4 }');
  expect(show(new faiss.OPQMatrix(D, 4))).toBe('OPQMatrix { dIn: 12, dOut: 12, isTrained: false }');
  const index = new faiss.IndexPQ(D, 4, 4);
  index.train(X);
  index.add(X);
  expect(show(index)).toBe('IndexPQ { d: 12, M: 4, nbits: 4, ntotal: 100 }');
  const opq = new OPQ({ M: 4, Ks: 16 }).fit(X, { pqIter: 2, rotationIter: 1 });
  expect(show(nanopqToFaiss(opq))).toBe([
    'IndexPreTransform {',
    '  d: 12,',
    '  ntotal: 0,',
    '  chain: [ OPQMatrix { dIn: 12, dOut: 12, isTrained: true } ],',
    '  index: IndexPQ { d: 12, M: 4, nbits: 4, ntotal: 0 }',
    '}',
  ].join('\n'));
  index.dispose();
  expect(show(index)).toBe('IndexPQ { disposed: true }');
});

test('inspection adds no enumerable property and no field to JSON', () => {
  const pq = new PQ({ M: 4 });
  expect(Object.keys(pq)).toEqual(['M', 'Ks', 'metric', 'codeDtype']);
  expect(Object.keys(new faiss.IndexPQ(D, 4, 4))).toEqual([]);
});
