// The Python peers of `npm run bench` (bench_peer.py, bench_peer_serving.py),
// run by the Python of the tests: /usr/bin/python3 with python3-faiss, or NANOPQ_PYTHON.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { PYTHON } = require('../test/helpers/python');

/** Runs scripts/`script` with `args`: the JSON object it prints last. Throws, naming the Python, when it fails. */
function runPeer(script, args) {
  const p = spawnSync(PYTHON, [path.join(__dirname, script), ...args.map(String)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 << 20 });
  if (p.status !== 0) throw new Error(`the Python peer failed (${PYTHON}; needs python3-faiss), exit ${p.status}`);
  return JSON.parse(p.stdout.trim().split('\n').pop());
}

module.exports = { runPeer };
