// With the DOM's types (or @types/node), a real AbortController's signal is what fitAsync takes.
import { PQ } from 'nanopq';

const controller = new AbortController();
export const fitted: Promise<PQ> = new PQ({ M: 2 }).fitAsync([[0, 0], [1, 1], [2, 2]], { signal: controller.signal });
