/**
 * The cachegrind oracle through the real command line: a lackey trace of gzip (tests/oracle-helpers.ts
 * records it and runs cachegrind on the same program), imported with `armsim trace import --from
 * lackey` and replayed with `armsim replay TRACE --platform cachegrind --json [--set ...]`, against
 * cachegrind's own I1, D1 and LL totals for the same geometry.
 *
 * What matches exactly and what cannot (measured on this trace; see the per-case tests):
 *
 * - Per cache line, the simulator does exactly what cachegrind does: I1/D1/LL LRU, write-allocate,
 *   LL looked up only on an L1 miss, L1 write-backs neither allocating nor touching in LL, no
 *   prefetch, no coherence. Checked exactly: the simulator's misses at every level equal those of
 *   cachegrind's rules (CachegrindModel, itself equal to cachegrind's output on the original
 *   trace, checked here too) applied to the trace with every access split at line boundaries,
 *   a trace on which cachegrind's straddle rule never applies.
 * - On the original trace the totals cannot match exactly. A reference that straddles two lines
 *   (x86 instructions straddle 64-byte lines all the time: ~30 000 of 828 000 fetches here; a
 *   few dozen data accesses) is ONE cachegrind access: one miss if either line missed, and on an
 *   L1 miss LL is asked about BOTH lines, even the one that hit in L1 (cg_sim.c
 *   cachesim_ref_is_miss on (addr, size)). The simulator's PE splits it into two line requests
 *   (src/core/pe.ts issueMemory), each counted by the L1 that takes it and each sent to LL only if
 *   it missed.
 *     - I1/D1: the L1 contents are the same either way (both lines are looked up in the same
 *       order), so the residual is exactly the number of straddling references both of whose
 *       lines missed in the L1: a pure counting difference.
 *     - LL: the same double counting (both lines missed in LL), plus a state difference: the line
 *       that hit in L1 is touched (or installed) in cachegrind's LL only. So the LL residual is
 *       not a counter artefact alone, and only cachegrind's probe of both lines would remove it.
 * - A lackey M (a modify) is one cachegrind read; the importer makes it a load then a store. The
 *   store always hits in D1 after its load, so the misses are the same (the load's, counted as a
 *   read in both); only the D1 write references differ, by one per M.
 * - Instruction fetch sizes: one fetch per lackey I record of the instruction's length, as
 *   cachegrind (one Ir each); data accesses here are at most 32 bytes, so cachegrind's clipping
 *   of data sizes to the smallest line never applies on these geometries.
 *
 * The simulator has one line size for all levels (cache.lineBytes), so every geometry here
 * uses the same line size at I1, D1 and LL. Needs valgrind; `.ci/run` installs it.
 */
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CachegrindModel, type CachegrindConfig, type CachegrindTotals } from '../src/cache/index.js';
import { OpCode, TraceReader } from '../src/core/index.js';
import { armsimAsync, forEachLinePiece, forEachOp, g, parseCachegrindLog, useGzipOracle, type LevelCounts } from './oracle-helpers.js';

interface Case { name: string; config: CachegrindConfig; sets: string[]; extraSets?: string[] }

/** The --set options that give the cachegrind preset this geometry (one line size for all levels). */
function setsFor(c: CachegrindConfig): string[] {
  if (c.I1.lineBytes !== c.D1.lineBytes || c.I1.lineBytes !== c.LL.lineBytes) throw new Error('the simulator has one line size for all levels');
  return [
    `cache.lineBytes=${c.I1.lineBytes}`,
    `cache.l1i.sizeBytes=${c.I1.sizeBytes}`, `cache.l1i.ways=${c.I1.ways}`,
    `cache.l1d.sizeBytes=${c.D1.sizeBytes}`, `cache.l1d.ways=${c.D1.ways}`,
    `cache.l2.sizeBytes=${c.LL.sizeBytes}`, `cache.l2.ways=${c.LL.ways}`,
  ];
}

const custom = (name: string, config: CachegrindConfig): Case => ({ name, config, sets: setsFor(config) });

const CASES: Case[] = [
  // The preset unchanged: cachegrind's arm64 default geometry (cg_arch.c), given explicitly to
  // cachegrind because on amd64 it would read the host's caches.
  { name: 'the preset as it is (I1/D1 16 KiB 4-way, LL 256 KiB 8-way, 64-byte lines)', config: { I1: g(16384, 4, 64), D1: g(16384, 4, 64), LL: g(262144, 8, 64) }, sets: [] },
  custom('32 KiB 8-way L1s, 1 MiB 16-way LL', { I1: g(32768, 8, 64), D1: g(32768, 8, 64), LL: g(1048576, 16, 64) }),
  custom('4 KiB 2-way L1s, 64 KiB 4-way LL (many misses)', { I1: g(4096, 2, 64), D1: g(4096, 2, 64), LL: g(65536, 4, 64) }),
  custom('32-byte lines: direct-mapped 16 KiB I1 and 2 KiB D1, 32 KiB 2-way LL', { I1: g(16384, 1, 32), D1: g(2048, 1, 32), LL: g(32768, 2, 32) }),
  // dram.burstLength=16: the preset's DDR4 moves 64-byte bursts and its controller refuses a
  // 128-byte line fill ("crosses a 64-byte burst", an internal error); DRAM timing has no effect on
  // miss counts.
  { ...custom('128-byte lines: 16 KiB 4-way L1s, 512 KiB 8-way LL', { I1: g(16384, 4, 128), D1: g(16384, 4, 128), LL: g(524288, 8, 128) }), extraSets: ['dram.burstLength=16'] },
];

interface SimCounts { l1i: LevelCounts; l1d: LevelCounts; ll: LevelCounts }

/** Runs `jobs` with at most `n` at a time (the CLI runs are CPU-bound; CI has two cores). */
async function pool<T>(jobs: Array<() => Promise<T>>, n: number): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => { while (next < jobs.length) { const i = next++; out[i] = await jobs[i]!(); } };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  return out;
}

/** Imports the lackey log with the CLI and replays it once per case with the CLI. */
async function replayAll(lackeyLog: string, dir: string): Promise<{ trace: string; sims: SimCounts[] }> {
  const trace = path.join(dir, 'gzip-cli.armtrc');
  const imp = await armsimAsync(['trace', 'import', '--from', 'lackey', lackeyLog, '-o', trace]);
  if (imp.code !== 0) throw new Error(`armsim trace import failed (${imp.code}): ${imp.stderr}`);
  const sims = await pool(CASES.map((c) => async (): Promise<SimCounts> => {
    const args = ['replay', trace, '--platform', 'cachegrind', '--json', ...[...c.sets, ...(c.extraSets ?? [])].flatMap((s) => ['--set', s])];
    const r = await armsimAsync(args);
    if (r.code !== 0) throw new Error(`armsim ${args.join(' ')} exited with ${r.code}: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { end: { reason: string }; stats: { system: { cpu0: { l1i: LevelCounts; l1d: LevelCounts }; ll: LevelCounts } } };
    if (out.end.reason !== 'done') throw new Error(`armsim ${args.join(' ')}: ended with ${out.end.reason}`);
    return { l1i: out.stats.system.cpu0.l1i, l1d: out.stats.system.cpu0.l1d, ll: out.stats.system.ll };
  }), 2);
  return { trace, sims };
}

/** Ops of each kind that touch two lines of `lineBytes` (indexed by OpCode Load, Store, Fetch). */
function straddles(tracePath: string, lineBytes: number): number[] {
  const n = [0, 0, 0];
  forEachOp(tracePath, (op, addr, size) => {
    if (op <= OpCode.Fetch && Math.floor(addr / lineBytes) !== Math.floor((addr + size - 1) / lineBytes)) n[op]!++;
  });
  return n;
}

/** Cachegrind's rules on the trace with every access cut at line boundaries (and an M as the load then the store the trace has). */
function cachegrindOnLinePieces(tracePath: string, config: CachegrindConfig): CachegrindTotals {
  const model = new CachegrindModel(config);
  const lb = config.I1.lineBytes;
  forEachOp(tracePath, (op, addr, size) => {
    if (op <= OpCode.Fetch) forEachLinePiece(addr, size, lb, (a, s) => model.ref(op, a, s));
  });
  return model.totals;
}

describe('cachegrind oracle through the CLI: armsim replay --platform cachegrind on a lackey trace of gzip', () => {
  const oracle = useGzipOracle('armsim-cg-replay-', CASES.map((c) => c.config), (o) => replayAll(o.lackeyLog, o.dir), 150_000);
  const rows: string[] = [];

  it('the CLI import saw the same references as lackey and cachegrind', () => {
    const { imported, cgLogs, extra } = oracle();
    const cg = parseCachegrindLog(cgLogs[0]!);
    const modifies = imported.loads + imported.stores + imported.fetches - imported.records;
    expect(cg.iRefs).toBe(imported.fetches);
    expect(cg.dReadRefs).toBe(imported.loads);                 // rd = L + M
    expect(cg.dWriteRefs).toBe(imported.stores - modifies);    // wr = S
    let ops = 0;
    forEachOp(extra.trace, () => { ops++; });
    expect(ops).toBe(imported.ops);                             // no access above 64 bytes: nothing split by the importer
    expect(imported.ops).toBe(imported.records + modifies);
  });

  for (const [i, c] of CASES.entries()) {
    it(`${c.name}: cachegrind used this geometry and CachegrindModel reproduces its totals`, () => {
      const { cgLogs, cgOuts, extra } = oracle();
      for (const [label, geo] of [['I1', c.config.I1], ['D1', c.config.D1], ['LL', c.config.LL]] as const) {
        expect(cgOuts[i]).toContain(`desc: ${label} cache:         ${geo.sizeBytes} B, ${geo.lineBytes} B, ${geo.ways === 1 ? 'direct-mapped' : `${geo.ways}-way associative`}`);
      }
      const model = new CachegrindModel(c.config);
      const reader = TraceReader.open(extra.trace);
      const totals = model.replay(reader.cursor(0));
      reader.close();
      expect(model.summary()).toEqual(parseCachegrindLog(cgLogs[i]!));
      expect(totals.Ir).toBeGreaterThan(500_000);
    });

    it(`${c.name}: simulator vs cachegrind I1, D1 and LL misses (exact per line; straddling references explain the whole residual)`, () => {
      const { imported, cgLogs, extra } = oracle();
      const sim = extra.sims[i]!;
      const cg = parseCachegrindLog(cgLogs[i]!);
      const lb = c.config.I1.lineBytes;
      const [sLoads, sStores, sFetches] = straddles(extra.trace, lb);
      const modifies = imported.loads + imported.stores + imported.fetches - imported.records;

      // References, counted from the trace: one per line touched, and an M is a load and a store.
      expect(sim.l1i.readHits + sim.l1i.readMisses).toBe(cg.iRefs + sFetches!);
      expect(sim.l1i.writeHits + sim.l1i.writeMisses).toBe(0);
      expect(sim.l1d.readHits + sim.l1d.readMisses).toBe(cg.dReadRefs + sLoads!);
      expect(sim.l1d.writeHits + sim.l1d.writeMisses).toBe(cg.dWriteRefs + modifies + sStores!);

      // Misses: exactly cachegrind's rules on the line pieces, at every level and for each kind.
      const p = cachegrindOnLinePieces(extra.trace, c.config);
      expect({
        I1: sim.l1i.readMisses, D1r: sim.l1d.readMisses, D1w: sim.l1d.writeMisses,
        LLr: sim.ll.readMisses, LLw: sim.ll.writeMisses,
        LLrefs: sim.ll.readHits + sim.ll.readMisses + sim.ll.writeHits + sim.ll.writeMisses,
      }).toEqual({ I1: p.I1mr, D1r: p.D1mr, D1w: p.D1mw, LLr: p.ILmr + p.DLmr, LLw: p.DLmw, LLrefs: p.I1mr + p.D1mr + p.D1mw });

      // Against cachegrind itself: the residual. At the L1s it is the straddling references that
      // missed both their lines, so it lies in [0, straddling references of that side].
      const simI1 = sim.l1i.readMisses, simD1 = sim.l1d.readMisses + sim.l1d.writeMisses, simLL = sim.ll.readMisses + sim.ll.writeMisses;
      rows.push(`${c.name}: I1 sim ${simI1} cg ${cg.i1Misses} (+${simI1 - cg.i1Misses}); D1 sim ${simD1} cg ${cg.d1Misses} (+${simD1 - cg.d1Misses}); ` +
        `LL sim ${simLL} cg ${cg.llMisses} (${simLL - cg.llMisses >= 0 ? '+' : ''}${simLL - cg.llMisses}); straddling refs L/S/I ${sLoads}/${sStores}/${sFetches}`);
      expect(simI1 - cg.i1Misses).toBeGreaterThanOrEqual(0);
      expect(simI1 - cg.i1Misses).toBeLessThanOrEqual(sFetches!);
      expect(simD1 - cg.d1Misses).toBeGreaterThanOrEqual(0);
      expect(simD1 - cg.d1Misses).toBeLessThanOrEqual(sLoads! + sStores!);
    });
  }

  // ARMSIM_ORACLE_REPORT=1 prints the measured counts and residuals.
  afterAll(() => { if (process.env.ARMSIM_ORACLE_REPORT && rows.length > 0) console.log(rows.join('\n')); });
});
