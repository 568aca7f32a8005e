/**
 * Numbers of the system registers the MMU reads, as MRS/MSR encode them: op0[15:14] op1[13:11]
 * CRn[10:7] CRm[6:3] op2[2:0] (the same packing as the ID registers in cache/id-regs.ts, and as
 * Linux's sys_reg() >> 5). Arm ARM D19.2 gives each register's encoding.
 */
export const enc = (op0: number, op1: number, crn: number, crm: number, op2: number): number =>
  (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;

export const MmuReg = Object.freeze({
  SCTLR_EL1: enc(3, 0, 1, 0, 0),
  TTBR0_EL1: enc(3, 0, 2, 0, 0),
  TTBR1_EL1: enc(3, 0, 2, 0, 1),
  TCR_EL1: enc(3, 0, 2, 0, 2),
  ESR_EL1: enc(3, 0, 5, 2, 0),
  FAR_EL1: enc(3, 0, 6, 0, 0),
  MAIR_EL1: enc(3, 0, 10, 2, 0),
  SCTLR_EL2: enc(3, 4, 1, 0, 0),
  HCR_EL2: enc(3, 4, 1, 1, 0),
  TTBR0_EL2: enc(3, 4, 2, 0, 0),
  TCR_EL2: enc(3, 4, 2, 0, 2),
  VTTBR_EL2: enc(3, 4, 2, 1, 0),
  VTCR_EL2: enc(3, 4, 2, 1, 2),
  ESR_EL2: enc(3, 4, 5, 2, 0),
  FAR_EL2: enc(3, 4, 6, 0, 0),
  HPFAR_EL2: enc(3, 4, 6, 0, 4),
  MAIR_EL2: enc(3, 4, 10, 2, 0),
} as const);
export type MmuRegName = keyof typeof MmuReg;

const NAMES = new Map<number, MmuRegName>(Object.entries(MmuReg).map(([k, v]) => [v, k as MmuRegName]));
/** The name of an MMU register number, or undefined. */
export const mmuRegName = (reg: number): MmuRegName | undefined => NAMES.get(reg);

/**
 * The TLB maintenance operations (Arm ARM D8.13 "TLB maintenance instructions", C5.5 "A64 system
 * instructions for TLB maintenance"). The IS forms are the same scope broadcast to every PE in the
 * Inner Shareable domain. Operand (what the program gives): the VA (or IPA for IPAS2*) in the
 * op's address and the ASID in its value for VAE1/VALE1/ASIDE1.
 */
export const TlbiOp = Object.freeze({
  VMALLE1: 0, VAE1: 1, VALE1: 2, VAAE1: 3, ASIDE1: 4, IPAS2E1: 5, IPAS2LE1: 6, VMALLS12E1: 7, ALLE1: 8,
  VMALLE1IS: 16, VAE1IS: 17, VALE1IS: 18, VAAE1IS: 19, ASIDE1IS: 20, IPAS2E1IS: 21, IPAS2LE1IS: 22, VMALLS12E1IS: 23, ALLE1IS: 24,
  /** EL2 regime (the hypervisor's own stage 1): TLBI ALLE2 / VAE2 and their IS forms. */
  ALLE2: 9, VAE2: 10, ALLE2IS: 25, VAE2IS: 26,
} as const);
export type TlbiOp = (typeof TlbiOp)[keyof typeof TlbiOp];
export const TLBI_IS = 16;
export const tlbiIsBroadcast = (op: number): boolean => (op & TLBI_IS) !== 0;
/** The scope of an op without its IS flag. */
export const tlbiScope = (op: number): number => op & ~TLBI_IS;
export const TLBI_NAMES: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(Object.entries(TlbiOp).map(([k, v]) => [k.toLowerCase(), v])),
);
