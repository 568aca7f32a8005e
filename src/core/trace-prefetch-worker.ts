/**
 * The worker side of PrefetchingTraceCursor (trace-prefetch.ts): once booted, waits for the main
 * thread to hand over the file position its own reading reached, then runs a TraceFileCursor over
 * the agent from there and posts its chunks, at most `ahead` beyond those taken.
 */
import { workerData } from 'node:worker_threads';
import { UserError } from '../sim/errors.js';
import { TraceReader, zeros, type TraceChunk } from './trace-format.js';
import {
  PF_AT, PF_CLOSED, PF_EXITED, PF_HANDOFF, PF_OPS_BEFORE, PF_POSTED, PF_STARTED, PF_TAKEN, type PrefetchMessage, type PrefetchWorkerData,
} from './trace-prefetch.js';

const { path, agent, port, control, start, ahead } = workerData as PrefetchWorkerData;
const c = new Int32Array(control);
const from = new Float64Array(start);
const closed = (): boolean => Atomics.load(c, PF_CLOSED) !== 0;

function post(m: PrefetchMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
  Atomics.add(c, PF_POSTED, 1);
  Atomics.notify(c, PF_POSTED);
}

/**
 * Posts a chunk, moving the buffers its columns own whole (decoded columns do) rather than copying
 * them; a value column the chunk left out (a view of the shared zero column) goes as null.
 */
function postChunk(ch: TraceChunk): void {
  const zero = zeros(0).buffer;
  const lo = ch.valueLo.buffer === zero ? null : ch.valueLo, hi = ch.valueHi.buffer === zero ? null : ch.valueHi;
  const transfer: ArrayBuffer[] = [];
  for (const col of [ch.op, ch.addr, ch.size, lo, hi]) {
    if (col === null) continue;
    const b = col.buffer as ArrayBuffer;
    if (col.byteOffset === 0 && col.byteLength === b.byteLength && !transfer.includes(b)) transfer.push(b);
  }
  post({ kind: 'chunk', length: ch.length, op: ch.op, addr: ch.addr, size: ch.size, valueLo: lo, valueHi: hi }, transfer);
}

let reader: TraceReader | undefined;
try {
  reader = TraceReader.open(path);
  Atomics.store(c, PF_STARTED, 1);
  Atomics.notify(c, PF_STARTED);
  while (Atomics.load(c, PF_HANDOFF) === 0 && !closed()) Atomics.wait(c, PF_HANDOFF, 0, 1000);
  const cur = closed() ? undefined : reader.cursorFrom(agent, from[PF_AT]!, from[PF_OPS_BEFORE]!);
  while (cur !== undefined) {
    const ch = cur.next();
    for (;;) {                       // at most `ahead` chunks untaken
      if (closed()) break;
      const taken = Atomics.load(c, PF_TAKEN);
      if (Atomics.load(c, PF_POSTED) - taken < ahead) break;
      Atomics.wait(c, PF_TAKEN, taken);
    }
    if (closed()) break;
    if (ch === null) { post({ kind: 'end' }); break; }
    postChunk(ch);
  }
} catch (e) {
  if (!closed()) post({ kind: 'error', user: e instanceof UserError, message: e instanceof Error ? (e instanceof UserError ? e.message : e.stack ?? e.message) : String(e) });
} finally {
  reader?.close();
  port.close();
  Atomics.store(c, PF_EXITED, 1);
  Atomics.notify(c, PF_POSTED);
}
