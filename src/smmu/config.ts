/**
 * What an SMMU implements (its ID registers) and the sizes of its caches: `SmmuConfig`, checked
 * once by `resolveSmmuConfig` (unknown keys and bad values are one-line `UserError`s naming the
 * field), and the IDR0/IDR1/IDR3/IDR5 values software reads.
 *
 * ID register fields: Linux arm-smmu-v3.h `IDR0_*`, `IDR1_*`, `IDR3_RIL`, `IDR5_*`; QEMU
 * include/hw/arm/smmuv3-common.h `FIELD(IDR0..IDR5, ...)` (IDR3.FWB bit 8 from QEMU).
 * Defaults follow QEMU's `smmuv3_init_regs` where it has one (SIDSIZE 16, CMDQS/EVENTQS 19,
 * 4K/16K/64K granules, little-endian tables, ASID16/VMID16, RIL) and are otherwise assumed.
 */
import { UserError } from '../sim/index.js';
import type { PaBits } from '../mmu/index.js';

export interface SmmuConfig {
  /** IDR0.S1P / S2P: stages implemented. */
  readonly s1p: boolean;
  readonly s2p: boolean;
  /** IDR0.COHACC: SMMU accesses (walks, queues, DMA) can be IO-coherent. */
  readonly cohacc: boolean;
  /** IDR0.BTM: broadcast TLB maintenance from the PEs reaches the SMMU. */
  readonly btm: boolean;
  /** IDR0.HYP: EL2 stream world (STE.STRW=EL2) and CMD_TLBI_EL2_*. */
  readonly hyp: boolean;
  readonly ats: boolean;
  readonly pri: boolean;
  readonly msi: boolean;
  readonly sev: boolean;
  /** IDR0.STALL_MODEL: 0 stall and terminate, 1 terminate only, 2 stall forced. */
  readonly stallModel: 0 | 1 | 2;
  /** IDR0.TERM_MODEL: 1 = terminated transactions always abort (CD.A is then RES1). */
  readonly termModel: 0 | 1;
  /** IDR0.ST_LEVEL: 1 = 2-level stream tables supported. */
  readonly stLevel: 0 | 1;
  /** IDR0.CD2L: 2-level CD tables supported. */
  readonly cd2l: boolean;
  /** IDR1.SIDSIZE / SSIDSIZE (bits), EVENTQS / CMDQS / PRIQS (log2 entries, at most 19). */
  readonly sidSize: number;
  readonly ssidSize: number;
  readonly eventqs: number;
  readonly cmdqs: number;
  readonly priqs: number;
  /** IDR1.ATTR_TYPES_OVR / ATTR_PERMS_OVR: STE MTCFG/MemAttr/ALLOCCFG/SHCFG and PRIVCFG/INSTCFG honoured. */
  readonly attrTypesOvr: boolean;
  readonly attrPermsOvr: boolean;
  /** IDR3.FWB (SMMUv3.2 S2FWB), IDR3.RIL (range TLBI). */
  readonly fwb: boolean;
  readonly ril: boolean;
  /** IDR5.OAS as bits; IDR5.GRAN4K/16K/64K. */
  readonly oasBits: PaBits;
  readonly granules: readonly ('4K' | '16K' | '64K')[];
  /** IOTLB geometry (each of the NS-EL1, EL2 and stage-2-only TLBs). gem5 SMMUv3.py: 2048 entries 4-way. */
  readonly tlbEntries: number;
  readonly tlbWays: number;
  /** Walk cache entries (fully associative), assumed; 0 = no walk cache. */
  readonly walkCacheEntries: number;
  /** Configuration cache capacity: STEs and CDs (gem5: 64 entries; CDs assumed 4x). */
  readonly steCacheEntries: number;
  readonly cdCacheEntries: number;
  /**
   * A range TLBI (TG != 0) covering more pages than this is applied as the whole ASID/VMID scope
   * (removing more than asked is always allowed). Assumed.
   */
  readonly maxRangePages: number;
  /**
   * PE broadcast TLBIs by VA or ASID (IDR0.BTM) leave the IOTLB entries of contexts with CD.ASET=1
   * (ASIDs not shared with the PEs; IHI 0070 CD.ASET: not required to be invalidated by them).
   * false: they remove those entries too, which is also allowed. Default true, assumed.
   */
  readonly asetOptOut: boolean;
  /**
   * IDR0.HTTU: hardware translation table update (FEAT_HAFDBS for the SMMU's walks): 0 none, 1
   * Access flag (CD.HA, STE.S2HA), 2 also dirty state (CD.HD, STE.S2HD). Each update is an 8-byte
   * compare-and-swap of the descriptor at the read's cycle. Default 0.
   */
  readonly httu: 0 | 1 | 2;
}

export const DEFAULT_SMMU_CONFIG: SmmuConfig = Object.freeze({
  s1p: true, s2p: true, cohacc: true, btm: false, hyp: true, ats: false, pri: false, msi: true, sev: true,
  stallModel: 0, termModel: 0, stLevel: 1, cd2l: true,
  sidSize: 16, ssidSize: 20, eventqs: 19, cmdqs: 19, priqs: 0,
  attrTypesOvr: true, attrPermsOvr: true, fwb: true, ril: true,
  oasBits: 48, granules: Object.freeze(['4K', '16K', '64K'] as const),
  tlbEntries: 2048, tlbWays: 4, walkCacheEntries: 256, steCacheEntries: 64, cdCacheEntries: 256, maxRangePages: 512, asetOptOut: true,
  httu: 0,
} as SmmuConfig);

const BOOLS = ['s1p', 's2p', 'cohacc', 'btm', 'hyp', 'ats', 'pri', 'msi', 'sev', 'cd2l', 'attrTypesOvr', 'attrPermsOvr', 'fwb', 'ril', 'asetOptOut'];
const INTS: Record<string, [number, number]> = {
  stallModel: [0, 2], termModel: [0, 1], stLevel: [0, 1], sidSize: [0, 32], ssidSize: [0, 20], eventqs: [0, 19], cmdqs: [0, 19],
  priqs: [0, 19], tlbEntries: [1, 1 << 20], tlbWays: [1, 256], walkCacheEntries: [0, 1 << 16], steCacheEntries: [1, 1 << 20],
  cdCacheEntries: [1, 1 << 20], maxRangePages: [1, 1 << 20], httu: [0, 2],
};

/** Checks overrides once; unknown keys and bad values are `UserError`s naming `path.key`. */
export function resolveSmmuConfig(overrides: Record<string, unknown> = {}, path = 'smmu'): SmmuConfig {
  const out: Record<string, unknown> = { ...DEFAULT_SMMU_CONFIG };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in DEFAULT_SMMU_CONFIG)) throw new UserError(`${path}.${k}: unknown key; accepted: ${Object.keys(DEFAULT_SMMU_CONFIG).join(', ')}`);
    if (BOOLS.includes(k)) {
      if (typeof v !== 'boolean') throw new UserError(`${path}.${k}: expected true or false, got ${JSON.stringify(v)}`);
    } else if (k in INTS) {
      const [lo, hi] = INTS[k]!;
      if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) throw new UserError(`${path}.${k}: expected an integer ${lo}..${hi}, got ${JSON.stringify(v)}`);
    } else if (k === 'oasBits') {
      if (![32, 36, 40, 42, 44, 48].includes(v as number)) throw new UserError(`${path}.oasBits: expected one of 32, 36, 40, 42, 44, 48, got ${JSON.stringify(v)}`);
    } else if (k === 'granules') {
      if (!Array.isArray(v) || v.length === 0 || v.some((g) => !['4K', '16K', '64K'].includes(g as string))) {
        throw new UserError(`${path}.granules: expected a non-empty list of 4K, 16K, 64K, got ${JSON.stringify(v)}`);
      }
    }
    out[k] = v;
  }
  const c = out as unknown as SmmuConfig;
  if (!c.s1p && !c.s2p) throw new UserError(`${path}: at least one of s1p and s2p must be true`);
  if (c.tlbEntries % c.tlbWays !== 0 || !Number.isInteger(Math.log2(c.tlbEntries / c.tlbWays))) {
    throw new UserError(`${path}.tlbEntries: tlbEntries / tlbWays (${c.tlbEntries} / ${c.tlbWays}) must be a power of two`);
  }
  return Object.freeze({ ...c, granules: Object.freeze([...c.granules]) });
}

const OAS_CODE: Record<number, number> = { 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5, 52: 6 };
export const OAS_BITS = [32, 36, 40, 42, 44, 48, 52] as const;

/** IDR0 (Linux `IDR0_*`): S2P 0, S1P 1, TTF 3:2 (AArch64 = 2), COHACC 4, BTM 5, HTTU 7:6, HYP 9, ATS 10, ASID16 12, MSI 13, SEV 14, PRI 16, VMID16 18, CD2L 19, TTENDIAN 22:21 (LE = 2), STALL_MODEL 25:24, TERM_MODEL 26, ST_LEVEL 28:27. */
export function idr0(c: SmmuConfig): number {
  const b = (v: boolean, n: number): number => (v ? 1 : 0) * 2 ** n;
  return (b(c.s2p, 0) + b(c.s1p, 1) + 2 * 4 + b(c.cohacc, 4) + b(c.btm, 5) + c.httu * 2 ** 6 + b(c.hyp, 9) + b(c.ats, 10) + b(true, 12) + b(c.msi, 13)
    + b(c.sev, 14) + b(c.pri, 16) + b(true, 18) + b(c.cd2l, 19) + 2 * 2 ** 21 + c.stallModel * 2 ** 24 + c.termModel * 2 ** 26
    + c.stLevel * 2 ** 27) >>> 0;
}
/** IDR1 (Linux `IDR1_*`): SIDSIZE 5:0, SSIDSIZE 10:6, PRIQS 15:11, EVENTQS 20:16, CMDQS 25:21, ATTR_PERMS_OVR 26, ATTR_TYPES_OVR 27. */
export function idr1(c: SmmuConfig): number {
  return (c.sidSize + c.ssidSize * 2 ** 6 + c.priqs * 2 ** 11 + c.eventqs * 2 ** 16 + c.cmdqs * 2 ** 21
    + (c.attrPermsOvr ? 2 ** 26 : 0) + (c.attrTypesOvr ? 2 ** 27 : 0)) >>> 0;
}
/** IDR3 (QEMU `IDR3`): FWB 8, RIL 10. */
export const idr3 = (c: SmmuConfig): number => ((c.fwb ? 1 << 8 : 0) | (c.ril ? 1 << 10 : 0)) >>> 0;
/** IDR5 (Linux `IDR5_*`): OAS 2:0, GRAN4K 4, GRAN16K 5, GRAN64K 6. */
export const idr5 = (c: SmmuConfig): number =>
  (OAS_CODE[c.oasBits]! | (c.granules.includes('4K') ? 16 : 0) | (c.granules.includes('16K') ? 32 : 0) | (c.granules.includes('64K') ? 64 : 0)) >>> 0;
