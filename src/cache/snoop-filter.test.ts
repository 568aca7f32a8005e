import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../sim/index.js';
import { SnoopFilter, snoopLineHash } from './snoop-filter.js';

const TWO_32 = 4294967296;
const TWO_46 = 2 ** 46;

/** Sharers of `line` as a plain array (allocates: tests only). */
function sharersOf(f: SnoopFilter, line: number): number[] {
  const out = new Int32Array(f.nodes);
  return Array.from(out.subarray(0, f.sharers(line, out)));
}

/** The first `n` lines from `start` up whose home slot in a table of `slots` slots is `slot`. */
function linesWithHome(slot: number, slots: number, n: number, start = 0): number[] {
  const found: number[] = [];
  for (let line = start; found.length < n; line++) if ((snoopLineHash(line) & (slots - 1)) === slot) found.push(line);
  return found;
}

/** Checks `f` against the model for every line of `lines` and for the line count. */
function expectAgrees(f: SnoopFilter, model: Map<number, Set<number>>, lines: Iterable<number>): void {
  expect(f.size).toBe(model.size);
  for (const line of lines) {
    const want = [...(model.get(line) ?? [])].sort((a, b) => a - b);
    expect(sharersOf(f, line), `line ${line}`).toEqual(want);
    expect(f.count(line), `count of line ${line}`).toBe(want.length);
  }
}

describe('SnoopFilter', () => {
  it('adds, queries and removes sharers', () => {
    const f = new SnoopFilter(4, 16);
    expect(f.size).toBe(0);
    expect(f.has(0x40, 0)).toBe(false);
    expect(f.count(0x40)).toBe(0);
    expect(sharersOf(f, 0x40)).toEqual([]);

    f.add(0x40, 2);
    f.add(0x40, 0);
    f.add(0x80, 3);
    expect(f.size).toBe(2);
    expect(f.has(0x40, 0)).toBe(true);
    expect(f.has(0x40, 1)).toBe(false);
    expect(f.has(0x40, 2)).toBe(true);
    expect(f.has(0x80, 0)).toBe(false);
    expect(f.count(0x40)).toBe(2);
    expect(sharersOf(f, 0x40)).toEqual([0, 2]);      // increasing order, whatever the add order
    expect(sharersOf(f, 0x80)).toEqual([3]);

    f.remove(0x40, 2);
    expect(f.has(0x40, 2)).toBe(false);
    expect(sharersOf(f, 0x40)).toEqual([0]);
    expect(f.size).toBe(2);
  });

  it('is idempotent: a second add or remove changes nothing', () => {
    const f = new SnoopFilter(8, 4);
    f.add(7, 5);
    f.add(7, 5);
    expect(f.count(7)).toBe(1);
    expect(f.size).toBe(1);
    f.remove(7, 4);                                   // a node that never held the line
    f.remove(9, 4);                                   // a line never tracked
    expect(f.count(7)).toBe(1);
    expect(f.size).toBe(1);
    f.remove(7, 5);
    f.remove(7, 5);
    expect(f.count(7)).toBe(0);
    expect(f.size).toBe(0);
  });

  it('drops the entry when the last sharer goes, and can track the line again', () => {
    const f = new SnoopFilter(4, 4);
    f.add(100, 1);
    f.add(100, 3);
    f.remove(100, 1);
    expect(f.size).toBe(1);
    f.remove(100, 3);
    expect(f.size).toBe(0);
    expect(f.count(100)).toBe(0);
    expect(sharersOf(f, 100)).toEqual([]);
    for (let n = 0; n < 4; n++) expect(f.has(100, n)).toBe(false);
    f.add(100, 2);
    expect(sharersOf(f, 100)).toEqual([2]);
    expect(f.size).toBe(1);
  });

  it('tracks more than 32 nodes across word boundaries (80 nodes)', () => {
    const f = new SnoopFilter(80, 4);
    expect(f.words).toBe(3);
    for (const n of [79, 63, 32, 31, 0, 64]) f.add(5, n);
    expect(sharersOf(f, 5)).toEqual([0, 31, 32, 63, 64, 79]);
    expect(f.count(5)).toBe(6);
    expect(f.has(5, 33)).toBe(false);
    expect(f.has(5, 30)).toBe(false);
    f.add(6, 31);                                     // a neighbouring entry's bits stay its own
    f.remove(5, 31);
    f.remove(5, 32);
    expect(sharersOf(f, 5)).toEqual([0, 63, 64, 79]);
    expect(sharersOf(f, 6)).toEqual([31]);
  });

  it('tracks all 256 nodes, bit 31 and bit 255 included', () => {
    const f = new SnoopFilter(256, 4);
    expect(f.words).toBe(8);
    for (const n of [255, 31, 32, 63]) f.add(0xabc, n);
    expect(sharersOf(f, 0xabc)).toEqual([31, 32, 63, 255]);
    for (let n = 0; n < 256; n++) f.add(0xdef, n);
    expect(f.count(0xdef)).toBe(256);
    expect(sharersOf(f, 0xdef)).toEqual(Array.from({ length: 256 }, (_, i) => i));
    for (let n = 0; n < 256; n += 2) f.remove(0xdef, n);
    expect(sharersOf(f, 0xdef)).toEqual(Array.from({ length: 128 }, (_, i) => 2 * i + 1));
    expect(sharersOf(f, 0xabc)).toEqual([31, 32, 63, 255]);
  });

  it('keeps lines near 2^46 and lines equal in their low 32 bits apart', () => {
    const f = new SnoopFilter(4, 2);
    const lines = [TWO_46 - 1, TWO_46 - 1 - TWO_32, 7, 7 + TWO_32, 7 + 5 * TWO_32, TWO_46 - TWO_32 + 7, TWO_32];
    lines.forEach((line, i) => f.add(line, i % 4));
    expect(f.size).toBe(lines.length);
    lines.forEach((line, i) => {
      expect(sharersOf(f, line), `line ${line}`).toEqual([i % 4]);
    });
    expect(f.count(0)).toBe(0);                       // 2^32 aliases 0 in 32 bits
    expect(f.count(8 + TWO_32)).toBe(0);
    f.remove(7, 2);
    expect(f.count(7)).toBe(0);
    expect(sharersOf(f, 7 + TWO_32)).toEqual([3]);
    expect(sharersOf(f, TWO_46 - TWO_32 + 7)).toEqual([1]);
    expect(f.size).toBe(lines.length - 1);
  });

  it('hashes whole line numbers: lines that alias in 32 bits get different hashes', () => {
    const seen = new Set<number>();
    for (let hi = 0; hi < 1024; hi++) seen.add(snoopLineHash(hi * TWO_32 + 12345));
    expect(seen.size).toBe(1024);                     // fmix32 is a bijection of (lo ^ f(hi))
  });

  it('grows from a tiny initial capacity and keeps everything', () => {
    const f = new SnoopFilter(40, 0);
    const start = f.capacity;
    const lines = Array.from({ length: 1000 }, (_, i) => i * 977 + (i % 3) * TWO_32);
    lines.forEach((line, i) => { f.add(line, i % 40); f.add(line, (i * 7) % 40); });
    expect(f.capacity).toBeGreaterThan(start);
    expect(f.capacity).toBeGreaterThanOrEqual(2 * lines.length);     // load factor <= 1/2
    expect(f.size).toBe(lines.length);
    lines.forEach((line, i) => {
      expect(sharersOf(f, line)).toEqual([...new Set([i % 40, (i * 7) % 40])].sort((a, b) => a - b));
    });
  });

  it('sizes the table for the initial capacity and keeps it through clear()', () => {
    const f = new SnoopFilter(2, 100);
    expect(f.capacity).toBe(256);
    for (let line = 0; line < 100; line++) f.add(line, line & 1);
    expect(f.capacity).toBe(256);                     // 100 lines fit without growing
    f.add(100, 0);
    expect(f.capacity).toBe(256);
    f.clear();
    expect(f.size).toBe(0);
    expect(f.capacity).toBe(256);
    for (let line = 0; line <= 100; line++) expect(f.count(line)).toBe(0);
    f.add(50, 1);
    expect(sharersOf(f, 50)).toEqual([1]);            // no stale bits survive clear()
    expect(f.size).toBe(1);
  });

  it('backward shift keeps probe runs that wrap past the end of the table', () => {
    // 16 slots: three lines homed at the last slot fill slots 15, 0 and 1; one homed at 0 goes to 2.
    const last = linesWithHome(15, 16, 3);
    const atZero = linesWithHome(0, 16, 1, TWO_46 - 100000);
    const lines = [...last, ...atZero];
    const orders = permutations(lines);
    for (const order of orders) {
      const f = new SnoopFilter(3, 8);
      expect(f.capacity).toBe(16);
      lines.forEach((line, i) => f.add(line, i % 3));
      const left = new Set(lines);
      for (const gone of order) {
        f.remove(gone, lines.indexOf(gone) % 3);
        left.delete(gone);
        expect(f.size).toBe(left.size);
        for (const line of lines) expect(f.has(line, lines.indexOf(line) % 3), `line ${line} after removing ${gone}`).toBe(left.has(line));
      }
      expect(f.capacity).toBe(16);
    }
  });

  it('rejects out-of-range nodes, bad lines and bad sizes', () => {
    const f = new SnoopFilter(40, 4);
    expect(() => f.add(1, 40)).toThrow(/node 40 must be an integer in 0..39/);
    expect(() => f.add(1, -1)).toThrow(RangeError);
    expect(() => f.add(1, 1.5)).toThrow(RangeError);
    expect(() => f.remove(1, 64)).toThrow(RangeError);
    expect(() => f.has(1, 40)).toThrow(RangeError);
    expect(() => f.add(-1, 0)).toThrow(/line -1 must be a non-negative integer/);
    expect(() => f.add(Number.NaN, 0)).toThrow(RangeError);
    expect(() => f.add(0.5, 0)).toThrow(RangeError);
    expect(() => f.sharers(1, new Int32Array(39))).toThrow(/out.length >= 40/);
    expect(f.size).toBe(0);
    expect(f.count(-1)).toBe(0);                      // -1 (the empty key) is never found
    expect(() => new SnoopFilter(0, 4)).toThrow(/nodes 0/);
    expect(() => new SnoopFilter(257, 4)).toThrow(/nodes 257/);
    expect(() => new SnoopFilter(4, -1)).toThrow(/initialCapacityLines -1/);
  });

  it('agrees with a Map<line, Set<node>> after every step of a random sequence', () => {
    // A small universe over a tiny table: collisions, wrap-around runs and backward-shift
    // deletions happen on most steps. Lines alias in their low 32 bits and sit near 2^46.
    const universe = [0, 1, 2, 3, 4, 5, 9, 17, TWO_32, TWO_32 + 1, 3 * TWO_32 + 2, TWO_46 - 1, TWO_46 - 1 - TWO_32, TWO_46 - 2];
    const op = fc.record({
      kind: fc.constantFrom('add', 'add', 'remove', 'remove', 'has', 'sharers'),
      line: fc.nat({ max: universe.length - 1 }),
      node: fc.nat({ max: 255 }),
    });
    fc.assert(fc.property(fc.constantFrom(1, 3, 33, 80, 256), fc.array(op, { maxLength: 200 }), (nodes, ops) => {
      const f = new SnoopFilter(nodes, 4);
      const model = new Map<number, Set<number>>();
      const out = new Int32Array(nodes);
      for (const { kind, line: li, node: raw } of ops) {
        const line = universe[li]!, node = raw % nodes;
        const held = model.get(line);
        switch (kind) {
          case 'add':
            f.add(line, node);
            if (held) held.add(node); else model.set(line, new Set([node]));
            break;
          case 'remove':
            f.remove(line, node);
            if (held) { held.delete(node); if (held.size === 0) model.delete(line); }
            break;
          case 'has':
            expect(f.has(line, node)).toBe(held?.has(node) ?? false);
            break;
          case 'sharers': {
            const n = f.sharers(line, out);
            expect(Array.from(out.subarray(0, n))).toEqual([...(held ?? [])].sort((a, b) => a - b));
            break;
          }
        }
        expectAgrees(f, model, universe);
      }
    }), { numRuns: 300 });
  });

  it('loses no entry over a long random workload', () => {
    const rng = new Rng(0x5f00);
    const nodes = 80;
    const f = new SnoopFilter(nodes, 1);
    const model = new Map<number, Set<number>>();
    // 3000 lines in 1000 groups that share their low 32 bits; about 2/3 of the operations add.
    const lineOf = (i: number): number => (i % 1000) * 64 + Math.floor(i / 1000) * TWO_32 * 4096;
    for (let step = 0; step < 200_000; step++) {
      const line = lineOf(rng.nextInt(3000)), node = rng.nextInt(nodes);
      if (rng.nextInt(3) !== 0) {
        f.add(line, node);
        const held = model.get(line);
        if (held) held.add(node); else model.set(line, new Set([node]));
      } else {
        f.remove(line, node);
        const held = model.get(line);
        if (held) { held.delete(node); if (held.size === 0) model.delete(line); }
      }
    }
    expect(model.size).toBeGreaterThan(2000);
    expectAgrees(f, model, Array.from({ length: 3000 }, (_, i) => lineOf(i)));
    // Drain: every removal shifts runs back; the table ends empty and findable throughout.
    for (const [line, held] of model) for (const node of held) f.remove(line, node);
    expect(f.size).toBe(0);
    for (let i = 0; i < 3000; i++) expect(f.count(lineOf(i))).toBe(0);
  });
});

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [xs.slice()];
  const all: T[][] = [];
  xs.forEach((x, i) => {
    for (const rest of permutations([...xs.slice(0, i), ...xs.slice(i + 1)])) all.push([x, ...rest]);
  });
  return all;
}
