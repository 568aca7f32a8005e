/**
 * `npm run bench [filter]`: runs every `*.bench.js` beside this file (in dist/bench), in bench
 * name order, optionally only those whose name contains `filter`; prints a table and writes
 * bench/results/latest.json. Exits 0 when targets are missed (that is reported, not an error) and
 * 1 only when a bench throws.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { allBenches, formatTable, verdict } from './harness.js';
import type { BenchResult } from './harness.js';
import { tuneV8 } from '../src/sim/index.js';

tuneV8();                      // as armsim replay does (src/sim/host-tuning.ts): the replay figures are what users get

const here = dirname(fileURLToPath(import.meta.url));

/** The nearest directory at or above `dir` holding package.json (dist/bench -> the project). */
function projectRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return dir;
  }
}

for (const file of readdirSync(here).filter((f) => f.endsWith('.bench.js')).sort()) {
  await import(pathToFileURL(join(here, file)).href);
}

const filter = process.argv[2];
const benches = allBenches().filter((b) => filter === undefined || b.name.includes(filter));
if (benches.length === 0) {
  console.error(`no bench matches ${JSON.stringify(filter)}; have: ${allBenches().map((b) => b.name).join(', ')}`);
  process.exit(1);
}

const results: BenchResult[] = [];
const errors: { bench: string; error: string }[] = [];
for (const b of benches) {
  process.stderr.write(`running ${b.name} ...\n`);
  try {
    results.push(...(await b.run()));
  } catch (e) {
    errors.push({ bench: b.name, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
}

console.log(formatTable(results));
for (const e of errors) console.error(`bench ${e.bench} failed:\n${e.error}`);
const missed = results.filter((r) => verdict(r) === 'FAIL').length;
if (missed > 0) console.log(`\n${missed} result(s) missed their target.`);

const outDir = join(projectRoot(here), 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const outFile = join(outDir, 'latest.json');
const report = {
  machine: { node: process.version, v8: process.versions.v8, platform: process.platform, arch: process.arch, cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length },
  filter: filter ?? null,
  results: results.map((r) => ({ ...r, verdict: verdict(r) })),
  errors,
};
writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n');
console.log(`\nwrote ${outFile}`);
process.exitCode = errors.length > 0 ? 1 : 0;
