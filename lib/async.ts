// What every async twin shares: its rejection is an error made in the caller's
// realm with the stack of the call (captured as `site` before the first await),
// and a value that the native job found out of range is named as the
// synchronous checks name it.
import { valueError } from './arrays';
import { atSite, localError } from './native';

/** A vectors argument whose values the native job checks. */
export interface Values { data: Float32Array; name: string; cols: number }

export function asyncError(err: unknown, site: Error, values?: Values): Error {
  if (values && (err as { code?: string } | null)?.code === 'NANOPQ_OUT_OF_RANGE') {
    return atSite(valueError(values.data, values.name, values.cols, (err as { index: number }).index), site);
  }
  return localError(err, site);
}

/** The native promise's value, or asyncError of its rejection. */
export async function settled<T>(call: Promise<T>, site: Error, values?: Values): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw asyncError(err, site, values);
  }
}
