// The graph indexes: a hierarchical graph (HNSW) over the vectors of a
// storage index; a search keeps efSearch candidates. Made by indexFactory
// (e.g. 'HNSW32', 'HNSW32,SQ8') or readIndex.
import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { checkInteger } from '../core/validate';
import { Index, indexHandle, indexPart, registerKind, SearchOptionChecks } from './index-base';
import { pqOf } from './index-pq';
import type { ProductQuantizer } from './product-quantizer';

/** What every HNSW kind shares. */
export abstract class IndexHNSW extends Index {
  constructor() {
    super();
    throw new TypeError(`Expected faiss.indexFactory(d, 'HNSW<M>...') or faiss.readIndex to make an ${new.target.name}`);
  }

  /** Neighbours of a node on the upper levels (2M on level 0). */
  get M(): number { return this.info.M as number; }
  get maxLevel(): number { return this.info.maxLevel as number; }
  /** Candidates a search keeps; a search's own `efSearch` overrides it for that call. */
  get efSearch(): number { return this.info.efSearch as number; }
  set efSearch(value: number) { native.indexSet(indexHandle(this), 'efSearch', checkInteger(value, 'efSearch', 1, 1e6)); }
  /** Candidates kept while adding. */
  get efConstruction(): number { return this.info.efConstruction as number; }
  set efConstruction(value: number) { native.indexSet(indexHandle(this), 'efConstruction', checkInteger(value, 'efConstruction', 1, 1e6)); }
  /** The index that stores the vectors, in graph order (read-only: it changes with the whole index). */
  get storage(): Index { return indexPart(this, 'storage') as Index; }

  protected override searchOptions(): SearchOptionChecks {
    return { efSearch: (v) => checkInteger(v, 'efSearch', 1, 1e6) };
  }
}

export class IndexHNSWFlat extends IndexHNSW {}
export class IndexHNSWPQ extends IndexHNSW {
  /** Its storage's ProductQuantizer (the index's own, not a copy). */
  get pq(): ProductQuantizer { return pqOf(this); }
}
export class IndexHNSWSQ extends IndexHNSW {}

registerKind('IndexHNSWFlat', IndexHNSWFlat);
registerKind('IndexHNSWPQ', IndexHNSWPQ);
registerKind('IndexHNSWSQ', IndexHNSWSQ);

for (const cls of [IndexHNSWFlat, IndexHNSWPQ, IndexHNSWSQ]) {
  defineInspect(cls, (index: IndexHNSW) => ({ d: index.d, M: index.M, efSearch: index.efSearch, ntotal: index.ntotal }));
}
