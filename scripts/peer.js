// The Python peers of `npm run bench` (bench_peer.py, bench_peer_serving.py,
// bench_peer_indexes.py), run by the Python of the tests: /usr/bin/python3
// with python3-faiss, or NANOPQ_PYTHON.
const { spawn, spawnSync } = require('node:child_process');
const readline = require('node:readline');
const path = require('node:path');
const { PYTHON } = require('../test/helpers/python');

/** Runs scripts/`script` with `args`: the JSON object it prints last. Throws, naming the Python, when it fails. */
function runPeer(script, args) {
  const p = spawnSync(PYTHON, [path.join(__dirname, script), ...args.map(String)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 << 20 });
  if (p.status !== 0) throw new Error(`the Python peer failed (${PYTHON}; needs python3-faiss), exit ${p.status}`);
  return JSON.parse(p.stdout.trim().split('\n').pop());
}

/**
 * Starts scripts/`script` with `args` as a peer that answers requests: one
 * JSON line on stdin each, one JSON line on stdout back. Resolves, once the
 * peer has printed its first line, to { hello: that line's object,
 * request(object) -> Promise of the answer, close() }. Rejects, naming the
 * Python, when it exits first; a request pending when it exits rejects too.
 */
function startPeer(script, args) {
  const p = spawn(PYTHON, [path.join(__dirname, script), ...args.map(String)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = [];
  const failed = (why) => new Error(`the Python peer failed (${PYTHON}; needs python3-faiss), ${why}`);
  let exited = null;
  readline.createInterface({ input: p.stdout }).on('line', (line) => {
    const next = waiting.shift();
    if (!next) return;
    try { next.resolve(JSON.parse(line)); } catch (e) { next.reject(failed(`printed ${line.slice(0, 80)}`)); }
  });
  const fail = (why) => { exited = failed(why); for (const w of waiting.splice(0)) w.reject(exited); };
  p.on('error', (e) => fail(e.message));
  p.stdin.on('error', () => {});  // a peer gone: its exit says so
  p.on('exit', (code) => fail(`exit ${code}`));
  const next = () => (exited ? Promise.reject(exited) : new Promise((resolve, reject) => waiting.push({ resolve, reject })));
  return next().then((hello) => ({
    hello,
    request(object) {
      const answer = next();
      if (!exited) p.stdin.write(`${JSON.stringify(object)}\n`);
      return answer;
    },
    close() { p.stdin.end(); },
  }));
}

module.exports = { runPeer, startPeer };
