import type { CacheConfig } from '../platform/schema.js';

/**
 * The cache identification registers a program reads with MRS, derived from the configured
 * hierarchy: CLIDR_EL1, CCSIDR_EL1 (through CSSELR_EL1), CTR_EL0 and DCZID_EL0.
 *
 * Contract: `cfg` has passed CacheSchema and checkPlatform (power-of-two line, ZVA and set
 * counts). Every function is pure and allocates nothing. Values are plain numbers: CLIDR_EL1
 * reaches bit 32 and CTR_EL0 sets bit 31, so fields at or above bit 31 are added arithmetically
 * (`& | <<` work on 32-bit signed integers).
 *
 * Register layouts: Arm ARM DDI 0487 (K.a), AArch64 System register descriptions:
 * "CLIDR_EL1, Cache Level ID Register", "CCSIDR_EL1, Current Cache Size ID Register",
 * "CSSELR_EL1, Cache Size Selection Register", "CTR_EL0, Cache Type Register" and
 * "DCZID_EL0, Data Cache Zero ID Register".
 *
 * Leaves out: FEAT_CCIDX (the 64-bit CCSIDR_EL1 layout), FEAT_MTE2 tag caches (Ttype<n>,
 * CTR_EL0.TminLine, CSSELR_EL1.TnD select nothing here), and the traps on these reads
 * (SCTLR_EL1.UCT, HCR_EL2.TID2/TID4): every read returns the value.
 */

/**
 * A system register's number: op0:op1:CRn:CRm:op2 packed as op0<<14 | op1<<11 | CRn<<7 |
 * CRm<<3 | op2. These are bits [20:5] of the A64 MRS/MSR instruction (bits [20:19] hold op0)
 * and Linux's `sys_reg(op0, op1, CRn, CRm, op2)` shifted right by 5 (arch/arm64/include/asm/sysreg.h).
 * Encodings: Arm ARM DDI 0487 (K.a), "Moves to and from non-debug System registers,
 * Special-purpose registers", and each register's "Accessing ..." table.
 */
export function sysRegId(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

/** The cache identification registers a program can read, by `sysRegId` number. */
export const SysReg = Object.freeze({
  /** S3_1_C0_C0_0: the cache CSSELR_EL1 selects. */
  CCSIDR_EL1: 0xc800,
  /** S3_1_C0_C0_1. */
  CLIDR_EL1: 0xc801,
  /** S3_2_C0_C0_0: read/write; the PE holds what a program wrote (this file only reads it). */
  CSSELR_EL1: 0xd000,
  /** S3_3_C0_C0_1. */
  CTR_EL0: 0xd801,
  /** S3_3_C0_C0_7. */
  DCZID_EL0: 0xd807,
} as const);

// CLIDR_EL1.Ctype<n>: 0b011 separate instruction and data caches, 0b100 unified.
const CTYPE_SEPARATE = 0b011, CTYPE_UNIFIED = 0b100;
// CTR_EL0.L1Ip [15:14]: 0b11 PIPT (the model's L1I is physically indexed and tagged).
const L1IP_PIPT = 0b11;
const BIT30 = 2 ** 30, BIT31 = 2 ** 31;
// CCSIDR_EL1 without FEAT_CCIDX: NumSets [27:13] and Associativity [12:3] hold the count - 1.
const CCSIDR_MAX_SETS = 2 ** 15, CCSIDR_MAX_WAYS = 2 ** 10;

/** log2 of a power of two below 2^31. */
function log2(x: number): number { return 31 - Math.clz32(x); }

/**
 * Whether instruction fetches see data still dirty in an L1D without a clean to PoU: the
 * hierarchy snoops the L1Ds on instruction fills when cfg.idc or cfg.dic is set. DIC implies it
 * architecturally too ("CTR_EL0": "If CTR_EL0.DIC is 1 then the value reported in this field
 * [IDC] must also be 1").
 */
function effectiveIdc(cfg: CacheConfig): boolean { return cfg.idc || cfg.dic; }

/**
 * CLIDR_EL1. Levels: L1 separate I and D (Ctype1 = 0b011), L2 unified (Ctype2 = 0b100). The L3
 * is never listed: Ctype<n> lists only caches that set/way maintenance can manage, and neither
 * a before-poc L3 (X-Gene: ignores set/way, platforms.md §1 [X4]) nor a system cache at the PoC
 * (CMN SLC, Grace L3: Linux learns of them from DT/ACPI only, platforms.md [L2]) is one.
 *
 * - LoC = 2, the last listed level. With a before-poc L3 that is what the hardware reports and
 *   why set/way cleaning "to the PoC" leaves dirty lines in the L3; only VA CMOs to PoC reach it.
 * - LoUU = LoUIS = 1 when the L1D must be cleaned to the L2 for instruction fetches to see new
 *   data (effective IDC = 0), else 0. Reporting 0 makes IDC effectively 1 even when CTR_EL0.IDC
 *   is 0 ("CTR_EL0", IDC; Linux `read_cpuid_effective_cachetype` in arch/arm64/include/asm/cache.h).
 *   The config has one switch, so a real part's "CTR_EL0.IDC = 0 with LoUU = LoUIS = 0" (the N1
 *   TRM values) comes out as IDC = 1 with LoUU = LoUIS = 0: the same effective behaviour.
 * - ICB [32:30] = 2 ("L2 cache is the highest Inner Cacheable level") unless the L3 is
 *   before-poc, then 0 ("Not disclosed by this mechanism"). Source for 2: the N1 TRM value
 *   0x82000023 as QEMU's `aarch64_neoverse_n1_initfn` has it (platforms.md [N1]), on a part whose
 *   system cache sits at the PoC. A before-poc L3 also holds Inner Cacheable data, so ICB = 2
 *   would be false there and ICB = 3 would name a level that Ctype3 says does not exist; 0 is
 *   also what the A57-style v8.0 value estimated for X-Gene has (0x0A200023, platforms.md §1).
 *
 * Presets: neoverse-n1 (idc) 0x82000023 = the TRM/QEMU value; xgene1 (no idc, before-poc L3)
 * 0x0A200023 = the platforms.md estimate; grace 0x82000023 = the platforms.md estimate.
 */
export function clidr(cfg: CacheConfig): number {
  const lou = effectiveIdc(cfg) ? 0 : 1;
  const loc = 2;
  const icb = cfg.l3.kind === 'before-poc' ? 0 : 2;
  const low = (lou << 27) | (loc << 24) | (lou << 21) | (CTYPE_UNIFIED << 3) | CTYPE_SEPARATE;   // LoUU, LoC, LoUIS, Ctype2, Ctype1
  return icb * BIT30 + low;
}

/**
 * CCSIDR_EL1 for the cache CSSELR_EL1 selects ({Level, InD}), without FEAT_CCIDX: LineSize [2:0]
 * = log2(bytes) - 4, Associativity [12:3] = ways - 1, NumSets [27:13] = sets - 1. Bits [31:28]
 * (write-through/back and allocation flags in early Armv8.0 issues) are "Reserved, UNKNOWN"
 * in K.a: 0 here.
 *
 * A selection CLIDR_EL1 does not list (level 3 or above, or InD at level 2, where the cache is
 * unified) is "a cache level that is not implemented": the read is CONSTRAINED UNPREDICTABLE
 * (NOP, UNDEFINED or an UNKNOWN value); this returns 0, the UNKNOWN-value choice.
 *
 * Throws a RangeError for a listed level whose geometry the 15-bit NumSets or 10-bit
 * Associativity cannot hold (more than 32768 sets or 1024 ways): that needs FEAT_CCIDX.
 */
export function ccsidr(cfg: CacheConfig, level: number, instruction: boolean): number {
  const l = level === 1 ? (instruction ? cfg.l1i : cfg.l1d) : level === 2 && !instruction ? cfg.l2 : undefined;
  if (l === undefined) return 0;
  const sets = l.sizeBytes / (l.ways * cfg.lineBytes);
  if (!(Number.isInteger(sets) && sets >= 1 && sets <= CCSIDR_MAX_SETS && l.ways <= CCSIDR_MAX_WAYS)) {
    throw new RangeError(`CCSIDR_EL1 (without FEAT_CCIDX) cannot describe L${level}${instruction ? 'I' : level === 1 ? 'D' : ''}: ${sets} sets x ${l.ways} ways (at most ${CCSIDR_MAX_SETS} sets, ${CCSIDR_MAX_WAYS} ways)`);
  }
  return ((sets - 1) << 13) | ((l.ways - 1) << 3) | (log2(cfg.lineBytes) - 4);
}

/**
 * CTR_EL0: IminLine [3:0] and DminLine [19:16] = log2(line words) (every level has the same
 * line); L1Ip [15:14] = PIPT; ERG [23:20] and CWG [27:24] = log2(line words) too (assumed: the
 * exclusive reservation granule and the write-back granule are one line, as in the N1 TRM value);
 * IDC [28]; DIC [29]; bit 31 RES1. IDC is reported 1 whenever DIC is (required by "CTR_EL0", and
 * the hierarchy then behaves as IDC). 64 B lines: 0x8444C004 (neither), 0x9444C004 (IDC),
 * 0xB444C004 (IDC and DIC).
 */
export function ctr(cfg: CacheConfig): number {
  const line = log2(cfg.lineBytes / 4);
  const idc = effectiveIdc(cfg) ? 1 : 0, dic = cfg.dic ? 1 : 0;
  return BIT31 + ((dic << 29) | (idc << 28) | (line << 24) | (line << 20) | (line << 16) | (L1IP_PIPT << 14) | line);
}

/** DCZID_EL0: BS [3:0] = log2(DC ZVA block words); DZP [4] = 0 (DC ZVA is permitted). 64 B: 0x4. */
export function dczid(cfg: CacheConfig): number {
  return log2(cfg.zvaBytes / 4);
}

/**
 * The value a program reads from `reg` (a `SysReg` number), or undefined for a register this
 * file does not own; CSSELR_EL1 is one of those: the PE returns what the program last wrote.
 * `csselr` is CSSELR_EL1's current value: InD [0], Level [3:1] (0b000 = L1), TnD [4]. A TnD = 1
 * selection (a separate tag cache) names no cache here and reads as 0 (see `ccsidr`).
 */
export function readIdRegister(cfg: CacheConfig, reg: number, csselr: number): number | undefined {
  switch (reg) {
    case SysReg.CLIDR_EL1: return clidr(cfg);
    case SysReg.CTR_EL0: return ctr(cfg);
    case SysReg.DCZID_EL0: return dczid(cfg);
    case SysReg.CCSIDR_EL1: {
      // Low bits only: `>>>` keeps bits [31:0] of any integer below 2^53 exactly.
      if (((csselr >>> 4) & 1) === 1) return 0;
      return ccsidr(cfg, ((csselr >>> 1) & 7) + 1, (csselr & 1) === 1);
    }
    default: return undefined;
  }
}
