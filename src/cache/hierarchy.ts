import { Link, REQ_FLAG_EXCLUSIVE, REQ_FLAG_NO_DATA, ReqKind, ReqStatus, UserError, type EventQueue, type RequestPort, type RequestTable, type Rng, type StatsRegistry, type Timeline, type TimelineArgs } from '../sim/index.js';
import {
  Cacheability, DeviceKind, attrDeviceKind, attrInnerCache, attrInnerReadAllocate, attrInnerWriteAllocate, attrIsDevice,
  attrOuterCache, attrOuterReadAllocate, effectiveShareability, Shareability, ATTRS_REGION_DEFAULT, ATTR_TAGGED,
  type AddressMap, type HomeNode,
} from '../mem/index.js';
import { AtomicOp, CMO_NAMES, CmoOp } from '../core/ops.js';
import type { CacheConfig } from '../platform/schema.js';
import { CacheArray, MoesiState, STATE_DIRTY, STATE_SHARED } from './tag-array.js';
import { createReplacement } from './replacement.js';
import { MshrTable } from './mshr.js';
import { SnoopFilter } from './snoop-filter.js';
import { LevelStats, registerLevelStats } from './level-stats.js';

/** An L2 line a prefetcher brought in that no demand access has used yet (a controller bit). */
const STATE_PREFETCHED = 0x08;
/** A line whose fill is still in flight: hits on it wait for the fill (its MSHR). */
const PENDING = Infinity;
/** Request tag of a victim's memory write: WB_TAG - b holds write-back buffer b (tags >= 0 are maintenance ops waiting, -1 nothing). */
const WB_TAG = -2;
const READ: number = ReqKind.Read, WRITE: number = ReqKind.Write, FETCH: number = ReqKind.Fetch, CMO: number = ReqKind.Cmo;
const ATOMIC: number = ReqKind.Atomic;
const STATUS_OK: number = ReqStatus.Ok;
const WB: number = Cacheability.WB, WT: number = Cacheability.WT;

/** A level's timeline tracks (one set of lanes per kind of span); made by CacheHierarchy.setTimeline. */
type Lanes = ReturnType<Timeline['lanes']>;
interface LevelLanes { readonly misses: Lanes; readonly writebacks: Lanes; readonly snoops: Lanes; readonly maintenance: Lanes }
/** What a maintenance op did at a level (timeline span arguments). */
const TL_FOUND = 1, TL_CLEANED = 2, TL_INVALIDATED = 4, TL_ZEROED = 8, TL_TOOK_DIRTY = 16;
/** Span names of a demand miss, by ReqKind. */
const TL_MISS_NAMES = ['read miss', 'write miss', 'fetch miss', 'maintenance', 'atomic miss'];
const TL_CMO_NAMES = CMO_NAMES.map((n) => n.toUpperCase());

/** One level's storage and timing: a tag/data array plus, per line, when its data is there. */
export class Level {
  readonly arr: CacheArray;
  /**
   * Cycle at which each slot's data is usable (PENDING while its fill is in flight). Empty for
   * the L3, whose lines are always usable: its fills are timed by the requests that wait on the
   * L2's MSHRs.
   */
  readonly readyAt: Float64Array;
  readonly stats = new LevelStats();
  /** Cycles a line transfer occupies this level's data port (0: unlimited), and when it is next free. */
  cyclesPerLine = 0;
  /**
   * Lines installed while their fill was still in flight (readyAt PENDING), counted for the L1I
   * only: up at install, down when a fill settles one. An upper bound (a pending line evicted
   * first is never counted down); while it is 0 a fill skips looking in the L1I.
   */
  pendingFills = 0;
  private portFree = 0;
  /** This level's timeline lanes while a timeline records (CacheHierarchy.setTimeline), else undefined. */
  tl: LevelLanes | undefined = undefined;
  constructor(
    readonly name: string,
    geometry: { sizeBytes: number; ways: number; lineBytes: number },
    replacement: 'lru' | 'plru' | 'random',
    rng: Rng,
    readonly hitLatency: number,
    readonly tagLatency: number,
    /** What the controller keeps per line beyond the array: ready times, and fill generations (the L1D's exclusive monitors). */
    keep: { readyAt: boolean; generations: boolean },
    /** The line number the array's tags are offsets from (CacheArray's tagBase). */
    tagBase: number,
  ) {
    const sets = geometry.sizeBytes / (geometry.ways * geometry.lineBytes);
    const policy = createReplacement(replacement, sets, geometry.ways, rng.fork(name));
    this.arr = new CacheArray(geometry, { replacement: policy, generations: keep.generations, tagBase });
    this.readyAt = new Float64Array(keep.readyAt ? sets * geometry.ways : 0);
  }

  /** A line transfer wanting the data port at `at`: returns when it gets it (and holds the port). */
  port(at: number): number {
    if (this.cyclesPerLine === 0) return at;
    const start = this.portFree > at ? this.portFree : at;
    this.portFree = start + this.cyclesPerLine;
    return start;
  }
}

export interface HierarchyOptions {
  cfg: CacheConfig;
  peCount: number;
  q: EventQueue;
  table: RequestTable;
  map: AddressMap;
  hn: HomeNode;
  stats: StatsRegistry;
  rng: Rng;
  /** The agent id of the caches' own requests (fills, write-backs) at the home node. */
  agent: number;
  /** Cycles from a PE to the home node and back (the interconnect's two halves). */
  upLatency: number;
  downLatency: number;
  /** Early write acknowledgement for writes that permit it (all but Device-nGnRnE). */
  postedWrites: boolean;
}

/**
 * The cache hierarchy of the whole system: per PE an L1I and an L1D, an L2 per PE or per
 * cluster, an optional L3 of kind `before-poc` or `system-cache`, MOESI/MESI coherence among the
 * clusters through an exact snoop filter at the home node, and the memory side.
 *
 * Model: an access is *performed* when the hierarchy takes it — its bytes move between the
 * caches, the requester and the store at that moment, in one atomic transaction (snoops
 * included), so there are no transient coherence states and no races. Its *time* is accounted
 * separately: a hit completes after the latencies of the levels it crossed; a line that must come
 * from DRAM is filled (functionally) at once but marked pending, and a timing-only request
 * (REQ_FLAG_NO_DATA) goes through the home node to the DRAM controller; the access, and every
 * later one that hits the pending line, completes when that request returns (the L2's MSHR holds
 * them, and a full MSHR file stops the PEs of the cluster). Dirty victims are written to the
 * store at once and cost a timed DRAM write. This is the functional-first, timing-annotated
 * scheme of fast simulators (ZSim, Sniper); the order in which accesses are performed is the
 * order in which the PEs issue them.
 *
 * Memory types (the final attributes each request carries):
 * - Device and Non-cacheable (inner) accesses skip L1 and L2 and snoop nothing. A `before-poc`
 *   L3 is skipped too; a `system-cache` L3 serves them when it holds the line (it is at the PoC,
 *   transparent). So a cacheable alias holding a dirty line disagrees with the NC view, and a
 *   later write-back overwrites newer NC data: the loss the issue asks to show.
 * - Write-Back lines become dirty; Write-Through writes update the cached copies, which stay
 *   clean, and continue to memory; a read allocates when the read-allocate hint is set, a write
 *   when the write-allocate hint is (otherwise it updates a present copy or goes around).
 *
 * Coherence: the unit is the cluster (its L2 and the L1s under it). Within a cluster the L1Ds
 * are kept coherent through the L2; between clusters the home node's snoop filter names the
 * clusters that may hold a line. An L1D line without STATE_SHARED is the only copy in the system
 * (E or M), so a store to it needs nothing more. Instruction caches are not kept coherent with
 * stores unless CTR_EL0.DIC (cfg.dic); instruction fills see data still dirty in an L1D only when
 * CTR_EL0.IDC (cfg.idc) or DIC says so.
 */
export class CacheHierarchy {
  readonly l1i: Level[] = [];
  readonly l1d: Level[] = [];
  readonly l2: Level[] = [];
  readonly l3: Level | undefined;
  readonly filter: SnoopFilter;
  readonly lineBytes: number;
  /** The request port each PE issues on. */
  readonly ports: CpuPort[] = [];
  readonly fillHandler: number;
  private readonly cfg: CacheConfig;
  private readonly q: EventQueue;
  /** The request table and address map (the ports read them). */
  readonly table: RequestTable;
  readonly map: AddressMap;
  private readonly hn: HomeNode;
  private readonly agent: number;
  private readonly clusterSize: number;
  private readonly clusters: number;
  private readonly peCount: number;
  private readonly mshr: MshrTable[] = [];
  /**
   * Write-back buffers (cache.l2/l3.writebackBuffer): index k < clusters is cluster k's L2, index
   * `wbL3` the L3. Entries in use, the size (Infinity: unbounded), and since when it has been full.
   */
  private readonly wbUsed: Int32Array;
  private readonly wbCap: Float64Array;
  private readonly wbFullSince: Float64Array;
  private readonly wbL3: number;
  private readonly invLine: number;
  private readonly upLatency: number;
  private readonly downLatency: number;
  private readonly hnLatency: number;
  /** Response handler of each PE (set by portFor). */
  private readonly peResp: number[] = [];
  /** Default attributes of each region (index = region index), for accesses that name none. */
  readonly regionAttrs: Uint32Array;
  /** 1 where the region has MTE tag storage (RegionProps.mteTags). */
  readonly regionTags: Uint8Array;
  // scratch, reused: one line of data, the sharers of a line
  private readonly buf: Uint8Array;
  private readonly buf2: Uint8Array;
  private readonly sharers: Int32Array;
  /** The same for readCoherentInto, which callers outside a cache operation use. */
  private readonly devSharers: Int32Array;
  private readonly prefetchNextLine: boolean;
  /** Whether the snoop filter is kept (more than one cluster; see addHolder). */
  private readonly tracking: boolean;
  /** Whether the interconnect acknowledges writes that allow it early (interconnect.postedWrites). */
  private readonly postedWrites: boolean;
  /** Whether an L3 exists and caches Normal outer-cacheable lines. */
  private readonly hasL3: boolean;
  private readonly l3SystemCache: boolean;
  /**
   * The run's timeline while it records (setTimeline). Hot paths test only this field; what the
   * recording needs below is allocated by setTimeline, never in a run without one.
   */
  timeline: Timeline | undefined = undefined;
  /** Per request slot: the cycle a demand miss that waits for a memory fill was taken (-1: none); drawn when the fill lands. */
  private tlMissAt = new Float64Array(0);
  /** Per request slot of a fill or write-back to memory: the cycle it left, and (write-backs) the level it left. */
  private tlSince = new Float64Array(0);
  private tlFrom: (Level | undefined)[] = [];
  /** The write memoryWrite sent last; the maintenance op toPoc is performing (for cleanCluster) and its PE. */
  private tlLastWrite = -1;
  private tlCmoId = -1;
  private tlCmoPe = -1;

  constructor(o: HierarchyOptions) {
    const c = o.cfg;
    this.cfg = c; this.q = o.q; this.table = o.table; this.map = o.map; this.hn = o.hn; this.agent = o.agent;
    this.lineBytes = c.lineBytes;
    this.invLine = 1 / c.lineBytes;
    this.clusterSize = c.l2.clusterSize;
    this.peCount = o.peCount;
    this.clusters = Math.ceil(o.peCount / c.l2.clusterSize);
    this.upLatency = o.upLatency; this.downLatency = o.downLatency;
    this.hnLatency = o.hn.cfg.latency;
    const lb = c.lineBytes;
    const geom = (l: { sizeBytes: number; ways: number }) => ({ sizeBytes: l.sizeBytes, ways: l.ways, lineBytes: lb });
    const l2Name = (k: number): string =>
      c.naming === 'cachegrind' && this.clusters === 1 ? 'system.ll'
        : this.clusterSize === 1 ? `system.cpu${k}.l2` : `system.cluster${k}.l2`;
    // Tags are stored as 32-bit offsets from this line, exact anywhere, fastest within 2^31 lines of it.
    const dram = o.map.regions.find((r) => r.kind === 'dram');
    const tagBase = dram === undefined ? 0 : Math.floor(dram.base / lb);
    for (let p = 0; p < o.peCount; p++) {
      this.l1i.push(new Level(`system.cpu${p}.l1i`, geom(c.l1i), c.l1i.replacement, o.rng, c.l1i.hitLatency, c.l1i.tagLatency, { readyAt: true, generations: false }, tagBase));
      this.l1d.push(new Level(`system.cpu${p}.l1d`, geom(c.l1d), c.l1d.replacement, o.rng, c.l1d.hitLatency, c.l1d.tagLatency, { readyAt: true, generations: true }, tagBase));
    }
    // Every PE of a cluster may have its whole window waiting on one line (each op up to 2 parts).
    const maxTargets = Math.min(65535, 4 * 256 * this.clusterSize);
    for (let k = 0; k < this.clusters; k++) {
      this.l2.push(new Level(l2Name(k), geom(c.l2), c.l2.replacement, o.rng, c.l2.hitLatency, c.l2.tagLatency, { readyAt: true, generations: false }, tagBase));
      this.mshr.push(new MshrTable(c.l2.mshrs, maxTargets));
    }
    this.wbL3 = this.clusters;
    this.wbUsed = new Int32Array(this.clusters + 1);
    this.wbCap = new Float64Array(this.clusters + 1).fill(c.l2.writebackBuffer ?? Infinity);
    this.wbCap[this.wbL3] = c.l3.kind === 'none' ? Infinity : c.l3.writebackBuffer ?? Infinity;
    this.wbFullSince = new Float64Array(this.clusters + 1);
    this.postedWrites = o.postedWrites;
    this.prefetchNextLine = c.prefetch === 'next-line';
    this.hasL3 = c.l3.kind !== 'none';
    this.l3SystemCache = c.l3.kind === 'system-cache';
    this.l3 = this.hasL3 ? new Level('system.l3', geom(c.l3), c.l3.replacement, o.rng, c.l3.hitLatency, c.l3.tagLatency, { readyAt: false, generations: false }, tagBase) : undefined;
    const linesPerCluster = (c.l2.sizeBytes + this.clusterSize * (c.l1d.sizeBytes + c.l1i.sizeBytes)) / lb;
    this.tracking = this.clusters > 1;
    this.filter = new SnoopFilter(this.clusters, this.tracking ? Math.min(1 << 22, linesPerCluster * this.clusters) : 16);
    this.buf = this.scratch(0, lb);
    this.buf2 = this.scratch(1, lb);
    this.sharers = new Int32Array(this.clusters);
    this.devSharers = new Int32Array(this.clusters);
    this.regionAttrs = new Uint32Array(o.map.regions.length);
    this.regionTags = Uint8Array.from(o.map.regions, (r) => (r.mteTags ? 1 : 0));
    this.l1dMshrs = c.l1d.mshrs; this.l1iMshrs = c.l1i.mshrs; this.l2Mshrs = c.l2.mshrs;
    this.l1dMisses = new Int32Array(o.peCount);
    this.l1iMisses = new Int32Array(o.peCount);
    this.canMissNow = new Uint8Array(o.peCount).fill(1);     // no misses outstanding, and every mshrs >= 1
    this.monLine = new Float64Array(o.peCount).fill(-1);
    this.monSlot = new Int32Array(o.peCount).fill(-1);
    this.monGen = new Uint32Array(o.peCount);
    this.globalMon = new Float64Array(o.peCount).fill(-1);

    for (const l of [...this.l1i, ...this.l1d, ...this.l2, ...(this.l3 ? [this.l3] : [])]) registerLevelStats(o.stats, l.name, l.stats);
    const perLine = (bpc: number | undefined): number => (bpc === undefined ? 0 : Math.ceil(lb / bpc));
    for (const l of this.l2) l.cyclesPerLine = perLine(c.l2.bytesPerCycle);
    if (this.l3 !== undefined) this.l3.cyclesPerLine = perLine(c.l3.bytesPerCycle);

    this.fillHandler = o.q.register('system.caches.fill', (id) => this.onMemoryResponse(id));
    o.hn.downLinks[o.agent] = new Link(o.q, this.fillHandler, o.downLatency, Infinity, 'hn->caches');
  }

  /** The request port of PE `pe`, whose responses go to `respHandler`; NC/Device traffic leaves on `hnPort`. */
  portFor(pe: number, respHandler: number, hnPort: RequestPort): CpuPort {
    this.peResp[pe] = respHandler;
    const port = new CpuPort(this, pe, hnPort);
    this.ports[pe] = port;
    return port;
  }

  clusterOf(pe: number): number { return Math.floor(pe / this.clusterSize); }

  private lineOf(addr: number): number { return Math.floor(addr * this.invLine); }

  private respond(id: number, delay: number): void {
    this.table.status[id] = STATUS_OK;
    if (id === this.syncId) { this.syncDoneAt = this.q.now + delay; return; }   // completed within the port call
    this.q.schedule(this.peResp[this.table.source[id]!]!, delay, id);
  }

  /** The request a CpuPort is handing over right now (-1 outside a port call) and its completion, if decided on the spot. */
  syncId = -1;
  syncDoneAt = -1;

  /**
   * True when PE `pe` may issue an access that could miss: its cluster's L2 has a free MSHR, its
   * L2 and the L3 each a free write-back buffer entry (a miss may evict a dirty line), and its own
   * L1 misses waiting for memory are fewer than the L1D's (and L1I's) MSHRs. A PE that cannot
   * stalls, hits included (the model does not let hits pass a full miss queue; gem5's classic
   * cache blocks the same way on Blocked_NoMSHRs and Blocked_NoWBBuffers).
   */
  canMiss(pe: number, k: number): boolean {
    return this.l1dMisses[pe]! < this.l1dMshrs && this.l1iMisses[pe]! < this.l1iMshrs && this.mshr[k]!.inUse < this.l2Mshrs
      && this.wbUsed[k]! < this.wbCap[k]! && this.wbUsed[this.wbL3]! < this.wbCap[this.wbL3]!;
  }

  private readonly l1dMshrs: number;
  private readonly l1iMshrs: number;
  private readonly l2Mshrs: number;
  /** Outstanding L1D / L1I misses of each PE waiting for memory. */
  private readonly l1dMisses: Int32Array;
  private readonly l1iMisses: Int32Array;
  /**
   * canMiss(pe) as one byte per PE, which CpuPort.available reads for every op: the three counts
   * it depends on change only in complete() (an L1 miss joins an MSHR), memoryFill() (an L2 MSHR
   * opens), onMemoryResponse() (a fill answers its waiters and frees its MSHR) and a write-back
   * buffer filling up or freeing its last entry (takeWriteback, releaseWriteback), and each of
   * those recomputes the flag of the PEs it affects right after the change.
   */
  readonly canMissNow: Uint8Array;

  /** Recomputes canMissNow for every PE of cluster k. */
  private refreshCanMiss(k: number): void {
    for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) this.canMissNow[p] = this.canMiss(p, k) ? 1 : 0;
  }

  // ===== the access path =========================================================================

  /**
   * Performs cacheable access `id` of PE `pe` (the request's attrs are final and inner
   * cacheable) and schedules its response.
   */
  access(pe: number, id: number): void {
    const t = this.table;
    const kind = t.kind[id]!;
    if (kind === FETCH) { this.fetch(pe, id); return; }
    const addr = t.addr[id]!, size = t.size[id]!, attrs = t.attrs[id]!;
    const line = this.lineOf(addr);
    const off = addr - line * this.lineBytes;
    const isWrite = kind === WRITE || kind === ATOMIC;
    const now = this.q.now;
    const l1 = this.l1d[pe]!;
    const cache = attrInnerCache(attrs);
    const s1 = l1.arr.lookup(line);
    if (s1 >= 0 && (!isWrite || (l1.arr.state[s1]! & STATE_SHARED) === 0)) {
      // An L1D hit with the permission the access needs.
      l1.arr.touch(s1);
      if (isWrite) {
        l1.stats.writeHits++;
        this.applyWrite(l1.arr, s1, off, id, size, kind);
        if (cache === WB) { l1.arr.state[s1]! |= STATE_DIRTY; }
        else { this.writeThroughBelowL1(pe, line, off, id, size); return; }
      } else {
        l1.stats.readHits++;
        if ((t.flags[id]! & REQ_FLAG_NO_DATA) === 0) l1.arr.readBytes(s1, off, t.data, t.dataOffset(id), size);   // else REQ_FLAG_NO_DATA: nobody reads the bytes
      }
      this.complete(pe, id, line, l1.readyAt[s1]!, now, l1.hitLatency);
      return;
    }
    if (isWrite) l1.stats.writeMisses++; else l1.stats.readMisses++;
    if (isWrite && s1 < 0 && (cache === WT || !attrInnerWriteAllocate(attrs))) {
      // No allocation in the L1D: the write goes on to the L2 (write-around / write-through).
      this.writeAroundL1(pe, id, line, off, size, attrs);
      return;
    }
    if (!isWrite && s1 < 0 && !attrInnerReadAllocate(attrs)) {
      // A read that may not allocate: read the freshest copy without filling the L1D.
      const ready = this.obtain(pe, line, attrs, false, true, now + l1.tagLatency);
      if ((t.flags[id]! & REQ_FLAG_NO_DATA) === 0) this.copyOut(id, off, size);
      if (this.timeline !== undefined) this.traceMiss(l1, id, line, ready);
      this.complete(pe, id, line, ready, 0, 0);
      return;
    }
    // Miss (or upgrade): make the cluster hold the line with the permission needed, then fill the L1D.
    // A store of a whole line needs ownership but no data (as DC ZVA): no fill from memory; the
    // line's new bytes go in `buf` for the L2's copy (see obtain).
    const wholeLine = kind === WRITE && size === this.lineBytes;
    if (wholeLine) this.stageLine(id);
    // An upgrade keeps using the L1D's slot s1 across obtain(): the L3 must not take the line from it.
    if (s1 >= 0) this.busyLine = line;
    const ready = this.obtain(pe, line, attrs, isWrite, true, now + l1.tagLatency, wholeLine);
    this.busyLine = -1;
    const slot = s1 >= 0 ? s1 : this.installL1d(pe, line, attrs);
    if (s1 < 0) {
      l1.arr.writeBytes(slot, 0, this.buf, 0, this.lineBytes);
      this.noteL1dHolder(this.clusterOf(pe), line);
    }
    l1.arr.touch(slot);
    const k = this.clusterOf(pe);
    // Unique in the L1D only if no other L1D of the cluster and no other cluster holds the line.
    const alone = !this.siblingHolds(pe, line) && this.othersHold(k, line) === false;
    let st: number = alone ? MoesiState.E : MoesiState.S;
    if (isWrite) {
      st = MoesiState.M;
      this.applyWrite(l1.arr, slot, off, id, size, kind);
    } else if ((t.flags[id]! & REQ_FLAG_NO_DATA) === 0) {
      l1.arr.readBytes(slot, off, t.data, t.dataOffset(id), size);
    }
    st |= l1.arr.state[slot]! & STATE_DIRTY;      // an upgrade keeps its dirty data; an exclusive L2 may hand up a dirty line
    l1.arr.state[slot] = st;
    l1.readyAt[slot] = ready;
    if (isWrite && cache !== WB) { l1.arr.state[slot] = alone ? MoesiState.E : MoesiState.S; this.writeThroughBelowL1(pe, line, off, id, size); return; }
    if (this.timeline !== undefined) this.traceMiss(l1, id, line, ready);
    this.complete(pe, id, line, ready, 0, 0);
  }

  /** Puts whole-line write `id`'s bytes in `buf`, as obtain() wants them for a whole-line write. */
  private stageLine(id: number): void {
    const d = this.table.data, o = this.table.dataOffset(id), b = this.buf;
    for (let i = 0; i < this.lineBytes; i++) b[i] = d[o + i]!;
  }

  /** Writes request `id`'s bytes into a line: a store's data, or an atomic's result (old value back to the request). */
  private applyWrite(arr: CacheArray, slot: number, off: number, id: number, size: number, kind: number): void {
    const t = this.table;
    if (kind === ATOMIC) rmwBytes(arr.data, arr.dataOffset(slot) + off, t.data, t.dataOffset(id), size, t.aux[id]!);
    else arr.writeBytes(slot, off, t.data, t.dataOffset(id), size);
  }

  /** Responds to `id` once data that is ready at `ready` has had `hit` more cycles; waits on the MSHR when pending. */
  private complete(pe: number, id: number, line: number, ready: number, now: number, hit: number): void {
    if (ready === PENDING) {
      const k = this.clusterOf(pe);
      const m = this.mshr[k]!;
      const e = m.find(line);
      if (e >= 0 && m.merge(e, id) >= 0) {                // answered when the fill lands
        if (this.table.kind[id] === FETCH) this.l1iMisses[pe]++; else this.l1dMisses[pe]++;
        this.canMissNow[pe] = this.canMiss(pe, k) ? 1 : 0;    // only pe's own count changed
        return;
      }
      ready = this.q.now;                                     // the fill has landed meanwhile
    }
    const at = (ready > now ? ready : now) + hit;
    this.respond(id, at - this.q.now);
  }

  /** Copies `size` bytes at `off` of the scratch line into request `id`. */
  private copyOut(id: number, off: number, size: number): void {
    const t = this.table;
    t.data.set(this.buf.subarray(off, off + size), t.dataOffset(id));
  }

  /**
   * Makes the cluster of `pe` hold `line` with read (`unique` false) or write permission, leaving
   * its freshest data in `buf`; returns the cycle at which the data reaches the L1 (PENDING when a
   * DRAM fill is in flight). Handles the cluster's other L1Ds, the L2 and, on an L2 miss or an
   * upgrade, the system transaction. `at` is when the request leaves the L1.
   */
  private obtain(pe: number, line: number, attrs: number, unique: boolean, dataSide: boolean, at: number, wholeLine = false): number {
    this.l1dTakesDirty = 0;
    const k = this.clusterOf(pe);
    const l2 = this.l2[k]!;
    let s2 = l2.arr.lookup(line);
    // A non-inclusive L2 may lack a line another L1D of the cluster holds: recall it into the L2.
    if (s2 < 0 && this.clusterSize > 1) s2 = this.recallFromSibling(pe, line);
    // The cluster's other L1Ds: fold dirty data into the L2 (or keep it here), drop or share copies.
    this.siblingsFor(pe, line, unique, s2);
    const needSystem = s2 < 0 || (unique && this.othersHold(k, line));
    if (!needSystem) {
      if (unique && this.cfg.dic) this.invalidateClusterIcaches(k, line);
      l2.arr.touch(s2);
      if (unique) l2.stats.writeHits++; else l2.stats.readHits++;
      if ((l2.arr.state[s2]! & STATE_PREFETCHED) !== 0) {
        // Tagged next-line prefetch: the first demand use of a prefetched line fetches the next.
        l2.arr.state[s2]! &= ~STATE_PREFETCHED;
        this.prefetch(k, line + 1, attrs, at + l2.tagLatency + this.upLatency);
      }
      l2.arr.readBytes(s2, 0, this.buf, 0, this.lineBytes);
      this.mergeSiblingDirty(pe, line);
      if (unique) l2.arr.state[s2]! &= ~STATE_SHARED;
      const r = l2.readyAt[s2]!;
      if (dataSide && this.cfg.l2.inclusion === 'exclusive' && r !== PENDING) {
        // An exclusive L2 hands the line up to the L1D, dirty state and all.
        this.l1dTakesDirty = l2.arr.state[s2]! & STATE_DIRTY;
        l2.arr.invalidate(s2);
      }
      if (r === PENDING) return PENDING;
      return l2.port(r > at ? r : at) + l2.hitLatency;
    }
    if (unique) l2.stats.writeMisses++; else l2.stats.readMisses++;
    const tHn = at + l2.tagLatency + this.upLatency + this.hnLatency;
    if (s2 >= 0) {
      // An upgrade: the data is here; the other clusters' copies go (CleanUnique).
      l2.arr.readBytes(s2, 0, this.buf, 0, this.lineBytes);
      this.mergeSiblingDirty(pe, line);
      // A dirty owner (O) hands over the responsibility for memory: our copy becomes the dirty one.
      if ((this.snoopOthers(k, line, true, dataSide) & SNOOP_DIRTY) !== 0) l2.arr.state[s2]! |= STATE_DIRTY;
      l2.arr.state[s2]! &= ~STATE_SHARED;
      l2.arr.touch(s2);
      if (this.cfg.dic) this.invalidateClusterIcaches(k, line);
      const ready = tHn + this.cfg.snoopLatency + this.downLatency;
      const r2 = l2.readyAt[s2]!;
      if (this.timeline !== undefined) this.traceL2Miss(l2, 'upgrade', line, at, r2 === PENDING ? PENDING : Math.max(ready, r2), 'invalidates other clusters');
      return r2 === PENDING ? PENDING : Math.max(ready, r2);
    }
    // An L2 miss: a system transaction. Other clusters first (they may hold newer data).
    const snooped = this.snoopOthers(k, line, unique, dataSide);
    let ready: number;
    let dirty = 0;
    if ((snooped & SNOOP_HAD) !== 0 && (snooped & SNOOP_PENDING) === 0) {
      ready = tHn + this.cfg.snoopLatency + this.downLatency;      // cache-to-cache transfer
      if (unique && (snooped & SNOOP_DIRTY) !== 0) dirty = STATE_DIRTY;
    } else if (wholeLine) {
      // Every byte is about to be overwritten: the home node grants ownership without data. The
      // caller left the new line in `buf`, so the L2's copy holds it, dirty: a copy marked clean
      // would hold bytes memory never had (a non-inclusive L2 may evict it to an exclusive L3 while
      // the L1D still holds the line).
      ready = tHn + ((snooped & SNOOP_HAD) !== 0 ? this.cfg.snoopLatency : 0) + this.downLatency;
      dirty = STATE_DIRTY;
    } else {
      const from = (snooped & SNOOP_HAD) !== 0 ? this.fillKeepingBuf(line, attrs) : this.fillFromBelow(line, attrs);
      if ((from & FROM_DIRTY) !== 0) dirty = STATE_DIRTY;         // an exclusive L3 handed up its dirty line
      if ((from & FROM_L3) !== 0) ready = this.l3!.port(tHn) + this.l3!.hitLatency + this.downLatency;
      else {
        ready = this.memoryFill(k, line, attrs, at + l2.tagLatency + this.upLatency + (this.hasL3 ? this.l3!.tagLatency : 0));
        if (this.prefetchNextLine) this.prefetch(k, line + 1, attrs, at + l2.tagLatency + this.upLatency);
      }
      if ((snooped & SNOOP_HAD) !== 0 && ready !== PENDING) ready = Math.max(ready, tHn + this.cfg.snoopLatency + this.downLatency);
    }
    if (this.timeline !== undefined) {
      this.traceL2Miss(l2, 'miss', line, at, ready, (snooped & SNOOP_HAD) !== 0 && (snooped & SNOOP_PENDING) === 0 ? 'another cluster' : wholeLine ? 'ownership only (whole-line write)' : 'L3');
    }
    if (unique && this.cfg.dic) this.invalidateClusterIcaches(k, line);
    const slot = this.installL2(k, line, attrs);
    l2.arr.writeBytes(slot, 0, this.buf, 0, this.lineBytes);
    const alone = unique || this.othersHold(k, line) === false;
    l2.arr.state[slot] = (alone ? MoesiState.E : MoesiState.S) | dirty;
    l2.readyAt[slot] = ready;
    l2.arr.touch(slot);
    this.addHolder(line, k);
    if (this.cfg.l2.inclusion === 'exclusive') {
      // An exclusive L2 hands the line to the L1 (keeping it only for the instruction side).
      if (dataSide) { this.l1dTakesDirty = dirty; l2.arr.invalidate(slot); return ready; }
    }
    this.l1dTakesDirty = 0;
    return ready;
  }

  /** Set by obtain() for an exclusive L2 that moved a dirty line up: the L1D copy must be dirty. */
  private l1dTakesDirty = 0;

  /**
   * Next-line prefetch into cluster k's L2 after a demand miss to memory, or the first demand use
   * of a prefetched line (tagged prefetch; cache.prefetch = next-line): `line` is filled clean
   * unless some cluster already holds it, no MSHR is free or an exclusive L3 holds it dirty; its
   * fill is timed like a demand one, with no one waiting for it.
   */
  private prefetch(k: number, line: number, attrs: number, leaveAt: number): void {
    const l2 = this.l2[k]!;
    if (l2.arr.lookup(line) >= 0 || this.anyClusterHolds(line)) return;
    if (this.map.find(line * this.lineBytes, this.lineBytes) < 0) return;
    const m = this.mshr[k]!;
    if (m.inUse >= m.capacity || m.find(line) >= 0) return;
    // Nor a line an exclusive L3 holds dirty: taking it would move its only up-to-date copy away
    // from a system cache at the PoC, which a clean to the PoC had just put there; a prefetch may
    // only ever bring up clean data.
    if (this.cfg.l3.inclusion === 'exclusive' && this.l3HoldsDirty(line)) return;
    const demand = this.pfSave;
    demand.set(this.buf, 0);
    const from = this.fillFromBelow(line, attrs);
    const slot = this.installL2(k, line, attrs);
    l2.arr.writeBytes(slot, 0, this.buf, 0, this.lineBytes);
    l2.arr.state[slot] = MoesiState.E | STATE_PREFETCHED;
    l2.readyAt[slot] = (from & FROM_L3) !== 0 ? leaveAt + this.hnLatency + this.l3!.hitLatency + this.downLatency
      : this.memoryFill(k, line, attrs, leaveAt + (this.hasL3 ? this.l3!.tagLatency : 0));
    if (this.timeline !== undefined) this.traceL2Miss(l2, 'prefetch', line, leaveAt, l2.readyAt[slot]!, 'L3');
    this.addHolder(line, k);
    l2.stats.prefetches++;
    this.buf.set(demand.subarray(0, this.lineBytes));
  }

  // Line buffers, one per use that can nest inside another (an eviction inside a write-back inside
  // an eviction...), so no step overwrites data a caller still holds. 256 = the largest line.
  // All of them are views of one arena, so that line copies between them and the cache arrays
  // or the store move whole words (sim/words.ts keeps one word view per buffer, not per view).
  private readonly arena = new ArrayBuffer(ARENA_BUFS * 256);
  private scratch(i: number, bytes = 256): Uint8Array { return new Uint8Array(this.arena, i * 256, bytes); }
  private readonly pfSave = this.scratch(2);
  private readonly keepBuf = this.scratch(3);
  private readonly vb1 = this.scratch(4);
  private readonly vb2 = this.scratch(5);
  private readonly l3SaveBuf = this.scratch(6);
  private readonly rmwBuf = this.scratch(7);
  private readonly fetchKeep = this.scratch(8);
  private readonly cmoBuf = this.scratch(9);
  private readonly vb3 = this.scratch(10);
  private readonly devBuf = this.scratch(11);

  /**
   * Reads the line from below (L3 or memory) into `buf`; returns FROM_* flags. An exclusive L3
   * hands its copy up (dirty state and all: the caller's copy must take it) unless `keepInL3`, for
   * a reader that keeps no copy able to write it back (an instruction fill past an exclusive L2).
   */
  private fillFromBelow(line: number, attrs: number, keepInL3 = false): number {
    const l3 = this.l3;
    if (l3 !== undefined && this.l3Applies(attrs)) {
      const s3 = l3.arr.lookup(line);
      if (s3 >= 0) {
        l3.stats.readHits++;
        l3.arr.touch(s3);
        l3.arr.readBytes(s3, 0, this.buf, 0, this.lineBytes);
        const dirty = (l3.arr.state[s3]! & STATE_DIRTY) !== 0;
        if (this.cfg.l3.inclusion === 'exclusive' && !keepInL3) { l3.arr.invalidate(s3); return FROM_L3 | (dirty ? FROM_DIRTY : 0); }
        return FROM_L3;
      }
      l3.stats.readMisses++;
      this.map.store.read(line * this.lineBytes, this.buf, 0, this.lineBytes);
      if (this.cfg.l3.inclusion !== 'exclusive' && attrOuterReadAllocate(attrs) && attrOuterCache(attrs) >= WT) {
        const s = this.installL3(line);
        l3.arr.writeBytes(s, 0, this.buf, 0, this.lineBytes);
      }
      return FROM_MEM;
    }
    this.map.store.read(line * this.lineBytes, this.buf, 0, this.lineBytes);
    return FROM_MEM;
  }

  /** Whether the L3 holds `line` dirty. */
  private l3HoldsDirty(line: number): boolean {
    const l3 = this.l3;
    if (l3 === undefined) return false;
    const s = l3.arr.lookup(line);
    return s >= 0 && (l3.arr.state[s]! & STATE_DIRTY) !== 0;
  }

  /** Like fillFromBelow, but `buf` already holds the line (a snooped copy still pending its own fill): only timing is wanted. */
  private fillKeepingBuf(line: number, attrs: number, keepInL3 = false): number {
    this.keepBuf.set(this.buf);
    const r = this.fillFromBelow(line, attrs, keepInL3);
    this.buf.set(this.keepBuf.subarray(0, this.lineBytes));
    return r;
  }

  /** Whether the L3 caches lines of these attributes (the before-poc L3 only outer-cacheable ones). */
  private l3Applies(attrs: number): boolean {
    return this.l3SystemCache || (!attrIsDevice(attrs) && attrOuterCache(attrs) >= WT);
  }

  /** Sends a timing-only line read to memory for cluster `k`; returns PENDING (the MSHR answers). */
  private memoryFill(k: number, line: number, attrs: number, leaveAt: number): number {
    const m = this.mshr[k]!;
    const e = m.find(line);
    if (e >= 0) return PENDING;                               // a fill for this line is already on its way
    const f = this.allocInternal(READ, line * this.lineBytes, attrs);
    const entry = m.open(line, -1 - f);                      // target -1-f marks the fill itself
    if (entry < 0) throw new Error(`${this.l2[k]!.name}: MSHR allocation failed with a free MSHR`);
    this.refreshCanMiss(k);
    this.table.tag[f] = k * 65536 + entry;
    this.hn.acceptAt(f, leaveAt > this.q.now ? leaveAt : this.q.now);
    if (this.timeline !== undefined) this.tlSince[f] = leaveAt > this.q.now ? leaveAt : this.q.now;
    return PENDING;
  }

  /** Out of line: a configuration too small for the run (the PEs hold slots the caches' fills and write-backs then lack). */
  private tableExhausted(): never {
    throw new UserError(`sim.requestSlots: the ${this.table.capacity} request slots ran out (the caches needed one for a fill or a write-back); expected more, e.g. the default 8192`);
  }

  private allocInternal(kind: number, addr: number, attrs: number): number {
    const id = this.table.alloc(kind as ReqKind, addr, this.lineBytes, attrs, this.agent, this.q.now);
    if (id < 0) this.tableExhausted();
    this.table.flags[id] = REQ_FLAG_NO_DATA;
    this.table.tag[id] = -1;
    return id;
  }

  /** A timing-only request returned: a fill (answer its MSHR's waiters) or a write-back ack. */
  private onMemoryResponse(id: number): void {
    const t = this.table;
    const tag = t.tag[id]!;
    if (t.kind[id] === WRITE) {
      if (this.timeline !== undefined) this.traceWriteAck(id);
      t.release(id);
      if (tag >= 0) this.respond(tag, 0);                    // a CMO waiting for its write to reach memory
      else if (tag <= WB_TAG) this.releaseWriteback(WB_TAG - tag);   // a victim's write-back buffer entry
      return;
    }
    const k = Math.floor(tag / 65536), e = tag - k * 65536;
    const m = this.mshr[k]!;
    const line = this.lineOf(t.addr[id]!);
    if (this.timeline !== undefined) this.traceFill(id, k, line, m, e);
    t.release(id);
    const now = this.q.now;
    this.settle(this.l2[k]!, line, now);
    for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
      this.settle(this.l1d[p]!, line, now);
      const li = this.l1i[p]!;
      if (li.pendingFills > 0 && this.settle(li, line, now)) li.pendingFills--;
    }
    const n = m.targetCount(e);
    for (let i = 0; i < n; i++) {
      const target = m.target(e, i);
      if (target < 0) continue;
      const p = t.source[target]!;
      if (t.kind[target] === FETCH) this.l1iMisses[p]--; else this.l1dMisses[p]--;
      if (this.timeline !== undefined) this.traceFillWait(target);
      this.respond(target, 0);
    }
    m.release(e);
    this.refreshCanMiss(k);
    this.wakeCluster(k);
  }

  /** Marks `line`'s pending data in level `l` as arrived at `now`; returns whether it was pending there. */
  private settle(l: Level, line: number, now: number): boolean {
    const s = l.arr.lookup(line);
    if (s < 0 || l.readyAt[s] !== PENDING) return false;
    l.readyAt[s] = now;
    return true;
  }

  private wakeCluster(k: number): void {
    for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) this.ports[p]?.wake();
  }

  // ===== cluster-local coherence ==================================================================

  /** Whether another L1D of pe's cluster holds `line`. */
  private siblingHolds(pe: number, line: number): boolean {
    const k = this.clusterOf(pe);
    for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
      if (p !== pe && this.l1d[p]!.arr.lookup(line) >= 0) return true;
    }
    return false;
  }

  /** Whether a cluster other than `k` may hold `line` (the snoop filter). */
  private othersHold(k: number, line: number): boolean {
    if (this.clusters === 1) return false;                   // the filter can name only cluster k
    const n = this.filter.count(line);
    return n > 1 || (n === 1 && !this.filter.has(line, k));
  }

  /**
   * Before pe's L1D takes `line`: another L1D of the cluster holding it dirty gives its data to
   * the L2 (or keeps it, shared, if the L2 has no copy); on a write every other copy goes.
   */
  private siblingsFor(pe: number, line: number, unique: boolean, s2: number): void {
    if (this.clusterSize === 1) return;
    const k = this.clusterOf(pe);
    const l2 = this.l2[k]!;
    for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
      if (p === pe) continue;
      const l1 = this.l1d[p]!;
      const s = l1.arr.lookup(line);
      if (s < 0) continue;
      l1.stats.snoopsReceived++;
      if (this.timeline !== undefined) this.traceSnoop(l1, line, 0, unique, this.l1d[pe]!.name);
      const dirty = (l1.arr.state[s]! & STATE_DIRTY) !== 0;
      if (dirty && s2 >= 0) {
        l1.arr.readBytes(s, 0, this.buf2, 0, this.lineBytes);
        l2.arr.writeBytes(s2, 0, this.buf2, 0, this.lineBytes);
        l2.arr.state[s2]! |= STATE_DIRTY;
        l1.arr.state[s]! &= ~STATE_DIRTY;
      }
      if (unique) {
        if ((l1.arr.state[s]! & STATE_DIRTY) !== 0) {
          // No L2 copy to take it (non-inclusive): the dirty data moves to the L2 now.
          l1.arr.readBytes(s, 0, this.vb1, 0, this.lineBytes);
          this.writeBackFromL1(pe, line, this.vb1, true);
        }
        l1.arr.invalidate(s);
      } else {
        l1.arr.state[s]! |= STATE_SHARED;
      }
    }
  }

  /**
   * When another L1D of pe's cluster holds `line` and the (non-inclusive) L2 does not, puts a copy
   * in the L2 — the sibling's data, and its dirtiness — and returns the L2 slot; else -1.
   */
  private recallFromSibling(pe: number, line: number): number {
    const k = this.clusterOf(pe);
    for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
      if (p === pe) continue;
      const l1 = this.l1d[p]!;
      const s = l1.arr.lookup(line);
      if (s < 0) continue;
      const l2 = this.l2[k]!;
      l1.arr.readBytes(s, 0, this.vb1, 0, this.lineBytes);
      const dirty = l1.arr.state[s]! & STATE_DIRTY;
      const ready = l1.readyAt[s]!;
      const slot = this.installL2(k, line, 0);
      l2.arr.writeBytes(slot, 0, this.vb1, 0, this.lineBytes);
      l2.arr.state[slot] = (this.othersHold(k, line) ? MoesiState.S : MoesiState.E) | dirty;
      l2.readyAt[slot] = ready;
      l1.arr.state[s]! &= ~STATE_DIRTY;
      // installL2's victim handling may have dropped the sibling's copy (inclusive back-invalidation does not apply here).
      return l2.arr.lookup(line);
    }
    return -1;
  }

  /** Folds a sibling L1D's dirty copy (kept when the L2 had none) into `buf`. */
  private mergeSiblingDirty(pe: number, line: number): void {
    if (this.clusterSize === 1) return;
    const k = this.clusterOf(pe);
    for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
      if (p === pe) continue;
      const l1 = this.l1d[p]!;
      const s = l1.arr.lookup(line);
      if (s >= 0 && (l1.arr.state[s]! & STATE_DIRTY) !== 0) l1.arr.readBytes(s, 0, this.buf, 0, this.lineBytes);
    }
  }

  // ===== snoops between clusters ===================================================================

  /**
   * Snoops every cluster but `k` that the filter names for `line`: a unique request invalidates
   * their copies, a shared one downgrades them. The freshest data found is left in `buf` (only
   * touched if some cluster had the line). Returns SNOOP_* flags.
   */
  private snoopOthers(k: number, line: number, unique: boolean, dataSide: boolean): number {
    if (this.clusters === 1) return 0;                       // no other cluster to snoop
    const n = this.holders(line);
    let res = 0;
    for (let i = 0; i < n; i++) {
      const o = this.sharers[i]!;
      if (o === k) continue;
      res |= this.snoopCluster(o, line, unique, dataSide || this.cfg.idc || this.cfg.dic);
    }
    return res;
  }

  /**
   * One cluster's answer to a snoop: its freshest copy into `buf` (dirty L1D data over the L2's),
   * then invalidate (and forget it in the filter) or downgrade to shared: under MOESI a dirty
   * line stays dirty in the L2 as O; under MESI it is written back. `withL1d` false (an
   * instruction fill without IDC) ignores data that is only in the L1Ds.
   */
  private snoopCluster(o: number, line: number, invalidate: boolean, withL1d: boolean): number {
    const l2 = this.l2[o]!;
    const s2 = l2.arr.lookup(line);
    let res = 0;
    if (s2 >= 0) {
      l2.stats.snoopsReceived++;
      if (this.timeline !== undefined) this.traceSnoop(l2, line, this.upLatency + this.hnLatency, invalidate, undefined);
      res |= SNOOP_HAD;
      l2.arr.readBytes(s2, 0, this.buf, 0, this.lineBytes);
      if ((l2.arr.state[s2]! & STATE_DIRTY) !== 0) res |= SNOOP_DIRTY;
      if (l2.readyAt[s2] === PENDING) res |= SNOOP_PENDING;
    }
    let l1Dirty = false;
    for (let p = o * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
      const l1 = this.l1d[p]!;
      const s = l1.arr.lookup(line);
      if (s >= 0) {
        l1.stats.snoopsReceived++;
        if (this.timeline !== undefined) this.traceSnoop(l1, line, this.upLatency + this.hnLatency, invalidate, undefined);
        if (!withL1d && !invalidate) continue;
        res |= SNOOP_HAD;
        if ((l1.arr.state[s]! & STATE_DIRTY) !== 0) {
          l1.arr.readBytes(s, 0, this.buf, 0, this.lineBytes); res |= SNOOP_DIRTY; l1Dirty = true;
        } else if (s2 < 0 && !l1Dirty) {
          // No L2 copy (non-inclusive): a clean L1D copy is what the cluster supplies.
          l1.arr.readBytes(s, 0, this.buf, 0, this.lineBytes);
        }
        if (invalidate) l1.arr.invalidate(s);
        else { l1.arr.state[s] = MoesiState.S; }
      }
      if (invalidate && this.cfg.dic) {
        const li = this.l1i[p]!;
        const si = li.arr.lookup(line);
        if (si >= 0) li.arr.invalidate(si);
      }
    }
    if (invalidate) {
      if (s2 >= 0) l2.arr.invalidate(s2);
      this.removeHolder(line, o);
      return res;
    }
    // A shared snoop: the cluster keeps a copy.
    if ((res & SNOOP_DIRTY) !== 0) {
      if (s2 >= 0) {
        if (l1Dirty) l2.arr.writeBytes(s2, 0, this.buf, 0, this.lineBytes);
        if (this.cfg.protocol === 'moesi') l2.arr.state[s2] = MoesiState.O;
        else { this.writeBelowL2(line, this.buf, 0, true); l2.arr.state[s2] = MoesiState.S; }
      } else {
        // Dirty only in an L1D of a non-inclusive cluster: write it back, keep clean copies.
        this.writeBelowL2(line, this.buf, 0, true);
      }
    } else if (s2 >= 0) {
      l2.arr.state[s2]! |= STATE_SHARED;
    }
    return res;
  }

  private invalidateClusterIcaches(k: number, line: number): void {
    for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
      const li = this.l1i[p]!;
      const s = li.arr.lookup(line);
      if (s >= 0) li.arr.invalidate(s);
    }
  }

  // ===== installs, evictions, write-backs ===========================================================

  /** Makes room for `line` in pe's L1D (evicting a victim) and returns the slot, filled invalid-clean. */
  private installL1d(pe: number, line: number, attrs: number): number {
    const l1 = this.l1d[pe]!;
    const arr = l1.arr;
    const slot = arr.victim(arr.setOf(line));
    if (arr.isValid(slot)) this.evictL1d(pe, slot);
    arr.fill(slot, line, MoesiState.E);
    void attrs;
    if (this.l1dTakesDirty !== 0) { arr.state[slot]! |= STATE_DIRTY; this.l1dTakesDirty = 0; }
    return slot;
  }

  private evictL1d(pe: number, slot: number): void {
    const l1 = this.l1d[pe]!;
    const arr = l1.arr;
    const line = arr.lineOf(slot);
    const dirty = (arr.state[slot]! & STATE_DIRTY) !== 0;
    if (dirty || this.cfg.l2.inclusion === 'exclusive') {
      arr.readBytes(slot, 0, this.vb1, 0, this.lineBytes);
      if (dirty) l1.stats.writebacks++;
      arr.invalidate(slot);
      this.writeBackFromL1(pe, line, this.vb1, dirty);
      if (this.timeline !== undefined && dirty) this.traceWriteBack(l1, line, 0, this.l2[this.clusterOf(pe)]!.name);
    } else {
      arr.invalidate(slot);
    }
    this.forgetIfGone(this.clusterOf(pe), line);
  }

  /** An L1D victim (dirty, or any victim of an exclusive L2) goes to the cluster's L2. */
  private writeBackFromL1(pe: number, line: number, data: Uint8Array, dirty: boolean): void {
    const k = this.clusterOf(pe);
    const l2 = this.l2[k]!;
    const c2 = this.cfg.l2;
    const s2 = l2.arr.lookup(line);
    if (s2 >= 0) {
      l2.stats.writebackHits++;
      l2.arr.writeBytes(s2, 0, data, 0, this.lineBytes);
      if (dirty) l2.arr.state[s2]! |= STATE_DIRTY;
      if (c2.writebackTouches) l2.arr.touch(s2);
      return;
    }
    l2.stats.writebackMisses++;
    if (c2.writebackAllocate || c2.inclusion === 'exclusive') {
      const s = this.installL2(k, line, 0);
      l2.arr.writeBytes(s, 0, data, 0, this.lineBytes);
      l2.arr.state[s] = (this.othersHold(k, line) ? MoesiState.S : MoesiState.E) | (dirty ? STATE_DIRTY : 0);
      l2.readyAt[s] = 0;
      if (c2.writebackTouches) l2.arr.touch(s);
      this.addHolder(line, k);
      return;
    }
    if (dirty) this.writeBelowL2(line, data, 0, true, -1, k);
  }

  /** Makes room for `line` in cluster k's L2 and returns its slot. */
  private installL2(k: number, line: number, attrs: number): number {
    const l2 = this.l2[k]!;
    const arr = l2.arr;
    const slot = arr.victim(arr.setOf(line));
    if (arr.isValid(slot)) this.evictL2(k, slot);
    arr.fill(slot, line, MoesiState.E);
    void attrs;
    return slot;
  }

  private evictL2(k: number, slot: number): void {
    const l2 = this.l2[k]!;
    const arr = l2.arr;
    const line = arr.lineOf(slot);
    let dirty = (arr.state[slot]! & STATE_DIRTY) !== 0;
    const toL3 = this.hasL3 && this.cfg.l3.inclusion === 'exclusive';
    // The data goes below only when dirty or into an exclusive L3 (dirty L1D data, below, replaces it whole).
    if (dirty || toL3) arr.readBytes(slot, 0, this.vb2, 0, this.lineBytes);
    arr.invalidate(slot);
    if (this.cfg.l2.inclusion === 'inclusive') {
      // Back-invalidate the L1s above; dirty L1D data is newer than the L2's.
      for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
        const l1 = this.l1d[p]!;
        const s = l1.arr.lookup(line);
        if (s >= 0) {
          if ((l1.arr.state[s]! & STATE_DIRTY) !== 0) { l1.arr.readBytes(s, 0, this.vb2, 0, this.lineBytes); dirty = true; }
          l1.arr.invalidate(s);
        }
        const li = this.l1i[p]!;
        const si = li.arr.lookup(line);
        if (si >= 0) li.arr.invalidate(si);
      }
    }
    if (dirty) l2.stats.writebacks++;
    if (dirty || toL3) {
      const toMemory = this.writeBelowL2(line, this.vb2, 0, dirty, -1, k);
      if (this.timeline !== undefined && dirty) this.traceWriteBack(l2, line, toMemory, this.l3?.name ?? 'memory');
    }
    // An inclusive L2 has just emptied the whole cluster of the line (writeBelowL2 installs nothing
    // above the L3): no need to look.
    if (this.cfg.l2.inclusion === 'inclusive') this.removeHolder(line, k);
    else this.forgetIfGone(k, line);
  }

  /**
   * A line just installed in an L1D of cluster k: the victim's write-back may have pushed it out
   * of a non-inclusive L2, yet the cluster still holds it, so the filter must say so. While the L2
   * still has it the filter already does (every path that installs an L2 line adds it), and a
   * lookup in the set victim() just scanned is cheaper than a probe of the filter's table.
   */
  private noteL1dHolder(k: number, line: number): void {
    if (this.tracking && this.l2[k]!.arr.lookup(line) < 0) this.addHolder(line, k);
  }

  /** Drops cluster k from the filter for `line` once none of its caches holds it. */
  private forgetIfGone(k: number, line: number): void {
    if (this.tracking && !this.clusterHolds(k, line)) this.filter.remove(line, k);
  }

  /** Whether any cluster may hold `line`: the snoop filter, or with one cluster its own caches. */
  private anyClusterHolds(line: number): boolean {
    return this.tracking ? this.filter.count(line) > 0 : this.clusterHolds(0, line);
  }

  /** Whether some cache of cluster k (its L2, L1Ds or L1Is) holds `line`. */
  private clusterHolds(k: number, line: number): boolean {
    if (this.l2[k]!.arr.lookup(line) >= 0) return true;
    for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
      if (this.l1d[p]!.arr.lookup(line) >= 0 || this.l1i[p]!.arr.lookup(line) >= 0) return true;
    }
    return false;
  }

  /**
   * The snoop filter is kept only with more than one cluster (`tracking`): with one, every snoop
   * and maintenance path either has no other cluster to ask or asks cluster 0, which answers
   * from its own caches (a cluster that does not hold the line changes nothing and counts no
   * snoop), so "cluster 0 may hold it" is as good as the exact answer and costs no table upkeep.
   */
  private addHolder(line: number, k: number): void { if (this.tracking) this.filter.add(line, k); }
  private removeHolder(line: number, k: number): void { if (this.tracking) this.filter.remove(line, k); }
  /** The clusters that may hold `line`, in this.sharers[0..n); returns n. */
  private holders(line: number): number {
    if (this.tracking) return this.filter.sharers(line, this.sharers);
    this.sharers[0] = 0;
    return 1;
  }

  /**
   * A line leaving the clusters (a victim, a MESI downgrade, a clean by maintenance) goes to the
   * L3 when it caches such lines, else to memory. `attrs` 0 means "cacheable" (the line was).
   * Returns 1 if it went to memory (a timed DRAM write), else 0.
   */
  private writeBelowL2(line: number, data: Uint8Array, attrs: number, dirty: boolean, cmoReq = -1, wb = -1): number {
    const l3 = this.l3;
    if (l3 !== undefined) {
      const c3 = this.cfg.l3;
      const s3 = l3.arr.lookup(line);
      if (s3 >= 0) l3.stats.writebackHits++; else l3.stats.writebackMisses++;
      if (s3 >= 0) {
        l3.arr.writeBytes(s3, 0, data, 0, this.lineBytes);
        if (dirty) l3.arr.state[s3]! |= STATE_DIRTY;
        if (c3.writebackTouches) l3.arr.touch(s3);
        if (cmoReq >= 0) this.respond(cmoReq, this.upLatency + this.hnLatency + l3.hitLatency + this.downLatency);
        return 0;
      }
      if (c3.writebackAllocate || c3.inclusion === 'exclusive') {
        const s = this.installL3(line);
        l3.arr.writeBytes(s, 0, data, 0, this.lineBytes);
        l3.arr.state[s] = MoesiState.E | (dirty ? STATE_DIRTY : 0);
        if (c3.writebackTouches) l3.arr.touch(s);
        if (cmoReq >= 0) this.respond(cmoReq, this.upLatency + this.hnLatency + l3.hitLatency + this.downLatency);
        return 0;
      }
    }
    if (!dirty) { if (cmoReq >= 0) this.respond(cmoReq, this.upLatency + this.hnLatency + this.downLatency); return 0; }
    this.memoryWrite(line, data, 0, attrs, cmoReq, wb);
    return 1;
  }

  /**
   * Writes a line (data[dataOff..]) to the store now and sends its timed DRAM write, answering
   * `cmoReq` when it lands, or (a victim, `wb` >= 0) holding an entry of write-back buffer `wb`
   * until then.
   */
  private memoryWrite(line: number, data: Uint8Array, dataOff: number, attrs: number, cmoReq = -1, wb = -1): void {
    this.map.store.write(line * this.lineBytes, data, dataOff, this.lineBytes);
    const w = this.allocInternal(WRITE, line * this.lineBytes, attrs);
    this.table.tag[w] = cmoReq;
    if (wb >= 0) this.takeWriteback(w, wb);
    this.hn.acceptAt(w, this.q.now + this.upLatency);
    if (this.timeline !== undefined) { this.tlSince[w] = this.q.now + this.upLatency; this.tlLastWrite = w; }
  }

  /**
   * The line a PE's access is upgrading in its L1D while it holds that L1D's slot (-1: none). The
   * L3 does not pick it as a victim meanwhile (the home node does not evict a line with a
   * transaction in flight): an inclusive L3 would back-invalidate it out of the very slot the
   * access then writes, and the store would be lost.
   */
  private busyLine = -1;

  private installL3(line: number): number {
    const l3 = this.l3!;
    const arr = l3.arr;
    const set = arr.setOf(line);
    let slot = arr.victim(set);
    if (this.busyLine >= 0 && arr.lineOf(slot) === this.busyLine) {
      const first = set * arr.ways;
      slot = first + ((slot - first + 1) % arr.ways);   // the next way (a direct-mapped L3 has no other)
    }
    if (arr.isValid(slot)) this.evictL3(slot);
    arr.fill(slot, line, MoesiState.E);
    return slot;
  }

  private evictL3(slot: number): void {
    const l3 = this.l3!;
    const arr = l3.arr;
    const line = arr.lineOf(slot);
    let dirty = (arr.state[slot]! & STATE_DIRTY) !== 0;
    if (this.cfg.l3.inclusion !== 'inclusive') {
      // Nothing above can replace the data: the store takes it straight from the array (the
      // slot keeps its bytes until the caller fills it, after this returns).
      arr.invalidate(slot);
      if (dirty) this.writeBackL3(line, arr.data, arr.dataOffset(slot));
      return;
    }
    const data = this.vb3;
    // Only a dirty line's data is written back (a dirty copy snooped from above replaces it whole).
    if (dirty) arr.readBytes(slot, 0, data, 0, this.lineBytes);
    arr.invalidate(slot);
    // An inclusive L3 back-invalidates every cluster holding the line; their dirty data wins.
    const n = this.holders(line);
    const saved = this.l3SaveBuf; saved.set(this.buf);
    for (let i = n - 1; i >= 0; i--) {
      const r = this.snoopCluster(this.sharers[i]!, line, true, true);
      if ((r & SNOOP_DIRTY) !== 0) { data.set(this.buf); dirty = true; }
    }
    this.buf.set(saved.subarray(0, this.lineBytes));
    if (dirty) this.writeBackL3(line, data, 0);
  }

  /** An L3 victim's dirty data (data[dataOff..]) goes to memory. */
  private writeBackL3(line: number, data: Uint8Array, dataOff: number): void {
    const l3 = this.l3!;
    l3.stats.writebacks++;
    this.memoryWrite(line, data, dataOff, 0, -1, this.wbL3);
    if (this.timeline !== undefined) this.traceWriteBack(l3, line, 1, 'memory');
  }

  /**
   * Victim write `w` takes an entry of write-back buffer `b` (its request tag names the buffer for
   * the ack). The access that evicted it has started already: a miss may add its L2 victim and an
   * L3 victim past the last free entry, as gem5's classic cache lets a fill's write-back into a
   * full buffer; the buffer then counts as full until it is below its size again.
   */
  private takeWriteback(w: number, b: number): void {
    this.table.tag[w] = WB_TAG - b;
    if (++this.wbUsed[b]! !== this.wbCap[b]) return;
    this.wbFullSince[b] = this.q.now;
    this.gateWriteback(b, false);
  }

  /** Memory acknowledged a write that held an entry of write-back buffer `b`. */
  private releaseWriteback(b: number): void {
    if (this.wbUsed[b]!-- !== this.wbCap[b]) return;
    const l = b === this.wbL3 ? this.l3! : this.l2[b]!;
    l.stats.writebackBufferFullCycles += this.q.now - this.wbFullSince[b]!;
    if (this.timeline !== undefined) this.traceBufferFull(l, this.wbFullSince[b]!, this.wbCap[b]!);
    this.gateWriteback(b, true);
  }

  /**
   * Write-back buffer `b` filled up or freed its last entry: recompute canMissNow of the clusters
   * it serves (all, for the L3's) and, once it has a free entry again, wake their PEs.
   */
  private gateWriteback(b: number, wake: boolean): void {
    const first = b === this.wbL3 ? 0 : b, end = b === this.wbL3 ? this.clusters : b + 1;
    for (let k = first; k < end; k++) {
      this.refreshCanMiss(k);
      if (wake) this.wakeCluster(k);
    }
  }

  // ===== write-through and write-around ==============================================================

  /**
   * A Write-Through store (or one that does not allocate) after the L1D: the L2's copy is
   * updated, and the store goes on to memory as a timed write. Coherence first: the other
   * copies in the system go (the store needs the line unique).
   */
  private writeThroughBelowL1(pe: number, line: number, off: number, id: number, size: number): void {
    const t = this.table;
    const k = this.clusterOf(pe);
    this.siblingsFor(pe, line, true, this.l2[k]!.arr.lookup(line));
    if (this.othersHold(k, line)) this.snoopOthers(k, line, true, true);
    const l2 = this.l2[k]!;
    const s2 = l2.arr.lookup(line);
    if (s2 >= 0) l2.arr.writeBytes(s2, off, t.data, t.dataOffset(id), size);
    this.writeToPoc(line, off, id, size);
  }

  private writeAroundL1(pe: number, id: number, line: number, off: number, size: number, attrs: number): void {
    const t = this.table;
    const k = this.clusterOf(pe);
    const l2 = this.l2[k]!;
    this.siblingsFor(pe, line, true, l2.arr.lookup(line));
    if (this.othersHold(k, line)) this.snoopOthers(k, line, true, true);
    const s2 = l2.arr.lookup(line);
    if (s2 >= 0 && attrInnerCache(attrs) === WB) {
      l2.stats.writeHits++;
      l2.arr.writeBytes(s2, off, t.data, t.dataOffset(id), size);
      l2.arr.state[s2] = (l2.arr.state[s2]! | STATE_DIRTY) & ~STATE_SHARED;
      l2.arr.touch(s2);
      this.respond(id, this.l1d[pe]!.tagLatency + l2.hitLatency);
      return;
    }
    if (s2 >= 0) l2.arr.writeBytes(s2, off, t.data, t.dataOffset(id), size);
    else l2.stats.writeMisses++;
    this.writeToPoc(line, off, id, size);
  }

  /** Performs the bytes of write `id` at the point of coherency (L3 copy or memory) and times it. */
  private writeToPoc(line: number, off: number, id: number, size: number): void {
    const t = this.table;
    const l3 = this.l3;
    if (l3 !== undefined) {
      const s3 = l3.arr.lookup(line);
      if (s3 >= 0) {
        l3.arr.writeBytes(s3, off, t.data, t.dataOffset(id), size);
        if (this.l3SystemCache) {
          l3.arr.state[s3]! |= STATE_DIRTY;
          this.respond(id, this.upLatency + this.hnLatency + l3.hitLatency + this.downLatency);
          return;
        }
      }
    }
    this.map.store.write(t.addr[id]!, t.data, t.dataOffset(id), size);
    t.flags[id] = REQ_FLAG_NO_DATA;
    this.hn.acceptAt(id, this.q.now + this.upLatency);
  }

  // ===== non-cacheable and Device =====================================================================

  /**
   * A Device or Non-cacheable access: no L1/L2 lookup, no snoop. A system-cache L3 holding the
   * line serves it (it is at the PoC); otherwise it is performed on the store and timed through
   * the home node to the target. Returns false when the home node's port has no credit.
   */
  nonCacheable(id: number, region: number, hnPort: RequestPort): boolean {
    const t = this.table;
    if (this.l3SystemCache) {
      const l3 = this.l3!;
      const addr = t.addr[id]!;
      const line = this.lineOf(addr);
      const s3 = l3.arr.lookup(line);
      if (s3 >= 0) {
        const off = addr - line * this.lineBytes, size = t.size[id]!;
        if (t.kind[id] === WRITE) {
          l3.arr.writeBytes(s3, off, t.data, t.dataOffset(id), size); l3.arr.state[s3]! |= STATE_DIRTY; l3.stats.writeHits++;
          this.clearGlobalMarks(addr, t.source[id]!);
        }
        else { l3.arr.readBytes(s3, off, t.data, t.dataOffset(id), size); l3.stats.readHits++; }
        this.respond(id, this.upLatency + this.hnLatency + l3.hitLatency + this.downLatency);
        return true;
      }
    }
    if (hnPort.available === 0) return false;
    if (region >= 0) {
      const isWrite = t.kind[id] === WRITE;
      if (isWrite) {
        this.map.store.write(t.addr[id]!, t.data, t.dataOffset(id), t.size[id]!);
        this.clearGlobalMarks(t.addr[id]!, t.source[id]!);
      }
      else this.map.store.read(t.addr[id]!, t.data, t.dataOffset(id), t.size[id]!);
      t.flags[id] = REQ_FLAG_NO_DATA;
      const attrs = t.attrs[id]!;
      if (isWrite && this.postedWrites && (!attrIsDevice(attrs) || attrDeviceKind(attrs) !== DeviceKind.nGnRnE) && (t.flags[id]! & REQ_FLAG_EXCLUSIVE) === 0) {
        // Early write acknowledgement (the E of nGnRE, and Normal memory): the interconnect
        // answers once it has taken the write; the write itself still occupies the path and
        // the target. Device-nGnRnE waits for the target's response (Arm ARM B2.7.2).
        const w = this.table.alloc(WRITE as ReqKind, t.addr[id]!, t.size[id]!, attrs, this.agent, this.q.now);
        if (w >= 0) {
          t.flags[w] = REQ_FLAG_NO_DATA;
          t.tag[w] = -1;
          this.hn.acceptAt(w, this.q.now + this.upLatency);
          this.respond(id, this.upLatency + this.hnLatency + this.downLatency);
          return true;
        }
      }
    }
    hnPort.trySend(id);
    return true;
  }

  // ===== atomics and exclusives =======================================================================

  /** Local exclusive monitor of each PE: the L1D copy (line, slot, fill generation) LDXR read. */
  private readonly monLine: Float64Array;
  private readonly monSlot: Int32Array;
  private readonly monGen: Uint32Array;
  /** Global monitor (home node) of each PE for non-cacheable memory: the marked granule, or -1. */
  private readonly globalMon: Float64Array;
  private globalMarks = 0;

  /** CLREX (and an exception return): the PE's local monitor forgets its mark. */
  clearMonitor(pe: number): void { this.monLine[pe] = -1; }

  /**
   * An LSE atomic (Arm ARM C6.2 LDADD etc.). The PE has checked its alignment (Pe.rmwAligned:
   * natural, or with FEAT_LSE2 inside a 16-byte block); one still unaligned here may only go to
   * Normal memory (Arm ARM B2.5.2 "Alignment of data accesses": an unaligned access to Device
   * memory is an Alignment fault; QEMU's check_lse2_align likewise). On inner Write-Back memory it runs near, in the L1D, once the line is unique; on
   * anything else the target region decides (`ncAtomics`): `far` runs it at the home node /
   * memory (timed as a round trip), `abort` answers with an external abort, `unsupported` with
   * the "Unsupported Exclusive or Atomic access" fault (DFSC 0b110101).
   */
  atomic(pe: number, id: number, region: number, hnPort: RequestPort): boolean {
    const t = this.table;
    const addr = t.addr[id]!, size = t.size[id]!, attrs = t.attrs[id]!;
    if (!(size === 1 || size === 2 || size === 4 || size === 8) || (addr % size !== 0 && attrIsDevice(attrs))) { this.fail(id, ReqStatus.Alignment, 1); return true; }
    if (region < 0) return hnPort.trySend(id);
    if (attrInnerCache(attrs) === WB) { this.access(pe, id); return true; }
    const r = this.map.regions[region]!;
    if (r.ncAtomics === 'abort') { this.fail(id, ReqStatus.SlaveError, this.upLatency + this.hnLatency + this.downLatency); return true; }
    if (r.ncAtomics === 'unsupported') { this.fail(id, ReqStatus.Unsupported, 1); return true; }
    // Far: performed at the point of coherency, timed as a non-cacheable round trip.
    if (hnPort.available === 0) return false;
    const line = this.lineOf(addr);
    const l3 = this.l3;
    const s3 = this.l3SystemCache ? l3!.arr.lookup(line) : -1;
    if (s3 >= 0) {
      rmwBytes(l3!.arr.data, l3!.arr.dataOffset(s3) + (addr - line * this.lineBytes), t.data, t.dataOffset(id), size, t.aux[id]!);
      l3!.arr.state[s3]! |= STATE_DIRTY;
      this.respond(id, this.upLatency + this.hnLatency + l3!.hitLatency + this.downLatency);
    } else {
      const b = this.rmwBuf;
      this.map.store.read(addr, b, 0, size);
      rmwBytes(b, 0, t.data, t.dataOffset(id), size, t.aux[id]!);
      this.map.store.write(addr, b, 0, size);
      t.flags[id] = REQ_FLAG_NO_DATA;
      hnPort.trySend(id);
    }
    this.clearGlobalMarks(addr, -1);
    return true;
  }

  /**
   * LDXR / STXR (REQ_FLAG_EXCLUSIVE on a read or a write). Cacheable memory: the local monitor
   * marks the L1D copy; the mark is lost when that copy goes (another agent's write invalidates
   * it, an eviction drops it), so STXR succeeds only while the very copy LDXR read is still held.
   * Non-cacheable memory: the home node's global monitor when the region has one; without one the
   * region's `exclusivesWithoutMonitor` says whether STXR fails or aborts. STXR's response data is
   * its status byte: 0 done, 1 failed.
   */
  exclusive(pe: number, id: number, region: number, hnPort: RequestPort): boolean {
    const t = this.table;
    const addr = t.addr[id]!, size = t.size[id]!, attrs = t.attrs[id]!;
    if (!(size === 1 || size === 2 || size === 4 || size === 8) || addr % size !== 0) { this.fail(id, ReqStatus.Alignment, 1); return true; }
    if (region < 0) return hnPort.trySend(id);
    const line = this.lineOf(addr);
    const isStore = t.kind[id] === WRITE;
    const cacheable = attrInnerCache(attrs) === WB;
    if (!isStore) {
      if (cacheable) {
        this.access(pe, id);
        const l1 = this.l1d[pe]!;
        const s = l1.arr.lookup(line);
        this.monLine[pe] = s >= 0 ? line : -1;
        this.monSlot[pe] = s;
        if (s >= 0) this.monGen[pe] = l1.arr.gen[s]!;
        return true;
      }
      if (hnPort.available === 0) return false;
      const r = this.map.regions[region]!;
      if (r.globalMonitor) { if (this.globalMon[pe] < 0) this.globalMarks++; this.globalMon[pe] = line; }
      return this.nonCacheable(id, region, hnPort);
    }
    // STXR
    if (cacheable) {
      const l1 = this.l1d[pe]!;
      const s = this.monSlot[pe]!;
      const ok = this.monLine[pe] === line && s >= 0 && l1.arr.lineOf(s) === line && l1.arr.gen[s] === this.monGen[pe];
      this.monLine[pe] = -1;
      if (!ok) { this.exclusiveResult(id, 1, l1.hitLatency); return true; }
      this.access(pe, id);
      t.data[t.dataOffset(id)] = 0;
      return true;
    }
    const r = this.map.regions[region]!;
    if (!r.globalMonitor) {
      if (r.exclusivesWithoutMonitor === 'abort') this.fail(id, ReqStatus.SlaveError, this.upLatency + this.hnLatency + this.downLatency);
      else this.exclusiveResult(id, 1, this.upLatency + this.hnLatency + this.downLatency);
      return true;
    }
    if (hnPort.available === 0) return false;
    const ok = this.globalMon[pe] === line;
    if (this.globalMon[pe]! >= 0) { this.globalMon[pe] = -1; this.globalMarks--; }
    if (!ok) { this.exclusiveResult(id, 1, this.upLatency + this.hnLatency + this.downLatency); return true; }
    const sent = this.nonCacheable(id, region, hnPort);
    t.data[t.dataOffset(id)] = 0;
    return sent;
  }

  /** A non-cacheable write to `addr` by any agent but `pe` clears the global monitors marking its granule. */
  clearGlobalMarks(addr: number, pe: number): void {
    if (this.globalMarks === 0) return;
    const line = this.lineOf(addr);
    for (let p = 0; p < this.globalMon.length; p++) {
      if (p !== pe && this.globalMon[p] === line) { this.globalMon[p] = -1; this.globalMarks--; }
    }
  }

  private exclusiveResult(id: number, status: number, delay: number): void {
    const t = this.table;
    t.data[t.dataOffset(id)] = status;
    this.respond(id, delay);
  }

  private fail(id: number, status: number, delay: number): void {
    this.table.status[id] = status;
    this.q.schedule(this.peResp[this.table.source[id]!]!, delay, id);
  }

  /**
   * An access with Normal Tagged attributes to a region without tag storage: the tag read (or
   * write) that goes with it has nowhere to go, and the access ends in an External abort from
   * memory. (The model treats every access to Tagged memory as tag-checked. Where the tags live
   * is IMPLEMENTATION DEFINED; seed 000 is about exactly this case for cacheable device memory.)
   */
  tagAbort(id: number): void {
    this.fail(id, ReqStatus.SlaveError, this.upLatency + this.hnLatency + this.downLatency);
  }

  // ===== instruction fetch ===========================================================================

  /** An instruction fetch (access() hands them here; a CpuPort may call it directly, with the same preconditions). */
  fetch(pe: number, id: number): void {
    const t = this.table;
    const addr = t.addr[id]!, size = t.size[id]!, attrs = t.attrs[id]!;
    const line = this.lineOf(addr);
    const off = addr - line * this.lineBytes;
    const now = this.q.now;
    const li = this.l1i[pe]!;
    const s = li.arr.lookup(line);
    if (s >= 0) {
      li.stats.readHits++;
      li.arr.touch(s);
      if ((t.flags[id]! & REQ_FLAG_NO_DATA) === 0) li.arr.readBytes(s, off, t.data, t.dataOffset(id), size);   // else REQ_FLAG_NO_DATA
      this.complete(pe, id, line, li.readyAt[s]!, now, li.hitLatency);
      return;
    }
    li.stats.readMisses++;
    const coherent = this.cfg.idc || this.cfg.dic;
    const k = this.clusterOf(pe);
    const l2 = this.l2[k]!;
    const s2 = l2.arr.lookup(line);
    let ready: number;
    if (s2 >= 0) {
      l2.stats.readHits++;
      l2.arr.touch(s2);
      l2.arr.readBytes(s2, 0, this.buf, 0, this.lineBytes);
      if (coherent) this.fetchSeesL1d(k, line, s2);
      const r = l2.readyAt[s2]!;
      ready = r === PENDING ? PENDING : l2.port(Math.max(r, now + li.tagLatency)) + l2.hitLatency;
    } else {
      // Not in the L2: a shared read of the system (without IDC, dirty L1D data stays unseen).
      if (coherent) this.fetchSeesL1d(k, line, -1);
      ready = this.obtainForFetch(pe, line, attrs, now + li.tagLatency, coherent);
    }
    {
      const arr = li.arr;
      const slot = arr.victim(arr.setOf(line));
      if (arr.isValid(slot)) { const old = arr.lineOf(slot); arr.invalidate(slot); this.forgetIfGone(k, old); }
      arr.fill(slot, line, MoesiState.S);
      arr.writeBytes(slot, 0, this.buf, 0, this.lineBytes);
      arr.touch(slot);
      li.readyAt[slot] = ready;
      if (ready === PENDING) li.pendingFills++;
      this.addHolder(line, k);
    }
    if ((t.flags[id]! & REQ_FLAG_NO_DATA) === 0) this.copyOut(id, off, size);
    if (this.timeline !== undefined) this.traceMiss(li, id, line, ready);
    this.complete(pe, id, line, ready, 0, 0);
  }

  /**
   * The L1 hit of access() and fetch() without a request, for CpuPort.tryHit: a fetch or a read
   * (no bytes wanted) that hits the L1I / L1D, or a write-back write that hits an L1D line it
   * owns (not Shared), of [addr, addr + size) within one line whose data is not still in flight.
   * Updates the stats, the replacement state and (writes) the line's bytes and dirty state exactly
   * as those paths do, and returns the cycle the access completes; -1 with nothing changed when it
   * is not such a hit. The address is at[0] (see RequestPort.tryHit); `attrs` are final and inner
   * cacheable.
   */
  l1Hit(pe: number, kind: number, at: Float64Array, size: number, attrs: number, src: Uint8Array): number {
    const addr = at[0]!, line = this.lineOf(addr);
    const l1 = kind === FETCH ? this.l1i[pe]! : this.l1d[pe]!;
    const arr = l1.arr;
    const s = arr.lookup(line);
    if (s < 0) return -1;
    const ready = l1.readyAt[s]!;
    if (ready === PENDING) return -1;
    if (kind === WRITE) {
      if ((arr.state[s]! & STATE_SHARED) !== 0 || attrInnerCache(attrs) !== WB) return -1;
      arr.touch(s);
      l1.stats.writeHits++;
      arr.writeBytes(s, addr - line * this.lineBytes, src, 0, size);
      arr.state[s]! |= STATE_DIRTY;
    } else {
      arr.touch(s);
      l1.stats.readHits++;
    }
    const now = this.q.now;
    return (ready > now ? ready : now) + l1.hitLatency;
  }

  /** With IDC/DIC: the cluster's own dirty L1D data is what a fetch sees (and the L1D copies become shared). */
  private fetchSeesL1d(k: number, line: number, s2: number): void {
    const l2 = this.l2[k]!;
    for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
      const l1 = this.l1d[p]!;
      const s = l1.arr.lookup(line);
      if (s < 0) continue;
      if ((l1.arr.state[s]! & STATE_DIRTY) !== 0) {
        l1.arr.readBytes(s, 0, this.buf, 0, this.lineBytes);
        if (s2 >= 0) { l2.arr.writeBytes(s2, 0, this.buf, 0, this.lineBytes); l2.arr.state[s2]! |= STATE_DIRTY; l1.arr.state[s]! &= ~STATE_DIRTY; }
      }
      l1.arr.state[s]! |= STATE_SHARED;
    }
  }

  /** An instruction fill that misses the L2: shared read of the other clusters, then L3 or memory; the L2 allocates. */
  private obtainForFetch(pe: number, line: number, attrs: number, at: number, coherent: boolean): number {
    const k = this.clusterOf(pe);
    const l2 = this.l2[k]!;
    l2.stats.readMisses++;
    const keep = this.fetchKeep; keep.set(this.buf);
    const hadOwn = this.clusterHoldsInL1d(k, line);
    const snooped = this.snoopOthers(k, line, false, coherent);
    const tHn = at + l2.tagLatency + this.upLatency + this.hnLatency;
    let ready: number, from = FROM_MEM;
    if ((snooped & SNOOP_HAD) !== 0 && (snooped & SNOOP_PENDING) === 0) {
      ready = tHn + this.cfg.snoopLatency + this.downLatency;
    } else {
      // Past an exclusive L2 only the L1I gets the line, which never writes back: an exclusive L3 keeps its copy.
      const keepInL3 = this.cfg.l2.inclusion === 'exclusive';
      from = (snooped & SNOOP_HAD) !== 0 ? this.fillKeepingBuf(line, attrs, keepInL3) : this.fillFromBelow(line, attrs, keepInL3);
      ready = (from & FROM_L3) !== 0 ? tHn + this.l3!.hitLatency + this.downLatency
        : this.memoryFill(k, line, attrs, at + l2.tagLatency + this.upLatency + (this.hasL3 ? this.l3!.tagLatency : 0));
    }
    if (this.timeline !== undefined) this.traceL2Miss(l2, 'miss', line, at, ready, (snooped & SNOOP_HAD) !== 0 && (snooped & SNOOP_PENDING) === 0 ? 'another cluster' : 'L3');
    if (hadOwn && coherent) this.buf.set(keep.subarray(0, this.lineBytes));            // the cluster's own dirty L1D copy is the freshest
    if (this.cfg.l2.inclusion !== 'exclusive') {
      const slot = this.installL2(k, line, attrs);
      l2.arr.writeBytes(slot, 0, this.buf, 0, this.lineBytes);
      // A line an exclusive L3 held dirty comes up dirty (fillFromBelow dropped the L3's copy).
      l2.arr.state[slot] = (this.othersHold(k, line) ? MoesiState.S : MoesiState.E) | ((from & FROM_DIRTY) !== 0 ? STATE_DIRTY : 0);
      l2.readyAt[slot] = ready;
      this.addHolder(line, k);
    }
    return ready;
  }

  private clusterHoldsInL1d(k: number, line: number): boolean {
    for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
      const l1 = this.l1d[p]!;
      const s = l1.arr.lookup(line);
      if (s >= 0 && (l1.arr.state[s]! & STATE_DIRTY) !== 0) return true;
    }
    return false;
  }

  // ===== cache maintenance =====================================================================

  /**
   * Performs maintenance request `id` (aux = CmoOp) for PE `pe` and schedules its completion
   * after the cycles it costs: a lookup per level reached, a snoop if other clusters are in the
   * shareability domain and hold the line, and the transfer of each dirty line it writes back
   * (a DC to PoC that writes to DRAM completes when the write does).
   */
  maintain(pe: number, id: number): void {
    const t = this.table;
    const op = t.aux[id]!;
    const attrs = t.attrs[id]!;
    const k = this.clusterOf(pe);
    const l1 = this.l1d[pe]!, l2 = this.l2[k]!;
    switch (op) {
      case CmoOp.DC_CVAC: case CmoOp.DC_CIVAC: case CmoOp.DC_IVAC: case CmoOp.DC_CVAP: {
        const addr = t.addr[id]!, line = this.lineOf(addr);
        const clean = op !== CmoOp.DC_IVAC, inv = op !== CmoOp.DC_CVAC && op !== CmoOp.DC_CVAP;
        let toMemory = false;
        if (op === CmoOp.DC_CVAP) {
          const r = this.map.find(addr, 1);
          toMemory = r >= 0 && this.map.regions[r]!.pointOfPersistence === 'memory';
        }
        this.toPoc(pe, id, line, attrs, clean, inv, toMemory);
        return;
      }
      case CmoOp.DC_CVAU: {
        // To the PoU (the L2): every L1D in the shareability domain writes its dirty copy to its L2.
        const line = this.lineOf(t.addr[id]!);
        let cost = l1.tagLatency, wrote = 0;
        const all = effectiveShareability(attrs) !== Shareability.NSH;
        for (let p = 0; p < this.l1d.length; p++) {
          if (!all && p !== pe) continue;
          const lp = this.l1d[p]!;
          lp.stats.cmoOps++;
          const s = lp.arr.lookup(line);
          if (s >= 0 && (lp.arr.state[s]! & STATE_DIRTY) !== 0) {
            lp.arr.readBytes(s, 0, this.cmoBuf, 0, this.lineBytes);
            lp.arr.state[s]! &= ~STATE_DIRTY;
            this.writeBackFromL1(p, line, this.cmoBuf, true);
            lp.stats.cmoLinesCleaned++;
            wrote++;
            if (this.timeline !== undefined) this.traceCmo(lp, id, 0, lp.tagLatency + this.l2[this.clusterOf(p)]!.hitLatency, line, TL_CLEANED);
          } else if (this.timeline !== undefined && (s >= 0 || p === pe)) {
            this.traceCmo(lp, id, 0, lp.tagLatency, line, s >= 0 ? TL_FOUND : 0);
          }
        }
        if (wrote > 0) cost += this.l2[k]!.hitLatency + (all && this.clusters > 1 ? this.cfg.snoopLatency : 0);
        l1.stats.cmoCycles += cost;
        this.respond(id, cost);
        return;
      }
      case CmoOp.DC_ZVA:
        // DC ZVA to any type of Device memory takes an Alignment fault (Arm ARM "DC ZVA").
        if (attrIsDevice(attrs)) { this.fail(id, ReqStatus.Alignment, 1); return; }
        this.zeroBlock(pe, id);
        return;
      case CmoOp.IC_IVAU: {
        const line = this.lineOf(t.addr[id]!);
        for (let p = 0; p < this.l1i.length; p++) {
          const li = this.l1i[p]!;
          const s = li.arr.lookup(line);
          if (s >= 0) { li.arr.invalidate(s); this.forgetIfGone(this.clusterOf(p), line); }
          if (this.timeline !== undefined && (s >= 0 || p === pe)) this.traceCmo(li, id, 0, li.tagLatency, line, s >= 0 ? TL_FOUND | TL_INVALIDATED : 0);
        }
        const cost = this.l1i[pe]!.tagLatency + (this.clusters > 1 ? this.cfg.snoopLatency : 0);
        this.l1i[pe]!.stats.cmoOps++; this.l1i[pe]!.stats.cmoCycles += cost;
        this.respond(id, cost);
        return;
      }
      case CmoOp.IC_IALLU: case CmoOp.IC_IALLUIS: {
        let cost = 0;
        for (let p = 0; p < this.l1i.length; p++) {
          if (op === CmoOp.IC_IALLU && p !== pe) continue;
          const li = this.l1i[p]!;
          li.arr.forEachValid((slot, line) => { li.arr.invalidate(slot); this.forgetIfGone(this.clusterOf(p), line); });
          li.stats.cmoOps++;
          if (p === pe) cost = li.arr.sets;                  // a flash-invalidate walks the sets (est.)
          if (this.timeline !== undefined) this.traceCmo(li, id, 0, li.arr.sets, -1, TL_INVALIDATED);
        }
        if (op === CmoOp.IC_IALLUIS && this.clusters > 1) cost += this.cfg.snoopLatency;
        this.l1i[pe]!.stats.cmoCycles += cost;
        this.respond(id, cost);
        return;
      }
      case CmoOp.DC_ISW: case CmoOp.DC_CSW: case CmoOp.DC_CISW: {
        this.setWay(pe, id, op !== CmoOp.DC_ISW, op !== CmoOp.DC_CSW);
        void l2;
        return;
      }
      default:
        this.respond(id, 0);
    }
  }

  /**
   * DC CVAC / CIVAC / IVAC / CVAP on `line`: every cluster of the shareability domain that holds
   * it (the whole system unless Non-shareable) cleans and/or invalidates its copies; a before-poc
   * L3 is cleaned/invalidated too (it is above the PoC); a system-cache L3 is at the PoC, so the
   * data stops there. IVAC discards dirty data (Arm ARM: invalidate without clean).
   */
  private toPoc(pe: number, id: number, line: number, attrs: number, clean: boolean, inv: boolean, pastSystemCache = false): void {
    const k = this.clusterOf(pe);
    const l1 = this.l1d[pe]!;
    const all = effectiveShareability(attrs) !== Shareability.NSH;
    let cost = l1.tagLatency + this.l2[k]!.tagLatency;
    let dirty = false, snooped = false;
    const n = all ? this.holders(line) : 0;
    // Own cluster first, then the others the filter names (exact: no false negatives).
    const lb = this.lineBytes;
    const data = this.cmoBuf;
    if (this.timeline !== undefined) { this.tlCmoId = id; this.tlCmoPe = pe; }
    for (let i = -1; i < n; i++) {
      const o = i < 0 ? k : this.sharers[i]!;
      if (i >= 0 && o === k) continue;
      if (i >= 0) snooped = true;
      const r = this.cleanCluster(o, line, clean, inv, data);
      if (r) dirty = true;
    }
    if (snooped) cost += this.cfg.snoopLatency;
    this.l1d[pe]!.stats.cmoOps++; this.l2[k]!.stats.cmoOps++;
    const l3 = this.l3;
    let toMemory = false;
    if (l3 !== undefined) {
      const tlAt = cost + this.upLatency + this.hnLatency;
      cost += this.upLatency + this.hnLatency + l3.tagLatency;
      const s3 = l3.arr.lookup(line);
      l3.stats.cmoOps++;
      if (this.timeline !== undefined) {
        const st = s3 >= 0 ? l3.arr.state[s3]! : 0;
        this.traceCmo(l3, id, tlAt, l3.tagLatency + (this.l3SystemCache && dirty ? l3.hitLatency : 0), line,
          (s3 >= 0 ? TL_FOUND : 0) | (this.l3SystemCache ? (dirty ? TL_TOOK_DIRTY : 0) | (pastSystemCache && (dirty || (st & STATE_DIRTY) !== 0) ? TL_CLEANED : 0) : (s3 >= 0 && clean && (dirty || (st & STATE_DIRTY) !== 0) ? TL_CLEANED : 0) | (s3 >= 0 && inv ? TL_INVALIDATED : 0)));
      }
      if (this.l3SystemCache) {
        // At the PoC: dirty data from above lands here; the SLC itself needs no maintenance...
        if (dirty) { this.writeBelowL2(line, data.subarray(0, lb), 0, true); l3.stats.cmoCycles += l3.hitLatency; cost += l3.hitLatency; }
        // ...unless the point of persistence lies past it (DC CVAP to persistent memory): then its
        // dirty copy, now holding the newest data, is cleaned to memory.
        const sp = pastSystemCache ? l3.arr.lookup(line) : -1;
        if (sp >= 0 && (l3.arr.state[sp]! & STATE_DIRTY) !== 0) {
          l3.arr.readBytes(sp, 0, data, 0, lb);
          l3.arr.state[sp]! &= ~STATE_DIRTY;
          l3.stats.cmoLinesCleaned++;
          if (!dirty) { l3.stats.cmoCycles += l3.hitLatency; cost += l3.hitLatency; }
          toMemory = true;
        }
      } else {
        // Before the PoC: merge any newer data from above, then clean and/or invalidate the L3 copy.
        if (s3 >= 0) {
          if (dirty) { l3.arr.writeBytes(s3, 0, data, 0, lb); l3.arr.state[s3]! |= STATE_DIRTY; dirty = false; }
          if (clean && (l3.arr.state[s3]! & STATE_DIRTY) !== 0) {
            l3.arr.readBytes(s3, 0, data, 0, lb);
            l3.arr.state[s3]! &= ~STATE_DIRTY;
            l3.stats.cmoLinesCleaned++;
            dirty = true;
          }
          if (inv) l3.arr.invalidate(s3);
        }
        if (dirty && clean) toMemory = true;
      }
    } else if (dirty && clean) {
      toMemory = true;
    }
    l1.stats.cmoCycles += cost;
    if (toMemory) {
      // The op completes when its write reaches memory (DSB waits for it).
      this.map.store.write(line * lb, data, 0, lb);
      const w = this.allocInternal(WRITE, line * lb, attrs);
      this.table.tag[w] = id;
      this.table.status[id] = STATUS_OK;
      this.hn.acceptAt(w, this.q.now + cost);
      return;
    }
    this.respond(id, cost);
  }

  /**
   * Cleans and/or invalidates `line` in cluster o (its L1Ds and L2); the freshest dirty data, if
   * any, is left in `out` and true returned (the line is then clean or gone in the cluster).
   */
  private cleanCluster(o: number, line: number, clean: boolean, inv: boolean, out: Uint8Array): boolean {
    const lb = this.lineBytes;
    const l2 = this.l2[o]!;
    let dirty = false;
    const s2 = l2.arr.lookup(line);
    if (s2 >= 0 && (l2.arr.state[s2]! & STATE_DIRTY) !== 0) { l2.arr.readBytes(s2, 0, out, 0, lb); dirty = true; }
    if (this.timeline !== undefined) this.traceCleanCluster(o, line, s2, clean, inv);
    for (let p = o * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
      const l1 = this.l1d[p]!;
      const s = l1.arr.lookup(line);
      if (s < 0) continue;
      if ((l1.arr.state[s]! & STATE_DIRTY) !== 0) { l1.arr.readBytes(s, 0, out, 0, lb); dirty = true; if (clean) l1.stats.cmoLinesCleaned++; }
      if (inv) l1.arr.invalidate(s); else if (clean) l1.arr.state[s]! &= ~STATE_DIRTY;
    }
    if (s2 >= 0) {
      if ((l2.arr.state[s2]! & STATE_DIRTY) !== 0 && clean) l2.stats.cmoLinesCleaned++;
      if (inv) l2.arr.invalidate(s2);
      else if (clean) { if (dirty) l2.arr.writeBytes(s2, 0, out, 0, lb); l2.arr.state[s2]! &= ~STATE_DIRTY; }
    }
    if (inv) this.forgetIfGone(o, line);
    return dirty && clean;
  }

  /**
   * DC ZVA: zeroes the DCZID-sized block holding the address, a line at a time, each as a whole-
   * line write that needs no fill (Arm ARM "DC ZVA": behaves as a store of zeros). On
   * Non-cacheable memory the zeros go to memory.
   */
  private zeroBlock(pe: number, id: number): void {
    const t = this.table;
    const lb = this.lineBytes;
    const attrs = t.attrs[id]!;
    const base = t.addr[id]!;
    const lines = Math.max(1, t.size[id]! / lb);
    const l1 = this.l1d[pe]!;
    let cost = l1.hitLatency;
    for (let i = 0; i < lines; i++) {
      const line = this.lineOf(base) + i;
      if (attrInnerCache(attrs) !== WB) {
        this.buf.fill(0);
        this.map.store.write(line * lb, this.buf, 0, lb);
        cost += this.upLatency + this.hnLatency;
        continue;
      }
      const k = this.clusterOf(pe);
      let s = l1.arr.lookup(line);
      if (s < 0 || (l1.arr.state[s]! & STATE_SHARED) !== 0) {
        // Ownership without data, as for a whole-line store (access()): obtain() snoops the other
        // copies away and keeps the L2 (and L3) inclusion policies, which an L1D-only install broke.
        if (this.othersHold(k, line)) cost += this.cfg.snoopLatency;
        this.buf.fill(0);                                 // the new line, for the L2's copy (see obtain)
        this.busyLine = line;
        this.obtain(pe, line, attrs, true, true, this.q.now + l1.tagLatency, true);
        this.busyLine = -1;
        if (s < 0) {
          s = this.installL1d(pe, line, attrs);
          l1.readyAt[s] = 0;
          this.noteL1dHolder(k, line);
        }
      } else if (this.cfg.dic) this.invalidateClusterIcaches(k, line);
      this.buf.fill(0);
      l1.arr.writeBytes(s, 0, this.buf, 0, lb);
      l1.arr.state[s] = MoesiState.M;
      l1.arr.touch(s);
    }
    l1.stats.cmoOps++;
    l1.stats.cmoCycles += cost;
    if (this.timeline !== undefined) this.traceCmo(l1, id, 0, cost, this.lineOf(base), TL_ZEROED);
    this.respond(id, cost);
  }

  /**
   * DC ISW / CSW / CISW: one line of the issuing PE's own cache at the level the operand names
   * (Arm ARM "DC CISW": SetWay, Level [3:1]); only levels listed in CLIDR (L1D = 1, L2 = 2) are
   * reached. A clean pushes the data one level down: L1 to L2, L2 to the L3 when there is one
   * (of either kind: so on a before-poc L3 the data stays dirty above the PoC), else memory.
   */
  private setWay(pe: number, id: number, clean: boolean, inv: boolean): void {
    const t = this.table;
    const operand = t.addr[id]!;
    const level = ((operand >>> 1) & 7) + 1;
    const lb = this.lineBytes;
    const L = Math.log2(lb);
    const k = this.clusterOf(pe);
    const target = level === 1 ? this.l1d[pe]! : level === 2 ? this.l2[k]! : undefined;
    if (target === undefined) { this.respond(id, 1); return; }   // not a CLIDR level: no effect
    const arr = target.arr;
    const A = Math.ceil(Math.log2(arr.ways));
    const way = A === 0 ? 0 : Math.floor(operand / 2 ** (32 - A)) % arr.ways;
    const set = Math.floor(operand / 2 ** L) % arr.sets;
    const slot = arr.slotOf(set, way);
    target.stats.cmoOps++;
    let cost = target.tagLatency;
    // For the timeline: the line the slot held and what the op does to it (read before it does).
    const tlWhat = this.timeline === undefined || !arr.isValid(slot) ? 0
      : TL_FOUND | (clean && (arr.state[slot]! & STATE_DIRTY) !== 0 ? TL_CLEANED : 0) | (inv ? TL_INVALIDATED : 0);
    const tlLine = tlWhat === 0 ? -1 : arr.lineOf(slot);
    if (arr.isValid(slot)) {
      const line = arr.lineOf(slot);
      const dirty = (arr.state[slot]! & STATE_DIRTY) !== 0;
      if (dirty && clean) {
        arr.readBytes(slot, 0, this.cmoBuf, 0, lb);
        arr.state[slot]! &= ~STATE_DIRTY;
        target.stats.cmoLinesCleaned++;
        if (level === 1) { this.writeBackFromL1(pe, line, this.cmoBuf, true); cost += this.l2[k]!.hitLatency; }
        else {
          const toMem = this.writeBelowL2(line, this.cmoBuf.subarray(0, lb), 0, true);
          cost += this.upLatency + this.hnLatency + (this.l3 !== undefined && toMem === 0 ? this.l3.hitLatency : 0);
        }
      }
      if (inv) {
        arr.invalidate(slot);
        if (level === 2 && this.cfg.l2.inclusion === 'inclusive') {
          for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
            // Inclusion: the L1 copies go too (their dirty data is discarded by ISW, written by CISW).
            const l1 = this.l1d[p]!;
            const s = l1.arr.lookup(line);
            if (s >= 0) {
              if (clean && (l1.arr.state[s]! & STATE_DIRTY) !== 0) { l1.arr.readBytes(s, 0, this.cmoBuf, 0, lb); this.writeBelowL2(line, this.cmoBuf.subarray(0, lb), 0, true); }
              l1.arr.invalidate(s);
            }
          }
        }
        this.forgetIfGone(k, line);
      }
    }
    target.stats.cmoCycles += cost;
    if (this.timeline !== undefined) this.traceSetWay(target, id, cost, tlLine, tlWhat, set, way);
    this.respond(id, cost);
  }

  // ===== timeline ======================================================================================
  //
  // Spans go where the hierarchy knows the time (see the class comment: accesses are performed when
  // taken, their time computed then, or when a memory fill or write lands). Every hook is one test of
  // `this.timeline` on a path that exists anyway; nothing below runs without a timeline.

  /**
   * Records the run on `tl`: a process per cache instance, named by its stats path
   * (system.cpu0.l1d, system.cpu0.l2 or system.cluster0.l2, system.l3), with lanes for misses (from
   * the access to its data, or from a fill request leaving to its landing), write-backs, snoops
   * received and maintenance. A cache with nothing to show gets no track.
   */
  setTimeline(tl: Timeline): void {
    this.timeline = tl;
    const n = this.table.capacity;
    this.tlMissAt = new Float64Array(n).fill(-1);
    this.tlSince = new Float64Array(n);
    this.tlFrom = new Array<Level | undefined>(n).fill(undefined);
    // Perfetto order: after the PEs (100 + i), before the SMMU (10000).
    const lanes = (l: Level, order: number): void => {
      l.tl = {
        misses: tl.lanes(l.name, 'misses', { process: order, thread: 0 }, 64),
        writebacks: tl.lanes(l.name, 'write-backs', { process: order, thread: 100 }, 64),
        snoops: tl.lanes(l.name, 'snoops', { process: order, thread: 200 }, 64),
        maintenance: tl.lanes(l.name, 'maintenance', { process: order, thread: 300 }, 64),
      };
    };
    this.l1i.forEach((l, p) => lanes(l, 2000 + 2 * p));
    this.l1d.forEach((l, p) => lanes(l, 2001 + 2 * p));
    this.l2.forEach((l, k) => lanes(l, 6000 + k));
    if (this.l3 !== undefined) lanes(this.l3, 9000);
  }

  private hexLine(line: number): string { return `0x${(line * this.lineBytes).toString(16)}`; }

  /** A demand miss of `l` (an L1) taken now, whose data is there at `ready` (PENDING: drawn when its fill lands). */
  private traceMiss(l: Level, id: number, line: number, ready: number): void {
    const now = this.q.now;
    if (ready === PENDING) { this.tlMissAt[id] = now; return; }
    const tl = this.timeline!;
    if (!tl.wants(now)) { tl.dropped++; return; }
    const kind = this.table.kind[id]!;
    l.tl!.misses.span(TL_MISS_NAMES[kind] ?? 'miss', 'cache', now, ready > now ? ready : now, { pa: this.hexLine(line), bytes: this.table.size[id]! });
  }

  /** Request `id`, waiting in an MSHR, gets its data now: a miss (traceMiss) or a hit on a line whose fill was in flight. */
  private traceFillWait(id: number): void {
    const t = this.table, tl = this.timeline!;
    const kind = t.kind[id]!, p = t.source[id]!;
    const l = kind === FETCH ? this.l1i[p] : this.l1d[p];
    // A mark older than the request's issue belongs to an earlier request in the same slot.
    const marked = this.tlMissAt[id]! >= t.issuedAt[id]!;
    const from = marked ? this.tlMissAt[id]! : t.issuedAt[id]!;
    this.tlMissAt[id] = -1;
    if (l === undefined) return;
    if (!tl.wants(from)) { tl.dropped++; return; }
    l.tl!.misses.span(marked ? (TL_MISS_NAMES[kind] ?? 'miss') : 'hit, waits for fill', 'cache', from, this.q.now, { pa: this.hexLine(this.lineOf(t.addr[id]!)), bytes: t.size[id]! });
  }

  /** An L2 miss, upgrade or prefetch from `from` to `to` whose data came from `source` (PENDING: the memory fill is drawn when it lands). */
  private traceL2Miss(l2: Level, name: string, line: number, from: number, to: number, source: string): void {
    if (to === PENDING) return;
    const tl = this.timeline!;
    if (!tl.wants(from)) { tl.dropped++; return; }
    l2.tl!.misses.span(name, 'cache', from, to > from ? to : from, { pa: this.hexLine(line), from: source });
  }

  /** Fill `id` for cluster k's MSHR entry e landed now: the L2's span from the request leaving, and the L3's miss. */
  private traceFill(id: number, k: number, line: number, m: MshrTable, e: number): void {
    const tl = this.timeline!, from = this.tlSince[id]!;
    if (!tl.wants(from)) { tl.dropped++; return; }
    let waiters = 0;
    for (let i = 0, n = m.targetCount(e); i < n; i++) if (m.target(e, i) >= 0) waiters++;
    const l2 = this.l2[k]!, now = this.q.now, pa = this.hexLine(line);
    l2.tl!.misses.span('memory fill', 'cache', from, now, { pa, waiters });
    const l3 = this.l3;
    if (l3 !== undefined && this.l3Applies(this.table.attrs[id]!)) l3.tl!.misses.span('miss', 'cache', from, now, { pa, for: l2.name });
  }

  /** A snoop of `line` found it in `l`: it arrives `delay` cycles from now and takes the snoop latency (a cluster-internal one: no time). */
  private traceSnoop(l: Level, line: number, delay: number, invalidate: boolean, by: string | undefined): void {
    const tl = this.timeline!, from = this.q.now + delay;
    if (!tl.wants(from)) { tl.dropped++; return; }
    const args: TimelineArgs = { pa: this.hexLine(line), invalidate };
    if (by !== undefined) args.by = by;
    l.tl!.snoops.span('snoop', 'snoop', from, by !== undefined ? from : from + this.cfg.snoopLatency, args);
  }

  /**
   * `l` wrote back dirty `line` now: to the next level `to` (no time of its own in the model), or,
   * `toMemory` 1, as the timed DRAM write memoryWrite just sent (drawn when it is acknowledged).
   */
  private traceWriteBack(l: Level, line: number, toMemory: number, to: string): void {
    if (toMemory !== 0) { this.tlFrom[this.tlLastWrite] = l; return; }
    const tl = this.timeline!, now = this.q.now;
    if (!tl.wants(now)) { tl.dropped++; return; }
    l.tl!.writebacks.span('write-back', 'writeback', now, now, { pa: this.hexLine(line), to });
  }

  /** Write `id` to memory was acknowledged now: if it was a level's write-back, its span. */
  private traceWriteAck(id: number): void {
    const l = this.tlFrom[id];
    if (l === undefined) return;
    this.tlFrom[id] = undefined;
    const tl = this.timeline!, from = this.tlSince[id]!;
    if (!tl.wants(from)) { tl.dropped++; return; }
    l.tl!.writebacks.span('write-back', 'writeback', from, this.q.now, { pa: this.hexLine(this.lineOf(this.table.addr[id]!)), to: 'memory' });
  }

  /** Level `l`'s write-back buffer (`entries` of them) was full from `since` until now. */
  private traceBufferFull(l: Level, since: number, entries: number): void {
    const tl = this.timeline!;
    if (!tl.wants(since)) { tl.dropped++; return; }
    l.tl!.writebacks.span('write-back buffer full', 'writeback', since, this.q.now, { entries });
  }

  /** Maintenance op `id` at level `l` from `offset` cycles after now, for `dur` cycles, on `line` (-1: every line). */
  private traceCmo(l: Level, id: number, offset: number, dur: number, line: number, what: number): void {
    const tl = this.timeline!, from = this.q.now + offset;
    if (!tl.wants(from)) { tl.dropped++; return; }
    const op = this.table.aux[id]!, name = TL_CMO_NAMES[op] ?? `CMO ${op}`;
    const args: TimelineArgs = { op: name };
    if (line >= 0) args.pa = this.hexLine(line);
    else args.lines = 'all';
    if ((what & TL_ZEROED) !== 0) args.bytes = this.table.size[id]!;
    else {
      if (line >= 0) args.found = (what & TL_FOUND) !== 0;
      if ((what & TL_CLEANED) !== 0) args.cleaned = true;
      if ((what & TL_INVALIDATED) !== 0) args.invalidated = true;
      if ((what & TL_TOOK_DIRTY) !== 0) args.tookDirtyData = true;
    }
    l.tl!.maintenance.span(name, 'cmo', from, from + dur, args);
  }

  /**
   * DC by VA to the PoC (toPoc) is about to clean/invalidate `line` in cluster o (its L2 at slot
   * s2): a span at each level it looks up there. The issuing PE's own L1D and L2 are looked up in
   * turn from now; another cluster is reached as a snoop after them.
   */
  private traceCleanCluster(o: number, line: number, s2: number, clean: boolean, inv: boolean): void {
    const pe = this.tlCmoPe, id = this.tlCmoId, own = o === this.clusterOf(pe);
    const l1Tag = this.l1d[pe]!.tagLatency, l2 = this.l2[o]!;
    const what = (st: number): number => TL_FOUND | (clean && (st & STATE_DIRTY) !== 0 ? TL_CLEANED : 0) | (inv ? TL_INVALIDATED : 0);
    const snoopAt = l1Tag + this.l2[this.clusterOf(pe)]!.tagLatency;
    for (let p = o * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
      const l1 = this.l1d[p]!;
      const s = l1.arr.lookup(line);
      if (s < 0 && p !== pe) continue;
      this.traceCmo(l1, id, own ? 0 : snoopAt, own ? l1Tag : this.cfg.snoopLatency, line, s < 0 ? 0 : what(l1.arr.state[s]!));
    }
    this.traceCmo(l2, id, own ? l1Tag : snoopAt, own ? l2.tagLatency : this.cfg.snoopLatency, line, s2 < 0 ? 0 : what(l2.arr.state[s2]!));
  }

  /** DC xSW op `id` on `target` (set, way), which held `line` (-1: an invalid slot), costing `cost`. */
  private traceSetWay(target: Level, id: number, cost: number, line: number, what: number, set: number, way: number): void {
    const tl = this.timeline!, now = this.q.now;
    if (!tl.wants(now)) { tl.dropped++; return; }
    const op = this.table.aux[id]!, name = TL_CMO_NAMES[op] ?? `CMO ${op}`;
    const args: TimelineArgs = { op: name, set, way, found: line >= 0 };
    if (line >= 0) args.pa = this.hexLine(line);
    if ((what & TL_CLEANED) !== 0) args.cleaned = true;
    if ((what & TL_INVALIDATED) !== 0) args.invalidated = true;
    target.tl!.maintenance.span(name, 'cmo', now, now + cost, args);
  }

  /**
   * The timing of a read of `pa` by an agent behind the home node (the SMMU's table walker),
   * whose data the caller reads functionally: the cycles it takes from where its line is now — a
   * cluster's caches, by a snoop (coherent reads only); the L3 (a system cache serves every read, a
   * before-PoC L3 only coherent ones, as `System.memoryAtPoC` and the coherent view do); else
   * memory, `memoryCycles`. A hit is a use for the L3's replacement; a coherent read that misses a
   * system-cache L3 allocates the line there (clean, from memory: every agent's cacheable traffic
   * passes through it; a dirty victim is written back as usual), so the next read of the line
   * hits. No hit or miss is counted in the levels' stats (the SMMU's own stats count the reads).
   */
  deviceRead(pa: number, coherent: boolean, memoryCycles: number): number {
    const line = this.lineOf(pa);
    const path = this.upLatency + this.hnLatency + this.downLatency;
    if (coherent && this.anyClusterHolds(line)) return path + this.cfg.snoopLatency;
    const l3 = this.l3;
    if (l3 === undefined || !(coherent || this.l3SystemCache)) return path + memoryCycles;
    const s3 = l3.arr.lookup(line);
    if (s3 >= 0) { l3.arr.touch(s3); return path + l3.hitLatency; }
    if (coherent && this.l3SystemCache) {
      // No cluster holds the line (checked above): memory has its data.
      this.map.store.read(line * this.lineBytes, this.devBuf, 0, this.lineBytes);
      const s = this.installL3(line);
      l3.arr.writeBytes(s, 0, this.devBuf, 0, this.lineBytes);
    }
    return path + memoryCycles;
  }

  /** Where the freshest copy of the line holding `pa` sits, for reports ("cpu0.l1d dirty", "l3 dirty", "memory"). */
  whereIs(pa: number): string[] {
    const line = this.lineOf(pa);
    const out: string[] = [];
    const look = (l: Level): void => {
      const s = l.arr.lookup(line);
      if (s >= 0) out.push(`${l.name}${(l.arr.state[s]! & STATE_DIRTY) !== 0 ? ' dirty' : ''}`);
    };
    this.l1d.forEach(look); this.l1i.forEach(look); this.l2.forEach(look);
    if (this.l3) look(this.l3);
    return out;
  }

  /**
   * Reads `len` bytes at `pa` (within one line) as a coherent cacheable load would see them: a
   * dirty L1D copy, else a dirty L2 copy, else the L3's, else memory. For checks and reports; no
   * state changes.
   */
  readCoherent(pa: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    this.readCoherentInto(pa, len, b, 0);
    return b;
  }

  /** `readCoherent` into `dst` at `dstOff`, allocating nothing (the SMMU's descriptor reads and DMA on the coherent path). */
  readCoherentInto(pa: number, len: number, dst: Uint8Array, dstOff: number): void {
    const line = this.lineOf(pa), off = pa - line * this.lineBytes;
    if (this.tracking) {
      // Only clusters the snoop filter names can hold the line: a DMA read on a many-PE platform
      // asks one filter entry instead of every L1D and L2. At most one cluster holds it dirty, and
      // there a dirty L1D copy is newer than the L2's: L1Ds first, as below.
      const ks = this.devSharers, n = this.filter.sharers(line, ks);
      for (let i = 0; i < n; i++) {
        const k = ks[i]!;
        for (let p = k * this.clusterSize, end = Math.min(p + this.clusterSize, this.peCount); p < end; p++) {
          if (this.copyIfHeld(this.l1d[p]!, line, off, len, dst, dstOff, true)) return;
        }
      }
      for (let i = 0; i < n; i++) if (this.copyIfHeld(this.l2[ks[i]!]!, line, off, len, dst, dstOff, true)) return;
    } else {
      for (const l of this.l1d) if (this.copyIfHeld(l, line, off, len, dst, dstOff, true)) return;
      for (const l of this.l2) if (this.copyIfHeld(l, line, off, len, dst, dstOff, true)) return;
    }
    if (this.l3 !== undefined && this.copyIfHeld(this.l3, line, off, len, dst, dstOff, false)) return;
    this.map.store.read(pa, dst, dstOff, len);
  }

  private copyIfHeld(l: Level, line: number, off: number, len: number, dst: Uint8Array, dstOff: number, dirtyOnly: boolean): boolean {
    const s = l.arr.lookup(line);
    if (s < 0 || (dirtyOnly && (l.arr.state[s]! & STATE_DIRTY) === 0)) return false;
    l.arr.readBytes(s, off, dst, dstOff, len);
    return true;
  }

  /**
   * Writes `src` at `pa` (within one line) into memory and into every cached copy of the line,
   * leaving line states alone: what a coherent writer outside the simulated PEs would leave behind
   * (test set-ups; a software model that updates tables functionally). No time passes.
   */
  writeCoherent(pa: number, src: Uint8Array): void {
    const line = this.lineOf(pa), off = pa - line * this.lineBytes;
    if (off + src.length > this.lineBytes) throw new RangeError(`writeCoherent: ${src.length} bytes at 0x${pa.toString(16)} cross a line`);
    const to = (l: Level): void => {
      const s = l.arr.lookup(line);
      if (s >= 0) l.arr.writeBytes(s, off, src, 0, src.length);
    };
    this.l1d.forEach(to); this.l1i.forEach(to); this.l2.forEach(to);
    if (this.l3) to(this.l3);
    this.map.store.write(pa, src, 0, src.length);
  }

  /** Reads `len` bytes at `pa` as the memory behind the caches holds them (the store), for checks. */
  readMemory(pa: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    this.map.store.read(pa, b, 0, len);
    return b;
  }

  /** The attributes a request gets when it names none: from its region (see regionAttrs). */
  setRegionAttrs(region: number, attrs: number): void { this.regionAttrs[region] = attrs; }
}

const SNOOP_HAD = 1, SNOOP_DIRTY = 2, SNOOP_PENDING = 4;
/** Line buffers in the hierarchy's scratch arena (256 bytes each; 16 make the 4 KiB that WordViews wants). */
const ARENA_BUFS = 16;
/** fillFromBelow results: from memory (0), from the L3, and dirty (an exclusive L3 handed it up). */
const FROM_MEM = 0, FROM_L3 = 1, FROM_DIRTY = 2;

const ATTR_DEFAULT_U32 = ATTRS_REGION_DEFAULT >>> 0;

/**
 * A PE's request port into the hierarchy: resolves default attributes, sends Device and
 * Non-cacheable accesses around the caches, and hands the rest to the hierarchy. `available`
 * is 0 while the cluster's MSHRs are all busy (a miss could not be taken) or the home node's
 * port has no credit.
 */
export class CpuPort implements RequestPort {
  onCredit: (() => void) | undefined = undefined;

  constructor(private readonly h: CacheHierarchy, readonly pe: number, private readonly hnPort: RequestPort) {
    hnPort.onCredit = () => this.wake();
  }

  get available(): number {
    return this.h.canMissNow[this.pe] !== 0 ? this.hnPort.available : 0;
  }

  /** See RequestPort.completedAt: set by each trySend. */
  completedAt = -1;

  trySend(id: number): boolean {
    const h = this.h;
    h.syncId = id; h.syncDoneAt = -1;
    const ok = this.fast(id) || this.dispatch(id);
    this.completedAt = ok ? h.syncDoneAt : -1;
    h.syncId = -1;
    return ok;
  }

  /**
   * A plain load, store or fetch inside the region the last such access decoded to, with inner
   * cacheable attributes (its own, or the region's default): performs it as dispatch()
   * would, without decoding the address again, and returns true; else false (dispatch() decides).
   * Small, so that it inlines into trySend (and fetches go straight to fetch()).
   */
  private fast(id: number): boolean {
    const h = this.h, t = h.table;
    const kind = t.kind[id]!;
    if (!isPlain(kind, t.flags[id]!)) return false;
    const addr = t.addr[id]!, size = t.size[id]!;
    if (!(addr >= this.fastBase && addr + (size > 0 ? size : 1) <= this.fastEnd)) return false;   // as AddressMap.find
    // The region's default attributes, or the access's own (translated by an MMU) unless Tagged
    // (dispatch() checks the region's tag storage for those).
    let attrs = t.attrs[id]!;
    if (attrs === ATTR_DEFAULT_U32) attrs = h.regionAttrs[this.fastRegion]!;
    else if ((attrs & ATTR_TAGGED) !== 0) return false;
    if (attrInnerCache(attrs) < WT) return false;
    t.attrs[id] = attrs;
    if (kind === FETCH) h.fetch(this.pe, id); else h.access(this.pe, id);
    return true;
  }

  /**
   * RequestPort.tryHit: a plain access in the fast region with inner cacheable attributes (as
   * fast() takes them) that is an L1 hit (CacheHierarchy.l1Hit) completes here, without a request.
   * A read must not want its bytes (the caller would ask with REQ_FLAG_NO_DATA). -1: send it.
   */
  tryHit(kind: ReqKind, at: Float64Array, size: number, src: Uint8Array): number {
    const addr = at[0]!;
    if (!(addr >= this.fastBase && addr + size <= this.fastEnd)) return -1;   // as fast()
    const h = this.h;
    let attrs = at[1]!;
    if (attrs === ATTR_DEFAULT_U32) attrs = h.regionAttrs[this.fastRegion]!;
    else if ((attrs & ATTR_TAGGED) !== 0) return -1;
    if (attrInnerCache(attrs) < WT) return -1;
    return h.l1Hit(this.pe, kind, at, size, attrs, src);
  }

  /** The region the last plain cacheable access decoded to, and its bounds (fastEnd 0: none yet). */
  private fastRegion = -1;
  private fastBase = 0;
  private fastEnd = 0;

  private dispatch(id: number): boolean {
    const h = this.h;
    const t = h.table;
    const region = h.map.find(t.addr[id]!, t.size[id]!);
    let attrs = t.attrs[id]!;
    if (attrs === ATTR_DEFAULT_U32) { attrs = region >= 0 ? h.regionAttrs[region]! : 0; t.attrs[id] = attrs; }
    const kind = t.kind[id]!;
    if (kind === CMO) { h.maintain(this.pe, id); return true; }
    if ((attrs & ATTR_TAGGED) !== 0 && region >= 0 && h.regionTags[region] === 0) { h.tagAbort(id); return true; }
    if (kind === ATOMIC) return h.atomic(this.pe, id, region, this.hnPort);
    if ((t.flags[id]! & REQ_FLAG_EXCLUSIVE) !== 0) return h.exclusive(this.pe, id, region, this.hnPort);
    if (region < 0) return this.hnPort.trySend(id);        // the home node answers with a decode error
    if (attrInnerCache(attrs) >= WT) {
      if (isPlain(kind, t.flags[id]!) && this.fastRegion !== region) {
        const r = h.map.regions[region]!;
        this.fastRegion = region; this.fastBase = r.base; this.fastEnd = r.base + r.size;
      }
      h.access(this.pe, id);
      return true;
    }
    return h.nonCacheable(id, region, this.hnPort);
  }

  /** Called when an MSHR or a home-node credit frees: lets a stalled PE try again. */
  wake(): void {
    const f = this.onCredit;
    if (f !== undefined) f();
  }
}

/**
 * Whether a request is a plain load, store or fetch (CpuPort.fast takes those): no flags, except
 * that a read or fetch may carry REQ_FLAG_NO_DATA, which a PE sets when nothing will read the
 * bytes (access() and fetch() then copy none: the same caches, stats and times, no data moved).
 */
function isPlain(kind: number, flags: number): boolean {
  return kind <= FETCH && (flags === 0 || (flags === REQ_FLAG_NO_DATA && kind !== WRITE));
}

/**
 * The read-modify-write of an LSE atomic on `size` little-endian bytes at mem[memOff]: the operand
 * is req[reqOff..], CAS's compare value req[reqOff + 8..]; the old bytes are returned in
 * req[reqOff..]. Byte-wise, so no 64-bit arithmetic is needed (Arm ARM C6.2: LDADD adds modulo
 * 2^size*8, LDCLR is AND NOT, LDEOR XOR, LDSET OR, SWP replaces, CAS replaces on equality).
 */
export function rmwBytes(mem: Uint8Array, memOff: number, req: Uint8Array, reqOff: number, size: number, op: number): void {
  let equal = true;
  if (op === AtomicOp.CAS) for (let k = 0; k < size; k++) if (mem[memOff + k] !== req[reqOff + 8 + k]) { equal = false; break; }
  let carry = 0;
  for (let k = 0; k < size; k++) {
    const old = mem[memOff + k]!, v = req[reqOff + k]!;
    let nv: number;
    switch (op) {
      case AtomicOp.ADD: { const sum = old + v + carry; nv = sum & 0xff; carry = sum >> 8; break; }
      case AtomicOp.CLR: nv = old & ~v & 0xff; break;
      case AtomicOp.EOR: nv = old ^ v; break;
      case AtomicOp.SET: nv = old | v; break;
      case AtomicOp.SWP: nv = v; break;
      default: nv = equal ? v : old;                       // CAS
    }
    mem[memOff + k] = nv;
    req[reqOff + k] = old;
  }
}
