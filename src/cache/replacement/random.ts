/**
 * Seeded random replacement: the victim is uniform over the ways, drawn from the policy's own
 * `Rng` stream. No per-set state; the same seed gives the same victims.
 */
import type { Rng } from '../../sim/index.js';
import type { ReplacementPolicy } from '../replacement.js';
import { checkSetsWays } from './check.js';

export class RandomPolicy implements ReplacementPolicy {
  readonly kind = 'random' as const;

  constructor(readonly sets: number, readonly ways: number, private readonly rng: Rng) {
    checkSetsWays('random replacement', sets, ways);
  }

  touch(_slot: number): void { /* no recency state */ }

  fill(_slot: number): void { /* no recency state */ }

  invalidate(_slot: number): void { /* the array prefers invalid ways */ }

  victim(_set: number): number { return this.rng.nextInt(this.ways); }

  reset(): void { /* stateless; the stream is not rewound */ }
}
