/**
 * The storage of one set-associative cache: tags, per-line state, line data and replacement
 * state in flat typed arrays indexed by slot = set * ways + way (v86 / avr8js style). No
 * counters: statistics belong to the controller that drives the array.
 *
 * Addressing: callers pass line numbers, `line = floor(pa / lineBytes)` (exact up to 2^53), and
 * the set is `line mod sets` (bit selection, as in cachegrind's and Dinero's models), computed as
 * `line & (sets - 1)`: sets is a power of two and `&` first takes the line mod 2^32 (ToInt32 is
 * exact for integers up to 2^53), so the low bits, the only ones the mask keeps, are the line's
 * own even above 2^32. The whole line number is the tag, so a tag compare never needs the set.
 *
 * Tags are stored as 32-bit offsets from `tagBase` (a line number the owner picks, the start of
 * DRAM in a hierarchy): a 16-way set's tags fill one 64-byte host cache line, not two, and compare
 * as integers. A line more than 2^31 lines (128 GiB of 64-byte lines) from tagBase is stored as
 * TAG_FAR with its whole number in `far`, found by a slower scan: exact for every line, fast for
 * the near ones.
 *
 * Contract:
 * - `lineOf(slot)` is -1 (INVALID_TAG) exactly when the slot is invalid; change validity only through
 *   `fill()` / `invalidate()`. The controller may set and clear DIRTY, SHARED and its own bits
 *   in `state[slot]` directly (`a.state[s] |= STATE_DIRTY`), but never VALID.
 * - `lookup` has no side effect; a hit updates replacement state only when the controller calls
 *   `touch` (so probes and snoops do not count as uses).
 * - `victim(set)` returns the lowest invalid way of the set if there is one, else the policy's
 *   choice; it does not evict: the controller writes back the old line if it is dirty, then
 *   calls `fill`.
 * - Nothing on the access path (lookup, touch, victim, fill, invalidate, readBytes, writeBytes)
 *   allocates.
 */
import { WordViews } from '../sim/index.js';
import type { ReplacementPolicy } from './replacement.js';
import { LruPolicy } from './replacement/lru.js';

/** Line is present. Only `fill` sets it and only `invalidate` clears it. */
export const STATE_VALID = 0x01;
/** Line differs from the next level and must be written back before it is dropped (M, O). */
export const STATE_DIRTY = 0x02;
/** Other caches may hold copies: a write needs an upgrade first (S, O). */
export const STATE_SHARED = 0x04;
/** Bits free for the controller (a fill in flight, a prefetched line, ...). */
export const STATE_CONTROLLER_BITS = 0xf8;

/**
 * MOESI states as state bytes, with the AMBA CHI names (IHI 0050, "Cache state model"):
 * M = UD (Unique Dirty), O = SD (Shared Dirty), E = UC (Unique Clean), S = SC (Shared Clean),
 * I = I. A write-through cache only ever holds E or S (never DIRTY).
 */
export const MoesiState = {
  I: 0,
  S: STATE_VALID | STATE_SHARED,
  E: STATE_VALID,
  O: STATE_VALID | STATE_DIRTY | STATE_SHARED,
  M: STATE_VALID | STATE_DIRTY,
} as const;

export interface CacheGeometry {
  /** Total data capacity: sets * ways * lineBytes. */
  sizeBytes: number;
  ways: number;
  lineBytes: number;
}

export interface CacheArrayOptions {
  /** Replacement policy sized for this geometry (default: true LRU). */
  replacement?: ReplacementPolicy;
  /**
   * Where line data lives: 'local' (default) an ArrayBuffer, 'shared' a SharedArrayBuffer (a
   * worker can read it), 'none' no data at all (tag-only models; `data` is empty).
   */
  data?: 'local' | 'shared' | 'none';
  /** The line number tags are stored relative to (default 0; see the file comment). */
  tagBase?: number;
  /**
   * Whether `gen` counts fills (default true). A controller that never reads `gen` turns it off:
   * the count is one more scattered write per fill, a host cache miss in a large array.
   */
  generations?: boolean;
}

/** What lineOf() says of an invalid slot: line numbers are never negative. */
export const INVALID_TAG = -1;

/** Stored tag of an invalid slot (the int32 minimum: never an offset). */
const TAG_INVALID = -0x8000_0000;
/** Stored tag of a slot whose line is too far from tagBase for an int32 offset (its line is in `far`). */
const TAG_FAR = -0x7fff_ffff;
/** Offsets from tagBase in [NEAR_MIN, NEAR_LIMIT) are stored as they are. */
const NEAR_MIN = -0x7fff_fffe;
const NEAR_LIMIT = 0x8000_0000;

/**
 * Checks a geometry and returns its set count. Line size and set count must be powers of two
 * (sets are indexed by bit selection); ways may be any positive integer (12- and 20-way LLCs
 * exist); size must be exactly sets * ways * lineBytes.
 */
export function checkGeometry(g: CacheGeometry, what = 'cache'): number {
  const { sizeBytes, ways, lineBytes } = g;
  if (!(Number.isInteger(lineBytes) && lineBytes >= 1 && isPow2(lineBytes))) throw new RangeError(`${what}: lineBytes ${lineBytes} must be a power of two`);
  if (!(Number.isInteger(ways) && ways >= 1 && ways <= 256)) throw new RangeError(`${what}: ways ${ways} must be an integer in 1..256`);
  if (!(Number.isInteger(sizeBytes) && sizeBytes >= lineBytes * ways)) throw new RangeError(`${what}: sizeBytes ${sizeBytes} must be an integer of at least ways * lineBytes = ${ways * lineBytes}`);
  const sets = sizeBytes / (ways * lineBytes);
  if (!(Number.isInteger(sets) && isPow2(sets))) {
    throw new RangeError(`${what}: sizeBytes / (ways * lineBytes) = ${sizeBytes} / (${ways} * ${lineBytes}) = ${sets} sets; the set count must be a power of two`);
  }
  return sets;
}

export function isPow2(x: number): boolean {
  return x >= 1 && Number.isInteger(Math.log2(x));
}

export class CacheArray {
  readonly sizeBytes: number;
  readonly ways: number;
  readonly lineBytes: number;
  readonly sets: number;
  /** Per slot: the line's offset from tagBase, TAG_FAR or TAG_INVALID (read lines with lineOf). */
  private readonly tags: Int32Array;
  /** The line of each TAG_FAR slot (allocated at the first far fill). */
  private far: Float64Array | undefined;
  /** See the file comment: tags are offsets from this line number. */
  readonly tagBase: number;
  /** STATE_* bits per slot. */
  readonly state: Uint8Array;
  /** Line data, `lineBytes` per slot at `dataOffset(slot)`. Empty with `data: 'none'`. */
  readonly data: Uint8Array;
  /** `data` as whole 32-bit words, for aligned copies (see readBytes). */
  private readonly data32: Int32Array;
  /** Word views of the arrays readBytes / writeBytes copy to and from. */
  private readonly peers = new WordViews();
  readonly policy: ReplacementPolicy;
  /**
   * Fills of each slot so far (mod 2^32): a line seen at (slot, gen) is still the same copy while
   * both match. Empty (never counted) when the array was built with `generations: false`.
   */
  readonly gen: Uint32Array;
  private readonly countGen: boolean;
  /** Valid ways per set, so that victim() skips the search for a hole in a full set. */
  private readonly validWays: Uint16Array;
  /** sets - 1 (sets is a power of two): `line & setMask` is the set. */
  private readonly setMask: number;
  /**
   * The slot lookup() found last. Tags are unique among valid slots, so a match at lastSlot
   * proves it is still the answer (no bookkeeping on fill or invalidate); accesses to one line
   * come in runs (sequential fetches, a loop's data), and then lookup skips the scan.
   */
  private lastSlot = 0;
  /**
   * The slot touch() told the policy about last, -1 after anything else changed the policy's
   * state. Telling the policy again about the slot it heard of last changes no victim choice (see
   * ReplacementPolicy: a repeated touch is idempotent for the choice), so touch() skips it.
   */
  private lastTouched = -1;

  constructor(geometry: CacheGeometry, opts: CacheArrayOptions = {}) {
    this.sets = checkGeometry(geometry);
    this.sizeBytes = geometry.sizeBytes;
    this.ways = geometry.ways;
    this.lineBytes = geometry.lineBytes;
    const slots = this.sets * this.ways;
    this.tags = new Int32Array(slots).fill(TAG_INVALID);
    this.tagBase = opts.tagBase ?? 0;
    if (!Number.isSafeInteger(this.tagBase) || this.tagBase < 0) throw new RangeError(`cache tagBase: ${this.tagBase} must be a line number (a non-negative integer)`);
    this.state = new Uint8Array(slots);
    this.countGen = opts.generations ?? true;
    this.gen = new Uint32Array(this.countGen ? slots : 0);
    this.validWays = new Uint16Array(this.sets);
    this.setMask = this.sets - 1;
    const kind = opts.data ?? 'local';
    if (kind === 'none') this.data = new Uint8Array(0);
    else if (kind === 'shared') this.data = new Uint8Array(new SharedArrayBuffer(slots * this.lineBytes));
    else if (kind === 'local') this.data = new Uint8Array(slots * this.lineBytes);
    else throw new RangeError(`cache data: ${JSON.stringify(kind)} is not one of local, shared, none`);
    this.data32 = new Int32Array(this.data.buffer, 0, this.data.byteLength >>> 2);
    const policy = opts.replacement ?? new LruPolicy(this.sets, this.ways);
    if (policy.sets !== this.sets || policy.ways !== this.ways) {
      throw new RangeError(`cache replacement: policy is sized ${policy.sets} sets x ${policy.ways} ways, the array has ${this.sets} x ${this.ways}`);
    }
    this.policy = policy;
  }

  /** The set `line` maps to. */
  setOf(line: number): number { return line & this.setMask; }

  /** The slot holding `line` (a line number, >= 0), or -1. No side effect but the lookup memo. */
  lookup(line: number): number {
    const rel = line - this.tagBase;
    if (!(rel >= NEAR_MIN && rel < NEAR_LIMIT)) return this.lookupFar(line);
    const key = rel | 0, tags = this.tags, last = this.lastSlot;
    if (tags[last] === key) return last;
    const ways = this.ways;
    const base = (line & this.setMask) * ways;
    for (let i = base, end = base + ways; i < end; i++) {
      if (tags[i] === key) { this.lastSlot = i; return i; }
    }
    return -1;
  }

  private lookupFar(line: number): number {
    const far = this.far;
    if (far === undefined) return -1;
    const tags = this.tags, ways = this.ways, base = (line & this.setMask) * ways;
    for (let i = base, end = base + ways; i < end; i++) {
      if (tags[i] === TAG_FAR && far[i] === line) return i;
    }
    return -1;
  }

  /** Records a use of a valid slot (a demand hit) with the replacement policy. */
  touch(slot: number): void {
    if (slot === this.lastTouched) return;
    this.lastTouched = slot;
    this.policy.touch(slot);
  }

  /** The slot to fill in `set`: the lowest invalid way, else the policy's victim (not evicted). */
  victim(set: number): number {
    const ways = this.ways, base = set * ways;
    if (this.validWays[set] !== ways) {                  // a full set (the common case) skips the scan
      const tags = this.tags;
      for (let i = base, end = base + ways; i < end; i++) if (tags[i] === TAG_INVALID) return i;
    }
    return base + this.policy.victim(set);
  }

  /**
   * Installs `line` in `slot` with `state` (VALID is added) and tells the policy. The slot must
   * be in `setOf(line)`; whatever it held is overwritten (write it back first if it was dirty).
   * Data is left as it was: the controller copies the fill data in.
   */
  fill(slot: number, line: number, state: number): void {
    if (this.tags[slot] === TAG_INVALID) this.validWays[line & this.setMask]++;   // the slot is in line's set
    const rel = line - this.tagBase;
    if (rel >= NEAR_MIN && rel < NEAR_LIMIT) this.tags[slot] = rel | 0;
    else this.fillFar(slot, line);
    this.state[slot] = state | STATE_VALID;
    if (this.countGen) this.gen[slot] = (this.gen[slot]! + 1) >>> 0;
    this.lastTouched = slot;                             // a fill is a use to every policy: a touch now repeats it
    this.policy.fill(slot);
  }

  private fillFar(slot: number, line: number): void {
    (this.far ??= new Float64Array(this.tags.length))[slot] = line;
    this.tags[slot] = TAG_FAR;
  }

  /** Empties `slot` (state 0, lineOf -1). Data is left as it was. */
  invalidate(slot: number): void {
    const old = this.lineOf(slot);
    if (old !== INVALID_TAG) this.validWays[old & this.setMask]--;
    this.tags[slot] = TAG_INVALID;
    this.state[slot] = 0;
    this.lastTouched = -1;
    this.policy.invalidate(slot);
  }

  isValid(slot: number): boolean { return this.tags[slot] !== TAG_INVALID; }

  /** The line number in `slot`, or -1 (INVALID_TAG) if it is invalid. */
  lineOf(slot: number): number {
    const key = this.tags[slot]!;
    if (key >= NEAR_MIN) return this.tagBase + key;
    return key === TAG_FAR ? this.far![slot]! : INVALID_TAG;
  }

  /** Byte offset of `slot`'s line in `data`. */
  dataOffset(slot: number): number { return slot * this.lineBytes; }

  slotOf(set: number, way: number): number { return set * this.ways + way; }

  setOfSlot(slot: number): number { return (slot / this.ways) | 0; }

  wayOf(slot: number): number { return slot - ((slot / this.ways) | 0) * this.ways; }

  /**
   * Copies `len` bytes of `slot`'s line from byte `offset` into `dst` (no allocation once the
   * word views of dst's buffer exist). Ranges word-aligned at both ends in large buffers move as
   * 32-bit words, anything else byte by byte: the same bytes either way.
   */
  readBytes(slot: number, offset: number, dst: Uint8Array, dstOff: number, len: number): void {
    // Offsets are byte indexes below 2^31 (not addresses): `| 0` keeps the loop on small ints
    // even when `offset` was computed from a double address.
    const d = this.data, s = (slot * this.lineBytes + offset) | 0, o = dstOff | 0, n = len | 0;
    if (n >= 8) {
      // Whole words when both ends are word-aligned in their buffers (line moves, 8-byte loads).
      const w = this.peers.of(dst);
      const at = (this.peers.at + o) | 0;
      if (w !== undefined && ((s | at | n) & 3) === 0) {
        const d32 = this.data32, si = s >>> 2, di = at >>> 2;
        for (let i = 0, m = n >>> 2; i < m; i++) w[di + i] = d32[si + i]!;
        return;
      }
    }
    for (let i = 0; i < n; i++) dst[o + i] = d[s + i]!;
  }

  /** Copies `len` bytes from `src` into `slot`'s line at byte `offset` (no allocation). */
  writeBytes(slot: number, offset: number, src: Uint8Array, srcOff: number, len: number): void {
    const d = this.data, s = (slot * this.lineBytes + offset) | 0, o = srcOff | 0, n = len | 0;
    if (n >= 8) {
      const w = this.peers.of(src);
      const at = (this.peers.at + o) | 0;
      if (w !== undefined && ((s | at | n) & 3) === 0) {
        const d32 = this.data32, di = s >>> 2, si = at >>> 2;
        for (let i = 0, m = n >>> 2; i < m; i++) d32[di + i] = w[si + i]!;
        return;
      }
    }
    for (let i = 0; i < n; i++) d[s + i] = src[o + i]!;
  }

  /**
   * Calls `fn` for every valid slot in set-then-way order (set/way maintenance, dumps). Safe to
   * `invalidate` the current slot from `fn`. Not for the access path.
   */
  forEachValid(fn: (slot: number, line: number, state: number) => void): void {
    const state = this.state;
    for (let i = 0; i < this.tags.length; i++) {
      const line = this.lineOf(i);
      if (line !== INVALID_TAG) fn(i, line, state[i]!);
    }
  }

  /** Valid lines held (a scan: for tests and reports). */
  countValid(): number {
    let n = 0;
    for (let set = 0; set < this.sets; set++) n += this.validWays[set]!;
    return n;
  }

  /** Everything invalid, replacement state as constructed, data zeroed. */
  reset(): void {
    this.tags.fill(TAG_INVALID);
    this.state.fill(0);
    this.validWays.fill(0);
    this.data.fill(0);
    this.lastTouched = -1;
    this.policy.reset();
  }
}
