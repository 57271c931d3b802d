// The public `io` namespace: io/'s file formats, with nanopq pickles read into
// and written from models (models/files.ts: io/ itself knows no models).
export * from './io';
export { readNanopqPickle, writeNanopqPickle } from './models/files';
