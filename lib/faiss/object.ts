// What every Faiss wrapper stands on: a native handle per object, which
// shares ownership of the Faiss object (natively), so that
// `index.pq` stays valid as long as it is referenced. Objects adopted from a
// handle never ran a constructor, so they have no #private fields: their
// methods read the handle from here.
import type { FaissHandle } from '../core/addon';
import { checkInteger, describe } from '../core/validate';

const handles = new WeakMap<object, FaissHandle>();

/** object's handle, or a TypeError naming the argument (name) and the class expected (what). */
export function handleOf(object: unknown, name: string, what: string): FaissHandle {
  const handle = typeof object === 'object' && object !== null ? handles.get(object) : undefined;
  if (!handle) throw new TypeError(`Expected a faiss.${what} for ${name}, got ${describe(object)}`);
  return handle;
}

/** Makes handle object's own: for constructors. */
export function own(object: object, handle: FaissHandle): void {
  handles.set(object, handle);
}

/** An instance of cls around an existing handle, without running its constructor. */
export function adopt<T extends object>(cls: { prototype: T }, handle: FaissHandle): T {
  const object = Object.create(cls.prototype) as T;
  handles.set(object, handle);
  return object;
}

/** d and M, checked: 1 <= M <= d <= maxD, d % M === 0. */
export function checkDims(d: unknown, M: unknown, maxD = 2 ** 31 - 1): [number, number] {
  const dd = checkInteger(d, 'd', 1, maxD);
  const mm = checkInteger(M, 'M', 1, dd);
  if (dd % mm !== 0) throw new RangeError(`Expected d divisible by M = ${mm}, got d = ${dd}`);
  return [dd, mm];
}
