// The Faiss index file checker (lib/io/faiss-index.ts) on every kind it reads:
// the files Python Faiss 1.7.3 wrote (test/fixtures/faiss-kinds, by
// scripts/faiss-fixtures.py) pass and report their kind; a file truncated,
// padded or with one field made inconsistent is one TypeError naming that field.
// Fields are found by where the checker reads them: a Reader that records the
// offset of each field it is asked for, by the field's name.
const fs = require('node:fs');
const path = require('node:path');
const { checkIndexFile } = require('../dist/io/faiss-index.js');
const { Reader } = require('../dist/io/reader.js');
const { FieldReader } = require('./helpers/field-reader');
const { thrown } = require('./helpers/thrown');

const DIR = path.join(__dirname, 'fixtures', 'faiss-kinds');
const { fixtures } = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8'));
const KINDS = ['IndexFlat', 'IndexPQ', 'IndexScalarQuantizer', 'IndexIVFFlat', 'IndexIVFPQ', 'IndexIVFScalarQuantizer',
  'IndexPQFastScan', 'IndexIVFPQFastScan', 'IndexHNSWFlat', 'IndexHNSWPQ', 'IndexHNSWSQ', 'IndexIDMap', 'IndexIDMap2',
  'IndexPreTransform', 'IndexRefineFlat'];
const bytesOf = (name) => fs.readFileSync(path.join(DIR, `${name}.faiss`));
const check = (bytes) => checkIndexFile(new Reader(bytes, 'x.faiss'));

/** A fixture checked (so it passes), with at(name, i): the offset of the i-th field of that name. */
function parsed(name) {
  const bytes = bytesOf(name);
  const r = new FieldReader(bytes);
  const kind = checkIndexFile(r);
  const at = (field, i = 0) => {
    const found = r.fields.get(field);
    if (!found || !found[i]) throw new Error(`${name} has no field '${field}' (#${i})`);
    return found[i].at;
  };
  return { bytes, kind, fields: r.fields, at };
}

/**
 * The fixture, which passes, with edit(copy, at) applied to a copy of its bytes
 * (edit may return other bytes instead): refused with a TypeError matching message.
 * (Buffer's writers return an offset, which is not bytes.)
 */
function expectRefused(name, edit, message) {
  const p = parsed(name);
  expect(p.kind).toBe(fixtures.find((c) => c.name === name).kind);
  const copy = Buffer.from(p.bytes);
  const out = edit(copy, p.at, p);
  const bytes = out instanceof Uint8Array ? out : copy;
  const err = thrown(() => check(bytes));
  expect(err).toBeInstanceOf(TypeError);
  expect(err.message).toMatch(/^Expected a Faiss index file in x\.faiss/);
  expect(err.message).toMatch(message);
  return err;
}

// Field writers: set(buffer, offset, value).
const i32 = (b, at, v) => b.writeInt32LE(v, at);
const i64 = (b, at, v) => b.writeBigInt64LE(BigInt(v), at);
const u8 = (b, at, v) => b.writeUInt8(v, at);
const f32 = (b, at, v) => b.writeFloatLE(v, at);
const addI64 = (b, at, dv) => b.writeBigInt64LE(b.readBigInt64LE(at) + BigInt(dv), at);
/** A vector's first element: after its length (8 bytes). */
const first = (at, field) => at(`the length of ${field}`) + 8;

const byKind = (...kinds) => fixtures.filter((c) => kinds.includes(c.kind)).map((c) => c.name);

describe('every fixture passes and reports its kind', () => {
  test('the manifest lists every kind', () => {
    expect([...new Set(fixtures.map((c) => c.kind))].sort()).toEqual([...KINDS].sort());
  });

  test.each(fixtures.map((c) => [c.name, c]))('%s', (name, c) => {
    const p = parsed(name);
    expect(p.kind).toBe(c.kind);
    expect(p.bytes.readInt32LE(p.at('d'))).toBe(c.d);
    expect(Number(p.bytes.readBigInt64LE(p.at('ntotal')))).toBe(c.ntotal);
  });
});

describe('truncated or padded files', () => {
  test.each(fixtures.map((c) => [c.name]))('%s: cut at every field, the field is named', (name) => {
    const p = parsed(name);
    const starts = new Map();
    for (const [what, reads] of p.fields) for (const { at, n } of reads) if (n > 0 && !starts.has(at)) starts.set(at, what);
    expect(starts.size).toBeGreaterThan(5);
    for (const [at, what] of starts) {
      const err = thrown(() => check(p.bytes.subarray(0, at)));
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toMatch(new RegExp(`^Expected .* of \\d+ bytes in x\\.faiss at byte ${at}, got 0 bytes left$`));
      expect(err.message.startsWith(`Expected ${what} of `)).toBe(true);
    }
  });

  test.each(fixtures.map((c, i) => [c.name, i]))('%s: cut at random offsets, or padded', (name, seed) => {
    const bytes = bytesOf(name);
    let s = seed + 1;
    for (let i = 0; i < 25; i++) {
      s = (s * 48271) % 2147483647;
      const n = s % bytes.length;
      expect(() => check(bytes.subarray(0, n))).toThrow(TypeError);
    }
    expect(() => check(Buffer.concat([bytes, Buffer.alloc(1)]))).toThrow(`Expected a Faiss index file in x.faiss at byte ${bytes.length}, got 1 bytes after the index`);
  });
});

describe('what Faiss does not read, or this library does not', () => {
  test('an unknown type tag is named, with the kinds that are read', () => {
    const err = expectRefused('flat', (b) => { b.write('IxZZ', 0, 'latin1'); }, /at byte 0, got an index of type 'IxZZ', which is not one of the kinds this library reads/);
    for (const kind of KINDS) expect(err.message).toContain(kind);
    expect(err.message).toContain("IndexFlat ('IxF2', 'IxFI', 'IxFl')");
    expect(() => check(Buffer.from('\x00\x01ab'.padEnd(40, '\x00'), 'latin1'))).toThrow("got an index of type '??ab', which is not one");
  });

  test('a kind Faiss writes that is not read (IndexIVFPQR, IndexLSH) is named', () => {
    expectRefused('ivf16_pq8', (b) => { b.write('IwQR', 0, 'latin1'); }, /got an index of type 'IwQR' \(IndexIVFPQR\), which is not one/);
    expectRefused('flat', (b) => { b.write('IxHe', 0, 'latin1'); }, /got an index of type 'IxHe' \(IndexLSH\), which is not one/);
  });

  test('a nested index of an unknown kind is named with its place', () => {
    expectRefused('ivf16_flat', (b, at) => { b.write('IxHe', at('quantizer.d') - 4, 'latin1'); }, /got an index of type 'IxHe' \(IndexLSH\) as quantizer, which/);
  });

  test('indexes nested more than 8 deep are refused', () => {
    const inner = bytesOf('pq8_empty');
    const idMap = (bytes) => {
      const head = Buffer.alloc(37 + 8);
      head.write('IxMp', 0, 'latin1');
      head.writeInt32LE(32, 4);
      head.writeBigInt64LE(0n, 8);
      head.writeBigInt64LE(1n << 20n, 16);
      head.writeBigInt64LE(1n << 20n, 24);
      head.writeUInt8(1, 32);
      head.writeInt32LE(1, 33);
      return Buffer.concat([head.subarray(0, 37), bytes, Buffer.alloc(8)]);
    };
    let bytes = inner;
    for (let depth = 1; depth < 8; depth++) bytes = idMap(bytes);
    expect(check(bytes)).toBe('IndexIDMap');
    expect(() => check(idMap(bytes))).toThrow(/indexes nested more than 8 deep, at (index\.){7}index/);
  });
});

describe('headers', () => {
  test.each(['flat', 'pq8', 'ivf16_pq8', 'hnsw16'])('%s: a bool of 2, an untrained index with vectors', (name) => {
    expectRefused(name, (b, at) => u8(b, at('is_trained'), 2), /is_trained = 2 \(a boolean must be 0 or 1\)/);
    expectRefused(name, (b, at) => u8(b, at('is_trained'), 0), /got ntotal = 800 in an untrained index/);
    expectRefused(name, (b, at) => i32(b, at('metric_type'), 2), /metric_type 2 \(only/);
  });

  test('an IndexFlatL2 tag with the inner product metric', () => {
    expectRefused('flat', (b, at) => i32(b, at('metric_type'), 0), /metric_type = 0 in an index of type 'IxF2' \(IndexFlatL2\)/);
    expectRefused('flat_dot', (b, at) => i32(b, at('metric_type'), 1), /metric_type = 1 in an index of type 'IxFI' \(IndexFlatIP\)/);
  });

  test('an IndexFlat whose codes are not ntotal * d floats', () => {
    expectRefused('flat', (b, at) => addI64(b, at('the length of codes'), -32), /25568 floats in codes where ntotal \* d = 25600/);
  });
});

describe('ProductQuantizer and ScalarQuantizer', () => {
  test.each(byKind('IndexPQ'))('%s', (name) => {
    expectRefused(name, (b, at) => f32(b, first(at, 'pq.centroids') + 40, NaN), /got NaN in pq\.centroids \(values must be finite/);
    expectRefused(name, (b, at) => f32(b, first(at, 'pq.centroids'), Infinity), /got Infinity in pq\.centroids/);
    expectRefused(name, (b, at) => i64(b, at('pq.M'), 5), /pq\.M = 5, which does not divide d = 32/);
    expectRefused(name, (b, at) => i64(b, at('pq.d'), 16), /pq\.d = 16 where d = 32/);
    expectRefused(name, (b, at) => i64(b, at('pq.nbits'), 17), /pq\.nbits = 17 \(1 to 16/);
    expectRefused(name, (b, at) => addI64(b, at('the length of pq.centroids'), -1), /floats in pq\.centroids where d \* 2\*\*nbits/);
    expectRefused(name, (b, at) => u8(b, at('encode_signs'), 2), /encode_signs = 2 \(a boolean/);
    expectRefused(name, (b, at) => i32(b, at('search_type'), 1), /search_type 1/);
  });

  test('IndexPQ codes of another length than ntotal * code_size', () => {
    expectRefused('pq8', (b, at) => addI64(b, at('the length of codes'), -1), /6399 bytes in codes where ntotal \* code_size = 6400/);
  });

  test.each(byKind('IndexScalarQuantizer'))('%s', (name) => {
    expectRefused(name, (b, at) => addI64(b, at('sq.code_size'), 1), /sq\.code_size = \d+ where a QT_\w+ code of d = 32 is \d+ bytes/);
    expectRefused(name, (b, at) => i32(b, at('sq.qtype'), 7), /sq\.qtype = 7 \(0 to 6/);
    expectRefused(name, (b, at) => i64(b, at('sq.d'), 31), /sq\.d = 31 where d = 32/);
    expectRefused(name, (b, at) => i32(b, at('sq.rangestat'), 9), /sq\.rangestat = 9/);
    expectRefused(name, (b, at) => addI64(b, at('the length of codes'), 1), /bytes in codes where ntotal \* sq\.code_size/);
  });

  test.each(['sq8', 'sq4'])('%s: the trained ranges are finite, 2 * d of them', (name) => {
    expectRefused(name, (b, at) => f32(b, first(at, 'sq.trained') + 4, NaN), /got NaN in sq\.trained/);
    expectRefused(name, (b, at) => addI64(b, at('the length of sq.trained'), -1), /63 floats in sq\.trained where a trained QT_\dbit of d = 32 has 64/);
  });
});

describe('IVF indexes with ArrayInvertedLists', () => {
  const ivf = byKind('IndexIVFFlat', 'IndexIVFPQ', 'IndexIVFScalarQuantizer').filter((n) => n !== 'ivf16_flat_untrained');

  test.each(ivf)('%s: list sizes, ntotal, nlist and the quantizer', (name) => {
    expectRefused(name, (b, at) => addI64(b, at('invlists.sizes[0]'), 1), /invlists\.sizes summing to 801 where ntotal = 800/);
    expectRefused(name, (b, at) => addI64(b, at('invlists.sizes[3]'), -1), /invlists\.sizes summing to 799 where ntotal = 800/);
    expectRefused(name, (b, at) => addI64(b, at('ntotal'), 1), /ntotal = 801/);
    expectRefused(name, (b, at) => i64(b, at('nlist'), 15), /quantizer\.ntotal = 16 where nlist = 15/);
    expectRefused(name, (b, at) => i64(b, at('nprobe'), 0), /nprobe = 0/);
    expectRefused(name, (b, at) => i32(b, at('quantizer.d'), 16), /quantizer\.d = 16 where d = 32|floats in quantizer\.codes/);
    expectRefused(name, (b, at) => f32(b, first(at, 'quantizer.codes') + 4 * 33, NaN), /NaN in quantizer\.codes \(centroids must be finite\)/);
    expectRefused(name, (b, at) => addI64(b, at('invlists.nlist'), 1), /invlists\.nlist = 17 where nlist = 16/);
    expectRefused(name, (b, at) => addI64(b, at('invlists.code_size'), 1), /invlists\.code_size = \d+ where the code size is \d+/);
    expectRefused(name, (b, at) => u8(b, at('direct_map.type'), 3), /direct_map\.type = 3/);
  });

  test.each(ivf)('%s: lists of other types are refused, named', (name) => {
    const tag = (t) => (b, at) => { b.write(t, at('the type of invlists'), 'latin1'); };
    expectRefused(name, tag('ilod'), /invlists of type 'ilod' \(OnDiskInvertedLists, whose data are in another file\) where this kind has ArrayInvertedLists \('ilar'\)/);
    expectRefused(name, tag('il00'), /invlists of type 'il00' \(no lists/);
    expectRefused(name, tag('ilbl'), /invlists of type 'ilbl' \(BlockInvertedLists\)/);
    expectRefused(name, (b, at) => { b.write('half', at('the layout of invlists.sizes'), 'latin1'); }, /'half' as the layout of invlists\.sizes/);
  });

  test('an untrained IVF index: its sparse list sizes, its empty quantizer', () => {
    expectRefused('ivf16_flat_untrained', (b, at) => i64(b, at('the length of invlists.sizes'), 1), /1 numbers in the sparse invlists\.sizes/);
    expectRefused('ivf16_flat_untrained', (b, at) => u8(b, at('is_trained'), 1), /quantizer\.ntotal = 0 where nlist = 16/);
  });

  test.each(['ivf16_pq8', 'ivf16_pq8_direct', 'ivf16_pq8_polysemous', 'ivf16_sq8'])('%s: code_size and by_residual', (name) => {
    expectRefused(name, (b, at) => addI64(b, at('code_size'), 1), /got code_size = \d+ where (pq|sq)\.code_size/);
    expectRefused(name, (b, at) => u8(b, at('by_residual'), 2), /by_residual = 2 \(a boolean/);
  });

  test('by_residual as each IVFPQ fixture has it', () => {
    const byResidual = (name) => parsed(name).bytes.readUInt8(parsed(name).at('by_residual'));
    expect([byResidual('ivf16_pq8'), byResidual('ivf16_pq8_direct'), byResidual('ivf16_pq8_polysemous')]).toEqual([1, 0, 1]);
  });
});

describe('direct maps', () => {
  test('an array entry is (list << 32 | offset) of that very id', () => {
    const p = parsed('ivf16_flat_direct_map');
    const entry = p.bytes.readBigInt64LE(p.at('direct_map.array') + 8 * 5);
    expectRefused('ivf16_flat_direct_map', (b, at) => addI64(b, at('direct_map.array') + 8 * 5, 1n << 32n), /direct_map\.array\[5\] = \d+ \(list \d+, offset \d+\), which is not in the lists|direct_map\.array\[5\] pointing at id/);
    expectRefused('ivf16_flat_direct_map', (b, at) => i64(b, at('direct_map.array') + 8 * 5, entry + 0xfffffn), /direct_map\.array\[5\] = \d+ \(list \d+, offset \d+\), which is not in the lists/);
    expectRefused('ivf16_flat_direct_map', (b, at) => i64(b, at('direct_map.array') + 8 * 6, entry), /direct_map\.array\[6\] pointing at id 5 for id 6/);
    expectRefused('ivf16_flat_direct_map', (b, at) => addI64(b, at('the length of direct_map.array'), -1), /799 entries in direct_map\.array where ntotal = 800/);
    expectRefused('ivf16_flat', (b, at) => u8(b, at('direct_map.type'), 1), /0 entries in direct_map\.array where ntotal = 800/);
  });

  test('a hashtable maps ids added with add_with_ids to where they are', () => {
    expectRefused('ivf16_pq8_hashtable', (b, at) => addI64(b, at('direct_map.hashtable') + 16 * 3, 1), /direct_map\.hashtable\[3\] pointing at id \d+ for id \d+/);
    expectRefused('ivf16_pq8_hashtable', (b, at) => i64(b, at('direct_map.hashtable') + 16 * 3 + 8, -1), /direct_map\.hashtable\[3\] = -1/);
    expectRefused('ivf16_pq8_hashtable', (b, at) => addI64(b, at('the length of direct_map.hashtable'), 1), /801 entries in direct_map\.hashtable where ntotal = 800/);
  });
});

describe('fast scan', () => {
  test.each(['pq16x4fs', 'ivf16_pq16x4fs'])('%s', (name) => {
    expectRefused(name, (b, at) => i64(b, at('pq.nbits'), 5), /pq\.nbits = 5 in a fast-scan index \(only 4 is supported\)/);
    expectRefused(name, (b, at) => i32(b, at('bbs'), 48), /bbs = 48 \((32, 64|only 32)/);
    expectRefused(name, (b, at) => i32(b, at('bbs'), 0), /bbs = 0/);
    expectRefused(name, (b, at) => addI64(b, at('M2'), 2), /M2 = 18 where pq\.M rounded up to even = 16/);
    expectRefused(name, (b, at) => i32(b, at('implem'), 1), /implem = 1 \(/);
  });

  // Found by scripts/fuzz.js: Faiss 1.7.3 aborts a search it has no kernel for ("nq=5 bbs=64 not instantiated").
  test('a block size Faiss has no search kernel for: other than 32 in IndexPQFastScan, above 160 in an IVF', () => {
    // bbs = 64 with ntotal2 and the codes made to agree: 800 rows round up to 832.
    expectRefused('pq16x4fs', (b, at) => {
      i32(b, at('bbs'), 64);
      i64(b, at('ntotal2'), 832);
      addI64(b, at('the length of codes'), 32 * 8);
      return Buffer.concat([b, Buffer.alloc(32 * 8)]);
    }, /bbs = 64 \(only 32 in an IndexPQFastScan\)/);
    expectRefused('ivf16_pq16x4fs', (b, at) => i32(b, at('bbs'), 192), /bbs = 192 \(32, 64, 96, 128 or 160 in an IndexIVFPQFastScan\)/);
  });

  test('IndexPQFastScan: ntotal2, qbs, packed codes', () => {
    expectRefused('pq16x4fs', (b, at) => addI64(b, at('ntotal2'), -32), /ntotal2 = 768 where ntotal rounded up to bbs = 800/);
    expectRefused('pq16x4fs', (b, at) => i32(b, at('qbs'), 0x35), /qbs = 53 \(0, or hex digits/);
    expectRefused('pq16x4fs', (b, at) => i32(b, at('qbs'), -1), /qbs = -1/);
    const p = parsed('pq16x4fs');
    const blocks = Buffer.from(p.bytes);
    blocks.writeInt32LE(0x233, p.at('qbs'));  // blocks of 3, 3 and 2 queries
    expect(check(blocks)).toBe('IndexPQFastScan');
    expectRefused('pq16x4fs', (b, at) => addI64(b, at('the length of codes'), -1), /6399 bytes in codes where ntotal2 \* M2 \/ 2 = 6400/);
  });

  test('IndexIVFPQFastScan: block lists and code_size', () => {
    const name = 'ivf16_pq16x4fs';
    expectRefused(name, (b, at) => addI64(b, at('code_size'), 1), /code_size = 9 where pq\.code_size/);
    expectRefused(name, (b, at) => addI64(b, at('invlists.n_per_block'), 32), /invlists\.n_per_block = 64 where bbs = 32/);
    expectRefused(name, (b, at) => addI64(b, at('invlists.block_size'), 1), /invlists\.block_size = 257 where bbs \* M2 \/ 2 = 256/);
    expectRefused(name, (b, at) => i64(b, at('invlists.code_size'), 3), /invlists\.code_size = 3 \(block lists have/);
    // Found by scripts/fuzz.js: fast scan's search takes nprobe as it is, where IndexIVF's takes min(nprobe, nlist).
    expectRefused(name, (b, at) => i64(b, at('nprobe'), 2 ** 31 - 1), /nprobe = 2147483647 where nlist = 16 \(a fast-scan IVF visits nprobe lists\)/);
    expectRefused(name, (b, at) => i64(b, at('nprobe'), 17), /nprobe = 17 where nlist = 16/);
    const p = parsed('ivf16_flat');
    const many = Buffer.from(p.bytes);
    many.writeBigInt64LE(2n ** 31n - 1n, p.at('nprobe'));
    expect(check(many)).toBe('IndexIVFFlat');
    expectRefused(name, (b, at) => { b.write('ilar', at('the type of invlists'), 'latin1'); }, /invlists of type 'ilar' \(ArrayInvertedLists\) where this kind has BlockInvertedLists \('ilbl'\)/);
    expectRefused(name, (b, at) => addI64(b, at('ntotal'), -1), /holding 800 ids where ntotal = 799/);
    // A list's size against its packed codes: 32 more ids (their bytes taken from the codes) is a block more.
    expectRefused(name, (b, at) => addI64(b, at('the length of invlists.ids[0]'), 32), /invlists\.codes\[0\]/);
    expectRefused(name, (b, at) => addI64(b, at('the length of invlists.codes[2]'), -256), /bytes in invlists\.codes\[2\] where its \d+ ids in blocks of 32/);
  });
});

/** An HNSW fixture's graph, as read from its bytes at the fields' offsets. */
function graph(p) {
  const { bytes, at } = p;
  const ints = (field) => {
    const n = Number(bytes.readBigInt64LE(at(`the length of ${field}`)));
    return Array.from({ length: n }, (_, i) => bytes.readInt32LE(at(field) + 4 * i));
  };
  const levels = ints('hnsw.levels');
  const offsets = Array.from({ length: levels.length + 1 }, (_, i) => Number(bytes.readBigInt64LE(at(`hnsw.offsets[${i}]`))));
  return { cum: ints('hnsw.cum_nneighbor_per_level'), levels, offsets, neighbors: ints('hnsw.neighbors') };
}

describe('HNSW graphs', () => {
  test.each(byKind('IndexHNSWFlat', 'IndexHNSWPQ', 'IndexHNSWSQ'))('%s', (name) => {
    const g = graph(parsed(name));
    const top = Math.max(...g.levels);
    const neighbor = (b, at, j, v) => i32(b, at('hnsw.neighbors') + 4 * j, v);
    expectRefused(name, (b, at) => neighbor(b, at, 0, 800), /hnsw\.neighbors\[0\] = 800 as a level-0 neighbor of node 0 \(ids are -1 or below ntotal = 800\)/);
    expectRefused(name, (b, at) => neighbor(b, at, 1, -2), /hnsw\.neighbors\[1\] = -2/);
    // A level-1 neighbor that has level 0 only.
    const i = g.levels.findIndex((l) => l >= 2);
    const low = g.levels.indexOf(1);
    expectRefused(name, (b, at) => neighbor(b, at, g.offsets[i] + g.cum[1], low), new RegExp(`hnsw\\.neighbors\\[\\d+\\] = ${low} as a level-1 neighbor of node ${i} \\(node ${low} has 1 levels\\)`));
    expectRefused(name, (b, at) => i32(b, at('hnsw.levels') + 4 * 7, 0), /hnsw\.levels\[7\] = 0 \(1 to \d+/);
    expectRefused(name, (b, at) => i32(b, at('hnsw.levels') + 4 * 7, g.cum.length), new RegExp(`hnsw\\.levels\\[7\\] = ${g.cum.length} \\(1 to ${g.cum.length - 1}`));
    expectRefused(name, (b, at) => i32(b, at('hnsw.max_level'), top - 2), new RegExp(`hnsw\\.max_level = ${top - 2} where the highest of levels is ${top}`));
    expectRefused(name, (b, at) => i32(b, at('hnsw.max_level'), top), /hnsw\.max_level = /);
    expectRefused(name, (b, at) => i64(b, at('hnsw.offsets[5]'), g.offsets[4] - 1), /hnsw\.offsets\[5\] = \d+ where offsets\[4\] \+ cum_nneighbor_per_level\[levels\[4\]\]/);
    expectRefused(name, (b, at) => addI64(b, at('hnsw.offsets[800]'), 1), /hnsw\.offsets\[800\] = /);
    expectRefused(name, (b, at) => addI64(b, at('the length of hnsw.neighbors'), 1), /entries in hnsw\.neighbors where offsets\[ntotal\] = /);
    expectRefused(name, (b, at) => addI64(b, at('the length of hnsw.levels'), -1), /799 entries in hnsw\.levels where ntotal = 800/);
    expectRefused(name, (b, at) => addI64(b, at('the length of hnsw.offsets'), -1), /800 entries in hnsw\.offsets where ntotal \+ 1 = 801/);
    expectRefused(name, (b, at) => i32(b, at('hnsw.cum_nneighbor_per_level') + 8, 0), /hnsw\.cum_nneighbor_per_level\[2\] = 0 \(it starts at 0 and never decreases\)/);
    expectRefused(name, (b, at) => addI64(b, at('the length of hnsw.cum_nneighbor_per_level'), 1), /entries in hnsw\.cum_nneighbor_per_level where assign_probas has/);
    expectRefused(name, (b, at) => b.writeDoubleLE(NaN, at('hnsw.assign_probas')), /hnsw\.assign_probas\[0\] = NaN/);
    expectRefused(name, (b, at) => i32(b, at('hnsw.entry_point'), 800), /hnsw\.entry_point = 800 \(a node below ntotal = 800 on the top level/);
    expectRefused(name, (b, at) => i32(b, at('hnsw.entry_point'), -1), /hnsw\.entry_point = -1/);
    expectRefused(name, (b, at) => i32(b, at('hnsw.entry_point'), low), new RegExp(`hnsw\\.entry_point = ${low} \\(`));
    expectRefused(name, (b, at) => i32(b, at('hnsw.upper_beam'), 0), /hnsw\.upper_beam = 0/);
    expectRefused(name, (b, at) => i32(b, at('hnsw.efSearch'), -3), /hnsw\.efSearch = -3/);
    // Found by scripts/fuzz.js: a search with efSearch 2**30 sizes its heaps by it, and never ends.
    expectRefused(name, (b, at) => i32(b, at('hnsw.efSearch'), 2 ** 30), /hnsw\.efSearch = 1073741824 \(1 to 1000000\)/);
    expectRefused(name, (b, at) => i32(b, at('hnsw.efConstruction'), 1e6 + 1), /hnsw\.efConstruction = 1000001 \(1 to 1000000\)/);
    expectRefused(name, (b, at) => i32(b, at('hnsw.upper_beam'), 2 ** 31 - 1), /hnsw\.upper_beam = 2147483647/);
  });

  test.each(byKind('IndexHNSWFlat', 'IndexHNSWPQ', 'IndexHNSWSQ'))('%s: its storage', (name) => {
    expectRefused(name, (b, at) => addI64(b, at('ntotal'), -1), /ntotal = 799/);
    expectRefused(name, (b, at) => i32(b, at('storage.d'), 16), /storage\.(d|pq\.d|sq\.d|codes)|floats in storage\.codes/);
    expectRefused(name, (b, at) => i32(b, at('metric_type'), 1 - parsed(name).bytes.readInt32LE(at('metric_type'))), /storage\.metric_type = \d where metric_type = \d/);
  });

  test('each HNSW kind has its own storage', () => {
    // An IndexHNSWFlat's tag on an IndexHNSWPQ.
    expectRefused('hnsw16_pq8', (b) => { b.write('IHNf', 0, 'latin1'); }, /storage of kind IndexPQ in an index of type 'IHNf' \(IndexHNSWFlat\), whose storage is an IndexFlat/);
    expectRefused('hnsw16_pq8', (b, at) => i64(b, at('storage.pq.nbits'), 9), /storage\.pq\.nbits = 9|floats in storage\.pq\.centroids/);
  });
});

describe('IDMap and IDMap2', () => {
  test.each(byKind('IndexIDMap', 'IndexIDMap2'))('%s', (name) => {
    expectRefused(name, (b, at) => addI64(b, at('the length of id_map'), -1), /799 ids in id_map where ntotal = 800/);
    expectRefused(name, (b, at) => addI64(b, at('ntotal'), -1), /index\.ntotal = 800 where ntotal = 799/);
    expectRefused(name, (b, at) => i32(b, at('d'), 16), /index\.d = 32 where d = 16/);
    expectRefused(name, (b, at) => i32(b, at('metric_type'), 0), /index\.metric_type = 1 where metric_type = 0/);
  });

  test('an IndexIDMap2 maps each id to one row: no id twice', () => {
    const dup = (b, at) => b.writeBigInt64LE(b.readBigInt64LE(at('id_map')), at('id_map') + 8 * 9);
    expectRefused('idmap2_flat', dup, /id 1000 twice in id_map of an IndexIDMap2/);
    const p = parsed('idmap_flat');
    const b = Buffer.from(p.bytes);
    dup(b, p.at);
    expect(check(b)).toBe('IndexIDMap');
  });
});

describe('labels another index reads as row numbers', () => {
  /** An IndexIDMap over the bytes of an index of ntotal rows (d 32, L2), mapping row i to id 5 * i. */
  const idMapOver = (bytes, ntotal) => {
    const head = Buffer.alloc(37);
    head.write('IxMp', 0, 'latin1');
    head.writeInt32LE(32, 4);
    head.writeBigInt64LE(BigInt(ntotal), 8);
    head.writeUInt8(1, 32);
    head.writeInt32LE(1, 33);
    const map = Buffer.alloc(8 + 8 * ntotal);
    map.writeBigInt64LE(BigInt(ntotal), 0);
    for (let i = 0; i < ntotal; i++) map.writeBigInt64LE(BigInt(5 * i), 8 + 8 * i);
    return Buffer.concat([head, bytes, map]);
  };

  test('an IDMap over an IVF that numbers its rows, and not over one with ids of its own (the map would be read past its end)', () => {
    expect(check(idMapOver(bytesOf('ivf16_flat'), 800))).toBe('IndexIDMap');
    expect(() => check(idMapOver(bytesOf('ivf16_flat_ids'), 800))).toThrow(/index with ids that are not its row numbers \(0 to ntotal - 1\), where the id map looks them up/);
    // An IDMap's labels are its ids: an IDMap over it must not read them as rows either.
    expect(() => check(idMapOver(idMapOver(bytesOf('ivf16_flat'), 800), 800))).toThrow(/index with ids that are not its row numbers/);
  });

  test('a refine index\'s base holds row numbers: one id past ntotal is refused', () => {
    expectRefused('ivf16_pq8_rflat', (b, at, p) => {
      const list = [...p.fields.keys()].find((f) => /^the ids of list \d+ in base_index\.invlists$/.test(f));
      i64(b, at(list), 800);
    }, /base_index with ids that are not its row numbers \(0 to ntotal - 1\), where the refine index reads its vectors by them/);
  });
});

describe('IndexPreTransform', () => {
  test('a chain whose last d_out is not the inner index\'s d', () => {
    expectRefused('l2norm_flat', (b, at) => {
      i32(b, at('d'), 31);
      i32(b, at('chain[0].d_in'), 31);
      i32(b, at('chain[0].d_out'), 31);
    }, /index\.d = 32 where chain\[0\]\.d_out = 31/);
  });

  test('a transform\'s d_in is the d before it, d_out agrees with its matrix', () => {
    expectRefused('opq8_32_pq8', (b, at) => i32(b, at('chain[0].d_out'), 16), /a linear transform with chain\[0\]\.d_in = 32, chain\[0\]\.d_out = 16, 1024 floats in chain\[0\]\.A/);
    expectRefused('pcar16_ivf16_flat', (b, at) => i32(b, at('chain[0].d_out'), 8), /chain\[0\]\.d_out = 8/);
    expectRefused('pcar16_ivf16_flat', (b, at) => i32(b, at('d'), 16), /chain\[0\]\.d_in = 32 where d = 16/);
    expectRefused('l2norm_flat', (b, at) => i32(b, at('chain[0].d_out'), 16), /chain\[0\]\.d_out = 16 where a NormalizationTransform's d_in = 32/);
  });

  test('transform fields', () => {
    expectRefused('opq8_32_pq8', (b, at) => f32(b, first(at, 'chain[0].A') + 12, NaN), /NaN in chain\[0\]\.A/);
    expectRefused('opq8_32_pq8', (b, at) => u8(b, at('chain[0].have_bias'), 2), /chain\[0\]\.have_bias = 2/);
    expectRefused('opq8_32_pq8', (b, at) => u8(b, at('chain[0].is_trained'), 2), /chain\[0\]\.is_trained = 2/);
    expectRefused('pcar16_ivf16_flat', (b, at) => f32(b, first(at, 'chain[0].mean'), -Infinity), /-Infinity in chain\[0\]\.mean/);
    expectRefused('pcar16_ivf16_flat', (b, at) => u8(b, at('chain[0].random_rotation'), 7), /chain\[0\]\.random_rotation = 7/);
    expectRefused('l2norm_flat', (b, at) => f32(b, at('chain[0].norm'), 1), /chain\[0\]\.norm = 1 \(Faiss applies only the L2 norm, 2\)/);
    expectRefused('l2norm_flat', (b, at) => { b.write('VCnt', at('the type of chain[0]'), 'latin1'); }, /a transform of type 'VCnt' \(the transforms read are/);
    expectRefused('l2norm_flat', (b, at) => i32(b, at('the number of transforms'), 0), /got 0 transforms/);
  });

  test('the inner index agrees on ntotal and metric', () => {
    expectRefused('opq8_ivf16_pq8', (b, at) => addI64(b, at('ntotal'), 1), /index\.ntotal = 800 where ntotal = 801/);
    expectRefused('opq8_ivf16_pq8', (b, at) => i32(b, at('metric_type'), 0), /index\.metric_type = 1 where metric_type = 0/);
  });
});

describe('IndexRefineFlat', () => {
  test.each(byKind('IndexRefineFlat'))('%s', (name) => {
    expectRefused(name, (b, at) => f32(b, at('k_factor'), 0.5), /k_factor = 0\.5 \(1 to 1048576\)/);
    expectRefused(name, (b, at) => f32(b, at('k_factor'), NaN), /k_factor = NaN/);
    expectRefused(name, (b, at) => addI64(b, at('ntotal'), 1), /base_index\.ntotal = 800 where ntotal = 801/);
    expectRefused(name, (b, at) => i32(b, at('refine_index.metric_type'), 0), /refine_index\.metric_type = 0/);
  });

  test('the refine index is an IndexFlat', () => {
    const p = parsed('pq8_rflat');
    const kFactor = p.bytes.readFloatLE(p.at('k_factor'));
    expect(kFactor).toBe(4);
    // base_index and refine_index swapped: an IndexPQ refine index.
    const base = p.bytes.subarray(p.at('base_index.d') - 4, p.at('refine_index.d') - 4);
    const refine = p.bytes.subarray(p.at('refine_index.d') - 4, p.at('k_factor'));
    const swapped = Buffer.concat([p.bytes.subarray(0, p.at('base_index.d') - 4), refine, base, p.bytes.subarray(p.at('k_factor'))]);
    expect(() => check(swapped)).toThrow(/refine_index of kind IndexPQ \(only IndexRefineFlat, whose refine index is an IndexFlat, is supported\)/);
  });
});
