/**
 * The packed memory-attribute word every request carries (`RequestTable.attrs`): memory type,
 * Device kind, inner and outer cacheability with allocation and transient hints, shareability,
 * MTE Tagged, XS. The caches, the home node and the targets read it with the accessors here; the
 * MMU (src/mmu/attrs.ts) produces it from descriptors and registers as the Arm ARM says.
 *
 * Contract: accessors and constants are allocation-free; the readable forms (`unpackAttrs`,
 * `formatAttrs`, `packAttrs`) are for configuration, tests and reports.
 */
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
//  bit  20     NOTAGACCESS FEAT_MTE_PERM stage-2 NoTagAccess (mmu/attrs.ts ATTR_NOTAGACCESS); in a final
//                          word only for a Tagged data access, which the walker turns into a stage-2 Permission fault
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
export const LEVEL_HINTS = LEVEL_RA | LEVEL_WA | LEVEL_TRANSIENT;

export const INNER_MASK = LEVEL_MASK << ATTR_INNER_SHIFT;
export const OUTER_MASK = LEVEL_MASK << ATTR_OUTER_SHIFT;
/** The type part of a word: memory type, device kind and both levels. */
export const TYPE_MASK = ATTR_NORMAL | ATTR_DEVICE_MASK | INNER_MASK | OUTER_MASK;

/** Device memory types, most restrictive first (`DecodeDevice`: MAIR/MemAttr dd). */
export const DeviceKind = { nGnRnE: 0, nGnRE: 1, nGRE: 2, GRE: 3 } as const;
export type DeviceKind = (typeof DeviceKind)[keyof typeof DeviceKind];

/** Cacheability of one level, most restrictive first. 0 is "none" (a Device word). */
export const Cacheability = { None: 0, NC: 1, WT: 2, WB: 3 } as const;
export type Cacheability = (typeof Cacheability)[keyof typeof Cacheability];

/** Shareability, most restrictive first. Not the descriptor SH encoding: see `decodeShareability`. */
export const Shareability = { OSH: 0, ISH: 1, NSH: 2 } as const;
export type Shareability = (typeof Shareability)[keyof typeof Shareability];

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

export const isNcNc = (a: number): boolean =>
  ((a >>> ATTR_INNER_SHIFT) & LEVEL_CACHE_MASK) === Cacheability.NC && ((a >>> ATTR_OUTER_SHIFT) & LEVEL_CACHE_MASK) === Cacheability.NC;
export const isWbWb = (a: number): boolean =>
  (a & ATTR_NORMAL) !== 0 &&
  ((a >>> ATTR_INNER_SHIFT) & LEVEL_CACHE_MASK) === Cacheability.WB && ((a >>> ATTR_OUTER_SHIFT) & LEVEL_CACHE_MASK) === Cacheability.WB;
/** Normal iWB oWB, RWA, non-transient at both levels: the only memory that keeps an Allocation Tag (`S2MemTagType`). */
export const WB_RWA_LEVEL = Cacheability.WB | LEVEL_RA | LEVEL_WA;
export const isWbRwaNt = (a: number): boolean =>
  (a & ATTR_NORMAL) !== 0 && ((a >>> ATTR_INNER_SHIFT) & LEVEL_MASK) === WB_RWA_LEVEL && ((a >>> ATTR_OUTER_SHIFT) & LEVEL_MASK) === WB_RWA_LEVEL;

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
export const SHARE_NAMES: readonly ShareName[] = ['OSH', 'ISH', 'NSH'];

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
/**
 * Not an attribute word: "use the default attributes of the region the address falls in" (Normal
 * WB for dram and cacheable-device regions, Device-nGnRE for device regions). Programs and traces
 * that do not model the MMU send this; the caches' port resolves it.
 */
export const ATTRS_REGION_DEFAULT = 0x8000_0000;
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
