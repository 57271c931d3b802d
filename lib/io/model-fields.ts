// A PQ or OPQ as a model file holds it: plain fields, which io/ reads and
// writes and models/ turns into a model (models/fields.ts) and back.
import type { Metric } from '../core/arrays';

export type ModelKind = 'PQ' | 'OPQ';

export interface ModelFields {
  kind: ModelKind;
  metric: Metric;
  M: number;
  Ks: number;
  /** null: not fitted (nor are codewords and R there). */
  Ds: number | null;
  /** (M, Ks, Ds), row-major. */
  codewords: Float32Array | null;
  /** OPQ's rotation (D, D), D = M * Ds. */
  R?: Float32Array | null;
  /** What a nanopq pickle keeps beside the model (.npq does not). */
  verbose?: boolean;
}
