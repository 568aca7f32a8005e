import { EventQueue, Link, RequestTable, Rng, StatsRegistry } from '../sim/index.js';
import { AddressMap, DeviceTarget, DramController, HomeNode, DEVICE_nGnRE, NORMAL_WB_RWA_ISH, type PhysicalStore, type RegionProps } from '../mem/index.js';
import { Pe, type OpSource } from '../core/index.js';
import { PeMmu, TlbDomain, readMmuIdRegister, resolveAttrOptions, resolveMmuFeatures, registerTlbStats, type MmuConfig, type MmuIdFeatures } from '../mmu/index.js';
import { CacheHierarchy } from '../cache/hierarchy.js';
import { STATE_DIRTY } from '../cache/index.js';
import { CERROR_NAMES, DmaMaster, PathMemory, SmmuHost, StreamDevice, resolveDmaConfig, resolveSmmuConfig, type DmaConfig, type SmmuConfig, type SmmuControl } from '../smmu/index.js';
import { UserError } from '../sim/index.js';
import { readIdRegister, SysReg } from '../cache/id-regs.js';
import type { Timeline } from '../sim/index.js';
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
  /** The PEs whose TLBs a broadcast TLBI reaches (all of them: one Inner Shareable domain). */
  readonly tlbDomain = new TlbDomain();
  private active = 0;
  private finishedCount = 0;
  private readonly smmuCfg: { engine: SmmuConfig; dma: DmaConfig; threads: 0 | 1; commandCycles: number | undefined } | undefined;
  private smmuParts: SmmuParts | undefined;
  /** The timeline this run records, if any (`setTimeline`). */
  timeline: Timeline | undefined = undefined;

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
    const peCfg = {
      window: cfg.core.window, issueWidth: cfg.core.issueWidth, isbCycles: cfg.core.isbCycles, lineBytes: cfg.cache.lineBytes,
      zvaBytes: cfg.cache.zvaBytes, exceptionCycles: cfg.mmu.exceptionCycles,
      lse: cfg.core.featLSE ?? true, dpb: cfg.core.featDPB ?? true, lse2: cfg.core.featLSE2 ?? false,
    };
    const mmuCfg = cfg.mmu.translation === 'vmsa' ? mmuConfigOf(cfg) : undefined;
    // The memory-model ID registers describe the configured features whether or not the MMU is modelled.
    const idFeatures: MmuIdFeatures = {
      features: mmuCfg?.features ?? resolveMmuFeatures(cfg.mmu.features, 'mmu.features'),
      featS2FWB: cfg.mmu.featS2FWB, featMTE2: (mmuCfg?.attrOpts ?? resolveAttrOptions(cfg.mmu.attrs, 'mmu.attrs')).featMTE2,
      featLSE2: cfg.core.featLSE2 ?? false,
    };
    const readId = (reg: number, csselr: number): number | undefined => {
      const m = readMmuIdRegister(idFeatures, reg);
      return m !== undefined ? m.lo + m.hi * 4294967296 : readIdRegister(cfg.cache, reg, csselr);
    };
    for (let i = 0; i < peCount; i++) {
      const name = `system.cpu${i}`;
      const pe = new Pe(i, name, q, this.table, peCfg, stats, name);
      pe.memLink = this.caches.portFor(i, pe.respHandler, hn.portFor(i, up));
      pe.clearExclusive = () => this.caches.clearMonitor(i);
      pe.readSysRegister = (reg, written) => readId(reg, written(SysReg.CSSELR_EL1) ?? 0);
      if (mmuCfg !== undefined) {
        const mmu = new PeMmu(mmuCfg, this.tlbDomain);
        pe.mmu = mmu;
        stats.add(`${name}.mmu`, mmu.stats, {
          walks: { unit: 'count', desc: 'translation table walks started' },
          walkReads: { unit: 'count', desc: 'descriptor reads sent to the memory system by walks' },
          walkCycles: { unit: 'cycles', desc: 'cycles from walk start to walk end, summed' },
          walkCacheHits: { unit: 'count', desc: 'levels of a walk skipped through the walk cache' },
          walkUpdates: { unit: 'count', desc: 'descriptor updates by walks (FEAT_HAFDBS: Access flag set, dirty state recorded), each an atomic compare-and-swap through the memory system' },
          walkRestarts: { unit: 'count', desc: 'walks started again because a descriptor changed between its read and its update' },
          faults: { unit: 'count', desc: 'MMU faults' },
          stage2Faults: { unit: 'count', desc: 'stage-2 faults (to EL2)' },
          tlbiOps: { unit: 'count', desc: 'TLBI operations issued' },
          tlbiBroadcasts: { unit: 'count', desc: 'broadcast (IS) TLBIs completed' },
          tlbiEntriesRemoved: { unit: 'count', desc: 'TLB entries removed by TLBIs this PE completed (any PE\'s TLBs)' },
          contextSyncs: { unit: 'count', desc: 'context synchronizations that changed a translation register' },
        });
        const t = mmu.tlbStats();
        registerTlbStats(stats, `${name}.dtlb`, t.dtlb);
        registerTlbStats(stats, `${name}.itlb`, t.itlb);
        registerTlbStats(stats, `${name}.l2tlb`, t.l2tlb);
        registerTlbStats(stats, `${name}.el2tlb`, t.el2tlb);
      }
      hn.downLinks[i] = new Link(q, pe.respHandler, down, big, `hn->${name}`);
      pe.onFinish = () => { if (++this.finishedCount === this.active) q.stop(); };
      this.pes.push(pe);
    }
    stats.addFormula('system.cycles', () => this.q.now, { unit: 'cycles', desc: 'simulated cycles at the end of the run' });
    if (cfg.smmu !== undefined) {
      // Checked now (unknown keys are errors before anything runs); built on first use of `smmu`.
      let dma: DmaConfig;
      try { dma = resolveDmaConfig(cfg.smmu.dma); } catch (e) { throw new UserError(`smmu.dma.${(e as Error).message}`); }
      // The SMMU host's lookahead is the shorter of the two latencies; it needs one cycle (src/smmu/host.ts).
      for (const k of ['translateCycles', 'descriptorReadCycles'] as const) {
        if (dma[k] < 1) throw new UserError(`smmu.dma.${k}: expected at least 1 (the SMMU's minimum latency, its lookahead), got ${dma[k]}`);
      }
      this.smmuCfg = { engine: resolveSmmuConfig(cfg.smmu.config, 'smmu.config'), dma, threads: cfg.smmu.threads ?? 0, commandCycles: cfg.smmu.commandCycles };
    }
  }

  /**
   * The SMMU (system.smmu0): its engine, its two memory paths (`coherent` below, and memory at the
   * PoC for non-coherent accesses) and one DMA master (system.smmu0.dma0) on this System's queue.
   * Built on first use, and its stats registered then, so runs that never touch it dump the same
   * stats as before. A platform without an `smmu` section has none (a one-line UserError).
   */
  get smmu(): SmmuParts {
    if (this.smmuParts !== undefined) return this.smmuParts;
    const c = this.smmuCfg;
    if (c === undefined) throw new UserError('this platform has no smmu section; add one (see src/platform/presets/neoverse-n1.ts)');
    // A descriptor read costs what the level holding its line costs (CacheHierarchy.deviceRead);
    // memory, an unloaded DRAM row-miss read (a device region: its latency).
    const d = this.cfg.dram;
    const dramCycles = d.frontendLatency + (d.tRCD + d.tCL + d.burstLength / 2) * d.clockRatio + d.backendLatency;
    const readCycles = (pa: number, coherent: boolean): number => {
      const r = this.map.find(pa, 8);
      if (r < 0) return 0;            // nothing is there to read (the access aborts): no cache is asked or filled
      return this.caches.deviceRead(pa, coherent, this.map.regions[r]!.kind === 'dram' ? dramCycles : this.map.regions[r]!.latency);
    };
    const mem = new PathMemory(c.engine.cohacc, this.coherent, this.memoryAtPoC, (pa, len) => this.map.find(pa, len) >= 0, readCycles, this.cfg.cache.lineBytes);
    // The engine behind its timed protocol, on this thread or in a worker (smmu.threads): software
    // models program it through `engine` (the engine itself, or a proxy of the worker's).
    const host = new SmmuHost(this.q, mem, c.engine, c.dma, { threads: c.threads, commandCycles: c.commandCycles });
    const engine = host.control;
    const dma = new DmaMaster('system.smmu0.dma0', this.q, host, mem, c.dma);
    const count = (desc: string) => ({ unit: 'count', desc }) as const;
    this.stats.add('system.smmu0', engine.stats, {
      commands: count('commands executed'), commandErrors: count('commands that stopped the queue (CERROR_*)'), syncs: count('CMD_SYNCs'),
      eventsWritten: count('event records written to the event queue'), eventsOverflowed: count('event records lost to a full queue'),
      eventsDiscarded: count('event records not written (queue off or aborted)'), eventsSuppressed: count('fault records suppressed by CD.R / STE.S2R'),
      stalls: count('stalled transactions'), resumes: count('CMD_RESUMEs that found their transaction'), stallTerminations: count('stalls ended by CMD_STALL_TERM'),
      atcInvalidations: count('ATC_INV commands'), priResponses: count('PRI_RESP commands'), irqEventq: count('event queue interrupts'),
      irqGerror: count('GERROR interrupts'), irqCmdSync: count('CMD_SYNC wired interrupts'), sev: count('CMD_SYNC send-events'), msiWrites: count('MSI writes'),
      broadcastTlbis: count('PE broadcast (IS) TLBIs received (IDR0.BTM)'), broadcastTlbiEntries: count('IOTLB and walk-cache entries removed by PE broadcast TLBIs'),
    });
    // IDR0.BTM: the PEs' IS TLBIs reach the SMMU when their DSB completes them (IHI 0070 3.17); without it they do not.
    if (c.engine.btm) this.tlbDomain.onBroadcast = (op, addr, top, asid, vmid) => { engine.broadcastTlbi(op, addr, top, asid, vmid); };
    this.stats.add('system.smmu0.host', host.stats, {
      missesMerged: count('translations that waited for a walk of their page already in flight instead of walking (SmmuHost.translate)'),
    });
    this.stats.add('system.smmu0.mem', mem.stats, {
      coherentReads: count('SMMU reads through the PEs\' caches'), coherentWrites: count('SMMU writes through the PEs\' caches'),
      nonCoherentReads: count('SMMU reads of memory at the PoC (no snoop)'), nonCoherentWrites: count('SMMU writes to memory at the PoC (no snoop)'),
      coherentReadBytes: { unit: 'bytes', desc: 'bytes read coherently' }, coherentWriteBytes: { unit: 'bytes', desc: 'bytes written coherently' },
      nonCoherentReadBytes: { unit: 'bytes', desc: 'bytes read without snooping' }, nonCoherentWriteBytes: { unit: 'bytes', desc: 'bytes written without snooping' },
      aborts: count('accesses no region decodes'),
      timedReads: count('descriptor reads timed by where their line was (a cluster\'s caches, the L3, memory)'),
      timedReadCycles: { unit: 'cycles', desc: 'their latencies summed (each at least smmu.dma.descriptorReadCycles when answered)' },
      timedDataReads: count('device data reads timed by where their lines were (the DMA master and the streaming device)'),
      timedDataReadCycles: { unit: 'cycles', desc: 'their latencies summed (the slowest line of each read)' },
    });
    this.stats.add('system.smmu0.dma0', dma.stats, {
      jobs: count('DMA jobs submitted'), beats: count('data beats performed'), bytesRead: { unit: 'bytes', desc: 'bytes read by DMA' },
      bytesWritten: { unit: 'bytes', desc: 'bytes written by DMA' }, translations: count('translations requested'), tlbHits: count('translations answered by the IOTLB'),
      descriptorReads: count('STE/CD/descriptor reads made for DMA translations'), translateCycles: { unit: 'cycles', desc: 'cycles spent translating' },
      dataCycles: { unit: 'cycles', desc: 'cycles of data beats' }, dataWaitCycles: { unit: 'cycles', desc: 'cycles reads waited for their data to come back from where their lines were, summed' },
      faults: count('jobs ended by a fault or abort'), razWi: count('beats answered RAZ/WI'), stalls: count('stalled translations'),
    });
    const { q, stats } = this, sys = this;
    let stream: StreamDevice | undefined;
    this.smmuParts = {
      engine, host, mem, dma,
      // system.smmu0.stream0: built, and its stats registered, on first use (as the SMMU itself).
      get stream(): StreamDevice {
        if (stream !== undefined) return stream;
        const s = stream = new StreamDevice('system.smmu0.stream0', q, host, mem, c.dma);
        stats.add('system.smmu0.stream0', s.stats, {
          requests: count('requests issued'), completed: count('requests completed without a fault'), faults: count('requests ended by a fault or abort'),
          bytesRead: { unit: 'bytes', desc: 'bytes read' }, bytesWritten: { unit: 'bytes', desc: 'bytes written' },
          translations: count('translations requested'), tlbHits: count('translations answered by the IOTLB'),
          descriptorReads: count('STE/CD/descriptor reads made for its translations'), translateCycles: { unit: 'cycles', desc: 'cycles spent translating, summed over requests' },
          dataCycles: { unit: 'cycles', desc: 'cycles the device port moved data' }, stalls: count('stalled translations'), razWi: count('requests answered RAZ/WI'),
          dataWaitCycles: { unit: 'cycles', desc: 'cycles reads waited for their data from where their lines were, summed' },
          throttledCycles: { unit: 'cycles', desc: 'cycles issues waited because maxOutstanding requests were in flight' },
          maxInFlight: count('most requests in flight at once'),
        });
        stats.addHistogram('system.smmu0.stream0.latency', s.latency, { unit: 'cycles', desc: 'request latency, issue to completion' });
        stats.addFormula('system.smmu0.stream0.bytesPerKcycle', () => s.bytesPerKcycle(), { unit: 'bytes/kcycle', desc: 'achieved bandwidth, first issue to last completion' });
        if (sys.timeline !== undefined) s.setTimeline(sys.timeline, 'system.smmu0');
        return s;
      },
    };
    if (this.timeline !== undefined) this.traceSmmu(this.timeline);
    return this.smmuParts;
  }

  /**
   * Records the run on `tl` (call before `run`): each PE (its ops, walks, maintenance, TLBI+DSB
   * and stage-2 fault handling), each cache instance under its stats path (system.cpu0.l1i,
   * system.cpu0.l1d, the L2s, system.l3: misses to their fill, write-backs, snoops received and
   * the maintenance each DC/IC op does there; CacheHierarchy.setTimeline), and the SMMU and its
   * DMA master once they are built.
   */
  setTimeline(tl: Timeline): void {
    this.timeline = tl;
    for (const pe of this.pes) pe.setTimeline(tl);
    this.caches.setTimeline(tl);
    if (this.smmuParts !== undefined) this.traceSmmu(tl);
  }

  /** SMMU commands (zero-length spans at the cycle each completed; after a doorbell they complete one per smmu.commandCycles) and DMA. */
  private traceSmmu(tl: Timeline): void {
    const { engine, dma } = this.smmuParts!;
    const smmuName = 'system.smmu0', track = tl.track(smmuName, 'commands', { process: 10000, thread: 0 }), q = this.q;
    dma.setTimeline(tl, smmuName);
    engine.onCommand = (c, err) => {
      if (!tl.wants(q.now)) { tl.dropped++; return; }
      const args: Record<string, string | number | boolean | null> = {};
      for (const [k, v] of Object.entries(c)) if (typeof v === 'number' && k !== 'opcode') args[k] = k === 'Address' ? `0x${v.toString(16)}` : v;
      if (err !== 0) args.error = CERROR_NAMES[err] ?? err;
      tl.span(track, c.name, 'smmu-cmd', q.now, q.now, args);
    };
  }

  /**
   * Memory as a non-snooping agent at the PoC sees it (the SMMU's non-coherent path): a system-cache
   * L3 at the PoC serves and takes the lines it holds (as CacheHierarchy.nonCacheable does: a write
   * leaves the L3 line dirty); everything else is the store behind the caches. Dirty lines in the
   * PEs' L1/L2 (and a before-PoC L3) are not looked at: that is the point.
   */
  readonly memoryAtPoC: PhysicalStore = {
    read: (pa, dst, dstOff, len) => this.atPoC(pa, len, (s, off, a, n, l3) => {
      if (l3 !== undefined && s >= 0) l3.arr.readBytes(s, off, dst, dstOff + a - pa, n);
      else this.map.store.read(a, dst, dstOff + a - pa, n);
    }),
    write: (pa, src, srcOff, len) => this.atPoC(pa, len, (s, off, a, n, l3) => {
      if (l3 !== undefined && s >= 0) { l3.arr.writeBytes(s, off, src, srcOff + a - pa, n); l3.arr.state[s]! |= STATE_DIRTY; }
      else this.map.store.write(a, src, srcOff + a - pa, n);
    }),
  };

  /** Splits [pa, pa+len) by line and finds each line in a system-cache L3 (slot -1: not there, or no such L3). */
  private atPoC(pa: number, len: number, fn: (slot: number, off: number, a: number, n: number, l3: CacheHierarchy['l3']) => void): void {
    const lb = this.cfg.cache.lineBytes;
    const l3 = this.cfg.cache.l3.kind === 'system-cache' ? this.caches.l3 : undefined;
    for (let done = 0; done < len;) {
      const a = pa + done, n = Math.min(len - done, lb - (a % lb));
      const line = Math.floor(a / lb);
      fn(l3 !== undefined ? l3.arr.lookup(line) : -1, a - line * lb, a, n, l3);
      done += n;
    }
  }

  /**
   * Physical memory as a coherent agent outside the PEs sees it: reads return the freshest copy
   * (a dirty cache line or memory), writes update memory and every cached copy. For set-ups and
   * for software models that write tables functionally; no time passes.
   */
  readonly coherent: PhysicalStore = {
    read: (pa, dst, dstOff, len) => {
      for (let done = 0; done < len;) {
        const lb = this.cfg.cache.lineBytes, a = pa + done, n = Math.min(len - done, lb - (a % lb));
        this.caches.readCoherentInto(a, n, dst, dstOff + done);
        done += n;
      }
    },
    write: (pa, src, srcOff, len) => {
      for (let done = 0; done < len;) {
        const lb = this.cfg.cache.lineBytes, a = pa + done, n = Math.min(len - done, lb - (a % lb));
        this.caches.writeCoherent(a, src.subarray(srcOff + done, srcOff + done + n));
        done += n;
      }
    },
  };

  /**
   * Ends what runs beside the simulation: takes the SMMU worker's final counters into the stats
   * registry and stops the worker. Call once the run and its checks are over; idempotent.
   */
  async close(): Promise<void> {
    const p = this.smmuParts;
    if (p === undefined) return;
    p.host.refreshStats();
    await p.host.close();
  }

  /** Gives PE `index` its ops. Call before `run`. */
  attach(index: number, source: OpSource): void {
    const pe = this.pes[index];
    if (pe === undefined) {
      // The PE count is the user's (core.count, or what a replay derived from the trace's agents).
      if (Number.isInteger(index) && index >= this.pes.length) throw new UserError(`core.count: this run needs PE ${index}, the platform has ${this.pes.length} (expected core.count=${index + 1} or more)`);
      throw new RangeError(`no PE ${index} (the platform has ${this.pes.length})`);
    }
    this.active++;
    pe.start(source);
  }

  /**
   * Runs until every attached agent has finished, `maxCycles` pass, or the watchdog finds that no
   * agent has made progress for `watchdogCycles` (a livelock or deadlock), naming who is stuck.
   * `onProgress` (a progress bar) is called between events at most every `progressMs` of wall
   * time (default 100); nothing it sees or does changes the run (see runSlice).
   */
  run(opts: { maxCycles?: number; watchdogCycles?: number; onProgress?: () => void; progressMs?: number } = {}): RunOutcome {
    const q = this.q;
    const maxCycles = opts.maxCycles ?? Number.MAX_SAFE_INTEGER;
    const wd = opts.watchdogCycles ?? this.cfg.sim.watchdogCycles;
    const ev0 = q.dispatched;
    let lastProgress = this.progress();
    let lastProgressAt = q.now;
    if (this.active === 0) return { cycles: q.now, endReason: 'done', diagnosis: undefined, events: 0 };
    const ticker = opts.onProgress === undefined ? undefined : new ProgressTicker(opts.onProgress, opts.progressMs ?? 100);
    for (;;) {
      const sliceEnd = Math.min(maxCycles, lastProgressAt + wd);
      const drained = ticker === undefined ? q.runUntil(sliceEnd) : this.runSlice(sliceEnd, ticker);
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

  /**
   * q.runUntil(end) in pieces, calling the ticker between them. Equivalent to one call: runUntil
   * dispatches the events before its end in queue order and leaves `now` at the last one, so a
   * run cut at cycles e1 < e2 < ... < end dispatches the same events in the same order, and the
   * watchdog above sees the same slices. Pieces start `step` cycles long and adapt to take a few
   * tens of milliseconds each; the wall clock decides only where they are cut.
   */
  private runSlice(end: number, ticker: ProgressTicker): boolean {
    const q = this.q;
    for (;;) {
      const next = q.peekTime();
      if (next >= end) return q.runUntil(end);              // nothing (more) before end
      const cut = Math.min(end, next + ticker.step);
      const t0 = performance.now();
      const drained = q.runUntil(cut);
      ticker.after(performance.now() - t0);
      if (!drained) return false;                            // stopped: every agent done, or another reason
      if (cut >= end) return true;
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

/**
 * When System.run calls its progress callback: after pieces of the run `step` cycles long, resized
 * so that each takes roughly 10-40 ms of wall time, and at most every `intervalMs`.
 */
class ProgressTicker {
  step = 10_000;
  private last = performance.now();
  constructor(private readonly callback: () => void, private readonly intervalMs: number) {}

  /** A piece of the run took `ms`. */
  after(ms: number): void {
    if (ms < 10 && this.step < 2 ** 40) this.step *= 2;
    else if (ms > 40 && this.step > 1) this.step = Math.ceil(this.step / 2);
    const now = performance.now();
    if (now - this.last >= this.intervalMs) { this.last = now; this.callback(); }
  }
}

/** The SMMU of a System and what hangs off it (System.smmu). */
export interface SmmuParts {
  /** The engine's registers, commands and stats (the engine itself, or a proxy of the worker's). */
  readonly engine: SmmuControl;
  /** Translation requests from devices, timed (src/smmu/host.ts). */
  readonly host: SmmuHost;
  readonly mem: PathMemory;
  readonly dma: DmaMaster;
  /** A streaming device (system.smmu0.stream0), built on first use; `stream.start(spec)` runs a stream. */
  readonly stream: StreamDevice;
}

/** The PE MMU configuration from the platform's `mmu` section (features and attribute choices checked here). */
export function mmuConfigOf(cfg: PlatformConfig): MmuConfig {
  const m = cfg.mmu;
  return Object.freeze({
    features: resolveMmuFeatures(m.features, 'mmu.features'),
    attrOpts: resolveAttrOptions(m.attrs, 'mmu.attrs'),
    el2: m.el2, featS2FWB: m.featS2FWB,
    l1d: m.l1d, l1i: m.l1i, l2: m.l2,
    walkCacheEntries: m.walkCacheEntries, tlbiCycles: m.tlbiCycles, tlbiBroadcastCycles: m.tlbiBroadcastCycles,
    ipaInvalidatesCombined: m.ipaInvalidatesCombined,
  });
}
