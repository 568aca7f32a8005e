/**
 * cache — caches that carry data (docs/cache-hierarchy.md).
 *
 * - CacheHierarchy: every PE's L1I/L1D, the L2s (per PE or per cluster), the optional L3
 *   (before-poc or system-cache), coherence through an exact SnoopFilter, cache maintenance with
 *   its architectural reach and cost, LSE atomics and exclusive monitors; CpuPort is a PE's port.
 * - ID registers derived from the configuration (CLIDR_EL1, CCSIDR_EL1, CTR_EL0, DCZID_EL0).
 * - CacheArray: one set-associative array with tags, per-line state bits (valid, dirty, shared,
 *   i.e. MOESI / CHI UC-UD-SC-SD-I, plus controller bits), line data (optionally in a
 *   SharedArrayBuffer) and a replacement policy: true LRU, tree-PLRU or seeded random.
 * - MshrTable: outstanding misses by line, merging later misses to the same line, stalling when
 *   out of entries or targets.
 * - Reference models used as oracles: CachegrindModel (exactly Valgrind cachegrind's I1/D1/LL
 *   simulation) and DineroModel (a Dinero IV-style write-back, write-allocate L1I/L1D/L2).
 * - Write-back buffers per L2 and at the L3 (cache.l2/l3.writebackBuffer): victims on their way to
 *   memory hold an entry until memory acknowledges them; a full buffer stalls the PEs it serves.
 * Leaves out (for now): prefetchers other than next-line.
 */
export { CacheHierarchy, CpuPort, Level, rmwBytes, type HierarchyOptions } from './hierarchy.js';
export { SnoopFilter } from './snoop-filter.js';
export { LevelStats } from './level-stats.js';
export { SysReg, clidr, ccsidr, ctr, dczid, readIdRegister } from './id-regs.js';
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
