import { EventQueue, Link, RequestTable, Rng, StatsRegistry } from '../sim/index.js';
import { AddressMap, DeviceTarget, DramController, HomeNode, DEVICE_nGnRE, NORMAL_WB_RWA_ISH, type RegionProps } from '../mem/index.js';
import { Pe, type OpSource } from '../core/index.js';
import { CacheHierarchy } from '../cache/hierarchy.js';
import { readIdRegister, SysReg } from '../cache/id-regs.js';
import { checkPlatform, type PlatformConfig } from './schema.js';

export type EndReason = 'done' | 'max-cycles' | 'watchdog' | 'deadlock';

export interface RunOutcome {
  /** Cycle at which the run ended (the last agent's finish when `done`). */
  readonly cycles: number;
  readonly endReason: EndReason;
  /** For watchdog and deadlock ends: which agents were stuck and on what. */
  readonly diagnosis: string | undefined;
  /** Events dispatched (for the speed benchmarks). */
  readonly events: number;
}

/**
 * The one place where blocks are built and wired (STYLE §2). A System is a platform instance:
 * queue, request table, stats, address map, memory targets, the home node and the PEs.
 */
export class System {
  readonly q = new EventQueue(4096);
  readonly stats = new StatsRegistry();
  readonly table: RequestTable;
  readonly map: AddressMap;
  readonly rng: Rng;
  readonly pes: Pe[] = [];
  readonly homeNode: HomeNode;
  readonly dram: DramController | undefined;
  readonly caches: CacheHierarchy;
  private active = 0;
  private finishedCount = 0;

  constructor(readonly cfg: PlatformConfig, readonly seed: number) {
    const { q, stats } = this;
    checkPlatform(cfg);
    this.rng = new Rng(seed);
    this.table = new RequestTable(cfg.sim.requestSlots, cfg.cache.lineBytes);
    const regions: RegionProps[] = Object.entries(cfg.memory.regions)
      .map(([name, r]) => ({ name, ...r }))
      .sort((a, b) => a.base - b.base);
    this.map = new AddressMap(regions);
    this.homeNode = new HomeNode('system.hn', q, this.table, this.map, cfg.interconnect, stats, 'system.hn');
    const hn = this.homeNode;
    const big = Infinity;   // response links never refuse: the requester reserved room when it sent

    const hasDram = this.map.regions.some((r) => r.kind === 'dram');
    if (hasDram) {
      const dram = new DramController({ name: 'system.dram', q, table: this.table, store: this.map.store, cfg: cfg.dram, stats, statsPath: 'system.dram' });
      // Direct mode: the controller queues each request with its arrival cycle (no event per hop).
      dram.inLink = new Link(q, dram.reqHandler, 0, dram.inCredits, 'hn->dram', (id, at) => dram.acceptAt(id, at));
      dram.respLink = hn.respPort;
      this.dram = dram;
    }
    for (const r of this.map.regions) {
      if (r.kind === 'dram') { hn.targetOf[r.index] = this.dram!.inLink; continue; }
      const path = `system.${r.name}`;
      const dev = new DeviceTarget(path, q, this.table, r.store, r.latency, stats, path);
      dev.inLink = new Link(q, dev.reqHandler, 0, cfg.interconnect.queueDepth, `hn->${r.name}`);
      dev.respLink = hn.respPort;
      hn.targetOf[r.index] = dev.inLink;
    }

    // Half the interconnect latency each way: the request and the response both cross the mesh.
    const up = Math.ceil(cfg.interconnect.latency / 2), down = Math.floor(cfg.interconnect.latency / 2);
    const peCount = cfg.core.count;
    this.caches = new CacheHierarchy({
      cfg: cfg.cache, peCount, q, table: this.table, map: this.map, hn, stats, rng: this.rng,
      agent: peCount, upLatency: up, downLatency: down, postedWrites: cfg.interconnect.postedWrites ?? true,
    });
    for (const r of this.map.regions) this.caches.setRegionAttrs(r.index, r.kind === 'device' ? DEVICE_nGnRE : NORMAL_WB_RWA_ISH);
    const peCfg = { window: cfg.core.window, issueWidth: cfg.core.issueWidth, isbCycles: cfg.core.isbCycles, lineBytes: cfg.cache.lineBytes, zvaBytes: cfg.cache.zvaBytes };
    for (let i = 0; i < peCount; i++) {
      const name = `system.cpu${i}`;
      const pe = new Pe(i, name, q, this.table, peCfg, stats, name);
      pe.memLink = this.caches.portFor(i, pe.respHandler, hn.portFor(i, up));
      pe.clearExclusive = () => this.caches.clearMonitor(i);
      pe.readSysRegister = (reg, written) => readIdRegister(cfg.cache, reg, written(SysReg.CSSELR_EL1) ?? 0);
      hn.downLinks[i] = new Link(q, pe.respHandler, down, big, `hn->${name}`);
      pe.onFinish = () => { if (++this.finishedCount === this.active) q.stop(); };
      this.pes.push(pe);
    }
    stats.addFormula('system.cycles', () => this.q.now, { unit: 'cycles', desc: 'simulated cycles at the end of the run' });
  }

  /** Gives PE `index` its ops. Call before `run`. */
  attach(index: number, source: OpSource): void {
    const pe = this.pes[index];
    if (pe === undefined) throw new RangeError(`no PE ${index} (the platform has ${this.pes.length})`);
    this.active++;
    pe.start(source);
  }

  /**
   * Runs until every attached agent has finished, `maxCycles` pass, or the watchdog finds that no
   * agent has made progress for `watchdogCycles` (a livelock or deadlock), naming who is stuck.
   */
  run(opts: { maxCycles?: number; watchdogCycles?: number } = {}): RunOutcome {
    const q = this.q;
    const maxCycles = opts.maxCycles ?? Number.MAX_SAFE_INTEGER;
    const wd = opts.watchdogCycles ?? this.cfg.sim.watchdogCycles;
    const ev0 = q.dispatched;
    let lastProgress = this.progress();
    let lastProgressAt = q.now;
    if (this.active === 0) return { cycles: q.now, endReason: 'done', diagnosis: undefined, events: 0 };
    for (;;) {
      const sliceEnd = Math.min(maxCycles, lastProgressAt + wd);
      const drained = q.runUntil(sliceEnd);
      if (this.finishedCount === this.active) return this.outcome('done', undefined, ev0);
      if (!drained) continue;                           // stopped for another reason: go on
      if (q.size === 0) return this.outcome('deadlock', `deadlock: no events pending at cycle ${q.now}; ${this.stuck()}`, ev0);
      if (q.peekTime() >= maxCycles) { q.now = maxCycles; return this.outcome('max-cycles', undefined, ev0); }
      const p = this.progress();
      if (p !== lastProgress) { lastProgress = p; lastProgressAt = q.now; continue; }
      // A PE in a long compute op is not stuck: count its end as progress.
      const computeEnd = this.latestComputeEnd();
      if (computeEnd > lastProgressAt) { lastProgressAt = computeEnd; continue; }
      if (q.peekTime() >= lastProgressAt + wd) {
        q.now = lastProgressAt + wd;
        return this.outcome('watchdog', `watchdog: no progress for ${wd} cycles (cycle ${lastProgressAt} to ${q.now}); ${this.stuck()}`, ev0);
      }
    }
  }

  private outcome(endReason: EndReason, diagnosis: string | undefined, ev0: number): RunOutcome {
    return { cycles: this.q.now, endReason, diagnosis, events: this.q.dispatched - ev0 };
  }

  private latestComputeEnd(): number {
    let t = 0;
    for (const pe of this.pes) if (!pe.isFinished && pe.busyUntilCycle > t) t = pe.busyUntilCycle;
    return t;
  }

  private progress(): number {
    let p = 0;
    for (const pe of this.pes) p += pe.progress;
    return p;
  }

  private stuck(): string {
    return this.pes.filter((p) => !p.isFinished).map((p) => p.describe()).join('; ') || 'no agent is stuck';
  }
}
