import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { unpack } from 'msgpackr';
import { UserError } from '../sim/index.js';
import type { Suite } from './suites.js';
import type { Cell } from './grid.js';
import type { CellTask, CellResult } from './worker.js';

/**
 * One finished run. Everything outside `host` depends only on the suite, the cell and the seed,
 * never on the job count or completion order.
 */
export interface SweepRecord {
  suite: string;
  key: string;
  scenario: string;
  platform: string;
  coords: Record<string, string>;
  sets: string[];
  seed: number;
  /** `error`: the run threw (its message is in `error`). */
  verdict: 'pass' | 'fail' | 'error';
  /** Total simulated cycles of the run (0 after an error). */
  cycles: number;
  /** The suite's measures, by path (`staleBytes.bytes`); null where the check lacks the field. */
  measured: Record<string, unknown>;
  /** Names of the checks that failed. */
  failed: string[];
  end?: { reason: string; diagnosis?: string };
  params?: Record<string, unknown>;
  checks?: Record<string, unknown>;
  error?: string;
  /** Wall time, events/s, RSS, Node version: not deterministic, left out of every comparison. */
  host: Record<string, unknown>;
}

export const RECORDS_JSONL = 'records.jsonl';
export const RECORDS_CSV = 'records.csv';

/** Runs cells. The worker pool is one implementation; its results are independent of `jobs`. */
export interface CellExecutor {
  run(task: CellTask): Promise<CellResult>;
  close(): Promise<void>;
}

/** Each cell in a worker thread of a piscina pool; results come back msgpackr-encoded. */
export class PoolCellExecutor implements CellExecutor {
  private pool: Piscina;
  constructor(jobs: number) {
    this.pool = new Piscina({ filename: workerUrl().href, minThreads: jobs, maxThreads: jobs, idleTimeout: 60_000 });
  }
  async run(task: CellTask): Promise<CellResult> {
    const bytes = (await this.pool.run(task)) as Uint8Array;
    return unpack(bytes) as CellResult;
  }
  close(): Promise<void> { return this.pool.destroy(); }
}

/**
 * worker.js beside this file: dist/src/sweep/ after `npm run build`. From the TypeScript sources
 * (vitest) there is no worker.js beside this file and a worker thread cannot load .ts on Node 20,
 * so use the built one.
 */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('../../dist/src/sweep/worker.js', import.meta.url) : new URL('./worker.js', import.meta.url);
}

export interface SweepOptions {
  suite: Suite;
  cells: readonly Cell[];
  jobs: number;
  out: string;
  /** Keep DIR's records and run only the cells missing there (or that ended in an error). */
  resume: boolean;
  executor?: CellExecutor;
  /** Called after each record is written (progress display). */
  onRecord?: (r: SweepRecord, done: number, total: number) => void;
}

export interface SweepResult {
  /** Records of this grid's cells, in cell order (resumed ones included). */
  records: SweepRecord[];
  skipped: { key: string; reason: string }[];
  ran: number;
  resumed: number;
}

/**
 * Runs a suite's cells and writes each record as it arrives: a line appended to DIR/records.jsonl
 * (completion order), and DIR/records.csv rewritten in cell order (an atomic rename), so an
 * interrupted sweep keeps every finished run.
 */
export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  mkdirSync(o.out, { recursive: true });
  const jsonlPath = join(o.out, RECORDS_JSONL);
  const byKey = new Map<string, SweepRecord>();
  if (existsSync(jsonlPath) && readFileSync(jsonlPath, 'utf8').trim() !== '') {
    if (!o.resume) throw new UserError(`--out: '${o.out}' already holds records (${RECORDS_JSONL}); pass --resume to continue that sweep, or choose another --out`);
    for (const r of readRecords(jsonlPath)) {
      if (r.suite !== o.suite.name) throw new UserError(`--resume: '${o.out}' holds records of suite '${r.suite}', not '${o.suite.name}'`);
      byKey.set(r.key, r);
    }
  }
  const order = new Map(o.cells.map((c) => [c.key, c.index]));
  const done = (c: Cell): boolean => {
    const r = byKey.get(c.key);
    return r !== undefined && r.verdict !== 'error' && sameSets(r.sets, c.sets) && r.seed === c.seed;
  };
  const runnable = o.cells.filter((c) => c.skip === undefined);
  const todo = runnable.filter((c) => !done(c));
  const resumed = runnable.length - todo.length;
  writeCsv(o.out, o.suite, [...byKey.values()], order);

  if (todo.length > 0) {
    const exec = o.executor ?? new PoolCellExecutor(Math.max(1, Math.min(o.jobs, todo.length)));
    let finished = resumed;
    try {
      await Promise.all(todo.map(async (c) => {
        const res = await exec.run({ scenario: c.scenario, platform: c.platform, sets: c.sets, seed: c.seed });
        const r = recordOf(o.suite, c, res);
        appendFileSync(jsonlPath, JSON.stringify(r) + '\n');
        byKey.set(r.key, r);
        writeCsv(o.out, o.suite, [...byKey.values()], order);
        o.onRecord?.(r, ++finished, runnable.length);
      }));
    } finally {
      await exec.close();
    }
  }
  return {
    records: runnable.map((c) => byKey.get(c.key)!),
    skipped: o.cells.filter((c) => c.skip !== undefined).map((c) => ({ key: c.key, reason: c.skip! })),
    ran: todo.length,
    resumed,
  };
}

function recordOf(suite: Suite, c: Cell, res: CellResult): SweepRecord {
  const base = { suite: suite.name, key: c.key, scenario: c.scenario, platform: c.platform, coords: c.coords, sets: c.sets, seed: c.seed };
  if (!res.ok) {
    return { ...base, verdict: 'error', cycles: 0, measured: Object.fromEntries(suite.measures.map((m) => [m.path, null])), failed: [], error: res.message.split('\n')[0]!, host: {} };
  }
  const { host, checks, ...rep } = res.report;
  const measured: Record<string, unknown> = {};
  const at = (path: string): unknown => {
    const [check, field] = path.split('.') as [string, string];
    return (checks[check] as Record<string, unknown> | undefined)?.[field];
  };
  for (const m of suite.measures) measured[m.path] = [m.path, ...(m.or ?? [])].map(at).find((v) => v !== undefined) ?? null;
  return {
    ...base, verdict: rep.verdict, cycles: rep.cycles, measured,
    failed: Object.entries(checks).filter(([, ch]) => !ch.pass).map(([n]) => n),
    end: rep.end, params: rep.params, checks, host,
  };
}

/** The records in a jsonl file; a line cut short by an interruption is dropped and the file rewritten without it. */
export function readRecords(path: string): SweepRecord[] {
  const text = readFileSync(path, 'utf8');
  const out: SweepRecord[] = [];
  let clean = text.endsWith('\n');
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as SweepRecord;
      if (typeof r.key === 'string' && typeof r.suite === 'string') { out.push(r); continue; }
    } catch { /* cut short */ }
    clean = false;
  }
  if (!clean) writeFileSync(path, out.map((r) => JSON.stringify(r) + '\n').join(''));
  return out;
}

const sameSets = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((s, i) => s === b[i]);

/** Records in cell order; records of cells outside this grid (an earlier, wider sweep) after them, by key. */
export function sortRecords<R extends { key: string }>(records: readonly R[], order: ReadonlyMap<string, number>): R[] {
  return [...records].sort((a, b) => {
    const ia = order.get(a.key) ?? Infinity, ib = order.get(b.key) ?? Infinity;
    return ia !== ib ? ia - ib : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  });
}

/** DIR/records.csv: every record in DIR, no host fields, so the file is identical whatever the job count. */
function writeCsv(out: string, suite: Suite, records: readonly SweepRecord[], order: ReadonlyMap<string, number>): void {
  const axes = suite.axes.map((a) => a.name);
  const head = ['suite', 'key', 'scenario', 'platform', ...axes, 'seed', 'verdict', 'cycles', ...suite.measures.map((m) => m.path), 'failed', 'error'];
  const rows = sortRecords(records, order).map((r) => [
    r.suite, r.key, r.scenario, r.platform, ...axes.map((a) => r.coords[a] ?? ''), r.seed, r.verdict, r.cycles,
    ...suite.measures.map((m) => r.measured[m.path] ?? ''), r.failed.join(' '), r.error ?? '',
  ]);
  const text = [head, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
  const path = join(out, RECORDS_CSV);
  writeFileSync(path + '.tmp', text);
  renameSync(path + '.tmp', path);
}

function csvField(v: unknown): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
