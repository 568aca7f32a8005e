/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman and Vigna), seeded through splitmix32.
 * Every consumer takes its own stream with `fork(name)`, so adding a consumer never changes the
 * numbers another one sees.
 */
export class Rng {
  private s0: number; private s1: number; private s2: number; private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {           // splitmix32
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 = s2 ^ s0; this.s3 = s3 ^ s1; this.s1 = s1 ^ this.s2; this.s0 = s0 ^ this.s3;
    this.s2 ^= t; this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** A uniformly distributed float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number { return this.nextU32() / 4294967296; }

  /** A uniformly distributed integer in [0, n), n <= 2^32. */
  nextInt(n: number): number { return Math.floor(this.nextFloat() * n); }

  /** An independent stream named `name`, derived from this one's seed state. */
  fork(name: string): Rng {
    let h = 0x811c9dc5 ^ this.s0;           // FNV-1a over the name, mixed with our state
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    return new Rng((h ^ this.s3) >>> 0);
  }
}

function rotl(x: number, k: number): number { return (x << k) | (x >>> (32 - k)); }
