/**
 * cache — caches that carry data.
 *
 * Models so far (the hierarchy wiring, coherence and the CMO engine come next; see
 * docs/cache-hierarchy.md):
 * - CacheLevel: one timed level with data: hit latency, MSHR merging, write-back of dirty
 *   victims, Write-Back / Write-Through and the allocation hints, Device/Non-cacheable bypass,
 *   line and set/way maintenance primitives.
 * - CacheArray: one set-associative array with tags, per-line state bits (valid, dirty, shared,
 *   i.e. MOESI / CHI UC-UD-SC-SD-I, plus controller bits), line data (optionally in a
 *   SharedArrayBuffer) and a replacement policy: true LRU, tree-PLRU or seeded random.
 * - MshrTable: outstanding misses by line, merging later misses to the same line, stalling when
 *   out of entries or targets.
 * - Reference models used as oracles: CachegrindModel (exactly Valgrind cachegrind's I1/D1/LL
 *   simulation) and DineroModel (a Dinero IV-style write-back, write-allocate L1I/L1D/L2).
 * Leaves out (for now): inclusion policies, a bounded write-back buffer, coherence, the CMO
 * engine (reach to PoU/PoC across levels and PEs), prefetch.
 */
export { CacheLevel, type CacheLevelConfig } from './cache.js';
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
