import { CodeArray, CodesLike, Metric } from '../core/arrays';
import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { newFloats } from '../core/pool';
import { checkMetric, checkNoOverlap, checkShape, describe, kFound, toCodes } from '../core/validate';
import { checkCodesOf } from './fingerprint';
import { checkPacked, PackedCodes } from './packed-codes';

/** A DistanceTable over a table this library computed itself (finite by construction), unchecked. */
let computedTable: (data: Float32Array, M: number, Ks: number, metric: Metric, fingerprint: string | null) => DistanceTable;

/** A DistanceTable over a table (M, Ks) this library computed itself, of the model of fingerprint. */
export function tableOf(table: Float32Array, M: number, Ks: number, metric: Metric, fingerprint: string | null): DistanceTable {
  return computedTable(table, M, Ks, metric, fingerprint);
}

/**
 * Distances from one query to every codeword of every subspace, as nanopq's
 * DistanceTable: `dtable[m][ks]` (row-major (M, Ks)) is the squared L2
 * distance (metric 'l2') or the inner product (metric 'dot') between the
 * query's m-th sub-vector and codeword ks of subspace m.
 */
export class DistanceTable {
  readonly dtable: { data: Float32Array; shape: [number, number] };
  readonly metric: Metric;
  /**
   * The fingerprint of the model whose dtable(query) this is: adist and topk
   * refuse codes that carry another. null for a table built here, which
   * checks nothing.
   */
  readonly fingerprint: string | null;

  static {
    defineInspect(DistanceTable, (t) => ({ M: t.dtable.shape[0], Ks: t.dtable.shape[1], metric: t.metric }));
    computedTable = (data, M, Ks, metric, fingerprint) => {
      const table = Object.create(DistanceTable.prototype) as { -readonly [K in keyof DistanceTable]: DistanceTable[K] };
      table.dtable = Object.freeze({ data, shape: Object.freeze([M, Ks]) as [number, number] });
      table.metric = metric;
      table.fingerprint = fingerprint;
      return Object.freeze(table) as DistanceTable;
    };
  }

  /** A table computed elsewhere: dtable (M, Ks), shape checked at run time; the data is used in place. */
  constructor(dtable: { readonly data: Float32Array; readonly shape: readonly number[] }, metric: Metric = 'l2') {
    if (dtable === null || typeof dtable !== 'object' || !(dtable.data instanceof Float32Array)) {
      throw new TypeError(`Expected dtable to be {data: Float32Array, shape: [M, Ks]}, got ${describe(dtable)}`);
    }
    const shape = checkShape(dtable.shape, ['M', 'Ks'], 'dtable', 1);
    if (dtable.data.length !== shape[0] * shape[1]) {
      throw new RangeError(`Expected dtable.data.length to be M * Ks = ${shape[0] * shape[1]}, got ${dtable.data.length}`);
    }
    const nan = dtable.data.findIndex(Number.isNaN);
    if (nan >= 0) {
      throw new RangeError(`Expected no NaN in dtable, got NaN at dtable[${Math.floor(nan / shape[1])}][${nan % shape[1]}]`);
    }
    // Read-only, as the native scans trust the shape.
    this.dtable = Object.freeze({ data: dtable.data, shape: Object.freeze([shape[0], shape[1]]) as [number, number] });
    this.metric = checkMetric(metric);
    this.fingerprint = null;
    Object.freeze(this);
  }

  /**
   * Asymmetric distance from the query to each code, in the codes' order:
   * (N,). `out`, a Float32Array of length N, receives them instead of a new
   * array (a server scanning the same codes for every request reuses one);
   * it must share no memory with the codes or the table (a TypeError says so).
   */
  adist(codes: CodesLike | PackedCodes, out?: Float32Array): Float32Array {
    const [M, Ks] = this.dtable.shape;
    const packed = codes instanceof PackedCodes ? checkPacked(codes, M, Ks, 'codes') : null;
    const { data, rows } = packed ? { data: packed.data, rows: packed.N } : toCodes(codes, 'codes', M, Ks);
    checkCodesOf(codes, 'codes', () => this.fingerprint);
    if (out !== undefined && (!(out instanceof Float32Array) || out.length !== rows)) {
      throw new TypeError(`Expected out to be a Float32Array of length N = ${rows}, got ${describe(out)}`);
    }
    if (out) checkNoOverlap(out, 'out', { codes: data, dtable: this.dtable.data });
    const dists = out ?? newFloats(rows);
    if (packed) native.packedAdist(this.dtable.data, M, packed.data, rows, dists);
    else native.adist(this.dtable.data, M, Ks, data as CodeArray, rows, dists);
    return dists;
  }

  /**
   * The k nearest codes, best first: smallest distance for 'l2', largest inner
   * product for 'dot'; ties go to the lower id. Fewer than k when there are
   * fewer codes.
   */
  topk(codes: CodesLike | PackedCodes, k: number): { ids: Uint32Array; dists: Float32Array } {
    const [M, Ks] = this.dtable.shape;
    const packed = codes instanceof PackedCodes ? checkPacked(codes, M, Ks, 'codes') : null;
    const { data, rows } = packed ? { data: packed.data, rows: packed.N } : toCodes(codes, 'codes', M, Ks);
    checkCodesOf(codes, 'codes', () => this.fingerprint);
    const found = kFound(k, rows);
    const ids = new Uint32Array(found);
    const dists = new Float32Array(found);
    const largestFirst = this.metric === 'dot';
    if (packed) native.packedTopk(this.dtable.data, M, packed.data, rows, found, largestFirst, ids, dists);
    else native.topk(this.dtable.data, M, Ks, data as CodeArray, rows, found, largestFirst, ids, dists);
    return { ids, dists };
  }
}
