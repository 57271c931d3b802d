// PQ over codebooks trained by Python nanopq 0.2.2 reproduces its results.
const { PQ } = require('..');
const { manifest, npy } = require('./helpers/fixtures');

const cases = manifest().filter((c) => c.kind === 'nanopq-pickle' && c.cls === 'PQ');

test('there are nanopq PQ fixtures', () => {
  expect(cases.length).toBeGreaterThan(0);
});

describe.each(cases.map((c) => [c.name, c]))('%s', (_, c) => {
  const cw = npy(c.codewords);
  const Xb = npy(c.Xb);
  const pq = PQ.fromCodewords({ data: cw.data, shape: cw.shape }, { metric: c.metric });
  const X = { data: Xb.data, shape: Xb.shape };

  test('settings match the pickle', () => {
    expect([pq.M, pq.Ks, pq.metric, pq.codeDtype, pq.Ds * pq.M]).toEqual([c.M, c.Ks, c.metric, c.code_dtype, c.D]);
  });

  test('encode reproduces nanopq\'s codes exactly', () => {
    const expected = npy(c.codes);
    const codes = pq.encode(X);
    expect(codes.shape).toEqual(expected.shape);
    expect(Array.from(codes.data)).toEqual(Array.from(expected.data));
  });

  test('decode reproduces nanopq\'s reconstruction exactly', () => {
    const expected = npy(c.decoded);
    const decoded = pq.decode({ data: npy(c.codes).data, shape: npy(c.codes).shape });
    expect(Array.from(decoded.data)).toEqual(Array.from(expected.data));
  });

  test('adist matches nanopq\'s to float32 rounding', () => {
    const expected = npy(c.adist).data;
    const codes = npy(c.codes);
    const dists = pq.dtable(npy(c.query).data).adist({ data: codes.data, shape: codes.shape });
    expect(dists).toHaveLength(expected.length);
    dists.forEach((d, i) => expect(Math.abs(d - expected[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i]))));
  });
});
