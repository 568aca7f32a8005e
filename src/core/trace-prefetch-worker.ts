/**
 * The worker side of PrefetchingTraceCursor (trace-prefetch.ts): runs a TraceFileCursor over one
 * agent and posts its chunks, at most `ahead` beyond those taken.
 */
import { workerData } from 'node:worker_threads';
import { UserError } from '../sim/errors.js';
import { TraceReader, zeros, type TraceChunk } from './trace-format.js';
import { PF_CLOSED, PF_EXITED, PF_POSTED, PF_STARTED, PF_TAKEN, type PrefetchMessage, type PrefetchWorkerData } from './trace-prefetch.js';

const { path, agent, port, control, ahead } = workerData as PrefetchWorkerData;
const c = new Int32Array(control);

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

Atomics.store(c, PF_STARTED, 1);
Atomics.notify(c, PF_STARTED);
let reader: TraceReader | undefined;
try {
  reader = TraceReader.open(path);
  const cur = reader.cursor(agent);
  for (;;) {
    const ch = cur.next();
    for (;;) {                       // at most `ahead` chunks untaken; stop when the cursor closes
      if (Atomics.load(c, PF_CLOSED) !== 0) break;
      const taken = Atomics.load(c, PF_TAKEN);
      if (Atomics.load(c, PF_POSTED) - taken < ahead) break;
      Atomics.wait(c, PF_TAKEN, taken);
    }
    if (Atomics.load(c, PF_CLOSED) !== 0) break;
    if (ch === null) { post({ kind: 'end' }); break; }
    postChunk(ch);
  }
} catch (e) {
  post({ kind: 'error', user: e instanceof UserError, message: e instanceof Error ? (e instanceof UserError ? e.message : e.stack ?? e.message) : String(e) });
} finally {
  reader?.close();
  port.close();
  Atomics.store(c, PF_EXITED, 1);
  Atomics.notify(c, PF_POSTED);
}
