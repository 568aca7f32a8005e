/**
 * Cache hierarchy speed and size (targets from the cache issue; reported, never asserted):
 *
 * - `cache-replay-real`: a lackey trace of a real program replayed through PE + L1I/L1D/L2/L3
 *   (data, coherence) + home node + DRAM timing on neoverse-n1 with core.count=1.
 *   Target: 8 million ops/s. The program is `xz -6 -c` compressing 32 KiB of semi-compressible
 *   text (bench/trace-cache.ts): about 48M accesses, three quarters of them instruction fetches.
 *   Why 32 KiB and not 1 MB: xz -6 (bt4 match finder) makes ~1,500 lackey accesses per input
 *   byte, so 1 MB would be ~1.5 billion accesses (~20 GB of lackey text, an hour of valgrind);
 *   32 KiB gives the ~50M the issue asks for in about a minute of recording. The trace is
 *   recorded once and kept in $TMPDIR (armsim-bench-xz6-32768-lackey-v2.trace, plus a .json
 *   describing it); delete both to record again.
 * - `cache-replay-misses`: 2M random 8-byte loads (70%) and stores over 128 MiB, four times the
 *   32 MiB L3 of neoverse-n1 (no override needed), so nearly every access misses L1D and L2 and
 *   most miss the L3 too. Target: 0.5 million ops/s.
 * - `cache-build-64pe`: builds neoverse-n1 with core.count=64 (64 x (L1I + L1D + 1 MiB L2) and a
 *   32 MiB L3) and reports the build time and the RSS it adds. Targets: < 2 s, < 1 GiB.
 *
 * Replays report the best of two runs (the machine is shared, and the first also warms the JIT);
 * ops/s counts `System.run()` only, the build is reported beside it. Beside each replay stands
 * the functional floor of the same trace (functional-floor.ts: the same geometry, lines moved,
 * nothing timed) and the replay's speed as a fraction of it: what the target asks of the model
 * on the machine at hand (`detail.targetOverFloor` is the target's fraction), measured a few
 * seconds apart from the replay, so a slow machine or a slow moment shows in both figures.
 */
import { existsSync } from 'node:fs';
import { Rng } from '../src/sim/index.js';
import { OpCode, TraceOpSource, TraceReader, TraceWriter, openTraceCursors, tracePrefetchWanted } from '../src/core/index.js';
import { buildSystem, type RunOutcome, type System } from '../src/platform/index.js';
import type { Level } from '../src/cache/hierarchy.js';
import { registerBench, type BenchResult } from './harness.js';
import { benchTracePath, cachedFile, xzLackeyTrace } from './trace-cache.js';
import { functionalFloor, type FloorGeometry } from './functional-floor.js';

const PRESET = 'neoverse-n1';
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Replay and the figures it reports

interface Replay {
  sys: System;
  out: RunOutcome;
  ops: number;
  buildMs: number;
  runMs: number;
  /** The fold of a virtual trace into DRAM (a power of two), undefined for a physical one. */
  foldBytes: number | undefined;
}

/** Replays agent 0 of `path` on PE 0 of PRESET with `sets`; virtual traces are folded into DRAM as `armsim replay` does. */
function replay(path: string, sets: readonly string[], expectOps: number): Replay {
  const reader = TraceReader.open(path);
  const cursors = openTraceCursors(reader);      // chunks decoded ahead in a worker, as in `armsim replay`
  try {
    const t0 = performance.now();
    const sys = buildSystem(PRESET, ['core.count=1', ...sets]);
    let fold: { base: number; size: number } | undefined;
    if (reader.header.addressKind === 'virtual') {
      const ram = sys.map.regions.find((r) => r.kind === 'dram');
      if (ram === undefined) throw new Error(`${PRESET} has no dram region`);
      fold = { base: ram.base, size: 2 ** Math.floor(Math.log2(ram.size)) };
    }
    sys.attach(0, new TraceOpSource(cursors.cursors[0]!, 'bench', fold));
    const t1 = performance.now();
    const out = sys.run();
    const t2 = performance.now();
    const pe = sys.pes[0]!;
    const ops = pe.stats.loads + pe.stats.stores + pe.stats.fetches;
    if (out.endReason !== 'done' || ops !== expectOps) throw new Error(`replay of ${path}: ${out.endReason} after ${ops} of ${expectOps} ops`);
    return { sys, out, ops, buildMs: t1 - t0, runMs: t2 - t1, foldBytes: fold?.size };
  } finally {
    cursors.close();
    reader.close();
  }
}

function best(a: Replay, b: Replay): Replay { return a.runMs <= b.runMs ? a : b; }

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const r2 = (x: number): number => Math.round(x * 100) / 100;

/** Misses per access of a level (reads and writes; fetches count as reads), and the counts. */
function levelFigures(l: Level | undefined): Record<string, number> | undefined {
  if (l === undefined) return undefined;
  const s = l.stats;
  const accesses = s.readHits + s.readMisses + s.writeHits + s.writeMisses;
  const misses = s.readMisses + s.writeMisses;
  return { accesses, misses, missRate: accesses === 0 ? 0 : r4(misses / accesses), writebacks: s.writebacks };
}

function replayDetail(r: Replay): Record<string, unknown> {
  const { sys, out, ops } = r;
  const h = sys.caches;
  const d = sys.dram?.stats;
  return {
    ops,
    runMs: Math.round(r.runMs), buildMs: Math.round(r.buildMs), wallMs: Math.round(r.runMs + r.buildMs),
    events: out.events, eventsPerOp: r2(out.events / ops),
    simulatedCycles: out.cycles,
    l1d: levelFigures(h.l1d[0]), l1i: levelFigures(h.l1i[0]), l2: levelFigures(h.l2[0]), l3: levelFigures(h.l3),
    dramReads: d?.reads, dramWrites: d?.writes,
    dramReadsPerOp: d === undefined ? undefined : r4(d.reads / ops),
    rssMiB: Math.round(process.memoryUsage().rss / MiB),
    tracePrefetch: tracePrefetchWanted(1),          // chunks decoded ahead in a worker thread (see openTraceCursors)
  };
}

/**
 * The functional floor (functional-floor.ts) of the trace a replay ran, with the replay's
 * geometry and fold, best of two: what moving its lines alone costs on this machine, and the
 * replay's speed and `target` as fractions of it.
 */
function floorResults(name: string, r: Replay, path: string, target: number): BenchResult[] {
  const h = r.sys.caches;
  const geom = (l: Level): FloorGeometry => ({ sizeBytes: l.arr.sizeBytes, ways: l.arr.ways });
  const levels = { l1i: geom(h.l1i[0]!), l1d: geom(h.l1d[0]!), below: [geom(h.l2[0]!), ...(h.l3 === undefined ? [] : [geom(h.l3)])], lineBytes: h.l1d[0]!.arr.lineBytes };
  const a = functionalFloor(path, levels, r.foldBytes), b = functionalFloor(path, levels, r.foldBytes);
  const f = a.ms <= b.ms ? a : b;
  const floorMops = f.ops / f.ms / 1000, mops = r.ops / r.runMs / 1000;
  const detail = {
    what: 'LRU, write-back/write-allocate, fill into every level, lines copied, sparse memory; no timing, coherence or PE',
    ops: f.ops, runMs: Math.round(f.ms), misses: { l1i: f.misses[0], l1d: f.misses[1], l2: f.misses[2], l3: f.misses[3] }, memoryWrites: f.memoryWrites,
  };
  return [
    { name, metric: 'functional floor, same trace', value: floorMops, unit: 'Mops/s', detail },
    { name, metric: 'replay / floor', value: mops / floorMops, unit: 'x', detail: { targetOverFloor: r4(target / floorMops) } },
  ];
}

function missRate(l: Level | undefined): number {
  return (levelFigures(l)?.['missRate'] as number | undefined) ?? NaN;
}

// ---------------------------------------------------------------------------------------------
// 1. a real program

const XZ_INPUT_BYTES = 32 * 1024;
const TARGET_REAL_MOPS = 8;

registerBench({
  name: 'cache-replay-real',
  run: (): BenchResult[] => {
    const info = xzLackeyTrace(XZ_INPUT_BYTES);
    const r = best(replay(info.path, [], info.ops), replay(info.path, [], info.ops));
    const detail = {
      trace: { command: info.command, records: info.records, ops: info.ops, fetches: info.fetches, loads: info.loads, stores: info.stores, xz: info.xzVersion, valgrind: info.valgrindVersion, recorded: info.generated, recordSeconds: info.recordSeconds, importSeconds: info.importSeconds },
      ...replayDetail(r),
    };
    const name = `cache replay, xz -6 (32 KiB) lackey trace, L1/L2/L3+DRAM (1 PE, ${PRESET})`;
    return [
      { name, metric: `${(r.ops / 1e6).toFixed(1)}M-op trace`, value: r.ops / r.runMs / 1000, unit: 'Mops/s', target: TARGET_REAL_MOPS, higherIsBetter: true, detail },
      ...floorResults(name, r, info.path, TARGET_REAL_MOPS),
      { name, metric: 'L1D miss rate', value: missRate(r.sys.caches.l1d[0]) * 100, unit: '%' },
      { name, metric: 'events/op', value: r.out.events / r.ops, unit: 'events' },
      { name, metric: 'wall time (build + run)', value: (r.runMs + r.buildMs) / 1000, unit: 's' },
    ];
  },
});

// ---------------------------------------------------------------------------------------------
// 2. a working set four times the L3

const MISS_OPS = 2_000_000;
const MISS_SPAN = 128 * MiB;           // 4 x the 32 MiB L3 of neoverse-n1
const TARGET_MISS_MOPS = 0.5;

function missTrace(): string {
  const path = benchTracePath(`armsim-bench-cache-misses-${MISS_OPS}-${MISS_SPAN}-v2.trace`);
  if (existsSync(path)) return path;
  return cachedFile(path, (temp) => {
    const w = TraceWriter.create(temp, { agents: 1, addressKind: 'physical', source: 'bench' });
    const rng = new Rng(7).fork('bench.cache-misses');
    const base = 0x80_0000_0000;
    for (let i = 0; i < MISS_OPS; i++) {
      const addr = base + rng.nextInt(MISS_SPAN / 8) * 8;
      const isStore = rng.nextInt(10) < 3;
      w.push(0, isStore ? OpCode.Store : OpCode.Load, addr, 8, i >>> 0, 0);
    }
    w.close();
  }).path;
}

registerBench({
  name: 'cache-replay-misses',
  run: (): BenchResult[] => {
    const path = missTrace();
    const r = best(replay(path, [], MISS_OPS), replay(path, [], MISS_OPS));
    const h = r.sys.caches;
    const name = `cache replay, random 8 B over 128 MiB (4x L3), L1/L2/L3+DRAM (1 PE, ${PRESET})`;
    return [
      { name, metric: '2M-op trace', value: r.ops / r.runMs / 1000, unit: 'Mops/s', target: TARGET_MISS_MOPS, higherIsBetter: true, detail: replayDetail(r) },
      ...floorResults(name, r, path, TARGET_MISS_MOPS),
      { name, metric: 'L1D miss rate', value: missRate(h.l1d[0]) * 100, unit: '%' },
      { name, metric: 'L2 miss rate', value: missRate(h.l2[0]) * 100, unit: '%' },
      { name, metric: 'L3 miss rate', value: missRate(h.l3) * 100, unit: '%' },
      { name, metric: 'events/op', value: r.out.events / r.ops, unit: 'events' },
    ];
  },
});

// ---------------------------------------------------------------------------------------------
// 3. building a big platform

const BUILD_PES = 64;
const TARGET_BUILD_S = 2;
const TARGET_BUILD_MIB = 1024;

registerBench({
  name: 'cache-build-64pe',
  run: (): BenchResult[] => {
    // bench/run.js is started as plain `node dist/bench/run.js`, without --expose-gc: then there
    // is no gc() and the RSS figures include whatever garbage happens to be uncollected.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const m0 = process.memoryUsage();
    const t0 = performance.now();
    const sys = buildSystem(PRESET, [`core.count=${BUILD_PES}`]);
    const ms = performance.now() - t0;
    gc?.();
    const m1 = process.memoryUsage();
    const l3 = sys.caches.l3;
    if (sys.pes.length !== BUILD_PES || l3 === undefined || l3.arr.sizeBytes !== 32 * MiB) {
      throw new Error(`cache-build-64pe: built ${sys.pes.length} PEs, L3 ${l3?.arr.sizeBytes ?? 0} bytes`);
    }
    const mib = (b: number): number => Math.round((b / MiB) * 10) / 10;
    const detail = {
      pes: sys.pes.length, l2s: sys.caches.l2.length, l3MiB: mib(l3.arr.sizeBytes),
      gc: gc === undefined ? 'not available (node runs without --expose-gc): RSS measured without a collection' : 'global.gc() before and after',
      rssBeforeMiB: mib(m0.rss), rssAfterMiB: mib(m1.rss),
      // Typed arrays the build allocated: an upper bound on what it can make resident. Zero-filled
      // pages nobody has written (most cache data arrays) are not in the RSS until first touched.
      arrayBuffersDeltaMiB: mib(m1.arrayBuffers - m0.arrayBuffers),
      externalDeltaMiB: mib(m1.external - m0.external),
      heapUsedDeltaMiB: mib(m1.heapUsed - m0.heapUsed),
    };
    const name = `build ${PRESET} with core.count=${BUILD_PES} (32 MiB L3)`;
    return [
      { name, metric: 'build time', value: ms / 1000, unit: 's', target: TARGET_BUILD_S, higherIsBetter: false, detail },
      { name, metric: 'RSS growth', value: mib(m1.rss - m0.rss), unit: 'MiB', target: TARGET_BUILD_MIB, higherIsBetter: false },
    ];
  },
});
