/**
 * The cachegrind oracle: a real program's lackey trace, imported as an armsim trace and replayed
 * through CachegrindModel, must give exactly the totals that Valgrind's cachegrind prints for the
 * same program and geometry.
 *
 * The program is `gzip -n -c` of a 4 KiB file of generated text (about 1.2 M accesses under
 * valgrind, ~1 s per run). Lackey and cachegrind are two separate runs of it, so both get the
 * same argv, working directory, a minimal fixed environment (so the initial stack is laid out
 * identically) and /dev/null as stdout. Valgrind disables ASLR for its client and places the
 * client's mappings itself, so the two runs see the same addresses; the test checks that the
 * instruction and data reference counts agree before comparing misses.
 *
 * Needs valgrind (lackey + cachegrind); `.ci/run` installs it. Without it this test fails.
 */
import { describe, expect, it } from 'vitest';
import { CachegrindModel, DineroModel, type CachegrindConfig } from '../src/cache/index.js';
import { OpCode, TraceReader } from '../src/core/index.js';
import { ReqKind } from '../src/sim/index.js';
import { g, parseCachegrindLog, useGzipOracle } from './oracle-helpers.js';

const GEOMETRIES: Array<{ name: string; config: CachegrindConfig }> = [
  { name: '32 KiB 8-way L1s, 1 MiB 16-way LL', config: { I1: g(32768, 8, 64), D1: g(32768, 8, 64), LL: g(1048576, 16, 64) } },
  { name: '64 KiB 4-way L1s, 256 KiB 8-way LL', config: { I1: g(65536, 4, 64), D1: g(65536, 4, 64), LL: g(262144, 8, 64) } },
  { name: '4 KiB 2-way L1s, 64 KiB 4-way LL (many misses)', config: { I1: g(4096, 2, 64), D1: g(4096, 2, 64), LL: g(65536, 4, 64) } },
  // Direct-mapped L1s with 32-byte lines under a 128-byte-line LL: lines straddle differently per
  // level. (32 is cachegrind's smallest line on amd64: it must hold the largest register, a YMM.)
  { name: 'direct-mapped 32-byte-line L1s, 128-byte-line LL', config: { I1: g(16384, 1, 32), D1: g(2048, 1, 32), LL: g(32768, 2, 128) } },
];

describe('cachegrind oracle: lackey trace of gzip replayed through CachegrindModel', () => {
  const oracle = useGzipOracle('armsim-cg-oracle-', GEOMETRIES.map((x) => x.config));

  it('runs on a trace where lackey and cachegrind saw the same references', () => {
    const { imported, cgLogs } = oracle();
    // The cache model's reference kinds are the trace's op codes.
    expect([ReqKind.Read, ReqKind.Write, ReqKind.Fetch]).toEqual([OpCode.Load, OpCode.Store, OpCode.Fetch]);
    const modifies = imported.loads + imported.stores + imported.fetches - imported.records;
    const cg = parseCachegrindLog(cgLogs[0]!);
    expect(imported.records).toBeGreaterThan(500_000);
    expect(cg.iRefs).toBe(imported.fetches);                    // one I1 ref per lackey I record
    // D refs: rd = L + M, wr = S. A lackey M is ONE cachegrind access, counted as a read.
    expect(cg.dReadRefs).toBe(imported.loads);
    expect(cg.dWriteRefs).toBe(imported.stores - modifies);
    expect(modifies).toBeGreaterThan(1000);
  });

  for (const [i, { name, config }] of GEOMETRIES.entries()) {
    it(`matches cachegrind's I1, D1 and LL totals exactly: ${name}`, () => {
      const { tracePath, cgLogs, cgOuts } = oracle();
      // cachegrind used the geometry we asked for ("desc:" lines of its output file).
      expect(cgOuts[i]).toContain(`desc: I1 cache:         ${config.I1.sizeBytes} B, ${config.I1.lineBytes} B,`);
      expect(cgOuts[i]).toContain(`desc: LL cache:         ${config.LL.sizeBytes} B, ${config.LL.lineBytes} B,`);
      const reader = TraceReader.open(tracePath);
      const model = new CachegrindModel(config);
      const totals = model.replay(reader.cursor(0));
      reader.close();
      expect(model.summary()).toEqual(parseCachegrindLog(cgLogs[i]!));
      // And the nine per-event counters of the output file's "summary:" line.
      const line = /^summary: (.*)$/m.exec(cgOuts[i]!)?.[1]?.trim().split(/\s+/).map(Number);
      expect([totals.Ir, totals.I1mr, totals.ILmr, totals.Dr, totals.D1mr, totals.DLmr, totals.Dw, totals.D1mw, totals.DLmw]).toEqual(line);
    });
  }

  it('gives consistent Dinero-style counts on the same trace (one reference per line touched)', () => {
    const { tracePath, imported, cgLogs } = oracle();
    const reader = TraceReader.open(tracePath);
    const c = GEOMETRIES[2]!.config;
    const s = new DineroModel({ l1i: c.I1, l1d: c.D1, l2: c.LL }).replay(reader.cursor(0));
    reader.close();
    const cg = parseCachegrindLog(cgLogs[2]!);
    // Dinero splits straddling accesses and sees an M as a load and a store: never fewer references.
    expect(s.l1i.instrnRefs).toBeGreaterThanOrEqual(cg.iRefs);
    expect(s.l1d.readRefs + s.l1d.writeRefs).toBeGreaterThanOrEqual(imported.loads + imported.stores);
    // L2 sees every L1 fill and every write-back, nothing else.
    expect(s.l2.instrnRefs).toBe(s.l1i.instrnMisses);
    expect(s.l2.readRefs).toBe(s.l1d.readMisses + s.l1d.writeMisses);   // no 64-byte writes miss in this trace
    expect(s.l2.writeRefs).toBe(s.l1d.writebacks);
  });
});
