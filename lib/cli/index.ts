#!/usr/bin/env node
// cli/, the top of lib/: the `nanopq` command (this file, the package's bin)
// with model-files.ts (any model file) and vector-files.ts (vectors whole or
// in blocks), over the library below it.
//
// The `nanopq` command: info, convert, train, encode and search over model,
// vectors and codes files, and info and search over a Faiss index of any
// kind. commander parses the arguments and writes --help; cli-progress
// draws the progress bar (on stderr, on a TTY or with --progress). stdout
// holds only the result, which --json makes one JSON document; notes and
// errors go to stderr as "nanopq: ...", exit code 1 (130 when Ctrl-C stopped
// the work, which then writes nothing; 143 on SIGTERM).
// An output is never one of the inputs, and replaces an existing file only
// once complete (checkOutputs, writeOutput).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CodeMatrix, Matrix, Metric } from '../core/arrays';
import * as faiss from '../faiss';
import * as io from '../io';
import { OPQ } from '../models/opq';
import { PackedCodes } from '../models/packed-codes';
import { packedHeader } from '../io/packed-file';
import { PQ } from '../models/pq';
import { Rii } from '../models/rii';
import { faissToNanopq } from '../convert';
import {
  checkWritable, formatOf, FORMAT_NAMES, ModelFile, ModelFormat, modelFileOf, readModelFile, writeModelFile,
} from './model-files';
import {
  CodesWriter, openVectors, readCodes, readSidecar, readVectors, sidecarOf, VectorSource, vectorFormatOf, writeSidecar,
} from './vector-files';

/** Ctrl-C stopped the work; nothing was written. */
class Interrupted extends Error {}

const FORMAT_LABELS: Record<ModelFormat, string> = { pkl: 'nanopq pickle', faiss: 'Faiss index', npq: 'nanopq .npq', rii: 'nanopq Rii' };
const CODE_BYTES = { uint8: 1, uint16: 2, uint32: 4 } as const;

const print = (text: string): void => { process.stdout.write(`${text}\n`); };
const note = (text: string): void => { process.stderr.write(`nanopq: ${text}\n`); };
const printJson = (value: unknown) => print(JSON.stringify(value));

function integer(name: string, min: number, max = 2 ** 31 - 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected an integer ${min} to ${max} for ${name}, got '${value}'.`);
    }
    return n;
  };
}

/** Throws, naming the argument, unless file is an existing file: before any reading, for a message better than ENOENT's. */
function checkInput(file: string, name: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    throw new Error(`Expected an existing file for ${name}, got '${file}' (${code === 'ENOENT' ? 'no such file or directory' : message})`);
  }
  if (!stat.isFile()) throw new Error(`Expected a file for ${name}, got '${file}', which is not a regular file`);
}

/** The model of argument name; a Faiss index's codes are unpacked only if withCodes. */
function readModel(file: string, from: string | undefined, name = 'MODEL', withCodes = false): ModelFile {
  const format = formatOf(file, from, '--from');
  checkInput(file, name);
  return readModelFile(file, format, withCodes);
}

/** The vectors of argument name, read (whole or in blocks) after their format and existence are checked; of d = D if given. */
function vectorsArg<T extends Matrix | VectorSource>(file: string, name: string, read: (file: string) => T, D?: number): T {
  vectorFormatOf(file);
  checkInput(file, name);
  const x = read(file);
  if (D !== undefined && x.shape[1] !== D) {
    if ('close' in x) x.close();
    throw new RangeError(`Expected vectors of the model's D = ${D} in ${file}, got d = ${x.shape[1]}`);
  }
  return x;
}

/**
 * Throws, naming both files, if the codes in file carry the fingerprint
 * (found) of another model than model, read from modelFile: they would be
 * scanned into that model's distances. Codes that carry none pass unchecked.
 * sidecar: where found was read, for a .npy.
 */
function checkCodesModel(file: string, found: string | null, model: PQ | OPQ, modelFile: string, sidecar?: string): void {
  const own = model.fingerprint;
  if (found === null || own === null || found === own) return;
  const got = sidecar ? `${file}, whose sidecar ${sidecar} names another model (fingerprint ${found})` : `${file} of another model (fingerprint ${found})`;
  throw new Error(`Expected codes encoded by the model in ${modelFile} (fingerprint ${own}), got ${got}; encode them with ${modelFile}` +
    `${sidecar ? `, or remove ${sidecar} to use them unchecked` : ''}`);
}

/** The codes (n, M) of argument name, with the model's M columns; their sidecar, if any, is checked before they are read. */
function codesArg(file: string, name: string, model: PQ | OPQ, modelFile: string): CodeMatrix {
  checkInput(file, name);
  checkCodesModel(file, readSidecar(file), model, modelFile, sidecarOf(file));
  const codes = readCodes(file);
  const { M } = model;
  if (codes.shape[1] !== M) throw new RangeError(`Expected codes of the model's M = ${M} columns in ${file}, got shape (${codes.shape.join(', ')})`);
  return codes;
}

/** Packed codes (.npk, from encode --pack) of the model's M, and of the model itself when their header says which. */
function packedArg(file: string, name: string, model: PQ | OPQ, modelFile: string): PackedCodes {
  checkInput(file, name);
  const packed = PackedCodes.load(file);
  if (model.Ks !== 16) throw new RangeError(`Expected a model with Ks = 16 for the packed codes in ${file}, got Ks = ${model.Ks}`);
  if (packed.M !== model.M) throw new RangeError(`Expected packed codes of the model's M = ${model.M} in ${file}, got M = ${packed.M}`);
  checkCodesModel(file, packed.fingerprint, model, modelFile);
  return packed;
}

/** What `info` shows of a model, and what the other commands' --json repeat. */
function describeModel(file: string, { model, format, storedCodes, packedCodeSize }: ModelFile) {
  const Ds = model.Ds;
  return {
    file, format, kind: model instanceof OPQ ? 'OPQ' : 'PQ', M: model.M, Ks: model.Ks,
    D: Ds === null ? null : model.M * Ds, Ds, metric: model.metric, codeDtype: model.codeDtype,
    bytesPerVector: model.M * CODE_BYTES[model.codeDtype],
    ...(packedCodeSize !== undefined && { packedCodeSize }),
    rotation: model instanceof OPQ, storedCodes, fingerprint: model.fingerprint,
  };
}

function dimension(model: PQ | OPQ, file: string): number {
  if (model.Ds === null) throw new Error(`Expected a trained model in ${file}, got an untrained ${model instanceof OPQ ? 'OPQ' : 'PQ'}`);
  return model.M * model.Ds;
}

/**
 * A progress bar on stderr: on a TTY, or when --progress asks for one
 * elsewhere (a line every half second); --no-progress, none.
 */
function progressBar(what: string, total: number, wanted: boolean | undefined) {
  const tty = process.stderr.isTTY === true;
  if (!(wanted ?? tty)) return { update(_value: number, _payload?: object) {}, stop() {} };
  const bar = new SingleBar({
    stream: process.stderr, format: `${what} [{bar}] {percentage}% | {value}/{total} {unit}`, hideCursor: tty,
    noTTYOutput: !tty, notTTYSchedule: 500, etaBuffer: 50,
  });
  bar.start(total, 0, { unit: '' });
  return { update: (value: number, payload?: object) => bar.update(value, payload), stop: () => bar.stop() };
}

/** The work that Ctrl-C stops, while interruptible runs it (see main's signal listeners). */
let running: AbortController | null = null;

/** Runs work with an AbortSignal that Ctrl-C (SIGINT) aborts; then throws Interrupted. */
async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  running = controller;
  try {
    const result = await work(controller.signal);
    if (!controller.signal.aborted) return result;
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    running = null;
  }
  throw new Interrupted();  // even when the work ended as Ctrl-C came: nothing is written
}

// ------------------------------------------------------------- outputs --

/** A file's real path and (exactly, as bigints) device and inode; null if it does not exist, when it can be no input. */
function identity(file: string): { real: string; dev: bigint; ino: bigint } | null {
  try {
    const { dev, ino } = fs.statSync(file, { bigint: true });
    return { real: fs.realpathSync(file), dev, ino };
  } catch {
    return null;
  }
}

/**
 * Throws, naming both arguments, if an output is one of the inputs: writing
 * it would destroy what is read (codes replaced by ids, an index by .npy
 * bytes). The same file by its real path (./, a symlink) or by its device
 * and inode (a hard link; a case-insensitive file system). Called before any
 * work by every command that writes; null/undefined entries are absent.
 */
function checkOutputs(outputs: Record<string, string | null | undefined>, inputs: Record<string, string | null | undefined>): void {
  // Two outputs may not exist yet: compared by resolved path too (one would replace the other).
  const written = Object.entries(outputs).filter((e): e is [string, string] => e[1] != null);
  for (let a = 0; a < written.length; a++) {
    for (let b = a + 1; b < written.length; b++) {
      const [[aName, aFile], [bName, bFile]] = [written[a], written[b]];
      const [i, o] = [identity(aFile), identity(bFile)];
      if (path.resolve(aFile) === path.resolve(bFile) || (i && o && i.dev === o.dev && i.ino === o.ino)) {
        throw new Error(`Expected ${bName} to differ from ${aName}: both name '${bFile}'`);
      }
    }
  }
  for (const [outName, out] of Object.entries(outputs)) {
    const o = out == null ? null : identity(out);
    if (!o) continue;
    for (const [inName, input] of Object.entries(inputs)) {
      const i = input == null ? null : identity(input);
      if (i && (i.real === o.real || (i.ino !== 0n && i.dev === o.dev && i.ino === o.ino))) {
        throw new Error(`Expected ${outName} to differ from ${inName}: ${out === input ? `both are '${out}'` : `'${out}' and '${input}' are the same file`}`);
      }
    }
  }
}

/** The temporary files being written: main's 'exit' listener removes those left on any way out. */
const temporaries = new Set<string>();

/**
 * Writes file by write(temp): into a temporary file beside it, renamed over
 * it once complete, so an existing file is replaced whole or not at all. The
 * temporary file is removed here after an error or a first Ctrl-C, at exit
 * after a second Ctrl-C or SIGTERM. Every output of every command is written
 * here.
 */
async function writeOutput(file: string, write: (temp: string) => void | Promise<void>): Promise<void> {
  // Through a symlink, the file it names: renaming over the link would replace the link.
  const target = identity(file)?.real ?? file;
  const temp = `${target}.partial-${process.pid}`;
  temporaries.add(temp);
  try {
    await write(temp);
    fs.renameSync(temp, target);
  } finally {
    fs.rmSync(temp, { force: true });  // after the rename, nothing is there
    temporaries.delete(temp);
  }
}

// ---------------------------------------------------------------- info --

function info(file: string, opts: { from?: string; json?: boolean }): void {
  const format = formatOf(file, opts.from, '--from');
  checkInput(file, 'MODEL');
  const index = format === 'faiss' ? faiss.readIndex(file) : null;
  try {
    // A Faiss index of a kind nanopq models (a trained IndexPQ, an OPQ over one) is also shown as that model.
    const model = index ? modelOf(index) : readModelFile(file, format);
    const d = model ? describeModel(file, model) : { file, format };
    const i = index && describeIndex(index);
    const r = model?.rii && describeRii(model.rii);
    if (opts.json) return printJson({ ...d, ...(i && { index: i }), ...(r && { rii: r }) });
    print([
      `file:          ${file}`,
      `format:        ${FORMAT_LABELS[format]}`,
      ...(i ? indexLines(i) : []),
      ...('kind' in d ? [
        `kind:          ${d.kind}`,
        `M, Ks:         ${d.M}, ${d.Ks}`,
        `D, Ds:         ${d.D === null ? 'not trained' : `${d.D}, ${d.Ds}`}`,
        `metric:        ${d.metric}`,
        `codes:         ${d.codeDtype}, ${d.bytesPerVector} bytes per vector${d.packedCodeSize !== undefined ? `; ${d.packedCodeSize} packed in the index` : ''}`,
        `rotation:      ${d.rotation ? `yes (R, ${d.D} x ${d.D})` : 'no'}`,
        `fingerprint:   ${d.fingerprint ?? 'none (not trained)'}`,
        `stored codes:  ${d.format === 'faiss' || d.format === 'rii' ? d.storedCodes : 'none (this format holds no codes)'}`,
      ] : []),
      ...(r ? [
        `rii:           N ${r.N}, nlist ${r.nlist}, L0 ${r.L0}${r.removed ? `, ${r.removed} removed` : ''}`,
      ] : []),
    ].join('\n'));
  } finally {
    index?.dispose();
  }
}

/** What `info` shows of a Rii beside its fine quantizer. */
function describeRii(rii: Rii) {
  return { N: rii.N, nlist: rii.nlist, L0: rii.L0, removed: rii.removedCount };
}

/** The model nanopq makes of index, or null for a kind it has none for (faissToNanopq's TypeError). */
function modelOf(index: faiss.Index): ModelFile | null {
  try {
    return modelFileOf(index);
  } catch (err) {
    if (err instanceof TypeError) return null;
    throw err;
  }
}

/** The index and its parts, outermost first (an IDMap's, a PreTransform's or a refine's inner index next). */
function* nested(index: faiss.Index): Generator<faiss.Index> {
  for (let i: faiss.Index | null = index; i; ) {
    yield i;
    i = i instanceof faiss.IndexIDMap || i instanceof faiss.IndexPreTransform || i instanceof faiss.IndexRefineFlat ? i.index : null;
  }
}

/** What `info` shows of a Faiss index: its kind, description, size, and the settings of its IVF, graph or refinement. */
function describeIndex(index: faiss.Index) {
  const { d, ntotal, metric, isTrained, bytes } = index;
  const parts = [...nested(index)];
  const ivf = parts.find((p): p is faiss.IndexIVF => p instanceof faiss.IndexIVF);
  const hnsw = parts.find((p): p is faiss.IndexHNSW => p instanceof faiss.IndexHNSW);
  const refine = parts.find((p): p is faiss.IndexRefineFlat => p instanceof faiss.IndexRefineFlat);
  return {
    kind: index.constructor.name, description: index.description, d, ntotal, metric, isTrained, bytes,
    bytesPerVector: ntotal > 0 ? bytes / ntotal : null,
    ...(ivf && { lists: { nlist: ivf.nlist, nprobe: ivf.nprobe, directMap: ivf.directMap } }),
    ...(hnsw && { graph: { M: hnsw.M, efSearch: hnsw.efSearch, efConstruction: hnsw.efConstruction, levels: hnsw.maxLevel + 1 } }),
    ...(refine && { kFactor: refine.kFactor }),
  };
}

function indexLines(i: ReturnType<typeof describeIndex>): string[] {
  return [
    `index:         ${i.kind} (${i.description})`,
    `d, metric:     ${i.d}, ${i.metric}${i.isTrained ? '' : ' (not trained)'}`,
    `vectors:       ${i.ntotal}`,
    `memory:        ${i.bytes} bytes${i.bytesPerVector === null ? '' : `, ${i.bytesPerVector.toFixed(1)} per vector`}`,
    ...(i.lists ? [`lists:         ${i.lists.nlist}, nprobe ${i.lists.nprobe}, direct map ${i.lists.directMap}`] : []),
    ...(i.graph ? [`graph:         HNSW M ${i.graph.M}, efSearch ${i.graph.efSearch}, efConstruction ${i.graph.efConstruction}, ${i.graph.levels} levels`] : []),
    ...(i.kFactor !== undefined ? [`refine:        kFactor ${i.kFactor}`] : []),
  ];
}

// ------------------------------------------------------------- convert --

async function convert(input: string, output: string, opts: { from?: string; to?: string; codes?: string; json?: boolean }): Promise<void> {
  const from = formatOf(input, opts.from, '--from');
  const to = formatOf(output, opts.to, '--to');
  const codesOut = from === 'faiss' && to !== 'faiss';  // --codes is written, else read
  const sidecar = codesOut && opts.codes !== undefined ? sidecarOf(opts.codes) : null;
  checkOutputs({ OUT: output, '--codes': codesOut ? opts.codes : null, "--codes' fingerprint": sidecar }, { IN: input, '--codes': codesOut ? null : opts.codes });
  if (to === 'rii' || from === 'rii') return convertRii(input, output, from, to, opts);
  const source = readModel(input, opts.from, 'IN', true);
  let codes: CodeMatrix | null = null;  // what goes into the output index
  let codesFile: string | null = null;   // codes written beside the output model
  if (opts.codes !== undefined) {
    if (codesOut) {
      codesFile = opts.codes;
    } else if (from !== 'faiss' && to === 'faiss') {
      codes = codesArg(opts.codes, '--codes', source.model, input);
    } else {
      throw new Error(`Expected --codes only between a Faiss index and a .pkl or .npq model (it names the codes beside the model), got ${from} to ${to}`);
    }
  } else if (from === 'faiss') {
    if (to === 'faiss') codes = source.codes;
    else if (source.storedCodes > 0) {
      note(`${input} holds ${source.storedCodes} codes, which a ${FORMAT_LABELS[to]} cannot hold: not written (give --codes codes.npy to write them beside)`);
    }
  }
  // The codes first: a bad --codes path then leaves no model written alone. Then their
  // sidecar, replacing one a stale encode left there (the model's is the one written).
  if (codesFile) {
    await writeOutput(codesFile, (temp) => io.writeNpy(temp, source.codes!.data, source.codes!.shape));
    const fingerprint = source.model.fingerprint;
    if (fingerprint !== null) await writeOutput(sidecar!, (temp) => writeSidecar(temp, fingerprint));
  }
  await writeOutput(output, (temp) => writeModelFile(source.model, temp, to, codes));
  const stored = to === 'faiss' && codes ? codes.shape[0] : 0;
  if (opts.json) {
    return printJson({ input, output, from, to, kind: describeModel(input, source).kind, storedCodes: stored, codesWritten: codesFile });
  }
  const beside = codesFile ? `, and its ${source.storedCodes} codes to ${codesFile}` : '';
  print(`wrote ${output} (${FORMAT_LABELS[to]}${to === 'faiss' ? ` with ${stored} codes` : ''})${beside}`);
}

/** convert to or from a .rii: a Rii and an IndexIVFPQ without residuals are one another; a model alone is its fine quantizer. */
async function convertRii(input: string, output: string, from: ModelFormat, to: ModelFormat, opts: { codes?: string; json?: boolean }): Promise<void> {
  if (opts.codes !== undefined) throw new Error('Expected no --codes with a .rii (it holds its codes)');
  checkOutputs({ OUT: output }, { IN: input });
  checkInput(input, 'IN');
  let rii: Rii;
  if (from === 'rii') {
    rii = Rii.load(input);
  } else if (from === 'faiss') {
    const index = faiss.readIndex(input);
    try {
      const converted = faissToNanopq(index);
      if (!(converted instanceof Rii)) throw new Error(`Expected an IndexIVFPQ without residuals in ${input} for a .rii, got an ${index.constructor.name}`);
      rii = converted;
    } finally {
      index.dispose();
    }
  } else {
    throw new Error(`Expected a .rii or a Faiss IndexIVFPQ for a .rii, got a ${FORMAT_LABELS[from]} (a model alone has no posting lists)`);
  }
  await writeOutput(output, (temp) => writeModelFile(rii, temp, to));
  if (to !== 'rii' && to !== 'faiss') note(`${input} holds ${rii.N} codes, which a ${FORMAT_LABELS[to]} cannot hold: its fine quantizer alone was written`);
  if (opts.json) return printJson({ input, output, from, to, kind: 'Rii', storedCodes: to === 'pkl' || to === 'npq' ? 0 : rii.N });
  print(`wrote ${output} (${FORMAT_LABELS[to]}${to === 'pkl' || to === 'npq' ? ', the fine quantizer' : ` with ${rii.N} codes`})`);
}

// --------------------------------------------------------------- train --

interface TrainOptions {
  output: string; to?: string; M: number; Ks: number; metric: Metric; opq?: boolean;
  iter: number; rotationIter: number; seed: number; json?: boolean; progress?: boolean;
}

async function train(vectorsFile: string, opts: TrainOptions): Promise<void> {
  // Everything that can be checked is checked before training, which may take long.
  const format = formatOf(opts.output, opts.to, '--to');
  checkOutputs({ '-o': opts.output }, { VECTORS: vectorsFile });
  checkWritable(opts.Ks, format);
  const x = vectorsArg(vectorsFile, 'VECTORS', readVectors);
  const [n, D] = x.shape;
  if (D % opts.M !== 0) throw new RangeError(`Expected --M to divide the dimension D = ${D} of ${vectorsFile}, got --M ${opts.M}`);
  if (n <= opts.Ks) throw new RangeError(`Expected more vectors than --Ks = ${opts.Ks} in ${vectorsFile} to train on, got ${n}`);
  const model = opts.opq ? new OPQ({ M: opts.M, Ks: opts.Ks, metric: opts.metric }) : new PQ({ M: opts.M, Ks: opts.Ks, metric: opts.metric });
  // OPQ alternates rotationIter rotation updates, then trains its PQ: one bar over both.
  const rotations = opts.opq ? opts.rotationIter : 0;
  const bar = progressBar('training', rotations + opts.iter, opts.progress);
  const started = performance.now();
  try {
    await interruptible<unknown>((signal) => {
      const onProgress = ({ phase, iteration }: { phase: string; iteration: number }) =>
        bar.update(phase === 'rotation' ? iteration : rotations + iteration, { unit: phase === 'rotation' ? 'rotation' : 'k-means' });
      return model instanceof OPQ
        ? model.fitAsync(x, { pqIter: opts.iter, rotationIter: opts.rotationIter, seed: opts.seed, signal, onProgress })
        : model.fitAsync(x, { iter: opts.iter, seed: opts.seed, signal, onProgress });
    });
  } finally {
    bar.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  await writeOutput(opts.output, (temp) => writeModelFile(model, temp, format));
  const d = describeModel(opts.output, { model, format, codes: null, storedCodes: 0 });
  if (opts.json) return printJson({ ...d, vectors: n, seconds });
  print(`trained ${d.kind} (M ${d.M}, Ks ${d.Ks}, D ${d.D}, ${d.metric}) on ${n} vectors in ${seconds.toFixed(1)} s: wrote ${opts.output}`);
}

// -------------------------------------------------------------- encode --

/** Rows per block: 32 MiB of float32 vectors, at most 65,536 rows. */
const blockRowsFor = (D: number) => Math.max(1, Math.min(65536, Math.floor(2 ** 25 / (4 * D))));

async function encode(modelFile: string, vectorsFile: string,
  opts: { output: string; from?: string; blockRows?: number; json?: boolean; progress?: boolean; pack?: boolean }): Promise<void> {
  const extension = opts.pack ? '.npk' : '.npy';
  if (path.extname(opts.output).toLowerCase() !== extension) {
    throw new Error(`Expected a ${extension} file for -o${opts.pack ? ' with --pack' : ''}, got '${opts.output}'`);
  }
  const sidecar = opts.pack ? null : sidecarOf(opts.output);  // a .npk holds the fingerprint in its header
  checkOutputs({ '-o': opts.output, "-o's fingerprint": sidecar }, { MODEL: modelFile, VECTORS: vectorsFile });
  const { model } = readModel(modelFile, opts.from);
  if (opts.pack && model.Ks !== 16) throw new Error(`Expected a model with Ks = 16 for --pack (4-bit codes), got Ks = ${model.Ks}`);
  const D = dimension(model, modelFile);
  const fingerprint = model.fingerprint!;
  const source = vectorsArg(vectorsFile, 'VECTORS', openVectors, D);
  const [n] = source.shape;
  const bar = progressBar('encoding', n, opts.progress);
  const started = performance.now();
  try {
    await writeOutput(opts.output, async (temp) => {
      // Packed codes go a whole number of 32-row blocks at a time, after their header.
      const writer = opts.pack ? new PackedWriter(temp, n, model.M, fingerprint) : new CodesWriter(temp, model.codeDtype, n, model.M);
      try {
        const blockRows = opts.blockRows ?? blockRowsFor(D);
        const rows = opts.pack ? Math.max(32, blockRows - (blockRows % 32)) : blockRows;
        await interruptible(async (signal) => {
          for (let start = 0; start < n && !signal.aborted; start += rows) {
            const count = Math.min(rows, n - start);
            writer.write(await model.encodeAsync({ data: source.read(start, count), shape: [count, D] }));
            bar.update(start + count, { unit: 'vectors' });
          }
        });
      } finally {
        writer.close();
      }
    });
    // After the codes: codes written beside an old sidecar are at worst refused, never taken for another model's.
    if (sidecar) await writeOutput(sidecar, (temp) => writeSidecar(temp, fingerprint));
  } finally {
    bar.stop();
    source.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const dtype = opts.pack ? 'packed 4-bit' : model.codeDtype;
  const result = { output: opts.output, shape: [n, model.M], dtype, fingerprint, seconds };
  if (opts.json) return printJson(result);
  print(`encoded ${n} vectors of ${vectorsFile} in ${seconds.toFixed(1)} s: wrote ${opts.output} (${dtype}, (${n}, ${model.M}))`);
}

/** A .npk file of n packed codes of M subspaces, written as the codes come (a multiple of 32 rows at a time but the last). */
class PackedWriter {
  #fd: number;
  constructor(file: string, n: number, readonly M: number, fingerprint: string) {
    this.#fd = fs.openSync(file, 'w');
    fs.writeFileSync(this.#fd, packedHeader(n, M, fingerprint));
  }

  write(codes: CodeMatrix): void {
    fs.writeFileSync(this.#fd, PackedCodes.pack(codes, this.M).data);
  }

  close(): void {
    fs.closeSync(this.#fd);
  }
}

// -------------------------------------------------------------- search --

interface SearchOptions {
  k: number; output?: string; distances?: string; from?: string; json?: boolean;
  nprobe?: number; efSearch?: number; kFactor?: number; L?: number;
}

/** search MODEL CODES QUERIES, or search INDEX QUERIES for a Faiss index that holds its vectors or codes. */
async function search(modelFile: string, second: string, third: string | undefined, opts: SearchOptions): Promise<void> {
  for (const [flag, file] of [['-o', opts.output], ['--distances', opts.distances]] as const) {
    if (file !== undefined && path.extname(file).toLowerCase() !== '.npy') throw new Error(`Expected a .npy file for ${flag}, got '${file}'`);
  }
  const format = formatOf(modelFile, opts.from, '--from');
  const params = Object.fromEntries(Object.entries({ nprobe: opts.nprobe, efSearch: opts.efSearch, kFactor: opts.kFactor }).filter(([, v]) => v !== undefined));
  if (third === undefined) {
    if (format === 'rii') return searchRii(modelFile, second, opts);
    if (format !== 'faiss') throw new Error(`Expected CODES and QUERIES after a ${FORMAT_LABELS[format]} (only a Faiss index or a Rii holds what it searches), got one file, ${second}`);
    return searchIndex(modelFile, second, params, opts);
  }
  if (Object.keys(params).length > 0) throw new Error(`Expected --nprobe, --ef-search and --k-factor only with a Faiss index searched on its own (search INDEX QUERIES), got ${Object.keys(params).join(', ')}`);
  if (opts.L !== undefined) throw new Error('Expected --L only with a Rii searched on its own (search RII QUERIES)');
  const [codesFile, queriesFile] = [second, third];
  checkOutputs({ '-o': opts.output, '--distances': opts.distances }, { MODEL: modelFile, CODES: codesFile, QUERIES: queriesFile });
  const { model } = readModel(modelFile, opts.from);
  const D = dimension(model, modelFile);
  const codes = path.extname(codesFile).toLowerCase() === '.npk' ? packedArg(codesFile, 'CODES', model, modelFile) : codesArg(codesFile, 'CODES', model, modelFile);
  const N = codes instanceof PackedCodes ? codes.N : codes.shape[0];
  const queries = vectorsArg(queriesFile, 'QUERIES', readVectors, D);
  const started = performance.now();
  const { ids, dists, shape } = await model.searchAsync(queries, codes, opts.k);
  const ms = performance.now() - started;
  if (shape[1] < opts.k) note(`${codesFile} holds ${N} codes: ${shape[1]} neighbours per query, not ${opts.k}`);
  await report({ ids, dists, shape }, opts, `${shape[0]} queries, ${N} codes, k = ${shape[1]} (${model.metric}): ${ms.toFixed(1)} ms`);
}

async function searchRii(riiFile: string, queriesFile: string, opts: SearchOptions): Promise<void> {
  checkOutputs({ '-o': opts.output, '--distances': opts.distances }, { RII: riiFile, QUERIES: queriesFile });
  for (const flag of ['nprobe', 'efSearch', 'kFactor'] as const) {
    if (opts[flag] !== undefined) throw new Error(`Expected --L (not --${flag === 'efSearch' ? 'ef-search' : flag === 'kFactor' ? 'k-factor' : flag}) with a Rii`);
  }
  checkInput(riiFile, 'RII');
  const rii = Rii.load(riiFile);
  const queries = vectorsArg(queriesFile, 'QUERIES', readVectors, rii.M * rii.fineQuantizer.Ds!);
  const started = performance.now();
  const topk = Math.min(opts.k, rii.N);
  const result = await rii.searchAsync(queries, { topk, ...(opts.L !== undefined && { L: opts.L }) });
  const ms = performance.now() - started;
  await report(result, opts, `${result.shape[0]} queries, a Rii of ${rii.N} codes in ${rii.nlist} lists, k = ${topk}` +
    `${opts.L !== undefined ? `, L ${opts.L}` : ''} (${rii.fineQuantizer.metric}): ${ms.toFixed(1)} ms`);
}

async function searchIndex(indexFile: string, queriesFile: string, params: faiss.SearchParams, opts: SearchOptions): Promise<void> {
  checkOutputs({ '-o': opts.output, '--distances': opts.distances }, { INDEX: indexFile, QUERIES: queriesFile });
  checkInput(indexFile, 'INDEX');
  const index = faiss.readIndex(indexFile);
  try {
    const queries = vectorsArg(queriesFile, 'QUERIES', readVectors, index.d);
    const started = performance.now();
    const { labels, distances, shape } = await index.searchAsync(queries, opts.k, params);
    const ms = performance.now() - started;
    const given = Object.entries(params).map(([name, value]) => `, ${name} ${value}`).join('');
    await report({ ids: labels, dists: distances, shape }, opts,
      `${shape[0]} queries, ${index.constructor.name} (${index.description}) of ${index.ntotal} vectors, k = ${shape[1]}${given} (${index.metric}): ${ms.toFixed(1)} ms`);
  } finally {
    index.dispose();
  }
}

/** search's output: ids (and distances) to their files, the rows as JSON or a summary of the first five. */
async function report(r: { ids: Uint32Array | BigInt64Array; dists: Float32Array; shape: [number, number] }, opts: SearchOptions, summary: string): Promise<void> {
  const [nq, k] = r.shape;
  if (opts.output !== undefined) await writeOutput(opts.output, (temp) => io.writeNpy(temp, r.ids, r.shape));
  if (opts.distances !== undefined) await writeOutput(opts.distances, (temp) => io.writeNpy(temp, r.dists, r.shape));
  // Faiss labels are int64: a JSON number while safe (ids beyond 2**53 as strings); -1 where fewer than k were found.
  const id = (v: number | bigint) => (typeof v === 'bigint' && (v > BigInt(Number.MAX_SAFE_INTEGER)) ? String(v) : Number(v));
  const ids = (i: number) => Array.from(r.ids.subarray(i * k, (i + 1) * k) as ArrayLike<number | bigint>, id);
  const dists = (i: number) => Array.from(r.dists.subarray(i * k, (i + 1) * k));
  if (opts.json) {
    return printJson({
      shape: r.shape, ids: Array.from({ length: nq }, (_, i) => ids(i)), dists: Array.from({ length: nq }, (_, i) => dists(i)),
      ...(opts.output !== undefined && { output: opts.output }), ...(opts.distances !== undefined && { distances: opts.distances }),
    });
  }
  const written = [opts.output && `ids written to ${opts.output}`, opts.distances && `distances to ${opts.distances}`].filter(Boolean).join(', ');
  const lines = [`${summary}${written ? `; ${written}` : ''}`];
  const shown = Math.min(nq, 5);
  for (let i = 0; i < shown; i++) {
    lines.push(`query ${i}: ${ids(i).map((v, j) => `${v} (${r.dists[i * k + j].toPrecision(4)})`).join(', ')}`);
  }
  if (nq > shown) lines.push(`... ${nq - shown} more (-o ids.npy or --json for all)`);
  print(lines.join('\n'));
}

// ------------------------------------------------------------- program --

function version(): string {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
}

function program(): Command {
  const cli = new Command('nanopq')
    .description('Product quantization (PQ, OPQ) over Faiss: model files, training, encoding and search')
    .version(version())
    .option('--debug', 'print the stack trace of an error')
    .showHelpAfterError('(add --help for usage)')
    // commander's own errors (a missing argument, an unknown option) in the shape of ours.
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'nanopq: ')) });
  const fromOption = () => new Option('--from <format>', `the model file's format, if not its extension's: ${FORMAT_NAMES}`);
  const jsonOption = () => new Option('--json', 'print the result as JSON (nothing else on stdout)');
  const progressOption = () => new Option('--progress', 'draw the progress bar on stderr even when it is not a terminal');
  const noProgressOption = () => new Option('--no-progress', 'no progress bar');
  const models = 'MODEL is a nanopq pickle (.pkl), a Faiss index (.faiss, .index), a .npq file or a Rii (.rii, whose model is its fine quantizer).';
  const vectors = 'VECTORS are .npy, .fvecs, .bvecs or IDX (-idx3-ubyte, optionally .gz).';

  cli.command('info')
    .description('show a model: kind, M, Ks, D, metric, code size, rotation, stored codes')
    .argument('<MODEL>', 'the model file')
    .addOption(fromOption()).addOption(jsonOption())
    .addHelpText('after', `\n${models}\n\nExample:\n  nanopq info model.faiss --json`)
    .action(info);

  cli.command('convert')
    .description('convert a model between a nanopq pickle, a Faiss index and .npq; a Rii (.rii) to and from a Faiss IndexIVFPQ')
    .argument('<IN>', 'the model to read').argument('<OUT>', 'the model to write')
    .addOption(fromOption())
    .option('--to <format>', `OUT's format, if not its extension's: ${FORMAT_NAMES}`)
    .option('--codes <codes.npy>', 'from a Faiss index: write its stored codes here; to a Faiss index: add these codes (n, M) to it')
    .addOption(jsonOption())
    .addHelpText('after', `\n${models} A Faiss index keeps its codes when OUT is one too.\n\nExamples:\n  nanopq convert pq.pkl pq.faiss --codes codes.npy\n  nanopq convert index.faiss model.npq --codes codes.npy`)
    .action(convert);

  cli.command('train')
    .description('train a PQ (or OPQ) on vectors and write the model')
    .argument('<VECTORS>', 'the training vectors')
    .requiredOption('-o, --output <MODEL>', 'the model to write (.pkl, .faiss, .index or .npq)')
    .requiredOption('--M <n>', 'sub-quantizers (must divide D)', integer('--M', 1))
    .option('--Ks <n>', 'codewords per sub-quantizer', integer('--Ks', 2, 2 ** 32), 256)
    .addOption(new Option('--metric <metric>', 'distance of the distance tables').choices(['l2', 'dot']).default('l2'))
    .option('--opq', 'train an OPQ (a rotation, then a PQ)')
    .option('--iter <n>', 'k-means iterations (an OPQ\'s final PQ training)', integer('--iter', 1, 1e6), 20)
    .option('--rotation-iter <n>', 'OPQ: rotation updates', integer('--rotation-iter', 1, 1e5), 10)
    .option('--seed <n>', 'the random seed: the same data and seed give the same model', integer('--seed', 0), 123)
    .option('--to <format>', `the model's format, if not its extension's: ${FORMAT_NAMES}`)
    .addOption(jsonOption()).addOption(progressOption()).addOption(noProgressOption())
    .addHelpText('after', `\n${vectors} Ctrl-C stops training (exit code 130) and writes nothing.\n\nExample:\n  nanopq train train-images-idx3-ubyte.gz --M 8 -o model.npq`)
    .action(train);

  cli.command('encode')
    .description('encode vectors with a model into codes (n, M), streaming through the file')
    .argument('<MODEL>', 'the model file').argument('<VECTORS>', 'the vectors to encode')
    .requiredOption('-o, --output <CODES.npy>', 'the codes to write: uint8, uint16 or uint32 (n, M), and the model\'s fingerprint beside them (CODES.npy.fingerprint); with --pack, a .npk file (which holds it)')
    .option('--pack', 'a model with Ks = 16: write the codes packed for fast scan (.npk, 4 bits a code), which search reads')
    .addOption(fromOption())
    .addOption(new Option('--block-rows <n>', 'rows read and encoded at a time').argParser(integer('--block-rows', 1)).hideHelp())
    .addOption(jsonOption()).addOption(progressOption()).addOption(noProgressOption())
    .addHelpText('after', `\n${models} ${vectors} .npy, .fvecs and .bvecs are read a block at a time,\nso a file larger than memory encodes in bounded memory.\n\nExample:\n  nanopq encode model.npq base.fvecs -o codes.npy`)
    .action(encode);

  cli.command('search')
    .description('the k nearest of each query: by a model over its codes, or by a Faiss index of any kind over what it holds')
    .argument('<MODEL>', 'the model file, or a Faiss index searched on its own (then the next argument is QUERIES)')
    .argument('<CODES>', 'codes (n, M) from encode (.npy), or packed by encode --pack (.npk); refused if their fingerprint (CODES.npy.fingerprint, or the .npk\'s) is another model\'s').argument('[QUERIES]', 'the query vectors')
    .option('-k <n>', 'neighbours per query', integer('-k', 1), 10)
    .option('-o, --output <ids.npy>', 'write the ids (nq, k): uint32 of a model\'s codes, int64 of a Faiss index (-1 where fewer than k)')
    .option('--distances <dists.npy>', 'write the distances (nq, k) as float32')
    .option('--nprobe <n>', 'a Faiss index with an IVF: lists to visit', integer('--nprobe', 1))
    .option('--L <n>', 'a Rii: the candidates whose distances are computed (topk to N)', integer('--L', 1, 2 ** 32 - 1))
    .option('--ef-search <n>', 'a Faiss HNSW index: the candidates a search keeps', integer('--ef-search', 1))
    .option('--k-factor <x>', 'a Faiss refine index: k x this many candidates are refined', (v: string) => {
      const x = Number(v);
      if (!(x >= 1)) throw new InvalidArgumentError(`Expected a number >= 1 for --k-factor, got '${v}'.`);
      return x;
    })
    .addOption(fromOption()).addOption(jsonOption())
    .addHelpText('after', `\n${models} QUERIES as VECTORS: ${vectors.slice(11)}\nA Faiss index of any kind (IVF, HNSW, flat, IDMap, ...) is searched on its own:\nINDEX QUERIES, with --nprobe, --ef-search or --k-factor as it takes them; a Rii\nlikewise (RII QUERIES, with --L; ids ${2 ** 32 - 1} where fewer than k were found).\n\nExamples:\n  nanopq search model.npq codes.npy queries.npy -k 10 --json\n  nanopq search index.faiss queries.npy -k 10 --nprobe 16 -o ids.npy --distances dists.npy`)
    .action(search);
  return cli;
}

async function main(): Promise<void> {
  // Ctrl-C stops the work under way (interruptible), which then writes nothing;
  // a second Ctrl-C (or one when no such work runs) exits at once, as SIGTERM
  // does. On those exits, as on every other, the 'exit' listener removes the
  // temporary files: a signal's default action would skip it.
  process.on('SIGINT', () => {
    if (!running || running.signal.aborted) process.exit(130);
    running.abort();
  });
  process.on('SIGTERM', () => process.exit(143));
  process.on('exit', () => temporaries.forEach((temp) => fs.rmSync(temp, { force: true })));
  // A closed pipe (nanopq search --json | head) ends the output, not in a crash.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const cli = program();
  try {
    await cli.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof Interrupted) {
      note('interrupted; nothing written');
      process.exitCode = 130;
      return;
    }
    const error = err as Error;
    note(error instanceof Error ? error.message : String(err));
    if (cli.opts().debug && error?.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  }
}

void main();
