/**
 * A timeline of a run as a Chrome trace-event file (the JSON Object Format: `{"traceEvents": [...],
 * "displayTimeUnit": "ns"}`), which Perfetto's UI and chrome://tracing open.
 *
 * Time: one simulated cycle is written as 1 ns, so `ts` and `dur` (microseconds in the format) are
 * cycles / 1000. A metadata event (process_labels of the "armsim" process) and `otherData` say so.
 *
 * Tracks: a process per block (`cpu0`, `smmu0`, `smmu0.dma0`, `system.cpu0.l1d`) with named
 * threads in it (lanes). Complete events ("X") on one thread must nest or follow each other, so
 * spans that can overlap (a PE's outstanding memory ops, a cache's misses) go on different lanes:
 * the caller's own (a PE's window slots) or a `TimelineLanes` set, which picks a free one.
 *
 * Bounds: only spans that start inside the window [start, end) are kept, and at most `maxEvents`
 * of them; the first one past that ends the recording with an instant event saying so. Events
 * are kept as serialized strings (a fraction of an object's size) and written once, at the end,
 * to a temporary file renamed over the target, so a run that fails never leaves half a file.
 *
 * Contract: recording is the caller's choice. Blocks hold a `Timeline | undefined` field and test
 * it before building any argument, so a run without a timeline allocates nothing for it.
 */
import { closeSync, openSync, renameSync, writeSync, unlinkSync } from 'node:fs';
import { UserError } from './errors.js';

export interface TimelineOptions {
  /** First cycle recorded (default 0). */
  readonly start?: number;
  /** First cycle not recorded (default: no end). */
  readonly end?: number;
  /** Events (spans and instants, metadata not counted) kept at most (default 1,000,000). */
  readonly maxEvents?: number;
}

export const DEFAULT_TIMELINE_MAX_EVENTS = 1_000_000;
export const TIMELINE_TIME_UNIT = '1 cycle = 1 ns (ts and dur are cycles / 1000, in microseconds)';

/** Span arguments: plain JSON values. */
export type TimelineArgs = Record<string, string | number | boolean | null>;

/** A track: the pid and tid its events carry. */
export interface TimelineTrack { readonly pid: number; readonly tid: number }

export class Timeline {
  readonly start: number;
  readonly end: number;
  readonly maxEvents: number;
  /** True once `maxEvents` was reached: nothing more is recorded. */
  truncated = false;
  /** Spans and instants kept. */
  count = 0;
  /** Spans offered but left out (outside the window, or after the cap). */
  dropped = 0;
  private readonly events: string[] = [];
  private readonly meta: string[] = [];
  private readonly pids = new Map<string, number>();
  private readonly tracks = new Map<string, TimelineTrack>();
  private nextTid = 1;

  constructor(opts: TimelineOptions = {}) {
    this.start = opts.start ?? 0;
    this.end = opts.end ?? Number.POSITIVE_INFINITY;
    this.maxEvents = opts.maxEvents ?? DEFAULT_TIMELINE_MAX_EVENTS;
    const pid = this.processId('armsim');
    this.meta.push(JSON.stringify({ name: 'process_labels', ph: 'M', pid, tid: 0, args: { labels: `time: ${TIMELINE_TIME_UNIT}` } }));
  }

  /**
   * The track `thread` in process `process`, named by metadata events the first time it is asked
   * for (so ask when the first event is due: idle blocks then get no track). Perfetto orders
   * processes and threads by `order` (default: creation order).
   */
  track(process: string, thread: string, order: { process?: number; thread?: number } = {}): TimelineTrack {
    const key = `${process}\u0000${thread}`;
    const t = this.tracks.get(key);
    if (t !== undefined) return t;
    const pid = this.processId(process, order.process);
    const tid = this.nextTid++;
    const track = { pid, tid };
    this.tracks.set(key, track);
    this.meta.push(JSON.stringify({ name: 'thread_name', ph: 'M', pid, tid, args: { name: thread } }));
    this.meta.push(JSON.stringify({ name: 'thread_sort_index', ph: 'M', pid, tid, args: { sort_index: order.thread ?? tid } }));
    return track;
  }

  /**
   * A set of lanes for spans that may overlap (a cache's outstanding misses): thread `thread` in
   * `process`, then `thread 2`, `thread 3`... as needed, at most `maxLanes`. Lanes are made on
   * first use, so a block with nothing to show gets no track.
   */
  lanes(process: string, thread: string, order: { process: number; thread: number }, maxLanes = 16): TimelineLanes {
    return new TimelineLanes(this, process, thread, order, maxLanes);
  }

  /** True when a span starting at cycle `at` would be kept (callers may skip building its arguments). */
  wants(at: number): boolean {
    return !this.truncated && at >= this.start && at < this.end;
  }

  /** A complete event from cycle `from` to cycle `to` (`to` >= `from`). */
  span(track: TimelineTrack, name: string, cat: string, from: number, to: number, args?: TimelineArgs): void {
    if (!this.admit(from, to)) return;
    this.events.push(`{"name":${JSON.stringify(name)},"cat":"${cat}","ph":"X","ts":${from / 1000},"dur":${(to - from) / 1000},"pid":${track.pid},"tid":${track.tid}${args === undefined ? '' : `,"args":${JSON.stringify(args)}`}}`);
  }

  /** An instant event at cycle `at` on a track. */
  instant(track: TimelineTrack, name: string, cat: string, at: number, args?: TimelineArgs): void {
    if (!this.admit(at, at)) return;
    this.events.push(`{"name":${JSON.stringify(name)},"cat":"${cat}","ph":"i","s":"t","ts":${at / 1000},"pid":${track.pid},"tid":${track.tid}${args === undefined ? '' : `,"args":${JSON.stringify(args)}`}}`);
  }

  /** The trace-event file as one string (small runs and tests; `write` streams it). */
  toJSON(): string {
    const parts: string[] = [];
    this.chunks((s) => parts.push(s));
    return parts.join('');
  }

  /** Writes the file: to `path + '.tmp'`, then renamed over `path`. */
  write(path: string): void {
    const tmp = `${path}.tmp`;
    let fd: number;
    try { fd = openSync(tmp, 'w'); } catch (e) { throw new UserError(`--timeline: cannot write '${path}' (${(e as Error).message.split('\n')[0]})`); }
    try {
      let buf: string[] = [], len = 0;
      this.chunks((s) => {
        buf.push(s); len += s.length;
        if (len >= 1 << 20) { writeSync(fd, buf.join('')); buf = []; len = 0; }
      });
      writeSync(fd, buf.join(''));
    } catch (e) {
      closeSync(fd);
      try { unlinkSync(tmp); } catch { /* already gone */ }
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, path);
  }

  private chunks(out: (s: string) => void): void {
    out(`{"displayTimeUnit":"ns","otherData":${JSON.stringify({ timeUnit: TIMELINE_TIME_UNIT, windowStart: this.start, windowEnd: Number.isFinite(this.end) ? this.end : null, maxEvents: this.maxEvents, events: this.count, truncated: this.truncated })},"traceEvents":[\n`);
    let first = true;
    for (const list of [this.meta, this.events]) {
      for (const e of list) { out(first ? e : `,\n${e}`); first = false; }
    }
    out('\n]}\n');
  }

  private admit(from: number, to: number): boolean {
    if (this.truncated || from < this.start || from >= this.end) { this.dropped++; return false; }
    if (this.count >= this.maxEvents) {
      this.truncated = true;
      this.dropped++;
      const t = this.track('armsim', 'timeline');
      this.events.push(JSON.stringify({
        name: 'timeline truncated', cat: 'timeline', ph: 'i', s: 'g', ts: to / 1000, pid: t.pid, tid: t.tid,
        args: { reason: `--timeline-max-events ${this.maxEvents} reached; nothing after this was recorded`, cycle: to },
      }));
      return false;
    }
    this.count++;
    return true;
  }

  private processId(name: string, order?: number): number {
    let pid = this.pids.get(name);
    if (pid !== undefined) return pid;
    pid = this.pids.size + 1;
    this.pids.set(name, pid);
    this.meta.push(JSON.stringify({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name } }));
    this.meta.push(JSON.stringify({ name: 'process_sort_index', ph: 'M', pid, tid: 0, args: { sort_index: order ?? pid } }));
    return pid;
  }
}

/**
 * Lanes of one kind of span on a block (Timeline.lanes). A span goes to the first lane whose spans
 * all end by its start, so the spans on each lane follow each other whatever order they are
 * offered in (a miss that waited for memory is offered when its fill lands, after later hits
 * were). When every lane is busy and there are `maxLanes`, the span is dropped (counted in
 * Timeline.dropped) rather than drawn overlapping.
 */
export class TimelineLanes {
  private readonly tracks: TimelineTrack[] = [];
  private readonly busyUntil: number[] = [];
  constructor(
    private readonly tl: Timeline, readonly process: string, readonly thread: string,
    private readonly order: { process: number; thread: number }, readonly maxLanes: number,
  ) {}

  /** A complete event from cycle `from` to `to` on the first free lane (see Timeline.span). */
  span(name: string, cat: string, from: number, to: number, args?: TimelineArgs): void {
    const tl = this.tl;
    if (!tl.wants(from)) { tl.dropped++; return; }
    const n = this.tracks.length;
    let i = 0;
    while (i < n && this.busyUntil[i]! > from) i++;
    if (i === n) {
      if (n >= this.maxLanes) { tl.dropped++; return; }
      this.tracks.push(tl.track(this.process, n === 0 ? this.thread : `${this.thread} ${n + 1}`, { process: this.order.process, thread: this.order.thread + n }));
      this.busyUntil.push(to);
    } else {
      this.busyUntil[i] = to;                      // to >= from >= every end on this lane
    }
    tl.span(this.tracks[i]!, name, cat, from, to, args);
  }
}

/**
 * Parses `--timeline-window start:end` (cycles; either side may be empty: `:5000`, `1000:`).
 * Throws a one-line UserError naming the flag.
 */
export function parseTimelineWindow(s: string): { start: number; end: number } {
  const m = /^\s*(\d*)\s*:\s*(\d*)\s*$/.exec(s);
  const bad = (why: string) => new UserError(`--timeline-window: expected START:END in cycles with START < END (e.g. 1000:50000, or :50000), got '${s}'${why}`);
  if (m === null || (m[1] === '' && m[2] === '')) throw bad('');
  const start = m[1] === '' ? 0 : Number(m[1]);
  const end = m[2] === '' ? Number.POSITIVE_INFINITY : Number(m[2]);
  if (!Number.isSafeInteger(start) || (Number.isFinite(end) && !Number.isSafeInteger(end))) throw bad(' (too large)');
  if (!(start < end)) throw bad(' (START must be below END)');
  return { start, end };
}
