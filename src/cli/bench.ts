import { writeReport } from './report.js';
import { startProgress } from './progress.js';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../sim/index.js';
import { parseCommandArgs } from './args.js';
import { SUITES, cellsOf, runSweep, RECORDS_JSONL, RECORDS_CSV, type Suite, type SweepRecord, type SweepResult } from '../sweep/index.js';

export const BENCH_HELP = `Usage: armsim bench <suite> [--platform P,...] [--jobs N] [--out DIR] [--resume] [--json]
                    [--quick] [--axis NAME=V,...]... [--seeds N,...]

Runs every cell of a suite (scenario × platform × axes × seeds), each as 'armsim run' would, on a
pool of N worker threads. Records are written as runs finish: DIR/records.jsonl (one JSON object
per run, completion order) and DIR/records.csv (cell order, no host timing). Prints a table of the
cells and their measured quantities at the end; with --json, one JSON object instead.

  --platform P,...   platforms (default: the suite's)
  --jobs N           worker threads (default: available cores)
  --out DIR          where records go (default: bench/results/<suite>); refuses a DIR that
                     already holds records unless --resume
  --resume           keep DIR's records; run only the cells missing there
  --quick            the axes' small values (a smoke run)
  --axis NAME=V,...  replace one axis's values (repeatable), e.g. --axis image=1MiB,4MiB
  --seeds N,...      seeds (default: the suite's)
  --json             print one JSON object summarizing the suite

Records hold no host-dependent value outside their 'host' field: the same suite and seeds give
the same records whatever --jobs is.

Exit codes: 0 every run passed its checks, 1 a check failed, 2 bad input, 3 a run threw.

Suites:
${SUITES.map((s) => `  ${s.name.padEnd(18)} ${s.description}`).join('\n')}
  ${'speed'.padEnd(18)} the simulator's own speed benchmarks (bench/*.bench.ts, as 'npm run bench'):
                     prints their table and writes bench/results/latest.json; --only NAME runs the
                     benchmarks whose name contains NAME (e.g. --only cache-build)
`;

const OPTIONS = {
  platform: { type: 'string' },
  jobs: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  json: { type: 'boolean' },
  quick: { type: 'boolean' },
  axis: { type: 'string', multiple: true },
  seeds: { type: 'string' },
  only: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `armsim bench ...`: returns the exit code; throws UserError on bad input. */
export async function runBenchCommand(args: readonly string[]): Promise<number> {
  const p = parseCommandArgs('bench', args, OPTIONS);
  const v = p.values;
  if (v.help) { process.stdout.write(BENCH_HELP); return 0; }
  const names = [...SUITES.map((s) => s.name), 'speed'].join(', ');
  if (p.positionals.length === 1 && p.positionals[0] === 'speed') return runSpeedSuite(v);
  if (v.only !== undefined) throw new UserError(`bench: --only applies to the speed suite only`);
  if (p.positionals.length !== 1) throw new UserError(`bench: expected one suite (got ${p.positionals.length}; accepted: ${names})`);
  const suite = SUITES.find((s) => s.name === p.positionals[0]);
  if (!suite) throw new UserError(`bench: unknown suite '${p.positionals[0]}' (accepted: ${names})`);

  const jobs = v.jobs === undefined ? availableParallelism() : intFlag('--jobs', v.jobs, 1, 1024);
  const platforms = v.platform === undefined ? undefined : listFlag('--platform', v.platform);
  const seeds = v.seeds === undefined ? undefined : listFlag('--seeds', v.seeds).map((s) => intFlag('--seeds', s, 0, 2 ** 32 - 1));
  const axes = new Map<string, string[]>();
  for (const a of v.axis ?? []) {
    const m = /^([\w-]+)=(.+)$/.exec(a);
    if (!m) throw new UserError(`--axis must be NAME=V,... (got '${a}')`);
    axes.set(m[1]!, listFlag(`--axis ${m[1]}`, m[2]!));
  }
  const out = v.out ?? join('bench', 'results', suite.name);
  const cells = cellsOf(suite, { platforms, quick: v.quick === true, axes, seeds });

  const json = v.json === true;
  const t0 = performance.now();
  let recorded = 0;
  // Runs done of those to run this time (resumed ones left out), rate, ETA and the last verdict.
  const bar = startProgress(json, { label: suite.name, unit: 'runs', total: cells.filter((c) => c.skip === undefined).length });
  const onSigint = () => {
    bar?.stop();
    process.stderr.write(`armsim: bench interrupted: ${recorded} runs recorded in ${out} this time (--resume continues)\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  let res: SweepResult;
  try {
    res = await runSweep({
      suite, cells, jobs, out, resume: v.resume === true,
      onRecord: (r, done, total) => {
        recorded++;
        if (recorded === 1 && done > 1) bar?.setTotal(total - (done - 1));   // done counts the resumed runs
        bar?.update(recorded, `${r.verdict} ${r.key}`);
      },
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
    bar?.stop();
  }
  const wallSeconds = Math.round(performance.now() - t0) / 1000;

  if (json) {
    const counts = verdictCounts(res.records);
    const summary = {
      suite: suite.name, description: suite.description, out,
      platforms: platforms ?? suite.platforms, axes: Object.fromEntries(suite.axes.map((a) => [a.name, [...new Set(cells.map((c) => c.coords[a.name]!))]])),
      seeds: seeds ?? suite.seeds, measures: suite.measures.map((m) => m.path),
      cells: cells.length, ...counts, skipped: res.skipped.length,
      records: res.records.map(({ host: _host, ...r }) => r),
      skippedCells: res.skipped,
      host: { wallSeconds, jobs, ran: res.ran, resumed: res.resumed, node: process.version },
    };
    process.stdout.write(JSON.stringify(summary) + '\n');
  } else {
    process.stdout.write(tableText(suite, res, cells.length, out));
    if (res.records.length > 0) {
      const { htmlPath, mdPath } = await writeReport(out);
      process.stdout.write(`  report: ${htmlPath} (plots and tables; ${mdPath} in Markdown)\n`);
    }
    process.stdout.write(`  (${wallSeconds} s wall, ${res.ran} runs on ${jobs} worker${jobs > 1 ? 's' : ''}, ${res.resumed} resumed)\n`);
  }
  const c = verdictCounts(res.records);
  return c.error > 0 ? 3 : c.fail > 0 ? 1 : 0;
}

/**
 * The speed suite: the per-block speed benchmarks (dist/bench/run.js, what `npm run bench` runs)
 * in a child process, so their timings are not disturbed by this one. Returns its exit code.
 */
function runSpeedSuite(v: { only?: string; platform?: string; jobs?: string; out?: string; resume?: boolean; json?: boolean; quick?: boolean; axis?: string[]; seeds?: string }): number {
  for (const k of ['platform', 'jobs', 'out', 'resume', 'json', 'quick', 'axis', 'seeds'] as const) {
    if (v[k] !== undefined) throw new UserError(`bench: --${k} does not apply to the speed suite (accepted: --only NAME)`);
  }
  const runner = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
  if (!existsSync(runner)) throw new UserError(`bench: the speed benchmarks are not built (${runner} is missing): run npm run build`);
  const r = spawnSync(process.execPath, [runner, ...(v.only !== undefined ? [v.only] : [])], { stdio: 'inherit' });
  return r.status ?? 3;
}

function verdictCounts(records: readonly SweepRecord[]): { pass: number; fail: number; error: number } {
  const n = { pass: 0, fail: 0, error: 0 };
  for (const r of records) n[r.verdict]++;
  return n;
}

/** The cells × measured quantities, in cell order, then the skipped cells grouped by reason. */
function tableText(suite: Suite, res: SweepResult, cellCount: number, out: string): string {
  const multiScenario = suite.scenarios.length > 1;
  const multiSeed = new Set(res.records.map((r) => r.seed)).size > 1;
  const head = [...(multiScenario ? ['scenario'] : []), 'platform', ...suite.axes.map((a) => a.name), ...(multiSeed ? ['seed'] : []), 'verdict', ...suite.measures.map((m) => m.label), 'cycles'];
  const rows = res.records.map((r) => [
    ...(multiScenario ? [r.scenario] : []), r.platform, ...suite.axes.map((a) => r.coords[a.name] ?? ''), ...(multiSeed ? [String(r.seed)] : []),
    r.verdict === 'fail' ? `FAIL(${r.failed.join(',')})` : r.verdict === 'error' ? 'ERROR' : 'pass',
    ...suite.measures.map((m) => String(r.measured[m.path] ?? '-')), String(r.cycles),
  ]);
  const numeric = head.map((_, i) => rows.length > 0 && rows.every((row) => /^-?\d+(\.\d+)?$|^-$/.test(row[i]!)));
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cols: readonly string[]) => cols.map((s, i) => (numeric[i] ? s.padStart(width[i]!) : s.padEnd(width[i]!))).join('  ').trimEnd();
  const lines = [`${suite.name}: ${cellCount} cells, ${res.records.length} run, ${res.skipped.length} skipped`, line(head), ...rows.map(line)];
  for (const r of res.records) if (r.verdict === 'error') lines.push(`  error in ${r.key}: ${r.error}`);
  const byReason = new Map<string, string[]>();
  for (const s of res.skipped) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.key]);
  for (const [reason, keys] of byReason) {
    const platforms = [...new Set(keys.map((k) => k.split('/')[1]))].join(', ');
    lines.push(`  skipped ${keys.length} cell${keys.length > 1 ? 's' : ''} on ${platforms}: ${reason}`);
  }
  lines.push(`  records: ${join(out, RECORDS_JSONL)}, ${join(out, RECORDS_CSV)}`);
  return lines.join('\n') + '\n';
}

function listFlag(name: string, s: string): string[] {
  const items = s.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) throw new UserError(`${name} must be a comma-separated list with no empty items (got '${s}')`);
  return items;
}

function intFlag(name: string, s: string, min: number, max: number): number {
  const n = /^\d[\d_]*$/.test(s) ? Number(s.replace(/_/g, '')) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UserError(`${name} must be an integer from ${min} to ${max} (got '${s}')`);
  return n;
}
