#!/usr/bin/env node
// Native memory in synchronous loops: a script must not grow without bound when
// it makes and drops many models and indexes without yielding (the addon frees
// the objects of collected handles itself: native/runtime/handles.h). Prints the RSS
// growth of each loop (docs/internals.md quotes it).
//   node --expose-gc scripts/memory-check.js [cycles = 100000]
const { PQ, faiss, setNumThreads } = require('..');

if (typeof global.gc !== 'function') {
  console.error('memory-check: run with node --expose-gc');
  process.exit(2);
}
const cycles = Number(process.argv[2] ?? 100000);
// One thread: Faiss's k-means on tiny data spends most of its time waking
// OpenMP threads (14 ms a train at 2 threads, 0.8 ms at 1); memory is the same.
setNumThreads(1);
const x = { data: Float32Array.from({ length: 256 * 8 }, (_, i) => Math.sin(i * 0.7)), shape: [256, 8] };

const loops = {
  'PQ create / fit / encode / drop': () => {
    const pq = new PQ({ M: 2, Ks: 16 }).fit(x, { iter: 2 });
    pq.encode(x);
  },
  'IndexPQ create / train / add / search / writeIndex / readIndex': () => {
    const index = new faiss.IndexPQ(8, 2, 4);
    index.train(x);
    index.add(x);
    index.search(x, 3);
    faiss.readIndex(faiss.writeIndex(index)).search(x, 1);
  },
};

for (const [name, cycle] of Object.entries(loops)) {
  for (let i = 0; i < 1000; i++) cycle();  // warm-up: caches, pools, JIT
  global.gc();
  const before = process.memoryUsage().rss;
  let peak = before;
  const t0 = process.hrtime.bigint();
  for (let i = 1; i <= cycles; i++) {
    cycle();
    if (i % 1000 === 0) {
      global.gc();
      peak = Math.max(peak, process.memoryUsage().rss);
    }
  }
  const mb = (b) => (b / 2 ** 20).toFixed(1);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${name}: ${cycles} cycles in ${s.toFixed(1)} s; RSS ${mb(before)} MB -> ${mb(process.memoryUsage().rss)} MB (peak ${mb(peak)} MB, +${mb(peak - before)} MB)`);
}
