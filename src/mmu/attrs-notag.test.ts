/**
 * FEAT_MTE_PERM stage-2 NoTagAccess, as rems-project/sail-arm arm-v9.4-a/src/v8_base.sail
 * (commit 00dd7f7d) has it: `S2DecodeMemAttrs`, `AArch64.S2ApplyFWBMemAttrs`,
 * `S2CombineS1MemAttrs`, `AArch64.S2NextWalkStateLeaf` (s2tag_na), `AArch64.S2CheckPermissions`.
 */
import { describe, it, expect } from 'vitest';
import {
  ATTR_NOTAGACCESS, ATTR_RESERVED, ATTR_S2_USE_S1, ATTR_TAGGED, AccessKind, DEFAULT_ATTR_OPTIONS, NORMAL_WB_RWA_ISH,
  attrIsTagged, attrReasons, combineS1S2, decodeMair, decodeS2MemAttr, effectiveAttrs, formatAttrs, resolveAttrOptions,
  Reason, type AttrContext, type AttrOptions,
} from './attrs.js';
import { attrsQuery } from './attrs-query.js';
import { UserError } from '../sim/index.js';

const PERM = resolveAttrOptions({ featMTEPerm: true });
const TAGGED_S1 = decodeMair(0xf0, 0b11, PERM);
const UNTAGGED_S1 = decodeMair(0xff, 0b11, PERM);

function ctx(s1: number, s2: number, over: Partial<AttrContext> = {}): AttrContext {
  return {
    access: AccessKind.Data, el2Enabled: true, hcrVM: true, hcrDC: false, hcrDCT: false, hcrFWB: (s2 & (1 << 18)) !== 0,
    hcrCD: false, hcrID: false, hcrPTW: false, sctlrM: true, sctlrC: true, sctlrI: true, s1, s2, ...over,
  };
}

describe('decode', () => {
  it('FWB=0 MemAttr 0b0100: reserved without FEAT_MTE_PERM, Normal iWB oWB NoTagAccess with it', () => {
    const off = decodeS2MemAttr(0b0100, 0b11, false, false, DEFAULT_ATTR_OPTIONS);
    expect(off & ATTR_RESERVED).not.toBe(0);
    expect(off & ATTR_NOTAGACCESS).toBe(0);
    const on = decodeS2MemAttr(0b0100, 0b11, false, false, PERM);
    expect(on & ATTR_RESERVED).toBe(0);
    expect(on & ATTR_NOTAGACCESS).not.toBe(0);
    expect(formatAttrs(on & ~ATTR_NOTAGACCESS)).toBe('Normal iWB oWB ISH XS=1'); // stage-2 XS is !FnXS
  });

  it('FWB=1: MemAttr[3:1] 0b111 (0b1110 force WB, 0b1111 use stage 1) is NoTagAccess; other bit-3 forms stay RES0', () => {
    for (let m = 0; m < 16; m++) {
      const on = decodeS2MemAttr(m, 0b11, true, false, PERM);
      const off = decodeS2MemAttr(m, 0b11, true, false, DEFAULT_ATTR_OPTIONS);
      const nta = (m & 0b1110) === 0b1110;
      expect((on & ATTR_NOTAGACCESS) !== 0, `0b${m.toString(2)}`).toBe(nta);
      expect(off & ATTR_NOTAGACCESS).toBe(0);
      // apart from the flags, the directive is that of MemAttr[2:0]
      const strip = (w: number) => w & ~(ATTR_NOTAGACCESS | ATTR_RESERVED);
      expect(strip(on)).toBe(strip(decodeS2MemAttr(m & 7, 0b11, true, false, PERM)));
      expect((on & ATTR_RESERVED) !== 0).toBe(((m & 8) !== 0 && !nta) || (m & 7) === 0b100);
    }
    expect(decodeS2MemAttr(0b1111, 0b11, true, false, PERM) & ATTR_S2_USE_S1).not.toBe(0);
  });

  it('FEAT_MTE_PERM needs FEAT_MTE2', () => {
    expect(() => resolveAttrOptions({ featMTEPerm: true, featMTE2: false })).toThrow(UserError);
    expect(() => resolveAttrOptions({ featMTEPerm: true, featMTE2: false })).toThrow('featMTEPerm');
  });
});

describe('combination: the final word keeps its tag and carries NoTagAccess (no fault by itself)', () => {
  const cases: [string, number, boolean][] = [['FWB=0 0b0100', 0b0100, false], ['FWB=1 0b1110', 0b1110, true], ['FWB=1 0b1111', 0b1111, true]];
  for (const [name, m, fwb] of cases) {
    it(`${name}: Tagged stage 1 -> Tagged + NoTagAccess; untagged stage 1 -> neither`, () => {
      const s2 = decodeS2MemAttr(m, 0b11, fwb, false, PERM);
      const t = combineS1S2(TAGGED_S1, s2, PERM);
      expect(t).toBe(NORMAL_WB_RWA_ISH | ATTR_TAGGED | ATTR_NOTAGACCESS);
      const u = combineS1S2(UNTAGGED_S1, s2, PERM);
      expect(u).toBe(NORMAL_WB_RWA_ISH);
      expect(effectiveAttrs(ctx(TAGGED_S1, s2), PERM)).toBe(t);
      expect(effectiveAttrs(ctx(UNTAGGED_S1, s2), PERM)).toBe(u);
    });
  }

  it('the stage-2-only flag never reaches a final word on its own (untagged stage 1, every encoding, every access)', () => {
    for (let mair = 0; mair < 256; mair++) {
      const s1 = decodeMair(mair, 0b11, PERM);
      for (let m = 0; m < 16; m++) {
        for (const fwb of [false, true]) {
          const s2 = decodeS2MemAttr(m, 0b10, fwb, false, PERM);
          for (const access of [AccessKind.Data, AccessKind.Fetch]) {
            const r = effectiveAttrs(ctx(s1, s2, { access, hcrFWB: fwb }), PERM);
            const want = access === AccessKind.Data && (s1 & ATTR_TAGGED) !== 0 && (s2 & ATTR_NOTAGACCESS) !== 0;
            expect(r >= 0 && (r & ATTR_NOTAGACCESS) !== 0, `MAIR 0x${mair.toString(16)} MemAttr ${m} fwb ${fwb} access ${access}`).toBe(want);
          }
        }
      }
    }
  });

  it('HCR_EL2.CD makes the memory NC and untagged, but the NoTagAccess check stays (the ASL tests s2tag_na and the stage-1 tags)', () => {
    for (const [m, fwb] of [[0b0100, false], [0b1111, true]] as const) {
      const r = effectiveAttrs(ctx(TAGGED_S1, decodeS2MemAttr(m, 0b11, fwb, false, PERM), { hcrCD: true }), PERM);
      expect(attrIsTagged(r)).toBe(false);
      expect(r & ATTR_NOTAGACCESS).not.toBe(0);
      expect(formatAttrs(r & ~ATTR_NOTAGACCESS)).toMatch(/^Normal iNC oNC OSH/);
    }
  });

  it('SCTLR_EL1.C=0 drops the stage-1 tag (default s1CacheOffTags), so no NoTagAccess either', () => {
    const r = effectiveAttrs(ctx(TAGGED_S1, decodeS2MemAttr(0b0100, 0b11, false, false, PERM), { sctlrC: false }), PERM);
    expect(r & ATTR_NOTAGACCESS).toBe(0);
  });

  it('HCR_EL2.DC with DCT: the stage-1-off default is Tagged, so NoTagAccess applies', () => {
    const s2 = decodeS2MemAttr(0b1110, 0b11, true, false, PERM);
    const r = effectiveAttrs(ctx(0, s2, { hcrDC: true, hcrDCT: true }), PERM);
    expect(r & ATTR_NOTAGACCESS).not.toBe(0);
    expect(attrIsTagged(r)).toBe(true);
  });

  it('without FEAT_MTE_PERM nothing changes: 0b0100 is reserved (S2RESMEMATTR), 0b111x only RES0', () => {
    const opts: AttrOptions = DEFAULT_ATTR_OPTIONS;
    const s2 = decodeS2MemAttr(0b0100, 0b11, false, false, opts);
    const r = effectiveAttrs(ctx(TAGGED_S1, s2), opts);
    expect(r & ATTR_NOTAGACCESS).toBe(0);
    const raw = { mair: 0xf0, s1sh: 3, tcrSh: 3, s2MemAttr: 0b0100, s2sh: 3 };
    expect(attrReasons(ctx(TAGGED_S1, s2), raw, opts)).toBe(Reason.S2RESMEMATTR);
    expect(attrReasons(ctx(TAGGED_S1, decodeS2MemAttr(0b0100, 0b11, false, false, PERM)), raw, PERM)).toBe(0);
    const f = { ...raw, s2MemAttr: 0b1110 };
    expect(attrReasons(ctx(TAGGED_S1, decodeS2MemAttr(0b1110, 0b11, true, false, opts), { hcrFWB: true }), f, opts)).toBe(Reason.S2FWB_RES0);
    expect(attrReasons(ctx(TAGGED_S1, decodeS2MemAttr(0b1110, 0b11, true, false, PERM), { hcrFWB: true }), f, PERM)).toBe(0);
  });
});

describe('armsim attrs: feat.mte_perm', () => {
  it('reports notagaccess with the attributes, status ok, no reason', () => {
    const r = attrsQuery({ s1: { mair: 0xf0 }, s2: { memattr: 0b0100 }, feat: { mte_perm: true } });
    expect(r).toMatchObject({ status: 'ok', reasons: [], fault: null, attrs: { type: 'Normal', tagged: true, notagaccess: true, attr8: 0xf0 } });
    const off = attrsQuery({ s1: { mair: 0xf0 }, s2: { memattr: 0b0100 } });
    expect(off).toMatchObject({ status: 'unpredictable', reasons: ['S2RESMEMATTR'], attrs: { notagaccess: false } });
    const fwb = attrsQuery({ s1: { mair: 0xf0 }, hcr: { fwb: 1 }, s2: { memattr: 0b1111 }, feat: { mte_perm: true } });
    expect(fwb).toMatchObject({ status: 'ok', reasons: [], attrs: { tagged: true, notagaccess: true } });
    expect(attrsQuery({ s2: { memattr: 0b0100 }, feat: { mte_perm: true } }).attrs).toMatchObject({ tagged: false, notagaccess: false });
  });
});
