import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  DescType, blockSupported, contiguousEntries, descAF, descAP, descAddress, descAttrIndx, descContiguous, descDBM,
  descFnXS, descNG, descNS, descPXN, descS2AP, descS2MemAttr, descS2XN, descSH, descType, descUXN, encodeAddress,
  encodeS1Leaf, encodeS2Leaf, encodeTable, levelShift, tableAP, tableNS, tablePXN, tableUXN, type GranuleBits,
} from './descriptors.js';

/** A descriptor from a hex string of up to 16 digits, as halves. */
function d64(hex: string): { lo: number; hi: number } {
  const h = hex.replace(/_/g, '').padStart(16, '0');
  return { hi: parseInt(h.slice(0, 8), 16), lo: parseInt(h.slice(8), 16) };
}

describe('descriptor types', () => {
  it('bit[0]=0 is invalid at every level', () => {
    for (let l = 0; l <= 3; l++) expect(descType(0b10, l, true)).toBe(DescType.Invalid);
  });
  it('0b11 is a table at levels 0-2 and a page at level 3', () => {
    expect(descType(0b11, 0, false)).toBe(DescType.Table);
    expect(descType(0b11, 2, false)).toBe(DescType.Table);
    expect(descType(0b11, 3, false)).toBe(DescType.Page);
  });
  it('0b01 is a block only where the granule allows it, and invalid at level 3', () => {
    expect(descType(0b01, 1, blockSupported(12, 1, false))).toBe(DescType.Block);
    expect(descType(0b01, 0, blockSupported(12, 0, false))).toBe(DescType.Invalid);
    expect(descType(0b01, 3, true)).toBe(DescType.Invalid);
  });
  it('block levels per granule (AArch64.BlockDescSupported without LPA2)', () => {
    const table = (gb: number, pa52: boolean): boolean[] => [0, 1, 2, 3].map((l) => blockSupported(gb, l, pa52));
    expect(table(12, false)).toEqual([false, true, true, false]);
    expect(table(14, false)).toEqual([false, false, true, false]);
    expect(table(16, false)).toEqual([false, false, true, false]);
    expect(table(16, true)).toEqual([false, true, true, false]);
    expect(table(12, true)).toEqual([false, true, true, false]);
  });
  it('level shifts: 4K 39/30/21/12, 16K 47/36/25/14, 64K 55/42/29/16', () => {
    expect([0, 1, 2, 3].map((l) => levelShift(12, l))).toEqual([39, 30, 21, 12]);
    expect([0, 1, 2, 3].map((l) => levelShift(14, l))).toEqual([47, 36, 25, 14]);
    expect([0, 1, 2, 3].map((l) => levelShift(16, l))).toEqual([55, 42, 29, 16]);
  });
});

describe('descriptor fields', () => {
  it('decodes a Linux-style stage-1 kernel page (PAGE_KERNEL_EXEC-like)', () => {
    // PTE_VALID|PTE_TYPE_PAGE | AttrIndx=4 | SH=ISH | AF | nG | PXN=0 UXN=1 | DBM | Cont, OA 0x8_1234_5000
    const d = d64('0059_0008_1234_5f13');
    expect(descType(d.lo, 3, false)).toBe(DescType.Page);
    expect(descAttrIndx(d.lo)).toBe(4);
    expect(descNS(d.lo)).toBe(0);
    expect(descAP(d.lo)).toBe(0);
    expect(descSH(d.lo)).toBe(3);
    expect(descAF(d.lo)).toBe(1);
    expect(descNG(d.lo)).toBe(1);
    expect(descDBM(d.hi)).toBe(1);
    expect(descContiguous(d.hi)).toBe(1);
    expect(descPXN(d.hi)).toBe(0);
    expect(descUXN(d.hi)).toBe(1);
    expect(descAddress(d.lo, d.hi, 12, 12)).toBe(0x8_1234_5000);
  });
  it('decodes stage-2 MemAttr, S2AP, FnXS and XN[1:0] (FEAT_XNX or bit 54 only)', () => {
    // MemAttr 0b0101 (NC), S2AP 0b01 (RO), SH OSH, AF, FnXS, XN[1:0] = 0b01
    const d = d64('0020_0000_4000_0e57');
    expect(descS2MemAttr(d.lo)).toBe(0b0101);
    expect(descS2AP(d.lo)).toBe(0b01);
    expect(descSH(d.lo)).toBe(0b10);
    expect(descFnXS(d.lo)).toBe(1);
    expect(descS2XN(d.hi, true)).toBe(0b01);
    expect(descS2XN(d.hi, false)).toBe(0b00);
    expect(descS2XN(d64('0040_0000_0000_0000').hi, false)).toBe(0b10);
  });
  it('decodes table descriptor hierarchical attributes', () => {
    const d = d64('f800_0000_4000_1003');
    expect(tableNS(d.hi)).toBe(1);
    expect(tableAP(d.hi)).toBe(3);
    expect(tableUXN(d.hi)).toBe(1);
    expect(tablePXN(d.hi)).toBe(1);
    expect(descAddress(d.lo, d.hi, 12, 12)).toBe(0x4000_1000);
    expect(tableAP(d64('2000_0000_0000_0003').hi)).toBe(1); // APTable[0] = bit 61
  });
  it('masks the output address to the block size (2 MiB, 1 GiB, 4 TiB, shift >= 32)', () => {
    const d = d64('0000_0000_4060_0701'); // block, OA bits include 0x4060_0000
    expect(descAddress(d.lo, d.hi, 12, 21)).toBe(0x4060_0000);
    expect(descAddress(d.lo, d.hi, 12, 30)).toBe(0x4000_0000);
    const big = d64('0000_ffff_ffff_0001');
    expect(descAddress(big.lo, big.hi, 16, 42)).toBe(0xfc00_0000_0000);
    expect(descAddress(big.lo, big.hi, 12, 39)).toBe(0xff80_0000_0000);
    expect(descAddress(big.lo, big.hi, 16, 29)).toBe(0xffff_e000_0000);
  });
  it('assembles OA[51:48] from bits [15:12] for the 64K granule only', () => {
    const d = d64('0000_ffff_0001_a003');
    expect(descAddress(d.lo, d.hi, 16, 16)).toBe(0xa_ffff_0001_0000);
    expect(descAddress(d.lo, d.hi, 12, 12)).toBe(0xffff_0001_a000);
  });
  it('contiguous spans: 4K 16, 16K 128/32, 64K 32', () => {
    expect([1, 2, 3].map((l) => contiguousEntries(12, l))).toEqual([16, 16, 16]);
    expect([1, 2, 3].map((l) => contiguousEntries(14, l))).toEqual([0, 32, 128]);
    expect([1, 2, 3].map((l) => contiguousEntries(16, l))).toEqual([0, 32, 32]);
  });
});

describe('encoders', () => {
  const granule = fc.constantFrom<GranuleBits>(12, 14, 16);
  it('stage-1 leaves round-trip through the extractors', () => {
    fc.assert(fc.property(
      granule, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 ** 20 }),
      fc.record({
        attrIndx: fc.integer({ min: 0, max: 7 }), ap: fc.integer({ min: 0, max: 3 }), sh: fc.integer({ min: 0, max: 3 }),
        af: fc.boolean(), nG: fc.boolean(), ns: fc.boolean(), pxn: fc.boolean(), uxn: fc.boolean(), contiguous: fc.boolean(), dbm: fc.boolean(),
      }),
      (gb, level, n, init) => {
        const shift = levelShift(gb, level);
        const limit = gb === 16 ? 52 : 48;
        const oa = (n * 2 ** shift) % 2 ** limit;
        const d = encodeS1Leaf(oa, level, gb, init);
        expect(descType(d.lo, level, true)).toBe(level === 3 ? DescType.Page : DescType.Block);
        expect(descAddress(d.lo, d.hi, gb, shift)).toBe(oa);
        expect([descAttrIndx(d.lo), descAP(d.lo), descSH(d.lo)]).toEqual([init.attrIndx, init.ap, init.sh]);
        expect([descAF(d.lo), descNG(d.lo), descNS(d.lo)]).toEqual([+init.af, +init.nG, +init.ns]);
        expect([descPXN(d.hi), descUXN(d.hi), descContiguous(d.hi), descDBM(d.hi)]).toEqual([+init.pxn, +init.uxn, +init.contiguous, +init.dbm]);
        expect(d.lo >>> 0).toBe(d.lo);
        expect(d.hi >>> 0).toBe(d.hi);
      },
    ));
  });
  it('stage-2 leaves and tables round-trip', () => {
    fc.assert(fc.property(
      granule, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 ** 20 }),
      fc.record({
        memAttr: fc.integer({ min: 0, max: 15 }), s2ap: fc.integer({ min: 0, max: 3 }), sh: fc.integer({ min: 0, max: 3 }),
        af: fc.boolean(), xn: fc.integer({ min: 0, max: 3 }), fnxs: fc.boolean(), contiguous: fc.boolean(),
      }),
      fc.record({ apTable: fc.integer({ min: 0, max: 3 }), uxnTable: fc.boolean(), pxnTable: fc.boolean(), nsTable: fc.boolean() }),
      (gb, level, n, init, t) => {
        const shift = levelShift(gb, level);
        const oa = (n * 2 ** shift) % 2 ** (gb === 16 ? 52 : 48);
        const d = encodeS2Leaf(oa, level, gb, init);
        expect(descAddress(d.lo, d.hi, gb, shift)).toBe(oa);
        expect([descS2MemAttr(d.lo), descS2AP(d.lo), descSH(d.lo), descAF(d.lo), descFnXS(d.lo)]).toEqual([init.memAttr, init.s2ap, init.sh, +init.af, +init.fnxs]);
        expect(descS2XN(d.hi, true)).toBe(init.xn);
        const ta = (n * 2 ** gb) % 2 ** (gb === 16 ? 52 : 48);
        const td = encodeTable(ta, gb, t);
        expect(descType(td.lo, 0, false)).toBe(DescType.Table);
        expect(descAddress(td.lo, td.hi, gb, gb)).toBe(ta);
        expect([tableAP(td.hi), tableUXN(td.hi), tablePXN(td.hi), tableNS(td.hi)]).toEqual([t.apTable, +t.uxnTable, +t.pxnTable, +t.nsTable]);
      },
    ));
  });
  it('rejects misaligned or oversized addresses', () => {
    expect(() => encodeAddress(0x1800, 12, 12)).toThrow(/aligned/);
    expect(() => encodeS1Leaf(0x1000, 2, 12)).toThrow(/aligned/);
    expect(() => encodeAddress(2 ** 48, 12, 12)).toThrow(/48-bit/);
    expect(encodeAddress(2 ** 48, 16, 16)).toEqual({ lo: 0x1000, hi: 0 });
  });
});
