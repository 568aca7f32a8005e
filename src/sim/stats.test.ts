import { describe, expect, it } from 'vitest';
import { Histogram, StatsRegistry, diffSnapshots, round6, sortKeys, treeOf } from './stats.js';
import type { StatSpecs } from './stats.js';

class CacheStats { hits = 0; misses = 0; name = 'l1d' }
const CACHE_SPECS: StatSpecs<CacheStats> = {
  hits: { unit: 'count', desc: 'demand hits' },
  misses: { unit: 'count', desc: 'demand misses' },
};

// @ts-expect-error a counter without a spec is a compile error (checked by `tsc`, not by vitest)
const MISSING_SPEC: StatSpecs<CacheStats> = { hits: { unit: 'count', desc: 'demand hits' } };
void MISSING_SPEC;

describe('StatsRegistry', () => {
  it('reads the live fields at snapshot time, not at registration', () => {
    const reg = new StatsRegistry();
    const s = new CacheStats();
    reg.add('system.cpu0.l1d', s, CACHE_SPECS);
    s.hits = 5; s.misses = 2;
    expect(reg.snapshot()).toEqual(new Map([['system.cpu0.l1d.hits', 5], ['system.cpu0.l1d.misses', 2]]));
    s.hits++;
    expect(reg.snapshot().get('system.cpu0.l1d.hits')).toBe(6);
    expect(reg.has('system.cpu0.l1d.name')).toBe(false); // only fields with a spec
  });

  it('diffs two snapshots key by key (a phase is after - before)', () => {
    const reg = new StatsRegistry();
    const s = new CacheStats();
    reg.add('system.cpu0.l1d', s, CACHE_SPECS);
    s.hits = 10; s.misses = 4;
    const warm = reg.snapshot();
    s.hits = 25; s.misses = 5;
    const roi = diffSnapshots(reg.snapshot(), warm);
    expect(roi.get('system.cpu0.l1d.hits')).toBe(15);
    expect(roi.get('system.cpu0.l1d.misses')).toBe(1);
    // A key that appeared after `before` counts from zero.
    const late = new CacheStats(); late.hits = 3;
    reg.add('system.cpu1.l1d', late, CACHE_SPECS);
    expect(diffSnapshots(reg.snapshot(), warm).get('system.cpu1.l1d.hits')).toBe(3);
    // The snapshot is a copy: later increments do not leak into it.
    s.hits = 1000;
    expect(warm.get('system.cpu0.l1d.hits')).toBe(10);
  });

  it('nests dotted paths into a tree with sorted keys', () => {
    const reg = new StatsRegistry();
    const l2 = new CacheStats(); l2.hits = 1; l2.misses = 2;
    const l1 = new CacheStats(); l1.hits = 3; l1.misses = 4;
    reg.add('system.l2', l2, CACHE_SPECS);
    reg.add('system.cpu0.l1d', l1, CACHE_SPECS);
    const tree = reg.toTree();
    expect(tree).toEqual({ system: { cpu0: { l1d: { hits: 3, misses: 4 } }, l2: { hits: 1, misses: 2 } } });
    expect(Object.keys(tree['system'] as object)).toEqual(['cpu0', 'l2']);
    expect(JSON.stringify(tree)).toBe('{"system":{"cpu0":{"l1d":{"hits":3,"misses":4}},"l2":{"hits":1,"misses":2}}}');
  });

  it('gives the same JSON whatever the registration order', () => {
    const build = (order: string[]): string => {
      const reg = new StatsRegistry();
      for (const path of order) {
        const s = new CacheStats(); s.hits = path.length; s.misses = path.charCodeAt(path.length - 1);
        reg.add(path, s, CACHE_SPECS);
      }
      const h = new Histogram(); h.record(3); h.record(9);
      reg.addHistogram('system.mem.latency', h, { unit: 'cycle', desc: 'read latency' });
      return JSON.stringify(reg.toTree());
    };
    const paths = ['system.cpu1.l1d', 'system.cpu0.l1i', 'system.cpu0.l1d', 'system.l2', 'system.cpu10.l1d'];
    const a = build(paths);
    expect(build([...paths].reverse())).toBe(a);
    expect(build([paths[2]!, paths[4]!, paths[0]!, paths[3]!, paths[1]!])).toBe(a);
    expect(a.indexOf('"cpu0"')).toBeLessThan(a.indexOf('"cpu1"'));
    expect(a.indexOf('"cpu1"')).toBeLessThan(a.indexOf('"cpu10"'));
  });

  it('flattens histograms into path.count, path.p99, ...', () => {
    const reg = new StatsRegistry();
    const h = new Histogram(100);
    for (const v of [4, 4, 6, 10]) h.record(v);
    reg.addHistogram('system.cpu0.loadLatency', h, { unit: 'cycle', desc: 'load-to-use latency' });
    const snap = reg.snapshot();
    expect(snap.get('system.cpu0.loadLatency.count')).toBe(4);
    expect(snap.get('system.cpu0.loadLatency.mean')).toBe(6);
    expect(snap.get('system.cpu0.loadLatency.min')).toBe(4);
    expect(snap.get('system.cpu0.loadLatency.max')).toBe(10);
    expect(snap.get('system.cpu0.loadLatency.p50')).toBe(4);
    expect(snap.get('system.cpu0.loadLatency.p99')).toBe(10);
    expect(Object.keys((reg.toTree()['system'] as any).cpu0.loadLatency)).toEqual(['count', 'max', 'mean', 'min', 'p50', 'p99']);
  });

  it('refuses to register a path twice, whatever the kind of stat', () => {
    const reg = new StatsRegistry();
    reg.add('system.l2', new CacheStats(), CACHE_SPECS);
    expect(() => reg.add('system.l2', new CacheStats(), CACHE_SPECS)).toThrow(/registered twice: system\.l2\.hits/);
    expect(() => reg.addFormula('system.l2.misses', () => 0, { unit: 'count', desc: 'x' })).toThrow(/twice/);
    reg.addHistogram('system.lat', new Histogram(), { unit: 'cycle', desc: 'x' });
    expect(() => reg.addHistogram('system.lat', new Histogram(), { unit: 'cycle', desc: 'x' })).toThrow(/twice/);
  });

  it('evaluates formulas at dump time, rounded to 6 decimals', () => {
    const reg = new StatsRegistry();
    const s = new CacheStats();
    reg.add('system.l2', s, CACHE_SPECS);
    let calls = 0;
    reg.addFormula('system.l2.missRate', () => { calls++; return s.misses / Math.max(1, s.hits + s.misses); }, { unit: 'ratio', desc: 'misses per access' });
    expect(calls).toBe(0);
    s.hits = 2; s.misses = 1;
    expect(reg.snapshot().get('system.l2.missRate')).toBe(0.333333);
    s.hits = 3;
    expect(reg.snapshot().get('system.l2.missRate')).toBe(0.25);
    expect(calls).toBe(2);
  });

  it('describes every stat with unit and description, sorted by path', () => {
    const reg = new StatsRegistry();
    reg.add('system.l2', new CacheStats(), CACHE_SPECS);
    reg.addFormula('system.a.ratio', () => 1, { unit: 'ratio', desc: 'r' });
    expect(reg.describe()).toEqual([
      { path: 'system.a.ratio', unit: 'ratio', desc: 'r' },
      { path: 'system.l2.hits', unit: 'count', desc: 'demand hits' },
      { path: 'system.l2.misses', unit: 'count', desc: 'demand misses' },
    ]);
  });
});

describe('Histogram', () => {
  it('tracks count, mean, min and max', () => {
    const h = new Histogram();
    expect(h.summary()).toEqual({ count: 0, max: 0, mean: 0, min: 0, p50: 0, p99: 0 });
    for (const v of [7, 3, 12, 3, 5]) h.record(v);
    expect(h.count).toBe(5);
    expect(h.mean).toBe(6);
    expect(h.min).toBe(3);
    expect(h.max).toBe(12);
    h.reset();
    expect(h.summary()).toEqual({ count: 0, max: 0, mean: 0, min: 0, p50: 0, p99: 0 });
  });

  it('gives exact percentiles below linearLimit', () => {
    const h = new Histogram(1024);
    for (let v = 1; v <= 1000; v++) h.record(v);
    expect(h.percentile(0.5)).toBe(500);
    expect(h.percentile(0.9)).toBe(900);
    expect(h.percentile(0.99)).toBe(990);
    expect(h.percentile(0.999)).toBe(999);
    expect(h.percentile(1)).toBe(1000);
    expect(h.percentile(0.001)).toBe(1);
  });

  it('is not pushed past the right sample by floating-point error in p * count', () => {
    const h = new Histogram(1024);
    for (let v = 1; v <= 100; v++) h.record(v);
    // 0.07 * 100 and 0.55 * 100 evaluate to just above 7 and 55.
    expect(h.percentile(0.07)).toBe(7);
    expect(h.percentile(0.55)).toBe(55);
    expect(h.percentile(0.555)).toBe(56);
  });

  it('finds p99 on a known two-point distribution', () => {
    // 990 fast hits at 4 cycles and 10 slow misses at 300: p99 is still the hit latency ...
    const h = new Histogram(1024);
    for (let i = 0; i < 990; i++) h.record(4);
    for (let i = 0; i < 10; i++) h.record(300);
    expect(h.percentile(0.99)).toBe(4);
    expect(h.percentile(0.5)).toBe(4);
    expect(h.mean).toBe((990 * 4 + 10 * 300) / 1000);
    // ... and one more miss pushes it to the miss latency.
    h.record(300);
    expect(h.percentile(0.99)).toBe(300);
  });

  it('above linearLimit, reports the upper bound of a power-of-two bucket, capped by max', () => {
    const h = new Histogram(16);
    for (let v = 0; v < 100; v++) h.record(v);
    expect(h.percentile(0.1)).toBe(9);         // exact: below the limit
    // The 50th value is 49, in bucket [32, 63]: the bound is 63.
    expect(h.percentile(0.5)).toBe(63);
    // The 99th value is 98, in bucket [64, 127], whose top is capped by max = 99.
    expect(h.percentile(0.99)).toBe(99);
    expect(h.max).toBe(99);
    // A bound is never below the true percentile and at most twice it.
    const h2 = new Histogram(8);
    const values = Array.from({ length: 500 }, (_, i) => (i * 37) % 1000);
    for (const v of values) h2.record(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [0.5, 0.75, 0.9, 0.99]) {
      const exact = sorted[Math.ceil(p * sorted.length) - 1]!;
      expect(h2.percentile(p)).toBeGreaterThanOrEqual(exact);
      expect(h2.percentile(p)).toBeLessThanOrEqual(2 * exact + 1);
    }
  });

  it('keeps huge values in the last bucket', () => {
    const h = new Histogram(4);
    h.record(2 ** 60);
    h.record(1);
    expect(h.max).toBe(2 ** 60);
    expect(h.percentile(1)).toBe(2 ** 60);
    expect(h.percentile(0.5)).toBe(1);
  });
});

describe('treeOf / sortKeys / round6', () => {
  it('builds nested objects from a flat map in sorted order', () => {
    const t = treeOf(new Map([['b.y', 2], ['a', 1], ['b.x', 3]]));
    expect(JSON.stringify(t)).toBe('{"a":1,"b":{"x":3,"y":2}}');
  });

  it('sorts keys deeply and leaves arrays and typed arrays alone', () => {
    const v = sortKeys({ z: [{ b: 1, a: 2 }], a: new Uint8Array([3, 1]) }) as Record<string, unknown>;
    expect(JSON.stringify(v)).toBe('{"a":{"0":3,"1":1},"z":[{"a":2,"b":1}]}');
    expect(v['a']).toBeInstanceOf(Uint8Array);
  });

  it('rounds to 6 decimals', () => {
    expect(round6(1 / 3)).toBe(0.333333);
    expect(round6(2)).toBe(2);
  });
});
