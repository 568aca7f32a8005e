import { describe, it, expect } from 'vitest';
import { SparseMemory } from '../mem/index.js';
import {
  Cacheability, DEVICE_nGnRE, NORMAL_WB_RWA_ISH, Shareability, attrInnerCache, attrIsNormal, attrOuterCache, attrShare,
  resolveAttrOptions,
} from './attrs.js';
import { encodeS1Leaf, encodeS2Leaf, encodeTable, type S1LeafInit, type TableInit } from './descriptors.js';
import { AccessType, FaultType, abortEsr, hpfarEl2, type WalkFault } from './faults.js';
import { PageTableBuilder } from './page-tables.js';
import {
  decodeRegime, encodeHcr, encodeMair, encodeSctlr, encodeTcr, encodeTtbr, encodeVtcr, regimeRegisters, resolveMmuFeatures,
  type MmuFeatures, type Regime, type RegimeRegisters, type TcrInit, type VtcrInit,
} from './regime.js';
import {
  PERM_R0, PERM_R1, PERM_W0, PERM_W1, PERM_X0, TranslationWalker, translateFunctional,
} from './walk.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const mem = (): SparseMemory => new SparseMemory({ base: 0, size: 2 ** 52, chunkBytes: 64 * 1024 });
const split = (n: number): [number, number] => [Math.floor(n / 2 ** 32), n % 2 ** 32];
/** A TTBR1 VA: all ones above `inputBits`, then `offset`. */
const upper = (offset: number, inputBits: number): [number, number] => {
  const [oh, ol] = split(offset);
  return [((0xffffffff - (2 ** (inputBits - 32) - 1)) + oh) >>> 0, ol];
};

interface Read { pa: number; stage: number; level: number; attrs: number }

function run(rg: Regime, m: SparseMemory, va: [number, number], access: AccessType = AccessType.Read, el: 0 | 1 = 1) {
  const w = new TranslationWalker();
  const reads: Read[] = [];
  const buf = new Uint8Array(8), dv = new DataView(buf.buffer);
  w.start(rg, va[0], va[1], access, el);
  while (!w.done) {
    reads.push({ pa: w.nextRead(), stage: w.readStage, level: w.readLevel, attrs: w.readAttrs });
    m.read(w.readPa, buf, 0, 8);
    w.supply(dv.getUint32(0, true), dv.getUint32(4, true));
  }
  return { w, reads, ok: !w.faulted, r: w.result, f: w.fault };
}

interface S1Setup {
  tcr?: TcrInit;
  features?: MmuFeatures;
  sctlr?: Parameters<typeof encodeSctlr>[0];
  mair?: number[];
}

/** Stage 1 only, TTBR0 and TTBR1 tables in the 0x4000_0000.. pool. */
function stage1(s: S1Setup = {}) {
  const m = mem();
  const tcr = { t0sz: 16, tg0: '4K' as const, t1sz: 25, tg1: '4K' as const, ...s.tcr };
  const gran = tcr.tg0, gran1 = tcr.tg1;
  const t0 = new PageTableBuilder(m, { stage: 1, granule: gran, inputBits: 64 - tcr.t0sz, allocBase: 0x4000_0000, allocLimit: 0x4100_0000 });
  const t1 = new PageTableBuilder(m, { stage: 1, granule: gran1, inputBits: 64 - tcr.t1sz, allocBase: 0x4100_0000, allocLimit: 0x4200_0000 });
  const regs = (): RegimeRegisters => {
    const t = encodeTcr(tcr), a = encodeTtbr(t0.root, 0x12), b = encodeTtbr(t1.root, 0x34), mr = encodeMair(s.mair ?? [0xff, 0x04, 0x44]);
    return regimeRegisters({ tcrLo: t.lo, tcrHi: t.hi, ttbr0Lo: a.lo, ttbr0Hi: a.hi, ttbr1Lo: b.lo, ttbr1Hi: b.hi, mairLo: mr.lo, mairHi: mr.hi, sctlr: encodeSctlr(s.sctlr) });
  };
  return {
    m, t0, t1,
    /** The regime; `tcrOverride` changes TCR_EL1 fields after the tables were built. */
    regime: (tcrOverride: TcrInit = {}): Regime => {
      const r = regs();
      const t = encodeTcr({ ...tcr, ...tcrOverride });
      return decodeRegime({ ...r, tcrLo: t.lo, tcrHi: t.hi }, s.features);
    },
  };
}

const page = (b: PageTableBuilder, va: number, oa: number, s1: S1LeafInit = {}, level = 3, table?: TableInit): void =>
  b.map({ va, oa, size: b.blockBytes(level), level, s1, ...(table ? { table } : {}) });

function expectFault(f: WalkFault, type: FaultType, level: number, stage: 1 | 2, statusCode: number): void {
  expect({ type: f.type, level: f.level, stage: f.stage, code: f.statusCode }).toEqual({ type, level, stage, code: statusCode });
}

// ---------------------------------------------------------------------------------------------
// Stage 1, per granule
// ---------------------------------------------------------------------------------------------

describe('stage 1, 4K granule, 48-bit VA (4 levels)', () => {
  it('walks L0..L3 at the indices of the VA and returns the page, attributes, permissions, ASID', () => {
    const s = stage1();
    page(s.t0, 0x1234_5678_9000, 0x8_0000_3000, { attrIndx: 0, ap: 0b01, sh: 0b11, nG: true });
    const { ok, reads, r } = run(s.regime(), s.m, split(0x1234_5678_9234), AccessType.Write, 0);
    expect(ok).toBe(true);
    // VA[47:39] = 36, VA[38:30] = 209, VA[29:21] = 179, VA[20:12] = 393
    expect(reads.map((x) => x.pa)).toEqual([
      s.t0.root + 36 * 8,
      s.t0.slotAddress(0x1234_5678_9000, 1),
      s.t0.slotAddress(0x1234_5678_9000, 2),
      s.t0.slotAddress(0x1234_5678_9000, 3),
    ]);
    expect(reads.map((x) => (x.pa % 4096) / 8)).toEqual([36, 209, 179, 393]);
    expect(reads.map((x) => [x.stage, x.level])).toEqual([[1, 0], [1, 1], [1, 2], [1, 3]]);
    expect(reads.every((x) => x.attrs === NORMAL_WB_RWA_ISH)).toBe(true); // TCR IRGN0=ORGN0=WB-RWA, SH0=ISH
    expect(r).toMatchObject({ pa: 0x8_0000_3234, ipa: 0x8_0000_3234, s1Level: 3, s1BlockBytes: 4096, pageBytes: 4096, global: false, asid: 0x12, reads: 4 });
    expect(r.attrs).toBe(NORMAL_WB_RWA_ISH);
    // AP=01: EL0 RW, so EL1 may not execute it (PXN implied); UXN=0
    expect(r.perms).toBe(PERM_R1 | PERM_W1 | PERM_R0 | PERM_W0 | PERM_X0);
  });

  it('a 2 MiB block at level 2 and a 1 GiB block at level 1', () => {
    const s = stage1();
    s.t0.map({ va: 0x4020_0000, oa: 0x1_8060_0000, size: 2 * 2 ** 20, level: 2, s1: { attrIndx: 1 } });
    s.t0.map({ va: 0x80_4000_0000, oa: 0x40_0000_0000, size: 2 ** 30, level: 1, s1: {} });
    const rg = s.regime();
    const a = run(rg, s.m, split(0x4021_2345));
    expect(a.ok).toBe(true);
    expect(a.r).toMatchObject({ pa: 0x1_8061_2345, s1Level: 2, s1BlockBytes: 2 ** 21, reads: 3 });
    expect(a.r.attrs).toBe(DEVICE_nGnRE); // MAIR Attr1 = 0x04
    const b = run(rg, s.m, split(0x80_7fff_fff8));
    expect(b.r).toMatchObject({ pa: 0x40_3fff_fff8, s1Level: 1, s1BlockBytes: 2 ** 30, reads: 2 });
  });

  it('TTBR1 (VA[55]=1) with T1SZ=25: 3 levels from level 1', () => {
    const s = stage1();
    page(s.t1, 0x1234_5000, 0x9_8765_4000, { ap: 0b00 });
    const rg = s.regime();
    const ok = run(rg, s.m, upper(0x1234_5678, 39));
    expect(ok.ok).toBe(true);
    expect(ok.reads[0]!.pa).toBe(s.t1.root + 0 * 8);
    expect(ok.r).toMatchObject({ pa: 0x9_8765_4678, s1Level: 3, reads: 3, global: true });
    // VA[63:39] not all ones: out of range for TTBR1, a level 0 Translation fault with no read
    const bad = run(rg, s.m, [0xffffff00, 0x1234_5678]);
    expect(bad.reads.length).toBe(0);
    expectFault(bad.f, FaultType.Translation, 0, 1, 0x04);
  });

  it('TBI: the top byte is ignored for TBI0=1, checked for TBI0=0; TBID0 excludes fetches', () => {
    const tagged: [number, number] = [0x5a00_1234, 0x5678_9000];
    for (const [tbi0, tbid0, access, expectOk] of [
      [true, false, AccessType.Read, true], [false, false, AccessType.Read, false],
      [true, true, AccessType.Read, true], [true, true, AccessType.Fetch, false],
    ] as const) {
      const s = stage1({ tcr: { tbi0, tbid0 } });
      page(s.t0, 0x1234_5678_9000, 0x1000);
      const x = run(s.regime(), s.m, tagged, access);
      expect(x.ok).toBe(expectOk);
      if (!expectOk) expectFault(x.f, FaultType.Translation, 0, 1, 0x04);
    }
  });
});

describe('stage 1, 16K and 64K granules', () => {
  it('16K, 47-bit VA: 3 levels from level 1; a 32 MiB block at level 2', () => {
    const s = stage1({ tcr: { t0sz: 17, tg0: '16K' } });
    page(s.t0, 0x7f12_3456_c000, 0x2_0000_4000);
    s.t0.map({ va: 0x1_0200_0000, oa: 0x3_0400_0000, size: 32 * 2 ** 20, level: 2 });
    const rg = s.regime();
    const a = run(rg, s.m, split(0x7f12_3456_dfff));
    expect(a.r).toMatchObject({ pa: 0x2_0000_5fff, s1Level: 3, s1BlockBytes: 16384, reads: 3 });
    // L1 index = VA[46:36] (2048 entries), L2 = VA[35:25], L3 = VA[24:14]
    expect(a.reads.map((x) => x.pa)).toEqual([1, 2, 3].map((l) => s.t0.slotAddress(0x7f12_3456_c000, l)));
    expect(a.reads[0]!.pa).toBe(s.t0.root + Math.floor(0x7f12_3456_c000 / 2 ** 36) * 8);
    const b = run(rg, s.m, split(0x1_0312_3456));
    expect(b.r).toMatchObject({ pa: 0x3_0512_3456, s1Level: 2, s1BlockBytes: 2 ** 25, reads: 2 });
  });

  it('64K, 48-bit VA: 3 levels (a 64-entry level-1 table); a 512 MiB block at level 2', () => {
    const s = stage1({ tcr: { t0sz: 16, tg0: '64K' } });
    expect(s.t0.startLevel).toBe(1);
    expect(s.t0.startIndexBits).toBe(6);
    page(s.t0, 0xabcd_1234_0000, 0x5_6789_0000);
    s.t0.map({ va: 0x1_2000_0000, oa: 0x4_0000_0000, size: 2 ** 29, level: 2 });
    const rg = s.regime();
    const a = run(rg, s.m, split(0xabcd_1234_fedc));
    expect(a.r).toMatchObject({ pa: 0x5_6789_fedc, s1Level: 3, s1BlockBytes: 65536, reads: 3 });
    expect(a.reads[0]!.pa).toBe(s.t0.root + Math.floor(0xabcd_1234_0000 / 2 ** 42) * 8);
    const b = run(rg, s.m, split(0x1_3fff_0000));
    expect(b.r).toMatchObject({ pa: 0x4_1fff_0000, s1Level: 2, s1BlockBytes: 2 ** 29, reads: 2 });
  });

  it('64K with FEAT_LPA and IPS=52: OA[51:48] from descriptor bits [15:12]; level-1 blocks allowed', () => {
    const features = resolveMmuFeatures({ paBits: 52, featLPA: true, featLVA: true });
    const s = stage1({ tcr: { t0sz: 12, tg0: '64K', ipsBits: 52 }, features });
    const s52 = new PageTableBuilder(s.m, { stage: 1, granule: '64K', inputBits: 52, allocBase: 0x5000_0000, allocLimit: 0x5100_0000, pa52: true });
    s52.map({ va: 0xf_0000_0001_0000, oa: 0xa_0000_1234_0000, size: 65536, level: 3 });
    s52.map({ va: 0x400_0000_0000, oa: 0xc_0000_0000_0000, size: 2 ** 42, level: 1 });
    const t = encodeTcr({ t0sz: 12, tg0: '64K', ipsBits: 52 }), b = encodeTtbr(s52.root), mr = encodeMair([0xff]);
    const rg = decodeRegime(regimeRegisters({ tcrLo: t.lo, tcrHi: t.hi, ttbr0Lo: b.lo, ttbr0Hi: b.hi, mairLo: mr.lo, mairHi: mr.hi, sctlr: encodeSctlr() }), features);
    expect(run(rg, s.m, split(0xf_0000_0001_0abc)).r).toMatchObject({ pa: 0xa_0000_1234_0abc, s1Level: 3 });
    expect(run(rg, s.m, split(0x400_0000_1234)).r).toMatchObject({ pa: 0xc_0000_0000_1234, s1Level: 1, s1BlockBytes: 2 ** 42 });
  });
});

// ---------------------------------------------------------------------------------------------
// Faults at each level, with DFSC codes
// ---------------------------------------------------------------------------------------------

describe('stage-1 faults at each level (4K, 48-bit)', () => {
  const VA = 0x1234_5678_9000;

  it('Translation faults: an invalid descriptor at level 0, 1, 2, 3 -> DFSC 0x04..0x07', () => {
    for (let level = 0; level <= 3; level++) {
      const s = stage1();
      s.t0.slotAddress(VA, level); // creates the tables above `level`; the slot itself stays 0
      const x = run(s.regime(), s.m, split(VA));
      expectFault(x.f, FaultType.Translation, level, 1, 0x04 + level);
      expect(x.reads.length).toBe(level + 1);
    }
  });

  it('a block descriptor where blocks are not allowed (level 0) and 0b01 at level 3 are Translation faults', () => {
    const s = stage1();
    s.t0.setDescriptor(VA, 0, { lo: 0x0000_0401, hi: 0 });
    expectFault(run(s.regime(), s.m, split(VA)).f, FaultType.Translation, 0, 1, 0x04);
    const t = stage1();
    t.t0.setDescriptor(VA, 3, { lo: (0x8000_0000 | 0x401) >>> 0, hi: 0 });
    expectFault(run(t.regime(), t.m, split(VA)).f, FaultType.Translation, 3, 1, 0x07);
  });

  it('Access flag faults at level 1, 2, 3 -> DFSC 0x09..0x0B', () => {
    for (const level of [1, 2, 3]) {
      const s = stage1();
      s.t0.map({ va: 0x80_0000_0000, oa: 0x40_0000_0000, size: s.t0.blockBytes(level), level, s1: { af: false } });
      const x = run(s.regime(), s.m, split(0x80_0000_0000), AccessType.Write);
      expectFault(x.f, FaultType.AccessFlag, level, 1, 0x08 + level);
      expect(x.f.write).toBe(true);
    }
  });

  it('Permission faults at level 1, 2, 3 -> DFSC 0x0D..0x0F (write to read-only, WnR=1)', () => {
    for (const level of [1, 2, 3]) {
      const s = stage1();
      s.t0.map({ va: 0x80_0000_0000, oa: 0x40_0000_0000, size: s.t0.blockBytes(level), level, s1: { ap: 0b10 } });
      const rg = s.regime();
      expect(run(rg, s.m, split(0x80_0000_0000), AccessType.Read).ok).toBe(true);
      const x = run(rg, s.m, split(0x80_0000_0000), AccessType.Write);
      expectFault(x.f, FaultType.Permission, level, 1, 0x0c + level);
      expect(x.f.write).toBe(true);
    }
  });

  it('Address size faults: TTBR, next-table address and output address beyond IPS -> 0b0000LL', () => {
    const tcr = { ipsBits: 40 };
    // TTBR0 BADDR at 2^40: level 0, no read
    {
      const s = stage1({ tcr });
      const t = encodeTcr({ t0sz: 16, ipsBits: 40 }), b = encodeTtbr(2 ** 40 + s.t0.root);
      const rg = decodeRegime(regimeRegisters({ tcrLo: t.lo, tcrHi: t.hi, ttbr0Lo: b.lo, ttbr0Hi: b.hi, sctlr: encodeSctlr() }));
      const x = run(rg, s.m, split(VA));
      expect(x.reads.length).toBe(0);
      expectFault(x.f, FaultType.AddressSize, 0, 1, 0x00);
    }
    // a table descriptor at level L pointing at 2^41: fault at L
    for (const level of [0, 1, 2]) {
      const s = stage1({ tcr });
      s.t0.setDescriptor(VA, level, encodeTable(2 ** 41, 12));
      expectFault(run(s.regime(), s.m, split(VA)).f, FaultType.AddressSize, level, 1, level);
    }
    // a page and a 1 GiB block with an output address beyond 40 bits
    const s = stage1({ tcr });
    s.t0.setDescriptor(VA, 3, encodeS1Leaf(2 ** 41, 3, 12));
    expectFault(run(s.regime(), s.m, split(VA)).f, FaultType.AddressSize, 3, 1, 0x03);
    s.t0.setDescriptor(0x80_0000_0000, 1, encodeS1Leaf(2 ** 42, 1, 12));
    expectFault(run(s.regime(), s.m, split(0x80_0000_0000)).f, FaultType.AddressSize, 1, 1, 0x01);
  });

  it('EPD0 and TxSZ out of range: level 0 Translation faults with no reads', () => {
    const s = stage1({ tcr: { epd0: true } });
    page(s.t0, VA, 0x1000);
    const x = run(s.regime(), s.m, split(VA));
    expect(x.reads.length).toBe(0);
    expectFault(x.f, FaultType.Translation, 0, 1, 0x04);
    const t = stage1();
    page(t.t0, VA, 0x1000);
    expect(run(t.regime(), t.m, split(VA)).ok).toBe(true);
    expectFault(run(t.regime({ t0sz: 15 }), t.m, split(VA)).f, FaultType.Translation, 0, 1, 0x04);
    // with the clamp choice, T0SZ=15 behaves as 16
    const clamp = stage1({ features: resolveMmuFeatures({ txszBelowMin: 'clamp' }) });
    page(clamp.t0, VA, 0x1000);
    expect(run(clamp.regime({ t0sz: 15 }), clamp.m, split(VA)).ok).toBe(true);
  });
});

describe('stage-1 permissions', () => {
  const VA = 0x4000_0000;
  const check = (leaf: S1LeafInit, access: AccessType, el: 0 | 1, opts: S1Setup = {}, table?: TableInit) => {
    const s = stage1(opts);
    page(s.t0, VA, 0x9000_0000, leaf, 3, table);
    return run(s.regime(), s.m, split(VA), access, el);
  };
  it('AP[2:1]: EL0 needs AP[1]; writes need AP[2]=0', () => {
    expect(check({ ap: 0b00 }, AccessType.Read, 0).ok).toBe(false);
    expect(check({ ap: 0b00 }, AccessType.Write, 1).ok).toBe(true);
    expect(check({ ap: 0b01 }, AccessType.Write, 0).ok).toBe(true);
    expect(check({ ap: 0b11 }, AccessType.Read, 0).ok).toBe(true);
    expect(check({ ap: 0b11 }, AccessType.Write, 0).ok).toBe(false);
  });
  it('execute: UXN for EL0, PXN for EL1, EL0-writable is never EL1-executable, EL0 execute-only works', () => {
    expect(check({ uxn: true }, AccessType.Fetch, 0).ok).toBe(false);
    expect(check({ uxn: true }, AccessType.Fetch, 1).ok).toBe(true);
    expect(check({ pxn: true }, AccessType.Fetch, 1).ok).toBe(false);
    expect(check({ ap: 0b01 }, AccessType.Fetch, 1).ok).toBe(false);
    expect(check({ ap: 0b00 }, AccessType.Fetch, 0).ok).toBe(true); // no EL0 read, but executable
    const f = check({ pxn: true }, AccessType.Fetch, 1).f;
    expect(f.fetch).toBe(true);
    expect(f.write).toBe(false);
  });
  it('SCTLR_EL1.WXN removes execute from writable memory', () => {
    expect(check({ ap: 0b00 }, AccessType.Fetch, 1, { sctlr: { wxn: true } }).ok).toBe(false);
    expect(check({ ap: 0b10 }, AccessType.Fetch, 1, { sctlr: { wxn: true } }).ok).toBe(true);
  });
  it('hierarchical APTable/UXNTable/PXNTable apply unless TCR_EL1.HPD0', () => {
    expect(check({ ap: 0b01 }, AccessType.Read, 0, {}, { apTable: 0b01 }).ok).toBe(false);
    expect(check({ ap: 0b01 }, AccessType.Write, 1, {}, { apTable: 0b10 }).ok).toBe(false);
    expect(check({}, AccessType.Fetch, 0, {}, { uxnTable: true }).ok).toBe(false);
    expect(check({}, AccessType.Fetch, 1, {}, { pxnTable: true }).ok).toBe(false);
    const denied = check({ ap: 0b01 }, AccessType.Read, 0, {}, { apTable: 0b01 });
    expectFault(denied.f, FaultType.Permission, 3, 1, 0x0f); // reported at the leaf's level
    expect(check({ ap: 0b01 }, AccessType.Read, 0, { tcr: { hpd0: true } }, { apTable: 0b01 }).ok).toBe(true);
  });
  it('read-modify-write: WnR=0 when the read part fails, 1 when only the write part fails', () => {
    const ro = check({ ap: 0b11 }, AccessType.ReadWrite, 0);
    expect([ro.ok, ro.f.write]).toEqual([false, true]);
    const none = check({ ap: 0b00 }, AccessType.ReadWrite, 0);
    expect([none.ok, none.f.write]).toEqual([false, false]);
  });
  it('instruction fetch from stage-1 Device: Normal NC, or a Permission fault by option', () => {
    const s = stage1();
    page(s.t0, VA, 0x9000_0000, { attrIndx: 1 }); // MAIR Attr1 = Device-nGnRE
    const nc = run(s.regime(), s.m, split(VA), AccessType.Fetch);
    expect(nc.ok).toBe(true);
    expect(attrInnerCache(nc.r.attrs)).toBe(Cacheability.NC);
    const regs = decodeRegime({ ...regimeRegisters(), ...rawRegs(s.regime) }, undefined, resolveAttrOptions({ instrFetchFromDevice: 'fault' }));
    expectFault(run(regs, s.m, split(VA), AccessType.Fetch).f, FaultType.Permission, 3, 1, 0x0f);
  });
});

/** Re-derive raw registers of a stage1() setup (for re-decoding with other options). */
function rawRegs(mk: () => Regime): Partial<RegimeRegisters> {
  const rg = mk();
  const t = encodeTcr({ t0sz: 16, t1sz: 25 }), a = encodeTtbr(rg.s1.half0.tableBase, 0x12), mr = encodeMair([...rg.mair]);
  return { tcrLo: t.lo, tcrHi: t.hi, ttbr0Lo: a.lo, ttbr0Hi: a.hi, mairLo: mr.lo, mairHi: mr.hi, sctlr: encodeSctlr() };
}

describe('Contiguous bit', () => {
  it('is reported; with a span beyond the input range it faults only when the implementation says so', () => {
    for (const contiguousBitFault of [false, true]) {
      const features = resolveMmuFeatures({ featTTST: true, contiguousBitFault });
      const s = stage1({ tcr: { t0sz: 40 }, features }); // 24-bit VA: from level 2, 8 entries
      s.t0.map({ va: 0x20_0000, oa: 0x4000_0000, size: 2 ** 21, level: 2, s1: { contiguous: true } }); // 16 x 2 MiB > 2^24
      page(s.t0, 0x40_0000, 0x5000_0000, { contiguous: true }); // 16 x 4 KiB fits
      const rg = s.regime();
      const blk = run(rg, s.m, split(0x20_0000));
      if (contiguousBitFault) expectFault(blk.f, FaultType.Translation, 2, 1, 0x06);
      else expect(blk.r).toMatchObject({ s1Contiguous: true, s1Level: 2 });
      expect(run(rg, s.m, split(0x40_0000)).r).toMatchObject({ s1Contiguous: true, s1Level: 3 });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Stage 2
// ---------------------------------------------------------------------------------------------

interface S2Setup { vtcr?: VtcrInit; hcr?: Parameters<typeof encodeHcr>[0]; features?: MmuFeatures; startLevel?: number }

/** Stage 2 only: stage 1 off (SCTLR_EL1.M=0) so VA = IPA; stage-2 tables in the 0x1000_0000.. pool. */
function stage2(s: S2Setup = {}) {
  const m = mem();
  const vtcr = { t0sz: 24, sl0: 1, tg0: '4K' as const, ...s.vtcr };
  const b = new PageTableBuilder(m, {
    stage: 2, granule: vtcr.tg0, inputBits: 64 - vtcr.t0sz, startLevel: s.startLevel ?? [2, 1, 0][vtcr.sl0] ?? 1,
    allocBase: 0x1000_0000, allocLimit: 0x1100_0000,
  });
  const regime = (): Regime => {
    const v = encodeVtcr(vtcr), t = encodeTtbr(b.root, 5), h = encodeHcr({ vm: true, ...s.hcr });
    return decodeRegime(regimeRegisters({
      vtcrLo: v.lo, vtcrHi: v.hi, vttbrLo: t.lo, vttbrHi: t.hi, hcrLo: h.lo, hcrHi: h.hi, el2Enabled: true, sctlr: encodeSctlr({ m: false }),
    }), s.features);
  };
  return { m, b, regime };
}

describe('stage 2', () => {
  it('4K, 40-bit IPA from level 1 with two concatenated tables: an IPA above 512 GiB indexes the second table', () => {
    const s = stage2();
    s.b.map({ va: 0xc0_1234_5000, oa: 0x9_0000_1000, size: 4096, level: 3, s2: { memAttr: 0b1111 } });
    const rg = s.regime();
    expect(rg.s2).toMatchObject({ startLevel: 1, concatTables: 2 });
    const x = run(rg, s.m, split(0xc0_1234_5abc));
    expect(x.ok).toBe(true);
    expect(x.reads[0]!.pa).toBe(s.b.root + 768 * 8); // IPA[39:30] = 768 >= 512
    expect(x.reads.map((r) => [r.stage, r.level])).toEqual([[2, 1], [2, 2], [2, 3]]);
    expect(x.reads.every((r) => r.attrs === rg.s2.walkAttrs)).toBe(true);
    expect(x.r).toMatchObject({ pa: 0x9_0000_1abc, ipa: 0xc0_1234_5abc, s1Level: -1, s2Level: 3, s2BlockBytes: 4096, vmid: 5 });
  });

  it('16K, 40-bit IPA from level 2 with 16 concatenated tables', () => {
    const s = stage2({ vtcr: { t0sz: 24, sl0: 1, tg0: '16K' }, startLevel: 2 });
    s.b.map({ va: 0xff_fe00_0000, oa: 0x2_0000_0000, size: 2 ** 25, level: 2 });
    const rg = s.regime();
    expect(rg.s2.concatTables).toBe(16);
    const x = run(rg, s.m, split(0xff_fe12_3456));
    expect(x.reads[0]!.pa).toBe(s.b.root + (2 ** 15 - 1) * 8);
    expect(x.r).toMatchObject({ pa: 0x2_0012_3456, s2Level: 2, reads: 1 });
  });

  it('an inconsistent SL0 is a stage-2 level 0 Translation fault with the IPA for HPFAR_EL2', () => {
    const s = stage2({ vtcr: { t0sz: 24, sl0: 0 }, startLevel: 1 });
    const x = run(s.regime(), s.m, split(0x1234_5678));
    expect(x.reads.length).toBe(0);
    expectFault(x.f, FaultType.Translation, 0, 2, 0x04);
    expect(x.f).toMatchObject({ s1ptw: false, ipa: 0x1234_5678 });
    expect(hpfarEl2(x.f.ipa)).toBe(0x12345 * 16);
  });

  it('S2AP and the IPA range; ESR for a stage-2 write fault', () => {
    const s = stage2();
    s.b.map({ va: 0x8000_0000, oa: 0x8000_0000, size: 2 ** 21, level: 2, s2: { s2ap: 0b01 } });
    const rg = s.regime();
    expect(run(rg, s.m, split(0x8000_1000), AccessType.Read).ok).toBe(true);
    const w = run(rg, s.m, split(0x8000_1008), AccessType.Write, 1);
    expectFault(w.f, FaultType.Permission, 2, 2, 0x0e);
    expect(w.f).toMatchObject({ write: true, ipa: 0x8000_1008, s1ptw: false });
    // EC 0x24 (Data Abort from a lower EL), IL, WnR, DFSC 0x0E
    expect(abortEsr(w.f, 1)).toBe(((0x24 << 26) | (1 << 25) | (1 << 6) | 0x0e) >>> 0);
    const out = run(rg, s.m, split(2 ** 40));
    expectFault(out.f, FaultType.Translation, 0, 2, 0x04);
  });

  it('stage-2 XN[1:0] with FEAT_XNX distinguishes EL1 and EL0 execution', () => {
    const s = stage2();
    s.b.map({ va: 0x8000_0000, oa: 0x8000_0000, size: 4096, level: 3, s2: { xn: 0b01 } });
    s.b.map({ va: 0x8000_1000, oa: 0x8000_1000, size: 4096, level: 3, s2: { xn: 0b11 } });
    const rg = s.regime();
    expect(run(rg, s.m, split(0x8000_0000), AccessType.Fetch, 1).ok).toBe(false);
    expect(run(rg, s.m, split(0x8000_0000), AccessType.Fetch, 0).ok).toBe(true);
    expect(run(rg, s.m, split(0x8000_1000), AccessType.Fetch, 1).ok).toBe(true);
    expect(run(rg, s.m, split(0x8000_1000), AccessType.Fetch, 0).ok).toBe(false);
    const noXnx = stage2({ features: resolveMmuFeatures({ featXNX: false }) });
    noXnx.b.map({ va: 0x8000_0000, oa: 0x8000_0000, size: 4096, level: 3, s2: { xn: 0b01 } });
    expect(run(noXnx.regime(), noXnx.m, split(0x8000_0000), AccessType.Fetch, 1).ok).toBe(true);
    const f = run(rg, s.m, split(0x8000_0000), AccessType.Fetch, 1).f;
    expect(abortEsr(f, 1)).toBe(((0x20 << 26) | (1 << 25) | 0x0f) >>> 0); // Instruction Abort, lower EL
  });

  it('stage 1 off: a VA beyond the PA size is a stage-1 level 0 Address size fault', () => {
    const s = stage2();
    const x = run(s.regime(), s.m, split(2 ** 48));
    expectFault(x.f, FaultType.AddressSize, 0, 1, 0x00);
  });
});

// ---------------------------------------------------------------------------------------------
// Nested: stage-1 tables at IPAs translated by stage 2
// ---------------------------------------------------------------------------------------------

const IPA_TO_PA = 0x3_0000_0000;

function nested(hcr: Parameters<typeof encodeHcr>[0] = {}) {
  const m = mem();
  // stage 2: 4K, 48-bit IPA, level 0 start (SL0=2), tables at PA 0x1000_0000..
  const s2 = new PageTableBuilder(m, { stage: 2, granule: '4K', inputBits: 48, startLevel: 0, allocBase: 0x1000_0000, allocLimit: 0x1100_0000 });
  // stage 1: 4K, 48-bit VA; its tables at IPA 0x2000_0000.., PA = IPA + IPA_TO_PA, mapped by 4K stage-2 pages
  const s1 = new PageTableBuilder(m, {
    stage: 1, granule: '4K', inputBits: 48, allocBase: 0x2000_0000, allocLimit: 0x2010_0000, physOf: (ipa) => ipa + IPA_TO_PA,
  });
  s2.map({ va: 0x2000_0000, oa: 0x2000_0000 + IPA_TO_PA, size: 0x10_0000, level: 3, s2: {} });
  const regime = (): Regime => {
    const t = encodeTcr({ t0sz: 16 }), a = encodeTtbr(s1.root, 7), v = encodeVtcr({ t0sz: 16, sl0: 2 }), vt = encodeTtbr(s2.root, 9);
    const h = encodeHcr({ vm: true, ...hcr }), mr = encodeMair([0xff]);
    return decodeRegime(regimeRegisters({
      tcrLo: t.lo, tcrHi: t.hi, ttbr0Lo: a.lo, ttbr0Hi: a.hi, mairLo: mr.lo, mairHi: mr.hi, sctlr: encodeSctlr(),
      hcrLo: h.lo, hcrHi: h.hi, vtcrLo: v.lo, vtcrHi: v.hi, vttbrLo: vt.lo, vttbrHi: vt.hi, el2Enabled: true,
    }));
  };
  return { m, s1, s2, regime };
}

describe('nested stage 1 + stage 2 (4K, 4 x 4 levels)', () => {
  const VA = 0x7654_3210_f000;
  const IPA = 0x8_1234_5000;
  const PA = 0x6_0000_7000;

  it('performs exactly 24 reads in the architectural order', () => {
    const n = nested();
    n.s1.map({ va: VA, oa: IPA, size: 4096, level: 3, s1: { nG: true } });
    n.s2.map({ va: IPA, oa: PA, size: 4096, level: 3, s2: {} });
    const rg = n.regime();
    const x = run(rg, n.m, split(VA + 0x123));
    expect(x.ok).toBe(true);
    const expected: number[] = [];
    for (let l1 = 0; l1 <= 3; l1++) {
      const descIpa = n.s1.slotAddress(VA, l1);
      for (let l2 = 0; l2 <= 3; l2++) expected.push(n.s2.slotAddress(descIpa, l2));
      expected.push(descIpa + IPA_TO_PA);
    }
    for (let l2 = 0; l2 <= 3; l2++) expected.push(n.s2.slotAddress(IPA, l2));
    expect(expected.length).toBe(24);
    expect(x.reads.map((r) => r.pa)).toEqual(expected);
    expect(x.reads.map((r) => r.stage).join('')).toBe('22221222212222122221' + '2222');
    expect(x.reads.filter((r) => r.stage === 1).map((r) => r.level)).toEqual([0, 1, 2, 3]);
    expect(x.reads.filter((r) => r.stage === 2).every((r) => r.attrs === rg.s2.walkAttrs)).toBe(true);
    expect(x.r).toMatchObject({ pa: PA + 0x123, ipa: IPA + 0x123, s1Level: 3, s2Level: 3, pageBytes: 4096, reads: 24, global: false, asid: 7, vmid: 9 });
    expect(x.r.attrs).toBe(NORMAL_WB_RWA_ISH);
  });

  it('HCR_EL2.PTW=1: a stage-1 table in stage-2 Device memory is a stage-2 Permission fault with S1PTW', () => {
    const n = nested({ ptw: true });
    n.s1.map({ va: VA, oa: IPA, size: 4096, level: 3, s1: {} });
    n.s2.map({ va: IPA, oa: PA, size: 4096, level: 3, s2: {} });
    const l2Ipa = n.s1.slotAddress(VA, 2);
    const l2Page = Math.floor(l2Ipa / 4096) * 4096;
    n.s2.setDescriptor(l2Page, 3, encodeS2Leaf(l2Page + IPA_TO_PA, 3, 12, { memAttr: 0b0001 })); // Device-nGnRE
    const x = run(n.regime(), n.m, split(VA), AccessType.Write, 1);
    expect(x.ok).toBe(false);
    expectFault(x.f, FaultType.Permission, 3, 2, 0x0f);
    expect(x.f).toMatchObject({ s1ptw: true, ipa: l2Ipa, write: false });
    expect(x.reads.length).toBe(5 + 5 + 4); // L0, L1 complete; L2's stage-2 walk ends at its leaf
    expect(abortEsr(x.f, 1)).toBe(((0x24 << 26) | (1 << 25) | (1 << 7) | 0x0f) >>> 0);
    expect(hpfarEl2(x.f.ipa)).toBe(Math.floor(l2Ipa / 4096) * 16);

    // PTW=0: the same walk succeeds, and that table read is made Normal Non-cacheable
    const ok = nested({ ptw: false });
    ok.s1.map({ va: VA, oa: IPA, size: 4096, level: 3, s1: {} });
    ok.s2.map({ va: IPA, oa: PA, size: 4096, level: 3, s2: {} });
    ok.s2.setDescriptor(l2Page, 3, encodeS2Leaf(l2Page + IPA_TO_PA, 3, 12, { memAttr: 0b0001 }));
    const y = run(ok.regime(), ok.m, split(VA));
    expect(y.ok).toBe(true);
    const l2Read = y.reads[14]!;
    expect([l2Read.stage, l2Read.level, l2Read.pa]).toEqual([1, 2, l2Ipa + IPA_TO_PA]);
    expect(attrIsNormal(l2Read.attrs)).toBe(true);
    expect([attrInnerCache(l2Read.attrs), attrOuterCache(l2Read.attrs), attrShare(l2Read.attrs)]).toEqual([Cacheability.NC, Cacheability.NC, Shareability.OSH]);
  });

  it('a stage-2 fault on a stage-1 table access reports the stage-2 level and the table IPA', () => {
    const n = nested();
    n.s1.map({ va: VA, oa: IPA, size: 4096, level: 3, s1: {} });
    const l1Ipa = n.s1.slotAddress(VA, 1);
    n.s2.setDescriptor(Math.floor(l1Ipa / 4096) * 4096, 3, { lo: 0, hi: 0 });
    const x = run(n.regime(), n.m, split(VA), AccessType.Fetch, 0);
    expectFault(x.f, FaultType.Translation, 3, 2, 0x07);
    expect(x.f).toMatchObject({ s1ptw: true, ipa: l1Ipa, fetch: true });
    expect(abortEsr(x.f, 0)).toBe(((0x20 << 26) | (1 << 25) | (1 << 7) | 0x07) >>> 0);
  });

  it('a stage-2 fault on the final IPA is not S1PTW; a stage-1 fault goes to EL1', () => {
    const n = nested();
    n.s1.map({ va: VA, oa: IPA, size: 4096, level: 3, s1: {} });
    const rg = n.regime();
    const x = run(rg, n.m, split(VA + 8), AccessType.Write, 1);
    // the stage-2 level 1 entry for IPA[47:30] = 32 is empty (only the table pool is mapped)
    expectFault(x.f, FaultType.Translation, 1, 2, 0x05);
    expect(x.f).toMatchObject({ s1ptw: false, ipa: IPA + 8, write: true });
    expect(x.reads.length).toBe(20 + 2);
    const y = run(rg, n.m, split(0x1000), AccessType.Read, 0);
    expect(y.f.stage).toBe(1);
    expect(abortEsr(y.f, 0) >>> 26).toBe(0x24);
    expect(abortEsr(y.f, 1) >>> 26).toBe(0x25);
  });

  it('translateFunctional agrees with a manual drive', () => {
    const n = nested();
    n.s1.map({ va: VA, oa: IPA, size: 4096, level: 3, s1: {} });
    n.s2.map({ va: IPA, oa: PA, size: 4096, level: 3, s2: {} });
    const w = new TranslationWalker();
    expect(translateFunctional(w, n.regime(), n.m, 0, 0x1000, AccessType.Read, 1)).toBe(false);
    expect(translateFunctional(w, n.regime(), n.m, ...split(VA + 4), AccessType.Read, 1)).toBe(true);
    expect(w.result.pa).toBe(PA + 4);
  });
});
