/**
 * Miss status holding registers: one entry per line being fetched, each with the ids of the
 * requests waiting for it (the "targets", e.g. RequestTable ids). A second miss to a line already
 * in flight merges into its entry instead of sending another request below; a miss that finds no
 * free entry stalls the cache until one is released (ChampSim's MSHR, gem5's MSHRQueue).
 *
 * Storage is struct-of-arrays sized once: entry e keeps its targets in the fixed segment
 * [e * maxTargets, e * maxTargets + count[e]) of one Int32Array, in arrival order. Nothing is
 * allocated per miss.
 *
 * Contract: `allocate` returns the entry, or MSHR_FULL (no entry free: stall, retry after a
 * release) or MSHR_TARGETS_FULL (the line's entry has `maxTargets` waiters: stall likewise).
 * `lastWasMerge` tells whether the last successful allocate joined an existing entry (send
 * nothing below) or opened a new one (send the fill request). `complete(line, ...)` hands every
 * target to the callback in arrival order and frees the entry.
 */

export const MSHR_FULL = -1;
export const MSHR_TARGETS_FULL = -2;

export class MshrTable {
  /** Line number per entry, -1 when the entry is free. */
  readonly line: Float64Array;
  /** Free for the controller (e.g. "needs a unique copy", "is a prefetch"); cleared on allocate. */
  readonly flags: Uint8Array;
  private readonly targets: Int32Array;
  private readonly count: Uint16Array;
  private readonly freeList: Int32Array;
  private nFree: number;
  /** Targets of the entry being completed (complete() is not re-entrant). */
  private readonly scratch: Int32Array;
  /** Whether the last successful `allocate` merged into an entry already in flight. */
  lastWasMerge = false;
  /** High-water mark of entries in use. */
  peakInUse = 0;

  constructor(readonly capacity: number, readonly maxTargets = 8) {
    if (!(Number.isInteger(capacity) && capacity >= 1 && capacity <= 65536)) throw new RangeError(`MSHRs: capacity ${capacity} must be an integer in 1..65536`);
    if (!(Number.isInteger(maxTargets) && maxTargets >= 1 && maxTargets <= 65535)) throw new RangeError(`MSHRs: maxTargets ${maxTargets} must be an integer in 1..65535`);
    this.line = new Float64Array(capacity).fill(-1);
    this.flags = new Uint8Array(capacity);
    this.targets = new Int32Array(capacity * maxTargets);
    this.count = new Uint16Array(capacity);
    this.freeList = new Int32Array(capacity);
    this.scratch = new Int32Array(maxTargets);
    this.nFree = capacity;
    for (let i = 0; i < capacity; i++) this.freeList[i] = capacity - 1 - i;   // entry 0 is handed out first
  }

  get inUse(): number { return this.capacity - this.nFree; }

  isFull(): boolean { return this.nFree === 0; }

  /** The entry tracking `line`, or -1. */
  find(line: number): number {
    const l = this.line;
    for (let e = 0, end = this.top; e < end; e++) if (l[e] === line) return e;
    return -1;
  }

  /**
   * 1 + the highest entry opened since the last reset: entries from here on have never held a
   * line (line -1), so find() stops here. The free list hands out the lowest entries first and
   * takes freed ones back on top, so this stays near the peak number in use, not the capacity.
   */
  private top = 0;

  /**
   * Records that request `target` waits for `line`: merges into the line's entry if there is one,
   * else opens a new entry. Returns the entry, MSHR_FULL or MSHR_TARGETS_FULL (nothing recorded).
   */
  allocate(line: number, target: number): number {
    const e = this.find(line);
    return e >= 0 ? this.merge(e, target) : this.open(line, target);
  }

  /** allocate() for a line known to have entry `e` (from find): adds `target` to it. Returns e or MSHR_TARGETS_FULL. */
  merge(e: number, target: number): number {
    const n = this.count[e]!;
    if (n === this.maxTargets) return MSHR_TARGETS_FULL;
    this.targets[e * this.maxTargets + n] = target;
    this.count[e] = n + 1;
    this.lastWasMerge = true;
    return e;
  }

  /** allocate() for a line known to have no entry (find gave -1): opens one. Returns it or MSHR_FULL. */
  open(line: number, target: number): number {
    if (this.nFree === 0) return MSHR_FULL;
    const e = this.freeList[--this.nFree]!;
    if (e >= this.top) this.top = e + 1;
    this.line[e] = line;
    this.flags[e] = 0;
    this.targets[e * this.maxTargets] = target;
    this.count[e] = 1;
    this.lastWasMerge = false;
    const used = this.capacity - this.nFree;
    if (used > this.peakInUse) this.peakInUse = used;
    return e;
  }

  /** Targets waiting on entry `e`. */
  targetCount(e: number): number { return this.count[e]!; }

  /** The i-th target of entry `e`, in arrival order. */
  target(e: number, i: number): number { return this.targets[e * this.maxTargets + i]!; }

  /**
   * The fill for `line` arrived: calls `onTarget(target, line)` for each waiting request in
   * arrival order, the entry being already free (so a handler may allocate again). Returns the number of targets, or -1 if no entry tracks
   * `line`. Pass a callback created once (a bound method), not a closure per call.
   */
  complete(line: number, onTarget: (target: number, line: number) => void): number {
    const e = this.find(line);
    if (e < 0) return -1;
    const n = this.count[e]!, base = e * this.maxTargets, scratch = this.scratch;
    for (let i = 0; i < n; i++) scratch[i] = this.targets[base + i]!;
    // Free before the callbacks: a handler may miss again (on this line or another) and must find
    // the entry free, not merge into a fill that has already arrived.
    this.release(e);
    for (let i = 0; i < n; i++) onTarget(scratch[i]!, line);
    return n;
  }

  /**
   * Frees entry `e` without visiting its targets (after reading them with target(), or on a
   * cancelled fill). The target slots stay readable until the entry is allocated again.
   */
  release(e: number): void {
    if (this.line[e] === -1) throw new Error(`MSHRs: release of free entry ${e}`);
    this.line[e] = -1;
    this.count[e] = 0;
    this.freeList[this.nFree++] = e;
  }

  /** Frees every entry. */
  reset(): void {
    this.line.fill(-1);
    this.count.fill(0);
    this.flags.fill(0);
    this.nFree = this.capacity;
    for (let i = 0; i < this.capacity; i++) this.freeList[i] = this.capacity - 1 - i;
    this.lastWasMerge = false;
    this.top = 0;
  }
}
