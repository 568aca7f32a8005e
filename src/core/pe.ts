import { Histogram, REQ_FLAG_EXCLUSIVE, ReqKind, ReqStatus, type EventQueue, type RequestPort, type RequestTable, type StatsRegistry } from '../sim/index.js';
import { CmoOp, OP_NAMES, OpCode, cmoIsByVa } from './ops.js';
import { OpSlot, type OpResult, type OpSource } from './op-source.js';

export interface PeConfig {
  /** Memory ops that may be outstanding at once (the load/store window). */
  window: number;
  /** Ops issued per cycle at most. */
  issueWidth: number;
  /** Cycles an ISB costs (pipeline refill). */
  isbCycles: number;
  /** Bytes of the unit of same-address ordering and of request splitting (the line size). */
  lineBytes: number;
  /** DC ZVA block size (DCZID_EL0). */
  zvaBytes?: number;
}

class PeStats {
  ops = 0; loads = 0; stores = 0; fetches = 0; cmos = 0; atomics = 0; barriers = 0; sysRegWrites = 0;
  computeCycles = 0; bytesRead = 0; bytesWritten = 0; requests = 0; externalAborts = 0;
  stallWindowCycles = 0; stallBarrierCycles = 0; stallOrderingCycles = 0; stallBackpressureCycles = 0;
  finishedAt = 0;
}

/** Outstanding accesses are counted per 8-byte granule, hashed into this many buckets. */
const ORDER_BUCKETS = 4096;
const GRANULE_BYTES = 8;
/** Granule g = floor(addr / 8) lands in bucket g mod 4096 = floor((addr mod 32768) / 8). */
const BUCKET_SPAN = ORDER_BUCKETS * GRANULE_BYTES;
const INV_BUCKET_SPAN = 1 / BUCKET_SPAN;           // exact: a power of two
/** addr mod BUCKET_SPAN: a small number, so the granule arithmetic on it below stays in small integers. */
const spanOffset = (addr: number): number => addr - Math.floor(addr * INV_BUCKET_SPAN) * BUCKET_SPAN;
/** The bucket of the granule holding `addr`: floor(addr / 8) mod 4096. */
const firstBucket = (addr: number): number => Math.floor(spanOffset(addr) * (1 / GRANULE_BYTES));
/** Granules [addr, addr + size) touches: floor((addr + size - 1) / 8) - floor(addr / 8) + 1 (0 if size < 1 ends before it). */
const granulesTouched = (addr: number, size: number): number => {
  const a = spanOffset(addr);
  return Math.floor((a + size - 1) * (1 / GRANULE_BYTES)) - Math.floor(a * (1 / GRANULE_BYTES)) + 1;
};

// Module-level copies of imported constants: V8 compiles these as immediates, but reads a
// property of the imported object (with a map check) at every use.
const OP_LOAD: number = OpCode.Load, OP_STORE: number = OpCode.Store, OP_FETCH: number = OpCode.Fetch;
const OP_DMB: number = OpCode.Dmb, OP_DSB: number = OpCode.Dsb, OP_ISB: number = OpCode.Isb;
const OP_SYSREG: number = OpCode.SysRegWrite, OP_COMPUTE: number = OpCode.Compute;
const OP_CMO: number = OpCode.Cmo, OP_SYSREG_READ: number = OpCode.SysRegRead;
const OP_ATOMIC: number = OpCode.Atomic, OP_LDX: number = OpCode.LoadExclusive, OP_STX: number = OpCode.StoreExclusive, OP_CLREX: number = OpCode.Clrex;
const REQ_ATOMIC: ReqKind = ReqKind.Atomic;
const REQ_READ: ReqKind = ReqKind.Read, REQ_WRITE: ReqKind = ReqKind.Write, REQ_FETCH: ReqKind = ReqKind.Fetch, REQ_CMO: ReqKind = ReqKind.Cmo;
const CMO_ZVA: number = CmoOp.DC_ZVA;
const STATUS_OK: number = ReqStatus.Ok;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const STALL_NONE = 0, STALL_WINDOW = 1, STALL_BARRIER = 2, STALL_ORDER = 3, STALL_BACKPRESSURE = 4, STALL_WAIT = 5;
const STALL_NAMES = ['running', 'window full', 'barrier', 'same-address ordering', 'backpressure', 'waiting for a result'];

/**
 * A processing element (first slice): issues loads, stores, fetches, barriers, system-register
 * writes and compute delays from an op source, in program order, with a window of outstanding
 * memory ops. Talks to memory through `memLink` with physical addresses and packed attributes;
 * the MMU and caches slot in between later without changing this issue logic.
 *
 * Ordering: a memory op waits while an outstanding op overlapping its bytes conflicts with it
 * (either is a store); accesses that cross a line are split into one request per line. DMB holds later
 * memory ops until every earlier one has completed; DSB holds everything.
 * Leaves out: speculation, store-to-load forwarding, register dependencies.
 */
export class Pe {
  memLink: RequestPort | undefined = undefined;
  readonly respHandler: number;
  /** Called once when the PE has run out of ops and every op has completed. */
  onFinish: (() => void) | undefined = undefined;
  /**
   * Reads a system register the platform derives (ID registers), given the PE's written
   * registers (CSSELR_EL1 selects CCSIDR_EL1); undefined = not implemented (reads as 0).
   */
  readSysRegister: ((reg: number, written: (reg: number) => number | undefined) => number | undefined) | undefined = undefined;
  /** CLREX: clears this PE's local exclusive monitor (it lives with the caches). */
  clearExclusive: (() => void) | undefined = undefined;

  readonly stats = new PeStats();
  readonly loadLatency = new Histogram(4096);
  private readonly stepHandler: number;
  private readonly slot = new OpSlot();
  private source: OpSource | undefined = undefined;
  private haveOp = false;
  private exhausted = true;
  private finished = true;

  // window slots (struct of arrays)
  private readonly wStore: Uint8Array;
  private readonly wParts: Uint8Array;
  private readonly wWait: Uint8Array;
  private readonly wOk: Uint8Array;
  /** The op returns data (loads, fetches, atomics, exclusives): responses are copied for the program. */
  private readonly wRet: Uint8Array;
  /** The ReqStatus of the first part that failed. */
  private readonly wStatus: Uint8Array;
  private readonly wOp: Uint8Array;
  private readonly wAddr: Float64Array;
  private readonly wSize: Uint16Array;
  private readonly wIssued: Float64Array;
  private readonly wBytes: Uint8Array;
  private readonly wFree: Int32Array;
  private nFree: number;
  private outstanding = 0;
  /** Outstanding ops (and stores) per granule-hash bucket: zeros prove no overlap without a scan. */
  private readonly anyByBucket = new Uint16Array(ORDER_BUCKETS);
  private readonly storesByBucket = new Uint16Array(ORDER_BUCKETS);

  /**
   * Parts completed on the spot by the memory system (RequestPort.completedAt), retired when
   * their cycle comes: window slot and completion cycle, a FIFO in non-decreasing cycle order.
   * No event is spent on them; the PE's own step events retire them.
   */
  private readonly syncSlot: Int32Array;
  private readonly syncAt: Float64Array;
  private syncHead = 0;
  private syncLen = 0;
  private dmbPending = false;
  /** The window slot an ordering stall waits for: other completions need not retry the issue. */
  private blockedOn = -1;
  private waitingSlot = -1;
  private busyUntil = 0;
  private stepAt = -1;
  private lastIssueCycle = -1;
  private issuedThisCycle = 0;
  private stall = STALL_NONE;
  private stallSince = 0;
  private readonly sysRegs = new Map<number, number>();
  private readonly pendingSysRegs: [number, number][] = [];
  private readonly lineBytes: number;
  /** The request table's data as 32-bit words, on little-endian hosts only (see sendPart). */
  private readonly data32: Int32Array | undefined;
  /** 1 / lineBytes when that is exact (a power of two), else 0. */
  private readonly invLineBytes: number;

  constructor(
    readonly index: number,
    readonly name: string,
    private readonly q: EventQueue,
    private readonly table: RequestTable,
    readonly cfg: PeConfig,
    stats: StatsRegistry,
    statsPath: string,
  ) {
    const w = cfg.window;
    this.wStore = new Uint8Array(w); this.wParts = new Uint8Array(w);
    this.wWait = new Uint8Array(w); this.wOk = new Uint8Array(w); this.wRet = new Uint8Array(w); this.wStatus = new Uint8Array(w); this.wOp = new Uint8Array(w);
    this.wAddr = new Float64Array(w); this.wSize = new Uint16Array(w); this.wIssued = new Float64Array(w);
    this.wBytes = new Uint8Array(w * 64);
    this.wFree = new Int32Array(w);
    this.syncSlot = new Int32Array(2 * w);
    this.syncAt = new Float64Array(2 * w);
    for (let i = 0; i < w; i++) this.wFree[i] = w - 1 - i;
    this.nFree = w;
    this.lineBytes = cfg.lineBytes;
    const td = table.data;
    this.data32 = LITTLE_ENDIAN && td.byteOffset % 4 === 0 && td.byteLength % 4 === 0 ? new Int32Array(td.buffer, td.byteOffset, td.byteLength / 4) : undefined;
    this.invLineBytes = Number.isInteger(Math.log2(cfg.lineBytes)) ? 1 / cfg.lineBytes : 0;
    this.respHandler = q.register(`${name}.response`, (id) => this.onResponse(id));
    // A step replaced by an earlier one still fires: only the one at stepAt acts (else they multiply).
    this.stepHandler = q.register(`${name}.step`, () => { if (this.q.now !== this.stepAt) return; this.stepAt = -1; this.tryIssue(); });
    const c = { unit: 'count' }, cy = { unit: 'cycles' }, by = { unit: 'bytes' };
    stats.add(statsPath, this.stats, {
      ops: { ...c, desc: 'ops executed (memory, barrier, system-register and compute)' },
      loads: { ...c, desc: 'loads issued' }, stores: { ...c, desc: 'stores issued' }, fetches: { ...c, desc: 'instruction fetches issued' },
      cmos: { ...c, desc: 'cache maintenance operations issued' },
      atomics: { ...c, desc: 'atomics, load-exclusives and store-exclusives issued' },
      barriers: { ...c, desc: 'DMB/DSB/ISB executed' }, sysRegWrites: { ...c, desc: 'system-register writes' },
      computeCycles: { ...cy, desc: 'cycles spent in compute ops' },
      bytesRead: { ...by, desc: 'bytes loaded or fetched' }, bytesWritten: { ...by, desc: 'bytes stored' },
      requests: { ...c, desc: 'memory requests sent (an access crossing a line sends two)' },
      externalAborts: { ...c, desc: 'accesses that ended in an external abort' },
      stallWindowCycles: { ...cy, desc: 'cycles stalled with the window full' },
      stallBarrierCycles: { ...cy, desc: 'cycles stalled at a DMB or DSB' },
      stallOrderingCycles: { ...cy, desc: 'cycles stalled behind an outstanding access to the same line' },
      stallBackpressureCycles: { ...cy, desc: 'cycles stalled for a link credit or a request slot' },
      finishedAt: { ...cy, desc: 'cycle at which the last op completed' },
    });
    stats.addHistogram(`${statsPath}.loadLatency`, this.loadLatency, { unit: 'cycles', desc: 'load issue to data' });
  }

  /** Gives the PE its ops and starts it at the current cycle. */
  start(source: OpSource): void {
    this.source = source;
    this.exhausted = false;
    this.finished = false;
    this.scheduleStep(this.q.now);
  }

  get isFinished(): boolean { return this.finished; }
  /** End of the compute op in progress (or an earlier cycle when none is). */
  get busyUntilCycle(): number { return this.busyUntil; }
  /** Ops retired so far, spin-wait loads excepted: the watchdog's progress measure. */
  get progress(): number { return this.stats.ops - this.spins; }
  private spins = 0;
  private lastSpinAddr = -1;

  /** For the watchdog: what this PE is waiting for. */
  describe(): string {
    if (this.finished) return `${this.name}: finished`;
    let s = this.lastSpinAddr >= 0
      ? `${this.name}: spinning on 0x${this.lastSpinAddr.toString(16)}, ${this.outstanding} outstanding`
      : `${this.name}: ${STALL_NAMES[this.stall]}, ${this.outstanding} outstanding`;
    if (this.outstanding > 0) {
      let oldest = -1;
      for (let i = 0; i < this.cfg.window; i++) if (this.wParts[i]! > 0 && (oldest < 0 || this.wIssued[i]! < this.wIssued[oldest]!)) oldest = i;
      if (oldest >= 0) s += ` (oldest: ${opName(this.wOp[oldest]!)} 0x${this.wAddr[oldest]!.toString(16)} issued at cycle ${this.wIssued[oldest]})`;
    }
    return s + (this.source ? ` [${this.source.label}]` : '');
  }

  readSysReg(reg: number): number | undefined { return this.sysRegs.get(reg); }

  private scheduleStep(at: number): void {
    if (this.stepAt !== -1 && this.stepAt <= at) return;
    this.stepAt = at;
    this.q.scheduleAt(this.stepHandler, at);
  }

  private setStall(reason: number): void {
    if (this.stall === reason) return;
    this.endStall();
    this.stall = reason;
    this.stallSince = this.q.now;
  }

  private endStall(): void {
    const d = this.q.now - this.stallSince;
    switch (this.stall) {
      case STALL_WINDOW: this.stats.stallWindowCycles += d; break;
      case STALL_BARRIER: this.stats.stallBarrierCycles += d; break;
      case STALL_ORDER: this.stats.stallOrderingCycles += d; break;
      case STALL_BACKPRESSURE: this.stats.stallBackpressureCycles += d; break;
    }
    this.stall = STALL_NONE;
  }

  /** Issues ops in program order until something stops it. Idempotent: safe to call any time. */
  private tryIssue(): void {
    if (this.syncLen > 0) this.retireSync(this.q.now);
    this.issue();
    // Parts completed on the spot still to retire: wake up for the next one.
    if (this.syncLen > 0) this.scheduleStep(this.syncAt[this.syncHead]!);
  }

  /** Retires the on-the-spot completions due by `now`, in order. */
  private retireSync(now: number): void {
    const cap = this.syncSlot.length;
    while (this.syncLen > 0) {
      const at = this.syncAt[this.syncHead]!;
      if (at > now) return;
      const w = this.syncSlot[this.syncHead]!;
      this.syncHead = this.syncHead + 1 === cap ? 0 : this.syncHead + 1;
      this.syncLen--;
      if (--this.wParts[w]! === 0) this.opDone(w, at);
    }
  }

  private issue(): void {
    const q = this.q, slot = this.slot;
    if (this.finished || this.waitingSlot >= 0) return;
    const now = q.now;
    if (now < this.busyUntil) { this.scheduleStep(this.busyUntil); return; }
    for (;;) {
      if (!this.haveOp) {
        if (this.exhausted || !this.source!.next(slot)) {
          this.exhausted = true;
          this.checkFinished();
          return;
        }
        this.haveOp = true;
      }
      if (this.lastIssueCycle !== now) { this.lastIssueCycle = now; this.issuedThisCycle = 0; }
      if (this.issuedThisCycle >= this.cfg.issueWidth) { this.scheduleStep(now + 1); return; }
      const op = slot.op;
      if (op <= OP_FETCH || op === OP_CMO || (op >= OP_ATOMIC && op <= OP_STX)) {
        if (!this.issueMemory()) return;
        if (this.waitingSlot >= 0) return;
        continue;
      }
      switch (op) {
        case OP_COMPUTE: {
          this.consume();
          this.stats.computeCycles += slot.addr;
          this.busyUntil = now + slot.addr;
          if (slot.addr > 0) { this.scheduleStep(this.busyUntil); return; }
          continue;
        }
        case OP_DSB:
          if (this.outstanding > 0) { this.setStall(STALL_BARRIER); return; }
          this.stats.barriers++; this.consume(); continue;
        case OP_DMB:
          this.stats.barriers++; this.consume();
          if (this.outstanding > 0) this.dmbPending = true;
          continue;
        case OP_ISB:
          // Context synchronization: system-register writes made earlier take effect now.
          for (const [r, v] of this.pendingSysRegs) this.sysRegs.set(r, v);
          this.pendingSysRegs.length = 0;
          this.stats.barriers++; this.consume();
          this.busyUntil = now + this.cfg.isbCycles;
          if (this.cfg.isbCycles > 0) { this.scheduleStep(this.busyUntil); return; }
          continue;
        case OP_SYSREG:
          this.pendingSysRegs.push([slot.addr, slot.valueLo + slot.valueHi * 4294967296]);
          this.stats.sysRegWrites++; this.consume(); continue;
        case OP_CLREX:
          this.clearExclusive?.();
          this.consume(); continue;
        case OP_SYSREG_READ: {
          const reg = slot.addr;
          const v = this.readSysRegister?.(reg, (r) => this.sysRegs.get(r)) ?? this.sysRegs.get(reg) ?? 0;
          const wait = slot.wait;
          this.consume();
          if (wait) {
            const lo = v % 4294967296, hi = Math.floor(v / 4294967296);
            this.source!.deliver({ ok: true, fault: undefined, bytes: new Uint8Array(0), value: v, valueLo: lo, valueHi: hi, cycle: now });
          }
          continue;
        }
        default:
          throw new RangeError(`${this.name}: unknown op code ${op}`);
      }
    }
  }

  private consume(): void {
    this.haveOp = false;
    this.stats.ops++;
    this.issuedThisCycle++;
    if (this.stall !== STALL_NONE) this.endStall();
  }

  /** Tries to issue the memory op in `slot`; false if it must wait (the reason is recorded). */
  private issueMemory(): boolean {
    const slot = this.slot, table = this.table, now = this.q.now;
    if (this.dmbPending) {
      if (this.outstanding > 0) { this.setStall(STALL_BARRIER); return false; }
      this.dmbPending = false;
    }
    // Release semantics (STLR, LDADDL, STLXR): earlier accesses complete first.
    if (slot.release && this.outstanding > 0) { this.setStall(STALL_BARRIER); return false; }
    if (this.nFree === 0) { this.setStall(STALL_WINDOW); return false; }
    const op = slot.op;
    const isCmo = op === OP_CMO;
    const isRmw = op >= OP_ATOMIC;                 // atomics and exclusives: one request, never split
    // Maintenance by address is ordered like a store to its line (or DC ZVA block); by set/way it
    // names no bytes. Atomics and exclusives order like stores too.
    const isStore = op === OP_STORE || isCmo || op === OP_ATOMIC || op === OP_STX;
    const lb = this.lineBytes;
    let addr = slot.addr, size = slot.size;
    if (isCmo) {
      if (cmoIsByVa(slot.aux)) {
        const blk = slot.aux === CMO_ZVA ? (this.cfg.zvaBytes ?? lb) : lb;
        addr = Math.floor(addr / blk) * blk; size = blk;
      } else size = 0;
    }
    const line = this.invLineBytes !== 0 ? Math.floor(addr * this.invLineBytes) : Math.floor(addr / lb);
    const lastLine = this.invLineBytes !== 0 ? Math.floor((addr + size - 1) * this.invLineBytes) : Math.floor((addr + size - 1) / lb);
    // Same-address ordering: an access waits for an outstanding one whose bytes it overlaps when
    // either is a store (no store-to-load forwarding is modelled). Accesses to other bytes of the
    // same line go ahead: the home node and the targets keep one agent's same-line requests in order.
    // Per-granule counters rule most accesses in without a scan of the window.
    const b0 = firstBucket(addr), ng = size === 0 ? 0 : granulesTouched(addr, size);
    let maybe = false;
    if (this.outstanding > 0) {
      const counts = isStore ? this.anyByBucket : this.storesByBucket;
      for (let k = 0; k < ng; k++) if (counts[(b0 + k) & (ORDER_BUCKETS - 1)]! > 0) { maybe = true; break; }
    }
    if (maybe) {
      const end = addr + size;
      for (let i = 0; i < this.cfg.window; i++) {
        if (this.wParts[i] === 0 || this.wSize[i] === 0) continue;
        const a0 = this.wAddr[i]!;
        if (a0 < end && addr < a0 + this.wSize[i]! && (isStore || this.wStore[i] === 1)) { this.blockedOn = i; this.setStall(STALL_ORDER); return false; }
      }
    }
    const parts = lastLine === line || isCmo || isRmw ? 1 : 2;
    const link = this.memLink!;
    if (link.available < parts || table.inUse + parts > table.capacity) {
      if (link.available < parts) link.onCredit = this.onCreditFn;
      this.setStall(STALL_BACKPRESSURE);
      if (table.inUse + parts > table.capacity) this.scheduleStep(now + 1);
      return false;
    }
    const w = this.wFree[--this.nFree]!;
    this.wStore[w] = isStore ? 1 : 0; this.wParts[w] = parts;
    this.wWait[w] = slot.wait ? 1 : 0; this.wOk[w] = 1; this.wOp[w] = op; this.wStatus[w] = STATUS_OK;
    this.wRet[w] = op === OP_LOAD || op === OP_FETCH || isRmw ? 1 : 0;
    this.wAddr[w] = addr; this.wSize[w] = size; this.wIssued[w] = now;
    this.outstanding++;
    this.countGranules(b0, ng, isStore, 1);
    if (isCmo) {
      this.sendCmo(w, addr, size);
    } else if (isRmw) {
      this.sendRmw(w, op);
    } else {
      const kind = slot.op === OP_LOAD ? REQ_READ : isStore ? REQ_WRITE : REQ_FETCH;
      const firstLen = parts === 1 ? size : (line + 1) * lb - addr;
      this.sendPart(w, kind, firstLen, 0);
      if (parts === 2) this.sendPart(w, kind, size - firstLen, firstLen);
    }
    if (slot.acquire) this.dmbPending = true;    // acquire: later accesses wait for this one
    if (isCmo) this.stats.cmos++;
    else if (isRmw) this.stats.atomics++;
    else if (isStore) { this.stats.stores++; this.stats.bytesWritten += size; }
    else if (slot.op === OP_LOAD) { this.stats.loads++; this.stats.bytesRead += size; }
    else { this.stats.fetches++; this.stats.bytesRead += size; }
    if (slot.wait) this.waitingSlot = w;
    if (slot.spin) { this.spins++; this.lastSpinAddr = addr; } else this.lastSpinAddr = -1;
    this.consume();
    return true;
  }

  /** Adds `delta` to the counters of `n` granules from bucket `b0` (see issueMemory). */
  private countGranules(b0: number, n: number, isStore: boolean, delta: number): void {
    for (let k = 0; k < n; k++) {
      const b = (b0 + k) & (ORDER_BUCKETS - 1);
      this.anyByBucket[b]! += delta;
      if (isStore) this.storesByBucket[b]! += delta;
    }
  }

  private readonly onCreditFn = (): void => { this.memLink!.onCredit = undefined; this.tryIssue(); };

  /**
   * Sends the part of the op in `slot` that starts `opOffset` bytes into it. Addresses are not
   * passed as arguments here: a double that large is boxed (allocated) when the call is not inlined.
   */
  private sendPart(w: number, kind: ReqKind, len: number, opOffset: number): void {
    const table = this.table, slot = this.slot;
    const id = table.alloc(kind, 0, len, slot.attrs, this.index, this.q.now);
    table.addr[id] = opOffset === 0 ? slot.addr : slot.addr + opOffset;   // what alloc would store
    table.tag[id] = w * 64 + opOffset;     // window slot and byte offset of this part in the op
    if (kind === REQ_WRITE) this.fillStoreData(id, len, opOffset);
    this.stats.requests++;
    this.memLink!.trySend(id);
    this.tookOnTheSpot(id);
  }

  /** Sends a maintenance request covering [addr, addr + size) (size 0: set/way or all). */
  private sendCmo(w: number, addr: number, size: number): void {
    const table = this.table, slot = this.slot;
    const id = table.alloc(REQ_CMO, 0, size, slot.attrs, this.index, this.q.now);
    table.addr[id] = addr;
    table.aux[id] = slot.aux;
    table.tag[id] = w * 64;
    this.stats.requests++;
    this.memLink!.trySend(id);
    this.tookOnTheSpot(id);
  }

  /**
   * Sends an atomic (data: operand at 0, CAS compare value at 8), a load-exclusive or a
   * store-exclusive (data: the value) as one request; the response carries the old value, or
   * for a store-exclusive its status (0 done, 1 failed).
   */
  private sendRmw(w: number, op: number): void {
    const table = this.table, slot = this.slot;
    const kind = op === OP_ATOMIC ? REQ_ATOMIC : op === OP_LDX ? REQ_READ : REQ_WRITE;
    const id = table.alloc(kind, 0, slot.size, slot.attrs, this.index, this.q.now);
    table.addr[id] = slot.addr;
    table.aux[id] = slot.aux;
    table.tag[id] = w * 64;
    if (op !== OP_ATOMIC) table.flags[id] = REQ_FLAG_EXCLUSIVE;
    if (op !== OP_LDX) this.fillStoreData(id, slot.size, 0);
    if (op === OP_ATOMIC) {
      const d = table.data, off = table.dataOffset(id) + 8;
      for (let k = 0; k < 8; k++) d[off + k] = k < 4 ? (slot.cmpLo >>> (8 * k)) & 0xff : (slot.cmpHi >>> (8 * (k - 4))) & 0xff;
    }
    this.stats.requests++;
    this.memLink!.trySend(id);
    this.tookOnTheSpot(id);
  }

  /** Writes the bytes a store part carries into request `id`'s data slice. */
  private fillStoreData(id: number, len: number, opOffset: number): void {
    const table = this.table, slot = this.slot;
    const d = table.data, off = table.dataOffset(id);
    const bytes = slot.bytes;
    if (bytes !== undefined) d.set(bytes.subarray(opOffset, opOffset + len), off);
    else if (this.data32 !== undefined && (opOffset & 3) === 0 && (len & 3) === 0 && (off & 3) === 0) {
      // Whole words (offsets are small integers): on a little-endian host the value's 8 bytes
      // are the words lo, hi, repeating from the op's start, so this writes the same bytes.
      const d32 = this.data32, w0 = off >>> 2, k0 = opOffset >>> 2, lo = slot.valueLo, hi = slot.valueHi;
      for (let k = 0, n = len >>> 2; k < n; k++) d32[w0 + k] = ((k0 + k) & 1) === 0 ? lo : hi;
    } else {
      const lo = slot.valueLo, hi = slot.valueHi;
      for (let k = 0; k < len; k++) {
        const b = (opOffset + k) & 7;
        d[off + k] = b < 4 ? (lo >>> (8 * b)) & 0xff : (hi >>> (8 * (b - 4))) & 0xff;
      }
    }
  }

  /**
   * After a trySend: if the memory system completed request `id` on the spot, take its result now
   * and retire the part when its cycle comes (FIFO order; a completion earlier than the FIFO's
   * last one takes the ordinary response path instead, so the FIFO stays sorted).
   */
  private tookOnTheSpot(id: number): void {
    const at = this.memLink!.completedAt;
    if (at === undefined || at < 0) return;
    const cap = this.syncSlot.length;
    if (this.syncLen === cap || (this.syncLen > 0 && at < this.syncAt[(this.syncHead + this.syncLen - 1) % cap]!)) {
      this.q.schedule(this.respHandler, at - this.q.now, id);
      return;
    }
    const w = this.takeResult(id);
    const i = (this.syncHead + this.syncLen) % cap;
    this.syncSlot[i] = w; this.syncAt[i] = at;
    this.syncLen++;
  }

  /** Takes request `id`'s status and data into its window slot and frees the id; returns the slot. */
  private takeResult(id: number): number {
    const table = this.table;
    const tag = table.tag[id]!;
    const w = tag >>> 6, opOffset = tag & 63;    // tag = slot * 64 + offset, small
    if (table.status[id] !== STATUS_OK) { if (this.wOk[w] === 1) this.wStatus[w] = table.status[id]!; this.wOk[w] = 0; }
    if (this.wWait[w] === 1 && this.wRet[w] === 1) {
      this.wBytes.set(table.data.subarray(table.dataOffset(id), table.dataOffset(id) + table.size[id]!), w * 64 + opOffset);
    }
    table.release(id);
    return w;
  }

  private onResponse(id: number): void {
    if (this.syncLen > 0) this.retireSync(this.q.now);
    const w = this.takeResult(id);
    if (--this.wParts[w]! > 0) return;
    this.opDone(w, this.q.now);
    if (this.exhausted && !this.haveOp) { this.checkFinished(); if (this.syncLen > 0) this.scheduleStep(this.syncAt[this.syncHead]!); return; }
    // Retry the issue only if this completion can unblock it (a rescan per response is O(window)).
    if (this.stall === STALL_ORDER && this.blockedOn !== w) return;
    if (this.stall === STALL_BARRIER && this.outstanding > 0) return;
    this.tryIssue();
  }

  /** The op in window slot `w` has completed at cycle `at`. */
  private opDone(w: number, at: number): void {
    const now = at;
    const op = this.wOp[w]!;
    if (op === OP_LOAD) this.loadLatency.record(now - this.wIssued[w]!);
    if (this.wOk[w] === 0) this.stats.externalAborts++;
    this.outstanding--;
    const wa = this.wAddr[w]!, ws = this.wSize[w]!;
    if (ws > 0) this.countGranules(firstBucket(wa), granulesTouched(wa, ws), this.wStore[w] === 1, -1);
    this.wFree[this.nFree++] = w;
    if (this.waitingSlot === w) {
      this.waitingSlot = -1;
      this.source!.deliver(this.resultOf(w, at));
    }
    if (this.outstanding === 0) this.dmbPending = false;
  }

  private resultOf(w: number, at: number): OpResult {
    const ok = this.wOk[w] === 1;
    const size = this.wSize[w]!;
    const isLoad = this.wRet[w] === 1;
    const n = this.wOp[w] === OP_STX ? 1 : size;        // a store-exclusive returns its status byte
    const bytes = isLoad && ok ? this.wBytes.slice(w * 64, w * 64 + n) : new Uint8Array(0);
    let lo = 0, hi = 0;
    for (let k = Math.min(bytes.length, 8) - 1; k >= 0; k--) {
      if (k >= 4) hi = hi * 256 + bytes[k]!; else lo = lo * 256 + bytes[k]!;
    }
    const st = this.wStatus[w]!;
    const fault = ok ? undefined : st === ReqStatus.Unsupported ? 'unsupported-atomic' : st === ReqStatus.Alignment ? 'alignment' : 'external-abort';
    return { ok, fault, bytes, value: lo + hi * 4294967296, valueLo: lo, valueHi: hi, cycle: at };
  }

  private checkFinished(): void {
    if (this.finished || this.outstanding > 0 || this.haveOp) return;
    this.finished = true;
    this.endStall();
    this.stats.finishedAt = this.q.now;
    this.onFinish?.();
  }
}

function opName(op: number): string { return OP_NAMES[op] ?? `op${op}`; }
