// README's serving example, as written, answers requests: the same ids as
// search(), and a 400 naming the problem for bad input.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { PQ } = require('..');
const { randomMatrix } = require('./helpers/data');

const ROOT = path.join(__dirname, '..');

function serverExample() {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Serving'));
  return section.slice(section.indexOf('```js') + 5, section.indexOf('```', section.indexOf('```js') + 5));
}

test('the HTTP server of "Serving" loads a model once and answers with searchAsync', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-readme-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'nanopq'), 'dir');
  const database = randomMatrix(500, 16, 5);
  const pq = new PQ({ M: 4, Ks: 16 }).fit(database, { iter: 3 });
  pq.save(path.join(dir, 'model.npq'));
  const port = 20000 + (process.pid % 20000);
  const code = serverExample().replace('.listen(8080)', `.listen(${port}, () => console.log('listening'))`);
  expect(code).toMatch(`.listen(${port}`);
  const script = `const database = { data: new Float32Array(require('node:fs').readFileSync('db.f32').buffer.slice(0)), shape: [500, 16] };\n${code}`;
  fs.writeFileSync(path.join(dir, 'db.f32'), database.data);
  fs.writeFileSync(path.join(dir, 'server.js'), script);
  const server = spawn(process.execPath, ['server.js'], { cwd: dir, env: { ...process.env, MODEL: 'model.npq' } });
  try {
    await new Promise((resolve, reject) => {
      server.stdout.on('data', resolve);
      server.on('exit', (status) => reject(new Error(`server exited with ${status}`)));
    });
    const queries = [Array.from(database.data.subarray(0, 16)), Array.from(database.data.subarray(16, 32))];
    const post = (body) => fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify(body) });
    const ok = await post({ queries, k: 3 });
    expect(ok.status).toBe(200);
    const expected = pq.search(queries, pq.encode(database), 3);
    expect(await ok.json()).toEqual({ shape: [2, 3], ids: Array.from(expected.ids), dists: Array.from(expected.dists) });
    const bad = await post({ queries: [[1, 2, 3]], k: 3 });
    expect([bad.status, await bad.text()]).toEqual([400, 'Expected queries to have 16 columns (D), got shape [1, 3]']);
  } finally {
    server.kill();
  }
});
