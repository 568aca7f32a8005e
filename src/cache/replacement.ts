/**
 * Replacement policies: the interface and a factory. Variants live in `replacement/`.
 *
 * Contract: a policy keeps per-set state in typed arrays sized once at construction and allocates
 * nothing per call. It hears every change of a set's contents from its `CacheArray`:
 *   touch(set, way)       a hit on that way (the controller decides what counts as a use)
 *   fill(set, way)        a new line was just installed in that way
 *   invalidate(set, way)  the way was emptied
 * and answers `victim(set)`, which the array calls only when every way of the set is valid
 * (invalid ways are always used first, lowest way first). `victim` does not change recency state;
 * a random policy advances its random stream. A touch of the slot the policy heard of last
 * (touched or filled, nothing else since) must not change any later victim: the array skips it.
 */
import type { Rng } from '../sim/index.js';
import { LruPolicy } from './replacement/lru.js';
import { TreePlruPolicy } from './replacement/plru.js';
import { RandomPolicy } from './replacement/random.js';

export type ReplacementKind = 'lru' | 'plru' | 'random';
export const REPLACEMENT_KINDS: readonly ReplacementKind[] = ['lru', 'plru', 'random'];

export interface ReplacementPolicy {
  readonly kind: ReplacementKind;
  readonly sets: number;
  readonly ways: number;
  touch(slot: number): void;
  fill(slot: number): void;
  invalidate(slot: number): void;
  /** The way of `set` to replace, all ways being valid. */
  victim(set: number): number;
  /** Back to the state after construction (the random stream is not rewound). */
  reset(): void;
}

/**
 * A policy of the given kind for `sets` x `ways`. 'random' needs `rng` (take a named fork, e.g.
 * `rng.fork('cpu0.l1d.replacement')`, so that adding a cache does not shift other streams).
 */
export function createReplacement(kind: ReplacementKind, sets: number, ways: number, rng?: Rng): ReplacementPolicy {
  switch (kind) {
    case 'lru': return new LruPolicy(sets, ways);
    case 'plru': return new TreePlruPolicy(sets, ways);
    case 'random':
      if (rng === undefined) throw new RangeError('replacement random: needs a seeded Rng (sim/rng.ts)');
      return new RandomPolicy(sets, ways, rng);
    default:
      throw new RangeError(`replacement: unknown kind ${JSON.stringify(kind)}; expected one of ${REPLACEMENT_KINDS.join(', ')}`);
  }
}
