"""Writes test/fixtures/rii/: pickles of Python rii 0.2's rii.Rii, each written
by pickle.dump over nanopq's PQ or OPQ (l2, nanopq's defaults but M) fitted on a
small seeded data set, and the results Python's query() gave, for the tests
that must run without Python.

    RII_SRC=/path/to/rii NANOPQ_SRC=/path/to/nanopq /usr/bin/python3 scripts/rii-fixtures.py [OUT_DIR]

RII_SRC is a checkout of matsui528/rii with its extension built in place
(python3 setup.py build_ext --inplace), NANOPQ_SRC one of matsui528/nanopq;
without them, rii and nanopq are imported from wherever Python finds them.

Files: per fixture <name>.pkl; manifest.json lists them with the queries (float32
values, exact as JSON numbers) and, per query and option set, Python's ids and
distances.

The data, nanopq's training and PQk-means are seeded, so a rerun makes the same
codes, coarse centres and posting lists. rii draws its threshold line by timing
linear and ivf searches, so a rerun may pickle another line, and 'auto' may pick
another method: the manifest holds what each pickle's own line gives.
"""
import contextlib
import json
import os
import pickle
import sys

os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
for variable in ("NANOPQ_SRC", "RII_SRC"):
    if os.environ.get(variable):
        sys.path.insert(0, os.environ[variable])

import numpy as np  # noqa: E402
import nanopq  # noqa: E402
import rii  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "test", "fixtures", "rii")
# D = 16 keeps each pickle near 100 KB: the codewords are in it twice, as a
# numpy array (the fine quantizer's) and as lists of floats (the C++ part's).
# M = 8 makes the 2000 codes distinct (main() checks), so that no two results
# tie: rii orders ties as std::partial_sort leaves them.
D, N, NQ, M = 16, 2000, 3, 8


@contextlib.contextmanager
def quiet():
    """nanopq's and rii's progress (verbose is nanopq's default), Python's and C++'s, goes to fd 1: silenced here."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def data():
    rng = np.random.default_rng(20240611)
    centers = rng.normal(0, 1, (20, D)).astype("float32") * 3

    def sample(n):
        which = rng.integers(0, len(centers), n)
        return (centers[which] + rng.normal(0, 1, (n, D))).astype("float32")

    return sample(N), sample(NQ), rng


def option_sets(rng, n):
    """query()'s (topk, L, target_ids, method): defaults, each method, a long L, and subsets of the ids."""
    small = rng.choice(n, 60, replace=False).tolist()  # unsorted: query() sorts them
    large = rng.choice(n, 900, replace=False).tolist()
    return [
        dict(topk=1), dict(topk=10), dict(topk=10, method="linear"), dict(topk=10, method="ivf"),
        dict(topk=20, L=400, method="ivf"), dict(topk=5, L=n, method="ivf"),
        dict(topk=5, target_ids=small), dict(topk=5, target_ids=small, method="linear"),
        dict(topk=8, target_ids=large), dict(topk=8, target_ids=large, L=300, method="ivf"),
    ]


def query_args(o):
    """An option set as query() takes it: target_ids an int64 array."""
    return {k: np.array(v, dtype=np.int64) if k == "target_ids" else v for k, v in o.items()}


def float32_text(x):
    """A float32 distance in 9 significant digits, which give it back exactly."""
    return float(f"{np.float32(x):.9g}")


def main():
    os.makedirs(OUT, exist_ok=True)
    X, queries, rng = data()
    options = option_sets(rng, N)
    manifest = []

    def fixture(name, quantizer, protocol, build):
        with quiet():
            engine = build(rii.Rii(fine_quantizer=quantizer))
        assert len(np.unique(engine.codes, axis=0)) == engine.N, f"{name}: codes that are the same"
        with open(os.path.join(OUT, name + ".pkl"), "wb") as f:
            pickle.dump(engine, f, protocol)
        # results[q][o]: query q under option set o
        results = []
        for q in queries:
            results.append([])
            for o in options:
                ids, dists = engine.query(q, **query_args(o))
                assert len(ids) == o["topk"], f"{name}: {o} found {len(ids)}"
                assert np.all(np.diff(dists) > 0), f"{name}: {o} gave equal distances"
                results[-1].append({"ids": ids.tolist(), "dists": [float32_text(d) for d in dists]})
        manifest.append({
            "name": name, "file": name + ".pkl", "protocol": protocol,
            "fine_quantizer": type(engine.fine_quantizer).__name__, "M": engine.M, "Ks": engine.Ks,
            "N": engine.N, "nlist": engine.nlist, "verbose": engine.verbose,
            "threshold": None if engine.threshold is None else engine.threshold.coeffs.tolist(),
            "posting_lists": [len(p) for p in engine.posting_lists], "results": results,
        })

    with quiet():
        pq = nanopq.PQ(M=M).fit(X, seed=123)
        opq = nanopq.OPQ(M=M).fit(X, seed=123)
    # pickle.dump's default protocol (4), and the others Python writes for an object.
    fixture("pq", pq, 4, lambda e: e.add_configure(X))
    fixture("opq", opq, 2, lambda e: e.add_configure(X))

    def added_later(e):
        # The last 300 ids are in no posting list: linear finds them, ivf does not.
        e.add_configure(X[:N - 500])
        e.add(X[N - 500:N - 300])
        e.add(X[N - 300:], update_posting_lists=False)
        e.verbose = False  # nanopq's default is True
        return e
    fixture("pq_added_later", pq, 3, added_later)
    fixture("opq_nlist1", opq, 5, lambda e: e.add_configure(X, nlist=1))

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"rii": rii.__version__, "numpy": np.__version__, "D": D, "queries": queries.tolist(),
                   "options": options,
                   "fixtures": manifest}, f, indent=1)
        f.write("\n")


main()
