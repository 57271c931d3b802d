// The shared fixtures written by Python nanopq 0.2.2 and Faiss 1.7.3.
const fs = require('node:fs');
const path = require('node:path');
const { io } = require('../..');

const FIXTURES = process.env.NANOPQ_FIXTURES || path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures');

function manifest() {
  const file = path.join(FIXTURES, 'manifest.json');
  if (!fs.existsSync(file)) throw new Error(`fixtures not found at ${FIXTURES} (expected ../shared/fixtures beside the checkout)`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function npy(name) {
  return io.readNpy(path.join(FIXTURES, name));
}

module.exports = { FIXTURES, manifest, npy };
