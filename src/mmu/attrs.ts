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
 */
import { UserError } from '../sim/index.js';

// ---------------------------------------------------------------------------------------------
// Packed layout
//
//  bit  0      NORMAL      0 = Device, 1 = Normal
//  bits 2:1    device kind 0 nGnRnE, 1 nGnRE, 2 nGRE, 3 GRE (0 for Normal)
//  bits 7:3    inner level [4:3] cacheability (0 none/Device, 1 NC, 2 WT, 3 WB), 5 RA, 6 WA, 7 transient
//  bits 12:8   outer level, same sub-layout shifted by 5
//  bits 14:13  shareability 0 OSH, 1 ISH, 2 NSH
//  bit  15     TAGGED      MTE Allocation Tagged
//  bit  16     NXS         the XS attribute is 0 (so 0 means XS=1, as for MAIR 0x00)
//  bit  17     RESERVED    some input was a reserved encoding (MAIR, SH=0b01, S2 MemAttr)
//  bit  18     S2_FWB      stage-2 word decoded in the FEAT_S2FWB form (never in a final word)
//  bit  19     S2_USE_S1   FWB MemAttr 0b111: "use the stage-1 attributes" (never in a final word)
//
// Every numeric order is "smaller = more restrictive" (nGnRnE < GRE, NC < WT < WB, OSH < ISH < NSH),
// so each combination rule of the ASL is a `Math.min`. The word 0 is Device-nGnRnE, OSH, XS=1,
// exactly what a data access with stage 1 disabled gets (`AArch64.S1DisabledOutput`).
// ---------------------------------------------------------------------------------------------

export const ATTR_NORMAL = 1 << 0;
export const ATTR_DEVICE_SHIFT = 1;
export const ATTR_DEVICE_MASK = 0x3 << ATTR_DEVICE_SHIFT;
export const ATTR_INNER_SHIFT = 3;
export const ATTR_OUTER_SHIFT = 8;
export const ATTR_SH_SHIFT = 13;
export const ATTR_SH_MASK = 0x3 << ATTR_SH_SHIFT;
export const ATTR_TAGGED = 1 << 15;
export const ATTR_NXS = 1 << 16;
export const ATTR_RESERVED = 1 << 17;
export const ATTR_S2_FWB = 1 << 18;
export const ATTR_S2_USE_S1 = 1 << 19;

/** Sub-layout of one cacheability level (inner or outer), before shifting. */
export const LEVEL_MASK = 0x1f;
export const LEVEL_CACHE_MASK = 0x3;
export const LEVEL_RA = 1 << 2;
export const LEVEL_WA = 1 << 3;
export const LEVEL_TRANSIENT = 1 << 4;
const LEVEL_HINTS = LEVEL_RA | LEVEL_WA | LEVEL_TRANSIENT;

const INNER_MASK = LEVEL_MASK << ATTR_INNER_SHIFT;
const OUTER_MASK = LEVEL_MASK << ATTR_OUTER_SHIFT;
/** The type part of a word: memory type, device kind and both levels. */
const TYPE_MASK = ATTR_NORMAL | ATTR_DEVICE_MASK | INNER_MASK | OUTER_MASK;

/** Device memory types, most restrictive first (`DecodeDevice`: MAIR/MemAttr dd). */
export const DeviceKind = { nGnRnE: 0, nGnRE: 1, nGRE: 2, GRE: 3 } as const;
export type DeviceKind = (typeof DeviceKind)[keyof typeof DeviceKind];

/** Cacheability of one level, most restrictive first. 0 is "none" (a Device word). */
export const Cacheability = { None: 0, NC: 1, WT: 2, WB: 3 } as const;
export type Cacheability = (typeof Cacheability)[keyof typeof Cacheability];

/** Shareability, most restrictive first. Not the descriptor SH encoding: see `decodeShareability`. */
export const Shareability = { OSH: 0, ISH: 1, NSH: 2 } as const;
export type Shareability = (typeof Shareability)[keyof typeof Shareability];

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

// ---------------------------------------------------------------------------------------------
// Options: every choice the architecture leaves open
// ---------------------------------------------------------------------------------------------

export interface AttrOptions {
  /** FEAT_XS: MAIR 0x40 (NC, XS=0), 0xA0 (WT-RA, XS=0) and 0b0000dd01 (Device, XS=0) are defined; reserved without it. */
  readonly featXS: boolean;
  /** FEAT_MTE2: MAIR 0xF0 is Normal WB-RWA Allocation Tagged (reserved without it); HCR_EL2.DCT tags; tags survive combination. */
  readonly featMTE2: boolean;
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
  if (mairIsReserved(opts.reservedMair, opts)) {
    throw new UserError(`${path}.reservedMair: 0x${hex2(opts.reservedMair)} is itself reserved with these features; pick a defined encoding such as 0x00`);
  }
  return Object.freeze(opts);
}

// ---------------------------------------------------------------------------------------------
// Accessors
// ---------------------------------------------------------------------------------------------

export const attrIsDevice = (a: number): boolean => (a & ATTR_NORMAL) === 0;
export const attrIsNormal = (a: number): boolean => (a & ATTR_NORMAL) !== 0;
/** Device kind (0 nGnRnE .. 3 GRE); 0 for a Normal word, so test `attrIsDevice` first. */
export const attrDeviceKind = (a: number): DeviceKind => ((a >>> ATTR_DEVICE_SHIFT) & 3) as DeviceKind;
/** Inner cacheability; `Cacheability.None` (0) for Device. */
export const attrInnerCache = (a: number): Cacheability => ((a >>> ATTR_INNER_SHIFT) & LEVEL_CACHE_MASK) as Cacheability;
/** Outer cacheability; `Cacheability.None` (0) for Device. */
export const attrOuterCache = (a: number): Cacheability => ((a >>> ATTR_OUTER_SHIFT) & LEVEL_CACHE_MASK) as Cacheability;
/** True when inner caches may hold the line (Normal inner WT or WB). */
export const attrIsInnerCacheable = (a: number): boolean => attrInnerCache(a) >= Cacheability.WT;
/** True when outer caches may hold the line (Normal outer WT or WB). */
export const attrIsOuterCacheable = (a: number): boolean => attrOuterCache(a) >= Cacheability.WT;
export const attrInnerReadAllocate = (a: number): boolean => ((a >>> ATTR_INNER_SHIFT) & LEVEL_RA) !== 0;
export const attrInnerWriteAllocate = (a: number): boolean => ((a >>> ATTR_INNER_SHIFT) & LEVEL_WA) !== 0;
export const attrInnerTransient = (a: number): boolean => ((a >>> ATTR_INNER_SHIFT) & LEVEL_TRANSIENT) !== 0;
export const attrOuterReadAllocate = (a: number): boolean => ((a >>> ATTR_OUTER_SHIFT) & LEVEL_RA) !== 0;
export const attrOuterWriteAllocate = (a: number): boolean => ((a >>> ATTR_OUTER_SHIFT) & LEVEL_WA) !== 0;
export const attrOuterTransient = (a: number): boolean => ((a >>> ATTR_OUTER_SHIFT) & LEVEL_TRANSIENT) !== 0;
export const attrShare = (a: number): Shareability => ((a >>> ATTR_SH_SHIFT) & 3) as Shareability;
export const attrIsTagged = (a: number): boolean => (a & ATTR_TAGGED) !== 0;
/** The XS attribute (FEAT_XS): true unless the memory is marked XS=0. */
export const attrXS = (a: number): boolean => (a & ATTR_NXS) === 0;
export const attrIsReserved = (a: number): boolean => (a & ATTR_RESERVED) !== 0;

/** `EffectiveShareability`: Device, or Normal Non-cacheable at both levels, is Outer Shareable. */
export function effectiveShareability(a: number): Shareability {
  if ((a & ATTR_NORMAL) === 0 || isNcNc(a)) return Shareability.OSH;
  return attrShare(a);
}

const isNcNc = (a: number): boolean =>
  ((a >>> ATTR_INNER_SHIFT) & LEVEL_CACHE_MASK) === Cacheability.NC && ((a >>> ATTR_OUTER_SHIFT) & LEVEL_CACHE_MASK) === Cacheability.NC;
const isWbWb = (a: number): boolean =>
  (a & ATTR_NORMAL) !== 0 &&
  ((a >>> ATTR_INNER_SHIFT) & LEVEL_CACHE_MASK) === Cacheability.WB && ((a >>> ATTR_OUTER_SHIFT) & LEVEL_CACHE_MASK) === Cacheability.WB;
/** Normal iWB oWB, RWA, non-transient at both levels: the only memory that keeps an Allocation Tag (`S2MemTagType`). */
const WB_RWA_LEVEL = Cacheability.WB | LEVEL_RA | LEVEL_WA;
const isWbRwaNt = (a: number): boolean =>
  (a & ATTR_NORMAL) !== 0 && ((a >>> ATTR_INNER_SHIFT) & LEVEL_MASK) === WB_RWA_LEVEL && ((a >>> ATTR_OUTER_SHIFT) & LEVEL_MASK) === WB_RWA_LEVEL;
const withSh = (a: number, sh: number): number => (a & ~ATTR_SH_MASK) | (sh << ATTR_SH_SHIFT);

// ---------------------------------------------------------------------------------------------
// Readable form
// ---------------------------------------------------------------------------------------------

export type DeviceKindName = 'nGnRnE' | 'nGnRE' | 'nGRE' | 'GRE';
export type CacheName = 'NC' | 'WT' | 'WB';
export type ShareName = 'OSH' | 'ISH' | 'NSH';

export interface LevelAttrs {
  cache: CacheName;
  readAllocate: boolean;
  writeAllocate: boolean;
  transient: boolean;
}

/** The readable form of a packed word (tests, reports, PAR-like dumps). `unpackAttrs(packAttrs(v))` equals `v`. */
export interface AttrsView {
  memType: 'Device' | 'Normal';
  /** null for Normal. */
  device: DeviceKindName | null;
  /** null for Device. */
  inner: LevelAttrs | null;
  outer: LevelAttrs | null;
  shareability: ShareName;
  tagged: boolean;
  xs: boolean;
  reserved: boolean;
  /** Only for stage-2 words decoded with FWB=1: 'apply' (0dd, 101, 110) or 'useS1' (111). */
  s2fwb: 'no' | 'apply' | 'useS1';
}

/** Input to `packAttrs`: omitted fields take the defaults below. */
export interface AttrsInit {
  memType: 'Device' | 'Normal';
  /** Default 'nGnRnE' for Device. */
  device?: DeviceKindName | null;
  /** Required for Normal; hints default to false. */
  inner?: (Partial<LevelAttrs> & { cache: CacheName }) | null;
  outer?: (Partial<LevelAttrs> & { cache: CacheName }) | null;
  /** Default 'OSH'. */
  shareability?: ShareName;
  tagged?: boolean;
  /** Default as the MAIR decode gives it: false for Normal iWB oWB, true otherwise. */
  xs?: boolean;
  reserved?: boolean;
  s2fwb?: 'no' | 'apply' | 'useS1';
}

const DEVICE_NAMES: readonly DeviceKindName[] = ['nGnRnE', 'nGnRE', 'nGRE', 'GRE'];
const CACHE_NAMES: readonly (CacheName | null)[] = [null, 'NC', 'WT', 'WB'];
const SHARE_NAMES: readonly ShareName[] = ['OSH', 'ISH', 'NSH'];

function packLevel(l: Partial<LevelAttrs> & { cache: CacheName }, which: string): number {
  const c = CACHE_NAMES.indexOf(l.cache);
  if (c < 1) throw new Error(`packAttrs: ${which}.cache must be NC, WT or WB, got ${String(l.cache)}`);
  if (c === Cacheability.NC && (l.readAllocate || l.writeAllocate || l.transient)) {
    throw new Error(`packAttrs: ${which} is NC and cannot carry allocation or transient hints`);
  }
  return c | (l.readAllocate ? LEVEL_RA : 0) | (l.writeAllocate ? LEVEL_WA : 0) | (l.transient ? LEVEL_TRANSIENT : 0);
}

/** Builds a packed word from its readable form. Cold path: validates and throws on a malformed input. */
export function packAttrs(v: AttrsInit): number {
  let a: number;
  if (v.memType === 'Device') {
    if (v.inner || v.outer) throw new Error('packAttrs: a Device word has no inner/outer cacheability');
    const d = DEVICE_NAMES.indexOf(v.device ?? 'nGnRnE');
    if (d < 0) throw new Error(`packAttrs: unknown device kind ${String(v.device)}`);
    a = d << ATTR_DEVICE_SHIFT;
  } else if (v.memType === 'Normal') {
    if (v.device) throw new Error('packAttrs: a Normal word has no device kind');
    if (!v.inner || !v.outer) throw new Error('packAttrs: a Normal word needs inner and outer cacheability');
    a = ATTR_NORMAL | (packLevel(v.inner, 'inner') << ATTR_INNER_SHIFT) | (packLevel(v.outer, 'outer') << ATTR_OUTER_SHIFT);
  } else {
    throw new Error(`packAttrs: memType must be Device or Normal, got ${String(v.memType)}`);
  }
  const sh = SHARE_NAMES.indexOf(v.shareability ?? 'OSH');
  if (sh < 0) throw new Error(`packAttrs: unknown shareability ${String(v.shareability)}`);
  a |= sh << ATTR_SH_SHIFT;
  if (v.tagged) a |= ATTR_TAGGED;
  const xs = v.xs ?? !isWbWb(a);
  if (!xs) a |= ATTR_NXS;
  if (v.reserved) a |= ATTR_RESERVED;
  const fwb = v.s2fwb ?? 'no';
  if (fwb === 'apply') a |= ATTR_S2_FWB;
  else if (fwb === 'useS1') a |= ATTR_S2_FWB | ATTR_S2_USE_S1;
  else if (fwb !== 'no') throw new Error(`packAttrs: s2fwb must be no, apply or useS1, got ${String(fwb)}`);
  return a;
}

function unpackLevel(l: number): LevelAttrs {
  return {
    cache: CACHE_NAMES[l & LEVEL_CACHE_MASK] ?? 'NC',
    readAllocate: (l & LEVEL_RA) !== 0,
    writeAllocate: (l & LEVEL_WA) !== 0,
    transient: (l & LEVEL_TRANSIENT) !== 0,
  };
}

/** The readable form of a packed word (allocates: not for hot code). */
export function unpackAttrs(a: number): AttrsView {
  const normal = (a & ATTR_NORMAL) !== 0;
  return {
    memType: normal ? 'Normal' : 'Device',
    device: normal ? null : DEVICE_NAMES[attrDeviceKind(a)]!,
    inner: normal ? unpackLevel(a >>> ATTR_INNER_SHIFT) : null,
    outer: normal ? unpackLevel(a >>> ATTR_OUTER_SHIFT) : null,
    shareability: SHARE_NAMES[attrShare(a)] ?? 'OSH',
    tagged: (a & ATTR_TAGGED) !== 0,
    xs: (a & ATTR_NXS) === 0,
    reserved: (a & ATTR_RESERVED) !== 0,
    s2fwb: (a & ATTR_S2_USE_S1) !== 0 ? 'useS1' : (a & ATTR_S2_FWB) !== 0 ? 'apply' : 'no',
  };
}

function formatLevel(prefix: string, l: number): string {
  let s = prefix + (CACHE_NAMES[l & LEVEL_CACHE_MASK] ?? '?');
  const ra = (l & LEVEL_RA) !== 0, wa = (l & LEVEL_WA) !== 0;
  if (ra || wa) s += '-' + (ra ? 'R' : '') + (wa ? 'W' : '') + 'A';
  if (l & LEVEL_TRANSIENT) s += '-T';
  return s;
}

/**
 * One line, e.g. 'Normal iWB-RWA oWB-RWA ISH', 'Device-nGnRE OSH', 'Normal iWT-RWA-T oWB ISH Tagged'.
 * XS is shown only where it differs from what the MAIR decode would give (XS=0 for iWB oWB, else 1).
 */
export function formatAttrs(a: number): string {
  const sh = SHARE_NAMES[attrShare(a)] ?? '?';
  let s: string;
  if (a & ATTR_S2_USE_S1) s = `S2FWB use-stage-1 ${sh}`;
  else if ((a & ATTR_NORMAL) === 0) s = `${a & ATTR_S2_FWB ? 'S2FWB ' : ''}Device-${DEVICE_NAMES[attrDeviceKind(a)]} ${sh}`;
  else if (a & ATTR_S2_FWB) s = `S2FWB ${attrInnerCache(a) === Cacheability.WB ? 'force-WB' : 'NC'} ${sh}`;
  else s = `Normal ${formatLevel('i', a >>> ATTR_INNER_SHIFT)} ${formatLevel('o', a >>> ATTR_OUTER_SHIFT)} ${sh}`;
  if (a & ATTR_TAGGED) s += ' Tagged';
  const xs = (a & ATTR_NXS) === 0;
  if ((a & ATTR_S2_FWB) === 0 && xs === isWbWb(a)) s += xs ? ' XS=1' : ' XS=0';
  if (a & ATTR_RESERVED) s += ' (reserved encoding)';
  return s;
}

// ---------------------------------------------------------------------------------------------
// Ready-made words
// ---------------------------------------------------------------------------------------------

const RWA = { readAllocate: true, writeAllocate: true } as const;
/** Device-nGnRnE, OSH, XS=1: MAIR 0x00; a data access with stage 1 disabled. */
export const DEVICE_nGnRnE = 0;
export const DEVICE_nGnRE = packAttrs({ memType: 'Device', device: 'nGnRE' });
export const DEVICE_nGRE = packAttrs({ memType: 'Device', device: 'nGRE' });
export const DEVICE_GRE = packAttrs({ memType: 'Device', device: 'GRE' });
/** MAIR 0xFF with SH=0b11: what Linux uses for RAM. */
export const NORMAL_WB_RWA_ISH = packAttrs({ memType: 'Normal', inner: { cache: 'WB', ...RWA }, outer: { cache: 'WB', ...RWA }, shareability: 'ISH' });
export const NORMAL_WB_RWA_OSH = packAttrs({ memType: 'Normal', inner: { cache: 'WB', ...RWA }, outer: { cache: 'WB', ...RWA }, shareability: 'OSH' });
/** HCR_EL2.DC=1 stage-1 default (`AArch64.S1DisabledOutput`): note Non-shareable. */
export const NORMAL_WB_RWA_NSH = packAttrs({ memType: 'Normal', inner: { cache: 'WB', ...RWA }, outer: { cache: 'WB', ...RWA }, shareability: 'NSH' });
/** MAIR 0xF0 with SH=0b11 (FEAT_MTE2). */
export const NORMAL_TAGGED_WB_RWA_ISH = NORMAL_WB_RWA_ISH | ATTR_TAGGED;
/** MAIR 0xAA: the instruction-fetch default with stage 1 disabled and SCTLR_EL1.I=1. */
export const NORMAL_WT_RA_OSH = packAttrs({ memType: 'Normal', inner: { cache: 'WT', readAllocate: true }, outer: { cache: 'WT', readAllocate: true } });
/** MAIR 0x44 (XS=1): Linux's MT_NORMAL_NC, and `NormalNCMemAttr()`. */
export const NORMAL_NC_OSH = packAttrs({ memType: 'Normal', inner: { cache: 'NC' }, outer: { cache: 'NC' } });
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
 * Inner 0b00 is reserved: `opts.s2ReservedCacheability`, flagged. (FEAT_MTE_PERM's meaning of
 * 0b0100 is not modelled.)
 *
 * FWB=1 (`AArch64.S2ApplyFWBMemAttrs`): MemAttr[3] is RES0 and ignored (flagged if set);
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
    let inner = memAttr & 3;
    if (inner === 0) {
      inner = CACHE_BY_NAME[opts.s2ReservedCacheability];
      a |= ATTR_RESERVED;
    }
    return a | ATTR_NORMAL | (inner << ATTR_INNER_SHIFT) | (((memAttr >>> 2) & 3) << ATTR_OUTER_SHIFT);
  }
  a |= ATTR_S2_FWB;
  if (memAttr & 0b1000) a |= ATTR_RESERVED; // descriptor bit 5 is RES0 with FWB (ASL ignores it)
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
 * FWB=0 and FWB=1): use `effectiveAttrs`.
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
  return fwb ? walk : combineS1S2(s1, walk, opts);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
