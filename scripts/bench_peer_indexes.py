"""The Python peer of the index rows of `npm run bench` (scripts/bench-indexes.js).
Reads what the Node side wrote to DIR: x.f32 (N x D) and xq.f32 (NQ x D), raw
float32. For each index of SPECS (name, factory string, search parameters,
training rows, database rows, queries): builds it with faiss.index_factory,
trains it on the first training rows, adds the first database rows and writes
it to DIR/<name>.faiss (as built: the search parameters are not in the file),
then sets the parameters with ParameterSpace, as a Python user would.
Then it prints one JSON line (its threads, the build times) and serves, one
JSON line each, requests {"name": ...} from stdin: index.search of the first
queries of the spec, top-K, timed, answered {"s": seconds, "cpu": the
process's CPU seconds, every thread's}; the first request
of an index first runs a warm-up of 100 queries, and writes the labels to
DIR/<name>.labels.i64 (int64, queries x K) for the Node side to compare. So
the Node side can alternate its runs with these, under the same load.
    python3 bench_peer_indexes.py DIR N NQ D SPECS_JSON
OpenBLAS is kept to one thread (as the other peers run), Faiss's OpenMP to its
default (every core), as a Python user calls it."""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import faiss  # noqa: E402
import numpy as np  # noqa: E402

DIR, N, NQ, D = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
SPECS = json.loads(sys.argv[5])
K = 10

X = np.fromfile(os.path.join(DIR, "x.f32"), np.float32).reshape(N, D)
Xq = np.fromfile(os.path.join(DIR, "xq.f32"), np.float32).reshape(NQ, D)
out = {"threads": faiss.omp_get_max_threads(), "openblas_threads": os.environ["OPENBLAS_NUM_THREADS"], "built": {}}
indexes = {}

for spec in SPECS:
    name, factory = spec["name"], spec["factory"]
    index = faiss.index_factory(D, factory)
    if hasattr(index, "do_polysemous_training"):
        # Polysemous training (on by default for "IVF..,PQ.." in Faiss 1.7.3)
        # only reorders the codewords; a search without polysemous_ht does the
        # same work either way, and it takes over a minute.
        index.do_polysemous_training = False
    t0 = time.perf_counter()
    if spec["train"]:
        index.train(X[: spec["train"]])
    t1 = time.perf_counter()
    index.add(X[: spec["n"]])
    t2 = time.perf_counter()
    faiss.write_index(index, os.path.join(DIR, name + ".faiss"))
    faiss.ParameterSpace().set_index_parameters(index, spec["params"])
    indexes[name] = (index, Xq[: spec["nq"]])
    out["built"][name] = {"train_s": t1 - t0, "add_s": t2 - t1}
    print(f"  (peer: {factory} trained on {spec['train']} in {t1 - t0:.1f} s, added {spec['n']} in {t2 - t1:.1f} s)",
          file=sys.stderr, flush=True)
del X

print(json.dumps(out), flush=True)
warm = set()
for line in sys.stdin:
    name = json.loads(line)["name"]
    index, queries = indexes[name]
    if name not in warm:
        index.search(queries[:100], K)
    t0, cpu0 = time.perf_counter(), time.process_time()
    _, labels = index.search(queries, K)
    s, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if name not in warm:
        labels.astype(np.int64).tofile(os.path.join(DIR, name + ".labels.i64"))
        warm.add(name)
    print(json.dumps({"s": s, "cpu": cpu}), flush=True)
