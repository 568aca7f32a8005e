/**
 * True LRU with ordered stamps: every touch or fill stores a fresh value of a per-policy counter
 * in the way's stamp; the victim is the way with the smallest stamp (lowest way on a tie, which
 * only happens among ways never used since reset). O(1) update, O(ways) victim choice.
 *
 * The counter is a double, so it stays exact for 2^53 uses (centuries at 10^9 uses a second).
 */
import type { ReplacementPolicy } from '../replacement.js';
import { checkSetsWays } from './check.js';

export class LruPolicy implements ReplacementPolicy {
  readonly kind = 'lru' as const;
  private readonly stamp: Float64Array;
  private clock = 0;

  constructor(readonly sets: number, readonly ways: number) {
    checkSetsWays('LRU', sets, ways);
    this.stamp = new Float64Array(sets * ways);
  }

  touch(slot: number): void { this.stamp[slot] = ++this.clock; }

  fill(slot: number): void { this.stamp[slot] = ++this.clock; }

  /** An invalidated way becomes the oldest (the array picks invalid ways first anyway). */
  invalidate(slot: number): void { this.stamp[slot] = 0; }

  victim(set: number): number {
    const s = this.stamp, ways = this.ways, base = set * ways;
    let best = 0, oldest = s[base]!;
    for (let w = 1; w < ways; w++) {
      const t = s[base + w]!;
      if (t < oldest) { oldest = t; best = w; }
    }
    return best;
  }

  reset(): void { this.stamp.fill(0); this.clock = 0; }
}
