// Pickles of Python nanopq: the shared fixtures (written by nanopq 0.2.2),
// pickles that /usr/bin/python3 writes here for every protocol, layout and
// setting, what writeNanopqPickle writes as Python loads it, and bad and
// hostile files. nanopq itself need not be installed: a stand-in module tree
// has its class paths (nanopq.pq.PQ, nanopq.opq.OPQ), and the objects get the
// __dict__ that nanopq 0.2 sets.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { PQ, OPQ, io } = require('..');
const { FIXTURES, manifest, npy } = require('./helpers/fixtures');
const { runPython } = require('./helpers/python');
// Shared by the generator and the loader: the stand-in for nanopq's modules.
const { NANOPQ_STAND_IN: STAND_IN } = require('./helpers/stand-in');
const { randomMatrix, rng } = require('./helpers/data');
const { thrown } = require('./helpers/thrown');
const { pickleOf, readInChild, expectEachMutationReadOrRefused } = require('./helpers/pickle-checks');

const { readNanopqPickle, writeNanopqPickle } = io;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-pickle-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const floats = (b64) => new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer);

// ------------------------------------------------------------ fixtures --

describe.each(manifest().filter((c) => c.kind === 'nanopq-pickle').map((c) => [c.name, c]))('fixture %s', (_, c) => {
  let model;
  beforeAll(() => {
    model = readNanopqPickle(path.join(FIXTURES, c.file));
  });
  const codes = npy(c.codes);

  test('is the pickled class with its settings', () => {
    expect(model).toBeInstanceOf(c.cls === 'OPQ' ? OPQ : PQ);
    expect([model.M, model.Ks, model.metric, model.codeDtype, model.M * model.Ds]).toEqual([c.M, c.Ks, c.metric, c.code_dtype, c.D]);
  });

  test('codewords and R equal the .npy files', () => {
    const cw = npy(c.codewords);
    expect(model.codewords.shape).toEqual(cw.shape);
    expect(model.codewords.data).toEqual(cw.data);
    if (c.R) expect(model.R).toEqual({ data: npy(c.R).data, shape: npy(c.R).shape });
  });

  test('encode, adist and decode reproduce nanopq', () => {
    const Xb = npy(c.Xb);
    const encoded = model.encode({ data: Xb.data, shape: Xb.shape });
    expect(encoded.shape).toEqual(codes.shape);
    expect(encoded.data).toEqual(codes.data);
    const expected = npy(c.adist).data;
    const dists = model.dtable(npy(c.query).data).adist({ data: codes.data, shape: codes.shape });
    expect(dists).toHaveLength(expected.length);
    // float32 sums in another order than numpy's
    dists.forEach((d, i) => expect(Math.abs(d - expected[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i]))));
    expect(model.decode({ data: codes.data, shape: codes.shape }).data).toEqual(npy(c.decoded).data);
  });
});

// ------------------------------------------- pickles Python writes here --

const GENERATE = `${STAND_IN}
import numpy.core.multiarray, numpy.core.numeric
out = sys.argv[1]
rng = np.random.default_rng(7)

def pq(M, Ks, Ds, metric='l2', verbose=False, fitted=True, codewords=None):
    # the __dict__ that nanopq 0.2's PQ.__init__ and PQ.fit set, in their order
    p = PQ()
    p.M, p.Ks, p.metric, p.verbose = M, Ks, metric, verbose
    p.code_dtype = np.uint8 if Ks <= 2**8 else (np.uint16 if Ks <= 2**16 else np.uint32)
    p.codewords, p.Ds = None, None
    if fitted:
        p.codewords = rng.standard_normal((M, Ks, Ds)).astype(np.float32) if codewords is None else codewords
        p.Ds = Ds
    return p

def opq(M, Ks, Ds, fitted=True, R=None, **kw):
    o = OPQ()
    o.pq, o.R = pq(M, Ks, Ds, fitted=fitted, **kw), None
    if fitted:
        o.R = np.linalg.qr(rng.standard_normal((M * Ds, M * Ds)))[0].astype(np.float32) if R is None else R
    return o

# numpy 2 writes numpy._core.*; numpy here may be 1.x, so its functions are
# given numpy 2's names in made-up modules, which the pickler checks and the
# loader below imports.
def numpy2_name(module, fn):
    for m in ('numpy._core', module):
        sys.modules.setdefault(m, types.ModuleType(m))
    alias = lambda *args: fn(*args)
    alias.__module__, alias.__name__, alias.__qualname__ = module, fn.__name__, fn.__name__
    setattr(sys.modules[module], fn.__name__, alias)
    return alias
numpy2 = {numpy.core.multiarray._reconstruct: numpy2_name('numpy._core.multiarray', numpy.core.multiarray._reconstruct),
          numpy.core.numeric._frombuffer: numpy2_name('numpy._core.numeric', numpy.core.numeric._frombuffer)}

def dumps(obj, protocol, numpy_2=False, buffers=None):
    class Numpy2Pickler(pickle.Pickler):
        def reducer_override(self, a):
            if not isinstance(a, np.ndarray):
                return NotImplemented
            fn, *rest = a.__reduce_ex__(protocol)
            return (numpy2[fn], *rest)
    f = __import__('io').BytesIO()
    (Numpy2Pickler if numpy_2 else pickle.Pickler)(f, protocol, buffer_callback=buffers).dump(obj)
    return f.getvalue()

def f32(a):
    return None if a is None else base64.b64encode(np.ascontiguousarray(a, dtype='<f4').tobytes()).decode()

cases = []
def case(name, obj, protocols=(4,), **kw):
    p = obj.pq if isinstance(obj, OPQ) else obj
    for protocol in protocols:
        buffers = [] if kw.get('out_of_band') else None
        data = dumps(obj, protocol, kw.get('numpy_2', False), None if buffers is None else buffers.append)
        file = os.path.join(out, f'{name}.p{protocol}.pkl')
        with open(file, 'wb') as f:
            f.write(data)
        buffer_files = []
        for i, b in enumerate(buffers or []):
            buffer_files.append(f'{file}.buffer{i}')
            with open(buffer_files[-1], 'wb') as f:
                f.write(b.raw())
        if buffers is None:  # a valid pickle: Python loads it back
            back = pickle.loads(data)
            assert np.array_equal(getattr(back, 'codewords', None) if isinstance(back, PQ) else back.pq.codewords, p.codewords)
        cases.append({'name': f'{name} (protocol {protocol})', 'file': file, 'buffers': buffer_files,
                      'cls': type(obj).__name__, 'M': p.M, 'Ks': p.Ks, 'metric': getattr(p, 'metric', 'l2'),
                      'verbose': p.verbose, 'Ds': p.Ds, 'codewords': f32(p.codewords),
                      'R': f32(obj.R) if isinstance(obj, OPQ) else None})

every = (2, 3, 4, 5)
case('PQ M=4 Ks=256', pq(4, 256, 3), every)
case('OPQ M=2 Ks=16', opq(2, 16, 4), every)
case('PQ dot Ks=10 verbose', pq(3, 10, 2, metric='dot', verbose=True), (2, 5))
case('OPQ dot Ks=7', opq(2, 7, 3, metric='dot'), (3, 5))
case('PQ uint16 Ks=300', pq(2, 300, 2), (2, 5))
case('PQ uint32 Ks=65537', pq(1, 65537, 1), (3, 5))
case('PQ unfitted Ks=2**32', pq(8, 2**32, None, fitted=False), (2, 5))
case('OPQ unfitted', opq(4, 256, None, fitted=False, verbose=True), (2, 5))
# faiss_to_nanopq's R is a transposed view: Fortran order
case('OPQ Fortran R', opq(2, 16, 3, R=np.linalg.qr(rng.standard_normal((6, 6)))[0].astype(np.float32).T), (2, 5))
case('PQ Fortran codewords', pq(2, 5, 3, codewords=np.asfortranarray(rng.standard_normal((2, 5, 3)).astype(np.float32))), (3, 5))
case('PQ big-endian codewords', pq(2, 4, 2, codewords=rng.standard_normal((2, 4, 2)).astype('>f4')), (4, 5))
case('PQ float64 codewords', pq(2, 4, 2, codewords=rng.standard_normal((2, 4, 2))), (2, 4))
case('PQ numpy 2', pq(2, 8, 2), (2, 4, 5), numpy_2=True)
case('OPQ numpy 2', opq(2, 8, 2), (3, 5), numpy_2=True)
case('PQ out-of-band', pq(2, 8, 2), (5,), out_of_band=True)
case('OPQ out-of-band numpy 2', opq(2, 8, 2), (5,), out_of_band=True, numpy_2=True)
old = pq(2, 8, 3)
del old.metric  # nanopq 0.1 had no metric
case('PQ of nanopq 0.1', old, (3,))

# bad pickles: a nanopq object with one thing wrong
bad = {}
def broken(name, obj, **changes):
    for k, v in changes.items():
        if v is ...:
            delattr(obj, k)
        else:
            setattr(obj, k, v)
    bad[name] = obj
class Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned',))
bad['a dict'] = {'M': 4}
bad['a function call'] = Evil()
broken('no Ds', pq(2, 4, 2), Ds=...)
broken('an extra attribute', pq(2, 4, 2), foo=1)
broken('a __proto__ attribute', pq(2, 4, 2), __proto__={'M': 1})
broken('M a string', pq(2, 4, 2), M='2')
broken('M a numpy integer', pq(2, 4, 2), M=np.int64(2))
broken('Ks 0', pq(2, 4, 2, fitted=False), Ks=0)
broken('metric cosine', pq(2, 4, 2), metric='cosine')
broken('verbose a string', pq(2, 4, 2), verbose='yes')
broken('code_dtype for another Ks', pq(2, 4, 2), code_dtype=np.uint16)
broken('code_dtype a dtype', pq(2, 4, 2), code_dtype=np.dtype('uint8'))
broken('codewords without Ds', pq(2, 4, 2), Ds=None)
broken('codewords of another Ds', pq(2, 4, 2), Ds=3)
broken('codewords int32', pq(2, 4, 2), codewords=np.zeros((2, 4, 2), np.int32))
broken('codewords a list', pq(2, 4, 2), codewords=[[[0.0]]])
broken('codewords structured', pq(2, 4, 1), codewords=np.zeros((2, 4, 1), [('a', '<f4')]))
broken('codewords NaN', pq(2, 4, 2), codewords=np.full((2, 4, 2), np.nan, np.float32))
broken('OPQ without R', opq(2, 4, 2), R=None)
broken('OPQ R of another shape', opq(2, 4, 2), R=np.eye(4, 5, dtype=np.float32))
broken('OPQ R not orthonormal', opq(2, 4, 2), R=2 * np.eye(4, dtype=np.float32))
broken('OPQ R with an unfitted pq', opq(2, 4, 2, fitted=False), R=np.eye(4, dtype=np.float32))
broken('OPQ pq a dict', opq(2, 4, 2), pq={})
for name, obj in bad.items():
    with open(os.path.join(out, f'bad {name}.pkl'), 'wb') as f:
        pickle.dump(obj, f, 4)
print(json.dumps({'cases': cases, 'numpy': np.__version__, 'python': sys.version.split()[0]}))
`;

const generated = JSON.parse(runPython(GENERATE, [dir]));

test(`Python ${generated.python} with numpy ${generated.numpy} wrote the pickles`, () => {
  expect(generated.cases.length).toBeGreaterThan(30);
});

describe.each(generated.cases.map((c) => [c.name, c]))('%s', (_, c) => {
  test('is read as the pickled model', () => {
    const buffers = c.buffers.map((file) => fs.readFileSync(file));
    const model = readNanopqPickle(c.file, buffers.length ? { buffers } : undefined);
    expect(model).toBeInstanceOf(c.cls === 'OPQ' ? OPQ : PQ);
    expect([model.M, model.Ks, model.metric, model.verbose, model.Ds]).toEqual([c.M, c.Ks, c.metric, c.verbose, c.Ds]);
    expect(model.codewords?.data ?? null).toEqual(c.codewords && floats(c.codewords));
    if (c.cls === 'OPQ') expect(model.R?.data ?? null).toEqual(c.R && floats(c.R));
    // the same from bytes, at an odd offset (arrays in the file are unaligned)
    const bytes = fs.readFileSync(c.file);
    const odd = new Uint8Array(bytes.length + 1).subarray(1);
    odd.set(bytes);
    expect(readNanopqPickle(odd, buffers.length ? { buffers } : undefined).equals(model)).toBe(true);
  });
});

test('reading prints nothing, even for a verbose model', () => {
  const log = jest.spyOn(console, 'log').mockImplementation(() => {});
  try {
    const model = readNanopqPickle(generated.cases.find((c) => c.name.startsWith('OPQ unfitted')).file);
    expect(model.verbose).toBe(true);
    expect(log).not.toHaveBeenCalled();
  } finally {
    log.mockRestore();
  }
});

// --------------------------------------------------------------- errors --

describe('bad pickles', () => {
  const file = (name) => path.join(dir, `bad ${name}.pkl`);
  test.each([
    ['a dict', 'Expected a nanopq.pq.PQ or nanopq.opq.OPQ in FILE, got a dict'],
    ['a function call', 'Expected a global of numpy or nanopq in FILE at byte 28, got a reference to posix.system'],
    ['no Ds', 'Expected the attribute Ds for PQ in FILE, got only M, Ks, metric, verbose, code_dtype, codewords'],
    ['an extra attribute', "Expected only nanopq 0.2's attributes (M, Ks, metric, verbose, code_dtype, codewords, Ds) for PQ in FILE, got also 'foo'"],
    ['a __proto__ attribute', "Expected only nanopq 0.2's attributes (M, Ks, metric, verbose, code_dtype, codewords, Ds) for PQ in FILE, got also '__proto__'"],
    ['M a string', "Expected an integer in [1, 4294967295] for PQ.M in FILE, got '2'"],
    ['M a numpy integer', 'Expected a global of numpy or nanopq in FILE at byte 73, got a reference to numpy.core.multiarray.scalar'],
    ['Ks 0', 'Expected an integer in [1, 4294967296] for PQ.Ks in FILE, got 0'],
    ['metric cosine', "Expected 'l2' or 'dot' for PQ.metric in FILE, got 'cosine'"],
    ['verbose a string', "Expected a bool for PQ.verbose in FILE, got 'yes'"],
    ['code_dtype for another Ks', "Expected numpy.uint8 for PQ.code_dtype (nanopq's for Ks = 4) in FILE, got numpy.uint16"],
    ['code_dtype a dtype', "Expected numpy.uint8 for PQ.code_dtype (nanopq's for Ks = 4) in FILE, got a numpy dtype"],
    ['codewords without Ds', 'Expected PQ.codewords and PQ.Ds both None (not fitted) or both set in FILE, got codewords a numpy array and Ds None'],
    ['codewords of another Ds', 'Expected shape (2, 4, 3) (M, Ks, Ds) for PQ.codewords in FILE, got shape (2, 4, 2)'],
    ['codewords int32', 'Expected a float32 (or float64) array for PQ.codewords in FILE, got dtype <i4'],
    ['codewords a list', 'Expected a numpy array for PQ.codewords in FILE, got a tuple or list of length 1'],
    ['codewords structured', 'Expected a float32 (or float64) array for PQ.codewords in FILE, got dtype |V4'],
    ['codewords NaN', 'Expected values the library accepts for PQ.codewords in FILE, got values it refuses (Expected finite values in codewords, got NaN at codewords[0][0])'],
    ['OPQ without R', 'Expected a numpy array for OPQ.R in FILE, got None'],
    ['OPQ R of another shape', 'Expected shape (4, 4) (D, D) for OPQ.R in FILE, got shape (4, 5)'],
    ['OPQ R not orthonormal', 'Expected values the library accepts for OPQ.R and OPQ.pq.codewords in FILE, got values it refuses (Expected an orthonormal R (|R^T R - I| <= 0.0001), got an entry off by 3)'],
    ['OPQ R with an unfitted pq', 'Expected OPQ.R = None with an unfitted OPQ.pq in FILE, got a numpy array'],
    ['OPQ pq a dict', 'Expected a nanopq.pq.PQ for OPQ.pq in FILE, got a dict'],
  ])('%s', (name, message) => {
    const err = thrown(() => readNanopqPickle(file(name)));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe(message.replace('FILE', file(name)));
  });
});

describe('malformed files', () => {
  const small = fs.readFileSync(generated.cases.find((c) => c.name === 'PQ M=4 Ks=256 (protocol 4)').file);
  const expectRefused = (bytes, message) => {
    const err = thrown(() => readNanopqPickle(bytes));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe(message);
  };

  test('not a pickle', () => {
    expectRefused(Buffer.from('hello'), 'Expected a pickle (it starts with PROTO, 0x80) in src at byte 0, got 5 bytes starting 0x68 0x65 0x6c 0x6c');
    expectRefused(new Uint8Array(0), 'Expected a pickle (it starts with PROTO, 0x80) in src at byte 0, got 0 bytes starting ');
    expectRefused(Buffer.from([0x80, 6, 0x2e]), 'Expected a pickle of protocol 2 to 5 in src at byte 1, got protocol 6');
  });

  test('an opcode no nanopq pickle holds', () => {
    // INST: protocol 0's way to call a class
    expectRefused(Buffer.from('\x80\x02inanopq.pq\nPQ\n.', 'latin1'), 'Expected an opcode of a nanopq pickle in src at byte 2, got opcode 0x69');
  });

  test('a global that is not numpy\'s or nanopq\'s is refused before anything is called', () => {
    expectRefused(Buffer.from('\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.', 'latin1'),
      'Expected a global of numpy or nanopq in src at byte 2, got a reference to os.system');
    expectRefused(Buffer.from('\x80\x02cnanopq.pq\nDistanceTable\n.', 'latin1'),
      'Expected a global of numpy or nanopq in src at byte 2, got a reference to nanopq.pq.DistanceTable');
  });

  test('every truncation of a pickle is a TypeError naming src', () => {
    for (let n = 0; n < small.length; n++) {
      const err = thrown(() => readNanopqPickle(small.subarray(0, n)));
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toMatch(/^Expected .* in src at byte \d+, got /);
    }
  });

  test('out-of-band data without its buffers', () => {
    const c = generated.cases.find((k) => k.name.startsWith('PQ out-of-band'));
    expect(() => readNanopqPickle(c.file)).toThrow(new TypeError(`Expected the array data in the file (pickle.dump without buffer_callback) or given as options.buffers in ${c.file} at byte 155, got NEXT_BUFFER (out-of-band data)`));
    expect(() => readNanopqPickle(c.file, { buffers: [new Uint8Array(3)] })).toThrow(new TypeError(`Expected 128 bytes (shape (2, 8, 2) of float32) for PQ.codewords in ${c.file}, got 3`));
  });

  test('bad arguments', () => {
    expect(() => readNanopqPickle(42)).toThrow(new TypeError('Expected a path or a Uint8Array for src, got 42'));
    expect(() => readNanopqPickle(small, { buffer: [] })).toThrow(new TypeError('Unknown option "buffer" for readNanopqPickle; expected one of buffers'));
    expect(() => readNanopqPickle(small, { buffers: ['x'] })).toThrow(new TypeError('Expected an array of Uint8Array for options.buffers, got an array of length 1'));
    expect(() => readNanopqPickle(path.join(dir, 'missing.pkl'))).toThrow(/ENOENT/);
  });
});

test('random byte changes give a model or a TypeError naming src, nothing else', () => {
  const next = rng(11);
  for (const name of ['OPQ M=2 Ks=16 (protocol 2)', 'OPQ M=2 Ks=16 (protocol 5)']) {
    const original = fs.readFileSync(generated.cases.find((c) => c.name === name).file);
    expectEachMutationReadOrRefused(original, next, 1500, readNanopqPickle, OPQ);
  }
});

// Hostile files, read in a child process (readInChild).
test('hostile files are refused in bounded time and memory', () => {
  const hostile = {
    // pickleparser alone loops for ever: the negative length moves it back to the start
    'negative BINBYTES length': pickleOf('\x80\x03B\xf9\xff\xff\xff'),
    'BINUNICODE claiming 4 GiB': pickleOf('\x80\x04X\xff\xff\xff\xff', 'abc.'),
    'BINBYTES8 claiming 2**62 bytes': pickleOf('\x80\x04\x8e', [0, 0, 0, 0, 0, 0, 0, 0x40], '.'),
    'LONG1 of 255 bytes': pickleOf('\x80\x02\x8a\xff', Buffer.alloc(255, 0xff), '.'),
    'a memo index of 2**32 - 1': pickleOf('\x80\x02N', 'r\xff\xff\xff\xff', 'j\xff\xff\xff\xff', '.'),
    'a million nested MARKs': pickleOf('\x80\x02', Buffer.alloc(1e6, 0x28), '.'),
    'a million empty dicts': pickleOf('\x80\x02', Buffer.alloc(1e6, 0x7d), '.'),
    // one tuple of 1,000 items assigned again and again: quadratic unless refused
    'BUILD with a big memoized state': pickleOf('\x80\x02(', Buffer.alloc(1000, 0x4e), 't\x94', ...Array(1e5).fill(']h\x00b0')),
  };
  expect(readInChild('readNanopqPickle', hostile)).toEqual({
    'negative BINBYTES length': 'TypeError: Expected BINBYTES of less than 2 GiB in src at byte 3, got 4294967289 bytes',
    'BINUNICODE claiming 4 GiB': 'TypeError: Expected BINUNICODE of less than 2 GiB in src at byte 3, got 4294967295 bytes',
    'BINBYTES8 claiming 2**62 bytes': 'TypeError: Expected the length of BINBYTES8 of 0 to 2**53 - 1 in src at byte 3, got 4611686018427387904',
    'LONG1 of 255 bytes': 'TypeError: Expected an integer of at most 6 bytes (LONG1) in src at byte 3, got 255 bytes',
    'a memo index of 2**32 - 1': 'TypeError: Expected a nanopq.pq.PQ or nanopq.opq.OPQ in src, got None',
    'a million nested MARKs': 'TypeError: Expected at most 32 MARKs open at once (these pickles nest 5) in src at byte 34, got more',
    'a million empty dicts': 'TypeError: Expected at most 2000 opcodes (a nanopq pickle has about 150) in src at byte 2002, got more',
    'BUILD with a big memoized state': 'TypeError: Expected a memo get of no list, dict or tuple of more than 16 items (a nanopq pickle shares none) in src at byte 1006, got BINGET of a tuple of 1000 items',
  });
});

// --------------------------------------------------------------- writing --

// Loads pickles in Python (with the stand-in nanopq) and prints what it got.
const LOAD = `${STAND_IN}
def array(a):
    if a is None:
        return None
    assert type(a) is np.ndarray and a.flags.c_contiguous
    return {'dtype': a.dtype.str, 'shape': list(a.shape), 'data': base64.b64encode(a.tobytes()).decode()}
def fields(p):
    return {'class': f'{type(p).__module__}.{type(p).__name__}', 'attributes': list(vars(p)),
            'M': p.M, 'Ks': p.Ks, 'metric': p.metric, 'verbose': p.verbose, 'Ds': p.Ds,
            'types': [type(p.M).__name__, type(p.Ks).__name__, type(p.Ds).__name__],
            # nanopq keeps the numpy type itself, which faiss conversion and encode compare by identity
            'code_dtype': next(n for n in ('uint8', 'uint16', 'uint32') if p.code_dtype is getattr(np, n)),
            'codewords': array(p.codewords)}
out = []
for file in sys.argv[2:]:
    with open(file, 'rb') as f:
        obj = pickle.load(f)
    if isinstance(obj, OPQ):
        out.append({'class': 'nanopq.opq.OPQ', 'attributes': list(vars(obj)), 'pq': fields(obj.pq), 'R': array(obj.R)})
    else:
        out.append(fields(obj))
print(json.dumps(out))
`;

describe('writeNanopqPickle', () => {
  const X = randomMatrix(400, 8);
  const models = {
    'PQ M=4 Ks=256': new PQ({ M: 4 }).fit(X, { iter: 5 }),
    'PQ dot Ks=10 verbose': Object.assign(new PQ({ M: 2, Ks: 10, metric: 'dot' }).fit(X, { iter: 5 }), { verbose: true }),
    'PQ uint16 Ks=300': new PQ({ M: 2, Ks: 300 }).fit(X, { iter: 2 }),
    'PQ unfitted Ks=2**32': new PQ({ M: 3, Ks: 2 ** 32 }),
    'OPQ M=2 Ks=16': new OPQ({ M: 2, Ks: 16 }).fit(X, { pqIter: 5, rotationIter: 3 }),
    'OPQ unfitted dot': new OPQ({ M: 4, Ks: 7, metric: 'dot' }),
  };
  const files = Object.keys(models).map((name, i) => path.join(dir, `written ${i}.pkl`));
  Object.values(models).forEach((model, i) => writeNanopqPickle(model, files[i]));
  const loaded = JSON.parse(runPython(LOAD, [dir, ...files]));
  const array = (a) => a && { dtype: '<f4', shape: a.shape, data: Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).toString('base64') };
  const pqFields = (m) => ({
    class: 'nanopq.pq.PQ', attributes: ['M', 'Ks', 'metric', 'verbose', 'code_dtype', 'codewords', 'Ds'],
    M: m.M, Ks: m.Ks, metric: m.metric, verbose: m.verbose, Ds: m.Ds,
    types: ['int', 'int', m.Ds === null ? 'NoneType' : 'int'], code_dtype: m.codeDtype, codewords: array(m.codewords),
  });

  describe.each(Object.entries(models).map(([name, model], i) => [name, model, i]))('%s', (_, model, i) => {
    test('Python loads an equal nanopq object', () => {
      expect(loaded[i]).toEqual(model instanceof OPQ
        ? { class: 'nanopq.opq.OPQ', attributes: ['pq', 'R'], pq: pqFields(model), R: array(model.R) }
        : pqFields(model));
    });

    test('readNanopqPickle reads it back', () => {
      const back = readNanopqPickle(files[i]);
      expect(back).toBeInstanceOf(model.constructor);
      expect(back.equals(model)).toBe(true);
      expect(back.verbose).toBe(model.verbose);
    });
  });

  test('bad arguments', () => {
    expect(() => writeNanopqPickle({ M: 4 }, path.join(dir, 'x.pkl'))).toThrow(new TypeError('Expected a PQ or OPQ for model, got an object with keys [M]'));
    expect(() => writeNanopqPickle(models['PQ M=4 Ks=256'], 3)).toThrow(new TypeError('Expected a file path (string) for dst, got 3'));
  });
});
