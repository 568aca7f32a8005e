/**
 * A trace cursor whose chunks are read, CRC-checked, decoded and validated by a worker thread
 * ahead of the simulation, which takes them synchronously when it wants the next one.
 *
 * Why: a replay spends a tenth of its time in TraceFileCursor.next() (file reads, CRC-32, msgpack
 * decoding, the per-op checks of checkChunk) on a real program's trace, where most ops are L1 hits;
 * a second core can do that meanwhile. The chunks are the same objects a TraceFileCursor returns
 * (the worker runs one), so a replay gives the same results either way; only the host time differs.
 *
 * Protocol (one worker per cursor): a worker takes tens of milliseconds to boot, and until it
 * says it has (`started`), next() reads chunks on the main thread with its own TraceFileCursor.
 * The first next() after that hands the worker the file position and op count that cursor reached
 * (`handoff`); the worker opens the file again, goes on from there with a cursor of its own, and
 * posts each chunk (or the end, or an error) on a MessagePort, then bumps `posted` in a shared
 * Int32Array and notifies. next() waits on `posted` with Atomics.wait (the run loop is synchronous:
 * no event loop turns while it runs), takes the message with receiveMessageOnPort, and bumps
 * `taken`, on which the worker waits while it is `ahead` chunks ahead. So every chunk is read once,
 * by one of the two cursors, in order. An error the worker meets (a corrupt chunk: a UserError) is
 * thrown by the next() that reaches it with the message the synchronous cursor gives, after the
 * chunks before it. `close()` stops the worker wherever it is; a worker that never boots leaves
 * the main thread reading every chunk itself.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { UserError } from '../sim/errors.js';
import { zeros, type TraceChunk, type TraceCursor, type TraceFileCursor, type TraceReader } from './trace-format.js';

/** Slots of the shared control array. */
export const PF_POSTED = 0, PF_TAKEN = 1, PF_CLOSED = 2, PF_STARTED = 3, PF_EXITED = 4, PF_HANDOFF = 5;
/** Slots of the shared Float64Array: where the worker's cursor starts, and the agent's ops read before it. */
export const PF_AT = 0, PF_OPS_BEFORE = 1;
/** Chunks the worker may decode ahead of the consumer (~1.2 MB each at the default chunk size). */
export const PF_AHEAD = 4;

/** What the worker posts: a chunk, the end, or an error (a user error keeps its message). */
export type PrefetchMessage =
  /** A value column is null where the chunk left it out (all zeros): not worth copying across. */
  | { kind: 'chunk'; length: number; op: Uint8Array; addr: Float64Array; size: Uint8Array; valueLo: Uint32Array | null; valueHi: Uint32Array | null }
  | { kind: 'end' }
  | { kind: 'error'; user: boolean; message: string };

export interface PrefetchWorkerData {
  path: string;
  agent: number;
  port: MessagePort;
  control: SharedArrayBuffer;
  start: SharedArrayBuffer;
  ahead: number;
}

export interface PrefetchOptions {
  /** Chunks the worker may read ahead of those taken (default PF_AHEAD). */
  ahead?: number;
  /** Chunks the main thread reads itself before it may hand over, booted worker or not (default 0; tests). */
  ownFirst?: number;
}

/** trace-prefetch-worker.js beside this file: dist/src/core/ after `npm run build` (vitest runs the .ts sources; see sweep/runner.ts). */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('../../dist/src/core/trace-prefetch-worker.js', import.meta.url) : new URL('./trace-prefetch-worker.js', import.meta.url);
}

export class PrefetchingTraceCursor implements TraceCursor {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly control: Int32Array;
  private readonly start: Float64Array;
  /** The main thread's own cursor, read until the worker has booted (then undefined). */
  private own: TraceFileCursor | undefined;
  private taken = 0;
  private isDone = false;
  /** Chunks this cursor returned that the worker read (the rest the main thread read before the handoff). */
  chunksFromWorker = 0;
  private ownRead = 0;
  private readonly ownFirst: number;

  /**
   * Starts a worker for `agent`'s chunks of `reader`'s trace. A worker takes tens of milliseconds
   * to boot: until it has, next() reads chunks itself, then hands the worker its file position
   * (the worker opens the file again and goes on from there).
   */
  constructor(private readonly reader: TraceReader, readonly agent: number, opts: PrefetchOptions = {}) {
    const ahead = opts.ahead ?? PF_AHEAD;
    this.ownFirst = opts.ownFirst ?? 0;
    this.own = reader.cursor(agent);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const control = new SharedArrayBuffer(4 * 6), start = new SharedArrayBuffer(8 * 2);
    this.control = new Int32Array(control);
    this.start = new Float64Array(start);
    const data: PrefetchWorkerData = { path: reader.path, agent, port: port2, control, start, ahead };
    this.worker = new Worker(workerUrl(), { workerData: data, transferList: [port2] });
    this.worker.unref();           // never keeps the process alive; close() stops it
  }

  next(): TraceChunk | null {
    if (this.isDone) return null;
    const c = this.control;
    if (this.own !== undefined) {
      if (Atomics.load(c, PF_STARTED) === 0 || this.ownRead < this.ownFirst) {
        const ch = this.readOwn();
        if (ch === null) this.close(); else this.ownRead++;
        return ch;
      }
      this.start[PF_AT] = this.own.position;
      this.start[PF_OPS_BEFORE] = this.own.opsRead;
      this.own = undefined;
      Atomics.store(c, PF_HANDOFF, 1);
      Atomics.notify(c, PF_HANDOFF);
    }
    while (Atomics.load(c, PF_POSTED) === this.taken) {
      if (Atomics.load(c, PF_EXITED) !== 0 && Atomics.load(c, PF_POSTED) === this.taken) this.fail(false, `trace ${this.reader.path}: the prefetch worker ended without a word`);
      Atomics.wait(c, PF_POSTED, this.taken);
    }
    const got = receiveMessageOnPort(this.port);
    if (got === undefined) this.fail(false, `trace ${this.reader.path}: the prefetch worker posted nothing`);
    this.taken++;
    Atomics.store(c, PF_TAKEN, this.taken);
    Atomics.notify(c, PF_TAKEN);
    const m = got.message as PrefetchMessage;
    if (m.kind === 'chunk') {
      this.chunksFromWorker++;
      const n = m.length;
      return { length: n, op: m.op, addr: m.addr, size: m.size, valueLo: m.valueLo ?? zeros(n), valueHi: m.valueHi ?? zeros(n) };
    }
    if (m.kind === 'end') { this.close(); return null; }
    return this.fail(m.user, m.message);
  }

  /** Waits up to `ms` for the worker to boot (tests use it to make the handoff come first); true if it has. */
  waitForWorker(ms: number): boolean {
    const deadline = performance.now() + ms;
    for (let left = ms; Atomics.load(this.control, PF_STARTED) === 0 && left > 0; left = deadline - performance.now()) Atomics.wait(this.control, PF_STARTED, 0, left);
    return Atomics.load(this.control, PF_STARTED) !== 0;
  }

  /** The own cursor's next chunk; its error stops the worker too. */
  private readOwn(): TraceChunk | null {
    try {
      return this.own!.next();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Stops the worker (at once if it is waiting to post or for the handoff); the cursor then returns null. */
  close(): void {
    if (this.isDone) return;
    this.isDone = true;
    this.own = undefined;
    Atomics.store(this.control, PF_CLOSED, 1);
    Atomics.notify(this.control, PF_TAKEN);
    Atomics.notify(this.control, PF_HANDOFF);
    this.port.close();
    void this.worker.terminate();
  }

  private fail(user: boolean, message: string): never {
    this.close();
    throw user ? new UserError(message) : new Error(message);
  }
}

/**
 * Whether a replay of `agents` cursors should prefetch: each takes a host core of its own, so
 * only while one is left for the simulation; ARMSIM_TRACE_PREFETCH=0 turns it off (=1 forces it).
 */
export function tracePrefetchWanted(agents: number): boolean {
  const env = process.env.ARMSIM_TRACE_PREFETCH;
  if (env === '0') return false;
  if (env === '1') return true;
  return agents <= availableParallelism() - 1;
}

/**
 * A cursor per agent of `reader`'s trace: prefetching ones when tracePrefetchWanted says so, else
 * the reader's own. `close()` stops any workers (call it when the replay ends, however it ends).
 */
export function openTraceCursors(reader: TraceReader): { cursors: TraceCursor[]; close(): void } {
  const agents = reader.header.agents;
  if (!tracePrefetchWanted(agents)) return { cursors: Array.from({ length: agents }, (_, a) => reader.cursor(a)), close: () => {} };
  const cursors = Array.from({ length: agents }, (_, a) => new PrefetchingTraceCursor(reader, a));
  return { cursors, close: () => { for (const c of cursors) c.close(); } };
}
