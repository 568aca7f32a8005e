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
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachegrindModel, DineroModel, type CachegrindConfig, type CachegrindSummary } from '../src/cache/index.js';
import { OpCode, TraceReader, importLackey } from '../src/core/index.js';
import type { LackeyImportResult } from '../src/core/lackey.js';
import { ReqKind } from '../src/sim/index.js';

const g = (sizeBytes: number, ways: number, lineBytes: number) => ({ sizeBytes, ways, lineBytes });
const arg = (c: { sizeBytes: number; ways: number; lineBytes: number }) => `${c.sizeBytes},${c.ways},${c.lineBytes}`;

const GEOMETRIES: Array<{ name: string; config: CachegrindConfig }> = [
  { name: '32 KiB 8-way L1s, 1 MiB 16-way LL', config: { I1: g(32768, 8, 64), D1: g(32768, 8, 64), LL: g(1048576, 16, 64) } },
  { name: '64 KiB 4-way L1s, 256 KiB 8-way LL', config: { I1: g(65536, 4, 64), D1: g(65536, 4, 64), LL: g(262144, 8, 64) } },
  { name: '4 KiB 2-way L1s, 64 KiB 4-way LL (many misses)', config: { I1: g(4096, 2, 64), D1: g(4096, 2, 64), LL: g(65536, 4, 64) } },
  // Direct-mapped L1s with 32-byte lines under a 128-byte-line LL: lines straddle differently per
  // level. (32 is cachegrind's smallest line on amd64: it must hold the largest register, a YMM.)
  { name: 'direct-mapped 32-byte-line L1s, 128-byte-line LL', config: { I1: g(16384, 1, 32), D1: g(2048, 1, 32), LL: g(32768, 2, 128) } },
];

const VALGRIND_MISSING = 'valgrind is not installed: the cache oracle needs valgrind (lackey and cachegrind); .ci/run installs it (apt-get install valgrind)';

interface Run { code: number | null; stderr: string }

function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Same minimal environment for every run, so the client's initial stack is identical.
    const child = spawn(cmd, args, { cwd, env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The closing summary of a cachegrind log: "I   refs:  845,805", "D1  misses:  5,198  (3,402 rd + 1,796 wr)" ... */
function parseCachegrindLog(text: string): CachegrindSummary {
  const num = (s: string | undefined): number => Number((s ?? '').replace(/,/g, ''));
  const one = (label: string): number => {
    const m = new RegExp(`^==\\d+== ${label}:\\s+([\\d,]+)\\s*$`, 'm').exec(text);
    if (m === null) throw new Error(`cachegrind log: no "${label}" line in:\n${text}`);
    return num(m[1]);
  };
  const split = (label: string): [number, number, number] => {
    const m = new RegExp(`^==\\d+== ${label}:\\s+([\\d,]+)\\s+\\(\\s*([\\d,]+) rd\\s+\\+\\s+([\\d,]+) wr\\)`, 'm').exec(text);
    if (m === null) throw new Error(`cachegrind log: no "${label}" line in:\n${text}`);
    return [num(m[1]), num(m[2]), num(m[3])];
  };
  const [dRefs, dReadRefs, dWriteRefs] = split('D   refs');
  const [d1Misses, d1ReadMisses, d1WriteMisses] = split('D1  misses');
  const [lldMisses, lldReadMisses, lldWriteMisses] = split('LLd misses');
  const [llRefs, llReadRefs, llWriteRefs] = split('LL refs');
  const [llMisses, llReadMisses, llWriteMisses] = split('LL misses');
  return {
    iRefs: one('I   refs'), i1Misses: one('I1  misses'), lliMisses: one('LLi misses'),
    dRefs, dReadRefs, dWriteRefs, d1Misses, d1ReadMisses, d1WriteMisses,
    lldMisses, lldReadMisses, lldWriteMisses, llRefs, llReadRefs, llWriteRefs, llMisses, llReadMisses, llWriteMisses,
  };
}

describe('cachegrind oracle: lackey trace of gzip replayed through CachegrindModel', () => {
  let dir = '';
  let tracePath = '';
  let imported: LackeyImportResult;
  const cgLogs: string[] = [];
  const cgOuts: string[] = [];
  /** Why the valgrind runs could not be made; every test then fails with it (never skips). */
  let setupError: Error | undefined;
  const ready = (): void => { if (setupError !== undefined) throw setupError; };

  beforeAll(async () => {
    try {
      await setUp();
    } catch (e) {
      setupError = e instanceof Error ? e : new Error(String(e));
    }
  }, 120_000);

  async function setUp(): Promise<void> {
    const probe = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
    if (probe.error !== undefined || probe.status !== 0) throw new Error(VALGRIND_MISSING);
    const gzip = ['/usr/bin/gzip', '/bin/gzip'].find((p) => fs.existsSync(p));
    if (gzip === undefined) throw new Error('gzip is not installed (/usr/bin/gzip): the cache oracle runs it under valgrind');

    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armsim-cg-oracle-'));
    // 4 KiB of text from a fixed LCG: deterministic input, compressible enough to exercise gzip.
    const input = Buffer.alloc(4096);
    for (let i = 0, x = 12345; i < input.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      input[i] = 0x61 + ((x >>> 24) % 17);
    }
    fs.writeFileSync(path.join(dir, 'in.txt'), input);
    const program = [gzip, '-n', '-c', 'in.txt'];

    const runs: Array<Promise<Run>> = [
      run('valgrind', ['--tool=lackey', '--trace-mem=yes', '--log-file=lackey.log', ...program], dir),
      ...GEOMETRIES.map(({ config }, i) => run('valgrind', [
        '--tool=cachegrind', '--cache-sim=yes', `--I1=${arg(config.I1)}`, `--D1=${arg(config.D1)}`, `--LL=${arg(config.LL)}`,
        `--cachegrind-out-file=cg-${i}.out`, `--log-file=cg-${i}.log`, ...program,
      ], dir)),
    ];
    const results = await Promise.all(runs);
    results.forEach((r, i) => { if (r.code !== 0) throw new Error(`valgrind run ${i} exited with ${r.code}: ${r.stderr}`); });
    for (let i = 0; i < GEOMETRIES.length; i++) {
      cgLogs.push(fs.readFileSync(path.join(dir, `cg-${i}.log`), 'utf8'));
      cgOuts.push(fs.readFileSync(path.join(dir, `cg-${i}.out`), 'utf8'));
    }
    tracePath = path.join(dir, 'gzip.armtrc');
    imported = importLackey(path.join(dir, 'lackey.log'), tracePath);
  }

  afterAll(() => { if (dir !== '') fs.rmSync(dir, { recursive: true, force: true }); });

  it('runs on a trace where lackey and cachegrind saw the same references', () => {
    ready();
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
      ready();
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
    ready();
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
