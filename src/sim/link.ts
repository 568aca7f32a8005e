import type { EventQueue } from './event-queue.js';
import type { Cycle } from './time.js';

/**
 * One direction of a connection between two blocks. Latency and backpressure live here, not in
 * the blocks, so the same cache works behind a 1-cycle link or a 30-cycle one (SST's link latency).
 *
 * Contract: `credits` is the number of requests the receiver can buffer. `trySend` returns false
 * when none is left: the sender keeps the request and retries from `onCredit`. The receiver calls
 * `release()` when it frees a buffer slot. Delivery runs the receiver's registered handler with the
 * request id, `latency` cycles after the send.
 */
export class Link {
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
  ) {}

  get available(): number { return this.credits; }

  trySend(id: number): boolean {
    if (this.credits === 0) { this.waiting = true; this.refusals++; return false; }
    this.credits--; this.sent++;
    this.q.schedule(this.deliverTo, this.latency, id);
    return true;
  }

  /** Sends with an extra delay on top of the link latency (for a sender that finishes late). */
  trySendAfter(id: number, extra: Cycle): boolean {
    if (this.credits === 0) { this.waiting = true; this.refusals++; return false; }
    this.credits--; this.sent++;
    this.q.schedule(this.deliverTo, this.latency + extra, id);
    return true;
  }

  release(): void {
    this.credits++;
    if (this.waiting) { this.waiting = false; this.onCredit?.(); }
  }
}
