// A minimal .npy reader and writer for the tests (version 1.0 headers,
// C order, little-endian). The library's own io.readNpy is a later issue.
const fs = require('node:fs');

const dtypes = {
  '<f4': Float32Array, '<f8': Float64Array, '|u1': Uint8Array, '<u2': Uint16Array,
  '<u4': Uint32Array, '<i4': Int32Array, '<i8': BigInt64Array,
};

function readNpy(path) {
  const buf = fs.readFileSync(path);
  const headerLength = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').filter((s) => s.trim()).map(Number);
  const Type = dtypes[descr];
  if (!Type || /'fortran_order':\s*True/.test(header)) throw new Error(`unsupported .npy: ${header}`);
  const body = buf.subarray(10 + headerLength);
  const data = new Type(body.length / Type.BYTES_PER_ELEMENT);
  new Uint8Array(data.buffer).set(body);
  return { data, shape, dtype: descr };
}

function writeNpy(path, data, shape) {
  const descr = Object.keys(dtypes).find((k) => data instanceof dtypes[k]);
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix.writeUInt8(1, 6);
  prefix.writeUInt16LE(header.length, 8);
  fs.writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

module.exports = { readNpy, writeNpy };
