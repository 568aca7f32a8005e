import { ReqKind, type EventQueue, type Link, type RequestPort, type RequestTable, type ResponseRouter, type StatsRegistry, type Rng } from '../sim/index.js';
import { Cacheability, attrInnerCache, attrInnerWriteAllocate, attrIsDevice, attrOuterCache, attrOuterWriteAllocate } from '../mem/index.js';
import { CacheArray, STATE_DIRTY, MoesiState } from './tag-array.js';
import { createReplacement, type ReplacementKind } from './replacement.js';
import { MshrTable, MSHR_FULL, MSHR_TARGETS_FULL } from './mshr.js';

export interface CacheLevelConfig {
  sizeBytes: number;
  ways: number;
  lineBytes: number;
  replacement: ReplacementKind;
  /** Cycles from a request's arrival to its response on a hit (tag and data). */
  hitLatency: number;
  /** Outstanding line fills. */
  mshrs: number;
  /** Requests merged into one fill at most. */
  mshrTargets: number;
  /**
   * Which half of the attributes governs this level: `inner` for the PE's own caches (L1, L2),
   * `outer` for a cache beyond them (an L3) — Arm ARM B2.7.2 "Normal memory": inner and outer
   * cacheability apply to the inner and outer cacheable domains.
   */
  domain: 'inner' | 'outer';
}

class CacheStats {
  readHits = 0; readMisses = 0; writeHits = 0; writeMisses = 0;
  writebacks = 0; fills = 0; mshrMerges = 0; bypasses = 0; writeThroughs = 0; blocked = 0;
  snoopsReceived = 0; cmoOps = 0; cmoLinesCleaned = 0; cmoCycles = 0;
}

/**
 * One timed cache level that holds data: set-associative array, MSHRs that merge requests to a
 * line, write-back of dirty victims, and the memory-type rules of the request's attributes:
 * - Device and Non-cacheable accesses are not looked up and never allocate: they are forwarded
 *   to the next level unchanged, and their response goes straight back to their issuer.
 * - Write-Back lines become dirty on a write; Write-Through writes update a present line, which
 *   stays clean, and continue to the next level (the response comes from there).
 * - A read miss fills the line; a write miss fills it when the write-allocate hint is set, else
 *   the write goes around the cache; a write of a whole line allocates without a fill.
 * - Requests to a line with a fill in flight wait in its MSHR and are served in arrival order
 *   when it lands, so one agent's same-line requests stay in order.
 *
 * Ports: requests arrive over `inLink` (the builder's Link to `reqHandler`; its credits are the
 * input buffer, released as requests leave it); misses and write-backs leave on `memSide`;
 * fills and write-back acknowledgements come back on `respHandler` (registered with the router
 * under this level's agent id); responses upstream go through the router.
 * Leaves out (for now): coherence snoops, inclusion enforcement, prefetching, maintenance
 * operations beyond the line-level primitives below.
 */
export class CacheLevel {
  readonly arr: CacheArray;
  readonly mshr: MshrTable;
  readonly stats = new CacheStats();
  readonly reqHandler: number;
  readonly respHandler: number;
  inLink: Link | undefined = undefined;
  memSide: RequestPort | undefined = undefined;
  /** Attributes each line was filled with (write-backs carry them to the next level). */
  private readonly lineAttrs: Uint32Array;
  private readonly lineBytes: number;
  private readonly invLine: number;
  // Requests that could not be handled (MSHRs full): served in order before any newer one.
  private readonly blockedQ: Int32Array;
  private blockedHead = 0;
  private blockedLen = 0;
  // Requests refused by the next level: sent in order when it gives a credit.
  private readonly downQ: Int32Array;
  private downHead = 0;
  private downLen = 0;
  private downArmed = false;

  constructor(
    readonly name: string,
    /** This level's agent id: the source of the fills and write-backs it issues. */
    readonly agent: number,
    private readonly q: EventQueue,
    private readonly table: RequestTable,
    private readonly router: ResponseRouter,
    readonly cfg: CacheLevelConfig,
    stats: StatsRegistry,
    statsPath: string,
    rng: Rng,
  ) {
    const sets = cfg.sizeBytes / (cfg.ways * cfg.lineBytes);
    this.arr = new CacheArray(cfg, { replacement: createReplacement(cfg.replacement, sets, cfg.ways, rng.fork(name)) });
    this.mshr = new MshrTable(cfg.mshrs, cfg.mshrTargets);
    this.lineAttrs = new Uint32Array(sets * cfg.ways);
    this.lineBytes = cfg.lineBytes;
    this.invLine = 1 / cfg.lineBytes;          // a power of two: multiplying is exact
    this.blockedQ = new Int32Array(table.capacity);
    this.downQ = new Int32Array(table.capacity);
    this.reqHandler = q.register(`${name}.request`, (id) => this.onRequest(id));
    this.respHandler = q.register(`${name}.response`, (id) => this.onResponse(id));
    router.register(agent, this.respHandler);
    const c = (desc: string) => ({ unit: 'count', desc });
    stats.add(statsPath, this.stats, {
      readHits: c('reads (and fetches) that hit'), readMisses: c('reads (and fetches) that missed'),
      writeHits: c('writes that hit'), writeMisses: c('writes that missed'),
      writebacks: c('dirty lines written to the next level'), fills: c('lines filled from the next level'),
      mshrMerges: c('misses merged into a fill already in flight'),
      bypasses: c('Device and Non-cacheable accesses passed through without a lookup'),
      writeThroughs: c('Write-Through writes passed on to the next level'),
      blocked: c('requests that waited for a free MSHR'),
      snoopsReceived: c('coherence snoops received'), cmoOps: c('cache maintenance operations performed'),
      cmoLinesCleaned: c('dirty lines written back by maintenance'), cmoCycles: { unit: 'cycles', desc: 'cycles spent on maintenance' },
    });
  }

  private lineOf(addr: number): number { return Math.floor(addr * this.invLine); }

  private cacheability(attrs: number): number {
    if (attrIsDevice(attrs)) return Cacheability.None;
    return this.cfg.domain === 'inner' ? attrInnerCache(attrs) : attrOuterCache(attrs);
  }

  private writeAllocates(attrs: number): boolean {
    return this.cfg.domain === 'inner' ? attrInnerWriteAllocate(attrs) : attrOuterWriteAllocate(attrs);
  }

  // ---- requests from above ----------------------------------------------------------------------

  private onRequest(id: number): void {
    if (this.blockedLen > 0 || !this.handle(id)) this.block(id);
  }

  /** Serves or forwards request `id`; false if it must wait for an MSHR. */
  private handle(id: number): boolean {
    const t = this.table;
    const attrs = t.attrs[id]!;
    const cache = this.cacheability(attrs);
    if (cache < Cacheability.WT) {
      this.stats.bypasses++;
      this.leaveInput();
      this.sendDown(id);
      return true;
    }
    const addr = t.addr[id]!, size = t.size[id]!;
    const line = this.lineOf(addr);
    const slot = this.arr.lookup(line);
    const isWrite = t.kind[id] === ReqKind.Write;
    if (slot >= 0) {
      this.arr.touch(slot);
      if (isWrite) {
        this.stats.writeHits++;
        this.arr.writeBytes(slot, addr - line * this.lineBytes, t.data, t.dataOffset(id), size);
        this.leaveInput();
        if (cache === Cacheability.WT) { this.stats.writeThroughs++; this.sendDown(id); }
        else { this.arr.state[slot]! |= STATE_DIRTY; this.router.send(id, this.cfg.hitLatency); }
      } else {
        this.stats.readHits++;
        this.arr.readBytes(slot, addr - line * this.lineBytes, t.data, t.dataOffset(id), size);
        this.leaveInput();
        this.router.send(id, this.cfg.hitLatency);
      }
      return true;
    }
    // A miss. Anything for a line whose fill is in flight waits for it, whatever its kind.
    if (this.mshr.find(line) < 0 && isWrite) {
      if (size === this.lineBytes) {
        // A whole-line write needs no fill (a write-back from the level above, or DC ZVA).
        this.stats.writeMisses++;
        this.leaveInput();
        const s = this.install(line, attrs);
        this.arr.writeBytes(s, 0, t.data, t.dataOffset(id), size);
        if (cache === Cacheability.WT) { this.stats.writeThroughs++; this.sendDown(id); }
        else { this.arr.state[s]! |= STATE_DIRTY; this.router.send(id, this.cfg.hitLatency); }
        return true;
      }
      if (cache === Cacheability.WT || !this.writeAllocates(attrs)) {
        this.stats.writeMisses++;
        this.stats.writeThroughs++;
        this.leaveInput();
        this.sendDown(id);                   // write-around: no allocation
        return true;
      }
    }
    const e = this.mshr.allocate(line, id);
    if (e === MSHR_FULL || e === MSHR_TARGETS_FULL) return false;
    if (isWrite) this.stats.writeMisses++; else this.stats.readMisses++;
    this.leaveInput();
    if (this.mshr.lastWasMerge) { this.stats.mshrMerges++; return true; }
    const f = this.allocRequest(ReqKind.Read, line * this.lineBytes, attrs);
    t.tag[f] = e;
    this.sendDown(f);
    return true;
  }

  private leaveInput(): void { this.inLink?.release(); }

  private block(id: number): void {
    this.stats.blocked++;
    this.blockedQ[(this.blockedHead + this.blockedLen++) % this.blockedQ.length] = id;
  }

  private unblock(): void {
    while (this.blockedLen > 0) {
      const id = this.blockedQ[this.blockedHead]!;
      if (!this.handle(id)) return;
      this.blockedHead = (this.blockedHead + 1) % this.blockedQ.length;
      this.blockedLen--;
    }
  }

  // ---- the next level ---------------------------------------------------------------------------

  private allocRequest(kind: ReqKind, addr: number, attrs: number): number {
    const id = this.table.alloc(kind, addr, this.lineBytes, attrs, this.agent, this.q.now);
    if (id < 0) throw new Error(`${this.name}: request table exhausted (raise sim.requestSlots, now ${this.table.capacity})`);
    return id;
  }

  private sendDown(id: number): void {
    if (this.downLen === 0 && this.memSide!.trySend(id)) return;
    this.downQ[(this.downHead + this.downLen++) % this.downQ.length] = id;
    if (!this.downArmed) { this.downArmed = true; this.memSide!.onCredit = this.retryDown; }
  }

  private readonly retryDown = (): void => {
    this.downArmed = false;
    while (this.downLen > 0) {
      const id = this.downQ[this.downHead]!;
      if (!this.memSide!.trySend(id)) { this.downArmed = true; this.memSide!.onCredit = this.retryDown; return; }
      this.downHead = (this.downHead + 1) % this.downQ.length;
      this.downLen--;
    }
  };

  private onResponse(id: number): void {
    const t = this.table;
    if (t.kind[id] === ReqKind.Write) { t.release(id); return; }     // a write-back landed
    this.fill(id);
  }

  /** A line fill has arrived: install it and serve every request waiting for it, in order. */
  private fill(f: number): void {
    const t = this.table;
    const line = this.lineOf(t.addr[f]!);
    const e = t.tag[f]!;
    this.stats.fills++;
    const slot = this.install(line, t.attrs[f]!);
    this.arr.writeBytes(slot, 0, t.data, t.dataOffset(f), this.lineBytes);
    t.release(f);
    const n = this.mshr.targetCount(e);
    for (let i = 0; i < n; i++) this.serveAfterFill(this.mshr.target(e, i), slot);
    this.mshr.release(e);
    this.unblock();
  }

  private serveAfterFill(id: number, slot: number): void {
    const t = this.table;
    const addr = t.addr[id]!, size = t.size[id]!;
    const off = addr - this.arr.lineOf(slot) * this.lineBytes;
    if (t.kind[id] === ReqKind.Write) {
      this.arr.writeBytes(slot, off, t.data, t.dataOffset(id), size);
      if (this.cacheability(t.attrs[id]!) === Cacheability.WT) { this.stats.writeThroughs++; this.sendDown(id); return; }
      this.arr.state[slot]! |= STATE_DIRTY;
    } else {
      this.arr.readBytes(slot, off, t.data, t.dataOffset(id), size);
    }
    this.router.send(id, this.cfg.hitLatency);
  }

  /** Finds room for `line` (writing back a dirty victim) and fills it clean; returns the slot. */
  private install(line: number, attrs: number): number {
    const arr = this.arr;
    const slot = arr.victim(arr.setOf(line));
    if (arr.isValid(slot)) this.evict(slot);
    arr.fill(slot, line, MoesiState.E);
    this.lineAttrs[slot] = attrs;
    return slot;
  }

  private evict(slot: number): void {
    if ((this.arr.state[slot]! & STATE_DIRTY) !== 0) this.writeBack(slot);
    this.arr.invalidate(slot);
  }

  /** Sends the data of dirty line `slot` to the next level; the line becomes clean. */
  private writeBack(slot: number): void {
    const t = this.table;
    const id = this.allocRequest(ReqKind.Write, this.arr.lineOf(slot) * this.lineBytes, this.lineAttrs[slot]!);
    this.arr.readBytes(slot, 0, t.data, t.dataOffset(id), this.lineBytes);
    this.arr.state[slot]! &= ~STATE_DIRTY;
    this.stats.writebacks++;
    this.sendDown(id);
  }

  // ---- line-level primitives for maintenance (the CMO engine drives them) -----------------------

  /**
   * Cleans and/or invalidates `line` in this level: a dirty line is written to the next level
   * when `clean`; an invalidate without clean discards dirty data (DC IVAC semantics).
   * Returns 1 if a write-back was sent, else 0.
   */
  maintainLine(line: number, clean: boolean, invalidate: boolean): number {
    const slot = this.arr.lookup(line);
    if (slot < 0) return 0;
    let wrote = 0;
    if (clean && (this.arr.state[slot]! & STATE_DIRTY) !== 0) { this.writeBack(slot); wrote = 1; }
    if (invalidate) this.arr.invalidate(slot);
    this.stats.cmoLinesCleaned += wrote;
    return wrote;
  }

  /** The same on the line at (set, way), if valid: DC CSW / CISW / ISW at this level. */
  maintainSetWay(set: number, way: number, clean: boolean, invalidate: boolean): number {
    const slot = this.arr.slotOf(set, way);
    if (!this.arr.isValid(slot)) return 0;
    return this.maintainLine(this.arr.lineOf(slot), clean, invalidate);
  }

  /** True if `line` is present and dirty here (for tests and reports of where data sits). */
  holdsDirty(line: number): boolean {
    const slot = this.arr.lookup(line);
    return slot >= 0 && (this.arr.state[slot]! & STATE_DIRTY) !== 0;
  }
}
