// IDX files as MNIST's are laid out, for the IDX tests and scripts/fuzz.js.
const IDX_TYPES = { uint8: 0x08, int8: 0x09, int16: 0x0b, int32: 0x0c, float32: 0x0d, float64: 0x0e };
const WRITE = { uint8: 'writeUInt8', int8: 'writeInt8', int16: 'writeInt16BE', int32: 'writeInt32BE', float32: 'writeFloatBE', float64: 'writeDoubleBE' };
const SIZE = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };

/** 00 00, the type code of `dtype`, ndims, the big-endian dims, the big-endian values. */
function idxFile(dtype, dims, values) {
  const bytes = Buffer.alloc(4 + 4 * dims.length + values.length * SIZE[dtype]);
  bytes[2] = IDX_TYPES[dtype];
  bytes[3] = dims.length;
  dims.forEach((d, i) => bytes.writeUInt32BE(d, 4 + 4 * i));
  values.forEach((v, i) => bytes[WRITE[dtype]](v, 4 + 4 * dims.length + i * SIZE[dtype]));
  return bytes;
}

module.exports = { idxFile, IDX_TYPES };
