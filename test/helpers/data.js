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

/**
 * np.random.seed(seed); np.random.random((n, d)).astype(np.float32), bit for
 * bit: MT19937 seeded by init_genrand, doubles from two draws (genrand_res53).
 * Lets a test use the very data of a nanopq test.
 */
function numpyRandom(n, d, seed) {
  const mt = new Uint32Array(624);
  mt[0] = seed >>> 0;
  for (let i = 1; i < 624; i++) {
    const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
    mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
  }
  let index = 624;
  const next = () => {
    if (index >= 624) {
      for (let i = 0; i < 624; i++) {
        const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
        mt[i] = mt[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      index = 0;
    }
    let y = mt[index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    return (y ^ (y >>> 18)) >>> 0;
  };
  const data = new Float32Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
  return { data, shape: [n, d] };
}

module.exports.numpyRandom = numpyRandom;
