import { z } from 'zod';
import { zAddress, zInt, zPow2, zSize } from '../sim/config.js';
import { UserError } from '../sim/errors.js';

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
  /** Without a global monitor, a store-exclusive through a non-cacheable mapping fails (always; the default) or aborts. */
  exclusivesWithoutMonitor: z.enum(['fail', 'abort']).optional(),
  /** In the host kernel's linear map (the PFNs have struct pages). */
  linearMap: z.boolean(),
  /** Device and cacheable-device regions: access latency in core cycles. */
  latency: zInt(0, 1_000_000),
  /** Where DC CVAP takes the region's lines: poc (the default) or memory (persistent memory past a system cache). */
  pointOfPersistence: z.enum(['poc', 'memory']).optional(),
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

const replacement = z.enum(['lru', 'plru', 'random']);
const inclusion = z.enum(['inclusive', 'exclusive', 'non-inclusive']);

/** One cache level's geometry, policy and timing. */
const cacheLevel = {
  sizeBytes: zSize,
  ways: zInt(1, 256),
  replacement,
  /** Cycles from the request reaching this level to its data on a hit (tag and data). */
  hitLatency: zInt(0, 10_000),
  /** Cycles this level spends finding a miss before the request goes on. */
  tagLatency: zInt(0, 10_000),
  /** Line fills outstanding at once; a miss waits while every one is busy. */
  mshrs: zInt(1, 4096),
};

/** A level below the L1s: how it relates to the levels above and what write-backs do to it. */
const outerLevel = {
  ...cacheLevel,
  inclusion,
  /** A write-back from above that misses here allocates the line (else it goes on down). */
  writebackAllocate: z.boolean(),
  /** A write-back from above that hits here counts as a use for replacement. */
  writebackTouches: z.boolean(),
  /** Data-port bandwidth for lines sent up (fills of the level above); absent = unlimited. */
  bytesPerCycle: zInt(1, 4096).optional(),
  /**
   * Write-back buffer entries: a victim this level writes back to memory holds one until memory
   * acknowledges the write, and while none is free the PEs this level serves start no access
   * that could miss (as with full MSHRs). Absent = unbounded (write-backs never hold anything up).
   */
  writebackBuffer: zInt(1, 4096).optional(),
};

export const CacheSchema = z.strictObject({
  /** The line size of every level, and the unit of same-address ordering and of access splitting. */
  lineBytes: zPow2(16, 256),
  l1i: z.strictObject(cacheLevel),
  l1d: z.strictObject(cacheLevel),
  l2: z.strictObject({
    ...outerLevel,
    /** PEs sharing one L2 (a cluster); 1 = a private L2 per PE. The last cluster may be partial (core.count=1 on X-Gene). */
    clusterSize: zInt(1, 256),
  }),
  l3: z.strictObject({
    ...outerLevel,
    /**
     * `none`; `before-poc`: an external cache above the point of coherency that NC/Device accesses
     * bypass, set/way operations cannot reach, and only maintenance by VA to PoC cleans (X-Gene 1);
     * `system-cache`: at the point of coherency, passed by every access, transparent to software.
     */
    kind: z.enum(['none', 'before-poc', 'system-cache']),
  }),
  /** Hardware prefetchers: `none`, or a next-line prefetcher in every L2. */
  prefetch: z.enum(['none', 'next-line']),
  /** Coherence protocol among the L2s: MOESI keeps a dirty line shared (O), MESI writes it back. */
  protocol: z.enum(['moesi', 'mesi']),
  /** Cycles for a snoop to reach another cluster's caches and its answer to come back. */
  snoopLatency: zInt(0, 10_000),
  /** CTR_EL0.IDC: data-cache clean to PoU is not needed for instruction-to-data coherence. */
  idc: z.boolean(),
  /** CTR_EL0.DIC: instruction-cache invalidation to PoU is not needed (the L1I snoops stores). */
  dic: z.boolean(),
  /** DC ZVA block size (DCZID_EL0.BS = log2(bytes / 4)). */
  zvaBytes: zPow2(4, 2048),
  /** Stats naming: `arm` (system.cpuN.l2, system.l3) or `cachegrind` (the L2 is system.ll). */
  naming: z.enum(['arm', 'cachegrind']),
});

const tlbGeometry = z.strictObject({ entries: zInt(1, 1 << 16), ways: zInt(1, 256) });

/** The MMU of every PE (see src/mmu/pe-mmu.ts). */
export const MmuSchema = z.strictObject({
  /**
   * `flat`: addresses are physical and attributes come with each access or its region (trace
   * replay, the cache scenarios). `vmsa`: every access is a VA translated by the PE's MMU as the
   * system registers say (out of reset: stage 1 off, so data accesses are Device-nGnRnE).
   */
  translation: z.enum(['flat', 'vmsa']),
  /** EL2 is implemented (stage 2, HCR_EL2, the hypervisor's own regime). */
  el2: z.boolean(),
  /** FEAT_S2FWB: HCR_EL2.FWB is writable (RES0 without it). */
  featS2FWB: z.boolean(),
  l1d: tlbGeometry,
  l1i: tlbGeometry,
  l2: z.strictObject({ entries: zInt(1, 1 << 16), ways: zInt(1, 256), hitCycles: zInt(0, 1000) }),
  /** Entries of the walk cache (intermediate table descriptors of both stages, fully associative: at most 256); 0 = none. */
  walkCacheEntries: zInt(0, 256),
  /** Cycles a TLBI costs at the DSB that completes it. */
  tlbiCycles: zInt(0, 100_000),
  /** Extra cycles for a broadcast (IS) TLBI to reach every PE and be acknowledged. */
  tlbiBroadcastCycles: zInt(0, 1_000_000),
  /** IPAS2E1 also removes combined stage-1+2 entries (the Arm ARM lets a TLB keep them until VMALLE1). */
  ipaInvalidatesCombined: z.boolean(),
  /** Cycles an exception entry or return costs. */
  exceptionCycles: zInt(0, 100_000),
  /** Implementation limits and choices (mmu/regime.ts MmuFeatures): paBits, granules, featLPA, featVMID16, ... */
  features: z.record(z.string(), z.unknown()),
  /** CONSTRAINED UNPREDICTABLE choices of the attribute logic (mmu/attrs.ts AttrOptions). */
  attrs: z.record(z.string(), z.unknown()),
});
export type MmuPlatformConfig = z.infer<typeof MmuSchema>;

/** The hypervisor model (src/hyp): what it maps on a stage-2 fault, and how it cleans. */
export const HypSchema = z.strictObject({
  /** Stage-2 attribute policy: legacy | wc | cacheable-pfnmap-v2 | cacheable-pfnmap (see src/hyp/policies). */
  policy: z.enum(['legacy', 'wc', 'cacheable-pfnmap-v2', 'cacheable-pfnmap']),
  /** Cache-maintenance strategy for guest memory (see src/hyp/hypervisor.ts CMO_STRATEGIES). */
  cmo: z.enum(['none', 'clean-all-at-start', 'clean-on-s2-fault', 'vmm-clean-loaded', 'set-way-at-start', 'hcr-dc', 'fwb']),
  /** Cycles of hypervisor software per stage-2 fault, beyond exception entry/return and the handler's memory ops. */
  trapCycles: zInt(0, 10_000_000),
  /** How dirty logging records guest writes (src/hyp/hypervisor.ts DIRTY_LOG_MODES): 'wp' (default, KVM) or 'dbm' (FEAT_HAFDBS). */
  dirtyLog: z.enum(['wp', 'dbm']).optional(),
});

/** An SMMUv3 in front of the platform's DMA masters (src/smmu): what it implements and the DMA master's timing. */
export const SmmuPlatformSchema = z.strictObject({
  /** SmmuConfig overrides (src/smmu/config.ts, checked by resolveSmmuConfig): cohacc, s1p, s2p, stallModel, tlbEntries, ... */
  config: z.record(z.string(), z.unknown()),
  /**
   * Where the translation engine runs (src/smmu/host.ts): 0 on the simulation's thread, 1 in a
   * worker thread (piscina). Results are byte-identical either way; only host time differs.
   * Default 0. `armsim run --smmu-threads N` sets it.
   */
  threads: z.union([z.literal(0), z.literal(1)]).optional(),
  /** Cycles the SMMU spends on each command after a CMDQ_PROD doorbell (default 16, assumed; src/smmu/host.ts doorbell). */
  commandCycles: zInt(1, 1_000_000).optional(),
  /** The DMA master's timing (src/smmu/dma.ts DmaConfig). */
  dma: z.strictObject({
    translateCycles: zInt(0, 100_000),
    descriptorReadCycles: zInt(0, 100_000),
    beatCycles: zInt(0, 100_000),
    beatBytes: zPow2(16, 4096),
    stallPollCycles: zInt(1, 1_000_000),
    outstandingBeats: zInt(1, 64).optional(),
  }),
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
    /**
     * FEAT_LSE (ARMv8.1 atomics: LDADD, LDCLR, LDEOR, LDSET, SWP, CAS and their forms). Without
     * it they are UNDEFINED: the PE takes an Undefined Instruction exception (ESR EC 0x00) and
     * ID_AA64ISAR0_EL1.Atomic reads 0. Mandatory from ARMv8.1; absent = true.
     */
    featLSE: z.boolean().optional(),
    /**
     * FEAT_LSE2 (ARMv8.4): an LSE atomic to Normal memory that stays inside a 16-byte block need
     * not be aligned to its size (Device memory and exclusives still need alignment). Absent = false.
     */
    featLSE2: z.boolean().optional(),
    /** FEAT_DPB (DC CVAP, ARMv8.2). Without it DC CVAP is UNDEFINED and ID_AA64ISAR1_EL1.DPB reads 0. Absent = true. */
    featDPB: z.boolean().optional(),
  }),
  cache: CacheSchema,
  mmu: MmuSchema,
  hyp: HypSchema,
  /** Optional: platforms without it have no SMMU (System.smmu refuses). */
  smmu: SmmuPlatformSchema.optional(),
  interconnect: z.strictObject({
    latency: zInt(0, 10_000),
    /**
     * Early write acknowledgement: a write whose memory type permits it (Normal, Device-nGnRE and
     * weaker) is acknowledged when the interconnect takes it, not when the target performs it.
     * IMPLEMENTATION DEFINED; default true. Device-nGnRnE writes always wait for the target.
     */
    postedWrites: z.boolean().optional(),
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
export type CacheConfig = z.infer<typeof CacheSchema>;
export type CacheLevelName = 'l1i' | 'l1d' | 'l2' | 'l3';

/** A set count: a positive integer power of two (checked before any bit test, which would wrap past 2^31). */
const powerOfTwo = (n: number): boolean => Number.isInteger(n) && n >= 1 && Number.isInteger(Math.log2(n));

/**
 * Checks what one field's schema cannot: geometries that must divide evenly, cluster sizes that
 * must divide the PE count. Throws a one-line UserError naming the field.
 */
export function checkPlatform(cfg: PlatformConfig): void {
  const c = cfg.cache;
  const levels: CacheLevelName[] = c.l3.kind === 'none' ? ['l1i', 'l1d', 'l2'] : ['l1i', 'l1d', 'l2', 'l3'];
  for (const name of levels) {
    const l = c[name];
    const setBytes = l.ways * c.lineBytes;
    const sets = l.sizeBytes / setBytes;
    if (!(powerOfTwo(sets) && sets <= 2 ** 30)) {
      throw new UserError(`config: cache.${name}.sizeBytes must be ways (${l.ways}) x lineBytes (${c.lineBytes}) x a power-of-two number of sets (got ${l.sizeBytes})`);
    }
  }
  for (const name of levels) {
    // Tree-PLRU keeps one bit per node of a binary tree over the ways.
    const l = c[name];
    if (l.replacement === 'plru' && !powerOfTwo(l.ways)) {
      throw new UserError(`config: cache.${name}.replacement: plru needs a power-of-two number of ways (cache.${name}.ways = ${l.ways}); use lru or random`);
    }
  }
  for (const name of ['l1i', 'l1d', 'l2'] as const) {
    // CCSIDR_EL1 without FEAT_CCIDX: NumSets [27:13] and Associativity [12:3] bound the levels CLIDR lists.
    const l = c[name];
    const sets = l.sizeBytes / (l.ways * c.lineBytes);
    if (sets > 32768 || l.ways > 1024) {
      throw new UserError(`config: cache.${name}.sizeBytes must give at most 32768 sets of at most 1024 ways (CCSIDR_EL1 without FEAT_CCIDX) (got ${sets} sets of ${l.ways} ways)`);
    }
  }
  for (const name of ['l1d', 'l1i', 'l2'] as const) {
    const t = cfg.mmu[name], sets = t.entries / t.ways;
    if (!powerOfTwo(sets)) {
      throw new UserError(`config: mmu.${name}.entries must be ways (${t.ways}) x a power-of-two number of sets (got ${t.entries})`);
    }
  }
  const burst = cfg.dram.busBytes * cfg.dram.burstLength;
  if (c.lineBytes > burst) {
    throw new UserError(`config: cache.lineBytes must be at most one DRAM burst, dram.busBytes x dram.burstLength = ${burst} (got ${c.lineBytes}); raise dram.burstLength or lower the line size`);
  }

}
