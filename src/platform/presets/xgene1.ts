import { DDR4_3200 } from '../../mem/dram-presets.js';
import type { PlatformConfig } from '../schema.js';

const KiB = 1024, MiB = 1024 ** 2, GiB = 1024 ** 3;

/**
 * APM X-Gene 1 "Storm" (ARMv8.0), as on the Mustang board (see ../shared/reference/platforms.md §1
 * for sources). Eight Potenza PEs in four PMDs of two; each PMD shares a 256 KiB L2. An 8 MiB L3
 * hangs off the CSW coherent switch *above* the point of coherency: it is not in CLIDR, set/way
 * maintenance does not reach it, and Non-cacheable/Device accesses bypass it (kind 'before-poc').
 * Four DDR3 memory controllers.
 *
 * Latency accounting in the model (src/cache/hierarchy.ts): an L2 hit costs L1 tag + L2 hit; an
 * L3 hit costs L1 tag + L2 tag + 2 x interconnect.latency (request and response halves plus the
 * home node) + L3 hit. The numbers below are chosen so those sums land in the measured ranges.
 */
export const XGENE1: PlatformConfig = {
  description: 'APM X-Gene 1 (Mustang): 8 PEs in 4 pairs sharing an L2, 8 MiB L3 above the PoC, 4x DDR3',
  core: {
    count: 8,                    // 4 PMDs x 2 Potenza cores [X1][X2]
    freqMHz: 2400,               // 2.4 GHz, commonly quoted (est. in platforms.md §1)
    window: 8,                   // assumed: no MSHR/LSQ figure for Potenza; a smaller v8.0 core than N1 (20)
    issueWidth: 1,               // assumed: one load/store pipe (no disclosure found)
    isbCycles: 12,               // assumed: pipeline refill after a context synchronization (as neoverse-n1)
    featLSE: false,              // ARMv8.0: no LSE (a v8.1 feature; platforms.md §1 Features): software uses LDXR/STXR
    featDPB: false,              // ARMv8.0: no DC CVAP (FEAT_DPB is ARMv8.2)
    featLSE2: false,             // ARMv8.0
  },
  cache: {
    lineBytes: 64,               // 64 B lines (est. in platforms.md §1, CTR_EL0 0x8444C004; [X2] geometry)
    // 32 KiB 8-way L1s: est. from the 6-bit EDAC L1 index (64 sets) [X2]; 4-cycle L1D [X3] (est.);
    // L1I latency assumed equal; MSHR counts assumed (fewer than N1's 8/20).
    l1i: { sizeBytes: 32 * KiB, ways: 8, replacement: 'plru', hitLatency: 4, tagLatency: 2, mshrs: 4 },
    l1d: { sizeBytes: 32 * KiB, ways: 8, replacement: 'plru', hitLatency: 4, tagLatency: 2, mshrs: 8 },
    // 256 KiB L2 shared by the two PEs of a PMD [X1][X3]; 11-15 cycles random single read [X3]:
    // L1 tag 2 + hit 11 = 13, the middle of the range. 8-way, inclusion and 16 fills assumed.
    l2: {
      sizeBytes: 256 * KiB, ways: 8, replacement: 'plru', hitLatency: 11, tagLatency: 5, mshrs: 16,
      inclusion: 'inclusive', writebackAllocate: true, writebackTouches: true,
      writebackBuffer: 16,       // assumed: victims on their way to memory (none with an L3 taking them)
      clusterSize: 2,            // [X1] cpu@x00/x01 share next-level-cache xgene_L2_x; [X2] PMD = 2 CPUs + 1 L2
    },
    // 8 MiB shared L3 behind the CSW, not in CLIDR, ignores set/way, bypassed by NC/Device accesses:
    // above the PoC [X4][X5][X7]. 50-80 cycles single read [X3]: L1 tag 2 + L2 tag 5 + 2 x 16
    // (interconnect) + 26 = 65, mid-range. 16-way (8192 sets), the replacement policy and 64 fills assumed.
    l3: {
      kind: 'before-poc', sizeBytes: 8 * MiB, ways: 16, replacement: 'lru', hitLatency: 26, tagLatency: 8, mshrs: 64,
      inclusion: 'non-inclusive', writebackAllocate: true, writebackTouches: true,
      writebackBuffer: 16,       // assumed: a quarter of the fill trackers (mshrs)
    },
    prefetch: 'none',            // the Potenza prefetchers are not modelled
    protocol: 'moesi',           // assumed: no source on the CSW's coherence states
    snoopLatency: 30,            // assumed: a snoop across the CSW to another PMD and back (~L3 distance)
    idc: false, dic: false,      // CTR_EL0 0x8444C004, a v8.0 part (est. in platforms.md §1)
    zvaBytes: 64,                // DCZID_EL0 0x4 (est. in platforms.md §1)
    naming: 'arm',
  },
  mmu: {
    translation: 'flat',         // scenarios that model software set 'vmsa'
    el2: true, featS2FWB: false, // ARMv8.0 (platforms.md §1)
    // Separate stage-1 and stage-2 unified TLBs exist [X2]; sizes unknown: all assumed
    l1d: { entries: 32, ways: 32 }, l1i: { entries: 32, ways: 32 },
    l2: { entries: 1024, ways: 4, hitCycles: 6 },
    walkCacheEntries: 32,        // assumed
    tlbiCycles: 30,              // assumed
    tlbiBroadcastCycles: 300,    // assumed
    ipaInvalidatesCombined: false,
    exceptionCycles: 40,         // assumed
    features: { paBits: 42, featVMID16: false, asid16: true, featHPDS: false, featXNX: false, featTTST: false, hafdbs: 0 },   // 8-bit VMID, no v8.1+ features (no HAFDBS: platforms.md §1); PARange 42 est.
    attrs: { featXS: false, featMTE2: false },
  },
  hyp: { policy: 'cacheable-pfnmap', cmo: 'clean-on-s2-fault', trapCycles: 3000 },   // KVM on ARMv8.0 cleans on stage-2 faults; trap cost assumed
  smmu: {
    config: { cohacc: false, fwb: false, stLevel: 0, cd2l: false },   // assumed: X-Gene 1 predates SMMUv3; a non-coherent, linear-table SMMUv3 stands in for its non-coherent I/O
    dma: { translateCycles: 8, descriptorReadCycles: 60, beatCycles: 4, beatBytes: 64, stallPollCycles: 100, outstandingBeats: 8 },
  },
  interconnect: {
    latency: 16,                 // CSW request path, assumed (charged twice per round trip); chosen with l3.hitLatency to put L3 hits at ~65 cycles [X3]
    bytesPerCycle: 16,           // assumed: half of CMN-600's 32 B flit, an older switch
    queueDepth: 32,              // assumed
  },
  // Four DDR3 MCUs behind two MCBs [X2][X1] -> 4 channels, taken as DDR3-1600 (51.2 GB/s peak for 4
  // channels; the speed grade is unverified, est. in platforms.md §1). DDR3 timings are not in
  // platforms.md: DDR4_3200 gives the structure (rank, row, bus, BL8, controller policy) and the
  // timings below are the JEDEC JESD79-3 DDR3-1600K (11-11-11) values for a 1 KB page and 4 Gb parts,
  // in nCK of the 800 MHz DRAM clock (est.: quoted from the standard's speed-bin and timing tables,
  // not re-checked here). Without them DDR4_3200's nCK values would stand in.
  dram: {
    ...DDR4_3200,
    channels: 4,                 // 4 MCUs [X2][X1]
    bankGroups: 1,               // DDR3 has no bank groups...
    banksPerGroup: 8,            // ...and 8 banks
    clockRatio: 3,               // 2.4 GHz core over the 800 MHz DDR3-1600 clock
    tCL: 11, tCWL: 8, tRCD: 11, tRP: 11,   // DDR3-1600K: CL 11 (13.75 ns), CWL 8
    tRAS: 28,                    // 35 ns
    tRRD_S: 5, tRRD_L: 5,        // max(4 nCK, 6 ns), 1 KB page; no groups, so S = L
    tFAW: 24,                    // 30 ns, 1 KB page
    tCCD_S: 4, tCCD_L: 4,        // 4 nCK
    tWR: 12,                     // 15 ns
    tWTR_S: 6, tWTR_L: 6,        // max(4 nCK, 7.5 ns)
    tRTP: 6,                     // max(4 nCK, 7.5 ns)
    tRFC: 208,                   // 4 Gb: 260 ns
    tREFI: 6240,                 // 7.8 us
    // ~100 ns load-to-use est. in platforms.md §1 ("the slowest memory controller" of those tested [X3]).
    // DDR4_3200's static latencies (32/32) are raised so that a closed-row miss sums to ~240 cycles =
    // 100 ns (est.): L1 tag 2 + L2 tag 5 + up 8 + L3 tag 8 + home node 16 + 57 + ACT/RD (11+11+4 nCK x 3) 78
    // + 57 + down 8.
    frontendLatency: 57,
    backendLatency: 57,
  },
  memory: {
    regions: {
      ram: {
        // Mustang memory node at 0x1_0000_0000 (apm-mustang.dts next to [X1]; the size there is a
        // placeholder the bootloader updates); 16 GiB assumed, a typical Mustang fit.
        kind: 'dram', base: 0x1_0000_0000, size: 16 * GiB,
        mteTags: false,          // no MTE on v8.0 (platforms.md §1 features)
        ncAtomics: 'far',        // moot on v8.0 (core.featLSE false: LSE atomics are UNDEFINED; NC exclusives use the global monitor); 'far' assumed
        globalMonitor: true, linearMap: true, latency: 0,
      },
      'soc-csr': {
        // SoC registers 0x1000_0000-0x7fff_ffff: clocks 0x1700_0000, GIC 0x7801_0000, CSW 0x7e20_0000,
        // EDAC 0x7e80_0000, PCIe controllers 0x1f2b_0000 [X1]. Latency assumed (an uncached register read).
        kind: 'device', base: 0x1000_0000, size: 0x7000_0000,
        mteTags: false, ncAtomics: 'abort', globalMonitor: false, linearMap: false, latency: 200,
      },
    },
  },
  sim: { requestSlots: 4096, watchdogCycles: 1_000_000 },
};
