import type { Cycle } from './time.js';

export type Handler = (arg: number) => void;

/** Cycles covered by the timing wheel (a power of two); later events wait in the heap. */
const WHEEL = 1024;
const MASK = WHEEL - 1;
const WORDS = WHEEL >>> 5;

/**
 * The one event queue, ordered by (cycle, insertion sequence) so that events of the same cycle
 * run in the order they were scheduled.
 *
 * Two structures hold the pending events. Most delays in a memory system are short, so an event
 * due within WHEEL cycles of `base` goes into a timing wheel: one FIFO bucket per cycle (a linked
 * list in typed arrays), which keeps same-cycle events in insertion order without comparing
 * anything. Later events, and any at a non-integer time, go into a binary heap over parallel typed
 * arrays ordered by (cycle, sequence number). The two never disagree on order: an event enters the
 * heap at integer cycle T only while T >= base + WHEEL, `base` never decreases, and the wheel takes
 * every later event for T, so at equal cycles the heap's events are the older ones and run first.
 *
 * Contract: handlers are registered once at build time and referred to by number; scheduling and
 * dispatch allocate nothing (the arrays double when full, which happens only while warming up).
 * `now` may be moved forward by hand between runs (a driver skipping idle time); never backward
 * past a pending event. Nothing here reads the wall clock.
 */
export class EventQueue {
  now: Cycle = 0;
  /** Events dispatched since construction. */
  dispatched = 0;

  // Timing wheel: bucket (cursor + d) & MASK holds the events due at cycle base + d, 0 <= d < WHEEL.
  /** An integer cycle <= now: the cycle of bucket `cursor`. */
  private base = 0;
  private cursor = 0;
  private readonly head = new Int32Array(WHEEL).fill(-1);
  private readonly tail = new Int32Array(WHEEL);
  /** Bit b set: bucket b is not empty. */
  private readonly occupied = new Int32Array(WORDS);
  private wheelCount = 0;
  // Wheel entries: a pool of list nodes; free ones are chained through `nodeNext` from `freeNode`.
  private nodeWhat: Int32Array;
  private nodeArg: Int32Array;
  private nodeNext: Int32Array;
  private freeNode = 0;

  // Heap, ordered by (when, seq).
  private when: Float64Array;
  private seq: Float64Array;
  private what: Int32Array;
  private arg: Int32Array;
  private n = 0;
  private nextSeq = 0;

  /**
   * An event scheduled with scheduleLast and not stored yet (heldHandler -1: none). It is stored
   * before anything else is scheduled, so it keeps its place in (cycle, sequence) order; if it is
   * still held when the handler returns and no stored event is due at or before it, the run loop
   * dispatches it at once, which is what popping it would have done.
   */
  private heldHandler = -1;
  private heldAt = 0;
  private heldArg = 0;

  private readonly handlers: Handler[] = [];
  private readonly names: string[] = [];
  private stopRequested = false;

  constructor(initialCapacity = 1024) {
    const cap = Math.max(1, initialCapacity);
    this.nodeWhat = new Int32Array(cap);
    this.nodeArg = new Int32Array(cap);
    this.nodeNext = new Int32Array(cap);
    for (let i = 0; i < cap; i++) this.nodeNext[i] = i + 1;
    this.nodeNext[cap - 1] = -1;
    this.when = new Float64Array(cap);
    this.seq = new Float64Array(cap);
    this.what = new Int32Array(cap);
    this.arg = new Int32Array(cap);
  }

  /** Registers a handler and returns its id; `name` is used in diagnostics. */
  register(name: string, fn: Handler): number {
    this.handlers.push(fn);
    this.names.push(name);
    return this.handlers.length - 1;
  }

  handlerName(id: number): string { return this.names[id] ?? `#${id}`; }

  get size(): number { this.storeHeld(); return this.n + this.wheelCount; }

  /** Cycle of the earliest pending event, or Infinity. */
  peekTime(): Cycle {
    this.storeHeld();
    const th = this.n > 0 ? this.when[0]! : Infinity;
    if (this.wheelCount === 0) return th;
    return Math.min(th, this.base + this.nextWheelOffset());
  }

  /** Runs `handler(arg)` `delay` cycles from now (delay >= 0, an integer). */
  schedule(handler: number, delay: Cycle, arg = 0): void {
    this.scheduleAt(handler, this.now + delay, arg);
  }

  /**
   * As scheduleAt, for a handler that is likely to schedule nothing more before it returns (a PE's
   * next step): the event is held back rather than stored, and when it is due next the run loop
   * dispatches it without a trip through the wheel. Order and results are those of scheduleAt.
   */
  scheduleLast(handler: number, at: Cycle, arg = 0): void {
    if (!(at >= this.now)) this.inThePast(handler, at);
    if (this.heldHandler !== -1) this.storeHeld();
    this.heldHandler = handler; this.heldAt = at; this.heldArg = arg;
  }

  /** Runs `handler(arg)` at absolute cycle `at` (>= now). */
  scheduleAt(handler: number, at: Cycle, arg = 0): void {
    if (!(at >= this.now)) this.inThePast(handler, at);
    if (this.heldHandler !== -1) this.storeHeld();
    this.store(handler, at, arg);
  }

  /** Stores the held event (see heldHandler), if any, as scheduleAt would have. */
  private storeHeld(): void {
    const h = this.heldHandler;
    if (h === -1) return;
    this.heldHandler = -1;
    this.store(h, this.heldAt, this.heldArg);
  }

  private store(handler: number, at: Cycle, arg: number): void {
    const d = at - this.base;
    if (d < WHEEL && (d | 0) === d && d >= 0) {
      let node = this.freeNode;
      if (node === -1) node = this.growNodes();
      const next = this.nodeNext;
      this.freeNode = next[node]!;
      this.nodeWhat[node] = handler; this.nodeArg[node] = arg; next[node] = -1;
      const b = (this.cursor + d) & MASK;
      if (this.head[b] === -1) { this.head[b] = node; this.occupied[b >>> 5]! |= 1 << (b & 31); }
      else next[this.tail[b]!] = node;
      this.tail[b] = node;
      this.wheelCount++;
      return;
    }
    this.heapPush(handler, at, arg);
  }

  // Kept out of scheduleAt, whose callers inline it more readily the smaller its bytecode.
  private inThePast(handler: number, at: Cycle): never {
    throw new RangeError(`event ${this.handlerName(handler)} scheduled in the past: ${at} < ${this.now}`);
  }

  /** Asks the run loop to return after the current event. */
  stop(): void { this.stopRequested = true; }

  /**
   * Dispatches events while the earliest is before `end` and no stop was requested.
   * Afterwards `now` is the time of the last event run (not advanced to `end`).
   * Returns true when it stopped because the queue ran dry or reached `end`.
   */
  runUntil(end: Cycle): boolean {
    this.stopRequested = false;
    const handlers = this.handlers;
    const head = this.head;
    for (;;) {
      const th = this.n > 0 ? this.when[0]! : Infinity;
      const tw = this.wheelCount > 0 ? this.base + this.nextWheelOffset() : Infinity;
      if (this.heldHandler !== -1) {
        // The held event was scheduled after every stored one, so it runs first only when it is
        // due strictly before them all (at equal cycles the stored ones are older).
        const at = this.heldAt;
        if (at < th && at < tw) {
          if (at >= end) { this.storeHeld(); return true; }
          const h = this.heldHandler;
          this.heldHandler = -1;
          this.now = at;
          // Every stored event is due after `at`: the wheel may move up to it (as for a heap event).
          const fl = Math.floor(at);
          if (fl > this.base) { this.cursor = (this.cursor + ((fl - this.base) % WHEEL)) & MASK; this.base = fl; }
          this.dispatched++;
          handlers[h]!(this.heldArg);
          if (this.stopRequested) return false;
          continue;
        }
        this.storeHeld();
        continue;
      }
      if (this.n + this.wheelCount === 0) return true;
      if (this.wheelCount > 0) {
        if (tw < th) { // at equal cycles the heap's events are older: see the class comment
          const d = tw - this.base;
          if (tw >= end) return true;
          const b = (this.cursor + d) & MASK;
          const node = head[b]!;
          const next = this.nodeNext;
          const h = this.nodeWhat[node]!, a = this.nodeArg[node]!;
          const after = next[node]!;
          head[b] = after;
          if (after === -1) this.occupied[b >>> 5]! &= ~(1 << (b & 31));
          next[node] = this.freeNode; this.freeNode = node;
          this.wheelCount--;
          this.cursor = b; this.base = tw;
          this.now = tw;
          this.dispatched++;
          handlers[h]!(a);
          if (this.stopRequested) return false;
          continue;
        }
      }
      if (th >= end) return true;
      const h = this.what[0]!, a = this.arg[0]!;
      this.popTop();
      this.now = th;
      // Bring the wheel up to now so that short delays from here on use it. Every wheel event is
      // due at or after th, so none falls behind the new base.
      const fl = Math.floor(th);
      if (fl > this.base) { this.cursor = (this.cursor + ((fl - this.base) % WHEEL)) & MASK; this.base = fl; }
      this.dispatched++;
      handlers[h]!(a);
      if (this.stopRequested) return false;
    }
    return true;
  }

  /** Offset from `cursor` of the first non-empty bucket; only when wheelCount > 0. */
  private nextWheelOffset(): number {
    const c = this.cursor;
    if (this.head[c] !== -1) return 0;
    const occ = this.occupied;
    let w = c >>> 5;
    let bits = occ[w]! & (-1 << (c & 31));
    // WORDS + 1 words: the first one from the cursor up, the last one is the first again, whole.
    for (let i = 0; i <= WORDS; i++) {
      if (bits !== 0) return (((w << 5) | (31 - Math.clz32(bits & -bits))) - c) & MASK;
      w = (w + 1) & (WORDS - 1);
      bits = occ[w]!;
    }
    throw new Error('event queue: wheel count and bitmap disagree');
  }

  private growNodes(): number {
    const old = this.nodeNext.length, cap = old * 2;
    const w = new Int32Array(cap); w.set(this.nodeWhat); this.nodeWhat = w;
    const a = new Int32Array(cap); a.set(this.nodeArg); this.nodeArg = a;
    const nx = new Int32Array(cap); nx.set(this.nodeNext); this.nodeNext = nx;
    for (let i = old; i < cap; i++) nx[i] = i + 1;
    nx[cap - 1] = -1;
    this.freeNode = old;
    return old;
  }

  private heapPush(handler: number, at: Cycle, arg: number): void {
    if (this.n === this.when.length) this.growHeap();
    const s = this.nextSeq++;
    let i = this.n++;
    const when = this.when, seq = this.seq, what = this.what, args = this.arg;
    while (i > 0) { // sift up
      const p = (i - 1) >> 1;
      const pw = when[p]!;
      if (pw < at || (pw === at && seq[p]! < s)) break;
      when[i] = pw; seq[i] = seq[p]!; what[i] = what[p]!; args[i] = args[p]!;
      i = p;
    }
    when[i] = at; seq[i] = s; what[i] = handler; args[i] = arg;
  }

  private popTop(): void {
    const when = this.when, seq = this.seq, what = this.what, args = this.arg;
    const last = --this.n;
    if (last === 0) return;
    const lw = when[last]!, ls = seq[last]!, lh = what[last]!, la = args[last]!;
    let i = 0;
    const half = last >> 1;
    while (i < half) {
      let c = 2 * i + 1;
      const r = c + 1;
      if (r < last && (when[r]! < when[c]! || (when[r] === when[c] && seq[r]! < seq[c]!))) c = r;
      const cw = when[c]!;
      if (lw < cw || (lw === cw && ls < seq[c]!)) break;
      when[i] = cw; seq[i] = seq[c]!; what[i] = what[c]!; args[i] = args[c]!;
      i = c;
    }
    when[i] = lw; seq[i] = ls; what[i] = lh; args[i] = la;
  }

  private growHeap(): void {
    const cap = this.when.length * 2;
    const w = new Float64Array(cap); w.set(this.when); this.when = w;
    const s = new Float64Array(cap); s.set(this.seq); this.seq = s;
    const h = new Int32Array(cap); h.set(this.what); this.what = h;
    const a = new Int32Array(cap); a.set(this.arg); this.arg = a;
  }
}
