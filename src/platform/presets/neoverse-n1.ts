import { DDR4_3200 } from '../../mem/dram-presets.js';
import type { PlatformConfig } from '../schema.js';

const KiB = 1024, MiB = 1024 ** 2, GiB = 1024 ** 3;

/**
 * Neoverse N1, after Ampere Altra (see ../shared/reference/platforms.md §2 for sources).
 * 64 KiB L1s, a private 1 MiB L2, a 32 MiB system-level cache at the PoC in the CMN-600 home
 * nodes, and eight DDR4-3200 channels.
 */
export const NEOVERSE_N1: PlatformConfig = {
  description: 'Arm Neoverse N1 (Ampere Altra-like): 80 PEs, CMN-600 mesh, 8x DDR4-3200',
  core: {
    count: 80,                   // Altra Q80 [N8]
    freqMHz: 3200,               // Altra tops at 3.3 GHz [N8]; 3.2 GHz keeps the DDR4-3200 clock an integer ratio (assumed)
    window: 20,                  // ~20 outstanding L1D misses (A76 lineage, est. in platforms.md)
    issueWidth: 2,               // two load/store pipes (A76/N1 lineage), assumed
    isbCycles: 12,               // assumed: pipeline refill after a context synchronization
    featLSE: true,               // ID_AA64ISAR0_EL1.Atomic = 2 [N3][N1] (platforms.md §2)
    featDPB: true,               // DPB present [N3][N1] (platforms.md §2)
    featLSE2: false,             // ARMv8.2: FEAT_LSE2 is ARMv8.4
  },
  cache: {
    lineBytes: 64,               // [N1]
    // 64 KiB 4-way L1s, 4-cycle L1D load-to-use [N1][N4][N7]; L1I latency assumed equal.
    l1i: { sizeBytes: 64 * KiB, ways: 4, replacement: 'plru', hitLatency: 4, tagLatency: 2, mshrs: 8 },
    l1d: { sizeBytes: 64 * KiB, ways: 4, replacement: 'plru', hitLatency: 4, tagLatency: 2, mshrs: 20 },
    // Private 1 MiB 8-way L2, 11 cycles at 1 MiB [N1][N4][N7]; 46 outstanding (assumed, A76 lineage).
    l2: {
      sizeBytes: 1 * MiB, ways: 8, replacement: 'plru', hitLatency: 11, tagLatency: 5, mshrs: 46,
      inclusion: 'inclusive', writebackAllocate: true, writebackTouches: true, clusterSize: 1,
      writebackBuffer: 16,       // assumed: victims on their way to memory (none with an L3 taking them)
      bytesPerCycle: 32,         // assumed: half a line per cycle to the L1D (19.3 B/cycle measured single-thread [N10])
    },
    // 32 MiB SLC in the CMN-600 HN-Fs, at the PoC, not in CLIDR [N8][N11][N13]; 16-way assumed;
    // ~30 cycles beyond the interconnect (28-33 quoted, est.).
    l3: {
      kind: 'system-cache', sizeBytes: 32 * MiB, ways: 16, replacement: 'lru', hitLatency: 30, tagLatency: 8, mshrs: 256,
      inclusion: 'non-inclusive', writebackAllocate: true, writebackTouches: true,
      writebackBuffer: 64,       // assumed: a quarter of the fill trackers (mshrs)
    },
    prefetch: 'none',            // the N1's prefetchers are not modelled yet
    protocol: 'moesi',           // CHI: UD/SD/UC/SC/I
    snoopLatency: 40,            // assumed: a cross-mesh snoop and data return
    idc: true, dic: false,       // Altra EL0 view 0x9444C004 [N3][L1]; the TRM reset value has IDC=0 [N1]
    zvaBytes: 64,                // DCZID_EL0 = 0x4 [N1][N2]
    naming: 'arm',
  },
  mmu: {
    translation: 'flat',         // scenarios that model software set 'vmsa'
    el2: true, featS2FWB: false, // ARMv8.2: FEAT_S2FWB is v8.4
    // L1 ITLB/DTLB 48 entries fully associative, 1-cycle hit; L2 TLB 1280 entries 5-way, ~3 cycles [N5] (platforms.md §2)
    l1d: { entries: 48, ways: 48 }, l1i: { entries: 48, ways: 48 },
    l2: { entries: 1280, ways: 5, hitCycles: 3 },
    walkCacheEntries: 64,        // the L2 TLB also holds walk entries [N5]; a separate 64 assumed
    tlbiCycles: 20,              // assumed
    tlbiBroadcastCycles: 200,    // assumed: a DVM message across the CMN-600 mesh and its completion
    ipaInvalidatesCombined: false,
    exceptionCycles: 30,         // assumed
    features: { paBits: 48, featVMID16: true, asid16: true, featHPDS: true, featXNX: true, hafdbs: 2 },   // PARange 48 bits [N3 ID_AA64MMFR0]; ID_AA64MMFR1 0x10212122: HAFDBS=2 (AF + dirty), 16-bit VMID, HPDS, XNX [N1][N3] (platforms.md §2)
    attrs: { featMTE2: false },  // no MTE on N1 (ARMv8.2)
  },
  hyp: { policy: 'cacheable-pfnmap', cmo: 'clean-on-s2-fault', trapCycles: 3000 },   // KVM today on a part without FWB; trap cost assumed (~1 us)
  smmu: {
    config: { cohacc: true, fwb: false },   // MMU-600-class SMMUv3.1 on the CMN-600 (Altra): IO-coherent, no S2FWB (a v3.2 feature); DMA timing assumed (src/smmu/dma.ts)
    dma: { translateCycles: 8, descriptorReadCycles: 60, beatCycles: 4, beatBytes: 64, stallPollCycles: 100, outstandingBeats: 8 },
  },
  interconnect: {
    latency: 30,                 // CMN-600 request path, assumed: SLC latency is 28-33 core cycles [platforms.md §2, est.]
    bytesPerCycle: 32,           // CMN-600 data flit 32 B per mesh cycle (assumed); mesh at 1.8 GHz is slower than the core
    queueDepth: 64,              // assumed
  },
  dram: { ...DDR4_3200, channels: 8 },   // 8x DDR4-3200 [N8]
  memory: {
    regions: {
      ram: {
        kind: 'dram', base: 0x80_0000_0000, size: 64 * GiB,   // base assumed (Altra puts DRAM high); size = a typical host slice
        mteTags: false, ncAtomics: 'far', globalMonitor: true, linearMap: true, latency: 0,
      },
      'pcie-mmio': {
        kind: 'device', base: 0x4000_0000, size: 1 * GiB,      // assumed 32-bit PCIe window
        mteTags: false, ncAtomics: 'abort', globalMonitor: false, linearMap: false, latency: 200,
      },
    },
  },
  sim: { requestSlots: 8192, watchdogCycles: 1_000_000 },
};
