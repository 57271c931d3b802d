// The addon in worker threads (as piscina and other pools use it): loaded,
// used, exited and terminated at any moment, with or without the main thread
// having loaded it, never takes the process down.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

// Runs `rounds` rounds of 4 workers that fit, encode, search (sync and async)
// and exit, and 4 that are terminated at a random moment, maybe while loading.
function runWorkers(mainLoadsAddon, rounds) {
  const script = `
    const { Worker } = require('node:worker_threads');
    ${mainLoadsAddon ? `require(${JSON.stringify(ROOT)});` : ''}
    const work = \`
      const { PQ, OPQ, faiss } = require(${JSON.stringify(ROOT)});
      const x = { data: Float32Array.from({ length: 2000 * 32 }, Math.random), shape: [2000, 32] };
      (async () => {
        const pq = new PQ({ M: 4, Ks: 10 }).fit(x, { iter: 2 });
        const codes = await pq.encodeAsync(x);
        pq.search(x, codes, 3);
        await pq.searchAsync(x, codes, 3);
        await new OPQ({ M: 4, Ks: 16 }).fitAsync(x, { rotationIter: 2, pqIter: 2 });
        const some = { data: x.data.subarray(0, 500 * 32), shape: [500, 32] };
        const ivf = faiss.indexFactory(32, 'IVF16,PQ4x4np');
        await ivf.trainAsync(some);
        await ivf.addWithIdsAsync(some, BigInt64Array.from({ length: 500 }, (_, i) => BigInt(i * 3)));
        await Promise.all([ivf.searchAsync(some, 3, { nprobe: 4 }), ivf.searchAsync(some, 3, { nprobe: 16 })]);
        const hnsw = faiss.indexFactory(32, 'HNSW8');
        await hnsw.addAsync(some);
        await hnsw.searchAsync(some, 3, { efSearch: 16 });
        require('node:worker_threads').parentPort.postMessage('done');
      })();\`;
    (async () => {
      for (let round = 0; round < ${rounds}; round++) {
        const finished = [];
        for (let i = 0; i < 4; i++) {
          const w = new Worker(work, { eval: true });
          finished.push(new Promise((resolve, reject) => {
            w.on('message', (m) => (m === 'done' ? resolve() : reject(new Error(m))));
            w.on('error', reject);
          }));
        }
        for (let i = 0; i < 4; i++) {
          const w = new Worker(work, { eval: true });
          w.on('error', () => {});
          finished.push(new Promise((resolve) => setTimeout(() => w.terminate().then(resolve), Math.random() * 150)));
        }
        await Promise.all(finished);
      }
      console.log('ok');
    })().catch((e) => { console.error(e); process.exit(1); });`;
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 240000 });
}

// Fewer under emulation (scripts/arm64.sh check), where a worker takes seconds to start.
const ROUNDS = Number(process.env.NANOPQ_TEST_WORKER_ROUNDS || 20);
test.each([[false], [true]])(`8 workers a round, ${ROUNDS} rounds (main thread loads the addon: %p)`, (mainLoadsAddon) => {
  const r = runWorkers(mainLoadsAddon, ROUNDS);
  expect(r.stderr).toBe('');
  expect([r.status, r.signal, r.stdout.trim()]).toEqual([0, null, 'ok']);
}, 240000);

// Node forks for every child process (child_process.spawn, exec, ...), from
// the main thread or a worker. OpenBLAS stops its thread pool before each
// fork, which hung a BLAS call running on another thread (a Faiss training or
// search off the event loop) and hung two threads that forked at once.
test('child processes spawned while Faiss trains and searches on other threads', () => {
  const script = `
    const { Worker } = require('node:worker_threads');
    const { spawnSync } = require('node:child_process');
    const { faiss } = require(${JSON.stringify(ROOT)});
    const forker = \`
      const { spawnSync } = require('node:child_process');
      const { workerData } = require('node:worker_threads');
      const until = Date.now() + workerData;
      while (Date.now() < until) spawnSync('true');\`;
    const x = { data: Float32Array.from({ length: 10000 * 32 }, Math.random), shape: [10000, 32] };
    (async () => {
      for (let round = 0; round < 3; round++) {
        const index = new faiss.IndexPQ(32, 4, 8);
        const forkers = [0, 1].map(() => new Promise((resolve, reject) =>
          new Worker(forker, { eval: true, workerData: 1500 }).on('exit', resolve).on('error', reject)));
        let done = false;
        const work = index.trainAsync(x).then(() => index.addAsync(x)).then(() => index.searchAsync(x, 4))
          .then(() => { done = true; });
        while (!done) {
          spawnSync('true');
          await new Promise((resolve) => setImmediate(resolve));
        }
        await Promise.all([work, ...forkers]);
      }
      console.log('ok');
    })().catch((e) => { console.error(e); process.exit(1); });`;
  // A hang is what this looks for: 3 minutes, for a sanitizer build beside another suite (30-60 s there).
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 180000 });
  expect(r.stderr).toBe('');
  expect([r.status, r.signal, r.stdout.trim()]).toEqual([0, null, 'ok']);
}, 190000);

// One row's calls (a query's table, a vector's codes) over a codebook of more
// than half the L2 are split with the small-call helper thread, which one
// caller at a time may use: workers calling at once, and the main thread,
// must each get what one thread computes alone.
test('one-row calls from 4 workers and the main thread at once equal those of one thread', () => {
  const script = `
    const { Worker } = require('node:worker_threads');
    const crypto = require('node:crypto');
    const digestOf = \`(nanopq, setThreads) => {
      const rand = (n, seed) => { let s = seed; return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5); };
      const pq = nanopq.PQ.fromCodewords({ data: rand(8 * 64 * 32, 1), shape: [8, 64, 32] });
      if (setThreads) nanopq.setNumThreads(setThreads);
      const hash = require('node:crypto').createHash('sha1');
      const x = rand(256 * 32 * 8, 2);
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 64; i++) {
          const row = x.subarray(i * 256, (i + 1) * 256);
          hash.update(pq.dtable(row).dtable.data);
          hash.update(pq.encode({ data: row, shape: [1, 256] }).data);
        }
      }
      return hash.digest('hex');
    }\`;
    const nanopq = require(${JSON.stringify(ROOT)});
    const alone = eval(digestOf)(nanopq, 1);
    nanopq.setNumThreads(2);
    const work = \`require('node:worker_threads').parentPort.postMessage((\${digestOf})(require(${JSON.stringify(ROOT)})));\`;
    const workers = Array.from({ length: 4 }, () => new Promise((resolve, reject) => {
      const w = new Worker(work, { eval: true });
      w.on('message', resolve);
      w.on('error', reject);
    }));
    const main = eval(digestOf)(nanopq);
    Promise.all(workers).then((got) => {
      console.log(JSON.stringify({ alone, main, got }));
    }, (e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120000, env: { ...process.env, NANOPQ_CACHE: '32K,64K' } });
  expect(r.stderr).toBe('');
  const { alone, main, got } = JSON.parse(r.stdout);
  expect([main, ...got]).toEqual([alone, alone, alone, alone, alone]);
}, 120000);
