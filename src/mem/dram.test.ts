import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventQueue, Link, ReqKind, ReqStatus, RequestTable, Rng, StatsRegistry, UserError } from '../sim/index.js';
import type { PhysicalStore } from './store.js';
import { DramController, decodeDramAddress, encodeDramAddress, makeDramConfig, DRAM_MAPPINGS, T_RTW_NCK, BYPASS_CAP, type DramConfig, type DramCoord } from './dram.js';
import { DDR4_3200 } from './dram-presets.js';

/** A sparse byte store in 4 KiB pages. */
class PageStore implements PhysicalStore {
  private readonly pages = new Map<number, Uint8Array>();
  private page(pa: number): Uint8Array {
    const k = Math.floor(pa / 4096);
    let p = this.pages.get(k);
    if (p === undefined) { p = new Uint8Array(4096); this.pages.set(k, p); }
    return p;
  }
  read(pa: number, dst: Uint8Array, dstOff: number, len: number): void {
    for (let i = 0; i < len; i++) dst[dstOff + i] = this.page(pa + i)[(pa + i) % 4096]!;
  }
  write(pa: number, src: Uint8Array, srcOff: number, len: number): void {
    for (let i = 0; i < len; i++) this.page(pa + i)[(pa + i) % 4096] = src[srcOff + i]!;
  }
}

interface Done { seq: number; id: number; at: number; kind: number; addr: number; bytes: Uint8Array }

/** Queue, table, store, controller, and links whose far ends are the test. */
function harness(over: Partial<DramConfig> = {}, tableSlots = 512) {
  const cfg: DramConfig = { ...DDR4_3200, refresh: false, ...over };
  const q = new EventQueue();
  const table = new RequestTable(tableSlots, 64);
  const stats = new StatsRegistry();
  const store = new PageStore();
  const dram = new DramController({ name: 'system.dram', q, table, store, cfg, stats, statsPath: 'system.dram' });
  const done: Done[] = [];
  const arrivals = new Map<number, number>();     // seq -> cycle sent
  let seq = 0;
  let keepBytes = true;
  let badResponses = 0;                           // status not Ok, or doneAt not the delivery cycle
  const respHandler = q.register('test.resp', (id) => {
    if (table.status[id] !== ReqStatus.Ok || table.doneAt[id] !== q.now) badResponses++;
    const off = table.dataOffset(id);
    done.push({
      seq: table.tag[id]!, id, at: q.now, kind: table.kind[id]!, addr: table.addr[id]!,
      bytes: keepBytes ? table.data.slice(off, off + table.size[id]!) : new Uint8Array(0),
    });
    table.release(id);
    h.onDone?.();
  });
  const inLink = new Link(q, dram.reqHandler, 0, dram.inCredits, 'test->dram');
  const respLink = new Link(q, respHandler, 0, 1 << 30, 'dram->test');
  dram.inLink = inLink; dram.respLink = respLink;

  const h = {
    cfg, q, table, stats, store, dram, done, arrivals, inLink,
    onDone: undefined as (() => void) | undefined,
    set keepBytes(v: boolean) { keepBytes = v; },
    /** Sends a request now; returns its sequence number, or -1 if no credit or slot. */
    send(kind: ReqKind, addr: number, size = 64, fill?: (i: number) => number): number {
      if (inLink.available === 0) return -1;
      const id = table.alloc(kind, addr, size, 0, 0, q.now);
      if (id < 0) return -1;
      const s = seq++;
      table.tag[id] = s;
      if (fill) for (let i = 0; i < size; i++) table.data[table.dataOffset(id) + i] = fill(i);
      if (!inLink.trySend(id)) throw new Error('send refused with a credit available');
      arrivals.set(s, q.now);
      return s;
    },
    read(addr: number, size = 64): number { return h.send(ReqKind.Read, addr, size); },
    /** Runs events until `t` and leaves the clock there (nothing is pending before it). */
    advanceTo(t: number): void { q.runUntil(t); if (q.now < t) q.now = t; },
    runIdle(): void { q.runUntil(Infinity); expect(badResponses).toBe(0); },
    doneOf(s: number): Done { const d = done.find((x) => x.seq === s); if (!d) throw new Error(`request ${s} not done`); return d; },
    latency(s: number): number { return h.doneOf(s).at - arrivals.get(s)!; },
    stat(name: string): number { return stats.snapshot().get(`system.dram.${name}`)!; },
    at(c: Partial<DramCoord>): number {
      return encodeDramAddress(cfg, { channel: 0, rank: 0, bankGroup: 0, bank: 0, row: 0, column: 0, ...c });
    },
  };
  return h;
}

/** Timing expectations, in core cycles, derived from a config. */
function timing(cfg: DramConfig) {
  const r = cfg.clockRatio;
  const front = Math.ceil(cfg.frontendLatency / r) * r;     // commands issue on DRAM clock edges
  const burst = (cfg.burstLength / 2) * r;
  return {
    hit: front + cfg.tCL * r + burst + cfg.backendLatency,
    miss: front + (cfg.tRCD + cfg.tCL) * r + burst + cfg.backendLatency,
    conflict: front + (cfg.tRP + cfg.tRCD + cfg.tCL) * r + burst + cfg.backendLatency,
  };
}

describe('DramController: row buffer timing', () => {
  it('a row hit costs tCL + burst, a closed bank adds tRCD, a conflict adds tRP + tRCD (exact)', () => {
    const h = harness();
    const t = timing(h.cfg);
    const a = h.read(h.at({ row: 5, column: 3 }));
    h.advanceTo(10_000);
    const b = h.read(h.at({ row: 5, column: 9 }));          // same bank, same row: hit
    h.advanceTo(20_000);
    const c = h.read(h.at({ row: 6, column: 3 }));          // same bank, another row: conflict
    h.runIdle();
    expect(h.latency(a)).toBe(t.miss);
    expect(h.latency(b)).toBe(t.hit);
    expect(h.latency(c)).toBe(t.conflict);
    expect(h.latency(b)).toBeLessThan(h.latency(c));
    expect(h.stat('rowHits')).toBe(1);
    expect(h.stat('rowMisses')).toBe(1);
    expect(h.stat('rowConflicts')).toBe(1);
    expect(h.stat('activates')).toBe(2);
    expect(h.stat('precharges')).toBe(1);
  });

  it('back-to-back reads to one row: the second follows the first by tCCD_L (same bank group)', () => {
    const h = harness();
    const t = timing(h.cfg);
    const a = h.read(h.at({ row: 1, column: 0 }));
    const b = h.read(h.at({ row: 1, column: 1 }));
    h.runIdle();
    expect(h.latency(a)).toBe(t.miss);
    expect(h.latency(b)).toBe(t.miss + Math.max(h.cfg.tCCD_L, h.cfg.burstLength / 2) * h.cfg.clockRatio);
    expect(h.latency(b)).toBeLessThan(t.miss + t.conflict - t.hit);     // far cheaper than a conflict behind it
  });

  it('tRAS holds back the precharge of a conflict that follows an activate at once', () => {
    const h = harness();
    const r = h.cfg.clockRatio;
    const a = h.read(h.at({ row: 1 }));
    const b = h.read(h.at({ row: 2 }));
    h.runIdle();
    // ACT(row 1) at the first edge after the front end; PRE no earlier than ACT + tRAS (> RD + tRTP here).
    const act = Math.ceil(h.cfg.frontendLatency / r) * r;
    const pre = act + Math.max(h.cfg.tRAS * r, (h.cfg.tRCD + h.cfg.tRTP) * r);
    expect(h.doneOf(b).at).toBe(pre + (h.cfg.tRP + h.cfg.tRCD + h.cfg.tCL + h.cfg.burstLength / 2) * r + h.cfg.backendLatency);
    expect(h.doneOf(a).at).toBeLessThan(h.doneOf(b).at);
  });

  it('turnarounds: write-to-read waits tWTR_S / tWTR_L after the write data, read-to-write leaves a bus gap, tWR delays PRE', () => {
    const h = harness();
    const c = h.cfg, r = c.clockRatio, burst = c.burstLength / 2;
    const edge = (t: number): number => Math.ceil((t + c.frontendLatency) / r) * r;
    h.read(h.at({ bankGroup: 0, row: 3 }));                // open row 3 in bank groups 0 and 1
    h.read(h.at({ bankGroup: 1, row: 3 }));
    h.advanceTo(10_000);
    const w = h.send(ReqKind.Write, h.at({ bankGroup: 0, row: 3, column: 1 }), 64);
    const rOther = h.read(h.at({ bankGroup: 1, row: 3, column: 1 }));
    h.advanceTo(20_000);
    h.send(ReqKind.Write, h.at({ bankGroup: 0, row: 3, column: 2 }), 64);
    const rSame = h.read(h.at({ bankGroup: 0, row: 3, column: 3 }));
    h.advanceTo(30_000);
    const rd = h.read(h.at({ bankGroup: 0, row: 3, column: 4 }));
    const wr = h.send(ReqKind.Write, h.at({ bankGroup: 1, row: 3, column: 4 }), 64);
    h.advanceTo(40_000);
    h.send(ReqKind.Write, h.at({ bankGroup: 0, row: 3, column: 5 }), 64);
    const conflict = h.read(h.at({ bankGroup: 0, row: 4 }));
    h.runIdle();
    const writeEnd = (c.tCWL + burst) * r;
    expect(h.doneOf(w).at).toBe(edge(10_000) + writeEnd + c.backendLatency);
    expect(h.doneOf(rOther).at).toBe(edge(10_000) + writeEnd + (c.tWTR_S + c.tCL + burst) * r + c.backendLatency);
    expect(h.doneOf(rSame).at).toBe(edge(20_000) + writeEnd + (c.tWTR_L + c.tCL + burst) * r + c.backendLatency);
    expect(h.doneOf(rd).at).toBe(edge(30_000) + (c.tCL + burst) * r + c.backendLatency);
    expect(h.doneOf(wr).at).toBe(edge(30_000) + (c.tCL + burst + T_RTW_NCK + burst) * r + c.backendLatency);
    expect(h.doneOf(conflict).at).toBe(edge(40_000) + writeEnd + (c.tWR + c.tRP + c.tRCD + c.tCL + burst) * r + c.backendLatency);
  });

  it('closed-page policy precharges after every access: a repeat to the same row is a miss', () => {
    const h = harness({ pagePolicy: 'closed' });
    const t = timing(h.cfg);
    h.read(h.at({ row: 3 }));
    h.advanceTo(10_000);
    const b = h.read(h.at({ row: 3, column: 1 }));
    h.runIdle();
    expect(h.latency(b)).toBe(t.miss);
    expect(h.stat('rowHits')).toBe(0);
    expect(h.stat('rowMisses')).toBe(2);
    expect(h.stat('precharges')).toBe(2);
  });

  it('independent banks overlap: 16 reads to 16 banks finish far sooner than 16 serial misses', () => {
    const h = harness();
    const t = timing(h.cfg);
    const seqs: number[] = [];
    for (let bg = 0; bg < h.cfg.bankGroups; bg++) for (let ba = 0; ba < h.cfg.banksPerGroup; ba++) seqs.push(h.read(h.at({ bankGroup: bg, bank: ba, row: 7 })));
    h.runIdle();
    const last = Math.max(...seqs.map((s) => h.doneOf(s).at));
    expect(h.stat('rowMisses')).toBe(16);
    // tFAW allows 4 ACTs per window, so the ACTs alone take 3 windows after the first.
    const r = h.cfg.clockRatio;
    expect(last).toBeGreaterThanOrEqual(3 * h.cfg.tFAW * r + t.miss);
    expect(last).toBeLessThan(4 * t.miss);
  });
});

describe('DramController: bandwidth', () => {
  for (const channels of [1, 2]) {
    it(`a sequential 64-byte read stream reaches peak bandwidth within 10% (${channels} channel${channels > 1 ? 's' : ''}, refresh on)`, () => {
      const h = harness({ channels, refresh: true }, 1024);
      h.keepBytes = false;
      const total = 4 * 1024 * 1024, lines = total / 64;
      let next = 0;
      const pump = (): void => { while (next < lines && h.read(next * 64) >= 0) next++; };
      h.inLink.onCredit = pump;
      h.onDone = pump;
      pump();
      h.runIdle();
      expect(h.done.length).toBe(lines);
      const first = Math.min(...h.arrivals.values());
      const lastDone = Math.max(...h.done.map((d) => d.at));
      const bw = total / (lastDone - first);
      const peak = h.dram.peakBytesPerCycle();
      expect(peak).toBe((channels * h.cfg.busBytes * 2) / h.cfg.clockRatio);
      expect(bw).toBeLessThanOrEqual(peak);
      expect(bw).toBeGreaterThanOrEqual(0.9 * peak);
      expect(h.stat('rowConflicts')).toBeLessThan(lines / 100);
    });
  }

  it('with the bank group above the column ("RoRaBaBgCoCh") FCFS is held to tCCD_L per access; FR-FCFS interleaves bank groups', () => {
    const stream = (scheduler: 'fcfs' | 'fr-fcfs'): { bw: number; peak: number; cap: number } => {
      const h = harness({ mapping: 'RoRaBaBgCoCh', scheduler }, 1024);
      h.keepBytes = false;
      const lines = 8192;
      let next = 0;
      const pump = (): void => { while (next < lines && h.read(next * 64) >= 0) next++; };
      h.inLink.onCredit = pump; h.onDone = pump;
      pump();
      h.runIdle();
      const bw = (lines * 64) / (Math.max(...h.done.map((d) => d.at)) - Math.min(...h.arrivals.values()));
      return { bw, peak: h.dram.peakBytesPerCycle(), cap: 64 / (h.cfg.tCCD_L * h.cfg.clockRatio) };
    };
    // FCFS: one burst per tCCD_L, except where the stream moves to the next bank group (every row).
    const fifo = stream('fcfs');
    expect(fifo.bw).toBeLessThanOrEqual(fifo.cap * 1.01);
    expect(fifo.bw).toBeGreaterThan(fifo.cap * 0.9);
    expect(fifo.bw).toBeLessThan(0.6 * fifo.peak);
    // FR-FCFS: once its queue spans two bank groups, ready hits alternate between them.
    const fr = stream('fr-fcfs');
    expect(fr.bw).toBeGreaterThan(1.5 * fr.cap);
    expect(fr.bw).toBeLessThanOrEqual(fr.peak);
  });
});

describe('DramController: random traffic', () => {
  it('random reads across banks run at the tFAW limit under FR-FCFS, well above FCFS', () => {
    const bwOf = (scheduler: 'fcfs' | 'fr-fcfs'): { bw: number; fawBound: number; conflicts: number } => {
      const h = harness({ scheduler }, 1024);
      h.keepBytes = false;
      const rng = new Rng(5);
      const n = 20000;
      let sent = 0;
      const pump = (): void => { while (sent < n && h.read(rng.nextInt(1 << 22) * 64) >= 0) sent++; };
      h.inLink.onCredit = pump; h.onDone = pump;
      pump();
      h.runIdle();
      const bw = (n * 64) / (Math.max(...h.done.map((d) => d.at)) - Math.min(...h.arrivals.values()));
      // With (nearly) every access an ACT, one rank moves at most 4 bursts per tFAW.
      return { bw, fawBound: (4 * 64) / (h.cfg.tFAW * h.cfg.clockRatio), conflicts: h.stat('rowConflicts') + h.stat('rowMisses') };
    };
    const fr = bwOf('fr-fcfs'), fifo = bwOf('fcfs');
    expect(fr.conflicts).toBeGreaterThan(0.99 * 20000);
    expect(fr.bw).toBeLessThanOrEqual(fr.fawBound * 1.01);
    expect(fr.bw).toBeGreaterThan(0.85 * fr.fawBound);
    expect(fifo.bw).toBeLessThan(0.6 * fr.bw);
  });
});

describe('DramController: reads and writes mixed', () => {
  const mixedStream = (scheduler: 'fcfs' | 'fr-fcfs'): number => {
    const h = harness({ scheduler }, 1024);
    h.keepBytes = false;
    const rng = new Rng(99);
    const lines = 16384;
    let next = 0;
    const pump = (): void => {
      while (next < lines && h.send(rng.nextInt(4) === 0 ? ReqKind.Write : ReqKind.Read, next * 64) >= 0) next++;
    };
    h.inLink.onCredit = pump; h.onDone = pump;
    pump();
    h.runIdle();
    const bw = (lines * 64) / (Math.max(...h.done.map((d) => d.at)) - Math.min(...h.arrivals.values()));
    return bw / h.dram.peakBytesPerCycle();
  };

  it('FR-FCFS groups reads and writes so a 25%-write stream keeps most of the peak; FCFS pays a turnaround per switch', () => {
    expect(mixedStream('fr-fcfs')).toBeGreaterThan(0.8);
    expect(mixedStream('fcfs')).toBeLessThan(0.6);
  });

  it('a write behind a long read stream is not starved: the bypass bound sends it within a bounded time', () => {
    const h = harness({}, 1024);
    h.keepBytes = false;
    const lines = 8192;
    let next = 0, writeWanted = false, w = -1;
    const pump = (): void => {
      if (writeWanted) {                                   // the write takes the next free credit
        w = h.send(ReqKind.Write, 4 * 1024 * 1024, 64, () => 1);
        if (w < 0) return;
        writeWanted = false;
      }
      while (next < lines && h.read(next * 64) >= 0) next++;
    };
    h.inLink.onCredit = pump; h.onDone = pump;
    pump();
    h.advanceTo(2000);
    writeWanted = true;
    h.runIdle();
    expect(w).toBeGreaterThanOrEqual(0);
    const streamEnd = Math.max(...h.done.map((d) => d.at));
    const r = h.cfg.clockRatio, burst = (h.cfg.burstLength / 2) * r;
    // Older queued reads, then at most BYPASS_CAP younger ones, go before it.
    const bound = (h.cfg.queueDepth + BYPASS_CAP) * burst + timing(h.cfg).conflict + 200;
    expect(h.latency(w)).toBeLessThan(bound);
    expect(h.doneOf(w).at).toBeLessThan(streamEnd / 4);
    expect(h.stat('starvationPicks')).toBeGreaterThan(0);
  });
});

describe('DramController: stats', () => {
  it('alternating two rows of one bank counts conflicts; a sequential walk counts hits and no conflicts', () => {
    const alt = harness();
    const n = 64;
    let i = 0;
    // One request at a time (a dependent chain), so the scheduler cannot batch the hits.
    const nextAlt = (): void => { if (i < n) { alt.read(alt.at({ row: 10 + (i % 2), column: i % 8 })); i++; } };
    alt.onDone = nextAlt;
    nextAlt();
    alt.runIdle();
    expect(alt.stat('reads')).toBe(n);
    expect(alt.stat('rowMisses')).toBe(1);
    expect(alt.stat('rowConflicts')).toBe(n - 1);
    expect(alt.stat('rowHits')).toBe(0);

    const seq = harness();
    const bytes = 64 * 1024, lines = bytes / 64;
    let next = 0;
    const pump = (): void => { while (next < lines && seq.read(next * 64) >= 0) next++; };
    seq.inLink.onCredit = pump; seq.onDone = pump;
    pump();
    seq.runIdle();
    const columnsPerRow = seq.cfg.rowBytes / 64;
    const banksTouched = lines / columnsPerRow;        // every bank's row is read whole, once
    expect(seq.stat('rowConflicts')).toBe(0);
    expect(seq.stat('rowMisses')).toBe(banksTouched);
    expect(seq.stat('rowHits')).toBe(lines - banksTouched);
    expect(seq.stat('bytesRead')).toBe(bytes);
    expect(seq.stat('ch0.busBusyCycles')).toBe(lines * (seq.cfg.burstLength / 2) * seq.cfg.clockRatio);
    expect(seq.stat('readLatency.count')).toBe(lines);
    expect(seq.stat('queueDelay.max')).toBeGreaterThan(0);
  });
});

describe('DramController: data and ordering', () => {
  it('a write then a read of the same address, sent together, returns the written bytes', () => {
    const h = harness();
    const addr = h.at({ row: 4, column: 2, bankGroup: 1 });
    h.send(ReqKind.Write, addr, 64, (i) => (i * 7 + 3) & 0xff);
    const r = h.read(addr);
    h.send(ReqKind.Write, addr + 16, 8, () => 0xee);       // a partial write after the read
    const r2 = h.read(addr);
    h.runIdle();
    const first = h.doneOf(r).bytes, second = h.doneOf(r2).bytes;
    for (let i = 0; i < 64; i++) expect(first[i]).toBe((i * 7 + 3) & 0xff);
    for (let i = 0; i < 64; i++) expect(second[i]).toBe(i >= 16 && i < 24 ? 0xee : (i * 7 + 3) & 0xff);
    expect(h.stat('writes')).toBe(2);
    expect(h.stat('bytesWritten')).toBe(72);
  });

  it('FR-FCFS lets a younger row hit pass an older row conflict; FCFS does not', () => {
    const order = (scheduler: 'fr-fcfs' | 'fcfs'): number[] => {
      const h = harness({ scheduler });
      h.read(h.at({ row: 20 }));                          // opens row 20
      h.advanceTo(10_000);
      const conflict = h.read(h.at({ row: 21 }));
      const hit = h.read(h.at({ row: 20, column: 5 }));
      h.runIdle();
      return [h.doneOf(conflict).at, h.doneOf(hit).at, h.stat('rowConflicts')];
    };
    const [fcConflict, fcHit, fcConflicts] = order('fr-fcfs');
    expect(fcHit).toBeLessThan(fcConflict);
    expect(fcConflicts).toBe(1);
    const [fifoConflict, fifoHit, fifoConflicts] = order('fcfs');
    expect(fifoConflict).toBeLessThan(fifoHit);
    expect(fifoConflicts).toBe(2);                        // the hit found row 21 open
  });

  it('FR-FCFS never moves a read past an older write to the same address', () => {
    // With a long tCCD_L, a read can be "ready" (its wait for tWTR_S after another bank group's
    // write hides its tCCD_L) while the older write to the same address is not: the scheduler must
    // still keep them in order.
    const h = harness({ tCCD_L: 30 });
    const x = h.at({ bankGroup: 0, row: 30, column: 1 });
    h.read(h.at({ bankGroup: 0, row: 30 }));              // open row 30 in bank groups 0 and 1
    h.read(h.at({ bankGroup: 1, row: 30 }));
    h.advanceTo(10_000);
    h.read(h.at({ bankGroup: 0, row: 30, column: 2 }));
    h.send(ReqKind.Write, h.at({ bankGroup: 1, row: 30, column: 2 }), 64, () => 0x11);
    const w = h.send(ReqKind.Write, x, 64, () => 0x5a);
    const r = h.read(x);
    h.runIdle();
    expect(h.doneOf(w).at).toBeLessThan(h.doneOf(r).at);
    expect([...h.doneOf(r).bytes].every((b) => b === 0x5a)).toBe(true);
  });
});

describe('DramController: refresh', () => {
  it('counts one refresh per tREFI per rank', () => {
    for (const ranks of [1, 2]) {
      const h = harness({ refresh: true, ranks });
      const period = h.cfg.tREFI * h.cfg.clockRatio;
      const end = 10 * period + 1234;
      const rng = new Rng(7);
      for (let t = 0; t < end; t += 5000) { h.advanceTo(t); h.read(rng.nextInt(1 << 28) * 64); }
      h.runIdle();
      const cycles = h.q.now;
      const expected = (ranks * cycles) / period;
      expect(h.stat('refreshes')).toBeGreaterThanOrEqual(Math.floor(expected) - ranks);
      expect(h.stat('refreshes')).toBeLessThanOrEqual(Math.ceil(expected));
    }
  });

  it('a read arriving during a refresh waits until the refresh ends, then activates', () => {
    const h = harness({ refresh: true });
    const r = h.cfg.clockRatio;
    const due = h.cfg.tREFI * r;                        // one rank: the first refresh falls at tREFI
    h.advanceTo(due + 10);
    const s = h.read(h.at({ row: 2 }));
    h.runIdle();
    const refreshEnd = due + h.cfg.tRFC * r;
    const cmdEdge = Math.ceil((due + 10 + h.cfg.frontendLatency) / r) * r;
    expect(cmdEdge).toBeLessThan(refreshEnd);           // it did arrive during the refresh
    expect(h.doneOf(s).at).toBe(refreshEnd + (h.cfg.tRCD + h.cfg.tCL + h.cfg.burstLength / 2) * r + h.cfg.backendLatency);
    expect(h.stat('refreshes')).toBe(1);
  });

  it('a row open at refresh time is closed by it (the next access is a miss, not a hit)', () => {
    const h = harness({ refresh: true });
    const due = h.cfg.tREFI * h.cfg.clockRatio;
    h.read(h.at({ row: 9 }));
    h.advanceTo(due + h.cfg.tRFC * h.cfg.clockRatio + 1000);
    h.read(h.at({ row: 9, column: 1 }));
    h.runIdle();
    expect(h.stat('rowHits')).toBe(0);
    expect(h.stat('rowMisses')).toBe(2);
  });
});

describe('DramController: determinism', () => {
  it('the same seeded random stream gives identical completion times and stats', () => {
    const run = () => {
      const h = harness({ refresh: true, channels: 2, ranks: 2 });
      const rng = new Rng(12345).fork('dram-test');
      const n = 3000;
      let sent = 0;
      const issue = (): void => {
        while (sent < n) {
          const kind = rng.nextInt(4) === 0 ? ReqKind.Write : ReqKind.Read;
          const addr = rng.nextInt(1 << 22) * 64 + rng.nextInt(8) * 8;
          if (h.send(kind, addr, 8, (i) => i) < 0) return;
          sent++;
          if (rng.nextInt(3) === 0) return;             // bursty: stop and wait for a completion
        }
      };
      h.onDone = issue; h.inLink.onCredit = issue;
      issue();
      h.runIdle();
      return { times: h.done.map((d) => `${d.seq}@${d.at}`), stats: [...h.stats.snapshot()] };
    };
    const a = run(), b = run();
    expect(a.times.length).toBe(3000);
    expect(a.times).toEqual(b.times);
    expect(a.stats).toEqual(b.stats);
    const conflicts = a.stats.find(([k]) => k === 'system.dram.rowConflicts')![1];
    expect(conflicts).toBeGreaterThan(0);
  });
});

describe('DramController: configuration and address mapping', () => {
  it('decode inverts encode for every mapping', () => {
    for (const mapping of DRAM_MAPPINGS) {
      const cfg = { ...DDR4_3200, channels: 4, ranks: 2, mapping };
      const c = { channel: 3, rank: 1, bankGroup: 2, bank: 3, row: 1000, column: 77 };
      const a = encodeDramAddress(cfg, c);
      expect(a % 64).toBe(0);
      expect(decodeDramAddress(cfg, a + 17)).toEqual(c);
    }
  });

  it('the default mapping sends consecutive lines to different bank groups of the same row', () => {
    const cfg = { ...DDR4_3200, channels: 2 };
    const c0 = decodeDramAddress(cfg, 0), c1 = decodeDramAddress(cfg, 64), c2 = decodeDramAddress(cfg, 128);
    expect(c1.channel).not.toBe(c0.channel);
    expect(c2.channel).toBe(c0.channel);
    expect(c2.bankGroup).not.toBe(c0.bankGroup);
    expect(c2.row).toBe(c0.row);
  });

  it('rejects unknown keys and bad values with one-line errors naming the field', () => {
    expect(() => makeDramConfig(DDR4_3200, { tCLL: 3 })).toThrow(/dram\.tCLL: unknown key/);
    expect(() => makeDramConfig(DDR4_3200, { clockRatio: 1.5 })).toThrow(UserError);
    expect(() => makeDramConfig(DDR4_3200, { mapping: 'RoCo' })).toThrow(/dram\.mapping: must be one of/);
    expect(() => makeDramConfig(DDR4_3200, { rowBytes: 100 })).toThrow(/rowBytes/);
    expect(makeDramConfig(DDR4_3200, { channels: 4 }).channels).toBe(4);
  });

  it('a request arriving with every queue entry taken is a wiring bug and throws', () => {
    const h = harness({ queueDepth: 2 });
    const wide = new Link(h.q, h.dram.reqHandler, 0, 100, 'too-many-credits');
    for (let i = 0; i < 3; i++) {
      const id = h.table.alloc(ReqKind.Read, i * 1024 * 1024, 64, 0, 0, 0);
      wide.trySend(id);
    }
    expect(() => h.q.runUntil(1)).toThrow(/every queue entry taken/);
  });
});

describe('DramController: same-address order under any scheduling (property)', () => {
  it('every read returns what the writes sent before it left, whatever the scheduler reorders', () => {
    // A few bursts in a few rows of a few banks (and channels), mostly arriving together, so that
    // row hits, conflicts and reordering all happen among requests to the same addresses (a long
    // tCCD_L makes a younger read to another bank group ready before an older write, as above).
    const req = fc.record({
      gap: fc.constantFrom(0, 0, 0, 1, 4, 40), write: fc.boolean(),
      bank: fc.integer({ min: 0, max: 3 }), row: fc.integer({ min: 0, max: 1 }), column: fc.integer({ min: 0, max: 1 }),
      offset: fc.constantFrom(0, 8, 56), whole: fc.boolean(), byte: fc.integer({ min: 1, max: 255 }),
    });
    fc.assert(fc.property(
      fc.record({ scheduler: fc.constantFrom('fr-fcfs' as const, 'fcfs' as const), pagePolicy: fc.constantFrom('open' as const, 'closed' as const), channels: fc.constantFrom(1, 2), refresh: fc.boolean(), mapping: fc.constantFrom(...DRAM_MAPPINGS), tCCD_L: fc.constantFrom(DDR4_3200.tCCD_L, 30) }),
      fc.array(req, { minLength: 1, maxLength: 120 }),
      (over, reqs) => {
        const h = harness(over);
        const model = new PageStore();
        const want = new Map<number, Uint8Array>();           // read seq -> the bytes it must return
        for (const r of reqs) {
          h.advanceTo(h.q.now + r.gap);
          const base = h.at({ bankGroup: r.bank % 2, bank: r.bank >> 1, row: r.row, column: r.column, channel: r.bank % over.channels });
          const size = r.whole ? 64 : 8, addr = base + (r.whole ? 0 : r.offset);
          let s = -1;
          while ((s = r.write ? h.send(ReqKind.Write, addr, size, (i) => (r.byte + i) & 0xff) : h.read(addr, size)) < 0) h.advanceTo(h.q.now + 1);
          if (r.write) { const b = new Uint8Array(size).map((_, i) => (r.byte + i) & 0xff); model.write(addr, b, 0, size); }
          else { const b = new Uint8Array(size); model.read(addr, b, 0, size); want.set(s, b); }
        }
        h.runIdle();
        expect(h.done).toHaveLength(reqs.length);
        for (const [s, b] of want) expect([...h.doneOf(s).bytes], `read ${s}`).toEqual([...b]);
      },
    ), { numRuns: 200, seed: 21 });
  });
});
