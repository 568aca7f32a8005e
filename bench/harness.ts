/**
 * Speed benchmarks: a registry, a timer and the report table.
 *
 * Benchmarks measure the simulator, they are not part of it, so this is the one place that reads
 * the wall clock. Every `*.bench.ts` beside this file registers itself on import; `run.ts` finds
 * them by file name, runs them and reports each result against its target. A missed target is
 * reported, not an error: wall-clock figures depend on the machine and on what else it is doing.
 */

export interface BenchResult {
  name: string;
  metric: string;
  value: number;
  unit: string;
  /** The figure to meet; absent for informational results. */
  target?: number;
  /** Default true: the target is a floor. False: the target is a ceiling (latencies, bytes). */
  higherIsBetter?: boolean;
  detail?: Record<string, unknown>;
}

export interface Bench {
  /** Unique; `run.ts` sorts by it and filters on a substring of it. */
  name: string;
  run(): BenchResult[] | Promise<BenchResult[]>;
}

const benches = new Map<string, Bench>();

export function registerBench(b: Bench): void {
  if (benches.has(b.name)) throw new Error(`bench registered twice: ${b.name}`);
  benches.set(b.name, b);
}

/** Every registered bench, sorted by name. */
export function allBenches(): Bench[] {
  return [...benches.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const SAMPLES = 5;

/**
 * Times `fn`: a warm-up of about minMs/4 (so the JIT has optimized it), then five samples of at
 * least minMs/5 each. Returns the fastest sample (total ms and the calls it made): on a shared
 * machine the other samples measure the neighbours as much as the code. Each call of `fn` should
 * do a fixed amount of work, at least tens of microseconds of it, so the clock reads are noise.
 */
export function timeIt(fn: () => void, minMs = 1000): { ms: number; iterations: number } {
  const warmUntil = performance.now() + minMs / 4;
  do fn(); while (performance.now() < warmUntil);

  let best = { ms: Infinity, iterations: 1 };
  const sampleMs = minMs / SAMPLES;
  for (let s = 0; s < SAMPLES; s++) {
    let iterations = 0;
    const t0 = performance.now();
    let t = t0;
    do { fn(); iterations++; t = performance.now(); } while (t - t0 < sampleMs);
    const ms = t - t0;
    if (ms / iterations < best.ms / best.iterations) best = { ms, iterations };
  }
  return best;
}

/** 'pass', 'FAIL', or '-' when the result has no target. */
export function verdict(r: BenchResult): 'pass' | 'FAIL' | '-' {
  if (r.target === undefined) return '-';
  const ok = r.higherIsBetter === false ? r.value <= r.target : r.value >= r.target;
  return ok ? 'pass' : 'FAIL';
}

/** Three significant digits, without exponent notation for everyday magnitudes. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(1);
  if (a >= 10) return v.toFixed(2);
  return v.toPrecision(3);
}

/** A plain-text table: name, metric, value, unit, target, pass/fail. */
export function formatTable(results: readonly BenchResult[]): string {
  const head = ['name', 'metric', 'value', 'unit', 'target', 'result'];
  const rows = results.map((r) => [
    r.name, r.metric, formatValue(r.value), r.unit,
    r.target === undefined ? '-' : `${r.higherIsBetter === false ? '<=' : '>='} ${formatValue(r.target)}`,
    verdict(r),
  ]);
  const numeric = [false, false, true, false, true, false];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
