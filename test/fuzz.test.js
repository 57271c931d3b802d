// A seeded, short run of scripts/fuzz.js (which docs/internals.md quotes at 5,000 variants
// a reader): mutated files of every kind, loaded and then used, in a child
// process, and mutated index_factory descriptions, built and used. Errors are
// fine; a crash, a hang or a memory blow-up is not.
const { fuzz, READERS } = require('../scripts/fuzz');

test('every reader is fuzzed', () => {
  expect(READERS).toEqual(['faiss', 'npq', 'pickle', 'rii', 'npy', 'fvecs', 'idx', 'factory']);
});

// Factory variants build and train indexes: fewer of them.
const count = (reader) => (reader === 'factory' ? 150 : 300);

test.each(READERS)('%s: mutated inputs, no crash, hang or blow-up', async (reader) => {
  const r = await fuzz(reader, 7, 0, count(reader) - 1);
  expect(r.failures).toEqual([]);
  expect([r.crashed, r.hung, r.memory]).toEqual([0, 0, 0]);
  expect(r.loaded + r.threw).toBe(count(reader));
  expect(r.loaded).toBeGreaterThan(0);  // some variants load, and are used
  if (reader === 'faiss') {
    // Seeds of every kind; mutations of several kinds load, and are used.
    const loadedKinds = new Set(Object.entries(r.seeds).filter(([, [loaded]]) => loaded > 0).map(([name]) => /\((\w+)\)$/.exec(name)[1]));
    expect(loadedKinds.size).toBeGreaterThanOrEqual(8);
  }
  if (reader === 'factory') expect(Object.keys(r.seeds).length).toBeGreaterThanOrEqual(20);
}, 120000);
