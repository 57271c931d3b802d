// Pickles of Python rii 0.2's rii.Rii: the fixtures Python rii wrote
// (test/fixtures/rii, by scripts/rii-fixtures.py) read and queried as Python
// queried them; what writeRiiPickle writes, read back and, where Python rii is
// there (RII_SRC, NANOPQ_SRC), loaded and queried by Python; and bad and
// hostile files, written by /usr/bin/python3 with stand-ins for rii's and
// nanopq's classes (rii need not be installed for those).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { PQ, OPQ, Rii, io } = require('..');
const { runPython, PYTHON } = require('./helpers/python');
const { NANOPQ_STAND_IN } = require('./helpers/stand-in');
const { randomMatrix, rng } = require('./helpers/data');
const { thrown } = require('./helpers/thrown');
const { pickleOf, readInChild, expectEachMutationReadOrRefused } = require('./helpers/pickle-checks');

const { readRiiPickle, writeRiiPickle, readNanopqPickle, writeNanopqPickle } = io;

const FIXTURES = path.join(__dirname, 'fixtures', 'rii');
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-rii-pickle-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An option set of the manifest (Python's query() arguments) as query() takes it. */
const queryOptions = (o) => ({
  topk: o.topk, method: o.method ?? 'auto', ...(o.L !== undefined && { L: o.L }), ...(o.target_ids && { targetIds: o.target_ids }),
});

/** Python's threshold coefficients (np.poly1d's: one when the slope is 0) as a Threshold. */
const threshold = (coeffs) => coeffs && (coeffs.length === 1 ? { slope: 0, intercept: coeffs[0] } : { slope: coeffs[0], intercept: coeffs[1] });

/** Everything a Rii holds, as plain values to compare. */
function partsOf(rii) {
  const p = rii.toParts();
  const fq = p.fineQuantizer;
  return {
    fineQuantizer: { kind: fq instanceof OPQ ? 'OPQ' : 'PQ', M: fq.M, Ks: fq.Ks, metric: fq.metric, codewords: fq.codewords, R: fq.R ?? null },
    codes: Array.from(p.codes), coarseCenters: p.coarseCenters && Array.from(p.coarseCenters),
    postingLists: p.postingLists.map((l) => Array.from(l)), threshold: p.threshold, verbose: rii.verbose,
  };
}

/** Query results equal Python's: the same ids, distances within 1e-5 relative (float32 sums in another order). */
function expectSameResults(found, expected, what) {
  expect([what, Array.from(found.ids)]).toEqual([what, expected.ids]);
  found.dists.forEach((d, i) => expect(Math.abs(d - expected.dists[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected.dists[i]))));
}

// ------------------------------------------------------------ fixtures --

describe.each(manifest.fixtures.map((f) => [f.name, f]))('fixture %s', (_, f) => {
  const file = path.join(FIXTURES, f.file);
  let rii;
  beforeAll(() => {
    rii = readRiiPickle(file);
  });

  test(`is Python's Rii (protocol ${f.protocol})`, () => {
    expect(rii).toBeInstanceOf(Rii);
    expect(rii.fineQuantizer).toBeInstanceOf(f.fine_quantizer === 'OPQ' ? OPQ : PQ);
    expect([rii.M, rii.Ks, rii.N, rii.nlist, rii.verbose, rii.fineQuantizer.metric]).toEqual([f.M, f.Ks, f.N, f.nlist, f.verbose, 'l2']);
    expect(rii.threshold).toEqual(threshold(f.threshold));
    expect(rii.postingLists.map((l) => l.length)).toEqual(f.posting_lists);
  });

  test("query gives Python's ids and distances for every query and option set", () => {
    f.results.forEach((row, q) => row.forEach((expected, o) => {
      const options = queryOptions(manifest.options[o]);
      expectSameResults(rii.query(manifest.queries[q], options), expected, `query ${q}, options ${o}`);
    }));
  });

  test('the same from its bytes, at an odd offset (arrays in the file are unaligned)', () => {
    const bytes = fs.readFileSync(file);
    const odd = new Uint8Array(bytes.length + 1).subarray(1);
    odd.set(bytes);
    expect(partsOf(readRiiPickle(odd))).toEqual(partsOf(rii));
  });

  test('writeRiiPickle writes what reads back to the same parts', () => {
    const written = path.join(dir, `${f.name}.written.pkl`);
    writeRiiPickle(rii, written);
    expect(partsOf(readRiiPickle(written))).toEqual(partsOf(rii));
  });
});

test('reading prints nothing, even for a verbose Rii', () => {
  const log = jest.spyOn(console, 'log').mockImplementation(() => {});
  try {
    expect(readRiiPickle(path.join(FIXTURES, 'pq.pkl')).verbose).toBe(true);
    expect(log).not.toHaveBeenCalled();
  } finally {
    log.mockRestore();
  }
});

// ------------------------------------------------- Rii objects written here --

const X = randomMatrix(1500, 16, 41);
const rows = (from, to) => ({ data: X.data.subarray(from * 16, to * 16), shape: [to - from, 16] });
const pq = new PQ({ M: 8 }).fit(rows(0, 1000), { iter: 5, seed: 3 });
const opq = new OPQ({ M: 8 }).fit(rows(0, 1000), { pqIter: 5, rotationIter: 3, seed: 3 });

/** Rii objects of each kind: with lists, with ids in no list, one list, no lists, no codes. */
const written = {
  'PQ': () => new Rii({ fineQuantizer: pq }).addConfigure(X),
  'OPQ verbose': () => {
    const rii = new Rii({ fineQuantizer: opq }).addConfigure(rows(0, 1200), { nlist: 20 });
    rii.add(rows(1200, 1500), { updatePostingLists: false });
    rii.verbose = true;  // after: verbose add prints
    return rii;
  },
  'PQ one list': () => new Rii({ fineQuantizer: pq }).addConfigure(rows(0, 400), { nlist: 1 }),  // threshold: slope 0
  'PQ no lists': () => {
    const rii = new Rii({ fineQuantizer: pq });
    rii.add(rows(0, 50));
    return rii;
  },
  'OPQ no codes': () => new Rii({ fineQuantizer: opq }),
};
const OPTION_SETS = [{ topk: 1 }, { topk: 10, method: 'linear' }, { topk: 10, method: 'ivf' }, { topk: 5, L: 300, method: 'ivf' },
  { topk: 5, target_ids: Array.from({ length: 40 }, (_, i) => (i * 37) % 100) }, { topk: 3, target_ids: [99, 5, 60, 42], method: 'ivf', L: 4 }];
const queries = [0, 1, 2].map((i) => Array.from(randomMatrix(1, 16, 100 + i).data));

describe.each(Object.entries(written))('writeRiiPickle of a Rii: %s', (name, make) => {
  test('readRiiPickle reads it back: the same parts, the same query results', () => {
    const rii = make();
    const file = path.join(dir, `written ${name}.pkl`);
    writeRiiPickle(rii, file);
    const back = readRiiPickle(file);
    expect(partsOf(back)).toEqual(partsOf(rii));
    if (rii.nlist === 0) return;
    for (const q of queries) {
      for (const o of OPTION_SETS) expect(back.query(q, queryOptions(o))).toEqual(rii.query(q, queryOptions(o)));
    }
  });
});

test('writeRiiPickle: bad arguments', () => {
  const rii = written['PQ one list']();
  expect(() => writeRiiPickle(pq, path.join(dir, 'x.pkl'))).toThrow(new TypeError('Expected a Rii for rii, got an object with keys [M, Ks, metric, codeDtype]'));
  expect(() => writeRiiPickle(rii, 3)).toThrow(new TypeError('Expected a file path (string) for dst, got 3'));
});

// --------------------------------------- Python rii loads what is written --

/**
 * Python rii and nanopq from the checkouts RII_SRC (its extension built in
 * place) and NANOPQ_SRC: { env } to run them with, or { why } not.
 */
function pythonRii() {
  const { RII_SRC, NANOPQ_SRC } = process.env;
  if (!RII_SRC || !NANOPQ_SRC) return { why: 'RII_SRC and NANOPQ_SRC are not set' };
  const env = { ...process.env, PYTHONPATH: [RII_SRC, NANOPQ_SRC].join(path.delimiter), OPENBLAS_NUM_THREADS: '1' };
  const r = spawnSync(PYTHON, ['-c', 'import rii, nanopq'], { env, encoding: 'utf8' });
  if (r.status !== 0) {
    const last = (r.stderr || r.error?.message || '').trim().split('\n').pop();
    return { why: `${PYTHON} cannot import rii and nanopq from RII_SRC and NANOPQ_SRC (${last})` };
  }
  return { env };
}

// Loads each job's pickle with Python rii, queries it, and prints what it holds and found.
const LOAD_RII = `
import sys, json, pickle, base64
import numpy as np
import rii, nanopq
def f32(a):
    return None if a is None else base64.b64encode(np.ascontiguousarray(a, dtype='<f4').tobytes()).decode()
out = []
for job in json.loads(sys.stdin.read()):
    with open(job['file'], 'rb') as f:
        e = pickle.load(f)
    results = []
    for q in job['queries']:
        results.append([])
        for o in job['options']:
            args = {k: np.array(v, dtype=np.int64) if k == 'target_ids' else v for k, v in o.items()}
            ids, dists = e.query(np.array(q, dtype=np.float32), **args)
            results[-1].append({'ids': ids.tolist(), 'dists': dists.tolist()})
    fq = e.fine_quantizer
    out.append({
        'class': type(e).__module__ + '.' + type(e).__name__, 'impl_cpp': type(e.impl_cpp).__module__ + '.' + type(e.impl_cpp).__name__,
        'fine_quantizer': type(fq).__name__, 'M': e.M, 'Ks': e.Ks, 'N': e.N, 'nlist': e.nlist,
        'verbose': [e.verbose, fq.verbose], 'codewords': f32(fq.codewords), 'R': f32(getattr(fq, 'R', None)),
        'threshold': None if e.threshold is None else e.threshold.coeffs.tolist(),
        'codes': [] if e.codes is None else e.codes.ravel().tolist(),
        'coarse_centers': None if e.coarse_centers is None else e.coarse_centers.ravel().tolist(),
        'posting_lists': e.posting_lists, 'results': results,
    })
print(json.dumps(out))
`;

const peer = pythonRii();
const floats = (a) => a && Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).toString('base64');

if (!peer.env && process.env.NANOPQ_REQUIRE_RII === '1') {
  test('Python rii is there (NANOPQ_REQUIRE_RII=1)', () => {
    throw new Error(`NANOPQ_REQUIRE_RII=1, but ${peer.why}: set RII_SRC to a checkout of matsui528/rii with its extension ` +
      'built (python3 setup.py build_ext --inplace) and NANOPQ_SRC to a checkout of matsui528/nanopq');
  });
}

const liveTitle = 'Python rii loads what writeRiiPickle writes and queries it the same';
(peer.env ? describe : describe.skip)(peer.env ? liveTitle
  : `${liveTitle} (skipped: ${peer.why}; set them to checkouts of matsui528/rii, built, and matsui528/nanopq, or NANOPQ_REQUIRE_RII=1 to fail)`, () => {
  /** Runs LOAD_RII over jobs { file, queries, options }. */
  const load = (jobs) => {
    const r = spawnSync(PYTHON, ['-c', LOAD_RII], { env: peer.env, input: JSON.stringify(jobs), encoding: 'utf8', timeout: 300000 });
    if (r.status !== 0) throw new Error(`${PYTHON} failed (${r.status}):\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };

  test("the fixtures, read and written here, give Python's results again", () => {
    const jobs = manifest.fixtures.map((f) => {
      const file = path.join(dir, `again ${f.name}.pkl`);
      writeRiiPickle(readRiiPickle(path.join(FIXTURES, f.file)), file);
      return { file, queries: manifest.queries, options: manifest.options };
    });
    load(jobs).forEach((got, i) => {
      const f = manifest.fixtures[i];
      expect([got.class, got.impl_cpp, got.fine_quantizer, got.N, got.nlist, got.verbose]).toEqual(['rii.rii.Rii', 'main.RiiCpp', f.fine_quantizer, f.N, f.nlist, [f.verbose, f.verbose]]);
      expect(threshold(got.threshold)).toEqual(threshold(f.threshold));
      got.results.forEach((row, q) => row.forEach((found, o) => expect([q, o, found.ids]).toEqual([q, o, f.results[q][o].ids])));
    });
  });

  test('Rii objects made here are what Python loads, and search the same there', () => {
    const made = Object.entries(written).map(([name, make]) => [name, make()]);
    const jobs = made.map(([name, rii]) => {
      const file = path.join(dir, `for Python ${name}.pkl`);
      writeRiiPickle(rii, file);
      return { file, queries: rii.nlist ? queries : [], options: rii.nlist ? OPTION_SETS : [] };
    });
    load(jobs).forEach((got, i) => {
      const [name, rii] = made[i];
      const fq = rii.fineQuantizer;
      const t = rii.threshold;
      expect({ name, ...got, results: undefined }).toEqual({
        name, class: 'rii.rii.Rii', impl_cpp: 'main.RiiCpp', fine_quantizer: fq instanceof OPQ ? 'OPQ' : 'PQ',
        M: rii.M, Ks: rii.Ks, N: rii.N, nlist: rii.nlist, verbose: [rii.verbose, rii.verbose],
        codewords: floats(fq.codewords), R: fq instanceof OPQ ? floats(fq.R) : null,
        threshold: t && (t.slope === 0 ? [t.intercept] : [t.slope, t.intercept]),
        codes: Array.from(rii.codes.data), coarse_centers: rii.coarseCenters && Array.from(rii.coarseCenters.data),
        posting_lists: rii.postingLists.map((l) => Array.from(l)), results: undefined,
      });
      got.results.forEach((row, q) => row.forEach((expected, o) => {
        expectSameResults(rii.query(queries[q], queryOptions(OPTION_SETS[o])), expected, `${name}: query ${q}, options ${o}`);
      }));
    });
  });
});

// --------------------------------------------------------------- errors --

// A small Rii, and pickles of it that Python writes with stand-ins for rii.rii.Rii
// and main.RiiCpp (pickled as pybind11 pickles it: NEWOBJ, then BUILD with
// its state tuple): good ones at each protocol, and bad ones with one thing wrong.
const small = new Rii({ fineQuantizer: new PQ({ M: 2, Ks: 16 }).fit(randomMatrix(200, 4, 9), { iter: 3, seed: 1 }) })
  .addConfigure(randomMatrix(60, 4, 10), { nlist: 3 });
const smallFile = path.join(dir, 'small.pkl');
beforeAll(() => writeRiiPickle(small, smallFile));
const fqFile = path.join(dir, 'small fine quantizer.pkl');
writeNanopqPickle(small.fineQuantizer, fqFile);

const GENERATE = `${NANOPQ_STAND_IN}
import copyreg
# rii's modules: rii.rii.Rii, and main.RiiCpp, which pybind11 pickles as copyreg's __newobj__ then its state tuple
cpp = 'import copyreg\\nclass RiiCpp:\\n    def __reduce__(self):\\n        return (copyreg.__newobj__, (RiiCpp,), self.state)\\n'
for name, body in {'rii/__init__.py': '', 'rii/rii.py': 'class Rii:\\n    pass\\n', 'main.py': cpp}.items():
    os.makedirs(os.path.dirname(os.path.join(stand, name)), exist_ok=True)
    with open(os.path.join(stand, name), 'w') as f:
        f.write(body)
from rii.rii import Rii
from main import RiiCpp
out = sys.argv[2]
parts = json.loads(sys.argv[4])
def fine_quantizer():
    with open(sys.argv[3], 'rb') as f:
        return pickle.load(f)

def rii(fq=None, codewords=None, verbose=False, centres=None, codes=None, lists=None, threshold=...):
    # a Rii's __dict__, as rii 0.2 sets it; impl_cpp's state as RiiCpp's __getstate__ returns it
    e, c = Rii(), RiiCpp()
    e.fine_quantizer = fine_quantizer() if fq is None else fq
    p = e.fine_quantizer.pq if isinstance(e.fine_quantizer, OPQ) else e.fine_quantizer
    c.state = (p.codewords.tolist() if codewords is None else codewords, verbose,
               parts['centres'] if centres is None else centres, parts['codes'] if codes is None else codes,
               parts['lists'] if lists is None else lists)
    e.impl_cpp = c
    e.threshold = np.poly1d(parts['threshold']) if threshold is ... else threshold
    return e

def dump(name, obj, protocol=4):
    with open(os.path.join(out, f'{name}.pkl'), 'wb') as f:
        pickle.dump(obj, f, protocol)

for protocol in (2, 3, 4, 5):
    dump(f'good p{protocol}', rii(), protocol)
dump('good slope 0', rii(threshold=np.poly1d([0, 40])))  # poly1d keeps [40], an int64 array
dump('good no lists', rii(centres=[], lists=[], threshold=None, verbose=True))
dump('good no codes', rii(centres=[], codes=[], lists=[], threshold=None))
fq = fine_quantizer()
opq = OPQ()
opq.pq, opq.R = fq, np.eye(4, dtype=np.float32)
dump('good OPQ', rii(fq=opq))

class Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned',))
M, Ks = 2, 16
def changed(**attributes):
    p = fine_quantizer()
    for k, v in attributes.items():
        setattr(p, k, v)
    return p
bad = {
    'a dict': {'fine_quantizer': fine_quantizer()},
    'a function call': rii(verbose=Evil()),
    'no threshold': rii(),
    'a fine quantizer with int32 codewords': rii(fq=changed(codewords=np.zeros((2, 16, 2), np.int32))),
    'a fine quantizer of another shape': rii(fq=changed(codewords=np.zeros((2, 16, 3), np.float32))),
    'an unfitted fine quantizer': rii(fq=changed(codewords=None, Ds=None), codewords=[]),
    'a fine quantizer of Ks 300': rii(fq=changed(Ks=300, code_dtype=np.uint16, codewords=np.zeros((2, 300, 2), np.float32))),
    'impl_cpp a dict': rii(),
    'a state of 4 items': rii(),
    'other codewords in impl_cpp': rii(codewords=(fine_quantizer().codewords + 1).tolist()),
    'verbose a string': rii(verbose='yes'),
    'a code of 300': rii(codes=[300] + parts['codes'][1:]),
    'a code >= Ks': rii(codes=parts['codes'][:5] + [Ks] + parts['codes'][6:]),
    'a coarse centre >= Ks': rii(centres=[[0, Ks]] + parts['centres'][1:]),
    'codes of half a vector': rii(codes=parts['codes'][:-1]),
    'an id >= N': rii(lists=[parts['lists'][0] + [60]] + parts['lists'][1:]),
    'an id in two lists': rii(lists=[parts['lists'][0] + parts['lists'][1][:1]] + parts['lists'][1:]),
    'fewer lists than centres': rii(lists=parts['lists'][:2]),
    'a threshold of 3 coefficients': rii(threshold=np.poly1d([1.0, 2.0, 3.0])),
    'a threshold of complex coefficients': rii(threshold=np.poly1d([1j, 2.0])),
    'a threshold a float': rii(threshold=2.5),
}
del bad['no threshold'].threshold
bad['impl_cpp a dict'].impl_cpp = {}
bad['a state of 4 items'].impl_cpp.state = bad['a state of 4 items'].impl_cpp.state[:4]
for name, obj in bad.items():
    dump(f'bad {name}', obj)
print(json.dumps({'numpy': np.__version__, 'python': sys.version.split()[0]}))
`;

const toPython = (p) => ({
  codes: Array.from(p.codes), centres: Array.from({ length: p.coarseCenters.length / 2 }, (_, k) => Array.from(p.coarseCenters.subarray(2 * k, 2 * k + 2))),
  lists: p.postingLists.map((l) => Array.from(l)), threshold: [p.threshold.slope, p.threshold.intercept],
});
const generated = JSON.parse(runPython(GENERATE, [dir, dir, fqFile, JSON.stringify(toPython(small.toParts()))]));
const pythonFile = (name) => path.join(dir, `${name}.pkl`);

describe(`pickles of stand-ins that Python ${generated.python} with numpy ${generated.numpy} wrote`, () => {
  const expected = partsOf(small);
  test.each([2, 3, 4, 5])('protocol %i reads as the Rii it was made of', (protocol) => {
    expect(partsOf(readRiiPickle(pythonFile(`good p${protocol}`)))).toEqual(expected);
  });

  test('a threshold of slope 0 (one int64 coefficient), no lists, no codes, an OPQ', () => {
    expect(readRiiPickle(pythonFile('good slope 0')).threshold).toEqual({ slope: 0, intercept: 40 });
    const unconfigured = readRiiPickle(pythonFile('good no lists'));
    expect([unconfigured.N, unconfigured.nlist, unconfigured.threshold, unconfigured.verbose]).toEqual([60, 0, null, true]);
    const empty = readRiiPickle(pythonFile('good no codes'));
    expect([empty.N, empty.nlist, empty.threshold]).toEqual([0, 0, null]);
    expect(readRiiPickle(pythonFile('good OPQ')).fineQuantizer).toBeInstanceOf(OPQ);
  });
});

describe('bad pickles', () => {
  const file = (name) => pythonFile(`bad ${name}`);
  const library = (message) => `Expected values the library accepts for Rii.impl_cpp in FILE, got values it refuses (${message})`;
  test.each([
    ['a dict', 'Expected a rii.rii.Rii in FILE, got a dict'],
    ['a function call', /^Expected a global of numpy, nanopq or rii in FILE at byte \d+, got a reference to posix\.system$/],
    ['no threshold', 'Expected the attribute threshold for Rii in FILE, got only fine_quantizer, impl_cpp'],
    ['a fine quantizer with int32 codewords', 'Expected a float32 (or float64) array for Rii.fine_quantizer.codewords in FILE, got dtype <i4'],
    ['a fine quantizer of another shape', 'Expected shape (2, 16, 2) (M, Ks, Ds) for Rii.fine_quantizer.codewords in FILE, got shape (2, 16, 3)'],
    ['an unfitted fine quantizer', 'Expected a fitted PQ or OPQ for Rii.fine_quantizer (as rii needs) in FILE, got one not fitted'],
    ['a fine quantizer of Ks 300', "Expected Ks <= 256 for Rii.fine_quantizer (rii's codes are uint8) in FILE, got Ks = 300"],
    ['impl_cpp a dict', "Expected rii's main.RiiCpp for Rii.impl_cpp in FILE, got a dict"],
    ['a state of 4 items', "Expected main.RiiCpp's state (codewords, verbose, coarse_centers, flattened_codes, posting_lists) for Rii.impl_cpp in FILE, got a tuple or list of length 4"],
    ['other codewords in impl_cpp', /^Expected Rii\.impl_cpp\.codewords equal to Rii\.fine_quantizer's codewords in FILE, got [-\d.e]+ at \[0\]\[0\]\[0\], where the fine quantizer has [-\d.e]+$/],
    ['verbose a string', "Expected a bool for Rii.impl_cpp.verbose in FILE, got 'yes'"],
    ['a code of 300', 'Expected integers in [0, 255] (uint8 codes) for Rii.impl_cpp.flattened_codes in FILE, got 300 at Rii.impl_cpp.flattened_codes[0]'],
    ['a code >= Ks', library('Expected codes < Ks = 16 in codes, got 16 at codes[5]')],
    ['a coarse centre >= Ks', library('Expected codes < Ks = 16 in coarseCenters, got 16 at coarseCenters[1]')],
    ['codes of half a vector', 'Expected N codes of M = 2 bytes for Rii.impl_cpp.flattened_codes in FILE, got 119 bytes'],
    ['an id >= N', library(`Expected ids in [0, N = 60) in postingLists[0], got 60 at ${small.postingLists[0].length}`)],
    ['an id in two lists', /^Expected values the library accepts for Rii\.impl_cpp in FILE, got values it refuses \(Expected each id in at most one posting list, got \d+ twice \(postingLists\[1\]\)\)$/],
    ['fewer lists than centres', library('Expected an array of nlist = 3 posting lists for postingLists, got an array of length 2')],
    ['a threshold of 3 coefficients', "Expected shape (1,) or (2,) (a line's coefficients) for Rii.threshold.coeffs in FILE, got shape (3)"],
    ['a threshold of complex coefficients', 'Expected a float or integer array for Rii.threshold.coeffs in FILE, got dtype <c16'],
    ['a threshold a float', 'Expected a numpy.poly1d or None for Rii.threshold in FILE, got 2.5'],
  ])('%s', (name, message) => {
    const err = thrown(() => readRiiPickle(file(name)));
    expect(err).toBeInstanceOf(TypeError);
    if (typeof message === 'string') expect(err.message).toBe(message.replace('FILE', file(name)));
    else expect(err.message.replace(file(name), 'FILE')).toMatch(message);
  });

  test("a nanopq pickle given to readRiiPickle, a rii pickle to readNanopqPickle: each names the other's reader", () => {
    expect(() => readRiiPickle(fqFile)).toThrow(new TypeError(`Expected a rii.rii.Rii in ${fqFile}, got a nanopq PQ (a nanopq pickle: io.readNanopqPickle reads it)`));
    expect(() => readNanopqPickle(smallFile)).toThrow(new TypeError(
      `Expected a global of numpy or nanopq in ${smallFile} at byte 2, got a reference to rii.rii.Rii (a rii pickle: io.readRiiPickle reads it)`));
    const fixture = path.join(FIXTURES, 'pq.pkl');  // protocol 4: STACK_GLOBAL after the two names
    expect(() => readNanopqPickle(fixture)).toThrow(new TypeError(
      `Expected a global of numpy or nanopq in ${fixture} at byte 27, got a reference to rii.rii.Rii (a rii pickle: io.readRiiPickle reads it)`));
  });

  test('bad arguments', () => {
    expect(() => readRiiPickle(42)).toThrow(new TypeError('Expected a path or a Uint8Array for src, got 42'));
    expect(() => readRiiPickle(smallFile, { buffer: [] })).toThrow(new TypeError('Unknown option "buffer" for readRiiPickle; expected one of buffers'));
    expect(() => readRiiPickle(path.join(dir, 'missing.pkl'))).toThrow(/ENOENT/);
  });
});

describe('malformed files', () => {
  const expectRefused = (bytes) => {
    const err = thrown(() => readRiiPickle(bytes));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(/^Expected .* in src(?: at byte \d+)?, got /);
  };

  test.each([['written here (protocol 3)', smallFile], ['written by Python (protocol 4)', pythonFile('good p4')],
    ['written by Python (protocol 2)', pythonFile('good p2')]])('every truncation of a pickle %s is a TypeError naming src', (_, file) => {
    const bytes = fs.readFileSync(file);
    for (let n = 0; n < bytes.length; n++) expectRefused(bytes.subarray(0, n));
  });

  test('random byte changes give a Rii or a TypeError naming src, nothing else', () => {
    const next = rng(12);
    for (const file of [smallFile, pythonFile('good p4')]) {
      expectEachMutationReadOrRefused(fs.readFileSync(file), next, 1000, readRiiPickle, Rii);
    }
  });
});

// Hostile files, read in a child process (readInChild).
test('hostile files are refused in bounded time and memory', () => {
  const hostile = {
    'os.system': pickleOf('\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.'),
    // the lists of numbers are not counted, the rest is
    'a million empty dicts': pickleOf('\x80\x02', Buffer.alloc(1e6, 0x7d), '.'),
    'a million nested MARKs': pickleOf('\x80\x02', Buffer.alloc(1e6, 0x28), '.'),
    // a list filled once and got again for each use: quadratic unless refused
    'a list got again': pickleOf('\x80\x02]\x94(', 'K\x07'.repeat(1000), 'e', 'h\x00'.repeat(1e5), '.'),
    'REDUCE with a tuple of 100,000 items': pickleOf('\x80\x02cnumpy\ndtype\n(', 'K\x07'.repeat(1e5), 'tR.'),
    'BUILD on a list': pickleOf('\x80\x02](', 'N'.repeat(10), 'tb.'),
    'a million empty lists': pickleOf('\x80\x02', Buffer.alloc(1e6, 0x5d), '.'),
    'a list of a million ints': pickleOf('\x80\x02]', `(${'K\x07'.repeat(1000)}e`.repeat(1000), '.'),
  };
  expect(readInChild('readRiiPickle', hostile)).toEqual({
    'os.system': 'TypeError: Expected a global of numpy, nanopq or rii in src at byte 2, got a reference to os.system',
    'a million empty dicts': 'TypeError: Expected at most 2000 opcodes besides those of lists of numbers (a rii pickle has about 100) in src at byte 2002, got more',
    'a million nested MARKs': 'TypeError: Expected at most 32 MARKs open at once (these pickles nest 5) in src at byte 34, got more',
    'a list got again': 'TypeError: Expected a memo get of no list, dict or tuple of more than 16 items (a rii pickle shares none) in src at byte 2006, got BINGET of a list of 1000 items',
    'REDUCE with a tuple of 100,000 items': 'TypeError: Expected a tuple of at most 16 arguments for REDUCE in src at byte 200017, got a tuple of 100000 items',
    'BUILD on a list': 'TypeError: Expected an object made by REDUCE or NEWOBJ for BUILD in src at byte 15, got a list of 0 items',
    'a million empty lists': 'TypeError: Expected a rii.rii.Rii in src, got a tuple or list of length 0',
    'a list of a million ints': 'TypeError: Expected a rii.rii.Rii in src, got a tuple or list of length 1000000',
  });
});
