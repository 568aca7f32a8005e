import { Histogram, REQ_FLAG_EXCLUSIVE, REQ_FLAG_NO_DATA, ReqKind, ReqStatus, type EventQueue, type RequestPort, type RequestTable, type StatsRegistry } from '../sim/index.js';
import { AccessType, TlbiOp, TR_HIT, TR_WALK, hpfarEl2, type PeMmu } from '../mmu/index.js';
import type { Timeline, TimelineArgs, TimelineTrack } from '../sim/index.js';
import { AtomicOp, CMO_NAMES, CmoOp, OP_NAMES, OpCode, cmoIsByVa } from './ops.js';
import { OpSlot, type Fault, type MmuSyndrome, type OpResult, type OpSource } from './op-source.js';

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
  /** Cycles an exception entry or return costs. */
  exceptionCycles?: number;
  /** FEAT_LSE: false makes LSE atomics UNDEFINED (an ARMv8.0 PE); absent = true. */
  lse?: boolean;
  /** FEAT_DPB: false makes DC CVAP UNDEFINED (before ARMv8.2); absent = true. */
  dpb?: boolean;
  /** FEAT_LSE2: an LSE atomic inside a 16-byte block need not be aligned (Normal memory); absent = false. */
  lse2?: boolean;
}

/**
 * S3_0_C0_C6_0 and S3_0_C0_C6_1, ID_AA64ISAR0_EL1 and ID_AA64ISAR1_EL1 (as `sysRegId` numbers
 * them): the PE answers reads of them itself. Only the fields of the features it models are set;
 * the others (AES, SHA, CRC32, pointer authentication, ...) describe instructions the simulator
 * does not model and read as 0.
 */
export const ID_AA64ISAR0_EL1 = 0xc030, ID_AA64ISAR1_EL1 = 0xc031;
/** ID_AA64ISAR0_EL1.Atomic, bits [23:20] = 0b0010: FEAT_LSE. */
export const ISAR0_ATOMIC_LSE = 2 << 20;
/** ID_AA64ISAR1_EL1.DPB, bits [3:0] = 0b0001: FEAT_DPB (DC CVAP). */
export const ISAR1_DPB_CVAP = 1;

/**
 * What a stage-2 fault handler (the hypervisor model, or a scenario) decides: `retry` re-executes
 * the access (the handler mapped the page), `deliver` gives the fault to the program.
 */
export type Stage2Resolution = 'retry' | 'deliver' | Stage2Emulation;
/**
 * The hypervisor emulated the access (an MMIO trap): the op completes without touching memory; a
 * load returns `bytes` (zero-filled to the access size). A store's data is what
 * `Pe.faultingAccess()` showed the handler.
 */
export interface Stage2Emulation { readonly emulate: true; readonly bytes?: Uint8Array }
/**
 * Called on a stage-2 fault with its syndrome; the PE stalls until `resume` is called (at any later
 * cycle: the handler's own cost is its to model).
 */
export type Stage2FaultHandler = (pe: Pe, syndrome: MmuSyndrome, resume: (r: Stage2Resolution) => void) => void;

class PeStats {
  ops = 0; loads = 0; stores = 0; fetches = 0; cmos = 0; atomics = 0; barriers = 0; sysRegWrites = 0;
  computeCycles = 0; bytesRead = 0; bytesWritten = 0; requests = 0; externalAborts = 0;
  stallWindowCycles = 0; stallBarrierCycles = 0; stallOrderingCycles = 0; stallBackpressureCycles = 0;
  stallWalkCycles = 0; stallFaultCycles = 0; stallResultCycles = 0; mmuFaults = 0; exceptionLevelChanges = 0; tlbis = 0;
  undefinedInstructions = 0;
  finishedAt = 0;
}

/** Outstanding accesses are counted per 8-byte granule, hashed into this many buckets. */
const ORDER_BUCKETS = 4096;
/**
 * The bucket of the granule holding `addr`: floor(addr / 8) mod 4096. For an integer addr below
 * 2^53, `addr >>> 3` is floor((addr mod 2^32) / 8), and 2^32 is a multiple of 8 * 4096, so the
 * 32-bit truncation drops nothing the bucket depends on (no float division or floor needed).
 */
const firstBucket = (addr: number): number => (addr >>> 3) & (ORDER_BUCKETS - 1);
/**
 * Granules [addr, addr + size) touches, for size >= 1: floor((addr mod 8 + size - 1) / 8) + 1,
 * which is floor((addr + size - 1) / 8) - floor(addr / 8) + 1. `addr & 7` is addr mod 8 (exact,
 * as above).
 */
const granulesTouched = (addr: number, size: number): number => ((addr & 7) + size + 7) >>> 3;

// Module-level copies of imported constants: V8 compiles these as immediates, but reads a
// property of the imported object (with a map check) at every use.
const OP_LOAD: number = OpCode.Load, OP_STORE: number = OpCode.Store, OP_FETCH: number = OpCode.Fetch;
const OP_DMB: number = OpCode.Dmb, OP_DSB: number = OpCode.Dsb, OP_ISB: number = OpCode.Isb;
const OP_SYSREG: number = OpCode.SysRegWrite, OP_COMPUTE: number = OpCode.Compute;
const OP_CMO: number = OpCode.Cmo, OP_SYSREG_READ: number = OpCode.SysRegRead;
const OP_ATOMIC: number = OpCode.Atomic, OP_LDX: number = OpCode.LoadExclusive, OP_STX: number = OpCode.StoreExclusive, OP_CLREX: number = OpCode.Clrex;
const REQ_ATOMIC: ReqKind = ReqKind.Atomic;
const REQ_READ: ReqKind = ReqKind.Read, REQ_WRITE: ReqKind = ReqKind.Write, REQ_FETCH: ReqKind = ReqKind.Fetch, REQ_CMO: ReqKind = ReqKind.Cmo;
const CMO_ZVA: number = CmoOp.DC_ZVA, CMO_CVAP: number = CmoOp.DC_CVAP;
const STATUS_OK: number = ReqStatus.Ok;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const STALL_NONE = 0, STALL_WINDOW = 1, STALL_BARRIER = 2, STALL_ORDER = 3, STALL_BACKPRESSURE = 4, STALL_WAIT = 5, STALL_WALK = 6, STALL_FAULT = 7;
const STALL_NAMES = ['running', 'window full', 'barrier', 'same-address ordering', 'backpressure', 'waiting for a result', 'translation table walk', 'stage-2 fault handler'];
const OP_EL: number = OpCode.ExceptionLevel, OP_TLBI: number = OpCode.Tlbi;
/** The request tag of a walk's descriptor read (window tags are slot * 64 + offset, below this). */
const WALK_TAG = 0x7fffff00;
/** translateOp outcomes: translated (opPa/opAttrs set), waiting (walk, L2 TLB, fault handler), faulted (op consumed). */
const XL_OK = 0, XL_STALL = 1, XL_FAULTED = 2;
/** microHit: not a micro-TLB hit (take the long way). */
const XL_NONE = -1;
const CMO_IVAC: number = CmoOp.DC_IVAC;
const FAULT_NAMES: readonly Fault[] = ['address-size', 'translation', 'access-flag', 'permission', 'walk-external-abort', 'walk-external-abort'];

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
  /** Event: a part of window slot `w` completed (for parts done on the spot out of FIFO order). */
  private readonly partHandler: number;
  /** A store's bytes for tryHit, and as words. */
  private readonly hitBuf = new Uint8Array(64);
  private readonly hitBuf32 = LITTLE_ENDIAN ? new Int32Array(this.hitBuf.buffer) : undefined;
  /** tryHit's address and attributes (see RequestPort.tryHit). */
  private readonly hitAt = new Float64Array(2);
  /** Called once when the PE has run out of ops and every op has completed. */
  onFinish: (() => void) | undefined = undefined;
  /**
   * Reads a system register the platform derives (ID registers), given the PE's written
   * registers (CSSELR_EL1 selects CCSIDR_EL1); undefined = not implemented (reads as 0).
   */
  readSysRegister: ((reg: number, written: (reg: number) => number | undefined) => number | undefined) | undefined = undefined;
  /** CLREX: clears this PE's local exclusive monitor (it lives with the caches). */
  clearExclusive: (() => void) | undefined = undefined;
  /**
   * The MMU: when set, every access's address is a VA translated through it (TLBs, walks timed
   * through the caches, faults). Unset: addresses are physical and attributes come with the op.
   */
  mmu: PeMmu | undefined = undefined;
  /** Stage-2 faults go here (the hypervisor model); without a handler the program gets the fault. */
  stage2Handler: Stage2FaultHandler | undefined = undefined;
  /** The syndrome of the last MMU fault this PE took. */
  lastFault: MmuSyndrome | undefined = undefined;
  /**
   * The run's timeline while it records (`setTimeline`). Hot paths test only this field; the
   * recording state below is allocated by `setTimeline`, never in a run without one.
   */
  timeline: Timeline | undefined = undefined;
  private tl: PeTimelineState | undefined = undefined;

  /**
   * Records this PE on `tl`: process `name` with a track of its own (stage-2 fault handling, DSBs
   * completing TLBIs), `walks` (translation table walks) and one lane per window slot (`ops k`:
   * every memory op and cache maintenance operation from issue to completion; ops in one slot
   * never overlap, so spans on a lane nest).
   */
  setTimeline(tl: Timeline): void {
    const w = this.cfg.window;
    this.tl = {
      lanes: new Array<TimelineTrack | undefined>(w + 2).fill(undefined),
      va: new Float64Array(w), top: new Uint16Array(w), aux: new Uint8Array(w), el: new Uint8Array(w),
      walkReads: 0, faultAt: -1, faultNote: undefined, dsbSince: -1, tlbis: [],
    };
    this.timeline = tl;
  }

  /**
   * What a stage-2 fault handler decided, added to the arguments of the fault's span (the handler
   * calls this before `resume`). Does nothing without a timeline.
   */
  noteFault(args: TimelineArgs): void {
    if (this.tl === undefined || this.tl.faultAt < 0) return;
    this.tl.faultNote = { ...this.tl.faultNote, ...args };
  }

  /**
   * The access a stage-2 fault handler is handling (valid while the PE is stalled on the fault): its
   * size, whether it writes, and for stores the bytes it would write (what KVM reads from the
   * register ESR.SRT names, to emulate MMIO).
   */
  faultingAccess(): { write: boolean; size: number; data: Uint8Array } {
    const slot = this.slot;
    const write = slot.op === OP_STORE || slot.op === OP_STX;
    const data = new Uint8Array(write ? slot.size : 0);
    if (write) {
      if (slot.bytes !== undefined) data.set(slot.bytes.subarray(0, slot.size));
      else for (let k = 0; k < slot.size; k++) { const b = k & 7; data[k] = b < 4 ? (slot.valueLo >>> (8 * b)) & 0xff : (slot.valueHi >>> (8 * (b - 4))) & 0xff; }
    }
    return { write, size: slot.size, data };
  }

  /**
   * Runs `src` on this PE at EL2 as the handler of the stage-2 fault it is stalled on (call from a
   * Stage2FaultHandler): exception entry, the handler's ops (real loads, stores, DC and TLBI ops
   * with their real cost), then, once they have all completed, exception return to the guest and
   * `done` (which typically calls the handler's `resume`). The faulting op stays pending.
   */
  runHandler(src: OpSource, done: () => void): void {
    if (!this.faultWaiting || this.handler !== undefined) throw new Error(`${this.name}: runHandler outside a stage-2 fault handler`);
    const saved = new OpSlot();
    Object.assign(saved, this.slot);
    this.handler = { source: this.source!, slot: saved, el: this.el, done };
    this.source = src;
    this.slot.constantsFrom = undefined;    // the handler's source fills the slot now
    this.haveOp = false;
    this.exhausted = false;
    this.faultWaiting = false;
    if (this.stall === STALL_FAULT) this.endStall();
    this.enterEl(2);
    this.scheduleStep(this.busyUntil > this.q.now ? this.busyUntil : this.q.now);
  }

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
  /** The FIFO's capacity - 1: a power of two >= 2 * window (two parts per op at most, so it never fills). */
  private readonly syncMask: number;
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
  /** MSRs not yet in effect: register, value bits [31:0], bits [63:32]. */
  private readonly pendingSysRegs: [number, number, number][] = [];
  private el = 1;
  // The current memory op after translation (fields, not arguments: see sendPart).
  private opPa = 0;
  private opAttrs = 0;
  /** PA of the part that starts on the next page when the access crosses a page, else -1. */
  private opPa2 = -1;
  // The translation table walk in progress (one at a time; the op waiting for it stays in the slot).
  private walking = false;
  /** Its read could not be sent (no credit or request slot): retry from tryIssue. */
  private walkBlocked = false;
  /** Cycle at which the pending read's data (taken on the spot) arrives, or -1. */
  private walkReadyAt = -1;
  private walkLo = 0;
  private walkHi = 0;
  private walkOk = true;
  private walkVa = 0;
  private walkTop = 0;
  private walkAccess: AccessType = AccessType.Read;
  private walkStartedAt = 0;
  /** A stage-2 fault handler program running on this PE: what to restore when it ends. */
  private handler: { source: OpSource; slot: OpSlot; el: number; done: () => void } | undefined = undefined;
  /** The walk is being started by translateOne (an end now is not an asynchronous end). */
  private walkStarting = false;
  /** The walk ended in a fault that the op in the slot takes when it retries. */
  private walkFaultPending = false;
  /** A stage-2 fault handler has the PE until it resumes; then the resolution waits here. */
  private faultWaiting = false;
  private faultResolution: Stage2Resolution | undefined = undefined;
  private faultSyndrome: MmuSyndrome | undefined = undefined;
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
    const syncCap = 2 ** Math.ceil(Math.log2(2 * w));
    this.syncSlot = new Int32Array(syncCap);
    this.syncAt = new Float64Array(syncCap);
    this.syncMask = syncCap - 1;
    for (let i = 0; i < w; i++) this.wFree[i] = w - 1 - i;
    this.nFree = w;
    this.lineBytes = cfg.lineBytes;
    const td = table.data;
    this.data32 = LITTLE_ENDIAN && td.byteOffset % 4 === 0 && td.byteLength % 4 === 0 ? new Int32Array(td.buffer, td.byteOffset, td.byteLength / 4) : undefined;
    this.invLineBytes = Number.isInteger(Math.log2(cfg.lineBytes)) ? 1 / cfg.lineBytes : 0;
    this.respHandler = q.register(`${name}.response`, (id) => this.onResponse(id));
    this.partHandler = q.register(`${name}.part-done`, (w) => this.partDone(w));
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
      stallBackpressureCycles: { ...cy, desc: 'cycles stalled for a link credit, a request slot, or a free MSHR or write-back buffer entry in the caches' },
      stallWalkCycles: { ...cy, desc: 'cycles stalled for a translation table walk or an L2 TLB hit' },
      stallFaultCycles: { ...cy, desc: 'cycles stalled while a stage-2 fault handler ran' },
      stallResultCycles: { ...cy, desc: 'cycles stalled waiting for the result of an access the program needs before it goes on (a dependent load)' },
      mmuFaults: { ...c, desc: 'accesses that ended in an MMU fault (taken by the program or a handler)' },
      exceptionLevelChanges: { ...c, desc: 'exception entries and returns' },
      tlbis: { ...c, desc: 'TLB maintenance operations issued' },
      undefinedInstructions: { ...c, desc: 'ops that took an Undefined Instruction exception (LSE atomics without FEAT_LSE, DC CVAP without FEAT_DPB)' },
      finishedAt: { ...cy, desc: 'cycle at which the last op completed' },
    });
    stats.addHistogram(`${statsPath}.loadLatency`, this.loadLatency, { unit: 'cycles', desc: 'load issue to data' });
  }

  /** Gives the PE its ops and starts it at the current cycle. */
  start(source: OpSource): void {
    this.source = source;
    this.slot.constantsFrom = undefined;    // a new source fills the slot (see OpSlot.constantsFrom)
    this.exhausted = false;
    this.finished = false;
    this.scheduleStep(this.q.now);
  }

  get isFinished(): boolean { return this.finished; }
  /** The simulated cycle now (for models that run beside the PE, such as a fault handler). */
  get currentCycle(): number { return this.q.now; }
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
    // Usually the last thing a step schedules, and the next event of all: then the queue runs it
    // without storing it (scheduleLast).
    this.q.scheduleLast(this.stepHandler, at);
  }

  private setStall(reason: number): void {
    if (this.stall === reason) return;
    this.endStall();
    this.stall = reason;
    this.stallSince = this.q.now;
  }

  /** Ends the current stall at `end` (now unless a result arrived earlier: retireSync). */
  private endStall(end = this.q.now): void {
    const d = end - this.stallSince;
    switch (this.stall) {
      case STALL_WINDOW: this.stats.stallWindowCycles += d; break;
      case STALL_BARRIER: this.stats.stallBarrierCycles += d; break;
      case STALL_ORDER: this.stats.stallOrderingCycles += d; break;
      case STALL_BACKPRESSURE: this.stats.stallBackpressureCycles += d; break;
      case STALL_WALK: this.stats.stallWalkCycles += d; break;
      case STALL_FAULT: this.stats.stallFaultCycles += d; break;
      case STALL_WAIT: this.stats.stallResultCycles += d; break;
    }
    this.stall = STALL_NONE;
  }

  /** Issues ops in program order until something stops it. Idempotent: safe to call any time. */
  private tryIssue(): void {
    if (this.syncLen > 0) this.retireSync(this.q.now);
    if (this.walking) {
      if (this.walkReadyAt >= 0 && this.q.now >= this.walkReadyAt) { this.walkReadyAt = -1; this.walkAdvance(); }
      else if (this.walkBlocked) { this.walkBlocked = false; this.walkStep(); }
    }
    this.issue();
    // Parts completed on the spot still to retire: wake up for the next one.
    if (this.syncLen > 0) this.scheduleStep(this.syncAt[this.syncHead]!);
    if (this.walkReadyAt >= 0) this.scheduleStep(this.walkReadyAt);
  }

  /** Retires the on-the-spot completions due by `now`, in order. */
  private retireSync(now: number): void {
    while (this.syncLen > 0) {
      const at = this.syncAt[this.syncHead]!;
      if (at > now) return;
      const w = this.syncSlot[this.syncHead]!;
      this.syncHead = (this.syncHead + 1) & this.syncMask;
      this.syncLen--;
      if (--this.wParts[w]! === 0) this.opDone(w, at);
    }
  }

  private issue(): void {
    const q = this.q, slot = this.slot;
    if (this.finished || this.waitingSlot >= 0 || this.walking || this.faultWaiting) return;
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
      if (op <= OP_FETCH && !slot.acquire && !slot.release) {
        if (!this.issuePlain()) return;
        if (this.waitingSlot >= 0) return;
        continue;
      }
      if ((op === OP_ATOMIC && this.cfg.lse === false) || (op === OP_CMO && slot.aux === CMO_CVAP && this.cfg.dpb === false)) {
        this.undefinedInstruction();
        if (this.waitingSlot >= 0) return;
        continue;
      }
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
          if (this.outstanding > 0) {
            if (this.timeline !== undefined && this.tl!.dsbSince < 0) this.tl!.dsbSince = now;
            this.setStall(STALL_BARRIER); return;
          }
          this.stats.barriers++; this.consume();
          if (this.mmu !== undefined && this.mmu.hasPendingTlbi) {
            // The DSB completes the TLBIs before it, here and (IS forms) on every PE of the domain.
            this.busyUntil = now + this.mmu.completeTlbis();
            if (this.timeline !== undefined) this.traceDsb(now, this.busyUntil);
            if (this.busyUntil > now) { this.scheduleStep(this.busyUntil); return; }
          } else if (this.timeline !== undefined) this.traceDsb(now, now);
          continue;
        case OP_DMB:
          this.stats.barriers++; this.consume();
          if (this.outstanding > 0) this.dmbPending = true;
          continue;
        case OP_ISB:
          this.contextSync();
          this.stats.barriers++; this.consume();
          this.busyUntil = now + this.cfg.isbCycles;
          if (this.cfg.isbCycles > 0) { this.scheduleStep(this.busyUntil); return; }
          continue;
        case OP_SYSREG:
          this.pendingSysRegs.push([slot.addr, slot.valueLo >>> 0, slot.valueHi >>> 0]);
          this.stats.sysRegWrites++; this.consume(); continue;
        case OP_EL: {
          // Exception entry or return: a context synchronization event; a return clears the local
          // monitor (Arm ARM B2.9.5 "Clearing the local monitor"; AArch64.ExceptionReturn).
          const to = slot.addr;
          if (!(to === 0 || to === 1 || to === 2)) throw new RangeError(`${this.name}: exception level ${to} (0, 1 or 2 expected)`);
          this.consume();
          this.enterEl(to);
          if (this.busyUntil > now) { this.scheduleStep(this.busyUntil); return; }
          continue;
        }
        case OP_TLBI:
          // Queued until this PE's next DSB (the latest an implementation may complete it): until
          // then the old translations stay usable, as the architecture allows.
          this.mmu?.queueTlbi(slot.aux, slot.addr, slot.vaTop, slot.valueLo & 0xffff);
          if (this.timeline !== undefined) this.tl!.tlbis.push(`TLBI ${TLBI_OP_NAMES.get(slot.aux) ?? `op${slot.aux}`}${slot.addr !== 0 ? ` 0x${slot.addr.toString(16)}` : ''}`);
          this.stats.tlbis++; this.consume(); continue;
        case OP_CLREX:
          this.clearExclusive?.();
          this.consume(); continue;
        case OP_SYSREG_READ: {
          const reg = slot.addr;
          let lo: number, hi: number;
          if (this.mmu !== undefined && this.mmu.owns(reg)) ({ lo, hi } = this.mmu.read(reg));
          else if (reg === ID_AA64ISAR0_EL1) { lo = this.cfg.lse === false ? 0 : ISAR0_ATOMIC_LSE; hi = 0; }
          else if (reg === ID_AA64ISAR1_EL1) { lo = this.cfg.dpb === false ? 0 : ISAR1_DPB_CVAP; hi = 0; }
          else {
            const v = this.readSysRegister?.(reg, (r) => this.sysRegs.get(r)) ?? this.sysRegs.get(reg) ?? 0;
            lo = v % 4294967296; hi = Math.floor(v / 4294967296);
          }
          const wait = slot.wait;
          this.consume();
          if (wait) this.source!.deliver({ ok: true, fault: undefined, bytes: new Uint8Array(0), value: lo + hi * 4294967296, valueLo: lo, valueHi: hi, cycle: now });
          continue;
        }
        default:
          throw new RangeError(`${this.name}: unknown op code ${op}`);
      }
    }
  }

  /** Exception entry or return to `to`: context synchronization, monitor clear on return, its cost. */
  private enterEl(to: number): void {
    this.contextSync();
    if (to < this.el) this.clearExclusive?.();
    this.el = to;
    this.mmu?.setEl(to as 0 | 1 | 2);
    this.stats.exceptionLevelChanges++;
    this.busyUntil = this.q.now + (this.cfg.exceptionCycles ?? 0);
  }

  /** The handler program has run out and all its ops completed: return to the guest. */
  private endHandler(): void {
    const h = this.handler!;
    this.handler = undefined;
    this.source = h.source;
    Object.assign(this.slot, h.slot);
    this.haveOp = true;
    this.exhausted = false;
    this.faultWaiting = true;              // until `done` resolves the fault
    this.setStall(STALL_FAULT);
    this.enterEl(h.el);
    h.done();
  }

  /** A context synchronization event: earlier system-register writes take effect. */
  private contextSync(): void {
    const mmu = this.mmu;
    for (const [r, lo, hi] of this.pendingSysRegs) {
      if (mmu !== undefined && mmu.owns(r)) mmu.write(r, lo, hi);
      else this.sysRegs.set(r, lo + hi * 4294967296);
    }
    this.pendingSysRegs.length = 0;
    mmu?.contextSync();
  }

  private consume(): void {
    this.haveOp = false;
    this.stats.ops++;
    this.issuedThisCycle++;
    if (this.stall !== STALL_NONE) this.endStall();
    if (this.waitingSlot >= 0) this.setStall(STALL_WAIT);   // the program needs this op's result to go on
  }

  /**
   * Same-address ordering: true (the stall recorded) when an outstanding op overlaps
   * [addr, addr + size) and either is a store. Granules b0 .. b0 + ng - 1 are the access's; their
   * counters rule most accesses in without a scan of the window. Only while ops are outstanding.
   */
  private orderBlocked(addr: number, size: number, isStore: boolean, b0: number, ng: number): boolean {
    const counts = isStore ? this.anyByBucket : this.storesByBucket;
    let maybe = false;
    for (let k = 0; k < ng; k++) if (counts[(b0 + k) & (ORDER_BUCKETS - 1)]! > 0) { maybe = true; break; }
    if (!maybe) return false;
    const end = addr + size;
    for (let i = 0; i < this.cfg.window; i++) {
      if (this.wParts[i] === 0 || this.wSize[i] === 0) continue;
      const a0 = this.wAddr[i]!;
      if (a0 < end && addr < a0 + this.wSize[i]! && (isStore || this.wStore[i] === 1)) { this.blockedOn = i; this.setStall(STALL_ORDER); return true; }
    }
    return false;
  }

  /** True (the stall recorded, a retry arranged) when the link or the request table cannot take `parts` requests now. */
  private backpressured(parts: number, now: number): boolean {
    const link = this.memLink!, table = this.table;
    if (link.available >= parts && table.inUse + parts <= table.capacity) return false;
    if (link.available < parts) link.onCredit = this.onCreditFn;
    this.setStall(STALL_BACKPRESSURE);
    if (table.inUse + parts > table.capacity) this.scheduleStep(now + 1);
    return true;
  }

  /** Takes a free window slot for the op in `slot` (issued now, in `parts` requests) and returns it. */
  private openSlot(op: number, isStore: boolean, parts: number, returnsData: boolean, addr: number, size: number, now: number): number {
    const w = this.wFree[--this.nFree]!;
    this.wStore[w] = isStore ? 1 : 0; this.wParts[w] = parts;
    this.wWait[w] = this.slot.wait ? 1 : 0; this.wOk[w] = 1; this.wOp[w] = op; this.wStatus[w] = STATUS_OK;
    this.wRet[w] = returnsData ? 1 : 0;
    this.wAddr[w] = addr; this.wSize[w] = size; this.wIssued[w] = now;
    if (this.timeline !== undefined) { const slot = this.slot, t = this.tl!; t.va[w] = slot.addr; t.top[w] = slot.vaTop; t.aux[w] = slot.aux; t.el[w] = this.el; }
    this.outstanding++;
    return w;
  }

  /**
   * issueMemory for a plain load, store or fetch (the caller checks: no acquire or release): the
   * same checks in the same order and the same window, request and stats updates, without the
   * branches for maintenance, atomics and exclusives. Nearly every trace op comes this way; being
   * small, it gets its callees inlined (issueMemory is too big for that).
   */
  private issuePlain(): boolean {
    const slot = this.slot, now = this.q.now;
    if (this.dmbPending) {
      if (this.outstanding > 0) { this.setStall(STALL_BARRIER); return false; }
      this.dmbPending = false;
    }
    if (this.nFree === 0) { this.setStall(STALL_WINDOW); return false; }
    if (this.mmu !== undefined) {
      // Translated as issueMemory does it (the micro TLBs first, inline, then the long way).
      let t = this.microHit();
      if (t === XL_NONE) t = this.translateOp(false);
      if (t !== XL_OK) return t === XL_FAULTED;
    } else { this.opPa = slot.addr; this.opAttrs = slot.attrs; this.opPa2 = -1; }
    const op = slot.op, addr = this.opPa, size = slot.size;
    const isStore = op === OP_STORE;
    const lb = this.lineBytes, inv = this.invLineBytes;
    const line = inv !== 0 ? Math.floor(addr * inv) : Math.floor(addr / lb);
    const lastLine = inv !== 0 ? Math.floor((addr + size - 1) * inv) : Math.floor((addr + size - 1) / lb);
    const b0 = firstBucket(addr), ng = size === 0 ? 0 : granulesTouched(addr, size);
    if (this.outstanding > 0 && this.orderBlocked(addr, size, isStore, b0, ng)) return false;
    const parts = lastLine === line ? 1 : 2;
    if (this.backpressured(parts, now)) return false;
    const w = this.openSlot(op, isStore, parts, !isStore, addr, size, now);
    this.countGranules(b0, ng, isStore, 1);
    this.sendAccess(w, op === OP_LOAD ? REQ_READ : isStore ? REQ_WRITE : REQ_FETCH, size, parts, line);
    const stats = this.stats;
    if (isStore) { stats.stores++; stats.bytesWritten += size; }
    else if (op === OP_LOAD) { stats.loads++; stats.bytesRead += size; }
    else { stats.fetches++; stats.bytesRead += size; }
    if (slot.wait) this.waitingSlot = w;
    if (slot.spin) { this.spins++; this.lastSpinAddr = addr; } else this.lastSpinAddr = -1;
    this.consume();
    return true;
  }

  /** Tries to issue the memory op in `slot`; false if it must wait (the reason is recorded). */
  private issueMemory(): boolean {
    const slot = this.slot, now = this.q.now;
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
    let size = slot.size;
    // Atomics and exclusives check alignment before translating (AArch64.MemSingle calls
    // CheckAlignment before TranslateAddress): a misaligned one faults even where nothing is mapped.
    if (isRmw && !this.rmwAligned(op, slot.addr, slot.size)) return this.alignmentFault(slot.addr, slot.vaTop) === XL_FAULTED;
    if (this.mmu !== undefined && !(isCmo && !cmoIsByVa(slot.aux))) {
      const t = this.translateOp(isCmo);
      if (t !== XL_OK) return t === XL_FAULTED;
    } else { this.opPa = slot.addr; this.opAttrs = slot.attrs; this.opPa2 = -1; }
    let addr = this.opPa;
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
    if (this.outstanding > 0 && this.orderBlocked(addr, size, isStore, b0, ng)) return false;
    const parts = lastLine === line || isCmo || isRmw ? 1 : 2;
    if (this.backpressured(parts, now)) return false;
    const w = this.openSlot(op, isStore, parts, op === OP_LOAD || op === OP_FETCH || isRmw, addr, size, now);
    this.countGranules(b0, ng, isStore, 1);
    if (isCmo) {
      this.sendCmo(w, addr, size);
    } else if (isRmw) {
      this.sendRmw(w, op);
    } else {
      this.sendAccess(w, slot.op === OP_LOAD ? REQ_READ : isStore ? REQ_WRITE : REQ_FETCH, size, parts, line);
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

  // -------------------------------------------------------------------------------------------
  // Translation (with an MMU)
  // -------------------------------------------------------------------------------------------

  /**
   * The common case of translateOp (not for maintenance): a load, store or fetch within the page
   * of the last data / instruction translation (the MMU's micro TLBs), with nothing pending.
   * XL_OK with opPa/opAttrs set and the hit counted; an unaligned Device access takes its
   * Alignment fault here; XL_NONE (nothing done or counted): translate the long way.
   */
  private microHit(): number {
    if (this.faultResolution !== undefined || this.walkFaultPending) return XL_NONE;
    return this.slot.op === OP_FETCH ? this.microFetch() : this.microData();
  }

  /** microHit for a fetch (kept small: nearly every translated op comes here). */
  private microFetch(): number {
    const slot = this.slot, mmu = this.mmu!, va = slot.addr;
    if (!(va >= mmu.iVa && va + slot.size <= mmu.iEnd && slot.vaTop === mmu.iTop && mmu.iExec)) return XL_NONE;
    this.opPa = mmu.iPa + (va - mmu.iVa); this.opAttrs = mmu.iAttrs; this.opPa2 = -1;
    mmu.iStats.hits++;
    return XL_OK;
  }

  /** microHit for a data access. */
  private microData(): number {
    const slot = this.slot, mmu = this.mmu!, op = slot.op, va = slot.addr;
    if (!(va >= mmu.microVa && va + slot.size <= mmu.microEnd && slot.vaTop === mmu.microTop
      && (op === OP_LOAD || op === OP_LDX ? mmu.microRead : op === OP_ATOMIC ? mmu.microRead && mmu.microWrite : mmu.microWrite))) return XL_NONE;
    const attrs = mmu.microAttrs;
    if ((attrs & 1) === 0 && va % slot.size !== 0) return this.alignmentFault(va, slot.vaTop);
    this.opPa = mmu.microPa + (va - mmu.microVa); this.opAttrs = attrs; this.opPa2 = -1;
    mmu.microStats.hits++;
    return XL_OK;
  }

  /**
   * Translates the op in the slot: opPa/opAttrs (and opPa2 when the access crosses a page) on
   * XL_OK. A TLB miss starts a walk and stalls; a fault is taken here (XL_FAULTED: consumed and,
   * if the program waits, delivered) or handed to the stage-2 handler (XL_STALL).
   */
  private translateOp(isCmo: boolean): number {
    const slot = this.slot, mmu = this.mmu!;
    if (!isCmo) {
      const t = this.microHit();
      if (t !== XL_NONE) return t;
    }
    if (this.faultResolution !== undefined) {
      const r = this.faultResolution;
      this.faultResolution = undefined;
      if (r === 'deliver') return this.deliverFault(this.faultSyndrome!);
      if (r !== 'retry') return this.completeEmulated(r);
    }
    if (this.walkFaultPending) { this.walkFaultPending = false; return this.takeFault(isCmo); }
    const op = slot.op;
    // Permission checks: DC IVAC and DC ZVA write; other maintenance by VA reads (Arm ARM D7.5.9
    // "Permission fault on cache maintenance instructions": DC IVAC needs write permission).
    const access: AccessType = op === OP_FETCH ? AccessType.Fetch
      : op === OP_LOAD || op === OP_LDX ? AccessType.Read
        : op === OP_ATOMIC ? AccessType.ReadWrite
          : isCmo ? (slot.aux === CMO_IVAC || slot.aux === CMO_ZVA ? AccessType.Write : AccessType.Read)
            : AccessType.Write;
    const va = slot.addr, top = slot.vaTop;
    let t = this.translateOne(va, top, access);
    if (t !== XL_OK) return t;
    this.opPa = mmu.outPa; this.opAttrs = mmu.outAttrs; this.opPa2 = -1;
    // An unaligned access to Device memory is an Alignment fault (Arm ARM B2.5.2 "Alignment of
    // data accesses": "an unaligned access to any type of Device memory causes an Alignment fault").
    if ((this.opAttrs & 1) === 0 && !isCmo && op !== OP_FETCH && va % slot.size !== 0) return this.alignmentFault(va, top);
    const size = isCmo ? 1 : slot.size;
    const left = mmu.outPageLeft;
    if (size > left) {
      // The access crosses into the next page: that part has a translation of its own.
      t = this.translateOne(va + left, top, access);
      if (t !== XL_OK) return t;
      this.opPa2 = mmu.outPa;
    }
    return XL_OK;
  }

  private translateOne(va: number, top: number, access: AccessType): number {
    const mmu = this.mmu!;
    const r = mmu.translate(va, top, access);
    if (r === TR_HIT) return XL_OK;
    if (r !== TR_WALK) {
      // An L2 TLB hit: the L1 TLB now holds the entry; the access goes when the lookup is done.
      this.busyUntil = this.q.now + mmu.outCycles;
      this.setStall(STALL_WALK);
      this.scheduleStep(this.busyUntil);
      return XL_STALL;
    }
    mmu.beginWalk(va, top, access);
    this.walkVa = va; this.walkTop = top; this.walkAccess = access; this.walkStartedAt = this.q.now;
    if (this.timeline !== undefined) this.tl!.walkReads = mmu.stats.walkReads;
    this.walking = true;
    this.setStall(STALL_WALK);
    this.walkStarting = true;
    this.walkStep();
    this.walkStarting = false;
    if (this.walking) return XL_STALL;
    // Done without a read: a fault found from the registers, or no stage enabled (nothing cached).
    if (mmu.walker.faulted) return this.takeFault(false);
    mmu.fill(va, top, access);
    return XL_OK;
  }

  /** Sends the walker's reads until one is in flight (or it is done). */
  private walkStep(): void {
    const w = this.mmu!.walker, table = this.table, link = this.memLink!;
    for (;;) {
      if (w.done) { this.walkEnded(); return; }
      if (link.available < 1 || table.inUse + 1 > table.capacity) {
        this.walkBlocked = true;
        if (link.available < 1) link.onCredit = this.onCreditFn;
        else this.scheduleStep(this.q.now + 1);
        return;
      }
      let id: number;
      if (w.writeNeeded) {
        // A descriptor update (FEAT_HAFDBS): an 8-byte CAS of the descriptor, whose old value
        // comes back as a read's data does (operand at 0, compare value at 8, as sendRmw lays out).
        id = table.alloc(REQ_ATOMIC, 0, 8, w.readAttrs, this.index, this.q.now);
        table.aux[id] = AtomicOp.CAS;
        const d = table.data, o = table.dataOffset(id);
        putWord(d, o, w.casNewLo); putWord(d, o + 4, w.casNewHi); putWord(d, o + 8, w.casOldLo); putWord(d, o + 12, w.casOldHi);
      } else {
        id = table.alloc(REQ_READ, 0, 8, w.readAttrs, this.index, this.q.now);
        this.mmu!.stats.walkReads++;
      }
      table.addr[id] = w.readPa;
      table.tag[id] = WALK_TAG;
      link.trySend(id);
      const at = link.completedAt;
      if (at === undefined || at < 0) return;              // the response brings the data
      this.takeWalkData(id);
      if (at > this.q.now) { this.walkReadyAt = at; this.scheduleStep(at); return; }
      this.supplyWalk();
    }
  }

  /** Takes a walk read's 8 bytes (little-endian; for an update, what the descriptor held) and status, and frees the request. */
  private takeWalkData(id: number): void {
    const table = this.table, d = table.data, o = table.dataOffset(id);
    this.walkOk = table.status[id] === STATUS_OK;
    this.walkLo = (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
    this.walkHi = (d[o + 4]! | (d[o + 5]! << 8) | (d[o + 6]! << 16) | (d[o + 7]! << 24)) >>> 0;
    table.release(id);
  }

  private supplyWalk(): void {
    const w = this.mmu!.walker;
    if (this.walkOk) w.supply(this.walkLo, this.walkHi); else w.abortRead();
  }

  /** The pending walk read's data is here: go on with the walk. */
  private walkAdvance(): void {
    this.supplyWalk();
    this.walkStep();
  }

  private walkEnded(): void {
    const mmu = this.mmu!;
    this.walking = false;
    mmu.stats.walkCycles += this.q.now - this.walkStartedAt;
    if (this.timeline !== undefined) this.traceWalk();
    if (this.walkReadyAt >= 0 || this.walkBlocked) return;    // (not reached: the walker is done)
    if (this.stall === STALL_WALK) this.endStall();
    if (this.walkStarting) return;                            // ended within translateOne: it takes the outcome
    // Asynchronous end: the op in the slot retries: it hits the TLB now, or takes the fault.
    if (mmu.walker.faulted) this.walkFaultPending = true;
    else if (mmu.walker.result.pageBytes > 0) mmu.fill(this.walkVa, this.walkTop, this.walkAccess);
  }

  /** Takes the fault the walker ended with for the op in the slot. */
  private takeFault(isCmo: boolean): number {
    const mmu = this.mmu!, f = mmu.walker.fault, slot = this.slot;
    const size = slot.size, plain = slot.op === OP_LOAD || slot.op === OP_STORE;
    const isv = plain && (size === 1 || size === 2 || size === 4 || size === 8)
      ? (1 << 24) | (Math.log2(size) << 22) | (size === 8 ? 1 << 15 : 0) | (slot.acquire || slot.release ? 1 << 14 : 0) : 0;
    const esr = mmu.recordFault(this.walkVa, this.walkTop, isCmo, isv);
    const syn: MmuSyndrome = {
      fault: FAULT_NAMES[f.type]!, stage: f.stage, level: f.level, esr,
      farLo: (this.walkVa % 4294967296) >>> 0, farHi: (((this.walkTop << 20) | Math.floor(this.walkVa / 4294967296)) >>> 0),
      hpfar: f.stage === 2 ? hpfarEl2(f.ipa) : 0, ipa: f.stage === 2 ? f.ipa : -1, s1ptw: f.s1ptw,
    };
    this.stats.mmuFaults++;
    this.lastFault = syn;
    if (f.stage === 2 && this.stage2Handler !== undefined) {
      this.faultWaiting = true;
      this.faultSyndrome = syn;
      this.setStall(STALL_FAULT);
      if (this.timeline !== undefined) { this.tl!.faultAt = this.q.now; this.tl!.faultNote = undefined; }
      this.stage2Handler(this, syn, (r) => {
        if (!this.faultWaiting) throw new Error(`${this.name}: a stage-2 fault handler resumed twice`);
        this.faultWaiting = false;
        this.faultResolution = r;
        if (this.timeline !== undefined) this.traceFault(syn, r);
        if (this.stall === STALL_FAULT) this.endStall();
        this.scheduleStep(this.q.now);
      });
      return XL_STALL;
    }
    return this.deliverFault(syn);
  }

  /**
   * Whether an atomic or exclusive at `va` is aligned enough to be performed: naturally aligned,
   * or, with FEAT_LSE2, an atomic inside a 16-byte block (Device memory then still faults once
   * the attributes are known, as every unaligned Device access does: after translation here, in
   * CacheHierarchy.atomic without an MMU; exclusives always need alignment).
   */
  private rmwAligned(op: number, va: number, size: number): boolean {
    return va % size === 0 || (op === OP_ATOMIC && this.cfg.lse2 === true && (va % 16) + size <= 16);
  }

  /** A data Alignment fault (DFSC 0b100001), taken to EL1 (or EL2 at EL2). */
  private alignmentFault(va: number, top: number): number {
    const lower = this.el === 0;
    // WnR: stores, store-exclusives and atomics (which write; QEMU reports their alignment faults
    // as stores too).
    const op = this.slot.op, wnr = op === OP_STORE || op === OP_STX || op === OP_ATOMIC;
    const esr = (((lower ? 0x24 : 0x25) << 26) | (1 << 25) | 0x21 | (wnr ? 1 << 6 : 0)) >>> 0;
    this.stats.mmuFaults++;
    return this.takeException('alignment', esr, (va % 4294967296) >>> 0, ((top << 20) | Math.floor(va / 4294967296)) >>> 0);
  }

  /**
   * A synchronous exception found outside the walk (Alignment, Undefined Instruction): ESR/FAR
   * recorded for the exception level that takes it, and the op ends with the fault.
   */
  private takeException(fault: Fault, esr: number, farLo: number, farHi: number): number {
    this.mmu?.recordOtherFault(esr, farLo, farHi);
    const syn: MmuSyndrome = { fault, stage: 1, level: 0, esr, farLo, farHi, hpfar: 0, ipa: -1, s1ptw: false };
    this.lastFault = syn;
    return this.deliverFault(syn);
  }

  /**
   * An instruction the PE does not implement: an LSE atomic without FEAT_LSE, DC CVAP without
   * FEAT_DPB (Arm ARM C6.2: each is "if !IsFeatureImplemented(FEAT_x) then UNDEFINED"), so the
   * PE takes an Undefined Instruction exception: ESR EC 0x00 (Unknown reason) with IL = 1 and no
   * ISS, FAR UNKNOWN (recorded as 0). Nothing is translated or accessed; the program gets the fault.
   */
  private undefinedInstruction(): void {
    this.stats.undefinedInstructions++;
    this.takeException('undefined-instruction', 1 << 25, 0, 0);
  }

  /** The hypervisor performed the access itself: the op ends successfully with its data. */
  private completeEmulated(e: Stage2Emulation): number {
    const slot = this.slot, wait = slot.wait, size = slot.size;
    const returns = slot.op === OP_LOAD || slot.op === OP_FETCH || slot.op === OP_ATOMIC || slot.op === OP_LDX;
    const bytes = new Uint8Array(returns ? size : slot.op === OP_STX ? 1 : 0);
    if (returns && e.bytes !== undefined) bytes.set(e.bytes.subarray(0, size));
    let lo = 0, hi = 0;
    for (let k = Math.min(bytes.length, 8) - 1; k >= 0; k--) { if (k >= 4) hi = hi * 256 + bytes[k]!; else lo = lo * 256 + bytes[k]!; }
    this.consume();
    if (wait) this.source!.deliver({ ok: true, fault: undefined, bytes, value: lo + hi * 4294967296, valueLo: lo, valueHi: hi, cycle: this.q.now });
    return XL_FAULTED;
  }

  /** The program takes the fault: the op ends with it (delivered if the program waits). */
  private deliverFault(syn: MmuSyndrome): number {
    const slot = this.slot;
    const wait = slot.wait;
    const fault = syn.fault;
    this.consume();
    if (wait) this.source!.deliver({ ok: false, fault, syndrome: syn, bytes: new Uint8Array(0), value: 0, valueLo: 0, valueHi: 0, cycle: this.q.now });
    return XL_FAULTED;
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
    const table = this.table;
    // Tag: window slot and byte offset of this part in the op. Flags: takeResult copies a read's
    // bytes only for an op the program waits on, so otherwise ask for none (timing only), and a
    // cache hit or a DRAM read moves no bytes into the request.
    const id = table.allocTagged(kind, opOffset === 0 ? this.opPa : this.opPa2 >= 0 ? this.opPa2 : this.opPa + opOffset,
      len, this.opAttrs, this.index, this.q.now, w * 64 + opOffset, kind !== REQ_WRITE && this.wWait[w] === 0 ? REQ_FLAG_NO_DATA : 0);
    if (kind === REQ_WRITE) this.fillStoreData(id, len, opOffset);
    this.stats.requests++;
    this.memLink!.trySend(id);
    this.tookOnTheSpot(id);
  }

  /** Sends the plain load, store or fetch in `slot` (at opPa, starting in `line`) as its `parts` parts, one per line it touches. */
  private sendAccess(w: number, kind: ReqKind, size: number, parts: number, line: number): void {
    if (parts === 1) { this.sendWhole(w, kind, size); return; }
    const firstLen = (line + 1) * this.lineBytes - this.opPa;
    this.sendPart(w, kind, firstLen, 0);
    this.sendPart(w, kind, size - firstLen, firstLen);
  }

  /**
   * Sends the op in `slot` (a plain load, store or fetch at opPa within one line) as one part,
   * unless the port decides it on the spot as an L1 hit, which needs no request (only when
   * nothing waits for the bytes): then it retires when the hit completes.
   */
  private sendWhole(w: number, kind: ReqKind, size: number): void {
    const link = this.memLink!;
    let at = -1;
    if (link.tryHit !== undefined && !this.slot.wait) {
      if (kind === REQ_WRITE) this.storeBytes(this.hitBuf, this.hitBuf32, 0, size, 0);
      const a = this.hitAt;
      a[0] = this.opPa; a[1] = this.opAttrs;
      at = link.tryHit(kind, a, size, this.hitBuf);
    }
    if (at >= 0) { this.stats.requests++; this.partDoneAt(w, at); }
    else this.sendPart(w, kind, size, 0);
  }

  /** Sends a maintenance request covering [addr, addr + size) (size 0: set/way or all). */
  private sendCmo(w: number, addr: number, size: number): void {
    const table = this.table, slot = this.slot;
    const id = table.alloc(REQ_CMO, 0, size, this.opAttrs, this.index, this.q.now);
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
    const id = table.alloc(kind, 0, slot.size, this.opAttrs, this.index, this.q.now);
    table.addr[id] = this.opPa;
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
    this.storeBytes(this.table.data, this.data32, this.table.dataOffset(id), len, opOffset);
  }

  /** Writes the `len` bytes of the store in `slot` from `opOffset` on to d[off..] (d32: d as words, if aligned). */
  private storeBytes(d: Uint8Array, d32: Int32Array | undefined, off: number, len: number, opOffset: number): void {
    const slot = this.slot;
    const bytes = slot.bytes;
    if (bytes !== undefined) d.set(bytes.subarray(opOffset, opOffset + len), off);
    else if (d32 !== undefined && (opOffset & 3) === 0 && (len & 3) === 0 && (off & 3) === 0) {
      // Whole words (offsets are small integers): on a little-endian host the value's 8 bytes
      // are the words lo, hi, repeating from the op's start, so this writes the same bytes.
      const w0 = off >>> 2, k0 = opOffset >>> 2, lo = slot.valueLo, hi = slot.valueHi;
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
    if (!this.syncFits(at)) { this.q.schedule(this.respHandler, at - this.q.now, id); return; }
    this.pushSync(this.takeResult(id), at);
  }

  /** A part of the op in window slot `w` completed on the spot (no request): it retires at `at`. */
  private partDoneAt(w: number, at: number): void {
    if (this.syncFits(at)) this.pushSync(w, at);
    else this.q.schedule(this.partHandler, at - this.q.now, w);
  }

  /** Whether a completion at `at` can join the FIFO of on-the-spot completions (room, and not earlier than its last). */
  private syncFits(at: number): boolean {
    const mask = this.syncMask;
    return !(this.syncLen > mask || (this.syncLen > 0 && at < this.syncAt[(this.syncHead + this.syncLen - 1) & mask]!));
  }

  private pushSync(w: number, at: number): void {
    const mask = this.syncMask;
    const i = (this.syncHead + this.syncLen) & mask;
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
    if (this.table.tag[id] === WALK_TAG) {
      if (this.syncLen > 0) this.retireSync(this.q.now);
      this.takeWalkData(id);
      this.walkAdvance();
      this.tryIssue();
      return;
    }
    this.partDone(this.takeResult(id));
  }

  /** A part of the op in window slot `w` completed now (a response, or a part done on the spot that could not join the FIFO). */
  private partDone(w: number): void {
    if (this.syncLen > 0) this.retireSync(this.q.now);
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
    if (this.timeline !== undefined) this.traceOp(w, at);
    if (this.wOk[w] === 0) this.stats.externalAborts++;
    this.outstanding--;
    const wa = this.wAddr[w]!, ws = this.wSize[w]!;
    if (ws > 0) this.countGranules(firstBucket(wa), granulesTouched(wa, ws), this.wStore[w] === 1, -1);
    this.wFree[this.nFree++] = w;
    if (this.waitingSlot === w) {
      this.waitingSlot = -1;
      if (this.stall === STALL_WAIT) this.endStall(at);
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

  // -------------------------------------------------------------------------------------------
  // Timeline (only with `timeline` set)
  // -------------------------------------------------------------------------------------------

  /** The op in window slot `w` completed at `at`: its span on the slot's lane. */
  private traceOp(w: number, at: number): void {
    const tl = this.timeline!, t = this.tl!, from = this.wIssued[w]!;
    if (!tl.wants(from)) { tl.dropped++; return; }
    const lane = this.tlTrack(w + 2);
    const op = this.wOp[w]!, pa = this.wAddr[w]!, size = this.wSize[w]!, aux = t.aux[w]!;
    const args: TimelineArgs = {};
    let name: string, cat = 'mem';
    if (op === OP_CMO) {
      name = (CMO_NAMES[aux] ?? `cmo${aux}`).toUpperCase();
      cat = 'cmo';
      const byVa = cmoIsByVa(aux);
      if (byVa) { args.va = hexVa(t.va[w]!, t.top[w]!); args.pa = `0x${pa.toString(16)}`; args.bytes = size; }
      else if (aux >= CmoOp.DC_ISW) { const sw = t.va[w]!; args.level = (sw % 16 >>> 1) + 1; args.setWay = `0x${sw.toString(16)}`; }
      args.reach = cmoReach(aux);
    } else {
      name = opName(op);
      args.va = hexVa(t.va[w]!, t.top[w]!); args.pa = `0x${pa.toString(16)}`; args.size = size;
    }
    args.el = t.el[w]!;
    if (this.wOk[w] === 0) args.status = this.wStatus[w] === ReqStatus.Unsupported ? 'unsupported' : this.wStatus[w] === ReqStatus.Alignment ? 'alignment' : 'external-abort';
    tl.span(lane, name, cat, from, at, args);
  }

  /** Track `k` of this PE (LANE_MAIN, LANE_WALKS, window slot w at w + 2), made on first use. */
  private tlTrack(k: number): TimelineTrack {
    const lanes = this.tl!.lanes;
    return lanes[k] ?? (lanes[k] = this.timeline!.track(this.name, k === LANE_MAIN ? this.name : k === LANE_WALKS ? 'walks' : `ops ${k - 2}`, { process: 100 + this.index, thread: k }));
  }

  /** The walk that started at walkStartedAt ended now. */
  private traceWalk(): void {
    const tl = this.timeline!, t = this.tl!, mmu = this.mmu!, from = this.walkStartedAt;
    if (!tl.wants(from)) { tl.dropped++; return; }
    const w = mmu.walker;
    const args: TimelineArgs = {
      va: hexVa(this.walkVa, this.walkTop), access: ACCESS_NAMES[this.walkAccess] ?? String(this.walkAccess),
      reads: mmu.stats.walkReads - t.walkReads, el: this.el,
    };
    if (w.faulted) { args.fault = FAULT_NAMES[w.fault.type] ?? 'fault'; args.stage = w.fault.stage; args.level = w.fault.level; if (w.fault.stage === 2) args.ipa = `0x${w.fault.ipa.toString(16)}`; }
    else args.pageBytes = w.result.pageBytes;
    tl.span(this.tlTrack(LANE_WALKS), 'walk', 'walk', from, this.q.now, args);
  }

  /** A stage-2 fault handed to the handler at tl.faultAt resumes now with `r`. */
  private traceFault(syn: MmuSyndrome, r: Stage2Resolution): void {
    const tl = this.timeline!, t = this.tl!, from = t.faultAt;
    t.faultAt = -1;
    const args: TimelineArgs = {
      ipa: syn.ipa >= 0 ? `0x${syn.ipa.toString(16)}` : null, va: `0x${(syn.farHi * 4294967296 + syn.farLo).toString(16)}`,
      esr: `0x${(syn.esr >>> 0).toString(16)}`, fault: syn.fault, level: syn.level, s1ptw: syn.s1ptw,
      resolution: typeof r === 'string' ? r : 'emulate',
      ...t.faultNote,
    };
    t.faultNote = undefined;
    tl.span(this.tlTrack(LANE_MAIN), 'stage-2 fault', 'fault', from, this.q.now, args);
  }

  /** A DSB completed at `now` (waiting since tl.dsbSince for earlier ops), and its TLBIs at `end`. */
  private traceDsb(now: number, end: number): void {
    const t = this.tl!, from = t.dsbSince >= 0 ? t.dsbSince : now;
    t.dsbSince = -1;
    const tlbis = t.tlbis;
    if (tlbis.length === 0 && end === from) return;
    t.tlbis = [];
    const args: TimelineArgs = { waitCycles: now - from, el: this.el };
    if (tlbis.length > 0) { args.tlbis = tlbis.length; args.ops = tlbis.slice(0, 8).join(', ') + (tlbis.length > 8 ? ', ...' : ''); args.tlbiCycles = end - now; }
    this.timeline!.span(this.tlTrack(LANE_MAIN), tlbis.length > 0 ? 'TLBI+DSB' : 'DSB', tlbis.length > 0 ? 'tlbi' : 'barrier', from, end, args);
  }

  private checkFinished(): void {
    if (this.finished || this.outstanding > 0 || this.haveOp) return;
    if (this.handler !== undefined) { this.endHandler(); return; }
    this.finished = true;
    this.endStall();
    this.stats.finishedAt = this.q.now;
    this.onFinish?.();
  }
}

function opName(op: number): string { return OP_NAMES[op] ?? `op${op}`; }

/** What a PE records for the timeline (allocated by setTimeline only). */
const LANE_MAIN = 0, LANE_WALKS = 1;

interface PeTimelineState {
  /** The PE's tracks: its own (LANE_MAIN), walks (LANE_WALKS), then one per window slot. */
  readonly lanes: (TimelineTrack | undefined)[];
  /** Per window slot: the op's VA (set/way operand for DC xSW) and VA[63:52], CMO or atomic op, EL. */
  readonly va: Float64Array;
  readonly top: Uint16Array;
  readonly aux: Uint8Array;
  readonly el: Uint8Array;
  /** mmu.stats.walkReads when the walk in progress started. */
  walkReads: number;
  /** Cycle the stage-2 fault being handled was taken (-1: none), and what the handler said. */
  faultAt: number;
  faultNote: TimelineArgs | undefined;
  /** Cycle the DSB in the slot started waiting for earlier ops (-1: not waiting). */
  dsbSince: number;
  /** TLBIs issued since the last DSB. */
  tlbis: string[];
}

const ACCESS_NAMES = ['read', 'write', 'fetch', 'read-write'];
const TLBI_OP_NAMES = new Map<number, string>(Object.entries(TlbiOp).map(([k, v]) => [v, k]));

function hexVa(lo: number, top: number): string {
  return top === 0 ? `0x${lo.toString(16)}` : `0x${top.toString(16)}${lo.toString(16).padStart(13, '0')}`;
}

/** Where a maintenance operation reaches (Arm ARM D7.5 "Cache maintenance instructions"). */
function cmoReach(op: number): string {
  switch (op) {
    case CmoOp.DC_IVAC: case CmoOp.DC_CVAC: case CmoOp.DC_CIVAC: return 'PoC';
    case CmoOp.DC_CVAU: case CmoOp.IC_IVAU: return 'PoU';
    case CmoOp.DC_CVAP: return 'PoP';
    case CmoOp.DC_ZVA: return 'zeroes a block';
    case CmoOp.IC_IALLU: return 'PoU, this PE';
    case CmoOp.IC_IALLUIS: return 'PoU, Inner Shareable';
    default: return 'one level of this PE\'s caches (set/way)';
  }
}

/** Writes the 32-bit `v` little-endian at d[o..o+3]. */
function putWord(d: Uint8Array, o: number, v: number): void {
  d[o] = v & 0xff; d[o + 1] = (v >>> 8) & 0xff; d[o + 2] = (v >>> 16) & 0xff; d[o + 3] = (v >>> 24) & 0xff;
}
