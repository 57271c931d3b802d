// README's (and docs/guide.md's) examples run as written: every js, python and sh block in order, in
// one fresh project that depends on nanopq (each block as a reader would paste
// it, the files one writes read by the next), and the serving example answers
// requests. Python blocks need python3 with faiss (CI installs python3-faiss;
// where it is missing, the test fails and says so).
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { PQ, io } = require('..');
const { randomMatrix } = require('./helpers/data');

const ROOT = path.join(__dirname, '..');
// README's examples, then docs/guide.md's (its line numbers follow README's).
const README = ['README.md', path.join('docs', 'guide.md')].map((file) => fs.readFileSync(path.join(ROOT, file), 'utf8')).join('\n');
const PYTHON = process.env.NANOPQ_PYTHON || '/usr/bin/python3';

/** The fenced blocks of README, in order: { lang, code, line }. */
function blocks() {
  const out = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m; (m = fence.exec(README));) out.push({ lang: m[1], code: m[2], line: README.slice(0, m.index).split('\n').length });
  return out;
}

// Commands for a machine or a checkout (install, build, the test suite), which
// CI runs on its own; the server, which the second test runs.
const runsElsewhere = ({ lang, code }) => !['js', 'python', 'sh'].includes(lang) || /npm install|apt-get|conda |scripts\/setup\.sh/.test(code) ||
  code.includes('http.createServer');

/** A fresh project depending on this checkout, with its `nanopq` command on PATH (as npm links it). */
function project() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-readme-'));
  fs.mkdirSync(path.join(dir, 'node_modules', '.bin'), { recursive: true });
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'nanopq'), 'dir');
  const bin = path.join(dir, 'node_modules', '.bin', 'nanopq');
  fs.writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'dist', 'cli', 'index.js')}" "$@"\n`, { mode: 0o755 });
  return dir;
}

test('every example of README runs as written, in order', () => {
  const dir = project();
  const env = { ...process.env, PATH: `${path.join(dir, 'node_modules', '.bin')}:${process.env.PATH}` };
  const ran = [];
  for (const [i, block] of blocks().entries()) {
    if (runsElsewhere(block)) continue;
    const file = path.join(dir, `block-${i}.${{ js: 'js', python: 'py', sh: 'sh' }[block.lang]}`);
    fs.writeFileSync(file, block.code);
    const command = { js: process.execPath, python: PYTHON, sh: 'bash' }[block.lang];
    const started = Date.now();
    const r = spawnSync(command, [...(block.lang === 'sh' ? ['-e'] : []), file], { cwd: dir, env, encoding: 'utf8', timeout: 300000 });
    if (r.status !== 0) {
      throw new Error(`README.md line ${block.line} (${block.lang}) failed with status ${r.status}:\n${r.stderr || r.error}`);
    }
    ran.push([block.lang, r.stdout]);
    if (process.env.README_TIMES) console.log(`line ${block.line}: ${Date.now() - started} ms`);
  }
  expect(ran.map(([lang]) => lang)).toEqual(['js', 'js', 'js', 'python', 'js', 'sh']);
  // The first search finds the query itself first.
  expect(ran[0][1]).toMatch(/^Uint32Array\(10\) \[\s*0,/);
  // The files the examples wrote are there, and the command line searched them.
  for (const file of ['embeddings.npy', 'embeddings.npq', 'codes.npy', 'index.faiss', 'model.pkl', 'ivf.faiss', 'model.npq', 'model.faiss']) {
    expect(fs.existsSync(path.join(dir, file))).toBe(true);
  }
  const json = ran[5][1].split('\n').find((line) => line.startsWith('{'));
  expect(JSON.parse(json)).toEqual(expect.objectContaining({ ids: expect.any(Array) }));
});

function serverExample() {
  return blocks().find((b) => b.code.includes('http.createServer')).code;
}

test('the HTTP server of "Serving" loads a model once and answers with searchAsync', async () => {
  const dir = project();
  const database = randomMatrix(500, 16, 5);
  const pq = new PQ({ M: 4, Ks: 16 }).fit(database, { iter: 3 });
  pq.save(path.join(dir, 'embeddings.npq'));
  const codes = pq.encode(database);
  io.writeNpy(path.join(dir, 'codes.npy'), codes.data, codes.shape);
  const port = 20000 + (process.pid % 20000);
  const code = serverExample().replace('.listen(8080)', `.listen(${port}, () => console.log('listening'))`);
  expect(code).toMatch(`.listen(${port}`);
  fs.writeFileSync(path.join(dir, 'server.js'), code);
  const server = spawn(process.execPath, ['server.js'], { cwd: dir });
  try {
    await new Promise((resolve, reject) => {
      server.stdout.on('data', resolve);
      server.on('exit', (status) => reject(new Error(`server exited with ${status}`)));
    });
    const queries = [Array.from(database.data.subarray(0, 16)), Array.from(database.data.subarray(16, 32))];
    const post = (body) => fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify(body) });
    const ok = await post({ queries, k: 3 });
    expect(ok.status).toBe(200);
    const expected = pq.search(queries, codes, 3);
    expect(await ok.json()).toEqual({ shape: [2, 3], ids: Array.from(expected.ids), dists: Array.from(expected.dists) });
    const bad = await post({ queries: [[1, 2, 3]], k: 3 });
    expect([bad.status, await bad.text()]).toEqual([400, 'Expected queries to have 16 columns (D), got shape [1, 3]']);
  } finally {
    server.kill();
  }
});
