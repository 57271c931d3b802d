// The models, over core/ and the file formats of io/: PQ and OPQ (quantizer.ts
// what they share, around the native model; pq.ts and opq.ts what differs),
// the DistanceTable of one query, exactSearch, normalize (for cosine), and models made from the plain
// fields that io/ reads from a file, or written as them (fields.ts, pickle.ts);
// fingerprint.ts, the fingerprint that codes carry and every method that takes them checks.
// Rii (rii.ts), the inverted index over their codes. This file is its public face.
export { PQ } from './pq';
export type { FitOptions } from './pq';
export type { PQOptions, Minit, Progress, AsyncFitOptions, AbortSignalLike, ModelOptions } from './quantizer';
export { OPQ } from './opq';
export type { OPQFitOptions } from './opq';
export { DistanceTable } from './distance-table';
export { PackedCodes } from './packed-codes';
export { exactSearch } from './search';
export { normalize } from './normalize';
export type { SearchResult } from './search';
export { Rii } from './rii';
export type { RiiOptions, ConfigureOptions, AddOptions, QueryOptions, QueryResult, Threshold, RiiParts } from './rii';
