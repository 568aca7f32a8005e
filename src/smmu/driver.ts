/**
 * The software side of an SMMU, for scenarios and tests: where the driver puts the stream table
 * and queues, the register writes that enable them (as Linux arm_smmu_device_reset does: tables
 * and queues first, CR1, then CR0 with SMMUEN/EVENTQEN/CMDQEN), command-slot addresses and the
 * CMDQ_PROD bump, and draining the event queue. Memory is written and read through whatever
 * `PhysicalStore` the caller passes (a coherent view for set-up; PE stores in programs).
 *
 * Contract: functional, no time passes; `SmmuEngine.processCommands` is not called here, so the
 * caller decides when the SMMU consumes what it published.
 */
import type { PhysicalStore } from '../mem/index.js';
import { encodeCommand, type CmdFields, type CmdOpName } from './commands.js';
import type { SmmuControl } from './host.js';
import { EVT_BYTES, decodeEvent, type EventRecord } from './events.js';
import { CR0_CMDQEN, CR0_EVENTQEN, CR0_SMMUEN, Q_OVERFLOW_FLAG, Reg } from './registers.js';

export interface SmmuLayout {
  /** Linear stream table base (64-byte aligned) and log2 of its STEs. */
  readonly strtab: number;
  readonly strtabLog2: number;
  readonly cmdq: number;
  readonly cmdqLog2: number;
  readonly evtq: number;
  readonly evtqLog2: number;
  /** CR1.QUEUE_* and TABLE_* cache/shareability codes: 'wb-ish' (1,1,ISH: what Linux writes on a coherent SMMU) or 'nc' (0,0,OSH). */
  readonly attrs: 'wb-ish' | 'nc';
}

/** CR1 (IHI 0070 6.3.x): QUEUE_IC 1:0, QUEUE_OC 3:2, QUEUE_SH 5:4, TABLE_IC 7:6, TABLE_OC 9:8, TABLE_SH 11:10. */
export function cr1Of(attrs: SmmuLayout['attrs']): number {
  return attrs === 'wb-ish' ? (1 | (1 << 2) | (3 << 4) | (1 << 6) | (1 << 8) | (3 << 10)) : ((2 << 4) | (2 << 10));
}

const w64 = (e: SmmuControl, off: number, v: number): void => e.mmioWrite(off, 8, v % 2 ** 32, Math.floor(v / 2 ** 32));

/** Programs the stream table, both queues, CR1 and CR0 (SMMUEN, EVENTQEN, CMDQEN). */
export function enableSmmu(e: SmmuControl, l: SmmuLayout): void {
  w64(e, Reg.STRTAB_BASE, l.strtab);
  e.mmioWrite(Reg.STRTAB_BASE_CFG, 4, l.strtabLog2);            // FMT 0: linear
  w64(e, Reg.CMDQ_BASE, l.cmdq + l.cmdqLog2);
  w64(e, Reg.EVENTQ_BASE, l.evtq + l.evtqLog2);
  e.mmioWrite(Reg.CR1, 4, cr1Of(l.attrs));
  e.mmioWrite(Reg.CR0, 4, CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN);
}

/** Writes 32-bit words (a record image) at `pa`. */
export function writeWords(store: PhysicalStore, pa: number, words: ArrayLike<number>): void {
  const u = Uint32Array.from(words);
  store.write(pa, new Uint8Array(u.buffer), 0, u.byteLength);
}

/**
 * The command slots for `cmds` starting at CMDQ_PROD: each command's 16-byte image, the PA it goes
 * to, and the CMDQ_PROD value (index + wrap) that publishes them all. Does not check for a full queue.
 */
export function commandSlots(e: SmmuControl, l: SmmuLayout, cmds: ReadonlyArray<readonly [CmdOpName | 'CFGI_ALL', CmdFields?]>): { slots: Array<{ pa: number; bytes: Uint8Array }>; prod: number } {
  let prod = e.mmioRead(Reg.CMDQ_PROD)[0];
  const slots: Array<{ pa: number; bytes: Uint8Array }> = [];
  for (const [op, f] of cmds) {
    const w = encodeCommand(op, f ?? {});
    slots.push({ pa: l.cmdq + (prod % 2 ** l.cmdqLog2) * 16, bytes: new Uint8Array(Uint32Array.from(w).buffer) });
    prod = (prod + 1) % 2 ** (l.cmdqLog2 + 1);
  }
  return { slots, prod };
}

/** Reads the event records between EVENTQ_CONS and EVENTQ_PROD through `store` and consumes them (EVENTQ_CONS = PROD). */
export function drainEvents(e: SmmuControl, l: SmmuLayout, store: PhysicalStore): EventRecord[] {
  const out: EventRecord[] = [];
  const prod = e.mmioRead(Reg.EVENTQ_PROD)[0];
  const m = 2 ** (l.evtqLog2 + 1);
  let cons = e.mmioRead(Reg.EVENTQ_CONS)[0] & 0xfffff;
  const buf = new Uint8Array(EVT_BYTES);
  while (cons % m !== prod % m) {
    store.read(l.evtq + (cons % 2 ** l.evtqLog2) * EVT_BYTES, buf, 0, EVT_BYTES);
    out.push(decodeEvent(new Uint32Array(buf.slice().buffer)));
    cons = (cons + 1) % m;
  }
  e.mmioWrite(Reg.EVENTQ_CONS, 4, ((prod & Q_OVERFLOW_FLAG) | cons) >>> 0);
  return out;
}
