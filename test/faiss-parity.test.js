// Against Python Faiss on the same machine (Debian python3-faiss): the same
// data trained by Faiss's IndexPQ and by this library reconstruct equally well.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { PQ, io } = require('..');
const { randomMatrix, relativeError } = require('./helpers/data');
const { runPython } = require('./helpers/python');

test('relative reconstruction error within 1% of faiss.IndexPQ (D=32, M=4, Ks=256, 20,000 training vectors)', () => {
  const D = 32, M = 4;
  const Xt = randomMatrix(20000, D, 1);
  const X = randomMatrix(5000, D, 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-faiss-'));
  io.writeNpy(path.join(dir, 'Xt.npy'), Xt.data, Xt.shape);
  io.writeNpy(path.join(dir, 'X.npy'), X.data, X.shape);
  const faissError = Number(runPython(`
import sys, numpy as np, faiss
Xt, X = np.load(sys.argv[1]), np.load(sys.argv[2])
index = faiss.IndexPQ(${D}, ${M}, 8)
index.train(Xt)
index.add(X)
Xr = index.reconstruct_n(0, X.shape[0])
print(np.linalg.norm(X - Xr) ** 2 / np.linalg.norm(X) ** 2)
`, [path.join(dir, 'Xt.npy'), path.join(dir, 'X.npy')]));

  const pq = new PQ({ M, Ks: 256 }).fit(Xt);
  const ours = relativeError(X, pq.decode(pq.encode(X)));
  expect(faissError).toBeGreaterThan(0);
  expect(Math.abs(ours - faissError) / faissError).toBeLessThan(0.01);
});
