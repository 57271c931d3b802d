// A seeded, short run of scripts/fuzz.js (which README quotes at 5,000 variants
// a reader): mutated files of every kind, loaded and then used, in a child
// process. Errors are fine; a crash, a hang or a memory blow-up is not.
const { fuzz, READERS } = require('../scripts/fuzz');

test('every reader is fuzzed', () => {
  expect(READERS).toEqual(['faiss', 'npq', 'pickle', 'npy', 'fvecs', 'idx']);
});

test.each(READERS)('%s: 300 mutated files, no crash, hang or blow-up', async (reader) => {
  const r = await fuzz(reader, 7, 0, 299);
  expect(r.failures).toEqual([]);
  expect([r.crashed, r.hung, r.memory]).toEqual([0, 0, 0]);
  expect(r.loaded + r.threw).toBe(300);
  expect(r.loaded).toBeGreaterThan(0);  // some variants load, and are used
}, 120000);
