import { describe, expect, it } from 'vitest';
import { ProgramOpSource, prog, type OpResult, type Program } from '../core/index.js';
import { packAttrs } from '../mem/mem-attrs.js';
import { MmuReg, PageTableBuilder, encodeMair, encodeSctlr, encodeTcr, encodeTtbr } from '../mmu/index.js';
import type { RequestPort } from '../sim/index.js';
import { buildSystem } from './test-helpers.js';

const RAM = 0x80_0000_0000;

function run(sets: string[], ...programs: ((sys: ReturnType<typeof buildSystem>) => Program)[]) {
  const sys = buildSystem('neoverse-n1', [`core.count=${Math.max(1, programs.length)}`, ...sets]);
  programs.forEach((p, i) => sys.attach(i, new ProgramOpSource(p(sys), `p${i}`)));
  const out = sys.run({ watchdogCycles: 200_000 });
  return { sys, out };
}

describe('PE and memory through the system', () => {
  it('a load returns what an earlier store wrote, also across a line boundary', () => {
    const seen: OpResult[] = [];
    const { out } = run([], function* () {
      yield prog.store(RAM + 0x100, 8, 0x1122334455);
      yield prog.store(RAM + 0x13c, 8, 0x0102030405060708 % 2 ** 53);   // bytes 0x13c..0x143 cross a 64-byte line
      seen.push((yield prog.load(RAM + 0x100, 8))!);
      seen.push((yield prog.load(RAM + 0x13c, 8))!);
      seen.push((yield prog.load(RAM + 0x140, 4))!);
    });
    expect(out.endReason).toBe('done');
    expect(seen[0]!.value).toBe(0x1122334455);
    expect(seen[1]!.value).toBe(0x0102030405060708 % 2 ** 53);
    // The last 4 bytes of the crossing store are the first 4 of the next line.
    expect(seen[2]!.valueLo).toBe(seen[1]!.valueHi);
  });

  it('an access no region decodes is an external abort for the program, and the run goes on', () => {
    let r: OpResult | undefined;
    let after: OpResult | undefined;
    const { sys, out } = run([], function* () {
      r = yield prog.load(0x10, 4);              // below every region
      yield prog.store(RAM, 4, 7);
      after = yield prog.load(RAM, 4);
    });
    expect(out.endReason).toBe('done');
    expect(r!.ok).toBe(false);
    expect(r!.fault).toBe('external-abort');
    expect(after!.value).toBe(7);
    expect(sys.pes[0]!.stats.externalAborts).toBe(1);
    expect(sys.homeNode.stats.decodeErrors).toBe(1);
  });

  it('a wider window overlaps misses: the same loads finish sooner', () => {
    const loads = function* (): Program { for (let i = 0; i < 256; i++) yield prog.load(RAM + i * 4096, 8, { wait: false }); };
    const narrow = run(['core.window=1'], loads).out.cycles;
    const wide = run(['core.window=16'], loads).out.cycles;
    expect(wide).toBeLessThan(narrow / 4);
  });

  it('a load whose value the program waits for stalls the PE for its latency; one it does not wait for costs no stall', () => {
    const marks: number[] = [];
    const waited = run([], function* (s) {
      yield prog.load(RAM + 0x5000, 8, { wait: false });   // a miss in flight: its latency is not a stall
      marks.push(s.q.now);
      yield prog.load(RAM + 0x7000, 8);                    // a DRAM miss the program needs before it goes on
      marks.push(s.q.now);
    }).sys.pes[0]!.stats;
    expect(marks[1]! - marks[0]!).toBeGreaterThan(50);
    expect(waited.stallResultCycles).toBe(marks[1]! - marks[0]!);
    const none = run([], function* () { for (let i = 0; i < 4; i++) yield prog.load(RAM + i * 4096, 8, { wait: false }); }).sys.pes[0]!.stats;
    expect(none.stallResultCycles).toBe(0);
  });

  it('a load behind a posted store to the same line waits for it (same-address ordering)', () => {
    let r: OpResult | undefined;
    const { sys } = run([], function* () {
      yield prog.store(RAM + 0x2000, 8, 99);
      r = yield prog.load(RAM + 0x2000, 8);      // must see the store still in flight
      yield prog.store(RAM + 0x3000, 8, 5);
      yield prog.load(RAM + 0x9000, 8);          // a different line: no ordering stall
    });
    expect(r!.value).toBe(99);
    expect(sys.pes[0]!.stats.stallOrderingCycles).toBeGreaterThan(0);
  });

  it('DSB waits for every earlier access; DMB lets non-memory ops through', () => {
    const marks: { afterStores: number; afterDsb: number }[] = [];
    const { sys } = run([], function* (s) {
      for (let i = 0; i < 8; i++) yield prog.store(RAM + i * 8192, 8, i);
      const afterStores = s.q.now;
      yield prog.dsb();
      yield prog.compute(0);
      marks.push({ afterStores, afterDsb: s.q.now });
    });
    const m = marks[0]!;
    // A store to DRAM takes at least the interconnect and DRAM latency (well over 50 cycles).
    expect(m.afterDsb - m.afterStores).toBeGreaterThan(50);
    expect(sys.pes[0]!.stats.stallBarrierCycles).toBeGreaterThan(50);
  });

  it('system-register writes take effect at the next ISB', () => {
    const { sys } = run([], function* () {
      yield prog.sysRegWrite(0x100, 1);
      yield prog.isb();
      yield prog.sysRegWrite(0x100, 2);          // no ISB after it
    });
    expect(sys.pes[0]!.readSysReg(0x100)).toBe(1);
  });

  it('one PE spins on a flag another sets: both finish', () => {
    const FLAG = RAM + 0x10000;
    let seen = -1;
    const { out } = run([],
      function* () { const r = yield* prog.spinUntil(FLAG, 4, (x) => x.value === 1); seen = r.value; },
      function* () { yield prog.compute(5000); yield prog.store(FLAG, 4, 1); },
    );
    expect(out.endReason).toBe('done');
    expect(seen).toBe(1);
  });

  it('the watchdog ends a livelock and names the stuck agent and address', () => {
    const FLAG = RAM + 0x20000;
    const { out } = run([],
      function* () { yield* prog.spinUntil(FLAG, 4, (x) => x.value === 1); },
      function* () { yield prog.store(FLAG + 64, 4, 1); },   // sets the wrong flag and finishes
    );
    expect(out.endReason).toBe('watchdog');
    expect(out.diagnosis).toMatch(/no progress for 200000 cycles/);
    expect(out.diagnosis).toMatch(/system\.cpu0: spinning on 0x8000020000/);
    expect(out.diagnosis).not.toMatch(/cpu1/);
  });

  it('a long compute op is not mistaken for a livelock', () => {
    const { out } = run([], function* () { yield prog.compute(2_000_000); yield prog.load(RAM, 8); });
    expect(out.endReason).toBe('done');
    expect(out.cycles).toBeGreaterThan(2_000_000);
  });

  it('issue width bounds ops per cycle', () => {
    const ops = function* (): Program { for (let i = 0; i < 1000; i++) yield prog.compute(0); };
    expect(run(['core.issueWidth=1'], ops).out.cycles).toBeGreaterThanOrEqual(999);
    expect(run(['core.issueWidth=4'], ops).out.cycles).toBeLessThan(300);
  });

  it('the same seed and program give identical stats', () => {
    const p = function* (): Program { for (let i = 0; i < 500; i++) yield (i % 3 === 0 ? prog.store(RAM + i * 72, 8, i) : prog.load(RAM + i * 136, 8, { wait: false })); };
    const a = run([], p).sys.stats.toTree();
    const b = run([], p).sys.stats.toTree();
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});

describe('single-PE memory ordering', () => {
  it('accesses to other bytes of a line do not wait; overlapping ones do', () => {
    const disjoint = run([], function* () { for (let i = 0; i < 8; i++) yield prog.store(RAM + 0x4000 + i * 8, 8, i); });
    expect(disjoint.sys.pes[0]!.stats.stallOrderingCycles).toBe(0);
    const overlap = run([], function* () { for (let i = 0; i < 8; i++) yield prog.store(RAM + 0x4000 + i * 4, 8, i); });
    expect(overlap.sys.pes[0]!.stats.stallOrderingCycles).toBeGreaterThan(0);
  });

  it('every load sees the bytes of the program-order-latest stores (property)', async () => {
    const fc = await import('fast-check');
    const op = fc.record({
      isStore: fc.boolean(),
      off: fc.integer({ min: 0, max: 200 }),
      size: fc.constantFrom(1, 2, 4, 8, 16, 64),
      value: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      wait: fc.boolean(),
    });
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.constantFrom(1, 4, 20), (ops, window) => {
      const model = new Uint8Array(512);
      const expected: number[][] = [];
      const seen: number[][] = [];
      for (const o of ops) {
        if (o.isStore) for (let k = 0; k < o.size; k++) model[o.off + k] = (k & 7) < 4 ? (o.value >>> (8 * (k & 7))) & 0xff : 0;
        else if (o.wait) expected.push([...model.subarray(o.off, o.off + o.size)]);
      }
      run([`core.window=${window}`], function* () {
        for (const o of ops) {
          if (o.isStore) yield prog.store(RAM + 0x8000 + o.off, o.size, o.value);
          else if (o.wait) seen.push([...(yield prog.load(RAM + 0x8000 + o.off, o.size))!.bytes]);
          else yield prog.load(RAM + 0x8000 + o.off, o.size, { wait: false });
        }
      });
      expect(seen).toEqual(expected);
    }), { numRuns: 60, seed: 7 });
  });
});

describe('L1 hits decided without a request (RequestPort.tryHit)', () => {
  /** The PE's port as seen through a wrapper: `hits` counts tryHit's hits; `withHit` false hides tryHit. */
  class PortView implements RequestPort {
    hits = 0;
    tryHit?: RequestPort['tryHit'];
    constructor(private readonly inner: RequestPort, withHit: boolean) {
      if (withHit) {
        this.tryHit = (kind, args, size, src) => {
          const at = inner.tryHit!(kind, args, size, src);
          if (at >= 0) this.hits++;
          return at;
        };
      }
    }
    get available(): number { return this.inner.available; }
    get onCredit(): (() => void) | undefined { return this.inner.onCredit; }
    set onCredit(f: (() => void) | undefined) { this.inner.onCredit = f; }
    get completedAt(): number | undefined { return this.inner.completedAt; }
    trySend(id: number): boolean { return this.inner.trySend(id); }
  }

  it('give the same stats, cycles and memory as sending every access as a request, MMU off or on (property)', async () => {
    const fc = await import('fast-check');
    const WT = packAttrs({ memType: 'Normal', inner: { cache: 'WT', readAllocate: true, writeAllocate: true }, outer: { cache: 'WT', readAllocate: true, writeAllocate: true }, shareability: 'ISH' });
    const op = fc.record({
      kind: fc.constantFrom('load', 'store', 'fetch', 'compute'),
      off: fc.integer({ min: 0, max: 767 }),
      size: fc.constantFrom(1, 4, 8, 16),
      value: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      wt: fc.boolean(),
      wait: fc.boolean(),
    });
    const VA = 0x4000_0000;
    const program = (ops: { kind: string; off: number; size: number; value: number; wt: boolean; wait: boolean }[], root: number) => function* (): Program {
      if (root >= 0) {
        // Stage 1 on (a translated access takes the same short path after its TLB hit): Attr0 WB.
        yield prog.sysRegWriteHalves(MmuReg.MAIR_EL1, encodeMair([0xff]));
        yield prog.sysRegWriteHalves(MmuReg.TCR_EL1, encodeTcr({ t0sz: 16, epd1: true }));
        yield prog.sysRegWriteHalves(MmuReg.TTBR0_EL1, encodeTtbr(root, 1));
        yield prog.sysRegWriteHalves(MmuReg.SCTLR_EL1, encodeSctlr({ m: true, c: true, i: true }));
        yield prog.isb();
      }
      for (const o of ops) {
        const a = (root >= 0 ? VA : RAM + 0x10000) + o.off, attrs = o.wt && root < 0 ? { attrs: WT } : {};
        if (o.kind === 'store') yield prog.store(a, o.size, o.value, attrs);
        else if (o.kind === 'fetch') yield prog.fetch(a, o.size);
        else if (o.kind === 'compute') yield prog.compute(o.value % 64);   // lets fills land, so later accesses hit
        else yield prog.load(a, o.size, { ...attrs, wait: o.wait });
      }
    };
    let hitsSeen = 0, translatedHits = 0;
    fc.assert(fc.property(fc.array(fc.array(op, { minLength: 30, maxLength: 150 }), { minLength: 1, maxLength: 3 }), fc.boolean(), (perPe, mmu) => {
      const outcome = (withHit: boolean) => {
        const sys = buildSystem('neoverse-n1', [`core.count=${perPe.length}`, 'cache.l1d.sizeBytes=1024', 'cache.l1d.ways=2', ...(mmu ? ['mmu.translation=vmsa'] : [])]);
        let root = -1;
        if (mmu) {
          const t = new PageTableBuilder(sys.coherent, { stage: 1, granule: '4K', inputBits: 48, allocBase: RAM + 0x100_0000, allocLimit: RAM + 0x110_0000 });
          t.map({ va: VA, oa: RAM + 0x10000, size: 0x1000, level: 3, s1: { attrIndx: 0, af: true } });
          root = t.root;
        }
        const views = sys.pes.map((pe) => (pe.memLink = new PortView(pe.memLink!, withHit)));
        perPe.forEach((ops, i) => sys.attach(i, new ProgramOpSource(program(ops, root)(), `p${i}`)));
        const out = sys.run({ watchdogCycles: 200_000 });
        const mem = new Uint8Array(1040);
        sys.caches.readCoherentInto(RAM + 0x10000, mem.length, mem, 0);
        return { cycles: out.cycles, stats: JSON.stringify(sys.stats.toTree()), mem: [...mem], hits: views.reduce((n, v) => n + v.hits, 0) };
      };
      const fast = outcome(true), slow = outcome(false);
      hitsSeen += fast.hits;
      if (mmu) translatedHits += fast.hits;
      expect(slow.hits).toBe(0);
      expect({ ...fast, hits: 0 }).toEqual({ ...slow, hits: 0 });
    }), { numRuns: 40, seed: 11 });
    expect(hitsSeen).toBeGreaterThan(100);   // the property was about hits that took the short path
    expect(translatedHits).toBeGreaterThan(20);
  });
});

describe('device reads timed by where the line is (CacheHierarchy.deviceRead, the SMMU\'s walker)', () => {
  it('a PE\'s cache answers by a snoop, a system cache after the first read, memory otherwise; a before-PoC L3 does not allocate', () => {
    const MEM = 500;
    const { sys } = run([], function* () { yield prog.store(RAM + 0x40, 8, 1); });   // the line at 0x40 is dirty in cpu0's L1D
    const c = sys.caches;
    const snoop = c.deviceRead(RAM + 0x40, true, MEM);
    const first = c.deviceRead(RAM + 0x1000, true, MEM), second = c.deviceRead(RAM + 0x1008, true, MEM);
    expect(first - second).toBe(MEM - c.l3!.hitLatency);                 // the first read left the line in the SLC
    expect(snoop - second).toBe(sys.cfg.cache.snoopLatency - c.l3!.hitLatency);
    // A non-coherent read misses the SLC without allocating: memory again next time.
    expect(c.deviceRead(RAM + 0x2000, false, MEM)).toBe(first);
    expect(c.deviceRead(RAM + 0x2000, false, MEM)).toBe(first);
    // The PE's dirty copy is not snooped by a non-coherent read; the SLC kept a (stale) copy when the PE's miss filled through it.
    expect(c.deviceRead(RAM + 0x40, false, MEM)).toBe(second);
    // A device's data read (SmmuMemory.dataLatency) takes its slowest line, each timed as a
    // descriptor read would be (readLatency, with the platform's DRAM time).
    const mem = sys.smmu.mem;
    const dram = mem.readLatency!(RAM + 0x4000), slc = mem.readLatency!(RAM + 0x4000), dirty = mem.readLatency!(RAM + 0x40);
    expect(dram).toBeGreaterThan(slc);
    expect(dirty - slc).toBe(sys.cfg.cache.snoopLatency - c.l3!.hitLatency);
    expect(mem.dataLatency!(RAM + 0x40, 128)).toBe(dram);            // dirty in the L1D + a line only in DRAM
    expect(mem.dataLatency!(RAM + 0x40, 128)).toBe(dirty);           // the second line is in the SLC now
    expect(mem.dataLatency!(RAM + 0x3000, 4096)).toBe(dram);         // a page nobody touched
    expect([mem.stats.timedDataReads, mem.stats.timedReads]).toEqual([3, 3]);
    // Where no region decodes, nothing is read: no time, and no line lands in the SLC.
    const l3Lines = c.l3!.arr.countValid();
    expect([mem.readLatency!(0x1000), mem.dataLatency!(0x1000, 128)]).toEqual([0, 0]);
    expect(c.l3!.arr.countValid()).toBe(l3Lines);
    // xgene1: the before-PoC L3 serves coherent reads of lines it holds but takes none on a miss.
    const x = buildSystem('xgene1', ['core.count=1']);
    const xf = x.caches.deviceRead(RAM + 0x1000, true, MEM);
    expect(x.caches.deviceRead(RAM + 0x1000, true, MEM)).toBe(xf);
    expect(x.caches.l3!.arr.lookup(Math.floor((RAM + 0x1000) / 64))).toBe(-1);
  });

  it('the DMA master\'s reads wait for their data: a buffer in the system cache is read faster than one only in DRAM', () => {
    const sys = buildSystem('neoverse-n1', ['core.count=1']);
    const dma = sys.smmu.dma;
    const job = () => {
      const r = dma.submit({ op: 'checksum', streamId: 0, src: RAM + 0x8000, bytes: 4096 });
      sys.q.runUntil(sys.q.now + 1e6);
      expect(r.status).toBe('done');
      return r;
    };
    const cold = job(), warm = job();                     // the first read left the lines in the SLC
    const line = (pa: number) => sys.smmu.mem.readLatency!(pa);
    expect(cold.dataWaitCycles).toBe(64 * line(RAM + 0x20_0000));        // every beat waited for DRAM (a line nobody read)
    expect(warm.dataWaitCycles).toBe(64 * line(RAM + 0x8000));           // and now for the SLC
    expect(warm.dataWaitCycles).toBeLessThan(cold.dataWaitCycles);
    expect(warm.endCycle - warm.startCycle).toBeLessThan(cold.endCycle - cold.startCycle);
    expect(warm.checksum).toBe(cold.checksum);
  });
});
