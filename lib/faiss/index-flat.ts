import type { Metric } from '../core/arrays';
import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { checkInteger, checkMetric } from '../core/validate';
import { Index, registerKind } from './index-base';
import { own } from './object';

/** faiss::IndexFlat: the vectors themselves, searched exhaustively (exact results). */
export class IndexFlat extends Index {
  constructor(d: number, metric: Metric = 'l2') {
    super();
    own(this, native.indexFactory(checkInteger(d, 'd', 1, 2 ** 31 - 1), 'Flat', checkMetric(metric)));
  }
}

/**
 * faiss::IndexScalarQuantizer: each component coded on its own (qtype 8bit,
 * 4bit, fp16, ...). Made by indexFactory (e.g. 'SQ8') or readIndex.
 */
export class IndexScalarQuantizer extends Index {
  constructor() {
    super();
    throw new TypeError("Expected faiss.indexFactory(d, 'SQ8') or faiss.readIndex to make an IndexScalarQuantizer");
  }

  /** The scalar quantizer's type: '8bit', '4bit', '8bit_uniform', '4bit_uniform', 'fp16', '8bit_direct' or '6bit'. */
  get qtype(): string { return this.info.qtype as string; }
}

registerKind('IndexFlat', IndexFlat);
registerKind('IndexScalarQuantizer', IndexScalarQuantizer);

defineInspect(IndexFlat, (index) => ({ d: index.d, metric: index.metric, ntotal: index.ntotal }));
defineInspect(IndexScalarQuantizer, (index) => ({ d: index.d, qtype: index.qtype, ntotal: index.ntotal }));
