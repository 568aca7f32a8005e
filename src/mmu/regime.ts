/**
 * The EL1&0 translation regime as the walker needs it: TCR_EL1, TTBR0/1_EL1, MAIR_EL1,
 * SCTLR_EL1, HCR_EL2, VTCR_EL2 and VTTBR_EL2 decoded once (when software writes them) into
 * plain numbers, plus the implementation limits a platform sets (`MmuFeatures`).
 *
 * Registers are given as 32-bit halves (`lo` = bits [31:0], `hi` = bits [63:32]).
 *
 * Sources: Arm ARM DDI 0487J.a D8.1-D8.2 "VMSAv8-64 translation table format" and the ASL
 * (AArch64.S1StartLevel, AArch64.S2StartLevel, AArch64.S2InvalidSL, AArch64.S2InconsistentSL,
 * AArch64.S1MinTxSZ / S2MinTxSZ / MaxTxSZ, AArch64.PAMax, AArch64.TTBaseAddress); cross-checked
 * against QEMU target/arm/ptw.c (check_s2_mmu_setup, get_phys_addr_lpae) and Linux kvm_arm.h.
 *
 * Not modelled: FEAT_LPA2 (TCR.DS, VTCR.DS/SL2 are treated as 0, which is what an implementation
 * without FEAT_LPA2 does), FEAT_D128, FEAT_E0PD, PAN, HCR_EL2.TGE=1 (rejected), E2H, AArch32
 * stage 1, SCTLR_EL1.EE (descriptors are little-endian), Secure/Realm state.
 */
import { UserError } from '../sim/index.js';
import {
  AccessKind, DEFAULT_ATTR_OPTIONS, decodeWalkAttrs, effectiveAttrs, s2TableWalkAttrs,
  type AttrContext, type AttrOptions,
} from './attrs.js';
import { POW2, levelShift, type GranuleBits, type GranuleName } from './descriptors.js';

// ---------------------------------------------------------------------------------------------
// Implementation limits
// ---------------------------------------------------------------------------------------------

export type PaBits = 32 | 36 | 40 | 42 | 44 | 48 | 52;

/** What the implementation supports (ID_AA64MMFR0/1/2_EL1) and the IMPLEMENTATION DEFINED choices of the walker. */
export interface MmuFeatures {
  /** ID_AA64MMFR0_EL1.PARange as a bit count. 52 needs `featLPA`. */
  readonly paBits: PaBits;
  /** Granules implemented (TGran4/16/64 and their stage-2 fields, assumed equal). At least one. */
  readonly granules: readonly GranuleName[];
  /**
   * Granule used when TG0/TG1 holds a reserved or unimplemented encoding
   * (`AArch64.S1DecodeTG0`/`S1DecodeTG1`/`S2DecodeTG0`: IMPLEMENTATION DEFINED). Must be implemented.
   */
  readonly reservedGranule: GranuleName;
  /** FEAT_LPA: 52-bit PA/IPA with the 64KB granule (OA[51:48] in descriptor bits [15:12], TTBR bits [5:2]). */
  readonly featLPA: boolean;
  /** FEAT_LVA: 52-bit VA with the 64KB granule (TxSZ down to 12). */
  readonly featLVA: boolean;
  /** FEAT_TTST: TxSZ up to 48 (4KB/16KB) or 47 (64KB); VTCR_EL2.SL0=3 with 4KB means level 3. */
  readonly featTTST: boolean;
  /** FEAT_XNX: stage-2 XN[1:0] distinguishes EL1 and EL0 execution. */
  readonly featXNX: boolean;
  /** FEAT_HPDS: TCR_EL1.HPD0/HPD1 disable the hierarchical permission bits of table descriptors. */
  readonly featHPDS: boolean;
  /** FEAT_VMID16: VTCR_EL2.VS=1 selects a 16-bit VMID. */
  readonly featVMID16: boolean;
  /** ID_AA64MMFR0_EL1.ASIDBits = 16: TCR_EL1.AS=1 selects a 16-bit ASID. */
  readonly asid16: boolean;
  /**
   * TxSZ (T0SZ/T1SZ/VTCR_EL2.T0SZ) below the minimum: IMPLEMENTATION DEFINED ("Fault on TxSZ
   * value below minimum") whether every access takes a level 0 Translation fault ('fault', QEMU's
   * choice) or the PE behaves as if TxSZ held the minimum ('clamp'). Always 'fault' at stage 1
   * with FEAT_LVA and at stage 2 with FEAT_LPA (AArch64.S1TxSZFaults / AArch64.S2TxSZFaults).
   */
  readonly txszBelowMin: 'fault' | 'clamp';
  /** TxSZ above the maximum: the same choice ("Fault on TxSZ value above maximum"). */
  readonly txszAboveMax: 'fault' | 'clamp';
  /**
   * A Contiguous bit whose span exceeds the input address range (AArch64.ContiguousBitFaults):
   * IMPLEMENTATION DEFINED "Translation fault on misprogrammed contiguous bit". Otherwise the bit
   * is only a hint.
   */
  readonly contiguousBitFault: boolean;
  /**
   * ID_AA64MMFR1_EL1.HAFDBS: 0 none, 1 hardware Access flag updates (FEAT_HAFDBS, TCR_EL1.HA /
   * VTCR_EL2.HA), 2 also dirty state (TCR_EL1.HD / VTCR_EL2.HD with a descriptor's DBM bit).
   */
  readonly hafdbs: 0 | 1 | 2;
  /**
   * With HA, whether a walk that ends in a Permission fault still sets the Access flag: CONSTRAINED
   * UNPREDICTABLE (AArch64.SettingAccessFlagPermitted, Unpredictable_AFUPDATE). Other faults never do.
   */
  readonly afUpdateOnPermissionFault: boolean;
}

export const DEFAULT_MMU_FEATURES: MmuFeatures = Object.freeze({
  paBits: 48,
  granules: Object.freeze(['4K', '16K', '64K'] as GranuleName[]),
  reservedGranule: '4K',
  featLPA: false,
  featLVA: false,
  featTTST: false,
  featXNX: true,
  featHPDS: true,
  featVMID16: true,
  asid16: true,
  txszBelowMin: 'fault',
  txszAboveMax: 'fault',
  contiguousBitFault: false,
  hafdbs: 0,
  afUpdateOnPermissionFault: false,
} as MmuFeatures);

const PA_BITS: readonly number[] = [32, 36, 40, 42, 44, 48, 52];
const GRANULE_NAMES: readonly GranuleName[] = ['4K', '16K', '64K'];
const BOOL_KEYS = ['featLPA', 'featLVA', 'featTTST', 'featXNX', 'featHPDS', 'featVMID16', 'asid16', 'contiguousBitFault', 'afUpdateOnPermissionFault'] as const;

/** Checks overrides once; unknown keys and bad values are `UserError`s naming `path.key`. */
export function resolveMmuFeatures(overrides: Record<string, unknown> = {}, path = 'mmu.features'): MmuFeatures {
  const out: Record<string, unknown> = { ...DEFAULT_MMU_FEATURES };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_MMU_FEATURES)) throw new UserError(`${path}.${key}: unknown key; accepted: ${Object.keys(DEFAULT_MMU_FEATURES).join(', ')}`);
    if ((BOOL_KEYS as readonly string[]).includes(key)) {
      if (typeof value !== 'boolean') throw new UserError(`${path}.${key}: expected true or false, got ${JSON.stringify(value)}`);
    } else if (key === 'paBits') {
      if (!PA_BITS.includes(value as number)) throw new UserError(`${path}.paBits: expected one of ${PA_BITS.join(', ')}, got ${JSON.stringify(value)}`);
    } else if (key === 'granules') {
      if (!Array.isArray(value) || value.length === 0 || value.some((g) => !GRANULE_NAMES.includes(g as GranuleName))) {
        throw new UserError(`${path}.granules: expected a non-empty list of 4K, 16K, 64K, got ${JSON.stringify(value)}`);
      }
    } else if (key === 'reservedGranule') {
      if (!GRANULE_NAMES.includes(value as GranuleName)) throw new UserError(`${path}.reservedGranule: expected one of 4K, 16K, 64K, got ${JSON.stringify(value)}`);
    } else if (key === 'hafdbs') {
      if (value !== 0 && value !== 1 && value !== 2) throw new UserError(`${path}.hafdbs: expected 0, 1 or 2 (ID_AA64MMFR1_EL1.HAFDBS), got ${JSON.stringify(value)}`);
    } else if (key === 'txszBelowMin' || key === 'txszAboveMax') {
      if (value !== 'fault' && value !== 'clamp') throw new UserError(`${path}.${key}: expected "fault" or "clamp", got ${JSON.stringify(value)}`);
    }
    out[key] = value;
  }
  const f = out as unknown as MmuFeatures;
  if (f.paBits === 52 && !f.featLPA) throw new UserError(`${path}.paBits: 52 needs featLPA: true`);
  if (!f.granules.includes(f.reservedGranule)) throw new UserError(`${path}.reservedGranule: ${f.reservedGranule} is not in granules (${f.granules.join(', ')})`);
  if (f.featLVA && !f.granules.includes('64K')) throw new UserError(`${path}.featLVA: needs the 64K granule`);
  return Object.freeze({ ...f, granules: Object.freeze([...f.granules]) });
}

// ---------------------------------------------------------------------------------------------
// Raw registers
// ---------------------------------------------------------------------------------------------

/** Register values as 32-bit halves. Fields left out read as 0. */
export interface RegimeRegisters {
  tcrLo: number; tcrHi: number;
  ttbr0Lo: number; ttbr0Hi: number;
  ttbr1Lo: number; ttbr1Hi: number;
  mairLo: number; mairHi: number;
  /** SCTLR_EL1 bits [31:0] (M, C, I, WXN live there). */
  sctlr: number;
  hcrLo: number; hcrHi: number;
  vtcrLo: number; vtcrHi: number;
  vttbrLo: number; vttbrHi: number;
  /** EL2 is implemented and enabled in the current Security state (`EL2Enabled()`). */
  el2Enabled: boolean;
}

export function regimeRegisters(r: Partial<RegimeRegisters> = {}): RegimeRegisters {
  return {
    tcrLo: 0, tcrHi: 0, ttbr0Lo: 0, ttbr0Hi: 0, ttbr1Lo: 0, ttbr1Hi: 0, mairLo: 0, mairHi: 0, sctlr: 0,
    hcrLo: 0, hcrHi: 0, vtcrLo: 0, vtcrHi: 0, vttbrLo: 0, vttbrHi: 0, el2Enabled: false, ...r,
  };
}

// Register bit positions (Arm ARM D19.2 "General system control registers"; Linux kvm_arm.h, sysreg.h).
const SCTLR_M = 1 << 0, SCTLR_C = 1 << 2, SCTLR_I = 1 << 12, SCTLR_WXN = 1 << 19;
const HCR_VM = 1 << 0, HCR_PTW = 1 << 2, HCR_DC = 1 << 12, HCR_TGE = 1 << 27;
const HCRH_CD = 1 << 0, HCRH_ID = 1 << 1, HCRH_FWB = 1 << 14, HCRH_DCT = 1 << 25; // bits 32, 33, 46, 57

// ---------------------------------------------------------------------------------------------
// Decoded parameters
// ---------------------------------------------------------------------------------------------

/** Geometry of one stage's tables (shared by stage 1 halves and stage 2). */
export interface TableGeometry {
  readonly granuleBits: GranuleBits;
  /** Input address size in bits: 64 - TxSZ (after clamping). */
  readonly inputBits: number;
  readonly startLevel: number;
  /** log2 of the number of entries in the start-level table (above `stride` for concatenated stage-2 tables). */
  readonly startIndexBits: number;
  /** Physical (stage 2) or intermediate physical (stage 1) address of the start table, aligned to its size. */
  readonly tableBase: number;
  /** TTBR/VTTBR BADDR has bits at or above the output size: an Address size fault at level 0. */
  readonly baseOutOfRange: boolean;
  /** Output (intermediate) physical address size in bits: min(IPS/PS, PARange), at most 48 unless 64KB + FEAT_LPA. */
  readonly outputBits: number;
}

/** One half of the stage-1 VA space (TTBR0_EL1 for VA[55]=0, TTBR1_EL1 for VA[55]=1). */
export interface S1Half extends TableGeometry {
  readonly txsz: number;
  /** TxSZ out of range and the implementation faults (`txszBelowMin`/`txszAboveMax`): every access in this half is a level 0 Translation fault. */
  readonly txszFault: boolean;
  /** EPDn: a TLB miss in this half is a level 0 Translation fault. */
  readonly epd: boolean;
  readonly tbi: boolean;
  /** TBIDn: TBI applies to data accesses only. */
  readonly tbid: boolean;
  /** HPDn (FEAT_HPDS): APTable/UXNTable/PXNTable are ignored. */
  readonly hpd: boolean;
  readonly irgn: number; readonly orgn: number; readonly sh: number;
  /** `decodeWalkAttrs(IRGNn, ORGNn, SHn)`: the stage-1 attributes of this half's table reads. */
  readonly walkS1Attrs: number;
  /** Final attributes of a table read when stage 2 is off (`effectiveAttrs` with AccessKind.Walk). */
  readonly walkAttrsNoS2: number;
}

export interface Stage1Params {
  readonly half0: S1Half;
  readonly half1: S1Half;
  /** ASID of the current context (TTBR1_EL1.ASID if TCR_EL1.A1, else TTBR0_EL1.ASID), 8 or 16 bits. */
  readonly asid: number;
  readonly a1: boolean;
  readonly as16: boolean;
  /**
   * TCR_EL1.HA/HD as they act: HA needs FEAT_HAFDBS (hafdbs >= 1), HD needs hafdbs 2 and HA
   * (AArch64.GetS1TTWParams: the dirty state is managed only with the Access flag); else 0.
   */
  readonly ha: boolean;
  readonly hd: boolean;
  readonly ips: number;
}

export interface Stage2Params extends TableGeometry {
  readonly txsz: number;
  readonly sl0: number;
  /**
   * Every stage-2 translation is a level 0 Translation fault: T0SZ out of range (with 'fault'),
   * `AArch64.S2InvalidSL` or `AArch64.S2InconsistentSL`.
   */
  readonly configFault: boolean;
  /** Why `configFault` (for messages and tests), '' if none. */
  readonly configFaultReason: string;
  /** Number of concatenated start-level tables (1 = none, up to 16). */
  readonly concatTables: number;
  readonly vmid: number;
  readonly irgn0: number; readonly orgn0: number; readonly sh0: number;
  /** VTCR_EL2.HA/HD as they act (see Stage1Params.ha). */
  readonly ha: boolean; readonly hd: boolean;
  readonly ps: number;
  /** Final attributes of a stage-2 table read (`s2TableWalkAttrs`, with HCR_EL2.CD). */
  readonly walkAttrs: number;
}

export interface Regime {
  readonly features: MmuFeatures;
  readonly attrOpts: AttrOptions;
  readonly el2Enabled: boolean;
  /** `AArch64.S1Enabled`: SCTLR_EL1.M and not (EL2 enabled and HCR_EL2.DC). */
  readonly s1Enabled: boolean;
  /** EL2 enabled and (HCR_EL2.VM or HCR_EL2.DC). */
  readonly s2Enabled: boolean;
  readonly s1: Stage1Params;
  readonly s2: Stage2Params;
  /** MAIR_EL1 Attr0..Attr7. */
  readonly mair: Uint8Array;
  readonly sctlrM: boolean; readonly sctlrC: boolean; readonly sctlrI: boolean; readonly sctlrWXN: boolean;
  readonly hcrVM: boolean; readonly hcrDC: boolean; readonly hcrDCT: boolean; readonly hcrFWB: boolean;
  readonly hcrCD: boolean; readonly hcrID: boolean; readonly hcrPTW: boolean;
}

// ---------------------------------------------------------------------------------------------
// Field decode helpers
// ---------------------------------------------------------------------------------------------

/** TCR_EL1.IPS / VTCR_EL2.PS: 000 32, 001 36, 010 40, 011 42, 100 44, 101 48, 110 52. */
const PS_BITS = [32, 36, 40, 42, 44, 48, 52] as const;

/**
 * Effective output size (`AArch64.PAMax`, `AArch64.S1OutputSize`/`S2OutputSize`): PS capped at
 * PARange; a reserved PS (0b111, or 0b110 without FEAT_LPA) behaves as the largest implemented
 * size (assumed: the Arm ARM says reserved values behave like 0b101/0b110); 52 only with 64KB.
 */
function outputSize(ps: number, granuleBits: number, f: MmuFeatures): number {
  let bits: number = ps < 7 ? PS_BITS[ps]! : 52;
  if (bits === 52 && !f.featLPA) bits = 48;
  bits = Math.min(bits, f.paBits);
  if (granuleBits !== 16) bits = Math.min(bits, 48);
  return bits;
}

/** TCR_EL1.TG0 / VTCR_EL2.TG0: 00 4KB, 01 64KB, 10 16KB, 11 reserved. */
function decodeTG0(tg: number, f: MmuFeatures): GranuleBits {
  const name: GranuleName | null = tg === 0 ? '4K' : tg === 1 ? '64K' : tg === 2 ? '16K' : null;
  return granuleOrFallback(name, f);
}
/** TCR_EL1.TG1: 01 16KB, 10 4KB, 11 64KB, 00 reserved. */
function decodeTG1(tg: number, f: MmuFeatures): GranuleBits {
  const name: GranuleName | null = tg === 1 ? '16K' : tg === 2 ? '4K' : tg === 3 ? '64K' : null;
  return granuleOrFallback(name, f);
}
function granuleOrFallback(name: GranuleName | null, f: MmuFeatures): GranuleBits {
  const g = name !== null && f.granules.includes(name) ? name : f.reservedGranule;
  return g === '4K' ? 12 : g === '16K' ? 14 : 16;
}

/** `AArch64.MaxTxSZ`: 39, or with FEAT_TTST 48 (4KB/16KB) / 47 (64KB). */
function maxTxSZ(granuleBits: number, f: MmuFeatures): number {
  if (!f.featTTST) return 39;
  return granuleBits === 16 ? 47 : 48;
}
/** `AArch64.S1MinTxSZ` without FEAT_LPA2: 12 with FEAT_LVA and 64KB, else 16. */
function s1MinTxSZ(granuleBits: number, f: MmuFeatures): number {
  return f.featLVA && granuleBits === 16 ? 12 : 16;
}
/** `AArch64.S2MinTxSZ` (EL1 in AArch64): 64 - PAMax, with PAMax capped at 48 unless 64KB (no FEAT_LPA2). */
function s2MinTxSZ(granuleBits: number, f: MmuFeatures): number {
  const pa = granuleBits === 16 ? f.paBits : Math.min(48, f.paBits);
  return 64 - pa;
}

/**
 * Clamp or flag TxSZ (`AArch64.S1TxSZFaults`/`S2TxSZFaults`, then the clamp in
 * `AArch64.S1Translate`/`S2Translate`). `belowMinMustFault`: FEAT_LVA (stage 1) / FEAT_LPA (stage 2).
 */
function checkTxSZ(txsz: number, min: number, max: number, f: MmuFeatures, belowMinMustFault: boolean): { txsz: number; fault: boolean } {
  if (txsz < min) return { txsz: min, fault: belowMinMustFault || f.txszBelowMin === 'fault' };
  if (txsz > max) return { txsz: max, fault: f.txszAboveMax === 'fault' };
  return { txsz, fault: false };
}

/**
 * `AArch64.S1StartLevel`: FINAL_LEVEL - ((iasize - 1 - granulebits) DIV stride). 4KB 48-bit: 0;
 * 4KB 39-bit: 1; 16KB 47-bit: 1; 64KB 48-bit: 1; 64KB 42-bit: 2.
 */
export function s1StartLevel(inputBits: number, granuleBits: number): number {
  return 3 - Math.floor((inputBits - 1 - granuleBits) / (granuleBits - 3));
}

/**
 * The start table's base from TTBRn/VTTBR BADDR (`AArch64.TTBaseAddress`): bits [47:x] where
 * 2^x is the table size (at least 8 bytes), plus BADDR[51:48] from bits [5:2] when the output
 * size is 52 (and then at least 64-byte aligned). Bit 0 (CnP) and the bits below x are ignored.
 */
function ttBase(lo: number, hi: number, tableBytesLog2: number, outputBits: number): { base: number; outOfRange: boolean } {
  const alignLog2 = outputBits === 52 ? Math.max(6, tableBytesLog2) : Math.max(3, tableBytesLog2);
  const raw = (hi & 0xffff) * 4294967296 + (lo >>> 0);
  const outOfRange = outputBits < 48 && raw >= POW2[outputBits]!;
  let base = Math.floor(raw / POW2[alignLog2]!) * POW2[alignLog2]!;
  if (outputBits === 52) base += ((lo >>> 2) & 0xf) * 281474976710656;
  return { base, outOfRange };
}

function geometry(granuleBits: GranuleBits, inputBits: number, startLevel: number): { startIndexBits: number; tableBytesLog2: number } {
  const startIndexBits = inputBits - levelShift(granuleBits, startLevel);
  return { startIndexBits, tableBytesLog2: startIndexBits + 3 };
}

// ---------------------------------------------------------------------------------------------
// Stage 1
// ---------------------------------------------------------------------------------------------

/**
 * Decodes TCR_EL1 and TTBR0/1_EL1. TCR_EL1 fields: T0SZ [5:0], EPD0 [7], IRGN0 [9:8],
 * ORGN0 [11:10], SH0 [13:12], TG0 [15:14], T1SZ [21:16], A1 [22], EPD1 [23], IRGN1 [25:24],
 * ORGN1 [27:26], SH1 [29:28], TG1 [31:30], IPS [34:32], AS [36], TBI0 [37], TBI1 [38], HA [39],
 * HD [40], HPD0 [41], HPD1 [42], TBID0 [51], TBID1 [52]. TTBRn: BADDR [47:1], CnP [0], ASID [63:48].
 * `walkCtxNoS2`: when stage 1 is on and stage 2 off, the context in which `walkAttrsNoS2` is
 * computed (`decodeRegime` passes it); null leaves `walkAttrsNoS2` at 0.
 */
export function decodeStage1(
  tcrLo: number, tcrHi: number, ttbr0Lo: number, ttbr0Hi: number, ttbr1Lo: number, ttbr1Hi: number,
  f: MmuFeatures = DEFAULT_MMU_FEATURES, attrOpts: AttrOptions = DEFAULT_ATTR_OPTIONS,
  walkCtxNoS2: AttrContext | null = null,
): Stage1Params {
  const ips = tcrHi & 7;
  const as16 = f.asid16 && ((tcrHi >>> 4) & 1) === 1;
  const a1 = ((tcrLo >>> 22) & 1) === 1;
  const half = (n: 0 | 1): S1Half => {
    const sh = n === 0 ? 0 : 16;
    const granuleBits = n === 0 ? decodeTG0((tcrLo >>> 14) & 3, f) : decodeTG1((tcrLo >>> 30) & 3, f);
    const t = checkTxSZ((tcrLo >>> sh) & 0x3f, s1MinTxSZ(granuleBits, f), maxTxSZ(granuleBits, f), f, f.featLVA);
    const inputBits = 64 - t.txsz;
    const startLevel = s1StartLevel(inputBits, granuleBits);
    const outputBits = outputSize(ips, granuleBits, f);
    const g = geometry(granuleBits, inputBits, startLevel);
    const tb = n === 0 ? ttBase(ttbr0Lo, ttbr0Hi, g.tableBytesLog2, outputBits) : ttBase(ttbr1Lo, ttbr1Hi, g.tableBytesLog2, outputBits);
    const irgn = (tcrLo >>> (8 + sh)) & 3, orgn = (tcrLo >>> (10 + sh)) & 3, shr = (tcrLo >>> (12 + sh)) & 3;
    const walkS1Attrs = decodeWalkAttrs(irgn, orgn, shr, attrOpts);
    let walkAttrsNoS2 = 0;
    if (walkCtxNoS2 !== null) {
      walkCtxNoS2.s1 = walkS1Attrs;
      walkAttrsNoS2 = effectiveAttrs(walkCtxNoS2, attrOpts);
    }
    return Object.freeze({
      granuleBits, inputBits, startLevel, startIndexBits: g.startIndexBits,
      tableBase: tb.base, baseOutOfRange: tb.outOfRange, outputBits,
      txsz: t.txsz, txszFault: t.fault,
      epd: ((tcrLo >>> (n === 0 ? 7 : 23)) & 1) === 1,
      tbi: ((tcrHi >>> (n === 0 ? 5 : 6)) & 1) === 1,
      tbid: ((tcrHi >>> (n === 0 ? 19 : 20)) & 1) === 1,
      hpd: f.featHPDS && ((tcrHi >>> (n === 0 ? 9 : 10)) & 1) === 1,
      irgn, orgn, sh: shr,
      walkS1Attrs, walkAttrsNoS2,
    });
  };
  const asidSrc = a1 ? ttbr1Hi : ttbr0Hi;
  return Object.freeze({
    half0: half(0), half1: half(1),
    asid: as16 ? asidSrc >>> 16 : (asidSrc >>> 16) & 0xff,
    a1, as16,
    ha: f.hafdbs >= 1 && ((tcrHi >>> 7) & 1) === 1,
    hd: f.hafdbs >= 2 && ((tcrHi >>> 7) & 1) === 1 && ((tcrHi >>> 8) & 1) === 1,
    ips,
  });
}

// ---------------------------------------------------------------------------------------------
// Stage 2
// ---------------------------------------------------------------------------------------------

/**
 * `AArch64.S2StartLevel` + `AArch64.S2InvalidSL` (no FEAT_LPA2): the start level for VTCR_EL2.SL0,
 * or -1 when the encoding is invalid. 4KB: 0 → L2, 1 → L1, 2 → L0 (needs PAMax >= 44),
 * 3 → L3 (FEAT_TTST only). 16KB and 64KB: 0 → L3, 1 → L2, 2 → L1 (needs PAMax >= 42 for 16KB,
 * >= 44 for 64KB), 3 → invalid (16KB level 0 needs DS=1). Same as QEMU check_s2_mmu_setup.
 */
export function s2StartLevel(sl0: number, granuleBits: number, f: MmuFeatures): number {
  if (granuleBits === 12) {
    if (sl0 === 3) return f.featTTST ? 3 : -1;
    if (sl0 === 2 && f.paBits < 44) return -1;
    return 2 - sl0;
  }
  if (sl0 === 3) return -1;
  if (sl0 === 2 && f.paBits < (granuleBits === 14 ? 42 : 44)) return -1;
  return 3 - sl0;
}

/**
 * `AArch64.S2InconsistentSL`: the IPA size must need the start level and, with concatenation of
 * up to 16 tables, no more: levels = 3 - startLevel; min = levels*stride + granulebits + 1;
 * max = min + (stride - 1) + 4.
 */
export function s2InconsistentSL(startLevel: number, inputBits: number, granuleBits: number): boolean {
  const stride = granuleBits - 3;
  const min = (3 - startLevel) * stride + granuleBits + 1;
  const max = min + (stride - 1) + 4;
  return inputBits < min || inputBits > max;
}

/**
 * Decodes VTCR_EL2 and VTTBR_EL2. VTCR_EL2 fields: T0SZ [5:0], SL0 [7:6], IRGN0 [9:8],
 * ORGN0 [11:10], SH0 [13:12], TG0 [15:14], PS [18:16], VS [19], HA [21], HD [22].
 * VTTBR_EL2: BADDR [47:1], CnP [0], VMID [63:48] (VMID[15:8] used only with VS=1 and FEAT_VMID16).
 * The high half of VTCR_EL2 holds only FEAT_LPA2's DS [32] and SL2 [33], which this model treats
 * as RES0 (FEAT_LPA2 is outside its scope), so `vtcrHi` is accepted for the register's shape and
 * not read.
 */
export function decodeStage2(
  vtcrLo: number, vtcrHi: number, vttbrLo: number, vttbrHi: number, hcrCD: boolean,
  f: MmuFeatures = DEFAULT_MMU_FEATURES, attrOpts: AttrOptions = DEFAULT_ATTR_OPTIONS,
): Stage2Params {
  const granuleBits = decodeTG0((vtcrLo >>> 14) & 3, f);
  const rawTxsz = vtcrLo & 0x3f;
  const t = checkTxSZ(rawTxsz, s2MinTxSZ(granuleBits, f), maxTxSZ(granuleBits, f), f, f.featLPA);
  const inputBits = 64 - t.txsz;
  const sl0 = (vtcrLo >>> 6) & 3;
  const ps = (vtcrLo >>> 16) & 7;
  const outputBits = outputSize(ps, granuleBits, f);
  let startLevel = s2StartLevel(sl0, granuleBits, f);
  let reason = '';
  if (t.fault) reason = `VTCR_EL2.T0SZ=${rawTxsz} is out of range`;
  else if (startLevel < 0) reason = `VTCR_EL2.SL0=${sl0} is invalid for the ${1 << (granuleBits - 10)}KB granule (AArch64.S2InvalidSL)`;
  else if (s2InconsistentSL(startLevel, inputBits, granuleBits)) reason = `VTCR_EL2.SL0=${sl0} is inconsistent with T0SZ=${t.txsz} (AArch64.S2InconsistentSL)`;
  if (startLevel < 0) startLevel = 3;
  const g = geometry(granuleBits, inputBits, startLevel);
  const configFault = reason !== '';
  const startIndexBits = configFault ? 0 : g.startIndexBits;
  const tb = ttBase(vttbrLo, vttbrHi, configFault ? 3 : g.tableBytesLog2, outputBits);
  const vs16 = f.featVMID16 && ((vtcrLo >>> 19) & 1) === 1;
  const irgn0 = (vtcrLo >>> 8) & 3, orgn0 = (vtcrLo >>> 10) & 3, sh0 = (vtcrLo >>> 12) & 3;
  return {
    granuleBits, inputBits, startLevel, startIndexBits, tableBase: tb.base, baseOutOfRange: tb.outOfRange, outputBits,
    txsz: t.txsz, sl0, configFault, configFaultReason: reason,
    concatTables: configFault ? 1 : Math.max(1, 2 ** (startIndexBits - (granuleBits - 3))),
    vmid: vs16 ? vttbrHi >>> 16 : (vttbrHi >>> 16) & 0xff,
    irgn0, orgn0, sh0,
    ha: f.hafdbs >= 1 && ((vtcrLo >>> 21) & 1) === 1,
    hd: f.hafdbs >= 2 && ((vtcrLo >>> 21) & 1) === 1 && ((vtcrLo >>> 22) & 1) === 1,
    ps,
    walkAttrs: s2TableWalkAttrs(irgn0, orgn0, sh0, hcrCD, attrOpts),
  };
}

// ---------------------------------------------------------------------------------------------
// Whole regime
// ---------------------------------------------------------------------------------------------

/**
 * Decodes every register the EL1&0 walk needs. Call when software writes one of them; the result
 * is frozen and shared by walkers. HCR_EL2.TGE=1 is not modelled and throws.
 */
export function decodeRegime(regs: RegimeRegisters, f: MmuFeatures = DEFAULT_MMU_FEATURES, attrOpts: AttrOptions = DEFAULT_ATTR_OPTIONS): Regime {
  const el2 = regs.el2Enabled;
  if (el2 && (regs.hcrLo & HCR_TGE) !== 0) throw new Error('decodeRegime: HCR_EL2.TGE=1 is not modelled');
  const hcrVM = el2 && (regs.hcrLo & HCR_VM) !== 0;
  const hcrDC = el2 && (regs.hcrLo & HCR_DC) !== 0;
  const hcrPTW = el2 && (regs.hcrLo & HCR_PTW) !== 0;
  const hcrCD = el2 && (regs.hcrHi & HCRH_CD) !== 0;
  const hcrID = el2 && (regs.hcrHi & HCRH_ID) !== 0;
  const hcrFWB = el2 && (regs.hcrHi & HCRH_FWB) !== 0;
  const hcrDCT = el2 && (regs.hcrHi & HCRH_DCT) !== 0;
  const sctlrM = (regs.sctlr & SCTLR_M) !== 0, sctlrC = (regs.sctlr & SCTLR_C) !== 0;
  const sctlrI = (regs.sctlr & SCTLR_I) !== 0, sctlrWXN = (regs.sctlr & SCTLR_WXN) !== 0;
  const s1Enabled = sctlrM && !(el2 && hcrDC);
  const s2Enabled = el2 && (hcrVM || hcrDC);

  // With stage 1 off there is no stage-1 walk; with stage 2 on the walk attributes depend on the
  // stage-2 mapping of each table and are computed per read. Otherwise they are fixed here.
  const walkCtx: AttrContext | null = s1Enabled && !s2Enabled ? {
    access: AccessKind.Walk, el2Enabled: el2, hcrVM, hcrDC, hcrDCT, hcrFWB, hcrCD, hcrID, hcrPTW,
    sctlrM, sctlrC, sctlrI, s1: 0, s2: 0,
  } : null;
  const s1 = decodeStage1(regs.tcrLo, regs.tcrHi, regs.ttbr0Lo, regs.ttbr0Hi, regs.ttbr1Lo, regs.ttbr1Hi, f, attrOpts, walkCtx);
  const s2 = Object.freeze(decodeStage2(regs.vtcrLo, regs.vtcrHi, regs.vttbrLo, regs.vttbrHi, hcrCD, f, attrOpts));
  const mair = new Uint8Array(8);
  for (let i = 0; i < 4; i++) {
    mair[i] = (regs.mairLo >>> (8 * i)) & 0xff;
    mair[i + 4] = (regs.mairHi >>> (8 * i)) & 0xff;
  }
  return Object.freeze({
    features: f, attrOpts, el2Enabled: el2, s1Enabled, s2Enabled, s1, s2, mair,
    sctlrM, sctlrC, sctlrI, sctlrWXN, hcrVM, hcrDC, hcrDCT, hcrFWB, hcrCD, hcrID, hcrPTW,
  });
}

// ---------------------------------------------------------------------------------------------
// Encoders (tests, scenarios, the hypervisor model)
// ---------------------------------------------------------------------------------------------

export interface Halves {
  lo: number;
  hi: number;
}

const TG0_ENC: Record<GranuleName, number> = { '4K': 0, '64K': 1, '16K': 2 };
const TG1_ENC: Record<GranuleName, number> = { '16K': 1, '4K': 2, '64K': 3 };
const PS_ENC: Record<number, number> = { 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5, 52: 6 };

export interface TcrInit {
  t0sz?: number; t1sz?: number;
  tg0?: GranuleName; tg1?: GranuleName;
  epd0?: boolean; epd1?: boolean;
  irgn0?: number; orgn0?: number; sh0?: number;
  irgn1?: number; orgn1?: number; sh1?: number;
  /** IPS as a bit count (32..52). Default 48. */
  ipsBits?: number;
  a1?: boolean; as16?: boolean;
  tbi0?: boolean; tbi1?: boolean; tbid0?: boolean; tbid1?: boolean;
  ha?: boolean; hd?: boolean; hpd0?: boolean; hpd1?: boolean;
}

/** TCR_EL1 from named fields. Defaults: T0SZ=T1SZ=16, 4KB, walks Normal WB-RWA ISH, IPS 48 bits. */
export function encodeTcr(t: TcrInit = {}): Halves {
  const b = (v: boolean | undefined, n: number): number => (v ? 1 : 0) << n;
  const lo = ((t.t0sz ?? 16) & 0x3f) | b(t.epd0, 7) | ((t.irgn0 ?? 1) << 8) | ((t.orgn0 ?? 1) << 10) | ((t.sh0 ?? 3) << 12)
    | (TG0_ENC[t.tg0 ?? '4K'] << 14) | (((t.t1sz ?? 16) & 0x3f) << 16) | b(t.a1, 22) | b(t.epd1, 23)
    | ((t.irgn1 ?? 1) << 24) | ((t.orgn1 ?? 1) << 26) | ((t.sh1 ?? 3) << 28) | (TG1_ENC[t.tg1 ?? '4K'] << 30);
  const ips = PS_ENC[t.ipsBits ?? 48];
  if (ips === undefined) throw new RangeError(`encodeTcr: ipsBits must be one of 32, 36, 40, 42, 44, 48, 52`);
  const hi = ips | b(t.as16, 4) | b(t.tbi0, 5) | b(t.tbi1, 6) | b(t.ha, 7) | b(t.hd, 8) | b(t.hpd0, 9) | b(t.hpd1, 10)
    | b(t.tbid0, 19) | b(t.tbid1, 20);
  return { lo: lo >>> 0, hi: hi >>> 0 };
}

export interface VtcrInit {
  t0sz?: number; sl0?: number; tg0?: GranuleName;
  irgn0?: number; orgn0?: number; sh0?: number;
  /** PS as a bit count. Default 48. */
  psBits?: number;
  vs16?: boolean; ha?: boolean; hd?: boolean;
}

/** VTCR_EL2 from named fields. Defaults: 40-bit IPA (T0SZ=24) from level 1 (SL0=1, two concatenated 4KB tables), WB-RWA ISH walks, PS 48 bits. */
export function encodeVtcr(v: VtcrInit = {}): Halves {
  const ps = PS_ENC[v.psBits ?? 48];
  if (ps === undefined) throw new RangeError(`encodeVtcr: psBits must be one of 32, 36, 40, 42, 44, 48, 52`);
  const lo = ((v.t0sz ?? 24) & 0x3f) | (((v.sl0 ?? 1) & 3) << 6) | ((v.irgn0 ?? 1) << 8) | ((v.orgn0 ?? 1) << 10) | ((v.sh0 ?? 3) << 12)
    | (TG0_ENC[v.tg0 ?? '4K'] << 14) | (ps << 16) | ((v.vs16 ? 1 : 0) << 19) | ((v.ha ? 1 : 0) << 21) | ((v.hd ? 1 : 0) << 22)
    | (1 << 31); // RES1
  return { lo: lo >>> 0, hi: 0 };
}

/** TTBRn_EL1 / VTTBR_EL2: BADDR (a table address below 2^52; bits [51:48] go to [5:2]) and ASID/VMID in [63:48]. */
export function encodeTtbr(baddr: number, asidOrVmid = 0): Halves {
  if (!Number.isSafeInteger(baddr) || baddr < 0 || baddr >= 2 ** 52) throw new RangeError(`encodeTtbr: BADDR 0x${baddr.toString(16)} out of range`);
  const top = Math.floor(baddr / 2 ** 48);
  const rest = baddr - top * 2 ** 48;
  const hi = Math.floor(rest / 4294967296);
  const lo = rest - hi * 4294967296;
  if (top !== 0 && lo % 64 !== 0) throw new RangeError('encodeTtbr: a 52-bit BADDR must be 64-byte aligned');
  return { lo: (lo | (top << 2)) >>> 0, hi: (hi | ((asidOrVmid & 0xffff) << 16)) >>> 0 };
}

export interface HcrInit {
  vm?: boolean; ptw?: boolean; dc?: boolean; cd?: boolean; id?: boolean; fwb?: boolean; dct?: boolean;
}
export function encodeHcr(h: HcrInit = {}): Halves {
  const lo = (h.vm ? HCR_VM : 0) | (h.ptw ? HCR_PTW : 0) | (h.dc ? HCR_DC : 0);
  const hi = (h.cd ? HCRH_CD : 0) | (h.id ? HCRH_ID : 0) | (h.fwb ? HCRH_FWB : 0) | (h.dct ? HCRH_DCT : 0);
  return { lo: lo >>> 0, hi: hi >>> 0 };
}

export interface SctlrInit { m?: boolean; c?: boolean; i?: boolean; wxn?: boolean }
/** SCTLR_EL1 bits [31:0]. Defaults: M=1, C=1, I=1, WXN=0. */
export function encodeSctlr(s: SctlrInit = {}): number {
  return ((s.m ?? true ? SCTLR_M : 0) | (s.c ?? true ? SCTLR_C : 0) | (s.i ?? true ? SCTLR_I : 0) | (s.wxn ? SCTLR_WXN : 0)) >>> 0;
}

/** MAIR_EL1 from Attr0..Attr7 (missing entries 0x00). */
export function encodeMair(attrs: readonly number[]): Halves {
  let lo = 0, hi = 0;
  for (let i = 0; i < 4; i++) lo |= (attrs[i] ?? 0) << (8 * i);
  for (let i = 0; i < 4; i++) hi |= (attrs[i + 4] ?? 0) << (8 * i);
  return { lo: lo >>> 0, hi: hi >>> 0 };
}
