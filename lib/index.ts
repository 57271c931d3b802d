// The package: models/ (PQ, OPQ, DistanceTable, exactSearch), faiss/ (the
// Faiss objects), the conversions between them, and the io namespace, over
// core/ (array types, errors, threads). cli/ is the `nanopq` command, over the same.
export * from './core';
export * from './models';
export * as faiss from './faiss';
export * as io from './io-namespace';
export { nanopqToFaiss, faissToNanopq } from './convert';
