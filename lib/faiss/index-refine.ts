import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { checkNumber } from '../core/validate';
import { Index, indexHandle, indexPart, registerKind, SearchOptionChecks, searchOptionsOf } from './index-base';

const checkKFactor = (value: unknown) => checkNumber(value, 'kFactor', 1, 1e6);

/**
 * faiss::IndexRefineFlat: a base index finds k * kFactor candidates, which
 * the full vectors (an IndexFlat) re-rank. Made by indexFactory (e.g.
 * 'IVF256,PQ16,RFlat') or readIndex.
 */
export class IndexRefineFlat extends Index {
  constructor() {
    super();
    throw new TypeError("Expected faiss.indexFactory(d, '...,RFlat') or faiss.readIndex to make an IndexRefineFlat");
  }

  /** The base index (read-only: it changes with the whole index). */
  get index(): Index { return indexPart(this, 'index') as Index; }
  /** The full vectors, an IndexFlat (read-only). */
  get refineIndex(): Index { return indexPart(this, 'refineIndex') as Index; }
  /** Candidates re-ranked, as a multiple of k; a search's own `kFactor` overrides it for that call. */
  get kFactor(): number { return this.info.kFactor as number; }
  set kFactor(value: number) { native.indexSet(indexHandle(this), 'kFactor', checkKFactor(value)); }

  protected override searchOptions(): SearchOptionChecks {
    const base = searchOptionsOf(this.index);
    return { ...base, kFactor: checkKFactor };
  }
}

registerKind('IndexRefineFlat', IndexRefineFlat);

defineInspect(IndexRefineFlat, (index) => ({ d: index.d, ntotal: index.ntotal, kFactor: index.kFactor, index: index.index }));
