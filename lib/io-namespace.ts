// The public `io` namespace: io/'s file formats, with nanopq and rii pickles
// read into and written from models (models/files.ts: io/ itself knows no models).
export * from './io';
export { readNanopqPickle, writeNanopqPickle, readRiiPickle, writeRiiPickle } from './models/files';
