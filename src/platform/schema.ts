import { z } from 'zod';
import { zAddress, zInt, zPow2, zSize } from '../sim/config.js';

/**
 * The platform configuration: everything a run is built from. Presets (presets/*.ts) give every
 * field; users override with `--config file` and `--set a.b=c`. Unknown keys and out-of-range
 * values are rejected before anything is built.
 */

const region = z.strictObject({
  kind: z.enum(['dram', 'device', 'cacheable-device']),
  base: zAddress,
  size: zSize,
  /** Has MTE tag storage. */
  mteTags: z.boolean(),
  /** Atomics on the region through a non-cacheable mapping: far (home node / memory controller), abort, unsupported. */
  ncAtomics: z.enum(['far', 'abort', 'unsupported']),
  /** A global exclusive monitor covers the region. */
  globalMonitor: z.boolean(),
  /** In the host kernel's linear map (the PFNs have struct pages). */
  linearMap: z.boolean(),
  /** Device and cacheable-device regions: access latency in core cycles. */
  latency: zInt(0, 1_000_000),
});

export const DramSchema = z.strictObject({
  channels: zPow2(1, 64),
  ranks: zPow2(1, 8),
  bankGroups: zPow2(1, 8),
  banksPerGroup: zPow2(1, 16),
  rowBytes: zPow2(256, 65536),
  busBytes: zPow2(1, 64),
  burstLength: zPow2(2, 32),
  clockRatio: zInt(1, 64),
  tCL: zInt(1, 200), tCWL: zInt(1, 200), tRCD: zInt(1, 200), tRP: zInt(1, 200), tRAS: zInt(1, 400),
  tRRD_S: zInt(1, 100), tRRD_L: zInt(1, 100), tFAW: zInt(1, 400), tCCD_S: zInt(1, 100), tCCD_L: zInt(1, 100),
  tWR: zInt(1, 200), tWTR_S: zInt(1, 100), tWTR_L: zInt(1, 100), tRTP: zInt(1, 100),
  tRFC: zInt(1, 10_000), tREFI: zInt(100, 1_000_000),
  refresh: z.boolean(),
  queueDepth: zInt(1, 1024),
  scheduler: z.enum(['fr-fcfs', 'fcfs']),
  pagePolicy: z.enum(['open', 'closed']),
  mapping: z.enum(['RoRaBaBgCoCh', 'RoRaBaCoBgCh', 'ChRoRaBaBgCo']),
  frontendLatency: zInt(0, 10_000),
  backendLatency: zInt(0, 10_000),
});

export const PlatformSchema = z.strictObject({
  /** One-line description shown by `armsim list`. */
  description: z.string(),
  core: z.strictObject({
    count: zInt(1, 256),
    /** Core clock; every time in the simulator is in cycles of this clock. */
    freqMHz: zInt(100, 10_000),
    /** Memory ops outstanding per PE. */
    window: zInt(1, 256),
    issueWidth: zInt(1, 16),
    isbCycles: zInt(0, 10_000),
    /** Unit of same-address ordering and of splitting accesses that cross it. */
    lineBytes: zPow2(16, 256),
  }),
  interconnect: z.strictObject({
    latency: zInt(0, 10_000),
    bytesPerCycle: zInt(1, 4096),
    queueDepth: zInt(1, 4096),
  }),
  dram: DramSchema,
  memory: z.strictObject({
    regions: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), region),
  }),
  sim: z.strictObject({
    /** Requests in flight in the whole system at once. */
    requestSlots: zInt(16, 1 << 20),
    /** Cycles without progress after which the watchdog ends the run. */
    watchdogCycles: zInt(1000, Number.MAX_SAFE_INTEGER),
  }),
});

export type PlatformConfig = z.infer<typeof PlatformSchema>;
export type RegionConfig = z.infer<typeof region>;
