// Ids of the user's over an index that numbers its vectors in order: the
// ids given to addWithIds are what searches return. Made by indexFactory
// (e.g. 'IDMap,Flat', 'IDMap2,PQ16') or readIndex.
import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { Index, indexHandle, indexPart, registerKind, SearchOptionChecks, searchOptionsOf } from './index-base';

/** faiss::IndexIDMap: add with addWithIds; removeIds where its index can remove. */
export class IndexIDMap extends Index {
  constructor() {
    super();
    throw new TypeError(`Expected faiss.indexFactory(d, 'IDMap,...') or faiss.readIndex to make an ${new.target.name}`);
  }

  /** The index of the vectors (read-only: it changes with the whole index). */
  get index(): Index { return indexPart(this, 'index') as Index; }
  /** A copy of the ids, in the order of the index's vectors. */
  get idMap(): BigInt64Array { return native.indexIdMap(indexHandle(this)); }

  override add(): void {
    throw new TypeError(`Expected addWithIds() for an ${this.info.kind}, which holds an id for each vector`);
  }
  override async addAsync(): Promise<void> { this.add(); }

  protected override searchOptions(): SearchOptionChecks {
    return searchOptionsOf(this.index);
  }
}

/** faiss::IndexIDMap2: an IndexIDMap that also maps ids back, for reconstruct. */
export class IndexIDMap2 extends IndexIDMap {}

registerKind('IndexIDMap', IndexIDMap);
registerKind('IndexIDMap2', IndexIDMap2);

for (const cls of [IndexIDMap, IndexIDMap2]) {
  defineInspect(cls, (index: IndexIDMap) => ({ d: index.d, ntotal: index.ntotal, index: index.index }));
}
