import { ReqStatus, type EventQueue, type Link, type RequestTable, type StatsRegistry } from '../sim/index.js';
import type { AddressMap } from './address-map.js';

export interface HomeNodeConfig {
  /** Cycles from a request's arrival to its forwarding (decode, arbitration). */
  latency: number;
  /** Data-path bandwidth in bytes per core cycle (requests are serialized on it). */
  bytesPerCycle: number;
  /** Requests the home node can hold waiting for a downstream credit, per upstream port. */
  queueDepth: number;
}

class HomeNodeStats {
  requests = 0; responses = 0; decodeErrors = 0; bytes = 0; busyCycles = 0; downstreamStalls = 0;
}

/**
 * The interconnect and home node (first slice): routes each request by physical address to the
 * target that owns its region (a DRAM controller or a device) over that target's link, serializes
 * data on a shared path of `bytesPerCycle`, and routes responses back to the requesting agent.
 * An address no region decodes gets a DecodeError response: an external abort for the requester.
 * Leaves out (until the cache issue): snoops, the snoop filter, far atomics, the global monitor.
 */
export class HomeNode {
  readonly reqHandler: number;
  readonly respHandler: number;
  /** One incoming link per agent (index = agent id); credits are released when a request leaves. */
  upLinks: Link[] = [];
  /** Response link to each agent (index = agent id). */
  downLinks: Link[] = [];
  /** Request link to each target, indexed by region index. */
  targetOf: (Link | undefined)[] = [];
  readonly stats = new HomeNodeStats();
  private busyUntil = 0;
  private readonly errorHandler: number;
  // Requests waiting for a downstream credit: FIFO ring.
  private readonly waitQ: Int32Array;
  private waitHead = 0;
  private waitLen = 0;
  private retryArmed = false;

  constructor(
    readonly name: string,
    private readonly q: EventQueue,
    private readonly table: RequestTable,
    private readonly map: AddressMap,
    readonly cfg: HomeNodeConfig,
    stats: StatsRegistry,
    statsPath: string,
  ) {
    this.reqHandler = q.register(`${name}.request`, (id) => this.onRequest(id));
    this.respHandler = q.register(`${name}.response`, (id) => this.onResponse(id));
    this.errorHandler = q.register(`${name}.decodeError`, (id) => this.onResponse(id));
    this.waitQ = new Int32Array(table.capacity);
    const c = { unit: 'count' };
    stats.add(statsPath, this.stats, {
      requests: { ...c, desc: 'requests routed' }, responses: { ...c, desc: 'responses routed' },
      decodeErrors: { ...c, desc: 'requests no region decodes (external aborts)' },
      bytes: { unit: 'bytes', desc: 'bytes moved over the data path' },
      busyCycles: { unit: 'cycles', desc: 'cycles the data path was occupied' },
      downstreamStalls: { ...c, desc: 'requests that waited for a target credit' },
    });
  }

  private onRequest(id: number): void {
    const t = this.table;
    this.stats.requests++;
    const region = this.map.find(t.addr[id]!, t.size[id]!);
    if (region < 0) {
      // External abort: DECERR after the decode latency (Arm ARM: "External abort" on a slave error).
      this.stats.decodeErrors++;
      t.status[id] = ReqStatus.DecodeError;
      this.upLinks[t.source[id]!]!.release();
      this.q.schedule(this.errorHandler, this.cfg.latency, id);
      return;
    }
    if (this.waitLen > 0 || !this.forward(id, region)) this.enqueue(id);
  }

  private forward(id: number, region: number): boolean {
    const t = this.table;
    const link = this.targetOf[region];
    if (link === undefined) throw new Error(`${this.name}: region ${region} has no target`);
    const now = this.q.now;
    const occupancy = Math.ceil(t.size[id]! / this.cfg.bytesPerCycle);
    const start = this.busyUntil > now ? this.busyUntil : now;
    if (!link.trySendAfter(id, start - now + this.cfg.latency)) return false;
    this.busyUntil = start + occupancy;
    this.stats.busyCycles += occupancy;
    this.stats.bytes += t.size[id]!;
    this.upLinks[t.source[id]!]!.release();
    return true;
  }

  private enqueue(id: number): void {
    this.stats.downstreamStalls++;
    this.waitQ[(this.waitHead + this.waitLen++) % this.waitQ.length] = id;
    if (!this.retryArmed) {
      this.retryArmed = true;
      const t = this.table;
      const link = this.targetOf[this.map.find(t.addr[id]!, t.size[id]!)]!;
      link.onCredit = this.retryFn;
    }
  }

  private readonly retryFn = (): void => {
    this.retryArmed = false;
    const t = this.table;
    while (this.waitLen > 0) {
      const id = this.waitQ[this.waitHead]!;
      const region = this.map.find(t.addr[id]!, t.size[id]!);
      if (!this.forward(id, region)) { this.retryArmed = true; this.targetOf[region]!.onCredit = this.retryFn; return; }
      this.waitHead = (this.waitHead + 1) % this.waitQ.length;
      this.waitLen--;
    }
  };

  private onResponse(id: number): void {
    this.stats.responses++;
    this.downLinks[this.table.source[id]!]!.trySend(id);
  }
}
