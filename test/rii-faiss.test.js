// A Rii as a Faiss IndexIVFPQ (by_residual false, a flat coarse quantizer of
// the decoded coarse centres, the fine quantizer's codebook, list k holding
// postingLists[k] with the Rii's own codes) and back: nanopqToFaiss(rii) and
// faissToNanopq(index). The index searched over every list is the Rii's
// linear query; over fewer, the linear query of the ids in the lists of the
// centres nearest to the query.
const { PQ, OPQ, Rii, faiss, nanopqToFaiss, faissToNanopq } = require('..');
const { randomMatrix, row } = require('./helpers/data');
const { checkIndexFile } = require('../dist/io/faiss-index.js');
const { FieldReader } = require('./helpers/field-reader');
const { thrown } = require('./helpers/thrown');

const N = 1000, D = 16, M = 4, NLIST = 20;
const X = randomMatrix(N, D, 7);
const Q = randomMatrix(8, D, 99);
const Y = randomMatrix(60, D, 31);

const fitted = new Map();
function codec(Kind, metric = 'l2', Ks = 256) {
  const key = `${Kind.name} ${metric} ${Ks}`;
  if (!fitted.has(key)) fitted.set(key, new Kind({ M, Ks, metric }).fit(X, Kind === OPQ ? { rotationIter: 3, pqIter: 5 } : { iter: 5 }));
  return fitted.get(key);
}

function riiOf(Kind, metric = 'l2') {
  return new Rii({ fineQuantizer: codec(Kind, metric) }).addConfigure(X, { nlist: NLIST, iter: 3 });
}

const innerOf = (index) => (index instanceof faiss.IndexPreTransform ? index.index : index);
/** The PQ that decodes the Rii's codes in the space its centres live in (rotated, for an OPQ). */
const decoderOf = (rii) => (rii.fineQuantizer instanceof OPQ ? rii.fineQuantizer.pq : rii.fineQuantizer);
/** A query as the inner index sees it (rotated, for an OPQ). */
const inner = (rii, q) => (rii.fineQuantizer instanceof OPQ ? rii.fineQuantizer.rotate(q) : q);
const lists = (rii) => rii.postingLists.map((l) => Array.from(l));

/**
 * The same results up to the order of ties: distances within 1e-4 relative,
 * and the same ids where the distance is not the last one returned (an id
 * tied with the k-th may be either).
 */
function expectSameResults(faissIds, faissDists, riiResult) {
  const want = Array.from(riiResult.dists);
  expect(faissDists.length).toBe(want.length);
  faissDists.forEach((d, i) => {
    if (Math.abs(d - want[i]) > 1e-4 * Math.max(1, Math.abs(want[i]))) throw new Error(`distance ${i}: Faiss ${d}, Rii ${want[i]}`);
  });
  const last = want[want.length - 1];
  const close = (d) => Math.abs(d - last) <= 1e-4 * Math.max(1, Math.abs(last));
  const sure = (ids, dists) => ids.filter((_, i) => !close(dists[i])).sort((a, b) => a - b);
  expect(sure(faissIds, faissDists)).toEqual(sure(Array.from(riiResult.ids), want));
}

/** Row i of a Faiss search, as numbers, without the -1 of results not found. */
function resultRow(result, i) {
  const k = result.shape[1];
  const ids = Array.from(result.labels.subarray(i * k, (i + 1) * k), Number);
  const dists = Array.from(result.distances.subarray(i * k, (i + 1) * k));
  const found = ids.indexOf(-1) < 0 ? k : ids.indexOf(-1);
  return [ids.slice(0, found), dists.slice(0, found)];
}

/** The lists of the nprobe coarse centres nearest to q (by the decoded centres, in the metric), as Faiss's quantizer ranks them. */
function nearestLists(rii, q, nprobe) {
  const centres = decoderOf(rii).decode(rii.coarseCenters);
  const x = inner(rii, q);
  const score = (k) => {
    const c = row(centres, k);
    let s = 0;
    for (let j = 0; j < D; j++) s += rii.fineQuantizer.metric === 'dot' ? -x[j] * c[j] : (x[j] - c[j]) ** 2;
    return s;
  };
  return Array.from({ length: rii.nlist }, (_, k) => k).sort((a, b) => score(a) - score(b) || a - b).slice(0, nprobe);
}

function expectSameRii(back, rii) {
  expect(back).toBeInstanceOf(Rii);
  expect(back.fineQuantizer.constructor).toBe(rii.fineQuantizer.constructor);
  expect(back.fineQuantizer.equals(rii.fineQuantizer)).toBe(true);
  expect([back.N, back.M, back.Ks, back.nlist]).toEqual([rii.N, rii.M, rii.Ks, rii.nlist]);
  expect(back.codes.data).toEqual(rii.codes.data);
  expect(back.coarseCenters).toEqual(rii.coarseCenters);
  expect(lists(back)).toEqual(lists(rii));
  expect(back.threshold).toEqual(rii.threshold);
}

describe.each([
  ['PQ, l2', PQ, 'l2'],
  ['OPQ, l2', OPQ, 'l2'],
  ['PQ, dot', PQ, 'dot'],
  ['OPQ, dot', OPQ, 'dot'],
])('a Rii of a %s', (name, Kind, metric) => {
  const rii = riiOf(Kind, metric);

  test('is an IndexIVFPQ without residuals over the decoded centres, its lists the posting lists with the same codes', () => {
    const index = nanopqToFaiss(rii);
    const ivf = innerOf(index);
    expect(index).toBeInstanceOf(Kind === OPQ ? faiss.IndexPreTransform : faiss.IndexIVFPQ);
    expect(ivf).toBeInstanceOf(faiss.IndexIVFPQ);
    expect([index.d, index.ntotal, index.metric, index.isTrained]).toEqual([D, N, metric, true]);
    expect([ivf.nlist, ivf.byResidual, ivf.pq.M, ivf.pq.nbits]).toEqual([NLIST, false, M, 8]);
    expect(ivf.pq.centroids).toEqual(rii.codewords.data);
    const quantizer = ivf.quantizer;
    expect(quantizer).toBeInstanceOf(faiss.IndexFlat);
    expect([quantizer.ntotal, quantizer.metric]).toEqual([NLIST, metric]);
    expect(quantizer.reconstructN(0, NLIST).data).toEqual(decoderOf(rii).decode(rii.coarseCenters).data);
    if (Kind === OPQ) {
      const R = rii.fineQuantizer.R;
      const A = index.chain[0].A;
      for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) expect(A[i * D + j]).toBe(R.data[j * D + i]);
    }
    // Each stored vector decodes from the Rii's code of that id.
    ivf.makeDirectMap('array');
    const decoded = decoderOf(rii).decode(rii.codes);
    expect(ivf.reconstructN(0, N).data).toEqual(decoded.data);
    // With a direct map too, it converts back.
    expectSameRii(faissToNanopq(index), rii);
  });

  test('comes back the same: fine quantizer, codes, centres, posting lists', () => {
    expectSameRii(faissToNanopq(nanopqToFaiss(rii)), rii);
  });

  test('searched over every list, finds what a linear query finds', () => {
    const index = nanopqToFaiss(rii);
    for (const k of [1, 10]) {
      const result = index.search(Q, k, { nprobe: NLIST });
      for (let i = 0; i < Q.shape[0]; i++) {
        const [ids, dists] = resultRow(result, i);
        expectSameResults(ids, dists, rii.query(row(Q, i), { method: 'linear', topk: k }));
      }
    }
  });

  test('searched over nprobe lists, finds the best of the ids in the lists of the nprobe nearest centres', () => {
    const index = nanopqToFaiss(rii);
    const all = rii.postingLists;
    for (const nprobe of [1, 3]) {
      const k = 10;
      const result = index.search(Q, k, { nprobe });
      for (let i = 0; i < Q.shape[0]; i++) {
        const targets = nearestLists(rii, row(Q, i), nprobe).flatMap((l) => Array.from(all[l]));
        const [ids, dists] = resultRow(result, i);
        expect(ids.every((id) => targets.includes(id))).toBe(true);
        expect(ids.length).toBe(Math.min(k, targets.length));
        expectSameResults(ids, dists, rii.query(row(Q, i), { method: 'linear', topk: ids.length, targetIds: targets }));
      }
    }
  });

  test('written and read as a Faiss file, searches the same and converts back the same', () => {
    const index = nanopqToFaiss(rii);
    const bytes = faiss.writeIndex(index);
    const read = faiss.readIndex(bytes);
    expect(read.constructor).toBe(index.constructor);
    expect(Buffer.compare(Buffer.from(faiss.writeIndex(read)), Buffer.from(bytes))).toBe(0);
    const a = index.search(Q, 5, { nprobe: 4 });
    const b = read.search(Q, 5, { nprobe: 4 });
    expect(b.labels).toEqual(a.labels);
    expect(b.distances).toEqual(a.distances);
    expectSameRii(faissToNanopq(read), rii);
  });
});

describe('ids outside the posting lists', () => {
  test('go to the list of the nearest coarse centre, as add() with updatePostingLists would put them', () => {
    const rii = riiOf(PQ);
    const updated = Rii.fromParts(rii.toParts());
    rii.add(Y, { updatePostingLists: false });
    updated.add(Y, { updatePostingLists: true });
    expect(lists(rii).flat().length).toBe(N);
    const index = nanopqToFaiss(rii);
    expect(index.ntotal).toBe(N + Y.shape[0]);
    const back = faissToNanopq(index);
    expect(lists(back)).toEqual(lists(updated));
    expect(back.codes.data).toEqual(rii.codes.data);
    // And searches find them.
    const result = index.search(Y, 1, { nprobe: NLIST });
    for (let i = 0; i < Y.shape[0]; i++) {
      const [ids, dists] = resultRow(result, i);
      expectSameResults(ids, dists, rii.query(row(Y, i), { method: 'linear', topk: 1 }));
    }
  });
});

describe('what cannot be converted', () => {
  test('a Rii without posting lists, or with Ks below 256', () => {
    const bare = new Rii({ fineQuantizer: codec(PQ) });
    bare.add(X);
    expect(() => nanopqToFaiss(bare)).toThrow(/posting lists.*reconfigure\(\)/);
    const small = new Rii({ fineQuantizer: codec(PQ, 'l2', 16) }).addConfigure(X, { nlist: 5, iter: 1 });
    expect(() => nanopqToFaiss(small)).toThrow(/Ks = 256.*got Ks = 16/);
  });

  /** A trained IndexIVFPQ without residuals (of 4-bit codes: Faiss 1.7.3 trains 8-bit ones slowly on a busy machine). */
  function ivfpq(description) {
    const index = faiss.indexFactory(D, description);
    index.byResidual = false;
    index.train(X);
    index.add(X);
    return index;
  }

  test('an IndexIVFPQ of residuals', () => {
    // The file of a converted Rii with by_residual set: a residual IndexIVFPQ without training one.
    const bytes = Buffer.from(faiss.writeIndex(nanopqToFaiss(riiOf(PQ))));
    const r = new FieldReader(bytes);
    checkIndexFile(r);
    bytes[r.fields.get('by_residual')[0].at] = 1;
    const residual = faiss.readIndex(bytes);
    expect(residual.byResidual).toBe(true);
    const err = thrown(() => faissToNanopq(residual));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(/by_residual/);
  });

  test('removed ids are left out of the index and come back removed', () => {
    const rii = riiOf(PQ);
    rii.remove([0, 7, 8]);
    const index = nanopqToFaiss(rii);
    expect(index.ntotal).toBe(rii.N - 3);
    const labels = index.search({ data: X.data.slice(0, 10 * D), shape: [10, D] }, 20, { nprobe: rii.nlist }).labels;
    expect(Array.from(labels).filter((l) => [0n, 7n, 8n].includes(l))).toEqual([]);
    const back = faissToNanopq(index);
    expect([back.N, back.removedCount]).toEqual([rii.N, 3]);
    expect(back.postingLists).toEqual(rii.postingLists);
  });

  test('an IndexIVFPQ whose ids are not rows 0 .. N - 1, each once', () => {
    const beyond = nanopqToFaiss(riiOf(PQ));
    beyond.addWithIds(Y, Array.from({ length: Y.shape[0] }, (_, i) => 5000 + i));
    expect(() => faissToNanopq(beyond)).toThrow(/ids 0 to 3143 in the lists of an IndexIVFPQ of ntotal = 1060 .*got id 50[0-5][0-9] in list/);
    const twice = nanopqToFaiss(riiOf(PQ));
    twice.addWithIds(Y, Array.from({ length: Y.shape[0] }, (_, i) => i));
    expect(() => faissToNanopq(twice)).toThrow(/each id once .*got id [0-5]?[0-9] twice/);
  });

  test('codes of other than 8 bits, a coarse quantizer that is not flat, an untrained index', () => {
    expect(() => faissToNanopq(ivfpq('IVF8,PQ4x4'))).toThrow(/pq.nbits = 8.*got pq.nbits = 4/);
    expect(() => faissToNanopq(ivfpq('IVF8_HNSW4,PQ4x4'))).toThrow(/flat coarse quantizer.*IndexHNSWFlat/);
    const untrained = faiss.indexFactory(D, 'IVF8,PQ4');
    untrained.byResidual = false;
    expect(() => faissToNanopq(untrained)).toThrow(/trained/);
  });

  test('an IndexIVFFlat, named, with the kinds that convert', () => {
    const index = faiss.indexFactory(D, 'IVF8,Flat');
    index.train(X);
    const err = thrown(() => faissToNanopq(index));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(/IndexIVFFlat/);
    expect(err.message).toMatch(/IndexIVFPQ/);
  });
});
