import type { CachePlan } from './addon';
import { native } from './native';
import { checkInteger } from './validate';

/**
 * How many threads large calls use (fit, encode and search of many rows,
 * Faiss's own work): one setting for the whole process, workers included.
 * Small calls (one vector, one table, a few thousand codes) always run on the
 * calling thread. Default: OMP_NUM_THREADS, else the number of cores.
 */
export function setNumThreads(n: number): void {
  native.setNumThreads(checkInteger(n, 'n', 1, 4096));
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/**
 * The cache sizes (bytes a core) that size the blocks of work meant to stay
 * in cache, and where they came from: NANOPQ_CACHE ("l1d,l2" or "l2", with
 * an optional K or M suffix: "32K,512K"), else what the system reports
 * (sysconf, cpuid, /sys), else 32 KB and 512 KB. A plan changes only the
 * sizes of blocks, never the results.
 */
export function getCachePlan(): CachePlan {
  return native.cachePlan();
}
