import { DDR4_3200 } from '../../mem/dram-presets.js';
import type { PlatformConfig } from '../schema.js';

const GiB = 1024 ** 3;

/**
 * Neoverse N1, after Ampere Altra (see ../shared/reference/platforms.md §2 for sources).
 * The cache hierarchy (64 KiB L1s, 1 MiB private L2, 32 MiB SLC at the PoC) arrives with the
 * cache issue; this slice models the PEs, the CMN-600 home node and eight DDR4-3200 channels.
 */
export const NEOVERSE_N1: PlatformConfig = {
  description: 'Arm Neoverse N1 (Ampere Altra-like): 80 PEs, CMN-600 mesh, 8x DDR4-3200',
  core: {
    count: 80,                   // Altra Q80 [N8]
    freqMHz: 3200,               // Altra tops at 3.3 GHz [N8]; 3.2 GHz keeps the DDR4-3200 clock an integer ratio (assumed)
    window: 20,                  // ~20 outstanding L1D misses (A76 lineage, est. in platforms.md)
    issueWidth: 2,               // two load/store pipes (A76/N1 lineage), assumed
    isbCycles: 12,               // assumed: pipeline refill after a context synchronization
    lineBytes: 64,               // [N1]
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
