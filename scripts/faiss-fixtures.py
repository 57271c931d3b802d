"""Writes test/fixtures/faiss-kinds/: one small index file per kind of Faiss
index that lib/io/faiss-index.ts checks, each written by Python Faiss 1.7.3
(Debian python3-faiss) with faiss.write_index, and the results Python's search
gave, for the tests that must run without Python.

    /usr/bin/python3 scripts/faiss-fixtures.py [OUT_DIR]

Files: database.npy (NB x D float32), train.npy (NT x D), queries.npy (NQ x D),
a shared, seeded, clustered data set; per fixture <name>.faiss, and, for a
trained index, <name>.labels.npy (int64) and <name>.distances.npy (float32),
the top K of the queries under the fixture's params; manifest.json lists them.

Deterministic: the data come from a seeded numpy RNG, and Faiss runs on one
thread, so that k-means (seed 1234), PQ/OPQ training, PCA's random rotation,
polysemous training and HNSW's level draws (its own RNG, seed 12345) and link
order are the same on every run. What could still differ between runs is what
Faiss randomises from its own state rather than a seed: nothing here does, so a
rerun on the same build rewrites identical bytes (a different Faiss build or
BLAS may change float rounding in training, and with it the files).
"""
import contextlib
import json
import os
import sys

os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import faiss  # noqa: E402

faiss.omp_set_num_threads(1)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "test", "fixtures", "faiss-kinds")
D, NB, NT, NQ, K = 32, 800, 4000, 20, 10
NLIST, NPROBE, EF_SEARCH, K_FACTOR = 16, 4, 32, 4.0
METRICS = {"l2": faiss.METRIC_L2, "dot": faiss.METRIC_INNER_PRODUCT}


@contextlib.contextmanager
def quiet():
    """Faiss's training warnings (too few points for 256 centroids) go to fd 2: silenced here."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def data():
    rng = np.random.default_rng(20240607)
    centers = rng.normal(0, 1, (24, D)).astype("float32") * 3

    def sample(n):
        which = rng.integers(0, len(centers), n)
        return (centers[which] + rng.normal(0, 1, (n, D))).astype("float32")

    return sample(NB), sample(NT), sample(NQ)


def main():
    os.makedirs(OUT, exist_ok=True)
    xb, xt, xq = data()
    np.save(os.path.join(OUT, "database.npy"), xb)
    np.save(os.path.join(OUT, "train.npy"), xt)
    np.save(os.path.join(OUT, "queries.npy"), xq)
    ids = (1000 + 7 * np.arange(NB)).astype("int64")
    manifest = []

    def fixture(name, factory, kind, metric="l2", ids_by="add", train=True, add=True, setup=None, after=None,
                params=None):
        index = faiss.index_factory(D, factory, METRICS[metric])
        if setup:
            setup(index)
        if train:
            with quiet():
                index.train(xt)
        if add:
            if ids_by == "add_with_ids":
                index.add_with_ids(xb, ids)
            else:
                index.add(xb)
        if after:
            after(index)
        params = dict(params or {})
        space = faiss.ParameterSpace()
        for key, value in params.items():
            # ParameterSpace's names: k_factor_rf is IndexRefine's k_factor (an int there; 4 is exact).
            space.set_index_parameter(index, {"nprobe": "nprobe", "efSearch": "efSearch", "kFactor": "k_factor_rf"}[key],
                                      value)
        faiss.write_index(index, os.path.join(OUT, name + ".faiss"))
        entry = {
            "name": name, "factory": factory, "metric": metric, "kind": kind, "params": params, "k": K,
            "ntotal": int(index.ntotal), "d": D, "ids": ids_by, "trained": bool(index.is_trained),
            "file": name + ".faiss",
        }
        if index.is_trained:
            distances, labels = index.search(xq, K)
            np.save(os.path.join(OUT, name + ".labels.npy"), labels.astype("int64"))
            np.save(os.path.join(OUT, name + ".distances.npy"), distances.astype("float32"))
            entry["labels"] = name + ".labels.npy"
            entry["distances"] = name + ".distances.npy"
        manifest.append(entry)

    # Faiss's factory turns polysemous training on for "PQ<M>" with 8 bits (a minute of training each
    # here), "PQ<M>np" off: the file layout is the same, so all but one fixture use "np".
    ivf = {"nprobe": NPROBE}
    hnsw = {"efSearch": EF_SEARCH}
    refine = {"kFactor": K_FACTOR}

    def set_attr(name, value):
        return lambda index: setattr(index, name, value)

    for metric in ("l2", "dot"):
        suffix = "" if metric == "l2" else "_dot"
        fixture("flat" + suffix, "Flat", "IndexFlat", metric)
        fixture("pq8" + suffix, "PQ8np", "IndexPQ", metric)
        fixture("ivf16_flat" + suffix, "IVF16,Flat", "IndexIVFFlat", metric, params=ivf)
        fixture("hnsw16" + suffix, "HNSW16", "IndexHNSWFlat", metric, params=hnsw)
    fixture("pq8x4", "PQ8x4", "IndexPQ")
    fixture("sq8", "SQ8", "IndexScalarQuantizer")
    fixture("sq4", "SQ4", "IndexScalarQuantizer")
    fixture("sqfp16", "SQfp16", "IndexScalarQuantizer")
    fixture("ivf16_pq8", "IVF16,PQ8np", "IndexIVFPQ", params=ivf)
    fixture("ivf16_pq8_direct", "IVF16,PQ8np", "IndexIVFPQ", params=ivf, setup=set_attr("by_residual", False))
    fixture("ivf16_pq8_polysemous", "IVF16,PQ8", "IndexIVFPQ", params=ivf,
            setup=set_attr("do_polysemous_training", True))  # the factory's default, said again
    fixture("ivf16_sq8", "IVF16,SQ8", "IndexIVFScalarQuantizer", params=ivf)
    fixture("pq16x4fs", "PQ16x4fs", "IndexPQFastScan")
    fixture("ivf16_pq16x4fs", "IVF16,PQ16x4fs", "IndexIVFPQFastScan", params=ivf)
    fixture("ivf16_pq16x4fs_rflat", "IVF16,PQ16x4fs,RFlat", "IndexRefineFlat", params={**ivf, **refine})
    fixture("hnsw16_pq8", "HNSW16,PQ8np", "IndexHNSWPQ", params=hnsw)
    fixture("hnsw16_sq8", "HNSW16,SQ8", "IndexHNSWSQ", params=hnsw)
    fixture("idmap_flat", "IDMap,Flat", "IndexIDMap", ids_by="add_with_ids")
    fixture("idmap2_flat", "IDMap2,Flat", "IndexIDMap2", ids_by="add_with_ids")
    fixture("idmap_pq8", "IDMap,PQ8np", "IndexIDMap", ids_by="add_with_ids")
    fixture("ivf16_flat_ids", "IVF16,Flat", "IndexIVFFlat", ids_by="add_with_ids", params=ivf)
    fixture("ivf16_flat_direct_map", "IVF16,Flat", "IndexIVFFlat", params=ivf,
            after=lambda index: index.make_direct_map())
    fixture("ivf16_pq8_hashtable", "IVF16,PQ8np", "IndexIVFPQ", ids_by="add_with_ids", params=ivf,
            after=lambda index: index.set_direct_map_type(faiss.DirectMap.Hashtable))
    fixture("opq8_ivf16_pq8", "OPQ8,IVF16,PQ8np", "IndexPreTransform", params=ivf)
    fixture("opq8_32_pq8", "OPQ8_32,PQ8np", "IndexPreTransform")
    fixture("pcar16_ivf16_flat", "PCAR16,IVF16,Flat", "IndexPreTransform", params=ivf)
    fixture("l2norm_flat", "L2norm,Flat", "IndexPreTransform")
    fixture("ivf16_pq8_rflat", "IVF16,PQ8np,RFlat", "IndexRefineFlat", params={**ivf, **refine})
    fixture("pq8_rflat", "PQ8np,RFlat", "IndexRefineFlat", params=refine)
    fixture("pq8_empty", "PQ8np", "IndexPQ", add=False)
    fixture("ivf16_flat_untrained", "IVF16,Flat", "IndexIVFFlat", train=False, add=False, params=ivf)

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"faiss": faiss.__version__, "d": D, "nb": NB, "nt": NT, "nq": NQ, "k": K, "fixtures": manifest},
                  f, indent=1)
        f.write("\n")


main()
