import { describe, it, expect, afterEach } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EventQueue } from '../sim/index.js';
import { SparseMemory } from '../mem/index.js';
import { PageTableBuilder, encodeS1Leaf } from '../mmu/index.js';
import { resolveSmmuConfig } from './config.js';
import { SmmuAccess, SmmuEngine, type SmmuRequest, type SmmuResult } from './engine.js';
import { encodeCd, encodeSte } from './formats.js';
import { encodeCommand } from './commands.js';
import { StoreMemory } from './memory.js';
import { CR0_CMDQEN, CR0_EVENTQEN, CR0_SMMUEN, GERROR_EVENTQ_ABT_ERR, Reg } from './registers.js';
import { SmmuHost, SmmuWorkerError, type HostTiming, type SmmuControl } from './host.js';

// A nested set-up: 8 streams, each with its own CD (ASID) and stage-1 tables in guest memory, one
// shared stage 2; 64 pages per stream so that the IOTLB (small here) misses often.
const STRTAB = 0x1000_0000, CMDQ = 0x1100_0000, EVTQ = 0x1200_0000, CD_PA = 0x1300_0000, CD_IPA = 0x80_0000_0000;
const IPA_TO_PA = 0x3_0000_0000, VA = 0x10_0000_0000, IPA = 0x8_0000_0000, PA = 0x6_0000_0000;
const STREAMS = 8, PAGES = 64, VMID = 5;
const TIMING: HostTiming = { translateCycles: 8, descriptorReadCycles: 60 };

/** `httu`: IDR0.HTTU=2 with CD.HA/HD and STE.S2HA/S2HD set, and every leaf AF=0, read-only and DBM (writable-clean). */
function world(opts: { httu?: boolean } = {}) {
  const httu = opts.httu === true;
  const m = new SparseMemory({ base: 0, size: 2 ** 48, chunkBytes: 64 * 1024 });
  const mem = new StoreMemory(m);
  const s2 = new PageTableBuilder(m, { stage: 2, granule: '4K', inputBits: 48, startLevel: 0, allocBase: 0x2000_0000, allocLimit: 0x2100_0000 });
  s2.map({ va: 0x4000_0000, oa: 0x4000_0000 + IPA_TO_PA, size: 0x40_0000, level: 3, s2: {} });
  s2.map({ va: CD_IPA, oa: CD_PA, size: 0x1000, level: 3, s2: {} });
  s2.map({ va: IPA, oa: PA, size: PAGES * 4096, level: 3, s2: httu ? { af: false, s2ap: 0b01, dbm: true } : {} });
  const put = (pa: number, w: Uint32Array): void => m.write(pa, new Uint8Array(w.buffer), 0, w.byteLength);
  const s1s: PageTableBuilder[] = [];
  for (let sid = 0; sid < STREAMS; sid++) {
    const s1 = new PageTableBuilder(m, { stage: 1, granule: '4K', inputBits: 48, allocBase: 0x4000_0000 + sid * 0x8_0000, allocLimit: 0x4000_0000 + (sid + 1) * 0x8_0000, physOf: (ipa) => ipa + IPA_TO_PA });
    s1.map({ va: VA, oa: IPA, size: PAGES * 4096, level: 3, s1: httu ? { nG: true, ap: 0b11, af: false, dbm: true } : { nG: true, ap: 0b01 } });
    s1s.push(s1);
    put(CD_PA + sid * 64, encodeCd({ T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 10 + sid, TTB0: s1.root, MAIR0: 0xff, HA: httu ? 1 : 0, HD: httu ? 1 : 0 }));
    put(STRTAB + sid * 64, encodeSte({
      V: 1, Config: 7, S1ContextPtr: CD_IPA + sid * 64, S2VMID: VMID, S2T0SZ: 16, S2SL0: 2, S2IR0: 1, S2OR0: 1, S2SH0: 3, S2TG: 0, S2PS: 5,
      S2AA64: 1, S2R: 1, S2TTB: s2.root, S2HA: httu ? 1 : 0, S2HD: httu ? 1 : 0,
    }));
  }
  const config = resolveSmmuConfig({ tlbEntries: 64, tlbWays: 4, walkCacheEntries: 16, ...(httu ? { httu: 2 } : {}) });
  const program = (c: SmmuControl): void => {
    const w64 = (off: number, v: number): void => c.mmioWrite(off, 8, v % 2 ** 32, Math.floor(v / 2 ** 32));
    w64(Reg.STRTAB_BASE, STRTAB);
    c.mmioWrite(Reg.STRTAB_BASE_CFG, 4, 8);
    w64(Reg.CMDQ_BASE, CMDQ + 4);
    w64(Reg.EVENTQ_BASE, EVTQ + 4);
    c.mmioWrite(Reg.CR0, 4, CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN);
  };
  return { m, mem, s1s, s2, config, program };
}

interface Done { tag: number; iova: number; cycle: number; status: string; pa: number; reads: number; event: string | null }

/**
 * Each stream issues `perStream` translations one after the other (the next when the previous
 * answers), over pages chosen by a fixed LCG; a table change lands at cycle `changeAt` through
 * `change`. Returns what each translation answered and when.
 */
function drive(threads: 0 | 1, opts: { perStream?: number; changeAt?: number; change?: (w: ReturnType<typeof world>) => void; stallTimeoutMs?: number; httu?: boolean } = {}) {
  const w = world({ httu: opts.httu });
  const q = new EventQueue();
  const host = new SmmuHost(q, w.mem, w.config, TIMING, { threads, stallTimeoutMs: opts.stallTimeoutMs });
  w.program(host.control);
  const log: Done[] = [];
  const per = opts.perStream ?? 40;
  const left = new Array<number>(STREAMS).fill(per);
  let seed = 12345;
  const nextPage = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % PAGES; };
  const issue = (sid: number): void => {
    const req: SmmuRequest = { streamId: sid, iova: VA + nextPage() * 4096 + 8 * sid, access: sid % 2 === 0 ? SmmuAccess.Read : SmmuAccess.Write };
    iovas[sid] = req.iova as number;
    host.translate(req, client, sid);
  };
  const iovas: number[] = [];
  const client = {
    onTranslated(tag: number, r: SmmuResult) {
      log.push({ tag, iova: iovas[tag]!, cycle: q.now, status: r.status, pa: r.pa, reads: r.reads, event: r.event === null ? null : r.event.name });
      if (--left[tag]! > 0) issue(tag);
    },
  };
  for (let sid = 0; sid < STREAMS; sid++) issue(sid);
  if (opts.change !== undefined) q.scheduleAt(q.register('change', () => opts.change!(w)), opts.changeAt ?? 0);
  return { w, q, host, log, run: () => { q.runUntil(Number.MAX_SAFE_INTEGER); } };
}

const hosts: SmmuHost[] = [];
afterEach(async () => { for (const h of hosts.splice(0)) await h.close(); });

describe('SmmuHost: the engine behind a timed protocol', () => {
  it('a translation takes reads * descriptorReadCycles + translateCycles and answers what the engine answers', () => {
    const d = drive(0, { perStream: 1 });
    d.run();
    expect(d.log).toHaveLength(STREAMS);
    for (const x of d.log) {
      expect(x.cycle).toBe(x.reads * TIMING.descriptorReadCycles + TIMING.translateCycles);
      const ref = world();
      const e = new SmmuEngine(ref.mem, ref.config);
      ref.program(e);
      const r = e.translate({ streamId: x.tag, iova: x.iova, access: x.tag % 2 === 0 ? SmmuAccess.Read : SmmuAccess.Write });
      expect({ status: x.status, pa: x.pa }).toEqual({ status: 'ok', pa: r.pa });
      expect(x.reads).toBeGreaterThan(24); // STE, CD and a cold nested walk (walk-cache hits vary with company)
    }
    // Several walks were outstanding at once: the cold translations overlap in time.
    expect(new Set(d.log.map((x) => x.cycle)).size).toBeLessThan(STREAMS);
  });

  it('inline and worker runs give identical answers at identical cycles (IOTLB misses >= 20%)', async () => {
    const a = drive(0);
    a.run();
    const b = drive(1);
    hosts.push(b.host);
    b.run();
    expect(b.log).toEqual(a.log);
    const misses = a.log.filter((x) => x.reads > 0).length / a.log.length;
    expect(misses).toBeGreaterThanOrEqual(0.2);
    expect(b.host.control.statsSnapshot()).toEqual(a.host.control.statsSnapshot());
    expect(b.host.hostStats.checkpoints).toBe(a.host.hostStats.checkpoints);
  });

  it('IDR0.HTTU: walks set AF and record writes as dirty at both stages by compare-and-swap; inline and worker agree to the byte', async () => {
    const a = drive(0, { httu: true });
    a.run();
    const b = drive(1, { httu: true });
    hosts.push(b.host);
    b.run();
    expect(b.log).toEqual(a.log);
    expect(b.host.control.statsSnapshot()).toEqual(a.host.control.statsSnapshot());
    expect(a.log.every((x) => x.status === 'ok')).toBe(true);         // no Access flag or Permission faults
    const desc = (m: SparseMemory, pa: number): number => { const v = new Uint8Array(8); m.read(pa, v, 0, 8); return new DataView(v.buffer).getUint32(0, true); };
    const AF = 1 << 10, BIT7 = 1 << 7;
    let dirtyS1 = 0;
    for (let sid = 0; sid < STREAMS; sid++) {
      const used = new Set(a.log.filter((x) => x.tag === sid).map((x) => Math.floor((x.iova - VA) / 4096)));
      for (let p = 0; p < PAGES; p++) {
        const leaf = a.w.s1s[sid]!.slotAddress(VA + p * 4096, 3) + IPA_TO_PA;
        const lo = desc(a.w.m, leaf);
        expect(desc(b.w.m, leaf)).toBe(lo);
        // Stage 1: AF on every page the stream used; AP[2] cleared (dirty) on those it wrote (odd streams write).
        expect({ sid, p, af: (lo & AF) !== 0, dirty: (lo & BIT7) === 0 }).toEqual({ sid, p, af: used.has(p), dirty: used.has(p) && sid % 2 === 1 });
        if ((lo & BIT7) === 0) dirtyS1++;
      }
    }
    expect(dirtyS1).toBeGreaterThan(0);
    // Each stream's updates are counted apart from its reads: at least one per page it used (its AF).
    const snap = a.host.control.statsSnapshot() as { streams: Record<number, { descriptorUpdates: number; configReads: number }> };
    for (let sid = 0; sid < STREAMS; sid++) {
      const used = new Set(a.log.filter((x) => x.tag === sid).map((x) => Math.floor((x.iova - VA) / 4096))).size;
      expect(snap.streams[sid]!.descriptorUpdates).toBeGreaterThanOrEqual(used);
    }
    // Stage 2 of the data pages: S2AP[1] set (dirty) on every page some stream wrote.
    const written = new Set(a.log.filter((x) => x.tag % 2 === 1).map((x) => Math.floor((x.iova - VA) / 4096)));
    for (let p = 0; p < PAGES; p++) {
      const leaf = a.w.s2.slotAddress(IPA + p * 4096, 3);
      expect(desc(b.w.m, leaf)).toBe(desc(a.w.m, leaf));
      expect((desc(a.w.m, leaf) & BIT7) !== 0).toBe(written.has(p));
    }
  });

  it('the engine reads table memory as it is at each read\'s cycle, inline and in the worker', () => {
    // At cycle 2200 (after the first, cold translations) stream 3's stage-1 leaf for every page
    // moves to a new IPA: walks that read a leaf after 2200 see it; those before do not.
    const change = (w: ReturnType<typeof world>): void => {
      for (let p = 0; p < PAGES; p++) w.s1s[3]!.setDescriptor(VA + p * 4096, 3, encodeS1Leaf(IPA + 0x100_0000 + p * 4096, 3, 12, { nG: true, ap: 0b01 }));
    };
    const runs = ([0, 1] as const).map((t) => {
      const d = drive(t, { perStream: 6, changeAt: 2200, change });
      if (t === 1) hosts.push(d.host);
      d.run();
      return d.log.filter((x) => x.tag === 3);
    });
    expect(runs[1]).toEqual(runs[0]);
    // The first translation's walk finished before 2200 (old mapping); a later miss faults at
    // stage 2 (the new IPA is not mapped): the answers change at the cycle of the change.
    const s = runs[0]!;
    expect(s[0]!.cycle).toBeLessThan(2200);
    expect(s[0]!.status).toBe('ok');
    expect(s[0]!.pa - PA).toBeLessThan(PAGES * 4096);
    const late = s.filter((x) => x.cycle - x.reads * TIMING.descriptorReadCycles > 2200 && x.reads > 0);
    expect(late.length).toBeGreaterThan(0);
    for (const x of late) expect(x).toMatchObject({ status: 'abort', event: 'F_TRANSLATION' });
  });

  it('a memory that times its reads (readLatency) delays each answer to that latency, never below descriptorReadCycles; both modes agree', () => {
    // Reads of the stream table and CDs cost 25 (under the floor of 60: still 60), every other read 200.
    const runs = ([0, 1] as const).map((threads) => {
      const w = world();
      const slow = Object.assign(w.mem, { readLatency: (pa: number) => (pa >= STRTAB && pa < CD_PA + 0x1000 ? 25 : 200) });
      const q = new EventQueue();
      const host = new SmmuHost(q, slow, w.config, TIMING, { threads });
      if (threads === 1) hosts.push(host);
      w.program(host.control);
      w.mem.readLog = [];
      const done: Array<{ cycle: number; status: string; reads: number }> = [];
      const client = { onTranslated(_tag: number, r: SmmuResult) { done.push({ cycle: q.now, status: r.status, reads: r.reads }); } };
      host.translate({ streamId: 2, iova: VA + 5 * 4096, access: SmmuAccess.Read }, client, 0);
      q.runUntil(Number.MAX_SAFE_INTEGER);
      const fast = w.mem.readLog.filter((pa) => pa >= STRTAB && pa < CD_PA + 0x1000).length;
      return { done, fast, reads: w.mem.readLog.length };
    });
    expect(runs[1]).toEqual(runs[0]);
    const { done, fast, reads } = runs[0]!;
    expect(done).toHaveLength(1);
    expect(done[0]!.status).toBe('ok');
    expect(done[0]!.reads).toBe(reads);
    expect(fast).toBeGreaterThan(0);
    expect(done[0]!.cycle).toBe(fast * TIMING.descriptorReadCycles + (reads - fast) * 200 + TIMING.translateCycles);
  });

  it('a request for a page whose walk is in flight waits for it (merged) and is answered as a hit at its own offset; after a fault it translates afresh', () => {
    const runs = ([0, 1] as const).map((threads) => {
      const w = world();
      const q = new EventQueue();
      const host = new SmmuHost(q, w.mem, w.config, TIMING, { threads });
      if (threads === 1) hosts.push(host);
      w.program(host.control);
      const done: Array<{ tag: number; cycle: number; status: string; via: string; reads: number; pa: number; event: string | null }> = [];
      const client = { onTranslated(tag: number, r: SmmuResult) { done.push({ tag, cycle: q.now, status: r.status, via: r.via, reads: r.reads, pa: r.pa, event: r.event?.name ?? null }); } };
      const ask = (tag: number, iova: number, at: number, access: SmmuAccess = SmmuAccess.Read): void => {
        q.scheduleAt(q.register(`ask${tag}`, () => host.translate({ streamId: 1, iova, access }, client, tag)), at);
      };
      ask(0, VA + 7 * 4096 + 0x10, 0);            // cold: a long walk
      ask(1, VA + 7 * 4096 + 0x800, 100);         // same page, walk in flight: merged
      ask(2, VA + 7 * 4096 + 0x800, 150, SmmuAccess.Write);   // another access type: walks itself
      ask(3, VA + PAGES * 4096, 3000);            // unmapped: its walk faults...
      ask(4, VA + PAGES * 4096 + 8, 3100);        // ... and the merged request then translates afresh and faults too
      q.runUntil(Number.MAX_SAFE_INTEGER);
      return { done: done.sort((a, b) => a.tag - b.tag), merged: host.stats.missesMerged };
    });
    expect(runs[1]).toEqual(runs[0]);
    const { done: d, merged } = runs[0]!;
    expect(merged).toBe(2);
    expect(d[0]).toMatchObject({ status: 'ok', via: 'walk' });
    expect(d[1]).toMatchObject({ status: 'ok', via: 'tlb', reads: 0, cycle: d[0]!.cycle, pa: d[0]!.pa + 0x7f0 });
    expect(d[2]!.reads).toBeGreaterThan(0);
    expect(d[3]).toMatchObject({ status: 'abort', event: 'F_TRANSLATION' });
    expect(d[4]).toMatchObject({ status: 'abort', event: 'F_TRANSLATION' });
    expect(d[4]!.cycle).toBeGreaterThan(d[3]!.cycle);
  });

  it('an event record whose write aborts at its due cycle raises GERROR.EVENTQ_ABT_ERR then, inline and in the worker', () => {
    // Two faulting translations (unmapped IOVAs; CD.R=1 records them) with the event queue's
    // memory aborting: the first record's write aborts at its due cycle, the second finds the
    // error active and is discarded without a write.
    const runs = ([0, 1] as const).map((threads) => {
      const w = world();
      w.mem.abortRanges = [[EVTQ, 0x1000]];
      const q = new EventQueue();
      const host = new SmmuHost(q, w.mem, w.config, TIMING, { threads });
      if (threads === 1) hosts.push(host);
      w.program(host.control);
      const done: Array<{ cycle: number; event: string | null }> = [];
      const client = { onTranslated(_tag: number, r: SmmuResult) { done.push({ cycle: q.now, event: r.event === null ? null : r.event.name }); } };
      const gerror: number[] = [];
      const sample = q.register('sample', () => { gerror.push(host.control.mmioRead(Reg.GERROR)[0] & GERROR_EVENTQ_ABT_ERR); });
      host.translate({ streamId: 0, iova: VA + PAGES * 4096, access: SmmuAccess.Read }, client, 0);
      for (const at of [100, 5000]) q.scheduleAt(sample, at);
      q.scheduleAt(q.register('second', () => host.translate({ streamId: 1, iova: VA + (PAGES + 1) * 4096, access: SmmuAccess.Read }, client, 1)), 6000);
      q.runUntil(Number.MAX_SAFE_INTEGER);
      const st = host.control.stats;
      return { done, gerror, written: st.eventsWritten, discarded: st.eventsDiscarded, writes: w.mem.writes };
    });
    expect(runs[1]).toEqual(runs[0]);
    const r = runs[0]!;
    expect(r.done.map((d) => d.event)).toEqual(['F_TRANSLATION', 'F_TRANSLATION']);
    // Not raised before the record's write is performed (with the result), raised after it.
    expect(r.done[0]!.cycle).toBeGreaterThan(100);
    expect(r.done[0]!.cycle).toBeLessThan(5000);
    expect(r.gerror).toEqual([0, GERROR_EVENTQ_ABT_ERR]);
    expect({ written: r.written, discarded: r.discarded }).toEqual({ written: 0, discarded: 2 });
    expect(r.writes).toBe(4);                          // the first record's four words; none of the second's
  });

  it('an exception in the worker ends the run with its message, not a hang', () => {
    const w = world();
    const host = new SmmuHost(new EventQueue(), w.mem, w.config, TIMING, { threads: 1, stallTimeoutMs: 10_000 });
    hosts.push(host);
    expect(() => host.call('noSuchCall', [])).toThrow(SmmuWorkerError);
    expect(() => host.call('noSuchCall', [])).toThrow(/SMMU worker failed: .*unknown call noSuchCall/);
  });

  it('a worker that never answers ends the run after the timeout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-host-'));
    const file = join(dir, 'dead-worker.mjs');
    writeFileSync(file, 'export default function () { return new Promise(() => {}); }\n');
    const w = world();
    const host = new SmmuHost(new EventQueue(), w.mem, w.config, TIMING, { threads: 1, stallTimeoutMs: 300, workerUrl: pathToFileURL(file) });
    hosts.push(host);
    expect(() => host.control.mmioRead(Reg.IDR0)).toThrow(/did not answer/);
  });

  it('refuses a lookahead below 1 cycle', () => {
    const w = world();
    expect(() => new SmmuHost(new EventQueue(), w.mem, w.config, { translateCycles: 0, descriptorReadCycles: 60 }, { threads: 0 })).toThrow(/at least 1/);
  });
});

describe('SmmuHost.doorbell: commands take time', () => {
  it.each([0, 1] as const)('threads=%i: one command per commandCycles, CONS moves over time, an illegal command stops it', (threads) => {
    const w = world();
    const q = new EventQueue();
    const host = new SmmuHost(q, w.mem, w.config, TIMING, { threads, commandCycles: 16 });
    hosts.push(host);
    w.program(host.control);
    const put = (i: number, op: Parameters<typeof encodeCommand>[0], f: Parameters<typeof encodeCommand>[1] = {}): void => {
      const u = encodeCommand(op, f);
      w.m.write(CMDQ + i * 16, new Uint8Array(u.buffer, u.byteOffset, 16), 0, 16);
    };
    for (let i = 0; i < 4; i++) put(i, 'TLBI_NH_ALL', { VMID });
    put(4, 'SYNC');
    host.control.mmioWrite(Reg.CMDQ_PROD, 4, 5);
    host.doorbell();
    const cons = (): number => host.control.mmioRead(Reg.CMDQ_CONS)[0];
    const seen: number[] = [];
    const probe = q.register('probe', () => { seen.push(cons()); });
    for (const t of [15, 16, 40, 79, 81, 200]) q.scheduleAt(probe, t);   // commands end at 16, 32, 48, 64, 80
    q.runUntil(1000);
    expect(seen).toEqual([0, 1, 2, 4, 5, 5]);
    expect(host.commandsConsumed).toBe(5);
    // An illegal command stops consumption with CONS.ERR (CERROR_ILL) at that entry.
    put(5, 'TLBI_NH_ALL', { VMID });
    w.m.write(CMDQ + 6 * 16, new Uint8Array(16).fill(0xff), 0, 16);
    put(7, 'SYNC');
    host.control.mmioWrite(Reg.CMDQ_PROD, 4, 8);
    host.doorbell();
    q.runUntil(2000);
    expect(cons() & 0xfffff).toBe(6);
    expect((cons() >>> 24) & 0x7f).toBe(1);           // CERROR_ILL
    expect(host.commandsConsumed).toBe(6);
  });
});
