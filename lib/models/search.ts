import { MatrixLike } from '../core/arrays';
import { native } from '../core/native';
import { kFound, toMatrix } from '../core/validate';

/** k nearest neighbours: row i of ids/dists (shape (nq, k)) holds query i's best k, best first. */
export interface SearchResult { ids: Uint32Array; dists: Float32Array; shape: [number, number] }

/**
 * Exact k-NN by squared L2 distance (Faiss's brute-force search, BLAS, all
 * cores): the ground truth that PQ search is measured against.
 */
export function exactSearch(queries: MatrixLike, database: MatrixLike, k: number): SearchResult {
  const db = toMatrix(database, 'database');
  if (db.cols === 0) throw new RangeError(`Expected database to have at least one column, got shape [${db.rows}, 0]`);
  const q = toMatrix(queries, 'queries', db.cols);
  const found = kFound(k, db.rows);
  const ids = new Uint32Array(q.rows * found);
  const dists = new Float32Array(q.rows * found);
  native.exactSearch(q.data, q.rows, db.data, db.rows, db.cols, found, ids, dists);
  return { ids, dists, shape: [q.rows, found] };
}
