/**
 * Stream Table Entry (STE, 64 bytes), Context Descriptor (CD, 64 bytes) and the level-1
 * descriptors of 2-level stream and CD tables: decode from and encode to their memory images.
 *
 * Every field position below was checked against two sources:
 * - Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h (torvalds/linux): `STRTAB_STE_0_*`,
 *   `STRTAB_STE_1_*` (S2FWB bit 25 and MEV bit 19 from "iommu/arm-smmu-v3: Use S2FWB for NESTED
 *   domains"), `STRTAB_STE_2_*` (VTCR group at [50:32]), `STRTAB_STE_3_S2TTB_MASK`,
 *   `STRTAB_L1_DESC_*`, `CTXDESC_CD_0_*`, `CTXDESC_CD_1_TTB0_MASK`, `CTXDESC_L1_DESC_*`.
 * - QEMU include/hw/arm/smmuv3-common.h (qemu/qemu): `STE_0..STE_7` and `CD_0..CD_5` FIELDs
 *   (32-bit words: word 2n+1 bit b = dword n bit 32+b), `tg2granule` (TG1 encoding). An older
 *   QEMU (hw/arm/smmuv3-internal.h before 2023) had S2HD/S2HA/S2S one bit high; the positions
 *   here are the fixed ones (S2HD 55, S2HA 56, S2S 57, S2R 58), matching Linux `STRTAB_STE_2_S2S`
 *   (57) and `STRTAB_STE_2_S2R` (58).
 * Architecture: SMMUv3 IHI 0070, 5.2 "Stream Table Entry", 5.4 "Context Descriptor",
 * 5.1 "Stream table format" / 5.3 "Level 1 Context Descriptor".
 *
 * Records are `Uint32Array`s of 16 words (word 2n = dword n bits [31:0]). Decoded records are
 * plain objects keyed by the architectural field names, every value a number (address fields in
 * place, i.e. the masked dword bits, not shifted down), so they cross a worker boundary as they are.
 */
import { getAddr, getField, setAddr, setField } from './bits.js';

/** One field: dword, lsb, width; `addrMsb` marks an address field kept in place ([addrMsb:lsb]). */
interface FieldSpec { readonly dw: number; readonly lsb: number; readonly width: number; readonly addrMsb?: number }
type Specs<K extends string> = Readonly<Record<K, FieldSpec>>;

const f = (dw: number, lsb: number, width = 1): FieldSpec => ({ dw, lsb, width });
const a = (dw: number, msb: number, lsb: number): FieldSpec => ({ dw, lsb, width: msb - lsb + 1, addrMsb: msb });

function decodeWith<K extends string>(specs: Specs<K>, w: ArrayLike<number>): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const k of Object.keys(specs) as K[]) {
    const s = specs[k];
    out[k] = s.addrMsb !== undefined ? getAddr(w, s.dw, s.addrMsb, s.lsb) : getField(w, s.dw, s.lsb, s.width);
  }
  return out;
}

function encodeWith<K extends string>(specs: Specs<K>, init: Partial<Record<K, number>>, words: number, what: string): Uint32Array {
  const w = new Uint32Array(words);
  for (const k of Object.keys(init) as K[]) {
    const s = specs[k];
    if (s === undefined) throw new RangeError(`${what}: unknown field ${k}`);
    const v = init[k]!;
    try {
      if (s.addrMsb !== undefined) setAddr(w, s.dw, s.addrMsb, s.lsb, v);
      else setField(w, s.dw, s.lsb, s.width, v);
    } catch (e) {
      throw new RangeError(`${what}.${k}: ${(e as Error).message}`);
    }
  }
  return w;
}

// ---------------------------------------------------------------------------------------------
// STE
// ---------------------------------------------------------------------------------------------

export const STE_BYTES = 64;

const STE_SPECS = {
  // dword 0 (STRTAB_STE_0_*)
  V: f(0, 0), Config: f(0, 1, 3), S1Fmt: f(0, 4, 2), S1ContextPtr: a(0, 51, 6), S1CDMax: f(0, 59, 5),
  // dword 1 (STRTAB_STE_1_*; NSCFG/PRIVCFG/INSTCFG/MemAttr/MTCFG/ALLOCCFG from IHI 0070 5.2)
  S1DSS: f(1, 0, 2), S1CIR: f(1, 2, 2), S1COR: f(1, 4, 2), S1CSH: f(1, 6, 2),
  PPAR: f(1, 18), MEV: f(1, 19), S2FWB: f(1, 25), S1STALLD: f(1, 27), EATS: f(1, 28, 2), STRW: f(1, 30, 2),
  MemAttr: f(1, 32, 4), MTCFG: f(1, 36), ALLOCCFG: f(1, 37, 4), SHCFG: f(1, 44, 2),
  NSCFG: f(1, 46, 2), PRIVCFG: f(1, 48, 2), INSTCFG: f(1, 50, 2),
  // dword 2 (STRTAB_STE_2_*, STRTAB_STE_2_VTCR_* at [50:32]; QEMU STE_4/STE_5)
  S2VMID: f(2, 0, 16), S2T0SZ: f(2, 32, 6), S2SL0: f(2, 38, 2), S2IR0: f(2, 40, 2), S2OR0: f(2, 42, 2),
  S2SH0: f(2, 44, 2), S2TG: f(2, 46, 2), S2PS: f(2, 48, 3), S2AA64: f(2, 51), S2ENDI: f(2, 52), S2AFFD: f(2, 53),
  S2PTW: f(2, 54), S2HD: f(2, 55), S2HA: f(2, 56), S2S: f(2, 57), S2R: f(2, 58),
  // dword 3 (STRTAB_STE_3_S2TTB_MASK)
  S2TTB: a(3, 51, 4),
} as const satisfies Specs<string>;

export type SteField = keyof typeof STE_SPECS;
/** A decoded STE: every field by its architectural name. */
export type Ste = Record<SteField, number>;
export const STE_FIELDS = Object.keys(STE_SPECS) as SteField[];

/** STE.Config values (IHI 0070 5.2; Linux `STRTAB_STE_0_CFG_*`, `STRTAB_STE_0_CFG_NESTED` = 7). */
export const SteConfig = { Abort: 0, Bypass: 4, S1Trans: 5, S2Trans: 6, Nested: 7 } as const;
/** STE.S1DSS: what non-substream traffic does when S1CDMax != 0. */
export const S1Dss = { Terminate: 0, Bypass: 1, Substream0: 2 } as const;

export const decodeSte = (w: ArrayLike<number>): Ste => decodeWith(STE_SPECS, w);
/** An STE image from named fields (missing fields 0). */
export const encodeSte = (init: Partial<Ste>): Uint32Array => encodeWith(STE_SPECS, init, 16, 'STE');

// ---------------------------------------------------------------------------------------------
// CD
// ---------------------------------------------------------------------------------------------

export const CD_BYTES = 64;

const CD_SPECS = {
  // dword 0 (CTXDESC_CD_0_*; T1SZ..EPD1, WXN/UWXN/TBI/PAN from IHI 0070 5.4 and QEMU CD_0/CD_1)
  T0SZ: f(0, 0, 6), TG0: f(0, 6, 2), IR0: f(0, 8, 2), OR0: f(0, 10, 2), SH0: f(0, 12, 2), EPD0: f(0, 14), ENDI: f(0, 15),
  T1SZ: f(0, 16, 6), TG1: f(0, 22, 2), IR1: f(0, 24, 2), OR1: f(0, 26, 2), SH1: f(0, 28, 2), EPD1: f(0, 30), V: f(0, 31),
  IPS: f(0, 32, 3), AFFD: f(0, 35), WXN: f(0, 36), UWXN: f(0, 37), TBI0: f(0, 38), TBI1: f(0, 39), PAN: f(0, 40),
  AA64: f(0, 41), HD: f(0, 42), HA: f(0, 43), S: f(0, 44), R: f(0, 45), A: f(0, 46), ASET: f(0, 47), ASID: f(0, 48, 16),
  // dwords 1, 2 (CTXDESC_CD_1_TTB0_MASK; QEMU CD_2..CD_5 TTBn_LO/HI, HADn)
  NSCFG0: f(1, 0), HAD0: f(1, 1), TTB0: a(1, 51, 4),
  NSCFG1: f(2, 0), HAD1: f(2, 1), TTB1: a(2, 51, 4),
  // dword 3: MAIR; dword 4: AMAIR
  MAIR0: f(3, 0, 32), MAIR1: f(3, 32, 32), AMAIR0: f(4, 0, 32), AMAIR1: f(4, 32, 32),
} as const satisfies Specs<string>;

export type CdField = keyof typeof CD_SPECS;
export type Cd = Record<CdField, number>;
export const CD_FIELDS = Object.keys(CD_SPECS) as CdField[];

export const decodeCd = (w: ArrayLike<number>): Cd => decodeWith(CD_SPECS, w);
export const encodeCd = (init: Partial<Cd>): Uint32Array => encodeWith(CD_SPECS, init, 16, 'CD');

// ---------------------------------------------------------------------------------------------
// Level-1 descriptors (8 bytes)
// ---------------------------------------------------------------------------------------------

/**
 * Level-1 stream table descriptor: Span [4:0], L2Ptr [51:6] (Linux `STRTAB_L1_DESC_SPAN`,
 * `STRTAB_L1_DESC_L2PTR_MASK`). Span 0 = invalid; otherwise the level-2 table holds
 * 2^(Span-1) STEs (IHI 0070 5.1; Linux writes Span = SPLIT + 1).
 */
export interface L1Std { Span: number; L2Ptr: number }
export const decodeL1Std = (lo: number, hi: number): L1Std => {
  const w = [lo, hi];
  return { Span: getField(w, 0, 0, 5), L2Ptr: getAddr(w, 0, 51, 6) };
};
export function encodeL1Std(d: L1Std): [number, number] {
  const w = new Uint32Array(2);
  setField(w, 0, 0, 5, d.Span);
  setAddr(w, 0, 51, 6, d.L2Ptr);
  return [w[0]!, w[1]!];
}

/** Level-1 CD descriptor: V [0], L2Ptr [51:12] (Linux `CTXDESC_L1_DESC_V`, `CTXDESC_L1_DESC_L2PTR_MASK`). */
export interface L1Cd { V: number; L2Ptr: number }
export const decodeL1Cd = (lo: number, hi: number): L1Cd => {
  const w = [lo, hi];
  return { V: getField(w, 0, 0, 1), L2Ptr: getAddr(w, 0, 51, 12) };
};
export function encodeL1Cd(d: L1Cd): [number, number] {
  const w = new Uint32Array(2);
  setField(w, 0, 0, 1, d.V);
  setAddr(w, 0, 51, 12, d.L2Ptr);
  return [w[0]!, w[1]!];
}

/**
 * STE.S1Fmt: 0 linear; 1 2-level with 4KB leaf tables (64 CDs, SSID[5:0] index the leaf);
 * 2 2-level with 64KB leaf tables (1024 CDs, SSID[9:0]); 3 reserved (Linux
 * `STRTAB_STE_0_S1FMT_64K_L2` = 2, `CTXDESC_L2_ENTRIES` = 1024).
 */
export const cdLeafSplit = (s1Fmt: number): number => (s1Fmt === 1 ? 6 : s1Fmt === 2 ? 10 : -1);
