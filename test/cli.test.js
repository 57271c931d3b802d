// The `nanopq` command (dist/cli/index.js, package bin), run as a user runs it: a
// child process on files in a temporary folder, its stdout, stderr and exit
// code checked. Results are compared with the library's own calls.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { PQ, OPQ, Rii, faiss, io, faissToNanopq, nanopqToFaiss } = require('..');
const { randomMatrix } = require('./helpers/data');
const { FIXTURES, manifest, npy } = require('./helpers/fixtures');
const { runPython } = require('./helpers/python');
const FAISS_KINDS = path.join(__dirname, 'fixtures', 'faiss-kinds');
const faissKinds = JSON.parse(fs.readFileSync(path.join(FAISS_KINDS, 'manifest.json'), 'utf8'));
const { thrown } = require('./helpers/thrown');

const CLI = path.join(__dirname, '..', 'dist', 'cli', 'index.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const tmp = (name) => path.join(dir, name);

/** Runs `nanopq ...args`: { status, stdout, stderr }. */
function nanopq(...args) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir, timeout: 120000 });
  if (result.error) throw result.error;
  return result;
}

/** Runs a command that must succeed; returns its stdout parsed as JSON when --json is among args. */
function ok(...args) {
  const result = nanopq(...args);
  if (result.status !== 0) throw new Error(`nanopq ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  return args.includes('--json') ? JSON.parse(result.stdout) : result.stdout;
}

/** A command that must fail: exit 1, one "nanopq: ..." message on stderr, no stack, nothing on stdout. */
function fails(...args) {
  const result = nanopq(...args);
  expect(result.status).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^nanopq: /);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  return result.stderr;
}

const same = (a, b) => expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);

/** An IDX file of uint8 (n, h, w) images, as (Fashion-)MNIST's, gzipped or not. */
function writeIdx(file, bytes, n, h, w, gzip = false) {
  const head = Buffer.alloc(16);
  head.writeUInt32BE(0x00000803, 0);
  head.writeUInt32BE(n, 4);
  head.writeUInt32BE(h, 8);
  head.writeUInt32BE(w, 12);
  const raw = Buffer.concat([head, Buffer.from(bytes)]);
  fs.writeFileSync(file, gzip ? zlib.gzipSync(raw) : raw);
}

// Training data of small integers, so every file format holds them exactly: (3000, 16).
const N = 3000, D = 16, M = 4;
const bytes = Uint8Array.from(randomMatrix(N, D, 201).data, (v) => Math.floor(v * 256));
const X = { data: Float32Array.from(bytes), shape: [N, D] };
const Xq = { data: X.data.subarray(0, 7 * D), shape: [7, D] };
beforeAll(() => {
  io.writeNpy(tmp('x.npy'), X.data, X.shape);
  io.writeNpy(tmp('x64.npy'), Float64Array.from(X.data), X.shape);
  io.writeNpy(tmp('q.npy'), Xq.data, Xq.shape);
  io.writeFvecs(tmp('x.fvecs'), X);
  io.writeBvecs(tmp('x.bvecs'), { data: bytes, shape: [N, D] });
  writeIdx(tmp('x-idx3-ubyte'), bytes, N, 4, 4);
  writeIdx(tmp('x-idx3-ubyte.gz'), bytes, N, 4, 4, true);
});

describe('--help and --version', () => {
  test.each(['info', 'convert', 'train', 'encode', 'search'])('nanopq %s --help', (command) => {
    const out = ok(command, '--help');
    expect(out).toMatch(new RegExp(`^Usage: nanopq ${command} \\[options\\]`));
    expect(out).toMatch('Example');
  });

  test('nanopq --help lists every command; --version is the package\'s', () => {
    const out = ok('--help');
    for (const command of ['info', 'convert', 'train', 'encode', 'search']) expect(out).toMatch(`  ${command} `);
    expect(ok('--version').trim()).toBe(require('../package.json').version);
  });
});

describe('train', () => {
  const expected = new PQ({ M, Ks: 16 }).fit(X, { iter: 5, seed: 7 });

  test.each(['x.npy', 'x64.npy', 'x.fvecs', 'x.bvecs', 'x-idx3-ubyte', 'x-idx3-ubyte.gz'])('from %s: the model fit() gives', (file) => {
    const out = tmp(`train-${file}.npq`);
    const summary = ok('train', file, '--M', String(M), '--Ks', '16', '--iter', '5', '--seed', '7', '-o', out, '--json');
    expect(summary).toMatchObject({ kind: 'PQ', M, Ks: 16, D, Ds: D / M, metric: 'l2', vectors: N, file: out });
    expect(PQ.load(out).equals(expected)).toBe(true);
  });

  test('--opq and --metric dot, in each format: the model fit() gives', () => {
    const opq = new OPQ({ M, Ks: 16, metric: 'dot' }).fit(X, { pqIter: 3, rotationIter: 2, seed: 123 });
    for (const out of ['opq.npq', 'opq.pkl', 'opq.faiss']) {
      const summary = ok('train', 'x.npy', '--M', '4', '--Ks', '16', '--metric', 'dot', '--opq', '--iter', '3', '--rotation-iter', '2', '-o', out, '--json');
      expect(summary).toMatchObject({ kind: 'OPQ', rotation: true, metric: 'dot', format: path.extname(out).slice(1) });
    }
    expect(OPQ.load(tmp('opq.npq')).equals(opq)).toBe(true);
    expect(io.readNanopqPickle(tmp('opq.pkl')).equals(opq)).toBe(true);
    expect(faissToNanopq(faiss.readIndex(tmp('opq.faiss')))[0].equals(opq)).toBe(true);
  });

  test('on Fashion-MNIST\'s own IDX file, with a plain summary on stdout', () => {
    const file = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
    const out = ok('train', file, '--M', '8', '--iter', '2', '-o', tmp('fmnist.npq'));
    expect(out).toMatch(/^trained PQ \(M 8, Ks 256, D 784, l2\) on 10000 vectors in [\d.]+ s: wrote .*fmnist\.npq\n$/);
  });

  test('bad arguments are named before training', () => {
    expect(fails('train', 'x.npy', '--M', 'abc', '-o', 'm.npq')).toMatch("nanopq: option '--M <n>' argument 'abc' is invalid. Expected an integer 1 to 2147483647 for --M, got 'abc'.");
    expect(fails('train', 'x.npy', '--M', '0', '-o', 'm.npq')).toMatch('Expected an integer 1 to 2147483647 for --M');
    expect(fails('train', 'x.npy', '--M', '5', '-o', 'm.npq')).toBe('nanopq: Expected --M to divide the dimension D = 16 of x.npy, got --M 5\n');
    expect(fails('train', 'x.npy', '-o', 'm.npq')).toMatch("nanopq: required option '--M <n>' not specified");
    expect(fails('train', 'x.npy', '--M', '4')).toMatch("nanopq: required option '-o, --output <MODEL>' not specified");
    expect(fails('train', 'x.npy', '--M', '4', '--Ks', '4000', '-o', 'm.npq')).toBe('nanopq: Expected more vectors than --Ks = 4000 in x.npy to train on, got 3000\n');
    expect(fails('train', 'x.npy', '--M', '4', '--Ks', '10', '-o', 'm.faiss')).toBe('nanopq: Expected Ks = 2**nbits (nbits 1 to 16) for a Faiss IndexPQ, got Ks = 10\n');
    expect(fails('train', 'x.npy', '--M', '4', '--metric', 'cos', '-o', 'm.npq')).toMatch("nanopq: option '--metric <metric>' argument 'cos' is invalid. Allowed choices are l2, dot.");
    expect(fails('train', 'x.npy', '--M', '4', '-o', 'm.txt')).toMatch("nanopq: Expected a model file ending in .pkl, .faiss, .index, .npq or .rii for m.txt, got '.txt'");
    expect(fails('train', 'x.csv', '--M', '4', '-o', 'm.npq')).toMatch("nanopq: Expected a vectors file ending in .npy, .fvecs, .bvecs or -idx3-ubyte (optionally .gz) for x.csv, got 'x.csv'");
    expect(fails('train', 'missing.npy', '--M', '4', '-o', 'm.npq')).toBe("nanopq: Expected an existing file for VECTORS, got 'missing.npy' (no such file or directory)\n");
    expect(fs.existsSync(tmp('m.npq'))).toBe(false);
  });

  test('Ctrl-C (SIGINT) stops training: exit code 130, one line, no model written', async () => {
    // Enough iterations to run for minutes; the signal comes after the first progress output.
    const child = spawn(process.execPath, [CLI, 'train', 'x.npy', '--M', '4', '--iter', '1000000', '-o', 'stopped.npq', '--progress'], { cwd: dir });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => { stdout += d; });
    const started = Date.now();
    const killer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.stderr.on('data', (d) => {
      if (stderr === '') setTimeout(() => child.kill('SIGINT'), 1000);  // training is under way
      stderr += d;
    });
    const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    clearTimeout(killer);
    expect([code, signal]).toEqual([130, null]);
    expect(Date.now() - started).toBeGreaterThan(1000);
    expect(stderr).toMatch(/^training \[/);  // the bar, on stderr
    expect(stderr.trim().split('\n').pop()).toBe('nanopq: interrupted; nothing written');
    expect(stdout).toBe('');
    expect(fs.existsSync(tmp('stopped.npq'))).toBe(false);
  });

  test('no progress bar when stderr is not a terminal, unless --progress', () => {
    const result = nanopq('train', 'x.npy', '--M', '4', '--Ks', '16', '--iter', '2', '-o', 'quiet.npq');
    expect([result.status, result.stderr]).toEqual([0, '']);
  });
});

describe('info', () => {
  beforeAll(() => {
    const pq = new PQ({ M, Ks: 16, metric: 'dot' }).fit(X, { iter: 2 });
    pq.save(tmp('info.npq'));
    io.writeNanopqPickle(pq, tmp('info.pkl'));
    faiss.writeIndex(require('..').nanopqToFaiss(pq), tmp('info.faiss'));
    fs.copyFileSync(tmp('info.npq'), tmp('info-npq.model'));
  });

  test.each([['info.npq', 'npq'], ['info.pkl', 'pkl'], ['info.faiss', 'faiss']])('%s --json', (file, format) => {
    const info = ok('info', file, '--json');
    expect(info).toEqual({
      file, format, kind: 'PQ', M, Ks: 16, D, Ds: 4, metric: 'dot', codeDtype: 'uint8', bytesPerVector: 4,
      ...(format === 'faiss' && { packedCodeSize: 2 }), rotation: false, storedCodes: 0,
      fingerprint: PQ.load(tmp('info.npq')).fingerprint,  // the same model in every format
      ...(format === 'faiss' && {
        index: { kind: 'IndexPQ', description: 'PQ4x4', d: D, ntotal: 0, metric: 'dot', isTrained: true, bytes: D * 16 * 4, bytesPerVector: null },
      }),
    });
  });

  test.each(manifest().map((c) => [c.file, c]))('fixture %s', (file, c) => {
    const info = ok('info', path.join(FIXTURES, file), '--json');
    const Ks = c.Ks ?? 2 ** c.nbits;
    expect(info).toMatchObject({ kind: c.cls ?? (c.opq ? 'OPQ' : 'PQ'), M: c.M, Ks, D: c.D, metric: c.metric, storedCodes: c.ntotal ?? 0 });
  });

  test('a text summary; the format of a file without a known extension from --from', () => {
    const out = ok('info', path.join(FIXTURES, 'faiss_opq_m4.faiss'));
    expect(out).toMatch(/^format: +Faiss index\nindex: +IndexPreTransform \(LT32,PQ4\)$/m);
    expect(out).toMatch(/^codes: +uint8, 4 bytes per vector; 4 packed in the index$/m);
    expect(out).toMatch(/^rotation: +yes \(R, 32 x 32\)$/m);
    expect(out).toMatch(/^stored codes: +1000$/m);
    expect(out).toMatch(/^fingerprint: +[0-9a-f]{16}$/m);
    expect(ok('info', 'info-npq.model', '--from', 'npq', '--json')).toMatchObject({ format: 'npq', Ks: 16 });
  });

  test.each(faissKinds.fixtures.map((c) => [c.name, c]))('a Faiss index of any kind: %s', (name, c) => {
    const info = ok('info', path.join(FAISS_KINDS, c.file), '--json');
    const index = faiss.readIndex(path.join(FAISS_KINDS, c.file));
    expect(info.index).toMatchObject({ kind: c.kind, description: index.description, d: c.d, ntotal: c.ntotal, metric: c.metric, isTrained: c.trained, bytes: index.bytes });
    if (index instanceof faiss.IndexIVF) expect(info.index.lists).toEqual({ nlist: 16, nprobe: 4, directMap: index.directMap });
    if (c.params.efSearch) expect(info.index.graph).toMatchObject({ M: 16, efSearch: c.params.efSearch });
    if (c.params.kFactor) expect(info.index.kFactor).toBe(c.params.kFactor);
    // The kinds nanopq models are that model too.
    expect('M' in info).toBe(['IndexPQ', 'IndexPQFastScan'].includes(c.kind) || c.factory === 'OPQ8_32,PQ8np');
  });

  test('a Faiss index of any kind, as text', () => {
    const out = ok('info', path.join(FAISS_KINDS, 'opq8_ivf16_pq8.faiss'));
    expect(out).toMatch(/^index: +IndexPreTransform \(LT32,IVF16,PQ8\)\nd, metric: +32, l2\nvectors: +800\nmemory: +\d+ bytes, [\d.]+ per vector\nlists: +16, nprobe 4, direct map none\n$/m);
    expect(ok('info', path.join(FAISS_KINDS, 'hnsw16_sq8.faiss'))).toMatch(/^graph: +HNSW M 16, efSearch 32, efConstruction 40, \d levels$/m);
    // A PreTransform over an IndexPQ that is no OPQ (PCA, L2norm) is an index nanopq has no model for: shown as one.
    for (const description of ['PCAR8,PQ4np', 'L2norm,PQ4np']) {
      const index = faiss.indexFactory(16, description);
      index.train(X);
      faiss.writeIndex(index, tmp('chain.faiss'));
      const shown = ok('info', 'chain.faiss', '--json');
      expect(shown).toEqual({ file: 'chain.faiss', format: 'faiss', index: expect.objectContaining({ description: description.replace('np', '') }) });
    }
    expect(ok('info', path.join(FAISS_KINDS, 'ivf16_flat_untrained.faiss'))).toMatch(/^d, metric: +32, l2 \(not trained\)\nvectors: +0\nmemory: +0 bytes\n/m);
  });

  test('errors', () => {
    expect(fails('info', 'missing.faiss')).toBe("nanopq: Expected an existing file for MODEL, got 'missing.faiss' (no such file or directory)\n");
    expect(fails('info', 'info-npq.model')).toMatch('nanopq: Expected a model file ending in .pkl, .faiss, .index, .npq or .rii for info-npq.model');
    expect(fails('info', 'info.npq', '--from', 'onnx')).toBe("nanopq: Expected pkl (a nanopq pickle), faiss (a Faiss index), npq or rii (a Rii) for --from, got 'onnx'\n");
    expect(fails('info', 'info.npq', '--from', 'faiss', '--json')).toMatch(/^nanopq: Expected .* in info\.npq at byte 0/);
    expect(fails('info', '.')).toMatch('nanopq: Expected a model file ending in');
    expect(fails('info', 'x.npy', '--from', 'npq')).toMatch(/^nanopq: Expected a nanopq model \(\.npq\) in/);
    expect(fails('info')).toMatch("nanopq: missing required argument 'MODEL'");
    expect(fails('nonsense')).toMatch("nanopq: unknown command 'nonsense'");
  });
});

describe('convert', () => {
  const fitted = (Model, metric) => (Model === OPQ
    ? new OPQ({ M, Ks: 16, metric }).fit(X, { pqIter: 2, rotationIter: 2 })
    : new PQ({ M, Ks: 16, metric }).fit(X, { iter: 2 }));
  const loadAny = (file) => {
    if (file.endsWith('.pkl')) return io.readNanopqPickle(file);
    if (file.endsWith('.faiss')) return faissToNanopq(faiss.readIndex(file))[0];
    return (fs.readFileSync(file)[12] === 1 ? OPQ : PQ).load(file);
  };

  test.each([['PQ', PQ, 'l2'], ['OPQ', OPQ, 'dot']])('%s: every path between .npq, .pkl and .faiss keeps codewords, R and metric bit for bit', (name, Model, metric) => {
    const model = fitted(Model, metric);
    model.save(tmp(`${name}.npq`));
    const chain = ['npq', 'pkl', 'faiss', 'npq', 'faiss', 'pkl', 'npq'];
    for (let i = 1; i < chain.length; i++) {
      const src = tmp(`${name}-${i - 1}.${chain[i - 1]}`), dst = tmp(`${name}-${i}.${chain[i]}`);
      if (i === 1) fs.copyFileSync(tmp(`${name}.npq`), src);
      ok('convert', src, dst);
      const back = loadAny(dst);
      expect(back).toBeInstanceOf(Model);
      expect(back.equals(model)).toBe(true);  // M, Ks, metric, codewords and R, every bit
    }
    same(fs.readFileSync(tmp(`${name}-6.npq`)), fs.readFileSync(tmp(`${name}.npq`)));
  });

  test.each([['faiss_pq_m4.faiss'], ['faiss_opq_m4.faiss']])('%s: its stored codes go into an index, beside a .npq with --codes, and back: the very file', (file) => {
    const src = path.join(FIXTURES, file);
    expect(ok('convert', src, 'copy.faiss', '--json')).toMatchObject({ storedCodes: 1000, codesWritten: null });
    same(fs.readFileSync(tmp('copy.faiss')), fs.readFileSync(src));

    const plain = nanopq('convert', src, 'model.npq');
    expect(plain.status).toBe(0);
    expect(plain.stderr).toBe(`nanopq: ${src} holds 1000 codes, which a nanopq .npq cannot hold: not written (give --codes codes.npy to write them beside)\n`);

    expect(ok('convert', src, 'model.pkl', '--codes', 'codes.npy', '--json')).toMatchObject({ to: 'pkl', storedCodes: 0, codesWritten: 'codes.npy' });
    const codes = io.readNpy(tmp('codes.npy'));
    expect([codes.dtype, codes.shape]).toEqual(['uint8', [1000, 4]]);
    same(codes.data, faissToNanopq(faiss.readIndex(src))[1].data);

    expect(ok('convert', 'model.pkl', 'again.index', '--codes', 'codes.npy', '--json')).toMatchObject({ from: 'pkl', to: 'faiss', storedCodes: 1000 });
    same(fs.readFileSync(tmp('again.index')), fs.readFileSync(src));
    // The index searches as the original: Faiss's search on the codes added.
    const Xq = npy(file.replace('.faiss', '.Xq.npy'));
    expect(Array.from(faiss.readIndex(tmp('again.index')).search(Xq, 5).labels)).toEqual(Array.from(faiss.readIndex(src).search(Xq, 5).labels));
  });

  test('--from/--to name formats of files without their extension', () => {
    ok('convert', path.join(FIXTURES, 'pq_m4_ks256.pkl'), 'model.bin', '--to', 'faiss');
    ok('convert', 'model.bin', 'model2.data', '--from', 'index', '--to', 'pickle');
    expect(io.readNanopqPickle(tmp('model2.data')).equals(io.readNanopqPickle(path.join(FIXTURES, 'pq_m4_ks256.pkl')))).toBe(true);
  });

  test('errors', () => {
    const pkl = path.join(FIXTURES, 'pq_m4_ks256.pkl');
    expect(fails('convert', pkl, 'x.onnx')).toMatch("nanopq: Expected a model file ending in .pkl, .faiss, .index, .npq or .rii for x.onnx, got '.onnx'");
    // A kind nanopq has no model for is named (its pq converts in code: faissToNanopq(index.pq)).
    for (const out of ['x.npq', 'x.pkl']) {
      expect(fails('convert', path.join(FAISS_KINDS, 'opq8_ivf16_pq8.faiss'), out)).toBe('nanopq: Expected a faiss.IndexPQ, an IndexPQFastScan, an IndexPreTransform(OPQMatrix, IndexPQ or IndexPQFastScan) or a ProductQuantizer for index, got an IndexPreTransform (LT32,IVF16,PQ8); the pq of a kind that has one (index.pq) converts\n');
    }
    expect(fs.existsSync(tmp('x.npq'))).toBe(false);
    expect(fails('convert', pkl, 'x.npq', '--codes', 'c.npy')).toBe('nanopq: Expected --codes only between a Faiss index and a .pkl or .npq model (it names the codes beside the model), got pkl to npq\n');
    expect(fails('convert', pkl, 'x.faiss', '--codes', 'missing.npy')).toBe("nanopq: Expected an existing file for --codes, got 'missing.npy' (no such file or directory)\n");
    io.writeNpy(tmp('wide.npy'), new Uint8Array(10), [2, 5]);
    expect(fails('convert', pkl, 'x.faiss', '--codes', 'wide.npy')).toBe("nanopq: Expected codes of the model's M = 4 columns in wide.npy, got shape (2, 5)\n");
    io.writeNpy(tmp('float.npy'), new Float32Array(8), [2, 4]);
    expect(fails('convert', pkl, 'x.faiss', '--codes', 'float.npy')).toMatch('nanopq: Expected codes of dtype uint8, uint16 or uint32 in float.npy, got float32');
    io.writeNpy(tmp('big.npy'), Uint16Array.from([1, 2, 3, 256]), [1, 4]);
    expect(fails('convert', path.join(FIXTURES, 'opq_m4_ks16.pkl'), 'x.faiss', '--codes', 'big.npy')).toMatch('nanopq: Expected codes < Ks = 16, got 256 at codes[0][3]');
    const notPow2 = new PQ({ M, Ks: 10 }).fit(X, { iter: 1 });
    notPow2.save(tmp('ks10.npq'));
    expect(fails('convert', 'ks10.npq', 'x.faiss')).toBe('nanopq: Expected Ks = 2**nbits (nbits 1 to 16) for a Faiss IndexPQ, got Ks = 10\n');
    expect(fs.existsSync(tmp('x.faiss'))).toBe(false);
  });
});

describe('encode', () => {
  const model = new OPQ({ M, Ks: 16 }).fit(X, { pqIter: 2, rotationIter: 2 });
  beforeAll(() => model.save(tmp('enc.npq')));

  test.each(['x.npy', 'x64.npy', 'x.fvecs', 'x.bvecs', 'x-idx3-ubyte', 'x-idx3-ubyte.gz'])('%s: the codes model.encode gives, as uint8 .npy', (file) => {
    expect(ok('encode', 'enc.npq', file, '-o', 'codes.npy', '--json')).toMatchObject({ output: 'codes.npy', shape: [N, M], dtype: 'uint8' });
    const codes = io.readNpy(tmp('codes.npy'));
    expect([codes.dtype, codes.shape]).toEqual(['uint8', [N, M]]);
    same(codes.data, model.encode(X).data);
  });

  test.each(['x.npy', 'x.fvecs', 'x.bvecs'])('%s in blocks of 1,000 rows (the last one short): the codes of one call', (file) => {
    ok('encode', 'enc.npq', file, '-o', 'blocks.npy', '--block-rows', '1000');
    same(io.readNpy(tmp('blocks.npy')).data, model.encode(X).data);
  });

  test('a file of more rows than a default block (65,536), uint16 codes (Ks 512) from a .pkl model', () => {
    const big = randomMatrix(70001, 8, 202);
    io.writeNpy(tmp('big.npy'), big.data, big.shape);
    const pq = PQ.fromCodewords({ data: randomMatrix(2 * 512, 4, 203).data, shape: [2, 512, 4] });
    io.writeNanopqPickle(pq, tmp('ks512.pkl'));
    expect(ok('encode', 'ks512.pkl', 'big.npy', '-o', 'big-codes.npy')).toMatch(/^encoded 70001 vectors of big\.npy in [\d.]+ s: wrote big-codes\.npy \(uint16, \(70001, 2\)\)\n$/);
    const codes = io.readNpy(tmp('big-codes.npy'));
    expect([codes.dtype, codes.shape]).toEqual(['uint16', [70001, 2]]);
    same(codes.data, pq.encode(big).data);
  });

  test('--pack: the packed codes (.npk) of model.packCodes, in blocks or not; search reads them, with the plain codes\' results', () => {
    const { PackedCodes } = require('..');
    expect(ok('encode', 'enc.npq', 'x.npy', '--pack', '-o', 'codes.npk', '--json')).toMatchObject({ output: 'codes.npk', shape: [N, M], dtype: 'packed 4-bit' });
    ok('encode', 'enc.npq', 'x.npy', '--pack', '-o', 'blocks.npk', '--block-rows', '1000');  // 992 rows a block: whole blocks of 32
    const packed = PackedCodes.load(tmp('codes.npk'));
    same(packed.data, model.packCodes(model.encode(X)).data);
    same(fs.readFileSync(tmp('blocks.npk')), fs.readFileSync(tmp('codes.npk')));
    ok('encode', 'enc.npq', 'x.npy', '-o', 'plain.npy');
    io.writeNpy(tmp('q.npy'), Xq.data, Xq.shape);
    ok('search', 'enc.npq', 'codes.npk', 'q.npy', '-k', '5', '-o', 'ids-packed.npy', '--distances', 'd-packed.npy');
    ok('search', 'enc.npq', 'plain.npy', 'q.npy', '-k', '5', '-o', 'ids-plain.npy', '--distances', 'd-plain.npy');
    same(io.readNpy(tmp('ids-packed.npy')).data, io.readNpy(tmp('ids-plain.npy')).data);
    same(io.readNpy(tmp('d-packed.npy')).data, io.readNpy(tmp('d-plain.npy')).data);
    expect(fails('encode', 'enc.npq', 'x.npy', '--pack', '-o', 'codes.npy')).toBe("nanopq: Expected a .npk file for -o with --pack, got 'codes.npy'\n");
    new PQ({ M: 2, Ks: 256 }).fit(randomMatrix(600, 16, 5), { iter: 2 }).save(tmp('ks256.npq'));
    expect(fails('encode', 'ks256.npq', 'x.npy', '--pack', '-o', 'bad.npk')).toBe('nanopq: Expected a model with Ks = 16 for --pack (4-bit codes), got Ks = 256\n');
    expect(fs.existsSync(tmp('bad.npk'))).toBe(false);
  });

  test('errors leave no codes file', () => {
    expect(fails('encode', 'enc.npq', 'x.npy', '-o', 'codes.txt')).toBe("nanopq: Expected a .npy file for -o, got 'codes.txt'\n");
    const q8 = randomMatrix(3, 8, 204);
    io.writeNpy(tmp('d8.npy'), q8.data, q8.shape);
    expect(fails('encode', 'enc.npq', 'd8.npy', '-o', 'bad.npy')).toBe("nanopq: Expected vectors of the model's D = 16 in d8.npy, got d = 8\n");
    fs.writeFileSync(tmp('short.fvecs'), fs.readFileSync(tmp('x.fvecs')).subarray(0, 1000));
    expect(fails('encode', 'enc.npq', 'short.fvecs', '-o', 'bad.npy')).toBe('nanopq: Expected row 14 of 68 bytes (d = 16) of a .fvecs file in short.fvecs at byte 952, got 48 bytes left\n');
    const npyBytes = fs.readFileSync(tmp('x.npy'));
    fs.writeFileSync(tmp('short.npy'), npyBytes.subarray(0, npyBytes.length - 4));
    expect(fails('encode', 'enc.npq', 'short.npy', '-o', 'bad.npy')).toBe('nanopq: Expected 192000 bytes of float32 data for shape (3000, 16) in short.npy at byte 128, got 191996 bytes\n');
    io.writeNpy(tmp('i64.npy'), new BigInt64Array(16), [1, 16]);
    expect(fails('encode', 'enc.npq', 'i64.npy', '-o', 'bad.npy')).toMatch('nanopq: Expected vectors of a float or 8- to 32-bit integer dtype in i64.npy, got int64');
    expect(fails('encode', 'enc.npq', 'missing.fvecs', '-o', 'bad.npy')).toBe("nanopq: Expected an existing file for VECTORS, got 'missing.fvecs' (no such file or directory)\n");
    new PQ({ M }).save(tmp('untrained.npq'));
    expect(fails('encode', 'untrained.npq', 'x.npy', '-o', 'bad.npy')).toBe('nanopq: Expected a trained model in untrained.npq, got an untrained PQ\n');
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('bad.npy'))).toEqual([]);
  });

  test('a bad .fvecs or .bvecs, read in blocks: the errors of io.readFvecs/readBvecs', () => {
    const good = fs.readFileSync(tmp('x.fvecs'));
    const ragged = Buffer.from(good);
    ragged.writeInt32LE(15, 1500 * 68);  // in the second block of 1,000 rows
    fs.writeFileSync(tmp('ragged.fvecs'), ragged);
    const zero = fs.readFileSync(tmp('x.bvecs'));
    zero.writeInt32LE(0, 0);
    fs.writeFileSync(tmp('zero.bvecs'), zero);
    fs.writeFileSync(tmp('two-bytes.fvecs'), good.subarray(0, 2));
    for (const [file, read] of [['ragged.fvecs', io.readFvecs], ['zero.bvecs', io.readBvecs], ['two-bytes.fvecs', io.readFvecs]]) {
      const expected = thrown(() => read(tmp(file))).message.replace(tmp(file), file);
      expect(fails('encode', 'enc.npq', file, '-o', 'bad.npy', '--block-rows', '1000')).toBe(`nanopq: ${expected}\n`);
    }
    expect(thrown(() => io.readFvecs(tmp('ragged.fvecs'))).message).toMatch('for row 1500 in');
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('bad.npy'))).toEqual([]);
  });

  test('vectors of another D are refused before the progress bar starts', () => {
    const q8 = randomMatrix(3, 8, 205);
    io.writeNpy(tmp('d8-progress.npy'), q8.data, q8.shape);
    expect(fails('encode', 'enc.npq', 'd8-progress.npy', '-o', 'bad.npy', '--progress'))
      .toBe("nanopq: Expected vectors of the model's D = 16 in d8-progress.npy, got d = 8\n");
  });

  test('an -o that cannot be renamed into (a directory) leaves no partial codes file', () => {
    fs.mkdirSync(tmp('taken.npy'));
    expect(fails('encode', 'enc.npq', 'x.npy', '-o', 'taken.npy')).toMatch('nanopq: EISDIR');
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('taken.npy'))).toEqual(['taken.npy']);
  });
});

describe('search', () => {
  const model = new PQ({ M, Ks: 16 }).fit(X, { iter: 3 });
  const codes = model.encode(X);
  beforeAll(() => {
    model.save(tmp('search.npq'));
    io.writeNpy(tmp('search-codes.npy'), codes.data, codes.shape);
  });

  test('--json: the ids and distances of model.search, row by row; -o writes the ids as uint32 (nq, k)', () => {
    const expected = model.search(Xq, codes, 10);
    const result = ok('search', 'search.npq', 'search-codes.npy', 'q.npy', '-k', '10', '-o', 'ids.npy', '--json');
    expect(result.shape).toEqual([7, 10]);
    expect(result.ids.flat()).toEqual(Array.from(expected.ids));
    expect(result.dists.flat()).toEqual(Array.from(expected.dists));
    const ids = io.readNpy(tmp('ids.npy'));
    expect([ids.dtype, ids.shape]).toEqual(['uint32', [7, 10]]);
    same(ids.data, expected.ids);
  });

  test('a summary, from a Faiss model and fvecs queries; k above the number of codes gives them all', () => {
    ok('convert', 'search.npq', 'search.faiss');
    io.writeFvecs(tmp('q.fvecs'), Xq);
    const out = ok('search', 'search.faiss', 'search-codes.npy', 'q.fvecs', '-k', '3');
    expect(out).toMatch(/^7 queries, 3000 codes, k = 3 \(l2\): [\d.]+ ms\nquery 0: 0 \(/);
    expect(out.trim().split('\n')).toHaveLength(1 + 5 + 1);
    const few = { data: codes.data.subarray(0, 2 * M), shape: [2, M] };
    io.writeNpy(tmp('two-codes.npy'), few.data, few.shape);
    const two = nanopq('search', 'search.npq', 'two-codes.npy', 'q.npy', '--json');
    expect(JSON.parse(two.stdout).shape).toEqual([7, 2]);
    expect(two.stderr).toBe('nanopq: two-codes.npy holds 2 codes: 2 neighbours per query, not 10\n');
  });

  test('errors', () => {
    expect(fails('search', 'search.npq', 'search-codes.npy', 'q.npy', '-k', '0')).toMatch("nanopq: option '-k <n>' argument '0' is invalid");
    expect(fails('search', 'search.npq', 'q.npy', 'q.npy')).toMatch('nanopq: Expected codes of dtype uint8, uint16 or uint32 in q.npy, got float32');
    expect(fails('search', 'search.npq', 'search-codes.npy', 'search-codes.npy', '--json')).toBe("nanopq: Expected vectors of the model's D = 16 in search-codes.npy, got d = 4\n");
    expect(fails('search', 'search.npq', 'search-codes.npy')).toBe('nanopq: Expected CODES and QUERIES after a nanopq .npq (only a Faiss index or a Rii holds what it searches), got one file, search-codes.npy\n');
    expect(fails('search', 'search.npq', 'search-codes.npy', 'q.npy', '--nprobe', '4')).toMatch('nanopq: Expected --nprobe, --ef-search and --k-factor only with a Faiss index searched on its own');
    expect(fails('search', 'search.npq', 'search-codes.npy', 'q.npy', '--distances', 'd.bin')).toBe("nanopq: Expected a .npy file for --distances, got 'd.bin'\n");
    io.writeNpy(tmp('big-codes16.npy'), Uint8Array.from({ length: 8 }, () => 16), [2, 4]);
    expect(fails('search', 'search.npq', 'big-codes16.npy', 'q.npy')).toMatch('Expected codes < Ks = 16, got 16 at codes[0][0]');
  });

  test('a Faiss index of any kind on its own: index.search with --nprobe, --ef-search, --k-factor; -o int64 ids, --distances', () => {
    const queries = path.join(FAISS_KINDS, 'queries.npy');
    for (const c of faissKinds.fixtures.filter((f) => f.trained)) {
      const file = path.join(FAISS_KINDS, c.file);
      const flags = Object.entries(c.params).flatMap(([name, v]) => [`--${name.replace(/[A-Z]/g, (l) => `-${l.toLowerCase()}`)}`, String(v)]);
      const result = ok('search', file, queries, '-k', '4', ...flags, '-o', 'index-ids.npy', '--distances', 'index-dists.npy', '--json');
      const expected = faiss.readIndex(file).search(io.readNpy(queries), 4, c.params);
      expect(result.ids.flat()).toEqual(Array.from(expected.labels, Number));
      const ids = io.readNpy(tmp('index-ids.npy'));
      expect([ids.dtype, ids.shape, ids.data]).toEqual(['int64', [20, 4], expected.labels]);
      expect(io.readNpy(tmp('index-dists.npy')).data).toEqual(expected.distances);
    }
    const out = ok('search', path.join(FAISS_KINDS, 'ivf16_pq8.faiss'), queries, '-k', '3', '--nprobe', '16');
    expect(out).toMatch(/^20 queries, IndexIVFPQ \(IVF16,PQ8\) of 800 vectors, k = 3, nprobe 16 \(l2\): [\d.]+ ms\nquery 0: \d+ \(/);
    // Fewer than k found: -1.
    expect(ok('search', path.join(FAISS_KINDS, 'pq8_empty.faiss'), queries, '-k', '2', '--json').ids[0]).toEqual([-1, -1]);
    expect(fails('search', path.join(FAISS_KINDS, 'flat.faiss'), queries, '--nprobe', '2')).toBe('nanopq: Expected search parameters an IndexFlat takes (none), got nprobe\n');
    expect(fails('search', path.join(FAISS_KINDS, 'ivf16_flat.faiss'), queries, '--nprobe', '17')).toMatch(/nprobe <= 16/);
    expect(fails('search', path.join(FAISS_KINDS, 'ivf16_flat.faiss'), 'search-codes.npy')).toBe("nanopq: Expected vectors of the model's D = 32 in search-codes.npy, got d = 4\n");
  });

  test('--debug adds the stack trace', () => {
    const result = nanopq('search', 'search.npq', 'missing.npy', 'q.npy', '--debug');
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^nanopq: Expected an existing file for CODES, got 'missing.npy'.*\nError: .*\n +at /);
  });
});

describe('fingerprints: the model\'s beside its codes (CODES.npy.fingerprint) or in the .npk; codes of another model refused', () => {
  const { PackedCodes } = require('..');
  const model = new PQ({ M, Ks: 16 }).fit(X, { iter: 2, seed: 1 });
  const other = new PQ({ M, Ks: 16 }).fit(X, { iter: 2, seed: 2 });  // the same M and Ks, another codebook
  const refused = (modelFile, codesFile, own, found) => `nanopq: Expected codes encoded by the model in ${modelFile} (fingerprint ${own}), got ` +
    `${codesFile}, whose sidecar ${codesFile}.fingerprint names another model (fingerprint ${found}); encode them with ${modelFile}, or remove ${codesFile}.fingerprint to use them unchecked\n`;
  beforeAll(() => {
    model.save(tmp('fp.npq'));
    other.save(tmp('fp-other.npq'));
  });

  test('encode -o codes.npy writes the fingerprint, one line, beside; --json shows it; the model\'s search takes the codes, in any of its formats', () => {
    expect(ok('encode', 'fp.npq', 'x.npy', '-o', 'fp-codes.npy', '--json')).toMatchObject({ output: 'fp-codes.npy', fingerprint: model.fingerprint });
    expect(fs.readFileSync(tmp('fp-codes.npy.fingerprint'), 'utf8')).toBe(`${model.fingerprint}\n`);
    const expected = Array.from(model.search(Xq, model.encode(X), 3).ids);
    expect(ok('search', 'fp.npq', 'fp-codes.npy', 'q.npy', '-k', '3', '--json').ids.flat()).toEqual(expected);
    ok('convert', 'fp.npq', 'fp.faiss');
    ok('convert', 'fp.npq', 'fp.pkl');
    expect(ok('search', 'fp.faiss', 'fp-codes.npy', 'q.npy', '-k', '3', '--json').ids.flat()).toEqual(expected);
    expect(ok('search', 'fp.pkl', 'fp-codes.npy', 'q.npy', '-k', '3', '--json').ids.flat()).toEqual(expected);
  });

  test('search by another model of the same M and Ks: refused, naming both files; without the sidecar, searched unchecked', () => {
    ok('encode', 'fp.npq', 'x.npy', '-o', 'fp-codes2.npy');
    expect(fails('search', 'fp-other.npq', 'fp-codes2.npy', 'q.npy')).toBe(refused('fp-other.npq', 'fp-codes2.npy', other.fingerprint, model.fingerprint));
    fs.rmSync(tmp('fp-codes2.npy.fingerprint'));
    const result = ok('search', 'fp-other.npq', 'fp-codes2.npy', 'q.npy', '-k', '3', '--json');
    expect(result.ids.flat()).toEqual(Array.from(other.search(Xq, { ...model.encode(X) }, 3).ids));
  });

  test('--pack: the fingerprint in the .npk\'s header (no sidecar); another model\'s search refuses it, naming both files', () => {
    ok('encode', 'fp.npq', 'x.npy', '--pack', '-o', 'fp.npk');
    expect(PackedCodes.load(tmp('fp.npk')).fingerprint).toBe(model.fingerprint);
    expect(fs.existsSync(tmp('fp.npk.fingerprint'))).toBe(false);
    ok('search', 'fp.npq', 'fp.npk', 'q.npy');
    expect(fails('search', 'fp-other.npq', 'fp.npk', 'q.npy')).toBe(`nanopq: Expected codes encoded by the model in fp-other.npq (fingerprint ${other.fingerprint}), ` +
      `got fp.npk of another model (fingerprint ${model.fingerprint}); encode them with fp-other.npq\n`);
  });

  test('a sidecar that holds no fingerprint, or is large: an error naming it', () => {
    fs.copyFileSync(tmp('fp-codes.npy'), tmp('fp-bad.npy'));
    fs.writeFileSync(tmp('fp-bad.npy.fingerprint'), 'hello\n');
    expect(fails('search', 'fp.npq', 'fp-bad.npy', 'q.npy')).toBe("nanopq: Expected the line in fp-bad.npy.fingerprint to be a fingerprint of 16 hex digits (0-9, a-f), got 'hello'\n");
    fs.writeFileSync(tmp('fp-bad.npy.fingerprint'), 'f'.repeat(1000));
    expect(fails('search', 'fp.npq', 'fp-bad.npy', 'q.npy')).toBe('nanopq: Expected fp-bad.npy.fingerprint to be the one-line fingerprint of the model that encoded fp-bad.npy, got a file of 1000 bytes\n');
  });

  test('convert: codes written beside from a Faiss index get their sidecar (replacing a stale one); codes added to an index are checked', () => {
    fs.writeFileSync(tmp('fp-fx.npy.fingerprint'), 'ffffffffffffffff\n');
    ok('convert', path.join(FIXTURES, 'faiss_opq_m4.faiss'), 'fp-fx.pkl', '--codes', 'fp-fx.npy');
    const fixture = io.readNanopqPickle(tmp('fp-fx.pkl'));
    expect(fs.readFileSync(tmp('fp-fx.npy.fingerprint'), 'utf8')).toBe(`${fixture.fingerprint}\n`);
    ok('convert', 'fp-fx.pkl', 'fp-fx.faiss', '--codes', 'fp-fx.npy');
    expect(fails('convert', 'fp-other.npq', 'fp-x.faiss', '--codes', 'fp-codes.npy')).toBe(refused('fp-other.npq', 'fp-codes.npy', other.fingerprint, model.fingerprint));
    expect(fs.existsSync(tmp('fp-x.faiss'))).toBe(false);
  });
});

describe('a Rii (.rii): info, search on its own, convert to and from a Faiss IndexIVFPQ', () => {
  let rii;
  beforeAll(() => {
    rii = new Rii({ fineQuantizer: new PQ({ M, Ks: 256 }).fit(X, { iter: 5 }) }).addConfigure(X, { nlist: 30 });
    rii.remove([4]);
    rii.save(tmp('r.rii'));
  });

  test('info: the fine quantizer and the lists', () => {
    const d = ok('info', 'r.rii', '--json');
    expect(d).toMatchObject({ format: 'rii', kind: 'PQ', M, Ks: 256, D, storedCodes: N, rii: { N, nlist: 30, L0: 100, removed: 1 } });
    expect(ok('info', 'r.rii')).toMatch(/format: +nanopq Rii\n[^]*stored codes: +3000\nrii: +N 3000, nlist 30, L0 100, 1 removed/);
  });

  test('search RII QUERIES: rii.search\'s rows, with --L', () => {
    const r = ok('search', 'r.rii', 'q.npy', '-k', '5', '--L', '300', '-o', 'rii-ids.npy', '--json');
    const expected = rii.search(Xq, { topk: 5, L: 300 });
    expect(r.ids.flat()).toEqual(Array.from(expected.ids));
    expect(io.readNpy(tmp('rii-ids.npy')).data).toEqual(expected.ids);
    expect(ok('search', 'r.rii', 'q.npy', '-k', '3')).toMatch(/^7 queries, a Rii of 3000 codes in 30 lists, k = 3 \(l2\): [\d.]+ ms\n/);
    expect(fails('search', 'r.rii', 'q.npy', '--nprobe', '3')).toMatch(/--L \(not --nprobe\) with a Rii/);
    expect(fails('search', 'r.rii', 'q.npy', '--L', '1', '-k', '2')).toMatch(/topk <= L/);
  });

  test('convert: .rii to .faiss and back is the same Rii; a model alone is refused', () => {
    ok('convert', 'r.rii', 'r.faiss');
    expect(faiss.readIndex(tmp('r.faiss')).ntotal).toBe(N - 1);
    ok('convert', 'r.faiss', 'back.rii');
    const back = Rii.load(tmp('back.rii'));
    expect([back.N, back.removedCount]).toEqual([N, 1]);
    expect(back.postingLists).toEqual(rii.postingLists);
    expect(ok('convert', 'r.rii', 'fq.npq', '--json')).toMatchObject({ kind: 'Rii', storedCodes: 0 });
    expect(PQ.load(tmp('fq.npq')).equals(rii.fineQuantizer)).toBe(true);
    rii.fineQuantizer.save(tmp('alone.npq'));
    expect(fails('convert', 'alone.npq', 'alone.rii')).toMatch(/no posting lists/);
    expect(fails('train', 'x.npy', '--M', '4', '-o', 'never.rii')).toMatch(/IndexIVFPQ without residuals for a .rii/);
  });
});

describe('outputs: never an input, replaced whole, no temporary file left', () => {
  const model = new PQ({ M, Ks: 16 }).fit(X, { iter: 2 });
  const codes = model.encode(X);
  // Slow to encode (Ks 4096, D 64: seconds on any CPU) and in blocks of 10,000 rows, so a signal lands mid-work.
  const slowRows = 40000;
  const partials = () => fs.readdirSync(dir).filter((f) => f.includes('.partial-'));
  beforeAll(() => {
    model.save(tmp('out.npq'));
    faiss.writeIndex(require('..').nanopqToFaiss(model), tmp('out.faiss'));
    io.writeNpy(tmp('out-codes.npy'), codes.data, codes.shape);
    // Blocks of 10,000 rows that take long enough for two signals to land in one.
    const slow = PQ.fromCodewords({ data: randomMatrix(8 * 16384, 32, 206).data, shape: [8, 16384, 32] });
    slow.save(tmp('slow.npq'));
    const x = randomMatrix(slowRows, 256, 207);
    io.writeNpy(tmp('slow.npy'), x.data, x.shape);
  });
  afterEach(() => expect(partials()).toEqual([]));

  /** Expects the file's bytes to be still those read before. */
  const unchanged = (file, before) => same(fs.readFileSync(tmp(file)), before);

  test('search -o CODES is refused: the codes stay', () => {
    fs.copyFileSync(tmp('out-codes.npy'), tmp('codes.npy'));
    const before = fs.readFileSync(tmp('codes.npy'));
    expect(fails('search', 'out.npq', 'codes.npy', 'q.npy', '-o', 'codes.npy')).toBe("nanopq: Expected -o to differ from CODES: both are 'codes.npy'\n");
    unchanged('codes.npy', before);
  });

  test('convert o.faiss o.npq --codes o.faiss is refused: the index stays, no model is written', () => {
    fs.copyFileSync(tmp('out.faiss'), tmp('o.faiss'));
    const before = fs.readFileSync(tmp('o.faiss'));
    expect(fails('convert', 'o.faiss', 'o.npq', '--codes', 'o.faiss')).toBe("nanopq: Expected --codes to differ from IN: both are 'o.faiss'\n");
    unchanged('o.faiss', before);
    expect(fs.existsSync(tmp('o.npq'))).toBe(false);
  });

  test('convert o.faiss m.npq --codes m.npq is refused: the codes would be replaced by the model', () => {
    fs.copyFileSync(tmp('out.faiss'), tmp('o.faiss'));
    expect(fails('convert', 'o.faiss', 'm.npq', '--codes', './m.npq')).toBe("nanopq: Expected --codes to differ from OUT: both name './m.npq'\n");
    expect(fs.existsSync(tmp('m.npq'))).toBe(false);
  });

  test('the same file by another name (./, a symlink, a hard link) or in another format (--to) is refused, by every command', () => {
    fs.symlinkSync('out-codes.npy', tmp('sym-codes.npy'));
    fs.linkSync(tmp('out-codes.npy'), tmp('hard-codes.npy'));
    const before = { codes: fs.readFileSync(tmp('out-codes.npy')), x: fs.readFileSync(tmp('x.npy')), model: fs.readFileSync(tmp('out.npq')) };
    expect(fails('search', 'out.npq', 'out-codes.npy', 'q.npy', '-o', './out-codes.npy'))
      .toBe("nanopq: Expected -o to differ from CODES: './out-codes.npy' and 'out-codes.npy' are the same file\n");
    expect(fails('search', 'out.npq', 'out-codes.npy', 'q.npy', '-o', 'sym-codes.npy'))
      .toBe("nanopq: Expected -o to differ from CODES: 'sym-codes.npy' and 'out-codes.npy' are the same file\n");
    expect(fails('search', 'out.npq', 'hard-codes.npy', 'q.npy', '-o', 'out-codes.npy'))
      .toBe("nanopq: Expected -o to differ from CODES: 'out-codes.npy' and 'hard-codes.npy' are the same file\n");
    expect(fails('search', 'out.npq', 'out-codes.npy', 'q.npy', '-o', 'q.npy')).toBe("nanopq: Expected -o to differ from QUERIES: both are 'q.npy'\n");
    expect(fails('encode', 'out.npq', 'x.npy', '-o', 'x.npy')).toBe("nanopq: Expected -o to differ from VECTORS: both are 'x.npy'\n");
    expect(fails('train', 'x.npy', '--M', '4', '--to', 'npq', '-o', 'x.npy')).toBe("nanopq: Expected -o to differ from VECTORS: both are 'x.npy'\n");
    expect(fails('convert', 'out.npq', 'out.npq')).toBe("nanopq: Expected OUT to differ from IN: both are 'out.npq'\n");
    unchanged('out-codes.npy', before.codes);
    unchanged('x.npy', before.x);
    unchanged('out.npq', before.model);
  });

  test('an existing output is replaced by a new, complete file, never written into: a hard link to the old one keeps its bytes', () => {
    const outputs = [
      ['trained.npq', () => ok('train', 'x.npy', '--M', '4', '--Ks', '16', '--iter', '1', '-o', 'trained.npq')],
      ['codes-again.npy', () => ok('encode', 'out.npq', 'x.npy', '-o', 'codes-again.npy')],
      ['ids-again.npy', () => ok('search', 'out.npq', 'out-codes.npy', 'q.npy', '-o', 'ids-again.npy')],
      ['converted.faiss', () => ok('convert', 'out.npq', 'converted.faiss')],
      ['beside.npy', () => ok('convert', 'out.faiss', 'beside.npq', '--codes', 'beside.npy')],
    ];
    for (const [file, run] of outputs) {
      fs.writeFileSync(tmp(file), 'old');
      fs.linkSync(tmp(file), tmp(`old-${file}`));
      run();
      expect([file, fs.readFileSync(tmp(`old-${file}`), 'utf8')]).toEqual([file, 'old']);
      expect(fs.readFileSync(tmp(file)).length).toBeGreaterThan(3);
    }
    // An output that is a symlink stays one: the file it names is replaced.
    fs.writeFileSync(tmp('ids-target.npy'), 'old');
    fs.symlinkSync('ids-target.npy', tmp('ids-link.npy'));
    ok('search', 'out.npq', 'out-codes.npy', 'q.npy', '-o', 'ids-link.npy');
    expect(fs.readlinkSync(tmp('ids-link.npy'))).toBe('ids-target.npy');
    expect(io.readNpy(tmp('ids-target.npy')).shape).toEqual([7, 10]);
  });

  /**
   * Runs `nanopq ...args` in the background; once its progress bar is on
   * stderr, waits 300 ms and sends each of signals, 100 ms apart. Resolves { code, signal,
   * stdout, stderr, partials }: the temporary files there were when the
   * first signal was sent (the work is under way).
   */
  function signalled(args, signals) {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir });
    let stdout = '';
    let stderr = '';
    let before;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => {
      if (stderr === '') {
        signals.forEach((s, i) => setTimeout(() => {
          before ??= partials();
          child.kill(s);
        }, 300 + 100 * i));
      }
      stderr += d;
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60000);
    return new Promise((resolve) => child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, partials: before });
    }));
  }

  test.each([
    { name: 'Ctrl-C', signals: ['SIGINT'], status: 130 },
    { name: 'a second Ctrl-C (exits at once)', signals: ['SIGINT', 'SIGINT'], status: 130 },
    { name: 'SIGTERM', signals: ['SIGTERM'], status: 143 },
  ])('$name during encode: exit code $status, no temporary file left, the existing codes file as it was', async ({ name, signals, status }) => {
    fs.writeFileSync(tmp('signalled.npy'), 'the codes of before');
    const result = await signalled(['encode', 'slow.npq', 'slow.npy', '-o', 'signalled.npy', '--block-rows', '10000', '--progress'], signals);
    expect(result.partials).toEqual([expect.stringMatching(/^signalled\.npy\.partial-\d+$/)]);  // the signal landed mid-work
    expect([result.code, result.signal, result.stdout]).toEqual([status, null, '']);
    // A first Ctrl-C stops the work and says so; a second one exits before it has stopped, as SIGTERM does.
    const last = result.stderr.trim().split('\n').pop();
    if (name === 'Ctrl-C') expect(last).toBe('nanopq: interrupted; nothing written');
    else expect(last).toMatch(/^encoding \[/);
    expect(fs.readFileSync(tmp('signalled.npy'), 'utf8')).toBe('the codes of before');
  });
});

describe('across languages', () => {
  test('a Python nanopq pickle with its codes, converted to .faiss, searched by Python Faiss: nanopq\'s distances', () => {
    const c = manifest().find((f) => f.kind === 'nanopq-pickle' && f.cls === 'PQ');
    ok('convert', path.join(FIXTURES, c.file), 'py.faiss', '--codes', path.join(FIXTURES, c.codes));
    const out = runPython(`
import sys, json, numpy as np, faiss
index = faiss.read_index(sys.argv[1])
q = np.load(sys.argv[2]).reshape(1, -1).astype(np.float32)
D, I = index.search(q, index.ntotal)
print(json.dumps({'ntotal': index.ntotal, 'ids': I[0].tolist(), 'dists': D[0].tolist()}))
`, [tmp('py.faiss'), path.join(FIXTURES, c.query)]);
    const { ntotal, ids, dists } = JSON.parse(out);
    const adist = npy(c.adist).data;  // nanopq's distances to every code, in code order
    expect(ntotal).toBe(adist.length);
    ids.forEach((id, j) => expect(Math.abs(dists[j] - adist[id])).toBeLessThanOrEqual(1e-4 * Math.max(1, adist[id])));
    for (let j = 1; j < ids.length; j++) expect(adist[ids[j]]).toBeGreaterThanOrEqual(adist[ids[j - 1]] - 1e-4);
  });

  test('a .npq converted to a pickle that Python loads: the same fields', () => {
    const opq = new OPQ({ M, Ks: 16, metric: 'dot' }).fit(X, { pqIter: 2, rotationIter: 2 });
    opq.save(tmp('py.npq'));
    ok('convert', 'py.npq', 'py.pkl');
    const out = runPython(`
import sys, os, json, pickle, numpy as np
stand = os.path.join(sys.argv[2], 'stand')
os.makedirs(os.path.join(stand, 'nanopq'), exist_ok=True)
for name, body in {'__init__.py': '', 'pq.py': 'class PQ:\\n    pass\\n', 'opq.py': 'class OPQ:\\n    pass\\n'}.items():
    open(os.path.join(stand, 'nanopq', name), 'w').write(body)
sys.path.insert(0, stand)
o = pickle.load(open(sys.argv[1], 'rb'))
print(json.dumps({'cls': type(o).__module__ + '.' + type(o).__name__, 'M': o.pq.M, 'Ks': o.pq.Ks, 'metric': o.pq.metric,
                  'Ds': o.pq.Ds, 'dtype': np.dtype(o.pq.code_dtype).name,
                  'codewords': o.pq.codewords.astype('<f4').tobytes().hex(), 'R': o.R.astype('<f4').tobytes().hex()}))
`, [tmp('py.pkl'), dir]);
    const loaded = JSON.parse(out);
    const hex = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
    expect(loaded).toEqual({
      cls: 'nanopq.opq.OPQ', M, Ks: 16, metric: 'dot', Ds: 4, dtype: 'uint8', codewords: hex(opq.codewords.data), R: hex(opq.R.data),
    });
  });
});
