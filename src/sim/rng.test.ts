import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from './rng.js';

const take = (r: Rng, n: number): number[] => Array.from({ length: n }, () => r.nextU32());

describe('Rng', () => {
  it('gives the same sequence for the same seed', () => {
    expect(take(new Rng(42), 1000)).toEqual(take(new Rng(42), 1000));
  });

  it('matches the reference xoshiro128** output from state {1, 2, 3, 4}', () => {
    // Vector from Blackman and Vigna's xoshiro128starstar.c (the one rand_xoshiro tests against).
    const r = new Rng(0);
    Object.assign(r as unknown as Record<string, number>, { s0: 1, s1: 2, s2: 3, s3: 4 });
    expect(take(r, 10)).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804,
    ]);
  });

  it('keeps the seeded stream stable (golden runs depend on it)', () => {
    // splitmix32 seeding of seed 1; a change here changes every seeded workload.
    expect(take(new Rng(1), 4)).toEqual([2442144158, 3238099751, 3819917871, 2104621829]);
  });

  it('gives different sequences for different seeds, including neighbouring ones', () => {
    const firsts = new Set<string>();
    for (let seed = 0; seed < 1000; seed++) firsts.add(take(new Rng(seed), 2).join(','));
    expect(firsts.size).toBe(1000);
    const a = take(new Rng(7), 64), b = take(new Rng(8), 64);
    expect(a.filter((x, i) => x === b[i]).length).toBe(0);
  });

  it('reads the seed as unsigned 32 bits', () => {
    expect(take(new Rng(-1), 8)).toEqual(take(new Rng(0xffff_ffff), 8));
  });

  it('returns unsigned 32-bit integers', () => {
    const r = new Rng(3);
    for (let i = 0; i < 10_000; i++) {
      const x = r.nextU32();
      expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true);
    }
  });

  it('forks deterministically by name', () => {
    const a1 = new Rng(9).fork('cpu0'), a2 = new Rng(9).fork('cpu0');
    expect(take(a1, 100)).toEqual(take(a2, 100));
    expect(take(new Rng(9).fork('cpu0'), 16)).not.toEqual(take(new Rng(9).fork('cpu1'), 16));
    expect(take(new Rng(9).fork('cpu0'), 16)).not.toEqual(take(new Rng(10).fork('cpu0'), 16));
    expect(take(new Rng(9).fork('cpu0'), 16)).not.toEqual(take(new Rng(9), 16)); // not the parent stream
  });

  it('gives a fork the same stream however much other forks have consumed', () => {
    const lone = new Rng(123).fork('smmu');
    const parent = new Rng(123);
    const cpu0 = parent.fork('cpu0');
    take(cpu0, 5000);                         // another consumer runs far ahead
    const smmu = parent.fork('smmu');         // then this consumer is added
    const cpu1 = parent.fork('cpu1');
    take(cpu1, 17);
    expect(take(smmu, 200)).toEqual(take(lone, 200));
  });

  it('does not disturb the parent stream by forking', () => {
    const a = new Rng(5), b = new Rng(5);
    a.fork('x'); a.fork('y');
    expect(take(a, 50)).toEqual(take(b, 50));
  });

  it('keeps nextInt(n) in [0, n) and integral', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 2 ** 32 }), (seed, n) => {
        const r = new Rng(seed);
        for (let i = 0; i < 50; i++) {
          const x = r.nextInt(n);
          expect(Number.isInteger(x)).toBe(true);
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThan(n);
        }
      }),
    );
    const r = new Rng(1);
    for (let i = 0; i < 100; i++) expect(r.nextInt(1)).toBe(0);
  });

  it('keeps nextFloat in [0, 1)', () => {
    const r = new Rng(77);
    let lo = 1, hi = 0;
    for (let i = 0; i < 100_000; i++) { const f = r.nextFloat(); lo = Math.min(lo, f); hi = Math.max(hi, f); }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(lo).toBeLessThan(0.001);
    expect(hi).toBeGreaterThan(0.999);
  });

  it('spreads nextInt roughly uniformly (chi-square, fixed seeds, so deterministic)', () => {
    // 9 and 63 degrees of freedom; the 99.9% critical values are 27.88 and 103.4. With fixed
    // seeds this either always passes or always fails: it is a regression check, not a dice roll.
    for (const [seed, k, crit] of [[2024, 10, 27.88], [99, 64, 103.4]] as const) {
      const r = new Rng(seed).fork('uniformity');
      const samples = 200_000;
      const counts = new Array<number>(k).fill(0);
      for (let i = 0; i < samples; i++) counts[r.nextInt(k)]!++;
      const expected = samples / k;
      const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
      expect(chi2).toBeLessThan(crit);
    }
  });

  it('has uniform low bits and high bits (each bit set about half the time)', () => {
    const r = new Rng(31337);
    const ones = new Array<number>(32).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) { const x = r.nextU32(); for (let b = 0; b < 32; b++) if ((x >>> b) & 1) ones[b]!++; }
    // 5 sigma of a binomial(100000, 0.5) is about 790.
    for (const c of ones) expect(Math.abs(c - n / 2)).toBeLessThan(800);
  });
});
