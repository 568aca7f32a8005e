import type { EventQueue } from './event-queue.js';
import type { RequestTable } from './request-table.js';
import type { Cycle } from './time.js';

/**
 * Delivers a response to the agent that issued the request (`RequestTable.source`), after a delay
 * the responder computes (its own latency plus the path back). Every agent that issues requests —
 * a PE, a cache that fills or writes back lines, a DMA master — registers its response handler
 * under its agent id at build time.
 *
 * Contract: a responder calls `send` once per request it completes; the agent's handler then owns
 * the request id (it releases it, or forwards it on). Responses never refuse: the requester made
 * room before it sent.
 */
export class ResponseRouter {
  private readonly handlers: number[] = [];

  constructor(private readonly q: EventQueue, private readonly table: RequestTable) {}

  /** Registers agent `agent`'s response handler (an EventQueue handler id). */
  register(agent: number, handler: number): void {
    if (this.handlers[agent] !== undefined) throw new Error(`agent ${agent} already has a response handler`);
    this.handlers[agent] = handler;
  }

  send(id: number, delay: Cycle): void {
    const h = this.handlers[this.table.source[id]!];
    if (h === undefined) throw new Error(`request ${id}: agent ${this.table.source[id]} has no response handler`);
    this.q.schedule(h, delay, id);
  }
}
