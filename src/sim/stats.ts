/**
 * The statistics registry. Hot code increments plain numeric fields of its own stats objects; the
 * registry keeps references and reads them only when asked (Ramulator 2's register_stat), so a
 * counter costs one add. Names are dotted instance paths (`system.cpu0.l1d.readMisses`).
 */

export interface StatSpec { readonly unit: string; readonly desc: string }

type NumericKeys<T> = { [K in keyof T]: T[K] extends number ? K : never }[keyof T];
/** One spec per numeric field: a counter without a description is a compile error. */
export type StatSpecs<T> = { readonly [K in NumericKeys<T>]: StatSpec };

/**
 * A histogram of non-negative integers. Values below `linearLimit` get one bucket each; above it
 * buckets grow by powers of two, so latency tails stay cheap to record. Percentiles are exact
 * below `linearLimit` and upper bounds of their bucket above it.
 */
export class Histogram {
  count = 0;
  sum = 0;
  /**
   * Integers in [0, linearLimit) are counted in `exact` only (their bucket is their value, so the
   * minimum and maximum among them are found from it when asked); anything else in `buckets`,
   * with its min and max tracked here.
   */
  private otherMin = Infinity;
  private otherMax = 0;
  private readonly exact: Float64Array;
  private readonly buckets: Float64Array;

  constructor(readonly linearLimit = 1024) {
    this.exact = new Float64Array(linearLimit);
    this.buckets = new Float64Array(linearLimit + 64);
  }

  record(v: number): void {
    this.count++; this.sum += v;
    if (v < this.linearLimit && v >= 0 && Math.floor(v) === v) { this.exact[v]!++; return; }
    if (v < this.otherMin) this.otherMin = v;
    if (v > this.otherMax) this.otherMax = v;
    this.buckets[this.bucketOf(v)]!++;
  }

  /** The smallest value recorded (Infinity when none). */
  get min(): number {
    const e = this.exact;
    for (let b = 0; b < e.length; b++) if (e[b]! > 0) return b < this.otherMin ? b : this.otherMin;
    return this.otherMin;
  }

  /** The largest value recorded (0 when none, or when every value is negative). */
  get max(): number {
    const e = this.exact;
    for (let b = e.length - 1; b >= 0; b--) if (e[b]! > 0) return b > this.otherMax ? b : this.otherMax;
    return this.otherMax;
  }

  private bucketOf(v: number): number {
    if (v < this.linearLimit) return v < 0 ? 0 : Math.floor(v);
    return this.linearLimit + Math.min(63, Math.floor(Math.log2(v / this.linearLimit)));
  }

  private bucketTop(b: number): number {
    return b < this.linearLimit ? b : this.linearLimit * 2 ** (b - this.linearLimit + 1) - 1;
  }

  get mean(): number { return this.count === 0 ? 0 : this.sum / this.count; }

  /** The smallest value v such that at least fraction p of the samples are <= v (bucket bound). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    // p * count can land just above an integer (0.55 * 100 = 55.00000000000001); without the
    // tolerance that rounds up to the next sample.
    const target = Math.ceil(p * this.count * (1 - 1e-12));
    let acc = 0;
    const max = this.max;
    for (let b = 0; b < this.buckets.length; b++) {
      acc += this.buckets[b]! + (b < this.linearLimit ? this.exact[b]! : 0);
      if (acc >= target) return Math.min(this.bucketTop(b), max);
    }
    return max;
  }

  reset(): void { this.count = 0; this.sum = 0; this.otherMin = Infinity; this.otherMax = 0; this.exact.fill(0); this.buckets.fill(0); }

  summary(): Record<string, number> {
    return {
      count: this.count, max: this.count ? this.max : 0, mean: round6(this.mean),
      min: this.count ? this.min : 0, p50: this.percentile(0.5), p99: this.percentile(0.99),
    };
  }
}

interface Entry { read: () => number | Record<string, number>; spec: StatSpec }

export class StatsRegistry {
  private readonly entries = new Map<string, Entry>();

  /** Registers every numeric field of `obj` under `path`. */
  add<T extends object>(path: string, obj: T, specs: StatSpecs<T>): void {
    for (const key of Object.keys(specs) as (keyof StatSpecs<T>)[]) {
      const k = key as string;
      this.put(`${path}.${k}`, { read: () => (obj as Record<string, number>)[k]!, spec: (specs as Record<string, StatSpec>)[k]! });
    }
  }

  addHistogram(path: string, h: Histogram, spec: StatSpec): void {
    this.put(path, { read: () => h.summary(), spec });
  }

  /** A value computed at dump time (ratios, derived bandwidths). */
  addFormula(path: string, fn: () => number, spec: StatSpec): void {
    this.put(path, { read: () => round6(fn()), spec });
  }

  private put(path: string, e: Entry): void {
    if (this.entries.has(path)) throw new Error(`stat registered twice: ${path}`);
    this.entries.set(path, e);
  }

  has(path: string): boolean { return this.entries.has(path); }

  /** Flat map of every scalar (histogram fields as `path.count`, `path.p99`, ...). */
  snapshot(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [path, e] of this.entries) {
      const v = e.read();
      if (typeof v === 'number') out.set(path, v);
      else for (const k of Object.keys(v)) out.set(`${path}.${k}`, v[k]!);
    }
    return out;
  }

  /** Descriptions and units, for `--stats-help` and the docs. */
  describe(): { path: string; unit: string; desc: string }[] {
    return [...this.entries].map(([path, e]) => ({ path, ...e.spec })).sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** The stats as a tree with sorted keys, for JSON output. */
  toTree(): Record<string, unknown> {
    return treeOf(this.snapshot());
  }
}

/** after − before, key by key (a phase's own counts; ChampSim's roi_stats). */
export function diffSnapshots(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) out.set(k, v - (before.get(k) ?? 0));
  return out;
}

/** Turns dotted keys into nested objects with keys in sorted order. */
export function treeOf(flat: Map<string, number>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const k of [...flat.keys()].sort()) {
    const parts = k.split('.');
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      let child = node[p];
      if (typeof child !== 'object' || child === null) { child = {}; node[p] = child; }
      node = child as Record<string, unknown>;
    }
    node[parts[parts.length - 1]!] = flat.get(k);
  }
  return sortKeys(root) as Record<string, unknown>;
}

/** A deep copy with object keys sorted, so JSON.stringify output is canonical. */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) out[k] = sortKeys(o[k]);
    return out;
  }
  return v;
}

export function round6(x: number): number { return Math.round(x * 1e6) / 1e6; }
