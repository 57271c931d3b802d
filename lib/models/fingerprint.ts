// Codes that know their model. Codes of another model with the same M and Ks
// pass every shape and range check and scan into that model's distances, not
// this one's: a silent wrong answer. So a fitted model has a fingerprint, a
// short hash of what decides what its codes mean, which encode's codes and
// PackedCodes carry, and every method that takes codes checks it here first.
// Codes that carry none (number[][], a plain { data, shape }, a spread copy)
// are taken unchecked, as before.
import { createHash } from 'node:crypto';
import { describe, FINGERPRINT_DIGITS } from '../core/validate';

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * The fingerprint of a model's parts: M, Ks, Ds, the codewords' bytes and, for
 * OPQ, R's (the same codewords under another rotation stand for other vectors).
 * Not the metric: a 'dot' and an 'l2' model over one codebook decode codes
 * alike, and both distance tables rank them by the same codewords.
 */
export function fingerprintOf(M: number, Ks: number, Ds: number, codewords: Float32Array, R: Float32Array | null): string {
  const hash = createHash('sha256').update(`nanopq M ${M} Ks ${Ks} Ds ${Ds} R ${R ? 'yes' : 'no'}\n`).update(bytesOf(codewords));
  if (R) hash.update(bytesOf(R));
  return hash.digest('hex').slice(0, FINGERPRINT_DIGITS);
}

/**
 * codes, carrying fingerprint (none when null) as a non-enumerable, read-only
 * property: toEqual, JSON.stringify and a spread see only data and shape as
 * before, and a spread copy is then unchecked.
 */
export function withFingerprint<T extends object>(codes: T, fingerprint: string | null): T {
  if (fingerprint !== null) Object.defineProperty(codes, 'fingerprint', { value: fingerprint });
  return codes;
}

/**
 * Throws, before any work, if codes (the argument name) carry a fingerprint
 * other than the model's. expected() gives the model's (hashed when first
 * asked for), or null for a model that has none (a DistanceTable built by
 * hand): then nothing is checked, as for codes that carry none.
 */
export function checkCodesOf(codes: unknown, name: string, expected: () => string | null): void {
  if (codes === null || typeof codes !== 'object') return;  // not codes at all: the shape checks say so
  const found = (codes as { fingerprint?: unknown }).fingerprint;
  if (found === undefined || found === null) return;
  if (typeof found !== 'string') throw new TypeError(`Expected ${name}.fingerprint to be a string, got ${describe(found)}`);
  const own = expected();
  if (own !== null && found !== own) {
    throw new Error(`Expected ${name} encoded by this model (fingerprint ${own}), got codes of another model (fingerprint ${found}); ` +
      'encode them with this model, or pass codes without one (a plain { data, shape }, new PackedCodes(data, N, M)) to skip the check');
  }
}
