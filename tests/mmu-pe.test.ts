/**
 * The MMU in the PE: translation on every access, walks timed through the caches, TLBs and TLBI
 * with DSB completion (local and broadcast), faults with their syndromes, the stage-2 fault hook,
 * and the attributes the MMU-off and HCR_EL2.DC cases give.
 */
import { describe, expect, it } from 'vitest';
import { ProgramOpSource, prog, type OpResult, type Program, type ProgramOp } from '../src/core/index.js';
import {
  MmuReg, PageTableBuilder, encodeHcr, encodeMair, encodeSctlr, encodeTcr, encodeTtbr, encodeVtcr,
  type Halves, type S1LeafInit, type S2LeafInit,
} from '../src/mmu/index.js';
import { buildSystem } from '../src/platform/test-helpers.js';
import type { System } from '../src/platform/index.js';

const RAM = 0x80_0000_0000;           // neoverse-n1 DRAM base
const TABLES = RAM + 0x100_0000;      // stage-1 tables
const S2TABLES = RAM + 0x200_0000;    // stage-2 tables
const DATA = RAM + 0x1000_0000;       // where pages map to

const msr = (reg: number, v: Halves | number): ProgramOp => prog.sysRegWriteHalves(reg, v);

function vmsa(cores = 2, extra: string[] = []): System {
  return buildSystem('neoverse-n1', [`core.count=${cores}`, 'mmu.translation=vmsa', ...extra]);
}

function s1Builder(sys: System, base = TABLES, physOf?: (a: number) => number): PageTableBuilder {
  return new PageTableBuilder(sys.coherent, {
    stage: 1, granule: '4K', inputBits: 48, allocBase: base, allocLimit: base + 0x10_0000, ...(physOf ? { physOf } : {}),
  });
}

/** Stage 1 on: MAIR Attr0 = WB RWA, Attr1 = Device-nGnRE, Attr2 = NC; TTBR0 = `root` with `asid`. */
function* enableS1(root: number, asid = 1): Generator<ProgramOp, void, OpResult | undefined> {
  yield msr(MmuReg.MAIR_EL1, encodeMair([0xff, 0x04, 0x44]));
  yield msr(MmuReg.TCR_EL1, encodeTcr({ t0sz: 16, epd1: true }));
  yield msr(MmuReg.TTBR0_EL1, encodeTtbr(root, asid));
  yield msr(MmuReg.SCTLR_EL1, encodeSctlr({ m: true, c: true, i: true }));
  yield prog.isb();
}

function run(sys: System, ...programs: ((pe: number) => Program)[]): void {
  programs.forEach((p, i) => sys.attach(i, new ProgramOpSource(p(i), `p${i}`)));
  const out = sys.run({ maxCycles: 50_000_000 });
  expect(out.endReason).toBe('done');
}

/** The stats as a plain object (path -> value). */
const stat = (sys: System): Record<string, number> => Object.fromEntries(sys.stats.snapshot());
const u64 = (v: number): Uint8Array => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v), true); return b; };

describe('stage 1 through the PE', () => {
  it('translates VAs to the mapped PAs; the first access walks, later ones hit the TLB', () => {
    const sys = vmsa(1);
    const t = s1Builder(sys);
    t.map({ va: 0x4000_0000, oa: DATA, size: 0x2000, level: 3, s1: { attrIndx: 0, af: true } });
    const got: number[] = [];
    run(sys, () => (function* () {
      yield* enableS1(t.root);
      yield prog.store(0x4000_0008, 8, 0x1234, { wait: true });
      got.push((yield prog.load(0x4000_0008, 8))!.value);
      got.push((yield prog.load(0x4000_1000, 8))!.value);
    })());
    expect(got).toEqual([0x1234, 0]);
    expect(sys.caches.readCoherent(DATA + 8, 8)).toEqual(u64(0x1234));
    const s = stat(sys);
    expect(s['system.cpu0.mmu.walks']).toBe(2);            // one per page
    expect(s['system.cpu0.mmu.walkReads']).toBe(5);        // 4 levels, then 1: the walk cache holds levels 0-2 for the second page
    expect(s['system.cpu0.mmu.walkCacheHits']).toBe(3);
    expect(s['system.cpu0.dtlb.hits']).toBeGreaterThanOrEqual(1);
  });

  it('a translation fault reaches the program with ESR, FAR and no access', () => {
    const sys = vmsa(1);
    const t = s1Builder(sys);
    t.map({ va: 0x4000_0000, oa: DATA, size: 0x1000, level: 3, s1: { af: true } });
    let r: OpResult | undefined, esr = 0, far = 0;
    run(sys, () => (function* () {
      yield* enableS1(t.root);
      r = yield prog.load(0x4000_5010, 8);
      esr = (yield prog.mrs(MmuReg.ESR_EL1))!.value;
      far = (yield prog.mrs(MmuReg.FAR_EL1))!.value;
    })());
    expect(r!.ok).toBe(false);
    expect(r!.fault).toBe('translation');
    expect(r!.syndrome!.stage).toBe(1);
    expect(r!.syndrome!.level).toBe(3);
    // EC 0x25 (Data Abort, current EL), IL, DFSC 0b000111 (Translation, level 3), WnR 0.
    expect(esr).toBe(((0x25 << 26) | (1 << 25) | 0x07) >>> 0);
    expect(far).toBe(0x4000_5010);
  });

  it('access flag and permission faults at the leaf; a write to a read-only page sets WnR', () => {
    const sys = vmsa(1);
    const t = s1Builder(sys);
    t.map({ va: 0x4000_0000, oa: DATA, size: 0x1000, level: 3, s1: { af: false } });
    t.map({ va: 0x4000_1000, oa: DATA + 0x1000, size: 0x1000, level: 3, s1: { af: true, ap: 0b10 } });   // read-only at EL1
    const res: OpResult[] = [];
    run(sys, () => (function* () {
      yield* enableS1(t.root);
      res.push((yield prog.load(0x4000_0000, 8))!);
      res.push((yield prog.load(0x4000_1000, 8))!);
      res.push((yield prog.store(0x4000_1000, 8, 1, { wait: true }))!);
    })());
    expect(res.map((r) => r.fault)).toEqual(['access-flag', undefined, 'permission']);
    expect(res[2]!.syndrome!.esr & 0x3f).toBe(0x0f);       // Permission, level 3
    expect((res[2]!.syndrome!.esr >>> 6) & 1).toBe(1);     // WnR
  });

  it('MMU off: data accesses are Device-nGnRnE and never allocate in the caches', () => {
    const sys = vmsa(1);
    run(sys, () => (function* () {
      yield prog.store(DATA, 8, 7, { wait: true });
      yield prog.load(DATA + 64, 8);
    })());
    expect(sys.caches.whereIs(DATA)).toEqual([]);
    expect(sys.caches.whereIs(DATA + 64)).toEqual([]);
    expect(sys.caches.readMemory(DATA, 8)).toEqual(u64(7));
  });
});

describe('TLB maintenance', () => {
  const TABLE_VA = 0x5000_0000;       // a Normal WB alias of the stage-1 tables, for the kernel's own writes
  const FLAG_VA = 0x4010_0000;

  function tables(sys: System): PageTableBuilder {
    const t = s1Builder(sys);
    t.map({ va: 0x4000_0000, oa: DATA, size: 0x1000, level: 3, s1: { af: true } });
    t.map({ va: FLAG_VA, oa: DATA + 0x10_0000, size: 0x1000, level: 3, s1: { af: true } });
    t.map({ va: TABLE_VA, oa: TABLES, size: 0x20_0000, level: 2, s1: { af: true } });
    sys.coherent.write(DATA, u64(111), 0, 8);
    sys.coherent.write(DATA + 0x1000, u64(222), 0, 8);
    return t;
  }
  /** Points VA page 0x4000_0000 at `oa`: a store of its level-3 descriptor through the table alias. */
  function remap(t: PageTableBuilder, oa: number): ProgramOp {
    const slot = t.slotAddress(0x4000_0000, 3);
    const d = t.leaf(oa, 3, { s1: { af: true } });
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, d.lo, true);
    new DataView(b.buffer).setUint32(4, d.hi, true);
    return prog.store(TABLE_VA + (slot - TABLES), 8, b, { wait: true });
  }

  it('a stale entry is used until TLBI and DSB complete, and never after', () => {
    const sys = vmsa(1);
    const t = tables(sys);
    const seen: number[] = [];
    run(sys, () => (function* () {
      yield* enableS1(t.root);
      seen.push((yield prog.load(0x4000_0000, 8))!.value);
      yield remap(t, DATA + 0x1000);
      yield prog.dsb();
      seen.push((yield prog.load(0x4000_0000, 8))!.value);      // stale: the TLB still has the old page
      yield prog.tlbi('vae1', 0x4000_0000, 1);
      seen.push((yield prog.load(0x4000_0000, 8))!.value);      // TLBI without its DSB: still stale here
      yield prog.dsb();
      seen.push((yield prog.load(0x4000_0000, 8))!.value);      // after the DSB: the new page
    })());
    expect(seen).toEqual([111, 111, 111, 222]);
  });

  it('TLBI VAE1IS reaches the other PE; TLBI VAE1 does not', () => {
    for (const op of ['vae1is', 'vae1'] as const) {
      const sys = vmsa(2);
      const t = tables(sys);
      let other = -1;
      run(sys,
        () => (function* () {
          yield* enableS1(t.root);
          yield* prog.spinUntil(FLAG_VA, 8, (r) => r.value === 1);                   // PE1 has its entry
          yield remap(t, DATA + 0x1000);
          yield prog.dsb();
          yield prog.tlbi(op, 0x4000_0000, 1);
          yield prog.dsb();
          yield prog.store(FLAG_VA, 8, 2, { wait: true });
        })(),
        () => (function* () {
          yield* enableS1(t.root);
          yield prog.load(0x4000_0000, 8);                                           // fills PE1's TLB
          yield prog.store(FLAG_VA, 8, 1, { wait: true });
          yield* prog.spinUntil(FLAG_VA, 8, (r) => r.value === 2);
          other = (yield prog.load(0x4000_0000, 8))!.value;
        })(),
      );
      expect({ op, other }).toEqual({ op, other: op === 'vae1is' ? 222 : 111 });
    }
  });
});

describe('stage 2 and nested walks', () => {
  const IPA_TABLES = 0x100_0000;       // the guest's stage-1 tables, as IPAs
  const IPA_DATA = 0x4000_0000;

  /** A guest: stage 2 maps IPA [0, 2 GiB) to RAM; stage 1 (tables at IPAs) maps VA 0x1000_0000 -> IPA_DATA. */
  function nested(sys: System, s2: S2LeafInit = {}, s1: S1LeafInit = { af: true }, s2Pages = false) {
    const s2t = new PageTableBuilder(sys.coherent, { stage: 2, granule: '4K', inputBits: 48, startLevel: 0, allocBase: S2TABLES, allocLimit: S2TABLES + 0x10_0000 });
    if (s2Pages) {
      // 4KB pages only: every stage-2 walk reads four levels.
      s2t.map({ va: IPA_TABLES, oa: RAM + IPA_TABLES, size: 0x10_0000, level: 3, s2: { memAttr: 0b1111, ...s2 } });
      s2t.map({ va: IPA_DATA, oa: RAM + IPA_DATA, size: 0x1000, level: 3, s2: { memAttr: 0b1111, ...s2 } });
    } else s2t.map({ va: 0, oa: RAM, size: 0x8000_0000, level: 1, s2: { memAttr: 0b1111, ...s2 } });
    const s1t = s1Builder(sys, IPA_TABLES, (ipa) => RAM + ipa);
    s1t.map({ va: 0x1000_0000, oa: IPA_DATA, size: 0x1000, level: 3, s1 });
    return { s1t, s2t };
  }
  function* enableS2(root: number, hcr = encodeHcr({ vm: true })): Generator<ProgramOp, void, OpResult | undefined> {
    yield msr(MmuReg.VTCR_EL2, encodeVtcr({ t0sz: 16, sl0: 2, tg0: '4K' }));
    yield msr(MmuReg.VTTBR_EL2, encodeTtbr(root, 5));
    yield msr(MmuReg.HCR_EL2, hcr);
  }

  it('a 4x4 nested walk reads 24 descriptors; the same walk costs fewer cycles when the tables are cached', () => {
    const sys = vmsa(1, ['mmu.walkCacheEntries=0']);
    const { s1t, s2t } = nested(sys, {}, { af: true }, true);
    const cycles: number[] = [];
    run(sys, () => (function* () {
      yield* enableS2(s2t.root);
      yield* enableS1(s1t.root);
      for (let i = 0; i < 2; i++) {
        const t0 = (yield prog.mrs(MmuReg.SCTLR_EL1))!.cycle;
        yield prog.load(0x1000_0000, 8);
        cycles.push((yield prog.mrs(MmuReg.SCTLR_EL1))!.cycle - t0);
        yield prog.tlbi('vmalls12e1');
        yield prog.dsb();
      }
    })());
    const s = stat(sys);
    expect(s['system.cpu0.mmu.walks']).toBe(2);
    // Stage 1 at level 0..3 (4 reads) with each table IPA and the output IPA walked at stage 2 (5 x 4).
    expect(s['system.cpu0.mmu.walkReads']).toBe(48);
    expect(cycles[1]!).toBeLessThan(cycles[0]! / 2);
  });

  it('a stage-2 fault traps to the handler with the IPA in HPFAR; it maps the page and the access retries', () => {
    const sys = vmsa(1);
    const { s1t, s2t } = nested(sys);
    // Unmap the data page's 1 GiB block at stage 2 and map 4KB pages below it, all but the data page.
    s2t.setDescriptor(IPA_DATA, 1, { lo: 0, hi: 0 });
    s2t.map({ va: IPA_DATA + 0x1000, oa: RAM + IPA_DATA + 0x1000, size: 0x1000, level: 3 });
    sys.map.store.write(RAM + IPA_DATA, u64(0xabc), 0, 8);
    const seen: { hpfar: number; esr: number; ipa: number }[] = [];
    let resumeLater: (() => void) | undefined;
    const later = sys.q.register('test.hyp', () => resumeLater!());
    sys.pes[0]!.stage2Handler = (_pe, syn, resume) => {
      seen.push({ hpfar: syn.hpfar, esr: syn.esr, ipa: syn.ipa });
      s2t.map({ va: IPA_DATA, oa: RAM + IPA_DATA, size: 0x1000, level: 3 });
      resumeLater = () => resume('retry');
      sys.q.schedule(later, 500);
    };
    let r: OpResult | undefined;
    run(sys, () => (function* () {
      yield* enableS2(s2t.root);
      yield* enableS1(s1t.root);
      r = yield prog.load(0x1000_0000, 8);
    })());
    expect(r!.ok).toBe(true);
    expect(r!.value).toBe(0xabc);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.ipa).toBe(IPA_DATA);
    expect(seen[0]!.hpfar).toBe((IPA_DATA / 4096) * 16);
    // EC 0x24 (Data Abort from a lower EL), IL, ISV with SAS = 0b11 and SF (a 64-bit load), DFSC Translation level 3.
    expect(seen[0]!.esr).toBe(((0x24 << 26) | (1 << 25) | (1 << 24) | (3 << 22) | (1 << 15) | 0x07) >>> 0);
    const s = stat(sys);
    expect(s['system.cpu0.stallFaultCycles']).toBeGreaterThanOrEqual(500);
  });

  it('a stage-2 fault on a stage-1 table read is reported with S1PTW and the table IPA', () => {
    const sys = vmsa(1);
    const { s1t, s2t } = nested(sys);
    s2t.setDescriptor(IPA_TABLES, 1, { lo: 0, hi: 0 });       // the 1 GiB holding the stage-1 tables
    let r: OpResult | undefined;
    run(sys, () => (function* () {
      yield* enableS2(s2t.root);
      yield* enableS1(s1t.root);
      r = yield prog.load(0x1000_0000, 8);
    })());
    expect(r!.fault).toBe('translation');
    expect(r!.syndrome!.stage).toBe(2);
    expect(r!.syndrome!.s1ptw).toBe(true);
    expect(r!.syndrome!.ipa).toBe(s1t.root);                  // the level-0 table's IPA
    expect((r!.syndrome!.esr >>> 7) & 1).toBe(1);
  });

  it('guest MMU off: HCR_EL2.DC=1 makes its accesses Normal WB (cached); DC=0 leaves them Device (uncached)', () => {
    for (const dc of [true, false]) {
      const sys = vmsa(1);
      const { s2t } = nested(sys);
      run(sys, () => (function* () {
        yield* enableS2(s2t.root, encodeHcr({ vm: true, dc }));
        yield prog.isb();
        yield prog.store(IPA_DATA, 8, 5, { wait: true });
      })());
      expect({ dc, cached: sys.caches.whereIs(RAM + IPA_DATA).length > 0 }).toEqual({ dc, cached: dc });
    }
  });
});

describe('tags, alignment, PTW and the EL2 regime', () => {
  it('a Tagged access to memory without tag storage is an external abort; with tag storage it goes through', () => {
    for (const tags of [false, true]) {
      const sys = vmsa(1, [`memory.regions.ram.mteTags=${tags}`, 'mmu.attrs.featMTE2=true']);
      const t = s1Builder(sys);
      t.map({ va: 0x4000_0000, oa: DATA, size: 0x1000, level: 3, s1: { af: true, attrIndx: 3 } });
      let r: OpResult | undefined;
      run(sys, () => (function* () {
        yield msr(MmuReg.MAIR_EL1, encodeMair([0xff, 0x04, 0x44, 0xf0]));     // Attr3: Normal Tagged WB
        yield msr(MmuReg.TCR_EL1, encodeTcr({ t0sz: 16, epd1: true }));
        yield msr(MmuReg.TTBR0_EL1, encodeTtbr(t.root, 1));
        yield msr(MmuReg.SCTLR_EL1, encodeSctlr({}));
        yield prog.isb();
        r = yield prog.load(0x4000_0000, 8);
      })());
      expect({ tags, fault: r!.fault }).toEqual({ tags, fault: tags ? undefined : 'external-abort' });
    }
  });

  it('FEAT_MTE_PERM: a Tagged access through a stage-2 NoTagAccess page is a stage-2 permission fault', () => {
    const sys = vmsa(1, ['mmu.attrs.featMTE2=true', 'mmu.attrs.featMTEPerm=true']);
    const s2t = new PageTableBuilder(sys.coherent, { stage: 2, granule: '4K', inputBits: 48, startLevel: 0, allocBase: S2TABLES, allocLimit: S2TABLES + 0x10_0000 });
    s2t.map({ va: 0, oa: RAM, size: 0x4000_0000, level: 1 });
    s2t.map({ va: 0x4000_0000, oa: RAM + 0x4000_0000, size: 0x1000, level: 3, s2: { memAttr: 0b0100 } });
    const t = s1Builder(sys, 0x100_0000, (ipa) => RAM + ipa);
    t.map({ va: 0x1000_0000, oa: 0x4000_0000, size: 0x1000, level: 3, s1: { af: true, attrIndx: 3 } });
    t.map({ va: 0x1000_1000, oa: 0x4000_0000, size: 0x1000, level: 3, s1: { af: true, attrIndx: 0 } });
    const res: OpResult[] = [];
    run(sys, () => (function* () {
      yield msr(MmuReg.VTCR_EL2, encodeVtcr({ t0sz: 16, sl0: 2, tg0: '4K' }));
      yield msr(MmuReg.VTTBR_EL2, encodeTtbr(s2t.root, 5));
      yield msr(MmuReg.HCR_EL2, encodeHcr({ vm: true }));
      yield msr(MmuReg.MAIR_EL1, encodeMair([0xff, 0x04, 0x44, 0xf0]));
      yield msr(MmuReg.TCR_EL1, encodeTcr({ t0sz: 16, epd1: true }));
      yield msr(MmuReg.TTBR0_EL1, encodeTtbr(t.root, 1));
      yield msr(MmuReg.SCTLR_EL1, encodeSctlr({}));
      yield prog.isb();
      res.push((yield prog.load(0x1000_0000, 8))!);       // Tagged: faults
      res.push((yield prog.load(0x1000_1000, 8))!);       // the same page untagged: fine
    })());
    expect(res[0]!.fault).toBe('permission');
    expect(res[0]!.syndrome!.stage).toBe(2);
    expect(res[1]!.ok).toBe(true);
  });

  it('an unaligned access to Device memory is an Alignment fault (DFSC 0b100001); to Normal memory it is not', () => {
    const sys = vmsa(1);
    const t = s1Builder(sys);
    t.map({ va: 0x4000_0000, oa: DATA, size: 0x1000, level: 3, s1: { af: true, attrIndx: 1 } });   // Device-nGnRE
    t.map({ va: 0x4000_1000, oa: DATA + 0x1000, size: 0x1000, level: 3, s1: { af: true, attrIndx: 0 } });
    const res: OpResult[] = [];
    run(sys, () => (function* () {
      yield* enableS1(t.root);
      res.push((yield prog.load(0x4000_0004, 8))!);
      res.push((yield prog.load(0x4000_1004, 8))!);
      res.push((yield prog.load(0x4000_0008, 8))!);
    })());
    expect(res.map((r) => r.fault)).toEqual(['alignment', undefined, undefined]);
    expect(res[0]!.syndrome!.esr & 0x3f).toBe(0x21);
  });

  it('without FEAT_LSE an LDADD is UNDEFINED: EC 0x00 with IL in ESR_EL1, no translation and no access; LDXR/STXR still work', () => {
    const run1 = (lse: boolean) => {
      const sys = vmsa(1, [`core.featLSE=${lse}`]);
      const t = s1Builder(sys);
      t.map({ va: 0x4000_0000, oa: DATA, size: 0x1000, level: 3, s1: { af: true } });
      const res: OpResult[] = [];
      let esr = -1;
      run(sys, () => (function* () {
        yield* enableS1(t.root);
        res.push((yield prog.atomic('add', 0x4000_0010, 8, 5))!);
        esr = (yield prog.mrs(MmuReg.ESR_EL1))!.value;
        res.push((yield prog.atomic('add', 0x4000_9000, 8, 5))!);   // unmapped: still UNDEFINED, not a translation fault
        const old = (yield prog.ldxr(0x4000_0010, 8))!;
        res.push((yield prog.stxr(0x4000_0010, 8, old.value + 1))!);
      })());
      return { sys, res, esr };
    };
    const without = run1(false);
    expect(without.res.map((r) => r.fault)).toEqual(['undefined-instruction', 'undefined-instruction', undefined]);
    expect(without.res[0]!.syndrome!.esr).toBe(0x0200_0000);
    expect(without.esr).toBe(0x0200_0000);
    expect(without.res[2]!.value).toBe(0);                         // STXR status: success
    expect(without.sys.caches.readCoherent(DATA + 0x10, 8)).toEqual(u64(1));   // only the LDXR/STXR increment landed
    const s = stat(without.sys);
    expect(s['system.cpu0.undefinedInstructions']).toBe(2);
    expect(s['system.cpu0.mmu.walks']).toBe(1);                    // the LDXR's; the UNDEFINED ops translate nothing
    const withLse = run1(true);
    expect(withLse.res.map((r) => r.fault)).toEqual([undefined, 'translation', undefined]);
    expect(withLse.sys.caches.readCoherent(DATA + 0x10, 8)).toEqual(u64(6));
    expect(stat(withLse.sys)['system.cpu0.undefinedInstructions']).toBe(0);
  });

  it('a misaligned atomic or exclusive takes an Alignment fault before translation (ESR DFSC 0b100001, WnR for writers); FEAT_LSE2 lets an atomic inside 16 bytes through', () => {
    const run1 = (extra: string[]) => {
      const sys = vmsa(1, extra);
      const t = s1Builder(sys);
      t.map({ va: 0x4000_0000, oa: DATA, size: 0x1000, level: 3, s1: { af: true } });
      const res: OpResult[] = [];
      const esrs: number[] = [];
      run(sys, () => (function* () {
        yield* enableS1(t.root);
        for (const op of [prog.atomic('add', 0x4000_0014, 8, 1), prog.atomic('add', 0x4000_901c, 8, 1), prog.ldxr(0x4000_0024, 8)]) {
          res.push((yield op)!);
          esrs.push((yield prog.mrs(MmuReg.ESR_EL1))!.value);
        }
      })());
      return { res, esrs, walks: stat(sys)['system.cpu0.mmu.walks'] };
    };
    const align = ((0x25 << 26) | (1 << 25) | 0x21) >>> 0;
    const n1 = run1([]);
    expect(n1.res.map((r) => r.fault)).toEqual(['alignment', 'alignment', 'alignment']);   // the second is unmapped too
    const wnr = (align | (1 << 6)) >>> 0;
    expect(n1.esrs).toEqual([wnr, wnr, align]);
    expect(n1.walks).toBe(0);
    const lse2 = run1(['core.featLSE2=true']);
    expect(lse2.res.map((r) => r.fault)).toEqual([undefined, 'alignment', 'alignment']);   // 0x14 + 8 stays in its 16 bytes; 0x1c + 8 does not
  });

  it('a stage-2 fault on a plain load carries ISV with the access size; HCR_EL2.PTW faults a walk into stage-2 Device', () => {
    const sys = vmsa(1);
    const s2t = new PageTableBuilder(sys.coherent, { stage: 2, granule: '4K', inputBits: 48, startLevel: 0, allocBase: S2TABLES, allocLimit: S2TABLES + 0x10_0000 });
    s2t.map({ va: 0, oa: RAM, size: 0x4000_0000, level: 1, s2: { memAttr: 0b0001 } });            // Device-nGnRE at stage 2
    const t = s1Builder(sys, 0x100_0000, (ipa) => RAM + ipa);
    t.map({ va: 0x1000_0000, oa: 0x8000_0000, size: 0x1000, level: 3, s1: { af: true } });          // an IPA stage 2 does not map
    const res: OpResult[] = [];
    run(sys, () => (function* () {
      yield msr(MmuReg.VTCR_EL2, encodeVtcr({ t0sz: 16, sl0: 2, tg0: '4K' }));
      yield msr(MmuReg.VTTBR_EL2, encodeTtbr(s2t.root, 5));
      yield msr(MmuReg.HCR_EL2, encodeHcr({ vm: true }));
      yield* enableS1(t.root);
      res.push((yield prog.load(0x1000_0000, 4))!);
      yield msr(MmuReg.HCR_EL2, encodeHcr({ vm: true, ptw: true }));
      yield prog.isb();
      yield prog.tlbi('vmalls12e1');
      yield prog.dsb();
      res.push((yield prog.load(0x1000_0000, 4))!);
    })());
    const [a, b] = res;
    expect(a!.fault).toBe('translation');
    expect((a!.syndrome!.esr >>> 24) & 1).toBe(1);             // ISV
    expect((a!.syndrome!.esr >>> 22) & 3).toBe(2);             // SAS: word
    expect(b!.fault).toBe('permission');
    expect(b!.syndrome!.s1ptw).toBe(true);
    expect((b!.syndrome!.esr >>> 24) & 1).toBe(0);             // no ISV on a walk fault
  });

  it('at EL2 the hypervisor translates through its own regime (TTBR0_EL2), not the guest\'s', () => {
    const sys = vmsa(1);
    const guest = s1Builder(sys);
    guest.map({ va: 0x4000_0000, oa: DATA, size: 0x1000, level: 3, s1: { af: true } });
    const hyp = s1Builder(sys, TABLES + 0x20_0000);
    hyp.map({ va: 0x4000_0000, oa: DATA + 0x1000, size: 0x1000, level: 3, s1: { af: true } });
    sys.coherent.write(DATA, u64(1), 0, 8);
    sys.coherent.write(DATA + 0x1000, u64(2), 0, 8);
    const seen: number[] = [];
    run(sys, () => (function* () {
      yield* enableS1(guest.root);
      yield msr(MmuReg.MAIR_EL2, encodeMair([0xff]));
      // TCR_EL2: T0SZ 16, IRGN0/ORGN0 WB, SH0 inner, TG0 4KB, PS 48 bits, RES1 bits 23 and 31.
      yield msr(MmuReg.TCR_EL2, (16 | (1 << 8) | (1 << 10) | (3 << 12) | (5 << 16) | (1 << 23) | 2 ** 31));
      yield msr(MmuReg.TTBR0_EL2, encodeTtbr(hyp.root));
      yield msr(MmuReg.SCTLR_EL2, encodeSctlr({}));
      seen.push((yield prog.load(0x4000_0000, 8))!.value);
      yield prog.exceptionLevel(2);
      const r = (yield prog.load(0x4000_0000, 8))!;
      if (!r.ok) throw new Error(`EL2 load: ${r.fault} ${JSON.stringify(r.syndrome)}`);
      seen.push((yield prog.load(0x4000_0000, 8))!.value);
      yield prog.exceptionLevel(1);
      seen.push((yield prog.load(0x4000_0000, 8))!.value);
    })());
    expect(seen).toEqual([1, 2, 1]);
  });
});

it('a fault found from the registers alone does not leak into the next access', () => {
  const sys = vmsa(1);
  const t = s1Builder(sys);
  t.map({ va: 0x4000_0000, oa: DATA, size: 0x1000, level: 3, s1: { af: true } });
  const res: OpResult[] = [];
  run(sys, () => (function* () {
    yield* enableS1(t.root);
    res.push((yield prog.load(0x1_0000_0000_0000, 8))!);    // VA[48] set with T0SZ=16: Translation fault at level 0, no walk
    res.push((yield prog.load(0x4000_0000, 8))!);
  })());
  expect(res.map((r) => r.fault)).toEqual(['translation', undefined]);
  expect(res[0]!.syndrome!.level).toBe(0);
});

describe('more fault kinds', () => {
  it('a walk whose table lies where no memory is takes a synchronous External abort on the walk (DFSC 0b0101LL)', () => {
    const sys = vmsa(1);
    const t = s1Builder(sys);
    t.map({ va: 0x4000_0000, oa: DATA, size: 0x1000, level: 3, s1: { af: true } });
    // Point the level-2 table descriptor for the VA at a table in a hole of the address map.
    t.setDescriptor(0x4000_0000, 2, { lo: (0x10_0000_0000 % 2 ** 32) | 0b11, hi: Math.floor(0x10_0000_0000 / 2 ** 32) });
    let r: OpResult | undefined;
    run(sys, () => (function* () {
      yield* enableS1(t.root);
      r = yield prog.load(0x4000_0000, 8);
    })());
    expect(r!.fault).toBe('walk-external-abort');
    expect(r!.syndrome!.esr & 0x3f).toBe(0x14 | 3);          // level 3: the read of the (missing) level-3 table
  });

  it('a fault on cache maintenance by VA sets ISS.CM (and WnR)', () => {
    const sys = vmsa(1);
    const t = s1Builder(sys);
    t.map({ va: 0x4000_0000, oa: DATA, size: 0x1000, level: 3, s1: { af: true } });
    let esr = 0;
    run(sys, () => (function* () {
      yield* enableS1(t.root);
      yield prog.dc('civac', 0x4000_2000);                    // unmapped: a Translation fault
      yield prog.dsb();
      esr = (yield prog.mrs(MmuReg.ESR_EL1))!.value;
    })());
    expect(esr & 0x3f).toBe(0x07);
    expect((esr >>> 8) & 1).toBe(1);                         // CM
    expect((esr >>> 6) & 1).toBe(1);                         // WnR, as the Arm ARM has it for maintenance
  });
});

describe('FEAT_HAFDBS through the PE (neoverse-n1: ID_AA64MMFR1_EL1.HAFDBS = 2)', () => {
  const VA = 0x4000_0000;
  /** Stage 1 on with TCR_EL1.HA/HD; a load, then a store, to a page mapped AF=0, EL1 read-only, DBM. */
  function hafdbsRun(extra: string[]): { sys: System; leaf: number; results: OpResult[] } {
    const sys = vmsa(1, extra);
    const t = s1Builder(sys);
    t.map({ va: VA, oa: DATA, size: 0x1000, level: 3, s1: { attrIndx: 0, af: false, ap: 0b10, dbm: true } });
    const results: OpResult[] = [];
    run(sys, () => (function* () {
      yield msr(MmuReg.MAIR_EL1, encodeMair([0xff]));
      yield msr(MmuReg.TCR_EL1, encodeTcr({ t0sz: 16, epd1: true, ha: true, hd: true }));
      yield msr(MmuReg.TTBR0_EL1, encodeTtbr(t.root, 1));
      yield msr(MmuReg.SCTLR_EL1, encodeSctlr({ m: true, c: true, i: true }));
      yield prog.isb();
      results.push((yield prog.load(VA + 8, 8))!);
      results.push((yield prog.store(VA + 16, 8, 0x77, { wait: true }))!);
    })());
    return { sys, leaf: t.slotAddress(VA, 3), results };
  }
  const lo = (sys: System, pa: number): number => new DataView(sys.caches.readCoherent(pa, 8).buffer).getUint32(0, true);

  it('the walk sets AF for the load and clears AP[2] for the store, each an atomic update through the caches', () => {
    const { sys, leaf, results } = hafdbsRun([]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(lo(sys, leaf) & (1 << 10)).toBe(1 << 10);       // AF
    expect(lo(sys, leaf) & (1 << 7)).toBe(0);              // AP[2] clear: dirty
    const s = stat(sys);
    expect(s['system.cpu0.mmu.walks']).toBe(2);            // the load's, and the store's (its TLB entry was read-only)
    expect(s['system.cpu0.mmu.walkUpdates']).toBe(2);
    expect(s['system.cpu0.mmu.walkRestarts']).toBe(0);
    expect(sys.caches.readCoherent(DATA + 16, 8)).toEqual(u64(0x77));
  });

  it('without the feature (mmu.features.hafdbs=0) the load takes an Access flag fault and the table is untouched', () => {
    const { sys, leaf, results } = hafdbsRun(['mmu.features.hafdbs=0']);
    expect(results[0]!.fault).toBe('access-flag');
    expect(lo(sys, leaf) & (1 << 10)).toBe(0);
    expect(stat(sys)['system.cpu0.mmu.walkUpdates']).toBe(0);
  });

  it('HAFDBS = 1 (Access flag only): AF is set, the store is a Permission fault', () => {
    const { sys, leaf, results } = hafdbsRun(['mmu.features.hafdbs=1']);
    expect(results[0]!.ok).toBe(true);
    expect(results[1]!.fault).toBe('permission');
    expect(lo(sys, leaf) & (1 << 10)).toBe(1 << 10);
    expect(lo(sys, leaf) & (1 << 7)).toBe(1 << 7);
  });
});
