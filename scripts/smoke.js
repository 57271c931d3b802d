// A quick end-to-end check of whichever addon build/ holds: fit, encode, search.
const { PQ } = require('..');

const n = 2000, d = 16;
const data = new Float32Array(n * d).map((_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
const pq = new PQ({ M: 4, Ks: 64 }).fit({ data, shape: [n, d] }, { iter: 10 });
const codes = pq.encode({ data, shape: [n, d] });
const dists = pq.dtable(data.subarray(7 * d, 8 * d)).adist(codes);
// A vector's own code is (one of) the nearest to it.
if (Math.min(...dists) !== dists[7]) throw new Error('smoke: vector 7 is not nearest to its own code');
console.log('smoke: ok');
