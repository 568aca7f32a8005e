/**
 * Bench traces kept in the OS temp directory between runs: made once, reused while the file is
 * there, regenerated when it is missing. Not a bench itself (the runner loads only *.bench.js).
 *
 * `xzLackeyTrace` records a real program with valgrind's lackey tool and imports the log into
 * the binary trace format. The recording is the slow part (valgrind writes ~14 bytes of text per
 * access), so the text log is deleted as soon as it has been imported, and what the trace holds
 * (records, ops, tool versions, how long it took) is kept in a JSON file beside it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importLackey } from '../src/core/index.js';
import { Rng } from '../src/sim/index.js';

/** Where bench traces live: $TMPDIR (or the OS default). */
export function benchTracePath(name: string): string {
  return join(tmpdir(), name);
}

/**
 * Returns `path`, calling `make(tempPath)` first if `path` does not exist; `make` writes the
 * trace at the temp path, which is renamed into place only when it returns (so an interrupted
 * generation leaves nothing that a later run would take for a trace).
 */
export function cachedFile(path: string, make: (tempPath: string) => void): { path: string; generated: boolean } {
  if (existsSync(path)) return { path, generated: false };
  const temp = `${path}.${process.pid}.tmp`;
  try {
    make(temp);
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
  return { path, generated: true };
}

/**
 * `bytes` of semi-compressible, deterministic data (seeded): words from a 2000-word vocabulary
 * separated by spaces, with a run of 4..32 random bytes in place of a word one time in ten.
 * xz -6 compresses it to a little over half its size, so the match finder does real work (long
 * and short matches, literals).
 */
export function semiCompressibleData(bytes: number, seed = 1): Uint8Array {
  const rng = new Rng(seed).fork('bench.xz-input');
  const words: Uint8Array[] = [];
  for (let w = 0; w < 2000; w++) {
    const len = 2 + rng.nextInt(8);
    const word = new Uint8Array(len + 1);
    for (let i = 0; i < len; i++) word[i] = 0x61 + rng.nextInt(26);
    word[len] = 0x20;
    words.push(word);
  }
  const out = new Uint8Array(bytes);
  let n = 0;
  while (n < bytes) {
    if (rng.nextInt(10) === 0) {
      const run = 4 + rng.nextInt(29);
      for (let i = 0; i < run && n < bytes; i++) out[n++] = rng.nextInt(256);
    } else {
      const word = words[rng.nextInt(words.length)]!;
      for (let i = 0; i < word.length && n < bytes; i++) out[n++] = word[i]!;
    }
  }
  return out;
}

export interface LackeyTraceInfo {
  /** The binary trace (agent 0, virtual addresses). */
  path: string;
  /** True when this call recorded and imported it (else it was reused). */
  generated: boolean;
  /** The command that was traced. */
  command: string;
  inputBytes: number;
  /** Lackey access records (I, L, S, M lines) and the ops the import wrote (an M gives two). */
  records: number;
  ops: number;
  loads: number;
  stores: number;
  fetches: number;
  xzVersion: string;
  valgrindVersion: string;
  /** Wall time of the valgrind recording and of the import, when this run made the trace. */
  recordSeconds: number;
  importSeconds: number;
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`bench trace: cannot run '${cmd} ${args.join(' ')}' (${r.error?.message ?? `exit ${r.status}`}); ` +
      `the cache-replay-real bench needs valgrind and xz (apt-get install valgrind xz-utils)`);
  }
  return r.stdout.split('\n')[0]!.trim();
}

/**
 * A lackey trace of `xz -6 -c` compressing `inputBytes` of semiCompressibleData, as a binary
 * trace in the temp directory (recorded on the first call, reused afterwards). Throws when
 * valgrind or xz is missing.
 */
export function xzLackeyTrace(inputBytes: number): LackeyTraceInfo {
  const stem = `armsim-bench-xz6-${inputBytes}-lackey-v2`;
  const tracePath = benchTracePath(`${stem}.trace`);
  const metaPath = benchTracePath(`${stem}.json`);
  if (existsSync(tracePath) && existsSync(metaPath)) {
    try {
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as LackeyTraceInfo;
      if (meta.inputBytes === inputBytes && meta.ops > 0) return { ...meta, path: tracePath, generated: false };
    } catch { /* unreadable description: make both again */ }
  }
  rmSync(tracePath, { force: true });           // a trace without a usable description: make both again
  const xzVersion = firstLine('xz', ['--version']);
  const valgrindVersion = firstLine('valgrind', ['--version']);
  const input = benchTracePath(`${stem}.input.${process.pid}`);
  const log = benchTracePath(`${stem}.lackey.${process.pid}.log`);
  const command = `xz -6 -c <${inputBytes} bytes of semi-compressible text>`;
  let recordSeconds = 0, importSeconds = 0;
  let result: ReturnType<typeof importLackey> | undefined;
  try {
    writeFileSync(input, semiCompressibleData(inputBytes));
    process.stderr.write(`  recording ${command} with valgrind --tool=lackey (about a minute per 32 KiB of input) ...\n`);
    const t0 = performance.now();
    const r = spawnSync('valgrind', ['--tool=lackey', '--trace-mem=yes', `--log-file=${log}`, 'xz', '-6', '-c', input], { stdio: ['ignore', 'ignore', 'pipe'] });
    recordSeconds = (performance.now() - t0) / 1000;
    if (r.error !== undefined || r.status !== 0) {
      throw new Error(`bench trace: valgrind --tool=lackey xz -6 failed (${r.error?.message ?? `exit ${r.status}`}): ${String(r.stderr).slice(0, 500)}`);
    }
    process.stderr.write(`  importing ${(statSync(log).size / 1048576).toFixed(0)} MiB of lackey log ...\n`);
    const t1 = performance.now();
    cachedFile(tracePath, (temp) => { result = importLackey(log, temp); });
    importSeconds = (performance.now() - t1) / 1000;
  } finally {
    rmSync(input, { force: true });
    rmSync(log, { force: true });
  }
  if (result === undefined) throw new Error('bench trace: the lackey import did not run');
  const info: LackeyTraceInfo = {
    path: tracePath, generated: true, command, inputBytes,
    records: result.records, ops: result.ops, loads: result.loads, stores: result.stores, fetches: result.fetches,
    xzVersion, valgrindVersion,
    recordSeconds: Math.round(recordSeconds * 10) / 10, importSeconds: Math.round(importSeconds * 10) / 10,
  };
  writeFileSync(metaPath, JSON.stringify(info, null, 2) + '\n');
  return info;
}
