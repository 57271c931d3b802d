// Run by test/packed.test.js with NANOPQ_SIMD set: prints the fast-scan
// kernel, digests of topk over plain and over packed codes of the same
// tables (random ones, and ones with ties; l2 and dot), which every kernel
// must give alike, and whether search over packed codes equals search over
// the plain ones (a fitted model's tables may round by the kernel that made them).
const crypto = require('node:crypto');
const { PQ, DistanceTable } = require('../..');
const { native } = require('../../dist/core/native');
const { randomMatrix, rng } = require('./data');

const digest = { plain: crypto.createHash('sha1'), packed: crypto.createHash('sha1') };
const add = (kind, r) => digest[kind].update(Buffer.from(r.ids.buffer)).update(Buffer.from(r.dists.buffer));
const same = (a, b) => Buffer.compare(Buffer.from(a.ids.buffer), Buffer.from(b.ids.buffer)) === 0 &&
  Buffer.compare(Buffer.from(a.dists.buffer), Buffer.from(b.dists.buffer)) === 0;
const next = rng(4);
let searchSame = true;
for (const M of [5, 8, 16, 32]) {
  const codes = { data: Uint8Array.from({ length: 20000 * M }, () => Math.floor(next() * 16)), shape: [20000, M] };
  for (const metric of ['l2', 'dot']) {
    const pq = new PQ({ M, Ks: 16, metric }).fit(randomMatrix(400, 2 * M, M), { iter: 2 });
    const packed = pq.packCodes(codes);
    const q = randomMatrix(9, 2 * M, 100 + M);
    searchSame &&= same(pq.search(q, codes, 10), pq.search(q, packed, 10));
    for (const data of [randomMatrix(M, 16, M).data, Float32Array.from({ length: M * 16 }, (_, i) => i % 5)]) {
      const dt = new DistanceTable({ data, shape: [M, 16] }, metric);
      add('plain', dt.topk(codes, 50));
      add('packed', dt.topk(packed, 50));
    }
  }
}
console.log(JSON.stringify({ kernel: native.packedKernel, searchSame, plain: digest.plain.digest('hex'), packed: digest.packed.digest('hex') }));
