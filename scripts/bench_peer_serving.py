"""The Python peers of the serving rows of `npm run bench` (scripts/bench-serving.js).
Reads what the Node side wrote to DIR, so both sides use the same codebook,
codes and queries: big.faiss (IndexPQ over the 60,000), small.faiss (over the
first 1,000), xq.f32 (the queries, raw float32, NQ x D). Faiss is timed as a
Python user calls it (default threads, per-call overhead included), and Python
nanopq too when NANOPQ_SRC names a checkout of matsui528/nanopq.
    python3 bench_peer_serving.py DIR NQ D REPS  ->  one JSON object on stdout"""
import json
import os
import sys
import time

import faiss
import numpy as np

DIR, NQ, D, REPS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
K = 10
Xq = np.fromfile(os.path.join(DIR, "xq.f32"), np.float32).reshape(NQ, D)
big = faiss.read_index(os.path.join(DIR, "big.faiss"))
small = faiss.read_index(os.path.join(DIR, "small.faiss"))
out = {"threads": faiss.omp_get_max_threads()}


def median_us(fn):
    """Median of REPS calls of fn(i) after REPS // 10 warm-up calls, in microseconds."""
    for i in range(REPS // 10):
        fn(i)
    times = []
    for i in range(REPS):
        t0 = time.perf_counter_ns()
        fn(i)
        times.append(time.perf_counter_ns() - t0)
    return float(np.median(times)) / 1e3


def one(i):
    """Query i (cycling through the queries, as the Node side does), as a (1, D) view."""
    j = i % NQ
    return Xq[j:j + 1]


# Row 1: batched top-10, best of 3 (the first run also warms the pages of the codes).
best = float("inf")
for _ in range(3):
    t0 = time.perf_counter()
    _, labels = big.search(Xq, K)
    best = min(best, time.perf_counter() - t0)
out["faiss_search_qps"] = NQ / best
out["faiss_top1"] = labels[:, 0].tolist()

# Row 2: one query against 1,000 codes; Faiss has no adist, search is its nearest call.
out["faiss_search1_us"] = median_us(lambda i: small.search(one(i), K))
# Row 3: encode one vector.
pq = big.pq
out["faiss_encode1_us"] = median_us(lambda i: pq.compute_codes(one(i)))

if os.environ.get("NANOPQ_SRC"):
    sys.path.insert(0, os.environ["NANOPQ_SRC"])
    import warnings

    warnings.filterwarnings("ignore")
    import nanopq

    model, codes = nanopq.faiss_to_nanopq(small)  # the same codebook and codes
    out["nanopq_adist1_us"] = median_us(lambda i: model.dtable(one(i)[0]).adist(codes))
    out["nanopq_encode1_us"] = median_us(lambda i: model.encode(one(i)))

print(json.dumps(out))
