import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../sim/index.js';
import { NORMAL_NC_OSH, NORMAL_WB_RWA_ISH, NORMAL_WB_RWA_NSH, SparseMemory } from '../mem/index.js';
import { resolveSmmuConfig } from './config.js';
import { DmaMaster, FNV_OFFSET, fnv1a, resolveDmaConfig, type DmaConfig } from './dma.js';
import { SmmuHost } from './host.js';
import { PathMemory, isCoherentAccess } from './memory.js';

describe('PathMemory', () => {
  it('coherent only with COHACC and Normal WB shareable attributes', () => {
    expect(isCoherentAccess(true, NORMAL_WB_RWA_ISH)).toBe(true);
    expect(isCoherentAccess(false, NORMAL_WB_RWA_ISH)).toBe(false);
    expect(isCoherentAccess(true, NORMAL_NC_OSH)).toBe(false);
    expect(isCoherentAccess(true, NORMAL_WB_RWA_NSH)).toBe(false);
  });

  it('sends each access down the path its attributes choose, and aborts what no region decodes', () => {
    const coh = new SparseMemory({ base: 0, size: 2 ** 20, chunkBytes: 4096 }), mem = new SparseMemory({ base: 0, size: 2 ** 20, chunkBytes: 4096 });
    coh.write(0x100, Uint8Array.of(1), 0, 1);
    mem.write(0x100, Uint8Array.of(2), 0, 1);
    const p = new PathMemory(true, coh, mem, (pa, len) => pa + len <= 2 ** 20);
    const b = new Uint8Array(1);
    p.readBytes(0x100, b, 0, 1, NORMAL_WB_RWA_ISH); expect(b[0]).toBe(1);
    p.readBytes(0x100, b, 0, 1, NORMAL_NC_OSH); expect(b[0]).toBe(2);
    expect(p.readBytes(2 ** 20, b, 0, 1)).toBe(false);
    expect(p.stats).toMatchObject({ coherentReads: 1, nonCoherentReads: 1, aborts: 1 });
  });
});

describe('DmaMaster', () => {
  /** A master in bypass (SMMUEN=0, GBPA: bypass) over 16 MiB that decodes below `limit`, reads timed by `latency` if given. */
  function setUp(over: Partial<DmaConfig>, latency?: (pa: number, coherent: boolean) => number, limit = 2 ** 24) {
    const q = new EventQueue(64);
    const store = new SparseMemory({ base: 0, size: 2 ** 24, chunkBytes: 4096 });
    const mem = new PathMemory(true, store, store, (pa, len) => pa + len <= limit, latency);
    const cfg = resolveDmaConfig({ translateCycles: 8, descriptorReadCycles: 60, beatCycles: 4, ...over });
    const host = new SmmuHost(q, mem, resolveSmmuConfig({}), cfg, { threads: 0 });
    return { q, store, d: new DmaMaster('dma', q, host, mem, cfg) };
  }

  it('pipelines beats: one translation at a time, each transfer as soon as its translation ends and the port is free', () => {
    const { q, d } = setUp({});
    const job = d.submit({ op: 'fill', streamId: 0, dst: 0x1000 - 32, bytes: 160, value: 0xab });
    const sum = d.submit({ op: 'checksum', streamId: 0, src: 0x1000 - 32, bytes: 160 });
    q.runUntil(1e9);
    // Beats: 32 (to the page end), 64, 64. Translations end at 8, 16, 24; the last transfer takes 4.
    expect(job).toMatchObject({ status: 'done', bytesDone: 160, translations: 3, startCycle: 0, endCycle: 28 });
    expect(sum).toMatchObject({ status: 'done', bytesDone: 160, startCycle: 28, endCycle: 56, dataWaitCycles: 0 });
    expect(sum.data.slice(0, 160).every((v) => v === 0xab)).toBe(true);
    expect(sum.checksum).toBe(fnv1a(FNV_OFFSET, new Uint8Array(160).fill(0xab), 160));
    expect(d.stats).toMatchObject({ jobs: 2, beats: 6, bytesWritten: 160, bytesRead: 160, faults: 0 });
    expect(d.busy).toBe(false);
  });

  it('with one beat outstanding, each beat is its translation then its transfer', () => {
    const { q, d } = setUp({ outstandingBeats: 1 });
    const job = d.submit({ op: 'fill', streamId: 0, dst: 0x1000 - 32, bytes: 160, value: 0xab });
    q.runUntil(1e9);
    expect(job.endCycle).toBe(3 * (8 + 4));
  });

  it('reads wait for their data from where their lines are, and beats in flight overlap the waits', () => {
    // Four 64-byte beats, each line 100 cycles away.
    const end = (outstandingBeats: number): number => {
      const { q, d } = setUp({ outstandingBeats }, () => 100);
      const job = d.submit({ op: 'checksum', streamId: 0, src: 0x2000, bytes: 256 });
      q.runUntil(1e9);
      expect(job).toMatchObject({ status: 'done', bytesDone: 256, dataWaitCycles: 400 });
      expect(d.stats.dataWaitCycles).toBe(400);
      return job.endCycle;
    };
    expect(end(1)).toBe(4 * (8 + 100 + 4));
    // Two in flight: beat 2's translation starts when beat 0's transfer ends (112), beat 3's when beat 1's does (120).
    expect(end(2)).toBe(120 + 8 + 100 + 4);
    // Eight: translations end at 8, 16, 24, 32, the data 100 later, and the transfers follow.
    expect(end(8)).toBe(32 + 100 + 4);
  });

  it('a copy translates source then destination and moves each beat as a read then a write', () => {
    const { q, store, d } = setUp({});
    const src = Uint8Array.from({ length: 256 }, (_, i) => (i * 7 + 3) & 0xff);
    store.write(0x3000, src, 0, 256);
    const job = d.submit({ op: 'copy', streamId: 0, src: 0x3000, dst: 0x5000, bytes: 256 });
    q.runUntil(1e9);
    // Beat k is translated at 16k + 16 and its transfer (8 cycles) starts then: the last ends at 64 + 8.
    expect(job).toMatchObject({ status: 'done', bytesDone: 256, translations: 8, endCycle: 72 });
    const out = new Uint8Array(256);
    store.read(0x5000, out, 0, 256);
    expect(out).toEqual(src);
    expect(d.stats).toMatchObject({ beats: 8, bytesRead: 256, bytesWritten: 256, dataCycles: 32 });
  });

  it('an external abort mid-job: the beats before it land, nothing after it is written, the job ends with the abort', () => {
    const { q, store, d } = setUp({}, undefined, 0x6080);
    const job = d.submit({ op: 'fill', streamId: 0, dst: 0x6000, bytes: 256, value: 0xcd });
    q.runUntil(1e9);
    expect(job).toMatchObject({ status: 'fault', bytesDone: 128, fault: { event: 'external-abort', access: 'write', recorded: false } });
    const out = new Uint8Array(256);
    store.read(0x6000, out, 0, 256);
    expect(out.slice(0, 128).every((v) => v === 0xcd)).toBe(true);
    expect(out.slice(128).every((v) => v === 0)).toBe(true);
    expect(d.stats).toMatchObject({ faults: 1, bytesWritten: 128 });
    expect(d.busy).toBe(false);
  });

  it('whatever the window and the line latencies, jobs leave memory and checksums as if each beat ran alone, in order', () => {
    const SPAN = 0x4000;
    const job = fc.record({
      op: fc.constantFrom('copy' as const, 'fill' as const, 'checksum' as const),
      a: fc.nat(SPAN - 1), b: fc.nat(SPAN - 1), bytes: fc.integer({ min: 1, max: 600 }), value: fc.nat(255),
    });
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.nat(300), fc.array(job, { minLength: 1, maxLength: 8 }), (window, spread, specs) => {
      // Each line's latency is fixed by its address (0..spread): beats come back out of order.
      const { q, store, d } = setUp({ outstandingBeats: window }, (pa) => (Math.imul(pa >>> 6, 0x9e3779b1) >>> 0) % (spread + 1));
      const ref = Uint8Array.from({ length: 2 * SPAN }, (_, i) => (i * 13 + 5) & 0xff);
      store.write(0, ref, 0, ref.length);
      const expected: number[] = [], sizes: number[] = [];
      const jobs = specs.map((j) => {
        const src = j.a, dst = j.op === 'copy' ? SPAN + j.b : j.b;         // copies go from the low half to the high: no overlap
        const n = Math.min(j.bytes, 2 * SPAN - Math.max(src, dst));
        sizes.push(n);
        if (j.op === 'checksum') expected.push(fnv1a(FNV_OFFSET, ref, n, src));
        else if (j.op === 'fill') ref.fill(j.value, dst, dst + n);
        else ref.copyWithin(dst, src, src + n);
        return d.submit({ op: j.op, streamId: 0, src, dst, bytes: n, value: j.value });
      });
      q.runUntil(1e9);
      const out = new Uint8Array(ref.length);
      store.read(0, out, 0, out.length);
      expect(out).toEqual(ref);
      expect(jobs.filter((r) => r.op === 'checksum').map((r) => r.checksum)).toEqual(expected);
      expect(jobs.map((r) => [r.status, r.bytesDone])).toEqual(sizes.map((n) => ['done', n]));
      for (let i = 1; i < jobs.length; i++) expect(jobs[i]!.startCycle).toBeGreaterThanOrEqual(jobs[i - 1]!.endCycle);   // one job at a time, in order
    }), { numRuns: 25, seed: 5 });
  });

  it('rejects bad config values with the field name', () => {
    expect(() => resolveDmaConfig({ beatBytes: 48 })).toThrow(/^beatBytes:/);
    expect(() => resolveDmaConfig({ outstandingBeats: 0 })).toThrow(/^outstandingBeats:/);
  });
});
