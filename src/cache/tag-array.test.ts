import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../sim/index.js';
import { createReplacement, type ReplacementKind } from './replacement.js';
import {
  CacheArray, INVALID_TAG, MoesiState, STATE_DIRTY, STATE_SHARED, STATE_VALID, checkGeometry,
} from './tag-array.js';

const KiB = 1024;

describe('checkGeometry', () => {
  it('derives the set count', () => {
    expect(checkGeometry({ sizeBytes: 64 * KiB, ways: 4, lineBytes: 64 })).toBe(256);
    expect(checkGeometry({ sizeBytes: 3 * 1024 * KiB, ways: 12, lineBytes: 64 })).toBe(4096);  // 12-way is fine
  });

  it('names the field and the rule when a geometry is unusable', () => {
    expect(() => checkGeometry({ sizeBytes: 64 * KiB, ways: 4, lineBytes: 48 }, 'l1d')).toThrow(/l1d: lineBytes 48 must be a power of two/);
    expect(() => checkGeometry({ sizeBytes: 48 * KiB, ways: 4, lineBytes: 64 }, 'l1d')).toThrow(/192 sets; the set count must be a power of two/);
    expect(() => checkGeometry({ sizeBytes: 100, ways: 4, lineBytes: 64 })).toThrow(/sizeBytes 100/);
    expect(() => checkGeometry({ sizeBytes: 64 * KiB, ways: 0, lineBytes: 64 })).toThrow(/ways 0/);
  });
});

describe('CacheArray', () => {
  const geom = { sizeBytes: 1 * KiB, ways: 4, lineBytes: 64 };   // 4 sets

  it('misses when empty, hits after a fill, and maps lines to sets by line mod sets', () => {
    const a = new CacheArray(geom);
    expect(a.sets).toBe(4);
    expect(a.lookup(0x123)).toBe(-1);
    const set = a.setOf(0x123);
    expect(set).toBe(0x123 % 4);
    const slot = a.victim(set);
    expect(a.setOfSlot(slot)).toBe(set);
    a.fill(slot, 0x123, MoesiState.E);
    expect(a.lookup(0x123)).toBe(slot);
    expect(a.lineOf(slot)).toBe(0x123);
    expect(a.state[slot]).toBe(STATE_VALID);
    expect(a.isValid(slot)).toBe(true);
  });

  it('fills invalid ways first, lowest way first, then asks the policy (LRU)', () => {
    const a = new CacheArray(geom);
    const lines = [4, 8, 12, 16];                                // all in set 0
    for (const [w, line] of lines.entries()) {
      const s = a.victim(0);
      expect(a.wayOf(s)).toBe(w);
      a.fill(s, line, MoesiState.E);
    }
    a.touch(a.lookup(4));                                        // LRU order now 8, 12, 16, 4
    expect(a.lineOf(a.victim(0))).toBe(8);
    a.invalidate(a.lookup(12));
    expect(a.victim(0)).toBe(a.slotOf(0, 2));                    // the hole left by 12
    expect(a.lookup(12)).toBe(-1);
    expect(a.lineOf(a.slotOf(0, 2))).toBe(INVALID_TAG);
    expect(a.countValid()).toBe(3);
  });

  it('uses the whole line number as tag: lines far above 2^32 do not alias', () => {
    const a = new CacheArray(geom);
    const base = 2 ** 46;                                        // a 52-bit PA's line number
    const lo = 5, hi = base + 5;                                 // same low 32 bits, same set
    expect(a.setOf(hi)).toBe(a.setOf(lo));
    a.fill(a.victim(a.setOf(lo)), lo, MoesiState.E);
    expect(a.lookup(hi)).toBe(-1);
    a.fill(a.victim(a.setOf(hi)), hi, MoesiState.M);
    expect(a.lookup(hi)).not.toBe(a.lookup(lo));
    expect(a.setOf(2 ** 53 - 1)).toBe(3);
  });

  it('keeps state bits for MOESI and lets the controller change all but VALID', () => {
    const a = new CacheArray(geom);
    const s = a.victim(1);
    a.fill(s, 1, MoesiState.S);
    expect(a.state[s]).toBe(STATE_VALID | STATE_SHARED);
    a.state[s] = (a.state[s]! | STATE_DIRTY) & ~STATE_SHARED;     // upgrade + write: S -> M
    expect(a.state[s]).toBe(MoesiState.M);
    a.fill(s, 5, 0);                                             // fill always marks valid
    expect(a.state[s]).toBe(STATE_VALID);
    a.invalidate(s);
    expect(a.state[s]).toBe(MoesiState.I);
  });

  it('stores line data per slot and copies bytes in and out', () => {
    const a = new CacheArray(geom);
    const s = a.victim(2);
    a.fill(s, 2, MoesiState.E);
    expect(a.dataOffset(s)).toBe(s * 64);
    const src = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
    a.writeBytes(s, 0, src, 0, 64);
    a.writeBytes(s, 60, Uint8Array.of(0xaa, 0xbb), 0, 2);
    const dst = new Uint8Array(8);
    a.readBytes(s, 58, dst, 1, 6);
    expect(Array.from(dst)).toEqual([0, 59, 60, 0xaa, 0xbb, 63, 64, 0]);
    expect(a.data.length).toBe(1 * KiB);
  });

  it('can put data in a SharedArrayBuffer, or keep no data', () => {
    expect(new CacheArray(geom, { data: 'shared' }).data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(new CacheArray(geom, { data: 'none' }).data.length).toBe(0);
  });

  it('visits valid lines in set/way order, allowing invalidation on the way', () => {
    const a = new CacheArray(geom);
    for (const line of [7, 1, 2, 11]) a.fill(a.victim(a.setOf(line)), line, MoesiState.E);
    const seen: number[] = [];
    a.forEachValid((slot, line) => { seen.push(line); if (line === 2) a.invalidate(slot); });
    expect(seen).toEqual([1, 2, 7, 11]);                         // sets 1, 2, 3, 3
    expect(a.countValid()).toBe(3);
  });

  it('rejects a policy sized for another geometry', () => {
    expect(() => new CacheArray(geom, { replacement: createReplacement('lru', 8, 4) })).toThrow(/sized 8 sets x 4 ways/);
  });

  it('reset empties everything', () => {
    const a = new CacheArray(geom);
    a.fill(a.victim(0), 4, MoesiState.M);
    a.reset();
    expect(a.countValid()).toBe(0);
    expect(a.lookup(4)).toBe(-1);
  });

  it('with LRU, gives the same hits and misses as a naive Map-based LRU (property)', () => {
    fc.assert(fc.property(
      fc.record({ setsLog: fc.integer({ min: 0, max: 3 }), ways: fc.integer({ min: 1, max: 6 }) }),
      fc.array(fc.integer({ min: 0, max: 63 }), { minLength: 1, maxLength: 400 }),
      ({ setsLog, ways }, lines) => {
        const sets = 2 ** setsLog;
        const a = new CacheArray({ sizeBytes: sets * ways * 64, ways, lineBytes: 64 }, { data: 'none' });
        const naive = Array.from({ length: sets }, () => new Map<number, true>());
        for (const line of lines) {
          const m = naive[line % sets]!;
          const naiveHit = m.delete(line);
          m.set(line, true);
          if (m.size > ways) m.delete(m.keys().next().value!);
          const slot = a.lookup(line);
          expect(slot >= 0).toBe(naiveHit);
          if (slot >= 0) a.touch(slot);
          else a.fill(a.victim(a.setOf(line)), line, MoesiState.E);
        }
        for (const m of naive) for (const line of m.keys()) expect(a.lookup(line)).toBeGreaterThanOrEqual(0);
        expect(a.countValid()).toBe(naive.reduce((n, m) => n + m.size, 0));
      },
    ), { numRuns: 300 });
  });

  it('keeps each line at most once and inside its set, for every policy (property)', () => {
    const kinds: ReplacementKind[] = ['lru', 'plru', 'random'];
    fc.assert(fc.property(
      fc.constantFrom(...kinds), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 99 }), fc.boolean()), { maxLength: 300 }),
      (kind, setsLog, waysLog, ops) => {
        const sets = 2 ** setsLog, ways = 2 ** waysLog;
        const a = new CacheArray({ sizeBytes: sets * ways * 32, ways, lineBytes: 32 },
          { replacement: createReplacement(kind, sets, ways, new Rng(7)) });
        for (const [line, isInvalidate] of ops) {
          const s = a.lookup(line);
          if (isInvalidate) { if (s >= 0) a.invalidate(s); continue; }
          if (s >= 0) a.touch(s); else a.fill(a.victim(a.setOf(line)), line, MoesiState.E);
          expect(a.lookup(line)).toBeGreaterThanOrEqual(0);        // the line just used is present
        }
        const held = new Set<number>();
        a.forEachValid((slot, line) => {
          expect(held.has(line)).toBe(false);
          held.add(line);
          expect(a.setOfSlot(slot)).toBe(a.setOf(line));
        });
      },
    ), { numRuns: 300 });
  });
});

describe('CacheArray line copies', () => {
  it('copies the same bytes whether the ends are word-aligned in a large buffer (words) or not (bytes)', () => {
    const a = new CacheArray({ sizeBytes: 4 * KiB, ways: 4, lineBytes: 64 });
    const rng = new Rng(3).fork('copies');
    const big = new Uint8Array(new ArrayBuffer(8192), 1024, 4096);    // a view into a large buffer: word copies
    const small = new Uint8Array(256);                                 // a small array: byte copies
    const model = new Uint8Array(a.data.length);
    for (let i = 0; i < 2000; i++) {
      const slot = rng.nextInt(64), off = rng.nextInt(64), len = rng.nextInt(65 - off);
      const dst = rng.nextInt(2) === 0 ? big : small, at = rng.nextInt(dst.length - 64);
      if (rng.nextInt(2) === 0) {
        for (let k = 0; k < len; k++) dst[at + k] = rng.nextInt(256);
        a.writeBytes(slot, off, dst, at, len);
        model.set(dst.subarray(at, at + len), slot * 64 + off);
      } else {
        dst.fill(0xee);
        a.readBytes(slot, off, dst, at, len);
        expect(Array.from(dst.subarray(at, at + len))).toEqual(Array.from(model.subarray(slot * 64 + off, slot * 64 + off + len)));
        if (at > 0) expect(dst[at - 1]).toBe(0xee);                  // nothing outside the range
        if (at + len < dst.length) expect(dst[at + len]).toBe(0xee);
      }
    }
    expect(Array.from(a.data)).toEqual(Array.from(model));
  });
});

describe('CacheArray tags stored as offsets from tagBase', () => {
  it('finds every line exactly, near tagBase (either side) and far from it, through fills and invalidations', () => {
    const base = 2 ** 33;                                      // 512 GiB of 64-byte lines
    const a = new CacheArray({ sizeBytes: 4 * KiB, ways: 4, lineBytes: 64 }, { tagBase: base });   // 16 sets
    const held = new Map<number, number>();                    // line -> slot, the reference
    // Near lines on both sides of the base, lines just inside and just outside the int32 window,
    // far ones (0, 2^45, the largest exact line) and lines 2^32 apart (equal low 32 bits).
    const pool = [base, base + 1, base - 1, base + 17, base - 2 ** 31 + 2, base - 2 ** 31 + 1, base + 2 ** 31 - 1, base + 2 ** 31,
      0, 16, 2 ** 45, 2 ** 53 - 1, base + 2 ** 32, base - 2 ** 32, base + 5 * 2 ** 32];
    const rng = new Rng(21).fork('tags');
    for (let i = 0; i < 4000; i++) {
      const line = pool[rng.nextInt(pool.length)]! + 16 * rng.nextInt(3);   // same set, other lines
      const slot = a.lookup(line);
      expect(slot).toBe(held.get(line) ?? -1);
      if (slot >= 0) {
        expect(a.lineOf(slot)).toBe(line);
        if (rng.nextInt(3) === 0) { a.invalidate(slot); held.delete(line); expect(a.lineOf(slot)).toBe(INVALID_TAG); }
      } else {
        const v = a.victim(a.setOf(line));
        if (a.isValid(v)) { held.delete(a.lineOf(v)); a.invalidate(v); }
        a.fill(v, line, MoesiState.E);
        held.set(line, v);
      }
    }
    const seen = new Map<number, number>();
    a.forEachValid((slot, line) => seen.set(line, slot));
    expect(seen).toEqual(held);
    expect(a.countValid()).toBe(held.size);
    expect([...held.keys()].some((l) => Math.abs(l - base) >= 2 ** 31)).toBe(true);   // the far path was used
  });

  it('rejects a tagBase that is not a line number', () => {
    expect(() => new CacheArray({ sizeBytes: 4 * KiB, ways: 4, lineBytes: 64 }, { tagBase: -1 })).toThrow(/tagBase: -1 must be a line number/);
  });
});

describe('CacheArray lookup memo and repeated touches', () => {
  for (const kind of ['lru', 'plru', 'random'] as ReplacementKind[]) {
    it(`${kind}: a touch repeated right away changes no victim, and lookup agrees with a scan`, () => {
      const geom = { sizeBytes: 2 * KiB, ways: 4, lineBytes: 64 };   // 8 sets
      const mk = (): CacheArray => new CacheArray(geom, { replacement: createReplacement(kind, 8, 4, new Rng(9).fork('r')) });
      const once = mk(), twice = mk();
      const rng = new Rng(4).fork('ops');
      for (let i = 0; i < 5000; i++) {
        const line = 2 ** 33 + rng.nextInt(64);                  // above 2^32: the set is still line mod sets
        const s1 = once.lookup(line), s2 = twice.lookup(line);
        let scan = -1;
        for (let w = 0; w < 4; w++) if (once.lineOf((line % 8) * 4 + w) === line) scan = (line % 8) * 4 + w;
        expect(s1).toBe(scan);
        expect(s2).toBe(s1);
        if (s1 >= 0) {
          once.touch(s1);
          twice.touch(s2); twice.touch(s2);
          if (rng.nextInt(8) === 0) { once.invalidate(s1); twice.invalidate(s2); }
        } else {
          const v1 = once.victim(once.setOf(line)), v2 = twice.victim(twice.setOf(line));
          expect(v2).toBe(v1);
          once.fill(v1, line, MoesiState.E); twice.fill(v2, line, MoesiState.E);
          twice.touch(v2);                                       // a touch right after a fill repeats it
        }
      }
    });
  }
});
