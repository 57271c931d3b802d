// Seeded test data, so every run and every failure is reproducible.
function rng(seed) {
  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An (n, d) matrix of uniform [0, 1) float32 values, like np.random.random. */
function randomMatrix(n, d, seed = 123) {
  const next = rng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = next();
  return { data, shape: [n, d] };
}

function row(matrix, i) {
  const d = matrix.shape[1];
  return matrix.data.subarray(i * d, (i + 1) * d);
}

/** ||x - y||^2 / ||x||^2 over whole matrices. */
function relativeError(x, y) {
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.data.length; i++) {
    num += (x.data[i] - y.data[i]) ** 2;
    den += x.data[i] ** 2;
  }
  return num / den;
}

function argmin(a) {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] < a[best]) best = i;
  return best;
}

module.exports = { rng, randomMatrix, row, relativeError, argmin };
