/**
 * The SMMU's translation engine behind a timed protocol, run inline (`threads: 0`) or in a worker
 * thread managed by piscina (`threads: 1`), with byte-identical results either way.
 *
 * Split (DESIGN.md "Worker threads for the SMMU"): the main thread owns the event queue, memory,
 * caches and DMA data movement; the engine side (`SmmuCore`: config fetch, nested walks, IOTLB,
 * walk and config caches, commands, fault records) owns the `SmmuEngine`. They exchange
 * fixed-size records (`REC` float64 slots) — in the worker case through two single-producer
 * single-consumer rings in SharedArrayBuffers:
 * - in (main → core): a translation request at cycle t; the answer to a descriptor read at t; a
 *   call (register access, command consumption, stats) at t, its arguments msgpackr-encoded.
 * - out (core → main): a descriptor read to perform at t; a translation result at t; a memory
 *   write (event record) at t; the answer to a call.
 *
 * Time. Each step of a translation (the request, or the answer to one of its reads) produces
 * exactly one output: its next read, performed descriptorReadCycles after the step, or its
 * result (with the fault record it writes, if any), due translateCycles after the step. So a
 * translation that makes n reads takes n * descriptorReadCycles + translateCycles, the
 * DmaMaster's cost model, and every read is performed on the main thread at its own cycle: the
 * engine sees table memory as it is at that cycle (through the caches on the coherent path).
 * Because an input at cycle t can only have outputs due at t + translateCycles or t +
 * descriptorReadCycles, the main thread puts a checkpoint at both when it sends the input; at a
 * checkpoint X it takes in every output due at X, in the order the core produced them. Those come
 * from inputs at or before X - L (L = the smaller latency, the lookahead), so in the worker case
 * the main thread waits only until the core has consumed those: it runs L cycles ahead of the
 * inputs it needs. Outputs are a pure function of the sequence of inputs, and the main thread
 * takes them in at the same checkpoints in both cases: `threads` changes the host time, never
 * the results.
 *
 * Calls (`control`: the SmmuControl the platform hands to software models — mmioRead/Write,
 * processCommands, stats, stalled transactions) run at the caller's cycle after every earlier
 * input: synchronous RPCs in the worker case, during which the core's own memory accesses
 * (command reads, MSI and event writes of commands) are served by the main thread at once.
 * After a CMDQ_PROD doorbell (`doorbell`) the host consumes the queue one command per
 * `commandCycles` through such calls, so commands take simulated time.
 *
 * Failure: an exception in the worker is reported with its message; a worker that stops
 * answering for `stallTimeoutMs` ends the run with an error naming that. Never a hang.
 *
 * Writes the engine makes outside a call (event records of faulting translations) are performed
 * at their due cycle; one that aborts is reported back as a call at that cycle, so
 * GERROR.EVENTQ_ABT_ERR is raised in both modes at the same cycle (`SmmuEngine.eventWriteAborted`).
 */
import { Piscina } from 'piscina';
import { pack, unpack } from 'msgpackr';
import type { EventQueue } from '../sim/index.js';
import type { Dword } from './bits.js';
import type { SmmuConfig } from './config.js';
import {
  SmmuEngine, SmmuStats, newSmmuResult, readOrSwap, resetSmmuResult, type SmmuCompletion, type SmmuRequest, type SmmuResult, type SmmuStatus, type SmmuTxn,
} from './engine.js';
import { decodeEvent, encodeEvent } from './events.js';
import type { SmmuMemory } from './memory.js';
import type { SmmuCommand } from './commands.js';

/** Float64 slots per record. */
export const REC = 24;

/**
 * Polls before a waiting thread sleeps on its futex (tens of microseconds): long enough to catch
 * the other thread's answer without a wake-up on an idle machine, short enough to give the core
 * back when the machine is busy (a spinning waiter would take the time the other thread needs).
 */
const SPIN = 20_000;

// Inputs (main -> core).
const IN_REQ = 1, IN_ANS = 2, IN_CALL = 3, IN_MEMANS = 4, IN_STOP = 5;
// Outputs (core -> main).
const OUT_READ = 1, OUT_RESULT = 2, OUT_WRITE = 3, OUT_MEMREAD = 4, OUT_MEMWRITE = 5, OUT_CALLRET = 6;

const STATUS: readonly SmmuStatus[] = ['ok', 'abort', 'raz-wi', 'stalled'];
const VIA: readonly SmmuResult['via'][] = ['gbpa', 'bypass', 'tlb', 'walk', 'fault', 'abort-ste'];
const TWO_32 = 4294967296;
/** Numbers kept per translation id for miss merging (SmmuHost.keys). */
const KEY = 7;

/** What software models use of an SMMU: the engine itself inline, a proxy of it with a worker. */
export interface SmmuControl {
  readonly config: SmmuConfig;
  /** Live counters (refreshed from the worker on each read of this property). */
  readonly stats: SmmuStats;
  mmioRead(offset: number, size?: 4 | 8): [number, number];
  mmioWrite(offset: number, size: 4 | 8, lo: number, hi?: number): void;
  /** Consumes commands at once (at most `max`); SmmuHost.doorbell consumes them over time instead. */
  processCommands(max?: number): number;
  statsSnapshot(): ReturnType<SmmuEngine['statsSnapshot']>;
  takeCompletions(): SmmuCompletion[];
  stalledTransactions(): Array<{ stag: number; streamId: number }>;
  /** Called after each command with its CERROR code (timeline). */
  onCommand: ((command: SmmuCommand, error: number) => void) | undefined;
  /** A PE's broadcast TLBI reaching the SMMU (IDR0.BTM; SmmuEngine.broadcastTlbi). */
  broadcastTlbi(op: number, addr: number, vaTop: number, asid: number, vmid: number): number;
}

/** The receiver of a translation's result (called at the cycle it is due; copy what you keep). */
export interface TranslateClient {
  onTranslated(tag: number, result: SmmuResult): void;
}

export interface HostTiming {
  readonly translateCycles: number;
  readonly descriptorReadCycles: number;
}

// ---------------------------------------------------------------------------------------------
// The engine side
// ---------------------------------------------------------------------------------------------

/** How the core reaches the main thread: outputs, and memory at once inside a call. */
export interface CorePort {
  emit(rec: Float64Array): void;
  readNow(pa: number, out: Dword, attrs: number): boolean;
  writeNow(pa: number, lo: number, hi: number, attrs: number, size: 4 | 8): boolean;
}

/** The engine side of the protocol; the same code inline and in the worker. */
export class SmmuCore {
  readonly engine: SmmuEngine;
  private readonly txns = new Map<number, SmmuTxn>();
  private readonly out = new Float64Array(REC);
  private now = 0;
  /** Inside a call: memory goes to the main thread at once. */
  private inCall = false;
  private commandLog: Array<[SmmuCommand, number]> | null = null;

  constructor(config: SmmuConfig, private readonly timing: HostTiming, private readonly port: CorePort) {
    const core = this;
    const mem: SmmuMemory = {
      read64(pa, out, attrs = 0) {
        if (!core.inCall) throw new Error('SmmuCore: a synchronous read outside a call');
        return port.readNow(pa, out, attrs);
      },
      write64(pa, lo, hi, attrs = 0) { return core.write(pa, lo, hi, attrs, 8); },
      write32(pa, value, attrs = 0) { return core.write(pa, value, 0, attrs, 4); },
    };
    this.engine = new SmmuEngine(mem, config);
  }

  /** A write by the engine: at once inside a call, else due with the translation's result. */
  private write(pa: number, lo: number, hi: number, attrs: number, size: 4 | 8): boolean {
    if (this.inCall) return this.port.writeNow(pa, lo, hi, attrs, size);
    const o = this.out;
    o.fill(0);
    o[0] = OUT_WRITE; o[1] = this.now + this.timing.translateCycles; o[3] = pa; o[4] = lo >>> 0; o[5] = hi >>> 0; o[6] = attrs; o[7] = size;
    this.port.emit(o);
    return true;
  }

  /** One input record (not a call). */
  input(r: Float64Array, at: number): void {
    const kind = r[at]!;
    this.now = r[at + 1]!;
    const id = r[at + 2]!;
    if (kind === IN_REQ) {
      const ssid = r[at + 4]!, hi = r[at + 5]!, lo = r[at + 6]!, attrs = r[at + 9]!;
      const req: SmmuRequest = {
        streamId: r[at + 3]!, iova: hi === 0 ? lo : { hi, lo }, access: r[at + 7]! as SmmuRequest['access'], privileged: r[at + 8]! === 1,
      };
      if (ssid >= 0) { req.ssv = true; req.substreamId = ssid; }
      if (attrs >= 0) req.attrs = attrs;
      this.step(id, this.engine.begin(req));
    } else if (kind === IN_ANS) {
      const tx = this.txns.get(id)!;
      this.engine.supply(tx, r[at + 3]! === 1, r[at + 4]!, r[at + 5]!);
      this.step(id, tx);
    } else {
      throw new Error(`SmmuCore: unexpected input kind ${kind}`);
    }
  }

  /** After a step of translation `id`: its next read, or its result. */
  private step(id: number, tx: SmmuTxn): void {
    const o = this.out;
    o.fill(0);
    o[2] = id;
    if (!tx.done) {
      this.txns.set(id, tx);
      o[0] = OUT_READ; o[1] = this.now + this.timing.descriptorReadCycles; o[3] = tx.readPa; o[4] = tx.readAttrs;
      if (tx.cas) { o[5] = 1; o[6] = tx.casOldLo; o[7] = tx.casOldHi; o[8] = tx.casNewLo; o[9] = tx.casNewHi; }   // an HTTU update
      this.port.emit(o);
      return;
    }
    this.txns.delete(id);
    const x = tx.result;
    o[0] = OUT_RESULT; o[1] = this.now + this.timing.translateCycles;
    encodeResult(x, o, 3);
    this.engine.release(tx);
    this.port.emit(o);
  }

  /** Runs `fn` as a call at cycle `now`: the engine's memory accesses go to the main thread at once. */
  sync<T>(now: number, fn: () => T): T {
    this.now = now;
    this.inCall = true;
    try { return fn(); } finally { this.inCall = false; }
  }

  /** A call, at cycle `now`: the engine method `name` with `args`; returns what it returns (transportable). */
  call(now: number, name: string, args: unknown[]): unknown {
    this.now = now;
    this.inCall = true;
    try {
      const e = this.engine;
      switch (name) {
        case 'mmioRead': return e.mmioRead(args[0] as number, args[1] as 4 | 8);
        case 'mmioWrite': e.mmioWrite(args[0] as number, args[1] as 4 | 8, args[2] as number, args[3] as number); return null;
        case 'processCommands': {
          this.commandLog = args[0] === true ? [] : null;
          e.onCommand = this.commandLog === null ? undefined : (c, err) => { this.commandLog!.push([c, err]); };
          const n = e.processCommands((args[1] as number | null) ?? Number.POSITIVE_INFINITY);
          const log = this.commandLog;
          this.commandLog = null;
          e.onCommand = undefined;
          return { n, log };
        }
        case 'stats': return { ...e.stats, commandsByName: { ...e.stats.commandsByName } };
        case 'statsSnapshot': return e.statsSnapshot();
        case 'takeCompletions': return e.takeCompletions().map((c) => ({ streamId: c.streamId, stag: c.stag, result: resultToWire(c.result) }));
        case 'stalledTransactions': return e.stalledTransactions();
        case 'broadcastTlbi': return e.broadcastTlbi(args[0] as number, args[1] as number, args[2] as number, args[3] as number, args[4] as number);
        case 'eventWriteAborted': e.eventWriteAborted(); return null;
        default: throw new Error(`SmmuCore: unknown call ${name}`);
      }
    } finally {
      this.inCall = false;
    }
  }
}

function encodeResult(x: SmmuResult, o: Float64Array, at: number): void {
  o[at] = STATUS.indexOf(x.status); o[at + 1] = x.pa; o[at + 2] = x.attrs; o[at + 3] = x.perms; o[at + 4] = VIA.indexOf(x.via);
  o[at + 5] = x.stag; o[at + 6] = x.reads; o[at + 7] = x.walkReads; o[at + 8] = x.recorded ? 1 : 0;
  o[at + 9] = x.event === null ? 0 : 1;
  if (x.event !== null) {
    const w = encodeEvent(x.event);
    for (let i = 0; i < 8; i++) o[at + 10 + i] = w[i]!;
  }
}

function decodeResult(o: Float64Array, at: number, x: SmmuResult): void {
  x.status = STATUS[o[at]!]!; x.pa = o[at + 1]!; x.attrs = o[at + 2]!; x.perms = o[at + 3]!; x.via = VIA[o[at + 4]!]!;
  x.stag = o[at + 5]!; x.reads = o[at + 6]!; x.walkReads = o[at + 7]!; x.recorded = o[at + 8]! === 1;
  if (o[at + 9]! === 0) { x.event = null; return; }
  const w = new Uint32Array(8);
  for (let i = 0; i < 8; i++) w[i] = o[at + 10 + i]!;
  x.event = decodeEvent(w);
}

/** A result as plain numbers (msgpackr-safe: the event record travels as its 32-byte image). */
function resultToWire(x: SmmuResult): number[] {
  const o = new Float64Array(REC);
  encodeResult(x, o, 0);
  return Array.from(o.subarray(0, 18));
}

function resultFromWire(w: number[]): SmmuResult {
  const o = new Float64Array(REC);
  o.set(w);
  const x = newSmmuResult();
  decodeResult(o, 0, x);
  return x;
}


// ---------------------------------------------------------------------------------------------
// Shared-memory rings (worker case)
// ---------------------------------------------------------------------------------------------

/** Control words of the shared block. */
/** Int32 index of control word k: one 64-byte cache line each, so that a word one thread polls does not share a line with words the other thread writes. */
const W = (k: number): number => k * 16;
export const CTL = {
  /** Inputs the core has consumed (outputs of those are in the out ring before this moves). */
  CONSUMED: W(0),
  /** 0 running, 1 stopped cleanly, 2 failed (message in the out mailbox). */
  STATUS: W(1),
  /** Bumped by the core after each input / output; the main thread sleeps on it. */
  BELL: W(2),
  /** The main thread is asleep on BELL. */
  MAIN_WAITING: W(3),
  IN_HEAD: W(4), IN_TAIL: W(5), OUT_HEAD: W(6), OUT_TAIL: W(7),
  /** Bytes in the in / out mailboxes. */
  IN_LEN: W(8), OUT_LEN: W(9),
  /** The core is asleep on IN_HEAD. */
  CORE_WAITING: W(10),
  /** The main thread waits for CONSUMED to reach this (else NO_WANT): the core publishes as soon as it has. */
  WANT: W(11),
} as const;
const CTL_WORDS = W(12);
const NO_WANT = 0x7fffffff;

export interface SharedBlock {
  ctl: SharedArrayBuffer;
  inRing: SharedArrayBuffer;
  outRing: SharedArrayBuffer;
  inBox: SharedArrayBuffer;
  outBox: SharedArrayBuffer;
  capacity: number;
}

/** A single-producer single-consumer ring of records over shared memory. */
export class Ring {
  private readonly data: Float64Array;
  constructor(private readonly ctl: Int32Array, buf: SharedArrayBuffer, private readonly cap: number, private readonly head: number, private readonly tail: number) {
    this.data = new Float64Array(buf);
  }

  /** The producer's head, ahead of the published one by the records staged since `publish`. */
  private staged = -1;

  /**
   * Writes `rec` after the staged records without making it visible (`publish` does, for all of
   * them at once: one shared write per batch); false when full (publish, wait, retry).
   */
  stage(rec: Float64Array): boolean {
    if (this.staged < 0) this.staged = Atomics.load(this.ctl, this.head);
    const h = this.staged, t = Atomics.load(this.ctl, this.tail);
    if (((h - t) | 0) >= this.cap) return false;
    this.data.set(rec, ((h >>> 0) % this.cap) * REC);
    this.staged = (h + 1) | 0;
    return true;
  }

  /** Makes the staged records visible to the consumer. */
  publish(): void {
    if (this.staged >= 0 && this.staged !== Atomics.load(this.ctl, this.head)) Atomics.store(this.ctl, this.head, this.staged);
  }

  /** Appends `rec`; false when full (the caller waits and retries). */
  tryPush(rec: Float64Array): boolean {
    const h = Atomics.load(this.ctl, this.head), t = Atomics.load(this.ctl, this.tail);
    if (((h - t) | 0) >= this.cap) return false;
    this.data.set(rec, (h % this.cap >>> 0) * REC);
    Atomics.store(this.ctl, this.head, (h + 1) | 0);
    return true;
  }

  /** Copies the oldest record into `out`; false when empty. */
  tryPop(out: Float64Array): boolean {
    const h = Atomics.load(this.ctl, this.head), t = Atomics.load(this.ctl, this.tail);
    if (h === t) return false;
    const at = ((t >>> 0) % this.cap) * REC, d = this.data;
    for (let i = 0; i < REC; i++) out[i] = d[at + i]!;
    Atomics.store(this.ctl, this.tail, (t + 1) | 0);
    return true;
  }
}

export function newSharedBlock(capacity = 4096, boxBytes = 4 << 20): SharedBlock {
  return {
    ctl: new SharedArrayBuffer(CTL_WORDS * 4),
    inRing: new SharedArrayBuffer(capacity * REC * 8),
    outRing: new SharedArrayBuffer(capacity * REC * 8),
    inBox: new SharedArrayBuffer(boxBytes),
    outBox: new SharedArrayBuffer(boxBytes),
    capacity,
  };
}

/** Writes `bytes` into a mailbox; its length into ctl[lenIdx]. */
export function putBox(ctl: Int32Array, lenIdx: number, box: SharedArrayBuffer, bytes: Uint8Array): void {
  if (bytes.length > box.byteLength) throw new Error(`SMMU host: a message of ${bytes.length} bytes exceeds the ${box.byteLength}-byte mailbox`);
  new Uint8Array(box).set(bytes);
  Atomics.store(ctl, lenIdx, bytes.length);
}

export function takeBox(ctl: Int32Array, lenIdx: number, box: SharedArrayBuffer): Uint8Array {
  const n = Atomics.load(ctl, lenIdx);
  return new Uint8Array(box).slice(0, n);
}

/** The worker's task: `workerMain` in host-worker.ts runs the core over these until IN_STOP. */
export interface WorkerTask {
  block: SharedBlock;
  config: SmmuConfig;
  timing: HostTiming;
}

export { IN_STOP };

/** The core loop over a shared block (the body of the worker task; also callable on a thread of a test). */
export function runCoreLoop(task: WorkerTask): void {
  const b = task.block;
  const ctl = new Int32Array(b.ctl);
  const inRing = new Ring(ctl, b.inRing, b.capacity, CTL.IN_HEAD, CTL.IN_TAIL);
  const outRing = new Ring(ctl, b.outRing, b.capacity, CTL.OUT_HEAD, CTL.OUT_TAIL);
  const rec = new Float64Array(REC);
  const bell = (): void => {
    Atomics.add(ctl, CTL.BELL, 1);
    if (Atomics.load(ctl, CTL.MAIN_WAITING) !== 0) Atomics.notify(ctl, CTL.BELL);
  };
  // Outputs are staged and published in batches, with the count of inputs consumed: outputs
  // first, then CONSUMED, so the main thread that sees the count finds their outputs.
  let unpublished = 0, consumed = 0;
  const flush = (): void => {
    outRing.publish();
    if (unpublished !== 0) { Atomics.add(ctl, CTL.CONSUMED, unpublished); unpublished = 0; }
    bell();
  };
  const emit = (o: Float64Array): void => {
    while (!outRing.stage(o)) { flush(); Atomics.wait(ctl, CTL.OUT_TAIL, Atomics.load(ctl, CTL.OUT_TAIL), 5); }
  };
  /** The next input, waiting for it (spinning first: the main thread is usually close behind); publishes before waiting. */
  const next = (): void => {
    if (inRing.tryPop(rec)) return;
    flush();
    for (let spin = 0; !inRing.tryPop(rec); spin++) {
      if (spin > SPIN) {
        // Empty means head == tail, and only this thread moves tail: sleep while head is still
        // that value (a push after the flag is set is noticed by the wait itself).
        Atomics.store(ctl, CTL.CORE_WAITING, 1);
        Atomics.wait(ctl, CTL.IN_HEAD, Atomics.load(ctl, CTL.IN_TAIL), 5);
        Atomics.store(ctl, CTL.CORE_WAITING, 0);
      }
    }
  };
  const memRec = new Float64Array(REC);
  const port: CorePort = {
    emit,
    readNow(pa, out, attrs) {
      memRec.fill(0); memRec[0] = OUT_MEMREAD; memRec[3] = pa; memRec[4] = attrs;
      emit(memRec);
      flush();
      next();
      if (rec[0] !== IN_MEMANS) throw new Error(`SMMU worker: expected a memory answer, got input kind ${rec[0]}`);
      out.lo = rec[4]!; out.hi = rec[5]!;
      return rec[3] === 1;
    },
    writeNow(pa, lo, hi, attrs, size) {
      memRec.fill(0); memRec[0] = OUT_MEMWRITE; memRec[3] = pa; memRec[4] = lo >>> 0; memRec[5] = hi >>> 0; memRec[6] = attrs; memRec[7] = size;
      emit(memRec);
      flush();
      next();
      if (rec[0] !== IN_MEMANS) throw new Error(`SMMU worker: expected a memory answer, got input kind ${rec[0]}`);
      return rec[3] === 1;
    },
  };
  const core = new SmmuCore(task.config, task.timing, port);
  const retRec = new Float64Array(REC);
  try {
    for (;;) {
      next();
      const kind = rec[0]!;
      if (kind === IN_STOP) { flush(); Atomics.store(ctl, CTL.STATUS, 1); bell(); return; }
      if (kind === IN_CALL) {
        const { name, args } = unpack(takeBox(ctl, CTL.IN_LEN, b.inBox)) as { name: string; args: unknown[] };
        const ret = core.call(rec[1]!, name, args);
        putBox(ctl, CTL.OUT_LEN, b.outBox, pack(ret ?? null));
        retRec.fill(0); retRec[0] = OUT_CALLRET;
        // Counted as consumed when the answer goes out, so the main thread sees both together.
        unpublished++; consumed++;
        emit(retRec);
        flush();
        continue;
      }
      core.input(rec, 0);
      consumed++;
      if (++unpublished >= 32 || consumed >= Atomics.load(ctl, CTL.WANT)) flush();
    }
  } catch (e) {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    try { putBox(ctl, CTL.OUT_LEN, b.outBox, pack(msg)); } catch { /* the message is lost; STATUS still says failed */ }
    Atomics.store(ctl, CTL.STATUS, 2);
    bell();
  }
}

// ---------------------------------------------------------------------------------------------
// The main-thread side
// ---------------------------------------------------------------------------------------------

/** Thrown when the worker fails or stops answering: the run ends with this message. */
export class SmmuWorkerError extends Error {}

export interface HostOptions {
  /** 0: the engine runs on this thread; 1: in a piscina worker thread. */
  readonly threads: 0 | 1;
  /** How long the main thread waits for a silent worker before giving up (ms). */
  readonly stallTimeoutMs?: number;
  /** Cycles the SMMU spends on each command after a doorbell (default 16, assumed). */
  readonly commandCycles?: number;
  /** Worker module URL (tests); default the built host-worker.js. */
  readonly workerUrl?: URL;
}

/**
 * One kept piscina pool of one thread per worker module: hosts that run one after another (a
 * bench, a sweep worker, a test file) reuse its thread, whose compiled code stays warm. Its
 * thread is started with the pool: a thread started later would need this thread's event loop
 * to become ready, and the host blocks it. A host created while that thread is taken gets a pool
 * of its own (destroyed on close). Idle pool threads do not keep the process alive.
 */
const POOLS = new Map<string, { pool: Piscina; busy: boolean }>();
function takePool(url: string): { pool: Piscina; shared: boolean } {
  let p = POOLS.get(url);
  if (p === undefined) {
    p = { pool: new Piscina({ filename: url, minThreads: 1, maxThreads: 1, idleTimeout: Number.MAX_SAFE_INTEGER }), busy: false };
    POOLS.set(url, p);
  }
  if (!p.busy) { p.busy = true; return { pool: p.pool, shared: true }; }
  return { pool: new Piscina({ filename: url, minThreads: 1, maxThreads: 1 }), shared: false };
}

function defaultWorkerUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('../../dist/src/smmu/host-worker.js', import.meta.url) : new URL('./host-worker.js', import.meta.url);
}

/**
 * The main-thread side: takes translation requests from DMA masters at their cycle, performs the
 * engine's descriptor reads at theirs on `mem`, applies its writes, and delivers each result at
 * the cycle it is due. See the file comment for the protocol.
 */
export class SmmuHost {
  /** The minimum latency L of an output after its input (cycles): how far the main thread runs ahead. */
  readonly lookahead: number;
  readonly control: SmmuControl;
  readonly threads: 0 | 1;
  /** Inline: the core itself. */
  private readonly core: SmmuCore | undefined;
  private readonly handler: number;
  private readonly cmdHandler: number;
  private readonly ansHandler: number;
  private readonly mergedHandler: number;
  // Per translation id: its request (KEY numbers: sid, ssid or -1, iova hi, iova lo, access,
  // privileged, attrs or -1), when it was asked for, whether it is walking, the requests merged
  // into it (a chain: waitHead, then waitNext), and for a merged one the answer it will get.
  private readonly keys: number[] = [];
  private readonly askedAt: number[] = [];
  private readonly isWalking: number[] = [];
  private readonly waitHead: number[] = [];
  private readonly waitNext: number[] = [];
  private readonly mergedPa: number[] = [];
  private readonly mergedAttrs: number[] = [];
  private readonly mergedPerms: number[] = [];
  /** Ids of the translations walking now (few: at most the requests in flight). */
  private readonly walkers: number[] = [];
  private readonly mergedResult = newSmmuResult();
  /** Data of descriptor reads performed and not yet answered (their line was slower than descriptorReadCycles), by translation id. */
  private readonly ansLo: number[] = [];
  private readonly ansHi: number[] = [];
  private cmdBusy = false;
  /** Cycles per command consumed after a doorbell (`doorbell`). */
  readonly commandCycles: number;
  // Translation ids: client and tag per id, free list.
  private clients: Array<TranslateClient | undefined> = [];
  private tags: number[] = [];
  private readonly freeIds: number[] = [];
  private inFlight = 0;
  // Outputs produced by the core, not yet scheduled (emission order).
  private pend = new Float64Array(64 * REC);
  private pendCount = 0;
  // Outputs scheduled on the event queue (event arg = slot + 1).
  private slots = new Float64Array(64 * REC);
  private readonly freeSlots: number[] = [];
  private slotCount = 0;
  // The last checkpoints scheduled at +translateCycles and +descriptorReadCycles (each series only grows).
  private lastCheckTc = -1;
  private lastCheckDrc = -1;
  // Inputs sent (worker): their cycles in order, for the wait rule.
  private sentTimes = new Float64Array(1024);
  private sentHead = 0;
  private sentCount = 0;
  private readonly rec = new Float64Array(REC);
  private readonly result = newSmmuResult();
  private readonly d: Dword = { lo: 0, hi: 0 };
  /** The access an OUT_READ record names (reused: a read, or an HTTU compare-and-swap). */
  private readonly access = { readPa: 0, readAttrs: 0, cas: false, casOldLo: 0, casOldHi: 0, casNewLo: 0, casNewHi: 0 };
  // Worker case.
  private readonly pool: Piscina | undefined;
  /** The worker's task (settles when its loop ends); aborting it terminates the thread. */
  private task: Promise<void> | undefined;
  private readonly abort = new AbortController();
  /** Gives the pool back (the shared one) or destroys it (one of its own). */
  private release: () => void | Promise<void> = () => undefined;
  private readonly block: SharedBlock | undefined;
  private readonly ctl: Int32Array | undefined;
  private readonly inRing: Ring | undefined;
  private readonly outRing: Ring | undefined;
  private readonly timeoutMs: number;
  private failed: string | undefined;
  private closed = false;
  /** Host-side counters (not simulation results): checkpoints, waits for the worker, calls. */
  readonly hostStats = { checkpoints: 0, waits: 0, calls: 0 };

  constructor(
    private readonly q: EventQueue,
    private readonly mem: SmmuMemory,
    config: SmmuConfig,
    readonly timing: HostTiming,
    opts: HostOptions,
    name = 'system.smmu0',
  ) {
    const L = Math.min(timing.translateCycles, timing.descriptorReadCycles);
    if (L < 1) throw new RangeError(`translateCycles and descriptorReadCycles: expected at least 1 (the SMMU host's lookahead), got ${L}`);
    this.lookahead = L;
    this.threads = opts.threads;
    this.timeoutMs = opts.stallTimeoutMs ?? 60_000;
    this.handler = q.register(`${name}.host`, (a) => this.onEvent(a));
    this.cmdHandler = q.register(`${name}.cmdq`, () => this.commandStep());
    this.ansHandler = q.register(`${name}.answer`, (id) => this.answer(id, true, this.ansLo[id]!, this.ansHi[id]!));
    this.mergedHandler = q.register(`${name}.merged`, (w) => this.answerMerged(w));
    this.commandCycles = opts.commandCycles ?? 16;
    if (!Number.isSafeInteger(this.commandCycles) || this.commandCycles < 1) throw new RangeError(`commandCycles: expected a positive integer, got ${this.commandCycles}`);
    if (opts.threads === 0) {
      const port: CorePort = {
        emit: (o) => this.addPending(o),
        readNow: (pa, out, attrs) => this.mem.read64(pa, out, attrs),
        writeNow: (pa, lo, hi, attrs, size) => (size === 8 ? this.mem.write64(pa, lo, hi, attrs) : this.mem.write32(pa, lo, attrs)),
      };
      this.core = new SmmuCore(config, timing, port);
      this.control = new InlineControl(this.core, q);
    } else {
      this.block = newSharedBlock();
      this.ctl = new Int32Array(this.block.ctl);
      Atomics.store(this.ctl, CTL.WANT, NO_WANT);
      this.inRing = new Ring(this.ctl, this.block.inRing, this.block.capacity, CTL.IN_HEAD, CTL.IN_TAIL);
      this.outRing = new Ring(this.ctl, this.block.outRing, this.block.capacity, CTL.OUT_HEAD, CTL.OUT_TAIL);
      const url = (opts.workerUrl ?? defaultWorkerUrl()).href;
      const taken = takePool(url);
      this.pool = taken.pool;
      this.release = taken.shared ? () => { POOLS.get(url)!.busy = false; } : () => this.pool!.destroy();
      const task: WorkerTask = { block: this.block, config, timing };
      this.task = this.pool.run(task, { signal: this.abort.signal }).then(() => undefined, (e: unknown) => {
        // Seen only when the main thread next waits (it polls STATUS and this flag).
        this.failed ??= e instanceof Error ? e.message : String(e);
      });
      this.control = new WorkerControl(this, config);
    }
  }

  /**
   * Translates `req` from this cycle (read at once, not kept); `client.onTranslated(tag, result)`
   * runs at the cycle the result is due.
   *
   * Misses are merged, as a TBU holds a request whose page already has a walk in flight: a request
   * for the same 4 KiB page as a translation that is walking (it has made a read), with the same
   * stream, substream, access, privilege and attributes, does not start a walk of its own. When
   * the walk ends it is answered as an IOTLB hit would be (via 'tlb', no reads, its own page
   * offset), no sooner than translateCycles after it asked; if the walk ended in anything but a
   * translation it is translated afresh then (and meets its own fault). Both thread modes do this
   * on the simulation's thread. Counted in `stats.missesMerged`.
   */
  translate(req: SmmuRequest, client: TranslateClient, tag: number): void {
    const id = this.freeIds.pop() ?? this.clients.length;
    this.clients[id] = client;
    this.tags[id] = tag;
    this.inFlight++;
    const k = id * KEY, key = this.keys;
    key[k] = req.streamId >>> 0; key[k + 1] = req.ssv === true ? (req.substreamId ?? 0) >>> 0 : -1;
    if (typeof req.iova === 'number') { key[k + 2] = Math.floor(req.iova / TWO_32); key[k + 3] = req.iova % TWO_32; } else { key[k + 2] = req.iova.hi >>> 0; key[k + 3] = req.iova.lo >>> 0; }
    key[k + 4] = req.access; key[k + 5] = req.privileged === true ? 1 : 0; key[k + 6] = req.attrs ?? -1;
    this.askedAt[id] = this.q.now;
    this.waitHead[id] = -1;
    this.isWalking[id] = 0;
    const leader = this.walkingLeader(id);
    if (leader >= 0) {
      this.waitNext[id] = this.waitHead[leader]!;
      this.waitHead[leader] = id;
      this.stats.missesMerged++;
      return;
    }
    this.request(id);
  }

  /** Host counters that are simulation results (the engine's are in `control.stats`). */
  readonly stats = { missesMerged: 0 };

  /** Sends translation `id` (its request in `keys`) to the engine now. */
  private request(id: number): void {
    const r = this.rec, k = id * KEY, key = this.keys;
    r.fill(0);
    r[0] = IN_REQ; r[1] = this.q.now; r[2] = id;
    for (let i = 0; i < KEY; i++) r[3 + i] = key[k + i]!;
    this.send(r);
    this.checkpoints();
  }

  /** A walking translation whose request matches `id`'s but for the offset in the 4 KiB page, or -1. */
  private walkingLeader(id: number): number {
    const key = this.keys, k = id * KEY, page = Math.floor(key[k + 3]! / 4096);
    const ws = this.walkers;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i]!, j = w * KEY;
      if (key[j] === key[k] && key[j + 1] === key[k + 1] && key[j + 2] === key[k + 2] && Math.floor(key[j + 3]! / 4096) === page
        && key[j + 4] === key[k + 4] && key[j + 5] === key[k + 5] && key[j + 6] === key[k + 6]) return w;
    }
    return -1;
  }

  /** A merged request `w` gets its answer: the walk's translation at its own offset, as a hit. */
  private answerMerged(w: number): void {
    const x = this.mergedResult;
    resetSmmuResult(x);
    x.via = 'tlb';
    x.pa = this.mergedPa[w]!; x.attrs = this.mergedAttrs[w]!; x.perms = this.mergedPerms[w]!;
    this.deliver(w, x);
  }

  /** Hands translation `id`'s result to its client and frees the id. */
  private deliver(id: number, x: SmmuResult): void {
    const client = this.clients[id]!, tag = this.tags[id]!;
    this.clients[id] = undefined;
    this.freeIds.push(id);
    this.inFlight--;
    client.onTranslated(tag, x);
  }

  /** Worker: copies the worker's counters into `control.stats` (the object the stats registry holds). */
  refreshStats(): void {
    if (this.core === undefined && !this.closed) void this.control.stats;
  }

  /** Translations requested and not yet delivered. */
  get pending(): number { return this.inFlight; }

  /**
   * Software wrote CMDQ_PROD (the doorbell): the SMMU consumes the queue one command per
   * `commandCycles`, each executed at the end of its time, so CMDQ_CONS moves over time and a
   * driver polls it (IHI 0070 leaves the rate to the implementation: a named platform property,
   * smmu.commandCycles). A doorbell while commands are being consumed changes nothing: the
   * consumer goes on until the queue is empty or stopped by an error.
   */
  doorbell(): void {
    if (this.cmdBusy) return;
    this.cmdBusy = true;
    this.q.schedule(this.cmdHandler, this.commandCycles, 0);
  }

  /** Commands consumed through doorbells since the host was built. */
  commandsConsumed = 0;

  private commandStep(): void {
    const n = this.control.processCommands(1);
    this.commandsConsumed += n;
    if (n === 0) { this.cmdBusy = false; return; }
    this.q.schedule(this.cmdHandler, this.commandCycles, 0);
  }

  /**
   * Ends the worker's task (if any): a clean stop when it is running and answering, else its thread
   * is terminated. The pool's threads are shared by every host of the process (their compiled
   * code stays warm) and do not keep it alive. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pool === undefined) return;
    const r = this.rec;
    r.fill(0); r[0] = IN_STOP; r[1] = this.q.now;
    // A loop that ended by itself (STATUS 1 or 2) or a task that settled needs no signal; a running
    // loop gets IN_STOP; one that never started (or hangs) is terminated after a grace period.
    if (this.failed === undefined && Atomics.load(this.ctl!, CTL.STATUS) === 0) {
      if (this.inRing!.tryPush(r)) Atomics.notify(this.ctl!, CTL.IN_HEAD);
      const timer = setTimeout(() => this.abort.abort(), 2000);
      await this.task;
      clearTimeout(timer);
    } else {
      await this.task;
    }
    await this.release();
  }

  // --- inputs -------------------------------------------------------------------------------

  private send(r: Float64Array): void {
    if (this.core !== undefined) { this.core.input(r, 0); return; }
    this.noteSent(r[1]!);
    this.push(r);
  }

  private push(r: Float64Array): void {
    if (!this.inRing!.tryPush(r)) this.waitFor(() => this.inRing!.tryPush(r), true);
    if (Atomics.load(this.ctl!, CTL.CORE_WAITING) !== 0) Atomics.notify(this.ctl!, CTL.IN_HEAD);
  }

  private noteSent(t: number): void {
    if (this.sentCount - this.sentHead >= this.sentTimes.length) {
      const n = new Float64Array(this.sentTimes.length * 2);
      for (let i = this.sentHead; i < this.sentCount; i++) n[i % n.length] = this.sentTimes[i % this.sentTimes.length]!;
      this.sentTimes = n;
    }
    this.sentTimes[this.sentCount % this.sentTimes.length] = t;
    this.sentCount++;
  }

  // --- outputs ------------------------------------------------------------------------------

  private addPending(o: Float64Array): void {
    if ((this.pendCount + 1) * REC > this.pend.length) {
      const n = new Float64Array(this.pend.length * 2);
      n.set(this.pend);
      this.pend = n;
    }
    this.pend.set(o, this.pendCount * REC);
    this.pendCount++;
  }

  /** Worker: moves what the core has written into the pending list, answering nothing. */
  private drain(): void {
    const o = this.rec;
    while (this.outRing!.tryPop(o)) {
      if (o[0] === OUT_CALLRET || o[0] === OUT_MEMREAD || o[0] === OUT_MEMWRITE) throw new SmmuWorkerError('SMMU worker: a call answer outside a call');
      this.addPending(o);
    }
  }

  /** After sending a translation step at this cycle: checkpoints where its one output can be due. */
  private checkpoints(): void {
    const now = this.q.now, tc = this.timing.translateCycles, drc = this.timing.descriptorReadCycles;
    if (now + tc > this.lastCheckTc) { this.lastCheckTc = now + tc; this.q.schedule(this.handler, tc, 0); }
    if (drc !== tc && now + drc > this.lastCheckDrc) { this.lastCheckDrc = now + drc; this.q.schedule(this.handler, drc, 0); }
  }

  private onEvent(a: number): void {
    if (a === 0) { this.checkpoint(); return; }
    const s = a - 1, o = this.slots, at = s * REC;
    this.freeSlots.push(s);
    const kind = o[at]!;
    if (kind === OUT_READ) {
      const id = o[at + 2]!, pa = o[at + 3]!, attrs = o[at + 4]!;
      if (this.isWalking[id] === 0) { this.isWalking[id] = 1; this.walkers.push(id); }   // later requests for its page may merge
      const a = this.access;
      a.readPa = pa; a.readAttrs = attrs; a.cas = o[at + 5] === 1;
      a.casOldLo = o[at + 6]!; a.casOldHi = o[at + 7]!; a.casNewLo = o[at + 8]!; a.casNewHi = o[at + 9]!;
      const ok = readOrSwap(this.mem, a, this.d);
      // Performed now (its due cycle); its data is back when where the line is allows, never
      // sooner than descriptorReadCycles after the step that asked (the lookahead rests on that).
      const late = ok && this.mem.readLatency !== undefined ? this.mem.readLatency(pa, attrs) - this.timing.descriptorReadCycles : 0;
      if (late > 0) {
        this.ansLo[id] = this.d.lo; this.ansHi[id] = this.d.hi;
        this.q.schedule(this.ansHandler, late, id);
      } else {
        this.answer(id, ok, this.d.lo, this.d.hi);
      }
    } else if (kind === OUT_WRITE) {
      const pa = o[at + 3]!, lo = o[at + 4]!, hi = o[at + 5]!, attrs = o[at + 6]!;
      const ok = o[at + 7] === 8 ? this.mem.write64(pa, lo, hi, attrs) : this.mem.write32(pa, lo, attrs);
      this.recordWritten(pa, ok);
    } else if (kind === OUT_RESULT) {
      const id = o[at + 2]!, x = this.result;
      decodeResult(o, at + 3, x);
      if (this.isWalking[id] === 1) {
        const ws = this.walkers, i = ws.indexOf(id), last = ws.pop()!;   // no array allocated per walk
        if (last !== id) ws[i] = last;
      }
      // Requests merged into this walk: answered from it (or translated afresh), taken before the
      // client's callback can reuse the id.
      for (let w = this.waitHead[id]!; w >= 0; w = this.waitNext[w]!) {
        if (x.status !== 'ok') { this.request(w); continue; }
        this.mergedPa[w] = x.pa + (this.keys[w * KEY + 3]! - this.keys[id * KEY + 3]!);   // same 4 KiB page: its own offset
        this.mergedAttrs[w] = x.attrs; this.mergedPerms[w] = x.perms;
        const due = this.askedAt[w]! + this.timing.translateCycles;
        this.q.schedule(this.mergedHandler, due > this.q.now ? due - this.q.now : 0, w);
      }
      this.deliver(id, x);
    }
  }

  /** The answer to descriptor read of translation `id` (its data, or an abort) goes to the engine now. */
  private answer(id: number, ok: boolean, lo: number, hi: number): void {
    const r = this.rec;
    r.fill(0);
    r[0] = IN_ANS; r[1] = this.q.now; r[2] = id; r[3] = ok ? 1 : 0; r[4] = ok ? lo : 0; r[5] = ok ? hi : 0;
    this.send(r);
    this.checkpoints();
  }

  // The event record the last OUT_WRITE belonged to, its words performed so far, and whether one aborted.
  private evRecord = -1;
  private evWords = 0;
  private evAborted = false;

  /**
   * Bookkeeping for a write the engine made outside a call: only event records are (4 words of a
   * 32-byte entry, emitted one after the other, so performed one after the other at their due
   * cycle). The first aborted word of a record is reported to the engine (eventWriteAborted) as a
   * call at this cycle, in both thread modes.
   */
  private recordWritten(pa: number, ok: boolean): void {
    const rec = Math.floor(pa / 32);
    if (rec !== this.evRecord || this.evWords === 4) { this.evRecord = rec; this.evWords = 0; this.evAborted = false; }
    this.evWords++;
    if (ok || this.evAborted) return;
    this.evAborted = true;
    if (this.core !== undefined) this.core.sync(this.q.now, () => this.core!.engine.eventWriteAborted());
    else this.call('eventWriteAborted', []);
  }

  /** Checkpoint at this cycle X: schedule every output due at X (waiting for the worker to have them). */
  private checkpoint(): void {
    const X = this.q.now;
    this.hostStats.checkpoints++;
    if (this.core === undefined) {
      // Outputs due at X come from inputs at or before X - L: wait until the core has consumed those.
      const limit = X - this.lookahead;
      while (this.sentHead < this.sentCount && this.sentTimes[this.sentHead % this.sentTimes.length]! <= limit) this.sentHead++;
      const need = this.sentHead;
      if (Atomics.load(this.ctl!, CTL.CONSUMED) < need) {
        this.hostStats.waits++;
        Atomics.store(this.ctl!, CTL.WANT, need);
        this.waitFor(() => Atomics.load(this.ctl!, CTL.CONSUMED) >= need, true);
        Atomics.store(this.ctl!, CTL.WANT, NO_WANT);
      }
      this.drain();
    }
    // Outputs due now, in production order; keep the rest (each is due at a later checkpoint).
    const p = this.pend;
    let keep = 0;
    for (let i = 0; i < this.pendCount; i++) {
      const at = i * REC;
      if (p[at + 1]! <= X) {
        const s = this.freeSlots.pop() ?? this.newSlot(), so = this.slots, to = s * REC;
        for (let k = 0; k < REC; k++) so[to + k] = p[at + k]!;
        this.q.schedule(this.handler, 0, s + 1);
      } else {
        if (keep !== i) p.copyWithin(keep * REC, at, at + REC);
        keep++;
      }
    }
    this.pendCount = keep;
  }

  private newSlot(): number {
    const s = this.slotCount++;
    if (this.slotCount * REC > this.slots.length) {
      const n = new Float64Array(this.slots.length * 2);
      n.set(this.slots);
      this.slots = n;
    }
    return s;
  }

  // --- worker calls -------------------------------------------------------------------------

  /** A synchronous call on the worker's engine at this cycle, after every earlier input. */
  call(name: string, args: unknown[]): unknown {
    if (this.core !== undefined) throw new Error('SmmuHost.call: inline hosts call the engine directly');
    if (this.closed) throw new SmmuWorkerError(`SMMU host: '${name}' called after close()`);
    this.hostStats.calls++;
    const ctl = this.ctl!;
    putBox(ctl, CTL.IN_LEN, this.block!.inBox, pack({ name, args }));
    const r = new Float64Array(REC);
    r[0] = IN_CALL; r[1] = this.q.now;
    this.noteSent(this.q.now);
    this.push(r);
    const o = new Float64Array(REC);
    for (;;) {
      let got = false;
      this.waitFor(() => (got = this.outRing!.tryPop(o)), false);
      if (!got) continue;
      const kind = o[0]!;
      if (kind === OUT_CALLRET) return unpack(takeBox(ctl, CTL.OUT_LEN, this.block!.outBox));
      if (kind === OUT_MEMREAD) {
        const ok = this.mem.read64(o[3]!, this.d, o[4]!);
        const a = new Float64Array(REC);
        a[0] = IN_MEMANS; a[3] = ok ? 1 : 0; a[4] = ok ? this.d.lo : 0; a[5] = ok ? this.d.hi : 0;
        this.push(a);
      } else if (kind === OUT_MEMWRITE) {
        const ok = o[7] === 8 ? this.mem.write64(o[3]!, o[4]!, o[5]!, o[6]!) : this.mem.write32(o[3]!, o[4]!, o[6]!);
        const a = new Float64Array(REC);
        a[0] = IN_MEMANS; a[3] = ok ? 1 : 0;
        this.push(a);
      } else this.addPending(o);
    }
  }

  /**
   * Waits until `ready()` (polled; with `drain`, outputs are moved to the pending list meanwhile
   * so the worker never blocks on a full ring), spinning first and then sleeping on the core's bell. Throws SmmuWorkerError if
   * the worker failed or has said nothing for `timeoutMs`.
   */
  private waitFor(ready: () => boolean, drain: boolean): void {
    const ctl = this.ctl!;
    let last = Date.now(), bell = Atomics.load(ctl, CTL.BELL);
    for (let spin = 0; !ready(); spin++) {
      if (drain) this.drain();
      const st = Atomics.load(ctl, CTL.STATUS);
      if (st === 2) {
        let msg = 'no message';
        try { msg = String(unpack(takeBox(ctl, CTL.OUT_LEN, this.block!.outBox))).split('\n')[0]!; } catch { /* keep 'no message' */ }
        this.failed = msg;
      }
      if (this.failed !== undefined) throw new SmmuWorkerError(`SMMU worker failed: ${this.failed}`);
      if (st === 1) throw new SmmuWorkerError('SMMU worker stopped while the simulation still needed it');
      const b = Atomics.load(ctl, CTL.BELL);
      if (b !== bell) { bell = b; last = Date.now(); spin = 0; continue; }
      if (spin < SPIN) continue;
      Atomics.store(ctl, CTL.MAIN_WAITING, 1);
      Atomics.wait(ctl, CTL.BELL, b, 20);
      Atomics.store(ctl, CTL.MAIN_WAITING, 0);
      if (Date.now() - last > this.timeoutMs) throw new SmmuWorkerError(`SMMU worker did not answer for ${Math.round(this.timeoutMs / 1000)} s (crashed or stuck)`);
    }
  }
}

/** SmmuControl over the engine on this thread: each method runs as a call at the current cycle. */
class InlineControl implements SmmuControl {
  private readonly e: SmmuEngine;
  constructor(private readonly core: SmmuCore, private readonly q: EventQueue) { this.e = core.engine; }
  get config(): SmmuConfig { return this.e.config; }
  get stats(): SmmuStats { return this.e.stats; }
  get onCommand(): SmmuControl['onCommand'] { return this.e.onCommand; }
  set onCommand(f: SmmuControl['onCommand']) { this.e.onCommand = f; }
  mmioRead(offset: number, size: 4 | 8 = 4): [number, number] { return this.core.sync(this.q.now, () => this.e.mmioRead(offset, size)); }
  mmioWrite(offset: number, size: 4 | 8, lo: number, hi = 0): void { this.core.sync(this.q.now, () => this.e.mmioWrite(offset, size, lo, hi)); }
  processCommands(max?: number): number { return this.core.sync(this.q.now, () => this.e.processCommands(max)); }
  statsSnapshot(): ReturnType<SmmuEngine['statsSnapshot']> { return this.e.statsSnapshot(); }
  takeCompletions(): SmmuCompletion[] { return this.core.sync(this.q.now, () => this.e.takeCompletions()); }
  stalledTransactions(): Array<{ stag: number; streamId: number }> { return this.e.stalledTransactions(); }
  broadcastTlbi(op: number, addr: number, vaTop: number, asid: number, vmid: number): number {
    return this.core.sync(this.q.now, () => this.e.broadcastTlbi(op, addr, vaTop, asid, vmid));
  }
}

/** SmmuControl over the worker's engine: every method is a synchronous call. */
class WorkerControl implements SmmuControl {
  private readonly counters = new SmmuStats();
  onCommand: ((command: SmmuCommand, error: number) => void) | undefined = undefined;

  constructor(private readonly host: SmmuHost, readonly config: SmmuConfig) {}

  get stats(): SmmuStats {
    Object.assign(this.counters, this.host.call('stats', []));
    return this.counters;
  }

  /** The counters object (stats registry), refreshed by each read of `stats`. */
  get statsObject(): SmmuStats { return this.counters; }

  mmioRead(offset: number, size: 4 | 8 = 4): [number, number] { return this.host.call('mmioRead', [offset, size]) as [number, number]; }
  mmioWrite(offset: number, size: 4 | 8, lo: number, hi = 0): void { this.host.call('mmioWrite', [offset, size, lo, hi]); }

  processCommands(max?: number): number {
    const { n, log } = this.host.call('processCommands', [this.onCommand !== undefined, max ?? null]) as { n: number; log: Array<[SmmuCommand, number]> | null };
    if (log !== null && this.onCommand !== undefined) for (const [c, err] of log) this.onCommand(c, err);
    return n;
  }

  statsSnapshot(): ReturnType<SmmuEngine['statsSnapshot']> { return this.host.call('statsSnapshot', []) as ReturnType<SmmuEngine['statsSnapshot']>; }

  takeCompletions(): SmmuCompletion[] {
    const list = this.host.call('takeCompletions', []) as Array<{ streamId: number; stag: number; result: number[] }>;
    return list.map((c) => ({ streamId: c.streamId, stag: c.stag, result: resultFromWire(c.result) }));
  }

  stalledTransactions(): Array<{ stag: number; streamId: number }> { return this.host.call('stalledTransactions', []) as Array<{ stag: number; streamId: number }>; }

  broadcastTlbi(op: number, addr: number, vaTop: number, asid: number, vmid: number): number {
    return this.host.call('broadcastTlbi', [op, addr, vaTop, asid, vmid]) as number;
  }
}
