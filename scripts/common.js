// What the demo and the benchmark share: Fashion-MNIST from Debian's
// dataset-fashion-mnist (60,000 train and 10,000 test images of 28x28 = 784
// pixels, as float32 matrices of pixel values 0..255), timing, error, search.
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const DIR = process.env.FASHION_MNIST_DIR || '/usr/share/datasets/fashion-mnist';

function readImages(file) {
  const buf = zlib.gunzipSync(fs.readFileSync(path.join(DIR, file)));
  if (buf.readUInt32BE(0) !== 0x00000803) throw new Error(`${file}: not an IDX image file`);
  const [n, rows, cols] = [buf.readUInt32BE(4), buf.readUInt32BE(8), buf.readUInt32BE(12)];
  const data = new Float32Array(n * rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = buf[16 + i];
  return { data, shape: [n, rows * cols] };
}

/** { train, test } matrices, or null when the data set is not installed. */
function loadFashionMnist() {
  if (!fs.existsSync(path.join(DIR, 'train-images-idx3-ubyte.gz'))) return null;
  return { train: readImages('train-images-idx3-ubyte.gz'), test: readImages('t10k-images-idx3-ubyte.gz') };
}

/** Rows [start, end) of a matrix, in place. */
function rows(x, start, end) {
  const d = x.shape[1];
  return { data: x.data.subarray(start * d, end * d), shape: [end - start, d] };
}

/** [fn(), seconds] */
function timed(fn) {
  const t0 = process.hrtime.bigint();
  const result = fn();
  return [result, Number(process.hrtime.bigint() - t0) / 1e9];
}

/** ||x - y||^2 / ||x||^2 over whole matrices. */
function relativeError(x, y) {
  let num = 0, den = 0;
  for (let i = 0; i < x.data.length; i++) {
    num += (x.data[i] - y.data[i]) ** 2;
    den += x.data[i] ** 2;
  }
  return num / den;
}

module.exports = { loadFashionMnist, DIR, rows, timed, relativeError };
