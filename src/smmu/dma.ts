/**
 * A simple DMA engine behind the SMMU: copy, fill and checksum over IOVA ranges, issued by
 * StreamID/SubstreamID, translated by the SMMU through its `SmmuHost` and performed on a
 * `PathMemory` (coherent or not, as the translation's final attributes and IDR0.COHACC decide).
 *
 * Timing (all numbers per master, `DmaConfig`, assumed): a job runs as a sequence of beats of at
 * most `beatBytes` that never cross a 4 KiB page. Each beat is translated first — `translateCycles`
 * for every translation plus, for each STE/CD/descriptor read the engine made (none on an IOTLB
 * hit), at least `descriptorReadCycles`: each read is performed at its own cycle by the host, and
 * on a platform its data comes back when the level holding its line allows (a PE's cache, the L3,
 * DRAM: SmmuMemory.readLatency) — and its data
 * access is performed on the memory path when the answer arrives, after which the beat occupies `beatCycles`. Everything runs on the System's event
 * queue, one event at a time, so DMA interleaves with the PEs in simulated time. A copy is a read
 * beat then a write beat.
 *
 * Faults: a translation that aborts ends the job with status 'fault' (the event, if the rules
 * record it, is in the SMMU's event queue in memory: the engine wrote it); RAZ/WI reads zeros
 * and drops writes; a stalled translation waits, polling for the engine's RESUME / STALL_TERM
 * answer every `stallPollCycles`.
 *
 * Contract: `submit` only queues; nothing moves until the queue runs. Jobs of one master run in
 * submission order. The data movement stays on the simulation's thread whether the engine runs
 * there or in a worker.
 *
 * Leaves out: outstanding-transaction parallelism (one beat at a time), ATS, PCIe ordering rules,
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
}

export const DEFAULT_DMA_CONFIG: DmaConfig = Object.freeze({
  translateCycles: 8, descriptorReadCycles: 60, beatCycles: 4, beatBytes: 64, stallPollCycles: 100,
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
  faults = 0; razWi = 0; stalls = 0;
}

// ---------------------------------------------------------------------------------------------
// Pieces every device behind the SMMU shares (DmaMaster here, StreamDevice in stream-device.ts)
// ---------------------------------------------------------------------------------------------

/** FNV-1a (32-bit) start value: the checksum of nothing. */
export const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const PAGE = 4096;

/** FNV-1a (32-bit) of `b[0..n)`, continuing from `h` (start with `FNV_OFFSET`). */
export function fnv1a(h: number, b: Uint8Array, n: number): number {
  for (let i = 0; i < n; i++) h = Math.imul(h ^ b[i]!, FNV_PRIME) >>> 0;
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
}

const ACT_TRANSLATE = 0, ACT_DATA = 1, ACT_STALL_POLL = 2;

interface Running {
  spec: DmaJobSpec;
  res: DmaJobResult;
  onDone: ((r: DmaJobResult) => void) | undefined;
  /** Bytes of the job completed (a copy beat counts once its write is done). */
  offset: number;
  /** Copy: the read half of the current beat is done and `beat` holds its data. */
  haveData: boolean;
  beatLen: number;
}

export class DmaMaster extends SmmuDevice {
  readonly stats = new DmaStats();
  /** Every job ever submitted, in order (results fill in as they run). */
  readonly jobs: DmaJobResult[] = [];
  /** How many bytes of read data each job keeps in `data` (checks). */
  keepBytes = 256;
  private readonly queue: Running[] = [];
  private cur: Running | null = null;
  private scheduled = false;
  private readonly beat: Uint8Array;
  // The data access the current translation resolved, performed by the ACT_DATA event.
  private pendPa = 0;
  private pendAttrs = 0;
  private pendWrite = false;
  private pendRazWi = false;
  private stag = -1;
  // The translation in flight (one at a time).
  private xlIova = 0;
  private xlWrite = false;
  /** Cycle the current translation was asked for (its cost is the time to its answer). */
  private xlAt = 0;
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
    this.beat = new Uint8Array(cfg.beatBytes);
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
      startCycle: -1, endCycle: -1, translations: 0, tlbHits: 0, descriptorReads: 0, translateCycles: 0, razWi: 0, stalls: 0, fault: null, data: [],
    };
    this.jobs.push(res);
    this.queue.push({ spec, res, onDone, offset: 0, haveData: false, beatLen: 0 });
    this.stats.jobs++;
    if (!this.scheduled) { this.scheduled = true; this.q.schedule(this.handler, 0, ACT_TRANSLATE); }
    return res;
  }

  protected step(action: number): void {
    this.scheduled = false;
    if (action === ACT_DATA) { this.data(); return; }
    if (action === ACT_STALL_POLL) { this.pollStall(); return; }
    let r = this.cur;
    if (r === null) {
      r = this.queue.shift() ?? null;
      if (r === null) return;
      this.cur = r;
      r.res.status = 'running';
      r.res.startCycle = this.q.now;
    }
    if (r.offset >= r.spec.bytes) { this.finish(r, 'done'); return; }
    const s = r.spec;
    const reading = s.op === 'checksum' || (s.op === 'copy' && !r.haveData);
    if (!r.haveData) {
      // A beat: bounded by the beat size at the address it starts at, the end, and 4 KiB pages of both sides.
      const a = reading ? s.src! + r.offset : s.dst! + r.offset;
      let n = Math.min(this.cfg.beatBytes - (a % this.cfg.beatBytes), s.bytes - r.offset, PAGE - (a % PAGE));
      if (s.op === 'copy') n = Math.min(n, PAGE - ((s.dst! + r.offset) % PAGE));
      r.beatLen = n;
    }
    const iova = reading ? s.src! + r.offset : s.dst! + r.offset;
    this.xlIova = iova;
    this.xlWrite = !reading;
    this.xlAt = this.q.now;
    this.scheduled = true;   // the translation's answer continues this master's chain of events
    this.translate(s.streamId, s.substreamId, s.ssv, iova, !reading, s.privileged, 0);
  }

  onTranslated(_tag: number, t: SmmuResult): void {
    this.scheduled = false;
    this.afterTranslate(this.cur!, t, this.xlIova, this.xlWrite, 0, this.q.now - this.xlAt);
  }

  /**
   * Takes a translation's answer, which cost `cycles`, `wait` cycles before it is in effect: 0 when
   * the host delivers it at the cycle it completes (the cost is the time it took), its whole cost
   * for a stalled transaction's completion (its retry made its reads at RESUME time, charged here
   * by `translationCycles`).
   */
  private afterTranslate(r: Running, t: SmmuResult, iova: number, write: boolean, wait: number, cycles: number): void {
    const res = r.res, st = this.stats;
    res.translations++; st.translations++;
    if (t.via === 'tlb') { res.tlbHits++; st.tlbHits++; }
    res.descriptorReads += t.reads; st.descriptorReads += t.reads;
    res.translateCycles += cycles; st.translateCycles += cycles;
    if (this.timeline !== undefined) traceTranslation(this.timeline, this.tlXlate!, this.q.now + wait - cycles, cycles, t, iova, write, r.spec.streamId, r.spec.ssv ? r.spec.substreamId ?? 0 : undefined);
    if (t.status === 'stalled') {
      res.stalls++; st.stalls++;
      this.stag = t.stag;
      this.pendWrite = write;
      this.schedule(wait + this.cfg.stallPollCycles, ACT_STALL_POLL);
      return;
    }
    if (t.status === 'abort') {
      st.faults++;
      res.fault = translationFault(t, iova, write, this.q.now + wait);
      this.schedule(wait, ACT_DATA);   // the abort reaches the device when the translation ends
      this.pendRazWi = false;
      this.pendPa = -1;
      return;
    }
    this.pendPa = t.pa;
    this.pendAttrs = t.attrs;
    this.pendWrite = write;
    this.pendRazWi = t.status === 'raz-wi';
    if (this.pendRazWi) { res.razWi++; st.razWi++; }
    this.schedule(wait, ACT_DATA);
  }

  private schedule(delay: number, action: number): void {
    this.scheduled = true;
    this.q.schedule(this.handler, delay, action);
  }

  private pollStall(): void {
    const r = this.cur!;
    const c = claimCompletion(this.engine, r.spec.streamId, this.stag);
    if (c === null) { this.schedule(this.cfg.stallPollCycles, ACT_STALL_POLL); return; }
    const s = r.spec, reading = !this.pendWrite;
    const iova = reading ? s.src! + r.offset : s.dst! + r.offset;
    // The retried translation's reads were made by the engine at RESUME time; charge them here.
    const cost = translationCycles(this.cfg, c.result);
    this.afterTranslate(r, c.result, iova, this.pendWrite, cost, cost);
  }

  /** The data access of the current beat, at the end of its translation. */
  private data(): void {
    const r = this.cur!, s = r.spec, res = r.res, st = this.stats;
    if (this.pendPa < 0) { this.finish(r, 'fault'); return; }
    const n = r.beatLen, b = this.beat;
    let ok = true;
    if (!this.pendWrite) {
      if (this.pendRazWi) b.fill(0, 0, n);
      else ok = this.mem.readBytes(this.pendPa, b, 0, n, this.pendAttrs);
      if (ok) {
        st.bytesRead += n;
        res.checksum = fnv1a(res.checksum, b, n);
        for (let i = 0; i < n && res.data.length < this.keepBytes; i++) res.data.push(b[i]!);
        if (s.op === 'copy') r.haveData = true;
        else { r.offset += n; res.bytesDone = r.offset; }
      }
    } else {
      if (s.op === 'fill') b.fill((s.value ?? 0) & 0xff, 0, n);
      if (!this.pendRazWi) ok = this.mem.writeBytes(this.pendPa, b, 0, n, this.pendAttrs);
      if (ok) {
        st.bytesWritten += n;
        r.haveData = false;
        r.offset += n;
        res.bytesDone = r.offset;
      }
    }
    if (!ok) {
      // No region decodes the PA: an external abort to the device (no SMMU event: the SMMU translated).
      st.faults++;
      res.fault = { iova: '', access: this.pendWrite ? 'write' : 'read', event: 'external-abort', recorded: false, cycle: this.q.now };
      this.finish(r, 'fault');
      return;
    }
    st.beats++;
    st.dataCycles += this.cfg.beatCycles;
    if (this.timeline !== undefined) this.timeline.span(this.tlJobs!, this.pendWrite ? 'write beat' : 'read beat', 'dma', this.q.now, this.q.now + this.cfg.beatCycles, { pa: `0x${this.pendPa.toString(16)}`, bytes: n, razWi: this.pendRazWi });
    this.schedule(this.cfg.beatCycles, ACT_TRANSLATE);
  }

  private finish(r: Running, status: 'done' | 'fault'): void {
    r.res.status = status;
    r.res.endCycle = this.q.now;
    if (this.timeline !== undefined) this.traceJob(r);
    this.cur = null;
    r.onDone?.(r.res);
    // onDone may have submitted (and so scheduled) the next job already: one event chain per master.
    if (this.queue.length > 0 && !this.scheduled) this.schedule(0, ACT_TRANSLATE);
  }

  private traceJob(r: Running): void {
    const tl = this.timeline!, res = r.res, s = r.spec;
    if (!tl.wants(res.startCycle)) { tl.dropped++; return; }
    const args: TimelineArgs = {
      streamId: s.streamId, bytes: s.bytes, bytesDone: res.bytesDone, status: res.status, translations: res.translations, tlbHits: res.tlbHits,
      descriptorReads: res.descriptorReads, translateCycles: res.translateCycles,
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
  if (!Number.isInteger(Math.log2(c.beatBytes)) || c.beatBytes < 16 || c.beatBytes > PAGE) throw new RangeError(`beatBytes: expected a power of two 16..4096, got ${c.beatBytes}`);
  return Object.freeze(c);
}
