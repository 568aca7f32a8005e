/**
 * Memory attributes for the EL1&0 regime: the packed word requests carry, the stage-1 (MAIR) and
 * stage-2 (MemAttr) decoders, the stage-1 + stage-2 combination (FWB=0 and FWB=1), and the
 * register controls (SCTLR_EL1.M/C/I, HCR_EL2.VM/DC/DCT/FWB/CD/ID/PTW) in `effectiveAttrs()`.
 *
 * Source of truth: the Arm ASL shared pseudocode (2023-03) as transcribed in
 * rems-project/sail-arm arm-v9.4-a/src/v8_base.sail; digest in ../shared/reference/memory-attributes.md.
 * Function names in comments are the ASL's, so they can be looked up.
 *
 * Contract: every function here is allocation-free and pure (options are read, never written).
 * Decoded stage words keep the *raw* descriptor shareability, because that is what the ASL feeds
 * into the combination; only final words (from `effectiveAttrs`, `combineS1S2`, `s1DisabledAttrs`)
 * are guaranteed to have Device and Normal iNC+oNC as Outer Shareable (`EffectiveShareability`).
 * HCR_EL2.TGE is assumed 0 and HCR_EL2.E2H plays no part (no EL2&0 regime here).
 *
 * FEAT_MTE_PERM (`opts.featMTEPerm`): see `ATTR_NOTAGACCESS`. Reserved and CONSTRAINED
 * UNPREDICTABLE inputs are flagged in the word only as `ATTR_RESERVED`; `attrReasons` (cold path)
 * recomputes which ones an access met.
 */
import { UserError } from '../sim/index.js';

import {
  ATTR_DEVICE_MASK, ATTR_DEVICE_SHIFT, ATTR_INNER_SHIFT, ATTR_NORMAL, ATTR_NXS, ATTR_OUTER_SHIFT, ATTR_RESERVED, ATTR_S2_FWB, ATTR_S2_USE_S1, ATTR_SH_MASK, ATTR_SH_SHIFT, ATTR_TAGGED, Cacheability, DEVICE_nGnRnE, LEVEL_CACHE_MASK, LEVEL_MASK, LEVEL_RA, LEVEL_TRANSIENT, LEVEL_WA, NORMAL_NC_OSH, NORMAL_WB_RWA_NSH, NORMAL_WT_RA_OSH, Shareability, attrShare, effectiveShareability,
} from '../mem/mem-attrs.js';
import { LEVEL_HINTS, TYPE_MASK, isNcNc, isWbWb, WB_RWA_LEVEL, isWbRwaNt, SHARE_NAMES } from '../mem/mem-attrs.js';
export {
  ATTR_DEVICE_MASK, ATTR_DEVICE_SHIFT, ATTR_INNER_SHIFT, ATTR_NORMAL, ATTR_NXS, ATTR_OUTER_SHIFT, ATTR_RESERVED, ATTR_S2_FWB, ATTR_S2_USE_S1, ATTR_SH_MASK, ATTR_SH_SHIFT, ATTR_TAGGED, Cacheability, DEVICE_GRE, DEVICE_nGRE, DEVICE_nGnRE, DEVICE_nGnRnE, DeviceKind, LEVEL_CACHE_MASK, LEVEL_MASK, LEVEL_RA, LEVEL_TRANSIENT, LEVEL_WA, NORMAL_NC_OSH, NORMAL_TAGGED_WB_RWA_ISH, NORMAL_WB_RWA_ISH, NORMAL_WB_RWA_NSH, NORMAL_WB_RWA_OSH, NORMAL_WT_RA_OSH, Shareability, attrDeviceKind, attrInnerCache, attrInnerReadAllocate, attrInnerTransient, attrInnerWriteAllocate, attrIsDevice, attrIsInnerCacheable, attrIsNormal, attrIsOuterCacheable, attrIsReserved, attrIsTagged, attrOuterCache, attrOuterReadAllocate, attrOuterTransient, attrOuterWriteAllocate, attrShare, attrXS, effectiveShareability, formatAttrs, packAttrs, unpackAttrs,
  type AttrsInit, type AttrsView, type CacheName, type DeviceKindName, type LevelAttrs, type ShareName,
} from '../mem/mem-attrs.js';

/** What the access is, as far as attributes care (`AccessType_IFETCH`, `AccessType_TTW`, the rest). */
export const AccessKind = {
  /** Loads, stores, atomics, DC operations. */
  Data: 0,
  /** Instruction fetch. */
  Fetch: 1,
  /** A stage-1 translation-table walk access (its stage-1 attributes come from TCR_EL1, see `decodeWalkAttrs`). */
  Walk: 2,
} as const;
export type AccessKind = (typeof AccessKind)[keyof typeof AccessKind];

/** `effectiveAttrs` result: a stage-1 Permission fault (instruction fetch from stage-1 Device, when so configured). */
export const ATTR_FAULT_S1_PERMISSION = -1;
/** `effectiveAttrs` result: a stage-2 Permission fault (fetch from stage-2 Device when so configured, or a walk to stage-2 Device with HCR_EL2.PTW=1). */
export const ATTR_FAULT_S2_PERMISSION = -2;

/**
 * FEAT_MTE_PERM NoTagAccess. Bit 20 of the packed word, free in the layout of
 * src/mem/mem-attrs.ts (bits 0-19 used there); the caches never look at it.
 *
 * - In a stage-2 word (`decodeS2MemAttr` with `opts.featMTEPerm`): the descriptor says NoTagAccess,
 *   FWB=0 MemAttr 0b0100 (decoded as Normal iWB oWB) or FWB=1 MemAttr[3:1] 0b111 (0b1110 force WB,
 *   0b1111 use stage 1). This is `permissions.s2tag_na` of `AArch64.S2NextWalkStateLeaf`.
 * - In a final word (`combineS1S2`, `effectiveAttrs`): set only when the stage-2 descriptor is
 *   NoTagAccess **and** the stage-1 output (the IPA's attributes) is Allocation Tagged, for a data
 *   access. It does not make the word Untagged and is not a fault by itself: the ASL keeps
 *   `memattrs.tags` as `S2MemTagType` gives it and only `AArch64.S2CheckPermissions` acts, so
 *   **the caller must check**: an access that is a tag access (LDG, STG, ST2G, STZG, STGP's tag,
 *   LDGM, STGM, STZGM, DC GVA/GZVA) or is tag-checked, to a word with this bit set, takes a
 *   stage-2 Permission fault (ISS2.TagAccess=1; WnR only for a tag write). In the ASL it is checked
 *   after the stage-2 read/write permission checks and before the dirty-state check. Ordinary
 *   loads and stores that are not tag-checked proceed with the attributes as they are.
 *   HCR_EL2.CD making the memory NC does not remove the check (the ASL tests s2tag_na and the
 *   stage-1 tags, not the final attributes).
 *
 * Source: rems-project/sail-arm arm-v9.4-a/src/v8_base.sail (commit 00dd7f7d): `S2DecodeMemAttrs`
 * (0b0100 with HaveMTEPermExt: WB/WB, notagaccess), `AArch64.S2ApplyFWBMemAttrs`
 * (notagaccess = s2_attr[3:1] == '111' && tags == AllocationTagged), `S2CombineS1MemAttrs`
 * (notagaccess = s2.notagaccess && s1.tags == AllocationTagged), `AArch64.S2NextWalkStateLeaf`
 * (s2tag_na), `AArch64.S2CheckPermissions` ((tagaccess || tagchecked) && ipa.memattrs.tags ==
 * AllocationTagged && s2tag_na: Fault_Permission, fault.tagaccess).
 */
export const ATTR_NOTAGACCESS = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Options: every choice the architecture leaves open
// ---------------------------------------------------------------------------------------------

export interface AttrOptions {
  /** FEAT_XS: MAIR 0x40 (NC, XS=0), 0xA0 (WT-RA, XS=0) and 0b0000dd01 (Device, XS=0) are defined; reserved without it. */
  readonly featXS: boolean;
  /** FEAT_MTE2: MAIR 0xF0 is Normal WB-RWA Allocation Tagged (reserved without it); HCR_EL2.DCT tags; tags survive combination. */
  readonly featMTE2: boolean;
  /**
   * FEAT_MTE_PERM (needs FEAT_MTE2): stage-2 NoTagAccess, FWB=0 MemAttr 0b0100 (reserved without
   * it) and FWB=1 MemAttr 0b1110/0b1111 (bit 3 RES0 without it). See `ATTR_NOTAGACCESS`.
   */
  readonly featMTEPerm: boolean;
  /**
   * The MAIR byte used in place of a reserved one. The ASL replaces a reserved Attr with an
   * UNKNOWN value (`S1DecodeMemAttrs`: `ConstrainUnpredictableBits(Unpredictable_RESMAIR)`);
   * this fixes which. Must itself be a non-reserved encoding.
   */
  readonly reservedMair: number;
  /** Descriptor SH=0b01 (`DecodeShareability`: `Unpredictable_Shareability`, one of OSH/ISH/NSH). */
  readonly reservedShareability: 'OSH' | 'ISH' | 'NSH';
  /** FWB=0 stage-2 MemAttr with inner bits 0b00 (0b0100, 0b1000, 0b1100): `S2DecodeCacheability` `Unpredictable_S2RESMEMATTR`. */
  readonly s2ReservedCacheability: 'NC' | 'WT' | 'WB';
  /**
   * FWB=1 stage-2 MemAttr[2:0]=0b100, reserved. 'as-101': what the ASL code executes
   * (`AArch64.S2ApplyFWBMemAttrs` falls into the 0b101 branch: stage-1 Device kept, else NC);
   * 'as-111': keep stage 1 (KVM's at.c); 'device-nGnRnE': QEMU's choice.
   */
  readonly fwbReserved: 'as-101' | 'as-111' | 'device-nGnRnE';
  /** Instruction fetch from Device memory at either stage: `Unpredictable_INSTRDEVICE`, a Permission fault or continue as Normal NC. */
  readonly instrFetchFromDevice: 'nc' | 'fault';
  /** Data access to stage-1 Allocation Tagged memory with SCTLR_EL1.C=0: `Unpredictable_S1CTAGGED`, tags kept or dropped. */
  readonly s1CacheOffTags: 'untagged' | 'keep';
  /** IMPLEMENTATION DEFINED "Apply effective shareability at stage 1" (`AArch64.S1Translate`) when HCR_EL2.VM=1. */
  readonly effectiveShareabilityAtS1: boolean;
}

/**
 * Defaults (see the reply in the MMU issue for the reasoning):
 * features on, so every encoding of the current architecture decodes as such and a preset that
 * lacks a feature says so; every reserved encoding resolves to the most restrictive permitted
 * outcome; and where the ASL code itself picks one outcome of a constrained choice, that one.
 */
export const DEFAULT_ATTR_OPTIONS: AttrOptions = Object.freeze({
  featXS: true,
  featMTE2: true,
  featMTEPerm: false,
  reservedMair: 0x00,
  reservedShareability: 'OSH',
  s2ReservedCacheability: 'NC',
  fwbReserved: 'as-101',
  instrFetchFromDevice: 'nc',
  s1CacheOffTags: 'untagged',
  effectiveShareabilityAtS1: false,
});

const OPTION_VALUES: { readonly [K in keyof AttrOptions]: readonly unknown[] | 'boolean' | 'mair' } = {
  featXS: 'boolean',
  featMTE2: 'boolean',
  featMTEPerm: 'boolean',
  reservedMair: 'mair',
  reservedShareability: ['OSH', 'ISH', 'NSH'],
  s2ReservedCacheability: ['NC', 'WT', 'WB'],
  fwbReserved: ['as-101', 'as-111', 'device-nGnRnE'],
  instrFetchFromDevice: ['nc', 'fault'],
  s1CacheOffTags: ['untagged', 'keep'],
  effectiveShareabilityAtS1: 'boolean',
};

/**
 * Checks user-supplied overrides once and returns frozen options. Unknown keys and bad values are
 * `UserError`s naming `path.key` and what is accepted.
 */
export function resolveAttrOptions(overrides: Record<string, unknown> = {}, path = 'mmu.attrs'): AttrOptions {
  const out: Record<string, unknown> = { ...DEFAULT_ATTR_OPTIONS };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in OPTION_VALUES)) {
      throw new UserError(`${path}.${key}: unknown key; accepted: ${Object.keys(OPTION_VALUES).join(', ')}`);
    }
    const accepted = OPTION_VALUES[key as keyof AttrOptions];
    if (accepted === 'boolean') {
      if (typeof value !== 'boolean') throw new UserError(`${path}.${key}: expected true or false, got ${JSON.stringify(value)}`);
    } else if (accepted === 'mair') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xff) {
        throw new UserError(`${path}.${key}: expected a MAIR byte 0x00-0xff, got ${JSON.stringify(value)}`);
      }
    } else if (!accepted.includes(value)) {
      throw new UserError(`${path}.${key}: expected one of ${accepted.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`);
    }
    out[key] = value;
  }
  const opts = out as unknown as AttrOptions;
  if (opts.featMTEPerm && !opts.featMTE2) {
    throw new UserError(`${path}.featMTEPerm: FEAT_MTE_PERM needs FEAT_MTE2; set featMTE2 to true or featMTEPerm to false`);
  }
  if (mairIsReserved(opts.reservedMair, opts)) {
    throw new UserError(`${path}.reservedMair: 0x${hex2(opts.reservedMair)} is itself reserved with these features; pick a defined encoding such as 0x00`);
  }
  return Object.freeze(opts);
}


const withSh = (a: number, sh: number): number => (a & ~ATTR_SH_MASK) | (sh << ATTR_SH_SHIFT);
const NC_NC = ATTR_NORMAL | (Cacheability.NC << ATTR_INNER_SHIFT) | (Cacheability.NC << ATTR_OUTER_SHIFT);

// ---------------------------------------------------------------------------------------------
// Stage 1: MAIR attribute byte
// ---------------------------------------------------------------------------------------------

/**
 * `DecodeLDFAttr` for one MAIR nibble, as a packed level: 0b00RW WT transient, 0b0100 NC,
 * 0b01RW WB transient, 0b10RW WT, 0b11RW WB; R = read-allocate, W = write-allocate. Transient
 * only where some allocation hint is set (0b1000/0b1100 are non-transient, 0b0000 is reserved).
 */
const LDF_LEVEL = new Uint8Array(16);
for (let n = 0; n < 16; n++) {
  const cache = (n & 0b0100) === 0 ? Cacheability.WT : n === 0b0100 ? Cacheability.NC : Cacheability.WB;
  if (cache === Cacheability.NC) { LDF_LEVEL[n] = cache; continue; }
  const r = (n & 0b10) !== 0, w = (n & 0b01) !== 0;
  const transient = (r || w) && (n & 0b1000) === 0;
  LDF_LEVEL[n] = cache | (r ? LEVEL_RA : 0) | (w ? LEVEL_WA : 0) | (transient ? LEVEL_TRANSIENT : 0);
}

/** `S1ConstrainUnpredictableRESMAIR` for AArch64 stage 1. */
export function mairIsReserved(attr: number, opts: AttrOptions = DEFAULT_ATTR_OPTIONS): boolean {
  if ((attr & 0xf0) === 0) {
    if ((attr & 0b11) === 0b01) return !opts.featXS; // 0b0000dd01: Device, XS=0
    return (attr & 0b11) !== 0; // 0b0000dd1x
  }
  if (attr === 0x40 || attr === 0xa0) return !opts.featXS;
  if (attr === 0xf0) return !opts.featMTE2;
  return (attr & 0x0f) === 0; // 0bxxxx0000 otherwise
}

/**
 * `DecodeShareability` of a descriptor SH field (0b00 NSH, 0b10 OSH, 0b11 ISH) as the packed
 * shareability bits; SH=0b01 is reserved and resolved by `opts.reservedShareability`, with
 * `ATTR_RESERVED` set.
 */
export function decodeShareability(sh: number, opts: AttrOptions = DEFAULT_ATTR_OPTIONS): number {
  switch (sh & 3) {
    case 0b00: return Shareability.NSH << ATTR_SH_SHIFT;
    case 0b10: return Shareability.OSH << ATTR_SH_SHIFT;
    case 0b11: return Shareability.ISH << ATTR_SH_SHIFT;
    default: return (SHARE_NAMES.indexOf(opts.reservedShareability) << ATTR_SH_SHIFT) | ATTR_RESERVED;
  }
}

/**
 * `S1DecodeMemAttrs` (AArch64 stage 1): the MAIR_EL1 byte selected by the descriptor's AttrIndx,
 * and the descriptor's SH field (kept raw; `EffectiveShareability` is applied later where the
 * ASL applies it). A reserved byte is replaced by `opts.reservedMair` and flagged.
 */
export function decodeMair(attr: number, sh: number, opts: AttrOptions = DEFAULT_ATTR_OPTIONS): number {
  let a = decodeShareability(sh, opts);
  if (mairIsReserved(attr, opts)) {
    attr = opts.reservedMair;
    a |= ATTR_RESERVED;
  }
  const hi = attr >>> 4, lo = attr & 0xf;
  if (hi === 0) {
    // 0b0000ddxx: Device dd; attr[0] is the inverted XS bit (FEAT_XS)
    return a | (((attr >>> 2) & 3) << ATTR_DEVICE_SHIFT) | ((attr & 1) !== 0 ? ATTR_NXS : 0);
  }
  if (attr === 0x40) return a | NC_NC | ATTR_NXS;
  if (attr === 0xa0) return a | ATTR_NORMAL | (LDF_LEVEL[0b1010]! << ATTR_INNER_SHIFT) | (LDF_LEVEL[0b1010]! << ATTR_OUTER_SHIFT) | ATTR_NXS;
  // 0xF0: iWB oWB RWA non-transient, Allocation Tagged, XS=0
  if (attr === 0xf0) return a | ATTR_NORMAL | (WB_RWA_LEVEL << ATTR_INNER_SHIFT) | (WB_RWA_LEVEL << ATTR_OUTER_SHIFT) | ATTR_NXS | ATTR_TAGGED;
  a |= ATTR_NORMAL | (LDF_LEVEL[lo]! << ATTR_INNER_SHIFT) | (LDF_LEVEL[hi]! << ATTR_OUTER_SHIFT);
  if (isWbWb(a)) a |= ATTR_NXS; // XS=0 iff both levels WB
  return a;
}

/**
 * `DecodeSDFAttr` for TCR_ELx.IRGNn/ORGNn and VTCR_EL2.IRGN0/ORGN0: 00 NC, 01 WB-RWA, 10 WT-RA,
 * 11 WB-RA, all non-transient.
 */
const SDF_LEVEL = [
  Cacheability.NC,
  Cacheability.WB | LEVEL_RA | LEVEL_WA,
  Cacheability.WT | LEVEL_RA,
  Cacheability.WB | LEVEL_RA,
] as const;

/**
 * `WalkMemAttrs`: the stage-1 attributes of a translation-table walk access, from TCR_EL1.{IRGNn,
 * ORGNn, SHn} for the TTBR in use. Untagged; XS=0 iff both levels WB. Pass the result as
 * `ctx.s1` with `AccessKind.Walk`.
 */
export function decodeWalkAttrs(irgn: number, orgn: number, sh: number, opts: AttrOptions = DEFAULT_ATTR_OPTIONS): number {
  let a = ATTR_NORMAL | (SDF_LEVEL[irgn & 3] << ATTR_INNER_SHIFT) | (SDF_LEVEL[orgn & 3] << ATTR_OUTER_SHIFT) | decodeShareability(sh, opts);
  if (isWbWb(a)) a |= ATTR_NXS;
  return a;
}

/**
 * The final attributes of a stage-2 translation-table walk access (`AArch64.S2Walk`): VTCR_EL2.
 * {IRGN0, ORGN0, SH0}, made Normal NC (XS kept) by HCR_EL2.CD, then `EffectiveShareability`.
 */
export function s2TableWalkAttrs(irgn0: number, orgn0: number, sh0: number, hcrCD: boolean, opts: AttrOptions = DEFAULT_ATTR_OPTIONS): number {
  let a = decodeWalkAttrs(irgn0, orgn0, sh0, opts);
  if (hcrCD) a = NC_NC | (a & (ATTR_NXS | ATTR_RESERVED | ATTR_SH_MASK));
  return withSh(a, effectiveShareability(a));
}

// ---------------------------------------------------------------------------------------------
// Stage 2: descriptor MemAttr[3:0] (bits 5:2), SH (bits 9:8), FnXS (bit 11)
// ---------------------------------------------------------------------------------------------

const CACHE_BY_NAME = { NC: Cacheability.NC, WT: Cacheability.WT, WB: Cacheability.WB } as const;

/**
 * Decodes a stage-2 leaf descriptor's memory attributes.
 *
 * FWB=0 (`S2DecodeMemAttrs`): 0b00dd is Device dd; otherwise [3:2] is outer and [1:0] inner
 * cacheability (01 NC, 10 WT, 11 WB), with no allocation hints (those always come from stage 1).
 * Inner 0b00 is reserved: `opts.s2ReservedCacheability`, flagged; except that with
 * `opts.featMTEPerm` 0b0100 is Normal iWB oWB NoTagAccess (`ATTR_NOTAGACCESS`, not reserved).
 *
 * FWB=1 (`AArch64.S2ApplyFWBMemAttrs`): MemAttr[3] is RES0 and ignored (flagged if set), except
 * that with `opts.featMTEPerm` 0b1110 and 0b1111 are 0b110/0b111 with NoTagAccess;
 * [2:0] 0b0dd Device dd (combined with a stage-1 Device type), 0b101 NC (stage-1 Device kept),
 * 0b110 force WB, 0b111 use stage 1, 0b100 reserved (`opts.fwbReserved`, flagged). The result is
 * a directive for `combineS1S2`, marked `ATTR_S2_FWB`, not a memory type of its own.
 *
 * `fnxs` is descriptor bit 11 (FEAT_XS): the result has XS=0 when set.
 */
export function decodeS2MemAttr(memAttr: number, sh: number, fwb: boolean, fnxs = false, opts: AttrOptions = DEFAULT_ATTR_OPTIONS): number {
  let a = decodeShareability(sh, opts) | (fnxs ? ATTR_NXS : 0);
  if (!fwb) {
    if ((memAttr & 0b1100) === 0) return a | ((memAttr & 3) << ATTR_DEVICE_SHIFT);
    if (memAttr === 0b0100 && opts.featMTEPerm) {
      // S2DecodeMemAttrs: S2DecodeCacheability('11') at both levels; notagaccess
      return a | ATTR_NORMAL | ATTR_NOTAGACCESS | (Cacheability.WB << ATTR_INNER_SHIFT) | (Cacheability.WB << ATTR_OUTER_SHIFT);
    }
    let inner = memAttr & 3;
    if (inner === 0) {
      inner = CACHE_BY_NAME[opts.s2ReservedCacheability];
      a |= ATTR_RESERVED;
    }
    return a | ATTR_NORMAL | (inner << ATTR_INNER_SHIFT) | (((memAttr >>> 2) & 3) << ATTR_OUTER_SHIFT);
  }
  a |= ATTR_S2_FWB;
  if (memAttr & 0b1000) {
    // Descriptor bit 5: NoTagAccess with FEAT_MTE_PERM when [2:1] is 0b11 (AArch64.S2ApplyFWBMemAttrs:
    // s2_attr[3:1] == '111'); otherwise RES0, and the ASL ignores it when decoding.
    if (opts.featMTEPerm && (memAttr & 0b0110) === 0b0110) a |= ATTR_NOTAGACCESS;
    else a |= ATTR_RESERVED;
  }
  let op = memAttr & 0b111;
  if (op === 0b100) {
    a |= ATTR_RESERVED;
    if (opts.fwbReserved === 'as-111') op = 0b111;
    else if (opts.fwbReserved === 'device-nGnRnE') op = 0b000;
    else op = 0b101;
  }
  if ((op & 0b100) === 0) return a | ((op & 3) << ATTR_DEVICE_SHIFT);
  if (op === 0b111) return a | ATTR_S2_USE_S1;
  if (op === 0b110) return a | ATTR_NORMAL | (Cacheability.WB << ATTR_INNER_SHIFT) | (Cacheability.WB << ATTR_OUTER_SHIFT);
  return a | NC_NC; // 0b101
}

// ---------------------------------------------------------------------------------------------
// Combination
// ---------------------------------------------------------------------------------------------

/**
 * `S2CombineS1AttrHints` on packed levels: NC beats WT beats WB; allocation and transient hints
 * always come from stage 1 (so stage-1 WB-transient under stage-2 WT is WT-transient).
 */
function combineLevel(l1: number, l2: number): number {
  const c = Math.min(l1 & LEVEL_CACHE_MASK, l2 & LEVEL_CACHE_MASK);
  return c <= Cacheability.NC ? Cacheability.NC : c | (l1 & LEVEL_HINTS);
}

/** FWB 0b110 per level: WB, keeping stage 1's hints if stage 1 is Normal and this level is not NC, else RWA non-transient. */
function fwbWbLevel(s1: number, shift: number): number {
  const l1 = (s1 >>> shift) & LEVEL_MASK;
  if ((s1 & ATTR_NORMAL) !== 0 && (l1 & LEVEL_CACHE_MASK) !== Cacheability.NC) return Cacheability.WB | (l1 & LEVEL_HINTS);
  return Cacheability.WB | LEVEL_RA | LEVEL_WA;
}

/**
 * Combines decoded stage-1 attributes with decoded stage-2 attributes, giving a final word.
 *
 * With an FWB=0 stage-2 word this is `S2CombineS1MemAttrs`: Device beats Normal (the Device side
 * is taken unchanged; both Device gives the more restrictive kind, `S2CombineS1Device`), Normal is
 * combined per level, Allocation Tagged survives only as iWB oWB RWA non-transient (`S2MemTagType`),
 * XS=0 for iWB oWB else s1.XS AND s2.XS, shareability OSH > ISH > NSH (`S2CombineS1Shareability`)
 * then `EffectiveShareability`.
 *
 * With an FWB=1 stage-2 word it is `AArch64.S2ApplyFWBMemAttrs` (stage 2 overrides or defers to
 * stage 1 as described at `decodeS2MemAttr`), with the same shareability and tag rules; FnXS
 * forces XS=0.
 *
 * HCR_EL2.CD/ID are not applied here (their order relative to the combination differs between
 * FWB=0 and FWB=1): use `effectiveAttrs`. `ATTR_NOTAGACCESS` is set when a NoTagAccess stage 2
 * meets a Tagged stage 1 (see there for what the caller must check).
 */
export function combineS1S2(s1: number, s2: number, opts: AttrOptions = DEFAULT_ATTR_OPTIONS): number {
  let r: number;
  const n1 = (s1 & ATTR_NORMAL) !== 0, n2 = (s2 & ATTR_NORMAL) !== 0;
  if ((s2 & ATTR_S2_FWB) === 0) {
    if (!n1 && !n2) r = Math.min(s1 & ATTR_DEVICE_MASK, s2 & ATTR_DEVICE_MASK);
    else if (!n1) r = s1 & ATTR_DEVICE_MASK;
    else if (!n2) r = s2 & ATTR_DEVICE_MASK;
    else {
      r = ATTR_NORMAL
        | (combineLevel(s1 >>> ATTR_INNER_SHIFT, s2 >>> ATTR_INNER_SHIFT) << ATTR_INNER_SHIFT)
        | (combineLevel(s1 >>> ATTR_OUTER_SHIFT, s2 >>> ATTR_OUTER_SHIFT) << ATTR_OUTER_SHIFT);
    }
    r |= isWbWb(r) ? ATTR_NXS : (s1 | s2) & ATTR_NXS;
  } else {
    if ((s2 & ATTR_S2_USE_S1) !== 0) {
      r = s1 & (TYPE_MASK | ATTR_NXS); // 0b111
    } else if (!n2) {
      // 0b0dd: Device; if stage 1 is Device too, the more restrictive kind; XS from stage 1
      r = (n1 ? s2 & ATTR_DEVICE_MASK : Math.min(s1 & ATTR_DEVICE_MASK, s2 & ATTR_DEVICE_MASK)) | (s1 & ATTR_NXS);
    } else if (((s2 >>> ATTR_INNER_SHIFT) & LEVEL_CACHE_MASK) === Cacheability.WB) {
      // 0b110: forced WB even over stage-1 Device; XS=0
      r = ATTR_NORMAL | ATTR_NXS | (fwbWbLevel(s1, ATTR_INNER_SHIFT) << ATTR_INNER_SHIFT) | (fwbWbLevel(s1, ATTR_OUTER_SHIFT) << ATTR_OUTER_SHIFT);
    } else {
      // 0b101: stage-1 Device stays Device; otherwise NC at both levels (XS from stage 1)
      r = (n1 ? NC_NC : s1 & ATTR_DEVICE_MASK) | (s1 & ATTR_NXS);
    }
    r |= s2 & ATTR_NXS; // FnXS
  }
  if (opts.featMTE2 && (s1 & ATTR_TAGGED) !== 0 && isWbRwaNt(r)) r |= ATTR_TAGGED;
  // S2CombineS1MemAttrs: notagaccess = s2.notagaccess && s1.tags == AllocationTagged. (The FWB form
  // tests the combined tags instead; 0b1110/0b1111 keep a tagged stage 1 WB-RWA, so the same.)
  if ((s2 & ATTR_NOTAGACCESS) !== 0 && (s1 & ATTR_TAGGED) !== 0) r |= ATTR_NOTAGACCESS;
  r |= (s1 | s2) & ATTR_RESERVED;
  const sh = Math.min(attrShare(s1), attrShare(s2));
  return withSh(r, (r & ATTR_NORMAL) === 0 || isNcNc(r) ? Shareability.OSH : sh);
}

// ---------------------------------------------------------------------------------------------
// Controls: SCTLR_EL1, HCR_EL2
// ---------------------------------------------------------------------------------------------

/** The register bits and decoded stage words `effectiveAttrs` needs. Reuse one object per walker. */
export interface AttrContext {
  access: AccessKind;
  /** EL2 is implemented and enabled in the current Security state (`EL2Enabled()`). */
  el2Enabled: boolean;
  hcrVM: boolean;
  /** Default Cacheability: stage 1 off (Normal WB, NSH), stage 2 forced on. */
  hcrDC: boolean;
  /** With DC=1, the stage-1-off default is Allocation Tagged (FEAT_MTE2). */
  hcrDCT: boolean;
  /** Must match how `s2` was decoded. */
  hcrFWB: boolean;
  /** Stage-2 Normal becomes NC for data accesses and walks. */
  hcrCD: boolean;
  /** Stage-2 attributes become NC for instruction fetches. */
  hcrID: boolean;
  /** Stage-1 walks to stage-2 Device memory fault. */
  hcrPTW: boolean;
  sctlrM: boolean;
  sctlrC: boolean;
  sctlrI: boolean;
  /** Decoded stage 1 (`decodeMair`, or `decodeWalkAttrs` for a walk); ignored when stage 1 is disabled. */
  s1: number;
  /** Decoded stage 2 (`decodeS2MemAttr`); ignored when stage 2 is disabled. */
  s2: number;
}

/** `AArch64.S1Enabled` for EL1&0 (TGE=0): SCTLR_EL1.M, unless HCR_EL2.DC overrides it. */
export const stage1Enabled = (ctx: Pick<AttrContext, 'sctlrM' | 'el2Enabled' | 'hcrDC'>): boolean =>
  ctx.sctlrM && !(ctx.el2Enabled && ctx.hcrDC);
/** Stage 2 runs when EL2 is enabled and HCR_EL2.VM or HCR_EL2.DC is set (`AArch64.GetS2TTWParams`: vm = VM OR DC). */
export const stage2Enabled = (ctx: Pick<AttrContext, 'el2Enabled' | 'hcrVM' | 'hcrDC'>): boolean =>
  ctx.el2Enabled && (ctx.hcrVM || ctx.hcrDC);

/**
 * `AArch64.S1DisabledOutput`: stage-1 attributes when stage 1 is off.
 * - EL2 enabled and HCR_EL2.DC=1, data and fetch alike: Normal iWB oWB RWA, **Non-shareable**,
 *   XS=0, Tagged if HCR_EL2.DCT (FEAT_MTE2); SCTLR_EL1.C/I ignored.
 * - Instruction fetch: Normal OSH, XS=1; iWT oWT RA non-transient (0xAA, not WB) if SCTLR_EL1.I,
 *   else iNC oNC.
 * - Data: Device-nGnRnE, OSH, XS=1 (the word 0).
 */
export function s1DisabledAttrs(
  ctx: Pick<AttrContext, 'access' | 'el2Enabled' | 'hcrDC' | 'hcrDCT' | 'sctlrI'>,
  opts: AttrOptions = DEFAULT_ATTR_OPTIONS,
): number {
  if (ctx.access === AccessKind.Walk) throw new Error('s1DisabledAttrs: there is no stage-1 walk with stage 1 disabled');
  if (ctx.el2Enabled && ctx.hcrDC) return NORMAL_WB_RWA_NSH | (ctx.hcrDCT && opts.featMTE2 ? ATTR_TAGGED : 0);
  if (ctx.access === AccessKind.Fetch) return ctx.sctlrI ? NORMAL_WT_RA_OSH : NORMAL_NC_OSH;
  return DEVICE_nGnRnE;
}

/**
 * The final attributes of an access, or a negative `ATTR_FAULT_*` code for a Permission fault
 * that depends only on memory type. Order as in `AArch64.S1Translate` then `AArch64.S2Translate`:
 *
 * 1. Stage 1 off: `s1DisabledAttrs`. Stage 1 on: `ctx.s1`, then
 *    - fetch from Device: `opts.instrFetchFromDevice` fault, else (and for any fetch with
 *      SCTLR_EL1.I=0) Normal NC, XS kept;
 *    - data or walk to Normal with SCTLR_EL1.C=0: Normal NC, XS kept (tags per `opts.s1CacheOffTags`);
 *    - shareability: the raw descriptor SH if EL2 is enabled with HCR_EL2.VM=1 (unless
 *      `opts.effectiveShareabilityAtS1`), else `EffectiveShareability`.
 * 2. Stage 2 off: that is the answer.
 * 3. Stage 2 on: walk = the FWB combination (FWB=1) or the stage-2 decode (FWB=0); a fetch from
 *    walk=Device may fault; a stage-1 walk to walk=Device faults if HCR_EL2.PTW; walk becomes
 *    Normal NC OSH (XS kept) for a walk to Device, for a fetch from Device or with HCR_EL2.ID, and
 *    for data/walks to Normal with HCR_EL2.CD; FWB=0 then combines with stage 1.
 *    So CD/ID act after the FWB combination but before the FWB=0 one.
 */
export function effectiveAttrs(ctx: AttrContext, opts: AttrOptions = DEFAULT_ATTR_OPTIONS): number {
  const isFetch = ctx.access === AccessKind.Fetch;
  let s1: number;
  if (!stage1Enabled(ctx)) {
    s1 = s1DisabledAttrs(ctx, opts);
  } else {
    const raw = ctx.s1;
    s1 = raw;
    if (isFetch) {
      if ((raw & ATTR_NORMAL) === 0 && opts.instrFetchFromDevice === 'fault') return ATTR_FAULT_S1_PERMISSION;
      if ((raw & ATTR_NORMAL) === 0 || !ctx.sctlrI) s1 = NC_NC | (raw & (ATTR_NXS | ATTR_RESERVED));
    } else if (!ctx.sctlrC && (raw & ATTR_NORMAL) !== 0) {
      s1 = NC_NC | (raw & (ATTR_NXS | ATTR_RESERVED)) | (opts.s1CacheOffTags === 'keep' ? raw & ATTR_TAGGED : 0);
    }
    s1 = ctx.el2Enabled && ctx.hcrVM && !opts.effectiveShareabilityAtS1
      ? withSh(s1, attrShare(raw))
      : withSh(s1, effectiveShareability(withSh(s1, attrShare(raw))));
  }
  if (!stage2Enabled(ctx)) return s1;

  const s2 = ctx.s2;
  const fwb = (s2 & ATTR_S2_FWB) !== 0;
  if (fwb !== ctx.hcrFWB) throw new Error(`effectiveAttrs: stage-2 word was decoded with FWB=${fwb ? 1 : 0} but HCR_EL2.FWB=${ctx.hcrFWB ? 1 : 0}`);
  let walk = fwb ? combineS1S2(s1, s2, opts) : s2;
  const walkIsDevice = (walk & ATTR_NORMAL) === 0;
  if (walkIsDevice) {
    if (ctx.access === AccessKind.Walk && ctx.hcrPTW) return ATTR_FAULT_S2_PERMISSION;
    if (isFetch && opts.instrFetchFromDevice === 'fault') return ATTR_FAULT_S2_PERMISSION;
  }
  if (isFetch ? walkIsDevice || ctx.hcrID : walkIsDevice ? ctx.access === AccessKind.Walk : ctx.hcrCD) {
    walk = NORMAL_NC_OSH | (walk & (ATTR_NXS | ATTR_RESERVED)); // NormalNCMemAttr(), XS kept
  }
  const r = fwb ? walk : combineS1S2(s1, walk, opts);
  if ((s2 & ATTR_NOTAGACCESS) === 0) return r;
  // AArch64.S2CheckPermissions tests permissions.s2tag_na and the stage-1 tags, so the NoTagAccess
  // check survives HCR_EL2.CD; only data accesses can be tag accesses or tag-checked.
  return ctx.access === AccessKind.Data && (s1 & ATTR_TAGGED) !== 0 ? r | ATTR_NOTAGACCESS : r & ~ATTR_NOTAGACCESS;
}

// ---------------------------------------------------------------------------------------------
// Reasons: which reserved or CONSTRAINED UNPREDICTABLE inputs an access met (cold path)
// ---------------------------------------------------------------------------------------------

/** `attrReasons` bits. The names (`REASON_NAMES`) follow the ASL's `Unpredictable_*` where there is one. */
export const Reason = {
  /** A reserved MAIR byte (`S1ConstrainUnpredictableRESMAIR`, `Unpredictable_RESMAIR`), replaced by `opts.reservedMair`. */
  RESMAIR: 1 << 0,
  /** Stage-1 descriptor SH, or TCR_EL1.SHn for a walk, is 0b01 (`DecodeShareability`, `Unpredictable_Shareability`). */
  SH_RESERVED_S1: 1 << 1,
  /** Stage-2 descriptor SH is 0b01. */
  SH_RESERVED_S2: 1 << 2,
  /** FWB=0 stage-2 MemAttr with inner 0b00 (`S2DecodeCacheability`, `Unpredictable_S2RESMEMATTR`). */
  S2RESMEMATTR: 1 << 3,
  /** FWB=1 stage-2 MemAttr[2:0] 0b100, reserved (`opts.fwbReserved`). */
  S2FWB_RESERVED: 1 << 4,
  /** FWB=1 stage-2 MemAttr[3] (descriptor bit 5) set where it is RES0; the ASL ignores it. */
  S2FWB_RES0: 1 << 5,
  /** Instruction fetch from stage-1 Device (`AArch64.S1CheckPermissions`, `Unpredictable_INSTRDEVICE`). */
  INSTRDEVICE_S1: 1 << 6,
  /** Instruction fetch from stage-2 Device (`AArch64.S2CheckPermissions`, `Unpredictable_INSTRDEVICE`). */
  INSTRDEVICE_S2: 1 << 7,
  /** Data access to stage-1 Allocation Tagged memory with SCTLR_EL1.C=0 (`Unpredictable_S1CTAGGED`). */
  S1CTAGGED: 1 << 8,
} as const;

/** Reason names in bit order. */
export const REASON_NAMES: readonly (keyof typeof Reason)[] = Object.keys(Reason) as (keyof typeof Reason)[];

/** The raw encodings `attrReasons` needs besides the context (the decoded words only say "reserved", not which). */
export interface AttrRawEncodings {
  /** MAIR_EL1 byte selected by the stage-1 descriptor (data and fetch). */
  mair: number;
  /** Stage-1 descriptor SH (data and fetch). */
  s1sh: number;
  /** TCR_EL1.SHn (walks). */
  tcrSh: number;
  /** Stage-2 descriptor MemAttr[3:0]. */
  s2MemAttr: number;
  /** Stage-2 descriptor SH. */
  s2sh: number;
}

/**
 * The reserved or CONSTRAINED UNPREDICTABLE inputs that the access `ctx` meets, as `Reason` bits.
 * An input counts only where the translation reads it: stage-1 encodings when stage 1 is enabled
 * (MAIR and descriptor SH for data and fetch, TCR SH for a walk), stage-2 encodings when stage 2
 * is enabled, and a fetch from stage-2 Device only if a stage-1 INSTRDEVICE fault did not end it.
 * Recomputes the checks so the decoders stay as they are: allocation-free, but not for hot code.
 */
export function attrReasons(ctx: AttrContext, raw: AttrRawEncodings, opts: AttrOptions = DEFAULT_ATTR_OPTIONS): number {
  let r = 0;
  const isFetch = ctx.access === AccessKind.Fetch;
  if (stage1Enabled(ctx)) {
    if (ctx.access === AccessKind.Walk) {
      if ((raw.tcrSh & 3) === 0b01) r |= Reason.SH_RESERVED_S1;
    } else {
      if (mairIsReserved(raw.mair & 0xff, opts)) r |= Reason.RESMAIR;
      if ((raw.s1sh & 3) === 0b01) r |= Reason.SH_RESERVED_S1;
      const s1Device = (ctx.s1 & ATTR_NORMAL) === 0;
      if (isFetch && s1Device) {
        r |= Reason.INSTRDEVICE_S1;
        if (opts.instrFetchFromDevice === 'fault') return r; // AArch64.S1CheckPermissions faults: stage 2 never runs
      }
      if (ctx.access === AccessKind.Data && !ctx.sctlrC && !s1Device && (ctx.s1 & ATTR_TAGGED) !== 0) r |= Reason.S1CTAGGED;
    }
  }
  if (!stage2Enabled(ctx)) return r;
  const m = raw.s2MemAttr & 0xf;
  if ((raw.s2sh & 3) === 0b01) r |= Reason.SH_RESERVED_S2;
  if (!ctx.hcrFWB) {
    if ((m & 0b1100) !== 0 && (m & 0b11) === 0 && !(m === 0b0100 && opts.featMTEPerm)) r |= Reason.S2RESMEMATTR;
  } else {
    if ((m & 0b111) === 0b100) r |= Reason.S2FWB_RESERVED;
    if ((m & 0b1000) !== 0 && !(opts.featMTEPerm && (m & 0b0110) === 0b0110)) r |= Reason.S2FWB_RES0;
  }
  // For a fetch the stage-1 side is always Normal by now (Device became NC), so the FWB
  // combination is Device exactly when the stage-2 word is a Device one (AArch64.S2ApplyFWBMemAttrs).
  if (isFetch && (ctx.s2 & ATTR_NORMAL) === 0 && (ctx.s2 & ATTR_S2_USE_S1) === 0) r |= Reason.INSTRDEVICE_S2;
  return r;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
