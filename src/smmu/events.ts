/**
 * Event queue records (32 bytes): types, the fields each type carries, decode and encode.
 *
 * Layout checked against Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h (`EVTQ_0_ID`,
 * `EVTQ_0_SSV` 11, `EVTQ_0_SSID` [31:12], `EVTQ_0_SID` [63:32], `EVTQ_1_STAG` [15:0],
 * `EVTQ_1_STALL` 31, `EVTQ_1_PnU` 33, `EVTQ_1_InD` 34, `EVTQ_1_RnW` 35, `EVTQ_1_S2` 39,
 * `EVTQ_1_CLASS` [41:40], `EVTQ_1_TT_READ` 44, `EVTQ_2_ADDR` [63:0], `EVTQ_3_IPA` [51:12],
 * `EVTQ_3_FETCH_ADDR` [51:3]) and QEMU hw/arm/smmuv3-internal.h (`EVT_SET_TYPE`, `EVT_SET_SSV`,
 * `EVT_SET_SSID`, `EVT_SET_SID` = word 1, `EVT_SET_STAG`/`EVT_SET_STALL` in word 2,
 * `EVT_SET_PNU`/`IND`/`RNW`/`S2`/`CLASS` in word 3 bits 1/2/3/7/9:8, `EVT_SET_ADDR` words 4-5,
 * `EVT_SET_ADDR2` words 6-7; `SMMUEventType`). NSIPA (dword 1 bit 38) from IHI 0070 7.3.
 * QEMU writes F_CD_FETCH's fetch address with EVT_SET_ADDR (dword 2); Linux and the architecture
 * put FetchAddr in dword 3, as here.
 *
 * Architecture: SMMUv3 IHI 0070, 7.3 "Event records".
 */
import { getAddr, getField, setAddr, setField } from './bits.js';

export const EVT_BYTES = 32;

/** Event type codes (Linux `EVT_ID_*`, QEMU `SMMUEventType`). */
export const EvtType = {
  F_UUT: 0x01, C_BAD_STREAMID: 0x02, F_STE_FETCH: 0x03, C_BAD_STE: 0x04, F_BAD_ATS_TREQ: 0x05,
  F_STREAM_DISABLED: 0x06, F_TRANSL_FORBIDDEN: 0x07, C_BAD_SUBSTREAMID: 0x08, F_CD_FETCH: 0x09,
  C_BAD_CD: 0x0a, F_WALK_EABT: 0x0b, F_TRANSLATION: 0x10, F_ADDR_SIZE: 0x11, F_ACCESS: 0x12,
  F_PERMISSION: 0x13, F_TLB_CONFLICT: 0x20, F_CFG_CONFLICT: 0x21, E_PAGE_REQUEST: 0x24, F_VMS_FETCH: 0x25,
} as const;
export type EvtName = keyof typeof EvtType;

/** Event CLASS (dword 1 [41:40]): what the faulting access was for. */
export const EvtClass = { CD: 0, TT: 1, IN: 2 } as const;

/** All event fields; `InputAddr` is a bigint (a device address may use all 64 bits). */
export interface EventRecord {
  type: number;
  /** `F_TRANSLATION` etc.; `UNKNOWN` for a code not in `EvtType`. */
  name: string;
  StreamID: number; SSV: number; SubstreamID: number;
  STAG: number; Stall: number; PnU: number; InD: number; RnW: number; NSIPA: number; S2: number; CLASS: number; TTRnW: number;
  InputAddr: bigint;
  /** Translation-class faults: the IPA (dword 3 [51:12], in place) when S2 = 1. */
  IPA: number;
  /** Fetch aborts (F_STE_FETCH, F_CD_FETCH, F_WALK_EABT, F_VMS_FETCH): dword 3 [51:3], in place. */
  FetchAddr: number;
}

type Field = Exclude<keyof EventRecord, 'type' | 'name'>;
const SSID: Field[] = ['StreamID', 'SSV', 'SubstreamID'];
const FULL: Field[] = [...SSID, 'Stall', 'STAG', 'PnU', 'InD', 'RnW', 'NSIPA', 'S2', 'CLASS', 'TTRnW', 'InputAddr', 'IPA'];

/** Fields each event type carries (IHI 0070 7.3); others are RES0. */
export const EVENT_FIELDS: Record<EvtName, readonly Field[]> = {
  F_UUT: [...SSID, 'InD', 'PnU', 'RnW', 'NSIPA', 'InputAddr'],
  C_BAD_STREAMID: SSID,
  F_STE_FETCH: [...SSID, 'FetchAddr'],
  C_BAD_STE: SSID,
  F_BAD_ATS_TREQ: [...SSID, 'PnU', 'InD', 'RnW', 'InputAddr'],
  F_STREAM_DISABLED: SSID,
  F_TRANSL_FORBIDDEN: ['StreamID', 'RnW', 'InputAddr'],
  C_BAD_SUBSTREAMID: SSID,
  F_CD_FETCH: [...SSID, 'FetchAddr'],
  C_BAD_CD: SSID,
  F_WALK_EABT: [...SSID, 'Stall', 'STAG', 'PnU', 'InD', 'RnW', 'S2', 'CLASS', 'InputAddr', 'FetchAddr'],
  F_TRANSLATION: FULL, F_ADDR_SIZE: FULL, F_ACCESS: FULL, F_PERMISSION: FULL,
  F_TLB_CONFLICT: [...SSID, 'PnU', 'InD', 'RnW', 'NSIPA', 'S2', 'InputAddr'],
  F_CFG_CONFLICT: SSID,
  E_PAGE_REQUEST: [...SSID, 'RnW', 'InputAddr'],
  F_VMS_FETCH: ['FetchAddr'],
};

const BY_CODE = new Map<number, EvtName>(Object.entries(EvtType).map(([k, v]) => [v, k as EvtName]));
export const eventName = (type: number): string => BY_CODE.get(type) ?? 'UNKNOWN';

/** An all-zero record of `type` (fill the fields, then `encodeEvent`). */
export function newEvent(type: number): EventRecord {
  return {
    type, name: eventName(type), StreamID: 0, SSV: 0, SubstreamID: 0, STAG: 0, Stall: 0, PnU: 0, InD: 0, RnW: 0, NSIPA: 0,
    S2: 0, CLASS: 0, TTRnW: 0, InputAddr: 0n, IPA: 0, FetchAddr: 0,
  };
}

const SIMPLE: Record<string, readonly [number, number, number]> = {
  SSV: [0, 11, 1], SubstreamID: [0, 12, 20], StreamID: [0, 32, 32],
  STAG: [1, 0, 16], Stall: [1, 31, 1], PnU: [1, 33, 1], InD: [1, 34, 1], RnW: [1, 35, 1], NSIPA: [1, 38, 1],
  S2: [1, 39, 1], CLASS: [1, 40, 2], TTRnW: [1, 44, 1],
};

/** The 8-word image of `e`; only the fields its type carries are written. */
export function encodeEvent(e: EventRecord, out = new Uint32Array(8)): Uint32Array {
  out.fill(0);
  setField(out, 0, 0, 8, e.type);
  const fields = EVENT_FIELDS[BY_CODE.get(e.type) ?? 'F_CFG_CONFLICT'] ?? SSID;
  for (const k of fields) {
    if (k === 'InputAddr') {
      const v = BigInt.asUintN(64, e.InputAddr);
      out[4] = Number(v & 0xffffffffn);
      out[5] = Number(v >> 32n);
    } else if (k === 'IPA') {
      setAddr(out, 3, 51, 12, e.IPA - (e.IPA % 4096));
    } else if (k === 'FetchAddr') {
      setAddr(out, 3, 51, 3, e.FetchAddr - (e.FetchAddr % 8));
    } else {
      const [dw, lsb, width] = SIMPLE[k]!;
      setField(out, dw, lsb, width, e[k] as number);
    }
  }
  return out;
}

/** Decodes an event image; fields the type does not carry read as 0. */
export function decodeEvent(w: ArrayLike<number>): EventRecord {
  const type = getField(w, 0, 0, 8);
  const e = newEvent(type);
  const fields = EVENT_FIELDS[BY_CODE.get(type) ?? 'F_CFG_CONFLICT'] ?? SSID;
  for (const k of fields) {
    if (k === 'InputAddr') e.InputAddr = (BigInt(w[5]! >>> 0) << 32n) | BigInt(w[4]! >>> 0);
    else if (k === 'IPA') e.IPA = getAddr(w, 3, 51, 12);
    else if (k === 'FetchAddr') e.FetchAddr = getAddr(w, 3, 51, 3);
    else {
      const [dw, lsb, width] = SIMPLE[k]!;
      (e as unknown as Record<string, number>)[k] = getField(w, dw, lsb, width);
    }
  }
  return e;
}
