#!/usr/bin/env node
// Feeds mutated files to every reader and then uses what loaded: a crash
// (signal), a hang (no progress for 5 s) or memory over 2 GB is a failure;
// loading, or a thrown Error, is fine. Variants run in a child process, many
// per child: after a crash or hang the child is replaced and the run goes on.
//   node scripts/fuzz.js [--variants 5000] [--seed 1] [--reader faiss|npq] [--json]
// Prints, per reader: variants, loaded, threw, crashed, hung, memory, and the
// first failing variants (reader, seed and number reproduce one:
// node scripts/fuzz.js --child READER SEED FIRST LAST).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const { parseArgs } = require('node:util');
// mulberry32, seeded: a variant is named by (seed, number).
const { rng: random } = require('../test/helpers/data');

const ROOT = require('node:path').join(__dirname, '..');
const HANG_MS = 5000;
const MEMORY_LIMIT = 2 * 2 ** 30;

/** Valid files of each reader's kind, made fresh (small, so that using them is quick). */
function seeds(reader) {
  const { PQ, OPQ, faiss, nanopqToFaiss } = require(ROOT);
  const x = { data: Float32Array.from({ length: 400 * 8 }, (_, i) => Math.sin(i * 0.37)), shape: [400, 8] };
  const pq = new PQ({ M: 2, Ks: 16 }).fit(x, { iter: 3 });
  const opq = new OPQ({ M: 2, Ks: 16 }).fit(x, { rotationIter: 2, pqIter: 2 });
  if (reader === 'npq') return [pq.toBuffer(), opq.toBuffer(), new PQ({ M: 3, Ks: 300 }).toBuffer()];
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

/** Loads the bytes with the reader, then uses the result as a program would. Throws what the library throws. */
function load(reader, bytes, x) {
  const { PQ, OPQ, faiss, faissToNanopq } = require(ROOT);
  if (reader === 'npq') {
    let model;
    try { model = PQ.fromBuffer(bytes); } catch { model = OPQ.fromBuffer(bytes); }
    if (model.Ds === null) return;
    const D = model.M * model.Ds;
    const q = { data: x.data.subarray(0, 20 * D), shape: [20, D] };
    const codes = model.encode(q);
    model.search(q, codes, 3);
    model.dtable(q.data.subarray(0, D)).topk(codes, 2);
    model.decode(codes);
    model.toBuffer();
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
  (async () => {
    const results = [];
    for (const reader of values.reader ?? ['faiss', 'npq']) {
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

module.exports = { fuzz };
