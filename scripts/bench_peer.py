"""The peers of `npm run bench`, on the same Fashion-MNIST files and sizes:
Python Faiss (Debian python3-faiss) and, when NANOPQ_SRC names a checkout of
matsui528/nanopq, Python nanopq. Prints one JSON object of timings and errors."""
import gzip
import json
import os
import sys
import time

import numpy as np

DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
M, KS, NBITS, TRAIN, K = 8, 256, 8, 20000, 100


def images(name):
    with gzip.open(os.path.join(DIR, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32)


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def error(x, y):
    return float(np.linalg.norm(x - y) ** 2 / np.linalg.norm(x) ** 2)


X, Xq = images("train-images-idx3-ubyte.gz"), images("t10k-images-idx3-ubyte.gz")
Xt = X[:TRAIN]
D = X.shape[1]
out = {}
skip = set(sys.argv[1:])

import faiss  # noqa: E402

index = faiss.IndexPQ(D, M, NBITS)
_, out["faiss_pq_train"] = timed(lambda: index.train(Xt))
_, out["faiss_pq_encode"] = timed(lambda: index.add(X))
out["faiss_pq_error"] = error(X, index.reconstruct_n(0, X.shape[0]))
_, out["faiss_pq_search"] = timed(lambda: index.search(Xq, K))

if "faiss-opq" not in skip:
    opq = faiss.OPQMatrix(D, M)
    _, out["faiss_opq_train"] = timed(lambda: opq.train(Xt))
    pq = faiss.IndexPQ(D, M, NBITS)
    pq.train(opq.apply_py(Xt))
    pq.add(opq.apply_py(X))
    out["faiss_opq_error"] = error(X, opq.reverse_transform(pq.reconstruct_n(0, X.shape[0])))

if os.environ.get("NANOPQ_SRC"):
    sys.path.insert(0, os.environ["NANOPQ_SRC"])
    import warnings

    warnings.filterwarnings("ignore")
    import nanopq

    model, out["nanopq_pq_train"] = timed(lambda: nanopq.PQ(M=M, Ks=KS, verbose=False).fit(Xt, iter=20, seed=123))
    codes, out["nanopq_pq_encode"] = timed(lambda: model.encode(X))
    out["nanopq_pq_error"] = error(X, model.decode(codes))
    model, out["nanopq_opq_train"] = timed(
        lambda: nanopq.OPQ(M=M, Ks=KS, verbose=False).fit(Xt, pq_iter=20, rotation_iter=10, seed=123))
    out["nanopq_opq_error"] = error(X, model.decode(model.encode(X)))

print(json.dumps(out))
