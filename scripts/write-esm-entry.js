// Copies the hand-written ES module entry next to the compiled CommonJS one.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
fs.copyFileSync(path.join(root, 'lib', 'index.mjs'), path.join(root, 'dist', 'index.mjs'));
fs.copyFileSync(path.join(root, 'lib', 'index.d.mts'), path.join(root, 'dist', 'index.d.mts'));
