// What the tests of the two pickle readers (io.readNanopqPickle,
// io.readRiiPickle) share: pickles written opcode by opcode, hostile ones
// read in a child process, and random byte changes of a good one.
const { spawnSync } = require('node:child_process');

/** A pickle of parts: strings as latin1 bytes, arrays and Buffers as they are. */
const pickleOf = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

/**
 * What io[reader] makes of each of files ({ name: bytes }): 'read', or the
 * error as "Name: message". In a child process with a small heap and a time
 * limit, so that a check that stops working shows as a failure, not a hung run.
 */
function readInChild(reader, files) {
  const script = `
    const read = require(${JSON.stringify(require.resolve('../..'))}).io[${JSON.stringify(reader)}];
    const out = {};
    for (const [name, b64] of Object.entries(JSON.parse(require('fs').readFileSync(0, 'utf8')))) {
      try { read(Buffer.from(b64, 'base64')); out[name] = 'read'; }
      catch (err) { out[name] = err.constructor.name + ': ' + err.message; }
    }
    console.log(JSON.stringify(out));`;
  const input = JSON.stringify(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.toString('base64')])));
  const run = spawnSync(process.execPath, ['--max-old-space-size=96', '-e', script], { input, encoding: 'utf8', timeout: 60000 });
  expect(run.error).toBeUndefined();
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout);
}

/**
 * count copies of original with 1 to 3 bytes changed at random (next: a
 * seeded generator), each read by read: an instance of Kind, or a TypeError
 * naming src.
 */
function expectEachMutationReadOrRefused(original, next, count, read, Kind) {
  for (let i = 0; i < count; i++) {
    const bytes = Buffer.from(original);
    for (let k = 1 + Math.floor(next() * 3); k > 0; k--) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
    try {
      expect(read(bytes)).toBeInstanceOf(Kind);
    } catch (err) {
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toMatch(/^Expected .* in src(?: at byte \d+)?, got /);
    }
  }
}

module.exports = { pickleOf, readInChild, expectEachMutationReadOrRefused };
