// A Reader (dist/io/reader.js) that records where each field it is asked for
// lies: fields.get(name) = [{ at, n }, ...], n bytes from offset at. Tests use
// it to find a field of a checked file by the name the checker gives it.
const { Reader } = require('../../dist/io/reader.js');

class FieldReader extends Reader {
  constructor(bytes, name = 'x.faiss') {
    super(bytes, name);
    this.fields = new Map();
  }
}
FieldReader.prototype.take = function take(n, what) {
  this.fields.set(what, [...(this.fields.get(what) ?? []), { at: this.offset, n }]);
  return Reader.prototype.take.call(this, n, what);
};

module.exports = { FieldReader };
