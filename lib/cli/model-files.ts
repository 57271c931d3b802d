// A model in any of the files the command line reads and writes: a nanopq
// pickle (.pkl), a Faiss index (.faiss, .index), this library's .npq, or a
// Rii (.rii), whose model is its fine quantizer. The format is the
// extension's unless given. A Faiss index and a Rii also hold codes, which
// the other formats cannot.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { faissModel, faissModelAndCodes, nanopqToFaiss, nbitsOf } from '../convert';
import { CodeMatrix } from '../core/arrays';
import * as faiss from '../faiss';
import { packedCodeSize } from '../io/faiss-index';
import { readModel } from '../io/npq';
import { modelFromFields, readNanopqPickle, writeNanopqPickle } from '../models/files';
import type { OPQ } from '../models/opq';
import type { PQ } from '../models/pq';
import { Rii } from '../models/rii';

export type ModelFormat = 'pkl' | 'faiss' | 'npq' | 'rii';

/** The names --from/--to take, and the extensions, for each format. */
const NAMES: Record<string, ModelFormat> = {
  pkl: 'pkl', pickle: 'pkl', faiss: 'faiss', index: 'faiss', npq: 'npq', rii: 'rii',
};
const EXTENSIONS: Record<string, ModelFormat> = {
  '.pkl': 'pkl', '.pickle': 'pkl', '.faiss': 'faiss', '.index': 'faiss', '.npq': 'npq', '.rii': 'rii',
};
export const FORMAT_NAMES = 'pkl (a nanopq pickle), faiss (a Faiss index), npq or rii (a Rii)';

/** The format named by `given` (--from/--to), else by file's extension. */
export function formatOf(file: string, given: string | undefined, what: string): ModelFormat {
  if (given !== undefined) {
    const format = NAMES[given.toLowerCase()];
    if (!format) throw new Error(`Expected ${FORMAT_NAMES} for ${what}, got '${given}'`);
    return format;
  }
  const ext = path.extname(file).toLowerCase();
  const format = EXTENSIONS[ext];
  if (!format) {
    throw new Error(`Expected a model file ending in .pkl, .faiss, .index, .npq or .rii for ${file}, got ${ext ? `'${ext}'` : 'no extension'} (or give its format with --from/--to)`);
  }
  return format;
}

export interface ModelFile {
  model: PQ | OPQ;
  format: ModelFormat;
  /** The codes a Faiss index holds, (ntotal, M), when read with them; else null. */
  codes: CodeMatrix | null;
  /** How many codes the file holds: a Faiss index's ntotal, else 0. */
  storedCodes: number;
  /** A Faiss index's packed bytes per code, ceil(M * nbits / 8). */
  packedCodeSize?: number;
  /** The Rii of a .rii file (model is its fine quantizer). */
  rii?: Rii;
}

/** The model in file; a Faiss index's codes are unpacked only if withCodes (else only counted). */
export function readModelFile(file: string, format: ModelFormat, withCodes = false): ModelFile {
  if (format === 'pkl') return { model: readNanopqPickle(file), format, codes: null, storedCodes: 0 };
  if (format === 'npq') {
    return { model: modelFromFields(readModel(fs.readFileSync(file), file), file), format, codes: null, storedCodes: 0 };
  }
  if (format === 'rii') {
    const rii = Rii.load(file);
    return { model: rii.fineQuantizer, format, codes: withCodes ? rii.codes : null, storedCodes: rii.N, rii };
  }
  const index = faiss.readIndex(file);
  try {
    return modelFileOf(index, withCodes);
  } finally {
    index.dispose();
  }
}

/**
 * What readModelFile gives of a Faiss index already read: its model, a
 * TypeError for a kind nanopq has no model for (faissToNanopq's).
 */
export function modelFileOf(index: faiss.Index, withCodes = false): ModelFile {
  const [model, codes] = withCodes ? faissModelAndCodes(index) : [faissModel(index), null];
  const { M, nbits } = ((index instanceof faiss.IndexPreTransform ? index.index : index) as faiss.IndexPQ).pq;
  return { model, format: 'faiss', codes, storedCodes: index.ntotal, packedCodeSize: packedCodeSize(M, nbits) };
}

/**
 * Writes model in format. codes go into a Faiss index (as they are, not
 * encoded again); the other formats cannot hold them: the caller says so.
 */
export function writeModelFile(model: PQ | OPQ | Rii, file: string, format: ModelFormat, codes: CodeMatrix | null = null): void {
  if (model instanceof Rii) {
    if (format === 'rii') return model.save(file);
    if (format !== 'faiss') return writeModelFile(model.fineQuantizer, file, format);
    return writeIndexOf(nanopqToFaiss(model), file);
  }
  if (format === 'rii') throw new Error(NO_RII);
  if (format === 'pkl') return writeNanopqPickle(model, file);
  if (format === 'npq') return model.save(file);
  const index = nanopqToFaiss(model);
  if (codes && codes.shape[0] > 0) {
    try {
      index.addCodes(codes);
    } catch (err) {
      index.dispose();
      throw err;
    }
  }
  writeIndexOf(index, file);
}

const NO_RII = 'Expected a Rii or a Faiss IndexIVFPQ without residuals for a .rii file (a model alone has no posting lists)';

function writeIndexOf(index: faiss.Index, file: string): void {
  try {
    faiss.writeIndex(index, file);
  } finally {
    index.dispose();
  }
}

/** Throws unless model (not yet trained) can be written in format: a Faiss index needs Ks = 2**nbits. */
export function checkWritable(Ks: number, format: ModelFormat): void {
  if (format === 'rii') throw new Error(NO_RII);
  if (format === 'faiss') nbitsOf(Ks);
}
