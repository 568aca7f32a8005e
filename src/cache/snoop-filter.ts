/**
 * The home node's snoop filter: an exact (inclusive, never-imprecise) directory of which
 * coherence nodes may hold each line, so that a miss snoops only the nodes that hold the line
 * rather than broadcasting. A node is whatever the home node snoops as a unit (a cluster of
 * caches), numbered 0..nodes-1, up to 256.
 *
 * Layout: an open-addressed hash table with linear probing over flat typed arrays. `keys[slot]`
 * is the line number as a double (line numbers reach 2^46, beyond `|`'s 32 bits), `EMPTY_KEY`
 * (-1) for a free slot; the sharer set of a slot is `words` = ceil(nodes / 32) Uint32 words at
 * `sharerBits[slot * words ..]`, node n at bit n % 32 of word n / 32; with more than one word
 * `sharerCount[slot]` caches the popcount so that `count` and the last-sharer test cost nothing
 * (with one word they read the word itself). Deletion shifts the rest of
 * the probe run back (Knuth 6.4, Algorithm R), so there are no tombstones and a lookup stops at
 * the first empty slot. The table doubles and rehashes before the load factor would pass 1/2.
 *
 * Hash: exact for every integer line up to 2^53. `line >>> 0` is the line mod 2^32 (ToUint32 is
 * exact for integers) and `Math.floor(line / 2^32)` the high part; both go through Math.imul and
 * the murmur3 finalizer, so lines that differ only above bit 31 (aliases of a 32-bit hash) still
 * spread.
 *
 * Contract:
 * - Lines are integers in 0..2^53 (in practice < 2^46); nodes are integers in 0..nodes-1. `add`,
 *   `remove` and `has` throw a RangeError for a node out of range, and `add` for a line that is
 *   not a non-negative integer (anything else would corrupt a neighbouring sharer set or the
 *   empty-slot marker). Lookups of a line never added simply find nothing.
 * - `add` and `remove` are idempotent. An entry exists exactly while at least one node holds the
 *   line: removing the last sharer drops the entry, so `size` counts lines with count > 0.
 * - `sharers` writes the holders in increasing node order into out[0..n) and leaves the rest of
 *   `out` alone; `out.length` must be at least `nodes`.
 * - Nothing allocates except `add` when it grows the table (doubling, so amortised O(1));
 *   `clear` keeps the current capacity.
 */

/** The key of a free slot: line numbers are never negative. */
export const EMPTY_KEY = -1;

/** Most coherence nodes a filter tracks (sharer vectors are sized for this many at most). */
export const MAX_SNOOP_NODES = 256;

/** Largest slot count: keeps slot * words and the hash mask inside 31-bit integers. */
const MAX_SLOTS = 2 ** 28;

/**
 * The filter's 32-bit hash of a line (as a signed int32); a line's home slot is the hash masked
 * to the table size. Exact for every integer line up to 2^53: no bit is lost to `|` truncation.
 * Exported so that tests can pick lines that share a home slot.
 */
export function snoopLineHash(line: number): number {
  const lo = line >>> 0;                                // line mod 2^32, exact for integers
  const hi = Math.floor(line / 4294967296) | 0;         // < 2^21 for lines < 2^53
  let h = lo ^ Math.imul(hi, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);            // murmur3 fmix32 (a bijection): every
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);            // input bit reaches the low index bits
  return h ^ (h >>> 16);
}

/** Set bits of a 32-bit word (SWAR popcount). */
function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

export class SnoopFilter {
  /** Uint32 words per sharer set: ceil(nodes / 32). */
  readonly words: number;
  /** Line held by each slot, EMPTY_KEY when the slot is free. */
  private keys: Float64Array;
  /** Sharer bit vectors, `words` per slot. All zero in a free slot. */
  private sharerBits: Uint32Array;
  /**
   * Popcount of each slot's sharer vector (0 in a free slot), kept only when a vector has more
   * than one word: with one word the popcount of that word is as cheap as reading the count, and
   * not keeping it saves a third scattered array touch (a host cache miss) per add and remove.
   */
  private sharerCount: Uint16Array;
  /** slots - 1; slots is a power of two. */
  private mask: number;
  private lines = 0;

  constructor(readonly nodes: number, initialCapacityLines: number) {
    if (!(Number.isInteger(nodes) && nodes >= 1 && nodes <= MAX_SNOOP_NODES)) {
      throw new RangeError(`snoop filter: nodes ${nodes} must be an integer in 1..${MAX_SNOOP_NODES}`);
    }
    if (!(Number.isInteger(initialCapacityLines) && initialCapacityLines >= 0 && initialCapacityLines * 2 <= MAX_SLOTS)) {
      throw new RangeError(`snoop filter: initialCapacityLines ${initialCapacityLines} must be an integer in 0..${MAX_SLOTS / 2}`);
    }
    this.words = (nodes + 31) >>> 5;
    // Room for initialCapacityLines lines at load <= 1/2 without growing.
    let slots = 2;
    while (slots < initialCapacityLines * 2) slots *= 2;
    this.mask = slots - 1;
    this.keys = new Float64Array(slots).fill(EMPTY_KEY);
    this.sharerBits = new Uint32Array(slots * this.words);
    this.sharerCount = new Uint16Array(this.words === 1 ? 0 : slots);
  }

  /** Lines tracked (entries with at least one sharer). */
  get size(): number { return this.lines; }

  /** Slots in the table (a power of two); grows by doubling. For tests and reports. */
  get capacity(): number { return this.mask + 1; }

  /** Records that `node` holds `line`. Idempotent. */
  add(line: number, node: number): void {
    this.checkNode(node);
    if (!(Number.isInteger(line) && line >= 0)) throw new RangeError(`snoop filter: line ${line} must be a non-negative integer`);
    let slot = this.probe(line);
    if (slot < 0) {
      // Not there: the probe stopped at the first free slot of the path, where it goes (unless the table grows first).
      if ((this.lines + 1) * 2 > this.mask + 1) { this.grow(); slot = this.freeSlotFor(line); } else slot = -1 - slot;
      this.keys[slot] = line;
      this.lines++;
    }
    const w = slot * this.words + (node >>> 5), bit = 1 << (node & 31);
    const old = this.sharerBits[w]!;
    if ((old & bit) === 0) {
      this.sharerBits[w] = old | bit;
      if (this.words !== 1) this.sharerCount[slot]++;
    }
  }

  /** Forgets `node` for `line`; the entry disappears when no node is left. Idempotent. */
  remove(line: number, node: number): void {
    this.checkNode(node);
    const slot = this.find(line);
    if (slot < 0) return;
    const w = slot * this.words + (node >>> 5), bit = 1 << (node & 31);
    const old = this.sharerBits[w]!;
    if ((old & bit) === 0) return;
    const now = old & ~bit;
    this.sharerBits[w] = now;
    if (this.words === 1 ? now === 0 : --this.sharerCount[slot] === 0) this.deleteSlot(slot);
  }

  has(line: number, node: number): boolean {
    this.checkNode(node);
    const slot = this.find(line);
    if (slot < 0) return false;
    return (this.sharerBits[slot * this.words + (node >>> 5)]! & (1 << (node & 31))) !== 0;
  }

  /**
   * Writes the nodes holding `line` into out[0..n) in increasing order and returns n (0 if
   * none). `out.length` must be at least `nodes`.
   */
  sharers(line: number, out: Int32Array): number {
    if (out.length < this.nodes) throw new RangeError(`snoop filter: sharers() needs out.length >= ${this.nodes}, got ${out.length}`);
    const slot = this.find(line);
    if (slot < 0) return 0;
    const bits = this.sharerBits, words = this.words, base = slot * words;
    let n = 0;
    for (let i = 0; i < words; i++) {
      let v = bits[base + i]! | 0;
      while (v !== 0) {
        out[n++] = (i << 5) + 31 - Math.clz32(v & -v);   // lowest set bit first
        v &= v - 1;
      }
    }
    return n;
  }

  /** Number of nodes holding `line`. */
  count(line: number): number {
    const slot = this.find(line);
    if (slot < 0) return 0;
    return this.words === 1 ? popcount32(this.sharerBits[slot]!) : this.sharerCount[slot]!;
  }

  /** Forget everything (capacity is kept). */
  clear(): void {
    this.keys.fill(EMPTY_KEY);
    this.sharerBits.fill(0);
    this.sharerCount.fill(0);
    this.lines = 0;
  }

  private checkNode(node: number): void {
    // `>>> 0 ===` rejects fractions, negatives and NaN in one compare.
    if (!((node >>> 0) === node && node < this.nodes)) {
      throw new RangeError(`snoop filter: node ${node} must be an integer in 0..${this.nodes - 1}`);
    }
  }

  /** Home slot of `line`. */
  private home(line: number): number { return snoopLineHash(line) & this.mask; }

  /** The slot holding `line`, or -1. Stops at the first free slot (no tombstones). */
  private find(line: number): number {
    const keys = this.keys, mask = this.mask;
    for (let i = this.home(line); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === line) return i;                         // never true for EMPTY_KEY: lines >= 0
      if (k === EMPTY_KEY) return -1;
    }
  }

  /** find() that also tells where the line would go: its slot, or -1 - (the first free slot of its probe path). */
  private probe(line: number): number {
    const keys = this.keys, mask = this.mask;
    for (let i = this.home(line); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === line) return i;
      if (k === EMPTY_KEY) return -1 - i;
    }
  }

  /** First free slot on `line`'s probe path (the table is never full: load <= 1/2). */
  private freeSlotFor(line: number): number {
    const keys = this.keys, mask = this.mask;
    let i = this.home(line);
    while (keys[i] !== EMPTY_KEY) i = (i + 1) & mask;
    return i;
  }

  /**
   * Frees `slot` (its sharer set is already all zero) by backward shift: each later entry of
   * the probe run whose home is not cyclically in (hole, itself] moves into the hole, which then
   * moves to where that entry was. Knuth, TAOCP vol. 3, 6.4 Algorithm R.
   */
  private deleteSlot(slot: number): void {
    const keys = this.keys, bits = this.sharerBits, cnt = this.sharerCount;
    const mask = this.mask, words = this.words;
    let hole = slot;
    for (let j = (slot + 1) & mask; ; j = (j + 1) & mask) {
      const k = keys[j]!;
      if (k === EMPTY_KEY) break;
      const h = this.home(k);
      // Entry j may stay iff its home lies cyclically in (hole, j]: its probe path from h to j
      // then does not cross the hole.
      if (hole <= j ? hole < h && h <= j : hole < h || h <= j) continue;
      keys[hole] = k;
      if (words !== 1) cnt[hole] = cnt[j]!;
      const from = j * words, to = hole * words;
      for (let w = 0; w < words; w++) bits[to + w] = bits[from + w]!;
      hole = j;
    }
    keys[hole] = EMPTY_KEY;
    if (words !== 1) cnt[hole] = 0;
    this.lines--;
    bits.fill(0, hole * words, hole * words + words);
  }

  /** Doubles the table and reinserts every entry (the only allocation). */
  private grow(): void {
    const oldKeys = this.keys, oldBits = this.sharerBits, oldCnt = this.sharerCount;
    const words = this.words, slots = (this.mask + 1) * 2;
    if (slots > MAX_SLOTS) throw new RangeError(`snoop filter: more than ${MAX_SLOTS / 2} lines tracked`);
    this.mask = slots - 1;
    this.keys = new Float64Array(slots).fill(EMPTY_KEY);
    this.sharerBits = new Uint32Array(slots * words);
    this.sharerCount = new Uint16Array(this.words === 1 ? 0 : slots);
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k === EMPTY_KEY) continue;
      const s = this.freeSlotFor(k);
      this.keys[s] = k;
      if (words !== 1) this.sharerCount[s] = oldCnt[i]!;
      const from = i * words, to = s * words;
      for (let w = 0; w < words; w++) this.sharerBits[to + w] = oldBits[from + w]!;
    }
  }
}
