import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventQueue } from './event-queue.js';

/** A queue with one handler that records (arg, now) for every dispatch. */
function recording(initialCapacity?: number) {
  const q = new EventQueue(initialCapacity);
  const log: [number, number][] = [];
  const h = q.register('rec', (a) => { log.push([a, q.now]); });
  return { q, h, log };
}

/**
 * A random schedule: `initial` events are scheduled before the run; when event k runs it
 * schedules one child per delay in `children[k % children.length]`, until `cap` events exist.
 * `useAt[k % useAt.length]` picks scheduleAt(now + d) over schedule(d) for event k's children.
 */
interface Program { initial: number[]; children: number[][]; useAt: boolean[]; cap: number }

const delayArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) },    // mostly tiny delays: many ties
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3000 }) }, // near and far future
  // Around powers of two, where a bucketed queue would switch structures, so that events for one
  // cycle arrive both from far ahead and from close by.
  { weight: 1, arbitrary: fc.constantFrom(255, 256, 511, 512, 1023, 1024, 1025, 2048, 4096, 65536) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, 1.25) },         // tolerated: non-integer times
);
const programArb: fc.Arbitrary<Program> = fc.record({
  initial: fc.array(delayArb, { minLength: 1, maxLength: 40 }),
  children: fc.array(fc.array(delayArb, { maxLength: 4 }), { minLength: 1, maxLength: 12 }),
  useAt: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
  cap: fc.integer({ min: 1, max: 400 }),
});

/** Runs `p` on the real queue; returns the dispatch log as [event id, cycle] pairs. */
function runReal(p: Program, initialCapacity: number, chunk: number): [number, number][] {
  const q = new EventQueue(initialCapacity);
  const log: [number, number][] = [];
  let nextId = 0;
  let lastNow = q.now;
  const h = q.register('ev', (id) => {
    if (q.now < lastNow) throw new Error(`now went backwards: ${q.now} < ${lastNow}`);
    lastNow = q.now;
    log.push([id, q.now]);
    const useAt = p.useAt[id % p.useAt.length]!;
    for (const d of p.children[id % p.children.length]!) {
      if (nextId >= p.cap) break;
      if (useAt) q.scheduleAt(h, q.now + d, nextId++);
      else q.schedule(h, d, nextId++);
    }
  });
  for (const d of p.initial) if (nextId < p.cap) q.schedule(h, d, nextId++);
  // Run in slices of `chunk` cycles (Infinity: one call) to check that slicing changes nothing.
  let end = 0;
  while (q.size > 0) { end += chunk; q.runUntil(end); }
  expect(q.dispatched).toBe(nextId);
  return log;
}

/**
 * runReal with scheduleLast mixed in: event k schedules its children with scheduleLast when
 * `last[k % last.length]` (any number of them, so a held event is often stored again by the next
 * schedule), else as runReal does. Returns the log and the dispatch count.
 */
function runWithLast(p: Program, last: boolean[], initialCapacity: number, chunk: number): { log: [number, number][]; dispatched: number } {
  const q = new EventQueue(initialCapacity);
  const log: [number, number][] = [];
  let nextId = 0;
  const h = q.register('ev', (id) => {
    log.push([id, q.now]);
    const useLast = last[id % last.length]!, useAt = p.useAt[id % p.useAt.length]!;
    for (const d of p.children[id % p.children.length]!) {
      if (nextId >= p.cap) break;
      if (useLast) q.scheduleLast(h, q.now + d, nextId++);
      else if (useAt) q.scheduleAt(h, q.now + d, nextId++);
      else q.schedule(h, d, nextId++);
    }
  });
  for (const d of p.initial) if (nextId < p.cap) q.schedule(h, d, nextId++);
  let end = 0;
  while (q.size > 0) { end += chunk; q.runUntil(end); }
  expect(q.dispatched).toBe(nextId);
  return { log, dispatched: q.dispatched };
}

/**
 * The naive reference: pending events in insertion order; each step takes the first event with
 * the smallest cycle, i.e. a stable sort by cycle of what is pending, which is a sort by
 * (cycle, insertion sequence).
 */
function runReference(p: Program): [number, number][] {
  const pending: { id: number; at: number }[] = [];
  const log: [number, number][] = [];
  let nextId = 0;
  let now = 0;
  for (const d of p.initial) if (nextId < p.cap) pending.push({ id: nextId++, at: now + d });
  while (pending.length > 0) {
    const sorted = [...pending].sort((a, b) => a.at - b.at); // Array.prototype.sort is stable
    const ev = sorted[0]!;
    pending.splice(pending.indexOf(ev), 1);
    now = ev.at;
    log.push([ev.id, now]);
    for (const d of p.children[ev.id % p.children.length]!) {
      if (nextId >= p.cap) break;
      pending.push({ id: nextId++, at: now + d });
    }
  }
  return log;
}

describe('EventQueue', () => {
  it('runs same-cycle events in insertion order', () => {
    const { q, h, log } = recording();
    q.schedule(h, 5, 1);
    q.schedule(h, 5, 2);
    q.scheduleAt(h, 5, 3);
    q.schedule(h, 0, 4);
    q.schedule(h, 5, 5);
    q.runUntil(Infinity);
    expect(log).toEqual([[4, 0], [1, 5], [2, 5], [3, 5], [5, 5]]);
  });

  it('runs an event scheduled with delay 0 from a handler after the events already due that cycle', () => {
    const q = new EventQueue();
    const order: string[] = [];
    const b = q.register('b', () => order.push('b'));
    const c = q.register('c', () => order.push('c'));
    const a = q.register('a', () => { order.push('a'); q.schedule(c, 0); });
    q.schedule(a, 2);
    q.schedule(b, 2);
    q.runUntil(Infinity);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('dispatches in (cycle, insertion sequence) order on random schedules, like a naive stable sort', () => {
    fc.assert(
      fc.property(programArb, fc.integer({ min: 1, max: 8 }), fc.constantFrom(Infinity, 1, 3, 50, 700), (p, cap, chunk) => {
        expect(runReal(p, cap, chunk)).toEqual(runReference(p));
      }),
      { numRuns: 400 },
    );
  });

  it('scheduleLast dispatches in the same order, at the same cycles and as many times as plain schedule', () => {
    fc.assert(
      fc.property(programArb, fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(Infinity, 1, 3, 50, 700), (p, last, cap, chunk) => {
          const plain = runReal(p, cap, chunk);
          const r = runWithLast(p, last, cap, chunk);
          expect(r.log).toEqual(plain);
          expect(r.dispatched).toBe(plain.length);
        }),
      { numRuns: 400 },
    );
  });

  it('a held scheduleLast event keeps its place behind events stored before it and ahead of later ones', () => {
    const { q, h, log } = recording();
    const s = q.register('s', (a) => {
      log.push([a, q.now]);
      if (a === 10) { q.scheduleLast(h, 3, 11); q.schedule(h, 3, 12); }     // 11 is stored again by 12
      if (a === 20) q.scheduleLast(h, 4, 21);                                // held at return, due next
    });
    q.schedule(h, 3, 1);
    q.schedule(s, 0, 10);
    q.schedule(s, 2, 20);
    q.runUntil(Infinity);
    expect(log).toEqual([[10, 0], [20, 2], [1, 3], [11, 3], [12, 3], [21, 4]]);
    expect(q.dispatched).toBe(6);
    expect(q.size).toBe(0);
  });

  it('never moves now backwards and stamps each event with its own cycle', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 200 }), (delays) => {
        const q = new EventQueue(2);
        const seen: number[] = [];
        const due: number[] = [];
        let i = 0;
        const h = q.register('h', (a) => {
          expect(q.now).toBe(due[a]);
          seen.push(q.now);
          if (i < delays.length) { due.push(q.now + delays[i]!); q.schedule(h, delays[i++]!, due.length - 1); }
        });
        for (let k = 0; k < 3 && i < delays.length; k++) { due.push(delays[i]!); q.schedule(h, delays[i++]!, due.length - 1); }
        q.runUntil(Infinity);
        for (let k = 1; k < seen.length; k++) expect(seen[k]!).toBeGreaterThanOrEqual(seen[k - 1]!);
      }),
    );
  });

  it('keeps insertion order at a cycle reached both by far-ahead and by nearby schedules', () => {
    const q = new EventQueue();
    const order: string[] = [];
    const rec = q.register('rec', (a) => order.push(`${String.fromCharCode(a)}@${q.now}`));
    const near = q.register('near', () => {
      q.schedule(rec, 5000 - q.now, 'B'.charCodeAt(0));
      q.scheduleAt(rec, 5000, 'C'.charCodeAt(0));
    });
    const last = q.register('last', () => q.schedule(rec, 1, 'E'.charCodeAt(0)));
    q.scheduleAt(rec, 5000, 'A'.charCodeAt(0)); // scheduled 5000 cycles ahead
    q.scheduleAt(near, 4990);                   // schedules B and C 10 cycles ahead
    q.scheduleAt(rec, 5000, 'D'.charCodeAt(0)); // again from far ahead, but after `near` was scheduled
    q.scheduleAt(last, 4999);
    q.runUntil(Infinity);
    expect(order).toEqual(['A@5000', 'D@5000', 'B@5000', 'C@5000', 'E@5000']);
  });

  it('accepts now moved forward by hand between runs (a driver skipping idle time)', () => {
    const { q, h, log } = recording();
    q.schedule(h, 10, 1);
    q.schedule(h, 3000, 2);
    q.runUntil(5);
    q.now = 8;                  // forward, still before the pending event at 10
    q.schedule(h, 2, 3);        // also at 10, scheduled later: runs after 1
    q.schedule(h, 2992, 4);     // at 3000, after 2
    q.runUntil(Infinity);
    expect(log).toEqual([[1, 10], [3, 10], [2, 3000], [4, 3000]]);
    q.now = 1_000_000;          // far ahead of anything that ran
    q.schedule(h, 0, 5);
    q.schedule(h, 2000, 6);
    q.schedule(h, 1, 7);
    q.scheduleAt(h, 1_000_000, 8);
    expect(q.peekTime()).toBe(1_000_000);
    q.runUntil(Infinity);
    expect(log.slice(4)).toEqual([[5, 1_000_000], [8, 1_000_000], [7, 1_000_001], [6, 1_002_000]]);
  });

  it('reports size and peekTime across near, far and non-integer events', () => {
    const { q, h, log } = recording();
    expect(q.peekTime()).toBe(Infinity);
    q.schedule(h, 70_000, 1);
    expect(q.peekTime()).toBe(70_000);
    q.schedule(h, 7, 2);
    q.schedule(h, 2.5, 3);
    expect(q.size).toBe(3);
    expect(q.peekTime()).toBe(2.5);
    q.runUntil(3);
    expect(q.peekTime()).toBe(7);
    expect(q.now).toBe(2.5);
    q.runUntil(Infinity);
    expect(log).toEqual([[3, 2.5], [2, 7], [1, 70_000]]);
    expect(q.size).toBe(0);
  });

  it('keeps cycles exact and ordered beyond 2^32', () => {
    const { q, h, log } = recording();
    const far = 2 ** 40 + 3;
    q.scheduleAt(h, far, 1);
    q.scheduleAt(h, far + 2 ** 33, 2);
    q.runUntil(far + 1);
    q.schedule(h, 0, 3);
    q.schedule(h, 1023, 4);
    q.schedule(h, 1, 5);
    q.runUntil(Infinity);
    expect(log).toEqual([[1, far], [3, far], [5, far + 1], [4, far + 1023], [2, far + 2 ** 33]]);
  });

  it('throws on scheduling in the past', () => {
    const q = new EventQueue();
    let caught: unknown;
    let tried = false; // try once: a broken check must fail the test, not loop back in time
    const h = q.register('late', () => {
      if (tried) return;
      tried = true;
      try { q.scheduleAt(h, q.now - 1); } catch (e) { caught = e; }
    });
    q.schedule(h, 10);
    q.runUntil(Infinity);
    expect(q.now).toBe(10);
    expect(caught).toBeInstanceOf(RangeError);
    expect(String(caught)).toContain('late');
    expect(() => q.schedule(h, -1)).toThrow(RangeError);
    expect(() => q.scheduleAt(h, 9)).toThrow(RangeError);
    expect(() => q.scheduleAt(h, Number.NaN)).toThrow(RangeError);
    expect(q.size).toBe(0); // a refused event leaves nothing behind
    q.scheduleAt(h, 10);    // the current cycle is not the past
    expect(q.size).toBe(1);
  });

  it('runUntil(end) runs events before end and leaves later ones pending', () => {
    const { q, h, log } = recording();
    q.schedule(h, 5, 1);
    q.schedule(h, 10, 2);
    q.schedule(h, 15, 3);
    expect(q.runUntil(10)).toBe(true);
    expect(log).toEqual([[1, 5]]);
    expect(q.size).toBe(2);
    expect(q.peekTime()).toBe(10);
    expect(q.now).toBe(5); // the time of the last event run, not end
    expect(q.runUntil(10)).toBe(true);
    expect(log).toHaveLength(1);
    expect(q.runUntil(Infinity)).toBe(true);
    expect(log).toEqual([[1, 5], [2, 10], [3, 15]]);
    expect(q.size).toBe(0);
    expect(q.peekTime()).toBe(Infinity);
  });

  it('stop() ends the run after the current event, and the next run resumes', () => {
    const q = new EventQueue();
    const order: number[] = [];
    const plain = q.register('plain', (a) => order.push(a));
    const stopper = q.register('stopper', (a) => { order.push(a); q.stop(); order.push(-a); });
    q.schedule(plain, 1, 1);
    q.schedule(stopper, 3, 2);
    q.schedule(plain, 3, 3);
    q.schedule(plain, 4, 4);
    expect(q.runUntil(Infinity)).toBe(false);
    expect(order).toEqual([1, 2, -2]); // the stopping handler finishes; nothing after it runs
    expect(q.now).toBe(3);
    expect(q.size).toBe(2);
    expect(q.dispatched).toBe(2);
    expect(q.runUntil(Infinity)).toBe(true);
    expect(order).toEqual([1, 2, -2, 3, 4]);
  });

  it('a stop() requested outside a run does not cut the next run short', () => {
    const { q, h, log } = recording();
    q.schedule(h, 1, 1);
    q.schedule(h, 2, 2);
    q.stop();
    expect(q.runUntil(Infinity)).toBe(true);
    expect(log).toHaveLength(2);
  });

  it('grows past its initial capacity without losing or reordering events', () => {
    const q = new EventQueue(1);
    const log: [string, number, number][] = [];
    // Three handlers, so a growth that dropped or mixed up handler ids would show.
    const hs = ['a', 'b', 'c'].map((name) => q.register(name, (arg) => log.push([name, arg, q.now])));
    // 5000 events in a scrambled order: delay = (k * 7919) mod 1000 gives many ties.
    const expected: [string, number, number][] = [];
    for (let k = 0; k < 5000; k++) {
      const d = (k * 7919) % 1000;
      q.schedule(hs[k % 3]!, d, k);
      expected.push([['a', 'b', 'c'][k % 3]!, k, d]);
    }
    expect(q.size).toBe(5000);
    expected.sort((x, y) => x[2] - y[2] || x[1] - y[1]);
    q.runUntil(Infinity);
    expect(log).toEqual(expected);
  });

  it('grows correctly when handlers fill the heap during a run', () => {
    const q = new EventQueue(2);
    const log: number[] = [];
    const leaf = q.register('leaf', (a) => log.push(a));
    const fan = q.register('fan', () => {
      for (let k = 0; k < 300; k++) q.schedule(leaf, k % 3, k); // ties at +0, +1, +2
    });
    q.schedule(fan, 0);
    q.runUntil(Infinity);
    const want = [0, 1, 2].flatMap((r) => Array.from({ length: 100 }, (_, i) => i * 3 + r));
    expect(log).toEqual(want);
  });

  it('names handlers in diagnostics', () => {
    const q = new EventQueue();
    const a = q.register('cpu0.l1d.fill', () => {});
    expect(q.handlerName(a)).toBe('cpu0.l1d.fill');
    expect(q.handlerName(99)).toBe('#99');
  });
});
