// How console.log and util.inspect show this library's objects.

// Node's util.inspect.custom, by its registered name: the published types
// then need no @types/node, and the key stays off the classes' declarations.
const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/**
 * console.log(x) and util.inspect(x) show `ClassName { ...fields(x) }` (with
 * inspect's own options: colours, depth). An object whose fields can no longer
 * be read (a disposed Faiss object) shows as `{ disposed: true }`.
 */
export function defineInspect<T>(cls: { prototype: T }, fields: (x: T) => Record<string, unknown>): void {
  Object.defineProperty(cls.prototype, inspectCustom, {
    value(this: T, depth: number, options: object, inspect: (value: unknown, options: object) => string) {
      let shown: Record<string, unknown>;
      try {
        shown = fields(this);
      } catch {
        shown = { disposed: true };
      }
      // depth: the levels left below this object, as inspect counts them; the
      // fields are few and flat, so they show even past the depth limit.
      return `${(this as object).constructor.name} ${inspect(shown, { ...options, depth: Math.max(depth, 0) })}`;
    },
  });
}

/** A shape as inspect shows it, numpy's way: `(784, 784)`. */
export function inspectShape(shape: readonly number[]): object {
  return { [inspectCustom]: () => `(${shape.join(', ')})` };
}
