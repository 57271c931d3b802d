// A quick end-to-end check of whichever addon build/ holds: fit, encode, search
// (PQ: sub-vectors of 16 dimensions, through Faiss's encoder; OPQ: of 4, through
// our SIMD kernel), and an async search.
const { PQ, OPQ } = require('..');

const n = 2000, d = 16;
const data = new Float32Array(n * d).map((_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
const x = { data, shape: [n, d] };
for (const model of [new PQ({ M: 1, Ks: 64 }).fit(x, { iter: 10 }), new OPQ({ M: 4, Ks: 64 }).fit(x, { pqIter: 10 })]) {
  const codes = model.encode(x);
  const dists = model.dtable(data.subarray(7 * d, 8 * d)).adist(codes);
  // A vector's own code is (one of) the nearest to it.
  if (Math.min(...dists) !== dists[7]) throw new Error(`smoke: ${model.constructor.name}: vector 7 is not nearest to its own code`);
}
const pq = new PQ({ M: 4, Ks: 16 }).fit(x);
pq.searchAsync(x, pq.encode(x), 1).then(({ ids }) => {
  if (ids[7] !== pq.search(x, pq.encode(x), 1).ids[7]) throw new Error('smoke: searchAsync differs from search');
  console.log('smoke: ok');
});
