// An ES module consumer of the installed package: named and default imports.
import assert from 'node:assert';
import nanopq, { PQ, DistanceTable, faiss, io } from 'nanopq';

assert.strictEqual(nanopq.PQ, PQ);
assert.strictEqual(typeof io.readNpy, 'function');
const pq = new PQ({ M: 2, Ks: 4 }).fit([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]);
assert.ok(pq.dtable([5, 5]) instanceof DistanceTable);
assert.deepStrictEqual(pq.encode([[5, 5]]).shape, [1, 2]);
const index = new faiss.IndexPQ(4, 2, 2);
assert.strictEqual(index.ntotal, 0);
console.log('esm: ok');
