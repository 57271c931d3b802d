// Codes that know their model: a fitted PQ/OPQ has a fingerprint (a hash of
// M, Ks, Ds, the codewords and R), which encode's codes and PackedCodes carry
// (through .npk files too), and every method that takes codes refuses the
// codes of another model with an Error before any work. Codes that carry none
// are taken unchecked, as before.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { PQ, OPQ, PackedCodes, DistanceTable } = require('..');
const { randomMatrix, row } = require('./helpers/data');
const { thrown } = require('./helpers/thrown');

const D = 8, M = 4, Ks = 16;
const X = randomMatrix(600, D, 31);
const Q = randomMatrix(5, D, 32);
const q = row(Q, 0);
const plain = (c) => ({ data: c.data, shape: c.shape });
const HEX = /^[0-9a-f]{16}$/;

/** The Error of codes of model `other` given to a model of fingerprint `own`, naming the argument. */
const foreign = (name, own, other) => new Error(
  `Expected ${name} encoded by this model (fingerprint ${own}), got codes of another model (fingerprint ${other}); ` +
  'encode them with this model, or pass codes without one (a plain { data, shape }, new PackedCodes(data, N, M)) to skip the check');

/** Every method that takes codes, on model, with codes (plain or packed); resolves what each gave or threw. */
async function everyMethod(model, codes) {
  const packed = codes instanceof PackedCodes;
  const calls = {
    search: () => model.search(Q, codes, 3),
    searchAsync: () => model.searchAsync(Q, codes, 3),
    adist: () => model.dtable(q).adist(codes),
    topk: () => model.dtable(q).topk(codes, 3),
    ...(packed ? { unpackCodes: () => model.unpackCodes(codes) } : { decode: () => model.decode(codes), packCodes: () => model.packCodes(codes) }),
  };
  const out = {};
  for (const [name, call] of Object.entries(calls)) {
    try {
      out[name] = await call();
    } catch (err) {
      out[name] = err;
    }
  }
  return out;
}

describe('the fingerprint getter', () => {
  test('16 hex digits once fitted, null before; the same string every time; read-only; an Error once disposed', () => {
    const pq = new PQ({ M, Ks });
    expect(pq.fingerprint).toBeNull();
    pq.fit(X, { iter: 2 });
    expect(pq.fingerprint).toMatch(HEX);
    expect(pq.fingerprint).toBe(pq.fingerprint);
    expect(() => { 'use strict'; pq.fingerprint = '0000000000000000'; }).toThrow(TypeError);
    pq.dispose();
    expect(() => pq.fingerprint).toThrow('Expected a PQ that is not disposed of for fingerprint');
  });

  test('what codes mean decides it: the same codebook (copied, saved, loaded, of either metric) the same; another codebook, M, Ks or R another', () => {
    const pq = new PQ({ M, Ks }).fit(X, { iter: 2 });
    const cw = pq.codewords;
    const fp = pq.fingerprint;
    expect(PQ.fromCodewords(cw).fingerprint).toBe(fp);
    expect(PQ.fromCodewords(cw, { metric: 'dot' }).fingerprint).toBe(fp);  // the metric does not change what codes mean
    expect(PQ.fromBuffer(pq.toBuffer()).fingerprint).toBe(fp);
    const changed = cw.data.slice();
    changed[7] = Math.fround(changed[7] + 1e-6);  // one codeword, one value, a few ulps
    expect(PQ.fromCodewords({ data: changed, shape: cw.shape }).fingerprint).not.toBe(fp);
    // The same numbers as another shape: M, Ks and Ds are in it.
    expect(PQ.fromCodewords({ data: cw.data, shape: [M / 2, Ks, (2 * D) / M] }).fingerprint).not.toBe(fp);
    expect(PQ.fromCodewords({ data: cw.data, shape: [M, Ks / 2, (2 * D) / M] }).fingerprint).not.toBe(fp);

    const opq = new OPQ({ M, Ks }).fit(X, { pqIter: 2, rotationIter: 2 });
    const identity = { data: new Float32Array(D * D).map((_, i) => (i % (D + 1) === 0 ? 1 : 0)), shape: [D, D] };
    const rotated = OPQ.fromParts(opq.R, opq.codewords);
    expect(rotated.fingerprint).toBe(opq.fingerprint);
    expect(OPQ.fromParts(identity, opq.codewords).fingerprint).not.toBe(opq.fingerprint);  // R is in it
    expect(OPQ.fromBuffer(opq.toBuffer()).fingerprint).toBe(opq.fingerprint);
  });

  test('refit (fit, fitAsync): a new fingerprint, and the old codes are refused', async () => {
    const pq = new PQ({ M, Ks }).fit(X, { iter: 2, seed: 1 });
    const before = pq.fingerprint;
    const codes = pq.encode(X);
    pq.fit(X, { iter: 2, seed: 2 });
    expect(pq.fingerprint).toMatch(HEX);
    expect(pq.fingerprint).not.toBe(before);
    expect(() => pq.decode(codes)).toThrow(foreign('codes', pq.fingerprint, before));
    const second = pq.fingerprint;
    await pq.fitAsync(X, { iter: 2, seed: 3 });
    expect(pq.fingerprint).not.toBe(second);
    expect(() => pq.search(Q, codes, 1)).toThrow(foreign('codes', pq.fingerprint, before));
    // Fitted again as it was: its codes are the first model's again.
    pq.fit(X, { iter: 2, seed: 1 });
    expect(pq.fingerprint).toBe(before);
    expect(() => pq.decode(codes)).not.toThrow();
  });
});

describe('codes carry it', () => {
  const pq = new PQ({ M, Ks }).fit(X, { iter: 2 });

  test('encode and encodeAsync: a non-enumerable, read-only fingerprint; toEqual, JSON and spread see data and shape alone', async () => {
    for (const codes of [pq.encode(X), await pq.encodeAsync(X)]) {
      expect(codes.fingerprint).toBe(pq.fingerprint);
      expect(Object.getOwnPropertyDescriptor(codes, 'fingerprint')).toEqual({ value: pq.fingerprint, enumerable: false, writable: false, configurable: false });
      expect(Object.keys(codes)).toEqual(['data', 'shape']);
      expect(codes).toEqual(plain(codes));
      expect(JSON.parse(JSON.stringify(codes))).not.toHaveProperty('fingerprint');
      expect({ ...codes }.fingerprint).toBeUndefined();
      expect(() => { 'use strict'; codes.fingerprint = 'ffffffffffffffff'; }).toThrow(TypeError);
    }
    expect(Array.from((await pq.encodeAsync(X)).data)).toEqual(Array.from(pq.encode(X).data));
  });

  test('packCodes, unpackCodes, dtable: the model\'s fingerprint; new PackedCodes and new DistanceTable: none', () => {
    const codes = pq.encode(X);
    const packed = pq.packCodes(codes);
    expect(packed.fingerprint).toBe(pq.fingerprint);
    expect(pq.packCodes(plain(codes)).fingerprint).toBe(pq.fingerprint);  // packed by this model: its codes now
    expect(pq.unpackCodes(packed).fingerprint).toBe(pq.fingerprint);
    expect(pq.unpackCodes(packed)).toEqual(plain(codes));
    expect(new PackedCodes(packed.data, packed.N, packed.M).fingerprint).toBeNull();
    expect(new PackedCodes(packed.data, packed.N, packed.M, pq.fingerprint).fingerprint).toBe(pq.fingerprint);
    expect(pq.dtable(q).fingerprint).toBe(pq.fingerprint);
    expect(new DistanceTable(pq.dtable(q).dtable).fingerprint).toBeNull();
  });

  test('an OPQ\'s pq has the OPQ\'s fingerprint (its codes are the OPQ\'s) until it is fitted again', () => {
    const opq = new OPQ({ M, Ks }).fit(X, { pqIter: 2, rotationIter: 2 });
    const codes = opq.encode(X);
    expect(codes.fingerprint).toBe(opq.fingerprint);
    expect(opq.pq.fingerprint).toBe(opq.fingerprint);
    expect(opq.pq.decode(codes).shape).toEqual([600, D]);  // nanopq's opq.pq.decode(opq.encode(X)), in the rotated space
    expect(Array.from(opq.pq.encode(opq.rotate(X)).data)).toEqual(Array.from(codes.data));
    const inner = opq.pq;
    inner.fit(X, { iter: 2 });
    expect(inner.fingerprint).not.toBe(opq.fingerprint);
    expect(() => inner.decode(codes)).toThrow(foreign('codes', inner.fingerprint, opq.fingerprint));
  });
});

describe('codes of another model with the same M and Ks are refused by every method', () => {
  const a = new PQ({ M, Ks }).fit(X, { iter: 2, seed: 1 });
  const b = new PQ({ M, Ks }).fit(X, { iter: 2, seed: 2 });
  const codesA = a.encode(X);

  test.each([['plain', () => codesA], ['packed', () => a.packCodes(codesA)], ['unpacked', () => a.unpackCodes(a.packCodes(codesA))]])(
    '%s codes: an Error naming the argument and both fingerprints; the model\'s own codes pass', async (_kind, codesOf) => {
      const codes = codesOf();
      const refused = await everyMethod(b, codes);
      const name = codes instanceof PackedCodes ? { unpackCodes: 'packed' } : {};
      for (const [method, result] of Object.entries(refused)) {
        expect([method, result]).toEqual([method, foreign(name[method] ?? 'codes', b.fingerprint, a.fingerprint)]);
        expect(result.constructor).toBe(Error);
      }
      for (const [method, result] of Object.entries(await everyMethod(a, codes))) {
        expect([method, result instanceof Error ? result.message : 'ok']).toEqual([method, 'ok']);
      }
    });

  test('an OPQ refuses the codes of an OPQ with its codebook under another R, and of its own codebook as a PQ', async () => {
    const opq = new OPQ({ M, Ks }).fit(X, { pqIter: 2, rotationIter: 2 });
    const identity = { data: new Float32Array(D * D).map((_, i) => (i % (D + 1) === 0 ? 1 : 0)), shape: [D, D] };
    const other = OPQ.fromParts(identity, opq.codewords);
    const asPQ = PQ.fromCodewords(opq.codewords);
    for (const codes of [other.encode(X), asPQ.encode(X)]) {
      for (const result of Object.values(await everyMethod(opq, codes))) {
        expect(result).toEqual(foreign('codes', opq.fingerprint, codes.fingerprint));
      }
    }
  });

  test('refused before any work: adist\'s out is left as it was', () => {
    const out = new Float32Array(600).fill(7);
    expect(() => b.dtable(q).adist(codesA, out)).toThrow(foreign('codes', b.fingerprint, a.fingerprint));
    expect(out.every((v) => v === 7)).toBe(true);
  });

  test('codes without a fingerprint are taken unchecked: { data, shape }, a spread copy, number[][], new PackedCodes, a DistanceTable built by hand', async () => {
    const packedA = a.packCodes(codesA);
    const rows = Array.from({ length: 600 }, (_, i) => Array.from(codesA.data.subarray(i * M, (i + 1) * M)));
    for (const codes of [plain(codesA), { ...codesA }, rows, new PackedCodes(packedA.data, packedA.N, packedA.M)]) {
      for (const [method, result] of Object.entries(await everyMethod(b, codes))) {
        expect([method, result instanceof Error ? result.message : 'ok']).toEqual([method, 'ok']);
      }
    }
    const byHand = new DistanceTable(b.dtable(q).dtable);
    expect(Array.from(byHand.adist(codesA))).toEqual(Array.from(b.dtable(q).adist(plain(codesA))));
    expect(byHand.topk(packedA, 3).ids).toEqual(b.dtable(q).topk(plain(codesA), 3).ids);
    // The same results as before fingerprints: b's distances over a's codes.
    expect(b.search(Q, plain(codesA), 3)).toEqual(b.search(Q, rows, 3));
  });

  test('a fingerprint that is not a string is a TypeError naming it; PackedCodes take only a fingerprint\'s 16 hex digits', () => {
    const odd = { data: codesA.data, shape: codesA.shape, fingerprint: 42 };
    expect(() => b.decode(odd)).toThrow(new TypeError('Expected codes.fingerprint to be a string, got 42'));
    expect(() => b.dtable(q).topk(odd, 1)).toThrow(TypeError);
    // A string of another model's is refused as any other fingerprint.
    expect(() => b.decode({ ...plain(codesA), fingerprint: 'not a fingerprint' })).toThrow(foreign('codes', b.fingerprint, 'not a fingerprint'));
    const { data, N } = a.packCodes(codesA);
    expect(() => new PackedCodes(data, N, M, 'ABC')).toThrow(new TypeError("Expected fingerprint to be a fingerprint of 16 hex digits (0-9, a-f), got 'ABC'"));
    expect(() => new PackedCodes(data, N, M, 7)).toThrow(TypeError);
  });
});

describe('.npk files keep it', () => {
  const pq = new PQ({ M, Ks }).fit(X, { iter: 2, seed: 4 });
  const other = new PQ({ M, Ks }).fit(X, { iter: 2, seed: 5 });
  const packed = pq.packCodes(pq.encode(X));
  const file = path.join(os.tmpdir(), `nanopq-fingerprint-${process.pid}.npk`);
  afterAll(() => fs.rmSync(file, { force: true }));

  test('toBuffer / fromBuffer and save / load: the fingerprint in the header (format version 2, at byte 24)', () => {
    const bytes = packed.toBuffer();
    expect(bytes.readUInt32LE(8)).toBe(2);
    expect(bytes.toString('latin1', 24, 40)).toBe(pq.fingerprint);
    packed.save(file);
    for (const back of [PackedCodes.fromBuffer(bytes), PackedCodes.load(file)]) {
      expect(back.fingerprint).toBe(pq.fingerprint);
      expect(Buffer.from(back.data).equals(Buffer.from(packed.data))).toBe(true);
      expect(() => other.search(Q, back, 1)).toThrow(foreign('codes', other.fingerprint, pq.fingerprint));
    }
    // None: zero bytes, read back as none.
    const none = new PackedCodes(packed.data, packed.N, packed.M).toBuffer();
    expect(none.subarray(24, 40).every((v) => v === 0)).toBe(true);
    expect(PackedCodes.fromBuffer(none).fingerprint).toBeNull();
  });

  test('a version-1 file (no fingerprint: the codes at byte 24) still loads, and is searched unchecked', () => {
    const head = Buffer.alloc(24);
    head.write('NANOPQPK', 0, 'latin1');
    head.writeUInt32LE(1, 8);
    head.writeUInt32LE(M, 12);
    head.writeBigUInt64LE(BigInt(packed.N), 16);
    const v1 = PackedCodes.fromBuffer(Buffer.concat([head, packed.data]));
    expect([v1.N, v1.M, v1.fingerprint, Buffer.from(v1.data).equals(Buffer.from(packed.data))]).toEqual([packed.N, M, null, true]);
    expect(other.search(Q, v1, 2)).toEqual(other.search(Q, other.unpackCodes(v1), 2));
    expect(() => PackedCodes.fromBuffer(Buffer.concat([head, packed.data, Buffer.alloc(16)]))).toThrow(/16 bytes after the packed codes/);
  });

  test('a fingerprint field that is neither hex digits nor zero bytes: a TypeError naming the file\'s byte', () => {
    const bytes = Buffer.from(packed.toBuffer());
    bytes.write('zz', 30, 'latin1');
    expect(() => PackedCodes.fromBuffer(bytes)).toThrow(/^Expected nanopq packed codes \(\.npk\) in bytes at byte 24, got the fingerprint ".*", not 16 hex digits/);
  });
});
