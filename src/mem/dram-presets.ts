import type { DramConfig } from './dram.js';

/**
 * Named DRAM presets. Timings are in DRAM clocks (nCK) of the part's speed bin.
 *
 * Sources:
 * [J]  JEDEC JESD79-4B (DDR4 SDRAM), DDR4-3200AA speed bin (22-22-22, tCK = 0.625 ns) and the
 *      8Gb timing tables; nCK values are the ns values divided by tCK and rounded up.
 * [D3] DRAMSim3, configs/DDR4_8Gb_x8_3200.ini (umd-memsys/DRAMsim3), which lists the same nCK values.
 * [G5] gem5 src/mem/MemCtrl.py and DRAMInterface.py (controller defaults).
 */

/**
 * One 64-bit DDR4-3200AA channel, single rank of eight x8 8Gb devices.
 * The default mapping 'RoRaBaCoBgCh' puts the channel, then the bank group, in the lowest bits above
 * the 64-byte burst, so a sequential stream spreads over channels and alternates bank groups
 * (column commands spaced by tCCD_S = one burst, not tCCD_L) while staying in open rows: peak bandwidth.
 */
export const DDR4_3200: Readonly<DramConfig> = Object.freeze({
  channels: 1,
  ranks: 1,                // assumed: a single-rank DIMM
  bankGroups: 4,           // [J] x4/x8 devices: 4 bank groups
  banksPerGroup: 4,        // [J] 4 banks per bank group (16 banks)
  rowBytes: 8192,          // [J] x8 page size 1 KB (1K columns x 8 bits) x 8 devices per rank
  busBytes: 8,             // 64-bit channel (no ECC byte lane modelled)
  burstLength: 8,          // [J] BL8
  clockRatio: 2,           // assumed: a 3.2 GHz core over the 1.6 GHz DDR4-3200 clock
  tCL: 22,                 // [J][D3] CL = 22 for DDR4-3200AA
  tCWL: 16,                // [J][D3] CWL = 16 (1tCK write preamble set)
  tRCD: 22,                // [J][D3] 13.75 ns
  tRP: 22,                 // [J][D3] 13.75 ns
  tRAS: 52,                // [J][D3] 32 ns
  tRRD_S: 4,               // [J][D3] 1 KB page: max(4 nCK, 2.5 ns)
  tRRD_L: 8,               // [J][D3] 1 KB page: max(4 nCK, 4.9 ns)
  tFAW: 34,                // [J][D3] 1 KB page: 21 ns
  tCCD_S: 4,               // [J][D3] 4 nCK
  tCCD_L: 8,               // [J][D3] max(5 nCK, 5 ns)
  tWR: 24,                 // [J][D3] 15 ns
  tWTR_S: 4,               // [J][D3] max(2 nCK, 2.5 ns)
  tWTR_L: 12,              // [J][D3] max(4 nCK, 7.5 ns)
  tRTP: 12,                // [J][D3] max(4 nCK, 7.5 ns)
  tRFC: 560,               // [J][D3] 8Gb tRFC1 = 350 ns
  tREFI: 12480,            // [J][D3] 7.8 us (0-85 C)
  refresh: true,
  queueDepth: 64,          // [G5] DDR4_2400_16x4 read_buffer_size = 64 (one shared queue here)
  scheduler: 'fr-fcfs',    // [G5] mem_sched_policy default 'frfcfs'
  pagePolicy: 'open',      // [D3] row_buf_policy = OPEN_PAGE
  mapping: 'RoRaBaCoBgCh',
  frontendLatency: 32,     // [G5] static_frontend_latency 10 ns = 32 cycles at 3.2 GHz (clock assumed as above)
  backendLatency: 32,      // [G5] static_backend_latency 10 ns = 32 cycles at 3.2 GHz
});
