// The addon as the rest of the library calls it: loaded once per process, but
// jest and vm give each context its own error classes, so every function is
// wrapped to make its thrown errors again in this realm (see errors.ts).
import type { Addon } from './addon';
import { sweepAfterCollections } from './collector';
import { withLocalErrors } from './errors';
import { loadAddon } from './load';

function withLocalErrorsAll(addon: Addon): Addon {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(addon)) {
    wrapped[name] = typeof value === 'function' ? withLocalErrors(value as () => unknown) : value;
  }
  return wrapped as unknown as Addon;
}

export const native: Addon = withLocalErrorsAll(loadAddon());
native.cachePlan();  // a NANOPQ_CACHE it cannot read fails here, when the library loads
sweepAfterCollections(native);
