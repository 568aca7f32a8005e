/**
 * Shared by the cache oracle tests (cache-oracle, cache-oracle-replay, dinero-oracle): a real
 * program's memory trace recorded with valgrind's lackey, cachegrind runs of the same program,
 * the parsing of cachegrind's log, and the CLI run asynchronously.
 *
 * The program is `gzip -n -c` of a 4 KiB file of generated text (about 1.2 M accesses under
 * valgrind, ~1 s per run). Lackey and cachegrind are separate runs of it, so all get the same
 * argv, working directory, a minimal fixed environment (so the initial stack is laid out
 * identically) and /dev/null as stdout. Valgrind disables ASLR for its client and places the
 * client's mappings itself, so the runs see the same addresses; the tests check that the
 * instruction and data reference counts agree before comparing misses.
 *
 * Needs valgrind (lackey + cachegrind); `.ci/run` installs it. Without it the tests fail (never skip).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import type { CachegrindConfig, CachegrindSummary } from '../src/cache/index.js';
import { TraceReader, importLackey } from '../src/core/index.js';
import type { LackeyImportResult } from '../src/core/lackey.js';
import { ROOT, type CliResult } from './cli-helpers.js';

export interface Geometry { sizeBytes: number; ways: number; lineBytes: number }

export const g = (sizeBytes: number, ways: number, lineBytes: number): Geometry => ({ sizeBytes, ways, lineBytes });
/** A geometry as cachegrind's --I1/--D1/--LL take it: size,assoc,line_size. */
export const arg = (c: Geometry): string => `${c.sizeBytes},${c.ways},${c.lineBytes}`;

export const VALGRIND_MISSING = 'valgrind is not installed: the cache oracle needs valgrind (lackey and cachegrind); .ci/run installs it (apt-get install valgrind)';

export interface Run { code: number | null; stderr: string }

/** Runs `cmd` with the same minimal environment every time, so the client's initial stack is identical. */
export function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The closing summary of a cachegrind log: "I   refs:  845,805", "D1  misses:  5,198  (3,402 rd + 1,796 wr)" ... */
export function parseCachegrindLog(text: string): CachegrindSummary {
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

/** What the valgrind runs left: the lackey log, its import, and per geometry cachegrind's log and output file. */
export interface GzipOracle {
  dir: string;
  lackeyLog: string;
  /** The lackey log imported with importLackey. */
  tracePath: string;
  imported: LackeyImportResult;
  /** Per geometry (same order as given): cachegrind's log (closing summary) and its output file (desc: and summary: lines). */
  cgLogs: string[];
  cgOuts: string[];
}

/** Records gzip with lackey and runs it under cachegrind once per geometry (all in parallel). */
export async function recordGzip(prefix: string, geometries: readonly CachegrindConfig[]): Promise<GzipOracle> {
  const probe = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(VALGRIND_MISSING);
  const gzip = ['/usr/bin/gzip', '/bin/gzip'].find((p) => fs.existsSync(p));
  if (gzip === undefined) throw new Error('gzip is not installed (/usr/bin/gzip): the cache oracle runs it under valgrind');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
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
    ...geometries.map((config, i) => run('valgrind', [
      '--tool=cachegrind', '--cache-sim=yes', `--I1=${arg(config.I1)}`, `--D1=${arg(config.D1)}`, `--LL=${arg(config.LL)}`,
      `--cachegrind-out-file=cg-${i}.out`, `--log-file=cg-${i}.log`, ...program,
    ], dir)),
  ];
  const results = await Promise.all(runs);
  results.forEach((r, i) => { if (r.code !== 0) throw new Error(`valgrind run ${i} exited with ${r.code}: ${r.stderr}`); });
  const cgLogs: string[] = [], cgOuts: string[] = [];
  for (let i = 0; i < geometries.length; i++) {
    cgLogs.push(fs.readFileSync(path.join(dir, `cg-${i}.log`), 'utf8'));
    cgOuts.push(fs.readFileSync(path.join(dir, `cg-${i}.out`), 'utf8'));
  }
  const lackeyLog = path.join(dir, 'lackey.log');
  const tracePath = path.join(dir, 'gzip.armtrc');
  const imported = importLackey(lackeyLog, tracePath);
  return { dir, lackeyLog, tracePath, imported, cgLogs, cgOuts };
}

/**
 * Registers beforeAll/afterAll (call it inside a describe) that record gzip, run cachegrind for
 * `geometries` and then `extra` (more set-up that needs the recording); returns a getter for the
 * result that throws why the set-up failed, so every test fails with it (valgrind missing
 * included) instead of being skipped.
 */
export function useGzipOracle<T = undefined>(
  prefix: string,
  geometries: readonly CachegrindConfig[],
  extra?: (o: GzipOracle) => Promise<T> | T,
  timeoutMs = 120_000,
): () => GzipOracle & { extra: T } {
  let result: (GzipOracle & { extra: T }) | undefined;
  let dir = '';
  let setupError: Error | undefined;
  beforeAll(async () => {
    try {
      const o = await recordGzip(prefix, geometries);
      dir = o.dir;
      const x = extra === undefined ? (undefined as T) : await extra(o);
      result = { ...o, extra: x };
    } catch (e) {
      setupError = e instanceof Error ? e : new Error(String(e));
    }
  }, timeoutMs);
  afterAll(() => { if (dir !== '') fs.rmSync(dir, { recursive: true, force: true }); });
  return () => {
    if (setupError !== undefined) throw setupError;
    if (result === undefined) throw new Error('oracle set-up did not run');
    return result;
  };
}

const BIN = fileURLToPath(new URL('../bin/armsim.js', import.meta.url));

/** Runs the built command (npm test builds dist/ first) without blocking, so several runs share the cores. */
export function armsimAsync(args: readonly string[], opts: { cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Calls `fn(op, addr, size)` for every op of agent 0 of the trace at `tracePath`, in order. */
export function forEachOp(tracePath: string, fn: (op: number, addr: number, size: number) => void): void {
  const reader = TraceReader.open(tracePath);
  try {
    const cursor = reader.cursor(0);
    for (let c = cursor.next(); c !== null; c = cursor.next()) {
      for (let i = 0; i < c.length; i++) fn(c.op[i]!, c.addr[i]!, c.size[i]!);
    }
  } finally {
    reader.close();
  }
}

/** Calls `fn` once per `lineBytes` line the access touches, with the part of the access in that line, in address order. */
export function forEachLinePiece(addr: number, size: number, lineBytes: number, fn: (addr: number, size: number) => void): void {
  for (;;) {
    const end = (Math.floor(addr / lineBytes) + 1) * lineBytes;
    if (addr + size <= end) { fn(addr, size); return; }
    fn(addr, end - addr);
    size -= end - addr;
    addr = end;
  }
}

/** The counters of one cache level in the simulator's stats tree. */
export interface LevelCounts { readHits: number; readMisses: number; writeHits: number; writeMisses: number; writebacks: number; writebackHits?: number; writebackMisses?: number }
