import { ReqStatus, type EventQueue, type Link, type RequestPort, type RequestTable, type ResponsePort, type StatsRegistry } from '../sim/index.js';
import type { AddressMap } from './address-map.js';

export interface HomeNodeConfig {
  /** Cycles for a request to cross the interconnect and the home node (decode, arbitration). */
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
 * target that owns its region (a DRAM controller or a device), serializes data on a shared path
 * of `bytesPerCycle`, and routes responses back to the requesting agent. An address no region
 * decodes gets a DecodeError response: an external abort for the requester.
 *
 * Timing: a request sent at cycle t reaches its target at max(t + upLatency, data path free) +
 * latency; a response leaves the target and reaches the agent `downLatency` later. Routing is done
 * when the request is sent, in send order (all agents' paths to the home node have the same
 * latency, so send order is arrival order): no event is spent on the hop itself.
 * Leaves out (until the cache issue): snoops, the snoop filter, far atomics, the global monitor.
 */
export class HomeNode {
  /** Response link to each agent (index = agent id), set by the builder. */
  downLinks: Link[] = [];
  /** Request link to each target, indexed by region index, set by the builder. */
  targetOf: (Link | undefined)[] = [];
  /** Where targets send responses: forwarded to the requesting agent's down link. */
  readonly respPort: ResponsePort;
  readonly stats = new HomeNodeStats();
  private readonly ports: UpPort[] = [];
  private busyUntil = 0;
  private readonly errorHandler: number;
  // Requests waiting for a downstream credit: FIFO ring.
  private readonly waitQ: Int32Array;
  private waitHead = 0;
  private waitLen = 0;
  private retryArmed = false;
  private readonly latency: number;
  /** Data-path cycles of a request of each small size: ceil(size / bytesPerCycle) without a division. */
  private readonly occupancyOf: Float64Array;

  constructor(
    readonly name: string,
    private readonly q: EventQueue,
    private readonly table: RequestTable,
    private readonly map: AddressMap,
    readonly cfg: HomeNodeConfig,
    stats: StatsRegistry,
    statsPath: string,
  ) {
    this.errorHandler = q.register(`${name}.decodeError`, (id) => this.respPort.trySendAfter(id, 0));
    this.waitQ = new Int32Array(table.capacity);
    this.latency = cfg.latency;
    this.occupancyOf = new Float64Array(257);
    for (let n = 0; n <= 256; n++) this.occupancyOf[n] = Math.ceil(n / cfg.bytesPerCycle);
    const down = this.downLinks, t = this.table, s = this.stats;
    this.respPort = { trySendAfter(id: number, extra: number): boolean { s.responses++; return down[t.source[id]!]!.trySendAfter(id, extra); } };
    const c = { unit: 'count' };
    stats.add(statsPath, this.stats, {
      requests: { ...c, desc: 'requests routed' }, responses: { ...c, desc: 'responses routed' },
      decodeErrors: { ...c, desc: 'requests no region decodes (external aborts)' },
      bytes: { unit: 'bytes', desc: 'bytes moved over the data path' },
      busyCycles: { unit: 'cycles', desc: 'cycles the data path was occupied' },
      downstreamStalls: { ...c, desc: 'requests that waited for a target credit' },
    });
  }

  /** The request port for agent `agent`, `upLatency` cycles from the home node. */
  portFor(agent: number, upLatency: number): RequestPort {
    const p = new UpPort(this, upLatency, this.cfg.queueDepth);
    this.ports[agent] = p;
    return p;
  }

  /** @internal Called by an agent's port. */
  accept(id: number, upLatency: number): void {
    const t = this.table;
    this.stats.requests++;
    const region = this.map.find(t.addr[id]!, t.size[id]!);
    if (region < 0) { this.decodeError(id, upLatency); return; }
    t.hopAt[id] = this.q.now + upLatency;
    if (this.waitLen > 0 || !this.forward(id, region)) this.enqueue(id);
  }

  /**
   * A request from inside the memory system (a cache's line fill or write-back) that reaches the
   * home node at `arriveAt` (>= now): no port and no credit, since the caches track their own
   * outstanding misses. Its region must decode.
   */
  acceptAt(id: number, arriveAt: number): void {
    const t = this.table;
    this.stats.requests++;
    const region = this.map.find(t.addr[id]!, t.size[id]!);
    if (region < 0) throw new Error(`${this.name}: internal request to 0x${t.addr[id]!.toString(16)} that no region decodes`);
    t.hopAt[id] = arriveAt;
    if (this.waitLen > 0 || !this.forward(id, region)) this.enqueue(id);
  }

  /** External abort: the interconnect answers with a decode error (AXI DECERR / CHI NDERR). */
  private decodeError(id: number, upLatency: number): void {
    const t = this.table;
    this.stats.decodeErrors++;
    t.status[id] = ReqStatus.DecodeError;
    this.ports[t.source[id]!]!.release();
    this.q.schedule(this.errorHandler, upLatency + this.cfg.latency, id);
  }

  private forward(id: number, region: number): boolean {
    const t = this.table;
    const link = this.targetOf[region];
    if (link === undefined) this.noTarget(region);
    const now = this.q.now;
    const size = t.size[id]!;
    const occupancy = size < this.occupancyOf.length ? this.occupancyOf[size]! : Math.ceil(size / this.cfg.bytesPerCycle);
    const arrive = t.hopAt[id]!;                           // when the request reached the home node
    // The data path takes it once free, once it has arrived, and not before now: a request that
    // waited for a target credit may have arrived, and the path freed, long ago.
    let start = arrive > now ? arrive : now;
    if (this.busyUntil > start) start = this.busyUntil;
    if (!link.trySendAfter(id, start - now + this.latency)) return false;
    this.busyUntil = start + occupancy;
    this.stats.busyCycles += occupancy;
    this.stats.bytes += size;
    this.ports[t.source[id]!]?.release();
    return true;
  }

  private noTarget(region: number): never { throw new Error(`${this.name}: region ${region} has no target`); }

  private enqueue(id: number): void {
    this.stats.downstreamStalls++;
    this.waitQ[(this.waitHead + this.waitLen++) % this.waitQ.length] = id;
    if (!this.retryArmed) {
      this.retryArmed = true;
      const t = this.table;
      this.targetOf[this.map.find(t.addr[id]!, t.size[id]!)]!.onCredit = this.retryFn;
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
}

/** An agent's request port into the home node: `depth` requests may wait in it. */
class UpPort implements RequestPort {
  onCredit: (() => void) | undefined = undefined;
  private credits: number;
  private waiting = false;

  constructor(private readonly hn: HomeNode, private readonly upLatency: number, depth: number) { this.credits = depth; }

  get available(): number { return this.credits; }

  trySend(id: number): boolean {
    if (this.credits === 0) { this.waiting = true; return false; }
    this.credits--;
    this.hn.accept(id, this.upLatency);
    return true;
  }

  release(): void {
    this.credits++;
    if (this.waiting) { this.waiting = false; this.onCredit?.(); }
  }
}
