/**
 * Tree pseudo-LRU (the binary-tree PLRU of many Arm and x86 L1s): ways - 1 bits per set arranged
 * as a complete binary tree in heap order (node 0 is the root, node n has children 2n+1 and 2n+2;
 * the leaves, left to right, are ways 0 .. ways-1). Ways must be a power of two.
 *
 * Bit convention: a node's bit names the half to evict from next, 0 = left (lower ways),
 * 1 = right. A use of a way sets every bit on its root-to-leaf path to point AWAY from it; the
 * victim is found by following the bits from the root. Example, 4 ways (nodes: root 0, left 1
 * over ways 0-1, right 2 over ways 2-3), all bits 0 after reset:
 *   touch 0 -> root=1 (evict right next), node1=1 (in the left pair, way 1)
 *   touch 2 -> root=0, node2=1;            victim: root 0 -> node1 = 1 -> way 1
 */
import type { ReplacementPolicy } from '../replacement.js';
import { checkSetsWays } from './check.js';

export class TreePlruPolicy implements ReplacementPolicy {
  readonly kind = 'plru' as const;
  /** Tree bits, `ways - 1` per set (node n of set s at s * (ways - 1) + n). */
  readonly bits: Uint8Array;
  private readonly levels: number;
  private readonly nodes: number;

  constructor(readonly sets: number, readonly ways: number) {
    checkSetsWays('tree-PLRU', sets, ways);
    const levels = Math.log2(ways);
    if (!Number.isInteger(levels)) throw new RangeError(`tree-PLRU: ways ${ways} must be a power of two (1, 2, 4, 8, ...)`);
    this.levels = levels;
    this.nodes = ways - 1;
    this.bits = new Uint8Array(Math.max(1, sets * this.nodes));
  }

  // Slots are array indexes below 2^31 and ways is a power of two: shifts and masks are exact.
  touch(slot: number): void { this.pointAway(slot >>> this.levels, slot & (this.ways - 1)); }

  fill(slot: number): void { this.pointAway(slot >>> this.levels, slot & (this.ways - 1)); }

  /** Points the path at the emptied way, so it is the next victim (the array prefers it anyway). */
  invalidate(slot: number): void {
    const way = slot & (this.ways - 1), bits = this.bits, base = (slot >>> this.levels) * this.nodes;
    let node = 0;
    for (let level = this.levels - 1; level >= 0; level--) {
      const bit = (way >> level) & 1;          // way < 256: a small integer, not an address
      bits[base + node] = bit;
      node = 2 * node + 1 + bit;
    }
  }

  victim(set: number): number {
    const bits = this.bits, base = set * this.nodes;
    let node = 0, way = 0;
    for (let level = 0; level < this.levels; level++) {
      const bit = bits[base + node]!;
      way = 2 * way + bit;
      node = 2 * node + 1 + bit;
    }
    return way;
  }

  reset(): void { this.bits.fill(0); }

  private pointAway(set: number, way: number): void {
    const bits = this.bits, base = set * this.nodes;
    let node = 0;
    for (let level = this.levels - 1; level >= 0; level--) {
      const bit = (way >> level) & 1;
      bits[base + node] = bit ^ 1;
      node = 2 * node + 1 + bit;
    }
  }
}
