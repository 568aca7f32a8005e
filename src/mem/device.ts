import { REQ_FLAG_NO_DATA, ReqKind, ReqStatus, type EventQueue, type Link, type RequestTable, type ResponsePort, type StatsRegistry } from '../sim/index.js';
import type { PhysicalStore } from './store.js';

class DeviceStats { reads = 0; writes = 0; bytes = 0 }

/**
 * A memory-mapped target with a fixed access latency, backed by a store (device memory, or the
 * cacheable device memory of a coherent accelerator). Accesses are served in arrival order, one at
 * a time. Registers with side effects (the SMMU) are separate models.
 */
export class DeviceTarget {
  readonly reqHandler: number;
  inLink: Link | undefined = undefined;
  respLink: ResponsePort | undefined = undefined;
  readonly stats = new DeviceStats();
  private busyUntil = 0;

  constructor(
    readonly name: string,
    private readonly q: EventQueue,
    private readonly table: RequestTable,
    private readonly store: PhysicalStore,
    readonly latency: number,
    stats: StatsRegistry,
    statsPath: string,
  ) {
    this.reqHandler = q.register(`${name}.request`, (id) => this.onRequest(id));
    stats.add(statsPath, this.stats, {
      reads: { unit: 'count', desc: 'reads served' }, writes: { unit: 'count', desc: 'writes served' },
      bytes: { unit: 'bytes', desc: 'bytes moved' },
    });
  }

  private onRequest(id: number): void {
    const t = this.table, now = this.q.now;
    const off = t.dataOffset(id), len = t.size[id]!;
    // Performed on arrival in arrival order; the latency is the response time.
    const moveData = (t.flags[id]! & REQ_FLAG_NO_DATA) === 0;
    if (t.kind[id] === ReqKind.Write) { if (moveData) this.store.write(t.addr[id]!, t.data, off, len); this.stats.writes++; }
    else { if (moveData) this.store.read(t.addr[id]!, t.data, off, len); this.stats.reads++; }
    this.stats.bytes += len;
    const start = this.busyUntil > now ? this.busyUntil : now;
    this.busyUntil = start + 1;
    t.status[id] = ReqStatus.Ok;
    t.doneAt[id] = start + this.latency;
    this.inLink!.release();
    this.respLink!.trySendAfter(id, start - now + this.latency);
  }
}
