/**
 * Property: the PE's MMU (TLBs, walk cache, walks timed through the caches) translates exactly as
 * the slow, plainly written reference (`translateReference`) does, on seeded random page tables
 * that software keeps changing — provided every change is followed by the TLBI its scope needs and
 * a DSB, as the architecture requires. Stage 1 alone and nested stage 1 + stage 2. With FEAT_HAFDBS
 * (TCR_EL1/VTCR_EL2.HA/HD drawn at random, DBM in leaves) the descriptors the PE's walks update
 * through the caches must also equal those the reference updates in its own copy after every access.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProgramOpSource, prog, type OpResult, type Program } from '../src/core/index.js';
import {
  AccessType, DEFAULT_ATTR_OPTIONS, FAULT_TYPE_NAMES, MmuReg, PageTableBuilder, encodeHcr, encodeMair, encodeSctlr, encodeTcr, encodeTtbr,
  encodeVtcr, regimeRegisters, resolveMmuFeatures, translateReference, type RegimeRegisters,
} from '../src/mmu/index.js';
import { Rng } from '../src/sim/index.js';
import { buildSystem } from '../src/platform/test-helpers.js';

const RAM = 0x80_0000_0000;
const S1_TABLES = 0x100_0000;          // IPA (nested) or offset from RAM (stage 1 only)
const S2_TABLES = RAM + 0x200_0000;
const DATA = 0x1000_0000;               // IPA/PA offset of the data pages
const PAGES = 48;
const VA_BASE = 0x4000_0000;
const ASID = 7, VMID = 3;

interface Outcome { ok: boolean; fault: string; level: number; stage: number; value: number }

function scenario(seed: number, nested: boolean): void {
  const rng = new Rng(seed);
  const sys = buildSystem('neoverse-n1', ['core.count=1', 'mmu.translation=vmsa', `mmu.walkCacheEntries=${rng.nextInt(2) * 16}`], seed);
  const ipaToPa = (ipa: number): number => RAM + ipa;
  const s2 = nested ? new PageTableBuilder(sys.coherent, { stage: 2, granule: '4K', inputBits: 40, startLevel: 1, allocBase: S2_TABLES, allocLimit: S2_TABLES + 0x10_0000 }) : undefined;
  if (s2) {
    // Stage 2: the stage-1 tables' IPAs (read-only and writable-clean at times: a stage-1 AF or
    // dirty update then needs stage 2's dirty state, or faults), and the data pages (2 MiB blocks
    // with random permissions, some writable-clean).
    s2.map({ va: S1_TABLES, oa: ipaToPa(S1_TABLES), size: 0x20_0000, level: 2, s2: rng.nextInt(3) === 0 ? { s2ap: 1, dbm: rng.nextInt(2) === 0 } : {} });
    for (let b = 0; b < 2; b++) s2.map({ va: DATA + b * 0x20_0000, oa: ipaToPa(DATA + b * 0x20_0000), size: 0x20_0000, level: 2, s2: { s2ap: 1 + rng.nextInt(3), dbm: rng.nextInt(2) === 0 } });
  }
  const outBase = nested ? 0 : RAM;                                    // stage-1 output: IPA (nested) or PA
  const s1 = new PageTableBuilder(sys.coherent, { stage: 1, granule: '4K', inputBits: 48, allocBase: outBase + S1_TABLES, allocLimit: outBase + S1_TABLES + 0x10_0000, ...(nested ? { physOf: ipaToPa } : {}) });
  const leaf = () => ({ af: rng.nextInt(8) !== 0, ap: rng.nextInt(4), nG: rng.nextInt(2) === 1, attrIndx: 0, dbm: rng.nextInt(3) === 0 });
  const pageVa = (i: number): number => VA_BASE + i * 0x1000;
  const mapPage = (i: number, target: number): void => s1.map({ va: pageVa(i), oa: outBase + DATA + target * 0x1000, size: 0x1000, level: 3, s1: leaf() });
  for (let i = 0; i < PAGES; i++) if (rng.nextInt(6) !== 0) mapPage(i, rng.nextInt(2 * 512));
  // Every data page starts with its own number.
  for (let p = 0; p < 2 * 512; p++) { const b = new Uint8Array(8); new DataView(b.buffer).setUint32(0, p + 1, true); sys.coherent.write(ipaToPa(DATA + p * 0x1000), b, 0, 8); }

  const hw = (): { ha: boolean; hd: boolean } => ({ ha: rng.nextInt(3) !== 0, hd: rng.nextInt(2) === 0 });
  const tcr = encodeTcr({ t0sz: 16, epd1: true, ...hw() }), mair = encodeMair([0xff]), ttbr0 = encodeTtbr(s1.root, ASID);
  const hcr = encodeHcr({ vm: nested }), vtcr = encodeVtcr({ t0sz: 24, sl0: 1, tg0: '4K', ...hw() }), vttbr = encodeTtbr(s2?.root ?? 0, VMID);
  const regs: RegimeRegisters = regimeRegisters({
    tcrLo: tcr.lo, tcrHi: tcr.hi, ttbr0Lo: ttbr0.lo, ttbr0Hi: ttbr0.hi, mairLo: mair.lo, mairHi: mair.hi,
    sctlr: encodeSctlr({ m: true }), hcrLo: hcr.lo, hcrHi: hcr.hi, vtcrLo: vtcr.lo, vtcrHi: vtcr.hi, vttbrLo: vttbr.lo, vttbrHi: vttbr.hi,
    el2Enabled: true,
  });
  const features = resolveMmuFeatures(sys.cfg.mmu.features);
  type Half = { lo: number; hi: number };
  const readMemory = (pa: number): Half => {
    const b = new Uint8Array(8); sys.coherent.read(pa, b, 0, 8);
    const dv = new DataView(b.buffer);
    return { lo: dv.getUint32(0, true), hi: dv.getUint32(4, true) };
  };
  // The reference's own copy of the descriptors it updated (FEAT_HAFDBS); the rest it reads from memory.
  const refCopy = new Map<number, Half>();
  const readDesc = (pa: number): Half => refCopy.get(pa) ?? readMemory(pa);
  const swap = (pa: number, old: Half, now: Half): Half => {
    const cur = readDesc(pa);
    if (cur.lo === old.lo && cur.hi === old.hi) refCopy.set(pa, now);
    return cur;
  };
  /** Where page i's stage-1 leaf is in memory. */
  const leafPa = (i: number): number => { const a = s1.slotAddress(pageVa(i), 3); return nested ? ipaToPa(a) : a; };
  const reference = (va: number, write: boolean): { fault: string; level: number; stage: number; pa: number } => {
    const r = translateReference(regs, features, DEFAULT_ATTR_OPTIONS, { hi: 0, lo: va }, write ? AccessType.Write : AccessType.Read, 1, readDesc, swap);
    if (r.fault) return { fault: FAULT_TYPE_NAMES[r.fault.type]!, level: r.fault.level, stage: r.fault.stage, pa: -1 };
    return { fault: '', level: -1, stage: 0, pa: r.pa };
  };
  const faultName = (f: string | undefined): string => ({ translation: 'Translation', 'access-flag': 'AccessFlag', permission: 'Permission', 'address-size': 'AddressSize' } as Record<string, string>)[f ?? ''] ?? String(f);

  const mismatches: string[] = [];
  let stored = 1_000_000;
  function* program(): Program {
    yield prog.sysRegWriteHalves(MmuReg.VTCR_EL2, vtcr);
    yield prog.sysRegWriteHalves(MmuReg.VTTBR_EL2, vttbr);
    yield prog.sysRegWriteHalves(MmuReg.HCR_EL2, hcr);
    yield prog.sysRegWriteHalves(MmuReg.MAIR_EL1, mair);
    yield prog.sysRegWriteHalves(MmuReg.TCR_EL1, tcr);
    yield prog.sysRegWriteHalves(MmuReg.TTBR0_EL1, ttbr0);
    yield prog.sysRegWrite(MmuReg.SCTLR_EL1, encodeSctlr({ m: true }));
    yield prog.isb();
    for (let step = 0; step < 120; step++) {
      const i = rng.nextInt(PAGES), va = pageVa(i) + 8 * rng.nextInt(4);
      const k = rng.nextInt(10);
      if (k === 0) {
        // Software changes the mapping (a coherent write, as if made through a cacheable alias), then
        // invalidates that VA (VAE1, or everything) and waits for it with a DSB.
        if (rng.nextInt(5) === 0) s1.setDescriptor(pageVa(i), 3, { lo: 0, hi: 0 }); else mapPage(i, rng.nextInt(2 * 512));
        refCopy.delete(leafPa(i));                               // software's write replaces any update
        yield rng.nextInt(3) === 0 ? prog.tlbi('vmalle1') : prog.tlbi('vae1', pageVa(i), ASID);
        yield prog.dsb();
        continue;
      }
      const write = k <= 3;
      const ref = reference(va, write);
      let r: OpResult;
      if (write) r = (yield prog.store(va, 8, ++stored, { wait: true }))!;
      else r = (yield prog.load(va, 8))!;
      const got: Outcome = { ok: r.ok, fault: r.ok ? '' : faultName(r.fault), level: r.syndrome?.level ?? -1, stage: r.syndrome?.stage ?? 0, value: r.value };
      const want = { ok: ref.fault === '', fault: ref.fault, level: ref.level, stage: ref.stage };
      if (got.ok !== want.ok || got.fault !== want.fault || got.level !== want.level || got.stage !== want.stage) {
        mismatches.push(`step ${step} ${write ? 'store' : 'load'} 0x${va.toString(16)}: got ${JSON.stringify(got)}, reference ${JSON.stringify(want)}`);
        continue;
      }
      // Every descriptor the reference updated holds the same in memory, where the PE's walks updated it.
      for (const [pa, v] of refCopy) {
        const m = readMemory(pa);
        if (m.lo !== v.lo || m.hi !== v.hi) mismatches.push(`step ${step}: descriptor at 0x${pa.toString(16)} is ${JSON.stringify(m)} in memory, the reference made it ${JSON.stringify(v)}`);
      }
      if (!got.ok) continue;
      const b = new Uint8Array(8); sys.coherent.read(ref.pa, b, 0, 8);
      const there = Number(new DataView(b.buffer).getBigUint64(0, true));
      if (write ? there !== stored : there !== r.value) mismatches.push(`step ${step}: 0x${va.toString(16)} reached the wrong PA (reference 0x${ref.pa.toString(16)} holds ${there})`);
    }
  }
  sys.attach(0, new ProgramOpSource(program(), 'random'));
  const out = sys.run({ maxCycles: 100_000_000 });
  expect(out.endReason).toBe('done');
  expect(mismatches).toEqual([]);
}

describe('PE MMU against the reference translate()', () => {
  it('stage 1 alone: random tables, changes with TLBI + DSB', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 0x7fffffff }), (seed) => { scenario(seed, false); }), { numRuns: 12 });
  });
  it('nested stage 1 + stage 2: random tables, changes with TLBI + DSB', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 0x7fffffff }), (seed) => { scenario(seed, true); }), { numRuns: 12 });
  });
});
