/**
 * MMU faults and their syndromes: the walker's fault record, the DFSC/IFSC status code, the
 * ESR_ELx value of the Data Abort or Instruction Abort it becomes, and HPFAR_EL2.
 *
 * Arm ARM DDI 0487J.a D19.2.41 "ESR_EL1" / D19.2.42 "ESR_EL2": "ISS encoding for an exception from
 * a Data Abort" and "... from an Instruction Abort"; D19.2.57 "HPFAR_EL2"; Linux
 * arch/arm64/include/asm/esr.h (ESR_ELx_FSC_ADDRSZ 0x00, _FAULT 0x04, _ACCESS 0x08, _PERM 0x0C,
 * ESR_ELx_S1PTW bit 7, ESR_ELx_WNR bit 6).
 *
 * Not modelled: TLB conflict aborts (0b110000),
 * level -1 codes (FEAT_LPA2), ISV/SAS/SRT instruction syndrome (ISV=0 always), FnV/FAR validity,
 * alignment faults (the PE's concern).
 */

/** Fault kind, numbered as DFSC[5:2] of the level-encoded codes. */
export const FaultType = {
  AddressSize: 0, Translation: 1, AccessFlag: 2, Permission: 3,
  /** Synchronous External abort on a translation table walk: DFSC 0b0101LL. */
  WalkExternalAbort: 5,
} as const;
export type FaultType = (typeof FaultType)[keyof typeof FaultType];

export const FAULT_TYPE_NAMES: readonly string[] = ['AddressSize', 'Translation', 'AccessFlag', 'Permission', 'ExternalAbort', 'WalkExternalAbort'];

/** What the access was, for permissions and syndromes. */
export const AccessType = {
  Read: 0,
  Write: 1,
  Fetch: 2,
  /** An atomic read-modify-write: needs read and write permission. */
  ReadWrite: 3,
} as const;
export type AccessType = (typeof AccessType)[keyof typeof AccessType];

/**
 * DFSC/IFSC for a fault at a level 0-3: Address size 0b0000LL, Translation 0b0001LL,
 * Access flag 0b0010LL, Permission 0b0011LL.
 */
export const faultStatusCode = (type: FaultType, level: number): number => (type << 2) | (level & 3);

/** The fault record a walk ends with. One per walker, overwritten by the next walk. */
export class WalkFault {
  type: FaultType = FaultType.Translation;
  /** Lookup level the fault is reported at (0-3). */
  level = 0;
  /** 1: stage-1 fault, taken to EL1. 2: stage-2 fault, taken to EL2. */
  stage: 1 | 2 = 1;
  /** A stage-2 fault on a stage-1 translation table access (ISS.S1PTW). */
  s1ptw = false;
  /** For stage-2 faults, the IPA being translated (the table's IPA when `s1ptw`); -1 otherwise. */
  ipa = -1;
  /** ISS.WnR: the fault was on the write part of the access (never for fetches or `s1ptw`). */
  write = false;
  /** An instruction fetch: reported as an Instruction Abort. */
  fetch = false;

  /** DFSC/IFSC. */
  get statusCode(): number { return faultStatusCode(this.type, this.level); }

  set(type: FaultType, level: number, stage: 1 | 2, s1ptw: boolean, ipa: number, write: boolean, fetch: boolean): void {
    this.type = type; this.level = level; this.stage = stage; this.s1ptw = s1ptw;
    this.ipa = ipa; this.write = write; this.fetch = fetch;
  }

  copyFrom(o: WalkFault): void {
    this.set(o.type, o.level, o.stage, o.s1ptw, o.ipa, o.write, o.fetch);
  }

  toString(): string {
    return `stage-${this.stage} ${FAULT_TYPE_NAMES[this.type]} fault, level ${this.level}`
      + `${this.s1ptw ? ' (S1PTW)' : ''}${this.ipa >= 0 ? `, IPA 0x${this.ipa.toString(16)}` : ''}`
      + ` [${this.fetch ? 'IFSC' : 'DFSC'} 0x${this.statusCode.toString(16).padStart(2, '0')}]`;
  }
}

/** Exception classes (ESR_ELx.EC). */
export const EC_IABT_LOW = 0x20;
export const EC_IABT_CUR = 0x21;
export const EC_DABT_LOW = 0x24;
export const EC_DABT_CUR = 0x25;

const ESR_IL = 1 << 25;
const ISS_WNR = 1 << 6;
const ISS_S1PTW = 1 << 7;

/** The Exception level a fault is taken to: stage-2 faults to EL2, stage-1 faults to EL1 (HCR_EL2.TGE=0). */
export const faultTargetEl = (f: WalkFault): 1 | 2 => (f.stage === 2 ? 2 : 1);

/**
 * ESR_ELx (bits [31:0]; [63:32] are 0 here) for the abort `f` raises when the access came from
 * `fromEl` (0 or 1). EC: Data/Instruction Abort from a lower EL (stage 2, or stage 1 from EL0)
 * or the current EL (stage 1 from EL1). IL=1 (RES1 with ISV=0). ISS: DFSC/IFSC, WnR (data only),
 * S1PTW.
 */
export function abortEsr(f: WalkFault, fromEl: 0 | 1): number {
  const lower = f.stage === 2 || fromEl === 0;
  const ec = f.fetch ? (lower ? EC_IABT_LOW : EC_IABT_CUR) : (lower ? EC_DABT_LOW : EC_DABT_CUR);
  let iss = f.statusCode | (f.s1ptw ? ISS_S1PTW : 0);
  if (!f.fetch && f.write) iss |= ISS_WNR;
  return ((ec << 26) | ESR_IL | iss) >>> 0;
}

/**
 * HPFAR_EL2 for a stage-2 fault: FIPA, bits [43:4] = IPA[51:12] (bits [39:4] = IPA[47:12]
 * without FEAT_LPA). NS (bit 63) is 0 here. Returns a number below 2^44.
 */
export function hpfarEl2(ipa: number): number {
  return Math.floor(ipa / 4096) * 16;
}
