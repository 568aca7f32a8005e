import { DDR4_3200 } from '../../mem/dram-presets.js';
import type { PlatformConfig } from '../schema.js';

const KiB = 1024, MiB = 1024 ** 2, GiB = 1024 ** 3;

/**
 * NVIDIA Grace (Armv9.0, Neoverse V2), after the GH200 Grace Hopper board (see
 * ../shared/reference/platforms.md §3 for sources). 72 PEs on the SCF mesh, 64 KiB L1s, a private
 * 1 MiB L2, a ~114 MiB L3 at the PoC (kind 'system-cache'), on-package LPDDR5X, and the Hopper
 * GPU's HBM3 reached coherently over NVLink-C2C as a cacheable region outside the host's linear map.
 *
 * Latency accounting in the model (src/cache/hierarchy.ts): an L3 hit costs L1 tag + L2 tag +
 * 2 x interconnect.latency (request and response halves plus the home node) + L3 hit.
 */
export const GRACE: PlatformConfig = {
  description: 'NVIDIA Grace (GH200-like): 72 Neoverse V2 PEs, SCF mesh, 112 MiB L3, LPDDR5X, coherent GPU memory',
  core: {
    count: 72,                   // 72 Neoverse V2 [G1][G2]
    freqMHz: 3400,               // up to 3.438 GHz [G1][G2]; rounded down to 3.4 GHz (assumed)
    window: 24,                  // assumed: V2 is wider than N1 (20); no vendor MSHR/LSQ number
    issueWidth: 3,               // assumed: V1/V2 lineage with three load/store address pipes (not in platforms.md)
    isbCycles: 12,               // assumed: pipeline refill after a context synchronization (as neoverse-n1)
    featLSE: true,               // ID_AA64ISAR0_EL1.Atomic = 2 [N2][G1] (platforms.md §3)
    featDPB: true,               // ARMv9 (ARMv8.2 made FEAT_DPB mandatory)
    featLSE2: true,              // hwcap uscat on Grace [G1] (platforms.md §3)
  },
  cache: {
    lineBytes: 64,               // [N16][G1]
    // 64 KiB 4-way L1s [N16][G1]; 4-cycle L1D and 12 MSHRs in the gem5 V2 model [G9] (est. 12-16);
    // L1I latency assumed equal, its 8 fills assumed.
    l1i: { sizeBytes: 64 * KiB, ways: 4, replacement: 'plru', hitLatency: 4, tagLatency: 2, mshrs: 8 },
    l1d: { sizeBytes: 64 * KiB, ways: 4, replacement: 'plru', hitLatency: 4, tagLatency: 2, mshrs: 12 },
    // Private 1 MiB 8-way L2 [G1][N16]; 11 cycles and a 96-entry transaction queue in the gem5 model [G9].
    // Inclusion assumed as for N1.
    l2: {
      sizeBytes: 1 * MiB, ways: 8, replacement: 'plru', hitLatency: 11, tagLatency: 5, mshrs: 96,
      inclusion: 'inclusive', writebackAllocate: true, writebackTouches: true, clusterSize: 1,
      writebackBuffer: 16,       // assumed: victims on their way to memory (none with an L3 taking them)
    },
    // The OS sees 114 MiB [G1] (117 MB in the Hot Chips figure [G4]), at the PoC and not in CLIDR (est.; [L2]).
    // 114 MiB is 57 ways x 64 B x 2^15 sets; a 57-way set is unlike any real slice, so the model uses
    // 14 ways x 64 B x 2^17 sets = 112 MiB: within 2% of the capacity with a plausible associativity
    // (16 ways would give 128 MiB, 12% too much). Latency ~35-45 ns (est., [G2][G10]): at 3.4 GHz,
    // L1 tag 2 + L2 tag 5 + 2 x 40 (interconnect) + 50 = 137 cycles = 40 ns. LRU and 512 fills assumed.
    l3: {
      kind: 'system-cache', sizeBytes: 112 * MiB, ways: 14, replacement: 'lru', hitLatency: 50, tagLatency: 8, mshrs: 512,
      inclusion: 'non-inclusive', writebackAllocate: true, writebackTouches: true,
      writebackBuffer: 128,      // assumed: a quarter of the fill trackers (mshrs)
    },
    prefetch: 'none',            // the V2's prefetchers are not modelled
    protocol: 'moesi',           // assumed: CHI-style home nodes like CMN (platforms.md §3, L3 vs PoC, est.)
    // A line bounce is 30-60 ns on a CMN-700-class mesh [G2][G10]: 2 x 40 (interconnect) + 70 = 150 cycles = 44 ns (est.).
    snoopLatency: 70,
    idc: true, dic: true,        // CTR_EL0 0xB444C004 on Graviton4's V2 [N2]; est. the same on Grace
    zvaBytes: 64,                // DCZID_EL0 = 0x4 [N2]
    naming: 'arm',
  },
  mmu: {
    translation: 'flat',         // scenarios that model software set 'vmsa'
    el2: true, featS2FWB: true,  // ARMv9: FEAT_S2FWB (platforms.md §3)
    // L1 ITLB 48, L1 DTLB 48 (fully associative), L2 TLB 2048 entries 8-way [G9]; latencies assumed as N1
    l1d: { entries: 48, ways: 48 }, l1i: { entries: 48, ways: 48 },
    l2: { entries: 2048, ways: 8, hitCycles: 3 },
    walkCacheEntries: 64,        // not documented [G9]: assumed
    tlbiCycles: 20,              // assumed
    tlbiBroadcastCycles: 250,    // assumed: 72 PEs on the SCF mesh
    ipaInvalidatesCombined: false,
    exceptionCycles: 30,         // assumed
    features: { paBits: 48, featVMID16: true, asid16: true, featHPDS: true, featXNX: true, featTTST: true, hafdbs: 2 },   // assumed 48-bit PA; HAFDBS=2 (AF + dirty): ID_AA64MMFR1 0x10312122 on Graviton4's V2 [N2], est. same on Grace (platforms.md)
    attrs: { featMTE2: false },  // MTE not exposed on Grace [G1]
  },
  hyp: { policy: 'cacheable-pfnmap', cmo: 'fwb', trapCycles: 3000 },   // KVM with FEAT_S2FWB skips the clean; trap cost assumed
  smmu: {
    config: { cohacc: true, fwb: true },   // SMMUv3.2+ with S2FWB on a coherent fabric (Grace, seed 002); DMA timing assumed (src/smmu/dma.ts)
    dma: { translateCycles: 8, descriptorReadCycles: 60, beatCycles: 4, beatBytes: 64, stallPollCycles: 100, outstandingBeats: 8 },
  },
  interconnect: {
    latency: 40,                 // SCF request path, est.: above N1's CMN-600 (30) for 72 PEs; the model charges it twice per round trip; chosen with l3.hitLatency
    bytesPerCycle: 32,           // assumed: a CMN-like 32 B data flit
    queueDepth: 64,              // assumed
  },
  // LPDDR5X [G5][G4]. LPDDR5X timings are not in platforms.md: DDR4_3200's stand in (so per-access
  // latency and bank behaviour are DDR4's, not LPDDR5X's). Channels: the Grace CPU Superchip has 32
  // over two Grace dies [G4] -> 16 per Grace; 16 x 8 B at 3.4 GT/s (clockRatio 2 at 3.4 GHz) = 435 GB/s
  // peak, against 486 GB/s measured STREAM on GH200 [G6] (LPDDR5X itself peaks at up to 546 GB/s [G5]).
  dram: {
    ...DDR4_3200,
    channels: 16,
    // 110-130 ns load-to-use (est. in platforms.md §3: LPDDR5X trails server DDR5). Raised from
    // DDR4_3200's 32/32 so that a closed-row miss sums to ~408 cycles = 120 ns at 3.4 GHz (est.):
    // L1 tag 2 + L2 tag 5 + up 20 + L3 tag 8 + home node 40 + 108 + ACT/RD (22+22+4 nCK x 2) 96 + 108 + down 20.
    frontendLatency: 108,
    backendLatency: 108,
  },
  memory: {
    regions: {
      ram: {
        // 480 GB LPDDR5X on the GH200 [G5]; base assumed (placed high, like Altra's).
        kind: 'dram', base: 0x80_0000_0000, size: 480 * GiB,
        mteTags: false,          // MTE not exposed: no `mte` hwcap on Grace [G1]; PFR1.MTE=0 on Graviton4 [N2]
        ncAtomics: 'far',        // est.: far atomics in the SCF are undocumented; modelled like N1 (executed at the home node)
        globalMonitor: true, linearMap: true, latency: 0,
      },
      'gpu-mem': {
        // The Hopper GPU's 96 GB HBM3, one contiguous cache-coherent aperture mapped cacheable over
        // NVLink-C2C [G2][G5][G13]. Not in the host's linear map (no struct pages: the host does not
        // online it as RAM; the nvgrace-gpu VFIO driver hands it to guests [G13]). No MTE tag storage
        // (and no MTE on Grace at all [G1]).
        // Base assumed (above the 480 GiB of ram). CPU->HBM load latency est. several hundred ns,
        // >= 3-5x local LPDDR5X: ~400 ns = 1360 cycles at 3.4 GHz (est., no measurement found).
        kind: 'cacheable-device', base: 0x400_0000_0000, size: 96 * GiB,
        mteTags: false,
        ncAtomics: 'far',        // est.: the aperture "acts like DDR" and supports atomics [G13][G8]
        globalMonitor: true,     // est.: exclusives work on it as on DDR [G13]
        linearMap: false,
        latency: 1360,
      },
      'pcie-mmio': {
        kind: 'device', base: 0x4000_0000, size: 1 * GiB,      // assumed 32-bit PCIe window (as neoverse-n1)
        mteTags: false, ncAtomics: 'abort', globalMonitor: false, linearMap: false, latency: 200,
      },
    },
  },
  sim: { requestSlots: 8192, watchdogCycles: 1_000_000 },
};
