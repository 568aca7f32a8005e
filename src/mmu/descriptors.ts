/**
 * VMSAv8-64 translation table descriptors (64-bit, stage 1 and stage 2), read as two 32-bit halves.
 *
 * Arm ARM DDI 0487J.a, D8.3 "Translation table descriptor formats" (D5.3 in issue D.b):
 * "VMSAv8-64 Table descriptor format", "Block descriptor and Page descriptor formats",
 * "Stage 1 / Stage 2 memory attributes and permissions". Bit numbers below are descriptor bits;
 * a field in bits [63:32] is read from `hi` at (bit - 32).
 *
 * Contract: every extractor is pure and allocation-free and works on `lo`/`hi` as given by two
 * little-endian `getUint32` reads (`lo` = bits [31:0]). Output addresses are returned as exact
 * numbers (< 2^52) built by multiplication, never by `<<` on a full address. Encoders (cold path,
 * for tests, scenarios and the hypervisor model) validate and throw on a malformed request.
 *
 * Not modelled: FEAT_LPA2 (DS=1: OA[51:50] in bits [9:8], level -1/0 blocks), FEAT_D128,
 * FEAT_BBM nT (bit 16), BTI GP (bit 50), FEAT_S1PIE/S2PIE/POE indirection, FEAT_THE.
 */

const TWO_32 = 4294967296;
const TWO_48 = 281474976710656;
/** POW2[n] = 2^n for 0 <= n <= 64, exact. */
export const POW2: Float64Array = (() => {
  const a = new Float64Array(65);
  for (let i = 0; i <= 64; i++) a[i] = 2 ** i;
  return a;
})();

/** What a descriptor is at a given level (`AArch64.DecodeDescriptorType`). */
export const DescType = { Invalid: 0, Table: 1, Block: 2, Page: 3 } as const;
export type DescType = (typeof DescType)[keyof typeof DescType];

/** log2 of the translation granule: 12 (4KB), 14 (16KB), 16 (64KB). */
export type GranuleBits = 12 | 14 | 16;
export type GranuleName = '4K' | '16K' | '64K';
export const GRANULE_BITS: Readonly<Record<GranuleName, GranuleBits>> = Object.freeze({ '4K': 12, '16K': 14, '64K': 16 });

/** Bits of input address resolved per level: granule bits - 3 (8-byte descriptors). */
export const strideOf = (granuleBits: number): number => granuleBits - 3;

/**
 * log2 of the bytes one descriptor at `level` maps: granuleBits + (3 - level) * stride. 4KB:
 * L3 12 (4 KiB), L2 21 (2 MiB), L1 30 (1 GiB), L0 39. 16KB: L3 14, L2 25 (32 MiB), L1 36. 64KB:
 * L3 16, L2 29 (512 MiB), L1 42 (4 TiB).
 */
export const levelShift = (granuleBits: number, level: number): number => granuleBits + (3 - level) * (granuleBits - 3);

/**
 * `AArch64.BlockDescSupported` without FEAT_LPA2: 4KB blocks at levels 1 and 2; 16KB at level 2;
 * 64KB at level 2, and at level 1 only when the implemented PA size is 52 bits (FEAT_LPA).
 * Elsewhere bits[1:0]=0b01 is treated as invalid (a Translation fault), as is 0b01 at level 3.
 */
export function blockSupported(granuleBits: number, level: number, pa52: boolean): boolean {
  if (level === 2) return true;
  if (level === 1) return granuleBits === 12 || (granuleBits === 16 && pa52);
  return false;
}

/**
 * Descriptor type: bit[0]=0 invalid; bits[1:0]=0b11 table at levels 0-2, page at level 3;
 * bits[1:0]=0b01 block where `blockOk` (see `blockSupported`), otherwise invalid.
 * Arm ARM D8.3.1 "Table descriptor format" / D8.3.2 "Block descriptor and Page descriptor formats".
 */
export function descType(lo: number, level: number, blockOk: boolean): DescType {
  if ((lo & 1) === 0) return DescType.Invalid;
  if ((lo & 2) !== 0) return level === 3 ? DescType.Page : DescType.Table;
  return blockOk && level < 3 ? DescType.Block : DescType.Invalid;
}

/**
 * The address field: bits [47:shift] of the descriptor, plus, for the 64KB granule, OA[51:48]
 * from bits [15:12] (FEAT_LPA). `shift` is `granuleBits` for a table address or
 * `levelShift(granuleBits, level)` for a block/page output address.
 *
 * For 64KB the ASL always assembles bits [15:12] into the address, so with an output size below
 * 52 bits a non-zero value there becomes an Address size fault (v8.2+ AArch64.TranslationTableWalk:
 * `outputsize < 52 && largegrain && !IsZero(desc<15:12>)`). For 4KB/16KB, bits [51:48] are RES0
 * and ignored here.
 */
export function descAddress(lo: number, hi: number, granuleBits: number, shift: number): number {
  const low = shift >= 32 ? 0 : (lo >>> shift) * POW2[shift]!;
  const h = hi & 0xffff;
  const high = shift > 32 ? (h >>> (shift - 32)) * POW2[shift - 32]! : h;
  let a = high * TWO_32 + low;
  if (granuleBits === 16) a += ((lo >>> 12) & 0xf) * TWO_48;
  return a;
}

// ---------------------------------------------------------------------------------------------
// Block and page descriptor fields (both stages unless named)
// ---------------------------------------------------------------------------------------------

/** Stage 1 AttrIndx[2:0], bits [4:2]: index of the MAIR_EL1 byte. */
export const descAttrIndx = (lo: number): number => (lo >>> 2) & 7;
/** Stage 1 NS, bit 5 (ignored in Non-secure state). */
export const descNS = (lo: number): number => (lo >>> 5) & 1;
/** Stage 1 AP[2:1], bits [7:6]: 0b00 EL1 RW, 0b01 EL1+EL0 RW, 0b10 EL1 RO, 0b11 EL1+EL0 RO. */
export const descAP = (lo: number): number => (lo >>> 6) & 3;
/** SH[1:0], bits [9:8]: 0b00 NSH, 0b10 OSH, 0b11 ISH (0b01 reserved). */
export const descSH = (lo: number): number => (lo >>> 8) & 3;
/** AF, bit 10. */
export const descAF = (lo: number): number => (lo >>> 10) & 1;
/** Stage 1 nG, bit 11: the translation is tagged with the ASID. */
export const descNG = (lo: number): number => (lo >>> 11) & 1;
/** Stage 2 MemAttr[3:0], bits [5:2] (decode with `decodeS2MemAttr`). */
export const descS2MemAttr = (lo: number): number => (lo >>> 2) & 0xf;
/** Stage 2 S2AP[1:0], bits [7:6]: bit 6 read, bit 7 write. */
export const descS2AP = (lo: number): number => (lo >>> 6) & 3;
/** Stage 2 FnXS, bit 11 (FEAT_XS): the XS attribute is forced to 0. */
export const descFnXS = (lo: number): number => (lo >>> 11) & 1;
/** DBM, bit 51 (FEAT_HAFDBS dirty state). */
export const descDBM = (hi: number): number => (hi >>> 19) & 1;
/** Contiguous, bit 52. */
export const descContiguous = (hi: number): number => (hi >>> 20) & 1;
/** Stage 1 PXN, bit 53. */
export const descPXN = (hi: number): number => (hi >>> 21) & 1;
/** Stage 1 UXN (XN), bit 54. */
export const descUXN = (hi: number): number => (hi >>> 22) & 1;
/**
 * Stage 2 XN[1:0], bits [54:53], as the FEAT_XNX encoding: 0b00 executable at EL1 and EL0,
 * 0b01 not at EL1, 0b10 at neither, 0b11 not at EL0. Without FEAT_XNX only bit 54 exists
 * (bit 53 is RES0 and ignored), so the result is 0b00 or 0b10.
 */
export const descS2XN = (hi: number, featXNX: boolean): number => (featXNX ? (hi >>> 21) & 3 : (hi >>> 21) & 2);

// ---------------------------------------------------------------------------------------------
// Table descriptor fields (stage 1 only; stage 2 table descriptors have no attribute fields)
// ---------------------------------------------------------------------------------------------

/** PXNTable, bit 59. */
export const tablePXN = (hi: number): number => (hi >>> 27) & 1;
/** UXNTable (XNTable), bit 60. */
export const tableUXN = (hi: number): number => (hi >>> 28) & 1;
/** APTable[1:0], bits [62:61]: bit 61 set = no EL0 access below, bit 62 set = no write below. */
export const tableAP = (hi: number): number => (hi >>> 29) & 3;
/** NSTable, bit 63 (meaningful only for Secure-state walks). */
export const tableNS = (hi: number): number => (hi >>> 31) & 1;

// ---------------------------------------------------------------------------------------------
// Contiguous hint
// ---------------------------------------------------------------------------------------------

/**
 * How many adjacent entries the Contiguous bit spans at `level`, or 0 where it has no meaning
 * (Arm ARM D8.6.1 "The Contiguous bit"): 4KB 16 at levels 1-3; 16KB 128 at level 3, 32 at
 * level 2; 64KB 32 at levels 2-3. (Linux pgtable-hwdef.h CONT_PTE_SHIFT/CONT_PMD_SHIFT agree.)
 */
export function contiguousEntries(granuleBits: number, level: number): number {
  if (granuleBits === 12) return level >= 1 && level <= 3 ? 16 : 0;
  if (granuleBits === 14) return level === 3 ? 128 : level === 2 ? 32 : 0;
  return level === 3 || level === 2 ? 32 : 0;
}

/** log2 of `contiguousEntries` (0 where the bit has no meaning). */
export function contiguousLog2(granuleBits: number, level: number): number {
  const n = contiguousEntries(granuleBits, level);
  return n === 128 ? 7 : n === 32 ? 5 : n === 16 ? 4 : 0;
}

// ---------------------------------------------------------------------------------------------
// Encoders (cold path)
// ---------------------------------------------------------------------------------------------

export interface Desc {
  lo: number;
  hi: number;
}

/** Hierarchical attributes of a stage-1 table descriptor (all default to 0, "no effect"). */
export interface TableInit {
  /** APTable[1:0]: bit 0 = no EL0 access, bit 1 = no write access. */
  apTable?: number;
  uxnTable?: boolean;
  pxnTable?: boolean;
  nsTable?: boolean;
}

/** A stage-1 block or page descriptor. Defaults: AttrIndx 0, AP 0b00, SH 0b11 (ISH), AF=1, all else 0. */
export interface S1LeafInit {
  attrIndx?: number;
  /** AP[2:1]. */
  ap?: number;
  sh?: number;
  af?: boolean;
  nG?: boolean;
  ns?: boolean;
  pxn?: boolean;
  uxn?: boolean;
  contiguous?: boolean;
  dbm?: boolean;
}

/** A stage-2 block or page descriptor. Defaults: MemAttr 0b1111 (Normal WB), S2AP 0b11, SH 0b11, AF=1, XN 0. */
export interface S2LeafInit {
  memAttr?: number;
  s2ap?: number;
  sh?: number;
  af?: boolean;
  /** XN[1:0] (bits 54:53). */
  xn?: number;
  fnxs?: boolean;
  contiguous?: boolean;
  dbm?: boolean;
}

function checkField(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`descriptor ${name} must be an integer 0..${max}, got ${v}`);
  return v;
}

/** The address field of a descriptor for `addr`, aligned to 2^alignBits. */
export function encodeAddress(addr: number, granuleBits: GranuleBits, alignBits: number): Desc {
  if (!Number.isSafeInteger(addr) || addr < 0) throw new RangeError(`descriptor address must be a non-negative integer, got ${addr}`);
  if (addr % POW2[alignBits]! !== 0) throw new RangeError(`descriptor address 0x${addr.toString(16)} is not aligned to 2^${alignBits}`);
  const limit = granuleBits === 16 ? 2 ** 52 : TWO_48;
  if (addr >= limit) throw new RangeError(`descriptor address 0x${addr.toString(16)} does not fit the ${granuleBits === 16 ? 52 : 48}-bit field of a ${1 << (granuleBits - 10)}KB-granule descriptor`);
  const top = Math.floor(addr / TWO_48);
  const rest = addr - top * TWO_48;
  const hi = Math.floor(rest / TWO_32);
  const lo = (rest - hi * TWO_32) | (top << 12);
  return { lo: lo >>> 0, hi };
}

/** A table descriptor (bits[1:0]=0b11) pointing at the next-level table `tableAddr`. */
export function encodeTable(tableAddr: number, granuleBits: GranuleBits, t: TableInit = {}): Desc {
  const d = encodeAddress(tableAddr, granuleBits, granuleBits);
  const ap = checkField('apTable', t.apTable ?? 0, 3);
  d.lo = (d.lo | 0b11) >>> 0;
  d.hi = (d.hi | ((t.pxnTable ? 1 : 0) << 27) | ((t.uxnTable ? 1 : 0) << 28) | (ap << 29) | ((t.nsTable ? 1 : 0) << 31)) >>> 0;
  return d;
}

function leafBase(oa: number, level: number, granuleBits: GranuleBits): Desc {
  if (!Number.isInteger(level) || level < 1 || level > 3) throw new RangeError(`leaf level must be 1..3, got ${level}`);
  const d = encodeAddress(oa, granuleBits, levelShift(granuleBits, level));
  d.lo = (d.lo | (level === 3 ? 0b11 : 0b01)) >>> 0;
  return d;
}

/** A stage-1 page (level 3) or block (levels 1-2) descriptor for output address `oa`. */
export function encodeS1Leaf(oa: number, level: number, granuleBits: GranuleBits, init: S1LeafInit = {}): Desc {
  const d = leafBase(oa, level, granuleBits);
  d.lo = (d.lo
    | (checkField('attrIndx', init.attrIndx ?? 0, 7) << 2)
    | ((init.ns ? 1 : 0) << 5)
    | (checkField('ap', init.ap ?? 0, 3) << 6)
    | (checkField('sh', init.sh ?? 0b11, 3) << 8)
    | ((init.af ?? true ? 1 : 0) << 10)
    | ((init.nG ? 1 : 0) << 11)) >>> 0;
  d.hi = (d.hi | ((init.dbm ? 1 : 0) << 19) | ((init.contiguous ? 1 : 0) << 20) | ((init.pxn ? 1 : 0) << 21) | ((init.uxn ? 1 : 0) << 22)) >>> 0;
  return d;
}

/** A stage-2 page (level 3) or block (levels 1-2) descriptor for output address `oa`. */
export function encodeS2Leaf(oa: number, level: number, granuleBits: GranuleBits, init: S2LeafInit = {}): Desc {
  const d = leafBase(oa, level, granuleBits);
  d.lo = (d.lo
    | (checkField('memAttr', init.memAttr ?? 0b1111, 15) << 2)
    | (checkField('s2ap', init.s2ap ?? 0b11, 3) << 6)
    | (checkField('sh', init.sh ?? 0b11, 3) << 8)
    | ((init.af ?? true ? 1 : 0) << 10)
    | ((init.fnxs ? 1 : 0) << 11)) >>> 0;
  d.hi = (d.hi | ((init.dbm ? 1 : 0) << 19) | ((init.contiguous ? 1 : 0) << 20) | (checkField('xn', init.xn ?? 0, 3) << 21)) >>> 0;
  return d;
}
