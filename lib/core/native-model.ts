// A trained PQ or OPQ held natively: the codebook, R for OPQ, and what
// derives from them, built once. Immutable; async calls keep the model they
// started with. A class of this realm over the model's handle, one method per
// native call: the addon frees the model once the handle is collected (see
// collector.ts), and `native` makes its errors again here.
import type { ModelHandle, OnStep, TrainingOptions } from './addon';
import type { CodeArray } from './arrays';
import { native } from './native';

/** A Rii's arrays as its native scans read them: list k is listIds[listStart[k] .. + listSize[k]). */
export interface RiiArrays {
  codes: Uint8Array; N: number; centers: Uint8Array; nlist: number;
  listIds: Uint32Array; listStart: Uint32Array; listSize: Uint32Array; removed: Uint8Array | null;
}
/** A Rii query: topk over targets (sorted, distinct) or every id, linear or through the lists. */
export interface RiiPlan { topk: number; L: number; targets: Uint32Array | null; linear: boolean }

const riiArgs = (ix: RiiArrays, plan: RiiPlan) => [
  ix.codes, ix.N, ix.centers, ix.nlist, ix.listIds, ix.listStart, ix.listSize, ix.removed,
  plan.targets, plan.topk, plan.L, plan.linear] as const;

export class NativeModel {
  readonly #handle: ModelHandle;

  private constructor(handle: ModelHandle) {
    this.#handle = handle;
  }

  /** A model over a codebook (M, Ks, Ds) and, for OPQ, R (D, D); both are copied. */
  static create(codewords: Float32Array, M: number, Ks: number, Ds: number, metric: string, R: Float32Array | null): NativeModel {
    return new NativeModel(native.modelNew(codewords, M, Ks, Ds, metric, R));
  }

  static train(x: Float32Array, n: number, options: TrainingOptions, onStep?: OnStep): NativeModel {
    return new NativeModel(native.train(x, n, options, onStep));
  }

  /** Stops between iterations once stop[0] is nonzero, rejecting with an Error named AbortError. */
  static trainAsync(x: Float32Array, n: number, options: TrainingOptions, onStep: OnStep | undefined,
    stop: Int32Array): Promise<NativeModel> {
    return native.trainAsync(x, n, options, onStep, stop).then((handle) => new NativeModel(handle));
  }

  get Ds(): number {
    return native.modelDs(this.#handle);
  }

  copyCodewords(out: Float32Array): void {
    native.modelCopyCodewords(this.#handle, out);
  }

  copyR(out: Float32Array): void {
    native.modelCopyR(this.#handle, out);
  }

  encode(x: Float32Array, n: number, codesOut: CodeArray): void {
    native.modelEncode(this.#handle, x, n, codesOut);
  }

  encodeAsync(x: Float32Array, n: number, codesOut: CodeArray): Promise<void> {
    return native.modelEncodeAsync(this.#handle, x, n, codesOut);
  }

  decode(codes: CodeArray, n: number, xOut: Float32Array): void {
    native.modelDecode(this.#handle, codes, n, xOut);
  }

  distanceTable(query: Float32Array, tableOut: Float32Array): void {
    native.modelDistanceTable(this.#handle, query, tableOut);
  }

  search(queries: Float32Array, nq: number, codes: CodeArray, n: number, k: number, idsOut: Uint32Array,
    distsOut: Float32Array): void {
    native.modelSearch(this.#handle, queries, nq, codes, n, k, idsOut, distsOut);
  }

  searchAsync(queries: Float32Array, nq: number, codes: CodeArray, n: number, k: number, idsOut: Uint32Array,
    distsOut: Float32Array): Promise<void> {
    return native.modelSearchAsync(this.#handle, queries, nq, codes, n, k, idsOut, distsOut);
  }

  /** search over packed codes (packed-codes.ts). */
  searchPacked(queries: Float32Array, nq: number, packed: Uint8Array, n: number, k: number, idsOut: Uint32Array,
    distsOut: Float32Array): void {
    native.modelSearchPacked(this.#handle, queries, nq, packed, n, k, idsOut, distsOut);
  }

  searchPackedAsync(queries: Float32Array, nq: number, packed: Uint8Array, n: number, k: number, idsOut: Uint32Array,
    distsOut: Float32Array): Promise<void> {
    return native.modelSearchPackedAsync(this.#handle, queries, nq, packed, n, k, idsOut, distsOut);
  }

  /** Rii's queries over its codes and posting lists (model/rii.h). */
  riiSearch(queries: Float32Array, nq: number, index: RiiArrays, plan: RiiPlan, idsOut: Uint32Array, distsOut: Float32Array): void {
    native.riiSearch(this.#handle, queries, nq, ...riiArgs(index, plan), idsOut, distsOut);
  }

  riiSearchAsync(queries: Float32Array, nq: number, index: RiiArrays, plan: RiiPlan, idsOut: Uint32Array,
    distsOut: Float32Array): Promise<void> {
    return native.riiSearchAsync(this.#handle, queries, nq, ...riiArgs(index, plan), idsOut, distsOut);
  }

  /** yOut = x @ R, or x @ R^T when inverse (OPQ only). */
  rotate(x: Float32Array, n: number, inverse: boolean, yOut: Float32Array): void {
    native.modelRotate(this.#handle, x, n, inverse, yOut);
  }

  /** Frees the native model now (async calls already running keep their own reference). */
  dispose(): void {
    native.modelDispose(this.#handle);
  }
}
