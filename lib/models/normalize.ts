import { Matrix, MatrixLike, VectorLike } from '../core/arrays';
import { toMatrix, toVector } from '../core/validate';

/**
 * Rows scaled to unit length, in a new array (the input is left as it was).
 * For cosine similarity, normalize the database and the queries, then search
 * with `metric: 'dot'` (largest first: the inner product of unit vectors is
 * their cosine). `'l2'` ranks exact unit vectors the same (|a - b|² = 2 - 2 a·b);
 * over PQ codes it differs a little, as decoded vectors are not of unit length.
 * A row of zeros stays zeros. One vector (a `Float32Array` or `number[]`)
 * gives one `Float32Array`.
 */
export function normalize(vecs: MatrixLike): Matrix;
export function normalize(vec: VectorLike): Float32Array;
export function normalize(x: MatrixLike | VectorLike): Matrix | Float32Array {
  const isVector = x instanceof Float32Array || (Array.isArray(x) && x.length > 0 && typeof x[0] === 'number');
  if (isVector) {
    const v = toVector(x, 'vec', (x as VectorLike).length);
    const out = new Float32Array(v.length);
    scaleRow(v, out, 0, v.length);
    return out;
  }
  const m = toMatrix(x, 'vecs');
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) scaleRow(m.data, out, i * m.cols, m.cols);
  return { data: out, shape: [m.rows, m.cols] };
}

/** out[start, start + n) = x[start, start + n) / its norm (float64 sums; zeros stay zeros). */
function scaleRow(x: Float32Array, out: Float32Array, start: number, n: number): void {
  let sum = 0;
  for (let j = start; j < start + n; j++) sum += x[j] * x[j];
  if (sum === 0) return;
  const scale = 1 / Math.sqrt(sum);
  for (let j = start; j < start + n; j++) out[j] = x[j] * scale;
}
