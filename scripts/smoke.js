// A quick end-to-end check of whichever addon build/ holds: fit, encode, search,
// through Faiss's k-means (PQ, Ks a power of two) and ours with the SIMD
// nearest-codeword kernel (OPQ; encoding 16-dimensional sub-vectors).
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
console.log('smoke: ok');
