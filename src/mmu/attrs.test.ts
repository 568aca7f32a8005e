import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  ATTR_FAULT_S1_PERMISSION, ATTR_FAULT_S2_PERMISSION, ATTR_NORMAL, ATTR_RESERVED, ATTR_S2_FWB, ATTR_S2_USE_S1, ATTR_TAGGED, ATTR_NXS,
  AccessKind, Cacheability, DEFAULT_ATTR_OPTIONS, DEVICE_GRE, DEVICE_nGnRE, DEVICE_nGnRnE, DEVICE_nGRE,
  NORMAL_NC_OSH, NORMAL_TAGGED_WB_RWA_ISH, NORMAL_WB_RWA_ISH, NORMAL_WB_RWA_NSH, NORMAL_WB_RWA_OSH, NORMAL_WT_RA_OSH,
  Shareability, attrDeviceKind, attrInnerCache, attrInnerReadAllocate, attrInnerTransient, attrInnerWriteAllocate,
  attrIsDevice, attrIsInnerCacheable, attrIsOuterCacheable, attrIsReserved, attrIsTagged, attrOuterCache,
  attrOuterReadAllocate, attrOuterTransient, attrOuterWriteAllocate, attrShare, attrXS, combineS1S2, decodeMair,
  decodeS2MemAttr, decodeShareability, decodeWalkAttrs, effectiveAttrs, effectiveShareability, formatAttrs,
  mairIsReserved, packAttrs, resolveAttrOptions, s1DisabledAttrs, s2TableWalkAttrs, stage1Enabled, stage2Enabled,
  unpackAttrs, type AttrContext, type AttrOptions,
} from './attrs.js';
import {
  S1ConstrainUnpredictableRESMAIR, refCombine, refDecodeMair, refToView, refTranslate, type RefRequest,
} from './attrs-reference.js';
import { UserError } from '../sim/index.js';

// ---------------------------------------------------------------------------------------------
// One raw request description drives both the packed implementation and the ASL reference.
// ---------------------------------------------------------------------------------------------

interface Spec {
  access: 'data' | 'ifetch' | 'ttw';
  el2: boolean;
  VM: boolean; DC: boolean; DCT: boolean; FWB: boolean; CD: boolean; ID: boolean; PTW: boolean;
  M: boolean; C: boolean; I: boolean;
  mair: number; s1sh: number;
  irgn: number; orgn: number; tsh: number;
  s2: number; s2sh: number; fnxs: boolean;
}

const BASE: Spec = {
  access: 'data', el2: true,
  VM: true, DC: false, DCT: false, FWB: false, CD: false, ID: false, PTW: false,
  M: true, C: true, I: true,
  mair: 0xff, s1sh: 0b11, irgn: 0b01, orgn: 0b01, tsh: 0b11,
  s2: 0b1111, s2sh: 0b11, fnxs: false,
};

const ACCESS = { data: AccessKind.Data, ifetch: AccessKind.Fetch, ttw: AccessKind.Walk } as const;

function toCtx(p: Spec, opts: AttrOptions): AttrContext {
  return {
    access: ACCESS[p.access], el2Enabled: p.el2,
    hcrVM: p.VM, hcrDC: p.DC, hcrDCT: p.DCT, hcrFWB: p.FWB, hcrCD: p.CD, hcrID: p.ID, hcrPTW: p.PTW,
    sctlrM: p.M, sctlrC: p.C, sctlrI: p.I,
    s1: p.access === 'ttw' ? decodeWalkAttrs(p.irgn, p.orgn, p.tsh, opts) : decodeMair(p.mair, p.s1sh, opts),
    s2: decodeS2MemAttr(p.s2, p.s2sh, p.FWB, p.fnxs, opts),
  };
}

function toRef(p: Spec): RefRequest {
  return {
    access: p.access, el2Enabled: p.el2,
    hcr: { VM: p.VM, DC: p.DC, DCT: p.DCT, FWB: p.FWB, CD: p.CD, ID: p.ID, PTW: p.PTW },
    sctlr: { M: p.M, C: p.C, I: p.I },
    mair: p.mair, s1sh: p.s1sh, tcr: { irgn: p.irgn, orgn: p.orgn, sh: p.tsh },
    s2memattr: p.s2, s2sh: p.s2sh, s2fnxs: p.fnxs,
  };
}

/** The fast result as a string: the formatted word, or the fault. */
function fast(p: Partial<Spec>, opts: AttrOptions = DEFAULT_ATTR_OPTIONS): string {
  const r = effectiveAttrs(toCtx({ ...BASE, ...p }, opts), opts);
  if (r === ATTR_FAULT_S1_PERMISSION) return 'S1 Permission fault';
  if (r === ATTR_FAULT_S2_PERMISSION) return 'S2 Permission fault';
  return formatAttrs(r);
}

/** The reference result in the same form (packed through packAttrs so words can be compared). */
function ref(p: Spec, opts: AttrOptions): number | string {
  const r = refTranslate(toRef(p), opts);
  if (r.fault !== 'none') return r.fault === 's1permission' ? 'S1 Permission fault' : 'S2 Permission fault';
  return packAttrs(refToView(r.attrs));
}

function fastWord(p: Spec, opts: AttrOptions): number | string {
  const r = effectiveAttrs(toCtx(p, opts), opts);
  if (r === ATTR_FAULT_S1_PERMISSION) return 'S1 Permission fault';
  if (r === ATTR_FAULT_S2_PERMISSION) return 'S2 Permission fault';
  return r;
}

const show = (w: number | string): string => (typeof w === 'number' ? formatAttrs(w) : w);

/** Every non-default choice at once. */
const ALT_OPTIONS = resolveAttrOptions({
  featXS: false, featMTE2: false, reservedMair: 0x44, reservedShareability: 'NSH', s2ReservedCacheability: 'WB',
  fwbReserved: 'as-111', instrFetchFromDevice: 'fault', s1CacheOffTags: 'keep', effectiveShareabilityAtS1: true,
});
const ALT_OPTIONS_2 = resolveAttrOptions({
  reservedMair: 0xf0, reservedShareability: 'ISH', s2ReservedCacheability: 'WT', fwbReserved: 'device-nGnRnE',
  s1CacheOffTags: 'keep',
});

// ---------------------------------------------------------------------------------------------

describe('packed layout', () => {
  it('0 is Device-nGnRnE, Outer Shareable, XS=1, untagged, not reserved', () => {
    expect(DEVICE_nGnRnE).toBe(0);
    expect(unpackAttrs(0)).toEqual({
      memType: 'Device', device: 'nGnRnE', inner: null, outer: null, shareability: 'OSH',
      tagged: false, xs: true, reserved: false, s2fwb: 'no',
    });
    expect(formatAttrs(0)).toBe('Device-nGnRnE OSH');
  });

  it('the ready-made words are what the matching MAIR byte and SH decode to', () => {
    expect(decodeMair(0x00, 0b10)).toBe(DEVICE_nGnRnE);
    expect(decodeMair(0x04, 0b10)).toBe(DEVICE_nGnRE);
    expect(decodeMair(0x08, 0b10)).toBe(DEVICE_nGRE);
    expect(decodeMair(0x0c, 0b10)).toBe(DEVICE_GRE);
    expect(decodeMair(0xff, 0b11)).toBe(NORMAL_WB_RWA_ISH);
    expect(decodeMair(0xff, 0b10)).toBe(NORMAL_WB_RWA_OSH);
    expect(decodeMair(0xff, 0b00)).toBe(NORMAL_WB_RWA_NSH);
    expect(decodeMair(0xf0, 0b11)).toBe(NORMAL_TAGGED_WB_RWA_ISH);
    expect(decodeMair(0xaa, 0b10)).toBe(NORMAL_WT_RA_OSH);
    expect(decodeMair(0x44, 0b10)).toBe(NORMAL_NC_OSH);
  });

  it('accessors read the fields they name', () => {
    const a = decodeMair(0x7b, 0b11); // outer 0111 WB-RWA transient, inner 1011 WT-RWA
    expect(attrIsDevice(a)).toBe(false);
    expect(attrInnerCache(a)).toBe(Cacheability.WT);
    expect(attrOuterCache(a)).toBe(Cacheability.WB);
    expect([attrInnerReadAllocate(a), attrInnerWriteAllocate(a), attrInnerTransient(a)]).toEqual([true, true, false]);
    expect([attrOuterReadAllocate(a), attrOuterWriteAllocate(a), attrOuterTransient(a)]).toEqual([true, true, true]);
    expect(attrShare(a)).toBe(Shareability.ISH);
    expect(attrXS(a)).toBe(true);
    expect(attrIsInnerCacheable(a) && attrIsOuterCacheable(a)).toBe(true);
    const d = decodeMair(0x09, 0b10); // Device-nGRE, XS=0
    expect(attrIsDevice(d)).toBe(true);
    expect(attrDeviceKind(d)).toBe(2);
    expect(attrXS(d)).toBe(false);
    expect(attrInnerCache(d)).toBe(Cacheability.None);
    expect(attrIsInnerCacheable(d) || attrIsOuterCacheable(d)).toBe(false);
    expect(attrIsInnerCacheable(NORMAL_NC_OSH)).toBe(false);
    expect(attrIsTagged(NORMAL_TAGGED_WB_RWA_ISH)).toBe(true);
    expect(attrIsReserved(decodeMair(0x10, 0b10))).toBe(true);
  });

  it('formats hints, transience, tags, unusual XS and reserved inputs', () => {
    expect(formatAttrs(NORMAL_WB_RWA_ISH)).toBe('Normal iWB-RWA oWB-RWA ISH');
    expect(formatAttrs(DEVICE_nGnRE)).toBe('Device-nGnRE OSH');
    expect(formatAttrs(decodeMair(0x77, 0b11))).toBe('Normal iWB-RWA-T oWB-RWA-T ISH');
    expect(formatAttrs(decodeMair(0x12, 0b00))).toBe('Normal iWT-RA-T oWT-WA-T NSH');
    expect(formatAttrs(decodeMair(0xcc, 0b11))).toBe('Normal iWB oWB ISH');
    expect(formatAttrs(decodeMair(0xf0, 0b11))).toBe('Normal iWB-RWA oWB-RWA ISH Tagged');
    expect(formatAttrs(decodeMair(0x40, 0b10))).toBe('Normal iNC oNC OSH XS=0');
    expect(formatAttrs(decodeMair(0x01, 0b10))).toBe('Device-nGnRnE OSH XS=0');
    expect(formatAttrs(decodeMair(0x06, 0b10))).toBe('Device-nGnRnE OSH (reserved encoding)');
    expect(formatAttrs(decodeS2MemAttr(0b0110, 0b11, true))).toBe('S2FWB force-WB ISH');
    expect(formatAttrs(decodeS2MemAttr(0b0111, 0b11, true))).toBe('S2FWB use-stage-1 ISH');
    expect(formatAttrs(decodeS2MemAttr(0b0001, 0b00, true))).toBe('S2FWB Device-nGnRE NSH');
    expect(formatAttrs(decodeS2MemAttr(0b1101, 0b10, true))).toBe('S2FWB NC OSH (reserved encoding)');
  });

  it('packAttrs rejects malformed input', () => {
    expect(() => packAttrs({ memType: 'Normal' })).toThrow(/needs inner and outer/);
    expect(() => packAttrs({ memType: 'Device', inner: { cache: 'WB' } })).toThrow(/no inner/);
    expect(() => packAttrs({ memType: 'Normal', inner: { cache: 'NC', readAllocate: true }, outer: { cache: 'NC' } })).toThrow(/NC/);
  });

  it('every field round-trips through pack and unpack (property)', () => {
    const level = fc.oneof(
      fc.constant({ cache: 'NC' as const, readAllocate: false, writeAllocate: false, transient: false }),
      fc.record({ cache: fc.constantFrom('WT' as const, 'WB' as const), readAllocate: fc.boolean(), writeAllocate: fc.boolean(), transient: fc.boolean() }),
    );
    const common = {
      shareability: fc.constantFrom('OSH' as const, 'ISH' as const, 'NSH' as const),
      tagged: fc.boolean(), xs: fc.boolean(), reserved: fc.boolean(),
      s2fwb: fc.constantFrom('no' as const, 'apply' as const, 'useS1' as const),
    };
    const view = fc.oneof(
      fc.record({ memType: fc.constant('Device' as const), device: fc.constantFrom('nGnRnE' as const, 'nGnRE' as const, 'nGRE' as const, 'GRE' as const), inner: fc.constant(null), outer: fc.constant(null), ...common }),
      fc.record({ memType: fc.constant('Normal' as const), device: fc.constant(null), inner: level, outer: level, ...common }),
    );
    fc.assert(fc.property(view, (v) => {
      const a = packAttrs(v);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThan(1 << 20);
      expect(unpackAttrs(a)).toEqual(v);
      expect(packAttrs(unpackAttrs(a))).toBe(a);
    }), { numRuns: 2000 });
  });
});

describe('stage 1: MAIR decode (S1DecodeMemAttrs)', () => {
  const FEATURES = [
    { featXS: true, featMTE2: true, reservedCount: 20 },
    { featXS: true, featMTE2: false, reservedCount: 21 },
    { featXS: false, featMTE2: true, reservedCount: 26 },
    { featXS: false, featMTE2: false, reservedCount: 27 },
  ];

  for (const f of FEATURES) {
    it(`all 256 bytes x 4 SH (XS=${f.featXS}, MTE2=${f.featMTE2}): round-trip, reserved set, reference`, () => {
      const opts = resolveAttrOptions({ featXS: f.featXS, featMTE2: f.featMTE2 });
      let reserved = 0;
      const bad: string[] = [];
      for (let attr = 0; attr < 256; attr++) {
        if (mairIsReserved(attr, opts)) reserved++;
        expect(mairIsReserved(attr, opts)).toBe(S1ConstrainUnpredictableRESMAIR(attr, opts));
        for (let sh = 0; sh < 4; sh++) {
          const a = decodeMair(attr, sh, opts);
          if (packAttrs(unpackAttrs(a)) !== a) bad.push(`0x${attr.toString(16)}/${sh}: round trip`);
          if (attrIsReserved(a) !== (mairIsReserved(attr, opts) || sh === 0b01)) bad.push(`0x${attr.toString(16)}/${sh}: reserved flag`);
          const want = packAttrs(refToView(refDecodeMair(attr, sh, opts)));
          if (a !== want) bad.push(`0x${attr.toString(16)}/${sh}: ${formatAttrs(a)} != ${formatAttrs(want)}`);
        }
      }
      expect(bad).toEqual([]);
      expect(reserved).toBe(f.reservedCount);
    });
  }

  it('the reserved set is exactly the listed encodings (all features)', () => {
    const reserved = [];
    for (let a = 0; a < 256; a++) if (mairIsReserved(a)) reserved.push(a);
    expect(reserved).toEqual([
      0x02, 0x03, 0x06, 0x07, 0x0a, 0x0b, 0x0e, 0x0f,
      0x10, 0x20, 0x30, 0x50, 0x60, 0x70, 0x80, 0x90, 0xb0, 0xc0, 0xd0, 0xe0,
    ]);
  });

  it.each([
    [0x00, 0b10, 'Device-nGnRnE OSH'],
    [0x04, 0b10, 'Device-nGnRE OSH'],
    [0x08, 0b10, 'Device-nGRE OSH'],
    [0x0c, 0b10, 'Device-GRE OSH'],
    [0x05, 0b10, 'Device-nGnRE OSH XS=0'],
    [0x0d, 0b10, 'Device-GRE OSH XS=0'],
    [0x04, 0b00, 'Device-nGnRE NSH'], // raw SH kept until EffectiveShareability applies
    [0x44, 0b11, 'Normal iNC oNC ISH'],
    [0x40, 0b11, 'Normal iNC oNC ISH XS=0'],
    [0xff, 0b11, 'Normal iWB-RWA oWB-RWA ISH'],
    [0xee, 0b11, 'Normal iWB-RA oWB-RA ISH'], // QEMU's "WT" comment on 0xEE is wrong: this is WB
    [0xaa, 0b11, 'Normal iWT-RA oWT-RA ISH'],
    [0xa0, 0b11, 'Normal iWT-RA oWT-RA ISH XS=0'],
    [0xbb, 0b11, 'Normal iWT-RWA oWT-RWA ISH'],
    [0x11, 0b11, 'Normal iWT-WA-T oWT-WA-T ISH'],
    [0x33, 0b11, 'Normal iWT-RWA-T oWT-RWA-T ISH'],
    [0x77, 0b11, 'Normal iWB-RWA-T oWB-RWA-T ISH'],
    [0x55, 0b11, 'Normal iWB-WA-T oWB-WA-T ISH'],
    [0x88, 0b11, 'Normal iWT oWT ISH'],
    [0xcc, 0b11, 'Normal iWB oWB ISH'],
    [0x4f, 0b11, 'Normal iWB-RWA oNC ISH'],
    [0xf4, 0b11, 'Normal iNC oWB-RWA ISH'],
    [0xf0, 0b11, 'Normal iWB-RWA oWB-RWA ISH Tagged'],
    [0xff, 0b01, 'Normal iWB-RWA oWB-RWA OSH (reserved encoding)'],
    [0x06, 0b10, 'Device-nGnRnE OSH (reserved encoding)'],
    [0x80, 0b11, 'Device-nGnRnE ISH (reserved encoding)'],
  ])('0x%s SH=%s decodes as %s', (attr, sh, want) => {
    expect(formatAttrs(decodeMair(attr, sh))).toBe(want);
  });

  it('without the feature, 0xF0 / 0x40 / 0x05 are reserved and take the chosen outcome', () => {
    const opts = resolveAttrOptions({ featXS: false, featMTE2: false, reservedMair: 0x44 });
    expect(formatAttrs(decodeMair(0xf0, 0b11, opts))).toBe('Normal iNC oNC ISH (reserved encoding)');
    expect(formatAttrs(decodeMair(0x40, 0b11, opts))).toBe('Normal iNC oNC ISH (reserved encoding)');
    expect(formatAttrs(decodeMair(0x05, 0b10, opts))).toBe('Normal iNC oNC OSH (reserved encoding)');
  });

  it('reserved SH=0b01 takes the chosen shareability', () => {
    expect(decodeShareability(0b01)).toBe((Shareability.OSH << 13) | ATTR_RESERVED);
    const opts = resolveAttrOptions({ reservedShareability: 'NSH' });
    expect(attrShare(decodeMair(0xff, 0b01, opts))).toBe(Shareability.NSH);
  });

  it('walk attributes from TCR (WalkMemAttrs / DecodeSDFAttr)', () => {
    expect(formatAttrs(decodeWalkAttrs(0b01, 0b01, 0b11))).toBe('Normal iWB-RWA oWB-RWA ISH');
    expect(formatAttrs(decodeWalkAttrs(0b10, 0b11, 0b10))).toBe('Normal iWT-RA oWB-RA OSH');
    expect(formatAttrs(decodeWalkAttrs(0b00, 0b00, 0b00))).toBe('Normal iNC oNC NSH');
    expect(formatAttrs(s2TableWalkAttrs(0b00, 0b00, 0b00, false))).toBe('Normal iNC oNC OSH');
    expect(formatAttrs(s2TableWalkAttrs(0b01, 0b01, 0b11, false))).toBe('Normal iWB-RWA oWB-RWA ISH');
    expect(formatAttrs(s2TableWalkAttrs(0b01, 0b01, 0b11, true))).toBe('Normal iNC oNC OSH XS=0');
  });
});

describe('stage 2: MemAttr decode', () => {
  it.each([
    [0b0000, 'Device-nGnRnE ISH'], [0b0001, 'Device-nGnRE ISH'], [0b0010, 'Device-nGRE ISH'], [0b0011, 'Device-GRE ISH'],
    [0b0101, 'Normal iNC oNC ISH'], [0b0110, 'Normal iWT oNC ISH'], [0b0111, 'Normal iWB oNC ISH'],
    [0b1001, 'Normal iNC oWT ISH'], [0b1010, 'Normal iWT oWT ISH'], [0b1011, 'Normal iWB oWT ISH'],
    [0b1101, 'Normal iNC oWB ISH'], [0b1110, 'Normal iWT oWB ISH'], [0b1111, 'Normal iWB oWB ISH XS=1'],
    [0b0100, 'Normal iNC oNC ISH (reserved encoding)'],
    [0b1000, 'Normal iNC oWT ISH (reserved encoding)'],
    [0b1100, 'Normal iNC oWB ISH (reserved encoding)'],
  ])('FWB=0 MemAttr=%s: %s', (m, want) => {
    expect(formatAttrs(decodeS2MemAttr(m, 0b11, false))).toBe(want);
  });

  it('FWB=0 reserved inner cacheability takes the chosen value', () => {
    const opts = resolveAttrOptions({ s2ReservedCacheability: 'WB' });
    expect(formatAttrs(decodeS2MemAttr(0b1100, 0b11, false, false, opts))).toBe('Normal iWB oWB ISH XS=1 (reserved encoding)');
  });

  it('FnXS gives XS=0', () => {
    expect(attrXS(decodeS2MemAttr(0b0001, 0b10, false, true))).toBe(false);
    expect(attrXS(decodeS2MemAttr(0b0001, 0b10, false, false))).toBe(true);
  });

  it.each([
    [0b0000, 'S2FWB Device-nGnRnE ISH'], [0b0011, 'S2FWB Device-GRE ISH'],
    [0b0101, 'S2FWB NC ISH'], [0b0110, 'S2FWB force-WB ISH'], [0b0111, 'S2FWB use-stage-1 ISH'],
    [0b0100, 'S2FWB NC ISH (reserved encoding)'],
    [0b1110, 'S2FWB force-WB ISH (reserved encoding)'], // bit 5 is RES0: flagged, ignored as the ASL does
  ])('FWB=1 MemAttr=%s: %s', (m, want) => {
    const a = decodeS2MemAttr(m, 0b11, true);
    expect(a & ATTR_S2_FWB).toBe(ATTR_S2_FWB);
    expect(formatAttrs(a)).toBe(want);
  });

  it('FWB=1 reserved 0b100 follows fwbReserved', () => {
    expect(formatAttrs(decodeS2MemAttr(0b0100, 0b11, true, false, resolveAttrOptions({ fwbReserved: 'as-111' })))).toBe('S2FWB use-stage-1 ISH (reserved encoding)');
    expect(formatAttrs(decodeS2MemAttr(0b0100, 0b11, true, false, resolveAttrOptions({ fwbReserved: 'device-nGnRnE' })))).toBe('S2FWB Device-nGnRnE ISH (reserved encoding)');
  });
});

describe('combination: worked examples (reference doc, seeds, QEMU cross-check table)', () => {
  it.each<[string, Partial<Spec>, string]>([
    // seed 003 / DESIGN: guest with MMU off sees Device, even over a stage-2 WB mapping
    ['guest MMU off + S2 WB, FWB=0 -> Device-nGnRnE', { M: false, s2: 0b1111 }, 'Device-nGnRnE OSH'],
    // FWB 0b110 forces WB even over the MMU-off Device default; hints RWA because stage 1 is Device
    ['guest MMU off + FWB force-WB -> Normal WB', { M: false, FWB: true, s2: 0b0110 }, 'Normal iWB-RWA oWB-RWA OSH'],
    ['guest MMU off ifetch, I=1 -> WT-RA (0xAA, not WB)', { M: false, access: 'ifetch', I: true, VM: false }, 'Normal iWT-RA oWT-RA OSH'],
    ['guest MMU off ifetch, I=0 -> NC', { M: false, access: 'ifetch', I: false, VM: false }, 'Normal iNC oNC OSH'],
    ['guest MMU off data, stage 2 off -> Device-nGnRnE', { M: false, VM: false }, 'Device-nGnRnE OSH'],
    // seed 001: Normal-NC at stage 2 for device BARs
    ['S1 WB + S2 NC -> NC (OSH)', { mair: 0xff, s2: 0b0101 }, 'Normal iNC oNC OSH XS=0'],
    ['S1 Device-nGnRE + S2 WB -> Device-nGnRE', { mair: 0x04, s2: 0b1111 }, 'Device-nGnRE OSH'],
    ['S1 Device-nGnRnE + S2 Device-GRE -> nGnRnE', { mair: 0x00, s2: 0b0011 }, 'Device-nGnRnE OSH'],
    ['S1 Device-GRE + S2 Device-nGnRE -> nGnRE', { mair: 0x0c, s2: 0b0001 }, 'Device-nGnRE OSH'],
    ['S1 NC (0x44) + S2 Device-GRE -> GRE (Device side unchanged)', { mair: 0x44, s2: 0b0011 }, 'Device-GRE OSH'],
    ['S1 Device-GRE + S2 NC -> GRE', { mair: 0x0c, s2: 0b0101 }, 'Device-GRE OSH'],
    ['S1 0x01 (nGnRnE, XS=0) + S2 WB -> nGnRnE', { mair: 0x01, s2: 0b1111 }, 'Device-nGnRnE OSH XS=0'],
    ['S1 0xA0 + S2 oNC iWT -> iWT-RA oNC (0x4A)', { mair: 0xa0, s2: 0b0110 }, 'Normal iWT-RA oNC ISH XS=0'],
    ['transient survives S2 WT: S1 0x77 + S2 WT -> 0x33', { mair: 0x77, s2: 0b1010 }, 'Normal iWT-RWA-T oWT-RWA-T ISH XS=0'],
    ['S1 WB-RA + S2 WT -> WT-RA', { mair: 0xee, s2: 0b1010 }, 'Normal iWT-RA oWT-RA ISH XS=0'],
    ['one level NC keeps the combined SH', { mair: 0x4f, s1sh: 0b00, s2: 0b1111, s2sh: 0b00 }, 'Normal iWB-RWA oNC NSH'],
    ['SH: OSH beats ISH', { s1sh: 0b11, s2sh: 0b10 }, 'Normal iWB-RWA oWB-RWA OSH'],
    ['SH: ISH beats NSH', { s1sh: 0b00, s2sh: 0b11 }, 'Normal iWB-RWA oWB-RWA ISH'],
    ['SH: NSH + NSH', { s1sh: 0b00, s2sh: 0b00 }, 'Normal iWB-RWA oWB-RWA NSH'],
    // HCR_EL2.DC
    ['DC=1: Normal WB, SH from stage 2', { DC: true, VM: false, M: false, s2: 0b1111, s2sh: 0b11 }, 'Normal iWB-RWA oWB-RWA ISH'],
    ['DC=1: stage 1 is NSH', { DC: true, VM: false, s2: 0b1111, s2sh: 0b00 }, 'Normal iWB-RWA oWB-RWA NSH'],
    ['DC=1 forces stage 2 on even with VM=0', { DC: true, VM: false, s2: 0b0101 }, 'Normal iNC oNC OSH XS=0'],
    ['DC=1 overrides SCTLR_EL1.M=1 and C=0', { DC: true, M: true, C: false, mair: 0x00 }, 'Normal iWB-RWA oWB-RWA ISH'],
    ['DC=1 applies to ifetch too, ignoring I=0', { DC: true, access: 'ifetch', I: false }, 'Normal iWB-RWA oWB-RWA ISH'],
    ['DC=1 + DCT=1 -> Tagged', { DC: true, DCT: true }, 'Normal iWB-RWA oWB-RWA ISH Tagged'],
    ['DC has no effect when EL2 is disabled', { el2: false, DC: true, mair: 0x04, s1sh: 0b10 }, 'Device-nGnRE OSH'],
    // HCR_EL2.CD / ID
    ['CD=1: data to S2 Normal -> NC', { CD: true }, 'Normal iNC oNC OSH XS=0'],
    ['CD=1 does not touch ifetch', { CD: true, access: 'ifetch' }, 'Normal iWB-RWA oWB-RWA ISH'],
    ['ID=1: ifetch -> NC', { ID: true, access: 'ifetch' }, 'Normal iNC oNC OSH XS=0'],
    ['ID=1 does not touch data', { ID: true }, 'Normal iWB-RWA oWB-RWA ISH'],
    ['CD=1, FWB=0: a stage-1 Device result stays Device', { CD: true, mair: 0x04 }, 'Device-nGnRE OSH'],
    ['CD=1 acts after FWB: FWB use-stage-1 with S1 WB -> NC', { CD: true, FWB: true, s2: 0b0111 }, 'Normal iNC oNC OSH XS=0'],
    ['CD=1 + FWB force-WB -> NC', { CD: true, FWB: true, s2: 0b0110 }, 'Normal iNC oNC OSH XS=0'],
    ['CD=1 does not touch an FWB Device result', { CD: true, FWB: true, s2: 0b0001 }, 'Device-nGnRE OSH XS=0'],
    // SCTLR_EL1.C / I with stage 1 on
    ['C=0: data to Normal -> NC', { C: false, VM: false }, 'Normal iNC oNC OSH XS=0'],
    ['C=0 does not touch Device', { C: false, mair: 0x04, s2: 0b1111 }, 'Device-nGnRE OSH'],
    ['I=0: ifetch -> NC', { I: false, access: 'ifetch', VM: false }, 'Normal iNC oNC OSH XS=0'],
    ['C=0 does not touch ifetch', { C: false, access: 'ifetch' }, 'Normal iWB-RWA oWB-RWA ISH'],
    // instruction fetch from Device
    ['ifetch from stage-1 Device -> NC', { access: 'ifetch', mair: 0x04 }, 'Normal iNC oNC OSH'],
    ['ifetch from stage-2 Device -> NC', { access: 'ifetch', s2: 0b0001 }, 'Normal iNC oNC OSH XS=0'],
    // FWB
    ['FWB Device 0b011 with S1 nGnRnE -> nGnRnE (S2CombineS1Device)', { FWB: true, mair: 0x00, s2: 0b0011 }, 'Device-nGnRnE OSH'],
    ['FWB Device 0b001 with S1 WB -> nGnRE, XS from stage 1', { FWB: true, mair: 0xff, s2: 0b0001 }, 'Device-nGnRE OSH XS=0'],
    ['FWB NC 0b101 keeps S1 Device', { FWB: true, mair: 0x0c, s2: 0b0101 }, 'Device-GRE OSH'],
    ['FWB NC 0b101 over S1 WB -> NC', { FWB: true, mair: 0xff, s2: 0b0101 }, 'Normal iNC oNC OSH XS=0'],
    ['FWB force-WB keeps S1 hints (transient, RA only)', { FWB: true, mair: 0x7e, s2: 0b0110 }, 'Normal iWB-RA oWB-RWA-T ISH'],
    ['FWB force-WB: S1 NC level gets RWA', { FWB: true, mair: 0x4a, s2: 0b0110 }, 'Normal iWB-RA oWB-RWA ISH'],
    ['FWB force-WB over S1 WT-RA', { FWB: true, mair: 0xaa, s2: 0b0110 }, 'Normal iWB-RA oWB-RA ISH'],
    ['FWB use-stage-1 keeps WT-transient', { FWB: true, mair: 0x33, s2: 0b0111 }, 'Normal iWT-RWA-T oWT-RWA-T ISH'],
    ['FWB FnXS forces XS=0', { FWB: true, mair: 0x04, s2: 0b0111, fnxs: true }, 'Device-nGnRE OSH XS=0'],
    ['FWB reserved bit 5 is ignored but flagged', { FWB: true, s2: 0b1110 }, 'Normal iWB-RWA oWB-RWA ISH (reserved encoding)'],
    ['FWB reserved 0b100 behaves as 0b101 by default', { FWB: true, s2: 0b0100 }, 'Normal iNC oNC OSH XS=0 (reserved encoding)'],
    // shareability subtleties (reference doc 4.10)
    ['S1 Device-NSH under FWB force-WB with S2 NSH -> WB NSH (raw S1 SH)', { FWB: true, mair: 0x04, s1sh: 0b00, s2: 0b0110, s2sh: 0b00 }, 'Normal iWB-RWA oWB-RWA NSH'],
    ['reserved SH=01, single stage -> OSH by default', { VM: false, s1sh: 0b01 }, 'Normal iWB-RWA oWB-RWA OSH (reserved encoding)'],
    ['stage 2 off: EffectiveShareability at stage 1 (NC -> OSH)', { VM: false, mair: 0x44, s1sh: 0b00 }, 'Normal iNC oNC OSH'],
    ['stage 2 off: Device is OSH whatever SH says', { VM: false, mair: 0x04, s1sh: 0b00 }, 'Device-nGnRE OSH'],
    // MTE tags
    ['Tagged survives S2 WB', { mair: 0xf0 }, 'Normal iWB-RWA oWB-RWA ISH Tagged'],
    ['Tagged lost under S2 WT', { mair: 0xf0, s2: 0b1010 }, 'Normal iWT-RWA oWT-RWA ISH XS=0'],
    ['Tagged lost under S2 inner NC', { mair: 0xf0, s2: 0b1101 }, 'Normal iNC oWB-RWA ISH XS=0'],
    ['Tagged survives FWB force-WB', { mair: 0xf0, FWB: true, s2: 0b0110 }, 'Normal iWB-RWA oWB-RWA ISH Tagged'],
    ['Tagged survives FWB use-stage-1', { mair: 0xf0, FWB: true, s2: 0b0111 }, 'Normal iWB-RWA oWB-RWA ISH Tagged'],
    ['Tagged lost under FWB NC', { mair: 0xf0, FWB: true, s2: 0b0101 }, 'Normal iNC oNC OSH XS=0'],
    ['Tagged lost with C=0 (default)', { mair: 0xf0, C: false, VM: false }, 'Normal iNC oNC OSH XS=0'],
    // walks
    ['S1 walk through S2 WB', { access: 'ttw' }, 'Normal iWB-RWA oWB-RWA ISH'],
    ['S1 walk with C=0 -> NC', { access: 'ttw', C: false }, 'Normal iNC oNC OSH XS=0'],
    ['S1 walk to S2 Device, PTW=0 -> NC', { access: 'ttw', s2: 0b0001 }, 'Normal iNC oNC OSH XS=0'],
    ['S1 walk to S2 Device, PTW=1 -> S2 Permission fault', { access: 'ttw', s2: 0b0001, PTW: true }, 'S2 Permission fault'],
    ['S1 walk with CD=1 -> NC', { access: 'ttw', CD: true }, 'Normal iNC oNC OSH XS=0'],
    ['S1 walk, TCR WT-RA + S2 WB', { access: 'ttw', irgn: 0b10, orgn: 0b10 }, 'Normal iWT-RA oWT-RA ISH'],
  ])('%s', (_name, spec, want) => {
    expect(fast(spec)).toBe(want);
    // and the ASL reference agrees on every worked example
    const r = ref({ ...BASE, ...spec }, DEFAULT_ATTR_OPTIONS);
    expect(show(r)).toBe(want);
  });

  it('the IMPDEF "effective shareability at stage 1" option makes stage-1 Device OSH before combining', () => {
    const opts = resolveAttrOptions({ effectiveShareabilityAtS1: true });
    expect(fast({ FWB: true, mair: 0x04, s1sh: 0b00, s2: 0b0110, s2sh: 0b00 }, opts)).toBe('Normal iWB-RWA oWB-RWA OSH');
  });

  it('instrFetchFromDevice=fault gives a Permission fault at the stage that is Device', () => {
    const opts = resolveAttrOptions({ instrFetchFromDevice: 'fault' });
    expect(fast({ access: 'ifetch', mair: 0x04 }, opts)).toBe('S1 Permission fault');
    expect(fast({ access: 'ifetch', s2: 0b0001 }, opts)).toBe('S2 Permission fault');
    expect(fast({ access: 'ifetch', FWB: true, s2: 0b0001 }, opts)).toBe('S2 Permission fault');
    expect(fast({ access: 'ifetch' }, opts)).toBe('Normal iWB-RWA oWB-RWA ISH');
    expect(fast({ mair: 0x04 }, opts)).toBe('Device-nGnRE OSH'); // data from Device is fine
  });

  it('s1CacheOffTags=keep keeps the tag on a stage-1-only NC result, but stage 2 still drops it', () => {
    const opts = resolveAttrOptions({ s1CacheOffTags: 'keep' });
    expect(fast({ mair: 0xf0, C: false, VM: false }, opts)).toBe('Normal iNC oNC OSH Tagged XS=0');
    expect(fast({ mair: 0xf0, C: false }, opts)).toBe('Normal iNC oNC OSH XS=0');
  });

  it('fwbReserved choices', () => {
    expect(fast({ FWB: true, s2: 0b0100 }, resolveAttrOptions({ fwbReserved: 'as-111' }))).toBe('Normal iWB-RWA oWB-RWA ISH (reserved encoding)');
    expect(fast({ FWB: true, s2: 0b0100 }, resolveAttrOptions({ fwbReserved: 'device-nGnRnE' }))).toBe('Device-nGnRnE OSH XS=0 (reserved encoding)');
    expect(fast({ FWB: true, s2: 0b0100, mair: 0x0c })).toBe('Device-GRE OSH (reserved encoding)');
  });

  it('a stage-2 word decoded for the wrong FWB setting is a programming error', () => {
    const ctx = toCtx(BASE, DEFAULT_ATTR_OPTIONS);
    expect(() => effectiveAttrs({ ...ctx, hcrFWB: true })).toThrow(/FWB/);
  });

  it('s1DisabledAttrs and the stage-enable helpers', () => {
    const c = { access: AccessKind.Data, el2Enabled: true, hcrDC: false, hcrDCT: false, sctlrI: true } as const;
    expect(s1DisabledAttrs(c)).toBe(DEVICE_nGnRnE);
    expect(s1DisabledAttrs({ ...c, access: AccessKind.Fetch })).toBe(NORMAL_WT_RA_OSH);
    expect(s1DisabledAttrs({ ...c, access: AccessKind.Fetch, sctlrI: false })).toBe(NORMAL_NC_OSH);
    expect(s1DisabledAttrs({ ...c, hcrDC: true })).toBe(NORMAL_WB_RWA_NSH);
    expect(s1DisabledAttrs({ ...c, hcrDC: true, hcrDCT: true })).toBe(NORMAL_WB_RWA_NSH | ATTR_TAGGED);
    expect(s1DisabledAttrs({ ...c, hcrDC: true, hcrDCT: true }, resolveAttrOptions({ featMTE2: false }))).toBe(NORMAL_WB_RWA_NSH);
    expect(s1DisabledAttrs({ ...c, el2Enabled: false, hcrDC: true })).toBe(DEVICE_nGnRnE);
    expect(() => s1DisabledAttrs({ ...c, access: AccessKind.Walk })).toThrow(/walk/);
    expect(stage1Enabled({ sctlrM: true, el2Enabled: true, hcrDC: true })).toBe(false);
    expect(stage1Enabled({ sctlrM: true, el2Enabled: false, hcrDC: true })).toBe(true);
    expect(stage2Enabled({ el2Enabled: true, hcrVM: false, hcrDC: true })).toBe(true);
    expect(stage2Enabled({ el2Enabled: false, hcrVM: true, hcrDC: true })).toBe(false);
  });

  it('S2MemTagType: a tag needs RWA and non-transient at both levels, not just WB (hand-built stage-1 words)', () => {
    const wb = { cache: 'WB', readAllocate: true, writeAllocate: true } as const;
    const s2 = decodeS2MemAttr(0b1111, 0b11, false);
    const tagged = (inner: object, outer: object) => packAttrs({ memType: 'Normal', inner: { ...wb, ...inner }, outer: { ...wb, ...outer }, tagged: true });
    expect(attrIsTagged(combineS1S2(tagged({}, {}), s2))).toBe(true);
    expect(attrIsTagged(combineS1S2(tagged({ transient: true }, {}), s2))).toBe(false);
    expect(attrIsTagged(combineS1S2(tagged({}, { transient: true }), s2))).toBe(false);
    expect(attrIsTagged(combineS1S2(tagged({ writeAllocate: false }, {}), s2))).toBe(false);
    expect(attrIsTagged(combineS1S2(tagged({}, { readAllocate: false }), s2))).toBe(false);
    expect(attrIsTagged(combineS1S2(tagged({}, {}), s2, resolveAttrOptions({ featMTE2: false })))).toBe(false);
  });

  it('effectiveShareability: Device and NC/NC are OSH; one NC level is not enough', () => {
    expect(effectiveShareability(decodeMair(0x04, 0b00))).toBe(Shareability.OSH);
    expect(effectiveShareability(decodeMair(0x44, 0b00))).toBe(Shareability.OSH);
    expect(effectiveShareability(decodeMair(0x4f, 0b00))).toBe(Shareability.NSH);
  });
});

// ---------------------------------------------------------------------------------------------
// Differential and property tests
// ---------------------------------------------------------------------------------------------

describe('combineS1S2 against the ASL reference, every stage-1 x stage-2 encoding', () => {
  for (const [name, opts] of [['default options', DEFAULT_ATTR_OPTIONS], ['all non-default choices', ALT_OPTIONS], ['other choices', ALT_OPTIONS_2]] as const) {
    it(`256 MAIR x 4 SH x 16 MemAttr x 4 SH x FWB x FnXS (${name})`, () => {
      const bad: string[] = [];
      let n = 0;
      for (let mair = 0; mair < 256; mair++) {
        for (let s1sh = 0; s1sh < 4; s1sh++) {
          const s1 = decodeMair(mair, s1sh, opts);
          for (let m = 0; m < 16; m++) {
            for (let s2sh = 0; s2sh < 4; s2sh++) {
              for (let k = 0; k < 4; k++) {
                const fwb = (k & 1) !== 0, fnxs = (k & 2) !== 0;
                const got = combineS1S2(s1, decodeS2MemAttr(m, s2sh, fwb, fnxs, opts), opts);
                const want = packAttrs(refToView(refCombine(mair, s1sh, m, s2sh, fwb, fnxs, opts)));
                n++;
                if (got !== want && bad.length < 20) {
                  bad.push(`MAIR 0x${mair.toString(16)} SH${s1sh} S2 ${m.toString(2)} SH${s2sh} FWB=${+fwb} FnXS=${+fnxs}: ${formatAttrs(got)} != ${formatAttrs(want)}`);
                }
              }
            }
          }
        }
      }
      expect(n).toBe(262144);
      expect(bad).toEqual([]);
    });
  }
});

describe('effectiveAttrs against the ASL reference', () => {
  const REGISTER_BITS = ['el2', 'VM', 'DC', 'DCT', 'FWB', 'CD', 'ID', 'PTW', 'M', 'C', 'I'] as const;
  const ATTR_SAMPLES: readonly [number, number][] = [
    [0x00, 0b1111], [0x04, 0b0101], [0x0c, 0b0011], [0x44, 0b1010], [0xff, 0b0110], [0xf0, 0b0111],
    [0x77, 0b1110], [0xaa, 0b0001], [0x40, 0b1101], [0x80, 0b0100], [0xff, 0b1100], [0x4f, 0b1011],
  ];

  it('every combination of the 11 register bits x 3 access kinds x sample encodings', () => {
    const bad: string[] = [];
    let n = 0;
    for (let bits = 0; bits < 1 << REGISTER_BITS.length; bits++) {
      const regs: Partial<Spec> = {};
      REGISTER_BITS.forEach((name, i) => { regs[name] = ((bits >> i) & 1) === 1; });
      for (const access of ['data', 'ifetch', 'ttw'] as const) {
        const s1on = regs.M && !(regs.el2 && regs.DC);
        if (access === 'ttw' && !s1on) continue; // no stage-1 walk with stage 1 off
        for (const [mair, s2] of ATTR_SAMPLES) {
          for (const opts of [DEFAULT_ATTR_OPTIONS, ALT_OPTIONS]) {
            const p: Spec = { ...BASE, ...regs, access, mair, s2, s1sh: (mair & 3) === 0 ? 0b00 : 0b11, s2sh: 0b10, irgn: mair & 3, orgn: (mair >> 2) & 3 };
            const got = fastWord(p, opts), want = ref(p, opts);
            n++;
            if (got !== want && bad.length < 20) bad.push(`${JSON.stringify(p)}: ${show(got)} != ${show(want)}`);
          }
        }
      }
    }
    expect(n).toBeGreaterThan(100_000);
    expect(bad).toEqual([]);
  });

  it('random requests and random options (property)', () => {
    const options = fc.record({
      featXS: fc.boolean(), featMTE2: fc.boolean(),
      reservedShareability: fc.constantFrom('OSH' as const, 'ISH' as const, 'NSH' as const),
      s2ReservedCacheability: fc.constantFrom('NC' as const, 'WT' as const, 'WB' as const),
      fwbReserved: fc.constantFrom('as-101' as const, 'as-111' as const, 'device-nGnRnE' as const),
      instrFetchFromDevice: fc.constantFrom('nc' as const, 'fault' as const),
      s1CacheOffTags: fc.constantFrom('untagged' as const, 'keep' as const),
      effectiveShareabilityAtS1: fc.boolean(),
      reservedMair: fc.constantFrom(0x00, 0x04, 0x44, 0xff, 0xaa, 0x77),
    });
    const spec = fc.record({
      access: fc.constantFrom('data' as const, 'ifetch' as const, 'ttw' as const),
      el2: fc.boolean(), VM: fc.boolean(), DC: fc.boolean(), DCT: fc.boolean(), FWB: fc.boolean(),
      CD: fc.boolean(), ID: fc.boolean(), PTW: fc.boolean(), M: fc.boolean(), C: fc.boolean(), I: fc.boolean(),
      mair: fc.integer({ min: 0, max: 255 }), s1sh: fc.integer({ min: 0, max: 3 }),
      irgn: fc.integer({ min: 0, max: 3 }), orgn: fc.integer({ min: 0, max: 3 }), tsh: fc.integer({ min: 0, max: 3 }),
      s2: fc.integer({ min: 0, max: 15 }), s2sh: fc.integer({ min: 0, max: 3 }), fnxs: fc.boolean(),
    });
    fc.assert(fc.property(spec, options, (p, o) => {
      if (p.access === 'ttw' && !(p.M && !(p.el2 && p.DC))) return;
      const opts = resolveAttrOptions(o);
      expect(show(fastWord(p, opts))).toBe(show(ref(p, opts)));
    }), { numRuns: 20_000 });
  });
});

describe('FWB=0 combination is never less restrictive than either stage', () => {
  /** Per level: Device 4 > NC 3 > WT 2 > WB 1. */
  const levelRank = (a: number, cache: (a: number) => number): number =>
    (a & ATTR_NORMAL) === 0 ? 4 : 4 - cache(a);

  function check(s1: number, s2: number): string | null {
    const r = combineS1S2(s1, s2);
    for (const cache of [attrInnerCache, attrOuterCache]) {
      if (levelRank(r, cache) < Math.max(levelRank(s1, cache), levelRank(s2, cache))) return 'cacheability';
    }
    for (const s of [s1, s2]) {
      if (attrIsDevice(r) && attrIsDevice(s) && attrDeviceKind(r) > attrDeviceKind(s)) return 'device kind';
    }
    // Shareability: smaller number = more shareable (OSH 0 < ISH 1 < NSH 2)
    if (attrShare(r) > Math.min(attrShare(s1), attrShare(s2))) return 'shareability';
    if (attrIsDevice(r) && attrShare(r) !== Shareability.OSH) return 'Device not OSH';
    return null;
  }

  it('exhaustively over decoded encodings', () => {
    const bad: string[] = [];
    for (let mair = 0; mair < 256; mair++) for (let s1sh = 0; s1sh < 4; s1sh++) {
      const s1 = decodeMair(mair, s1sh);
      for (let m = 0; m < 16; m++) for (let s2sh = 0; s2sh < 4; s2sh++) {
        const s2 = decodeS2MemAttr(m, s2sh, false);
        const why = check(s1, s2);
        if (why && bad.length < 10) bad.push(`${formatAttrs(s1)} + ${formatAttrs(s2)}: ${why}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('over arbitrary packed stage words (property)', () => {
    const level = fc.record({ cache: fc.constantFrom('NC' as const, 'WT' as const, 'WB' as const), ra: fc.boolean(), wa: fc.boolean(), t: fc.boolean() })
      .map((l) => (l.cache === 'NC' ? { cache: l.cache } : { cache: l.cache, readAllocate: l.ra, writeAllocate: l.wa, transient: l.t }));
    const word = fc.oneof(
      fc.record({ device: fc.constantFrom('nGnRnE' as const, 'nGnRE' as const, 'nGRE' as const, 'GRE' as const), sh: fc.constantFrom('OSH' as const, 'ISH' as const, 'NSH' as const), xs: fc.boolean() })
        .map((d) => packAttrs({ memType: 'Device', device: d.device, shareability: d.sh, xs: d.xs })),
      fc.record({ inner: level, outer: level, sh: fc.constantFrom('OSH' as const, 'ISH' as const, 'NSH' as const), tagged: fc.boolean() })
        .map((n) => packAttrs({ memType: 'Normal', inner: n.inner, outer: n.outer, shareability: n.sh, tagged: n.tagged })),
    );
    fc.assert(fc.property(word, word, (s1, s2) => {
      expect(check(s1, s2)).toBeNull();
    }), { numRuns: 10_000 });
  });

  it('the check can fail: FWB force-WB is less restrictive than stage-1 Device, and is caught', () => {
    const s1 = decodeMair(0x00, 0b10);
    const r = combineS1S2(s1, decodeS2MemAttr(0b0110, 0b10, true));
    expect(attrIsDevice(r)).toBe(false);
    expect(levelRank(r, attrInnerCache)).toBeLessThan(levelRank(s1, attrInnerCache));
  });
});

describe('resolveAttrOptions', () => {
  it('returns frozen defaults, applies overrides', () => {
    const o = resolveAttrOptions();
    expect(o).toEqual(DEFAULT_ATTR_OPTIONS);
    expect(Object.isFrozen(o)).toBe(true);
    expect(resolveAttrOptions({ instrFetchFromDevice: 'fault' }).instrFetchFromDevice).toBe('fault');
  });

  it('rejects unknown keys, bad values and a reserved replacement MAIR with one-line UserErrors', () => {
    expect(() => resolveAttrOptions({ featMTE: true })).toThrow(UserError);
    expect(() => resolveAttrOptions({ featMTE: true })).toThrow(/mmu\.attrs\.featMTE: unknown key/);
    expect(() => resolveAttrOptions({ fwbReserved: 'nc' })).toThrow(/fwbReserved: expected one of "as-101", "as-111", "device-nGnRnE"/);
    expect(() => resolveAttrOptions({ featXS: 1 })).toThrow(/featXS: expected true or false/);
    expect(() => resolveAttrOptions({ reservedMair: 0x100 })).toThrow(/reservedMair: expected a MAIR byte/);
    expect(() => resolveAttrOptions({ reservedMair: 0x10 })).toThrow(/reservedMair: 0x10 is itself reserved/);
    expect(() => resolveAttrOptions({ reservedMair: 0xf0, featMTE2: false })).toThrow(/reserved/);
  });
});

describe('hot-path words', () => {
  it('final words never carry the stage-2 FWB directive bits', () => {
    for (let m = 0; m < 16; m++) {
      const w = effectiveAttrs(toCtx({ ...BASE, FWB: true, s2: m }, DEFAULT_ATTR_OPTIONS));
      expect(w & (ATTR_S2_FWB | ATTR_S2_USE_S1)).toBe(0);
      expect(w).toBeGreaterThanOrEqual(0);
    }
  });

  it('XS is 0 for every final Normal iWB oWB word (S2CombineS1MemAttrs)', () => {
    for (let mair = 0; mair < 256; mair++) {
      const w = effectiveAttrs(toCtx({ ...BASE, mair }, DEFAULT_ATTR_OPTIONS));
      if (attrInnerCache(w) === Cacheability.WB && attrOuterCache(w) === Cacheability.WB) expect(w & ATTR_NXS).toBe(ATTR_NXS);
    }
  });
});
