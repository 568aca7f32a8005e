import { describe, it, expect } from 'vitest';
import { UserError } from '../sim/index.js';
import { AccessKind, DEFAULT_ATTR_OPTIONS, decodeWalkAttrs, effectiveAttrs, s2TableWalkAttrs } from './attrs.js';
import {
  DEFAULT_MMU_FEATURES, decodeRegime, decodeStage1, decodeStage2, encodeHcr, encodeMair, encodeSctlr, encodeTcr, encodeTtbr,
  encodeVtcr, regimeRegisters, resolveMmuFeatures, s1StartLevel, s2InconsistentSL, s2StartLevel, type MmuFeatures,
} from './regime.js';

const F = DEFAULT_MMU_FEATURES;
const feat = (o: Record<string, unknown>): MmuFeatures => resolveMmuFeatures(o);

function s1(tcr: Parameters<typeof encodeTcr>[0], ttbr0 = 0, ttbr1 = 0, f: MmuFeatures = F) {
  const t = encodeTcr(tcr), a = encodeTtbr(ttbr0, 0x12), b = encodeTtbr(ttbr1, 0x34);
  return decodeStage1(t.lo, t.hi, a.lo, a.hi, b.lo, b.hi, f);
}
function s2(v: Parameters<typeof encodeVtcr>[0], vttbr = 0, f: MmuFeatures = F, vmid = 0) {
  const r = encodeVtcr(v), t = encodeTtbr(vttbr, vmid);
  return decodeStage2(r.lo, r.hi, t.lo, t.hi, false, f);
}

describe('stage 1 geometry (AArch64.S1StartLevel)', () => {
  it('start level from input size and granule', () => {
    expect(s1StartLevel(48, 12)).toBe(0);
    expect(s1StartLevel(39, 12)).toBe(1);
    expect(s1StartLevel(30, 12)).toBe(2);
    expect(s1StartLevel(48, 14)).toBe(0);
    expect(s1StartLevel(47, 14)).toBe(1);
    expect(s1StartLevel(36, 14)).toBe(2);
    expect(s1StartLevel(48, 16)).toBe(1);
    expect(s1StartLevel(42, 16)).toBe(2);
    expect(s1StartLevel(52, 16)).toBe(1);
  });
  it('decodes both halves: T0SZ/T1SZ, TG0/TG1 encodings, start table size', () => {
    const p = s1({ t0sz: 16, tg0: '4K', t1sz: 25, tg1: '64K' });
    expect(p.half0).toMatchObject({ granuleBits: 12, inputBits: 48, startLevel: 0, startIndexBits: 9 });
    expect(p.half1).toMatchObject({ granuleBits: 16, inputBits: 39, startLevel: 2, startIndexBits: 10 });
    const q = s1({ tg0: '16K', t0sz: 17, tg1: '16K', t1sz: 16 });
    expect(q.half0).toMatchObject({ granuleBits: 14, startLevel: 1, startIndexBits: 11 });
    expect(q.half1).toMatchObject({ granuleBits: 14, startLevel: 0, startIndexBits: 1 });
  });
  it('TxSZ out of range: level 0 fault or clamp (IMPLEMENTATION DEFINED)', () => {
    expect(s1({ t0sz: 12 }).half0).toMatchObject({ txszFault: true, txsz: 16 });
    expect(s1({ t0sz: 40 }).half0).toMatchObject({ txszFault: true, txsz: 39 });
    expect(s1({ t0sz: 40 }, 0, 0, feat({ txszAboveMax: 'clamp' })).half0).toMatchObject({ txszFault: false, txsz: 39, inputBits: 25 });
    expect(s1({ t0sz: 40 }, 0, 0, feat({ txszBelowMin: 'clamp' })).half0.txszFault).toBe(true);
    expect(s1({ t0sz: 15 }, 0, 0, feat({ txszBelowMin: 'clamp' })).half0).toMatchObject({ txszFault: false, inputBits: 48 });
    // with FEAT_LVA a too-small TxSZ must fault (AArch64.S1TxSZFaults)
    expect(s1({ t0sz: 15 }, 0, 0, feat({ txszBelowMin: 'clamp', featLVA: true })).half0.txszFault).toBe(true);
    expect(s1({ t0sz: 48 }, 0, 0, feat({ featTTST: true })).half0).toMatchObject({ txszFault: false, inputBits: 16, startLevel: 3 });
    expect(s1({ t0sz: 12, tg0: '64K' }, 0, 0, feat({ featLVA: true })).half0).toMatchObject({ txszFault: false, inputBits: 52 });
  });
  it('unimplemented or reserved TG uses the configured granule', () => {
    const f = feat({ granules: ['4K', '64K'], reservedGranule: '64K' });
    expect(s1({ tg0: '16K' }, 0, 0, f).half0.granuleBits).toBe(16);
    const t = encodeTcr({});
    const r = decodeStage1(t.lo, (t.hi >>> 0), 0, 0, 0, 0, f);
    expect(r.half1.granuleBits).toBe(12);
    const tg1Reserved = decodeStage1((t.lo & 0x3fffffff) >>> 0, t.hi, 0, 0, 0, 0, f);
    expect(tg1Reserved.half1.granuleBits).toBe(16);
  });
  it('output size is IPS capped by PARange, and by 48 bits unless 64K with FEAT_LPA', () => {
    expect(s1({ ipsBits: 40 }).half0.outputBits).toBe(40);
    expect(s1({ ipsBits: 52 }).half0.outputBits).toBe(48);
    expect(s1({ ipsBits: 48 }, 0, 0, feat({ paBits: 44 })).half0.outputBits).toBe(44);
    const lpa = feat({ paBits: 52, featLPA: true });
    expect(s1({ ipsBits: 52, tg0: '64K' }, 0, 0, lpa).half0.outputBits).toBe(52);
    expect(s1({ ipsBits: 52, tg0: '4K' }, 0, 0, lpa).half0.outputBits).toBe(48);
  });
  it('TTBR base: aligned to the start table, CnP ignored, BADDR beyond IPS flagged', () => {
    const t = encodeTcr({ t0sz: 25 }); // 39-bit, level 1, 512 entries: 4 KiB table
    const b = decodeStage1(t.lo, t.hi, 0x4000_1fff, 0, 0, 0, F);
    expect(b.half0.tableBase).toBe(0x4000_1000);
    expect(s1({ ipsBits: 40 }, 2 ** 40).half0.baseOutOfRange).toBe(true);
    expect(s1({ ipsBits: 40 }, 2 ** 39).half0.baseOutOfRange).toBe(false);
    const small = s1({ t0sz: 36 }, 0x8000_0030); // 28-bit, level 2, 128 entries: 1 KiB table
    expect(small.half0).toMatchObject({ startLevel: 2, startIndexBits: 7, tableBase: 0x8000_0000 });
  });
  it('52-bit TTBR: BADDR[51:48] from bits [5:2]', () => {
    const f = feat({ paBits: 52, featLPA: true, featLVA: true });
    const p = s1({ t0sz: 12, tg0: '64K', ipsBits: 52 }, 0x3_0000_4000_0000, 0, f);
    expect(p.half0.tableBase).toBe(0x3_0000_4000_0000);
  });
  it('ASID from TTBR0 or TTBR1 (A1), 8 or 16 bits (AS)', () => {
    const mk = (a1: boolean, as16: boolean): number => {
      const t = encodeTcr({ a1, as16 }), x = encodeTtbr(0, 0xab12), y = encodeTtbr(0, 0xcd34);
      return decodeStage1(t.lo, t.hi, x.lo, x.hi, y.lo, y.hi, F).asid;
    };
    expect(mk(false, false)).toBe(0x12);
    expect(mk(true, false)).toBe(0x34);
    expect(mk(false, true)).toBe(0xab12);
    expect(mk(true, true)).toBe(0xcd34);
  });
  it('TBI, TBID, EPD, HPD (FEAT_HPDS) and walk attributes per half', () => {
    const p = s1({ tbi0: true, tbid1: true, epd1: true, hpd0: true, irgn1: 2, orgn1: 0, sh1: 2 });
    expect(p.half0).toMatchObject({ tbi: true, tbid: false, epd: false, hpd: true });
    expect(p.half1).toMatchObject({ tbi: false, tbid: true, epd: true, hpd: false, irgn: 2, orgn: 0, sh: 2 });
    expect(p.half1.walkS1Attrs).toBe(decodeWalkAttrs(2, 0, 2));
    expect(s1({ hpd0: true }, 0, 0, feat({ featHPDS: false })).half0.hpd).toBe(false);
  });
});

describe('stage 2 geometry (AArch64.S2StartLevel, S2InvalidSL, S2InconsistentSL)', () => {
  it('SL0 tables per granule', () => {
    expect([0, 1, 2, 3].map((sl) => s2StartLevel(sl, 12, F))).toEqual([2, 1, 0, -1]);
    expect([0, 1, 2, 3].map((sl) => s2StartLevel(sl, 12, feat({ featTTST: true })))).toEqual([2, 1, 0, 3]);
    expect([0, 1, 2, 3].map((sl) => s2StartLevel(sl, 14, F))).toEqual([3, 2, 1, -1]);
    expect([0, 1, 2, 3].map((sl) => s2StartLevel(sl, 16, F))).toEqual([3, 2, 1, -1]);
  });
  it('the deepest SL0 encodings need a large enough PARange', () => {
    expect(s2StartLevel(2, 12, feat({ paBits: 40 }))).toBe(-1);
    expect(s2StartLevel(2, 12, feat({ paBits: 44 }))).toBe(0);
    expect(s2StartLevel(2, 14, feat({ paBits: 40 }))).toBe(-1);
    expect(s2StartLevel(2, 14, feat({ paBits: 42 }))).toBe(1);
    expect(s2StartLevel(2, 16, feat({ paBits: 42 }))).toBe(-1);
  });
  it('consistency window: iasize in [levels*stride + granulebits + 1, + stride - 1 + 4]', () => {
    // 4K from level 1: 31..43 bits; from level 0: 40..52; from level 2: 22..34.
    expect([30, 31, 43, 44].map((ia) => s2InconsistentSL(1, ia, 12))).toEqual([true, false, false, true]);
    expect([39, 40, 48].map((ia) => s2InconsistentSL(0, ia, 12))).toEqual([true, false, false]);
    expect([21, 22, 34, 35].map((ia) => s2InconsistentSL(2, ia, 12))).toEqual([true, false, false, true]);
  });
  it('KVM 40-bit IPA, 4K: level 1 with two concatenated tables', () => {
    const p = s2({ t0sz: 24, sl0: 1, tg0: '4K' }, 0x8_0000_2000);
    expect(p).toMatchObject({ configFault: false, startLevel: 1, inputBits: 40, startIndexBits: 10, concatTables: 2, tableBase: 0x8_0000_2000 });
    // an 8 KiB root must be 8 KiB aligned: the low bits of BADDR are ignored
    expect(s2({ t0sz: 24, sl0: 1 }, 0x8_0000_3000).tableBase).toBe(0x8_0000_2000);
  });
  it('16K, 40-bit IPA from level 2: 16 concatenated tables; 64K 44-bit from level 2: 4', () => {
    expect(s2({ t0sz: 24, sl0: 1, tg0: '16K' })).toMatchObject({ startLevel: 2, concatTables: 16, startIndexBits: 15 });
    expect(s2({ t0sz: 20, sl0: 1, tg0: '64K' })).toMatchObject({ startLevel: 2, concatTables: 4 });
    expect(s2({ t0sz: 22, sl0: 1, tg0: '64K' })).toMatchObject({ startLevel: 2, concatTables: 1 });
  });
  it('inconsistent and invalid SL0 make every stage-2 translation a level 0 fault', () => {
    expect(s2({ t0sz: 24, sl0: 0 })).toMatchObject({ configFault: true });
    expect(s2({ t0sz: 24, sl0: 0 }).configFaultReason).toMatch(/S2InconsistentSL/);
    expect(s2({ t0sz: 24, sl0: 3 }).configFaultReason).toMatch(/S2InvalidSL/);
    expect(s2({ t0sz: 16, sl0: 2 }, 0, feat({ paBits: 40 })).configFaultReason).toMatch(/out of range/);
    expect(s2({ t0sz: 16, sl0: 2 }, 0, feat({ paBits: 48 })).configFault).toBe(false);
  });
  it('T0SZ limits follow PARange (AArch64.S2MinTxSZ); clamping is an option', () => {
    expect(s2({ t0sz: 20, sl0: 2 }, 0, feat({ paBits: 40 })).configFault).toBe(true);
    const c = s2({ t0sz: 20, sl0: 1 }, 0, feat({ paBits: 40, txszBelowMin: 'clamp' }));
    expect(c).toMatchObject({ configFault: false, inputBits: 40, concatTables: 2 });
    // with FEAT_LPA a too-small VTCR_EL2.T0SZ must fault (AArch64.S2TxSZFaults)
    const lpa = feat({ paBits: 52, featLPA: true, txszBelowMin: 'clamp' });
    expect(s2({ t0sz: 11, sl0: 2, tg0: '64K' }, 0, lpa).configFault).toBe(true);
  });
  it('VMID 8 or 16 bits (VTCR_EL2.VS, FEAT_VMID16), PS, walk attributes', () => {
    expect(s2({}, 0, F, 0x1234).vmid).toBe(0x34);
    expect(s2({ vs16: true }, 0, F, 0x1234).vmid).toBe(0x1234);
    expect(s2({ vs16: true }, 0, feat({ featVMID16: false }), 0x1234).vmid).toBe(0x34);
    expect(s2({ psBits: 40 }).outputBits).toBe(40);
    expect(s2({ psBits: 40 }, 2 ** 41).baseOutOfRange).toBe(true);
    expect(s2({ irgn0: 0, orgn0: 3, sh0: 2 }).walkAttrs).toBe(s2TableWalkAttrs(0, 3, 2, false));
  });
});

describe('decodeRegime', () => {
  const base = (o: Parameters<typeof regimeRegisters>[0] = {}) => {
    const t = encodeTcr({}), m = encodeMair([0xff, 0x44, 0x04]);
    return regimeRegisters({ tcrLo: t.lo, tcrHi: t.hi, mairLo: m.lo, mairHi: m.hi, sctlr: encodeSctlr(), ...o });
  };
  it('which stages are on: SCTLR_EL1.M, HCR_EL2.VM, HCR_EL2.DC (which turns stage 1 off)', () => {
    expect(decodeRegime(base())).toMatchObject({ s1Enabled: true, s2Enabled: false });
    const vm = encodeHcr({ vm: true }), dc = encodeHcr({ dc: true });
    expect(decodeRegime(base({ el2Enabled: true, hcrLo: vm.lo }))).toMatchObject({ s1Enabled: true, s2Enabled: true });
    expect(decodeRegime(base({ el2Enabled: false, hcrLo: vm.lo }))).toMatchObject({ s1Enabled: true, s2Enabled: false });
    expect(decodeRegime(base({ el2Enabled: true, hcrLo: dc.lo }))).toMatchObject({ s1Enabled: false, s2Enabled: true });
    expect(decodeRegime(base({ sctlr: encodeSctlr({ m: false }) }))).toMatchObject({ s1Enabled: false, s2Enabled: false });
  });
  it('MAIR bytes, HCR bits and the walk attributes without stage 2', () => {
    const h = encodeHcr({ vm: true, ptw: true, cd: true, id: true, fwb: true, dct: true });
    const r = decodeRegime(base({ el2Enabled: true, hcrLo: h.lo, hcrHi: h.hi }));
    expect([...r.mair]).toEqual([0xff, 0x44, 0x04, 0, 0, 0, 0, 0]);
    expect(r).toMatchObject({ hcrVM: true, hcrPTW: true, hcrCD: true, hcrID: true, hcrFWB: true, hcrDCT: true, hcrDC: false });
    const noS2 = decodeRegime(base({ sctlr: encodeSctlr({ c: false }) }));
    const expected = effectiveAttrs({
      access: AccessKind.Walk, el2Enabled: false, hcrVM: false, hcrDC: false, hcrDCT: false, hcrFWB: false, hcrCD: false,
      hcrID: false, hcrPTW: false, sctlrM: true, sctlrC: false, sctlrI: true, s1: decodeWalkAttrs(1, 1, 3), s2: 0,
    }, DEFAULT_ATTR_OPTIONS);
    expect(noS2.s1.half0.walkAttrsNoS2).toBe(expected);
  });
  it('HCR_EL2.TGE=1 is not modelled', () => {
    expect(() => decodeRegime(base({ el2Enabled: true, hcrLo: 1 << 27 }))).toThrow(/TGE/);
  });
});

describe('resolveMmuFeatures', () => {
  it('accepts overrides and rejects unknown keys and bad values with one-line UserErrors', () => {
    expect(resolveMmuFeatures({ paBits: 40 }).paBits).toBe(40);
    expect(() => resolveMmuFeatures({ pabits: 40 })).toThrow(UserError);
    expect(() => resolveMmuFeatures({ paBits: 47 })).toThrow(/paBits: expected one of/);
    expect(() => resolveMmuFeatures({ paBits: 52 })).toThrow(/featLPA/);
    expect(() => resolveMmuFeatures({ granules: ['4K'], reservedGranule: '64K' })).toThrow(/reservedGranule/);
    expect(() => resolveMmuFeatures({ txszBelowMin: 'maybe' })).toThrow(/txszBelowMin: expected/);
  });
});
