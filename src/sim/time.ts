/** Simulated time is an integer count of core cycles, exact in a double up to 2^53. */
export type Cycle = number;

/**
 * a mod m for non-negative integers below 2^53 (addresses, line numbers, cycles). Exact, and much
 * faster than `%` once a value leaves the int32 range, where V8 falls back to a C fmod call.
 * (floor(a/m) is exact here: the rounded quotient cannot cross an integer for a < 2^53.)
 */
export function mod(a: number, m: number): number {
  return a - Math.floor(a / m) * m;
}

/**
 * A clock domain whose period is an integer number of core cycles (Ramulator's clock_ratio).
 * The core domain has ratio 1; a DDR4-3200 controller behind a 3.2 GHz core has ratio 2.
 */
export class ClockDomain {
  constructor(readonly name: string, readonly ratio: number) {
    if (!Number.isInteger(ratio) || ratio < 1) throw new RangeError(`clock domain ${name}: ratio must be a positive integer`);
  }
  /** Core cycles taken by `n` cycles of this domain. */
  toCycles(n: number): Cycle { return n * this.ratio; }
  /** The first edge of this domain at or after core cycle `t`. */
  nextEdge(t: Cycle): Cycle { const r = mod(t, this.ratio); return r === 0 ? t : t + this.ratio - r; }
}
