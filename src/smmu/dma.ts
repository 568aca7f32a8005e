/**
 * A simple DMA engine behind the SMMU: copy, fill and checksum over IOVA ranges, issued by
 * StreamID/SubstreamID, translated by the SMMU through its `SmmuHost` and performed on a
 * `PathMemory` (coherent or not, as the translation's final attributes and IDR0.COHACC decide).
 *
 * Timing (all numbers per master, `DmaConfig`, assumed): a job runs as a sequence of beats of at
 * most `beatBytes` that never cross a 4 KiB page, with up to `outstandingBeats` of them in flight.
 * Beats are translated in order, one translation at a time (a copy's source, then its
 * destination): `translateCycles` for every translation plus, for each STE/CD/descriptor read the
 * engine made (none on an IOTLB hit), at least `descriptorReadCycles` — each read is performed at
 * its own cycle by the host, and on a platform its data comes back when the level holding its line
 * allows (a PE's cache, the L3, DRAM: SmmuMemory.readLatency). Once a beat is translated, a read's
 * lines are requested together and its data is back when the slowest has come (the same timing as
 * descriptor reads, SmmuMemory.dataLatency; `dataWaitCycles`), and the next beat's translation
 * starts. Transfers use the device port in beat order, one at a time, each as soon as its data is
 * there and the port is free, for `beatCycles` (a copy: a read beat then a write beat, twice
 * that); the data access is performed on the memory path when the transfer starts (a copy writes
 * the bytes it has just read). A beat holds its place in the window until its transfer ends.
 * Everything runs on the System's event queue, so DMA interleaves with the PEs in simulated time.
 *
 * Faults: a translation that aborts ends the job with status 'fault' once the beats before it have
 * transferred (the event, if the rules record it, is in the SMMU's event queue in memory: the
 * engine wrote it), and nothing after it moves; an access no region decodes (external abort) ends
 * the job the same way at its transfer. RAZ/WI reads zeros and drops writes; a stalled translation
 * holds the translation stage (beats already translated still transfer), polling for the engine's
 * RESUME / STALL_TERM answer every `stallPollCycles`.
 *
 * Contract: `submit` only queues; nothing moves until the queue runs. Jobs of one master run in
 * submission order. The data movement stays on the simulation's thread whether the engine runs
 * there or in a worker.
 *
 * Leaves out: translations of several beats at once, overlapping jobs, ATS, PCIe ordering rules,
 * MSIs for completion (the scenario polls `busy` or uses `onDone`).
 */
import type { EventQueue } from '../sim/index.js';
import type { Timeline, TimelineArgs, TimelineTrack } from '../sim/index.js';
import { SmmuAccess, type SmmuCompletion, type SmmuRequest, type SmmuResult } from './engine.js';
import type { SmmuControl, SmmuHost, TranslateClient } from './host.js';
import { eventName } from './events.js';
import type { PathMemory } from './memory.js';

export interface DmaConfig {
  /** Cycles per translation, IOTLB hit included (assumed: gem5 SMMUv3.py ifc_smmu_lat 8 + uTLB/main-TLB lookups). */
  readonly translateCycles: number;
  /**
   * Cycles per STE, CD or descriptor read on a miss (assumed: one interconnect round trip to the
   * system cache), and the least a read takes on a platform, where the level holding its line sets
   * its time (SmmuMemory.readLatency: a PE's cache by a snoop, the L3, DRAM).
   */
  readonly descriptorReadCycles: number;
  /** Cycles a data beat occupies the device port (assumed: 64 bytes at 16 B/cycle, gem5 port width 16 B). */
  readonly beatCycles: number;
  /** Largest data beat in bytes (a power of two, 16..4096). */
  readonly beatBytes: number;
  /** How often a stalled transfer looks for its RESUME answer (assumed). */
  readonly stallPollCycles: number;
  /**
   * Beats the DMA master keeps in flight, from the start of their translation to the end of their
   * transfer (1..64; assumed 8: a copy engine keeps several reads outstanding, as an AXI master
   * with 8 read IDs would). 1 models an engine with a single outstanding access.
   */
  readonly outstandingBeats: number;
}

export const DEFAULT_DMA_CONFIG: DmaConfig = Object.freeze({
  translateCycles: 8, descriptorReadCycles: 60, beatCycles: 4, beatBytes: 64, stallPollCycles: 100, outstandingBeats: 8,
});

export type DmaOp = 'copy' | 'fill' | 'checksum';

export interface DmaJobSpec {
  readonly op: DmaOp;
  readonly streamId: number;
  /** With `ssv`. */
  readonly substreamId?: number;
  readonly ssv?: boolean;
  /** Source IOVA (copy, checksum). */
  readonly src?: number;
  /** Destination IOVA (copy, fill). */
  readonly dst?: number;
  readonly bytes: number;
  /** Fill byte (0..255). */
  readonly value?: number;
  /** PnU of the transactions. */
  readonly privileged?: boolean;
  /** A label carried into the result. */
  readonly tag?: string;
}

export interface DmaFault {
  /** The IOVA of the beat that faulted (hex). */
  readonly iova: string;
  readonly access: 'read' | 'write';
  /** The event the SMMU raised ('none' for a silent abort), and whether it went into the queue. */
  readonly event: string;
  readonly recorded: boolean;
  readonly cycle: number;
}

export interface DmaJobResult {
  readonly id: number;
  readonly op: DmaOp;
  readonly tag: string;
  status: 'queued' | 'running' | 'done' | 'fault';
  /** Bytes read (checksum, copy) or written (fill, copy) so far. */
  bytesDone: number;
  /** FNV-1a (32-bit) of the bytes read (checksum, copy), as the device saw them. */
  checksum: number;
  startCycle: number;
  endCycle: number;
  translations: number;
  tlbHits: number;
  /** STE/CD/descriptor reads the translations of this job made. */
  descriptorReads: number;
  /** Cycles spent translating (translateCycles + descriptor reads). */
  translateCycles: number;
  /** Cycles its reads waited for their data to come back from where their lines were, summed. */
  dataWaitCycles: number;
  razWi: number;
  stalls: number;
  fault: DmaFault | null;
  /** The first `keepBytes` bytes the job read (copy, checksum), for checks. */
  readonly data: number[];
}

/** Per-master counters (registered by the platform as system.smmu0.dma0.*). */
export class DmaStats {
  jobs = 0; beats = 0; bytesRead = 0; bytesWritten = 0;
  translations = 0; tlbHits = 0; descriptorReads = 0; translateCycles = 0; dataCycles = 0;
  /** Cycles reads waited for their data to come back from where their lines were, summed. */
  dataWaitCycles = 0;
  faults = 0; razWi = 0; stalls = 0;
}

// ---------------------------------------------------------------------------------------------
// Pieces every device behind the SMMU shares (DmaMaster here, StreamDevice in stream-device.ts)
// ---------------------------------------------------------------------------------------------

/** FNV-1a (32-bit) start value: the checksum of nothing. */
export const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const PAGE = 4096;

/** FNV-1a (32-bit) of `b[at..at+n)`, continuing from `h` (start with `FNV_OFFSET`). */
export function fnv1a(h: number, b: Uint8Array, n: number, at = 0): number {
  for (let i = at, end = at + n; i < end; i++) h = Math.imul(h ^ b[i]!, FNV_PRIME) >>> 0;
  return h;
}

/**
 * What a translation made at once (a stalled one's retry at RESUME time) is charged:
 * `translateCycles`, plus `descriptorReadCycles` per STE/CD/descriptor read the engine made (none
 * on an IOTLB hit). Translations through the host are charged the cycles they took instead (each
 * read at least `descriptorReadCycles`, more when its line is far: SmmuMemory.readLatency).
 */
export const translationCycles = (cfg: DmaConfig, t: SmmuResult): number => cfg.translateCycles + t.reads * cfg.descriptorReadCycles;

/** The fault a device sees for a translation that aborted, at `cycle` (when the abort reaches it): the engine's event, or 'none' for a silent abort. */
export function translationFault(t: SmmuResult, iova: number, write: boolean, cycle: number): DmaFault {
  return { iova: `0x${iova.toString(16)}`, access: write ? 'write' : 'read', event: t.event === null ? 'none' : eventName(t.event.type), recorded: t.recorded, cycle };
}

/** Completions taken from an engine but not yet claimed by the device that owns them. */
const unclaimed = new WeakMap<SmmuControl, SmmuCompletion[]>();

/**
 * The answer to the stalled transaction (`streamId`, `stag`) once software gave it (CMD_RESUME,
 * CMD_STALL_TERM), else null. The engine hands out completions once (`takeCompletions`), so they
 * are kept per engine until their device claims them: any number of devices can share an SMMU.
 */
export function claimCompletion(engine: SmmuControl, streamId: number, stag: number): SmmuCompletion | null {
  let list = unclaimed.get(engine);
  if (list === undefined) { list = []; unclaimed.set(engine, list); }
  list.push(...engine.takeCompletions());
  const i = list.findIndex((c) => c.stag === stag && c.streamId === streamId >>> 0);
  return i < 0 ? null : list.splice(i, 1)[0]!;
}

/** A translation as a span on an SMMU timeline track (`cycles` long from `now`), with what the engine answered. */
export function traceTranslation(
  tl: Timeline, track: TimelineTrack, now: number, cycles: number, t: SmmuResult, iova: number, write: boolean,
  streamId: number, substreamId: number | undefined,
): void {
  if (!tl.wants(now)) { tl.dropped++; return; }
  const args: TimelineArgs = {
    streamId, iova: `0x${iova.toString(16)}`, access: write ? 'write' : 'read', status: t.status, via: t.via, reads: t.reads, walkReads: t.walkReads,
  };
  if (substreamId !== undefined) args.substreamId = substreamId;
  if (t.status === 'ok' || t.status === 'raz-wi') args.pa = `0x${t.pa.toString(16)}`;
  if (t.event !== null) { args.event = eventName(t.event.type); args.recorded = t.recorded; }
  tl.span(track, t.via === 'tlb' ? 'translate (IOTLB hit)' : `translate (${t.via})`, 'smmu', now, now + cycles, args);
}

/**
 * A device behind the SMMU: its instance name, the System's event queue (one handler, `step`, takes
 * every event of the device), the engine that translates for it, the memory paths its data
 * accesses take, and the timing of both (`DmaConfig`).
 */
export abstract class SmmuDevice implements TranslateClient {
  protected readonly handler: number;
  /** The SMMU's registers and completions (stalls). */
  readonly engine: SmmuControl;
  constructor(
    readonly name: string,
    protected readonly q: EventQueue,
    /** Translations go through the host: each answer arrives at the cycle it is due (`onTranslated`). */
    protected readonly host: SmmuHost,
    readonly mem: PathMemory,
    readonly cfg: DmaConfig = DEFAULT_DMA_CONFIG,
  ) {
    this.handler = q.register(`${name}.step`, (a) => this.step(a));
    this.engine = host.control;
  }

  /** Runs one event of this device (`arg` as it was scheduled). */
  protected abstract step(arg: number): void;

  private readonly req: SmmuRequest = { streamId: 0, substreamId: 0, ssv: false, iova: 0, access: SmmuAccess.Read, privileged: false };

  /** Asks the host for a translation (the request is read at once, so one object serves every request). */
  protected translate(streamId: number, substreamId: number | undefined, ssv: boolean | undefined, iova: number, write: boolean, privileged: boolean | undefined, tag: number): void {
    const r = this.req;
    r.streamId = streamId; r.substreamId = substreamId; r.ssv = ssv; r.iova = iova;
    r.access = write ? SmmuAccess.Write : SmmuAccess.Read; r.privileged = privileged;
    this.host.translate(r, this, tag);
  }

  /** A translation this device asked for (`tag` as it gave it), at the cycle it completes. */
  abstract onTranslated(tag: number, result: SmmuResult): void;

  /** Cycles until a read of [pa, pa+len) has all its data (SmmuMemory.dataLatency; 0 without a memory system). */
  protected dataWait(pa: number, len: number, attrs: number): number {
    return this.mem.dataLatency !== undefined ? this.mem.dataLatency(pa, len, attrs) : 0;
  }
}

const ACT_TRANSLATE = 0, ACT_PORT = 1, ACT_STALL_POLL = 2;

interface Running {
  spec: DmaJobSpec;
  res: DmaJobResult;
  onDone: ((r: DmaJobResult) => void) | undefined;
}

/**
 * The beats of the running job between the start of their translation and the end of their
 * transfer, oldest first, in a ring of `outstandingBeats` slots (typed arrays: nothing is
 * allocated per beat). A beat's data bytes live in `bytes` at slot * beatBytes.
 */
class BeatRing {
  readonly off: Float64Array; readonly len: Int32Array;
  /** Source (reads) and destination (writes) of each beat: PA, attributes, RAZ/WI. */
  readonly srcPa: Float64Array; readonly srcAttrs: Float64Array; readonly srcRaz: Uint8Array;
  readonly dstPa: Float64Array; readonly dstAttrs: Float64Array; readonly dstRaz: Uint8Array;
  /** Cycle the beat's data is at the device (reads: back from where its lines were). */
  readonly readyAt: Float64Array;
  /** 1 once every translation the beat needs has answered; 2 if one aborted. */
  readonly state: Uint8Array;
  head = 0; count = 0;
  constructor(readonly size: number) {
    this.off = new Float64Array(size); this.len = new Int32Array(size);
    this.srcPa = new Float64Array(size); this.srcAttrs = new Float64Array(size); this.srcRaz = new Uint8Array(size);
    this.dstPa = new Float64Array(size); this.dstAttrs = new Float64Array(size); this.dstRaz = new Uint8Array(size);
    this.readyAt = new Float64Array(size); this.state = new Uint8Array(size);
  }
  /** Slot of the k-th beat from the oldest. */
  at(k: number): number { const i = this.head + k; return i >= this.size ? i - this.size : i; }
}

const BEAT_TRANSLATING = 0, BEAT_READY = 1, BEAT_FAULTED = 2;

export class DmaMaster extends SmmuDevice {
  readonly stats = new DmaStats();
  /** Every job ever submitted, in order (results fill in as they run). */
  readonly jobs: DmaJobResult[] = [];
  /** How many bytes of read data each job keeps in `data` (checks). */
  keepBytes = 256;
  private readonly queue: Running[] = [];
  private cur: Running | null = null;
  private readonly ring: BeatRing;
  /** One buffer of beatBytes per ring slot (a copy's data waits there for its write). */
  private readonly bytes: Uint8Array;
  // The translation stage: one translation in flight, beats in order.
  /** Job offset of the next beat to start translating. */
  private nextOff = 0;
  /** The ring slot being translated (-1: none), and whether its destination side is the one asked. */
  private xlSlot = -1;
  private xlDst = false;
  /** Cycle the current translation was asked for (its cost is the time to its answer). */
  private xlAt = 0;
  private xlScheduled = false;
  private stag = -1;
  /** No more beats start: a translation aborted or a transfer hit an external abort. */
  private stopIssue = false;
  // The port stage: transfers in beat order, one at a time.
  private portFreeAt = 0;
  private portScheduled = false;
  /** The head beat is transferring until portFreeAt. */
  private transferring = false;
  /** The run's timeline while it records (`setTimeline`); tested before any tracing work. */
  timeline: Timeline | undefined = undefined;
  private tlJobs: TimelineTrack | undefined = undefined;
  private tlXlate: TimelineTrack | undefined = undefined;

  /**
   * Records this master on `tl`: its jobs (with their data beats nested in them) on a track of
   * process `name`, and its translations on a track of the SMMU's process `smmuName` (translation
   * time: translateCycles plus descriptorReadCycles per read the engine made).
   */
  setTimeline(tl: Timeline, smmuName: string): void {
    this.tlJobs = tl.track(this.name, 'jobs', { process: 10001 });
    this.tlXlate = tl.track(smmuName, `translations (${this.name})`, { process: 10000, thread: 1 });
    this.timeline = tl;
  }

  constructor(name: string, q: EventQueue, host: SmmuHost, mem: PathMemory, cfg: DmaConfig = DEFAULT_DMA_CONFIG) {
    super(name, q, host, mem, cfg);
    this.ring = new BeatRing(cfg.outstandingBeats);
    this.bytes = new Uint8Array(cfg.outstandingBeats * cfg.beatBytes);
  }

  /** True while a job is queued or running. */
  get busy(): boolean { return this.cur !== null || this.queue.length > 0; }

  /** Queues a job; it starts when the master is free (at the earliest on the next event). Returns its live result. */
  submit(spec: DmaJobSpec, onDone?: (r: DmaJobResult) => void): DmaJobResult {
    if (!(spec.bytes > 0 && Number.isSafeInteger(spec.bytes))) throw new RangeError(`${this.name}: bytes must be a positive integer (got ${spec.bytes})`);
    if ((spec.op === 'copy' || spec.op === 'checksum') && spec.src === undefined) throw new RangeError(`${this.name}: ${spec.op} needs src`);
    if ((spec.op === 'copy' || spec.op === 'fill') && spec.dst === undefined) throw new RangeError(`${this.name}: ${spec.op} needs dst`);
    const res: DmaJobResult = {
      id: this.jobs.length, op: spec.op, tag: spec.tag ?? '', status: 'queued', bytesDone: 0, checksum: FNV_OFFSET,
      startCycle: -1, endCycle: -1, translations: 0, tlbHits: 0, descriptorReads: 0, translateCycles: 0, dataWaitCycles: 0, razWi: 0, stalls: 0, fault: null, data: [],
    };
    this.jobs.push(res);
    this.queue.push({ spec, res, onDone });
    this.stats.jobs++;
    if (this.cur === null && !this.xlScheduled) this.scheduleTranslate(0);
    return res;
  }

  protected step(action: number): void {
    if (action === ACT_TRANSLATE) { this.xlScheduled = false; this.translateNext(); }
    else if (action === ACT_PORT) { this.portScheduled = false; this.port(); }
    else this.pollStall();
  }

  private scheduleTranslate(delay: number): void {
    this.xlScheduled = true;
    this.q.schedule(this.handler, delay, ACT_TRANSLATE);
  }

  /** Starts the next translation: the next beat's source (reads), then its destination (writes). */
  private translateNext(): void {
    let r = this.cur;
    if (r === null) {
      r = this.queue.shift() ?? null;
      if (r === null) return;
      this.cur = r;
      r.res.status = 'running';
      r.res.startCycle = this.q.now;
      this.nextOff = 0; this.stopIssue = false; this.transferring = false;
      this.ring.head = 0; this.ring.count = 0;
    }
    if (this.xlSlot >= 0 || this.stopIssue) return;
    const s = r.spec, ring = this.ring;
    let slot: number, dst: boolean;
    if (ring.count > 0 && ring.state[ring.at(ring.count - 1)] === BEAT_TRANSLATING) {
      // The newest beat is a copy whose source is translated: its destination next.
      slot = ring.at(ring.count - 1); dst = true;
    } else {
      if (this.nextOff >= s.bytes || ring.count === ring.size) return;   // all started, or the window is full: a transfer's end calls again
      slot = ring.at(ring.count++);
      const off = this.nextOff;
      // A beat: bounded by the beat size at the address it starts at, the end, and 4 KiB pages of both sides.
      const a = s.op === 'fill' ? s.dst! + off : s.src! + off;
      let n = Math.min(this.cfg.beatBytes - (a % this.cfg.beatBytes), s.bytes - off, PAGE - (a % PAGE));
      if (s.op === 'copy') n = Math.min(n, PAGE - ((s.dst! + off) % PAGE));
      ring.off[slot] = off; ring.len[slot] = n; ring.state[slot] = BEAT_TRANSLATING;
      this.nextOff = off + n;
      dst = s.op === 'fill';
    }
    this.xlSlot = slot; this.xlDst = dst; this.xlAt = this.q.now;
    this.translate(s.streamId, s.substreamId, s.ssv, this.xlIova(), dst, s.privileged, 0);
  }

  /** The IOVA the current translation is for. */
  private xlIova(): number {
    const s = this.cur!.spec, off = this.ring.off[this.xlSlot]!;
    return this.xlDst ? s.dst! + off : s.src! + off;
  }

  onTranslated(_tag: number, t: SmmuResult): void {
    this.afterTranslate(this.cur!, t, 0, this.q.now - this.xlAt);
  }

  /**
   * Takes a translation's answer, which cost `cycles`, `wait` cycles before it is in effect: 0 when
   * the host delivers it at the cycle it completes (the cost is the time it took), its whole cost
   * for a stalled transaction's completion (its retry made its reads at RESUME time, charged here
   * by `translationCycles`).
   */
  private afterTranslate(r: Running, t: SmmuResult, wait: number, cycles: number): void {
    const res = r.res, st = this.stats, ring = this.ring, slot = this.xlSlot, write = this.xlDst, iova = this.xlIova();
    res.translations++; st.translations++;
    if (t.via === 'tlb') { res.tlbHits++; st.tlbHits++; }
    res.descriptorReads += t.reads; st.descriptorReads += t.reads;
    res.translateCycles += cycles; st.translateCycles += cycles;
    if (this.timeline !== undefined) traceTranslation(this.timeline, this.tlXlate!, this.q.now + wait - cycles, cycles, t, iova, write, r.spec.streamId, r.spec.ssv ? r.spec.substreamId ?? 0 : undefined);
    if (t.status === 'stalled') {
      res.stalls++; st.stalls++;
      this.stag = t.stag;
      this.q.schedule(this.handler, wait + this.cfg.stallPollCycles, ACT_STALL_POLL);
      return;
    }
    const now = this.q.now + wait;
    this.xlSlot = -1;
    if (this.stopIssue) { this.kickPort(wait); return; }   // a transfer aborted meanwhile: the job ends
    if (t.status === 'abort') {
      // The abort reaches the device when the translation ends; the beats before it still transfer.
      if (res.fault === null) res.fault = translationFault(t, iova, write, now);
      ring.state[slot] = BEAT_FAULTED; ring.readyAt[slot] = now;
      this.stopIssue = true;
      this.kickPort(wait);
      return;
    }
    const raz = t.status === 'raz-wi' ? 1 : 0;
    if (raz === 1) { res.razWi++; st.razWi++; }
    if (write) { ring.dstPa[slot] = t.pa; ring.dstAttrs[slot] = t.attrs; ring.dstRaz[slot] = raz; }
    else { ring.srcPa[slot] = t.pa; ring.srcAttrs[slot] = t.attrs; ring.srcRaz[slot] = raz; }
    if (r.spec.op === 'copy' && !write) { this.scheduleTranslate(wait); return; }   // the destination next
    // Translated: a read's lines are requested now and its data comes back from where they are.
    const reads = r.spec.op !== 'fill';
    const lat = reads && ring.srcRaz[slot] === 0 ? this.dataWait(ring.srcPa[slot]!, ring.len[slot]!, ring.srcAttrs[slot]!) : 0;
    res.dataWaitCycles += lat; st.dataWaitCycles += lat;
    ring.state[slot] = BEAT_READY; ring.readyAt[slot] = now + lat;
    this.kickPort(wait);
    this.scheduleTranslate(wait);
  }

  private pollStall(): void {
    const r = this.cur!;
    const c = claimCompletion(this.engine, r.spec.streamId, this.stag);
    if (c === null) { this.q.schedule(this.handler, this.cfg.stallPollCycles, ACT_STALL_POLL); return; }
    // The retried translation's reads were made by the engine at RESUME time; charge them here.
    const cost = translationCycles(this.cfg, c.result);
    this.afterTranslate(r, c.result, cost, cost);
  }

  /** Makes sure the port stage looks at the head beat `delay` cycles from now (or sooner). */
  private kickPort(delay: number): void {
    if (this.portScheduled || this.transferring) return;    // the transfer's end looks again
    this.schedulePort(delay);
  }

  private schedulePort(delay: number): void {
    this.portScheduled = true;
    this.q.schedule(this.handler, delay, ACT_PORT);
  }

  /** The port stage: ends the transfer in progress, then starts the head beat's once its data is there and the port is free. */
  private port(): void {
    const r = this.cur;
    if (r === null) return;
    const ring = this.ring, now = this.q.now;
    if (this.transferring) {
      this.transferring = false;
      ring.head = ring.at(1); ring.count--;
      if (this.nextOff >= r.spec.bytes && ring.count === 0 && this.xlSlot < 0) { this.finish(r, 'done'); return; }
      if (!this.xlScheduled && this.xlSlot < 0) this.translateNext();   // a window slot is free
    }
    if (ring.count === 0) return;
    const h = ring.head, state = ring.state[h]!;
    if (state === BEAT_TRANSLATING) return;                 // its translation's answer calls again
    if (state === BEAT_FAULTED) {
      if (this.xlSlot < 0) this.finish(r, 'fault');
      return;
    }
    const start = ring.readyAt[h]! > this.portFreeAt ? ring.readyAt[h]! : this.portFreeAt;
    if (start > now) { this.schedulePort(start - now); return; }
    if (!this.transfer(r, h)) {
      this.stopIssue = true;
      if (this.xlSlot < 0) this.finish(r, 'fault');
      else ring.state[h] = BEAT_FAULTED;                   // the job ends once the translation in flight answers
      return;
    }
    this.transferring = true;
    this.schedulePort(this.portFreeAt - now);           // the transfer ends: the head's slot frees
  }

  /** Moves the data of beat slot `h` now (a copy: its read, then its write); false on an external abort. */
  private transfer(r: Running, h: number): boolean {
    const s = r.spec, res = r.res, st = this.stats, ring = this.ring, n = ring.len[h]!, b = this.bytes, at = h * this.cfg.beatBytes;
    const reads = s.op !== 'fill', writes = s.op !== 'checksum';
    let ok = true, beats = 0, failedWrite = false;
    if (reads) {
      if (ring.srcRaz[h] === 1) b.fill(0, at, at + n);
      else ok = this.mem.readBytes(ring.srcPa[h]!, b, at, n, ring.srcAttrs[h]!);
      if (ok) {
        st.bytesRead += n; beats++;
        res.checksum = fnv1a(res.checksum, b, n, at);
        for (let i = 0; i < n && res.data.length < this.keepBytes; i++) res.data.push(b[at + i]!);
        if (!writes) { res.bytesDone = ring.off[h]! + n; }
      }
    }
    if (ok && writes) {
      if (s.op === 'fill') b.fill((s.value ?? 0) & 0xff, at, at + n);
      if (ring.dstRaz[h] === 0) ok = this.mem.writeBytes(ring.dstPa[h]!, b, at, n, ring.dstAttrs[h]!);
      if (ok) { st.bytesWritten += n; beats++; res.bytesDone = ring.off[h]! + n; } else failedWrite = true;
    }
    if (!ok) {
      // No region decodes the PA: an external abort to the device (no SMMU event: the SMMU translated).
      if (res.fault === null) res.fault = { iova: '', access: failedWrite ? 'write' : 'read', event: 'external-abort', recorded: false, cycle: this.q.now };
      return false;
    }
    const cycles = beats * this.cfg.beatCycles;
    st.beats += beats;
    st.dataCycles += cycles;
    this.portFreeAt = this.q.now + cycles;
    if (this.timeline !== undefined) this.timeline.span(this.tlJobs!, s.op === 'checksum' ? 'read beat' : s.op === 'fill' ? 'write beat' : 'read + write beat', 'dma', this.q.now, this.portFreeAt, { pa: `0x${(reads ? ring.srcPa[h]! : ring.dstPa[h]!).toString(16)}`, bytes: n, razWi: (reads ? ring.srcRaz[h]! : ring.dstRaz[h]!) === 1 });
    return true;
  }

  private finish(r: Running, status: 'done' | 'fault'): void {
    if (status === 'fault') this.stats.faults++;
    r.res.status = status;
    r.res.endCycle = this.q.now;
    if (this.timeline !== undefined) this.traceJob(r);
    this.cur = null;
    r.onDone?.(r.res);
    // onDone may have submitted (and so scheduled) the next job already: one event chain per master.
    if (this.queue.length > 0 && !this.xlScheduled && this.cur === null) this.scheduleTranslate(0);
  }

  private traceJob(r: Running): void {
    const tl = this.timeline!, res = r.res, s = r.spec;
    if (!tl.wants(res.startCycle)) { tl.dropped++; return; }
    const args: TimelineArgs = {
      streamId: s.streamId, bytes: s.bytes, bytesDone: res.bytesDone, status: res.status, translations: res.translations, tlbHits: res.tlbHits,
      descriptorReads: res.descriptorReads, translateCycles: res.translateCycles, dataWaitCycles: res.dataWaitCycles,
    };
    if (s.src !== undefined) args.src = `0x${s.src.toString(16)}`;
    if (s.dst !== undefined) args.dst = `0x${s.dst.toString(16)}`;
    if (res.tag !== '') args.tag = res.tag;
    if (res.fault !== null) { args.fault = res.fault.event; args.faultIova = res.fault.iova; }
    tl.span(this.tlJobs!, `${s.op} ${s.bytes} B`, 'dma', res.startCycle, this.q.now, args);
  }
}

/** Checks a `DmaConfig` override set once; throws `RangeError` naming the field (the platform turns it into a UserError). */
export function resolveDmaConfig(over: Partial<DmaConfig> = {}): DmaConfig {
  const c = { ...DEFAULT_DMA_CONFIG, ...over };
  for (const k of ['translateCycles', 'descriptorReadCycles', 'beatCycles', 'stallPollCycles'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 0) throw new RangeError(`${k}: expected a non-negative integer, got ${String(c[k])}`);
  }
  if (c.stallPollCycles < 1) throw new RangeError('stallPollCycles: expected at least 1');
  if (!Number.isInteger(c.outstandingBeats) || c.outstandingBeats < 1 || c.outstandingBeats > 64) throw new RangeError(`outstandingBeats: expected an integer 1..64, got ${String(c.outstandingBeats)}`);
  if (!Number.isInteger(Math.log2(c.beatBytes)) || c.beatBytes < 16 || c.beatBytes > PAGE) throw new RangeError(`beatBytes: expected a power of two 16..4096, got ${c.beatBytes}`);
  return Object.freeze(c);
}
