import * as nanopq from './index.js';

export * from './index.js';
export default nanopq;
