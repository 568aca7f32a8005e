/**
 * cache — caches that carry data.
 *
 * Models so far (the building blocks; the controller, hierarchy, coherence and timing come next):
 * - CacheArray: one set-associative array with tags, per-line state bits (valid, dirty, shared,
 *   i.e. MOESI / CHI UC-UD-SC-SD-I, plus controller bits), line data (optionally in a
 *   SharedArrayBuffer) and a replacement policy: true LRU, tree-PLRU or seeded random.
 * - MshrTable: outstanding misses by line, merging later misses to the same line, stalling when
 *   out of entries or targets.
 * - Reference models used as oracles: CachegrindModel (exactly Valgrind cachegrind's I1/D1/LL
 *   simulation) and DineroModel (a Dinero IV-style write-back, write-allocate L1I/L1D/L2).
 * Leaves out (for now): the cache controller (hit/miss handling, write-back and write-through,
 * allocation hints, inclusion policies, the write-back buffer), coherence, CMOs, prefetch, timing.
 */
export {
  CacheArray, checkGeometry, isPow2, INVALID_TAG, MoesiState,
  STATE_VALID, STATE_DIRTY, STATE_SHARED, STATE_CONTROLLER_BITS,
  type CacheGeometry, type CacheArrayOptions,
} from './tag-array.js';
export { createReplacement, REPLACEMENT_KINDS, type ReplacementKind, type ReplacementPolicy } from './replacement.js';
export { LruPolicy } from './replacement/lru.js';
export { TreePlruPolicy } from './replacement/plru.js';
export { RandomPolicy } from './replacement/random.js';
export { MshrTable, MSHR_FULL, MSHR_TARGETS_FULL } from './mshr.js';
export {
  CachegrindModel, CachegrindTotals, CACHEGRIND_DEFAULT, DineroModel,
  type CachegrindConfig, type CachegrindSummary, type DineroConfig, type DineroLevelStats, type DineroStats,
  type RefChunk, type RefCursor,
} from './reference.js';
