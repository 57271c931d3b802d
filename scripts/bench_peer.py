"""The peers of `npm run bench` (scripts/bench.js), on the very arrays the Node
side used, which it wrote to DIR: x.f32 (N x D) and xq.f32 (NQ x D), raw
float32. Python Faiss (Debian python3-faiss) always; Python nanopq when
NANOPQ_SRC names a checkout of matsui528/nanopq. Prints one JSON object.
    python3 bench_peer.py DIR N NQ D [--skip-faiss-opq] [--chart M1,M2,...] [--only faiss_pq_encode|nanopq_opq_train]
--chart: also, after the timed work, the recall sweep of scripts/bench-chart.js:
the top-10 ids of an IndexPQ per M (the table's index at M = 8).
--only: that one figure alone (bench.js --repeat runs it between its own runs)."""
import json
import os
import sys
import time

import faiss
import numpy as np

DIR, N, NQ, D = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
options = sys.argv[5:]
M, KS, NBITS, TRAIN, K, NQ_RECALL = 8, 256, 8, 20000, 100, 1000

X = np.fromfile(os.path.join(DIR, "x.f32"), np.float32).reshape(N, D)
Xq = np.fromfile(os.path.join(DIR, "xq.f32"), np.float32).reshape(NQ, D)
Xt = X[:TRAIN]
out = {"threads": faiss.omp_get_max_threads()}
ONLY = options[options.index("--only") + 1] if "--only" in options else None


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def best_of_3(fn):
    return min(timed(fn)[1] for _ in range(3))


def error(x, y):
    return float(np.linalg.norm(x - y) ** 2 / np.linalg.norm(x) ** 2)


def nanopq_module():
    sys.path.insert(0, os.environ["NANOPQ_SRC"])
    import warnings

    warnings.filterwarnings("ignore")
    import nanopq

    return nanopq


if ONLY == "faiss_pq_encode":
    index = faiss.IndexPQ(D, M, NBITS)
    index.train(Xt)
    print(json.dumps({ONLY: best_of_3(lambda: index.pq.compute_codes(X))}))
    sys.exit(0)
if ONLY == "nanopq_opq_train":
    nanopq = nanopq_module()
    _, t = timed(lambda: nanopq.OPQ(M=M, Ks=KS, verbose=False).fit(Xt, pq_iter=20, rotation_iter=10, seed=123))
    print(json.dumps({ONLY: t}))
    sys.exit(0)


index = faiss.IndexPQ(D, M, NBITS)
_, out["faiss_pq_train"] = timed(lambda: index.train(Xt))
index.add(X)
out["faiss_pq_encode"] = best_of_3(lambda: index.pq.compute_codes(X))
out["faiss_pq_error"] = error(X, index.reconstruct_n(0, N))
_, out["faiss_pq_search"] = timed(lambda: index.search(Xq, K))
out["faiss_pq_ids"] = index.search(Xq[:NQ_RECALL], K)[1].ravel().tolist()

# The machine's sgemm at encoding's shape: each subspace of X against its codewords.
Ds = D // M
centroids = faiss.vector_to_array(index.pq.centroids).reshape(M, KS, Ds)
subspaces = [np.ascontiguousarray(X[:, m * Ds:(m + 1) * Ds]) for m in range(M)]
out["sgemm_gflops"] = 2 * N * D * KS / best_of_3(lambda: [s @ c.T for s, c in zip(subspaces, centroids)]) / 1e9

if "--skip-faiss-opq" not in options:
    opq = faiss.OPQMatrix(D, M)
    _, out["faiss_opq_train"] = timed(lambda: opq.train(Xt))
    pq = faiss.IndexPQ(D, M, NBITS)
    chain = faiss.IndexPreTransform(opq, pq)
    chain.train(Xt)  # the OPQMatrix is trained: only the PQ trains here
    chain.add(X)
    out["faiss_opq_error"] = error(X, chain.reconstruct_n(0, N))
    out["faiss_opq_ids"] = chain.search(Xq[:NQ_RECALL], K)[1].ravel().tolist()

if os.environ.get("NANOPQ_SRC"):
    nanopq = nanopq_module()
    model, out["nanopq_pq_train"] = timed(lambda: nanopq.PQ(M=M, Ks=KS, verbose=False).fit(Xt, iter=20, seed=123))
    codes, out["nanopq_pq_encode"] = timed(lambda: model.encode(X))
    out["nanopq_pq_error"] = error(X, model.decode(codes))
    model, out["nanopq_opq_train"] = timed(
        lambda: nanopq.OPQ(M=M, Ks=KS, verbose=False).fit(Xt, pq_iter=20, rotation_iter=10, seed=123))
    out["nanopq_opq_error"] = error(X, model.decode(model.encode(X)))

if "--chart" in options:
    for m in map(int, options[options.index("--chart") + 1].split(",")):
        chart_index = index
        if m != M:
            chart_index = faiss.IndexPQ(D, m, NBITS)
            chart_index.train(Xt)
            chart_index.add(X)
        out[f"faiss_top10_m{m}"] = chart_index.search(Xq[:NQ_RECALL], 10)[1].ravel().tolist()

print(json.dumps(out))
