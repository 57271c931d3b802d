// Runs Python (Debian's /usr/bin/python3 with python3-faiss) for cross-checks.
// Where it is missing the test fails, saying what to install: never skipped.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');

const PYTHON = process.env.NANOPQ_PYTHON || '/usr/bin/python3';

function runPython(script, args = []) {
  if (!fs.existsSync(PYTHON)) {
    throw new Error(`${PYTHON} not found: install python3-faiss (sudo apt-get install python3-faiss)`);
  }
  const result = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', timeout: 300000 });
  if (result.status !== 0) {
    throw new Error(`${PYTHON} failed (${result.status}); is python3-faiss installed?\n${result.stderr}`);
  }
  return result.stdout;
}

module.exports = { runPython, PYTHON };
