/**
 * FEAT_HAFDBS in the walker: hardware Access flag and dirty-state updates at both stages, the
 * stage-2 write permission a stage-1 update needs, the compare-and-swap that restarts a walk when
 * the descriptor changed, and the CONSTRAINED UNPREDICTABLE AF update on a Permission fault.
 */
import { describe, expect, it } from 'vitest';
import { SparseMemory } from '../mem/index.js';
import { AccessType, FaultType } from './faults.js';
import { PageTableBuilder } from './page-tables.js';
import {
  decodeRegime, encodeHcr, encodeMair, encodeSctlr, encodeTcr, encodeTtbr, encodeVtcr, regimeRegisters, resolveMmuFeatures,
  type Regime,
} from './regime.js';
import { PERM_W1, TranslationWalker, translateFunctional } from './walk.js';

const mem = (): SparseMemory => new SparseMemory({ base: 0, size: 2 ** 52, chunkBytes: 64 * 1024 });
const VA = 0x12_3456_7000, OA = 0x8_0000_3000;
const AF = 1 << 10, AP2 = 1 << 7;

/** The descriptor at `pa` as two halves. */
function desc(m: SparseMemory, pa: number): { lo: number; hi: number } {
  const b = new Uint8Array(8);
  m.read(pa, b, 0, 8);
  const v = new DataView(b.buffer);
  return { lo: v.getUint32(0, true), hi: v.getUint32(4, true) };
}

interface Setup { hafdbs?: 0 | 1 | 2; ha?: boolean; hd?: boolean; afOnPermFault?: boolean }

/** Stage 1 only (4K, 48-bit VA), one page at VA. */
function stage1(o: Setup, leaf: Parameters<PageTableBuilder['map']>[0]['s1']) {
  const m = mem();
  const t = new PageTableBuilder(m, { stage: 1, granule: '4K', inputBits: 48, allocBase: 0x4000_0000, allocLimit: 0x4100_0000 });
  t.map({ va: VA, oa: OA, size: 4096, level: 3, s1: leaf });
  const features = resolveMmuFeatures({ hafdbs: o.hafdbs ?? 2, afUpdateOnPermissionFault: o.afOnPermFault ?? false });
  const tc = encodeTcr({ t0sz: 16, ha: o.ha ?? true, hd: o.hd ?? true }), a = encodeTtbr(t.root, 1), mr = encodeMair([0xff]);
  const regime = decodeRegime(regimeRegisters({ tcrLo: tc.lo, tcrHi: tc.hi, ttbr0Lo: a.lo, ttbr0Hi: a.hi, mairLo: mr.lo, mairHi: mr.hi, sctlr: encodeSctlr() }), features);
  return { m, leafPa: t.slotAddress(VA, 3), regime };
}

function walk(rg: Regime, m: SparseMemory, access: AccessType, el: 0 | 1 = 1) {
  const w = new TranslationWalker();
  const ok = translateFunctional(w, rg, m, Math.floor(VA / 2 ** 32), VA % 2 ** 32, access, el);
  return { ok, w, r: w.result, f: w.fault };
}

describe('FEAT_HAFDBS at stage 1', () => {
  it('TCR_EL1.HA: an AF=0 page is no Access flag fault; the walk sets AF in memory, once', () => {
    const s = stage1({ hafdbs: 1 }, { af: false });
    const before = desc(s.m, s.leafPa);
    const a = walk(s.regime, s.m, AccessType.Read);
    expect(a.ok).toBe(true);
    expect(a.r.pa).toBe(OA);
    expect(desc(s.m, s.leafPa)).toEqual({ lo: (before.lo | AF) >>> 0, hi: before.hi });
    expect(a.w.updates).toBe(1);
    const b = walk(s.regime, s.m, AccessType.Read);
    expect(b.ok).toBe(true);
    expect(b.w.updates).toBe(0);
  });

  it('without the feature, or with HA=0, AF=0 is an Access flag fault and memory is left alone', () => {
    for (const o of [{ hafdbs: 0 as const }, { ha: false }]) {
      const s = stage1(o, { af: false });
      const before = desc(s.m, s.leafPa);
      const a = walk(s.regime, s.m, AccessType.Read);
      expect(a.ok).toBe(false);
      expect(a.f).toMatchObject({ type: FaultType.AccessFlag, level: 3, stage: 1 });
      expect(desc(s.m, s.leafPa)).toEqual(before);
    }
  });

  it('TCR_EL1.HD: a write to a writable-clean page (DBM=1, AP[2]=1) clears AP[2]; a read leaves it clean and read-only', () => {
    const s = stage1({}, { ap: 0b10, dbm: true });
    const before = desc(s.m, s.leafPa);
    const rd = walk(s.regime, s.m, AccessType.Read);
    expect(rd.ok).toBe(true);
    expect(rd.r.perms & PERM_W1).toBe(0);                  // the TLB gets it read-only: a write walks again
    expect(desc(s.m, s.leafPa)).toEqual(before);
    const wr = walk(s.regime, s.m, AccessType.Write);
    expect(wr.ok).toBe(true);
    expect(wr.r.perms & PERM_W1).toBe(PERM_W1);
    expect(desc(s.m, s.leafPa)).toEqual({ lo: (before.lo & ~AP2) >>> 0, hi: before.hi });
    // An atomic (read-write) dirties it too.
    const t = stage1({}, { ap: 0b10, dbm: true });
    expect(walk(t.regime, t.m, AccessType.ReadWrite).ok).toBe(true);
    expect(desc(t.m, t.leafPa).lo & AP2).toBe(0);
  });

  it('no dirty update without DBM, without HD, with HD but HA=0, or with HAFDBS=1: a Permission fault', () => {
    for (const [o, dbm] of [[{}, false], [{ hd: false }, true], [{ ha: false }, true], [{ hafdbs: 1 as const }, true]] as const) {
      const s = stage1(o, { ap: 0b10, dbm });
      const before = desc(s.m, s.leafPa);
      const a = walk(s.regime, s.m, AccessType.Write);
      expect(a.ok, JSON.stringify(o)).toBe(false);
      expect(a.f).toMatchObject({ type: FaultType.Permission, level: 3, stage: 1, write: true });
      expect(desc(s.m, s.leafPa)).toEqual(before);
    }
  });

  it('AF on a Permission fault is the named CONSTRAINED UNPREDICTABLE choice (afUpdateOnPermissionFault)', () => {
    for (const afOnPermFault of [false, true]) {
      const s = stage1({ afOnPermFault }, { af: false, ap: 0b00 });       // EL1 only
      const a = walk(s.regime, s.m, AccessType.Read, 0);
      expect(a.f).toMatchObject({ type: FaultType.Permission, level: 3, stage: 1 });
      expect((desc(s.m, s.leafPa).lo & AF) !== 0).toBe(afOnPermFault);
    }
  });

  it('a descriptor changed between the read and the update is not overwritten: the walk starts again', () => {
    const s = stage1({}, { af: false });
    const w = new TranslationWalker();
    const b = new Uint8Array(8), v = new DataView(b.buffer);
    let meddled = false;
    w.start(s.regime, Math.floor(VA / 2 ** 32), VA % 2 ** 32, AccessType.Read, 1);
    while (!w.done) {
      if (w.writeNeeded && !meddled) {
        // Another agent sets AF and nG meanwhile: the CAS compares unequal and writes nothing.
        meddled = true;
        const d = desc(s.m, w.readPa);
        v.setUint32(0, (d.lo | AF | (1 << 11)) >>> 0, true); v.setUint32(4, d.hi, true);
        s.m.write(w.readPa, b, 0, 8);
      }
      s.m.read(w.readPa, b, 0, 8);
      const lo = v.getUint32(0, true), hi = v.getUint32(4, true);
      if (w.writeNeeded && lo === w.casOldLo && hi === w.casOldHi) throw new Error('the CAS should fail here');
      w.supply(lo, hi);
    }
    expect(w.faulted).toBe(false);
    expect(w.restarts).toBe(1);
    expect(w.updates).toBe(0);
    expect(w.result.global).toBe(false);                    // the walk saw the other agent's nG=1
    expect(w.result.reads).toBe(8);                        // 4 reads, then 4 again
  });
});

// ---------------------------------------------------------------------------------------------

const IPA_TO_PA = 0x3_0000_0000;
const IPA = 0x8_1234_5000, PA = 0x6_0000_7000;

/** Stage 1 over stage 2 (4K, 4 x 4 levels); the stage-1 leaf's table page is mapped at stage 2 with `tablePage`. */
function nested(o: Setup & { s2ha?: boolean; s2hd?: boolean }, s1leaf: { af?: boolean; ap?: number; dbm?: boolean }, tablePage: { s2ap?: number; dbm?: boolean; af?: boolean }, dataPage: { s2ap?: number; dbm?: boolean; af?: boolean } = {}) {
  const m = mem();
  const s2 = new PageTableBuilder(m, { stage: 2, granule: '4K', inputBits: 48, startLevel: 0, allocBase: 0x1000_0000, allocLimit: 0x1100_0000 });
  const s1 = new PageTableBuilder(m, { stage: 1, granule: '4K', inputBits: 48, allocBase: 0x2000_0000, allocLimit: 0x2010_0000, physOf: (ipa) => ipa + IPA_TO_PA });
  s1.map({ va: VA, oa: IPA, size: 4096, level: 3, s1: s1leaf });
  const leafIpa = s1.slotAddress(VA, 3), leafPage = Math.floor(leafIpa / 4096) * 4096;
  for (let p = 0x2000_0000; p < 0x2010_0000; p += 4096) s2.map({ va: p, oa: p + IPA_TO_PA, size: 4096, level: 3, s2: p === leafPage ? tablePage : {} });
  s2.map({ va: IPA, oa: PA, size: 4096, level: 3, s2: dataPage });
  const features = resolveMmuFeatures({ hafdbs: o.hafdbs ?? 2, afUpdateOnPermissionFault: o.afOnPermFault ?? false });
  const t = encodeTcr({ t0sz: 16, ha: o.ha ?? true, hd: o.hd ?? true }), a = encodeTtbr(s1.root, 7);
  const vt = encodeVtcr({ t0sz: 16, sl0: 2, ha: o.s2ha ?? true, hd: o.s2hd ?? true }), vb = encodeTtbr(s2.root, 9);
  const h = encodeHcr({ vm: true }), mr = encodeMair([0xff]);
  const regime = decodeRegime(regimeRegisters({
    tcrLo: t.lo, tcrHi: t.hi, ttbr0Lo: a.lo, ttbr0Hi: a.hi, mairLo: mr.lo, mairHi: mr.hi, sctlr: encodeSctlr(),
    hcrLo: h.lo, hcrHi: h.hi, vtcrLo: vt.lo, vtcrHi: vt.hi, vttbrLo: vb.lo, vttbrHi: vb.hi, el2Enabled: true,
  }), features);
  return { m, regime, s1LeafPa: leafIpa + IPA_TO_PA, leafIpa, tablePageS2: s2.slotAddress(leafPage, 3), dataS2: s2.slotAddress(IPA, 3) };
}

describe('FEAT_HAFDBS at stage 2 and nested', () => {
  it('VTCR_EL2.HA/HD: stage-2 AF set on use; a write to a writable-clean page (DBM, S2AP[1]=0) sets S2AP[1]', () => {
    const n = nested({}, {}, {}, { af: false, s2ap: 0b01, dbm: true });
    const rd = walk(n.regime, n.m, AccessType.Read);
    expect(rd.ok).toBe(true);
    expect(rd.r.pa).toBe(PA);
    expect(desc(n.m, n.dataS2).lo & AF).toBe(AF);
    expect(desc(n.m, n.dataS2).lo & AP2).toBe(0);          // still clean after a read
    expect(rd.r.perms & PERM_W1).toBe(0);
    const wr = walk(n.regime, n.m, AccessType.Write);
    expect(wr.ok).toBe(true);
    expect(desc(n.m, n.dataS2).lo & AP2).toBe(AP2);
    expect(wr.r.perms & PERM_W1).toBe(PERM_W1);
    // Without VTCR_EL2.HD the same write is a stage-2 Permission fault.
    const off = nested({ s2hd: false }, {}, {}, { s2ap: 0b01, dbm: true });
    expect(walk(off.regime, off.m, AccessType.Write).f).toMatchObject({ type: FaultType.Permission, stage: 2, level: 3, s1ptw: false, write: true });
  });

  it('a stage-1 update needs stage-2 write permission for its table page: S1PTW Permission fault with WnR=1', () => {
    const n = nested({}, { af: false }, { s2ap: 0b01 });
    const before = desc(n.m, n.s1LeafPa);
    const a = walk(n.regime, n.m, AccessType.Read);
    expect(a.ok).toBe(false);
    expect(a.f).toMatchObject({ type: FaultType.Permission, stage: 2, level: 3, s1ptw: true, write: true, ipa: n.leafIpa });
    expect(desc(n.m, n.s1LeafPa)).toEqual(before);
  });

  it('... unless the table page is writable-clean at stage 2 with VTCR_EL2.HD: both descriptors are updated', () => {
    const n = nested({}, { af: false }, { s2ap: 0b01, dbm: true });
    const a = walk(n.regime, n.m, AccessType.Read);
    expect(a.ok).toBe(true);
    expect(desc(n.m, n.tablePageS2).lo & AP2).toBe(AP2);   // the table's page made dirty at stage 2 first
    expect(desc(n.m, n.s1LeafPa).lo & AF).toBe(AF);
    expect(a.w.updates).toBe(2);
  });

  it('an External abort on an update is a synchronous External abort on the walk, at the stage of the descriptor written', () => {
    // The stage-1 leaf's update (its table page writable at stage 2) and the table page's stage-2
    // dirty update before it (read-only, DBM): the abort names stage 1, or stage 2 with S1PTW.
    // And the AF written for a stage-2 Permission fault on the data page (afUpdateOnPermissionFault): no S1PTW.
    for (const [page, stage, s1ptw, data, access] of [
      [{}, 1, false, {}, AccessType.Read], [{ s2ap: 0b01, dbm: true }, 2, true, {}, AccessType.Read],
      [{}, 2, false, { af: false, s2ap: 0b01 }, AccessType.Write],
    ] as const) {
      const n = nested({ afOnPermFault: true }, { af: 'af' in data }, page, data);   // the stage-1 leaf needs its AF set only in the first two
      const w = new TranslationWalker();
      const b = new Uint8Array(8), dv = new DataView(b.buffer);
      w.start(n.regime, Math.floor(VA / 2 ** 32), VA % 2 ** 32, access, 1);
      while (!w.done) {
        if (w.writeNeeded) { w.abortRead(); continue; }
        n.m.read(w.readPa, b, 0, 8);
        w.supply(dv.getUint32(0, true), dv.getUint32(4, true));
      }
      expect(w.fault).toMatchObject({ type: FaultType.WalkExternalAbort, stage, level: 3, s1ptw });
      if (s1ptw) expect(w.fault.ipa).toBe(n.leafIpa);
    }
  });

  it('a stage-2 AF=0 leaf for a stage-1 table page is set by the walk (HA), or faults with S1PTW (no HA)', () => {
    const on = nested({}, {}, { af: false });
    expect(walk(on.regime, on.m, AccessType.Read).ok).toBe(true);
    expect(desc(on.m, on.tablePageS2).lo & AF).toBe(AF);
    const off = nested({ s2ha: false }, {}, { af: false });
    expect(walk(off.regime, off.m, AccessType.Read).f).toMatchObject({ type: FaultType.AccessFlag, stage: 2, level: 3, s1ptw: true, write: false });
  });
});
