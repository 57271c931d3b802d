// The inverted-file indexes: a coarse quantizer (an index of nlist
// centroids) assigns each vector to a list, and a search visits the nprobe
// nearest lists. Made by indexFactory (e.g. 'IVF256,PQ16') or readIndex.
import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { checkInteger, checkName, describe } from '../core/validate';
import { Index, indexHandle, indexPart, registerKind, SearchOptionChecks } from './index-base';
import { pqOf } from './index-pq';
import type { ProductQuantizer } from './product-quantizer';

export type DirectMap = 'none' | 'array' | 'hashtable';

/** What every IVF kind shares. */
export abstract class IndexIVF extends Index {
  constructor() {
    super();
    throw new TypeError(`Expected faiss.indexFactory(d, 'IVF<nlist>,...') or faiss.readIndex to make an ${new.target.name}`);
  }

  get nlist(): number { return this.info.nlist as number; }
  /** Lists a search visits (1 to nlist); a search's own `nprobe` overrides it for that call. */
  get nprobe(): number { return this.info.nprobe as number; }
  set nprobe(value: number) {
    native.indexSet(indexHandle(this), 'nprobe', checkInteger(value, 'nprobe', 1, this.nlist));
  }
  /** Codes a search visits at most (0: no limit). */
  get maxCodes(): number { return this.info.maxCodes as number; }
  set maxCodes(value: number) {
    native.indexSet(indexHandle(this), 'maxCodes', checkInteger(value, 'maxCodes', 0));
  }
  /** The coarse quantizer, an index of the nlist centroids (read-only: it changes with the whole index). */
  get quantizer(): Index { return indexPart(this, 'quantizer') as Index; }
  /** The map from id to list that reconstruct needs: 'none' until makeDirectMap(). */
  get directMap(): DirectMap { return this.info.directMap as DirectMap; }

  /**
   * Makes (or drops, 'none') the map from id to list that reconstruct needs:
   * 'array' for the ids 0 .. ntotal - 1 of add(), 'hashtable' for any ids.
   */
  makeDirectMap(type: DirectMap = 'array'): void {
    native.indexMakeDirectMap(indexHandle(this), checkName(type, 'directMap', 'type'));
  }

  protected override searchOptions(): SearchOptionChecks {
    return {
      nprobe: (v) => checkInteger(v, 'nprobe', 1, this.nlist),
      maxCodes: (v) => checkInteger(v, 'maxCodes', 1),
    };
  }
}

/** faiss::IndexIVFFlat: the vectors themselves in each list. */
export class IndexIVFFlat extends IndexIVF {}

/** faiss::IndexIVFPQ: PQ codes in each list, of the residual to the list's centroid when byResidual. */
export class IndexIVFPQ extends IndexIVF {
  /** The index's own ProductQuantizer (not a copy). */
  get pq(): ProductQuantizer { return pqOf(this); }
  /** Whether codes are of each vector's residual to its list's centroid (Faiss's default) or of the vector: set before training. */
  get byResidual(): boolean { return this.info.byResidual as boolean; }
  set byResidual(value: boolean) {
    if (typeof value !== 'boolean') throw new TypeError(`Expected a boolean for byResidual, got ${describe(value)}`);
    native.indexSet(indexHandle(this), 'byResidual', Number(value));
  }
}

/** faiss::IndexIVFScalarQuantizer: scalar-quantized vectors in each list. */
export class IndexIVFScalarQuantizer extends IndexIVF {}

/** faiss::IndexIVFPQFastScan: 4-bit PQ codes in each list, packed for SIMD scans. */
export class IndexIVFPQFastScan extends IndexIVF {
  /** The index's own ProductQuantizer (not a copy). */
  get pq(): ProductQuantizer { return pqOf(this); }
  get byResidual(): boolean { return this.info.byResidual as boolean; }
  protected override searchOptions(): SearchOptionChecks {
    return { nprobe: super.searchOptions().nprobe };
  }
}

registerKind('IndexIVFFlat', IndexIVFFlat);
registerKind('IndexIVFPQ', IndexIVFPQ);
registerKind('IndexIVFScalarQuantizer', IndexIVFScalarQuantizer);
registerKind('IndexIVFPQFastScan', IndexIVFPQFastScan);

for (const cls of [IndexIVFFlat, IndexIVFPQ, IndexIVFScalarQuantizer, IndexIVFPQFastScan]) {
  defineInspect(cls, (index: IndexIVF) => ({ d: index.d, nlist: index.nlist, nprobe: index.nprobe, ntotal: index.ntotal }));
}
