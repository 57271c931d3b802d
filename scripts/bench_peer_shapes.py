"""The Python peer of scripts/bench-shapes.js: Faiss's IndexPQ (Ks = 256) at
each M, on the vectors the Node side wrote to DIR/x.f32 (N x D, raw float32):
train on all of them, then pq.compute_codes of all, best of 3. Prints one JSON
object: {"M": {"train_s": ..., "encode_s": ...}, ...}.
    python3 bench_peer_shapes.py DIR N D M1,M2,...
OpenBLAS is kept to one thread, as the other peers run."""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import faiss  # noqa: E402
import numpy as np  # noqa: E402

DIR, N, D = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X = np.fromfile(os.path.join(DIR, "x.f32"), np.float32).reshape(N, D)
out = {}
for M in map(int, sys.argv[4].split(",")):
    index = faiss.IndexPQ(D, M, 8)
    t0 = time.perf_counter()
    index.train(X)
    train_s = time.perf_counter() - t0
    encode_s = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        index.pq.compute_codes(X)
        encode_s = min(encode_s, time.perf_counter() - t0)
    out[M] = {"train_s": train_s, "encode_s": encode_s}
    print(f"  (peer: M = {M}: trained in {train_s:.1f} s, encoded in {encode_s:.2f} s)", file=sys.stderr, flush=True)
print(json.dumps(out))
