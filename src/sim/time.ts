/** Simulated time is an integer count of core cycles, exact in a double up to 2^53. */
export type Cycle = number;

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
  nextEdge(t: Cycle): Cycle { const r = t % this.ratio; return r === 0 ? t : t + this.ratio - r; }
}
