/**
 * A trace cursor whose chunks are read, CRC-checked, decoded and validated by a worker thread
 * ahead of the simulation, which takes them synchronously when it wants the next one.
 *
 * Why: a replay spends a tenth of its time in TraceFileCursor.next() (file reads, CRC-32, msgpack
 * decoding, the per-op checks of checkChunk) on a real program's trace, where most ops are L1 hits;
 * a second core can do that meanwhile. The chunks are the same objects a TraceFileCursor returns
 * (the worker runs one), so a replay gives the same results either way; only the host time differs.
 *
 * Protocol (one worker per cursor): the worker posts each chunk (or the end, or an error) on a
 * MessagePort, then bumps `posted` in a shared Int32Array and notifies; `next()` waits on `posted`
 * with Atomics.wait (the run loop is synchronous: no event loop turns while it runs), takes the
 * message with receiveMessageOnPort, and bumps `taken`, on which the worker waits while it is
 * AHEAD chunks ahead. An error the worker meets (a corrupt chunk: a UserError) is thrown by the
 * next() that reaches it, with the same message as the synchronous cursor's, after the chunks
 * before it. `close()` stops the worker wherever it is.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { UserError } from '../sim/errors.js';
import { zeros, type TraceChunk, type TraceCursor, type TraceReader } from './trace-format.js';

/** Slots of the shared control array. */
export const PF_POSTED = 0, PF_TAKEN = 1, PF_CLOSED = 2, PF_STARTED = 3, PF_EXITED = 4;
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
  ahead: number;
}

/** How long next() waits for a worker that has not yet said it started (its module failed to load). */
const START_TIMEOUT_MS = 60_000;

/** trace-prefetch-worker.js beside this file: dist/src/core/ after `npm run build` (vitest runs the .ts sources; see sweep/runner.ts). */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('../../dist/src/core/trace-prefetch-worker.js', import.meta.url) : new URL('./trace-prefetch-worker.js', import.meta.url);
}

export class PrefetchingTraceCursor implements TraceCursor {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly control: Int32Array;
  private taken = 0;
  private isDone = false;

  /** Starts a worker reading `agent`'s chunks of the trace at `path` (open and validated by the caller's TraceReader). */
  constructor(readonly path: string, readonly agent: number, ahead = PF_AHEAD) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const shared = new SharedArrayBuffer(4 * 5);
    this.control = new Int32Array(shared);
    const data: PrefetchWorkerData = { path, agent, port: port2, control: shared, ahead };
    this.worker = new Worker(workerUrl(), { workerData: data, transferList: [port2] });
    this.worker.unref();           // never keeps the process alive; close() stops it
  }

  next(): TraceChunk | null {
    if (this.isDone) return null;
    const c = this.control;
    const posted = (): number => Atomics.load(c, PF_POSTED);
    while (posted() === this.taken) {
      if (Atomics.load(c, PF_STARTED) === 0) {
        if (Atomics.wait(c, PF_STARTED, 0, START_TIMEOUT_MS) === 'timed-out') this.fail(false, `trace ${this.path}: the prefetch worker did not start in ${START_TIMEOUT_MS / 1000} s`);
        continue;
      }
      if (Atomics.load(c, PF_EXITED) !== 0 && posted() === this.taken) this.fail(false, `trace ${this.path}: the prefetch worker ended without a word`);
      Atomics.wait(c, PF_POSTED, this.taken);
    }
    const got = receiveMessageOnPort(this.port);
    if (got === undefined) this.fail(false, `trace ${this.path}: the prefetch worker posted nothing`);
    this.taken++;
    Atomics.store(c, PF_TAKEN, this.taken);
    Atomics.notify(c, PF_TAKEN);
    const m = got.message as PrefetchMessage;
    if (m.kind === 'chunk') {
      const n = m.length;
      return { length: n, op: m.op, addr: m.addr, size: m.size, valueLo: m.valueLo ?? zeros(n), valueHi: m.valueHi ?? zeros(n) };
    }
    if (m.kind === 'end') { this.close(); return null; }
    return this.fail(m.user, m.message);
  }

  /** Stops the worker (at once if it is waiting to post); the cursor then returns null. */
  close(): void {
    if (this.isDone) return;
    this.isDone = true;
    Atomics.store(this.control, PF_CLOSED, 1);
    Atomics.notify(this.control, PF_TAKEN);
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
  const cursors = Array.from({ length: agents }, (_, a) => new PrefetchingTraceCursor(reader.path, a));
  return { cursors, close: () => { for (const c of cursors) c.close(); } };
}
