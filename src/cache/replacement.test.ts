import { describe, expect, it } from 'vitest';
import { Rng } from '../sim/index.js';
import { createReplacement, type ReplacementPolicy } from './replacement.js';
import { LruPolicy } from './replacement/lru.js';
import { TreePlruPolicy } from './replacement/plru.js';
import { RandomPolicy } from './replacement/random.js';

/** The slot of (set, way): policies are told about slots, set * ways + way. */
const at = (p: ReplacementPolicy, set: number, way: number): number => set * p.ways + way;

/** Touches the given ways of set `set` in order. */
function touchAll(p: ReplacementPolicy, set: number, ways: number[]): void {
  for (const w of ways) p.touch(at(p, set, w));
}

describe('LruPolicy', () => {
  it('evicts the least recently used way: 4 ways, touches 0,1,2,3,0 -> victim 1', () => {
    const p = new LruPolicy(4, 4);
    touchAll(p, 2, [0, 1, 2, 3, 0]);
    expect(p.victim(2)).toBe(1);
    p.touch(at(p, 2, 1));                  // order now (old -> new) 2, 3, 0, 1
    expect(p.victim(2)).toBe(2);
    p.touch(at(p, 2, 2));
    expect(p.victim(2)).toBe(3);
  });

  it('gives the exact eviction order of a scripted sequence (8 ways)', () => {
    const p = new LruPolicy(1, 8);
    touchAll(p, 0, [7, 6, 5, 4, 3, 2, 1, 0, 5, 7]);
    // Uses, oldest first: 6 4 3 2 1 0 5 7. Evicting (= refilling) the victim each time walks that list.
    const order: number[] = [];
    for (let i = 0; i < 8; i++) { const v = p.victim(0); order.push(v); p.fill(at(p, 0, v)); }
    expect(order).toEqual([6, 4, 3, 2, 1, 0, 5, 7]);
  });

  it('keeps sets independent', () => {
    const p = new LruPolicy(2, 2);
    touchAll(p, 0, [0, 1]);
    touchAll(p, 1, [1, 0]);
    expect([p.victim(0), p.victim(1)]).toEqual([0, 1]);
  });

  it('makes an invalidated way the next victim, and reset forgets everything', () => {
    const p = new LruPolicy(1, 4);
    touchAll(p, 0, [0, 1, 2, 3]);
    p.invalidate(at(p, 0, 2));
    expect(p.victim(0)).toBe(2);
    p.reset();
    expect(p.victim(0)).toBe(0);     // ties (never used) go to the lowest way
  });

  it('picks the same victims after its 32-bit clock is renumbered as a list-kept LRU does', () => {
    // clockLimit 16 renumbers every few uses; the reference keeps each set's ways in use order.
    const sets = 3, ways = 8;
    const p = new LruPolicy(sets, ways, 16);
    const order: number[][] = Array.from({ length: sets }, () => []);   // used ways, oldest first
    const use = (set: number, w: number): void => { const o = order[set]!; const i = o.indexOf(w); if (i >= 0) o.splice(i, 1); o.push(w); };
    const rng = new Rng(11).fork('lru-renumber');
    let renumbered = 0, last = 0;
    for (let i = 0; i < 5000; i++) {
      const set = rng.nextInt(sets), w = rng.nextInt(ways), op = rng.nextInt(10);
      if (op < 6) { p.touch(at(p, set, w)); use(set, w); }
      else if (op < 8) { p.fill(at(p, set, w)); use(set, w); }
      else if (op < 9) { p.invalidate(at(p, set, w)); const o = order[set]!; const j = o.indexOf(w); if (j >= 0) o.splice(j, 1); }
      const o = order[set]!;
      // Never-used (or invalidated) ways are older than any used one; the lowest of them goes first.
      const unused = [...Array(ways).keys()].filter((x) => !o.includes(x));
      expect(p.victim(set)).toBe(unused.length > 0 ? unused[0] : o[0]);
      const clock = (p as unknown as { clock: number }).clock;
      if (clock < last) renumbered++;
      last = clock;
    }
    expect(renumbered).toBeGreaterThan(100);
  });

  it('rejects a clock limit too small to renumber into', () => {
    expect(() => new LruPolicy(1, 8, 15)).toThrow(/clockLimit 15 must be an integer in 16\.\.4294967295/);
  });
});

describe('TreePlruPolicy', () => {
  // 4 ways: node 0 = root (0: evict from ways 0-1, 1: from ways 2-3), node 1 over ways 0|1,
  // node 2 over ways 2|3 (0: left, 1: right). A use points every bit on its path away from it.
  it('follows the tree bits computed by hand (4 ways)', () => {
    const p = new TreePlruPolicy(1, 4);
    const bits = (): number[] => Array.from(p.bits);
    p.touch(at(p, 0, 0)); expect(bits()).toEqual([1, 1, 0]);   // root -> right half, node1 -> way 1
    p.touch(at(p, 0, 1)); expect(bits()).toEqual([1, 0, 0]);   // root -> right, node1 -> way 0
    p.touch(at(p, 0, 2)); expect(bits()).toEqual([0, 0, 1]);   // root -> left, node2 -> way 3
    p.touch(at(p, 0, 3)); expect(bits()).toEqual([0, 0, 0]);   // root -> left, node2 -> way 2
    expect(p.victim(0)).toBe(0);                        // root 0 -> node1 0 -> way 0 (= LRU here)
    p.touch(at(p, 0, 0)); expect(bits()).toEqual([1, 1, 0]);
    // Sequence 0,1,2,3,0: true LRU would evict way 1; tree-PLRU follows root=1 -> node2=0 -> way 2.
    expect(p.victim(0)).toBe(2);
    p.touch(at(p, 0, 2)); expect(bits()).toEqual([0, 1, 1]);
    expect(p.victim(0)).toBe(1);                        // root 0 -> node1 1 -> way 1
  });

  it('follows the tree bits computed by hand (8 ways)', () => {
    // Nodes: 0 root; 1 (ways 0-3), 2 (ways 4-7); 3 (0-1), 4 (2-3), 5 (4-5), 6 (6-7).
    const p = new TreePlruPolicy(1, 8);
    p.touch(at(p, 0, 5));   // 5 = 0b101: root=0 (away from right), node2=1 (away from 4-5), node5=0 (away from 5)
    expect(Array.from(p.bits)).toEqual([0, 0, 1, 0, 0, 0, 0]);
    expect(p.victim(0)).toBe(0);
    p.touch(at(p, 0, 0));   // 0 = 0b000: root=1, node1=1, node3=1
    expect(Array.from(p.bits)).toEqual([1, 1, 1, 1, 0, 0, 0]);
    expect(p.victim(0)).toBe(6);                        // root 1 -> node2 1 -> node6 0 -> way 6
  });

  it('never evicts the most recently used way, and a full round of fills visits every way', () => {
    const p = new TreePlruPolicy(3, 16);
    const rng = new Rng(5);
    for (let i = 0; i < 2000; i++) {
      const w = rng.nextInt(16);
      p.touch(at(p, 1, w));
      expect(p.victim(1)).not.toBe(w);
    }
    const seen = new Set<number>();
    for (let i = 0; i < 16; i++) { const v = p.victim(1); seen.add(v); p.fill(at(p, 1, v)); }
    expect(seen.size).toBe(16);
  });

  it('points the tree at an invalidated way', () => {
    const p = new TreePlruPolicy(1, 4);
    p.touch(at(p, 0, 3));
    p.invalidate(at(p, 0, 3));
    expect(p.victim(0)).toBe(3);
  });

  it('handles 1 way, and rejects ways that are not a power of two', () => {
    const p = new TreePlruPolicy(4, 1);
    p.touch(at(p, 3, 0));
    expect(p.victim(3)).toBe(0);
    expect(() => new TreePlruPolicy(4, 12)).toThrow(/power of two/);
  });
});

describe('RandomPolicy', () => {
  const victims = (seed: number, n: number): number[] => {
    const p = new RandomPolicy(1, 8, new Rng(seed));
    return Array.from({ length: n }, () => p.victim(0));
  };

  it('is deterministic per seed and differs between seeds', () => {
    expect(victims(11, 200)).toEqual(victims(11, 200));
    expect(victims(11, 200)).not.toEqual(victims(12, 200));
  });

  it('covers every way, roughly uniformly', () => {
    const counts = new Array<number>(8).fill(0);
    for (const v of victims(3, 8000)) counts[v]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);   // expected 1000 each
  });
});

describe('createReplacement', () => {
  it('builds each kind and checks its arguments', () => {
    expect(createReplacement('lru', 4, 4).kind).toBe('lru');
    expect(createReplacement('plru', 4, 4).kind).toBe('plru');
    expect(createReplacement('random', 4, 4, new Rng(1)).kind).toBe('random');
    expect(() => createReplacement('random', 4, 4)).toThrow(/Rng/);
    expect(() => createReplacement('fifo' as 'lru', 4, 4)).toThrow(/lru, plru, random/);
    expect(() => createReplacement('lru', 0, 4)).toThrow(/sets/);
    expect(() => createReplacement('lru', 4, 1.5)).toThrow(/ways/);
  });
});
