import type { EventQueue } from './event-queue.js';
import type { Cycle } from './time.js';
import type { ReqKind } from './request-table.js';

/** The sending side of a connection, as a requester sees it (a Link, or a block's input port). */
export interface RequestPort {
  /** Requests the receiver can take now. */
  readonly available: number;
  /** Set by the sender: called when room comes back after a refusal. */
  onCredit: (() => void) | undefined;
  /** false: refused for want of room; keep the request and retry from onCredit. */
  trySend(id: number): boolean;
  /**
   * Optional, read right after a successful trySend: the cycle at which the receiver completed
   * that request on the spot (its status and data are final, no response will come, and the
   * sender owns the id again), or -1 when a response will come as usual.
   */
  readonly completedAt?: number;
  /**
   * Optional: performs a plain access that the receiver can decide on the spot without a request
   * (for the cache hierarchy, an L1 hit; see CpuPort.tryHit) and returns the cycle it completes,
   * or -1 with nothing changed (send a request as usual). at[0] is the address and at[1] the
   * packed attributes (in an array, as a request table holds them: a number that large passed to
   * a call that is not inlined is boxed, an allocation per access); `src` holds a write's bytes.
   */
  tryHit?(kind: ReqKind, at: Float64Array, size: number, src: Uint8Array): number;
}

/** Where a target sends its responses: after `extra` cycles plus the path's own latency. Never refuses. */
export interface ResponsePort {
  trySendAfter(id: number, extra: Cycle): boolean;
}

/**
 * One direction of a connection between two blocks. Latency and backpressure live here, not in
 * the blocks, so the same cache works behind a 1-cycle link or a 30-cycle one (SST's link latency).
 *
 * Contract: `credits` is the number of requests the receiver can buffer. `trySend` returns false
 * when none is left: the sender keeps the request and retries from `onCredit`. The receiver calls
 * `release()` when it frees a buffer slot. Delivery runs the receiver's registered handler with the
 * request id, `latency` cycles after the send.
 *
 * Direct mode: a receiver that keeps its own time (it queues a request with its arrival cycle and
 * never acts on it earlier) can pass `direct`; the link then hands the request over at send time
 * with its arrival cycle instead of spending an event on the hop.
 */
export class Link implements RequestPort, ResponsePort {
  /** Set by the sender: called when a credit comes back after a refusal. */
  onCredit: (() => void) | undefined = undefined;
  private waiting = false;
  /** Sends refused for want of a credit. */
  refusals = 0;
  sent = 0;

  constructor(
    private readonly q: EventQueue,
    private readonly deliverTo: number,
    readonly latency: Cycle,
    private credits: number,
    readonly name = 'link',
    private readonly direct?: (id: number, arriveAt: Cycle) => void,
  ) {}

  get available(): number { return this.credits; }

  trySend(id: number): boolean {
    if (this.credits === 0) { this.waiting = true; this.refusals++; return false; }
    this.credits--; this.sent++;
    if (this.direct !== undefined) this.direct(id, this.q.now + this.latency);
    else this.q.schedule(this.deliverTo, this.latency, id);
    return true;
  }

  /** Sends with an extra delay on top of the link latency (for a sender that finishes late). */
  trySendAfter(id: number, extra: Cycle): boolean {
    if (this.credits === 0) { this.waiting = true; this.refusals++; return false; }
    // An unlimited link (responses) keeps Infinity as it is: writing a fresh Infinity allocates a
    // number box (and takes a GC write barrier) on every send.
    if (this.credits !== Infinity) this.credits--;
    this.sent++;
    if (this.direct !== undefined) this.direct(id, this.q.now + this.latency + extra);
    else this.q.schedule(this.deliverTo, this.latency + extra, id);
    return true;
  }

  release(): void {
    this.credits++;
    if (this.waiting) { this.waiting = false; this.onCredit?.(); }
  }
}
