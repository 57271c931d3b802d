// Native objects are freed when the library sweeps their collected handles
// (the addon's handle registry): on its own as handles and memory grow, and here after
// every garbage collection, so that a model dropped by an idle server is freed
// too. The collection of an empty object is what tells of one.
let sweep = (): void => undefined;
const collections = new FinalizationRegistry<undefined>(() => {
  sweep();
  watchCollections();
});
function watchCollections(): void {
  collections.register({}, undefined);
}

/** Calls addon.sweep() after every garbage collection from now on. */
export function sweepAfterCollections(addon: { sweep(): void }): void {
  sweep = () => addon.sweep();
  watchCollections();
}
