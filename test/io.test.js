// io: .npy, TEXMEX (.fvecs, .ivecs, .bvecs) and IDX files, checked against
// Python numpy (/usr/bin/python3), the shared fixtures and Fashion-MNIST; and
// every malformed file is one TypeError naming the file, offset, expected and found.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { io, PQ } = require('..');
const { FIXTURES } = require('./helpers/fixtures');
const { runPython } = require('./helpers/python');
const { thrown } = require('./helpers/thrown');
const { idxFile, IDX_TYPES } = require('./helpers/idx');

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-io-'));
const FASHION_MNIST = process.env.NANOPQ_FASHION_MNIST || '/usr/share/datasets/fashion-mnist';

function expectError(fn, message, Type = TypeError) {
  const err = thrown(fn);
  expect(err.message).toBe(message);
  expect(err).toBeInstanceOf(Type);
}

// The same values in both languages: element i of an array of dtype.
const PY_VALUES = `
import numpy as np
def values(dtype, n):
    i = np.arange(n, dtype=np.int64)
    if dtype in ('float32', 'float64'):
        return (i * 0.25 - 3 + (1e-9 if dtype == 'float64' else 0)).astype(dtype)
    if dtype.startswith('u'):
        return ((i * 37) % 251 + (2**40 if dtype == 'uint64' else 0)).astype(dtype)
    return ((i * 37) % 251 - 100 - (2**40 if dtype == 'int64' else 0)).astype(dtype)
`;
const TYPES = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
};
function values(dtype, n) {
  const Type = TYPES[dtype];
  return Type.from({ length: n }, (_, i) => {
    if (dtype === 'float32' || dtype === 'float64') return i * 0.25 - 3 + (dtype === 'float64' ? 1e-9 : 0);
    if (dtype === 'uint64') return BigInt((i * 37) % 251) + 2n ** 40n;
    if (dtype === 'int64') return BigInt(((i * 37) % 251) - 100) - 2n ** 40n;
    return dtype.startsWith('u') ? (i * 37) % 251 : ((i * 37) % 251) - 100;
  });
}
/** What readNpy gives for values written as dtype: float64 as float32. */
const asRead = (dtype, data) => (dtype === 'float64' ? Float32Array.from(data) : data);
const SHAPES = [[3, 4], [7], [], [0, 3], [2, 3, 4]];
const count = (shape) => shape.reduce((a, b) => a * b, 1);
// Large arrays are compared as bytes: toEqual walks them element by element, slowly.
const bytesOf = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('npy', () => {
  test.each(Object.keys(TYPES))('%s: written and read back, every shape', (dtype) => {
    const dir = tmp();
    for (const shape of SHAPES) {
      const file = path.join(dir, 'a.npy');
      io.writeNpy(file, values(dtype, count(shape)), shape);
      const got = io.readNpy(file);
      expect(got.dtype).toBe(dtype);
      expect(got.shape).toEqual(shape);
      expect(got.data).toEqual(asRead(dtype, values(dtype, count(shape))));
      expect(io.readNpy(fs.readFileSync(file))).toEqual(got);  // bytes as well as a path
    }
  });

  test('files written by numpy (versions 1.0, 2.0 and 3.0) read equal, and ours are byte for byte numpy.save\'s', () => {
    const dir = tmp();
    runPython(`${PY_VALUES}
import sys, os
from numpy.lib import format
d = sys.argv[1]
for dtype in ${JSON.stringify(Object.keys(TYPES))}:
    for k, shape in enumerate(${JSON.stringify(SHAPES)}):
        a = values(dtype, int(np.prod(shape))).reshape(shape)
        np.save(os.path.join(d, f'{dtype}_{k}.npy'), a)
        for v in (2, 3):
            with open(os.path.join(d, f'{dtype}_{k}_v{v}.npy'), 'wb') as f:
                format.write_array(f, a, version=(v, 0))
`, [dir]);
    const ours = path.join(tmp(), 'ours.npy');
    for (const dtype of Object.keys(TYPES)) {
      SHAPES.forEach((shape, k) => {
        for (const suffix of ['', '_v2', '_v3']) {
          const got = io.readNpy(path.join(dir, `${dtype}_${k}${suffix}.npy`));
          expect([got.dtype, got.shape]).toEqual([dtype, shape]);
          expect(got.data).toEqual(asRead(dtype, values(dtype, count(shape))));
        }
        io.writeNpy(ours, values(dtype, count(shape)), shape);
        expect(fs.readFileSync(ours).equals(fs.readFileSync(path.join(dir, `${dtype}_${k}.npy`)))).toBe(true);
      });
    }
  });

  test('numpy reads what we write, equal', () => {
    const dir = tmp();
    for (const dtype of Object.keys(TYPES)) io.writeNpy(path.join(dir, `${dtype}.npy`), values(dtype, 24), [2, 3, 4]);
    const out = runPython(`${PY_VALUES}
import sys, os
for dtype in ${JSON.stringify(Object.keys(TYPES))}:
    a = np.load(os.path.join(sys.argv[1], f'{dtype}.npy'))
    assert a.dtype == np.dtype(dtype) and a.shape == (2, 3, 4), (dtype, a.dtype, a.shape)
    assert np.array_equal(a, values(dtype, 24).reshape(2, 3, 4)), dtype
print('ok')
`, [dir]);
    expect(out.trim()).toBe('ok');
  });

  test('the shared fixtures read as numpy reads them', () => {
    const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.npy'));
    expect(files.length).toBeGreaterThan(10);
    // Every file's dtype, shape and sum; three files' values in full.
    const whole = ['pq_m4_ks256.codewords.npy', 'opq_m4_ks16.R.npy', 'faiss_pq_m4.labels.npy'];
    const expected = JSON.parse(runPython(`
import sys, os, json, numpy as np
out = {}
for f in sys.argv[2:]:
    a = np.load(os.path.join(sys.argv[1], f))
    values = [str(v) for v in a.ravel().tolist()] if a.dtype == np.int64 else a.ravel().tolist()
    out[f] = [str(a.dtype), list(a.shape), float(a.astype(np.float64).sum()), values if f in ${JSON.stringify(whole).replace(/"/g, "'")} else None]
print(json.dumps(out))
`, [FIXTURES, ...files]));
    for (const f of files) {
      const { data, shape, dtype } = io.readNpy(path.join(FIXTURES, f));
      const [pyDtype, pyShape, pySum, pyValues] = expected[f];
      expect([dtype, shape]).toEqual([pyDtype, pyShape]);
      const sum = Array.from(data, Number).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - pySum)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(pySum)));
      if (pyValues) expect(Array.from(data, (v) => (typeof v === 'bigint' ? String(v) : v))).toEqual(pyValues);
    }
    expect(whole.every((f) => expected[f][3] !== null)).toBe(true);
  });

  describe('bad files: one TypeError naming the file, the offset, what was expected and what was found', () => {
    const good = () => {
      const file = path.join(tmp(), 'good.npy');
      io.writeNpy(file, values('float32', 12), [3, 4]);
      return fs.readFileSync(file);
    };
    /** A version 1.0 file with header text dict (padded as numpy pads) and data bytes. */
    const withHeader = (dict, data = Buffer.alloc(0), version = 1) => {
      const text = dict + ' '.repeat(63 - ((10 + dict.length) % 64)) + '\n';
      const head = Buffer.alloc(10);
      head.write('\x93NUMPY', 'latin1');
      head[6] = version;
      head.writeUInt16LE(text.length, 8);
      return Buffer.concat([head, Buffer.from(text, 'latin1'), data]);
    };

    test('truncated', () => {
      const bytes = good();
      expectError(() => io.readNpy(bytes.subarray(0, 50)), 'Expected a .npy header of 118 bytes in src at byte 10, got 40 bytes left');
      expectError(() => io.readNpy(bytes.subarray(0, 172)), 'Expected 48 bytes of float32 data for shape (3, 4) in src at byte 128, got 44 bytes');
      expectError(() => io.readNpy(bytes.subarray(0, 8)), 'Expected the header length of 2 bytes in src at byte 8, got 0 bytes left');
      expectError(() => io.readNpy(Buffer.concat([bytes, Buffer.alloc(4)])), 'Expected 48 bytes of float32 data for shape (3, 4) in src at byte 128, got 52 bytes');
      for (let n = 0; n < bytes.length; n++) expect(() => io.readNpy(bytes.subarray(0, n))).toThrow(TypeError);
    });

    test('errors name the path when given one', () => {
      const file = path.join(tmp(), 'short.npy');
      fs.writeFileSync(file, good().subarray(0, 50));
      expectError(() => io.readNpy(file), `Expected a .npy header of 118 bytes in ${file} at byte 10, got 40 bytes left`);
      expectError(() => io.readNpy(42), 'Expected a path or a Uint8Array for src, got 42');
    });

    test('a shape claiming more than the file holds is refused before anything is allocated', () => {
      expectError(() => io.readNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", Buffer.alloc(48))),
        'Expected 4.835703278458517e+24 bytes of float32 data for shape (1099511627776, 1099511627776) in src at byte 128, got 48 bytes');
      expectError(() => io.readNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (9007199254740993,), }")),
        'Expected a shape of integers 0 to 2**53 - 1 in src at byte 10, got (9007199254740992)');
      expectError(() => io.readNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3, -4), }")),
        'Expected a shape of integers 0 to 2**53 - 1 in src at byte 10, got (3, -4)');
      const bytes = good();
      bytes.writeUInt16LE(65535, 8);
      expectError(() => io.readNpy(bytes), 'Expected a .npy header of 65535 bytes in src at byte 10, got 166 bytes left');
    });

    test('Fortran order, big-endian data and dtypes we do not read, written by numpy', () => {
      const dir = tmp();
      runPython(`
import sys, os, numpy as np
d = sys.argv[1]
np.save(os.path.join(d, 'fortran.npy'), np.asfortranarray(np.zeros((3, 4), 'f4')))
np.save(os.path.join(d, 'fortran1d.npy'), np.asfortranarray(np.arange(3, dtype='f4')))
np.save(os.path.join(d, 'big.npy'), np.zeros((3, 4), '>f4'))
np.save(os.path.join(d, 'big1.npy'), np.zeros((3,), '>u1'))
np.save(os.path.join(d, 'object.npy'), np.array([{'a': 1}, None], dtype=object), allow_pickle=True)
np.save(os.path.join(d, 'complex.npy'), np.zeros(3, 'c8'))
np.save(os.path.join(d, 'half.npy'), np.zeros(3, 'f2'))
np.save(os.path.join(d, 'bool.npy'), np.zeros(3, bool))
np.save(os.path.join(d, 'str.npy'), np.array(['ab', 'c']))
np.save(os.path.join(d, 'structured.npy'), np.zeros(3, dtype=[('x', '<f4'), ('y', '<i4')]))
np.savez(os.path.join(d, 'arrays.npz'), a=np.zeros(3))
`, [dir]);
      const read = (name) => () => io.readNpy(path.join(dir, name));
      const at = (name) => `in ${path.join(dir, name)} at byte 10`;
      expectError(read('fortran.npy'), `Expected C-order data ${at('fortran.npy')}, got Fortran order for shape (3, 4) (save np.ascontiguousarray(a) instead)`);
      expect(io.readNpy(path.join(dir, 'fortran1d.npy')).data).toEqual(Float32Array.of(0, 1, 2));  // one dimension: the same layout
      expectError(read('big.npy'), `Expected little-endian data ${at('big.npy')}, got big-endian '>f4' (save a.astype('<f4') instead)`);
      expect(io.readNpy(path.join(dir, 'big1.npy')).dtype).toBe('uint8');  // one byte has no order
      const supported = 'a dtype this reader supports (float32, float64, int8, uint8, int16, uint16, int32, uint32, int64, uint64)';
      expectError(read('object.npy'), `Expected ${supported} ${at('object.npy')}, got descr '|O' (Python objects)`);
      expectError(read('complex.npy'), `Expected ${supported} ${at('complex.npy')}, got descr '<c8'`);
      expectError(read('half.npy'), `Expected ${supported} ${at('half.npy')}, got descr '<f2'`);
      expectError(read('bool.npy'), `Expected ${supported} ${at('bool.npy')}, got descr '|b1'`);
      expectError(read('str.npy'), `Expected ${supported} ${at('str.npy')}, got descr '<U2'`);
      expect(thrown(read('structured.npy')).message).toMatch(/^Expected a \.npy header dict .* in .* at byte 10, got a structured dtype, which is not supported at character 10: "\[\('x', '<f4'\), \('y', '<i4'\)\]/);
      expectError(read('arrays.npz'), `Expected the .npy magic "\\x93NUMPY" in ${path.join(dir, 'arrays.npz')} at byte 0, got "PK\\u0003\\u0004\\u0014\\u0000" (a zip archive: an .npz holds .npy files, unzip it first)`);
    });

    test('the header is parsed as a dict literal, strictly', () => {
      const header = (dict) => thrown(() => io.readNpy(withHeader(dict))).message;
      const prefix = "Expected a .npy header dict {'descr': ..., 'fortran_order': ..., 'shape': (...)} in src at byte 10, got";
      expect(header("{'descr': '<f4', 'fortran_order': False, }")).toBe(`${prefix} no key 'shape' at character 41: "}"`);
      expect(header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1, }"))
        .toBe(`${prefix} a key that is not one of descr, fortran_order, shape or is repeated at character 56: "'extra': 1, }"`);
      expect(header("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"))
        .toBe(`${prefix} a key that is not one of descr, fortran_order, shape or is repeated at character 17: "'descr': '<f4', 'fortran_order"`);
      expect(header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } x")).toBe(`${prefix} text after the dict at character 58: "x"`);
      expect(header("{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': (3,), }"))
        .toBe(`${prefix} unexpected text at character 10: "__import__('os').system('true'"`);
      expect(header("{'descr': '<f4', 'fortran_order': False, 'shape': (3 4), }")).toBe(`${prefix} no ',' or ')' at character 53: "4), }"`);
      expect(header("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }")).toBe(`${prefix} no string, True, False or tuple at character 34: "0, 'shape': (3,), }"`);
      expectError(() => io.readNpy(withHeader("{'descr': '<f4', 'fortran_order': 'no', 'shape': (3,), }")),
        "Expected True or False for fortran_order in src at byte 10, got 'no'");
      // Python 2's numpy wrote longs, and spacing and quotes vary: all are the same literal.
      expect(io.readNpy(withHeader('{"shape":(2L,1L),"fortran_order":False,"descr":"<f4"}', Buffer.alloc(8))).shape).toEqual([2, 1]);
      expect(io.readNpy(withHeader("  {  'descr'  :  '<f4' , 'fortran_order':False,'shape':( 2 , )  }  ", Buffer.alloc(8))).shape).toEqual([2]);
    });

    test('versions other than 1.0, 2.0 and 3.0, and bad magic', () => {
      const bytes = good();
      bytes[6] = 4;
      expectError(() => io.readNpy(bytes), 'Expected .npy format version 1.0, 2.0 or 3.0 in src at byte 6, got 4.0');
      expectError(() => io.readNpy(Buffer.from('hello world')), 'Expected the .npy magic "\\x93NUMPY" in src at byte 0, got "hello "');
      expectError(() => io.readNpy(Buffer.alloc(0)), 'Expected the .npy magic "\\x93NUMPY" in src at byte 0, got ""');
    });

    test('writeNpy checks its arguments', () => {
      const file = path.join(tmp(), 'a.npy');
      expectError(() => io.writeNpy(file, new Float32Array(10), [3, 4]), 'Expected data.length to be the product of shape [3, 4] = 12, got 10', RangeError);
      expectError(() => io.writeNpy(file, [1, 2, 3], [3]),
        'Expected a typed array of a .npy dtype (float32, float64, int8, uint8, int16, uint16, int32, uint32, int64, uint64) for data, got an array of length 3');
      expectError(() => io.writeNpy(file, new Float32Array(3), [3.5]), 'Expected shape to be an array of integers 0 to 2**53 - 1, got an array of length 1');
      expectError(() => io.writeNpy(3, new Float32Array(3), [3]), 'Expected a file path (string) for dst, got 3');
      expect(fs.existsSync(file)).toBe(false);
    });
  });

  test('a view of a larger buffer, and unaligned bytes, read the same', () => {
    const file = path.join(tmp(), 'a.npy');
    io.writeNpy(file, values('float64', 12), [3, 4]);
    const bytes = fs.readFileSync(file);
    const unaligned = new Uint8Array(bytes.length + 3);
    unaligned.set(bytes, 3);
    const got = io.readNpy(unaligned.subarray(3));
    expect(got.data).toEqual(Float32Array.from(values('float64', 12)));
    unaligned.fill(0);
    expect(got.data[1]).toBe(Math.fround(-2.75 + 1e-9));  // a copy: the caller's bytes may be reused
  });
});

describe('TEXMEX .fvecs / .ivecs / .bvecs', () => {
  const formats = [
    ['fvecs', io.readFvecs, io.writeFvecs, Float32Array, '<f4'],
    ['ivecs', io.readIvecs, io.writeIvecs, Int32Array, '<i4'],
    ['bvecs', io.readBvecs, io.writeBvecs, Uint8Array, 'u1'],
  ];

  test.each(formats)('%s: written and read back, and read by numpy equal', (ext, read, write, Type, dtype) => {
    const dir = tmp();
    const matrix = { data: Type.from({ length: 5 * 7 }, (_, i) => (i * 37) % 251 - (ext === 'bvecs' ? 0 : 100)), shape: [5, 7] };
    const file = path.join(dir, `a.${ext}`);
    write(file, matrix);
    expect(read(file)).toEqual(matrix);
    expect(read(fs.readFileSync(file))).toEqual(matrix);
    const out = runPython(`
import sys, numpy as np
raw = np.fromfile(sys.argv[1], dtype=np.uint8)
rows = raw.reshape(5, -1)
assert (rows[:, :4].copy().view('<i4') == 7).all()
print(' '.join(str(v) for v in rows[:, 4:].copy().view('${dtype}').ravel().tolist()))
`, [file]);
    expect(out.trim().split(' ').map(Number)).toEqual(Array.from(matrix.data));
  });

  test.each(formats)('%s: files written by numpy read equal', (ext, read, _, Type, dtype) => {
    const file = path.join(tmp(), `b.${ext}`);
    runPython(`
import sys, numpy as np
x = ((np.arange(4 * 6) * 37) % 251 - ${ext === 'bvecs' ? 0 : 100}).astype('${dtype}').reshape(4, 6)
d = np.full((4, 1), 6, '<i4').view(np.uint8)
np.hstack([d, x.view(np.uint8)]).tofile(sys.argv[1])
`, [file]);
    expect(read(file)).toEqual({ data: Type.from({ length: 24 }, (_, i) => (i * 37) % 251 - (ext === 'bvecs' ? 0 : 100)), shape: [4, 6] });
  });

  test('writeFvecs takes any MatrixLike; an empty file is zero rows', () => {
    const file = path.join(tmp(), 'a.fvecs');
    io.writeFvecs(file, [[1, 2], [3, 4], [5, 6]]);
    expect(io.readFvecs(file)).toEqual({ data: Float32Array.of(1, 2, 3, 4, 5, 6), shape: [3, 2] });
    io.writeFvecs(file, []);
    expect(fs.statSync(file).size).toBe(0);
    expect(io.readFvecs(file)).toEqual({ data: new Float32Array(0), shape: [0, 0] });
  });

  test('an .fvecs file trains a PQ as it is read', () => {
    const file = path.join(tmp(), 'a.fvecs');
    io.writeFvecs(file, { data: Float32Array.from({ length: 200 * 8 }, (_, i) => Math.sin(i)), shape: [200, 8] });
    expect(new PQ({ M: 2, Ks: 8 }).fit(io.readFvecs(file), { iter: 3 }).encode(io.readFvecs(file)).shape).toEqual([200, 2]);
  });

  test('writing rows larger than a write chunk, and many rows across chunks', () => {
    const file = path.join(tmp(), 'big.fvecs');
    const wide = { data: Float32Array.from({ length: 3 * 2 ** 20 }, (_, i) => i % 1000), shape: [3, 2 ** 20] };
    io.writeFvecs(file, wide);
    const readWide = io.readFvecs(file);
    expect(readWide.shape).toEqual(wide.shape);
    expect(bytesOf(readWide.data).equals(bytesOf(wide.data))).toBe(true);
    const tall = { data: Uint8Array.from({ length: 300000 * 16 }, (_, i) => i % 251), shape: [300000, 16] };
    io.writeBvecs(file, tall);
    const readTall = io.readBvecs(file);
    expect(readTall.shape).toEqual(tall.shape);
    expect(bytesOf(readTall.data).equals(bytesOf(tall.data))).toBe(true);
  });

  test('bad files', () => {
    const good = (() => {
      const file = path.join(tmp(), 'a.fvecs');
      io.writeFvecs(file, { data: new Float32Array(4 * 3), shape: [4, 3] });
      return fs.readFileSync(file);
    })();
    const ragged = Buffer.from(good);
    ragged.writeInt32LE(2, 32);
    expectError(() => io.readFvecs(ragged), 'Expected d = 3 (as row 0 of a .fvecs file) for row 2 in src at byte 32, got d = 2');
    expectError(() => io.readFvecs(good.subarray(0, 40)), 'Expected row 2 of 16 bytes (d = 3) of a .fvecs file in src at byte 32, got 8 bytes left');
    expectError(() => io.readIvecs(good.subarray(0, 2)), 'Expected the dimension of row 0 of 4 bytes in src at byte 0, got 2 bytes left');
    const zero = Buffer.from(good);
    zero.writeInt32LE(0, 0);
    expectError(() => io.readBvecs(zero), 'Expected a dimension d >= 1 for row 0 of a .bvecs file in src at byte 0, got 0');
    const huge = Buffer.from(good);
    huge.writeInt32LE(2 ** 31 - 1, 0);
    expectError(() => io.readFvecs(huge), 'Expected row 0 of 8589934592 bytes (d = 2147483647) of a .fvecs file in src at byte 0, got 64 bytes left');
    for (let n = 1; n < good.length; n++) if (n % 16) expect(() => io.readFvecs(good.subarray(0, n))).toThrow(TypeError);
  });

  test('writers check their arguments', () => {
    const file = path.join(tmp(), 'a.ivecs');
    expectError(() => io.writeIvecs(file, { data: new Float32Array(6), shape: [2, 3] }),
      'Expected matrix.data to be an Int32Array, got a Float32Array of length 6');
    expectError(() => io.writeBvecs(file, { data: new Uint8Array(5), shape: [2, 3] }),
      'Expected matrix.data.length to be rows * cols = 6 for shape [2, 3], got 5', RangeError);
    expectError(() => io.writeBvecs(file, { data: new Uint8Array(0), shape: [2, 0] }),
      'Expected 1 <= d <= 2147483647 columns in matrix (each row stores d as int32), got shape [2, 0]', RangeError);
    expectError(() => io.writeFvecs(file, { data: new Float64Array(6), shape: [2, 3] }),
      'Expected matrix.data to be a Float32Array, got a Float64Array of length 6');
    expectError(() => io.writeFvecs(undefined, [[1]]), 'Expected a file path (string) for dst, got undefined');
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('IDX', () => {
  const sample = { uint8: [0, 1, 255, 128], int8: [-128, -1, 0, 127], int16: [-32768, -1, 300, 32767], int32: [-5, 16777216, 7, 0],
    float32: [0.5, -1.25, 3e-8, 1e30], float64: [0.1, -2.5, 1e-300, 7] };

  test.each(Object.keys(IDX_TYPES))('%s, gzipped or not, as a float32 matrix', (dtype) => {
    const bytes = idxFile(dtype, [2, 1, 2], sample[dtype]);
    for (const src of [bytes, zlib.gzipSync(bytes)]) {
      expect(io.readIdx(src)).toEqual({ data: Float32Array.from(sample[dtype]), shape: [2, 2], dims: [2, 1, 2], dtype });
    }
  });

  describe('Fashion-MNIST (dataset-fashion-mnist)', () => {
    const file = (name) => {
      const p = path.join(FASHION_MNIST, name);
      if (!fs.existsSync(p)) throw new Error(`${p} not found: install the Fashion-MNIST files (sudo apt-get install dataset-fashion-mnist) or set NANOPQ_FASHION_MNIST`);
      return p;
    };

    test('images and labels read as numpy reads them, and train a PQ as they are', () => {
      const images = io.readIdx(file('t10k-images-idx3-ubyte.gz'));
      const labels = io.readIdx(file('t10k-labels-idx1-ubyte.gz'));
      expect([images.shape, images.dims, images.dtype]).toEqual([[10000, 784], [10000, 28, 28], 'uint8']);
      expect([labels.shape, labels.dims, labels.dtype]).toEqual([[10000, 1], [10000], 'uint8']);
      const py = JSON.parse(runPython(`
import sys, gzip, json, numpy as np
images = np.frombuffer(gzip.open(sys.argv[1]).read(), np.uint8, offset=16).reshape(-1, 784)
labels = np.frombuffer(gzip.open(sys.argv[2]).read(), np.uint8, offset=8)
print(json.dumps({'first': images[0].tolist(), 'last': images[-1].tolist(), 'sums': images.sum(axis=1, dtype=np.int64).tolist(), 'labels': labels.tolist()}))
`, [file('t10k-images-idx3-ubyte.gz'), file('t10k-labels-idx1-ubyte.gz')]));
      expect(Array.from(images.data.subarray(0, 784))).toEqual(py.first);
      expect(Array.from(images.data.subarray(9999 * 784))).toEqual(py.last);
      const sums = Array.from({ length: 10000 }, (_, i) => images.data.subarray(i * 784, (i + 1) * 784).reduce((a, b) => a + b, 0));
      expect(sums).toEqual(py.sums);
      expect(Array.from(labels.data)).toEqual(py.labels);
      const pq = new PQ({ M: 8, Ks: 16 }).fit(images, { iter: 2 });
      expect(pq.encode(images).shape).toEqual([10000, 8]);
    });

    test('the training set, gzipped and not', () => {
      const gz = fs.readFileSync(file('train-images-idx3-ubyte.gz'));
      const images = io.readIdx(gz);
      expect([images.shape, images.dims]).toEqual([[60000, 784], [60000, 28, 28]]);
      expect(bytesOf(io.readIdx(zlib.gunzipSync(gz)).data).equals(bytesOf(images.data))).toBe(true);
    });
  });

  test('bad files', () => {
    const good = idxFile('uint8', [3, 2, 2], Array.from({ length: 12 }, (_, i) => i));
    expectError(() => io.readIdx(good.subarray(0, 20)), 'Expected 12 bytes of uint8 data for dimensions [3, 2, 2] in src at byte 16, got 4 bytes');
    expectError(() => io.readIdx(Buffer.concat([good, Buffer.alloc(1)])), 'Expected 12 bytes of uint8 data for dimensions [3, 2, 2] in src at byte 16, got 13 bytes');
    expectError(() => io.readIdx(Buffer.from('PK\x03\x04 a zip')), 'Expected an IDX file (bytes 00 00, or 1f 8b if gzipped) in src at byte 0, got bytes 50 4b');
    const type = Buffer.from(good);
    type[2] = 0x0a;
    expectError(() => io.readIdx(type), 'Expected an IDX element type (0x08 ubyte, 0x09 sbyte, 0x0B short, 0x0C int, 0x0D float, 0x0E double) in src at byte 2, got 0x0a');
    const none = Buffer.from(good);
    none[3] = 0;
    expectError(() => io.readIdx(none), 'Expected at least one dimension in src at byte 3, got 0');
    const huge = Buffer.from(good);
    huge.writeUInt32BE(0xffffffff, 4);
    expectError(() => io.readIdx(huge), 'Expected 17179869180 bytes of uint8 data for dimensions [4294967295, 2, 2] in src at byte 16, got 12 bytes');
    for (let n = 0; n < good.length; n++) expect(() => io.readIdx(good.subarray(0, n))).toThrow(TypeError);
  });

  test('a gzip file whose header holds a long file name (gzip -N) reads as the file', () => {
    const bytes = idxFile('uint8', [3, 2, 2], Array.from({ length: 12 }, (_, i) => i));
    const gz = zlib.gzipSync(bytes);
    const named = Buffer.concat([gz.subarray(0, 3), Buffer.from([gz[3] | 8]), gz.subarray(4, 10),
      Buffer.from('n'.repeat(5000) + '\0'), gz.subarray(10)]);
    expect(zlib.gunzipSync(named).equals(bytes)).toBe(true);
    expect(Array.from(io.readIdx(named).data)).toEqual(Array.from(io.readIdx(bytes).data));
  });

  test('bad gzip: corrupt, truncated, or a bomb, each an error bounded by what the header gives', () => {
    const good = zlib.gzipSync(idxFile('uint8', [3, 2, 2], Array.from({ length: 12 }, (_, i) => i)));
    const corrupt = Buffer.from(good);
    corrupt[corrupt.length - 6] ^= 1;  // the CRC
    expectError(() => io.readIdx(corrupt), 'Expected gzip data in src at byte 0, got a zlib error: incorrect data check');
    expectError(() => io.readIdx(good.subarray(0, good.length - 4)), 'Expected gzip data in src at byte 0, got a zlib error: unexpected end of file');
    // 784 bytes of image behind its header, then 100 MB of zeros: 100 kB gzipped.
    const bomb = (() => {
      const gzip = zlib.createGzip();
      const chunks = [];
      gzip.on('data', (c) => chunks.push(c));
      gzip.write(idxFile('uint8', [1, 28, 28], new Array(784).fill(7)));
      const zeros = Buffer.alloc(2 ** 20);
      for (let i = 0; i < 100; i++) gzip.write(zeros);
      return new Promise((resolve) => gzip.end(() => resolve(Buffer.concat(chunks))));
    })();
    return bomb.then((bytes) => {
      expect(bytes.length).toBeLessThan(200000);
      expectError(() => io.readIdx(bytes), 'Expected gzip data of at most 800 bytes, as its IDX header gives in src at byte 0, got more');
      // A header claiming more than any Buffer holds is refused before inflating.
      const claim = zlib.gzipSync(idxFile('uint8', [0xffffffff, 0xffffffff, 0xffffffff], []));
      expect(thrown(() => io.readIdx(claim)).message).toMatch(/^Expected dimensions of at most \d+ bytes in src \(gunzipped\) at byte 12, got \[4294967295, 4294967295, 4294967295\]$/);
    });
  });
});

test('io is exported from both entries with every reader and writer', () => {
  const names = ['readNpy', 'writeNpy', 'readFvecs', 'readIvecs', 'readBvecs', 'writeFvecs', 'writeIvecs', 'writeBvecs', 'readIdx'];
  expect(Object.keys(io)).toEqual(expect.arrayContaining(names));
});
