// Small result arrays (a distance table, the distances of a few codes) are
// views of a shared slab, as Node pools small Buffers: allocating each costs
// more than a small call's native work. A slab lives while any view does.
const SLAB_FLOATS = 16384;
const POOLED_FLOATS = 4096;
let slab = new Float32Array(0);
let slabUsed = 0;

/** A Float32Array of n elements, which the caller fills entirely. */
export function newFloats(n: number): Float32Array {
  if (n > POOLED_FLOATS) return new Float32Array(n);
  if (slabUsed + n > slab.length) {
    // Not zeroed (callers fill what they take): zeroing a slab cost more than the tables cut from it.
    const bytes = Buffer.allocUnsafeSlow(SLAB_FLOATS * 4);
    slab = new Float32Array(bytes.buffer, bytes.byteOffset, SLAB_FLOATS);
    slabUsed = 0;
  }
  slabUsed += n;
  return slab.subarray(slabUsed - n, slabUsed);
}
