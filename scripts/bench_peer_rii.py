"""The Python peer of the Rii rows of `npm run bench` (scripts/bench-rii.js).
Python rii (matsui528/rii, when it imports: RII_SRC names a checkout built in
place, NANOPQ_SRC one of nanopq) and Python Faiss (Debian python3-faiss), on
the arrays and the fine codebook the Node side uses. It prints one JSON line
(its threads, and whether rii imports: "rii_skip" says why not), then answers
requests, one JSON line each on stdin, one JSON line back on stdout:
  {"op": "load", "x": ARRAY, "xq": ARRAY, "codewords": FILE, "codes": FILE, "rii_centres": FILE,
   "rii_assign": FILE, "M", "Ks", "nlist", "iter", "train", "fs_M"}
      ARRAY is {"path", "n", "d"}: a .npy file or raw float32 rows. Builds
      Python rii on a nanopq PQ holding those codewords (float32 (M, Ks, Ds)),
      add_configure(x, nlist, iter), timed once; a Faiss IndexIVFPQ(nlist, M,
      8 bits, by_residual False) whose coarse quantizer is Faiss k-means (10
      iterations, seed 123) on the first `train` rows and whose PQ holds the
      same codewords, its lists filled with `codes` (uint8 (N, M): the Node
      side's codes of x by those codewords, what add would compute, and
      without the minute Faiss 1.7.3's compute_codes takes for 1,000,000
      6-d subvectors); the same IndexIVFPQ but on the Node Rii's partition
      (its coarse centres decoded, float32 (nlist, D), the quantizer; its
      posting lists, int64 list of each id, the lists; so a query ranks the
      lists as the Rii does); an IndexIVFPQFastScan(nlist, fs_M, 4 bits,
      by_residual False) on the k-means quantizer, its own 4-bit PQ trained
      on those rows, filled by add. Answers the times, rii's nlist and L0.
  {"op": "rii", "L": L or null (rii's default), "topk", "nq", "targets": FILE or null, "method", "out": FILE or null}
      rii.query of the first nq queries, one at a time (targets: int64 ids,
      target_ids of every query; method: "auto" when not given). Writes the ids (int64 nq x topk, -1 where
      fewer were found) to out. Answers {"s", "cpu", "L"}.
  {"op": "faiss", "kind": "ivfpq", "ivfpq_rii" or "fs", "nprobe", "k", "nq", "out": FILE or null}
      index.search of the first nq queries at once; writes the labels (int64 nq x k).
OpenBLAS on one thread (as the other peers run); Faiss's OpenMP at its
default (every core), as a Python user calls it; rii is single-threaded.
    python3 bench_peer_rii.py"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import faiss  # noqa: E402
import numpy as np  # noqa: E402

for var in ("NANOPQ_SRC", "RII_SRC"):  # RII_SRC first on the path, as PYTHONPATH=RII_SRC:NANOPQ_SRC
    if os.environ.get(var):
        sys.path.insert(0, os.environ[var])

try:
    import warnings

    warnings.filterwarnings("ignore")
    import nanopq
    import rii

    rii_skip = None
except Exception as e:  # noqa: BLE001 (an unbuilt checkout fails with any error)
    rii_skip = f"{type(e).__name__}: {e}"


def log(s):
    print(f"  (peer: {s})", file=sys.stderr, flush=True)


def read(a):
    if a["path"].endswith(".npy"):
        x = np.load(a["path"], mmap_mode="r")
        assert x.shape == (a["n"], a["d"]) and x.dtype == np.float32, f"{a['path']}: {x.shape} {x.dtype}"
        return np.ascontiguousarray(x)
    return np.fromfile(a["path"], np.float32).reshape(a["n"], a["d"])


def timed(fn):
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - t0, time.process_time() - cpu0


state = {}


def fill(index, quantizer, X, codes, assign=None):
    """index.add(X) for an IVF index whose codes of X are known: each id to its nearest centroid's list (or to assign's)."""
    if assign is None:
        assign = quantizer.search(X, 1)[1].ravel()
    order = np.argsort(assign, kind="stable")
    bounds = np.searchsorted(assign[order], np.arange(index.nlist + 1))
    for list_no in range(index.nlist):
        ids = np.ascontiguousarray(order[bounds[list_no]:bounds[list_no + 1]], dtype=np.int64)
        if len(ids):
            block = np.ascontiguousarray(codes[ids])
            index.invlists.add_entries(list_no, len(ids), faiss.swig_ptr(ids), faiss.swig_ptr(block))
    index.ntotal = len(X)


def load(r):
    X, Xq = read(r["x"]), read(r["xq"])
    N, D = X.shape
    M, Ks, nlist = r["M"], r["Ks"], r["nlist"]
    cw = np.fromfile(r["codewords"], np.float32).reshape(M, Ks, D // M)
    out = {}
    state.clear()
    state["xq"] = Xq
    if rii_skip is None:
        pq = nanopq.PQ(M=M, Ks=Ks, verbose=False)
        pq.Ds, pq.codewords = D // M, cw
        e, out["rii_add_configure_s"], _ = timed(lambda: rii.Rii(fine_quantizer=pq).add_configure(X, nlist=nlist, iter=r["iter"]))
        out["rii_nlist"], out["rii_L0"] = e.nlist, e.L0
        state["rii"] = e
        log(f"rii add_configure of {N} (nlist {nlist}, iter {r['iter']}) in {out['rii_add_configure_s']:.1f} s")
    Xt = X[: r["train"]]
    kmeans = faiss.Kmeans(D, nlist, niter=10, seed=123)
    _, out["kmeans_s"], _ = timed(lambda: kmeans.train(Xt))
    quantizers = [faiss.IndexFlatL2(D) for _ in range(3)]
    quantizers[0].add(kmeans.centroids)
    quantizers[1].add(np.fromfile(r["rii_centres"], np.float32).reshape(nlist, D))
    quantizers[2].add(kmeans.centroids)
    codes = np.fromfile(r["codes"], np.uint8).reshape(N, M)

    def ivfpq_on(quantizer):
        index = faiss.IndexIVFPQ(quantizer, D, nlist, M, int(np.log2(Ks)))
        index.by_residual = False
        faiss.copy_array_to_vector(cw.ravel(), index.pq.centroids)
        index.is_trained = True
        return index

    ivfpq, ivfpq_rii = ivfpq_on(quantizers[0]), ivfpq_on(quantizers[1])
    _, out["ivfpq_add_s"], _ = timed(lambda: fill(ivfpq, quantizers[0], X, codes))
    fill(ivfpq_rii, quantizers[1], X, codes, np.fromfile(r["rii_assign"], np.int64))
    fs = faiss.IndexIVFPQFastScan(quantizers[2], D, nlist, r["fs_M"], 4)
    fs.by_residual = False
    _, out["fs_train_s"], _ = timed(lambda: fs.train(Xt))  # its 4-bit PQ (the quantizer is trained)
    _, out["fs_add_s"], _ = timed(lambda: fs.add(X))
    state["quantizers"] = quantizers  # the indexes borrow them
    state["ivfpq"], state["ivfpq_rii"], state["fs"] = ivfpq, ivfpq_rii, fs
    log(f"Faiss k-means {nlist} on {len(Xt)} in {out['kmeans_s']:.1f} s; IVFPQ add {out['ivfpq_add_s']:.1f} s; "
        f"IVFPQ fast scan ({r['fs_M']}x4) train {out['fs_train_s']:.1f} s, add {out['fs_add_s']:.1f} s")
    return out


def query_rii(r):
    e, Xq = state["rii"], state["xq"]
    nq, topk = r["nq"], r["topk"]
    L = r["L"] if r["L"] is not None else e._multiple_of_L0_covering_topk(topk)
    tids = np.fromfile(r["targets"], np.int64) if r.get("targets") else None
    method = r.get("method") or "auto"
    ids = np.full((nq, topk), -1, np.int64)

    def run():
        for i in range(nq):
            found, _ = e.query(Xq[i], topk=topk, L=L, target_ids=tids, method=method)
            ids[i, : len(found)] = found

    _, s, cpu = timed(run)
    if r.get("out"):
        ids.tofile(r["out"])
    return {"s": s, "cpu": cpu, "L": int(L)}


def search_faiss(r):
    index, Xq = state[r["kind"]], state["xq"][: r["nq"]]
    index.nprobe = r["nprobe"]
    (_, labels), s, cpu = timed(lambda: index.search(Xq, r["k"]))
    if r.get("out"):
        labels.astype(np.int64).tofile(r["out"])
    return {"s": s, "cpu": cpu}


print(json.dumps({"threads": faiss.omp_get_max_threads(), "openblas_threads": os.environ["OPENBLAS_NUM_THREADS"],
                  "rii_skip": rii_skip}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    try:
        answer = {"load": load, "rii": query_rii, "faiss": search_faiss}[request["op"]](request)
    except Exception as e:  # noqa: BLE001 (said to the Node side, which goes on without the row)
        answer = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(answer), flush=True)
