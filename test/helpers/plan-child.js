// Run by test/cache-plan.test.js with NANOPQ_CACHE and OMP_NUM_THREADS set:
// prints the cache plan in use and one digest of what the work sized by it
// computes (encoding by both codeword kernels, the distance tables of many
// queries and of one, encoding of a few rows, search over plain and packed
// codes, a fit), which must not depend on the plan or the thread count.
const crypto = require('node:crypto');
const { PQ, getCachePlan } = require('../..');
const { randomMatrix } = require('./data');

const digest = crypto.createHash('sha1');
const add = (...arrays) => arrays.forEach((a) => digest.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
const codewords = (M, Ks, Ds, seed) => ({ data: randomMatrix(M * Ks, Ds, seed).data, shape: [M, Ks, Ds] });

// Sub-vectors of 20 dimensions (the tiled kernel), of 4 (lanes), and 98 (the
// tables' panels fill an L1 several times over); l2 and dot.
for (const [M, Ks, Ds] of [[3, 300, 20], [16, 256, 4], [2, 256, 98]]) {
  for (const metric of ['l2', 'dot']) {
    const pq = PQ.fromCodewords(codewords(M, Ks, Ds, M), { metric });
    const codes = pq.encode(randomMatrix(700, M * Ds, 7 + M));
    const queries = randomMatrix(37, M * Ds, 8 + M);
    const r = pq.search(queries, codes, 10);
    add(codes.data, r.ids, r.dists);
    // One row's calls: their subspaces in two halves on two threads where the
    // codebook is more than half the plan's L2.
    for (let i = 0; i < 3; i++) add(pq.dtable(queries.data.subarray(i * M * Ds, (i + 1) * M * Ds)).dtable.data);
    add(pq.encode(randomMatrix(3, M * Ds, 9 + M)).data);
  }
}
// Packed codes searched a chunk at a time (chunks sized by the L2).
const pq16 = PQ.fromCodewords(codewords(32, 16, 2, 9));
const packed = pq16.packCodes(pq16.encode(randomMatrix(5000, 64, 10)));
const r16 = pq16.search(randomMatrix(40, 64, 11), packed, 10);
add(r16.ids, r16.dists);
add(new PQ({ M: 8, Ks: 16, verbose: false }).fit(randomMatrix(2000, 64, 12), { iter: 3, seed: 1 }).codewords.data);
console.log(JSON.stringify({ plan: getCachePlan(), digest: digest.digest('hex') }));
