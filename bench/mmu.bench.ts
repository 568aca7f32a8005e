/**
 * PE MMU speed and walk cost (targets from the MMU issue; reported, never asserted):
 *
 * - `mmu-tlb-hit-overhead`: the xz -6 lackey trace of `cache-replay-real` (bench/trace-cache.ts),
 *   folded into DRAM as that bench does, replayed on neoverse-n1 (core.count=1) with the MMU off
 *   (mmu.translation=flat) and on (mmu.translation=vmsa). The vmsa variants identity-map every
 *   4 KiB page (or 2 MiB block) the folded trace touches, found by one scan of the trace, as
 *   Normal WB (MAIR_EL1 Attr0 = 0xFF, SH = Inner Shareable, AF = 1, AP = 0b00, PXN = UXN = 0: EL1
 *   may read, write and execute, so the trace's fetches translate as well as its loads and
 *   stores): `4k` (stage 1 only, 4 KiB pages), `2m` (stage 1 only, 2 MiB blocks) and `nested`
 *   (stage 1 and stage 2 both 4 KiB pages, VA = IPA = PA, VTCR_EL2 start level 0). The tables sit
 *   in a 2 MiB-aligned stretch of DRAM that the trace never touches, so its stores cannot change
 *   them. Target: translation adds at most 30% to the host run time of the flat replay (almost
 *   every access is an L1 TLB hit). Each vmsa run must end `done` with the flat run's load, store
 *   and fetch counts and no MMU fault (system.cpu0.mmuFaults = 0).
 * - `mmu-nested-walk`: 4096 VA pages, each with its own level-1 and level-2 stage-1 descriptor
 *   (VA bits [47:39], [38:30], [29:21] and [20:12] all vary) and data IPAs spread the same way at
 *   stage 2, nested with 4 KiB pages at both stages from level 0 (a 4x4 walk: 24 descriptor reads
 *   without a walk cache). A first pass touches every page (the tables go into the caches), TLBI
 *   VMALLS12E1 + DSB empties the TLBs (and the walk cache), and a second pass touches every page
 *   again: one walk each with cold TLBs and warm caches. Reported for that pass: simulated cycles
 *   per walk (system.cpu0.mmu.walkCycles / walks), descriptor reads per walk, and host time per
 *   walk (wall time of the pass / walks). Variants: walk cache off (mmu.walkCacheEntries=0, must
 *   read 24 descriptors per walk), the default walk cache, and walk cache off with 4096
 *   consecutive pages (the tables then sit in a few lines that stay in the L1D).
 *
 * Replays report the best of two runs, walk passes the best of five (the machine is shared; the
 * first also warms the JIT); the overhead variants are run interleaved (flat, 4k, 2m, nested, then again) so that a
 * change in the machine's load hits them all alike. Host ops/s counts `System.run()` only; the
 * build and the table set-up are reported beside it.
 */
import { diffSnapshots } from '../src/sim/index.js';
import { prog, ProgramOpSource, TraceOpSource, TraceReader, openTraceCursors, type Program } from '../src/core/index.js';
import {
  MmuReg, PageTableBuilder, encodeHcr, encodeMair, encodeSctlr, encodeTcr, encodeTtbr, encodeVtcr, type Halves, type PeMmu,
} from '../src/mmu/index.js';
import { buildSystem, type RunOutcome, type System } from '../src/platform/index.js';
import { registerBench, type BenchResult } from './harness.js';
import { xzLackeyTrace, type LackeyTraceInfo } from './trace-cache.js';

const PRESET = 'neoverse-n1';
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const PAGE = 4 * KiB;
const BLOCK = 2 * MiB;

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const rate = (hits: number, misses: number): number => (hits + misses === 0 ? NaN : r4(hits / (hits + misses)));

// ---------------------------------------------------------------------------------------------
// Setting up the MMU before a run (registers written straight into the MMU, then a context sync)

function mmuOf(sys: System): PeMmu {
  const mmu = sys.pes[0]!.mmu;
  if (mmu === undefined) throw new Error('bench: the platform was built without mmu.translation=vmsa');
  return mmu;
}

function msr(mmu: PeMmu, reg: number, v: Halves | number): void {
  if (typeof v === 'number') mmu.write(reg, v, 0);
  else mmu.write(reg, v.lo, v.hi);
}

/** Stage 1 on at EL1: MAIR_EL1 Attr0 = 0xFF (Normal WB RWA), TTBR0_EL1 = `root` (ASID 1), 48-bit VAs, walks WB cached. */
function enableStage1(mmu: PeMmu, root: number): void {
  msr(mmu, MmuReg.MAIR_EL1, encodeMair([0xff]));
  msr(mmu, MmuReg.TCR_EL1, encodeTcr({ t0sz: 16, epd1: true }));
  msr(mmu, MmuReg.TTBR0_EL1, encodeTtbr(root, 1));
  msr(mmu, MmuReg.SCTLR_EL1, encodeSctlr({ m: true, c: true, i: true }));
}

/** Stage 2 on: 48-bit IPAs from level 0 (VTCR_EL2.SL0 = 2 with the 4KB granule), VMID 5. */
function enableStage2(mmu: PeMmu, root: number): void {
  msr(mmu, MmuReg.VTCR_EL2, encodeVtcr({ t0sz: 16, sl0: 2, tg0: '4K' }));
  msr(mmu, MmuReg.VTTBR_EL2, encodeTtbr(root, 5));
  msr(mmu, MmuReg.HCR_EL2, encodeHcr({ vm: true }));
}

function s1Builder(sys: System, base: number, limit: number, physOf?: (a: number) => number): PageTableBuilder {
  // sys.map.store: set-up before any run, the caches are empty (sys.coherent would be the same, slower).
  return new PageTableBuilder(sys.map.store, { stage: 1, granule: '4K', inputBits: 48, allocBase: base, allocLimit: limit, ...(physOf ? { physOf } : {}) });
}

function s2Builder(sys: System, base: number, limit: number): PageTableBuilder {
  return new PageTableBuilder(sys.map.store, { stage: 2, granule: '4K', inputBits: 48, startLevel: 0, allocBase: base, allocLimit: limit });
}

// ---------------------------------------------------------------------------------------------
// 1. TLB-hit overhead on a real trace

/** Where a virtual trace is folded: the DRAM region, cut to a power of two (as `armsim replay` does). */
function foldOf(sys: System): { base: number; size: number } {
  const ram = sys.map.regions.find((r) => r.kind === 'dram');
  if (ram === undefined) throw new Error(`${PRESET} has no dram region`);
  return { base: ram.base, size: 2 ** Math.floor(Math.log2(ram.size)) };
}

/** The 4 KiB pages of the fold region the folded trace touches (an access crossing a page touches both). */
interface Footprint {
  fold: { base: number; size: number };
  /** One byte per page of the fold region: 1 = touched. */
  touched: Uint8Array;
  pages: number;
  blocks: number;
  fetchPages: number;
  scanMs: number;
}

let footprintCache: { path: string; fp: Footprint } | undefined;

function traceFootprint(path: string, fold: { base: number; size: number }): Footprint {
  if (footprintCache?.path === path) return footprintCache.fp;
  const t0 = performance.now();
  const n = fold.size / PAGE;
  const touched = new Uint8Array(n);
  const fetched = new Uint8Array(n);
  const reader = TraceReader.open(path);
  try {
    const c = reader.cursor(0);
    for (let ch = c.next(); ch !== null; ch = c.next()) {
      for (let i = 0; i < ch.length; i++) {
        const op = ch.op[i]!;
        if (op > 2) continue;                           // loads, stores, fetches (OpCode 0..2) carry addresses
        const a = ch.addr[i]!, off = a - Math.floor(a / fold.size) * fold.size;   // as TraceOpSource folds
        const p0 = Math.floor(off / PAGE), p1 = Math.floor((off + ch.size[i]! - 1) / PAGE);
        touched[p0] = 1;
        if (p1 !== p0 && p1 < n) touched[p1] = 1;
        if (op === 2) fetched[p0] = 1;
      }
    }
  } finally {
    reader.close();
  }
  let pages = 0, fetchPages = 0, blocks = 0;
  const perBlock = BLOCK / PAGE;
  for (let p = 0; p < n; p++) { pages += touched[p]!; fetchPages += fetched[p]!; }
  for (let b = 0; b < n / perBlock; b++) if (touched.subarray(b * perBlock, (b + 1) * perBlock).includes(1)) blocks++;
  const fp = { fold, touched, pages, blocks, fetchPages, scanMs: performance.now() - t0 };
  footprintCache = { path, fp };
  return fp;
}

/** The lowest 2 MiB-aligned stretch of `bytes` in the fold region that the trace does not touch. */
function untouchedArea(fp: Footprint, bytes: number, after = 0): number {
  const perBlock = BLOCK / PAGE, need = Math.ceil(bytes / BLOCK);
  let run = 0;
  for (let b = Math.ceil(after / BLOCK); (b + 1) * perBlock <= fp.touched.length; b++) {
    run = fp.touched.subarray(b * perBlock, (b + 1) * perBlock).includes(1) ? 0 : run + 1;
    if (run === need) return fp.fold.base + (b - need + 1) * BLOCK;
  }
  throw new Error(`bench: no untouched ${bytes}-byte stretch in the fold region`);
}

/** Calls `f(offset, bytes)` for each run of touched units (`unit` bytes each: a page or a 2 MiB block). */
function touchedRuns(fp: Footprint, unit: number, f: (offset: number, bytes: number) => void): void {
  const per = unit / PAGE, units = fp.touched.length / per;
  let start = -1;
  for (let u = 0; u <= units; u++) {
    const t = u < units && fp.touched.subarray(u * per, (u + 1) * per).includes(1);
    if (t && start < 0) start = u;
    else if (!t && start >= 0) { f(start * unit, (u - start) * unit); start = -1; }
  }
}

type Variant = 'flat' | '4k' | '2m' | 'nested';
const VARIANTS: readonly Variant[] = ['flat', '4k', '2m', 'nested'];
const TABLE_POOL = 8 * MiB;

/** Identity-maps the footprint as `v` says; returns the table bytes written. */
function mapFootprint(sys: System, fp: Footprint, v: Exclude<Variant, 'flat'>): number {
  const mmu = mmuOf(sys);
  const base = fp.fold.base;
  const s1At = untouchedArea(fp, TABLE_POOL);
  const s1 = s1Builder(sys, s1At, s1At + TABLE_POOL);
  const s1Leaf = { attrIndx: 0, ap: 0b00, sh: 0b11, af: true, pxn: false, uxn: false };
  touchedRuns(fp, v === '2m' ? BLOCK : PAGE, (off, bytes) => s1.map({ va: base + off, oa: base + off, size: bytes, level: v === '2m' ? 2 : 3, s1: s1Leaf }));
  let tableBytes = s1.allocated;
  if (v === 'nested') {
    // Stage 2 maps IPA = PA with 4KB pages: every touched page, and the stage-1 tables (walked at stage 2 too).
    const s2At = untouchedArea(fp, TABLE_POOL, s1At + TABLE_POOL - fp.fold.base);
    const s2 = s2Builder(sys, s2At, s2At + TABLE_POOL);
    const s2Leaf = { memAttr: 0b1111, s2ap: 0b11, sh: 0b11, af: true, xn: 0 };
    touchedRuns(fp, PAGE, (off, bytes) => s2.map({ va: base + off, oa: base + off, size: bytes, level: 3, s2: s2Leaf }));
    const s1Bytes = Math.ceil((s1.allocTop - s1At) / PAGE) * PAGE;
    s2.map({ va: s1At, oa: s1At, size: s1Bytes, level: 3, s2: s2Leaf });
    enableStage2(mmu, s2.root);
    tableBytes += s2.allocated;
  }
  enableStage1(mmu, s1.root);
  mmu.contextSync();
  return tableBytes;
}

interface OverheadRun {
  variant: Variant;
  ops: number;
  loads: number; stores: number; fetches: number;
  runMs: number; buildMs: number; setupMs: number;
  out: RunOutcome;
  tableBytes: number;
  stats: Map<string, number>;
}

function overheadRun(info: LackeyTraceInfo, v: Variant): OverheadRun {
  const t0 = performance.now();
  const sys = buildSystem(PRESET, ['core.count=1', ...(v === 'flat' ? [] : ['mmu.translation=vmsa'])]);
  const t1 = performance.now();
  const fold = foldOf(sys);
  const fp = traceFootprint(info.path, fold);
  const t2 = performance.now();
  const tableBytes = v === 'flat' ? 0 : mapFootprint(sys, fp, v);
  const reader = TraceReader.open(info.path);
  const cursors = openTraceCursors(reader);      // as `armsim replay` reads it
  try {
    sys.attach(0, new TraceOpSource(cursors.cursors[0]!, 'bench', fold));
    const t3 = performance.now();
    const out = sys.run();
    const t4 = performance.now();
    const s = sys.pes[0]!.stats;
    const ops = s.loads + s.stores + s.fetches;
    if (out.endReason !== 'done' || ops !== info.ops || s.loads !== info.loads || s.stores !== info.stores || s.fetches !== info.fetches) {
      throw new Error(`mmu-tlb-hit-overhead ${v}: ${out.endReason} after ${s.loads} loads, ${s.stores} stores, ${s.fetches} fetches; the trace has ${info.loads}, ${info.stores}, ${info.fetches}`);
    }
    if (s.mmuFaults !== 0) throw new Error(`mmu-tlb-hit-overhead ${v}: ${s.mmuFaults} MMU faults (the identity map misses a page the trace touches)`);
    return {
      variant: v, ops, loads: s.loads, stores: s.stores, fetches: s.fetches,
      runMs: t4 - t3, buildMs: t1 - t0, setupMs: t3 - t2, out, tableBytes, stats: sys.stats.snapshot(),
    };
  } finally {
    cursors.close();
    reader.close();
  }
}

function tlbFigures(s: Map<string, number>, tlb: string): Record<string, number> {
  const g = (k: string): number => s.get(`system.cpu0.${tlb}.${k}`) ?? 0;
  return { hits: g('hits'), misses: g('misses'), hitRate: rate(g('hits'), g('misses')), evictions: g('evictions') };
}

function levelMissRate(s: Map<string, number>, path: string): number {
  const g = (k: string): number => s.get(`${path}.${k}`) ?? 0;
  const acc = g('readHits') + g('readMisses') + g('writeHits') + g('writeMisses');
  return acc === 0 ? NaN : r4((g('readMisses') + g('writeMisses')) / acc);
}

function overheadDetail(r: OverheadRun, flat: OverheadRun | undefined): Record<string, unknown> {
  const s = r.stats, g = (k: string): number => s.get(k) ?? 0;
  const d: Record<string, unknown> = {
    ops: r.ops, loads: r.loads, stores: r.stores, fetches: r.fetches,
    runMs: Math.round(r.runMs), buildMs: Math.round(r.buildMs), setupMs: Math.round(r.setupMs),
    events: r.out.events, eventsPerOp: r2(r.out.events / r.ops),
    simulatedCycles: r.out.cycles,
    l1dMissRate: levelMissRate(s, 'system.cpu0.l1d'), l1iMissRate: levelMissRate(s, 'system.cpu0.l1i'),
    rssMiB: Math.round(process.memoryUsage().rss / MiB),
  };
  if (r.variant === 'flat') return d;
  const walks = g('system.cpu0.mmu.walks');
  return {
    ...d,
    simulatedCyclesVsFlat: flat === undefined ? undefined : r4(r.out.cycles / flat.out.cycles),
    tableBytes: r.tableBytes,
    mmuFaults: g('system.cpu0.mmuFaults'),
    dtlb: tlbFigures(s, 'dtlb'), itlb: tlbFigures(s, 'itlb'), l2tlb: tlbFigures(s, 'l2tlb'),
    walks, walkReads: g('system.cpu0.mmu.walkReads'), walkCacheHits: g('system.cpu0.mmu.walkCacheHits'),
    walkCycles: g('system.cpu0.mmu.walkCycles'), cyclesPerWalk: walks === 0 ? 0 : r2(g('system.cpu0.mmu.walkCycles') / walks),
    stallWalkCycles: g('system.cpu0.stallWalkCycles'),
  };
}

const TARGET_OVERHEAD_PCT = 30;
const XZ_INPUT_BYTES = 32 * 1024;     // the cache-replay-real trace

registerBench({
  name: 'mmu-tlb-hit-overhead',
  run: (): BenchResult[] => {
    const info = xzLackeyTrace(XZ_INPUT_BYTES);
    const bestOf = new Map<Variant, OverheadRun>();
    for (let round = 0; round < 2; round++) {
      for (const v of VARIANTS) {
        const r = overheadRun(info, v);
        const b = bestOf.get(v);
        if (b === undefined || r.runMs < b.runMs) bestOf.set(v, r);
      }
    }
    const flat = bestOf.get('flat')!;
    const fp = footprintCache!.fp;
    const name = (v: Variant): string => `mmu replay, xz -6 (32 KiB) lackey trace, ${v === 'flat' ? 'MMU off (flat)'
      : v === '4k' ? 'stage 1, 4KB pages' : v === '2m' ? 'stage 1, 2MB blocks' : 'stage 1+2, 4KB pages'} (1 PE, ${PRESET})`;
    const results: BenchResult[] = [{
      name: name('flat'), metric: `${(flat.ops / 1e6).toFixed(1)}M-op trace`, value: flat.ops / flat.runMs / 1000, unit: 'Mops/s',
      detail: {
        trace: { command: info.command, ops: info.ops, fetches: info.fetches, loads: info.loads, stores: info.stores },
        footprint: { pages4k: fp.pages, fetchPages4k: fp.fetchPages, blocks2m: fp.blocks, scanMs: Math.round(fp.scanMs) },
        ...overheadDetail(flat, undefined),
      },
    }];
    for (const v of VARIANTS) {
      if (v === 'flat') continue;
      const r = bestOf.get(v)!, s = r.stats;
      const hits = (t: string): number => s.get(`system.cpu0.${t}.hits`) ?? 0, misses = (t: string): number => s.get(`system.cpu0.${t}.misses`) ?? 0;
      results.push(
        { name: name(v), metric: `${(r.ops / 1e6).toFixed(1)}M-op trace`, value: r.ops / r.runMs / 1000, unit: 'Mops/s', detail: overheadDetail(r, flat) },
        { name: name(v), metric: 'host time added by translation', value: (r.runMs / flat.runMs - 1) * 100, unit: '%', target: TARGET_OVERHEAD_PCT, higherIsBetter: false },
        { name: name(v), metric: 'L1 DTLB hit rate', value: rate(hits('dtlb'), misses('dtlb')) * 100, unit: '%' },
        { name: name(v), metric: 'L1 ITLB hit rate', value: rate(hits('itlb'), misses('itlb')) * 100, unit: '%' },
        { name: name(v), metric: 'L2 TLB hit rate', value: rate(hits('l2tlb'), misses('l2tlb')) * 100, unit: '%' },
        { name: name(v), metric: 'walks', value: s.get('system.cpu0.mmu.walks') ?? 0, unit: 'walks' },
      );
    }
    return results;
  },
});

// ---------------------------------------------------------------------------------------------
// 2. nested 4x4 walks: cold TLBs, warm caches

const WALK_PAGES = 4096;
const WALK_PASSES = 5;
const RAM = 0x80_0000_0000;            // neoverse-n1 DRAM base: stage 2 maps IPA x to RAM + x
const S1_TABLES_IPA = 0x1000_0000;     // stage-1 tables (IPAs), up to 48 MiB of them
const S2_TABLES = RAM + 0x4000_0000;   // stage-2 tables (PAs)
const DATA_IPA = 0x1_0000_0000;        // data pages (IPAs), spread over 8 GiB
const POOL = 48 * MiB;

interface WalkLayout {
  name: string;
  /** Pages spread so that every stage-1 level-1 and level-2 descriptor (and stage-2 leaf table) differs. */
  spread: boolean;
  walkCacheEntries: number | undefined;
}

const WALK_LAYOUTS: readonly WalkLayout[] = [
  { name: 'spread pages, no walk cache', spread: true, walkCacheEntries: 0 },
  { name: 'spread pages, default walk cache', spread: true, walkCacheEntries: undefined },
  { name: 'consecutive pages, no walk cache', spread: false, walkCacheEntries: 0 },
];

/** VA and IPA of page i: spread, every level's index changes with i (L0 = i / 512, L1 = L2 = L3 = i mod 512). */
function walkPage(i: number, spread: boolean): { va: number; ipa: number } {
  if (!spread) return { va: 0x40_0000_0000 + i * PAGE, ipa: DATA_IPA + i * PAGE };
  const j = i % 512, k = Math.floor(i / 512);
  return { va: k * 2 ** 39 + j * (GiB + BLOCK + PAGE), ipa: DATA_IPA + i * (BLOCK + PAGE) };
}

function walkSystem(layout: WalkLayout): { sys: System; tableBytes: number } {
  const sets = ['core.count=1', 'mmu.translation=vmsa'];
  if (layout.walkCacheEntries !== undefined) sets.push(`mmu.walkCacheEntries=${layout.walkCacheEntries}`);
  const sys = buildSystem(PRESET, sets);
  const s2 = s2Builder(sys, S2_TABLES, S2_TABLES + POOL);
  const s1 = s1Builder(sys, S1_TABLES_IPA, S1_TABLES_IPA + POOL, (ipa) => RAM + ipa);
  const s2Leaf = { memAttr: 0b1111 };
  for (let i = 0; i < WALK_PAGES; i++) {
    const { va, ipa } = walkPage(i, layout.spread);
    s1.map({ va, oa: ipa, size: PAGE, level: 3, s1: { attrIndx: 0, af: true } });
    s2.map({ va: ipa, oa: RAM + ipa, size: PAGE, level: 3, s2: s2Leaf });
  }
  // Stage 2 also maps the stage-1 tables (the walk reads them through IPAs), with 4KB pages.
  s2.map({ va: S1_TABLES_IPA, oa: RAM + S1_TABLES_IPA, size: Math.ceil((s1.allocTop - S1_TABLES_IPA) / PAGE) * PAGE, level: 3, s2: s2Leaf });
  const mmu = mmuOf(sys);
  enableStage2(mmu, s2.root);
  enableStage1(mmu, s1.root);
  mmu.contextSync();
  return { sys, tableBytes: s1.allocated + s2.allocated };
}

function* touchAll(spread: boolean, invalidateFirst: boolean): Program {
  if (invalidateFirst) {
    yield prog.tlbi('vmalls12e1');
    yield prog.dsb();
  }
  // A different line of each page: at a 4 KiB stride every load would fall in 1/64 of the L2's
  // sets (2048 sets of 64-byte lines), and the data would miss the L2 on the second pass.
  for (let i = 0; i < WALK_PAGES; i++) yield prog.load(walkPage(i, spread).va + (i % 64) * 64 + 8, 8, { wait: false });
}

interface WalkPass { ms: number; stats: Map<string, number>; out: RunOutcome; cycles: number }

function walkPass(sys: System, spread: boolean, invalidateFirst: boolean): WalkPass {
  const before = sys.stats.snapshot(), c0 = sys.q.now;
  sys.attach(0, new ProgramOpSource(touchAll(spread, invalidateFirst), 'bench'));
  const t0 = performance.now();
  const out = sys.run();
  const ms = performance.now() - t0;
  if (out.endReason !== 'done') throw new Error(`mmu-nested-walk: ${out.endReason}: ${out.diagnosis ?? ''}`);
  // out.cycles is the cycle the run ended at (time goes on from the pass before), not the pass's length.
  return { ms, stats: diffSnapshots(sys.stats.snapshot(), before), out, cycles: out.cycles - c0 };
}

registerBench({
  name: 'mmu-nested-walk',
  run: (): BenchResult[] => {
    const results: BenchResult[] = [];
    for (const layout of WALK_LAYOUTS) {
      const t0 = performance.now();
      const { sys, tableBytes } = walkSystem(layout);
      const setupMs = performance.now() - t0;
      const warm = walkPass(sys, layout.spread, false);
      // Measured passes (TLBs emptied before each, caches warm from the pass before): the fastest.
      // A pass is only ~50 ms of host time, so take more samples than the replays do.
      const passes = Array.from({ length: WALK_PASSES }, () => walkPass(sys, layout.spread, true));
      const p = passes.reduce((x, y) => (y.ms < x.ms ? y : x));
      const g = (k: string): number => p.stats.get(k) ?? 0;
      const walks = g('system.cpu0.mmu.walks'), reads = g('system.cpu0.mmu.walkReads'), cyc = g('system.cpu0.mmu.walkCycles');
      const faults = g('system.cpu0.mmuFaults') + warm.stats.get('system.cpu0.mmuFaults')!;
      if (walks !== WALK_PAGES || faults !== 0) throw new Error(`mmu-nested-walk (${layout.name}): ${walks} walks for ${WALK_PAGES} pages, ${faults} MMU faults`);
      if (layout.walkCacheEntries === 0 && reads !== 24 * walks) throw new Error(`mmu-nested-walk (${layout.name}): ${reads / walks} descriptor reads per walk, 24 expected`);
      const name = `mmu nested 4x4 walk, cold TLBs, warm caches, ${layout.name} (1 PE, ${PRESET})`;
      const detail = {
        pages: WALK_PAGES, walks, walkReads: reads, walkCycles: cyc, walkCacheHits: g('system.cpu0.mmu.walkCacheHits'),
        tableBytes, setupMs: Math.round(setupMs), warmPassMs: Math.round(warm.ms), passMs: passes.map((x) => Math.round(x.ms)),
        passCycles: p.cycles, passCyclesPerPage: r2(p.cycles / WALK_PAGES), events: p.out.events, eventsPerWalk: r2(p.out.events / walks),
        warmPass: { walks: warm.stats.get('system.cpu0.mmu.walks'), cyclesPerWalk: r2(warm.stats.get('system.cpu0.mmu.walkCycles')! / warm.stats.get('system.cpu0.mmu.walks')!) },
        l1dMissRate: levelMissRate(p.stats, 'system.cpu0.l1d'), l2MissRate: levelMissRate(p.stats, 'system.cpu0.l2'), l3MissRate: levelMissRate(p.stats, 'system.l3'),
        dramReads: g('system.dram.reads'),
      };
      results.push(
        { name, metric: 'simulated cycles per walk', value: cyc / walks, unit: 'cycles', detail },
        { name, metric: 'descriptor reads per walk', value: reads / walks, unit: 'reads' },
        { name, metric: 'host time per walk', value: (p.ms * 1000) / walks, unit: 'us' },
      );
    }
    return results;
  },
});
