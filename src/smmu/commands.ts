/**
 * Command queue entries (16 bytes): opcodes, operand fields, decode and encode.
 *
 * Field positions checked against Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h
 * (`CMDQ_0_OP`, `CMDQ_0_SSV`, `CMDQ_PREFETCH_*`, `CMDQ_CFGI_*`, `CMDQ_TLBI_*`, `CMDQ_ATC_*`,
 * `CMDQ_PRI_*`, `CMDQ_RESUME_*`, `CMDQ_SYNC_*`, opcodes `CMDQ_OP_*`) and QEMU
 * include/hw/arm/smmuv3-common.h / hw/arm/smmuv3-internal.h (`SMMUCommandType`, `CMD_TYPE`,
 * `CMD_SSEC` bit 10, `CMD_SSV`, `CMD_SSID`, `CMD_SID` = word 1, `CMD_VMID`/`CMD_ASID` in word 1,
 * `CMD_NUM`, `CMD_SCALE`, `CMD_LEAF`, `CMD_TTL`, `CMD_TG`, `CMD_STE_RANGE`, `CMD_ADDR`,
 * `CMD_RESUME_STAG`, `CMD_SYNC_CS`). Architecture: SMMUv3 IHI 0070, 4 "Commands".
 *
 * Differences between the sources, and the choice made:
 * - CMD_CFGI_ALL: Linux encodes it as opcode 0x04 (CFGI_STE_RANGE) with Range = 31, which is
 *   the architectural encoding; QEMU's enum also names 0x07 SMMU_CMD_CFGI_ALL. 0x07 is not an
 *   architected opcode here: it decodes as ILLEGAL.
 * - PRI_RESP Resp: Linux `CMDQ_PRI_1_RESP` [13:12]; QEMU `CMD_RESP` extracts dword 1 [12:11]
 *   (unused there, PRI is not implemented). Linux's position is used.
 * - RESUME Action: Linux `CMDQ_RESUME_0_RESP` [13:12] (0 terminate, 1 retry, 2 abort); QEMU
 *   reads the same bits as AC (12) and AB (13).
 */
import { getAddr, getField, setAddr, setField } from './bits.js';

export const CMD_BYTES = 16;

/** Opcodes (Linux `CMDQ_OP_*`, QEMU `SMMUCommandType`). */
export const CmdOp = {
  PREFETCH_CONFIG: 0x01, PREFETCH_ADDR: 0x02, CFGI_STE: 0x03, CFGI_STE_RANGE: 0x04, CFGI_CD: 0x05, CFGI_CD_ALL: 0x06,
  TLBI_NH_ALL: 0x10, TLBI_NH_ASID: 0x11, TLBI_NH_VA: 0x12, TLBI_NH_VAA: 0x13,
  TLBI_EL3_ALL: 0x18, TLBI_EL3_VA: 0x1a,
  TLBI_EL2_ALL: 0x20, TLBI_EL2_ASID: 0x21, TLBI_EL2_VA: 0x22, TLBI_EL2_VAA: 0x23,
  TLBI_S12_VMALL: 0x28, TLBI_S2_IPA: 0x2a, TLBI_NSNH_ALL: 0x30,
  ATC_INV: 0x40, PRI_RESP: 0x41, RESUME: 0x44, STALL_TERM: 0x45, SYNC: 0x46,
} as const;
export type CmdOpName = keyof typeof CmdOp;

/** CMDQ_CONS.ERR codes (Linux `CMDQ_ERR_CERROR_*_IDX`, QEMU `SMMUCmdError`). */
export const CError = { NONE: 0, ILL: 1, ABT: 2, ATC_INV_SYNC: 3 } as const;
export const CERROR_NAMES = ['CERROR_NONE', 'CERROR_ILL', 'CERROR_ABT', 'CERROR_ATC_INV_SYNC'] as const;

/** CMD_SYNC.CS (Linux `CMDQ_SYNC_0_CS_*`). */
export const SyncCs = { NONE: 0, SIG_IRQ: 1, SIG_SEV: 2 } as const;
/** CMD_RESUME.Action (Linux `CMDQ_RESUME_0_RESP_*`). */
export const ResumeAction = { Terminate: 0, Retry: 1, Abort: 2 } as const;

interface FieldSpec { readonly dw: number; readonly lsb: number; readonly width: number; readonly addrMsb?: number }
const f = (dw: number, lsb: number, width = 1): FieldSpec => ({ dw, lsb, width });
const a = (dw: number, msb: number, lsb: number): FieldSpec => ({ dw, lsb, width: msb - lsb + 1, addrMsb: msb });

const ALL = {
  SSec: f(0, 10), SSV: f(0, 11), SubstreamID: f(0, 12, 20), StreamID: f(0, 32, 32),
  Global: f(0, 9),
  NUM: f(0, 12, 5), SCALE: f(0, 20, 5), VMID: f(0, 32, 16), ASID: f(0, 48, 16),
  Action: f(0, 12, 2), CS: f(0, 12, 2), MSH: f(0, 22, 2), MSIAttr: f(0, 24, 4), MSIData: f(0, 32, 32),
  Leaf: f(1, 0), Range: f(1, 0, 5), TTL: f(1, 8, 2), TG: f(1, 10, 2),
  Size: f(1, 0, 5), AtcSize: f(1, 0, 6), Address: a(1, 63, 12), IPA: a(1, 51, 12),
  PRGIndex: f(1, 0, 9), Resp: f(1, 12, 2), STAG: f(1, 0, 16), MSIAddress: a(1, 51, 2),
} as const;
type AnyField = keyof typeof ALL;

/** Operand fields of each opcode, by architectural name (ATC_INV's Size is 6 bits wide). */
const OPERANDS: Record<CmdOpName, readonly AnyField[]> = {
  PREFETCH_CONFIG: ['SSec', 'SSV', 'SubstreamID', 'StreamID'],
  PREFETCH_ADDR: ['SSec', 'SSV', 'SubstreamID', 'StreamID', 'Size', 'Address'],
  CFGI_STE: ['SSec', 'StreamID', 'Leaf'],
  CFGI_STE_RANGE: ['SSec', 'StreamID', 'Range'],
  CFGI_CD: ['SSec', 'SubstreamID', 'StreamID', 'Leaf'],
  CFGI_CD_ALL: ['SSec', 'StreamID'],
  TLBI_NH_ALL: ['VMID'],
  TLBI_NH_ASID: ['VMID', 'ASID'],
  TLBI_NH_VA: ['NUM', 'SCALE', 'VMID', 'ASID', 'Leaf', 'TTL', 'TG', 'Address'],
  TLBI_NH_VAA: ['NUM', 'SCALE', 'VMID', 'Leaf', 'TTL', 'TG', 'Address'],
  TLBI_EL3_ALL: [],
  TLBI_EL3_VA: ['NUM', 'SCALE', 'Leaf', 'TTL', 'TG', 'Address'],
  TLBI_EL2_ALL: [],
  TLBI_EL2_ASID: ['ASID'],
  TLBI_EL2_VA: ['NUM', 'SCALE', 'ASID', 'Leaf', 'TTL', 'TG', 'Address'],
  TLBI_EL2_VAA: ['NUM', 'SCALE', 'Leaf', 'TTL', 'TG', 'Address'],
  TLBI_S12_VMALL: ['VMID'],
  TLBI_S2_IPA: ['NUM', 'SCALE', 'VMID', 'Leaf', 'TTL', 'TG', 'IPA'],
  TLBI_NSNH_ALL: [],
  ATC_INV: ['Global', 'SSV', 'SubstreamID', 'StreamID', 'AtcSize', 'Address'],
  PRI_RESP: ['SSV', 'SubstreamID', 'StreamID', 'PRGIndex', 'Resp'],
  RESUME: ['SSec', 'Action', 'StreamID', 'STAG'],
  STALL_TERM: ['SSec', 'StreamID'],
  SYNC: ['CS', 'MSH', 'MSIAttr', 'MSIData', 'MSIAddress'],
};

/** Operand fields as they appear in a decoded command (AtcSize is printed as Size). */
export interface CmdFields {
  SSec?: number; SSV?: number; SubstreamID?: number; StreamID?: number; Global?: number;
  NUM?: number; SCALE?: number; VMID?: number; ASID?: number; Action?: number;
  CS?: number; MSH?: number; MSIAttr?: number; MSIData?: number;
  Leaf?: number; Range?: number; TTL?: number; TG?: number; Size?: number;
  /** VA (TLBI_*_VA*, ATC_INV, PREFETCH_ADDR), bits [63:12] in place; exact below 2^53. */
  Address?: number;
  IPA?: number; PRGIndex?: number; Resp?: number; STAG?: number; MSIAddress?: number;
}

export interface SmmuCommand extends CmdFields {
  opcode: number;
  /** `CMD_TLBI_NH_VA` etc.; CFGI_STE_RANGE with Range=31 is `CMD_CFGI_ALL`; unknown opcodes `ILLEGAL`. */
  name: string;
  /** False for an unknown opcode or a reserved operand value (CERROR_ILL whatever the SMMU implements). */
  legal: boolean;
  cerror?: 'CERROR_ILL';
  /** Address bits [63:32] of `Address` (VA commands) for exact 64-bit VAs. */
  addressHi?: number;
}

const BY_OPCODE = new Map<number, CmdOpName>(Object.entries(CmdOp).map(([k, v]) => [v, k as CmdOpName]));

/** Decodes a command from its four 32-bit words (dword 0 lo, hi, dword 1 lo, hi). */
export function decodeCommand(w: ArrayLike<number>): SmmuCommand {
  const opcode = getField(w, 0, 0, 8);
  const op = BY_OPCODE.get(opcode);
  if (op === undefined) return { opcode, name: 'ILLEGAL', legal: false, cerror: 'CERROR_ILL' };
  const out: SmmuCommand = { opcode, name: `CMD_${op}`, legal: true };
  const rec = out as unknown as Record<string, number>;
  for (const k of OPERANDS[op]) {
    const s: FieldSpec = ALL[k];
    const v = s.addrMsb !== undefined ? getAddr(w, s.dw, Math.min(s.addrMsb, 51), s.lsb) : getField(w, s.dw, s.lsb, s.width);
    rec[k === 'AtcSize' ? 'Size' : k] = v;
    if (k === 'Address') out.addressHi = getField(w, 1, 32, 32);
  }
  // Reserved operand encodings (IHI 0070 4.x; Linux defines no value 3 for any of these).
  if ((op === 'SYNC' && out.CS === 3) || (op === 'RESUME' && out.Action === 3) || (op === 'PRI_RESP' && out.Resp === 3)) {
    return { opcode, name: 'ILLEGAL', legal: false, cerror: 'CERROR_ILL' };
  }
  if (op === 'CFGI_STE_RANGE' && out.Range === 31) out.name = 'CMD_CFGI_ALL';
  return out;
}

/**
 * A command image from an opcode name and operands. `Address` is a VA below 2^53 (use
 * `addressHi` for the bits above 32 when the VA is larger: then `Address` gives bits [31:12]).
 */
export function encodeCommand(op: CmdOpName | 'CFGI_ALL', fields: CmdFields & { addressHi?: number } = {}): Uint32Array {
  const w = new Uint32Array(4);
  const name: CmdOpName = op === 'CFGI_ALL' ? 'CFGI_STE_RANGE' : op;
  if (op === 'CFGI_ALL') fields = { ...fields, Range: 31 };
  setField(w, 0, 0, 8, CmdOp[name]);
  const rec = fields as Record<string, number | undefined>;
  for (const k of OPERANDS[name]) {
    const v = rec[k === 'AtcSize' ? 'Size' : k];
    if (v === undefined) continue;
    const s: FieldSpec = ALL[k];
    if (s.addrMsb !== undefined) {
      if (k === 'Address' && fields.addressHi !== undefined) {
        setAddr(w, 1, 31, 12, v % 4294967296);
        w[3] = fields.addressHi >>> 0;
      } else setAddr(w, s.dw, Math.min(s.addrMsb, 51), s.lsb, v);
    } else setField(w, s.dw, s.lsb, s.width, v);
  }
  for (const k of Object.keys(rec)) {
    if (k === 'addressHi') continue;
    if (!OPERANDS[name].some((o) => (o === 'AtcSize' ? 'Size' : o) === k)) throw new RangeError(`encodeCommand ${op}: ${k} is not an operand`);
  }
  return w;
}
