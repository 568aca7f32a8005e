/**
 * Differential test (STYLE.md §8): the step-machine walker against `translateReference` on
 * seeded random page tables at stage 1, stage 2 and nested, for random addresses and accesses.
 * Every outcome must agree: the descriptor reads (address, stage, level, attributes) in order,
 * and the result or the fault record.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../sim/index.js';
import { SparseMemory } from '../mem/index.js';
import { resolveAttrOptions, type AttrOptions } from './attrs.js';
import { blockSupported, encodeS2Leaf, encodeTable, type Desc, type GranuleName, type S1LeafInit, type S2LeafInit } from './descriptors.js';
import { AccessType, FAULT_TYPE_NAMES } from './faults.js';
import { PageTableBuilder } from './page-tables.js';
import {
  decodeRegime, encodeHcr, encodeMair, encodeSctlr, encodeTcr, encodeTtbr, encodeVtcr, regimeRegisters, resolveMmuFeatures,
  type MmuFeatures, type RegimeRegisters,
} from './regime.js';
import { translateReference, type RefOutcome } from './walk-reference.js';
import { TranslationWalker } from './walk.js';

type Mode = 's1' | 's2' | 'nested';

const GRANULES: readonly GranuleName[] = ['4K', '16K', '64K'];
const GB: Record<GranuleName, number> = { '4K': 12, '16K': 14, '64K': 16 };
const S1_POOL = [0x40_0000, 0x60_0000] as const; // IPA (or PA) of each half's 2 MiB table pool
const POOL_BYTES = 0x20_0000;
const NESTED_OFFSET = 0x400_0000; // PA = IPA + this for the stage-1 table pools
const MAIR_CHOICES = [0x00, 0x04, 0x08, 0x0c, 0x01, 0x44, 0x40, 0xff, 0xbb, 0xaa, 0xa0, 0xf0, 0x4f, 0xf4, 0x02, 0x30];

interface Query { va: [number, number]; access: AccessType; el: 0 | 1 }
interface Scenario {
  mode: Mode;
  regs: RegimeRegisters;
  features: MmuFeatures;
  attrOpts: AttrOptions;
  mem: SparseMemory;
  queries: Query[];
}

class Gen {
  constructor(readonly rng: Rng) {}
  int(n: number): number { return this.rng.nextInt(n); }
  chance(p: number): boolean { return this.rng.nextFloat() < p; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]!; }
  u32(): number { return this.rng.nextU32(); }
  /** Uniform integer below 2^bits (bits <= 52). */
  below(bits: number): number {
    const hi = bits > 32 ? this.int(2 ** (bits - 32)) : 0;
    return hi * 2 ** 32 + (bits >= 32 ? this.u32() : this.int(2 ** bits));
  }
  aligned(bits: number, alignBytes: number): number {
    return Math.floor(this.below(bits) / alignBytes) * alignBytes;
  }
}

function s1Leaf(g: Gen): S1LeafInit {
  return {
    attrIndx: g.int(8), ap: g.int(4), sh: g.int(4), af: g.chance(0.8), nG: g.chance(0.5), ns: g.chance(0.1),
    pxn: g.chance(0.2), uxn: g.chance(0.2), contiguous: g.chance(0.1), dbm: g.chance(0.3),
  };
}
function s2Leaf(g: Gen): S2LeafInit {
  return {
    memAttr: g.chance(0.6) ? 0b1111 : g.int(16), s2ap: g.chance(0.7) ? 3 : g.int(4), sh: g.int(4), af: g.chance(0.8),
    xn: g.chance(0.6) ? 0 : g.int(4), fnxs: g.chance(0.1), contiguous: g.chance(0.1), dbm: g.chance(0.3),
  };
}

/** Leaf levels a builder may use: blocks where allowed (not above the start level), and pages. */
function leafLevels(b: PageTableBuilder, pa52: boolean): number[] {
  const out = [3];
  for (let l = Math.max(1, b.startLevel); l < 3; l++) if (blockSupported(b.granuleBits, l, pa52)) out.push(l);
  return out;
}

function randomMappings(
  g: Gen, b: PageTableBuilder, count: number, oaBits: number, pa52: boolean, leaf: () => { s1?: S1LeafInit; s2?: S2LeafInit },
): { va: number; size: number; oa: number }[] {
  const done: { va: number; size: number; oa: number }[] = [];
  for (let i = 0; i < count; i++) {
    const level = g.pick(leafLevels(b, pa52));
    const bytes = b.blockBytes(level);
    if (bytes > 2 ** b.inputBits / 2) continue;
    const size = bytes * (1 + g.int(level === 3 ? 4 : 2));
    const va = g.aligned(b.inputBits, bytes);
    if (va + size > 2 ** b.inputBits) continue;
    const bits = g.chance(0.93) ? oaBits : Math.min(b.granuleBits === 16 ? 52 : 48, oaBits + 1 + g.int(4));
    if (2 ** bits < size) continue;
    const oa = g.aligned(bits, bytes);
    const table = g.chance(0.3) ? { apTable: g.int(4), uxnTable: g.chance(0.3), pxnTable: g.chance(0.3) } : undefined;
    try {
      b.map({ va, oa, size, level, ...leaf(), ...(table ? { table } : {}) });
      done.push({ va, size, oa });
    } catch (e) {
      if (!(e instanceof RangeError)) throw e; // overlap with an earlier block, or pool exhausted
    }
  }
  return done;
}

/** A random descriptor at a random level somewhere in `b`'s tables. */
function junk(g: Gen, b: PageTableBuilder, va: number, outBits: number): void {
  const level = b.startLevel + g.int(4 - b.startLevel);
  const kind = g.int(4);
  try {
    let d: Desc;
    switch (kind) {
      case 0: d = { lo: 0, hi: 0 }; break;
      case 1: d = { lo: g.u32(), hi: g.u32() & 0x007f_ffff }; break;
      case 2: d = encodeTable(g.aligned(Math.min(b.granuleBits === 16 ? 52 : 48, outBits + g.int(3)), 2 ** b.granuleBits), b.granuleBits as 12 | 14 | 16); break;
      default: {
        const cur = b.readDesc(b.slotAddress(va, level));
        d = { lo: (cur.lo ^ (1 << g.int(12))) >>> 0, hi: cur.hi };
      }
    }
    b.setDescriptor(va, level, d);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e; // a block above `level` is in the way
  }
}

/** Stage-2 geometry: a start level, then an IPA size inside the S2InconsistentSL window. */
function pickStage2(g: Gen, f: MmuFeatures): { granule: GranuleName; startLevel: number; sl0: number; ia: number } {
  for (;;) {
    const granule = g.pick(GRANULES);
    const gb = GB[granule], stride = gb - 3;
    const levels = gb === 12 ? [0, 1, 2, ...(f.featTTST ? [3] : [])] : [1, 2, 3];
    const startLevel = g.pick(levels);
    const sl0 = gb === 12 ? ({ 2: 0, 1: 1, 0: 2, 3: 3 } as Record<number, number>)[startLevel]! : 3 - startLevel;
    const min = (3 - startLevel) * stride + gb + 1;
    const maxIa = gb === 16 ? f.paBits : Math.min(48, f.paBits);
    const lo = Math.max(min, 64 - (f.featTTST ? (gb === 16 ? 47 : 48) : 39));
    const hi = Math.min(min + stride + 3, maxIa);
    if (lo > hi) continue;
    if (sl0 === 2 && f.paBits < (gb === 14 ? 42 : 44)) continue;
    return { granule, startLevel, sl0, ia: lo + g.int(hi - lo + 1) };
  }
}

function buildScenario(seed: number, mode: Mode): Scenario {
  const g = new Gen(new Rng(seed));
  const paBits = g.pick([40, 44, 48, 48, 52] as const);
  const features = resolveMmuFeatures({
    paBits, featLPA: paBits === 52, featLVA: paBits === 52 && g.chance(0.5), featTTST: g.chance(0.3), featXNX: g.chance(0.7),
    featHPDS: g.chance(0.7), txszBelowMin: g.pick(['fault', 'clamp']), txszAboveMax: g.pick(['fault', 'clamp']),
    contiguousBitFault: g.chance(0.5), featVMID16: g.chance(0.5), asid16: g.chance(0.5),
    hafdbs: g.pick([0, 1, 2, 2] as const), afUpdateOnPermissionFault: g.chance(0.5),
  });
  const attrOpts = resolveAttrOptions({ instrFetchFromDevice: g.pick(['nc', 'fault']) });
  // TCR_EL1.HA/HD and VTCR_EL2.HA/HD mostly on together (a nested walk then updates at both stages).
  const hwUpdates = g.chance(0.6);
  const haHd = (): { ha: boolean; hd: boolean } => ({ ha: hwUpdates ? g.chance(0.9) : g.chance(0.2), hd: g.chance(0.6) });
  const mem = new SparseMemory({ base: 0, size: 2 ** 52, chunkBytes: 64 * 1024 });
  const pa52 = paBits === 52;
  const regs = regimeRegisters({ el2Enabled: mode !== 's1' || g.chance(0.5) });

  // ------------------------------------------------------------------ stage 2
  const s2on = mode !== 's1';
  let s2: PageTableBuilder | null = null;
  let s2ia = 48;
  let s2ps = 48;
  if (s2on) {
    const geo = pickStage2(g, features);
    s2ia = geo.ia;
    s2ps = g.pick([40, 44, 48, 48, 52].filter((b) => b <= Math.max(40, paBits)));
    s2 = new PageTableBuilder(mem, { stage: 2, granule: geo.granule, inputBits: geo.ia, startLevel: geo.startLevel, allocBase: 0x100_0000, allocLimit: 0x300_0000, pa52 });
    let sl0 = geo.sl0, t0sz = 64 - geo.ia;
    if (g.chance(0.08)) sl0 = g.int(4); // maybe invalid or inconsistent
    if (g.chance(0.05)) t0sz = 16 + g.int(30);
    const v = encodeVtcr({ t0sz, sl0, tg0: geo.granule, irgn0: g.int(4), orgn0: g.int(4), sh0: g.int(4), psBits: s2ps, vs16: g.chance(0.5), ...haHd() });
    const vt = encodeTtbr(s2.root, g.int(0x10000));
    Object.assign(regs, { vtcrLo: v.lo, vtcrHi: v.hi, vttbrLo: vt.lo, vttbrHi: vt.hi });
  }
  const hcr = encodeHcr({
    vm: s2on, dc: mode === 's2' && g.chance(0.3), ptw: g.chance(0.5), cd: g.chance(0.2), id: g.chance(0.2), fwb: g.chance(0.3), dct: g.chance(0.2),
  });
  regs.hcrLo = hcr.lo; regs.hcrHi = hcr.hi;

  // ------------------------------------------------------------------ stage 1
  const s1on = mode !== 's2';
  regs.sctlr = encodeSctlr({ m: s1on || g.chance(0.2), c: g.chance(0.8), i: g.chance(0.8), wxn: g.chance(0.2) });
  const mair = encodeMair(Array.from({ length: 8 }, () => (g.chance(0.85) ? g.pick(MAIR_CHOICES) : g.int(256))));
  regs.mairLo = mair.lo; regs.mairHi = mair.hi;
  const halves: (PageTableBuilder | null)[] = [null, null];
  const tcr = {
    tg0: g.pick(GRANULES), tg1: g.pick(GRANULES), t0sz: 0, t1sz: 0,
    irgn0: g.int(4), orgn0: g.int(4), sh0: g.int(4), irgn1: g.int(4), orgn1: g.int(4), sh1: g.int(4),
    ipsBits: g.pick([36, 40, 44, 48, 52]), epd0: g.chance(0.04), epd1: g.chance(0.04), a1: g.chance(0.5), as16: g.chance(0.5),
    tbi0: g.chance(0.5), tbi1: g.chance(0.5), tbid0: g.chance(0.3), tbid1: g.chance(0.3), hpd0: g.chance(0.2), hpd1: g.chance(0.2),
    ...haHd(),
  };
  const s1mapped: { half: number; va: number; size: number; oa: number }[] = [];
  const ipsEff = Math.min(tcr.ipsBits, paBits);
  for (const n of [0, 1] as const) {
    const granule = n === 0 ? tcr.tg0 : tcr.tg1;
    const gb = GB[granule];
    const maxIa = gb === 16 && features.featLVA ? 52 : 48;
    const minIa = features.featTTST ? 64 - (gb === 16 ? 47 : 48) : 25;
    const ia = g.chance(0.5) ? minIa + g.int(maxIa - minIa + 1) : g.pick([39, 42, 47, 48].filter((x) => x <= maxIa && x >= minIa));
    const b = new PageTableBuilder(mem, {
      stage: 1, granule, inputBits: ia, allocBase: S1_POOL[n], allocLimit: S1_POOL[n] + POOL_BYTES, pa52,
      ...(mode === 'nested' ? { physOf: (ipa: number) => ipa + NESTED_OFFSET } : {}),
    });
    halves[n] = b;
    let txsz = 64 - ia;
    if (g.chance(0.05)) txsz = 10 + g.int(40);
    if (n === 0) tcr.t0sz = txsz; else tcr.t1sz = txsz;
    const oaBits = Math.min(mode === 'nested' ? s2ia : 52, gb === 16 ? ipsEff : Math.min(48, ipsEff));
    for (const m of randomMappings(g, b, 1 + g.int(7), oaBits, pa52, () => ({ s1: s1Leaf(g) }))) s1mapped.push({ half: n, ...m });
    const t = encodeTtbr(b.root, g.int(0x10000));
    if (n === 0) { regs.ttbr0Lo = t.lo; regs.ttbr0Hi = t.hi; } else { regs.ttbr1Lo = t.lo; regs.ttbr1Hi = t.hi; }
  }
  const t = encodeTcr(tcr);
  regs.tcrLo = t.lo; regs.tcrHi = t.hi;

  // ------------------------------------------------------------------ stage-2 contents
  const s2mapped: { va: number; size: number; oa: number }[] = [];
  if (s2 !== null) {
    const gsize = 2 ** s2.granuleBits;
    const s2oaBits = Math.min(s2ps, paBits, s2.granuleBits === 16 ? 52 : 48);
    if (mode === 'nested') {
      // The used part of each stage-1 table pool, page by page, at PA = IPA + NESTED_OFFSET (if
      // inside the IPA space), then a few pages made invalid, AF=0, unreadable, Device, ...
      const pages: number[] = [];
      for (const n of [0, 1]) {
        const top = Math.ceil(halves[n]!.allocTop / gsize) * gsize;
        if (top > 2 ** s2ia) continue;
        s2.map({ va: S1_POOL[n], oa: S1_POOL[n] + NESTED_OFFSET, size: top - S1_POOL[n], level: 3, s2: g.chance(0.8) ? {} : s2Leaf(g) });
        for (let p = S1_POOL[n]; p < top; p += gsize) pages.push(p);
      }
      for (let i = g.int(4); i > 0 && pages.length > 0; i--) {
        const ipa = g.pick(pages);
        s2.setDescriptor(ipa, 3, encodeS2Leaf(ipa + NESTED_OFFSET, 3, s2.granuleBits as 12 | 14 | 16, s2Leaf(g)));
      }
      // The final IPAs of most stage-1 mappings.
      for (const m of s1mapped) {
        if (!g.chance(0.8)) continue;
        const va = Math.floor(m.oa / gsize) * gsize;
        const size = Math.ceil((m.oa + m.size) / gsize) * gsize - va;
        if (va + size > 2 ** s2ia) continue;
        const oa = (va + g.int(8) * 2 ** 30) % 2 ** s2oaBits;
        if (oa % gsize !== 0 || oa + size > 2 ** s2oaBits) continue;
        try {
          s2.map({ va, oa, size, s2: s2Leaf(g), ...(size <= 64 * gsize && g.chance(0.5) ? { level: 3 } : {}) });
          s2mapped.push({ va, size, oa });
        } catch (e) {
          if (!(e instanceof RangeError)) throw e;
        }
      }
    } else {
      for (const m of randomMappings(g, s2, 1 + g.int(7), s2oaBits, pa52, () => ({ s2: s2Leaf(g) }))) s2mapped.push(m);
    }
  }

  // ------------------------------------------------------------------ junk, last
  for (let i = g.int(4); i > 0; i--) {
    const useS2 = s2 !== null && (mode === 's2' || g.chance(0.3));
    if (useS2) {
      const m = s2mapped.length > 0 && g.chance(0.7) ? g.pick(s2mapped) : null;
      junk(g, s2!, m ? m.va : g.below(s2ia), s2ps);
    } else if (s1on) {
      const m = s1mapped.length > 0 && g.chance(0.7) ? g.pick(s1mapped) : null;
      const b = halves[m ? m.half : g.int(2)]!;
      junk(g, b, m ? m.va : g.below(b.inputBits), ipsEff);
    }
  }

  // ------------------------------------------------------------------ queries
  const queries: Query[] = [];
  const toVa = (half: number, inputBits: number, offset: number): [number, number] => {
    let hi = Math.floor(offset / 2 ** 32), lo = offset % 2 ** 32;
    if (half === 1) {
      hi = (hi + (inputBits >= 32 ? 0xffffffff - (2 ** (inputBits - 32) - 1) : 0xffffffff)) >>> 0;
      if (inputBits < 32) lo = (lo + 0xffffffff - (2 ** inputBits - 1)) >>> 0;
    }
    if (g.chance(0.15)) hi = ((hi & 0x00ffffff) | (g.int(256) << 24)) >>> 0; // a tag in VA[63:56]
    return [hi >>> 0, lo >>> 0];
  };
  for (let i = 0; i < 40; i++) {
    let va: [number, number];
    const r = g.rng.nextFloat();
    if (r < 0.65 && mode !== 's2' && s1mapped.length > 0) {
      const m = g.pick(s1mapped);
      va = toVa(m.half, halves[m.half]!.inputBits, m.va + g.int(m.size / 8) * 8);
    } else if (r < 0.65 && mode === 's2' && s2mapped.length > 0) {
      const m = g.pick(s2mapped);
      va = toVa(0, 52, m.va + g.int(m.size / 8) * 8);
    } else if (r < 0.9) {
      const half = g.int(2);
      const bits = mode === 's2' ? s2ia : halves[half]!.inputBits;
      va = toVa(mode === 's2' ? 0 : half, bits, g.below(bits));
    } else {
      va = [g.u32(), g.u32()];
    }
    queries.push({ va, access: g.pick([AccessType.Read, AccessType.Write, AccessType.Fetch, AccessType.ReadWrite]), el: g.pick([0, 1] as const) });
  }
  return { mode, regs, features, attrOpts, mem, queries };
}

// ---------------------------------------------------------------------------------------------

const coverage = new Map<string, number>();
const count = (k: string): void => { coverage.set(k, (coverage.get(k) ?? 0) + 1); };

function compareScenario(sc: Scenario): void {
  const regime = decodeRegime(sc.regs, sc.features, sc.attrOpts);
  const w = new TranslationWalker();
  const buf = new Uint8Array(8), dv = new DataView(buf.buffer);
  type Half = { lo: number; hi: number };
  // Each side's descriptor updates (FEAT_HAFDBS) go to its own overlay on the shared memory; after
  // each query both overlays must be equal, and then they become the memory the next query reads.
  const readVia = (overlay: Map<number, Half>) => (pa: number): Half => {
    const o = overlay.get(pa);
    if (o !== undefined) return o;
    sc.mem.read(pa, buf, 0, 8);
    return { lo: dv.getUint32(0, true), hi: dv.getUint32(4, true) };
  };
  for (const q of sc.queries) {
    const refMem = new Map<number, Half>(), walkMem = new Map<number, Half>();
    const refRead = readVia(refMem), walkRead = readVia(walkMem);
    const swap = (pa: number, old: Half, now: Half): Half => {
      const cur = refRead(pa);
      if (cur.lo === old.lo && cur.hi === old.hi) refMem.set(pa, now);
      return cur;
    };
    const ref: RefOutcome = translateReference(sc.regs, sc.features, sc.attrOpts, { hi: q.va[0], lo: q.va[1] }, q.access, q.el, refRead, swap);
    const reads: { pa: number; stage: 1 | 2; level: number; attrs: number }[] = [];
    const updates: RefOutcome['updates'] = [];
    w.start(regime, q.va[0], q.va[1], q.access, q.el);
    while (!w.done) {
      const d = walkRead(w.readPa);
      if (w.writeNeeded) {
        updates.push({ pa: w.readPa, stage: w.readStage as 1 | 2, level: w.readLevel, attrs: w.readAttrs, oldLo: w.casOldLo, oldHi: w.casOldHi, newLo: w.casNewLo, newHi: w.casNewHi });
        if (d.lo === w.casOldLo && d.hi === w.casOldHi) walkMem.set(w.readPa, { lo: w.casNewLo, hi: w.casNewHi });
      } else {
        reads.push({ pa: w.readPa, stage: w.readStage as 1 | 2, level: w.readLevel, attrs: w.readAttrs });
      }
      w.supply(d.lo, d.hi);
    }
    const where = `${sc.mode} va=0x${q.va[0].toString(16)}_${q.va[1].toString(16).padStart(8, '0')} access=${q.access} el=${q.el}`;
    expect(reads, where).toEqual(ref.reads);
    expect(updates, where).toEqual(ref.updates);
    expect([...walkMem].sort((a, b) => a[0] - b[0]), where).toEqual([...refMem].sort((a, b) => a[0] - b[0]));
    for (const [pa, v] of walkMem) {
      dv.setUint32(0, v.lo, true); dv.setUint32(4, v.hi, true);
      sc.mem.write(pa, buf, 0, 8);
    }
    if (updates.length > 0) count(`${sc.mode} updates s${updates.map((u) => u.stage).join('')}`);
    if (ref.fault !== null) {
      expect(w.faulted, `${where}: reference faulted (${JSON.stringify(ref.fault)})`).toBe(true);
      const f = w.fault;
      expect({ type: f.type, level: f.level, stage: f.stage, s1ptw: f.s1ptw, ipa: f.ipa, write: f.write, fetch: f.fetch, statusCode: f.statusCode }, where).toEqual(ref.fault);
      count(`${sc.mode} fault s${f.stage}${f.s1ptw ? ' s1ptw' : ''} ${FAULT_TYPE_NAMES[f.type]} L${f.level}`);
    } else {
      expect(w.faulted, `${where}: walker faulted (${w.fault.toString()}) but the reference did not`).toBe(false);
      const r = w.result;
      expect({
        pa: r.pa, ipa: r.ipa, attrs: r.attrs, perms: r.perms, s1Attrs: r.s1Attrs, s2Attrs: r.s2Attrs, s1Level: r.s1Level,
        s1BlockBytes: r.s1BlockBytes, s2Level: r.s2Level, s2BlockBytes: r.s2BlockBytes, pageBytes: r.pageBytes, global: r.global,
        asid: r.global ? 0 : r.asid, vmid: r.vmid, s1Contiguous: r.s1Contiguous, s2Contiguous: r.s2Contiguous, reads: r.reads,
      }, where).toEqual({
        pa: ref.pa, ipa: ref.ipa, attrs: ref.attrs, perms: ref.perms, s1Attrs: ref.s1Attrs, s2Attrs: ref.s2Attrs, s1Level: ref.s1Level,
        s1BlockBytes: ref.s1BlockBytes, s2Level: ref.s2Level, s2BlockBytes: ref.s2BlockBytes, pageBytes: ref.pageBytes, global: ref.global,
        asid: ref.global ? 0 : ref.asid, vmid: ref.vmid, s1Contiguous: ref.s1Contiguous, s2Contiguous: ref.s2Contiguous, reads: ref.reads.length,
      });
      count(`${sc.mode} ok s1L${r.s1Level} s2L${r.s2Level}`);
    }
  }
}

describe('walker vs translateReference on seeded random page tables', () => {
  for (const mode of ['s1', 's2', 'nested'] as const) {
    it(`${mode}: every read, result and fault agrees`, () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 0x7fffffff }), (seed) => compareScenario(buildScenario(seed, mode))), { numRuns: 60 });
    });
  }

  it('the generator reaches successes at every stage-1 and stage-2 level and every fault kind', () => {
    const keys = [...coverage.keys()];
    const has = (re: RegExp): boolean => keys.some((k) => re.test(k));
    for (const l of [1, 2, 3]) expect(has(new RegExp(`^s1 ok s1L${l} `)), `s1 level ${l}`).toBe(true);
    for (const l of [1, 2, 3]) expect(has(new RegExp(`^s2 ok .* s2L${l}$`)), `s2 level ${l}`).toBe(true);
    expect(has(/^nested ok s1L\d s2L\d/)).toBe(true);
    for (const t of ['Translation', 'AddressSize', 'AccessFlag', 'Permission']) {
      expect(has(new RegExp(`^s1 fault s1 ${t}`)), `s1 ${t}`).toBe(true);
      expect(has(new RegExp(`^s2 fault s2 ${t}`)), `s2 ${t}`).toBe(true);
    }
    expect(has(/^nested fault s2 s1ptw Translation/)).toBe(true);
    expect(has(/^nested fault s2 s1ptw Permission/)).toBe(true);
    expect(has(/^nested fault s2 (Translation|Permission|AccessFlag)/)).toBe(true);
    // FEAT_HAFDBS: updates at stage 1, at stage 2, and both in one nested walk.
    expect(has(/^s1 updates s1/)).toBe(true);
    expect(has(/^s2 updates s2/)).toBe(true);
    expect(has(/^nested updates s[12]*2[12]*1|^nested updates s[12]*1[12]*2/)).toBe(true);
  });
});
