// The array types of the public API, and nanopq's code dtype rule.

/** The typed arrays that hold codes, by codeDtype. */
export type CodeArray = Uint8Array | Uint16Array | Uint32Array;

export type Metric = 'l2' | 'dot';
export type CodeDtype = 'uint8' | 'uint16' | 'uint32';

/** A row-major float32 matrix of shape (rows, cols): what methods return. */
export interface Matrix { data: Float32Array; shape: [number, number] }
/**
 * A row-major (N, M) matrix of PQ codes: what encode returns. `fingerprint`,
 * on codes a model made (non-enumerable: a spread copy loses it), is that
 * model's, which the methods that take codes check.
 */
export interface CodeMatrix { data: CodeArray; shape: [number, number]; readonly fingerprint?: string }
/** A row-major (M, Ks, Ds) codebook. */
export interface Codewords { data: Float32Array; shape: [number, number, number] }

/**
 * A row-major float32 matrix as methods take it: `shape` is (rows, cols),
 * checked at run time, so a `number[]` or a readonly tuple (`as const`) will do.
 * The data is read in place, not copied.
 */
export interface MatrixInput { readonly data: Float32Array; readonly shape: readonly number[] }
/**
 * A row-major (N, M) matrix of codes as methods take it (shape checked at run
 * time); a fingerprint, if there is one, must be the model's.
 */
export interface CodeMatrixInput { readonly data: CodeArray; readonly shape: readonly number[]; readonly fingerprint?: string | null }
/** A row-major (M, Ks, Ds) codebook as methods take it (shape checked at run time). */
export interface CodewordsInput { readonly data: Float32Array; readonly shape: readonly number[] }

/** Vectors (N, D): a matrix, or one array per row (copied). */
export type MatrixLike = MatrixInput | readonly (readonly number[])[] | readonly Float32Array[];
/** One vector (D,). */
export type VectorLike = Float32Array | readonly number[];
/** Codes (N, M): a code matrix, or one array of M integers per row (copied). */
export type CodesLike = CodeMatrixInput | readonly (readonly number[])[];

/** nanopq's rule: Ks <= 2**8 -> uint8, <= 2**16 -> uint16, else uint32. */
export function codeDtypeFor(Ks: number): CodeDtype {
  return Ks <= 2 ** 8 ? 'uint8' : Ks <= 2 ** 16 ? 'uint16' : 'uint32';
}

const codeArrayTypes = { uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array };

export function newCodeArray(dtype: CodeDtype, length: number): CodeArray {
  return new codeArrayTypes[dtype](length);
}
