import { describe, it, expect } from 'vitest';
import { hexFromWords, wordsFromHex } from './bits.js';
import { decodeCommand, encodeCommand } from './commands.js';
import { EvtClass, EvtType, decodeEvent, encodeEvent, newEvent } from './events.js';
import { decodeCd, decodeL1Cd, decodeL1Std, decodeSte, encodeCd, encodeL1Cd, encodeL1Std, encodeSte } from './formats.js';

// Hand-computed images: each word is a 32-bit half of a little-endian dword (word 2n = dword n [31:0]).

describe('STE', () => {
  const init = {
    V: 1, Config: 7, S1ContextPtr: 0x8000_4000, S1CDMax: 5, S1DSS: 2, S1CIR: 1, S1COR: 1, S1CSH: 3, S2FWB: 1, EATS: 1,
    SHCFG: 1, S2VMID: 9, S2T0SZ: 16, S2SL0: 2, S2IR0: 1, S2OR0: 1, S2SH0: 3, S2PS: 5, S2AA64: 1, S2PTW: 1, S2S: 1, S2R: 1,
    S2TTB: 0x8000_4000,
  };
  it('encodes the fields at the Linux STRTAB_STE_* positions', () => {
    const w = encodeSte(init);
    expect(w[0]).toBe(0x8000_400f);           // V | Config 0b111 << 1 | S1ContextPtr in place
    expect(w[1]).toBe(0x2800_0000);           // S1CDMax 5 at [63:59]
    expect(w[2]).toBe(0x1200_00d6);           // S1DSS 2, S1CIR 1 <<2, S1COR 1 <<4, S1CSH 3 <<6, S2FWB bit 25, EATS 1 << 28
    expect(w[3]).toBe(0x0000_1000);           // SHCFG 1 at [45:44]
    expect(w[4]).toBe(9);                     // S2VMID
    // S2T0SZ 16 | SL0 2 <<6 | IR0 1 <<8 | OR0 1 <<10 | SH0 3 <<12 | PS 5 <<16 | AA64 <<19 | PTW <<22 | S2S <<25 | S2R <<26
    expect(w[5]).toBe((16 | 0x80 | 0x100 | 0x400 | 0x3000 | 0x5_0000 | 0x8_0000 | 0x40_0000 | 0x200_0000 | 0x400_0000) >>> 0);
    expect(w[6]).toBe(0x8000_4000);
    expect(decodeSte(w)).toMatchObject(init);
  });
  it('round-trips through the memory image (hex, ascending addresses)', () => {
    const hex = hexFromWords(encodeSte(init));
    expect(hex.slice(0, 16)).toBe('0f40008000000028');
    expect(decodeSte(wordsFromHex(hex, 64))).toMatchObject(init);
  });
  it('S2HD/S2HA/S2S/S2R sit at 55/56/57/58 (QEMU fixed them in 2023)', () => {
    expect(encodeSte({ S2HD: 1 })[5]).toBe(1 << 23);
    expect(encodeSte({ S2HA: 1 })[5]).toBe(1 << 24);
    expect(encodeSte({ S2S: 1 })[5]).toBe(1 << 25);
    expect(encodeSte({ S2R: 1 })[5]).toBe(1 << 26);
  });
  it('refuses values that do not fit', () => {
    expect(() => encodeSte({ Config: 8 })).toThrow(/Config/);
    expect(() => encodeSte({ S2TTB: 0x8000_4008 })).toThrow(/S2TTB/);
  });
});

describe('CD', () => {
  // What Linux arm_smmu_make_s1_cd writes for a 48-bit 4K domain with ASID 7.
  const init = {
    T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 7,
    TTB0: 0x4000_1000, MAIR0: 0x0044_04ff, MAIR1: 0xf0,
  };
  it('encodes the fields at the Linux CTXDESC_CD_* positions', () => {
    const w = encodeCd(init);
    expect(w[0]).toBe(0xc000_3510);
    expect(w[1]).toBe(0x0007_6205); // IPS 5, AA64 bit 41, R 45, A 46, ASID [63:48]
    expect(w[2]).toBe(0x4000_1000);
    expect(w[6]).toBe(0x0044_04ff);
    expect(w[7]).toBe(0xf0);
    expect(decodeCd(w)).toMatchObject(init);
  });
  it('TTB1, T1SZ/TG1 and the stall/HTTU bits', () => {
    const w = encodeCd({ T1SZ: 25, TG1: 2, TTB1: 0xffff_f000, S: 1, HA: 1, HD: 1, ASET: 1, AFFD: 1 });
    expect(w[0]).toBe(((25 << 16) | (2 << 22)) >>> 0);
    expect(w[1]).toBe((1 << 12) | (1 << 11) | (1 << 10) | (1 << 15) | (1 << 3));
    expect(w[4]).toBe(0xffff_f000);
  });
});

describe('level-1 descriptors', () => {
  it('L1STD: Span [4:0], L2Ptr [51:6]; L1CD: V [0], L2Ptr [51:12]', () => {
    expect(encodeL1Std({ Span: 9, L2Ptr: 0x1_2345_6740 })).toEqual([0x2345_6749, 1]);
    expect(decodeL1Std(0x2345_6749, 1)).toEqual({ Span: 9, L2Ptr: 0x1_2345_6740 });
    expect(encodeL1Cd({ V: 1, L2Ptr: 0x8000_3000 })).toEqual([0x8000_3001, 0]);
    expect(decodeL1Cd(0x8000_3fff, 0)).toEqual({ V: 1, L2Ptr: 0x8000_3000 });
  });
});

describe('commands', () => {
  it('CMD_TLBI_NH_VA: VMID [47:32], ASID [63:48], Leaf, VA [63:12]', () => {
    const w = encodeCommand('TLBI_NH_VA', { VMID: 9, ASID: 7, Address: 0x7654_3210_f000, Leaf: 1 });
    expect([...w]).toEqual([0x12, 0x0007_0009, 0x3210_f001, 0x7654]);
    expect(decodeCommand(w)).toMatchObject({ opcode: 0x12, name: 'CMD_TLBI_NH_VA', legal: true, VMID: 9, ASID: 7, Address: 0x7654_3210_f000, Leaf: 1, NUM: 0, TG: 0 });
  });
  it('CMD_SYNC with an MSI; CMD_CFGI_ALL is CFGI_STE_RANGE with Range 31', () => {
    const s = encodeCommand('SYNC', { CS: 1, MSIData: 0xdead, MSIAddress: 0x1000_0040 });
    expect([...s]).toEqual([0x1046, 0xdead, 0x1000_0040, 0]);
    const a = encodeCommand('CFGI_ALL');
    expect([...a]).toEqual([0x04, 0, 31, 0]);
    expect(decodeCommand(a).name).toBe('CMD_CFGI_ALL');
    expect(decodeCommand(encodeCommand('CFGI_STE_RANGE', { StreamID: 0x40, Range: 3 })).name).toBe('CMD_CFGI_STE_RANGE');
  });
  it('CMD_RESUME: Action [13:12], StreamID, STAG; CMD_CFGI_CD: SubstreamID [31:12]', () => {
    const r = encodeCommand('RESUME', { Action: 1, StreamID: 5, STAG: 0x1234 });
    expect([...r]).toEqual([0x1044, 5, 0x1234, 0]);
    expect(decodeCommand(r)).toMatchObject({ name: 'CMD_RESUME', Action: 1, StreamID: 5, STAG: 0x1234 });
    expect([...encodeCommand('CFGI_CD', { StreamID: 3, SubstreamID: 70, Leaf: 1 })]).toEqual([0x05 | (70 << 12), 3, 1, 0]);
  });
  it('unknown opcodes and reserved operand values are ILLEGAL', () => {
    expect(decodeCommand([0x07, 0, 0, 0])).toEqual({ opcode: 7, name: 'ILLEGAL', legal: false, cerror: 'CERROR_ILL' });
    expect(decodeCommand([0x46 | (3 << 12), 0, 0, 0]).legal).toBe(false);
    expect(decodeCommand([0xff, 0, 0, 0]).name).toBe('ILLEGAL');
  });
  it('every named opcode round-trips', () => {
    for (const op of ['PREFETCH_CONFIG', 'CFGI_STE', 'CFGI_CD_ALL', 'TLBI_NH_ALL', 'TLBI_NH_ASID', 'TLBI_NH_VAA', 'TLBI_EL2_ALL',
      'TLBI_EL2_ASID', 'TLBI_EL2_VA', 'TLBI_EL2_VAA', 'TLBI_S12_VMALL', 'TLBI_S2_IPA', 'TLBI_NSNH_ALL', 'ATC_INV', 'PRI_RESP',
      'STALL_TERM'] as const) {
      const d = decodeCommand(encodeCommand(op));
      expect(d.name).toBe(`CMD_${op}`);
      expect(d.legal).toBe(true);
    }
    const ipa = decodeCommand(encodeCommand('TLBI_S2_IPA', { VMID: 3, IPA: 0x8_1234_5000, TG: 1, NUM: 3, SCALE: 1 }));
    expect(ipa).toMatchObject({ VMID: 3, IPA: 0x8_1234_5000, TG: 1, NUM: 3, SCALE: 1 });
  });
});

describe('event records', () => {
  it('F_TRANSLATION: every field at the Linux EVTQ_* position', () => {
    const e = { ...newEvent(EvtType.F_TRANSLATION), StreamID: 3, SSV: 1, SubstreamID: 70, Stall: 1, STAG: 0x55, PnU: 1, InD: 0, RnW: 1,
      S2: 1, CLASS: EvtClass.TT, InputAddr: 0x7654_3210_f123n, IPA: 0x4000_2000 };
    const w = encodeEvent(e);
    expect([...w]).toEqual([0x10 | (1 << 11) | (70 << 12), 3, 0x8000_0055, (1 << 1) | (1 << 3) | (1 << 7) | (1 << 8), 0x3210_f123, 0x7654, 0x4000_2000, 0]);
    expect(decodeEvent(w)).toEqual(e);
  });
  it('fetch aborts carry FetchAddr [51:3] in dword 3; config errors only the stream fields', () => {
    const f = { ...newEvent(EvtType.F_CD_FETCH), StreamID: 1, FetchAddr: 0x1_2345_6788 };
    expect([...encodeEvent(f)]).toEqual([0x09, 1, 0, 0, 0, 0, 0x2345_6788, 1]);
    const c = { ...newEvent(EvtType.C_BAD_STE), StreamID: 4, RnW: 1 };
    expect([...encodeEvent(c)]).toEqual([0x04, 4, 0, 0, 0, 0, 0, 0]); // RnW is not a C_BAD_STE field
    expect(decodeEvent(encodeEvent(c)).name).toBe('C_BAD_STE');
  });
});
