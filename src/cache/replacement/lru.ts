/**
 * True LRU with ordered stamps: every touch or fill stores a fresh value of a per-policy counter
 * in the way's stamp; the victim is the way with the smallest stamp (lowest way on a tie, which
 * only happens among ways never used since reset). O(1) update, O(ways) victim choice.
 *
 * Stamps are 32-bit, so that a 16-way set's stamps fill one 64-byte host cache line (a large
 * L3's sets are each a host cache miss; with doubles they were two). When the counter would pass
 * `clockLimit` every set's stamps are renumbered by rank (1..ways in use order, never-used ways
 * stay 0) and counting goes on from `ways`: only the order within a set picks a victim, and
 * renumbering keeps it, so the choices are exactly those of an unbounded counter.
 */
import type { ReplacementPolicy } from '../replacement.js';
import { checkSetsWays } from './check.js';

const UINT32_MAX = 0xffff_ffff;

export class LruPolicy implements ReplacementPolicy {
  readonly kind = 'lru' as const;
  private readonly stamp: Uint32Array;
  private clock = 0;
  private readonly clockLimit: number;

  /** `clockLimit` (default 2^32 - 1) is there so that tests can reach a renumbering quickly. */
  constructor(readonly sets: number, readonly ways: number, clockLimit = UINT32_MAX) {
    checkSetsWays('LRU', sets, ways);
    if (!(Number.isInteger(clockLimit) && clockLimit >= 2 * ways && clockLimit <= UINT32_MAX)) {
      throw new RangeError(`LRU: clockLimit ${clockLimit} must be an integer in ${2 * ways}..${UINT32_MAX}`);
    }
    this.stamp = new Uint32Array(sets * ways);
    this.clockLimit = clockLimit;
  }

  touch(slot: number): void { this.stamp[slot] = this.tick(); }

  fill(slot: number): void { this.stamp[slot] = this.tick(); }

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

  private tick(): number {
    if (this.clock === this.clockLimit) this.renumber();
    return ++this.clock;
  }

  /** Replaces every set's stamps by their ranks (see the class comment); the clock restarts at `ways`. */
  private renumber(): void {
    const s = this.stamp, ways = this.ways;
    const order: number[] = [];
    for (let base = 0; base < s.length; base += ways) {
      order.length = 0;
      for (let w = 0; w < ways; w++) if (s[base + w] !== 0) order.push(w);
      order.sort((a, b) => s[base + a]! - s[base + b]!);
      for (let r = 0; r < order.length; r++) s[base + order[r]!] = r + 1;
    }
    this.clock = ways;
  }
}
