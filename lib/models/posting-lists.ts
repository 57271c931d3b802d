// A Rii's posting lists in one arena of ids, as its native scans read them:
// list k is ids[start[k] .. start[k] + size[k]), with room for capacity[k].
// Appending to a full list moves it to the end of the arena with twice the
// room, so an add costs O(1) amortized whatever N. Nothing an async scan
// reads is ever written: it gets copies of start and size (nlist numbers),
// an append writes past the end of its list as that copy has it, a moved
// list leaves its old place as it was, and growing or compacting makes a new
// arena.

export class PostingLists {
  #ids: Uint32Array;
  readonly #start: Uint32Array;
  readonly #size: Uint32Array;
  readonly #capacity: Uint32Array;
  #used: number;  // ids[0 .. used) hold lists (and the holes moved lists left)

  private constructor(ids: Uint32Array, start: Uint32Array, size: Uint32Array, used: number) {
    this.#ids = ids;
    this.#start = start;
    this.#size = size;
    this.#capacity = size.slice();
    this.#used = used;
  }

  /** nlist lists holding each id i with labels[i] < nlist, in ascending order (a label of nlist or more: none). */
  static fromLabels(labels: Uint32Array, nlist: number): PostingLists {
    const size = new Uint32Array(nlist);
    for (const label of labels) if (label < nlist) size[label]++;
    const start = new Uint32Array(nlist);
    for (let k = 1; k < nlist; k++) start[k] = start[k - 1] + size[k - 1];
    const used = nlist === 0 ? 0 : start[nlist - 1] + size[nlist - 1];
    const ids = new Uint32Array(used);
    const fill = start.slice();
    labels.forEach((label, id) => {
      if (label < nlist) ids[fill[label]++] = id;
    });
    return new PostingLists(ids, start, size, used);
  }

  get nlist(): number {
    return this.#start.length;
  }

  /** List k (a view: copy it before the lists change). */
  list(k: number): Uint32Array {
    return this.#ids.subarray(this.#start[k], this.#start[k] + this.#size[k]);
  }

  /** Appends id to list k. */
  append(k: number, id: number): void {
    if (this.#size[k] === this.#capacity[k]) this.#move(k, Math.max(4, 2 * this.#capacity[k]));
    this.#ids[this.#start[k] + this.#size[k]++] = id;
  }

  /** The arrays a native scan reads; with `snapshot`, start and size copied (for an async scan). */
  arrays(snapshot: boolean): { listIds: Uint32Array; listStart: Uint32Array; listSize: Uint32Array } {
    return {
      listIds: this.#ids,
      listStart: snapshot ? this.#start.slice() : this.#start,
      listSize: snapshot ? this.#size.slice() : this.#size,
    };
  }

  /** Moves list k to the end of the arena with room for capacity ids; a new arena when the old is full. */
  #move(k: number, capacity: number): void {
    if (this.#used + capacity > this.#ids.length) {
      // Compacted into a new arena with room to grow: the lists in order, each with its room.
      let room = 0;
      for (let j = 0; j < this.nlist; j++) room += this.#capacity[j];
      const ids = new Uint32Array(Math.max(2 * (room + capacity), 64));
      let at = 0;
      for (let j = 0; j < this.nlist; j++) {
        ids.set(this.list(j), at);
        this.#start[j] = at;
        at += this.#capacity[j];
      }
      this.#ids = ids;
      this.#used = at;
    }
    this.#ids.set(this.list(k), this.#used);
    this.#start[k] = this.#used;
    this.#capacity[k] = capacity;
    this.#used += capacity;
  }
}
