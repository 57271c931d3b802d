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
