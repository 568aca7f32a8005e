import { describe, expect, it } from 'vitest';
import { EventQueue } from '../sim/index.js';
import { SparseMemory } from '../mem/index.js';
import { PageTableBuilder } from '../mmu/index.js';
import { resolveSmmuConfig } from './config.js';
import { resolveDmaConfig } from './dma.js';
import { commandSlots, drainEvents, enableSmmu, writeWords, type SmmuLayout } from './driver.js';
import { SmmuHost } from './host.js';
import { encodeCd, encodeSte } from './formats.js';
import { PathMemory } from './memory.js';
import { Reg } from './registers.js';
import { StreamDevice, type StreamRequest, type StreamSpec } from './stream-device.js';

const CFG = resolveDmaConfig({ translateCycles: 8, descriptorReadCycles: 60, beatCycles: 4, beatBytes: 64, stallPollCycles: 50 });

/** A device behind an SMMU with SMMUEN=0 (GBPA bypass: every translation costs translateCycles, no reads). */
function bypass() {
  const q = new EventQueue(64);
  const store = new SparseMemory({ base: 0, size: 2 ** 24, chunkBytes: 4096 });
  const mem = new PathMemory(true, store, store);
  const host = new SmmuHost(q, mem, resolveSmmuConfig({}), CFG, { threads: 0 });
  const engine = host.control;
  const dev = new StreamDevice('stream', q, host, mem, CFG);
  const log: StreamRequest[] = [];
  dev.onRequest = (r) => log.push(r);
  return { q, store, engine, dev, log };
}

const SID = 2, ASID = 5, IOVA = 0x10_0000;
const STRTAB = 0x20_0000, CMDQ = 0x21_0000, EVTQ = 0x22_0000, CD = 0x23_0000, DATA = 0x40_0000;

/** A stage-1 stream (STE Config 0b101) over 4 IOVA pages, page 2 left unmapped. */
function translated(cd: Record<string, number> = {}) {
  const q = new EventQueue(64);
  const store = new SparseMemory({ base: 0, size: 2 ** 24, chunkBytes: 4096 });
  const mem = new PathMemory(true, store, store);
  const host = new SmmuHost(q, mem, resolveSmmuConfig({}), CFG, { threads: 0 });
  const engine = host.control;
  const layout: SmmuLayout = { strtab: STRTAB, strtabLog2: 4, cmdq: CMDQ, cmdqLog2: 4, evtq: EVTQ, evtqLog2: 8, attrs: 'wb-ish' };
  const s1 = new PageTableBuilder(store, { stage: 1, granule: '4K', inputBits: 48, allocBase: 0x30_0000, allocLimit: 0x38_0000 });
  for (const p of [0, 1, 3]) s1.map({ va: IOVA + p * 4096, oa: DATA + p * 4096, size: 4096, level: 3, s1: { nG: true, ap: 0b01 } });
  writeWords(store, STRTAB + SID * 64, encodeSte({ V: 1, Config: 5, S1ContextPtr: CD, S1CIR: 1, S1COR: 1, S1CSH: 3 }));
  writeWords(store, CD, encodeCd({ T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID, TTB0: s1.root, MAIR0: 0xff, ...cd }));
  enableSmmu(engine, layout);
  const dev = new StreamDevice('stream', q, host, mem, CFG);
  const log: StreamRequest[] = [];
  dev.onRequest = (r) => log.push(r);
  const submit = (...cmds: Parameters<typeof commandSlots>[2]): void => {
    const { slots, prod } = commandSlots(engine, layout, cmds);
    for (const s of slots) store.write(s.pa, s.bytes, 0, 16);
    engine.mmioWrite(Reg.CMDQ_PROD, 4, prod);
    engine.processCommands();
  };
  return { q, store, engine, dev, log, s1, submit, events: () => drainEvents(engine, layout, store) };
}

const read = (over: Partial<StreamSpec> = {}): StreamSpec => ({
  op: 'read', streamId: SID, base: IOVA, rangeBytes: 4 * 4096, bytes: 64, intervalCycles: 10, maxOutstanding: 8, ...over,
});

/** The most requests in flight at any cycle, from the finished requests' issue and done cycles. */
function peak(log: StreamRequest[]): number {
  let best = 0;
  for (const r of log) best = Math.max(best, log.filter((o) => o.issueCycle <= r.issueCycle && o.doneCycle > r.issueCycle).length);
  return best;
}

describe('StreamDevice', () => {
  it('issues one request every intervalCycles; each takes translateCycles + its beats; stats and bandwidth', () => {
    const { q, dev, log, store } = bypass();
    store.write(IOVA, new Uint8Array(64).fill(7), 0, 64);
    let idle = -1;
    dev.onIdle = () => { idle = q.now; };
    dev.start(read({ count: 10 }));
    expect(dev.busy).toBe(true);
    q.runUntil(1e6);
    expect(log.map((r) => r.issueCycle)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(log.every((r) => r.doneCycle === r.issueCycle + 8 + 4 && r.status === 'done' && r.via === 'gbpa')).toBe(true);
    expect(log.map((r) => r.iova)).toEqual(Array.from({ length: 10 }, (_, i) => IOVA + 64 * i));
    expect(log[1]!.checksum).not.toBe(log[0]!.checksum);            // page 0 line 0 holds 7s, line 1 zeros
    expect(dev.stats).toMatchObject({ requests: 10, completed: 10, faults: 0, bytesRead: 640, translations: 10, dataCycles: 40, throttledCycles: 0, maxInFlight: 2 });
    expect(dev.latency.summary()).toMatchObject({ count: 10, mean: 12, max: 12 });
    expect(dev.bytesPerKcycle()).toBe(Math.round((1000 * 640) / 102));
    expect([dev.busy, idle]).toEqual([false, 102]);
  });

  it('a read waits for the slowest of its lines, other requests use the port meanwhile; writes are posted', () => {
    const q = new EventQueue(64);
    const store = new SparseMemory({ base: 0, size: 2 ** 24, chunkBytes: 4096 });
    const far = IOVA + 64;                                     // one far line: request 0's second
    const mem = new PathMemory(true, store, store, () => true, (pa) => (pa === far ? 200 : 40), 64);
    const host = new SmmuHost(q, mem, resolveSmmuConfig({}), CFG, { threads: 0 });
    const dev = new StreamDevice('stream', q, host, mem, CFG);
    const log: StreamRequest[] = [];
    dev.onRequest = (r) => log.push(r);
    dev.start(read({ count: 3, bytes: 128 }));                 // two lines a request, 8 cycles of beats
    q.runUntil(1e6);
    // Translated at issue + 8 (bypass); data after the slowest line; then 8 cycles on the port.
    // Request 0 waits 200 and moves 208..216; 1 and 2 wait 40 and move at 58..66 and 68..76.
    expect(log.map((r) => r.index)).toEqual([1, 2, 0]);             // in completion order
    expect(log.map((r) => r.doneCycle - r.issueCycle)).toEqual([8 + 40 + 8, 8 + 40 + 8, 8 + 200 + 8]);
    expect(log.map((r) => r.doneCycle)).toEqual([66, 76, 216]);
    expect(dev.stats.dataWaitCycles).toBe(280);
    expect([mem.stats.timedDataReads, mem.stats.timedDataReadCycles, mem.stats.timedReads]).toEqual([3, 280, 0]);
    log.length = 0;
    q.runUntil(q.now + 1000);
    dev.start(read({ op: 'write', count: 2, bytes: 128 }));
    q.runUntil(1e6);
    expect(log.map((r) => r.doneCycle - r.issueCycle)).toEqual([16, 16]);   // no wait: posted
    expect(dev.stats.dataWaitCycles).toBe(280);
  });

  it('a read of an address no region decodes ends in an external abort without asking where its lines are', () => {
    const q = new EventQueue(64);
    const store = new SparseMemory({ base: 0, size: 2 ** 24, chunkBytes: 4096 });
    const hole = (pa: number): boolean => pa >= IOVA && pa < IOVA + 4096;
    const latency = (pa: number): number => { if (hole(pa)) throw new Error(`timed a read of the hole at 0x${pa.toString(16)}`); return 40; };
    const mem = new PathMemory(true, store, store, (pa) => !hole(pa), latency, 64);
    const host = new SmmuHost(q, mem, resolveSmmuConfig({}), CFG, { threads: 0 });
    const dev = new StreamDevice('stream', q, host, mem, CFG);
    const log: StreamRequest[] = [];
    dev.onRequest = (r) => log.push(r);
    dev.start(read({ count: 2, bytes: 64 }));
    q.runUntil(1e6);
    expect(log.map((r) => [r.status, r.fault?.event])).toEqual([['fault', 'external-abort'], ['fault', 'external-abort']]);
    expect([dev.stats.dataWaitCycles, mem.stats.timedDataReads, mem.stats.aborts]).toEqual([0, 0, 2]);
  });

  it('never has more than maxOutstanding requests in flight; a full window holds the next issue (throttledCycles)', () => {
    const a = bypass(), b = bypass();
    a.dev.start(read({ count: 40, intervalCycles: 1, maxOutstanding: 2 }));
    b.dev.start(read({ count: 40, intervalCycles: 1, maxOutstanding: 8 }));
    a.q.runUntil(1e6); b.q.runUntil(1e6);
    expect(peak(a.log)).toBe(2);
    expect(a.dev.stats.maxInFlight).toBe(2);
    expect(a.dev.stats.throttledCycles).toBeGreaterThan(0);
    expect(peak(b.log)).toBeLessThanOrEqual(8);
    expect(b.dev.stats.maxInFlight).toBeGreaterThan(2);
    // The port is the limit at 4 cycles per 64-byte request once enough are in flight.
    expect(b.dev.lastDoneCycle).toBeLessThan(a.dev.lastDoneCycle);
    expect(b.log[39]!.doneCycle - b.log[38]!.doneCycle).toBe(4);
    expect(a.log.map((r) => r.index)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('runs until stop() without a count; stop lets the requests in flight finish', () => {
    const { q, dev, log } = bypass();
    dev.start(read({ intervalCycles: 5 }));
    q.runUntil(100);
    dev.stop();
    const issued = dev.stats.requests;
    q.runUntil(1e6);
    expect(issued).toBe(20);                                          // cycles 0, 5, ..., 95
    expect(log).toHaveLength(20);
    expect(dev.busy).toBe(false);
  });

  it('translates each request: a miss per page costs its descriptor reads, the rest hit the IOTLB; a fault ends its request with the engine\'s event', () => {
    const { q, dev, log, events } = translated();
    dev.start(read({ count: 4 * 64, intervalCycles: 2, maxOutstanding: 4 }));
    q.runUntil(1e7);
    const byPage = (p: number) => log.filter((r) => Math.floor((r.iova - IOVA) / 4096) === p);
    expect(byPage(2).every((r) => r.status === 'fault' && r.fault!.event === 'F_TRANSLATION' && r.fault!.recorded)).toBe(true);
    expect([0, 1, 3].every((p) => byPage(p).every((r) => r.status === 'done'))).toBe(true);
    // Cold: STE (8) + CD (8) + 4 descriptors; then one walk per new page (the walk cache keeps the tables).
    expect(log.find((r) => r.index === 0)!.descriptorReads).toBe(20);
    const first = log.find((r) => r.index === 0)!, second = log.find((r) => r.index === 1)!;
    expect(first.doneCycle - first.issueCycle).toBe(8 + 20 * 60 + 4);
    // The next request, for the same page while the first one's walk is in flight, misses too and
    // walks (misses are not merged); its data waits for the port behind the first one's.
    expect(second).toMatchObject({ via: 'walk', descriptorReads: 20, issueCycle: 2, doneCycle: first.doneCycle + 4 });
    expect(dev.stats).toMatchObject({ requests: 256, completed: 192, faults: 64, translations: 256 });
    // Per good page, the first request and the 3 issued behind it (maxOutstanding 4) while its walk
    // is in flight miss; a translation fault is never cached.
    expect(dev.stats.tlbHits).toBe(192 - 3 * 4);
    const ev = events();
    expect(ev.length).toBe(64);
    expect(ev[0]).toMatchObject({ name: 'F_TRANSLATION', StreamID: SID, InputAddr: BigInt(IOVA + 2 * 4096), RnW: 1 });
  });

  it('stopOnFault stops issuing at the first fault; writes reach memory through the translation', () => {
    const { q, dev, log, store } = translated();
    dev.start({ op: 'write', streamId: SID, base: IOVA, rangeBytes: 4 * 4096, bytes: 4096, intervalCycles: 1000, maxOutstanding: 1, value: 0x5a, stopOnFault: true });
    q.runUntil(1e7);
    expect(log.map((r) => r.status)).toEqual(['done', 'done', 'fault']);
    const b = new Uint8Array(4096);
    store.read(DATA + 4096, b, 0, 4096);
    expect(b.every((v) => v === 0x5a)).toBe(true);
    expect(dev.stats.bytesWritten).toBe(8192);
  });

  it('a stalled request holds its slot until CMD_RESUME; the retry is charged and completes', () => {
    const r = translated({ S: 1 });
    r.dev.start(read({ base: IOVA + 2 * 4096, rangeBytes: 4096, count: 1, maxOutstanding: 1 }));
    r.q.runUntil(2000);
    expect(r.dev.outstanding).toBe(1);
    const ev = r.events();
    expect(ev[0]).toMatchObject({ name: 'F_TRANSLATION', Stall: 1 });
    r.s1.map({ va: IOVA + 2 * 4096, oa: DATA + 2 * 4096, size: 4096, level: 3, s1: { nG: true, ap: 0b01 } });
    r.submit(['RESUME', { StreamID: SID, STAG: ev[0]!.STAG, Action: 1 }], ['SYNC']);
    r.q.runUntil(1e6);
    expect(r.log).toEqual([expect.objectContaining({ status: 'done', stalls: 1, via: 'walk' })]);
    expect(r.log[0]!.doneCycle).toBeGreaterThan(2000);
    expect(r.dev.stats).toMatchObject({ stalls: 1, translations: 2, completed: 1 });
  });

  it('is deterministic: the same stream twice gives the same requests and stats', () => {
    const go = () => {
      const t = translated();
      t.dev.start(read({ count: 300, intervalCycles: 3, maxOutstanding: 6 }));
      t.q.runUntil(1e7);
      return JSON.stringify([t.log, t.dev.stats, t.dev.latency.summary()]);
    };
    expect(go()).toBe(go());
  });

  it('rejects a bad spec with the field name', () => {
    const { dev } = bypass();
    expect(() => dev.start(read({ bytes: 48 }))).toThrow(/bytes must be a power of two/);
    expect(() => dev.start(read({ maxOutstanding: 0 }))).toThrow(/maxOutstanding/);
    expect(() => dev.start(read({ base: IOVA + 32 }))).toThrow(/multiples of bytes/);
  });
});
