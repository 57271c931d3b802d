// The chart of `npm run bench -- --chart FILE.svg`: recall@10 of the first
// 1,000 queries against bytes per vector (M = 4 ... 56, Ks = 256, so M bytes),
// for our PQ and OPQ and for Faiss's IndexPQ trained by Python on the same
// arrays (by scripts/bench_peer.py --chart, in the run of the table's peers).
// The table's M = 8 models and codes are reused, not fitted again. Drawn with
// Vega-Lite, rendered to SVG by Vega without a browser.
const fs = require('node:fs');
const { PQ, OPQ } = require('..');
const { recallAt, rows } = require('./common');

const MS = [4, 8, 16, 28, 56], Ks = 256, TRAIN = 20000, K = 10;

/**
 * Measures every point, writes the SVG to `file` and returns the points.
 * `theirs`: what bench_peer.py printed given --chart MS; `fitted`: the table's
 * { M, pq, codes, opq, opqCodes } (trained as here), used at its M.
 */
async function recallChart(log, { train: X, test: Xq, random }, truth, file, theirs, fitted) {
  const queries = rows(Xq, 0, truth.length), Xt = rows(X, 0, TRAIN);
  const recall = (model, codes = model.encode(X)) => recallAt(K, model.search(queries, codes, K).ids, K, truth);
  const points = [];
  for (const M of MS) {
    const { pq, codes, opq, opqCodes } = M === fitted.M ? fitted : {
      pq: new PQ({ M, Ks }).fit(Xt, { iter: 20, seed: 123 }),
      opq: new OPQ({ M, Ks }).fit(Xt, { pqIter: 20, rotationIter: 10, seed: 123 }),
    };
    points.push({ bytes: M, method: 'nanopq (Node) PQ', recall: recall(pq, codes) });
    points.push({ bytes: M, method: 'nanopq (Node) OPQ', recall: recall(opq, opqCodes) });
    log(`chart: M = ${M}: PQ ${points.at(-2).recall.toFixed(3)}, OPQ ${points.at(-1).recall.toFixed(3)}`);
  }
  for (const M of MS) {
    const ids = theirs[`faiss_top10_m${M}`];
    if (ids) points.push({ bytes: M, method: 'Faiss IndexPQ (Python)', recall: recallAt(K, ids, K, truth) });
  }
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const spec = vegaLite.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `recall@${K} of ${truth.length} ${random ? 'RANDOM' : 'Fashion-MNIST'} queries against ${X.shape[0]} vectors (Ks = 256)`,
    width: 480,
    height: 300,
    data: { values: points },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'bytes', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: MS }, title: 'bytes per vector (M)' },
      y: { field: 'recall', type: 'quantitative', scale: { domain: [0, 1] }, title: `recall@${K}` },
      color: { field: 'method', type: 'nominal', title: null },
      strokeDash: { field: 'method', type: 'nominal' },
    },
  }).spec;
  const svg = await new vega.View(vega.parse(spec), { renderer: 'none' }).toSVG();
  fs.writeFileSync(file, svg);
  return points;
}

module.exports = { recallChart, MS };
