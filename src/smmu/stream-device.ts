/**
 * A streaming DMA device behind the SMMU: it issues reads or writes of `bytes` by
 * StreamID/SubstreamID over an IOVA range at a set request rate (one request every
 * `intervalCycles`), with up to `maxOutstanding` requests in flight, for `count` requests or until
 * `stop()` — a NIC or a video engine rather than DmaMaster's copy engine.
 *
 * Timing (the same model and `DmaConfig` numbers as DmaMaster, `dma.ts`): each request is
 * translated by the engine when it issues, costing `translateCycles` plus at least
 * `descriptorReadCycles` per STE/CD/descriptor read the engine made (none on an IOTLB hit; more
 * when the read's line is far: SmmuMemory.readLatency); its data access is then performed
 * on the `PathMemory` (coherent or not, as the translation's attributes and IDR0.COHACC decide)
 * when the device port is free, and occupies the port for `beatCycles` per `beatBytes` of data.
 * A read's data first comes back from where its lines are (on a platform: the slowest line's
 * latency, SmmuMemory.dataLatency — a PE's cache by a snoop on the coherent path, the L3, DRAM;
 * `dataWaitCycles`); the lines are requested together, and other requests' transfers use the
 * port meanwhile. Writes are posted: they occupy the port only.
 * Translations of different requests overlap (the SMMU host keeps every one in flight, each walk
 * reading its descriptors at their own cycles: src/smmu/host.ts); data transfers do not (one
 * port). An IOTLB entry exists from the end of its walk; a request for a page whose walk is still
 * in flight waits for that walk and is answered as a hit (the host merges the misses:
 * SmmuHost.translate). A request is complete
 * at the end of its data transfer; its slot then frees. Requests issue at start + k *
 * intervalCycles, unless all `maxOutstanding` slots are busy: then the next request issues when one
 * frees, and the rate resumes from there (`throttledCycles` counts the delay).
 *
 * Faults: a translation that aborts ends its request with status 'fault' and the event the engine
 * recorded (`DmaFault`, as DmaMaster); RAZ/WI reads zeros and drops writes; a stalled translation
 * holds its slot and polls for the RESUME / STALL_TERM answer every `stallPollCycles`.
 * `stopOnFault` stops issuing after the first fault.
 *
 * Contract: `start` only schedules; nothing moves until the queue runs. One stream at a time per
 * device (start again once `busy` is false). Everything runs on the System's event queue, in a
 * fixed order, so runs are deterministic. Nothing is allocated per request unless `onRequest` is set.
 *
 * Leaves out: ATS, PCIe ordering, read data returned in pieces, back-pressure from the memory
 * system on the port (the data access itself is functional, as in DmaMaster).
 */
import { Histogram, type Timeline, type TimelineTrack } from '../sim/index.js';
import { FNV_OFFSET, SmmuDevice, claimCompletion, fnv1a, traceTranslation, translationCycles, translationFault, type DmaFault } from './dma.js';
import { newSmmuResult, type SmmuResult } from './engine.js';

export interface StreamSpec {
  readonly op: 'read' | 'write';
  readonly streamId: number;
  /** With `ssv`. */
  readonly substreamId?: number;
  readonly ssv?: boolean;
  /** First IOVA of the range, a multiple of `bytes`. */
  readonly base: number;
  /** Size of the range, a multiple of `bytes`: requests walk it in order and wrap around. */
  readonly rangeBytes: number;
  /** Bytes per request: a power of two 1..4096 (so a request never crosses a 4 KiB page). */
  readonly bytes: number;
  /** Cycles from one request issue to the next (at least 1): the request rate. */
  readonly intervalCycles: number;
  /** Requests in flight at most (translating, stalled, waiting for the port, or transferring). */
  readonly maxOutstanding: number;
  /** Requests to issue; omitted, the device streams until `stop()`. */
  readonly count?: number;
  /** Write data byte (0..255). */
  readonly value?: number;
  /** PnU of the transactions. */
  readonly privileged?: boolean;
  /** Stop issuing after the first faulting request (the ones in flight still finish). */
  readonly stopOnFault?: boolean;
}

/** One finished request (given to `onRequest`). */
export interface StreamRequest {
  /** Its place in the stream (0, 1, ...). */
  readonly index: number;
  readonly iova: number;
  readonly status: 'done' | 'fault';
  readonly issueCycle: number;
  readonly doneCycle: number;
  /** How the last translation was answered (SmmuResult.via). */
  readonly via: SmmuResult['via'];
  readonly descriptorReads: number;
  /** FNV-1a (32-bit) of the bytes read (reads; FNV_OFFSET for writes and faults). */
  readonly checksum: number;
  readonly razWi: boolean;
  readonly stalls: number;
  readonly fault: DmaFault | null;
}

/** Per-device counters (registered by the platform as system.smmu0.stream0.*). */
export class StreamStats {
  requests = 0; completed = 0; faults = 0; bytesRead = 0; bytesWritten = 0;
  translations = 0; tlbHits = 0; descriptorReads = 0; translateCycles = 0; dataCycles = 0;
  /** Cycles reads waited for their data to come back from where their lines were, summed. */
  dataWaitCycles = 0;
  stalls = 0; razWi = 0;
  /** Cycles issues were held back because `maxOutstanding` requests were in flight. */
  throttledCycles = 0;
  /** The most requests in flight at once. */
  maxInFlight = 0;
}

const ACT_ISSUE = 0, ACT_DATA = 1, ACT_DONE = 2, ACT_POLL = 3;

/** A request in flight; slots are reused, so a request allocates nothing. */
class Slot {
  busy = false;
  index = 0; iova = 0; issueCycle = 0;
  result: SmmuResult | null = null;
  /** The slot's copy of its translation's answer (the host reuses its result object). */
  readonly answer: SmmuResult = newSmmuResult();
  reads = 0; stalls = 0; stag = -1; checksum = FNV_OFFSET;
  /** Whether the read's data has come back from memory (set when its latency has passed). */
  arrived = false;
  fault: DmaFault | null = null;
  tlRequests: TimelineTrack | undefined = undefined;
  tlXlate: TimelineTrack | undefined = undefined;
}

export class StreamDevice extends SmmuDevice {
  readonly stats = new StreamStats();
  /** Request latency, issue to completion (faults included), in cycles. */
  readonly latency = new Histogram();
  /** Cycle of the first issue and of the last completion (-1 before there is one). */
  firstIssueCycle = -1;
  lastDoneCycle = -1;
  /** Called with each finished request. */
  onRequest: ((r: StreamRequest) => void) | undefined = undefined;
  /** Called once the stream has ended: nothing more to issue and nothing in flight. */
  onIdle: (() => void) | undefined = undefined;
  /** The run's timeline while it records (`setTimeline`). */
  timeline: Timeline | undefined = undefined;
  private smmuName = '';
  private spec: StreamSpec | null = null;
  private slots: Slot[] = [];
  private inFlight = 0;
  private issued = 0;
  private stopped = true;
  private nextIssueAt = 0;
  /** An issue event is in the queue. */
  private issueScheduled = false;
  /** The issue found every slot busy at this cycle (-1: it did not). */
  private heldSince = -1;
  private portFreeAt = 0;
  private dataCyclesPerRequest = 0;
  private readonly buf = new Uint8Array(4096);

  /** Records the requests (one track per request slot) and their translations (on SMMU process `smmuName`). */
  setTimeline(tl: Timeline, smmuName: string): void {
    this.timeline = tl;
    this.smmuName = smmuName;
    for (const s of this.slots) { s.tlRequests = undefined; s.tlXlate = undefined; }
  }

  /** True while the stream issues or has requests in flight. */
  get busy(): boolean { return !this.stopped || this.inFlight > 0; }

  /** Requests in flight now. */
  get outstanding(): number { return this.inFlight; }

  /** Bytes moved per 1000 cycles from the first issue to the last completion (0 before one completes). */
  bytesPerKcycle(): number {
    const span = this.lastDoneCycle - this.firstIssueCycle;
    return span <= 0 ? 0 : Math.round((1000 * (this.stats.bytesRead + this.stats.bytesWritten)) / span);
  }

  /** Starts a stream: the first request issues at the earliest on the next event. Throws RangeError on a bad spec. */
  start(spec: StreamSpec): void {
    if (this.busy) throw new RangeError(`${this.name}: a stream is running; stop it and wait until busy is false`);
    const int = (v: number, lo: number, k: string): void => {
      if (!Number.isSafeInteger(v) || v < lo) throw new RangeError(`${this.name}: ${k} must be an integer >= ${lo} (got ${v})`);
    };
    int(spec.bytes, 1, 'bytes');
    if (spec.bytes > 4096 || !Number.isInteger(Math.log2(spec.bytes))) throw new RangeError(`${this.name}: bytes must be a power of two 1..4096 (got ${spec.bytes})`);
    int(spec.base, 0, 'base'); int(spec.rangeBytes, spec.bytes, 'rangeBytes'); int(spec.intervalCycles, 1, 'intervalCycles'); int(spec.maxOutstanding, 1, 'maxOutstanding');
    if (spec.count !== undefined) int(spec.count, 0, 'count');
    if (spec.base % spec.bytes !== 0 || spec.rangeBytes % spec.bytes !== 0) throw new RangeError(`${this.name}: base and rangeBytes must be multiples of bytes (${spec.bytes})`);
    this.spec = spec;
    while (this.slots.length < spec.maxOutstanding) this.slots.push(new Slot());
    this.issued = 0;
    this.stopped = false;
    this.heldSince = -1;
    this.nextIssueAt = this.q.now;
    this.dataCyclesPerRequest = this.cfg.beatCycles * Math.ceil(spec.bytes / this.cfg.beatBytes);
    this.scheduleIssue(0);
  }

  /** Stops issuing; requests in flight finish. */
  stop(): void {
    if (this.stopped) return;
    this.halt();
    if (this.inFlight === 0) this.onIdle?.();
  }

  private halt(): void {
    this.stopped = true;
    if (this.heldSince >= 0) { this.stats.throttledCycles += this.q.now - this.heldSince; this.heldSince = -1; }
  }

  private scheduleIssue(delay: number): void {
    this.issueScheduled = true;
    this.q.schedule(this.handler, delay, ACT_ISSUE);
  }

  private schedule(slot: number, delay: number, action: number): void {
    this.q.schedule(this.handler, delay, slot * 4 + action);
  }

  protected step(arg: number): void {
    const action = arg & 3, i = arg >>> 2;
    if (action === ACT_ISSUE) { this.issueScheduled = false; this.issue(); }
    else if (action === ACT_DATA) this.data(i);
    else if (action === ACT_DONE) this.done(i);
    else this.poll(i);
  }

  private issue(): void {
    const spec = this.spec!, now = this.q.now;
    if (this.stopped) return;
    if (spec.count !== undefined && this.issued >= spec.count) { this.stop(); return; }
    if (now < this.nextIssueAt) { this.scheduleIssue(this.nextIssueAt - now); return; }
    if (this.inFlight === spec.maxOutstanding) { if (this.heldSince < 0) this.heldSince = now; return; }   // a completion issues
    if (this.heldSince >= 0) { this.stats.throttledCycles += now - this.heldSince; this.heldSince = -1; }
    let i = 0;
    while (this.slots[i]!.busy) i++;
    const s = this.slots[i]!;
    s.busy = true;
    s.index = this.issued++;
    s.iova = spec.base + (s.index * spec.bytes) % spec.rangeBytes;
    s.issueCycle = now;
    s.reads = 0; s.stalls = 0; s.stag = -1; s.checksum = FNV_OFFSET; s.fault = null; s.arrived = false;
    if (this.firstIssueCycle < 0) this.firstIssueCycle = now;
    const st = this.stats;
    st.requests++;
    if (++this.inFlight > st.maxInFlight) st.maxInFlight = this.inFlight;
    this.nextIssueAt = now + spec.intervalCycles;
    this.translate(spec.streamId, spec.substreamId, spec.ssv, s.iova, spec.op === 'write', spec.privileged, i);
    if (spec.count !== undefined && this.issued >= spec.count) this.halt();
    else if (!this.issueScheduled) this.scheduleIssue(spec.intervalCycles);
  }

  onTranslated(i: number, t: SmmuResult): void {
    // The host reuses its result object: keep a copy for the data access and the record.
    const s = this.slots[i]!;
    this.afterTranslate(i, Object.assign(s.answer, t), 0, this.q.now - s.issueCycle);   // asked for at issue
  }

  /**
   * Slot `i`'s translation answer, which cost `cycles`, `wait` cycles before it is in effect: 0
   * when the host delivers it at the cycle it completes, its whole cost for a stalled
   * transaction's completion.
   */
  private afterTranslate(i: number, t: SmmuResult, wait: number, cycles: number): void {
    const s = this.slots[i]!, st = this.stats, write = this.spec!.op === 'write';
    s.result = t;
    s.reads += t.reads;
    st.translations++; st.descriptorReads += t.reads; st.translateCycles += cycles;
    if (t.via === 'tlb') st.tlbHits++;
    if (this.timeline !== undefined) {
      s.tlXlate ??= this.timeline.track(this.smmuName, `translations (${this.name} slot ${i})`, { process: 10000, thread: 100 + i });
      traceTranslation(this.timeline, s.tlXlate, this.q.now + wait - cycles, cycles, t, s.iova, write, this.spec!.streamId, this.spec!.ssv ? this.spec!.substreamId ?? 0 : undefined);
    }
    if (t.status === 'stalled') {
      s.stalls++; st.stalls++;
      s.stag = t.stag;
      this.schedule(i, wait + this.cfg.stallPollCycles, ACT_POLL);
    } else if (t.status === 'abort') {
      s.fault = translationFault(t, s.iova, write, this.q.now + wait);
      this.schedule(i, wait, ACT_DONE);      // the abort reaches the device when the translation ends
    } else {
      if (t.status === 'raz-wi') st.razWi++;
      this.schedule(i, wait, ACT_DATA);
    }
  }

  private poll(i: number): void {
    const s = this.slots[i]!;
    const c = claimCompletion(this.engine, this.spec!.streamId, s.stag);
    if (c === null) { this.schedule(i, this.cfg.stallPollCycles, ACT_POLL); return; }
    // A retried translation's reads were made by the engine at RESUME time; they are charged here.
    const cost = translationCycles(this.cfg, c.result);
    this.afterTranslate(i, c.result, cost, cost);
  }

  /**
   * The data access of slot `i`, once its translation is done: a read first waits for its data
   * (the slowest of its lines, by where each is: SmmuMemory.dataLatency), then the transfer waits
   * for the port.
   */
  private data(i: number): void {
    const now = this.q.now;
    const s = this.slots[i]!, spec = this.spec!, t = s.result!, st = this.stats, n = spec.bytes, b = this.buf;
    const razWi = t.status === 'raz-wi';
    if (!s.arrived) {
      s.arrived = true;
      const wait = spec.op === 'read' && !razWi ? this.dataWait(t.pa, n, t.attrs) : 0;
      st.dataWaitCycles += wait;
      if (wait > 0) { this.schedule(i, wait, ACT_DATA); return; }
    }
    if (this.portFreeAt > now) { this.schedule(i, this.portFreeAt - now, ACT_DATA); return; }
    let ok = true;
    if (spec.op === 'read') {
      if (razWi) b.fill(0, 0, n);
      else ok = this.mem.readBytes(t.pa, b, 0, n, t.attrs);
      // The checksum is for `onRequest` (the only reader of it): without one, no time goes to it.
      if (ok) { st.bytesRead += n; if (this.onRequest !== undefined) s.checksum = fnv1a(FNV_OFFSET, b, n); }
    } else {
      b.fill((spec.value ?? 0) & 0xff, 0, n);
      if (!razWi) ok = this.mem.writeBytes(t.pa, b, 0, n, t.attrs);
      if (ok) st.bytesWritten += n;
    }
    if (!ok) {
      // No region decodes the PA: an external abort to the device (no SMMU event: the SMMU translated).
      s.fault = { iova: `0x${s.iova.toString(16)}`, access: spec.op, event: 'external-abort', recorded: false, cycle: now };
      this.done(i);
      return;
    }
    const d = this.dataCyclesPerRequest;
    st.dataCycles += d;
    this.portFreeAt = now + d;
    this.schedule(i, d, ACT_DONE);
  }

  private done(i: number): void {
    const s = this.slots[i]!, st = this.stats, now = this.q.now, spec = this.spec!;
    const lat = now - s.issueCycle;
    this.latency.record(lat);
    this.lastDoneCycle = now;
    const faulted = s.fault !== null;
    if (faulted) st.faults++;
    else st.completed++;
    if (this.timeline !== undefined && this.timeline.wants(s.issueCycle)) {
      s.tlRequests ??= this.timeline.track(this.name, `requests (slot ${i})`, { process: 10002, thread: i });
      this.timeline.span(s.tlRequests, `${spec.op} ${spec.bytes} B`, 'dma', s.issueCycle, now, {
        index: s.index, iova: `0x${s.iova.toString(16)}`, via: s.result!.via, reads: s.reads, stalls: s.stalls, ...(faulted ? { fault: s.fault!.event } : {}),
      });
    }
    if (this.onRequest !== undefined) {
      this.onRequest({
        index: s.index, iova: s.iova, status: faulted ? 'fault' : 'done', issueCycle: s.issueCycle, doneCycle: now, via: s.result!.via,
        descriptorReads: s.reads, checksum: s.checksum, razWi: s.result!.status === 'raz-wi', stalls: s.stalls, fault: s.fault,
      });
    }
    s.busy = false;
    s.result = null;
    this.inFlight--;
    if (faulted && spec.stopOnFault === true && !this.stopped) this.halt();
    if (this.heldSince >= 0 && !this.issueScheduled) this.scheduleIssue(0);   // the held issue goes now
    else if (this.stopped && this.inFlight === 0) this.onIdle?.();
  }
}
