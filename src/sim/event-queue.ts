import type { Cycle } from './time.js';

export type Handler = (arg: number) => void;

/**
 * The one event queue: a binary heap over parallel typed arrays, ordered by (cycle, insertion
 * sequence) so that events of the same cycle run in the order they were scheduled.
 *
 * Contract: handlers are registered once at build time and referred to by number; scheduling and
 * dispatch allocate nothing (the arrays double when full, which happens only while warming up).
 * Nothing here reads the wall clock.
 */
export class EventQueue {
  now: Cycle = 0;
  /** Events dispatched since construction. */
  dispatched = 0;
  private when: Float64Array;
  private seq: Float64Array;
  private what: Int32Array;
  private arg: Int32Array;
  private n = 0;
  private nextSeq = 0;
  private readonly handlers: Handler[] = [];
  private readonly names: string[] = [];
  private stopRequested = false;

  constructor(initialCapacity = 1024) {
    this.when = new Float64Array(initialCapacity);
    this.seq = new Float64Array(initialCapacity);
    this.what = new Int32Array(initialCapacity);
    this.arg = new Int32Array(initialCapacity);
  }

  /** Registers a handler and returns its id; `name` is used in diagnostics. */
  register(name: string, fn: Handler): number {
    this.handlers.push(fn);
    this.names.push(name);
    return this.handlers.length - 1;
  }

  handlerName(id: number): string { return this.names[id] ?? `#${id}`; }

  get size(): number { return this.n; }

  /** Cycle of the earliest pending event, or Infinity. */
  peekTime(): Cycle { return this.n === 0 ? Infinity : this.when[0]!; }

  /** Runs `handler(arg)` `delay` cycles from now (delay >= 0, an integer). */
  schedule(handler: number, delay: Cycle, arg = 0): void {
    this.scheduleAt(handler, this.now + delay, arg);
  }

  /** Runs `handler(arg)` at absolute cycle `at` (>= now). */
  scheduleAt(handler: number, at: Cycle, arg = 0): void {
    if (!(at >= this.now)) throw new RangeError(`event ${this.handlerName(handler)} scheduled in the past: ${at} < ${this.now}`);
    if (this.n === this.when.length) this.grow();
    const s = this.nextSeq++;
    // sift up
    let i = this.n++;
    const when = this.when, seq = this.seq, what = this.what, args = this.arg;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pw = when[p]!;
      if (pw < at || (pw === at && seq[p]! < s)) break;
      when[i] = pw; seq[i] = seq[p]!; what[i] = what[p]!; args[i] = args[p]!;
      i = p;
    }
    when[i] = at; seq[i] = s; what[i] = handler; args[i] = arg;
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
    while (this.n > 0) {
      const t = this.when[0]!;
      if (t >= end) return true;
      const h = this.what[0]!, a = this.arg[0]!;
      this.popTop();
      this.now = t;
      this.dispatched++;
      handlers[h]!(a);
      if (this.stopRequested) return false;
    }
    return true;
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

  private grow(): void {
    const cap = this.when.length * 2;
    const w = new Float64Array(cap); w.set(this.when); this.when = w;
    const s = new Float64Array(cap); s.set(this.seq); this.seq = s;
    const h = new Int32Array(cap); h.set(this.what); this.what = h;
    const a = new Int32Array(cap); a.set(this.arg); this.arg = a;
  }
}
