import { describe, expect, it } from 'vitest';
import { MSHR_FULL, MSHR_TARGETS_FULL, MshrTable } from './mshr.js';

describe('MshrTable', () => {
  it('opens one entry per line and merges later misses to the same line', () => {
    const m = new MshrTable(4, 4);
    const e = m.allocate(0x100, 11);
    expect(e).toBeGreaterThanOrEqual(0);
    expect(m.lastWasMerge).toBe(false);                     // send the fill request below
    expect(m.allocate(0x100, 12)).toBe(e);
    expect(m.lastWasMerge).toBe(true);                      // send nothing: already in flight
    expect(m.allocate(0x100, 13)).toBe(e);
    expect(m.inUse).toBe(1);
    expect(m.find(0x100)).toBe(e);
    expect([m.targetCount(e), m.target(e, 0), m.target(e, 1), m.target(e, 2)]).toEqual([3, 11, 12, 13]);
  });

  it('completes a line by handing over every merged target in arrival order', () => {
    const m = new MshrTable(2, 4);
    m.allocate(7, 1); m.allocate(9, 2); m.allocate(7, 3);
    const got: Array<[number, number]> = [];
    expect(m.complete(7, (t, line) => got.push([t, line]))).toBe(2);
    expect(got).toEqual([[1, 7], [3, 7]]);
    expect(m.find(7)).toBe(-1);
    expect(m.inUse).toBe(1);
    expect(m.complete(7, () => { throw new Error('no targets expected'); })).toBe(-1);
  });

  it('returns MSHR_FULL when every entry is busy, and takes new misses again after a release', () => {
    const m = new MshrTable(2, 2);
    m.allocate(1, 10);
    m.allocate(2, 20);
    expect(m.isFull()).toBe(true);
    expect(m.allocate(3, 30)).toBe(MSHR_FULL);
    expect(m.allocate(1, 11)).toBeGreaterThanOrEqual(0);     // merging still works when full
    expect(m.allocate(1, 12)).toBe(MSHR_TARGETS_FULL);      // but not past maxTargets
    expect(m.targetCount(m.find(1))).toBe(2);               // the refused target was not recorded
    m.complete(2, () => {});
    const e = m.allocate(3, 30);
    expect(e).toBeGreaterThanOrEqual(0);
    expect(m.lastWasMerge).toBe(false);
    expect([m.targetCount(e), m.target(e, 0)]).toEqual([1, 30]);   // the reused entry starts clean
    expect(m.peakInUse).toBe(2);
  });

  it('lets a completion handler miss again, even into the entry being freed', () => {
    const m = new MshrTable(1, 4);
    m.allocate(5, 1); m.allocate(5, 2); m.allocate(5, 3);
    const got: number[] = [];
    m.complete(5, (t) => {
      got.push(t);
      expect(m.allocate(100 + t, t)).toBeGreaterThanOrEqual(0);  // the only entry, now reused
      m.release(m.find(100 + t));
    });
    expect(got).toEqual([1, 2, 3]);
    expect(m.inUse).toBe(0);
  });

  it('release frees an entry without visiting targets; a double release is an error', () => {
    const m = new MshrTable(3, 1);
    const e = m.allocate(42, 0);
    m.flags[e] = 1;
    m.release(e);
    expect(m.find(42)).toBe(-1);
    expect(() => m.release(e)).toThrow(/free entry/);
    const e2 = m.allocate(43, 0);
    expect(m.flags[e2]).toBe(0);
    m.reset();
    expect(m.inUse).toBe(0);
  });

  it('checks its sizes', () => {
    expect(() => new MshrTable(0)).toThrow(/capacity 0/);
    expect(() => new MshrTable(4, 0)).toThrow(/maxTargets 0/);
  });
});

describe('MshrTable merge and open', () => {
  it('are allocate split in two for callers that have just run find', () => {
    const m = new MshrTable(2, 2);
    expect(m.find(5)).toBe(-1);
    const e = m.open(5, 1);
    expect(m.lastWasMerge).toBe(false);
    expect(m.find(5)).toBe(e);
    expect(m.merge(e, 2)).toBe(e);
    expect(m.lastWasMerge).toBe(true);
    expect(m.merge(e, 3)).toBe(MSHR_TARGETS_FULL);
    expect(m.open(6, 4)).toBeGreaterThanOrEqual(0);
    expect(m.open(7, 5)).toBe(MSHR_FULL);
    expect([m.targetCount(e), m.target(e, 0), m.target(e, 1)]).toEqual([2, 1, 2]);
  });
});
