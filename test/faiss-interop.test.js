// Index files shared with Python Faiss, kind by kind. The fixtures
// (test/fixtures/faiss-kinds, written by scripts/faiss-fixtures.py with
// Python Faiss 1.7.3) read here, search as Python searched them, and write
// back byte for byte; the same kinds built here read in Python (live, with
// /usr/bin/python3 and python3-faiss) and search there as they do here.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { faiss, io } = require('..');
const { checkIndexFile } = require('../dist/io/faiss-index.js');
const { FieldReader } = require('./helpers/field-reader');
const { runPython } = require('./helpers/python');

const DIR = path.join(__dirname, 'fixtures', 'faiss-kinds');
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8'));
const npy = (name) => io.readNpy(path.join(DIR, name));
const queries = npy('queries.npy');

/** Distances within 1e-5 relative (of the larger magnitude, or of 1 near zero). */
function expectClose(got, want) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const scale = Math.max(1, Math.abs(want[i]));
    if (Math.abs(got[i] - want[i]) > 1e-5 * scale) throw new Error(`distance ${i}: ${got[i]}, where Python gave ${want[i]}`);
  }
}

/**
 * The bytes are the same but for the order of a hash table's (id, entry)
 * pairs, which Faiss writes as its std::unordered_map holds them: a table
 * read and written again (in Python too) may list the same pairs in another order.
 */
function expectSameFile(written, original) {
  const r = new FieldReader(original);
  checkIndexFile(r);
  const table = r.fields.get('direct_map.hashtable')?.[0] ?? { at: original.length, n: 0 };
  const pairs = (b) => {
    const out = [];
    for (let at = table.at; at < table.at + table.n; at += 16) out.push(b.subarray(at, at + 16).toString('hex'));
    return out.sort();
  };
  expect(written.length).toBe(original.length);
  expect(Buffer.compare(written.subarray(0, table.at), original.subarray(0, table.at))).toBe(0);
  expect(Buffer.compare(written.subarray(table.at + table.n), original.subarray(table.at + table.n))).toBe(0);
  expect(pairs(written)).toEqual(pairs(original));
}

describe.each(manifest.fixtures.map((c) => [c.name, c]))('%s, written by Python Faiss', (name, c) => {
  const bytes = fs.readFileSync(path.join(DIR, c.file));

  test(`reads as an ${c.kind} and writes back the same bytes${c.name.endsWith('hashtable') ? ' (its hash table\'s pairs in any order)' : ''}`, () => {
    const index = faiss.readIndex(bytes);
    expect(index.constructor.name).toBe(c.kind === 'IndexRefineFlat' ? 'IndexRefineFlat' : c.kind);
    expect([index.d, index.ntotal, index.isTrained, index.metric]).toEqual([c.d, c.ntotal, c.trained, c.metric]);
    expectSameFile(Buffer.from(faiss.writeIndex(index)), bytes);
  });

  if (c.labels) {
    test('searches as Python did, with its parameters per call and as the file holds them', () => {
      const index = faiss.readIndex(bytes);
      const labels = npy(c.labels).data;
      const distances = npy(c.distances).data;
      for (const result of [index.search(queries, c.k, c.params), index.search(queries, c.k)]) {
        expect(result.labels).toEqual(labels);
        expectClose(result.distances, distances);
      }
    });
  }
});

describe('indexes written here, read by Python Faiss', () => {
  const train = npy('train.npy');
  const database = npy('database.npy');
  const ids = BigInt64Array.from({ length: manifest.nb }, (_, i) => BigInt(1000 + 7 * i));
  // Polysemous training takes a minute here as in Python: its file layout is IndexIVFPQ's, built here without it.
  const built = manifest.fixtures.filter((c) => c.name !== 'ivf16_pq8_polysemous');

  /** The fixture's index, made here as scripts/faiss-fixtures.py makes it in Python. */
  function build(c) {
    const index = faiss.indexFactory(c.d, c.factory, c.metric);
    if (c.name === 'ivf16_pq8_direct') index.byResidual = false;
    if (c.trained) index.train(train);
    if (c.ntotal > 0 && c.ids === 'add_with_ids') index.addWithIds(database, ids);
    else if (c.ntotal > 0) index.add(database);
    if (c.name === 'ivf16_flat_direct_map') index.makeDirectMap('array');
    if (c.name === 'ivf16_pq8_hashtable') index.makeDirectMap('hashtable');
    return index;
  }

  test('every kind searches in Python as it does here', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-interop-'));
    const ours = new Map();
    for (const c of built) {
      const index = build(c);
      expect(index.constructor.name).toBe(c.kind);
      faiss.writeIndex(index, path.join(dir, c.file));
      if (c.trained) ours.set(c.name, index.search(queries, c.k, c.params));
    }
    fs.writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(built));
    runPython(`
import json, os, sys, numpy as np, faiss
dir = sys.argv[1]
queries = np.load(sys.argv[2])
names = {"nprobe": "nprobe", "efSearch": "efSearch", "kFactor": "k_factor_rf"}
for c in json.load(open(os.path.join(dir, "cases.json"))):
    index = faiss.read_index(os.path.join(dir, c["file"]))
    assert index.ntotal == c["ntotal"] and index.is_trained == c["trained"], c["name"]
    if not c["trained"]:
        continue
    space = faiss.ParameterSpace()
    for key, value in c["params"].items():
        space.set_index_parameter(index, names[key], value)
    distances, labels = index.search(queries, c["k"])
    np.save(os.path.join(dir, c["name"] + ".labels.npy"), labels)
    np.save(os.path.join(dir, c["name"] + ".distances.npy"), distances)
`, [dir, path.join(DIR, 'queries.npy')]);
    for (const [name, result] of ours) {
      const labels = io.readNpy(path.join(dir, `${name}.labels.npy`)).data;
      try {
        expect(result.labels).toEqual(labels);
        expectClose(result.distances, io.readNpy(path.join(dir, `${name}.distances.npy`)).data);
      } catch (e) {
        throw new Error(`${name}: ${e.message}`);
      }
    }
    fs.rmSync(dir, { recursive: true });
  });
});
