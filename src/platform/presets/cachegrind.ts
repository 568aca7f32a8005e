import { DDR4_3200 } from '../../mem/dram-presets.js';
import type { PlatformConfig } from '../schema.js';

const KiB = 1024;

/**
 * A platform equivalent to Valgrind cachegrind's cache model, to compare miss counts with it:
 * one PE, independent I1 and D1 caches backed by a unified last-level cache (LL), bit-selection
 * set indexing, LRU, write-allocate, no prefetching, no coherence between I1 and D1. Stats name
 * the L2 `system.ll` (naming 'cachegrind').
 *
 * Sources:
 * [V1] valgrind cachegrind/cg_arch.c, configure_caches(): the arm64 default geometry
 *      (I1 16384,4,64; D1 16384,4,64; LL 262144,8,64), "copied from the 32-bit ARM version".
 * [V2] valgrind coregrind/m_cache.c, get_cache_info(): returns False on arm64 (no auto-detection),
 *      so on an arm64 host cachegrind always uses [V1] unless --I1/--D1/--LL say otherwise.
 * [V3] Cachegrind manual, "Cache Simulation Specifics": write-allocate D1; bit-selection hash
 *      (set = middle address bits); the LL holds what the L1s fetched but is not strictly
 *      inclusive ("lines evicted from LL still could reside in L1").
 * [V4] valgrind cachegrind/cg_sim.c: true LRU (a hit moves the tag to MRU, a miss installs it as MRU
 *      and drops the LRU one); an access straddling two lines counts as one access and one miss.
 *      Here it counts as two line accesses: expect small differences on unaligned traces.
 *
 * To match a cachegrind run with other caches, override the geometry the way its options do,
 * e.g. `--LL=8388608,16,64` is `--set cache.l2.sizeBytes=8MiB --set cache.l2.ways=16`
 * (cachegrind, too, requires a power-of-two number of sets). All levels share `lineBytes`.
 *
 * Cachegrind has no timing: the latencies below only give the run a cycle count. Miss counts do
 * not depend on them, because the hierarchy performs accesses in the order the PE issues them,
 * which is program (trace) order.
 */
export const CACHEGRIND: PlatformConfig = {
  description: 'Valgrind cachegrind equivalent: 1 PE, I1/D1 16 KiB 4-way + LL 256 KiB 8-way, LRU, no prefetch',
  core: {
    count: 1,                    // cachegrind simulates one cache hierarchy (threads share it); replay raises this for multi-agent traces
    freqMHz: 3200,               // assumed: keeps DDR4_3200's clockRatio 2 exact (no timing in cachegrind)
    window: 1,                   // one access at a time: the accesses reach the caches strictly one by one, like cachegrind's untimed model
    issueWidth: 1,               // as window
    isbCycles: 12,               // assumed (cachegrind has no pipeline)
  },
  cache: {
    lineBytes: 64,               // [V1]
    // I1 and D1: 16 KiB, 4-way, 64 B lines [V1][V2]; LRU [V4]. Latencies assumed (none in cachegrind).
    l1i: { sizeBytes: 16 * KiB, ways: 4, replacement: 'lru', hitLatency: 4, tagLatency: 2, mshrs: 4 },
    l1d: { sizeBytes: 16 * KiB, ways: 4, replacement: 'lru', hitLatency: 4, tagLatency: 2, mshrs: 8 },
    // LL: 256 KiB, 8-way, 64 B lines [V1][V2]; LRU [V4]. It sees only I1/D1 misses: a fetch into an L1
    // fetches into LL first, and nothing ever removes the L1 copy when LL evicts (non-inclusive) [V3].
    // Cachegrind has no write-backs, so an L1 victim neither allocates in LL nor refreshes its LRU
    // position. Hit latency assumed: L1 tag 2 + 10 = 12 cycles for an LL hit.
    l2: {
      sizeBytes: 256 * KiB, ways: 8, replacement: 'lru', hitLatency: 10, tagLatency: 4, mshrs: 16,
      inclusion: 'non-inclusive', writebackAllocate: false, writebackTouches: false, clusterSize: 1,
    },
    // No third level: cachegrind simulates the first and the last level only [V3]. (Unused fields: the schema needs them.)
    l3: {
      kind: 'none', sizeBytes: 1024 * KiB, ways: 16, replacement: 'lru', hitLatency: 30, tagLatency: 8, mshrs: 16,
      inclusion: 'non-inclusive', writebackAllocate: false, writebackTouches: false,
    },
    prefetch: 'none',            // cachegrind has no prefetcher (callgrind's --simulate-hwpref is off by default)
    protocol: 'mesi',            // one PE: coherence never acts
    snoopLatency: 10,            // assumed (unused with one cluster)
    idc: false, dic: false,      // I1 and D1 are independent in cachegrind: an I1 fill never sees data in D1, stores never reach I1
    zvaBytes: 64,                // one line, assumed
    naming: 'cachegrind',
  },
  mmu: {
    translation: 'flat',         // cachegrind sees the addresses the trace gives
    el2: false, featS2FWB: false,
    l1d: { entries: 48, ways: 48 }, l1i: { entries: 48, ways: 48 },
    l2: { entries: 1024, ways: 4, hitCycles: 0 },
    walkCacheEntries: 0,
    tlbiCycles: 0, tlbiBroadcastCycles: 0,
    ipaInvalidatesCombined: false,
    exceptionCycles: 0,
    features: {}, attrs: {},
  },
  hyp: { policy: 'legacy', cmo: 'none', trapCycles: 0 },
  smmu: {
    config: {},   // the library defaults (src/smmu/config.ts); DMA timing assumed
    dma: { translateCycles: 8, descriptorReadCycles: 60, beatCycles: 4, beatBytes: 64, stallPollCycles: 100, outstandingBeats: 8 },
  },
  interconnect: {
    latency: 20,                 // assumed (no timing in cachegrind)
    bytesPerCycle: 32,           // assumed
    queueDepth: 64,              // assumed
  },
  dram: { ...DDR4_3200, channels: 1 },   // assumed: one DDR4-3200 channel; only gives misses a cost
  memory: {
    regions: {
      ram: {
        // 256 TiB at 0: the replay command folds a virtual-address trace into the first dram region as
        // base + (va mod 2^floor(log2(size))) (src/cli/run.ts, TraceOpSource). With base 0 and size 2^48
        // that is the identity on every 48-bit user address (arm64 and x86-64), so sets and tags are
        // those cachegrind computes; physical-address traces below 2^48 land in it unchanged.
        kind: 'dram', base: 0, size: 2 ** 48,
        mteTags: false, ncAtomics: 'far', globalMonitor: true, linearMap: true, latency: 0,
      },
    },
  },
  sim: { requestSlots: 1024, watchdogCycles: 1_000_000 },
};
