#!/usr/bin/env node
// Feeds mutated files to every reader and then uses what loaded: a crash
// (signal), a hang (no progress for 5 s) or memory over 2 GB is a failure;
// loading, or a thrown Error, is fine. Variants run in a child process, many
// per child: after a crash or hang the child is replaced and the run goes on.
//   node scripts/fuzz.js [--variants 5000] [--seed 1] [--reader faiss|npq|pickle|npy|fvecs|idx] [--json]
// Prints, per reader: variants, loaded, threw, crashed, hung, memory, and the
// first failing variants (reader, seed and number reproduce one:
// node scripts/fuzz.js --child READER SEED FIRST LAST).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { parseArgs } = require('node:util');
// mulberry32, seeded: a variant is named by (seed, number).
const { rng: random } = require('../test/helpers/data');
const { idxFile } = require('../test/helpers/idx');

const ROOT = path.join(__dirname, '..');
const READERS = ['faiss', 'npq', 'pickle', 'npy', 'fvecs', 'idx'];
const HANG_MS = 5000;
const MEMORY_LIMIT = 2 * 2 ** 30;

/** Files written by one of the io writers, as bytes. */
function written(write) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-fuzz-'));
  try {
    write(path.join(dir, 'file'));
    return fs.readFileSync(path.join(dir, 'file'));
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
}

/** Valid files of each reader's kind, made fresh (small, so that using them is quick). */
function seeds(reader) {
  const { PQ, OPQ, faiss, io, nanopqToFaiss } = require(ROOT);
  const x = { data: Float32Array.from({ length: 400 * 8 }, (_, i) => Math.sin(i * 0.37)), shape: [400, 8] };
  const sample = (Type, n) => Type.from({ length: n }, (_, i) => (Type === BigInt64Array ? BigInt(i * 7 - 30) : (i * 37) % 251));
  if (reader === 'npy') {
    return [written((f) => io.writeNpy(f, x.data.subarray(0, 40 * 8), [40, 8])), written((f) => io.writeNpy(f, Float64Array.from(x.data.subarray(0, 120)), [30, 4])),
      written((f) => io.writeNpy(f, sample(Uint8Array, 100), [20, 5])), written((f) => io.writeNpy(f, sample(BigInt64Array, 10), [10])),
      written((f) => io.writeNpy(f, sample(Uint16Array, 60), [3, 4, 5]))];
  }
  if (reader === 'fvecs') {
    return [written((f) => io.writeFvecs(f, { data: x.data.subarray(0, 40 * 8), shape: [40, 8] })),
      written((f) => io.writeIvecs(f, { data: sample(Int32Array, 60), shape: [10, 6] })),
      written((f) => io.writeBvecs(f, { data: sample(Uint8Array, 96), shape: [8, 12] }))];
  }
  if (reader === 'idx') {
    const images = idxFile('uint8', [20, 4, 4], Array.from(sample(Uint8Array, 320)));
    return [images, zlib.gzipSync(images), idxFile('float32', [16, 6], Array.from(x.data.subarray(0, 96))),
      idxFile('int16', [10, 3], Array.from({ length: 30 }, (_, i) => i * 1000 - 15000)), zlib.gzipSync(idxFile('uint8', [50], Array.from(sample(Uint8Array, 50))))];
  }
  const pq = new PQ({ M: 2, Ks: 16 }).fit(x, { iter: 3 });
  const opq = new OPQ({ M: 2, Ks: 16 }).fit(x, { rotationIter: 2, pqIter: 2 });
  if (reader === 'npq') return [pq.toBuffer(), opq.toBuffer(), new PQ({ M: 3, Ks: 300 }).toBuffer()];
  if (reader === 'pickle') {
    return [written((f) => io.writeNanopqPickle(pq, f)), written((f) => io.writeNanopqPickle(opq, f)),
      written((f) => io.writeNanopqPickle(new PQ({ M: 3, Ks: 300, metric: 'dot' }), f))];
  }
  const withCodes = (index) => { index.add(x); return Buffer.from(faiss.writeIndex(index)); };
  return [withCodes(nanopqToFaiss(pq)), withCodes(nanopqToFaiss(opq)), Buffer.from(faiss.writeIndex(nanopqToFaiss(pq)))];
}

/** Variant `n` of the seeds: one to three mutations of one seed file. */
function variant(files, seed, n) {
  const rand = random(seed * 1000003 + n);
  const pick = (k) => Math.floor(rand() * k);
  let bytes = Buffer.from(files[pick(files.length)]);
  const huge = [0xffffffff, 0x7fffffff, 0x80000000, 2 ** 40, 2 ** 62, -1, 0, 1e30];
  for (let m = 0, count = 1 + pick(3); m < count; m++) {
    const at = pick(bytes.length);
    switch (pick(5)) {
      case 0: bytes = bytes.subarray(0, at); break;                                  // truncated
      case 1: bytes[at] ^= 1 << pick(8); break;                                      // a bit flipped
      case 2: {                                                                       // a field set to a huge value
        const v = huge[pick(huge.length)], p = at - (at % 4);
        if (p + 8 > bytes.length) break;
        if (v === 1e30) bytes.writeFloatLE(v, p);
        else if (pick(2)) bytes.writeBigInt64LE(BigInt(v), p);
        else bytes.writeInt32LE(v | 0, p);
        break;
      }
      case 3: bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(16) }, () => pick(256))), bytes.subarray(at)]); break;
      default: bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(pick(bytes.length))]); break;  // a chunk repeated or lost
    }
  }
  return bytes;
}

/** Uses an array that a reader returned: every value is read, and a 2-D float32 one trains a small PQ. */
function use({ data, shape }) {
  const { PQ } = require(ROOT);
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += Number(data[i]);
  if (data instanceof Float32Array && shape.length === 2 && shape[0] > 4 && shape[1] > 0) {
    const pq = new PQ({ M: 1, Ks: 4 }).fit({ data, shape }, { iter: 2 });
    pq.encode({ data, shape });
  }
  return sum;
}

/** Loads the bytes with the reader, then uses the result as a program would. Throws what the library throws. */
function load(reader, bytes, x) {
  const { PQ, OPQ, faiss, io, faissToNanopq } = require(ROOT);
  if (reader === 'npy') return use(io.readNpy(bytes));
  if (reader === 'idx') return use(io.readIdx(bytes));
  if (reader === 'fvecs') {
    // The three share a layout, so each mutated file is given to all three; one that loads counts as loaded.
    let loaded = 0, error;
    for (const read of [io.readFvecs, io.readIvecs, io.readBvecs]) {
      try { use(read(bytes)); loaded++; } catch (err) { error = err; }
    }
    if (!loaded) throw error;
    return;
  }
  if (reader === 'npq' || reader === 'pickle') {
    let model;
    if (reader === 'pickle') model = io.readNanopqPickle(bytes);
    else try { model = PQ.fromBuffer(bytes); } catch { model = OPQ.fromBuffer(bytes); }
    if (model.Ds === null) return;
    const D = model.M * model.Ds;
    const q = { data: x.data.subarray(0, 20 * D), shape: [20, D] };
    const codes = model.encode(q);
    model.search(q, codes, 3);
    model.dtable(q.data.subarray(0, D)).topk(codes, 2);
    model.decode(codes);
    model.toBuffer();
    if (reader === 'pickle') written((f) => io.writeNanopqPickle(model, f));
    return;
  }
  const index = faiss.readIndex(bytes);
  const q = { data: x.data.subarray(0, 20 * index.d), shape: [20, index.d] };
  index.search(q, 3);
  const [model, codes] = faissToNanopq(index);
  if (codes.shape[0] > 0) model.search(q, codes, 2);
  index.add(q);
  faiss.writeIndex(index);
  index.train({ data: x.data.subarray(0, 300 * index.d), shape: [300, index.d] });
}

// The child: variants first..last, one line each ("start n", then "loaded n" or "threw n").
function child(reader, seed, first, last) {
  const files = seeds(reader);
  const x = { data: Float32Array.from({ length: 300 * 64 }, (_, i) => Math.cos(i * 0.11)) };
  for (let n = first; n <= last; n++) {
    fs.writeSync(1, `start ${n}\n`);
    let outcome = 'loaded';
    try {
      load(reader, variant(files, seed, n), x);
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      outcome = 'threw';
    }
    fs.writeSync(1, `${outcome} ${n}\n`);
  }
}

/** Runs variants [first, last] in children, replacing one that crashes, hangs or grows too large. */
async function fuzz(reader, seed, first, last) {
  const counts = { variants: last - first + 1, loaded: 0, threw: 0, crashed: 0, hung: 0, memory: 0 };
  const failures = [];
  let next = first;
  while (next <= last) {
    const outcome = await new Promise((resolve) => {
      const proc = spawn(process.execPath, [__filename, '--child', reader, String(seed), String(next), String(last)],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let current = null, buffered = '', lastSeen = Date.now(), ended = null;
      const watch = setInterval(() => {
        let rss = 0;
        try { rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'))[1]) * 1024; } catch { /* gone */ }
        if (rss > MEMORY_LIMIT) ended = 'memory';
        else if (Date.now() - lastSeen > HANG_MS) ended = 'hung';
        if (ended) proc.kill('SIGKILL');
      }, 100);
      proc.stderr.resume();
      proc.stdout.on('data', (chunk) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop();
        for (const line of lines) {
          const [what, n] = line.split(' ');
          lastSeen = Date.now();
          if (what === 'start') current = Number(n);
          else { counts[what]++; current = null; next = Number(n) + 1; }
        }
      });
      proc.on('close', (status, signal) => {
        clearInterval(watch);
        if (current === null) return resolve(null);  // the child finished its range
        const kind = ended ?? (signal ? 'crashed' : status !== 0 ? 'crashed' : null);
        resolve({ kind: kind ?? 'crashed', n: current, how: signal ?? `exit ${status}` });
      });
    });
    if (!outcome) break;
    counts[outcome.kind]++;
    failures.push(`${outcome.kind} at variant ${outcome.n} (${outcome.how}): node scripts/fuzz.js --child ${reader} ${seed} ${outcome.n} ${outcome.n}`);
    next = outcome.n + 1;
  }
  return { reader, seed, ...counts, failures: failures.slice(0, 10) };
}

if (process.argv[2] === '--child') {
  const [reader, seed, first, last] = process.argv.slice(3);
  child(reader, Number(seed), Number(first), Number(last));
} else if (require.main === module) {
  const { values } = parseArgs({
    options: { variants: { type: 'string', default: '5000' }, seed: { type: 'string', default: '1' },
      reader: { type: 'string', multiple: true }, json: { type: 'boolean', default: false } },
  });
  const unknown = (values.reader ?? []).filter((r) => !READERS.includes(r));
  if (unknown.length) {
    console.error(`fuzz: unknown --reader ${unknown.join(', ')}; the readers are ${READERS.join(', ')}`);
    process.exit(2);
  }
  (async () => {
    const results = [];
    for (const reader of values.reader ?? READERS) {
      const t0 = Date.now();
      const r = await fuzz(reader, Number(values.seed), 0, Number(values.variants) - 1);
      results.push(r);
      if (!values.json) {
        console.log(`${reader}: ${r.variants} variants in ${((Date.now() - t0) / 1e3).toFixed(0)} s: loaded ${r.loaded}, threw ${r.threw}, ` +
          `crashed ${r.crashed}, hung ${r.hung}, memory ${r.memory}`);
        for (const f of r.failures) console.log(`  ${f}`);
      }
    }
    if (values.json) console.log(JSON.stringify(results));
    process.exitCode = results.some((r) => r.crashed || r.hung || r.memory) ? 1 : 0;
  })();
}

module.exports = { fuzz, READERS };
